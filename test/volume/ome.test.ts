/**
 * OME-Zarr images: metadata that independent readers understand (checked with zarr-python and the NGFF rules),
 * physical units, labels, pyramids, blocks with halos, and clear errors for bad input.
 */
import { existsSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OmeImage, ZarrArray, buildPyramid } from "../../src/volume/index.js";
import { VolumeError } from "../../src/util/errors.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { rng, tempDir } from "../helpers/tmp.js";

const dir = tempDir();
const py = hasPythonModules("zarr", "numpy");

function ramp(shape: number[], seed: number): Float32Array {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (i % 1013) * 0.01 + r();
  return a;
}

for (const version of ["0.4", "0.5"] as const) {
  describe(`OME-Zarr ${version}`, () => {
    const path = join(dir, `img-${version}.ome.zarr`);
    const shapeZYX: [number, number, number] = [21, 18, 13];

    it("creates a 5D operando image with units, times and experiment metadata, and reads it back", async () => {
      const img = await OmeImage.create(path, {
        channels: ["absorption", "phase"],
        timePointsH: [0, 0.5, 1.0, 3.2],
        shapeZYX,
        voxelSizeUm: [2, 2, 2],
        dtype: "float32",
        chunksZYX: [8, 8, 8],
        version,
        experiment: { currentDensity_mA_cm2: 0.8, electrodeArea_cm2: 0.785, xrayEnergy_keV: 8 },
      });
      const vol = ramp(shapeZYX, 1);
      await img.writeVolume(3, "phase", [0, 0, 0], { data: vol, shape: shapeZYX });
      const back = await OmeImage.open(path);
      expect(back.version).toBe(version);
      expect(back.channels).toEqual(["absorption", "phase"]);
      expect(back.timePointsH).toEqual([0, 0.5, 1.0, 3.2]);
      expect(back.voxelSizeUm).toEqual([2, 2, 2]);
      expect(back.shapeZYX).toEqual(shapeZYX);
      expect(back.experiment.currentDensity_mA_cm2).toBe(0.8);
      const got = await back.readVolume(3, "phase");
      expect(got.shape).toEqual(shapeZYX);
      expect(Array.from(got.data)).toEqual(Array.from(vol));
      // Other time points and channels stay at the fill value.
      const empty = await back.readVolume(0, "absorption", { selection: [[0, 4], [0, 4], [0, 4]] });
      expect(Math.max(...Array.from(empty.data))).toBe(0);
      const attrs =
        version === "0.4"
          ? JSON.parse(readFileSync(join(path, ".zattrs"), "utf8"))
          : JSON.parse(readFileSync(join(path, "zarr.json"), "utf8")).attributes.ome;
      const ms = attrs.multiscales[0];
      expect(ms.axes.map((a: { name: string }) => a.name)).toEqual(["t", "c", "z", "y", "x"]);
      expect(ms.axes[2].unit).toBe("micrometer");
      expect(ms.axes[0].unit).toBe("hour");
      if (version === "0.4") expect(ms.version).toBe("0.4");
    });

    it("iterates chunk-aligned blocks with a halo that covers the volume exactly once", async () => {
      const img = await OmeImage.open(path);
      const vol = (await img.readVolume(3, "phase")).data;
      const seen = new Uint8Array(vol.length);
      let blocks = 0;
      for await (const b of img.blocks(3, "phase", { halo: 2 })) {
        blocks++;
        const [rz, ry, rx] = b.read;
        expect(b.data.shape).toEqual([rz![1] - rz![0], ry![1] - ry![0], rx![1] - rx![0]]);
        for (let z = b.core[0]![0]; z < b.core[0]![1]; z++)
          for (let y = b.core[1]![0]; y < b.core[1]![1]; y++)
            for (let x = b.core[2]![0]; x < b.core[2]![1]; x++) {
              seen[(z * 18 + y) * 13 + x]!++;
              const local = ((z - rz![0]) * b.data.shape[1]! + (y - ry![0])) * b.data.shape[2]! + (x - rx![0]);
              expect(b.data.data[local]).toBe(vol[(z * 18 + y) * 13 + x]);
            }
        // The halo reaches 2 voxels past the core except at the volume's faces.
        expect(rz![0]).toBe(Math.max(0, b.core[0]![0] - 2));
        expect(rx![1]).toBe(Math.min(13, b.core[2]![1] + 2));
      }
      expect(blocks).toBe(3 * 3 * 2);
      expect(seen.every((v) => v === 1)).toBe(true);
    });

    it("reads overlapping regions through a chunk cache with the same result, decoding each chunk once", async () => {
      const img = await OmeImage.open(path);
      const arr = img.array(0);
      const cache = arr.chunkCache(2 ** 30);
      const decoded: string[] = [];
      const orig = arr.readChunk.bind(arr);
      arr.readChunk = async (coords) => (decoded.push(coords.join(",")), orig(coords));
      try {
        for (const [z0, y0, x0] of [[0, 0, 0], [5, 4, 3], [10, 9, 6], [5, 9, 0]]) {
          const selection: [number, number][] = [[z0!, z0! + 11], [y0!, y0! + 9], [x0!, x0! + 7]];
          const plain = await img.readVolume(2, "absorption", { selection });
          const cached = await img.readVolume(2, "absorption", { selection, cache });
          expect(cached.shape).toEqual(plain.shape);
          expect(Array.from(cached.data)).toEqual(Array.from(plain.data));
        }
      } finally {
        arr.readChunk = orig;
      }
      expect(decoded.length).toBeGreaterThan(0);
      expect(new Set(decoded).size).toBe(decoded.length);
    });

    it("stores labels with classes and builds mean and mode pyramids", async () => {
      const img = await OmeImage.open(path);
      const lab = await img.createLabels("truth", {
        dtype: "uint8",
        classes: [
          { value: 0, name: "electrolyte" },
          { value: 1, name: "void", color: [0, 0, 0, 255] },
          { value: 2, name: "lithium", color: [128, 128, 128, 255] },
        ],
      });
      const n = shapeZYX.reduce((a, b) => a * b);
      const l = new Uint8Array(n);
      for (let i = 0; i < n; i++) l[i] = i % 3;
      await lab.writeVolume(1, [0, 0, 0], { data: l, shape: shapeZYX });
      expect(await img.labelNames()).toEqual(["truth"]);
      const lab2 = await img.openLabels("truth");
      expect(lab2.classValue("lithium")).toBe(2);
      expect(Array.from((await lab2.readVolume(1)).data)).toEqual(Array.from(l));

      await buildPyramid(img, { levels: 3, method: "mean", progress: { sink: false } });
      await buildPyramid(lab2, { levels: 2, method: "mode", progress: { sink: false } });
      const re = await OmeImage.open(path);
      expect(re.levels).toBe(3);
      expect(re.array(1).shape).toEqual([4, 2, 11, 9, 7]);
      expect(re.array(2).shape).toEqual([4, 2, 6, 5, 4]);
      const full = (await re.readVolume(3, "phase")).data;
      const l1 = await re.readVolume(3, "phase", { level: 1 });
      // Mean of the 2x2x2 cell at (z, y, x) = (1, 2, 3) computed independently from level 0.
      let s = 0;
      for (let dz = 0; dz < 2; dz++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) s += full[((2 + dz) * 18 + 4 + dy) * 13 + 6 + dx]!;
      expect(l1.data[(1 * 9 + 2) * 7 + 3]).toBeCloseTo(s / 8, 4);
      // The last, odd-sized cell averages only the voxels that exist.
      expect(l1.data[(10 * 9 + 8) * 7 + 6]).toBeCloseTo(full[(20 * 18 + 16) * 13 + 12]! * 0.5 + full[(20 * 18 + 17) * 13 + 12]! * 0.5, 4);
      const ml = await (await re.openLabels("truth")).readVolume(1, { level: 1 });
      // Mode of a cell equals the most frequent label among its 8 level-0 voxels.
      const counts = [0, 0, 0];
      for (let dz = 0; dz < 2; dz++) for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) counts[l[((2 + dz) * 18 + 4 + dy) * 13 + 6 + dx]!]!++;
      const mode = counts.indexOf(Math.max(...counts));
      expect(ml.data[(1 * 9 + 2) * 7 + 3]).toBe(mode);
      const scale1 = (re.array(1).zarrFormat === 2 ? JSON.parse(readFileSync(join(path, ".zattrs"), "utf8")) : JSON.parse(readFileSync(join(path, "zarr.json"), "utf8")).attributes.ome).multiscales[0].datasets[1].coordinateTransformations[0].scale;
      expect(scale1.slice(2)).toEqual([4, 4, 4]);
    });

    it.skipIf(!py || version === "0.5")("zarr-python opens the image group, every level and the labels", () => {
      const out = runPython(
        `import sys, json, zarr
g = zarr.open_group(sys.argv[1], mode="r")
ms = g.attrs["multiscales"][0]
lv = [list(g[d["path"]].shape) for d in ms["datasets"]]
lab = zarr.open_group(sys.argv[1] + "/labels", mode="r").attrs["labels"]
t = g["labels/truth/0"]
print(json.dumps({"levels": lv, "labels": lab, "label_shape": list(t.shape), "v": float(g["0"][3, 1, 5, 6, 7])}))`,
        [path],
      );
      const r = JSON.parse(out.trim().split("\n").pop()!);
      expect(r.levels).toEqual([[4, 2, 21, 18, 13], [4, 2, 11, 9, 7], [4, 2, 6, 5, 4]]);
      expect(r.labels).toEqual(["truth"]);
      expect(r.label_shape).toEqual([4, 1, 21, 18, 13]);
      expect(r.v).toBeCloseTo(ramp(shapeZYX, 1)[(5 * 18 + 6) * 13 + 7]!, 4);
    });
  });
}

