/**
 * The ONNX file shipped beside each model in data/models (model.onnx, with its metadata also in model.onnx.json),
 * for users outside Node (Python, napari). Checked three ways:
 *  - it is exactly what exporting the shipped weights gives today (so weights and model.onnx cannot drift apart);
 *  - Debian's python3-onnx accepts it (onnx.checker, full check) and reads the graph and metadata a user needs;
 *  - a plain numpy evaluation of its graph (no ONNX runtime in Python) gives the probabilities onnxruntime-node
 *    gives for the same file, which are those of the engine ssb-ct segments with.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { onnx as OnnxNamespace } from "onnx-proto";
import { initTf } from "../../src/segment/tf.js";
import { loadSegmentModel, exportModelOnnx, onnxMetadata, saveSegmentModel, createSegmentModel, PORTABLE_ONNX_OPTIONS, type SegmentModel } from "../../src/segment/model-io.js";
import { createOnnxEngine } from "../../src/segment/engines.js";
import { sizeMultiple } from "../../src/segment/unet.js";
import { DEFAULT_UNET } from "../../src/segment/plans.js";
import { Xoshiro128StarStar } from "../../src/numerics/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { tempDir } from "../helpers/tmp.js";

const { onnx } = createRequire(import.meta.url)("onnx-proto") as { onnx: typeof OnnxNamespace };
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const modelsDir = join(root, "data", "models");
const shipped = readdirSync(modelsDir).filter((d) => existsSync(join(modelsDir, d, "model.json")));
const tmp = tempDir("ssb-ct-onnx-");

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

function metadataOf(bytes: Uint8Array): Record<string, string> {
  const m = onnx.ModelProto.decode(bytes);
  return Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key!, p.value!]));
}

/** A deterministic (C, D, H, W) input of normalised intensities. */
function input(c: number, n: number, seed: number): Float32Array {
  const r = new Xoshiro128StarStar(seed);
  return Float32Array.from({ length: c * n }, () => r.normal());
}

it("there are shipped models to check", () => {
  expect(shipped.sort()).toEqual(["unet-absorption-only", "unet-default"]);
});

