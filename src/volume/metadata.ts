/**
 * Zarr array metadata, v2 (`.zarray` + `.zattrs`) and v3 (`zarr.json`), parsed into one internal form and emitted back.
 * Parsing checks every field it relies on, so a malformed store fails here with the file and field named rather than
 * later with a wrong read.
 */
import { VolumeError } from "../util/errors.js";
import { BYTES_PER_ELEMENT, type CodecSpec, type DataType, type StoredForm } from "./types.js";

export interface ArrayMeta {
  zarrFormat: 2 | 3;
  shape: number[];
  chunks: number[];
  dtype: DataType;
  /** Byte order of the stored chunks. */
  littleEndian: boolean;
  fillValue: number;
  codec: CodecSpec;
  /** Separator between chunk indices in keys ("." or "/"). */
  separator: "." | "/";
  /** Key prefix before the chunk indices: "" for v2, "c" for v3 default encoding. */
  keyPrefix: string;
  dimensionNames?: string[];
  attributes: Record<string, unknown>;
  /** Stored chunks differ from C-ordered dtype elements (float16, Fortran order, Delta filter): see StoredForm. */
  stored?: StoredForm;
  /** v3 codecs we do not decode ourselves (sharding, transpose, ...): reads go through zarrita. */
  foreignCodecs?: boolean;
}

const V2_DTYPES: Record<string, DataType> = {
  u1: "uint8",
  i1: "int8",
  u2: "uint16",
  i2: "int16",
  u4: "uint32",
  i4: "int32",
  f4: "float32",
  f8: "float64",
};

const V2_CODE: Record<DataType, string> = {
  uint8: "|u1",
  int8: "|i1",
  uint16: "<u2",
  int16: "<i2",
  uint32: "<u4",
  int32: "<i4",
  float32: "<f4",
  float64: "<f8",
};

const V3_DTYPES = new Set<DataType>(["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"]);

const SHUFFLE_V2: Record<number, "none" | "byte" | "bit"> = { 0: "none", 1: "byte", 2: "bit" };
const SHUFFLE_V3: Record<string, "none" | "byte" | "bit"> = { noshuffle: "none", shuffle: "byte", bitshuffle: "bit" };

function fail(path: string, field: string, expected: string, got: unknown): never {
  throw new VolumeError("invalid zarr metadata", { path, field, expected, got: JSON.stringify(got) });
}

function intArray(path: string, field: string, v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0)) fail(path, field, "array of non-negative integers", v);
  return v as number[];
}

/** Value range of each integer dtype (fill values, OME windows). */
export const INT_RANGE: Partial<Record<DataType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  uint32: [0, 4294967295],
  int32: [-2147483648, 2147483647],
};
const FLOAT32_MAX = 3.4028234663852886e38;

/** A v3 float fill value written as its bit pattern ("0x7fc00000"), read as the number it encodes. */
function hexFloat(path: string, hex: string, dtype: DataType): number {
  const digits = dtype === "float32" ? 8 : 16;
  if (!new RegExp(`^0x[0-9a-fA-F]{${digits}}$`).test(hex)) fail(path, "fill_value", `0x and ${digits} hex digits for ${dtype}`, hex);
  const view = new DataView(new ArrayBuffer(digits / 2));
  if (dtype === "float32") {
    view.setUint32(0, parseInt(hex.slice(2), 16));
    return view.getFloat32(0);
  }
  view.setBigUint64(0, BigInt(hex));
  return view.getFloat64(0);
}

/**
 * The fill value, checked against the dtype: a missing chunk reads as this value, so one the dtype cannot hold
 * (-1 or 300 in uint8, 1.5 or NaN in an integer type, 1e39 in float32) would make reads disagree with other readers.
 */
