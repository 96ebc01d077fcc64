/**
 * TIFF reading checked against the arrays Python wrote with independent writers (tifffile; Pillow on libtiff for
 * LZW, PackBits and the predictors), and refusal of inputs we cannot read correctly, naming the file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { FileFormatError } from "../../src/util/errors.js";
import { deflateDecode, packbitsDecode } from "../../src/volume/import/decompress.js";
import { listTiffSlices, naturalCompare, readTiffPages, readTiffPixels, TiffStackSource } from "../../src/volume/import/index.js";
import { hasPythonModules } from "../helpers/python.js";
import { firstDifference, makeFixtures, PY_MODULES, type Fixtures } from "./fixtures.js";

describe("naturalCompare", () => {
  it("orders numbered slices by value, not by character", () => {
    const names = ["s10.tif", "s9.tif", "s1.tif", "s100.tif", "s2.tif", "a.tif"];
    expect([...names].sort(naturalCompare)).toEqual(["a.tif", "s1.tif", "s2.tif", "s9.tif", "s10.tif", "s100.tif"]);
    expect(["x_010.tif", "x_9.tif"].sort(naturalCompare)).toEqual(["x_9.tif", "x_010.tif"]);
  });
});

describe("decoders", () => {
  it("PackBits: the worked example of the TIFF 6.0 specification (section 9)", () => {
    const packed = [0xfe, 0xaa, 0x02, 0x80, 0x00, 0x2a, 0xfd, 0xaa, 0x03, 0x80, 0x00, 0x2a, 0x22, 0xf7, 0xaa];
    const unpacked = [0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0xaa, 0xaa, 0xaa, 0xaa, 0x80, 0x00, 0x2a, 0x22, ...new Array(10).fill(0xaa)];
    expect(Array.from(packbitsDecode(new Uint8Array(packed), unpacked.length))).toEqual(unpacked);
    expect(() => packbitsDecode(new Uint8Array(packed), unpacked.length + 1)).toThrow(/ends after 24 of 25/);
  });
  it("Deflate: node's own deflate round-trips; short or corrupt streams are errors", () => {
    const raw = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 251);
    const z = deflateSync(raw);
    expect(Array.from(deflateDecode(z, 300))).toEqual(Array.from(raw));
    expect(Array.from(deflateDecode(z, 120))).toEqual(Array.from(raw.subarray(0, 120)));
    expect(() => deflateDecode(z, 301)).toThrow(/ends after 300 of 301/);
    expect(() => deflateDecode(new Uint8Array([1, 2, 3]), 10)).toThrow(/corrupt/);
  });
});

describe.skipIf(!hasPythonModules(...PY_MODULES))("TIFF reader vs Python writers", () => {
  let fx: Fixtures;
  beforeAll(() => {
    fx = makeFixtures();
  });
  afterAll(() => fx?.cleanup());

  const cases: Array<[string, string, string]> = [
    ["uint16 little-endian strips, uncompressed (tifffile)", "u16", "u16"],
    ["float32 big-endian 16x16 tiles (tifffile)", "f32be", "f32"],
    ["uint16 Deflate + horizontal predictor (tifffile)", "deflate", "deflate"],
    ["uint16 LZW (libtiff)", "lzw16", "lzw16"],
    ["uint16 LZW + horizontal predictor (libtiff)", "lzw16p", "lzw16p"],
    ["float32 Deflate + floating-point predictor (libtiff)", "fpred", "fpred"],
    ["uint8 PackBits (libtiff)", "packbits", "packbits"],
    ["int16 big-endian Deflate + predictor in tiles (tifffile)", "bepred", "bepred"],
    ["uint8 big-endian multi-page Deflate file (tifffile)", "multipage.tif", "multipage"],
    ["float32 BigTIFF multi-page file (tifffile)", "bigtiff.tif", "bigtiff"],
  ];
  for (const [label, src, truthName] of cases) {
    it(label, async () => {
      const truth = fx.truth(truthName);
      const stack = TiffStackSource.open(fx.path(src));
      expect(stack.shapeZYX).toEqual(truth.shape);
      const slab = await stack.readSlab(0, stack.shapeZYX[0]);
      expect(slab.data.constructor).toBe(truth.data.constructor);
      expect(firstDifference(slab.data, truth.data)).toBe(-1);
      // A slab from the middle is the same part of the truth.
      if (stack.shapeZYX[0] >= 3) {
        const part = await stack.readSlab(1, 3);
        const plane = stack.shapeZYX[1] * stack.shapeZYX[2];
        expect(firstDifference(part.data, truth.data.subarray(plane, 3 * plane))).toBe(-1);
      }
    });
  }

  it("sorts a folder by slice number (slice_2 before slice_10)", () => {
    const files = listTiffSlices(fx.path("u16")).map((f) => f.split(/[\\/]/).pop());
    expect(files).toEqual(Array.from({ length: 11 }, (_, z) => `slice_${z}.tif`));
  });

  it("reads only IFDs when validating: page metadata matches what tifffile wrote", () => {
    const [p] = readTiffPages(join(fx.path("f32be"), "recon_00000.tiff"));
    expect(p).toMatchObject({ width: 35, height: 21, dtype: "float32", littleEndian: false, tiled: true, blockWidth: 16, blockHeight: 16 });
    expect(p!.offsets.length).toBe(Math.ceil(35 / 16) * Math.ceil(21 / 16));
    const big = readTiffPages(fx.path("bigtiff.tif"));
    expect(big.length).toBe(6);
    expect(big[0]!.bigTiff).toBe(true);
  });

  describe("bad inputs name the file", () => {
    const expectFileError = (fn: () => unknown, file: string, text: RegExp) => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(FileFormatError);
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toMatch(text);
    };
    it("missing folder", () => expectFileError(() => TiffStackSource.open(fx.path("nope")), fx.path("nope"), /not found/));
    it("folder without TIFFs", () => expectFileError(() => TiffStackSource.open(fx.path("empty")), fx.path("empty"), /no TIFF files/));
    it("a slice of another size", () =>
      expectFileError(() => TiffStackSource.open(fx.path("bad_size")), join(fx.path("bad_size"), "s1.tif"), /size differs.*ImageWidth.*17 x 20.*16 x 20/));
    it("a slice of another sample type", () =>
      expectFileError(() => TiffStackSource.open(fx.path("bad_dtype")), join(fx.path("bad_dtype"), "s2.tif"), /sample type differs.*uint16.*float32/));
    it("unsupported compression", () =>
      expectFileError(() => TiffStackSource.open(fx.path("bad_compression")), join(fx.path("bad_compression"), "s1.tif"), /Compression \(259\).*got: 7 \(JPEG\)/));
    it("a gap in the slice numbering", () =>
      expectFileError(() => TiffStackSource.open(fx.path("bad_gap")), join(fx.path("bad_gap"), "s3.tif"), /gap/));
    it("gaps are accepted when asked for", () => {
      expect(TiffStackSource.open(fx.path("bad_gap"), { allowGaps: true }).shapeZYX[0]).toBe(3);
    });
    it("a truncated file fails validation", () =>
      expectFileError(() => TiffStackSource.open(fx.path("bad_truncated")), join(fx.path("bad_truncated"), "s1.tif"), /past the end of the file/));
    it("an unnumbered TIFF among numbered slices, unless a pattern selects the slices", async () => {
      const d = join(fx.dir, "with_dark");
      mkdirSync(d, { recursive: true });
      for (let z = 0; z < 11; z++) copyFileSync(join(fx.path("u16"), `slice_${z}.tif`), join(d, `slice_${z}.tif`));
      copyFileSync(join(fx.path("packbits"), "p_000.tif"), join(d, "dark.tif"));
      expectFileError(() => TiffStackSource.open(d), join(d, "dark.tif"), /no slice number/);
      const s = TiffStackSource.open(d, { pattern: /^slice_/ });
      expect(firstDifference((await s.readSlab(0, 11)).data, fx.truth("u16").data)).toBe(-1);
    });
    it("a file that is not a TIFF", () => {
      const d = join(fx.dir, "not_tiff");
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, "s0.tif"), "P5 not a tiff at all");
      expectFileError(() => TiffStackSource.open(d), join(d, "s0.tif"), /not a TIFF/);
    });
    it("corrupt compressed data", () => {
      const [p] = readTiffPages(join(fx.path("lzw16"), "s0.tif"));
      const broken = { ...p!, byteCounts: p!.byteCounts.map((n) => Math.floor(n / 4)) };
      expectFileError(() => readTiffPixels(broken), join(fx.path("lzw16"), "s0.tif"), /cannot decode.*LZW/);
    });
  });
});
