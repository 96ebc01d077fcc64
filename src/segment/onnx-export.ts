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
function attrInt64s(name: string, t: number[]): OnnxNamespace.ITensorProto {
  return { name, dims: [t.length], dataType: onnx.TensorProto.DataType.INT64, int64Data: t };
}
function attrFloat(name: string, f: number): OnnxNamespace.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}

/**
 * Graph forms that compute the same function; the defaults are the faster ones in ONNX Runtime 1.30 on CPU
 * (profiled per node on a base-8 U-Net with 64^3 windows: ConvTranspose 33 ms and Softmax over axis 1 26 ms of a
 * 250 ms run, because ORT's 3D ConvTranspose goes through col2im and its Softmax transposes a non-last axis).
 */
export interface OnnxExportOptions {
  /** "pointwise": the stride-2, kernel-2 transposed conv as a 1x1x1 Conv to 8x the channels + depth-to-space. */
  upsample?: "convtranspose" | "pointwise";
  /** "decomposed": exp(x - max) / sum over the class axis with reductions instead of the Softmax operator. */
  softmax?: "operator" | "decomposed";
  /**
   * Key-value strings stored as the model's metadata_props (what onnx.load(...).metadata_props and
   * onnxruntime's InferenceSession.get_modelmeta().custom_metadata_map show), in the order given. Default: none.
   */
  metadata?: ReadonlyArray<readonly [string, string]>;
  /** Human-readable description stored as the model's doc_string. Default: none. */
  docString?: string;
}

/** Serialised ONNX ModelProto (opset 17) computing class probabilities from an (N, C, D, H, W) float32 input. */
export function exportOnnx(config: UNetConfig, weights: NamedWeights, options: OnnxExportOptions = {}): Uint8Array {
  const upsample = options.upsample ?? "pointwise";
  const softmax = options.softmax ?? "decomposed";
  const cf = channelsFirstWeights(config, weights);
  if (upsample === "pointwise")
    for (const step of graphSteps(config)) {
      if (step.op !== "up") continue;
      // ConvTranspose weight [in, out, 2, 2, 2] -> Conv weight [(out, a, b, c), in, 1, 1, 1]
      const w = cf.get(`${step.name}.weight`)!;
      const [cin, cout] = w.shape as [number, number];
      const p = permuteAxes(w.values, w.shape, [1, 2, 3, 4, 0]);
      cf.set(`${step.name}.weight`, { shape: [cout * 8, cin, 1, 1, 1], values: p.values });
      const b = cf.get(`${step.name}.bias`)!;
      cf.set(`${step.name}.bias`, { shape: [cout * 8], values: Float32Array.from({ length: cout * 8 }, (_, i) => b.values[Math.floor(i / 8)]!) });
    }
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
        if (upsample === "pointwise") {
          const cout = cf.get(`${step.name}.bias`)!.shape[0]! / 8;
          const pw = fresh(`${step.name}_pw`);
          nodes.push({ opType: "Conv", name: `${step.name}_pw`, input: [x, `${step.name}.weight`, `${step.name}.bias`], output: [pw], attribute: [attrInts("kernel_shape", [1, 1, 1])] });
          // depth-to-space in 3D. Channels are (out, a, b, c) with a, b, c the z, y, x phases. With (D, H) folded
          // into one row axis, the 2D DepthToSpace (CRD) interleaves the y and x phases: row 2 (zH + y) + b is row
          // 2y + b of slab z. The z phase is then a transpose of whole 4HW slabs.
          const n = (base: string) => fresh(`${step.name}_${base}`);
          const [shp, dims, d, w, dhw2, s4, s5a, s5] = ["shape", "dims", "d", "w", "dhw2", "s4", "s5a", "s5"].map(n) as [string, string, string, string, string, string, string, string];
          const [r4, d2s, r5, tr] = ["r4", "d2s", "r5", "tr"].map(n) as [string, string, string, string];
          const c = (v: string) => `${step.name}_${v}`;
          initializers.push(
            attrInt64s(c("i2"), [2]),
            attrInt64s(c("i3"), [3]),
            attrInt64s(c("i4"), [4]),
            attrInt64s(c("i5"), [5]),
            attrInt64s(c("head4"), [0, cout * 8, -1]),
            attrInt64s(c("head5a"), [0, cout, 2]),
            attrInt64s(c("minus1"), [-1]),
            attrInt64s(c("head5"), [0, cout]),
            attrInt64s(c("two"), [2, 2, 2]),
          );
          nodes.push(
            { opType: "Shape", input: [x], output: [shp] },
            { opType: "Slice", input: [shp, c("i2"), c("i5")], output: [dims] },
            { opType: "Slice", input: [shp, c("i2"), c("i3")], output: [d] },
            { opType: "Slice", input: [shp, c("i4"), c("i5")], output: [w] },
            { opType: "Mul", input: [dims, c("two")], output: [dhw2] },
            { opType: "Concat", input: [c("head4"), w], output: [s4], attribute: [attrInt("axis", 0)] },
            { opType: "Concat", input: [c("head5a"), d, c("minus1")], output: [s5a], attribute: [attrInt("axis", 0)] },
            { opType: "Concat", input: [c("head5"), dhw2], output: [s5], attribute: [attrInt("axis", 0)] },
            { opType: "Reshape", input: [pw, s4], output: [r4] },
            { opType: "DepthToSpace", input: [r4], output: [d2s], attribute: [attrInt("blocksize", 2), { name: "mode", type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode("CRD") }] },
            { opType: "Reshape", input: [d2s, s5a], output: [r5] },
            { opType: "Transpose", input: [r5], output: [tr], attribute: [attrInts("perm", [0, 1, 3, 2, 4])] },
            { opType: "Reshape", name: step.name, input: [tr, s5], output: [y] },
          );
          x = y;
          break;
        }
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
  if (softmax === "decomposed") {
    initializers.push(attrInt64s("softmax_axes", [1]));
    nodes.push(
      { opType: "ReduceMax", input: [x], output: ["softmax_max"], attribute: [attrInts("axes", [1]), attrInt("keepdims", 1)] },
      { opType: "Sub", input: [x, "softmax_max"], output: ["softmax_shifted"] },
      { opType: "Exp", input: ["softmax_shifted"], output: ["softmax_exp"] },
      { opType: "ReduceSum", input: ["softmax_exp", "softmax_axes"], output: ["softmax_sum"], attribute: [attrInt("keepdims", 1)] },
      { opType: "Div", name: "softmax", input: ["softmax_exp", "softmax_sum"], output: ["probabilities"] },
    );
  } else nodes.push({ opType: "Softmax", name: "softmax", input: [x], output: ["probabilities"], attribute: [attrInt("axis", 1)] });
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
    ...(options.docString !== undefined ? { docString: options.docString } : {}),
    metadataProps: (options.metadata ?? []).map(([key, value]) => ({ key, value })),
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
