/**
 * A z stack of TIFF slices: either a folder with one 2D TIFF per slice (sorted by the numbers in the file names) or
 * one multi-page TIFF whose pages are the slices. Opening validates the whole stack from the IFDs alone (same size,
 * same sample type, decodable compression) so an import fails before writing anything rather than at slice 1873.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { FileFormatError } from "../../util/errors.js";
import { BYTES_PER_ELEMENT, typedArrayFor, type DataType, type NdArray } from "../types.js";
import { hashFileSample, type VolumeSource } from "./source.js";
import { readTiffPages, readTiffPixels, type TiffPage } from "./tiff.js";

const TIFF_NAME = /\.tiff?$/i;

/**
 * Compares file names the way people number slices: digit runs by value (slice_2 before slice_10), the rest by
 * code point, so the order does not depend on the locale.
 */
export function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+(?=\d)/, "");
      const ny = y.replace(/^0+(?=\d)/, "");
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      // Equal value, different zero padding: shorter first, so the order is total.
      if (x.length !== y.length) return x.length - y.length;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}

/** The last number in a file name (slice_0042.tif -> 42), or undefined. */
export function sliceNumber(name: string): number | undefined {
  const m = name.replace(TIFF_NAME, "").match(/(\d+)(?!.*\d)/);
  return m ? Number(m[1]) : undefined;
}

export interface TiffStackOptions {
  /**
   * Accept numbered slices with gaps in the numbering (slice_1, slice_3, ...). Default false: a gap usually means a
   * missing file, which would shift every slice after it in z.
   */
  allowGaps?: boolean;
  /** Only files whose names match (e.g. /^recon_\d+\.tiff?$/), for folders that also hold darks, flats or logs. */
  pattern?: RegExp;
}

/** The TIFF files of a slice folder in z order, after checking their numbering. */
export function listTiffSlices(dir: string, options: TiffStackOptions = {}): string[] {
  const names = readdirSync(dir)
    .filter((n) => TIFF_NAME.test(n) && !n.startsWith(".") && (options.pattern ? options.pattern.test(n) : true))
    .filter((n) => statSync(join(dir, n)).isFile())
    .sort(naturalCompare);
  if (!names.length) throw new FileFormatError("no TIFF files in the slice folder", { path: dir, expected: "files named *.tif or *.tiff" });
  const numbers = names.map(sliceNumber);
  const unnumbered = names.findIndex((_, i) => numbers[i] === undefined);
  if (unnumbered >= 0 && numbers.some((n) => n !== undefined))
    throw new FileFormatError("a TIFF file in the slice folder has no slice number", {
      path: join(dir, names[unnumbered]!),
      expected: "numbered slice files only (pass pattern to select them from a folder with other TIFFs)",
      got: names[unnumbered]!,
    });
  if (numbers.every((n): n is number => n !== undefined)) {
    for (let i = 1; i < numbers.length; i++) {
      if (numbers[i] === numbers[i - 1])
        throw new FileFormatError("two slice files have the same number", {
          path: join(dir, names[i]!),
          expected: "one file per slice number",
          got: `${names[i - 1]} and ${names[i]} are both slice ${numbers[i]}`,
        });
      if (!options.allowGaps && numbers[i]! !== numbers[i - 1]! + 1)
        throw new FileFormatError("slice numbering has a gap (a missing file?)", {
          path: join(dir, names[i]!),
          expected: `slice ${numbers[i - 1]! + 1} after ${names[i - 1]}`,
          got: `slice ${numbers[i]} (pass allowGaps: true if slices were skipped on purpose)`,
        });
    }
  }
  return names.map((n) => join(dir, n));
}

/** Checks every page against the first: same size and sample type. Errors name the odd file. */
function checkUniform(pages: TiffPage[]): void {
  const ref = pages[0]!;
  for (const p of pages) {
    const where = p.file === ref.file ? `page ${p.index}` : undefined;
    if (p.width !== ref.width || p.height !== ref.height)
      throw new FileFormatError("slice size differs from the first slice", {
        path: p.file,
        ...(where ? { location: where } : {}),
        field: "ImageWidth (256) x ImageLength (257)",
        expected: `${ref.width} x ${ref.height} as in ${basename(ref.file)}`,
        got: `${p.width} x ${p.height}`,
      });
    if (p.dtype !== ref.dtype)
      throw new FileFormatError("slice sample type differs from the first slice", {
        path: p.file,
        ...(where ? { location: where } : {}),
        field: "BitsPerSample (258) / SampleFormat (339)",
        expected: `${ref.dtype} as in ${basename(ref.file)}`,
        got: p.dtype,
      });
  }
}

export class TiffStackSource implements VolumeSource {
  readonly kind: string;
  readonly shapeZYX: [number, number, number];
  readonly dtype: DataType;
  readonly voxelSizeUm = undefined;

  private constructor(
    readonly path: string,
    /** One page per z slice, in z order. */
    readonly pages: TiffPage[],
    kind: string,
  ) {
    this.kind = kind;
    const p = pages[0]!;
    this.shapeZYX = [pages.length, p.height, p.width];
    this.dtype = p.dtype;
  }

  /** Opens a slice folder or a multi-page TIFF file and validates every slice's IFD. */
  static open(path: string, options: TiffStackOptions = {}): TiffStackSource {
    if (!existsSync(path)) throw new FileFormatError("TIFF stack not found", { path, expected: "a folder of TIFF slices or a multi-page TIFF file" });
    if (statSync(path).isDirectory()) {
      const files = listTiffSlices(path, options);
      const pages: TiffPage[] = [];
      for (const f of files) {
        const ps = readTiffPages(f);
        if (ps.length !== 1)
          throw new FileFormatError("a slice file holds more than one image", { path: f, expected: "one page per slice file", got: `${ps.length} pages` });
        pages.push(ps[0]!);
      }
      checkUniform(pages);
      return new TiffStackSource(path, pages, "tiff-stack");
    }
    const pages = readTiffPages(path);
    checkUniform(pages);
    return new TiffStackSource(path, pages, "tiff-multipage");
  }

  fingerprint(): string {
    const h = createHash("sha256");
    h.update(`${this.kind};${this.shapeZYX.join("x")};${this.dtype};`);
    const files = [...new Set(this.pages.map((p) => p.file))];
    for (const f of files) {
      h.update(`${basename(f)};`);
      hashFileSample(h, f);
    }
    // Strip/tile layout changes with the content of compressed data, and costs nothing to include.
    for (const p of this.pages) h.update(`${p.compression}:${p.offsets.join(",")}:${p.byteCounts.join(",")};`);
    return h.digest("hex");
  }

  async readSlab(z0: number, z1: number): Promise<NdArray> {
    const [, ny, nx] = this.shapeZYX;
    const out = typedArrayFor(this.dtype, (z1 - z0) * ny * nx);
    for (let z = z0; z < z1; z++) readTiffPixels(this.pages[z]!, out, (z - z0) * ny * nx);
    return { data: out, shape: [z1 - z0, ny, nx] };
  }

  /** Bytes of one decoded slice. */
  get sliceBytes(): number {
    return this.shapeZYX[1] * this.shapeZYX[2] * BYTES_PER_ELEMENT[this.dtype];
  }

  close(): void {
    /* files are opened per read */
  }
}
