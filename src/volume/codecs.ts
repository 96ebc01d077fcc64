/**
 * Chunk codecs: bytes <-> compressed bytes. gzip/zlib use Node's native zlib, Blosc our own decoder (blosc-decode.ts),
 * zstd the optional native binding or numcodecs' wasm build. Decoding is strict: a chunk decodes to exactly the bytes
 * the array's chunk holds or fails with a VolumeError naming the chunk file, its key, the field and what was wrong,
 * never to other values where the format or its checksum can tell (the issue: "never analyse corrupt data").
 */
import { gunzipSync, gzipSync, inflateSync, deflateSync } from "node:zlib";
import { Blosc, Zstd } from "numcodecs";
import type { Codec } from "numcodecs";
import { VolumeError } from "../util/errors.js";
import type { CodecSpec, DataType } from "./types.js";
import { BYTES_PER_ELEMENT, typedArrayFor, viewAs, type TypedArray } from "./types.js";
import { bloscDecodeInto, lz4DecodeExact, lz4ErrorText, readBloscHeader, type ZstdDecompress } from "./blosc-decode.js";
import { lz4Bound, lz4CompressBlock } from "./lz4-compress.js";
import { transposeFToC } from "./ndcopy.js";
import type { StoredForm } from "./types.js";
import { bloscEncode } from "./blosc-encode.js";
import { appendCrc32c, stripCrc32c } from "./crc32c.js";
import { nativeZstd } from "./native-codecs.js";

/** The chunk an error is about: its file, and its key in the array (`location`). */
export interface ChunkLocation {
  path: string;
  location?: string;
}

export interface ChunkCodecOptions {
  /** The encoded chunk ends with the zarr v3 crc32c codec's checksum: verify and strip it (decode), append it (encode). */
  crc32c?: boolean;
}

const cache = new Map<string, Codec>();

function numcodec(spec: CodecSpec, dtype: DataType): Codec {
  const key = JSON.stringify(spec) + dtype;
  let c = cache.get(key);
  if (c) return c;
  if (spec.name === "blosc") {
    const shuffle = spec.shuffle === "none" ? 0 : spec.shuffle === "bit" ? 2 : 1;
    c = Blosc.fromConfig({ id: "blosc", cname: spec.cname, clevel: spec.clevel ?? 5, shuffle, blocksize: 0 });
  } else if (spec.name === "zstd") {
    c = Zstd.fromConfig({ id: "zstd", level: spec.level ?? 3 });
  } else throw new Error(`no numcodecs codec for ${spec.name}`);
  cache.set(key, c);
  return c;
}

export async function encodeChunk(bytes: Uint8Array, spec: CodecSpec, dtype: DataType, options: ChunkCodecOptions = {}): Promise<Uint8Array> {
  const enc = await encodePayload(bytes, spec, dtype);
  return options.crc32c ? appendCrc32c(enc) : enc;
}

async function encodePayload(bytes: Uint8Array, spec: CodecSpec, dtype: DataType): Promise<Uint8Array> {
  switch (spec.name) {
    case "raw":
      return bytes;
    case "gzip":
      return gzipSync(bytes, { level: spec.level ?? 5 });
    case "zlib":
      return deflateSync(bytes, { level: spec.level ?? 5 });
    case "blosc": {
      const fast = spec.shuffle !== "bit" ? bloscEncode(bytes, BYTES_PER_ELEMENT[dtype], spec.cname, spec.clevel ?? 5, spec.shuffle !== "none") : null;
      return fast ?? (await numcodec(spec, dtype).encode(bytes));
    }
    case "zstd":
      return await numcodec(spec, dtype).encode(bytes);
    case "lz4": {
      const out = new Uint8Array(4 + lz4Bound(bytes.byteLength));
      new DataView(out.buffer).setUint32(0, bytes.byteLength, true);
      return out.subarray(0, 4 + lz4CompressBlock(bytes, 0, bytes.byteLength, out, 4));
    }
  }
}

/**
 * Decodes a numcodecs LZ4 chunk (4-byte little-endian decoded size, then one LZ4 block) into dst[d0, d0 +
 * expectedBytes). The size must be the chunk's, and the block must fill it exactly.
 */
