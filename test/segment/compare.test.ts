/**
 * compareSegmenters and its statistics, on a small unseen twin column: every number in the result is checked
 * against the counts it comes from and against the twin's truth (voxel counts per class and of deposit Li).
 */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ParameterError } from "../../src/util/errors.js";
import { Material } from "../../src/twin/index.js";
import { loadSegmentModel } from "../../src/segment/index.js";
import {
  compareSegmenters,
  comparisonFindings,
  formatComparison,
  formatStat,
  methodSummary,
  renderColumn,
  seedStat,
  seedsSeenBy,
  thresholdSeparability,
  UNSEEN_SEEDS,
  type ComparisonResult,
} from "../../src/segment/compare.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const shipped = existsSync(join(root, "data", "models", "unet-default", "model.json")) && existsSync(join(root, "data", "models", "unet-absorption-only", "model.json"));

describe("comparison statistics", () => {
  it("mean and sample standard deviation over seeds", () => {
    const s = seedStat([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 12); // n - 1 in the denominator
    expect([s.min, s.max, s.n]).toEqual([1, 4, 4]);
    expect(seedStat([0.7]).sd).toBeNull();
    expect(seedStat([1, NaN, 3]).n).toBe(2);
  });

  it("one-threshold separability: 0.5 for identical values, 1 for disjoint ones on either side", () => {
    const a = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    expect(thresholdSeparability(a, a)).toBeCloseTo(0.5, 2);
    expect(thresholdSeparability([1, 2, 3], [4, 5])).toBe(1);
    expect(thresholdSeparability([4, 5], [1, 2, 3])).toBe(1);
    // one of four of class a on the wrong side: (3/4 + 1) / 2
    expect(thresholdSeparability([1, 2, 3, 9], [5, 6, 7, 8])).toBeCloseTo(0.875, 12);
    expect(thresholdSeparability([], [1])).toBe(0.5);
  });
});

describe.skipIf(!shipped)("compareSegmenters", () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  it("knows the seeds the shipped models were trained and selected on, and refuses them", async () => {
    const sm = await loadSegmentModel(join(root, "data", "models", "unet-default"));
    expect(seedsSeenBy(sm)).toEqual([101, 102, 103, 104, 105, 106]);
    for (const s of UNSEEN_SEEDS) expect(seedsSeenBy(sm)).not.toContain(s);
    await expect(compareSegmenters({ seeds: [103], root, progress: false })).rejects.toThrow(ParameterError);
  });

  it("returns per-seed scores that follow from the confusion counts and the twin's truth (small column)", async () => {
    const nyx: [number, number] = [48, 48];
    const r = await compareSegmenters({ seeds: [301, 302], variants: ["needles"], nyx, root, progress: false });
    expect(JSON.parse(JSON.stringify(r))).toEqual(r); // JSON-serialisable as is
    expect(r.classes).toEqual(["electrolyte", "void", "lithium"]);
    expect(r.shapeZYX).toEqual([136, 48, 48]);
    const v = r.variants[0]!;
    expect(v.methods.map((m) => m.method)).toEqual(["phase + absorption", "absorption only", "multi-Otsu absorption", "multi-Otsu phase"]);
    for (const seed of [301, 302]) {
      const raw = renderColumn(seed, "needles", nyx, 3.2);
      const truthCounts = [0, 0, 0];
      for (const l of raw.labels) truthCounts[l]!++;
      let dep = 0;
      for (const m of raw.material) if (m === Material.liDeposit) dep++;
      expect(v.truth.find((t) => t.seed === seed)).toEqual({ seed, classes: { electrolyte: truthCounts[0], void: truthCounts[1], lithium: truthCounts[2] }, deposit_vox: dep });
      for (const m of v.methods) {
        const s = m.perSeed.find((x) => x.seed === seed)!;
        // rows of the confusion matrix are the true classes
        s.confusion.forEach((row, i) => expect(row.reduce((a, b) => a + b, 0)).toBe(truthCounts[i]));
        expect(s.liAsVoid_vox).toBe(s.confusion[2]![1]);
        expect(s.voidAsLi_vox).toBe(s.confusion[1]![2]);
        expect(s.liAsVoid_pct).toBeCloseTo((100 * s.liAsVoid_vox) / truthCounts[2]!, 10);
        expect(s.voidAsLi_pct).toBeCloseTo((100 * s.voidAsLi_vox) / truthCounts[1]!, 10);
        r.classes.forEach((c, k) => {
          const tp = s.confusion[k]![k]!;
          const fp = s.confusion.reduce((a, row, i) => a + (i === k ? 0 : row[k]!), 0);
          const fn = s.confusion[k]!.reduce((a, x, j) => a + (j === k ? 0 : x), 0);
          expect(s.dice[c]).toBeCloseTo((2 * tp) / (2 * tp + fp + fn), 12);
        });
        expect(s.deposit.deposit_vox).toBe(dep);
        expect(s.deposit.asLithium_pct + s.deposit.asVoid_pct + s.deposit.asElectrolyte_pct).toBeCloseTo(100, 9);
      }
    }
    for (const m of v.methods) {
      const d = m.perSeed.map((s) => s.dice.void!);
      expect(m.summary.dice.void!.mean).toBeCloseTo((d[0]! + d[1]!) / 2, 12);
      expect(m.summary.dice.void!.sd).toBeCloseTo(Math.abs(d[0]! - d[1]!) / Math.SQRT2, 12);
    }
    expect(v.separability.map((s) => s.seed)).toEqual([301, 302]);
    for (const s of v.separability) for (const x of [s.absorption, s.phase]) expect(x).toBeGreaterThanOrEqual(0.5);
    expect(formatComparison(r)).toMatch(/\| needles \| phase \+ absorption \| /);
  });
});