describe("bad input gets a clear error", () => {
  it("names the path for a missing store", async () => {
    await expect(OmeImage.open(join(dir, "nope.ome.zarr"))).rejects.toThrow(/no OME-Zarr store.*nope\.ome\.zarr/);
    await expect(ZarrArray.open(join(dir, "nope.zarr"))).rejects.toThrow(VolumeError);
  });

  it("refuses OME metadata without space units unless the caller states them", async () => {
    const p = join(dir, "nounits.ome.zarr");
    await OmeImage.create(p, { channels: ["phase"], timePointsH: [0], shapeZYX: [4, 4, 4], voxelSizeUm: [0.5, 0.5, 0.5], dtype: "uint16" });
    const attrs = JSON.parse(readFileSync(join(p, ".zattrs"), "utf8"));
    for (const a of attrs.multiscales[0].axes) delete a.unit;
    writeFileSync(join(p, ".zattrs"), JSON.stringify(attrs));
    await expect(OmeImage.open(p)).rejects.toThrow(/space axis has no unit.*axes\[2\]\.unit/);
    const ok = await OmeImage.open(p, { units: { space: "nanometer" } });
    expect(ok.voxelSizeUm[0]).toBeCloseTo(0.0005, 10);
  });

  it("names the chunk of a truncated or corrupt chunk, and rejects an unknown codec", async () => {
    const p = join(dir, "corrupt.zarr");
    for (const [name, codec] of [
      ["blosc", { name: "blosc", cname: "lz4", shuffle: "byte" }],
      ["zstd", { name: "zstd" }],
      ["gzip", { name: "gzip" }],
      ["raw", { name: "raw" }],
    ] as const) {
      const arr = await ZarrArray.create(`${p}-${name}`, { shape: [16, 16], chunks: [8, 8], dtype: "uint16", codec, overwrite: true });
      await arr.write([0, 0], { data: new Uint16Array(256).map((_, i) => i), shape: [16, 16] });
      const f = arr.chunkPath([1, 0]);
      const bytes = readFileSync(f);
      writeFileSync(f, bytes.subarray(0, Math.max(1, bytes.length - 9)));
      await expect(arr.read()).rejects.toThrow(new RegExp(`${name === "raw" ? "wrong size" : "truncated|corrupt"}.*1[./]0`));
    }
    const q = join(dir, "unknown-codec.zarr");
    await ZarrArray.create(q, { shape: [4], chunks: [4], dtype: "uint8" });
    const meta = JSON.parse(readFileSync(join(q, ".zarray"), "utf8"));
    meta.compressor = { id: "lzma" };
    writeFileSync(join(q, ".zarray"), JSON.stringify(meta));
    await expect(ZarrArray.open(q)).rejects.toThrow(/compressor\.id.*lzma/);
  });

  it("rejects dtype and shape mismatches and out-of-bounds regions", async () => {
    const arr = await ZarrArray.create(join(dir, "mm.zarr"), { shape: [10, 10], chunks: [4, 4], dtype: "uint16" });
    await expect(arr.write([0, 0], { data: new Float32Array(4), shape: [2, 2] })).rejects.toThrow(/dtype mismatch.*uint16.*float32/);
    await expect(arr.write([0, 0], { data: new Uint16Array(3), shape: [2, 2] })).rejects.toThrow(/does not match its shape/);
    await expect(arr.read([[0, 11], [0, 10]])).rejects.toThrow(/out of bounds.*\[10, 10\]/);
    await expect(arr.write([9, 9], { data: new Uint16Array(4), shape: [2, 2] })).rejects.toThrow(/out of bounds/);
    const img = await OmeImage.create(join(dir, "t.ome.zarr"), { channels: ["phase"], timePointsH: [0, 1], shapeZYX: [4, 4, 4], voxelSizeUm: [1, 1, 1], dtype: "uint8" });
    await expect(img.readVolume(2, "phase")).rejects.toThrow(/time index out of range/);
    await expect(img.readVolume(0, "absorption")).rejects.toThrow(/no such channel.*phase/);
  });

  it("refuses to create over an existing image unless asked", async () => {
    const p = join(dir, "exists.ome.zarr");
    const spec = { channels: ["phase"], timePointsH: [0], shapeZYX: [4, 4, 4] as [number, number, number], voxelSizeUm: [1, 1, 1] as [number, number, number], dtype: "uint8" as const };
    await OmeImage.create(p, spec);
    await expect(OmeImage.create(p, spec)).rejects.toThrow(/already exists/);
    await OmeImage.create(p, { ...spec, overwrite: true });
    expect(existsSync(join(p, "0", ".zarray"))).toBe(true);
    rmSync(p, { recursive: true });
  });
});