function fillNumber(path: string, v: unknown, dtype: DataType, bool = false): number {
  let x: number;
  if (v === null || v === undefined) return 0;
  if (bool) {
    if (typeof v !== "boolean" && v !== 0 && v !== 1) fail(path, "fill_value", "true, false or null (dtype |b1)", v);
    return Number(v);
  }
  if (typeof v === "number") x = v;
  else if (v === "NaN") x = NaN;
  else if (v === "Infinity") x = Infinity;
  else if (v === "-Infinity") x = -Infinity;
  else if (typeof v === "string" && v.startsWith("0x") && (dtype === "float32" || dtype === "float64")) x = hexFloat(path, v, dtype);
  else return fail(path, "fill_value", "a number, null, or NaN/Infinity string", v);
  const range = INT_RANGE[dtype];
  if (range) {
    if (!Number.isInteger(x) || x < range[0] || x > range[1]) fail(path, "fill_value", `an integer in [${range[0]}, ${range[1]}] (representable in ${dtype})`, v);
  } else if (dtype === "float32" && Number.isFinite(x) && Math.abs(x) > FLOAT32_MAX) {
    fail(path, "fill_value", `a value representable in float32 (|x| <= ${FLOAT32_MAX}, or NaN/Infinity)`, v);
  }
  return x;
}

function v2Codec(path: string, c: unknown, typesize: number): CodecSpec {
  if (c === null || c === undefined) return { name: "raw" };
  if (typeof c !== "object") fail(path, "compressor", "null or a numcodecs config object", c);
  const o = c as Record<string, unknown>;
  switch (o.id) {
    case "blosc": {
      const cname = o.cname;
      if (cname !== "lz4" && cname !== "lz4hc" && cname !== "zstd" && cname !== "blosclz" && cname !== "zlib")
        fail(path, "compressor.cname", "lz4, lz4hc, zstd, blosclz or zlib", cname);
      // -1 (AUTOSHUFFLE): numcodecs picks bit shuffle for 1-byte elements, byte shuffle otherwise. Reads follow the
      // flags of each Blosc frame whatever the metadata says; this only decides what a rewritten chunk uses.
      const code = Number(o.shuffle ?? 1);
      const shuffle = code === -1 ? (typesize === 1 ? "bit" : "byte") : SHUFFLE_V2[code];
      if (!shuffle) fail(path, "compressor.shuffle", "-1 (auto), 0, 1 or 2", o.shuffle);
      return { name: "blosc", cname, clevel: Number(o.clevel ?? 5), shuffle };
    }
    case "zstd":
      return { name: "zstd", level: Number(o.level ?? 1) };
    case "gzip":
    case "zlib":
      return { name: o.id, level: Number(o.level ?? 1) };
    case "lz4":
      return { name: "lz4", acceleration: Number(o.acceleration ?? 1) };
    default:
      return fail(path, "compressor.id", "one of blosc, zstd, gzip, zlib, lz4 or null (raw)", o.id);
  }
}

const V2_DTYPE_LIST = "|b1 |u1 |i1 <u2 <i2 <u4 <i4 <i8 <u8 <f2 <f4 <f8 (or big-endian >)";

/**
 * A numpy type string of a v2 array: bool reads as uint8 (numpy stores it as one byte, 0 or 1), float16 as float32,
 * 64-bit integers as float64 (reads return number-valued typed arrays that every analysis takes; values beyond 2^53
 * are refused per chunk when read, never rounded).
 */
function v2Dtype(path: string, field: string, s: string): { dtype: DataType; bool: boolean; float16: boolean; int64?: "signed" | "unsigned" } {
  const order = s[0];
  const code = s.slice(1);
  if (order !== "<" && order !== ">" && order !== "|" && order !== "=") fail(path, field, V2_DTYPE_LIST, s);
  if (code === "b1") return { dtype: "uint8", bool: true, float16: false };
  if (code === "f2") return { dtype: "float32", bool: false, float16: true };
  if (code === "i8" || code === "u8") return { dtype: "float64", bool: false, float16: false, int64: code === "i8" ? "signed" : "unsigned" };
  const dtype = V2_DTYPES[code];
  if (!dtype) fail(path, field, V2_DTYPE_LIST, s);
  return { dtype, bool: false, float16: false };
}

/** A fill value of a 64-bit integer array: an integer that float64 holds exactly (|x| <= 2^53). */
function int64Fill(path: string, v: unknown, kind: "signed" | "unsigned"): number {
  if (v === null || v === undefined) return 0;
  const lo = kind === "signed" ? -MAX_EXACT_INT : 0;
  if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > MAX_EXACT_INT)
    fail(path, "fill_value", `an integer in [${lo}, 2^53] (64-bit integers are read as float64)`, v);
  return v;
}
const MAX_EXACT_INT = Number.MAX_SAFE_INTEGER + 1;

