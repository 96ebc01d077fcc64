/**
 * Inference engines with one contract: a channels-first float32 patch (C, D, H, W) of normalised intensities in,
 * class probabilities (K, D, H, W) out. The TF.js engine runs the LayersModel; the ONNX Runtime engine runs the
 * model exported from the same weights (the fast path on CPU).
 */
import { createRequire } from "node:module";
import type * as OrtTypes from "onnxruntime-node";
import { tf, initTf } from "./tf.js";
import type { SegmentModel } from "./model-io.js";
import { exportOnnx } from "./onnx-export.js";
import { namedWeights } from "./unet.js";

export interface SegmentEngine {
  readonly name: string;
  readonly channels: number;
  readonly classes: number;
  /** input: (C, D, H, W) C-order; returns (K, D, H, W) probabilities. */
  predict(input: Float32Array, shapeDHW: readonly [number, number, number]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export type EngineName = "onnx" | "tfjs";

export async function createTfjsEngine(sm: SegmentModel): Promise<SegmentEngine> {
  await initTf();
  const C = sm.record.unet.channels.length;
  const K = sm.record.unet.classes.length;
  return {
    name: `tfjs-${tf.getBackend()}`,
    channels: C,
    classes: K,
    async predict(input, [d, h, w]) {
      const out = tf.tidy(() => {
        const x = tf.tensor5d(input, [1, C, d, h, w]).transpose([0, 2, 3, 4, 1]);
        const logits = sm.model.predict(x) as tf.Tensor;
        return tf.softmax(logits, -1).transpose([0, 4, 1, 2, 3]);
      });
      const data = (await out.data()) as Float32Array;
      out.dispose();
      return data;
    },
    async dispose() {
      /* the model belongs to the caller */
    },
  };
}

let ortModule: typeof OrtTypes | null = null;
function ort(): typeof OrtTypes {
  if (!ortModule) ortModule = createRequire(import.meta.url)("onnxruntime-node") as typeof OrtTypes;
  return ortModule;
}

export interface OnnxEngineOptions {
  /** Threads inside one operator (default: ONNX Runtime's choice, all cores). */
  intraOpThreads?: number;
  /** Use this ONNX model instead of exporting from the TF.js weights. */
  onnxBytes?: Uint8Array;
  /**
   * Let idle worker threads spin (ONNX Runtime's default). Off here: on a shared or oversubscribed machine spinning
   * threads steal the cores the others need (measured 1.5x faster without it under load).
   */
  spinning?: boolean;
}

export async function createOnnxEngine(sm: SegmentModel, options: OnnxEngineOptions = {}): Promise<SegmentEngine> {
  const rt = ort();
  const bytes = options.onnxBytes ?? exportOnnx(sm.record.unet, namedWeights(sm.model));
  const session = await rt.InferenceSession.create(bytes, {
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    extra: { session: { intra_op: { allow_spinning: options.spinning ? "1" : "0" } } },
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads, interOpNumThreads: 1 } : {}),
  });
  const C = sm.record.unet.channels.length;
  const K = sm.record.unet.classes.length;
  return {
    name: "onnxruntime-cpu",
    channels: C,
    classes: K,
    async predict(input, [d, h, w]) {
      const feeds = { input: new rt.Tensor("float32", input, [1, C, d, h, w]) };
      const res = await session.run(feeds);
      const p = res.probabilities!;
      const data = p.data as Float32Array;
      p.dispose?.();
      return data;
    },
    async dispose() {
      await session.release();
    },
  };
}

export async function createEngine(sm: SegmentModel, name: EngineName, options: OnnxEngineOptions = {}): Promise<SegmentEngine> {
  return name === "onnx" ? createOnnxEngine(sm, options) : createTfjsEngine(sm);
}
