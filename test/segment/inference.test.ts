import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OmeImage, ZarrArray } from "../../src/volume/index.js";
import { VolumeError } from "../../src/util/errors.js";
import { initTf } from "../../src/segment/tf.js";
import { DEFAULT_UNET, type UNetConfig } from "../../src/segment/plans.js";
import { createSegmentModel, type SegmentModel } from "../../src/segment/model-io.js";
import { createOnnxEngine, type SegmentEngine } from "../../src/segment/engines.js";
import { segmentImage } from "../../src/segment/infer.js";
import { gaussianImportance, windowGrid, windowStarts } from "../../src/segment/sliding-window.js";
import { syntheticVolume } from "../helpers/synthetic.js";
import { predictVolume, volumeConfusion } from "../../src/segment/predict-volume.js";
import { toTrainingVolume } from "../../src/segment/data.js";

let root: string;
beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
  root = mkdtempSync(join(tmpdir(), "ssbct-seg-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SHAPE: [number, number, number] = [20, 28, 24];
const CHUNKS: [number, number, number] = [8, 12, 10];
const PATCH: [number, number, number] = [8, 12, 8];
const cfg: UNetConfig = { ...DEFAULT_UNET, depth: 2, baseFilters: 4, seed: 7 };

async function makeImage(name: string, opts: { channels?: string[]; voxel?: [number, number, number]; nanAt?: number } = {}): Promise<OmeImage> {
  const syn = syntheticVolume({ shapeZYX: SHAPE, seed: 3 });
  const channels = opts.channels ?? ["absorption", "phase"];
  const img = await OmeImage.create(join(root, name), { channels, timePointsH: [0, 1], shapeZYX: SHAPE, voxelSizeUm: opts.voxel ?? [1, 1, 1], dtype: "float32", chunksZYX: CHUNKS });
  for (const t of [0, 1])
    for (const c of channels) {
      const data = Float32Array.from(syn.channels[c as "phase" | "absorption"], (v) => v * (1 + 0.1 * t));
      if (opts.nanAt !== undefined && t === 0) data[opts.nanAt] = NaN;
      await img.writeVolume(t, c, [0, 0, 0], { data, shape: SHAPE });
    }
  return img;
}

/** Whole-volume nnU-Net blending in memory, written independently of the chunked implementation. */
async function reference(img: OmeImage, sm: SegmentModel, engine: SegmentEngine, t: number): Promise<{ labels: Uint8Array; probs: Float32Array }> {
  const [Z, Y, X] = SHAPE;
  const n = Z * Y * X;
  const acc = new Float64Array(3 * n);
  const wsum = new Float64Array(n);
  const g = gaussianImportance(PATCH, 1 / 8);
  const vols = await Promise.all(sm.record.unet.channels.map(async (c) => (await img.readVolume(t, c)).data as Float32Array));
  const pv = PATCH[0] * PATCH[1] * PATCH[2];
  for (const [z0, y0, x0] of windowGrid(SHAPE, PATCH, 0.5)) {
    const inp = new Float32Array(vols.length * pv);
    for (let c = 0; c < vols.length; c++)
      for (let z = 0; z < PATCH[0]; z++) for (let y = 0; y < PATCH[1]; y++) for (let x = 0; x < PATCH[2]; x++) inp[c * pv + (z * PATCH[1] + y) * PATCH[2] + x] = vols[c]![((z0 + z) * Y + y0 + y) * X + x0 + x]!;
    const p = await engine.predict(inp, PATCH);
    for (let z = 0; z < PATCH[0]; z++)
      for (let y = 0; y < PATCH[1]; y++)
        for (let x = 0; x < PATCH[2]; x++) {
          const i = (z * PATCH[1] + y) * PATCH[2] + x;
          const o = ((z0 + z) * Y + y0 + y) * X + x0 + x;
          wsum[o]! += g[i]!;
          for (let k = 0; k < 3; k++) acc[k * n + o]! += g[i]! * p[k * pv + i]!;
        }
  }
  const labels = new Uint8Array(n);
  const probs = new Float32Array(3 * n);
  for (let o = 0; o < n; o++) {
    let b = 0;
    for (let k = 0; k < 3; k++) {
      probs[k * n + o] = acc[k * n + o]! / wsum[o]!;
      if (acc[k * n + o]! > acc[b * n + o]!) b = k;
    }
    labels[o] = b;
  }
  return { labels, probs };
}

describe("window geometry", () => {
  it("covers the axis with at least 50 % overlap, first window at 0, last flush with the end", () => {
    for (const [size, patch] of [[100, 32], [64, 64], [65, 32], [20, 8], [5, 8]] as const) {
      const s = windowStarts(size, patch, 0.5);
      expect(s[0]).toBe(0);
      if (size >= patch) expect(s[s.length - 1]! + patch).toBe(size);
      for (let i = 1; i < s.length; i++) expect(s[i]! - s[i - 1]!).toBeLessThanOrEqual(patch / 2);
    }
  });

  it("Gaussian importance: max 1 at the centre, exp(-1/2) one sigma away (sigma = patch/8)", () => {
    const g = gaussianImportance([17, 17, 33], 1 / 8);
    const at = (z: number, y: number, x: number) => g[(z * 17 + y) * 33 + x]!;
    expect(at(8, 8, 16)).toBeCloseTo(1, 6);
    expect(at(8 + 2, 8, 16)).toBeCloseTo(Math.exp(-0.5 * (2 / (17 / 8)) ** 2), 5);
    expect(at(8, 8, 16 + 4)).toBeCloseTo(Math.exp(-0.5 * (4 / (33 / 8)) ** 2), 5);
    expect(Math.min(...g)).toBeGreaterThan(0);
  });
});

describe("sliding-window segmentation into labels/", () => {
  it("equals whole-volume in-memory blending, for both time points", async () => {
    const img = await makeImage("ref.ome.zarr");
    const sm = await createSegmentModel(cfg);
    const engine = await createOnnxEngine(sm, { intraOpThreads: 1 });
    const stats = await segmentImage(img, sm, { patchZYX: PATCH, engineInstance: engine, writeProbabilities: true, writeEntropy: true, progress: false });
    expect(stats.chunksWritten).toBe(3 * 3 * 3 * 2);
    const lab = await img.openLabels("unet");
    expect(lab.classes.map((c) => c.name)).toEqual(["electrolyte", "void", "lithium"]);
    const probArr = await ZarrArray.openAs(join(lab.path, "probabilities"), "float32");
    const entArr = await ZarrArray.openAs(join(lab.path, "entropy"), "float32");
    for (const t of [0, 1]) {
      const ref = await reference(img, sm, engine, t);
      const got = (await lab.readVolume(t)).data;
      expect(Array.from(got)).toEqual(Array.from(ref.labels));
      expect(new Set(ref.labels).size).toBeGreaterThan(1);
      const p = (await probArr.read([[t, t + 1], [0, 3], [0, SHAPE[0]], [0, SHAPE[1]], [0, SHAPE[2]]])).data;
      let m = 0;
      for (let i = 0; i < p.length; i++) m = Math.max(m, Math.abs(p[i]! - ref.probs[i]!));
      expect(m).toBeLessThan(1e-5);
      const e = (await entArr.read([[t, t + 1], [0, 1], [0, SHAPE[0]], [0, SHAPE[1]], [0, SHAPE[2]]])).data;
      const n = e.length;
      for (let i = 0; i < n; i += 37) {
        let h = 0;
        for (let k = 0; k < 3; k++) h -= ref.probs[k * n + i]! * Math.log(ref.probs[k * n + i]!);
        expect(e[i]).toBeCloseTo(h, 4);
      }
    }
    await engine.dispose();
  });

  it("predictVolume (in memory, used for whole-volume validation) gives the same labels as segmentImage", async () => {
    const img = await makeImage("predict-volume.ome.zarr");
    const sm = await createSegmentModel(cfg);
    const engine = await createOnnxEngine(sm, { intraOpThreads: 1 });
    await segmentImage(img, sm, { patchZYX: PATCH, engineInstance: engine, progress: false });
    const want = (await (await img.openLabels("unet")).readVolume(1)).data;
    const channels = Object.fromEntries(await Promise.all(sm.record.unet.channels.map(async (c) => [c, (await img.readVolume(1, c)).data] as const)));
    const vol = toTrainingVolume({ shapeZYX: SHAPE, channels, labels: Uint8Array.from(want), source: "test" }, sm.record.normalisation);
    const got = await predictVolume(engine, vol, { patchZYX: PATCH });
    expect(Array.from(got)).toEqual(Array.from(want));
    // scored against its own labels the confusion matrix is diagonal
    const conf = await volumeConfusion(engine, [vol], { patchZYX: PATCH });
    expect(conf.flat().reduce((a, b) => a + b, 0)).toBe(want.length);
    expect(conf[0]![1]! + conf[0]![2]! + conf[1]![0]! + conf[1]![2]! + conf[2]![0]! + conf[2]![1]!).toBe(0);
    await engine.dispose();
  });

  it("a pointwise predictor comes out unchanged by the blending (closed form)", async () => {
    const img = await makeImage("pointwise.ome.zarr");
    const sm = await createSegmentModel(cfg);
    // probabilities = softmax([v, -v, 0]) of the first input channel's value v: window-independent
    const pointwise = (v: number): number[] => {
      const e = [Math.exp(v), Math.exp(-v), 1];
      const s = e[0]! + e[1]! + e[2]!;
      return e.map((x) => x / s);
    };
    const engine: SegmentEngine = {
      name: "pointwise",
      channels: 2,
      classes: 3,
      async predict(input, [d, h, w]) {
        const n = d * h * w;
        const out = new Float32Array(3 * n);
        for (let i = 0; i < n; i++) pointwise(input[i]!).forEach((p, k) => (out[k * n + i] = p));
        return out;
      },
      async dispose() {},
    };
    await segmentImage(img, sm, { patchZYX: PATCH, engineInstance: engine, writeProbabilities: true, progress: false, labelName: "pw" });
    const lab = await img.openLabels("pw");
    const probs = (await ZarrArray.openAs(join(lab.path, "probabilities"), "float32").then((a) => a.read([[0, 1], [0, 3], [0, SHAPE[0]], [0, SHAPE[1]], [0, SHAPE[2]]]))).data;
    const phase = (await img.readVolume(0, "phase")).data as Float32Array; // model channel order: phase first
    const n = phase.length;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const want = pointwise(phase[i]!);
      for (let k = 0; k < 3; k++) m = Math.max(m, Math.abs(probs[k * n + i]! - want[k]!));
    }
    expect(m).toBeLessThan(2e-6);
  });

  it("restarts where it stopped, skips finished chunks, and never leaves a label chunk that differs from a full run", async () => {
    const img = await makeImage("restart.ome.zarr");
    const sm = await createSegmentModel(cfg);
    const real = await createOnnxEngine(sm, { intraOpThreads: 1 });
    await segmentImage(img, sm, { patchZYX: PATCH, engineInstance: real, labelName: "full", progress: false });
    const full = [(await (await img.openLabels("full")).readVolume(0)).data, (await (await img.openLabels("full")).readVolume(1)).data];

    // a job that dies in the middle of a chunk (the engine fails on its 30th window)
    let calls = 0;
    const flaky: SegmentEngine = { ...real, predict: async (x, s) => { if (++calls === 30) throw new Error("killed"); return real.predict(x, s); }, dispose: async () => {} };
    await expect(segmentImage(img, sm, { patchZYX: PATCH, engineInstance: flaky, labelName: "job", progress: false })).rejects.toThrow("killed");
    const arr = (await img.openLabels("job")).array(0);
    let present = 0;
    for (let iz = 0; iz < 3; iz++)
      for (let iy = 0; iy < 3; iy++)
        for (let ix = 0; ix < 3; ix++) {
          if (!arr.hasChunk([0, 0, iz, iy, ix])) continue;
          present++;
          const sel: [number, number][] = [[iz * 8, Math.min(20, iz * 8 + 8)], [iy * 12, Math.min(28, iy * 12 + 12)], [ix * 10, Math.min(24, ix * 10 + 10)]];
          const part = (await (await img.openLabels("job")).readVolume(0, { selection: sel })).data;
          let k = 0;
          for (let z = sel[0]![0]; z < sel[0]![1]; z++) for (let y = sel[1]![0]; y < sel[1]![1]; y++) for (let x = sel[2]![0]; x < sel[2]![1]; x++) expect(part[k++]).toBe(full[0]![(z * 28 + y) * 24 + x]);
        }
    expect(present).toBeGreaterThan(0);
    expect(present).toBeLessThan(27);

    const resumed = await segmentImage(img, sm, { patchZYX: PATCH, engineInstance: real, labelName: "job", progress: false });
    expect(resumed.chunksSkipped).toBe(present);
    expect(resumed.chunksWritten).toBe(54 - present);
    for (const t of [0, 1]) expect(Array.from((await (await img.openLabels("job")).readVolume(t)).data)).toEqual(Array.from(full[t]!));

    // no cache at all: windows shared by chunks are recomputed, the labels do not change
    const noCache = await segmentImage(img, sm, { patchZYX: PATCH, engineInstance: real, labelName: "nocache", cacheMiB: 0, progress: false });
    expect(noCache.windowsPredicted).toBeGreaterThan(noCache.windowsTotal);
    for (const t of [0, 1]) expect(Array.from((await (await img.openLabels("nocache")).readVolume(t)).data)).toEqual(Array.from(full[t]!));

    // different settings: nothing may be reused
    const other = await segmentImage(img, sm, { patchZYX: PATCH, overlap: 0.25, engineInstance: real, labelName: "job", progress: false });
    expect(other.chunksSkipped).toBe(0);
    await real.dispose();
  });

  it("rejects a volume without the model's channels, with another voxel size, or with NaNs", async () => {
    const sm = await createSegmentModel(cfg);
    const absOnly = await makeImage("abs.ome.zarr", { channels: ["absorption"] });
    const err = await segmentImage(absOnly, sm, { patchZYX: PATCH, progress: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeError);
    expect(String((err as Error).message)).toMatch(/channels.*phase/);

    sm.record.voxelSizeUm = [0.65, 0.65, 0.65];
    const coarse = await makeImage("coarse.ome.zarr", { voxel: [1.3, 1.3, 1.3] });
    await expect(segmentImage(coarse, sm, { patchZYX: PATCH, progress: false, voxelSizePolicy: "refuse" })).rejects.toThrow(/voxel size.*0\.65.*1\.3/);
    sm.record.voxelSizeUm = null;

    // NaN in the last chunk row: the chunks before it are written, the chunk with the NaN is not
    const nanIndex = (18 * 28 + 26) * 24 + 22;
    const bad = await makeImage("nan.ome.zarr", { nanAt: nanIndex });
    await expect(segmentImage(bad, sm, { patchZYX: PATCH, progress: false })).rejects.toThrow(/non-finite.*phase|non-finite.*absorption/);
    const arr = (await bad.openLabels("unet")).array(0);
    expect(arr.hasChunk([0, 0, 0, 0, 0])).toBe(true);
    expect(arr.hasChunk([0, 0, 2, 2, 2])).toBe(false);

    // a label image the segmenter did not write (ground truth) is never replaced by accident
    await bad.createLabels("truth", { dtype: "uint8" });
    await expect(segmentImage(bad, sm, { patchZYX: PATCH, labelName: "truth", progress: false })).rejects.toThrow(/not written by the segmenter/);
  });
});
