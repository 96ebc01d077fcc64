/**
 * The main job end to end on the small `ci` preset, in a fresh working directory: twin, pyramid, segmentation
 * (skipped with its reason: the shipped model was trained at 2 um, ci has 4 um voxels), quantification of the truth.
 * The tables must agree with the twin's manifest.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.js";

const cli = fileURLToPath(new URL("../../src/cli/reproduce.ts", import.meta.url));
// --import resolves from the working directory, which is a temp folder here: name tsx's loader by its path.
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

describe("npm run reproduce", () => {
  it("runs the ci preset end to end and its Li volumes match the twin's truth", () => {
    const cwd = tempDir();
    const r = spawnSync(process.execPath, ["--import", tsx, cli, "--preset", "ci", "--skip-notebooks"], { cwd, encoding: "utf8", env: { ...process.env, SSB_CT_PROGRESS: "0" } });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/\[3\/5\][\s\S]*skipped: voxel size does not match/);
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
});
