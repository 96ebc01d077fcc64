/**
 * Import of label layers drawn elsewhere (issue 16): a napari-style label TIFF (tifffile.imwrite, zlib, as napari's
 * writer saves a labels layer), an ImageJ TIFF carrying its voxel size, and a plain zarr array become sparse label
 * images (0 -> not annotated, v -> class v - 1); shape and recorded voxel size are checked against the image, and
 * the imported labels are what training reads.
 */
import { describe, expect, it, beforeAll } from "vitest";
import { join } from "node:path";
import { OmeImage, ZarrArray, VolumeError } from "../../src/volume/index.js";
import { importLabelLayer, readLabelLayer } from "../../src/volume/import/labels.js";
import { IGNORE_LABEL } from "../../src/segment/plans.js";
import { readRawVolume } from "../../src/segment/data.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { tempDir } from "../helpers/tmp.js";

const SHAPE: [number, number, number] = [6, 10, 12];
const N = 720;
/** What a user painted: 0 nowhere, 1 electrolyte, 2 void, 3 lithium on slices 1 and 4 only. */
const painted = Uint8Array.from({ length: N }, (_, i) => {
  const z = Math.floor(i / 120);
  return z === 1 || z === 4 ? 1 + ((i * 31) % 3) : 0;
});

let dir: string;
let img: OmeImage;
beforeAll(async () => {
  dir = tempDir();
  img = await OmeImage.create(join(dir, "scan.ome.zarr"), { channels: ["phase", "absorption"], timePointsH: [0, 1.5], shapeZYX: SHAPE, voxelSizeUm: [2, 2, 2], dtype: "float32", chunksZYX: [4, 10, 12] });
  for (const t of [0, 1])
    for (const c of ["phase", "absorption"]) await img.writeVolume(t, c, [0, 0, 0], { data: Float32Array.from({ length: N }, (_, i) => i / N), shape: SHAPE });
});

function expectImported(labels: Uint8Array): void {
  for (let i = 0; i < N; i++) expect(labels[i]).toBe(painted[i] === 0 ? IGNORE_LABEL : painted[i]! - 1);
}

const tifffile = hasPythonModules("tifffile", "numpy");
describe.skipIf(!tifffile)("TIFF label layers (written by tifffile, the library napari and ilastik save TIFFs with)", () => {
  const write = (name: string, kwargs: string) => {
    const path = join(dir, name);
    runPython(`import sys, numpy as np, tifffile\na = np.frombuffer(bytes.fromhex(sys.argv[2]), dtype=np.uint8).reshape(${SHAPE.join(", ")})\ntifffile.imwrite(sys.argv[1], a, ${kwargs})`, [path, Buffer.from(painted).toString("hex")]);
    return path;
  };

  it("a napari-style label TIFF (zlib, no voxel size) becomes sparse labels of one time point; other time points are not annotated", async () => {
    const path = write("napari-labels.tif", "compression='zlib'");
    const layer = await readLabelLayer(path);
    expect(layer.shapeZYX).toEqual(SHAPE);
    expect(layer.voxelSizeUm).toEqual([null, null, null]);
    await expect(importLabelLayer(img, path, "napari")).rejects.toThrow(/time point/); // two time points: which one?
    const res = await importLabelLayer(img, path, "napari", { t: 1 });
    expect(res.voxelSizeCheck.every((s) => /not recorded/.test(s))).toBe(true);
    expect(res.annotatedFraction).toBeCloseTo(2 / 6, 12);
    expect(res.classCounts.reduce((a, b) => a + b, 0)).toBe(240);
    const lab = await img.openLabels("napari");
    expect(lab.status().state).toBe("complete");
    expect(lab.array(0).attributes["ssb-ct-labels"]).toMatchObject({ kind: "import", source: "napari-labels.tif", t: 1 });
    expectImported((await readRawVolume(img, 1, "napari", ["phase"])).labels);
    expect((await readRawVolume(img, 0, "napari", ["phase"])).labels.every((l) => l === IGNORE_LABEL)).toBe(true);
  });

  it("an ImageJ TIFF's voxel size is checked: 2 um matches, 1 um is refused naming both", async () => {
    const ok = write("ij-2um.tif", "imagej=True, resolution=(0.5, 0.5), metadata={'spacing': 2.0, 'unit': 'um'}");
    expect((await readLabelLayer(ok)).voxelSizeUm).toEqual([2, 2, 2]);
    const res = await importLabelLayer(img, ok, "ij", { t: 0 });
    expect(res.voxelSizeCheck).toEqual(["z: 2 um (file) matches 2 um", "y: 2 um (file) matches 2 um", "x: 2 um (file) matches 2 um"]);
    const bad = write("ij-1um.tif", "imagej=True, resolution=(1.0, 1.0), metadata={'spacing': 1.0, 'unit': 'um'}");
    const err = await importLabelLayer(img, bad, "ij1", { t: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeError);
    expect(String((err as Error).message)).toMatch(/voxel size.*expected: 2 um.*got: 1 um/);
    expect(await img.labelNames()).not.toContain("ij1"); // nothing written
  });
});

describe("zarr label layers and the checks that need no peer", () => {
  it("a plain zarr array (napari's zarr labels) imports; a wrong shape or an unmapped value is refused by name", async () => {
    const arr = await ZarrArray.create(join(dir, "layer.zarr"), { shape: [1, ...SHAPE], chunks: [1, 3, 10, 12], dtype: "uint16", zarrFormat: 2 });
    await arr.write([0, 0, 0, 0], { data: Uint16Array.from(painted), shape: [1, ...SHAPE] });
    const res = await importLabelLayer(img, join(dir, "layer.zarr"), "zarr-layer", { t: 0, voxelSizeUm: [2, 2, 2] });
    expect(res.format).toBe("zarr");
    expect(res.voxelSizeCheck[0]).toBe("z: 2 um (option voxelSizeUm) matches 2 um");
    expectImported((await readRawVolume(img, 0, "zarr-layer", ["phase"])).labels);

    const small = await ZarrArray.create(join(dir, "small.zarr"), { shape: [6, 10, 11], chunks: [6, 10, 11], dtype: "uint8", zarrFormat: 2 });
    await expect(importLabelLayer(img, small.path, "small", { t: 0 })).rejects.toThrow(/shape.*expected: 6 x 10 x 12.*got: 6 x 10 x 11/);
    const odd = await ZarrArray.create(join(dir, "odd.zarr"), { shape: [...SHAPE], chunks: [...SHAPE], dtype: "uint8", zarrFormat: 2 });
    await odd.write([0, 0, 0], { data: Uint8Array.from(painted, (v) => (v === 3 ? 9 : v)), shape: [...SHAPE] });
    await expect(importLabelLayer(img, odd.path, "odd", { t: 0 })).rejects.toThrow(/no class.*got: 9/);
    // with a mapping: painted 9 is lithium, 1 electrolyte, 2 void
    const mapped = await importLabelLayer(img, odd.path, "odd", { t: 0, mapping: { 1: 0, 2: 1, 9: 2 } });
    expect(mapped.classCounts).toEqual(res.classCounts);
    await expect(importLabelLayer(img, join(dir, "nowhere.tif"), "x", { t: 0 })).rejects.toThrow(/not found/);
    await expect(importLabelLayer(img, odd.path, "odd", { t: 0, mapping: { 1: 0, 2: 1, 9: 2 } })).rejects.toThrow(/exists/);
  });
});