describe.skipIf(!shipped)("Fig. 2c figures from a store and from a comparison", () => {
  it("reads a region with the store's units and truth, and draws it with a depth slider under 2 MB", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { generateTwin, presetParameters } = await import("../../src/twin/index.js");
    const { OmeImage } = await import("../../src/volume/index.js");
    const { fig2c, fig2cInputs, regionAround, scaleBarLength_um } = await import("../../src/figures/fig2c.js");
    const dir = mkdtempSync(join(tmpdir(), "fig2c-"));
    try {
      const store = join(dir, "col.ome.zarr");
      await generateTwin(presetParameters("default", { seed: 301, geometry: { nyx: [48, 48] }, ct: { times_h: [3.2] } }), store, { progress: false });
      const img = await OmeImage.open(store);
      const region = regionAround(img.shapeZYX, img.voxelSizeUm, { z: 130, y: 48, x: 48 }, { z: 10, yx: 16 });
      expect(region).toEqual({ z: [55, 75], y: [8, 40], x: [8, 40] });
      const inp = await fig2cInputs(img, 0, region, { maxPlanes: 7 });
      expect(inp.phase.unit).toBe("δ × 10⁶");
      expect(inp.absorption.unit).toBe("1/cm");
      expect(inp.interface_um).toBe(16);
      expect(inp.zStep).toBe(3); // 20 planes into at most 7
      expect(inp.phase.planes.length).toBe(7);
      // the truth masks are the store's labels, plane for plane
      const lab = (await (await img.openLabels("segmentation")).readVolume(0, { selection: [[55 + 3 * 2, 56 + 3 * 2], [8, 40], [8, 40]] })).data;
      inp.truth!.void[2]!.forEach((row, j) => row.forEach((v, i) => expect(v).toBe(lab[j * 32 + i] === 1 ? 1 : 0)));
      const fig = fig2c(inp);
      expect(fig.id).toBe("fig2c");
      expect(fig.frames!.length).toBe(7);
      expect(fig.data.filter((t) => t.type === "heatmap").map((t) => (t.colorbar as { title: { text: string } }).title.text)).toEqual(["δ × 10⁶", "1/cm"]);
      expect((fig.layout.yaxis as { scaleanchor: string }).scaleanchor).toBe("x"); // equal aspect
      const shapes = fig.layout.shapes as Array<{ x0: number; x1: number }>;
      expect(shapes.length).toBe(2);
      expect(shapes[0]!.x1 - shapes[0]!.x0).toBe(scaleBarLength_um(64));
      expect(scaleBarLength_um(64)).toBe(10);
      expect(JSON.stringify(fig).length).toBeLessThan(2e6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("draws the scores as mean bars with sample-sd error bars, per variant", async () => {
    const { fig2cScores } = await import("../../src/figures/fig2c.js");
    const r = await compareSegmenters({ seeds: [301, 302], variants: ["needles", "void-filling"], nyx: [64, 64], root, progress: false });
    const fig = fig2cScores(r);
    const bars = fig.data.filter((t) => t.type === "bar");
    expect(bars.length).toBe(2 * 4 * 2); // variants x methods x (Dice, confusion)
    const first = bars[0] as unknown as { y: number[]; error_y: { array: number[] }; name: string };
    const s = r.variants[0]!.methods[0]!.summary;
    expect(first.name).toBe("phase + absorption");
    expect(first.y).toEqual(r.classes.map((c) => s.dice[c]!.mean));
    expect(first.error_y.array).toEqual(r.classes.map((c) => s.dice[c]!.sd));

    // The findings quote the result and their conclusion follows it, whichever way the numbers go.
    const conclusion = (x: ComparisonResult) => {
      const pa = x.variants[0]!.methods[0]!.perSeed, ab = x.variants[0]!.methods[1]!.perSeed;
      const better = pa.filter((q, i) => q.dice.void! > ab[i]!.dice.void! && q.liAsVoid_vox < ab[i]!.liAsVoid_vox).length;
      const worse = pa.filter((q, i) => q.dice.void! <= ab[i]!.dice.void! && q.liAsVoid_vox >= ab[i]!.liAsVoid_vox).length;
      return better === pa.length ? "better on both counts on every one" : worse === pa.length ? "Absorption alone does as well or better" : `better on both counts on ${better} of ${pa.length} seeds`;
    };
    const text = comparisonFindings(r).join("\n\n");
    expect(text).toContain(formatStat(methodSummary(r, "needles", "phase + absorption").dice.void!));
    expect(text).toContain(formatStat(methodSummary(r, "void-filling", "absorption only").depositAsVoid_pct, 1));
    expect(text).toContain(formatStat(r.variants[1]!.separabilitySummary.phase, 2));
    expect(text).toContain(conclusion(r));
    // the two U-Nets' scores swapped: the conclusion turns round with them
    const swapped = JSON.parse(JSON.stringify(r)) as ComparisonResult;
    const ms = swapped.variants[0]!.methods;
    [ms[0]!.perSeed, ms[1]!.perSeed, ms[0]!.summary, ms[1]!.summary] = [ms[1]!.perSeed, ms[0]!.perSeed, ms[1]!.summary, ms[0]!.summary];
    expect(comparisonFindings(swapped).join("\n\n")).toContain(conclusion(swapped));
    expect(conclusion(swapped)).not.toBe(conclusion(r));
  });
});