describe.each(shipped)("data/models/%s/model.onnx", (name) => {
  const dir = join(modelsDir, name);
  const onnxPath = join(dir, "model.onnx");
  let sm: SegmentModel;
  let bytes: Uint8Array;
  beforeAll(async () => {
    sm = await loadSegmentModel(dir);
    bytes = new Uint8Array(readFileSync(onnxPath));
  });

  it("is exactly a fresh export of the shipped weights, and small", () => {
    expect(existsSync(onnxPath)).toBe(true);
    const fresh = exportModelOnnx(sm);
    expect(Buffer.from(bytes).equals(Buffer.from(fresh))).toBe(true);
    expect(bytes.byteLength).toBeLessThan(300_000);
  });

  it("carries the metadata a user needs, the same as model.onnx.json beside it", () => {
    const meta = metadataOf(bytes);
    expect(meta).toEqual(onnxMetadata(sm));
    expect(JSON.parse(meta.channels!)).toEqual(sm.record.unet.channels);
    expect(JSON.parse(meta.classes!).map((c: { name: string }) => c.name)).toEqual(sm.record.unet.classes);
    expect(JSON.parse(meta.voxel_size_um!)).toEqual(sm.record.voxelSizeUm);
    const norm = JSON.parse(meta.normalisation!) as Array<{ channel: string; clipLow: number; mean: number; std: number }>;
    expect(norm.map((n) => n.channel)).toEqual(sm.record.unet.channels);
    expect(norm[0]!.mean).toBe(sm.record.normalisation[0]!.mean);
    expect(meta.normalisation_formula).toMatch(/clip/);
    expect(Object.keys(JSON.parse(meta.channel_units!))).toEqual(sm.record.unet.channels);
    expect(Number(meta.size_multiple)).toBe(sizeMultiple(sm.record.unet));
    const beside = JSON.parse(readFileSync(join(dir, "model.onnx.json"), "utf8")) as { file: string; sha256: string; bytes: number; metadata: Record<string, string> };
    expect(beside.metadata).toEqual(meta);
    expect(beside.file).toBe("model.onnx");
    expect(beside.bytes).toBe(bytes.byteLength);
    expect(beside.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
  });

  it("computes what the engine ssb-ct segments with computes (onnxruntime-node, both graph forms)", async () => {
    const C = sm.record.unet.channels.length;
    const shape: [number, number, number] = [16, 12, 8];
    const x = input(C, 16 * 12 * 8, 5);
    const shippedEngine = await createOnnxEngine(sm, { intraOpThreads: 1, onnxBytes: bytes });
    const ours = await createOnnxEngine(sm, { intraOpThreads: 1 });
    const a = await shippedEngine.predict(x, shape);
    const b = await ours.predict(x, shape);
    await shippedEngine.dispose();
    await ours.dispose();
    let d = 0;
    for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    expect(d).toBeLessThan(1e-5);
  });

  it.skipIf(!hasPythonModules("onnx", "numpy"))("passes onnx.checker and a numpy evaluation of its graph matches onnxruntime-node", async () => {
    const C = sm.record.unet.channels.length;
    const shape: [number, number, number] = [12, 16, 8];
    const n = shape[0] * shape[1] * shape[2];
    const x = input(C, n, 9);
    const xPath = join(tmp, `${name}-x.f32`);
    writeFileSync(xPath, x);
    const out = JSON.parse(runPython(PY_CHECK, [onnxPath, xPath, shape.join(","), join(tmp, `${name}-y.f32`)])) as {
      opset: number;
      inputs: Array<{ name: string; dims: Array<string | number> }>;
      outputs: Array<{ name: string; dims: Array<string | number> }>;
      ops: string[];
      metadata: Record<string, string>;
    };
    expect(out.opset).toBe(17);
    expect(out.inputs).toEqual([{ name: "input", dims: ["N", C, "D", "H", "W"] }]);
    expect(out.outputs).toEqual([{ name: "probabilities", dims: ["N", sm.record.unet.classes.length, "D", "H", "W"] }]);
    // standard operators only, so any ONNX runtime (and Netron) reads it
    for (const op of out.ops) expect(["Conv", "LeakyRelu", "MaxPool", "ConvTranspose", "Concat", "Softmax", "InstanceNormalization"]).toContain(op);
    expect(out.metadata).toEqual(metadataOf(bytes));
    const yNumpy = new Float32Array(readFileSync(join(tmp, `${name}-y.f32`)).buffer.slice(0));
    const engine = await createOnnxEngine(sm, { intraOpThreads: 1, onnxBytes: bytes });
    const yOrt = await engine.predict(x, shape);
    await engine.dispose();
    expect(yNumpy.length).toBe(yOrt.length);
    let d = 0;
    for (let i = 0; i < yOrt.length; i++) d = Math.max(d, Math.abs(yOrt[i]! - yNumpy[i]!));
    expect(d).toBeLessThan(1e-5);
  });
});

describe("saving a model writes its ONNX file beside it", () => {
  it("model.onnx and model.onnx.json follow the saved weights", async () => {
    const sm = await createSegmentModel({ ...DEFAULT_UNET, channels: ["absorption"], depth: 2, baseFilters: 2, seed: 4 });
    const dir = join(tmp, "saved");
    await saveSegmentModel(dir, sm);
    const bytes = new Uint8Array(readFileSync(join(dir, "model.onnx")));
    const loaded = await loadSegmentModel(dir);
    expect(Buffer.from(bytes).equals(Buffer.from(exportModelOnnx(loaded)))).toBe(true);
    expect(metadataOf(bytes)).toEqual(onnxMetadata(loaded));
    expect(JSON.parse(readFileSync(join(dir, "model.onnx.json"), "utf8")).sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    expect(PORTABLE_ONNX_OPTIONS).toEqual({ upsample: "convtranspose", softmax: "operator" });
  });
});

/**
 * Python side: onnx.checker (full), the graph's inputs / outputs / operators / metadata as JSON on stdout, and a
 * numpy evaluation of the graph (float64) on the given (C, D, H, W) input, written as float32 (K, D, H, W).
 */
const PY_CHECK = String.raw`
import json, sys
import numpy as np
import onnx
from onnx import numpy_helper, helper

path, xpath, shape, ypath = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split(",")], sys.argv[4]
m = onnx.load(path)
onnx.checker.check_model(m, full_check=True)
g = m.graph
dims = lambda vi: [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]
info = {
    "opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0],
    "inputs": [{"name": i.name, "dims": dims(i)} for i in g.input],
    "outputs": [{"name": o.name, "dims": dims(o)} for o in g.output],
    "ops": sorted({n.op_type for n in g.node}),
    "metadata": {p.key: p.value for p in m.metadata_props},
}

env = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in g.initializer}
C = info["inputs"][0]["dims"][1]
env[g.input[0].name] = np.fromfile(xpath, dtype=np.float32).astype(np.float64).reshape([1, C] + shape)

def conv(x, w, b, pads):
    p = pads[0]
    xp = np.pad(x[0], ((0, 0), (p, p), (p, p), (p, p)))
    k = w.shape[2:]
    win = np.lib.stride_tricks.sliding_window_view(xp, k, axis=(1, 2, 3))
    return (np.einsum("cdhwijk,ocijk->odhw", win, w, optimize=True) + b[:, None, None, None])[None]

def conv_transpose(x, w, b):
    c, o = w.shape[:2]
    _, _, d, h, wd = x.shape
    y = np.einsum("cdhw,coijk->odihjwk", x[0], w, optimize=True).reshape(o, 2 * d, 2 * h, 2 * wd)
    return (y + b[:, None, None, None])[None]

def maxpool(x):
    n, c, d, h, w = x.shape
    return x.reshape(n, c, d // 2, 2, h // 2, 2, w // 2, 2).max(axis=(3, 5, 7))

for node in g.node:
    a = {at.name: helper.get_attribute_value(at) for at in node.attribute}
    i = [env[n] for n in node.input]
    op = node.op_type
    if op == "Conv":
        assert list(a.get("strides", [1, 1, 1])) == [1, 1, 1] and len(set(a.get("pads", [0] * 6))) == 1
        y = conv(i[0], i[1], i[2], list(a.get("pads", [0] * 6)))
    elif op == "ConvTranspose":
        assert list(a["kernel_shape"]) == [2, 2, 2] and list(a["strides"]) == [2, 2, 2]
        y = conv_transpose(i[0], i[1], i[2])
    elif op == "MaxPool":
        assert list(a["kernel_shape"]) == [2, 2, 2] and list(a["strides"]) == [2, 2, 2]
        y = maxpool(i[0])
    elif op == "LeakyRelu":
        y = np.where(i[0] >= 0, i[0], a["alpha"] * i[0])
    elif op == "Concat":
        y = np.concatenate(i, axis=a["axis"])
    elif op == "InstanceNormalization":
        mu = i[0].mean(axis=(2, 3, 4), keepdims=True)
        var = i[0].var(axis=(2, 3, 4), keepdims=True)
        y = (i[0] - mu) / np.sqrt(var + a["epsilon"]) * i[1][None, :, None, None, None] + i[2][None, :, None, None, None]
    elif op == "Softmax":
        z = np.exp(i[0] - i[0].max(axis=a["axis"], keepdims=True))
        y = z / z.sum(axis=a["axis"], keepdims=True)
    else:
        raise SystemExit("operator not evaluated by this check: " + op)
    env[node.output[0]] = y

env[g.output[0].name][0].astype(np.float32).tofile(ypath)
print(json.dumps(info))
`;
