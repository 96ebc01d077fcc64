/** Types shared by the volume store and everything that reads or writes volumes. Arrays are C-ordered. */

export type DataType = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64";

export type TypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface TypedArrayByDataType {
  uint8: Uint8Array;
  int8: Int8Array;
  uint16: Uint16Array;
  int16: Int16Array;
  uint32: Uint32Array;
  int32: Int32Array;
  float32: Float32Array;
  float64: Float64Array;
}

/** A C-ordered n-dimensional view on a typed array. */
export interface NdArray<T extends TypedArray = TypedArray> {
  data: T;
  shape: number[];
}

/** Per-axis half-open ranges [start, stop) in array indices. */
export type Selection = Array<[number, number]>;

export type BloscShuffle = "none" | "byte" | "bit";

/** Chunk compression. `raw` stores bytes as they are. */
export type CodecSpec =
  | { name: "raw" }
  | { name: "gzip"; level?: number }
  /** zlib stream (numcodecs "zlib", zarr v2 only). */
  | { name: "zlib"; level?: number }
  | { name: "zstd"; level?: number }
  | { name: "blosc"; cname: "lz4" | "lz4hc" | "zstd" | "blosclz" | "zlib"; clevel?: number; shuffle?: BloscShuffle }
  /** numcodecs "lz4" (zarr v2 only): a 4-byte little-endian decoded size, then one LZ4 block. */
  | { name: "lz4"; acceleration?: number };

/**
 * How the stored chunks of an array written by another tool differ from what reads return (C-ordered elements of
 * the array's dtype). Absent for arrays we write; present ones are read through a slower decode (chunk-read.ts).
 */
export interface StoredForm {
  /** Bytes per stored element (after the compressor, before the filter is undone). */
  bytesPerElement: number;
  /** Elements are IEEE half floats (numpy <f2), read as float32. */
  float16?: boolean;
  /** Chunks are stored in Fortran order (first axis fastest); reads transpose them into C order. */
  fortran?: boolean;
  /**
   * 64-bit integers (numpy <i8/<u8, zarr v3 int64/uint64: what scikit-image's and napari's label arrays hold), read as
   * float64: exact up to 2^53, and a chunk holding a value beyond that is refused by name rather than rounded.
   */
  int64?: "signed" | "unsigned";
  /** numcodecs Delta filter: stored values (of `astype`) are differences, undone by a cumulative sum in the dtype. */
  delta?: { astype: DataType };
}

export interface ArraySpec<D extends DataType = DataType> {
  shape: number[];
  chunks: number[];
  dtype: D;
  /** Default: blosc lz4 with byte shuffle (zarr-python's default). */
  codec?: CodecSpec;
  /** 2 (default: the widest reader support) or 3. */
  zarrFormat?: 2 | 3;
  fillValue?: number;
  /** Names per axis (stored as v3 dimension_names; v2 keeps them in attributes). */
  dimensionNames?: string[];
  attributes?: Record<string, unknown>;
  /** Replace an existing array at the path; otherwise creating over one is an error. */
  overwrite?: boolean;
}

/** One chunk-aligned block yielded by block iteration. */
export interface Block<T extends TypedArray = TypedArray> {
  /** Region the block is responsible for (no halo), in array indices. */
  core: Selection;
  /** Region actually read: core grown by the halo and clipped to the array. */
  read: Selection;
  /** Data of `read`. */
  data: NdArray<T>;
}

export const BYTES_PER_ELEMENT: Record<DataType, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  float64: 8,
};

export function typedArrayFor<D extends DataType>(dtype: D, length: number): TypedArrayByDataType[D];
export function typedArrayFor(dtype: DataType, length: number): TypedArray {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(length);
    case "int8":
      return new Int8Array(length);
    case "uint16":
      return new Uint16Array(length);
    case "int16":
      return new Int16Array(length);
    case "uint32":
      return new Uint32Array(length);
    case "int32":
      return new Int32Array(length);
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
  }
}

/** A typed array of `dtype` viewing `buffer` (no copy). */
export function viewAs(dtype: DataType, buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray {
  switch (dtype) {
    case "uint8":
      return new Uint8Array(buffer, byteOffset, length);
    case "int8":
      return new Int8Array(buffer, byteOffset, length);
    case "uint16":
      return new Uint16Array(buffer, byteOffset, length);
    case "int16":
      return new Int16Array(buffer, byteOffset, length);
    case "uint32":
      return new Uint32Array(buffer, byteOffset, length);
    case "int32":
      return new Int32Array(buffer, byteOffset, length);
    case "float32":
      return new Float32Array(buffer, byteOffset, length);
    case "float64":
      return new Float64Array(buffer, byteOffset, length);
  }
}

export function dataTypeOf(a: TypedArray): DataType {
  if (a instanceof Uint8Array) return "uint8";
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Uint16Array) return "uint16";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Uint32Array) return "uint32";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof Float32Array) return "float32";
  return "float64";
}

export function product(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}
