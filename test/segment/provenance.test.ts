/**
 * Labels are only ever read as the labels of the image they were computed from, and only when finished:
 *  - regenerating the twin into a segmented store, then segmenting again, never keeps the old volume's labels
 *    (the issue: every chunk skipped, void Dice 0.003, even with another shape and time count);
 *  - an image edited since it was segmented is neither resumed onto nor analysed with the old labels;
 *  - an aborted segmentation (NaNs) is refused by the analysis by name, unless allowIncomplete is set;
 *  - a full disk in the middle of a segmentation leaves the complete labels readable and the new ones refused,
 *    and a rerun with space finishes them.
 * Engines here are pointwise (class from the voxel value), so the right labels are known exactly.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyseOperando, labelImageComponents, type OperandoOptions } from "../../src/analysis/index.js";
import type { SegmentEngine } from "../../src/segment/engines.js";
import { segmentImage } from "../../src/segment/infer.js";
import { createSegmentModel, type SegmentModel } from "../../src/segment/model-io.js";
import { DEFAULT_UNET, type UNetConfig } from "../../src/segment/plans.js";
import { initTf } from "../../src/segment/tf.js";
import { generateTwin, presetParameters } from "../../src/twin/index.js";
import { OmeImage, type CodecSpec } from "../../src/volume/index.js";
import { canMount } from "../helpers/mount.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-provenance-");
const cfg: UNetConfig = { ...DEFAULT_UNET, depth: 2, baseFilters: 4, seed: 7 };
let sm: SegmentModel;
beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
  sm = await createSegmentModel(cfg); // identity normalisation: the engine sees the stored values
});

/** Probabilities from the first input channel (phase) alone: one-hot-ish at round(value), clamped to 0..2. */
function pointwise(classOf: (v: number) => number): SegmentEngine {
  return {
    name: "pointwise",
    channels: 2,
    classes: 3,
    async predict(input, [d, h, w]) {
      const n = d * h * w;
      const out = new Float32Array(3 * n).fill(0.05);
      for (let i = 0; i < n; i++) out[classOf(input[i]!) * n + i] = 0.9;
      return out;
    },
    async dispose() {},
  };
}
const byCode = pointwise((v) => Math.max(0, Math.min(2, Math.round(v))));
const bySign = pointwise((v) => (v > 0.5 ? 0 : v > 0 ? 1 : 2));

// A cell with known geometry (z, y, x): plating electrode z < 4, counter electrode z >= 37, two voids, a deposit at t >= 1.
const SHAPE: [number, number, number] = [40, 16, 20];
const CHUNKS: [number, number, number] = [8, 8, 8];
const PATCH: [number, number, number] = [8, 8, 8];
const TIMES = [0, 1, 2];
const EXPERIMENT = { currentDensity_mA_cm2: 0.8, electrodeArea_cm2: 0.0314, platingElectrode: "top" as const };
const OPTS: OperandoOptions = { experiment: EXPERIMENT, connectivity: 6, binWidth_um: 2, progress: false };
type Box = [number, number, number, number, number, number];

function classesAt(t: number): Uint8Array {
  const [Z, Y, X] = SHAPE;
  const d = new Uint8Array(Z * Y * X);
  const put = (b: Box, v: number) => {
    for (let z = b[0]; z < b[1]; z++) for (let y = b[2]; y < b[3]; y++) for (let x = b[4]; x < b[5]; x++) d[(z * Y + y) * X + x] = v;
  };
  put([0, 4, 0, Y, 0, X], 2);
  put([37, Z, 0, Y, 0, X], 2);
  put([20, 23, 2, 5, 3, 6], 1);
  put([12, 14, 10, 12, 12, 16], 1);
  if (t >= 1) put([20, 23 + t, 2, 5, 7, 10], 2);
  return d;
}

