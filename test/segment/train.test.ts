import { describe, expect, it, beforeAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tf, initTf } from "../../src/segment/tf.js";
import { DEFAULT_AUGMENT, DEFAULT_UNET, type UNetConfig } from "../../src/segment/plans.js";
import { createSegmentModel, loadSegmentModel } from "../../src/segment/model-io.js";
import { createOnnxEngine } from "../../src/segment/engines.js";
import { volumeConfusion } from "../../src/segment/predict-volume.js";
import { syntheticVolume } from "../helpers/synthetic.js";
import { normalisationFor, toTrainingVolume, type RawVolume } from "../../src/segment/data.js";
import { channelStatistics, normaliseInto } from "../../src/segment/normalise.js";
import { diceCeLoss, trainSegmentModel } from "../../src/segment/train.js";
import { augmentPatch, boundaryIndex, classIndex, extractPatch, samplePatchStart } from "../../src/segment/patches.js";
import { classMetrics, confusionMatrix } from "../../src/segment/metrics.js";
import { Xoshiro128StarStar } from "../../src/numerics/index.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

const unet: UNetConfig = { ...DEFAULT_UNET, depth: 2, baseFilters: 4, seed: 3 };
function raw(seed: number, shape: [number, number, number] = [20, 20, 20]): RawVolume {
  const s = syntheticVolume({ shapeZYX: shape, seed });
  return { shapeZYX: s.shapeZYX, channels: s.channels, labels: s.labels, source: `synthetic seed ${seed}` };
}

describe("loss and metrics", () => {
  it("Dice + CE equals the closed form on a 2-voxel example", () => {
    const logits = tf.tensor([2, 0, -1, 0.5, 1.5, 0], [1, 1, 1, 2, 3]);
    const labels = tf.tensor([0, 1], [1, 1, 1, 2], "int32");
    const got = diceCeLoss(logits, labels, 3, 1, 1e-5).dataSync()[0]!;
    const sm = (l: number[]) => {
      const e = l.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / s);
    };
    const p = [sm([2, 0, -1]), sm([0.5, 1.5, 0])];
    const ce = -(Math.log(p[0]![0]!) + Math.log(p[1]![1]!)) / 2;
    const dice = [0, 1, 2].map((k) => {
      const oh = [k === 0 ? 1 : 0, k === 1 ? 1 : 0];
      const inter = p[0]![k]! * oh[0]! + p[1]![k]! * oh[1]!;
      return (2 * inter + 1e-5) / (p[0]![k]! + p[1]![k]! + oh[0]! + oh[1]! + 1e-5);
    });
    expect(got).toBeCloseTo(ce + 1 - (dice[0]! + dice[1]! + dice[2]!) / 3, 5);
  });

  it("per-class Dice / IoU / TP / FP / FN follow 2TP/(2TP+FP+FN) and TP/(TP+FP+FN)", () => {
    const truth = [0, 0, 0, 1, 1, 2, 2, 2];
    const pred = [0, 0, 1, 1, 2, 2, 2, 0];
    const m = classMetrics(confusionMatrix(truth, pred, 3), ["e", "v", "l"]);
    expect(m[0]).toMatchObject({ tp: 2, fp: 1, fn: 1, dice: 4 / 6, iou: 2 / 4 });
    expect(m[1]).toMatchObject({ tp: 1, fp: 1, fn: 1, dice: 2 / 4, iou: 1 / 3 });
    expect(m[2]).toMatchObject({ tp: 2, fp: 1, fn: 1, dice: 4 / 6, iou: 2 / 4 });
  });
});

describe("normalisation", () => {
  it("clips to every class's range: a class rarer than 0.5 % keeps its contrast (nnU-Net's pooled percentiles would cut it)", () => {
    // 10000 voxels: electrolyte ~ 6, lithium ~ 1.5 (10 %), void ~ -1.5 (0.3 %: below the pooled 0.5th percentile)
    const r = new Xoshiro128StarStar(4);
    const n = 10000;
    const labels = new Uint8Array(n);
    const phase = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i < 30 ? 1 : i < 1030 ? 2 : 0;
      phase[i] = [6, -1.5, 1.5][labels[i]!]! + 0.2 * r.normal();
    }
    const pooled = channelStatistics("phase", [phase]);
    expect(pooled.clipLow).toBeGreaterThan(0.5); // the void class would be clipped into lithium's range
    const norm = channelStatistics("phase", [phase], undefined, [labels]);
    expect(norm.clipLow).toBeLessThan(-1.5 - 0.2); // below most void voxels
    expect(norm.clipHigh).toBeGreaterThanOrEqual(pooled.clipHigh);
    const out = new Float32Array(n);
    normaliseInto(phase, out, 0, norm, "test");
    const mean = (a: number, b: number) => out.slice(a, b).reduce((s, v) => s + v, 0) / (b - a);
    // void and lithium stay apart by about their raw difference (3) in units of the std
    expect((mean(30, 1030) - mean(0, 30)) * norm.std).toBeGreaterThan(2.7);
    // and normalisationFor (the training path) passes the labels
    const viaTraining = normalisationFor(["phase"], [{ shapeZYX: [10, 10, 100], channels: { phase }, labels, source: "t" }]);
    expect(viaTraining[0]).toEqual(norm);
  });
});

