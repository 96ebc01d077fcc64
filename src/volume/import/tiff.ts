/**
 * Grey-scale TIFF reading for beamline slice stacks: classic TIFF and BigTIFF, little and big endian, one sample per
 * pixel of 8/16/32-bit integers or 32/64-bit floats, strips or tiles, uncompressed, LZW, Deflate or PackBits, with
 * or without a predictor. Everything else is refused with a FileFormatError naming the file and the tag.
 *
 * `readTiffPages` reads only the IFDs (a few hundred bytes per page), so a whole stack can be validated before any
 * pixel is decoded; `readTiffPixels` decodes one page.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { endianness } from "node:os";
import { FileFormatError } from "../../util/errors.js";
import { BYTES_PER_ELEMENT, typedArrayFor, viewAs, type DataType, type TypedArray } from "../types.js";
import {
  DecodeError,
  deflateDecode,
  lzwDecode,
  packbitsDecode,
  swapBytes,
  undoFloatingPointPredictor,
  undoHorizontalDifferencing,
} from "./decompress.js";

export interface TiffPage {
  file: string;
  /** Index among the file's full-resolution pages (reduced-resolution pages are skipped). */
  index: number;
  width: number;
  height: number;
  dtype: DataType;
  littleEndian: boolean;
  bigTiff: boolean;
  /** TIFF Compression tag value: 1 none, 5 LZW, 8 or 32946 Deflate, 32773 PackBits. */
  compression: number;
  /** 1 none, 2 horizontal differencing, 3 floating point. */
  predictor: number;
  /** Strips: block width = image width; tiles: the tile size. */
  blockWidth: number;
  blockHeight: number;
  tiled: boolean;
  offsets: number[];
  byteCounts: number[];
  description?: string;
  /**
   * XResolution / YResolution (pixels per unit) and ResolutionUnit (1 none, 2 inch, 3 cm) when the page has them:
   * what label-layer import checks the voxel size against (ImageJ writes 1 / um with unit "none" and unit=micron in
   * its description).
   */
  resolution?: { x: number; y: number; unit: number };
}

const TAG = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  FillOrder: 266,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  PlanarConfiguration: 284,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SampleFormat: 339,
} as const;

const COMPRESSION_NAMES: Record<number, string> = {
  1: "none",
  2: "CCITT RLE",
  3: "CCITT G3",
  4: "CCITT G4",
  5: "LZW",
  6: "old JPEG",
  7: "JPEG",
  8: "Deflate",
  32773: "PackBits",
  32946: "Deflate (old code)",
  34712: "JPEG 2000",
  34925: "LZMA",
  50000: "Zstandard",
  50001: "WebP",
  50013: "Deflate (JPEG XL)",
};
const SUPPORTED_COMPRESSION = "1 (none), 5 (LZW), 8 or 32946 (Deflate), 32773 (PackBits)";

/** bytes per value of each IFD field type */
const TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

const HOST_LITTLE_ENDIAN = endianness() === "LE";

function tagLabel(tag: number): string {
  const name = Object.entries(TAG).find(([, v]) => v === tag)?.[0] ?? "tag";
  return `${name} (${tag})`;
}

/** Positioned reads of one open file, bounds-checked against its size. */
class FileReader {
  readonly fd: number;
  readonly size: number;
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, "r");
    } catch (e) {
      throw new FileFormatError("cannot open TIFF file", { path, got: (e as NodeJS.ErrnoException).code ?? String(e) });
    }
    this.size = fstatSync(this.fd).size;
  }
  read(offset: number, length: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.size)
      throw new FileFormatError("TIFF data points past the end of the file (truncated?)", {
        path: this.path,
        location: what,
        expected: `bytes within 0..${this.size}`,
        got: `${length} bytes at offset ${offset}`,
      });
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw new FileFormatError("unexpected end of file", { path: this.path, field: what });
      done += n;
    }
    return buf;
  }
  close(): void {
    closeSync(this.fd);
  }
}

interface RawEntry {
  type: number;
  count: number;
  /** Bytes of the value (inline or fetched). */
  bytes: Uint8Array;
}