export function lz4FrameDecodeInto(buf: Uint8Array, dst: Uint8Array, d0: number, expectedBytes: number, where: ChunkLocation): void {
  if (buf.byteLength < 4) throw new VolumeError("truncated lz4 chunk", { ...where, field: "size header (bytes 0-3)", expected: "at least 4 bytes", got: `${buf.byteLength} bytes` });
  const size = (buf[0]! | (buf[1]! << 8) | (buf[2]! << 16) | (buf[3]! << 24)) >>> 0;
  if (size !== expectedBytes)
    throw new VolumeError("lz4 chunk has the wrong size", { ...where, field: "size header (bytes 0-3, little-endian)", expected: `${expectedBytes} bytes (the chunk's size)`, got: String(size) });
  const rc = lz4DecodeExact(buf, 4, buf.byteLength, dst, d0, d0 + expectedBytes);
  if (rc < 0) throw new VolumeError("corrupt lz4 chunk", { ...where, field: "LZ4 block (from byte 4)", expected: `a block of ${expectedBytes} bytes`, got: lz4ErrorText(rc) });
}

let half: Float32Array | null = null;

/** float32 value of every IEEE half-float bit pattern (256 KiB, built on first use). */
function halfTable(): Float32Array {
  if (half) return half;
  half = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    half[h] = exp === 0 ? sign * frac * 2 ** -24 : exp === 31 ? (frac ? NaN : sign * Infinity) : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return half;
}

/** 64-bit integers as float64, refusing (by chunk) a value float64 would round: |x| > 2^53. */
function int64ToFloat64(b: Uint8Array, n: number, kind: "signed" | "unsigned", where?: ChunkLocation): Float64Array {
  const ints = kind === "signed" ? new BigInt64Array(b.buffer, 0, n) : new BigUint64Array(b.buffer, 0, n);
  const out = new Float64Array(n);
  const limit = 2n ** 53n;
  for (let i = 0; i < n; i++) {
    const v = ints[i] ?? 0n;
    if (v > limit || v < -limit)
      throw new VolumeError("64-bit integer too large to read exactly", { ...where, field: "dtype", expected: "|values| <= 2^53 (64-bit integers are read as float64)", got: `${v} at element ${i}` });
    out[i] = Number(v);
  }
  return out;
}

/**
 * Turns a decoded chunk of another tool's stored form (byte order, float16, Delta filter, Fortran order) into the
 * C-ordered little-endian elements of `dtype` that reads return. `bytes` holds `n * stored.bytesPerElement` bytes
 * and is not modified. Undone in the reverse order of numcodecs' encoding: filters see the chunk flattened in its
 * own (F or C) order.
 */
export function unpackStored(bytes: Uint8Array, stored: StoredForm, dtype: DataType, littleEndian: boolean, chunkShape: readonly number[], where?: ChunkLocation): Uint8Array {
  const n = chunkShape.reduce((a, b) => a * b, 1);
  const sb = stored.bytesPerElement;
  // A private, aligned copy: the input may be a view of a reused buffer at any offset (and a Node Buffer, whose
  // slice() is a view, not a copy).
  const b = new Uint8Array(n * sb);
  b.set(bytes.subarray(0, n * sb));
  if (!littleEndian && sb > 1) for (let i = 0; i < b.length; i += sb) b.subarray(i, i + sb).reverse();
  let values: TypedArray;
  if (stored.float16) {
    const table = halfTable();
    const h = new Uint16Array(b.buffer, 0, n);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = table[h[i]!]!;
    values = f;
  } else if (stored.int64) {
    values = int64ToFloat64(b, n, stored.int64, where);
  } else if (stored.delta) {
    const enc = viewAs(stored.delta.astype, b.buffer, 0, n);
    const dec = typedArrayFor(dtype, n);
    // numpy's cumsum in the dtype: each partial sum wraps (integers) or rounds (float32) as the dtype does.
    let acc = 0;
    for (let i = 0; i < n; i++) {
      dec[i] = acc + enc[i]!;
      acc = dec[i]!;
    }
    values = dec;
  } else values = viewAs(dtype, b.buffer, 0, n);
  if (stored.fortran && chunkShape.length > 1) {
    const c = typedArrayFor(dtype, n);
    transposeFToC(values, c, chunkShape);
    values = c;
  }
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * The content size a zstd frame declares in its header (RFC 8878, 3.1.1.1), or null when it declares none.
 * Checked before decoding so a damaged size field is reported as such and never sizes an allocation.
 */
export function zstdContentSize(buf: Uint8Array, where: ChunkLocation): number | null {
  if (buf.byteLength < 5) throw new VolumeError("truncated zstd chunk", { ...where, field: "frame header", expected: "at least 5 bytes", got: `${buf.byteLength} bytes` });
  const magic = (buf[0]! | (buf[1]! << 8) | (buf[2]! << 16) | (buf[3]! << 24)) >>> 0;
  if (magic !== 0xfd2fb528)
    throw new VolumeError("corrupt zstd chunk", { ...where, field: "frame magic number (bytes 0-3)", expected: "0xfd2fb528", got: `0x${magic.toString(16)}` });
  const fhd = buf[4]!;
  if (fhd & 0x08) throw new VolumeError("corrupt zstd chunk", { ...where, field: "frame header descriptor (byte 4)", expected: "reserved bit 3 clear", got: `0x${fhd.toString(16)}` });
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd >>> 5) & 1;
  const at = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
  const size = fcsFlag === 0 ? singleSegment : [0, 2, 4, 8][fcsFlag]!;
  if (size === 0) return null;
  if (buf.byteLength < at + size)
    throw new VolumeError("truncated zstd chunk", { ...where, field: "frame header", expected: `${at + size} bytes`, got: `${buf.byteLength} bytes` });
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + buf[at + i]!;
  return size === 2 ? v + 256 : v;
}