/** The numcodecs Delta filter (the only filter read): `dtype` must be the array's, `astype` a type we read. */
function deltaFilter(path: string, filters: unknown, arrayDtype: string, dtype: DataType, float16: boolean): { astype: DataType } {
  if (!Array.isArray(filters)) return fail(path, "filters", "null or a list of filter configs", filters);
  if (filters.length !== 1) fail(path, "filters", 'null or one filter, {"id": "delta"} (the only filter supported)', filters);
  const f = filters[0] as Record<string, unknown> | null;
  if (!f || typeof f !== "object") return fail(path, "filters[0]", "a filter config object", f);
  if (f.id !== "delta") fail(path, "filters[0].id", "delta (the only filter supported)", f.id);
  if (float16) fail(path, "filters[0]", "no filter on a float16 array (Delta is supported for the other dtypes)", f);
  if (typeof f.dtype !== "string" || v2Dtype(path, "filters[0].dtype", f.dtype).dtype !== dtype || f.dtype.slice(1) !== arrayDtype.slice(1))
    fail(path, "filters[0].dtype", `the array's dtype ${arrayDtype}`, f.dtype);
  const astypeCode = (f.astype ?? f.dtype) as unknown;
  if (typeof astypeCode !== "string") return fail(path, "filters[0].astype", "a numpy type string", astypeCode);
  const as = v2Dtype(path, "filters[0].astype", astypeCode);
  if (as.bool || as.float16 || as.int64) fail(path, "filters[0].astype", "|u1 |i1 <u2 <i2 <u4 <i4 <f4 <f8", astypeCode);
  const bpe = BYTES_PER_ELEMENT[as.dtype];
  // Stored values are byte-swapped with the array's byte order before the sum is undone.
  if (bpe > 1 && arrayDtype[0] !== "|" && astypeCode[0] !== arrayDtype[0]) fail(path, "filters[0].astype", `the byte order of ${arrayDtype}`, astypeCode);
  return { astype: as.dtype };
}

export function parseV2(path: string, zarray: unknown, zattrs: unknown): ArrayMeta {
  if (typeof zarray !== "object" || zarray === null) fail(path, ".zarray", "a JSON object", zarray);
  const m = zarray as Record<string, unknown>;
  if (m.zarr_format !== 2) fail(path, "zarr_format", "2", m.zarr_format);
  const shape = intArray(path, "shape", m.shape);
  const chunks = intArray(path, "chunks", m.chunks);
  if (chunks.length !== shape.length || chunks.some((c) => c < 1)) fail(path, "chunks", `${shape.length} positive integers`, m.chunks);
  if (typeof m.dtype !== "string") fail(path, "dtype", "a numpy type string such as <u2", m.dtype);
  const { dtype, bool, float16, int64 } = v2Dtype(path, "dtype", m.dtype);
  const stored: StoredForm = { bytesPerElement: float16 ? 2 : BYTES_PER_ELEMENT[dtype] };
  if (float16) stored.float16 = true;
  if (int64) stored.int64 = int64;
  if (m.order === "F") stored.fortran = true;
  else if (m.order !== undefined && m.order !== "C") fail(path, "order", '"C" or "F"', m.order);
  if (m.filters !== undefined && m.filters !== null && !(Array.isArray(m.filters) && m.filters.length === 0)) {
    if (int64) fail(path, "filters", "no filter on a 64-bit integer array", m.filters);
    stored.delta = deltaFilter(path, m.filters, m.dtype, dtype, float16);
    stored.bytesPerElement = BYTES_PER_ELEMENT[stored.delta.astype];
  }
  const sep = m.dimension_separator ?? ".";
  if (sep !== "." && sep !== "/") fail(path, "dimension_separator", '"." or "/"', sep);
  const attributes = (zattrs && typeof zattrs === "object" ? zattrs : {}) as Record<string, unknown>;
  const dimNames = attributes._ARRAY_DIMENSIONS;
  return {
    zarrFormat: 2,
    shape,
    chunks,
    dtype,
    littleEndian: m.dtype[0] !== ">",
    fillValue: int64 ? int64Fill(path, m.fill_value, int64) : fillNumber(path, m.fill_value, dtype, bool),
    codec: v2Codec(path, m.compressor, stored.bytesPerElement),
    stored: float16 || int64 || stored.fortran || stored.delta ? stored : undefined,
    separator: sep,
    keyPrefix: "",
    dimensionNames: Array.isArray(dimNames) ? (dimNames as string[]) : undefined,
    attributes,
  };
}