/** An image whose phase channel holds the class codes (and truth labels, untracked, for comparison). */
async function cell(path: string, options: { nanAt?: { t: number; index: number }; codec?: CodecSpec } = {}): Promise<OmeImage> {
  const img = await OmeImage.create(path, { channels: ["absorption", "phase"], timePointsH: TIMES, shapeZYX: SHAPE, voxelSizeUm: [0.5, 0.5, 0.5], dtype: "float32", chunksZYX: CHUNKS, experiment: EXPERIMENT, codec: options.codec });
  const truth = await img.createLabels("truth", { classes: sm.record.classes, chunksZYX: CHUNKS });
  for (const t of TIMES.keys()) {
    const codes = classesAt(t);
    const phase = Float32Array.from(codes);
    if (options.nanAt?.t === t) phase[options.nanAt.index] = NaN;
    await img.writeVolume(t, "phase", [0, 0, 0], { data: phase, shape: SHAPE });
    await img.writeVolume(t, "absorption", [0, 0, 0], { data: new Float32Array(codes.length).fill(1), shape: SHAPE });
    await truth.writeVolume(t, [0, 0, 0], { data: codes, shape: SHAPE });
  }
  return img;
}

async function labelsOf(img: OmeImage, name: string): Promise<number[][]> {
  const lab = await img.openLabels(name);
  const out: number[][] = [];
  for (let t = 0; t < img.timePointsH.length; t++) out.push(Array.from((await lab.readVolume(t)).data));
  return out;
}

describe("labels of a regenerated or edited image are never kept", () => {
  it("twin regenerated into a segmented store (another seed, shape and time count): labels/unet goes, segmenting again skips nothing", async () => {
    const store = join(dir, "twin.ome.zarr");
    const seg = { patchZYX: [16, 16, 16] as [number, number, number], engineInstance: bySign, progress: false as const };
    await generateTwin(presetParameters("ci", { seed: 1 }), store, { progress: false, overwrite: true });
    const first = await segmentImage(await OmeImage.open(store), sm, seg);

    await generateTwin(presetParameters("ci", { seed: 2, geometry: { nyx: [40, 40] }, ct: { times_h: [0, 3.2] } }), store, { progress: false, overwrite: true });
    const img = await OmeImage.open(store);
    expect(await img.labelNames()).toEqual(["material", "segmentation"]); // the old volume's labels/unet is gone
    const again = await segmentImage(img, sm, seg);
    expect(again.chunksSkipped).toBe(0);
    expect(first.complete && again.complete).toBe(true);
    const lab = await img.openLabels("unet");
    expect(lab.shapeZYX).toEqual(img.shapeZYX);
    expect(lab.timePointsH).toEqual([0, 3.2]);
    expect(lab.status().state).toBe("complete");
    await segmentImage(img, sm, { ...seg, labelName: "fresh" });
    expect(await labelsOf(img, "unet")).toEqual(await labelsOf(img, "fresh"));
  });

  it("an image edited since it was segmented: the labels are refused as stale by name, and a resumed segmentation starts over", async () => {
    const img = await cell(join(dir, "edited.ome.zarr"));
    const seg = { patchZYX: PATCH, engineInstance: byCode, progress: false as const };
    await segmentImage(img, sm, seg);
    expect((await analyseOperando(await img.openLabels("unet"), OPTS)).notes).toEqual([]);

    // Another reconstruction of t = 2 written into the same store (the deposit has grown by two more layers).
    const codes = classesAt(2);
    for (let z = 25; z < 27; z++) for (let y = 2; y < 5; y++) for (let x = 7; x < 10; x++) codes[(z * SHAPE[1] + y) * SHAPE[2] + x] = 2;
    const noisy = Float32Array.from(codes, (c, i) => c + 0.01 * Math.sin(i)); // other chunk sizes on disk
    await img.writeVolume(2, "phase", [0, 0, 0], { data: noisy, shape: SHAPE });

    const old = await img.openLabels("unet");
    await expect(analyseOperando(old, OPTS)).rejects.toThrow(/label image "unet" is stale; path: .*labels\/unet; expected: .*; got: computed from another image: image level-0 array/);
    await expect(labelImageComponents(old, 0, { connectivity: 6, className: "void" })).rejects.toThrow(/"unet" is stale/);
    expect(old.status().state).toBe("stale");

    const redo = await segmentImage(img, sm, seg);
    expect(redo.chunksSkipped).toBe(0);
    expect(redo.replaced).toMatch(/the image changed since it was segmented: image level-0 array/);
    expect((await labelsOf(img, "unet"))[2]).toEqual(Array.from(codes));
    expect((await img.openLabels("unet")).status().state).toBe("complete");
  });
});