function numbersOf(e: RawEntry, le: boolean): number[] {
  const dv = new DataView(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength);
  const out: number[] = new Array(e.count);
  for (let i = 0; i < e.count; i++) {
    switch (e.type) {
      case 1:
      case 2:
      case 7:
        out[i] = dv.getUint8(i);
        break;
      case 6:
        out[i] = dv.getInt8(i);
        break;
      case 3:
        out[i] = dv.getUint16(2 * i, le);
        break;
      case 8:
        out[i] = dv.getInt16(2 * i, le);
        break;
      case 4:
      case 13:
        out[i] = dv.getUint32(4 * i, le);
        break;
      case 9:
        out[i] = dv.getInt32(4 * i, le);
        break;
      case 5:
        out[i] = dv.getUint32(8 * i, le) / dv.getUint32(8 * i + 4, le);
        break;
      case 10:
        out[i] = dv.getInt32(8 * i, le) / dv.getInt32(8 * i + 4, le);
        break;
      case 11:
        out[i] = dv.getFloat32(4 * i, le);
        break;
      case 12:
        out[i] = dv.getFloat64(8 * i, le);
        break;
      case 16:
      case 18:
        out[i] = Number(dv.getBigUint64(8 * i, le));
        break;
      case 17:
        out[i] = Number(dv.getBigInt64(8 * i, le));
        break;
      default:
        out[i] = NaN;
    }
  }
  return out;
}

function dtypeFor(path: string, bits: number, format: number): DataType {
  const table: Record<string, DataType> = {
    "1/8": "uint8",
    "2/8": "int8",
    "1/16": "uint16",
    "2/16": "int16",
    "1/32": "uint32",
    "2/32": "int32",
    "3/32": "float32",
    "3/64": "float64",
  };
  const dt = table[`${format}/${bits}`];
  if (!dt)
    throw new FileFormatError("unsupported TIFF sample type", {
      path,
      field: `${tagLabel(TAG.BitsPerSample)} / ${tagLabel(TAG.SampleFormat)}`,
      expected: "8/16/32-bit unsigned or signed integers (SampleFormat 1/2) or 32/64-bit floats (SampleFormat 3)",
      got: `BitsPerSample ${bits}, SampleFormat ${format}`,
    });
  return dt;
}

/**
 * Reads every IFD of a TIFF file (no pixel data) and checks each full-resolution page is something
 * `readTiffPixels` can decode. Reduced-resolution pages (NewSubfileType bit 0, e.g. thumbnails) are skipped.
 */
export function readTiffPages(path: string): TiffPage[] {
  const f = new FileReader(path);
  try {
    return parsePages(f);
  } finally {
    f.close();
  }
}

