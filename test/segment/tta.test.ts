/**
 * Mirroring test-time augmentation (issue 16): mirroring is an involution, the wrapped engine averages the
 * un-mirrored predictions of every mirror combination (checked against a closed form on a position-dependent fake
 * engine), and segmentImage records it in the job so labels with and without it are never mixed.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { join } from "node:path";
import { initTf } from "../../src/segment/tf.js";
import { mirrorChannels, mirrorCombinations, mirrorEngine } from "../../src/segment/tta.js";
import type { SegmentEngine } from "../../src/segment/engines.js";
import { createSegmentModel } from "../../src/segment/model-io.js";
import { segmentImage } from "../../src/segment/infer.js";
import { DEFAULT_UNET, TTA_MIRROR_AXES } from "../../src/segment/plans.js";
import { OmeImage } from "../../src/volume/index.js";
import { tempDir } from "../helpers/tmp.js";
import { syntheticVolume } from "../helpers/synthetic.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
});

describe("mirroring test-time augmentation", () => {
  it("mirroring twice is the identity; combinations are 2^axes with the identity first", () => {
    const shape: [number, number, number] = [3, 4, 5];
    const a = Float32Array.from({ length: 2 * 60 }, (_, i) => i);
    const b = new Float32Array(a.length);
    const c = new Float32Array(a.length);
    mirrorChannels(a, b, 2, shape, [true, false, true]);
    expect(b[0]).toBe(a[(2 * 4 + 0) * 5 + 4]); // (0,0,0) <- (2,0,4)
    mirrorChannels(b, c, 2, shape, [true, false, true]);
    expect(c).toEqual(a);
    expect(mirrorCombinations(TTA_MIRROR_AXES)).toHaveLength(8);
    expect(mirrorCombinations(["x"])).toEqual([[false, false, false], [false, false, true]]);
    expect(() => mirrorCombinations(["w" as "x"])).toThrow(/mirror axis/);
  });

  it("averages the un-mirrored predictions: closed form for an engine whose output depends on position", async () => {
    const shape: [number, number, number] = [2, 3, 4];
    // class-1 probability = (z + y + x) / 10 of the input position it sees, plus 0.1 x the input value
    const calls: number[] = [];
    const fake: SegmentEngine = {
      name: "fake",
      channels: 1,
      classes: 2,
      async predict(input, [d, h, w]) {
        calls.push(1);
        const n = d * h * w;
        const out = new Float32Array(2 * n);
        for (let z = 0, i = 0; z < d; z++)
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++, i++) {
              const p = (z + y + x) / 10 + 0.1 * input[i]!;
              out[n + i] = p;
              out[i] = 1 - p;
            }
        return out;
      },
      async dispose() {},
    };
    const input = Float32Array.from({ length: 24 }, (_, i) => (i % 5) / 5);
    const tta = mirrorEngine(fake, ["y", "x"]);
    const got = await tta.predict(input, shape);
    expect(calls).toHaveLength(4);
    // mirrored along y and/or x, the engine sees position (z, h-1-y, x) etc.; un-mirrored the value term stays put:
    // mean over the 4 of position terms = (z + (y + h-1-y)/2 + (x + w-1-x)/2) / 10
    for (let z = 0, i = 0; z < 2; z++)
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 4; x++, i++) {
          const want = (z + (3 - 1) / 2 + (4 - 1) / 2) / 10 + 0.1 * input[i]!;
          expect(got[24 + i]).toBeCloseTo(want, 6);
          expect(got[i]! + got[24 + i]!).toBeCloseTo(1, 6);
        }
  });

  it("segmentImage with tta records it and replaces labels made without it", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const shape: [number, number, number] = [16, 16, 16];
    const syn = syntheticVolume({ shapeZYX: shape, seed: 4 });
    const img = await OmeImage.create(join(dir, "t.ome.zarr"), { channels: ["phase", "absorption"], timePointsH: [0], shapeZYX: shape, voxelSizeUm: [1, 1, 1], dtype: "float32", chunksZYX: [16, 16, 16] });
    for (const c of ["phase", "absorption"] as const) await img.writeVolume(0, c, [0, 0, 0], { data: syn.channels[c], shape });
    const sm = await createSegmentModel({ ...DEFAULT_UNET, depth: 2, baseFilters: 4, seed: 2 });
    const plain = await segmentImage(img, sm, { patchZYX: [8, 8, 8], progress: false, writeProbabilities: true });
    expect(plain.tta).toBeNull();
    const withTta = await segmentImage(img, sm, { patchZYX: [8, 8, 8], progress: false, tta: TTA_MIRROR_AXES, writeProbabilities: true });
    expect(withTta.tta).toEqual(["z", "y", "x"]);
    expect(withTta.replaced).toMatch(/tta|job record/);
    expect(withTta.windowsPredicted).toBe(plain.windowsPredicted);
    const lab = await img.openLabels("unet");
    expect(lab.array(0).attributes["ssb-ct-segment"]).toMatchObject({ tta: ["z", "y", "x"] });
    expect(lab.status().state).toBe("complete");
  });
});