function checkZstdSize(buf: Uint8Array, expectedBytes: number, where: ChunkLocation): void {
  const fcs = zstdContentSize(buf, where);
  if (fcs !== null && fcs !== expectedBytes)
    throw new VolumeError("zstd chunk has the wrong size", { ...where, field: "frame content size (frame header)", expected: `${expectedBytes} bytes (the chunk's size)`, got: String(fcs) });
}

function zstdFailed(e: unknown, expectedBytes: number, where: ChunkLocation): VolumeError {
  return new VolumeError("corrupt zstd chunk", { ...where, field: "zstd frame", expected: `a complete zstd frame of ${expectedBytes} bytes`, got: (e as Error).message }, { cause: e });
}

/**
 * Decodes a zstd chunk with the native binding straight into dst[d0, d0 + expectedBytes). Returns false when the
 * binding is not installed. The frame must declare `expectedBytes` (or nothing) and decode to exactly that many.
 */
export function zstdDecodeInto(buf: Uint8Array, dst: Uint8Array, d0: number, expectedBytes: number, where: ChunkLocation): boolean {
  const native = nativeZstd();
  if (!native) return false;
  checkZstdSize(buf, expectedBytes, where);
  let n: number;
  try {
    n = native(buf, dst, d0, d0 + expectedBytes);
  } catch (e) {
    throw zstdFailed(e, expectedBytes, where);
  }
  if (n !== expectedBytes) throw new VolumeError("corrupt zstd chunk", { ...where, field: "decoded length", expected: `${expectedBytes} bytes`, got: `${n} bytes` });
  return true;
}

async function decodeZstd(buf: Uint8Array, expectedBytes: number, where: ChunkLocation): Promise<Uint8Array> {
  const out = new Uint8Array(expectedBytes);
  if (zstdDecodeInto(buf, out, 0, expectedBytes, where)) return out;
  checkZstdSize(buf, expectedBytes, where);
  try {
    return await numcodec({ name: "zstd" }, "uint8").decode(buf);
  } catch (e) {
    throw zstdFailed(e, expectedBytes, where);
  }
}

