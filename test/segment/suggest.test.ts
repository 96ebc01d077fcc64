/**
 * Annotation suggestions from the model's uncertainty (issue 16): the ranking itself (closed-form cases), and on a
 * twin column of the harder scan the suggested slices hold more of the shipped model's errors than a typical slice
 * (checked against the twin's truth), through the whole store path (segment with entropy, then rank).
 */
import { describe, expect, it, beforeAll } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { initTf } from "../../src/segment/tf.js";
import { annotatedSlices, entropyOf, rankBoxes, rankSlices, suggestAnnotations } from "../../src/segment/suggest.js";
import { loadSegmentModel } from "../../src/segment/model-io.js";
import { twinColumnVolumes } from "../../src/segment/tutorial-data.js";
import { harderScanOverrides } from "../../src/segment/adapt-data.js";
import { sparsifyLabels } from "../../src/segment/sparse-labels.js";
import { writeAnnotationLabels } from "../../src/volume/import/labels.js";
import { DEFAULT_CLASSES, IGNORE_LABEL } from "../../src/segment/plans.js";
import { OmeImage } from "../../src/volume/index.js";
import { tempDir } from "../helpers/tmp.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

describe("ranking", () => {
  it("entropy of probabilities, slices by mean entropy with separation and exclusion, boxes by mean entropy", () => {
    expect(entropyOf(Float32Array.from([1, 0.5, 0, 0.5]), 2)).toEqual(Float32Array.from([0, Math.log(2)]));
    const shape: [number, number, number] = [10, 2, 2];
    const e = new Float32Array(40);
    const perSlice = [0.1, 0.9, 0.8, 0.2, 0.7, 0.05, 0.6, 0.3, 0.0, 0.4];
    perSlice.forEach((v, z) => e.fill(v, z * 4, z * 4 + 4));
    expect(rankSlices(e, shape, { top: 3, minSeparation: 0 }).map((s) => s.z)).toEqual([1, 2, 4]);
    expect(rankSlices(e, shape, { top: 3, minSeparation: 1 }).map((s) => s.z)).toEqual([1, 4, 6]); // 2 is next to 1
    expect(rankSlices(e, shape, { top: 2, minSeparation: 1, exclude: [4] }).map((s) => s.z)).toEqual([1, 6]);
    expect(rankSlices(e, shape, { top: 1, minSeparation: 0, uncertainEntropy: 0.5 })[0]).toEqual({ z: 1, meanEntropy: expect.closeTo(0.9, 6), uncertainVoxels: 4 });
    const boxes = rankBoxes(e, shape, { boxZYX: [4, 2, 2], top: 3 });
    expect(boxes.map((b) => b.start[0])).toEqual([0, 4, 8]);
    expect(boxes[0]!.meanEntropy).toBeCloseTo(0.5, 6);
    expect(boxes[2]!.size).toEqual([2, 2, 2]); // clipped at the end of the volume
    const lab = new Uint8Array(40).fill(IGNORE_LABEL);
    lab[13] = 0;
    lab[30] = 2;
    expect(annotatedSlices(lab, shape)).toEqual([3, 7]);
  });
});

const shippedDir = join(process.cwd(), "data", "models", "unet-default");
describe.skipIf(!existsSync(join(shippedDir, "model.json")))("on a twin column of the harder scan", () => {
  it("the suggested slices hold more misclassified voxels than the median slice, and annotated slices are left out", { timeout: 120_000 }, async () => {
    const sm = await loadSegmentModel(shippedDir);
    const v = twinColumnVolumes({ seed: 305, times_h: [3.2], overrides: harderScanOverrides() })[0]!;
    const dir = tempDir();
    const img = await OmeImage.create(join(dir, "col.ome.zarr"), { channels: ["phase", "absorption"], timePointsH: [3.2], shapeZYX: v.shapeZYX, voxelSizeUm: [2, 2, 2], dtype: "float32", chunksZYX: [64, 96, 96] });
    for (const c of ["phase", "absorption"] as const) await img.writeVolume(0, c, [0, 0, 0], { data: v.channels[c]!, shape: [...v.shapeZYX] });
    const ann = sparsifyLabels(v.labels, v.shapeZYX, { every: 16 });
    await writeAnnotationLabels(img, "annotated", () => ann, { kind: "test" }, DEFAULT_CLASSES.map((c) => ({ ...c })), false);
    const res = await suggestAnnotations(img, sm, { top: 8, annotations: "annotated", segment: { progress: false } });
    expect(res.annotatedSlices).toEqual(annotatedSlices(ann, v.shapeZYX));
    for (const s of res.slices) for (const a of res.annotatedSlices) expect(Math.abs(s.z - a)).toBeGreaterThan(2);
    expect(res.slices).toHaveLength(8);
    expect(res.boxes[0]!.meanEntropy).toBeGreaterThanOrEqual(res.boxes[res.boxes.length - 1]!.meanEntropy);
    // independent truth: errors of the model's labels per slice
    const pred = (await (await img.openLabels("unet")).readVolume(0)).data;
    const plane = v.shapeZYX[1] * v.shapeZYX[2];
    const errors = Array.from({ length: v.shapeZYX[0] }, (_, z) => {
      let n = 0;
      for (let i = z * plane; i < (z + 1) * plane; i++) if (pred[i] !== v.labels[i]) n++;
      return n;
    });
    const median = [...errors].sort((a, b) => a - b)[errors.length >> 1]!;
    const suggested = res.slices.reduce((s, x) => s + errors[x.z]!, 0) / res.slices.length;
    console.log(`errors per slice: suggested ${suggested.toFixed(1)}, median ${median}, max ${Math.max(...errors)}`);
    expect(suggested).toBeGreaterThan(3 * Math.max(1, median));
  });
});
