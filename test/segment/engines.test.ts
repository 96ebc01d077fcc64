import { describe, expect, it, beforeAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initTf } from "../../src/segment/tf.js";
import { DEFAULT_UNET, type UNetConfig } from "../../src/segment/plans.js";
import { createSegmentModel } from "../../src/segment/model-io.js";
import { createOnnxEngine, createTfjsEngine } from "../../src/segment/engines.js";
import { namedWeights } from "../../src/segment/unet.js";
import { exportOnnx, permuteAxes } from "../../src/segment/onnx-export.js";
import { Xoshiro128StarStar } from "../../src/numerics/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { TORCH_UNET_PY, writePeerModel } from "./torch-peer.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

function randomInput(n: number, seed: number): Float32Array {
  const r = new Xoshiro128StarStar(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

function argmaxLabels(p: Float32Array, K: number): Uint8Array {
  const n = p.length / K;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let k = 1; k < K; k++) if (p[k * n + i]! > p[b * n + i]!) b = k;
    out[i] = b;
  }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const configs: Array<[string, UNetConfig]> = [
  ["phase + absorption, depth 3, instance norm", { ...DEFAULT_UNET, depth: 3, baseFilters: 4, norm: "instance", seed: 2 }],
  ["absorption only, depth 2, no norm", { ...DEFAULT_UNET, channels: ["absorption"], depth: 2, baseFilters: 6, norm: "none", seed: 3 }],
];

describe("TF.js and ONNX Runtime agree", () => {
  for (const [name, cfg] of configs) {
    it(`gives the same probabilities (< 1e-4) and labels: ${name}`, async () => {
      const sm = await createSegmentModel(cfg);
      const shape: [number, number, number] = [16, 8, 12];
      const x = randomInput(cfg.channels.length * 16 * 8 * 12, 11);
      const a = await (await createTfjsEngine(sm)).predict(x, shape);
      const onnx = await createOnnxEngine(sm, { intraOpThreads: 1 });
      const b = await onnx.predict(x, shape);
      await onnx.dispose();
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
      // probabilities are probabilities
      const n = 16 * 8 * 12;
      for (let i = 0; i < n; i += 97) expect(a[i]! + a[n + i]! + a[2 * n + i]!).toBeCloseTo(1, 5);
      // labels: equal except where the top two classes are closer than the engines' difference
      const la = argmaxLabels(a, 3);
      const lb = argmaxLabels(b, 3);
      let differ = 0;
      for (let i = 0; i < la.length; i++) if (la[i] !== lb[i]) differ++;
      expect(differ).toBe(0);
      // a random model still must not predict a single class everywhere, or the label check says little
      expect(new Set(la).size).toBeGreaterThan(1);
    });
  }
});

describe("ONNX graph forms", () => {
  it("ConvTranspose + Softmax and pointwise upsampling + decomposed softmax compute the same probabilities", async () => {
    const cfg: UNetConfig = { ...DEFAULT_UNET, depth: 3, baseFilters: 4, norm: "none", seed: 9 };
    const sm = await createSegmentModel(cfg);
    const shape: [number, number, number] = [8, 12, 16];
    const x = randomInput(2 * 8 * 12 * 16, 13);
    const plain = await createOnnxEngine(sm, { intraOpThreads: 1, onnxBytes: exportOnnx(cfg, namedWeights(sm.model), { upsample: "convtranspose", softmax: "operator" }) });
    const fast = await createOnnxEngine(sm, { intraOpThreads: 1, onnxBytes: exportOnnx(cfg, namedWeights(sm.model), { upsample: "pointwise", softmax: "decomposed" }) });
    const a = await plain.predict(x, shape);
    const b = await fast.predict(x, shape);
    await plain.dispose();
    await fast.dispose();
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    expect(new Set(argmaxLabels(a, 3)).size).toBeGreaterThan(1);
  });
});

describe("permuteAxes", () => {
  it("moves element (i, j, k) of a 2x3x4 array to (k, i, j) under perm [2, 0, 1]", () => {
    const v = Float32Array.from({ length: 24 }, (_, i) => i);
    const { values, shape } = permuteAxes(v, [2, 3, 4], [2, 0, 1]);
    expect(shape).toEqual([4, 2, 3]);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expect(values[(k * 2 + i) * 3 + j]).toBe((i * 3 + j) * 4 + k);
  });
});

const torchOk = hasPythonModules("torch", "numpy");
describe.skipIf(!torchOk)("PyTorch peer (same architecture and weights)", () => {
  it("gives the same probabilities as TF.js and ONNX Runtime", async () => {
    const cfg: UNetConfig = { ...DEFAULT_UNET, depth: 3, baseFilters: 4, norm: "instance", seed: 5 };
    const sm = await createSegmentModel(cfg);
    const dir = mkdtempSync(join(tmpdir(), "ssbct-torch-"));
    try {
      writePeerModel(dir, cfg, namedWeights(sm.model));
      const shape: [number, number, number] = [8, 16, 16];
      const x = randomInput(2 * 8 * 16 * 16, 21);
      writeFileSync(join(dir, "input.f32"), new Uint8Array(x.buffer));
      writeFileSync(join(dir, "input.json"), JSON.stringify([1, 2, ...shape]));
      runPython(TORCH_UNET_PY, [dir, "predict"]);
      const buf = readFileSync(join(dir, "output.f32"));
      const torch = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      const a = await (await createTfjsEngine(sm)).predict(x, shape);
      const onnx = await createOnnxEngine(sm, { intraOpThreads: 1 });
      const b = await onnx.predict(x, shape);
      await onnx.dispose();
      expect(maxAbsDiff(torch, a)).toBeLessThan(1e-4);
      expect(maxAbsDiff(torch, b)).toBeLessThan(1e-4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
