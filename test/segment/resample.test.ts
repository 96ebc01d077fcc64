/**
 * Resampling (issue 16): nearest-neighbour label round trips are exact, trilinear resampling reproduces linear
 * fields (closed form) and keeps probabilities summing to 1, and a scan at another voxel size is segmented on the
 * model's grid instead of refused, scored against the twin's truth rendered at that voxel size.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { initTf } from "../../src/segment/tf.js";
import { resampleLinear, resampleNearest, resampledShape, voxelSizesDiffer } from "../../src/segment/resample.js";
import { loadSegmentModel } from "../../src/segment/model-io.js";
import { segmentImage } from "../../src/segment/infer.js";
import { evaluateLabels } from "../../src/segment/report.js";
import { buildCellModel, presetParameters, renderBlock } from "../../src/twin/index.js";
import { OmeImage } from "../../src/volume/index.js";
import { tempDir } from "../helpers/tmp.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

describe("resampling", () => {
  it("labels: nearest-neighbour up by 2 then down by 2 gives the labels back exactly; odd factors too", () => {
    const shape: [number, number, number] = [5, 7, 6];
    const lab = Uint8Array.from({ length: 210 }, (_, i) => (i * 7919) % 4);
    const up = resampleNearest(lab, shape, [10, 14, 12]);
    expect(resampleNearest(up, [10, 14, 12], shape)).toEqual(lab);
    const up3 = resampleNearest(lab, shape, [15, 21, 18]);
    expect(resampleNearest(up3, [15, 21, 18], shape)).toEqual(lab);
    // every up-sampled voxel holds the label of the voxel it lies in: (z, y, x) -> (z/2, y/2, x/2)
    expect(up[(3 * 14 + 5) * 12 + 7]).toBe(lab[(1 * 7 + 2) * 6 + 3]);
  });

  it("intensities: a linear field is reproduced exactly inside the volume (grid aligned at the outer faces)", () => {
    const from: [number, number, number] = [6, 8, 10];
    const to: [number, number, number] = [9, 20, 15];
    const f = (z: number, y: number, x: number) => 1 + 2 * z - 0.5 * y + 0.25 * x; // in input voxel coordinates
    const src = new Float32Array(480);
    for (let z = 0, i = 0; z < 6; z++) for (let y = 0; y < 8; y++) for (let x = 0; x < 10; x++, i++) src[i] = f(z, y, x);
    const out = resampleLinear(src, from, to, { antialias: false });
    let checked = 0;
    for (let z = 0; z < to[0]; z++)
      for (let y = 0; y < to[1]; y++)
        for (let x = 0; x < to[2]; x++) {
          const c = [(z + 0.5) * (6 / 9) - 0.5, (y + 0.5) * (8 / 20) - 0.5, (x + 0.5) * (10 / 15) - 0.5];
          if (c.some((v, a) => v < 0 || v > from[a]! - 1)) continue; // clamped at the edges
          expect(out[(z * to[1] + y) * to[2] + x]).toBeCloseTo(f(c[0]!, c[1]!, c[2]!), 4);
          checked++;
        }
    expect(checked).toBeGreaterThan(1000);
  });

  it("probabilities keep summing to 1 both ways, and a smooth field survives a 2x round trip", () => {
    const shape: [number, number, number] = [8, 10, 12];
    const n = 960;
    const p = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      const a = Math.abs(Math.sin(i * 0.37));
      const b = Math.abs(Math.cos(i * 0.11)) * (1 - a);
      p[i] = a;
      p[n + i] = b;
      p[2 * n + i] = 1 - a - b;
    }
    for (const to of [[16, 20, 24], [4, 5, 6], [11, 7, 13]] as [number, number, number][]) {
      const q = resampleLinear(p, shape, to, { channels: 3 });
      const m = to[0] * to[1] * to[2];
      for (let i = 0; i < m; i++) expect(q[i]! + q[m + i]! + q[2 * m + i]!).toBeCloseTo(1, 5);
    }
    const smooth = Float32Array.from({ length: n }, (_, i) => {
      const z = Math.floor(i / 120);
      const y = Math.floor(i / 12) % 10;
      const x = i % 12;
      return Math.sin(z / 3) + Math.cos(y / 4) * Math.sin(x / 5);
    });
    const back = resampleLinear(resampleLinear(smooth, shape, [16, 20, 24]), [16, 20, 24], shape);
    let maxErr = 0;
    for (let i = 0; i < n; i++) maxErr = Math.max(maxErr, Math.abs(back[i]! - smooth[i]!));
    expect(maxErr).toBeLessThan(0.1);
    expect(maxErr).toBeGreaterThan(0); // anti-aliasing smooths: not the identity
  });

  it("grid shapes and the tolerance", () => {
    expect(resampledShape([136, 96, 96], [1, 1, 1], [2, 2, 2])).toEqual([68, 48, 48]);
    expect(resampledShape([100, 64, 64], [0.65, 0.65, 0.65], [2, 2, 2])).toEqual([33, 21, 21]);
    expect(voxelSizesDiffer([2.03, 2, 2], [2, 2, 2], 0.02)).toBe(false);
    expect(voxelSizesDiffer([2.05, 2, 2], [2, 2, 2], 0.02)).toBe(true);
  });
});

const shippedDir = join(process.cwd(), "data", "models", "unet-default");
describe.skipIf(!existsSync(join(shippedDir, "model.json")))("a scan at another voxel size (twin at 1 um, model trained at 2 um)", () => {
  it("is segmented on the model's grid (recorded) instead of refused, with Dice near the model's own at 2 um", { timeout: 120_000 }, async () => {
    const sm = await loadSegmentModel(shippedDir);
    const dir = tempDir();
    // the same microstructure (twin seed, physical units) rendered at 1 um and at 2 um, 64 um x 64 um laterally
    const render = (voxel_um: number) => {
      const p = presetParameters("default", { seed: 207, geometry: { voxel_um, nyx: [64 / voxel_um, 64 / voxel_um] }, ct: { times_h: [3.2] } });
      const m = buildCellModel(p);
      const [nz, ny, nx] = m.shapeZYX;
      return { shape: m.shapeZYX, block: renderBlock(m, 0, 3.2, [0, nz, 0, ny, 0, nx]) };
    };
    const fine = render(1);
    const coarse = render(2);
    const img = await OmeImage.create(join(dir, "fine.ome.zarr"), { channels: ["phase", "absorption"], timePointsH: [3.2], shapeZYX: fine.shape, voxelSizeUm: [1, 1, 1], dtype: "float32", chunksZYX: [64, 64, 64] });
    await img.writeVolume(0, "phase", [0, 0, 0], { data: fine.block.phase, shape: [...fine.shape] });
    await img.writeVolume(0, "absorption", [0, 0, 0], { data: fine.block.absorption, shape: [...fine.shape] });
    await expect(segmentImage(img, sm, { progress: false, voxelSizePolicy: "refuse" })).rejects.toThrow(/voxel size/);
    const stats = await segmentImage(img, sm, { progress: false, writeEntropy: true });
    expect(stats.complete).toBe(true);
    expect(stats.resampled).toMatchObject({ imageVoxelUm: [1, 1, 1], modelVoxelUm: [2, 2, 2], modelGridShapeZYX: coarse.shape });
    const lab = await img.openLabels("unet");
    expect(lab.array(0).attributes["ssb-ct-segment"]).toMatchObject({ resample: { modelVoxelUm: [2, 2, 2] } });
    const names = sm.record.unet.classes;
    const viaResample = evaluateLabels("resampled", fine.block.segmentation, (await lab.readVolume(0)).data, names);
    // the model at its own voxel size on the same microstructure (in memory, same windows)
    const coarseImg = await OmeImage.create(join(dir, "coarse.ome.zarr"), { channels: ["phase", "absorption"], timePointsH: [3.2], shapeZYX: coarse.shape, voxelSizeUm: [2, 2, 2], dtype: "float32", chunksZYX: [64, 64, 64] });
    await coarseImg.writeVolume(0, "phase", [0, 0, 0], { data: coarse.block.phase, shape: [...coarse.shape] });
    await coarseImg.writeVolume(0, "absorption", [0, 0, 0], { data: coarse.block.absorption, shape: [...coarse.shape] });
    await segmentImage(coarseImg, sm, { progress: false });
    const native = evaluateLabels("native", coarse.block.segmentation, (await (await coarseImg.openLabels("unet")).readVolume(0)).data, names);
    // the model on the scan's own grid (policy "as-is")
    const asIs = await segmentImage(img, sm, { progress: false, labelName: "ignored", voxelSizePolicy: "as-is" });
    expect(asIs.resampled).toBeNull();
    expect(asIs.voxelSizeAsIs).toMatchObject({ imageVoxelUm: [1, 1, 1], modelVoxelUm: [2, 2, 2] });
    const ignored = evaluateLabels("ignored", fine.block.segmentation, (await (await img.openLabels("ignored")).readVolume(0)).data, names);
    const d = (r: typeof native, k: number) => r.classes[k]!.dice;
    console.log(`resampled ${viaResample.classes.map((c) => c.dice.toFixed(3))} native 2 um ${native.classes.map((c) => c.dice.toFixed(3))} ignored ${ignored.classes.map((c) => c.dice.toFixed(3))}`);
    // measured (seed 207): resampled 0.991 / 0.767 / 0.984, native 0.995 / 0.870 / 0.991, ignored 0.994 / 0.934 / 0.989.
    // Voids lose most: labels made on the 2 um grid miss the 1 um truth's detail (partial volume). That running the
    // model on the 1 um grid as it is scores better on voids here is a finding about this twin (its blur is set in
    // um, so the finer scan is sharper), recorded in plans.ts `VoxelSizePolicy`, not a property this test asserts.
    expect(d(viaResample, 0)).toBeGreaterThan(0.985);
    expect(d(viaResample, 2)).toBeGreaterThan(d(native, 2) - 0.03);
    expect(d(viaResample, 1)).toBeGreaterThan(d(native, 1) - 0.15);
    expect(d(ignored, 0)).toBeGreaterThan(0.98); // the comparison ran
  });
});
