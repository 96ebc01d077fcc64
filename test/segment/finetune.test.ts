/**
 * Fine-tuning from a saved model (issue 16): a tiny model trained briefly and saved is fine-tuned on sparse labels
 * of another volume; the loss on that volume's annotated voxels goes down, the parent folder is untouched, the new
 * record names the parent (fingerprint, weights hash, its data), keeps or re-estimates the normalisation as asked,
 * and holds the training class means (annotated voxels only) that `report` uses for its baselines.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { tf, initTf } from "../../src/segment/tf.js";
import { DEFAULT_UNET, IGNORE_LABEL, type UNetConfig } from "../../src/segment/plans.js";
import { createSegmentModel, loadSegmentModel, modelFingerprint, saveSegmentModel, type SegmentModel } from "../../src/segment/model-io.js";
import { normalisationFor, toTrainingVolume, type RawVolume } from "../../src/segment/data.js";
import { diceCeLoss, trainSegmentModel } from "../../src/segment/train.js";
import { fineTuneModel } from "../../src/segment/fine-tune.js";
import { sparsifyLabels } from "../../src/segment/sparse-labels.js";
import { recordedBaselines, recordedClassMeans, trainingClassMeans } from "../../src/segment/report.js";
import { twinColumnVolumes } from "../../src/segment/tutorial-data.js";
import { syntheticVolume } from "../helpers/synthetic.js";
import { tempDir } from "../helpers/tmp.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

const unet: UNetConfig = { ...DEFAULT_UNET, depth: 2, baseFilters: 4, seed: 3 };
const SHAPE: [number, number, number] = [16, 16, 16];
function raw(seed: number, noise = 0.1): RawVolume {
  const s = syntheticVolume({ shapeZYX: SHAPE, seed, noise });
  return { shapeZYX: s.shapeZYX, channels: s.channels, labels: s.labels, source: `synthetic seed ${seed}` };
}

/** Dice + CE of a model over a whole volume's annotated voxels (one forward pass, no augmentation). */
function volumeLoss(sm: SegmentModel, v: RawVolume): number {
  const tv = toTrainingVolume(v, sm.record.normalisation);
  const n = tv.labels.length;
  const xs = new Float32Array(n * tv.channels.length);
  for (let i = 0; i < n; i++) for (let c = 0; c < tv.channels.length; c++) xs[i * tv.channels.length + c] = tv.channels[c]![i]!;
  return tf.tidy(() => {
    const x = tf.tensor5d(xs, [1, ...SHAPE, tv.channels.length]);
    const y = tf.tensor4d(Int32Array.from(tv.labels), [1, ...SHAPE], "int32");
    return diceCeLoss(sm.model.predict(x) as tf.Tensor, y, 3, 1, 1e-5).dataSync()[0]!;
  });
}