describe("an unfinished segmentation is refused by the analysis", () => {
  it("aborted by NaNs: refused by name (allowIncomplete reads it with a note); finished, it gives the truth's numbers", async () => {
    const [Z, Y, X] = SHAPE;
    const img = await cell(join(dir, "aborted.ome.zarr"), { nanAt: { t: 2, index: ((Z - 1) * Y + Y - 1) * X + X - 1 } });
    const seg = { patchZYX: PATCH, engineInstance: byCode, progress: false as const };
    await expect(segmentImage(img, sm, seg)).rejects.toThrow(/non-finite value in input volume/);

    const lab = await img.openLabels("unet");
    await expect(analyseOperando(lab, OPTS)).rejects.toThrow(/label image "unet" is incomplete; path: .*labels\/unet; expected: .*allowIncomplete.*; got: no completion record .* \d+ of 90 chunks written/);
    await expect(labelImageComponents(lab, 0, { connectivity: 6, className: "void" })).rejects.toThrow(/label image "unet" is incomplete/);
    const anyway = await analyseOperando(lab, { ...OPTS, allowIncomplete: true });
    expect(anyway.notes.join(" ")).toMatch(/label image "unet" is incomplete .*read anyway/);

    // The reconstruction fixed, the job finishes (resumed, or redone if the fix changed the image's listing).
    const phase = Float32Array.from(classesAt(2));
    await img.writeVolume(2, "phase", [0, 0, 0], { data: phase, shape: SHAPE });
    const done = await segmentImage(img, sm, seg);
    expect(done.complete).toBe(true);
    const res = await analyseOperando(await img.openLabels("unet"), OPTS);
    expect(res.notes).toEqual([]);
    const truth = await analyseOperando(await img.openLabels("truth"), OPTS);
    expect(res.timeSeries).toEqual(truth.timeSeries);
    expect(res.nucleation).toEqual(truth.nucleation);
  });
});

const full = join(dir, "full");
let isMounted = false;
afterAll(() => {
  if (isMounted) spawnSync("umount", ["-l", full]);
});

function tempFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.includes(".tmp-")) out.push(join(d, e.name));
      if (e.isDirectory()) walk(join(d, e.name));
    }
  };
  walk(root);
  return out;
}

describe("a full disk", () => {
  it.skipIf(!canMount(dir))("in the middle of a segmentation: one clear error, complete labels stay readable, the new ones are refused, a rerun finishes", async () => {
    mkdirSync(full, { recursive: true });
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", full]).status).toBe(0);
    isMounted = true;
    const path = join(full, "cell.ome.zarr");
    const img = await cell(path);
    const seg = { patchZYX: PATCH, engineInstance: byCode, progress: false as const };
    await segmentImage(img, sm, seg);
    const before = await labelsOf(img, "unet");

    // Fill the disk but for room for the new label image's metadata and a chunk or two.
    const fs = statfsSync(full);
    writeFileSync(join(full, "filler"), Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - 64 * 1024)));
    const err = await segmentImage(img, sm, { ...seg, labelName: "big", writeProbabilities: true, writeEntropy: true }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/the disk is full: the dataset could not be written; path: .*cell\.ome\.zarr.*got: ENOSPC/);
    expect(tempFiles(path)).toEqual([]);

    const again = await OmeImage.open(path);
    const unet = await again.openLabels("unet");
    expect(await labelsOf(again, "unet")).toEqual(before);
    expect((await analyseOperando(unet, OPTS)).notes).toEqual([]);
    expect(unet.status().state).toBe("complete");
    // The unfinished label image: refused, its finished chunks kept for the rerun.
    const big = await again.openLabels("big");
    expect(big.status().state).toBe("incomplete");
    await expect(analyseOperando(big, OPTS)).rejects.toThrow(/label image "big" is incomplete/);
    const arr = big.array(0);
    const kept = arr.chunksOverlapping(arr.fullSelection()).filter((c) => arr.hasChunk(c)).length;

    rmSync(join(full, "filler"));
    const finished = await segmentImage(again, sm, { ...seg, labelName: "big", writeProbabilities: true, writeEntropy: true });
    expect(finished.complete).toBe(true);
    expect(finished.chunksSkipped).toBe(kept);
    expect(await labelsOf(again, "big")).toEqual(before);
  });
});
