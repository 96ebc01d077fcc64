/**
 * Exports the TF.js U-Net to ONNX (opset 17) with onnx-proto, from the config and the TF.js weights. The ONNX graph
 * is channels first (N, C, D, H, W, as ONNX Runtime and PyTorch expect) and ends in a Softmax over classes, so it
 * outputs probabilities. TF.js conv kernels are [kd, kh, kw, in, out] (transposed conv: [kd, kh, kw, out, in]);
 * ONNX wants [out, in, kd, kh, kw] for Conv and [in, out, kd, kh, kw] for ConvTranspose: both are the
 * permutation [4, 3, 0, 1, 2].
 */
import { createRequire } from "node:module";
import type { onnx as OnnxNamespace } from "onnx-proto";
import type { UNetConfig } from "./plans.js";
import { graphSteps, type NamedWeights } from "./unet.js";

const require = createRequire(import.meta.url);
const { onnx } = require("onnx-proto") as { onnx: typeof OnnxNamespace };

/** Permutes the axes of a C-order array. */
export function permuteAxes(values: Float32Array, shape: readonly number[], perm: readonly number[]): { values: Float32Array; shape: number[] } {
  const n = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(n);
  let s = 1;
  for (let i = n - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const out = new Float32Array(values.length);
  const idx = new Array<number>(n).fill(0);
  const stridesOut = perm.map((p) => inStrides[p]!);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < n; k++) src += idx[k]! * stridesOut[k]!;
    out[o] = values[src]!;
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k]! < outShape[k]!) break;
      idx[k] = 0;
    }
  }
  return { values: out, shape: outShape };
}

/** Converts TF.js weights to channels-first (PyTorch / ONNX) layout, keyed `${layer}.weight` / `${layer}.bias`. */
export function channelsFirstWeights(config: UNetConfig, weights: NamedWeights): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  const get = (name: string) => {
    const w = weights[name];
    if (!w) throw new Error(`weights of layer ${name} missing`);
    return w;
  };
  for (const step of graphSteps(config)) {
    if (step.op === "conv" || step.op === "up") {
      const [k, b] = get(step.name);
      out.set(`${step.name}.weight`, permuteAxes(k!.values, k!.shape, [4, 3, 0, 1, 2]));
      out.set(`${step.name}.bias`, { shape: b!.shape, values: b!.values });
    } else if (step.op === "norm") {
      const [g, b] = get(step.name);
      out.set(`${step.name}.weight`, { shape: g!.shape, values: g!.values });
      out.set(`${step.name}.bias`, { shape: b!.shape, values: b!.values });
    }
  }
  return out;
}

function attrInts(name: string, ints: number[]): OnnxNamespace.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints };
}
function attrInt(name: string, i: number): OnnxNamespace.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}
function attrFloat(name: string, f: number): OnnxNamespace.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}

/** Serialised ONNX ModelProto (opset 17) computing class probabilities from an (N, C, D, H, W) float32 input. */
export function exportOnnx(config: UNetConfig, weights: NamedWeights): Uint8Array {
  const cf = channelsFirstWeights(config, weights);
  const initializers: OnnxNamespace.ITensorProto[] = [];
  for (const [name, t] of cf) {
    initializers.push({
      name,
      dims: t.shape,
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: new Uint8Array(t.values.buffer.slice(t.values.byteOffset, t.values.byteOffset + t.values.byteLength)),
    });
  }
  const nodes: OnnxNamespace.INodeProto[] = [];
  const skips: string[] = [];
  let x = "input";
  let counter = 0;
  const fresh = (base: string) => `${base}:${counter++}`;
  for (const step of graphSteps(config)) {
    switch (step.op) {
      case "conv": {
        const y = fresh(step.name);
        const pad = step.kernel === 3 ? 1 : 0;
        nodes.push({
          opType: "Conv",
          name: step.name,
          input: [x, `${step.name}.weight`, `${step.name}.bias`],
          output: [y],
          attribute: [attrInts("kernel_shape", [step.kernel, step.kernel, step.kernel]), attrInts("pads", [pad, pad, pad, pad, pad, pad]), attrInts("strides", [1, 1, 1])],
        });
        x = y;
        break;
      }
      case "norm": {
        const y = fresh(step.name);
        nodes.push({
          opType: "InstanceNormalization",
          name: step.name,
          input: [x, `${step.name}.weight`, `${step.name}.bias`],
          output: [y],
          attribute: [attrFloat("epsilon", config.normEpsilon)],
        });
        x = y;
        break;
      }
      case "act": {
        const y = fresh(step.name);
        nodes.push({ opType: "LeakyRelu", name: step.name, input: [x], output: [y], attribute: [attrFloat("alpha", config.leakySlope)] });
        x = y;
        break;
      }
      case "pool": {
        const y = fresh(step.name);
        nodes.push({ opType: "MaxPool", name: step.name, input: [x], output: [y], attribute: [attrInts("kernel_shape", [2, 2, 2]), attrInts("strides", [2, 2, 2])] });
        x = y;
        break;
      }
      case "up": {
        const y = fresh(step.name);
        nodes.push({
          opType: "ConvTranspose",
          name: step.name,
          input: [x, `${step.name}.weight`, `${step.name}.bias`],
          output: [y],
          attribute: [attrInts("kernel_shape", [2, 2, 2]), attrInts("strides", [2, 2, 2])],
        });
        x = y;
        break;
      }
      case "push":
        skips[step.level] = x;
        break;
      case "cat": {
        const y = fresh(step.name);
        nodes.push({ opType: "Concat", name: step.name, input: [skips[step.level]!, x], output: [y], attribute: [attrInt("axis", 1)] });
        x = y;
        break;
      }
    }
  }
  nodes.push({ opType: "Softmax", name: "softmax", input: [x], output: ["probabilities"], attribute: [attrInt("axis", 1)] });
  const dims = (names: (string | number)[]): OnnxNamespace.ITensorShapeProto => ({
    dim: names.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })),
  });
  const valueInfo = (name: string, channels: number): OnnxNamespace.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: dims(["N", channels, "D", "H", "W"]) } },
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "ssb-ct",
    producerVersion: "1",
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "ssbct_unet3d",
      node: nodes,
      initializer: initializers,
      input: [valueInfo("input", config.channels.length)],
      output: [valueInfo("probabilities", config.classes.length)],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
