import { describe, expect, it, beforeAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileFormatError } from "../../src/util/errors.js";
import { tf, initTf } from "../../src/segment/tf.js";
import { DEFAULT_UNET, type UNetConfig } from "../../src/segment/plans.js";
import { buildUNet } from "../../src/segment/unet.js";
import { createSegmentModel, loadSegmentModel, saveSegmentModel } from "../../src/segment/model-io.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

const small: UNetConfig = { ...DEFAULT_UNET, depth: 3, baseFilters: 4, norm: "instance" };

describe("conv3dTranspose gradient (registered for Conv3DBackpropInputV2)", () => {
  it("matches central finite differences for both the input and the filter", () => {
    const x = tf.randomNormal([1, 2, 2, 2, 2], 0, 1, "float32", 3) as tf.Tensor5D;
    const f = tf.randomNormal([2, 2, 2, 3, 2], 0, 1, "float32", 4) as tf.Tensor5D; // [kd,kh,kw,out,in]
    const r = tf.randomNormal([1, 4, 4, 4, 3], 0, 1, "float32", 5);
    // L(x, f) = sum(r * conv3dTranspose(x, f)) is linear in each argument, so central differences are exact
    // up to float32 rounding.
    const loss = (xx: tf.Tensor5D, ff: tf.Tensor5D) => tf.sum(tf.mul(r, tf.conv3dTranspose(xx, ff, [1, 4, 4, 4, 3], 2, "valid")));
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => loss(a as tf.Tensor5D, b as tf.Tensor5D));
    const [gx, gf] = g([x, f]);
    const check = (t: tf.Tensor, grad: tf.Tensor, which: 0 | 1) => {
      const base = t.dataSync();
      const gd = grad.dataSync();
      expect(grad.shape).toEqual(t.shape);
      let maxErr = 0;
      let maxG = 0;
      for (let i = 0; i < base.length; i++) {
        const h = 1e-2;
        const plus = Float32Array.from(base);
        plus[i]! += h;
        const minus = Float32Array.from(base);
        minus[i]! -= h;
        const tp = tf.tensor5d(plus, t.shape as [number, number, number, number, number]);
        const tm = tf.tensor5d(minus, t.shape as [number, number, number, number, number]);
        const lp = (which === 0 ? loss(tp, f) : loss(x, tp)).dataSync()[0]!;
        const lm = (which === 0 ? loss(tm, f) : loss(x, tm)).dataSync()[0]!;
        maxErr = Math.max(maxErr, Math.abs((lp - lm) / (2 * h) - gd[i]!));
        maxG = Math.max(maxG, Math.abs(gd[i]!));
      }
      expect(maxG).toBeGreaterThan(0.1);
      expect(maxErr).toBeLessThan(2e-2 * maxG);
    };
    check(x, gx!, 0);
    check(f, gf!, 1);
  });
});

describe("U-Net", () => {
  it("maps (N, D, H, W, C) to (N, D, H, W, classes) for both channels and for a single channel", () => {
    for (const channels of [["phase", "absorption"], ["absorption"]] as const) {
      const m = buildUNet({ ...small, channels: [...channels] });
      const y = m.predict(tf.zeros([1, 8, 16, 8, channels.length])) as tf.Tensor;
      expect(y.shape).toEqual([1, 8, 16, 8, 3]);
    }
  });

  it("has a gradient for every trainable weight (transposed convolutions included)", () => {
    const m = buildUNet(small);
    const x = tf.randomNormal([1, 8, 8, 8, 2], 0, 1, "float32", 1);
    const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(m.apply(x) as tf.Tensor)) as tf.Scalar, vars);
    const names = m.trainableWeights.map((w) => w.originalName);
    expect(names.some((n) => n.startsWith("up"))).toBe(true);
    for (const v of vars) {
      const g = grads[v.name];
      expect(g, v.name).toBeDefined();
      expect(Number.isFinite(tf.sum(tf.abs(g!)).dataSync()[0]!)).toBe(true);
    }
    const upGrad = grads[vars[names.findIndex((n) => n.startsWith("up0"))]!.name]!;
    expect(tf.sum(tf.abs(upGrad)).dataSync()[0]!).toBeGreaterThan(0);
  });
});

describe("model files", () => {
  it("round-trips weights and the record through model.json + weights.bin", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ssbct-model-"));
    try {
      const norm = [
        { channel: "phase" as const, clipLow: -1, clipHigh: 2, mean: 0.3, std: 0.4 },
        { channel: "absorption" as const, clipLow: -Infinity, clipHigh: Infinity, mean: 0.7, std: 0.2 },
      ];
      const sm = await createSegmentModel(small, norm);
      sm.record.voxelSizeUm = [0.65, 0.65, 0.65];
      sm.record.metrics = { dice: { lithium: 0.5 } };
      sm.record.training.data = ["twin:default seed 3"];
      await saveSegmentModel(dir, sm);
      const back = await loadSegmentModel(dir);
      expect(back.record.unet).toEqual(small);
      expect(back.record.normalisation).toEqual(norm);
      expect(back.record.voxelSizeUm).toEqual([0.65, 0.65, 0.65]);
      expect(back.record.metrics).toEqual({ dice: { lithium: 0.5 } });
      expect(back.record.training.data).toEqual(["twin:default seed 3"]);
      expect(back.record.classes.map((c) => c.name)).toEqual(["electrolyte", "void", "lithium"]);
      const x = tf.randomNormal([1, 8, 8, 8, 2], 0, 1, "float32", 9);
      const a = (sm.model.predict(x) as tf.Tensor).dataSync();
      const b = (back.model.predict(x) as tf.Tensor).dataSync();
      expect(Array.from(b)).toEqual(Array.from(a));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the file and the problem for missing, corrupt or truncated model files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ssbct-model-"));
    try {
      await expect(loadSegmentModel(dir)).rejects.toThrow(/model file missing.*model\.json/);
      const sm = await createSegmentModel(small);
      await saveSegmentModel(dir, sm);
      const bin = readFileSync(join(dir, "weights.bin"));
      const json = readFileSync(join(dir, "model.json"), "utf8");

      const flipped = Buffer.from(bin);
      flipped[100] = flipped[100]! ^ 0xff;
      writeFileSync(join(dir, "weights.bin"), flipped);
      await expect(loadSegmentModel(dir)).rejects.toThrow(/corrupt.*weights\.bin/);

      writeFileSync(join(dir, "weights.bin"), bin.subarray(0, bin.length - 8));
      await expect(loadSegmentModel(dir)).rejects.toThrow(/wrong size/);

      unlinkSync(join(dir, "weights.bin"));
      await expect(loadSegmentModel(dir)).rejects.toBeInstanceOf(FileFormatError);

      writeFileSync(join(dir, "weights.bin"), bin);
      writeFileSync(join(dir, "model.json"), json.slice(0, json.length / 2));
      await expect(loadSegmentModel(dir)).rejects.toThrow(/not valid JSON.*model\.json/);

      writeFileSync(join(dir, "model.json"), JSON.stringify({ format: "layers-model", modelTopology: {}, weightsManifest: [] }));
      await expect(loadSegmentModel(dir)).rejects.toThrow(/not an ssb-ct segmentation model/);

      writeFileSync(join(dir, "model.json"), json);
      await expect(loadSegmentModel(dir)).resolves.toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
