/**
 * `ssbct import` as a user runs it on a beamline export: a folder of TIFF slices and an HDF5 file (DXchange layout)
 * into one OME-Zarr image, slot by slot, with the voxel size required and never assumed, a resumable rerun, and a
 * different source refused unless --overwrite.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeTiffStack } from "../../src/volume/import/index.js";
import { tempDir } from "../helpers/tmp.js";
import { expectOneLineError, ssbct } from "./ssbct.js";

const cwd = tempDir();
const [nz, ny, nx] = [6, 10, 12];
const vol = (k: number) => ({ data: Uint16Array.from({ length: nz * ny * nx }, (_, i) => (i * 7 + k) % 4000), shape: [nz, ny, nx] });

beforeAll(async () => {
  writeTiffStack(join(cwd, "scan_t0"), vol(0));
  writeTiffStack(join(cwd, "scan_t1"), vol(1));
  writeTiffStack(join(cwd, "other"), vol(2));
  writeFileSync(join(cwd, "scan_t0", "notes.txt"), "darks and flats elsewhere");
  // An HDF5 file in the DXchange layout, written with h5wasm (the library the importer reads it with).
  const h5 = (await import("h5wasm/node")).default;
  await h5.ready;
  const f = new h5.File(join(cwd, "tomo.h5"), "w");
  f.create_group("exchange").create_dataset({ name: "data", data: vol(3).data, shape: [nz, ny, nx], dtype: "<H" });
  f.close();
});

describe("ssbct import", () => {
  it("needs a voxel size, imports two TIFF time points and an HDF5 channel into one image, and says so in info", async () => {
    const noVoxel = await ssbct(["import", "scan_t0", "--out", "cell.ome.zarr"], { cwd });
    expect(noVoxel.status).toBe(2);
    expect(expectOneLineError(noVoxel, "import")).toMatch(/voxel size/i);

    const a = await ssbct(["import", "scan_t0", "--out", "cell.ome.zarr", "--voxel-size", "0.65", "--channels", "absorption,phase", "--times", "0,1.5", "--chunks", "3,8,8", "--json"], { cwd });
    expect(a.status, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ t: 0, channel: "absorption", shapeZYX: [nz, ny, nx], voxelSizeUm: [0.65, 0.65, 0.65], slabsWritten: 2, slabsSkipped: 0 });
    const b = await ssbct(["import", "scan_t1", "--out", "cell.ome.zarr", "--t", "1"], { cwd });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/imported scan_t1 into cell.ome.zarr \(t 1, channel absorption\): 6 x 10 x 12 voxels of 0.65 x 0.65 x 0.65 um/);
    const h = await ssbct(["import", "tomo.h5", "--out", "cell.ome.zarr", "--channel", "phase", "--mode", "add"], { cwd });
    expect(h.status, h.stderr).toBe(0);

    // the same source again: nothing to copy; another source into a filled slot: refused unless --overwrite
    const again = await ssbct(["import", "scan_t0", "--out", "cell.ome.zarr", "--t", "0", "--json"], { cwd });
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ slabsWritten: 0 });
    const other = await ssbct(["import", "other", "--out", "cell.ome.zarr", "--t", "0"], { cwd });
    expect(other.status).toBe(2);
    expect(expectOneLineError(other, "import")).toMatch(/overwrite/i);
    expect((await ssbct(["import", "other", "--out", "cell.ome.zarr", "--t", "0", "--overwrite"], { cwd })).status).toBe(0);

    const info = await ssbct(["info", "cell.ome.zarr", "--json"], { cwd });
    expect(info.status, info.stderr).toBe(0);
    const j = JSON.parse(info.stdout) as { shapeZYX: number[]; voxelSizeUm: number[]; timePointsH: number[]; channels: Array<{ name: string }>; dtype: string };
    expect(j).toMatchObject({ shapeZYX: [nz, ny, nx], voxelSizeUm: [0.65, 0.65, 0.65], timePointsH: [0, 1.5], dtype: "uint16" });
    expect(j.channels.map((c) => c.name)).toEqual(["absorption", "phase"]);
  });

  it("names bad values: a missing source, a bad voxel size, a bad pattern, a shard", async () => {
    const rs = await Promise.all([
      ssbct(["import", "nowhere", "--out", "x.ome.zarr", "--voxel-size", "1"], { cwd }),
      ssbct(["import", "scan_t0", "--out", "x.ome.zarr", "--voxel-size", "1,2"], { cwd }),
      ssbct(["import", "scan_t0", "--out", "x.ome.zarr", "--voxel-size", "-1"], { cwd }),
      ssbct(["import", "scan_t0", "--out", "x.ome.zarr", "--voxel-size=-1"], { cwd }),
      ssbct(["import", "scan_t0", "--out", "x.ome.zarr", "--voxel-size", "1", "--pattern", "("], { cwd }),
      ssbct(["import", "scan_t0", "--out", "x.ome.zarr", "--voxel-size", "1", "--shard", "0/0"], { cwd }),
    ]);
    const want = [/SOURCE: no such file or folder; path: nowhere/, /--voxel-size expects one number or dz,dy,dx/, /option --voxel-size needs a value; one that starts with "-" is written --voxel-size=-VALUE/, /--voxel-size expects a list of comma-separated numbers in 0 \.\. inf um/, /--pattern is not a regular expression/, /--shard expects i\/n/];
    rs.forEach((r, i) => {
      expect(r.status, r.stderr).toBe(2);
      expect(expectOneLineError(r, "import")).toMatch(want[i]!);
    });
  });
});