function parsePages(f: FileReader): TiffPage[] {
  const path = f.path;
  if (f.size < 8) throw new FileFormatError("file is too short to be a TIFF", { path, expected: "at least an 8-byte header", got: `${f.size} bytes` });
  const head = f.read(0, Math.min(16, f.size), "header");
  const order = String.fromCharCode(head[0]!, head[1]!);
  if (order !== "II" && order !== "MM")
    throw new FileFormatError("not a TIFF file", { path, field: "byte-order mark", expected: "II or MM", got: JSON.stringify(order) });
  const le = order === "II";
  const hv = new DataView(head.buffer);
  const magic = hv.getUint16(2, le);
  if (magic !== 42 && magic !== 43) throw new FileFormatError("not a TIFF file", { path, field: "magic number", expected: "42 (TIFF) or 43 (BigTIFF)", got: String(magic) });
  const big = magic === 43;
  if (big && (head.length < 16 || hv.getUint16(4, le) !== 8))
    throw new FileFormatError("malformed BigTIFF header", { path, field: "offset size", expected: "8" });
  let ifdOffset = big ? Number(hv.getBigUint64(8, le)) : hv.getUint32(4, le);
  const entrySize = big ? 20 : 12;
  const countSize = big ? 8 : 2;
  const inlineSize = big ? 8 : 4;
  const seen = new Set<number>();
  const pages: TiffPage[] = [];
  let ifdIndex = 0;
  while (ifdOffset !== 0) {
    if (seen.has(ifdOffset)) throw new FileFormatError("TIFF IFD chain loops", { path, location: `IFD ${ifdIndex} at offset ${ifdOffset}` });
    seen.add(ifdOffset);
    const cb = f.read(ifdOffset, countSize, `IFD ${ifdIndex} entry count`);
    const cdv = new DataView(cb.buffer);
    const n = big ? Number(cdv.getBigUint64(0, le)) : cdv.getUint16(0, le);
    const body = f.read(ifdOffset + countSize, n * entrySize + inlineSize, `IFD ${ifdIndex}`);
    const dv = new DataView(body.buffer);
    const entries = new Map<number, RawEntry>();
    for (let i = 0; i < n; i++) {
      const o = i * entrySize;
      const tag = dv.getUint16(o, le);
      const type = dv.getUint16(o + 2, le);
      const count = big ? Number(dv.getBigUint64(o + 4, le)) : dv.getUint32(o + 4, le);
      const size = TYPE_SIZE[type];
      if (size === undefined) continue; // unknown field types are skipped, as TIFF 6.0 requires
      const nbytes = size * count;
      if (nbytes > f.size) throw new FileFormatError("TIFF tag has an impossible count", { path, field: tagLabel(tag), got: String(count) });
      const valueAt = o + 4 + (big ? 8 : 4);
      let bytes: Uint8Array;
      if (nbytes <= inlineSize) bytes = body.slice(valueAt, valueAt + nbytes);
      else {
        const off = big ? Number(dv.getBigUint64(valueAt, le)) : dv.getUint32(valueAt, le);
        bytes = f.read(off, nbytes, tagLabel(tag));
      }
      entries.set(tag, { type, count, bytes });
    }
    const nextAt = n * entrySize;
    const next = big ? Number(dv.getBigUint64(nextAt, le)) : dv.getUint32(nextAt, le);
    const page = pageFrom(path, entries, le, big, pages.length, ifdIndex, f.size);
    if (page) pages.push(page);
    ifdOffset = next;
    ifdIndex++;
  }
  if (!pages.length) throw new FileFormatError("TIFF file has no full-resolution image", { path });
  return pages;
}