describe("patches", () => {
  it("oversampling puts a rare-class voxel in every patch when asked to, and fewer without", () => {
    const v = toTrainingVolume(raw(4, [32, 32, 32]), normalisationFor(["phase", "absorption"], [raw(4, [32, 32, 32])]));
    const idx = classIndex(v, 3);
    expect(idx[2]!.length).toBeGreaterThan(0);
    const rng = new Xoshiro128StarStar(1);
    let withLi = 0;
    for (let i = 0; i < 40; i++) {
      const p = extractPatch(v, samplePatchStart(v, idx, [8, 8, 8], [2], 1, rng), [8, 8, 8]);
      if (p.labels.includes(2)) withLi++;
    }
    expect(withLi).toBe(40);
    let uniform = 0;
    for (let i = 0; i < 200; i++) if (extractPatch(v, samplePatchStart(v, idx, [8, 8, 8], [2], 0, rng), [8, 8, 8]).labels.includes(2)) uniform++;
    expect(uniform).toBeLessThan(200);
    // a forced class is always in the patch, even with oversampling off (stratified validation patches)
    for (let i = 0; i < 20; i++) expect(extractPatch(v, samplePatchStart(v, idx, [8, 8, 8], [2], 0, rng, 1), [8, 8, 8]).labels.includes(1)).toBe(true);
  });

  it("boundaryIndex finds the curved surfaces of thin structures, not the flat faces of slabs", () => {
    const shape: [number, number, number] = [12, 10, 10];
    const labels = new Uint8Array(12 * 10 * 10);
    const at = (z: number, y: number, x: number) => (z * 10 + y) * 10 + x;
    for (let z = 0; z < 3; z++) for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) labels[at(z, y, x)] = 2; // slab
    for (let z = 3; z < 12; z++) labels[at(z, 5, 5)] = 2; // a one-voxel needle from the slab down
    const vol = { shapeZYX: shape, channels: [], labels, source: "test" };
    const li = boundaryIndex(vol, 3, 2)[2];
    if (li === undefined) return expect.unreachable("boundaryIndex returns one index list per class");
    const set = new Set(li);
    for (let z = 3; z < 12; z++) expect(set.has(at(z, 5, 5))).toBe(true);
    // slab voxels see electrolyte only along z (flat face): none is listed except around the needle's root
    for (const i of li) {
      const z = Math.floor(i / 100);
      const y = Math.floor(i / 10) % 10;
      const x = i % 10;
      if (z < 3) expect(Math.abs(y - 5) <= 2 && Math.abs(x - 5) <= 2).toBe(true);
    }
    // with one axis enough, the slab's lower face (z = 1, 2: electrolyte within 2 voxels) is surface too, except the
    // two voxels above the needle, plus the 9 needle voxels
    expect(boundaryIndex(vol, 3, 2, 1)[2]!.length).toBe(2 * 100 - 2 + 9);
  });

  it("geometric augmentation moves intensities and labels together (voxel pairs are preserved)", () => {
    const r = raw(5, [16, 16, 16]);
    const v = toTrainingVolume(r, normalisationFor(["phase", "absorption"], [r]));
    const p = extractPatch(v, [0, 0, 0], [16, 16, 16]);
    const geomOnly = { ...DEFAULT_AUGMENT, flipProbability: 1, intensityScale: [1, 1] as [number, number], intensityShift: [0, 0] as [number, number], noiseProbability: 0, blurProbability: 0 };
    const a = augmentPatch(p, geomOnly, new Xoshiro128StarStar(9));
    const key = (c0: number, c1: number, l: number) => `${c0.toFixed(6)}|${c1.toFixed(6)}|${l}`;
    const before = new Map<string, number>();
    for (let i = 0; i < p.labels.length; i++) before.set(key(p.channels[0]![i]!, p.channels[1]![i]!, p.labels[i]!), (before.get(key(p.channels[0]![i]!, p.channels[1]![i]!, p.labels[i]!)) ?? 0) + 1);
    for (let i = 0; i < a.labels.length; i++) {
      const k = key(a.channels[0]![i]!, a.channels[1]![i]!, a.labels[i]!);
      expect(before.get(k) ?? 0).toBeGreaterThan(0);
      before.set(k, before.get(k)! - 1);
    }
    // all flips on: the corner voxel swaps with the opposite corner (up to the y-x rotation)
    expect(Array.from(a.labels)).not.toEqual(Array.from(p.labels));
  });
});

