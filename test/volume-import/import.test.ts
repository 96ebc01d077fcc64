/**
 * TIFF stacks and HDF5 volumes written by Python imported into OME-Zarr, then read back with our OmeImage and with
 * zarr-python and compared voxel for voxel with the arrays Python wrote; resume after an interruption; bad inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FileFormatError, ParameterError, VolumeError } from "../../src/util/errors.js";
import type { ProgressEvent } from "../../src/util/progress.js";
import { OmeImage } from "../../src/volume/ome.js";
import { importHdf5, importTiffStack, type ImportJob } from "../../src/volume/import/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { firstDifference, makeFixtures, PY_MODULES, type Fixtures } from "./fixtures.js";

const PEER = `
import json, sys
import numpy as np, zarr
store, t, c, raw, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
g = zarr.open_group(store, mode="r")
ms = g.attrs["multiscales"][0]
a = g[ms["datasets"][0]["path"]]
v = a[t, c]
truth = np.fromfile(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(v.shape)
print(json.dumps({
    "shape": list(a.shape), "dtype": a.dtype.name, "equal": bool(np.array_equal(v, truth)),
    "scale": ms["datasets"][0]["coordinateTransformations"][0]["scale"],
    "units": [x.get("unit") for x in ms["axes"]],
    "channels": [ch["label"] for ch in g.attrs["omero"]["channels"]],
}))
`;

interface PeerView {
  shape: number[];
  dtype: string;
  equal: boolean;
  scale: number[];
  units: Array<string | null>;
  channels: string[];
}

const quiet = { progress: false as const };
const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(!hasPythonModules(...PY_MODULES))("import into OME-Zarr", () => {
  let fx: Fixtures;
  beforeAll(() => {
    fx = makeFixtures();
  });
  afterAll(() => fx?.cleanup());

  /** zarr-python's view of slot (t, c) compared with the truth volume Python wrote (as `truthDtype`). */
  const peer = (store: string, t: number, c: number, truthName: string, truthDtype: string): PeerView =>
    JSON.parse(runPython(PEER, [store, String(t), String(c), join(fx.dir, `${truthName}.raw`), truthDtype])) as PeerView;

  it("a uint16 TIFF folder, voxel for voxel (ours and zarr-python)", async () => {
    const dst = join(fx.dir, "u16.ome.zarr");
    const r = await importTiffStack(fx.path("u16"), dst, { voxelSizeUm: [1.2, 0.65, 0.65], chunksZYX: [4, 16, 16], ...quiet });
    expect(r.slabCount).toBe(3);
    expect(r.slabsWritten).toBe(3);
    const img = await OmeImage.open(dst);
    const truth = fx.truth("u16");
    expect(img.shapeZYX).toEqual(truth.shape);
    expect(img.voxelSizeUm).toEqual([1.2, 0.65, 0.65]);
    const v = await img.readVolume(0, "absorption");
    expect(v.data).toBeInstanceOf(Uint16Array);
    expect(firstDifference(v.data, truth.data)).toBe(-1);
    const p = peer(dst, 0, 0, "u16", "uint16");
    expect(p).toMatchObject({ shape: [1, 1, 11, 20, 17], dtype: "uint16", equal: true, channels: ["absorption"] });
    expect(p.scale.slice(2)).toEqual([1.2, 0.65, 0.65]);
    expect(p.units.slice(2)).toEqual(["micrometer", "micrometer", "micrometer"]);
  });

  it("a big-endian tiled float32 stack and a compressed multi-page file into chosen channels", async () => {
    const dst = join(fx.dir, "f32.ome.zarr");
    await importTiffStack(fx.path("f32be"), dst, { voxelSizeUm: 0.5, channels: ["absorption", "phase"], channel: "phase", codec: { name: "zstd", level: 3 }, ...quiet });
    expect(peer(dst, 0, 1, "f32", "float32")).toMatchObject({ equal: true, dtype: "float32", channels: ["absorption", "phase"] });
    // The untouched channel stays at the fill value (zero), so the phase data did not leak into it.
    const img = await OmeImage.open(dst);
    expect(Math.max(...(await img.readVolume(0, "absorption")).data)).toBe(0);

    // uint8 pages stored as float32: a value-preserving conversion.
    const dst2 = join(fx.dir, "mp.ome.zarr");
    await importTiffStack(fx.path("multipage.tif"), dst2, { voxelSizeUm: [2, 1, 1], dtype: "float32", timePointsH: [0, 0.5], timePoint: 1, ...quiet });
    expect(peer(dst2, 1, 0, "multipage", "uint8")).toMatchObject({ equal: true, dtype: "float32", shape: [2, 1, 7, 13, 19] });

    // OME-Zarr 0.5 (zarr v3): zarr-python 2 cannot read it, so only our reader checks it.
    const dst3 = join(fx.dir, "mp05.ome.zarr");
    await importTiffStack(fx.path("multipage.tif"), dst3, { voxelSizeUm: 1, version: "0.5", ...quiet });
    const img3 = await OmeImage.open(dst3);
    expect(img3.version).toBe("0.5");
    expect(firstDifference((await img3.readVolume(0, 0)).data, fx.truth("multipage").data)).toBe(-1);
  });

  it("refuses a conversion that would change values, and a missing voxel size", async () => {
    await expect(importTiffStack(fx.path("f32be"), join(fx.dir, "x1.ome.zarr"), { voxelSizeUm: 1, dtype: "uint16", ...quiet })).rejects.toThrow(ParameterError);
    const e = await importTiffStack(fx.path("u16"), join(fx.dir, "x2.ome.zarr"), quiet).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ParameterError);
    expect(String(e)).toMatch(/voxelSizeUm/);
    expect(String(e)).toContain(fx.path("u16"));
  });

  it("an HDF5 DXchange volume with its voxel size from the file, then a TIFF added as a second time point", async () => {
    const dst = join(fx.dir, "h5.ome.zarr");
    // maxReadBytes below one slab (3 slices of 432 bytes) makes every slab come from libhdf5 in two reads.
    const r = await importHdf5(fx.path("dxchange.h5"), dst, { timePointsH: [0, 2.5], chunksZYX: [3, 8, 8], maxReadBytes: 1000, ...quiet });
    expect(r.voxelSizeUm).toEqual([0.65, 0.65, 0.65]);
    expect(r.voxelSizeOrigin).toMatch(/objective\/resolution \(micron\)/);
    expect(r.slabCount).toBe(4);
    const img = await OmeImage.open(dst);
    expect(firstDifference((await img.readVolume(0, 0)).data, fx.truth("h5").data)).toBe(-1);
    expect(peer(dst, 0, 0, "h5", "float32")).toMatchObject({ equal: true, dtype: "float32", scale: [2.5, 1, 0.65, 0.65, 0.65] });

    // The later scan comes as a TIFF without a voxel size: the image supplies it.
    const r2 = await importTiffStack(fx.path("t1.tif"), dst, { mode: "add", timePoint: 1, ...quiet });
    expect(r2.voxelSizeUm).toEqual([0.65, 0.65, 0.65]);
    // Rerunning the first (creating) import finds its finished job: nothing is copied and t = 1 survives.
    const again = await importHdf5(fx.path("dxchange.h5"), dst, { timePointsH: [0, 2.5], chunksZYX: [3, 8, 8], ...quiet });
    expect([again.slabsWritten, again.slabsSkipped]).toEqual([0, 4]);
    expect(peer(dst, 1, 0, "h5t1", "float32")).toMatchObject({ equal: true });
    expect(peer(dst, 0, 0, "h5", "float32")).toMatchObject({ equal: true });

    // Adding a volume of another size, or another voxel size, is refused.
    await expect(importTiffStack(fx.path("f32be"), dst, { mode: "add", timePoint: 1, overwrite: true, ...quiet })).rejects.toThrow(/size differs/);
    await expect(importTiffStack(fx.path("t1.tif"), dst, { mode: "add", timePoint: 1, voxelSizeUm: 0.7, overwrite: true, ...quiet })).rejects.toThrow(/voxel size differs/);
  });

  it("a NeXus-style big-endian uint16 dataset at a configured path needs the voxel size from the caller", async () => {
    const dst = join(fx.dir, "nx.ome.zarr");
    const e = await importHdf5(fx.path("nexus.h5"), dst, { datasetPath: "/entry/data/data", ...quiet }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ParameterError);
    expect(String(e)).toMatch(/voxelSizeUm/);
    expect(String(e)).toContain("nexus.h5");
    await importHdf5(fx.path("nexus.h5"), dst, { datasetPath: "/entry/data/data", voxelSizeUm: 2, ...quiet });
    expect(peer(dst, 0, 0, "h5u", "uint16")).toMatchObject({ equal: true, dtype: "uint16", scale: [1, 1, 2, 2, 2] });
  });

  it("HDF5 bad inputs name the file and dataset", async () => {
    const dst = join(fx.dir, "bad.ome.zarr");
    const err = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
    const noUnits = await err(importHdf5(fx.path("nounits.h5"), dst, quiet));
    expect(noUnits).toBeInstanceOf(ParameterError);
    expect(String(noUnits)).toMatch(/objective\/resolution = 0.65 has no units/);
    const missing = await err(importHdf5(fx.path("missing.h5"), dst, quiet));
    expect(missing).toBeInstanceOf(FileFormatError);
    expect(String(missing)).toContain(fx.path("missing.h5"));
    const notH5 = await err(importHdf5(fx.path("not-hdf5.h5"), dst, quiet));
    expect(notH5).toBeInstanceOf(FileFormatError);
    expect(String(notH5)).toContain(fx.path("not-hdf5.h5"));
    const noSet = await err(importHdf5(fx.path("dxchange.h5"), dst, { datasetPath: "/exchange/recon", ...quiet }));
    expect(noSet).toBeInstanceOf(FileFormatError);
    expect(String(noSet)).toMatch(/dxchange\.h5.*\/exchange\/recon/);
  });

  it("resumes an interrupted import from the first slab not written, without rewriting earlier ones", async () => {
    const dst = join(fx.dir, "resume.ome.zarr");
    const chunkFiles = () =>
      new Map(
        readdirSync(join(dst, "0"), { recursive: true, encoding: "utf8" })
          .filter((n) => !n.split(/[\\/]/).some((part) => part.startsWith(".")) && statSync(join(dst, "0", n)).isFile())
          .map((n) => [n, statSync(join(dst, "0", n)).mtimeMs] as const),
      );
    const ac = new AbortController();
    // Interrupt once two slabs (8 slices) are in, as a user pressing Ctrl-C would.
    const sink = (e: ProgressEvent) => {
      if (e.done >= 8) ac.abort(new Error("user interrupt"));
    };
    // One thread: the slabs finish in order, so the interruption comes after exactly two of them.
    const opts = { voxelSizeUm: 1, chunksZYX: [4, 8, 8] as [number, number, number], threads: 1 };
    const first = await importTiffStack(fx.path("deflate"), dst, { ...opts, progress: sink, signal: ac.signal }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(VolumeError);
    expect(String(first)).toMatch(/interrupted.*2 of 6 slabs/);
    const job = JSON.parse(readFileSync(join(dst, ".ssb-ct-import-t0-c0.json"), "utf8")) as ImportJob;
    expect(job.slabsDone).toEqual([0, 1]);
    expect(job.complete).toBe(false);
    const before = chunkFiles();
    // 2 slabs x ceil(18/8) x ceil(16/8) chunks.
    expect(before.size).toBe(2 * 3 * 2);
    // A crash in the middle of slab 2 leaves some of its chunks written but the job not updated: plant a wrong one.
    mkdirSync(join(dst, "0", "0", "0", "2", "0"), { recursive: true });
    copyFileSync(join(dst, "0", "0", "0", "0", "0", "0"), join(dst, "0", "0", "0", "2", "0", "0"));

    const events: ProgressEvent[] = [];
    const second = await importTiffStack(fx.path("deflate"), dst, { ...opts, progress: (e) => events.push(e) });
    expect(second.slabsSkipped).toBe(2);
    expect(second.slabsWritten).toBe(4);
    expect(events[0]!.done).toBe(8);
    expect(events.at(-1)).toMatchObject({ done: 24, total: 24, finished: true });
    const after = chunkFiles();
    expect(after.size).toBe(6 * 3 * 2);
    for (const [name, mtime] of before) expect(after.get(name)).toBe(mtime);
    expect(peer(dst, 0, 0, "deflate", "uint16")).toMatchObject({ equal: true });
    const img = await OmeImage.open(dst);
    expect(firstDifference((await img.readVolume(0, 0)).data, fx.truth("deflate").data)).toBe(-1);

    // A finished job is not redone.
    const third = await importTiffStack(fx.path("deflate"), dst, { ...opts, ...quiet });
    expect([third.slabsWritten, third.slabsSkipped]).toEqual([0, 6]);
    const fourth = await importTiffStack(fx.path("deflate"), dst, { ...opts, restart: true, ...quiet });
    expect([fourth.slabsWritten, fourth.slabsSkipped]).toEqual([6, 0]);

    // Another source into the same destination is refused unless overwrite.
    const other = await importTiffStack(fx.path("u16"), dst, { ...opts, ...quiet }).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(VolumeError);
    expect(String(other)).toMatch(/different source/);
    await importTiffStack(fx.path("u16"), dst, { ...opts, overwrite: true, ...quiet });
    expect(peer(dst, 0, 0, "u16", "uint16")).toMatchObject({ equal: true, shape: [1, 1, 11, 20, 17] });
  });

  it("resumes after the importing process is killed (SIGKILL, no cleanup)", async () => {
    const dst = join(fx.dir, "killed.ome.zarr");
    const lib = pathToFileURL(resolve(here, "../../src/volume/import/index.ts")).href;
    const script = join(fx.dir, "kill-me.mts");
    // The child kills itself from the progress callback once two slabs are in: a crash between slabs 2 and 3.
    writeFileSync(
      script,
      `import { importTiffStack } from ${JSON.stringify(lib)};
await importTiffStack(process.argv[2], process.argv[3], { voxelSizeUm: 1, chunksZYX: [4, 8, 8],
  progress: (e) => { if (e.done >= 8) process.kill(process.pid, "SIGKILL"); } });
console.log("not killed");`,
    );
    const child = spawnSync(process.execPath, ["--import", "tsx", script, fx.path("deflate"), dst], { encoding: "utf8", cwd: resolve(here, "../..") });
    expect(child.signal).toBe("SIGKILL");
    expect(child.stdout).not.toContain("not killed");
    const r = await importTiffStack(fx.path("deflate"), dst, { voxelSizeUm: 1, chunksZYX: [4, 8, 8], ...quiet });
    expect([r.slabsSkipped, r.slabsWritten]).toEqual([2, 4]);
    expect(peer(dst, 0, 0, "deflate", "uint16")).toMatchObject({ equal: true });
  });

  it("creating over an existing image is refused without overwrite", async () => {
    const dst = join(fx.dir, "exists.ome.zarr");
    await importTiffStack(fx.path("packbits"), dst, { voxelSizeUm: 1, ...quiet });
    await expect(importTiffStack(fx.path("lzw16"), dst, { voxelSizeUm: 1, ...quiet })).rejects.toThrow(/different source|already exists/);
    expect(peer(dst, 0, 0, "packbits", "uint8")).toMatchObject({ equal: true });
  });
});
