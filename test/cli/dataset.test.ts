/**
 * twin -> info -> quantify as a user runs them, with the output rules: the same inputs into the same output rerun
 * (the twin is deterministic), other data is refused before any work unless --overwrite, --json prints one object,
 * and Ctrl-C stops a run with exit 130 leaving a store that reads as unfinished and that a rerun completes.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.js";
import { BIN, expectOneLineError, ssbct } from "./ssbct.js";

describe("ssbct twin, info, quantify", () => {
  it("generates the ci twin, describes it, quantifies its truth labels, and refuses other data without --overwrite", async () => {
    const cwd = tempDir();
    const t = await ssbct(["twin", "--preset", "ci", "--times", "0,1.5,3.2", "--out", "ci.ome.zarr", "--json"], { cwd });
    expect(t.status, t.stderr).toBe(0);
    const tj = JSON.parse(t.stdout) as { shapeZYX: number[]; voxel_um: number; times_h: number[] };
    expect(tj.times_h).toEqual([0, 1.5, 3.2]);
    expect(tj.voxel_um).toBe(4);

    const info = await ssbct(["info", "ci.ome.zarr"], { cwd });
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/shape +54 x 48 x 48 voxels \(z, y, x\), float32/);
    expect(info.stdout).toMatch(/voxel size 4 x 4 x 4 um/);
    expect(info.stdout).toMatch(/channels +absorption \[.*\], phase \[.*\]/);
    expect(info.stdout).toMatch(/times +3 time points: 0 h, 1.5 h, 3.2 h/);
    expect(info.stdout).toMatch(/segmentation: complete; 0=electrolyte, 1=void, 2=lithium; digital twin/);
    expect(info.stdout).toMatch(/computed +twin-manifest.json, twin-electrochem.json, twin-xas.json/);
    const ij = JSON.parse((await ssbct(["info", "ci.ome.zarr", "--json"], { cwd })).stdout) as { voxelSizeUm: number[]; units: { space: string }; labels: Array<{ name: string; state: string }> };
    expect(ij.voxelSizeUm).toEqual([4, 4, 4]);
    expect(ij.units.space).toBe("micrometer");
    expect(ij.labels.map((l) => `${l.name}:${l.state}`).sort()).toEqual(["material:complete", "segmentation:complete"]);

    const q = await ssbct(["quantify", "--data", "ci.ome.zarr", "--labels", "segmentation", "--out", "tables", "--json"], { cwd });
    expect(q.status, q.stderr).toBe(0);
    const qj = JSON.parse(q.stdout) as { files: string[]; timeSeries: Record<string, number[]> };
    expect(qj.files.map((f) => f.split("/").pop()).sort()).toContain("time_series.csv");
    const manifest = JSON.parse(readFileSync(join(cwd, "ci.ome.zarr/twin-manifest.json"), "utf8")) as { timePoints: Array<{ depositLi_um3: number }> };
    // the measured deposited Li is the twin's deposit volume (both count the same voxels)
    qj.timeSeries.deposited_lithium_um3!.forEach((v, i) => expect(v).toBeCloseTo(manifest.timePoints[i]!.depositLi_um3, 0));
    expect(readFileSync(join(cwd, "tables/time_series.csv"), "utf8").split("\n")[0]).toMatch(/time_h/);

    // the same inputs again: allowed; other parameters into the same folder: refused before any work
    expect((await ssbct(["quantify", "--data", "ci.ome.zarr", "--labels", "segmentation", "--out", "tables"], { cwd })).status).toBe(0);
    const before = statSync(join(cwd, "tables/tables.json")).mtimeMs;
    const other = await ssbct(["quantify", "--data", "ci.ome.zarr", "--labels", "segmentation", "--out", "tables", "--bin-width", "8"], { cwd });
    expect(other.status).toBe(2);
    expect(expectOneLineError(other, "quantify")).toMatch(/--out already holds other data \(pass --overwrite to replace it\); path: tables/);
    expect(statSync(join(cwd, "tables/tables.json")).mtimeMs).toBe(before);
    expect((await ssbct(["quantify", "--data", "ci.ome.zarr", "--labels", "segmentation", "--out", "tables", "--bin-width", "8", "--overwrite"], { cwd })).status).toBe(0);
    const notMine = await ssbct(["quantify", "--data", "ci.ome.zarr", "--labels", "segmentation", "--out", "ci.ome.zarr"], { cwd });
    expect(notMine.status).toBe(2);

    // the twin: same parameters rerun; another seed into the same store refused, then replaced with --overwrite
    expect((await ssbct(["twin", "--preset", "ci", "--times", "0,1.5,3.2", "--out", "ci.ome.zarr"], { cwd })).status).toBe(0);
    const seed = await ssbct(["twin", "--preset", "ci", "--seed", "5", "--out", "ci.ome.zarr"], { cwd });
    expect(seed.status).toBe(2);
    expect(expectOneLineError(seed, "twin")).toMatch(/--out holds a twin made from other parameters \(pass --overwrite to replace it\)/);
    const over = await ssbct(["twin", "--preset", "ci", "--seed", "5", "--times", "0,3.2", "--out", "ci.ome.zarr", "--overwrite"], { cwd });
    expect(over.status, over.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, "ci.ome.zarr/twin-manifest.json"), "utf8")).seed).toBe(5);
    // a folder of someone else's files is never taken
    const mine = await ssbct(["twin", "--preset", "ci", "--out", "tables"], { cwd });
    expect(mine.status).toBe(2);
    expect(mine.stderr).toMatch(/--out already holds data/);
  });

  it("--shard i/n: twin shards at once make the one run's store; quantify shards merge into the one-process census", async () => {
    const cwd = tempDir();
    const twin = (extra: string[]) => ssbct(["twin", "--preset", "ci", "--times", "0,3.2", "--threads", "1", ...extra], { cwd });
    const [s0, s1, whole] = await Promise.all([twin(["--out", "s.ome.zarr", "--shard", "0/2"]), twin(["--out", "s.ome.zarr", "--shard", "1/2"]), twin(["--out", "w.ome.zarr"])]);
    for (const r of [s0, s1, whole]) expect(r!.status, r!.stderr).toBe(0);
    // A shard that finds the other's done record finalises the store; two finishing at once may both do so (they
    // write the same metadata), so each says either that it finalised or that its part is written.
    for (const r of [s0!, s1!]) expect(r.stdout).toMatch(/wrote s\.ome\.zarr |wrote shard [01]\/2 of s\.ome\.zarr .*the store is complete when every shard has run/);
    expect(s0!.stdout + s1!.stdout).toMatch(/wrote s\.ome\.zarr /);
    const manifest = (p: string) => readFileSync(join(cwd, p, "twin-manifest.json"), "utf8");
    expect(manifest("s.ome.zarr")).toBe(manifest("w.ome.zarr"));

    const q = (extra: string[]) => ssbct(["quantify", "--data", "w.ome.zarr", "--labels", "segmentation", ...extra], { cwd });
    const [p0, p1] = await Promise.all([q(["--out", "parts", "--shard", "0/2"]), q(["--out", "parts", "--shard", "1/2"])]);
    expect(p0!.status, p0!.stderr).toBe(0);
    expect(p1!.stdout).toMatch(/wrote the partial result of shard 1\/2/);
    const m = await q(["--out", "parts", "--merge", "--json"]);
    expect(m.status, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ shards: 2 });
    const all = await q(["--out", "all", "--components", "--threads", "2"]);
    expect(all.status, all.stderr).toBe(0);
    for (const f of ["label_components.csv", "label_component_summary.csv", "layer_composition.csv"]) expect(readFileSync(join(cwd, "parts", f), "utf8")).toBe(readFileSync(join(cwd, "all", f), "utf8"));
    const both = await q(["--out", "x", "--shard", "0/2", "--merge"]);
    expect(both.status).toBe(2);
    const thr = await q(["--out", "y", "--threads", "2"]);
    expect(thr.status).toBe(2);
    expect(expectOneLineError(thr, "quantify")).toMatch(/--threads applies to the component census/);
  });

  it("Ctrl-C stops the twin with exit 130; the store reads as unfinished and the same command completes it", async () => {
    const cwd = tempDir();
    const args = [BIN, "twin", "--preset", "default", "--times", "0", "--out", "d.ome.zarr"];
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, SSB_CT_PROGRESS_INTERVAL_S: "0.2" } });
    let stderr = "";
    let sent = false;
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      // interrupt once chunks are being written
      if (!sent && /\[#*-+\]/.test(stderr)) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const status = await new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    expect(sent, stderr).toBe(true);
    expect(status, stderr).toBe(130);
    expect(stderr).toMatch(/twin: interrupted; every file written so far is complete/);
    expect(existsSync(join(cwd, "d.ome.zarr/twin-manifest.json"))).toBe(false); // written last: the store is unfinished
    const info = await ssbct(["info", "d.ome.zarr"], { cwd });
    expect(info.stdout).toMatch(/segmentation: (incomplete|unfinished)|material: (incomplete|unfinished)/);
    const again = await ssbct(["twin", "--preset", "default", "--times", "0", "--out", "d.ome.zarr"], { cwd });
    expect(again.status, again.stderr).toBe(0);
    expect(existsSync(join(cwd, "d.ome.zarr/twin-manifest.json"))).toBe(true);
    expect(readdirSync(join(cwd, "d.ome.zarr")).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
