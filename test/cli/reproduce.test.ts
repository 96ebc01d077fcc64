/**
 * The main job end to end on the small `ci` preset, in a fresh working directory: twin, pyramid, segmentation
 * (not applicable, with its reason: the shipped model was trained at 2 um, ci has 4 um voxels), quantification of the
 * truth, cell fits, figures and report. The tables must agree with the twin's manifest; a rerun does nothing; a
 * dataset whose regeneration was interrupted is regenerated, not analysed.
 */
import { run as runChild } from "../helpers/run.js";
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.js";

const cli = fileURLToPath(new URL("../../src/cli/reproduce.ts", import.meta.url));
// --import resolves from the working directory, which is a temp folder here: name tsx's loader by its path.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

describe("npm run reproduce", () => {
  it("runs the ci preset end to end and its Li volumes match the twin's truth", async () => {
    const cwd = tempDir();
    const r = await runChild(process.execPath, ["--import", tsx, cli, "--preset", "ci", "--skip-notebooks"], { cwd, env: { ...process.env, SSB_CT_PROGRESS: "0" } });
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
  });

  it("--help runs nothing; a wrong flag is a usage error", async () => {
    const cwd = tempDir();
    const h = await runChild(process.execPath, ["--import", tsx, cli, "--help"], { cwd });
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Usage: npm run reproduce/);
    expect(existsSync(join(cwd, "data"))).toBe(false);
    const w = await runChild(process.execPath, ["--import", tsx, cli, "--presett", "ci"], { cwd });
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/--presett/);
  });

  it("reruns in seconds when nothing changed, and regenerates an interrupted dataset instead of analysing it", async () => {
    const cwd = tempDir();
    const run = () => runChild(process.execPath, ["--import", tsx, cli, "--preset", "ci", "--skip-notebooks"], { cwd, env: { ...process.env, SSB_CT_PROGRESS: "0" } });
    expect((await run()).status).toBe(0);
    const again = await run();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 steps ran/);
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
  });
});
