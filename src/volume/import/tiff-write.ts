/**
 * Writing grey-scale slice stacks as baseline TIFF files (one uncompressed little-endian strip per slice, one file
 * per z slice), the layout reconstruction software writes at beamlines. It exists so that examples and tests can
 * make "a user's scan" that goes through `importTiffStack` exactly as beamline files do; it is not an export format
 * for results (OME-Zarr is).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ParameterError } from "../../util/errors.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { BYTES_PER_ELEMENT, dataTypeOf, type DataType, type NdArray, type TypedArray } from "../types.js";

/** TIFF SampleFormat (1 unsigned, 2 signed, 3 float) of each dtype. */
const SAMPLE_FORMAT: Record<DataType, number> = { uint8: 1, int8: 2, uint16: 1, int16: 2, uint32: 1, int32: 2, float32: 3, float64: 3 };

/** Tag types of the TIFF 6.0 specification used here. */
const SHORT = 3;
const LONG = 4;

/** One 2D slice (height x width, row-major) as the bytes of a single-page little-endian TIFF. */
export function encodeTiffSlice(pixels: TypedArray, width: number, height: number): Uint8Array {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0))
    throw new ParameterError("slice size must be positive integers", { field: "width x height", got: `${width} x ${height}` });
  if (pixels.length !== width * height)
    throw new ParameterError("pixel count differs from width x height", { field: "pixels", expected: String(width * height), got: String(pixels.length) });
  const dtype = dataTypeOf(pixels);
  const bytesPerSample = BYTES_PER_ELEMENT[dtype];
  const tags: Array<[tag: number, type: number, value: number]> = [
    [256, LONG, width], // ImageWidth
    [257, LONG, height], // ImageLength
    [258, SHORT, 8 * bytesPerSample], // BitsPerSample
    [259, SHORT, 1], // Compression: none
    [262, SHORT, 1], // PhotometricInterpretation: BlackIsZero
    [273, LONG, 0], // StripOffsets, filled in below
    [277, SHORT, 1], // SamplesPerPixel
    [278, LONG, height], // RowsPerStrip: the whole slice in one strip
    [279, LONG, pixels.length * bytesPerSample], // StripByteCounts
    [284, SHORT, 1], // PlanarConfiguration: chunky
    [339, SHORT, SAMPLE_FORMAT[dtype]], // SampleFormat
  ];
  const ifdOffset = 8;
  const ifdBytes = 2 + tags.length * 12 + 4;
  // pixel data after the IFD, on an 8-byte boundary so every sample type is aligned
  const dataOffset = Math.ceil((ifdOffset + ifdBytes) / 8) * 8;
  const out = new Uint8Array(dataOffset + pixels.length * bytesPerSample);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49], 0); // "II": little endian
  view.setUint16(2, 42, true);
  view.setUint32(4, ifdOffset, true);
  view.setUint16(ifdOffset, tags.length, true);
  tags.forEach(([tag, type, value], i) => {
    const at = ifdOffset + 2 + i * 12;
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, 1, true);
    if (type === SHORT) view.setUint16(at + 8, value, true);
    else view.setUint32(at + 8, tag === 273 ? dataOffset : value, true);
  });
  view.setUint32(ifdOffset + 2 + tags.length * 12, 0, true); // no next IFD
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  // TypedArrays hold the host's byte order; the file is little endian
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 || bytesPerSample === 1) out.set(bytes, dataOffset);
  else for (let i = 0; i < pixels.length; i++) for (let b = 0; b < bytesPerSample; b++) out[dataOffset + i * bytesPerSample + b] = bytes[i * bytesPerSample + bytesPerSample - 1 - b]!;
  return out;
}

export interface TiffStackWriteOptions {
  /** File name before the slice number (default "slice_"). */
  prefix?: string;
  /** Digits of the zero-padded slice number (default: enough for the stack, at least 4). */
  digits?: number;
}

/** Writes a (z, y, x) volume as one TIFF file per z slice into `dir`; returns the file paths in z order. */
export function writeTiffStack(dir: string, volume: NdArray, options: TiffStackWriteOptions = {}): string[] {
  if (volume.shape.length !== 3) throw new ParameterError("a slice stack needs a 3D (z, y, x) volume", { field: "shape", got: volume.shape.join(" x ") });
  const [nz, ny, nx] = volume.shape as [number, number, number];
  const prefix = options.prefix ?? "slice_";
  const digits = options.digits ?? Math.max(4, String(nz - 1).length);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let z = 0; z < nz; z++) {
    const path = join(dir, `${prefix}${String(z).padStart(digits, "0")}.tif`);
    writeFileAtomic(path, encodeTiffSlice(volume.data.subarray(z * ny * nx, (z + 1) * ny * nx), nx, ny));
    files.push(path);
  }
  return files;
}