export function parseV3(path: string, json: unknown): ArrayMeta {
  if (typeof json !== "object" || json === null) fail(path, "zarr.json", "a JSON object", json);
  const m = json as Record<string, unknown>;
  if (m.zarr_format !== 3) fail(path, "zarr_format", "3", m.zarr_format);
  if (m.node_type !== "array") fail(path, "node_type", "array", m.node_type);
  const shape = intArray(path, "shape", m.shape);
  const grid = m.chunk_grid as { name?: string; configuration?: { chunk_shape?: unknown } } | undefined;
  if (!grid || grid.name !== "regular") fail(path, "chunk_grid.name", "regular", grid?.name);
  const chunks = intArray(path, "chunk_grid.configuration.chunk_shape", grid.configuration?.chunk_shape);
  if (chunks.length !== shape.length || chunks.some((c) => c < 1)) fail(path, "chunk_grid.configuration.chunk_shape", `${shape.length} positive integers`, chunks);
  const int64 = m.data_type === "int64" ? "signed" : m.data_type === "uint64" ? "unsigned" : undefined;
  const dtype = (int64 ? "float64" : m.data_type) as DataType;
  if (!V3_DTYPES.has(dtype)) fail(path, "data_type", [...V3_DTYPES, "int64", "uint64"].join(", "), m.data_type);
  const enc = (m.chunk_key_encoding ?? { name: "default" }) as { name?: string; configuration?: { separator?: string } };
  let separator: "." | "/";
  let keyPrefix: string;
  if (enc.name === "default") {
    separator = (enc.configuration?.separator ?? "/") as "." | "/";
    keyPrefix = "c";
  } else if (enc.name === "v2") {
    separator = (enc.configuration?.separator ?? ".") as "." | "/";
    keyPrefix = "";
  } else return fail(path, "chunk_key_encoding.name", "default or v2", enc.name);
  // Any other separator would make every chunk key miss, and the whole array read as the fill value.
  if (separator !== "." && separator !== "/") fail(path, "chunk_key_encoding.configuration.separator", '"." or "/"', enc.configuration?.separator);
  if (!Array.isArray(m.codecs)) fail(path, "codecs", "an array of codec objects", m.codecs);
  let littleEndian = true;
  let codec: CodecSpec = { name: "raw" };
  let foreign = false;
  let compressors = 0;
  for (const c of m.codecs as Array<{ name?: string; configuration?: Record<string, unknown> }>) {
    const cfg = c.configuration ?? {};
    switch (c.name) {
      case "bytes":
        littleEndian = cfg.endian !== "big";
        break;
      case "blosc": {
        const shuffle = SHUFFLE_V3[String(cfg.shuffle ?? "noshuffle")];
        if (!shuffle) fail(path, "codecs[blosc].shuffle", "noshuffle, shuffle or bitshuffle", cfg.shuffle);
        codec = { name: "blosc", cname: cfg.cname as "lz4", clevel: Number(cfg.clevel ?? 5), shuffle };
        compressors++;
        break;
      }
      case "zstd":
        codec = { name: "zstd", level: Number(cfg.level ?? 0) };
        compressors++;
        break;
      case "gzip":
        codec = { name: "gzip", level: Number(cfg.level ?? 1) };
        compressors++;
        break;
      case "crc32c":
      case "transpose":
      case "sharding_indexed":
        foreign = true;
        break;
      default:
        fail(path, "codecs", "bytes, blosc, zstd, gzip, crc32c, transpose or sharding_indexed", c.name);
    }
  }
  if (compressors > 1) foreign = true;
  // zarrita would hand back BigInt64Arrays, which the read API does not carry.
  if (int64 && foreign) fail(path, "data_type", "int64/uint64 only with bytes, blosc, zstd, gzip and crc32c codecs (not sharded or transposed)", m.data_type);
  const attributes = (m.attributes ?? {}) as Record<string, unknown>;
  return {
    zarrFormat: 3,
    shape,
    chunks,
    dtype,
    littleEndian,
    fillValue: int64 ? int64Fill(path, m.fill_value, int64) : fillNumber(path, m.fill_value, dtype),
    codec,
    stored: int64 ? { bytesPerElement: 8, int64 } : undefined,
    separator,
    keyPrefix,
    dimensionNames: Array.isArray(m.dimension_names) ? (m.dimension_names as string[]) : undefined,
    attributes,
    foreignCodecs: foreign || undefined,
  };
}

