/**
 * Sparse labels (issue 16): IGNORE_LABEL voxels count in neither the loss nor the metrics nor the normalisation, patch
 * sampling draws only around annotated voxels, and `sparsify` keeps exactly every K-th z-slice (also in a store).
 */
import { describe, expect, it, beforeAll } from "vitest";
import { join } from "node:path";
import { tf, initTf } from "../../src/segment/tf.js";
import { IGNORE_LABEL } from "../../src/segment/plans.js";
import { diceCeLoss } from "../../src/segment/train.js";
import { classMetrics, confusionMatrix, annotatedCount } from "../../src/segment/metrics.js";
import { evaluateLabels } from "../../src/segment/report.js";
import { annotatedIndex, boundaryIndex, classIndex, extractPatch, samplePatchStart, type TrainingVolume } from "../../src/segment/patches.js";
import { channelStatistics } from "../../src/segment/normalise.js";
import { keptSlices, sparsifyLabelImage, sparsifyLabels } from "../../src/segment/sparse-labels.js";
import { readRawVolume } from "../../src/segment/data.js";
import { Xoshiro128StarStar } from "../../src/numerics/random.js";
import { OmeImage } from "../../src/volume/index.js";
import { ParameterError } from "../../src/util/errors.js";
import { tempDir } from "../helpers/tmp.js";
import { syntheticVolume } from "../helpers/synthetic.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