const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe("fine-tuning from a saved model", () => {
  it("lowers the loss on the new volume's annotated voxels and records the parent", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const parentData = [raw(11)];
    const norm = normalisationFor(unet.channels, parentData);
    const parent = await createSegmentModel(unet, norm);
    parent.record.voxelSizeUm = [2, 2, 2];
    const pre = await trainSegmentModel(parent, parentData.map((v) => toTrainingVolume(v, norm)), { config: { patchZYX: [8, 8, 8], steps: 15, learningRate: 1e-2, oversampleBoundary: 0, validateEvery: 1000, checkpointEvery: 0 }, progress: false });
    const parentDir = join(dir, "parent");
    await saveSegmentModel(parentDir, pre.model);
    const parentWeights = sha(join(parentDir, "weights.bin"));
    const parentJson = sha(join(parentDir, "model.json"));

    // the user's scan: noisier, labels every 4th z-slice
    const user = raw(12, 0.25);
    const sparse: RawVolume = { ...user, labels: sparsifyLabels(user.labels, SHAPE, { every: 4 }), source: "user scan, every 4th slice" };
    const loaded = await loadSegmentModel(parentDir);
    const before = volumeLoss(loaded, sparse);
    const res = await fineTuneModel(parentDir, [sparse], { steps: 25, learningRate: 1e-2, config: { patchZYX: [8, 8, 8] }, train: { progress: false } });
    const after = volumeLoss(res.model, sparse);
    expect(after).toBeLessThan(before * 0.9);
    expect(res.state.step).toBe(25);

    // the parent is untouched, and named in the child's record
    expect(sha(join(parentDir, "weights.bin"))).toBe(parentWeights);
    expect(sha(join(parentDir, "model.json"))).toBe(parentJson);
    const rec = res.model.record;
    expect(rec.training.parent).toEqual({ name: "parent", fingerprint: modelFingerprint(loaded), weightsSha256: parentWeights, stepsDone: 15, data: ["synthetic seed 11"] });
    expect(rec.training.data).toEqual(["user scan, every 4th slice"]);
    expect(rec.training.normalisationFrom).toBe("parent");
    expect(rec.normalisation).toEqual(loaded.record.normalisation);
    expect(rec.training.annotated!.fraction).toBeCloseTo(4 / 16, 12);
    expect(rec.training.config).toMatchObject({ steps: 25, learningRate: 1e-2, patchZYX: [8, 8, 8] });
    expect(modelFingerprint(res.model)).not.toBe(modelFingerprint(loaded));

    // class means over annotated voxels only, computed here by hand
    const phaseMeans = [0, 1, 2].map((k) => {
      let s = 0;
      let n = 0;
      sparse.labels.forEach((l, i) => {
        if (l === k) {
          s += sparse.channels.phase![i]!;
          n++;
        }
      });
      return s / n;
    });
    recordedClassMeans(rec, "phase").forEach((m, k) => expect(m).toBeCloseTo(phaseMeans[k]!, 4));
    expect(() => recordedClassMeans(loaded.record, "phase", "parent")).toThrow(/classMeans/);

    // saved and loaded again, the record survives
    await saveSegmentModel(join(dir, "child"), res.model);
    expect((await loadSegmentModel(join(dir, "child"))).record.training.parent?.fingerprint).toBe(modelFingerprint(loaded));
  });

  it("re-estimates the normalisation from the new scan's annotated voxels when asked, and refuses labels with no annotation", { timeout: 30_000 }, async () => {
    const parent = await createSegmentModel(unet, normalisationFor(unet.channels, [raw(11)]));
    const shifted = raw(13);
    for (const c of ["phase", "absorption"] as const) shifted.channels[c] = Float32Array.from(shifted.channels[c]!, (v) => v + 5);
    const res = await fineTuneModel(parent, [shifted], { steps: 2, renormalise: true, config: { patchZYX: [8, 8, 8] }, train: { progress: false } });
    expect(res.model.record.training.normalisationFrom).toBe("re-estimated");
    expect(res.model.record.normalisation[0]!.mean).toBeCloseTo(normalisationFor(unet.channels, [shifted])[0]!.mean, 6);
    expect(res.model.record.training.parent?.name).toBe("(in memory)");
    expect(parent.record.normalisation[0]!.mean).not.toBeCloseTo(res.model.record.normalisation[0]!.mean, 1); // the parent object is not changed
    const none: RawVolume = { ...raw(14), labels: new Uint8Array(16 ** 3).fill(IGNORE_LABEL) };
    await expect(fineTuneModel(parent, [none], { steps: 1, train: { progress: false } })).rejects.toThrow(/no annotated voxel/);
  });
});

const shippedDir = join(process.cwd(), "data", "models", "unet-default");
describe.skipIf(!existsSync(join(shippedDir, "model.json")))("report baselines without the training data", () => {
  it("the shipped record's class means are those of its training data (one training volume re-rendered agrees) and name the Otsu classes", { timeout: 60_000 }, async () => {
    const sm = await loadSegmentModel(shippedDir);
    const v = twinColumnVolumes({ seed: 101, times_h: [3.2], nyx: [160, 160] })[0]!; // a training volume (seed 101, last time point)
    const own = trainingClassMeans([v], ["phase", "absorption"], 3);
    for (const ch of ["phase", "absorption"] as const) {
      const rec = recordedClassMeans(sm.record, ch, shippedDir);
      rec.forEach((m, k) => expect(Math.abs(m - own[ch]![k]!)).toBeLessThan(0.15 * Math.abs(own[ch]![0]!))); // 40 volumes vs one
    }
    const [phase, absorption] = recordedBaselines(sm.record, { phase: v.channels.phase!, absorption: v.channels.absorption! }, v.labels, shippedDir);
    expect(phase!.method).toBe("otsu-phase");
    expect(absorption!.classes[0]!.dice).toBeGreaterThan(0.9); // electrolyte is found by intensity in either channel
  });
});