function bloscV2(c: Extract<CodecSpec, { name: "blosc" }>): Record<string, unknown> {
  const shuffle = c.shuffle === "none" ? 0 : c.shuffle === "bit" ? 2 : 1;
  return { id: "blosc", cname: c.cname, clevel: c.clevel ?? 5, shuffle, blocksize: 0 };
}

/** `.zarray` for a new v2 array. Fill values that JSON cannot hold are written as numpy's strings. */
export function emitV2(meta: ArrayMeta): Record<string, unknown> {
  const c = meta.codec;
  const compressor =
    c.name === "raw"
      ? null
      : c.name === "blosc"
        ? bloscV2(c)
        : c.name === "zstd"
          ? { id: "zstd", level: c.level ?? 3 }
          : c.name === "lz4"
            ? { id: "lz4", acceleration: c.acceleration ?? 1 }
            : { id: c.name, level: c.level ?? 5 };
  return {
    zarr_format: 2,
    shape: meta.shape,
    chunks: meta.chunks,
    dtype: V2_CODE[meta.dtype],
    compressor,
    fill_value: jsonFill(meta.fillValue),
    order: "C",
    filters: null,
    dimension_separator: meta.separator,
  };
}

function jsonFill(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return v;
}

export function emitV3(meta: ArrayMeta): Record<string, unknown> {
  const c = meta.codec;
  const codecs: Array<Record<string, unknown>> = [{ name: "bytes", configuration: { endian: "little" } }];
  if (c.name === "blosc") {
    const shuffle = c.shuffle === "none" ? "noshuffle" : c.shuffle === "bit" ? "bitshuffle" : "shuffle";
    codecs.push({
      name: "blosc",
      configuration: { cname: c.cname, clevel: c.clevel ?? 5, shuffle, typesize: bytesOf(meta.dtype), blocksize: 0 },
    });
  } else if (c.name === "zstd") codecs.push({ name: "zstd", configuration: { level: c.level ?? 3, checksum: false } });
  else if (c.name === "gzip") codecs.push({ name: "gzip", configuration: { level: c.level ?? 5 } });
  else if (c.name === "zlib" || c.name === "lz4")
    throw new VolumeError(`zarr v3 has no ${c.name} codec`, { field: "codec", expected: "raw, gzip, zstd or blosc", got: c.name });
  const out: Record<string, unknown> = {
    zarr_format: 3,
    node_type: "array",
    shape: meta.shape,
    data_type: meta.dtype,
    chunk_grid: { name: "regular", configuration: { chunk_shape: meta.chunks } },
    chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
    fill_value: jsonFill(meta.fillValue),
    codecs,
    attributes: meta.attributes,
  };
  if (meta.dimensionNames) out.dimension_names = meta.dimensionNames;
  return out;
}

function bytesOf(d: DataType): number {
  return d.endsWith("8") ? 1 : d.endsWith("16") ? 2 : d.endsWith("32") ? 4 : 8;
}

/** Store key of a chunk, relative to the array's folder. */
export function chunkKey(meta: ArrayMeta, coords: readonly number[]): string {
  const idx = coords.length === 0 ? "0" : coords.join(meta.separator);
  return meta.keyPrefix ? `${meta.keyPrefix}${meta.separator}${idx}` : idx;
}