function pageFrom(
  path: string,
  entries: Map<number, RawEntry>,
  le: boolean,
  big: boolean,
  index: number,
  ifdIndex: number,
  fileSize: number,
): TiffPage | null {
  const get = (tag: number): number[] | undefined => {
    const e = entries.get(tag);
    return e ? numbersOf(e, le) : undefined;
  };
  const one = (tag: number, fallback?: number): number => {
    const v = get(tag)?.[0] ?? fallback;
    if (v === undefined || !Number.isFinite(v))
      throw new FileFormatError("required TIFF tag is missing", { path, location: `IFD ${ifdIndex}`, field: tagLabel(tag) });
    return v;
  };
  const where = `IFD ${ifdIndex}`;
  const subfile = one(TAG.NewSubfileType, 0);
  if (subfile & 1) return null;
  const width = one(TAG.ImageWidth);
  const height = one(TAG.ImageLength);
  const spp = one(TAG.SamplesPerPixel, 1);
  if (spp !== 1)
    throw new FileFormatError("only grey-scale TIFF slices are supported", { path, location: where, field: tagLabel(TAG.SamplesPerPixel), expected: "1", got: String(spp) });
  const bitsAll = get(TAG.BitsPerSample) ?? [1];
  const bits = bitsAll[0]!;
  const format = get(TAG.SampleFormat)?.[0] ?? 1;
  const dtype = dtypeFor(path, bits, format);
  const compression = one(TAG.Compression, 1);
  if (![1, 5, 8, 32946, 32773].includes(compression))
    throw new FileFormatError("unsupported TIFF compression", {
      path,
      location: where,
      field: tagLabel(TAG.Compression),
      expected: SUPPORTED_COMPRESSION,
      got: `${compression}${COMPRESSION_NAMES[compression] ? ` (${COMPRESSION_NAMES[compression]})` : ""}`,
    });
  const photometric = get(TAG.Photometric)?.[0];
  if (photometric !== undefined && photometric !== 1)
    throw new FileFormatError("unsupported TIFF photometric interpretation", {
      path,
      location: where,
      field: tagLabel(TAG.Photometric),
      expected: "1 (BlackIsZero: larger value = brighter)",
      got: photometric === 0 ? "0 (WhiteIsZero: would invert intensities)" : String(photometric),
    });
  const fillOrder = get(TAG.FillOrder)?.[0] ?? 1;
  if (fillOrder !== 1) throw new FileFormatError("unsupported TIFF bit fill order", { path, location: where, field: tagLabel(TAG.FillOrder), expected: "1", got: String(fillOrder) });
  const predictor = one(TAG.Predictor, 1);
  const isFloat = format === 3;
  if (!(predictor === 1 || (predictor === 2 && !isFloat) || (predictor === 3 && isFloat)))
    throw new FileFormatError("unsupported TIFF predictor for this sample type", {
      path,
      location: where,
      field: tagLabel(TAG.Predictor),
      expected: isFloat ? "1 (none) or 3 (floating point)" : "1 (none) or 2 (horizontal differencing)",
      got: String(predictor),
    });
  const tiled = entries.has(TAG.TileOffsets);
  let blockWidth: number;
  let blockHeight: number;
  let offsets: number[];
  let byteCounts: number[];
  if (tiled) {
    blockWidth = one(TAG.TileWidth);
    blockHeight = one(TAG.TileLength);
    offsets = get(TAG.TileOffsets)!;
    byteCounts = get(TAG.TileByteCounts) ?? [];
  } else {
    blockWidth = width;
    blockHeight = Math.min(one(TAG.RowsPerStrip, height), height);
    offsets = get(TAG.StripOffsets) ?? [];
    byteCounts = get(TAG.StripByteCounts) ?? [];
    if (!offsets.length) throw new FileFormatError("required TIFF tag is missing", { path, location: where, field: tagLabel(TAG.StripOffsets) });
  }
  if (!(blockWidth > 0 && blockHeight > 0 && width > 0 && height > 0))
    throw new FileFormatError("TIFF image or block size is zero", { path, location: where, got: `image ${width}x${height}, block ${blockWidth}x${blockHeight}` });
  const nBlocks = Math.ceil(width / blockWidth) * Math.ceil(height / blockHeight);
  const bps = BYTES_PER_ELEMENT[dtype];
  if (byteCounts.length === 0 && compression === 1 && offsets.length === nBlocks) {
    // StripByteCounts is required, but some writers omit it for uncompressed single-strip images: derive it.
    byteCounts = offsets.map((_, i) => (tiled ? blockWidth * blockHeight : Math.min(blockHeight, height - i * blockHeight) * width) * bps);
  }
  const countField = tiled ? tagLabel(TAG.TileOffsets) : tagLabel(TAG.StripOffsets);
  if (offsets.length !== nBlocks || byteCounts.length !== nBlocks)
    throw new FileFormatError("TIFF strip/tile table has the wrong length", {
      path,
      location: where,
      field: `${countField} / ${tiled ? tagLabel(TAG.TileByteCounts) : tagLabel(TAG.StripByteCounts)}`,
      expected: `${nBlocks} entries`,
      got: `${offsets.length} offsets, ${byteCounts.length} byte counts`,
    });
  // Checked here so a truncated slice fails validation, before an import writes anything.
  for (let i = 0; i < nBlocks; i++)
    if (offsets[i]! + byteCounts[i]! > fileSize)
      throw new FileFormatError("TIFF data points past the end of the file (truncated?)", {
        path,
        location: `${where}, ${tiled ? "tile" : "strip"} ${i}`,
        field: countField,
        expected: `bytes within 0..${fileSize}`,
        got: `${byteCounts[i]} bytes at offset ${offsets[i]}`,
      });
  const xres = get(282)?.[0];
  const yres = get(283)?.[0];
  const resolution = xres !== undefined && yres !== undefined && xres > 0 && yres > 0 ? { x: xres, y: yres, unit: get(296)?.[0] ?? 2 } : undefined;
  const descEntry = entries.get(TAG.ImageDescription);
  const description = descEntry ? Buffer.from(descEntry.bytes).toString("latin1").replace(/\0+$/, "") : undefined;
  return {
    file: path,
    index,
    width,
    height,
    dtype,
    littleEndian: le,
    bigTiff: big,
    compression,
    predictor,
    blockWidth,
    blockHeight,
    tiled,
    offsets,
    byteCounts,
    ...(description !== undefined ? { description } : {}),
    ...(resolution ? { resolution } : {}),
  };
}

