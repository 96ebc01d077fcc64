/**
 * The one place that loads TF.js. `@tensorflow/tfjs-node` (native TensorFlow) is used when it can be required
 * (an optional dependency that cannot be installed everywhere); otherwise the pure-JS cpu backend of
 * `@tensorflow/tfjs`. The chosen backend is printed once, so a slow run is never a mystery.
 *
 * It also closes the TF.js gap that matters for a trainable 3D U-Net: tfjs-core has no gradient for
 * Conv3DBackpropInputV2 (the forward op of conv3dTranspose), so one is registered here (checked against finite
 * differences in test/segment/gradient.test.ts). On the pure-JS backend the 3D convolutions and the other ops of a
 * training step get faster kernels (fast-kernels.ts): native ones when the optional addon (native/tfjs-kernels) built
 * at install, portable JS ones otherwise; the printed line says which (SSB_CT_TFJS_NATIVE=0 and
 * SSB_CT_TFJS_FAST_KERNELS=0 switch them off).
 */
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { kernelPath, registerFastKernels } from "./fast-kernels.js";

export { tf };

let ready: Promise<string> | null = null;

function registerConv3dTransposeGradient(): void {
  if (tf.getGradient("Conv3DBackpropInputV2") !== undefined) return;
  tf.registerGradient({
    kernelName: "Conv3DBackpropInputV2",
    inputsToSave: ["dy", "filter"],
    gradFunc: (g: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const grad = g as tf.Tensor5D;
      const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const strides = attrs.strides as [number, number, number];
      const pad = attrs.pad as "valid" | "same";
      return {
        // y = conv3dTranspose(dy, filter) is the adjoint of conv3d, so its input gradient is a plain conv3d.
        dy: () => tf.conv3d(grad, filter, strides, pad),
        filter: () =>
          tf.engine().runKernel("Conv3DBackpropFilterV2", { x: grad, dy }, { strides, pad, filterShape: filter.shape }),
      };
    },
  });
}

/** Loads the best available backend (once), registers the missing gradient, prints and returns the backend name. */
export function initTf(options: { quiet?: boolean } = {}): Promise<string> {
  if (ready) return ready;
  ready = (async () => {
    let note = "tfjs-node not installed: pure-JS backend";
    try {
      const require = createRequire(import.meta.url);
      require("@tensorflow/tfjs-node");
      if (tf.findBackend("tensorflow")) {
        await tf.setBackend("tensorflow");
        note = "native TensorFlow via tfjs-node";
      }
    } catch {
      /* optional dependency absent: fall through to cpu */
    }
    // PROD silences TF.js's own "install tfjs-node" banner; the line printed below says the same, once.
    tf.env().set("PROD", true);
    if (tf.getBackend() !== "tensorflow") await tf.setBackend("cpu");
    await tf.ready();
    registerConv3dTransposeGradient();
    if (tf.getBackend() === "cpu") {
      registerFastKernels();
      note += `, ${kernelPath()}`;
    }
    const name = tf.getBackend();
    if (!options.quiet && process.env.SSB_CT_QUIET_BACKEND !== "1") process.stderr.write(`ssb-ct segment: TF.js backend "${name}" (${note})\n`);
    return name;
  })();
  return ready;
}
