/**
 * The main job end to end on the small `ci` preset, in a fresh working directory: twin, pyramid, segmentation
 * (not applicable, with its reason: the shipped model was trained at 2 um, ci has 4 um voxels), quantification of the
 * truth, cell fits, figures and report. The tables must agree with the twin's manifest; a rerun does nothing; a
 * dataset whose regeneration was interrupted is regenerated, not analysed.
 */
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.js";
import { ssbct } from "./ssbct.js";

// The ci job takes about 60 s on 2 idle cores and 140 s on busy ones (compare-segmenters is most of it).
const JOB_TIMEOUT_MS = 900_000;

describe("ssbct reproduce (npm run reproduce)", () => {
  it("runs the ci preset end to end and its Li volumes match the twin's truth", async () => {
    const cwd = tempDir();
    const r = await ssbct(["reproduce", "--preset", "ci", "--skip-notebooks"], { cwd });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/segment: not applicable - the shipped model does not apply to this image: .*voxel size/);
    const csv = readFileSync(join(cwd, "data/generated/results-ci/truth/time_series.csv"), "utf8").trim().split("\n");
    const header = csv[0]!.split(",");
    const col = (name: string) => header.indexOf(name);
    const manifest = JSON.parse(readFileSync(join(cwd, "data/generated/twin-ci.ome.zarr/twin-manifest.json"), "utf8"));
    expect(csv.length - 1).toBe(manifest.timePoints.length);
    csv.slice(1).forEach((line, i) => {
      const row = line.split(",").map(Number);
      expect(row[col("time_h")]).toBeCloseTo(manifest.timePoints[i].time_h, 6);
      // Deposited Li measured in the layer equals the twin's deposit volume (both count the same voxels).
      expect(row[col("deposited_lithium_um3")]).toBeCloseTo(manifest.timePoints[i].depositLi_um3, 0);
    });
  }, JOB_TIMEOUT_MS);

  it("--help runs nothing; a wrong flag is a usage error", async () => {
    const cwd = tempDir();
    const h = await ssbct(["reproduce", "--help"], { cwd });
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Usage: ssbct reproduce/);
    expect(existsSync(join(cwd, "data"))).toBe(false);
    const w = await ssbct(["reproduce", "--presett", "ci"], { cwd });
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/--presett/);
    expect(existsSync(join(cwd, "data"))).toBe(false);
  });

  it("reruns in seconds when nothing changed, and regenerates an interrupted dataset instead of analysing it", async () => {
    const cwd = tempDir();
    const run = () => ssbct(["reproduce", "--preset", "ci", "--skip-notebooks"], { cwd });
    expect((await run()).status).toBe(0);
    const again = await run();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 steps ran/);
    // --list and --json: the state of every step, and the run as one JSON object
    const list = await ssbct(["reproduce", "--preset", "ci", "--skip-notebooks", "--list", "--json"], { cwd });
    expect(list.status, list.stderr).toBe(0);
    const steps = (JSON.parse(list.stdout) as { steps: Array<{ step: string; state: string }> }).steps;
    expect(steps.find((x) => x.step === "figures")?.state).toBe("up to date");
    // ssbct figures on the same results: nothing to recompute, the figures and the report are there
    const fig = await ssbct(["figures", "--preset", "ci", "--json"], { cwd });
    expect(fig.status, fig.stderr).toBe(0);
    const fj = JSON.parse(fig.stdout) as { figuresDir: string; files: string[]; steps: Array<{ outcome: string }> };
    expect(fj.files).toContain("report.md");
    expect(fj.files.some((f) => f.endsWith(".html"))).toBe(true);
    expect(fj.steps.every((x) => x.outcome !== "ran")).toBe(true);
    const report = JSON.parse(readFileSync(join(cwd, "data/generated/figures-ci/report.json"), "utf8"));
    expect(report.rows.length).toBeGreaterThan(5);
    for (const row of report.rows) expect(["agrees", "differs", "not comparable"]).toContain(row.verdict);
    // A regeneration killed mid-way: its record is gone (removed first) and a chunk is missing.
    const store = join(cwd, "data/generated/twin-ci.ome.zarr");
    unlinkSync(join(cwd, "data/generated/results-ci/steps/dataset.json"));
    const chunkDir = join(store, "0");
    const first = readdirSync(chunkDir).find((f) => !f.startsWith("."))!;
    rmSync(join(chunkDir, first), { recursive: true, force: true });
    const third = await run();
    expect(third.status, third.stderr).toBe(0);
    expect(third.stdout).toMatch(/dataset: never completed[\s\S]*\[1\/\d+\] dataset: ran/);
    // The twin is deterministic: the regenerated store is byte-identical, so its identity and everything after it
    // stand; the missing chunk is back.
    expect(existsSync(join(chunkDir, first))).toBe(true);
    expect(third.stdout).toMatch(/quantify-truth: up to date/);
  }, JOB_TIMEOUT_MS);
});