describe("intensity augmentation", () => {
  it("scales about the channel's raw zero: the raw-zero voxel only shifts and ratios to it are kept", () => {
    const z0 = -3.4; // where raw 0 (vacuum) lies after normalisation
    const p = { shapeZYX: [1, 1, 4] as [number, number, number], channels: [Float32Array.from([z0, z0 + 1, z0 + 3, 0.4])], labels: new Uint8Array(4) };
    const cfg = { ...DEFAULT_AUGMENT, flipProbability: 0, rotate90: false, intensityScale: [0.6, 0.6] as [number, number], intensityShift: [0.05, 0.05] as [number, number], noiseProbability: 0, blurProbability: 0 };
    const [c] = augmentPatch(p, cfg, new Xoshiro128StarStar(1), [z0]).channels;
    expect(c![0]).toBeCloseTo(z0 + 0.05, 6);
    expect((c![2]! - c![0]!) / (c![1]! - c![0]!)).toBeCloseTo(3, 5);
    // nnU-Net's way (no zero point): scaled about the normalised 0
    const [d] = augmentPatch(p, cfg, new Xoshiro128StarStar(1)).channels;
    expect(d![0]).toBeCloseTo(z0 * 0.6 + 0.05, 6);
  });
});

describe("training", () => {
  const config = { patchZYX: [12, 12, 12] as [number, number, number], batchSize: 2, learningRate: 1e-2, validateEvery: 1000, checkpointEvery: 0 };

  it("lowers the loss on synthetic blobs (tiny model)", async () => {
    const vols = [raw(1), raw(2)];
    const norm = normalisationFor(unet.channels, vols);
    const sm = await createSegmentModel(unet, norm);
    const steps = 30;
    const { state } = await trainSegmentModel(sm, vols.map((v) => toTrainingVolume(v, norm)), {
      config: { ...config, steps, validateEvery: steps, validationPatches: 2 },
      validation: [toTrainingVolume(raw(9), norm)],
      progress: false,
    });
    const l = state.losses.map((e) => e.loss);
    expect(l).toHaveLength(steps);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(l.slice(-6))).toBeLessThan(0.9 * mean(l.slice(0, 6)));
    expect(state.validation).toHaveLength(1);
    expect(Object.keys(state.validation[0]!.dice)).toEqual(["electrolyte", "void", "lithium"]);
  });

  it("scores whole validation volumes and keeps the best model, whose saved Dice can be recomputed", async () => {
    const vols = [raw(1), raw(2)];
    const norm = normalisationFor(unet.channels, vols);
    const val = [toTrainingVolume(raw(9, [16, 20, 24]), norm)];
    const dir = mkdtempSync(join(tmpdir(), "ssbct-best-"));
    try {
      const { state } = await trainSegmentModel(await createSegmentModel(unet, norm), vols.map((v) => toTrainingVolume(v, norm)), {
        config: { ...config, steps: 30, validateEvery: 10 },
        validationVolumes: val,
        validationWindowZYX: [8, 8, 8],
        bestDir: dir,
        progress: false,
      });
      const vv = state.volumeValidation!;
      expect(vv.map((e) => e.step)).toEqual([10, 20, 30]);
      const fg = (d: Record<string, number>) => (d.void! + d.lithium!) / 2;
      const bestIdx = vv.reduce((b, e, i) => (fg(e.dice) > fg(vv[b]!.dice) ? i : b), 0);
      expect(state.best!.step).toBe(vv[bestIdx]!.step);
      const best = await loadSegmentModel(dir);
      expect(best.record.metrics.volumeValidationStep).toBe(state.best!.step);
      const engine = await createOnnxEngine(best);
      const conf = await volumeConfusion(engine, val, { patchZYX: [8, 8, 8] });
      await engine.dispose();
      const again = Object.fromEntries(classMetrics(conf, unet.classes).map((c) => [c.name, c.dice]));
      expect(again).toEqual(best.record.metrics.volumeValidationDice);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a resumed run continues exactly: 2 + 2 steps give the weights of 4 uninterrupted steps", async () => {
    const vols = [raw(1)];
    const norm = normalisationFor(unet.channels, vols);
    const data = vols.map((v) => toTrainingVolume(v, norm));
    const dir = mkdtempSync(join(tmpdir(), "ssbct-ckpt-"));
    try {
      const straight = await trainSegmentModel(await createSegmentModel(unet, norm), data, { config: { ...config, steps: 4 }, progress: false });
      await trainSegmentModel(await createSegmentModel(unet, norm), data, { config: { ...config, steps: 4 }, checkpointDir: dir, stopAfter: 2, progress: false });
      const resumed = await trainSegmentModel(await createSegmentModel({ ...unet, seed: 99 }, norm), data, { config: { ...config, steps: 4 }, checkpointDir: dir, resume: true, progress: false });
      expect(resumed.state.step).toBe(4);
      expect(resumed.state.losses.map((e) => e.loss)).toEqual(straight.state.losses.map((e) => e.loss));
      const a = straight.model.model.getWeights().map((w) => Array.from(w.dataSync()));
      const b = resumed.model.model.getWeights().map((w) => Array.from(w.dataSync()));
      expect(b).toEqual(a);
      // and it did move away from the initial weights
      const init = (await createSegmentModel(unet, norm)).model.getWeights().map((w) => Array.from(w.dataSync()));
      expect(b).not.toEqual(init);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
