/**
 * A configurable 3D U-Net as a TF.js LayersModel, channels last (N, D, H, W, C), producing class logits.
 * Per level: two (conv 3^3 -> instance norm -> LeakyReLU) blocks; max-pool 2 down, transposed conv 2 up, skip
 * concatenation. Layer names are fixed (`enc{l}_conv{i}`, `up{l}`, ...) because the ONNX exporter and the PyTorch
 * peer rebuild the same graph from the config and look weights up by name.
 */
import { ParameterError } from "../util/errors.js";
import { tf } from "./tf.js";
import type { UNetConfig } from "./plans.js";

/** Instance normalisation over the spatial axes of a channels-last 5D tensor, with per-channel scale and shift. */
export class InstanceNorm3D extends tf.layers.Layer {
  static className = "SsbCtInstanceNorm3D";
  readonly epsilon: number;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;

  constructor(args: { epsilon?: number; name?: string; trainable?: boolean } = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1];
    if (typeof c !== "number") throw new ParameterError("InstanceNorm3D needs a known channel count", { field: "inputShape", expected: "a number as the last (channel) dimension", got: JSON.stringify(shape) });
    this.gamma = this.addWeight("gamma", [c], "float32", tf.initializers.ones());
    this.beta = this.addWeight("beta", [c], "float32", tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
      const { mean, variance } = tf.moments(x, [1, 2, 3], true);
      const xhat = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.epsilon)));
      return tf.add(tf.mul(xhat, this.gamma!.read()), this.beta!.read());
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(InstanceNorm3D);

/** Filters at a level (0 = full resolution). */
export function levelFilters(config: UNetConfig, level: number): number {
  return config.baseFilters * 2 ** level;
}

/** Patch edges must be multiples of this. */
export function sizeMultiple(config: UNetConfig): number {
  return 2 ** (config.depth - 1);
}

/** Floating-point operations (multiply-add = 2) per output voxel of one forward pass, convolutions only. */
export function flopsPerVoxel(config: UNetConfig): number {
  let flops = 0;
  const cin = config.channels.length;
  for (let l = 0; l < config.depth; l++) {
    const f = levelFilters(config, l);
    const scale = 1 / 8 ** l;
    const inEnc = l === 0 ? cin : levelFilters(config, l - 1);
    flops += 2 * 27 * (inEnc * f + f * f) * scale;
    if (l < config.depth - 1) {
      const below = levelFilters(config, l + 1);
      // transposed conv from the level below: one 2^3 kernel tap per output voxel
      flops += 2 * below * f * scale;
      flops += 2 * 27 * (2 * f * f + f * f) * scale;
    }
  }
  return flops + 2 * config.baseFilters * config.classes.length;
}

function convBlock(x: tf.SymbolicTensor, filters: number, name: string, config: UNetConfig, seed: { v: number }): tf.SymbolicTensor {
  let y = tf.layers
    .conv3d({
      filters,
      kernelSize: 3,
      padding: "same",
      useBias: true,
      name: `${name}_conv`,
      kernelInitializer: tf.initializers.heNormal({ seed: seed.v++ }),
    })
    .apply(x) as tf.SymbolicTensor;
  if (config.norm === "instance") y = new InstanceNorm3D({ epsilon: config.normEpsilon, name: `${name}_norm` }).apply(y) as tf.SymbolicTensor;
  return tf.layers.leakyReLU({ alpha: config.leakySlope, name: `${name}_act` }).apply(y) as tf.SymbolicTensor;
}

/** Builds the U-Net; the output is logits (N, D, H, W, classes). Softmax is applied by the engines. */
export function buildUNet(config: UNetConfig): tf.LayersModel {
  if (config.depth < 1 || config.depth > 6) throw new RangeError(`UNet depth must be 1..6, got ${config.depth}`);
  if (config.channels.length < 1) throw new RangeError("UNet needs at least one input channel");
  const seed = { v: config.seed * 1000 };
  const input = tf.input({ shape: [null, null, null, config.channels.length], name: "input" });
  const skips: tf.SymbolicTensor[] = [];
  let x: tf.SymbolicTensor = input;
  for (let l = 0; l < config.depth; l++) {
    if (l > 0) x = tf.layers.maxPooling3d({ poolSize: 2, strides: 2, name: `pool${l}` }).apply(x) as tf.SymbolicTensor;
    const f = levelFilters(config, l);
    x = convBlock(x, f, `enc${l}_0`, config, seed);
    x = convBlock(x, f, `enc${l}_1`, config, seed);
    skips.push(x);
  }
  for (let l = config.depth - 2; l >= 0; l--) {
    const f = levelFilters(config, l);
    x = tf.layers
      .conv3dTranspose({
        filters: f,
        kernelSize: 2,
        strides: 2,
        padding: "valid",
        name: `up${l}`,
        kernelInitializer: tf.initializers.heNormal({ seed: seed.v++ }),
      })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ axis: -1, name: `cat${l}` }).apply([skips[l]!, x]) as tf.SymbolicTensor;
    x = convBlock(x, f, `dec${l}_0`, config, seed);
    x = convBlock(x, f, `dec${l}_1`, config, seed);
  }
  const logits = tf.layers
    .conv3d({
      filters: config.classes.length,
      kernelSize: 1,
      name: "head",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed.v++ }),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: "ssbct_unet3d" });
}

/** The ordered list of (layer name, op) the exporters walk; mirrors buildUNet. */
export type GraphStep =
  | { op: "conv"; name: string; kernel: 3 | 1 }
  | { op: "norm"; name: string }
  | { op: "act"; name: string }
  | { op: "pool"; name: string }
  | { op: "up"; name: string }
  | { op: "push"; level: number }
  | { op: "cat"; name: string; level: number };

export function graphSteps(config: UNetConfig): GraphStep[] {
  const steps: GraphStep[] = [];
  const block = (name: string) => {
    steps.push({ op: "conv", name: `${name}_conv`, kernel: 3 });
    if (config.norm === "instance") steps.push({ op: "norm", name: `${name}_norm` });
    steps.push({ op: "act", name: `${name}_act` });
  };
  for (let l = 0; l < config.depth; l++) {
    if (l > 0) steps.push({ op: "pool", name: `pool${l}` });
    block(`enc${l}_0`);
    block(`enc${l}_1`);
    steps.push({ op: "push", level: l });
  }
  for (let l = config.depth - 2; l >= 0; l--) {
    steps.push({ op: "up", name: `up${l}` });
    steps.push({ op: "cat", name: `cat${l}`, level: l });
    block(`dec${l}_0`);
    block(`dec${l}_1`);
  }
  steps.push({ op: "conv", name: "head", kernel: 1 });
  return steps;
}

/** Weights of a model by layer name, as tfjs stores them: conv kernel [kd,kh,kw,in,out] (transposed: [kd,kh,kw,out,in]). */
export interface NamedWeights {
  [layer: string]: { shape: number[]; values: Float32Array }[];
}

export function namedWeights(model: tf.LayersModel): NamedWeights {
  const out: NamedWeights = {};
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    out[layer.name] = ws.map((w) => ({ shape: w.shape.slice(), values: w.dataSync() as Float32Array }));
  }
  return out;
}