/**
 * Decodes one page into a new C-ordered (height, width) typed array of the page's dtype, in native byte order.
 * Pass `into` (and `intoOffset`, in elements) to decode straight into a larger buffer such as a z slab.
 */
export function readTiffPixels(page: TiffPage, into?: TypedArray, intoOffset = 0): TypedArray {
  const out = into ?? typedArrayFor(page.dtype, page.width * page.height);
  if (out.length < intoOffset + page.width * page.height)
    throw new RangeError(`output buffer too small for a ${page.width}x${page.height} page`);
  const f = new FileReader(page.file);
  try {
    decodePage(f, page, out, intoOffset);
  } finally {
    f.close();
  }
  return out;
}

function decodePage(f: FileReader, page: TiffPage, out: TypedArray, outOffset: number): void {
  if (!HOST_LITTLE_ENDIAN) throw new FileFormatError("TIFF decoding needs a little-endian host", { path: page.file });
  const { width, height, blockWidth: bw, blockHeight: bh, dtype } = page;
  const bps = BYTES_PER_ELEMENT[dtype];
  const across = Math.ceil(width / bw);
  for (let b = 0; b < page.offsets.length; b++) {
    const row0 = Math.floor(b / across) * bh;
    const col0 = (b % across) * bw;
    // Strips hold only the rows that remain; tiles are always full size (padded at the image edges).
    const rows = page.tiled ? bh : Math.min(bh, height - row0);
    const expected = rows * bw * bps;
    const where = `page ${page.index}, ${page.tiled ? "tile" : "strip"} ${b}`;
    let raw: Uint8Array;
    const stored = page.byteCounts[b]!;
    try {
      if (page.compression === 1) {
        if (stored < expected)
          throw new DecodeError(`uncompressed ${page.tiled ? "tile" : "strip"} has ${stored} bytes, needs ${expected}`);
        raw = f.read(page.offsets[b]!, expected, where);
      } else {
        const src = f.read(page.offsets[b]!, stored, where);
        if (page.compression === 5) raw = lzwDecode(src, expected);
        else if (page.compression === 32773) raw = packbitsDecode(src, expected);
        else raw = deflateDecode(src, expected);
        // Typed-array views need element alignment; zlib output may sit at any offset of a pooled buffer.
        if (raw.byteOffset % bps !== 0) raw = raw.slice();
      }
    } catch (e) {
      if (e instanceof DecodeError)
        throw new FileFormatError("cannot decode TIFF image data", { path: page.file, location: where, field: tagLabel(TAG.Compression), got: e.message }, { cause: e });
      throw e;
    }
    let samples: TypedArray;
    if (page.predictor === 3) {
      samples = viewAs(dtype, undoFloatingPointPredictor(raw, bw, bps).buffer, 0, rows * bw);
    } else {
      if (!page.littleEndian && bps > 1) swapBytes(raw, bps);
      samples = viewAs(dtype, raw.buffer, raw.byteOffset, rows * bw);
      if (page.predictor === 2) undoHorizontalDifferencing(samples as Exclude<TypedArray, Float32Array | Float64Array>, bw);
    }
    const validRows = Math.min(rows, height - row0);
    const validCols = Math.min(bw, width - col0);
    if (validCols === bw && validCols === width) {
      out.set(samples.subarray(0, validRows * bw), outOffset + row0 * width);
    } else {
      for (let r = 0; r < validRows; r++)
        out.set(samples.subarray(r * bw, r * bw + validCols), outOffset + (row0 + r) * width + col0);
    }
  }
}