/** gzip (RFC 1952, CRC-32 and length checked by zlib) or zlib (RFC 1950, Adler-32) into exactly `expectedBytes`. */
function inflateChunk(buf: Uint8Array, kind: "gzip" | "zlib", expectedBytes: number, where: ChunkLocation): Uint8Array {
  let res: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // `maxOutputLength` stops a damaged stream that would inflate without end as soon as it passes the chunk's size.
    const opts = { maxOutputLength: expectedBytes, info: true };
    res = (kind === "gzip" ? gunzipSync(buf, opts) : inflateSync(buf, opts)) as unknown as typeof res;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE")
      throw new VolumeError(`corrupt ${kind} chunk`, { ...where, field: "decoded length", expected: `${expectedBytes} bytes`, got: `more than ${expectedBytes} bytes` }, { cause: e });
    throw new VolumeError(code === "Z_BUF_ERROR" ? `truncated ${kind} chunk` : `corrupt ${kind} chunk`, {
      ...where,
      field: `${kind} stream`,
      expected: `a complete ${kind} stream (checksum and length verified)`,
      got: (e as Error).message,
    }, { cause: e });
  }
  // zlib stops at the end of the stream and ignores what follows; a chunk file holds nothing else.
  if (kind === "zlib" && res.engine.bytesWritten !== buf.byteLength)
    throw new VolumeError("corrupt zlib chunk", { ...where, field: "zlib stream", expected: `a stream of all ${buf.byteLength} bytes`, got: `a stream of ${res.engine.bytesWritten} bytes followed by other data` });
  if (res.buffer.byteLength !== expectedBytes)
    throw new VolumeError(`corrupt ${kind} chunk`, { ...where, field: "decoded length", expected: `${expectedBytes} bytes`, got: `${res.buffer.byteLength} bytes` });
  return res.buffer;
}

async function decodeBlosc(buf: Uint8Array, expectedBytes: number, where: ChunkLocation): Promise<Uint8Array> {
  const h = readBloscHeader(buf, expectedBytes, where);
  const out = new Uint8Array(expectedBytes);
  const tmp = new Uint8Array(h.memcpyed ? 0 : h.blocksize);
  const options = { where, expectedBytes };
  if (bloscDecodeInto(buf, out, 0, tmp, nativeZstd(), options)) return out;
  // zstd streams without the native binding: a first pass collects them (checking everything else), numcodecs' wasm
  // zstd decodes them, and a second pass takes the results in the same order. Sizes are checked as for native zstd.
  const streams: Array<[Uint8Array, number]> = [];
  const collect: ZstdDecompress = (src, _dst, d0, d1) => {
    streams.push([src, d1 - d0]);
    return d1 - d0;
  };
  bloscDecodeInto(buf, out, 0, tmp, collect, options);
  const wasm = numcodec({ name: "zstd" }, "uint8");
  const decoded = await Promise.all(
    streams.map(async ([src, cap]): Promise<Uint8Array | Error> => {
      try {
        const fcs = zstdContentSize(src, where);
        if (fcs !== null && fcs !== cap) return new Error(`the frame declares ${fcs} bytes`);
        return await wasm.decode(src);
      } catch (e) {
        return e as Error;
      }
    }),
  );
  let k = 0;
  const replay: ZstdDecompress = (_src, dst, d0, d1) => {
    const d = decoded[k++]!;
    if (d instanceof Error) throw d;
    if (d.byteLength > d1 - d0) throw new Error("Destination buffer is too small");
    dst.set(d, d0);
    return d.byteLength;
  };
  bloscDecodeInto(buf, out, 0, tmp, replay, options);
  return out;
}

/**
 * Decodes one chunk and checks that it holds exactly `expectedBytes` bytes. `where` names the chunk file and key
 * in errors. Every failure is a VolumeError.
 */
export async function decodeChunk(
  buf: Uint8Array,
  spec: CodecSpec,
  dtype: DataType,
  expectedBytes: number,
  where: ChunkLocation,
  options: ChunkCodecOptions = {},
): Promise<Uint8Array> {
  const enc = options.crc32c ? stripCrc32c(buf, where) : buf;
  let out: Uint8Array;
  switch (spec.name) {
    case "raw":
      out = enc;
      break;
    case "gzip":
    case "zlib":
      out = inflateChunk(enc, spec.name, expectedBytes, where);
      break;
    case "blosc":
      out = await decodeBlosc(enc, expectedBytes, where);
      break;
    case "zstd":
      out = await decodeZstd(enc, expectedBytes, where);
      break;
    case "lz4":
      out = new Uint8Array(expectedBytes);
      lz4FrameDecodeInto(enc, out, 0, expectedBytes, where);
      break;
  }
  if (out.byteLength !== expectedBytes)
    throw new VolumeError("chunk has the wrong size", {
      ...where,
      expected: `${expectedBytes} bytes (${expectedBytes / BYTES_PER_ELEMENT[dtype]} x ${dtype})`,
      got: `${out.byteLength} bytes`,
    });
  return out;
}
