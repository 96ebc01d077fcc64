/**
 * Datasets that cannot silently go wrong: one writer per store (two `twin` runs into one folder), output paths
 * checked before a byte is written, read-only file systems named, and metadata that would make reads wrong
 * (fill values the dtype cannot hold, zero or negative scales, unknown chunk key separators, time axes without a
 * unit) refused on open with the file and field named.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateTwin, presetParameters, type TwinManifest } from "../../src/twin/index.js";
import { OmeImage, ZarrArray } from "../../src/volume/index.js";
import { canMount } from "../helpers/mount.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-dataset-safety-");
const quiet = { progress: false as const };
const ci = (seed: number, extra: Record<string, unknown> = {}) => presetParameters("ci", { seed, ...extra });
const LOCK = [".ssb-ct", "steps", "job.lock"];
const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const HOST = esc(hostname());

function manifestSeed(store: string): number {
  return (JSON.parse(readFileSync(join(store, "twin-manifest.json"), "utf8")) as TwinManifest).seed;
}

function twinCli(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli/twin.ts", ...args], { encoding: "utf8", env: { ...process.env, SSB_CT_PROGRESS: "0" } });
}

const mounted: string[] = [];
afterAll(() => {
  for (const m of mounted.reverse()) spawnSync("umount", ["-l", m]);
});
function mountTmpfs(path: string, size: string, readOnly = false): void {
  mkdirSync(path, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}${readOnly ? ",ro" : ""}`, "tmpfs", path], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`);
  mounted.push(path);
}

describe("one writer per dataset (issue: two twin runs into one folder)", () => {
  it("two runs with different seeds at once: one fails at once naming the holder, the other leaves a whole store; an identical rerun works", async () => {
    const out = join(dir, "race.ome.zarr");
    const runs = await Promise.allSettled([generateTwin(ci(1), out, { ...quiet, overwrite: true }), generateTwin(ci(2), out, { ...quiet, overwrite: true })]);
    const ok = runs.filter((r) => r.status === "fulfilled");
    const failed = runs.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(ok).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(String(failed[0]!.reason)).toMatch(new RegExp(`another process is writing this dataset.*pid ${process.pid} on ${HOST}`));
    const winner = (ok[0] as PromiseFulfilledResult<{ manifest: { seed: number } }>).value.manifest.seed;
    expect(manifestSeed(out)).toBe(winner);
    expect(existsSync(join(out, "0", ".zarray"))).toBe(true);
    const img = await OmeImage.open(out);
    expect((await img.openLabels("segmentation")).status().state).toBe("complete");
    expect(existsSync(join(out, ...LOCK))).toBe(false); // released

    await generateTwin(ci(winner), out, { ...quiet, overwrite: true });
    expect(manifestSeed(out)).toBe(winner);
  });

  it("the twin CLI stops at once while a live process holds the store's lock, and takes over the lock of one that is gone", async () => {
    const out = join(dir, "held.ome.zarr");
    expect(twinCli(["--preset", "ci", "--out", out, "--seed", "1"]).status).toBe(0);
    const holder = spawn("sleep", ["60"]);
    const lock = join(out, ...LOCK);
    mkdirSync(join(out, ".ssb-ct", "steps"), { recursive: true });
    writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: hostname(), startedAt: "2024-01-01T00:00:00.000Z" }));
    try {
      const r = twinCli(["--preset", "ci", "--out", out, "--seed", "2", "--overwrite"]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`another process is writing this dataset.*pid ${holder.pid} on ${HOST} since 2024-01-01`));
      expect(manifestSeed(out)).toBe(1); // untouched
      expect(existsSync(lock)).toBe(true); // a live holder's lock is never removed
    } finally {
      holder.kill("SIGKILL");
      await new Promise((res) => holder.once("exit", res));
    }
    // The holder is gone: its lock is stale and taken over.
    const r = twinCli(["--preset", "ci", "--out", out, "--seed", "2", "--overwrite"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(manifestSeed(out)).toBe(2);
    expect(existsSync(lock)).toBe(false);
  });
});

describe("output paths are checked before a byte is written", () => {
  it('refuses "", a file, and a folder holding anything but an OME-Zarr image', async () => {
    await expect(generateTwin(ci(1), "", { ...quiet, overwrite: true })).rejects.toThrow(/no output path given.*field: path/);
    const file = join(dir, "a-file.ome.zarr");
    writeFileSync(file, "not a store");
    await expect(generateTwin(ci(1), file, { ...quiet, overwrite: true })).rejects.toThrow(/output path is a file.*a-file\.ome\.zarr/);
    expect(readFileSync(file, "utf8")).toBe("not a store");

    const home = join(dir, "someones-folder");
    mkdirSync(join(home, "scans"), { recursive: true });
    writeFileSync(join(home, "notes.txt"), "keep me");
    await expect(generateTwin(ci(1), home, { ...quiet, overwrite: true })).rejects.toThrow(/holds files that are not an OME-Zarr image.*got: notes\.txt, scans/);
    const spec = { channels: ["phase"], timePointsH: [0], shapeZYX: [4, 4, 4] as [number, number, number], voxelSizeUm: [1, 1, 1] as [number, number, number], dtype: "uint8" as const };
    await expect(OmeImage.create(home, { ...spec, overwrite: true })).rejects.toThrow(/holds files that are not an OME-Zarr image/);
    expect(readdirSync(home).sort()).toEqual(["notes.txt", "scans"]); // nothing written, not even a lock

    // A zarr group that is not an image is not "this dataset" either.
    const group = join(dir, "plain-group.zarr");
    mkdirSync(group);
    writeFileSync(join(group, ".zgroup"), JSON.stringify({ zarr_format: 2 }));
    await expect(OmeImage.create(group, { ...spec, overwrite: true })).rejects.toThrow(/zarr group that is not an OME-Zarr image.*\.zattrs.*field: multiscales/);
    expect(readdirSync(group)).toEqual([".zgroup"]);
  });

  it("replacing an image removes its pyramid levels and every label image (they belong to the old pixels)", async () => {
    const p = join(dir, "replace.ome.zarr");
    const spec = { channels: ["phase"], timePointsH: [0, 1], shapeZYX: [8, 8, 8] as [number, number, number], voxelSizeUm: [1, 1, 1] as [number, number, number], dtype: "uint8" as const };
    const img = await OmeImage.create(p, spec);
    await img.createLabels("unet", { classes: [{ value: 0, name: "a" }] });
    mkdirSync(join(p, "1"));
    writeFileSync(join(p, "notes.md"), "mine");
    const again = await OmeImage.create(p, { ...spec, shapeZYX: [6, 6, 6], overwrite: true });
    expect(await again.labelNames()).toEqual([]);
    expect(existsSync(join(p, "labels"))).toBe(false);
    expect(existsSync(join(p, "1"))).toBe(false);
    expect(readFileSync(join(p, "notes.md"), "utf8")).toBe("mine"); // not the image's: left alone
    expect((await OmeImage.open(p)).shapeZYX).toEqual([6, 6, 6]);
  });

  it.skipIf(!canMount(dir))("a read-only file system is named before anything is attempted", async () => {
    const ro = join(dir, "ro");
    mountTmpfs(ro, "1m", true);
    await expect(generateTwin(ci(1), join(ro, "twin.ome.zarr"), { ...quiet, overwrite: true })).rejects.toThrow(/output folder is on a read-only file system.*got: EROFS/);
    const r = twinCli(["--preset", "ci", "--out", join(ro, "twin.ome.zarr")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^twin: the output folder is on a read-only file system; path: .*\/ro/);
  });

  it.skipIf(!canMount(dir))("a full disk: one line naming the store, no manifest (the store is not complete), tracked labels refused as incomplete", async () => {
    const full = join(dir, "full");
    mountTmpfs(full, "1m");
    const out = join(full, "twin.ome.zarr");
    const r = twinCli(["--preset", "ci", "--out", out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^twin: the disk is full: the dataset could not be written; path: .*twin\.ome\.zarr.*got: ENOSPC/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(out, "twin-manifest.json"))).toBe(false);
    const img = await OmeImage.open(out);
    const seg = await img.openLabels("segmentation");
    expect(seg.status().state).toBe("incomplete");
    expect(() => seg.assertReadable()).toThrow(/label image "segmentation" is incomplete.*of \d+ chunks written/);
  });
});

describe("validation on open names the file and the field", () => {
  const arrayWith = async (name: string, dtype: "uint8" | "int16" | "float32", edit: (m: Record<string, unknown>) => void): Promise<string> => {
    const p = join(dir, name);
    await ZarrArray.create(p, { shape: [4, 4], chunks: [2, 2], dtype, overwrite: true });
    const m = JSON.parse(readFileSync(join(p, ".zarray"), "utf8")) as Record<string, unknown>;
    edit(m);
    writeFileSync(join(p, ".zarray"), JSON.stringify(m));
    return p;
  };

  it("a fill value the dtype cannot hold", async () => {
    for (const [dtype, fill] of [
      ["uint8", -1],
      ["uint8", 256],
      ["int16", 1.5],
      ["uint8", "NaN"],
      ["float32", 1e39],
    ] as const) {
      const p = await arrayWith(`fill-${dtype}-${String(fill)}.zarr`, dtype, (m) => (m.fill_value = fill));
      await expect(ZarrArray.open(p), `${dtype} ${fill}`).rejects.toThrow(new RegExp(`invalid zarr metadata; path: .*\\.zarray; field: fill_value; expected: .*${dtype}`));
    }
    const ok = await arrayWith("fill-ok.zarr", "int16", (m) => (m.fill_value = -7));
    expect((await ZarrArray.open(ok)).fillValue).toBe(-7);
    // zarr v3 writes float fill values as bit patterns too
    const v3 = join(dir, "fill-v3.zarr");
    await ZarrArray.create(v3, { shape: [4], chunks: [4], dtype: "float32", zarrFormat: 3 });
    const j = JSON.parse(readFileSync(join(v3, "zarr.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(v3, "zarr.json"), JSON.stringify({ ...j, fill_value: "0x7fc00000" }));
    expect(Number.isNaN((await ZarrArray.open(v3)).fillValue)).toBe(true);
    writeFileSync(join(v3, "zarr.json"), JSON.stringify({ ...j, data_type: "uint8", fill_value: 300 }));
    await expect(ZarrArray.open(v3)).rejects.toThrow(/zarr\.json; field: fill_value/);
  });

  it("a chunk key separator we do not know (every chunk would read as the fill value)", async () => {
    const v3 = join(dir, "sep-v3.zarr");
    await ZarrArray.create(v3, { shape: [4], chunks: [2], dtype: "uint8", zarrFormat: 3 });
    const j = JSON.parse(readFileSync(join(v3, "zarr.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(v3, "zarr.json"), JSON.stringify({ ...j, chunk_key_encoding: { name: "default", configuration: { separator: "-" } } }));
    await expect(ZarrArray.open(v3)).rejects.toThrow(/zarr\.json; field: chunk_key_encoding\.configuration\.separator; expected: "\." or "\/"; got: "-"/);
    const v2 = await arrayWith("sep-v2.zarr", "uint8", (m) => (m.dimension_separator = "|"));
    await expect(ZarrArray.open(v2)).rejects.toThrow(/\.zarray; field: dimension_separator/);
  });

  async function imageWithAttrs(name: string, nt: number, edit: (attrs: { multiscales: Array<{ axes: Array<Record<string, unknown>>; datasets: Array<{ coordinateTransformations: Array<{ scale?: unknown[] }> }> }>; "ssb-ct"?: unknown }) => void): Promise<string> {
    const p = join(dir, name);
    await OmeImage.create(p, { channels: ["phase"], timePointsH: Array.from({ length: nt }, (_, i) => 0.5 * i), shapeZYX: [4, 4, 4], voxelSizeUm: [0.5, 0.5, 0.5], dtype: "uint16", overwrite: true });
    const attrs = JSON.parse(readFileSync(join(p, ".zattrs"), "utf8"));
    edit(attrs);
    writeFileSync(join(p, ".zattrs"), JSON.stringify(attrs));
    return p;
  }

  it("scales that are not positive finite numbers, on any level", async () => {
    for (const bad of [0, -0.5, "0.5", null]) {
      const p = await imageWithAttrs(`scale-${String(bad)}.ome.zarr`, 2, (a) => (a.multiscales[0]!.datasets[0]!.coordinateTransformations[0]!.scale![3] = bad));
      await expect(OmeImage.open(p), String(bad)).rejects.toThrow(
        /scale must be positive finite numbers; path: .*\.zattrs; field: multiscales\[0\]\.datasets\[0\]\.coordinateTransformations\[0\]\.scale\[3\]/,
      );
    }
    const p = await imageWithAttrs("scale-level1.ome.zarr", 2, (a) => {
      const ds0 = a.multiscales[0]!.datasets[0]!;
      a.multiscales[0]!.datasets.push({ ...ds0, path: "0", coordinateTransformations: [{ type: "scale", scale: [1, 1, 1, 1, -1] }] } as never);
    });
    await expect(OmeImage.open(p)).rejects.toThrow(/datasets\[1\]\.coordinateTransformations\[0\]\.scale\[4\]/);
  });

  it("a time axis without a unit, where the time points depend on it", async () => {
    const p = await imageWithAttrs("no-time-unit.ome.zarr", 3, (a) => {
      delete a.multiscales[0]!.axes[0]!.unit;
      delete a["ssb-ct"]; // another tool's image: the times come from the OME scale alone
    });
    await expect(OmeImage.open(p)).rejects.toThrow(/time axis has no unit; path: .*no-time-unit\.ome\.zarr\/\.zattrs; field: multiscales\[0\]\.axes\[0\]\.unit/);
    const img = await OmeImage.open(p, { units: { time: "minute" } });
    [0, 0.5 / 60, 1 / 60].forEach((t, i) => expect(img.timePointsH[i]).toBeCloseTo(t, 12));
    // Our own explicit list of hours makes the OME time unit irrelevant.
    const q = await imageWithAttrs("no-time-unit-own-list.ome.zarr", 3, (a) => delete a.multiscales[0]!.axes[0]!.unit);
    expect((await OmeImage.open(q)).timePointsH).toEqual([0, 0.5, 1]);
  });
});