const softmax = (l: number[]) => {
  const e = l.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

/** Dice + CE written out over the listed voxels only (independent of the TF.js implementation). */
function closedForm(logits: number[][], labels: number[], K: number, smooth: number): number {
  const p = logits.map(softmax);
  const ce = -labels.reduce((s, l, i) => s + Math.log(p[i]![l]!), 0) / labels.length;
  let dice = 0;
  for (let k = 0; k < K; k++) {
    let inter = 0;
    let ps = 0;
    let os = 0;
    labels.forEach((l, i) => {
      inter += l === k ? p[i]![k]! : 0;
      ps += p[i]![k]!;
      os += l === k ? 1 : 0;
    });
    dice += (2 * inter + smooth) / (ps + os + smooth);
  }
  return ce + 1 - dice / K;
}

describe("ignore label in the loss and the metrics", () => {
  it("Dice + CE over a batch with not-annotated voxels equals the closed form over the annotated ones, and those get no gradient", () => {
    const logits = [
      [2, 0, -1],
      [0.5, 1.5, 0],
      [3, -2, 4], // ignored
      [-1, 0.2, 2],
      [5, 5, -5], // ignored
    ];
    const labels = [0, 1, IGNORE_LABEL, 2, IGNORE_LABEL];
    const x = tf.tensor(logits.flat(), [1, 1, 1, 5, 3]);
    const y = tf.tensor(labels, [1, 1, 1, 5], "int32");
    const got = diceCeLoss(x, y, 3, 1, 1e-5).dataSync()[0]!;
    expect(got).toBeCloseTo(closedForm([logits[0]!, logits[1]!, logits[3]!], [0, 1, 2], 3, 1e-5), 5);
    // and it differs from treating 255 as class 0 (the test can fail)
    expect(Math.abs(got - closedForm(logits, labels.map((l) => (l === IGNORE_LABEL ? 0 : l)), 3, 1e-5))).toBeGreaterThan(0.01);
    const g = tf.grad((t: tf.Tensor) => diceCeLoss(t, y, 3, 1, 1e-5))(x).reshape([5, 3]).arraySync() as number[][];
    for (const i of [2, 4]) for (const v of g[i]!) expect(v).toBe(0);
    expect(g[0]!.some((v) => Math.abs(v) > 1e-4)).toBe(true);
  });

  it("dense labels give the loss they gave before (no ignore voxels: the mask changes nothing)", () => {
    const logits = [
      [2, 0, -1],
      [0.5, 1.5, 0],
    ];
    const got = diceCeLoss(tf.tensor(logits.flat(), [1, 1, 1, 2, 3]), tf.tensor([0, 1], [1, 1, 1, 2], "int32"), 3, 1, 1e-5).dataSync()[0]!;
    expect(got).toBeCloseTo(closedForm(logits, [0, 1], 3, 1e-5), 5);
  });

  it("metrics leave not-annotated truth out: Dice equals Dice over the annotated voxels", () => {
    const truth = [0, 0, IGNORE_LABEL, 1, 1, IGNORE_LABEL, 2, 2];
    const pred = [0, 1, 2, 1, 2, 1, 2, 0];
    const keep = truth.map((t, i) => [t, pred[i]!] as const).filter(([t]) => t !== IGNORE_LABEL);
    const sub = classMetrics(confusionMatrix(keep.map(([t]) => t), keep.map(([, p]) => p), 3), ["e", "v", "l"]);
    const full = evaluateLabels("m", truth, pred, ["e", "v", "l"]);
    expect(full.classes).toEqual(sub);
    expect(full.classes[1]).toMatchObject({ tp: 1, fp: 1, fn: 1, dice: 0.5 });
    expect(annotatedCount(truth)).toEqual({ voxels: 6, fraction: 6 / 8 });
    // a truth value that is neither a class nor IGNORE_LABEL is named, not counted
    expect(() => confusionMatrix([0, 7], [0, 0], 3)).toThrow(/outside the classes.*got: 7/);
  });
});

function volume(labels: Uint8Array, shape: [number, number, number]): TrainingVolume {
  return { shapeZYX: shape, channels: [new Float32Array(labels.length)], labels, source: "test" };
}

describe("sparsify and sampling", () => {
  it("keeps exactly every K-th z-slice and marks the rest not annotated", () => {
    const shape: [number, number, number] = [20, 3, 4];
    const dense = Uint8Array.from({ length: 240 }, (_, i) => i % 3);
    const sparse = sparsifyLabels(dense, shape, { every: 8, offset: 2 });
    expect(keptSlices(20, { every: 8, offset: 2 })).toEqual([2, 10, 18]);
    for (let z = 0; z < 20; z++)
      for (let i = z * 12; i < (z + 1) * 12; i++) expect(sparse[i]).toBe([2, 10, 18].includes(z) ? dense[i] : IGNORE_LABEL);
    expect(annotatedCount(sparse).fraction).toBeCloseTo(3 / 20, 12);
    expect(() => sparsifyLabels(dense, shape, { every: 0 })).toThrow(ParameterError);
    expect(() => sparsifyLabels(dense, shape, { every: 4, offset: 4 })).toThrow(/offset/);
  });

  it("uniform patch draws land on annotated voxels only when the labels are sparse", () => {
    const shape: [number, number, number] = [64, 16, 16];
    const labels = new Uint8Array(64 * 256).fill(IGNORE_LABEL);
    labels.fill(0, 40 * 256, 41 * 256); // one annotated slice, z = 40
    const vol = volume(labels, shape);
    const idx = classIndex(vol, 3);
    const ann = annotatedIndex(vol)!;
    expect(ann.length).toBe(256);
    expect(annotatedIndex(volume(new Uint8Array(10), [10, 1, 1]))).toBeNull();
    const rng = new Xoshiro128StarStar(5);
    const patch: [number, number, number] = [8, 8, 8];
    const hasAnnotation = (start: number[]) => extractPatch(vol, start, patch).labels.some((l) => l !== IGNORE_LABEL);
    let withIndex = 0;
    let without = 0;
    for (let i = 0; i < 300; i++) {
      if (hasAnnotation(samplePatchStart(vol, idx, patch, [1, 2], 0.33, rng, undefined, undefined, ann))) withIndex++;
      if (hasAnnotation(samplePatchStart(vol, idx, patch, [1, 2], 0.33, rng))) without++;
    }
    expect(withIndex).toBe(300);
    expect(without).toBeLessThan(100); // uniform draws mostly miss the one slice: what the index is for
  });

  it("the edge of an annotated slice is no class surface", () => {
    const shape: [number, number, number] = [9, 8, 8];
    const labels = new Uint8Array(9 * 64).fill(IGNORE_LABEL);
    labels.fill(0, 4 * 64, 5 * 64);
    expect(boundaryIndex(volume(labels, shape), 3, 2).every((l) => l.length === 0)).toBe(true);
    labels[4 * 64 + 3 * 8 + 3] = 1; // a one-voxel void inside the slice: a surface along y and x
    const b = boundaryIndex(volume(labels, shape), 3, 2);
    expect(b[1]).toEqual(Int32Array.from([4 * 64 + 27]));
  });

  it("normalisation statistics take no class range from not-annotated voxels", () => {
    const n = 10000;
    const v = Float32Array.from({ length: n }, (_, i) => (i % 400 === 0 ? 1000 : (i % 7) / 7));
    const lab = Uint8Array.from({ length: n }, (_, i) => (i % 400 === 0 ? IGNORE_LABEL : 0));
    const s = channelStatistics("phase", [v], undefined, [lab]);
    expect(s.clipHigh).toBeLessThan(1000); // the 0.25 % outliers (inside the pooled 99.5th percentile), not annotated, set no clip bound of their own
    const asClass = channelStatistics("phase", [v], undefined, [Uint8Array.from(lab, (l) => (l === IGNORE_LABEL ? 1 : 0))]);
    expect(asClass.clipHigh).toBe(1000); // as a class they would
  });

  it("sparsifies a label image of an OME-Zarr into a tracked label image that training reads", async () => {
    const dir = tempDir();
    const shape: [number, number, number] = [16, 12, 10];
    const syn = syntheticVolume({ shapeZYX: shape, seed: 2 });
    const img = await OmeImage.create(join(dir, "s.ome.zarr"), { channels: ["phase", "absorption"], timePointsH: [0, 1], shapeZYX: shape, voxelSizeUm: [2, 2, 2], dtype: "float32", chunksZYX: [8, 12, 10] });
    const truth = await img.createLabels("segmentation", { classes: [{ value: 0, name: "electrolyte" }, { value: 1, name: "void" }, { value: 2, name: "lithium" }] });
    for (const t of [0, 1]) {
      for (const c of ["phase", "absorption"] as const) await img.writeVolume(t, c, [0, 0, 0], { data: syn.channels[c], shape });
      await truth.writeVolume(t, [0, 0, 0], { data: syn.labels, shape });
    }
    const res = await sparsifyLabelImage(img, "segmentation", "sparse8", { every: 8 });
    expect(res.keptSlices).toEqual([0, 8]);
    expect(res.annotatedFraction).toBeCloseTo(2 / 16, 12);
    const lab = await img.openLabels("sparse8");
    expect(lab.status().state).toBe("complete");
    const raw = await readRawVolume(img, 1, "sparse8", ["phase", "absorption"]);
    expect(raw.labels).toEqual(sparsifyLabels(syn.labels, shape, { every: 8 }));
    await expect(sparsifyLabelImage(img, "segmentation", "sparse8", { every: 4 })).rejects.toThrow(/exists/);
    await sparsifyLabelImage(img, "segmentation", "sparse8", { every: 4, overwrite: true });
    expect(annotatedCount((await readRawVolume(img, 0, "sparse8", ["phase"])).labels).fraction).toBeCloseTo(4 / 16, 12);
  });
});
