/**
 * The shipped models in data/models on twin columns from five seeds never used in training or selection
 * (compareSegmenters' defaults: `default` physics, 96 x 96 voxels of 2 um, t = 3.2 h), in both twin variants:
 * needle-shaped deposits (the presets, what the models were trained on) and deposits in void-shaped cavities.
 * Each assertion is one the five seeds support with their spread, not an ordering on one seed; the measured
 * numbers are in the comments (run with SSB_CT_SHOW_REPORT=1 to print the table).
 */
import { describe, expect, it, beforeAll } from "vitest";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSegmentModel } from "../../src/segment/index.js";
import { compareSegmenters, formatComparison, seedsSeenBy, type ComparisonResult, type SeedScore } from "../../src/segment/compare.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const both = join(root, "data", "models", "unet-default");
const absOnly = join(root, "data", "models", "unet-absorption-only");
const NAMES = ["electrolyte", "void", "lithium"];
const shipped = existsSync(join(both, "model.json")) && existsSync(join(absOnly, "model.json"));

let r: ComparisonResult;
const scores = (variant: string, method: string): SeedScore[] => r.variants.find((v) => v.variant === variant)!.methods.find((m) => m.method === method)!.perSeed;

describe.skipIf(!shipped)("shipped models on unseen twin columns, five seeds, both twin variants", () => {
  beforeAll(async () => {
    process.env.SSB_CT_QUIET_BACKEND = "1";
    r = await compareSegmenters({ root, progress: false });
    if (process.env.SSB_CT_SHOW_REPORT) console.log(formatComparison(r), `\n${r.seconds.toFixed(1)} s`);
  }, 300_000);

  it("records what it was trained on and how, and none of the scored seeds is among them", async () => {
    const sm = await loadSegmentModel(both);
    expect(sm.record.unet.channels).toEqual(["phase", "absorption"]);
    expect(sm.record.classes.map((c) => c.name)).toEqual(NAMES);
    expect(sm.record.voxelSizeUm).toEqual([2, 2, 2]);
    expect(sm.record.training.data.length).toBeGreaterThan(0);
    expect(sm.record.training.command).toMatch(/cli\.ts train/);
    expect(sm.record.metrics).toHaveProperty("test");
    expect(r.seeds.length).toBeGreaterThanOrEqual(5);
    for (const s of r.seeds) expect(seedsSeenBy(sm)).not.toContain(s);
    expect(r.excludedSeeds).toEqual([101, 102, 103, 104, 105, 106]);
  });

  it("phase + absorption on needle deposits: electrolyte, void and lithium meet the issue's bar on every seed", () => {
    const s = scores("needles", "phase + absorption");
    expect(s.length).toBe(r.seeds.length);
    for (const x of s) {
      expect(x.dice.electrolyte).toBeGreaterThanOrEqual(0.95);
      expect(x.dice.lithium).toBeGreaterThanOrEqual(0.9);
      // measured 0.962-0.980 (2026-11-29); 0.80-0.98 while the twin's columns held three thin needles each
      expect(x.dice.void).toBeGreaterThanOrEqual(0.9);
    }
  });

  it("on needle deposits phase + absorption finds voids better than absorption alone, on every seed; both keep deposit lithium", () => {
    const pa = scores("needles", "phase + absorption");
    const ab = scores("needles", "absorption only");
    for (const [i, x] of pa.entries()) {
      const y = ab[i]!;
      expect(y.seed).toBe(x.seed);
      // void Dice measured 0.962-0.980 against 0.925-0.970 (columns with a deposit per 1/density mm2, 2026-11-29;
      // with three thin needles per column, the twin's old field-of-view defect, it was 0.91 +- 0.07 against 0.54 +- 0.20)
      expect(x.dice.void!).toBeGreaterThan(y.dice.void!);
      // lithium called void: 0-54 voxels with phase, 0-42 without, at most 0.2 % of the deposit: no per-seed order
      for (const z of [x, y]) {
        expect(z.liAsVoid_vox).toBeLessThan(200);
        expect(z.deposit.asVoid_pct).toBeLessThan(1);
      }
    }
  });

  it("by intensity alone deposit lithium and voids look alike in absorption, not in phase (Park et al. Fig. 2c)", () => {
    for (const v of r.variants)
      for (const s of v.separability) {
        // one-threshold balanced accuracy: needles 0.73 vs 0.78, void-shaped deposits 0.53 vs 0.76
        expect(s.phase).toBeGreaterThan(s.absorption);
        expect(s.phase).toBeGreaterThan(0.7);
      }
    for (const s of r.variants.find((v) => v.variant === "void-filling")!.separability) expect(s.absorption).toBeLessThan(0.6);
    // multi-Otsu on absorption calls a large share of the voids lithium (measured 48 % and 40 %)
    for (const v of r.variants) for (const x of scores(v.variant, "multi-Otsu absorption")) expect(x.voidAsLi_pct).toBeGreaterThan(25);
  });

  it("on void-shaped deposits both models, trained on needles only, call much deposit lithium void; the phase channel still helps", () => {
    const pa = scores("void-filling", "phase + absorption");
    const ab = scores("void-filling", "absorption only");
    for (const [i, x] of pa.entries()) {
      // measured: 60 ± 3 % of deposit lithium called void with phase, 87 ± 1 % without
      expect(x.deposit.asVoid_pct).toBeGreaterThan(30);
      expect(x.deposit.asVoid_pct).toBeLessThan(ab[i]!.deposit.asVoid_pct);
      expect(x.deposit.asLithium_pct).toBeGreaterThan(ab[i]!.deposit.asLithium_pct);
    }
  });
});
