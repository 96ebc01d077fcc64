/**
 * The zarr v3 `crc32c` codec: a CRC-32C (Castagnoli) of the encoded chunk appended as 4 little-endian bytes. We
 * verify it on every read (zarrita's codec only strips it, so a damaged chunk was read as if it were fine) and
 * write it when the array's metadata lists it. Slicing-by-8 tables: about 1 GB/s in JS, cheap next to decoding.
 */
import type { AsyncReadable, AbsolutePath, GetOptions, RangeQuery } from "@zarrita/storage";
import { VolumeError } from "../util/errors.js";
import type { ChunkLocation } from "./codecs.js";

const POLY = 0x82f63b78; // Castagnoli, bit-reversed
const T = new Int32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) for (let t = 1; t < 8; t++) T[t * 256 + n] = (T[(t - 1) * 256 + n]! >>> 8) ^ T[T[(t - 1) * 256 + n]! & 255]!;

/** CRC-32C of data[start, end); pass a previous result as `crc` to continue it over more bytes. */
export function crc32c(data: Uint8Array, start = 0, end = data.length, crc = 0): number {
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      T[7 * 256 + (a & 255)]! ^
      T[6 * 256 + ((a >>> 8) & 255)]! ^
      T[5 * 256 + ((a >>> 16) & 255)]! ^
      T[4 * 256 + (a >>> 24)]! ^
      T[3 * 256 + data[i + 4]!]! ^
      T[2 * 256 + data[i + 5]!]! ^
      T[256 + data[i + 6]!]! ^
      T[data[i + 7]!]!;
  }
  for (; i < end; i++) c = T[(c ^ data[i]!) & 255]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** `bytes` followed by their CRC-32C, little-endian (the zarr v3 crc32c codec's encoding). */
export function appendCrc32c(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength + 4);
  out.set(bytes, 0);
  new DataView(out.buffer).setUint32(bytes.byteLength, crc32c(bytes), true);
  return out;
}

const hex = (v: number) => `0x${v.toString(16).padStart(8, "0")}`;

/** Checks the trailing CRC-32C of an encoded chunk and returns the bytes before it (a view, no copy). */
export function stripCrc32c(buf: Uint8Array, where: ChunkLocation): Uint8Array {
  if (buf.byteLength < 4)
    throw new VolumeError("truncated chunk", { ...where, field: "crc32c", expected: "at least the 4 checksum bytes", got: `${buf.byteLength} bytes` });
  const n = buf.byteLength - 4;
  const stored = new DataView(buf.buffer, buf.byteOffset + n, 4).getUint32(0, true);
  const actual = crc32c(buf, 0, n);
  if (stored !== actual)
    throw new VolumeError("corrupt chunk: crc32c checksum mismatch", { ...where, field: "crc32c", expected: `${hex(actual)} (computed over ${n} bytes)`, got: `${hex(stored)} (stored)` });
  return buf.subarray(0, n);
}

/**
 * True when a v3 codec list is `bytes`, at most one of blosc / zstd / gzip, then `crc32c`: a pipeline our own chunk
 * reader decodes once the checksum is verified and stripped. Anything else (sharding, transpose, crc32c elsewhere)
 * stays with zarrita.
 */
export function crc32cLastOnly(codecs: unknown): boolean {
  if (!Array.isArray(codecs) || codecs.length < 2 || codecs.length > 3) return false;
  const names = codecs.map((c: unknown) => (c && typeof c === "object" ? (c as { name?: unknown }).name : undefined));
  if (names[0] !== "bytes" || names[names.length - 1] !== "crc32c") return false;
  return names.length === 2 || names[1] === "blosc" || names[1] === "zstd" || names[1] === "gzip";
}

/** Where zarrita read each buffer from, so a checksum error can name the chunk (or shard) it came from. */
const sources = new WeakMap<Uint8Array, ChunkLocation>();

/**
 * Wraps a zarrita store so that buffers it returns remember their key: the crc32c codec below only sees bytes,
 * and zarrita hands each chunk's (or shard range's) buffer to the codec pipeline unchanged.
 */
export function chunkNamingStore(store: Required<AsyncReadable>, root: string): Required<AsyncReadable> {
  const note = (key: AbsolutePath, b: Uint8Array | undefined) => {
    if (b) sources.set(b, { path: `${root}${key}`, location: key.slice(1) });
    return b;
  };
  return {
    get: async (key: AbsolutePath, opts?: GetOptions) => note(key, await store.get(key, opts)),
    getRange: async (key: AbsolutePath, range: RangeQuery, opts?: GetOptions) => note(key, await store.getRange(key, range, opts)),
  };
}

/** zarrita's crc32c codec, but verifying: used for the pipelines zarrita decodes for us (sharding, transpose). */
class VerifyingCrc32c {
  readonly kind = "bytes_to_bytes";
  static fromConfig(): VerifyingCrc32c {
    return new VerifyingCrc32c();
  }
  encode(bytes: Uint8Array): Uint8Array {
    return appendCrc32c(bytes);
  }
  decode(bytes: Uint8Array): Uint8Array {
    return stripCrc32c(bytes, sources.get(bytes) ?? { path: "(a chunk, shard or shard index read through zarrita)" });
  }
  computeEncodedSize(n: number): number {
    return n + 4;
  }
}

let registered = false;

/** zarrita with its crc32c codec replaced by one that checks the checksum (registered once per process). */
export async function zarritaVerifyingCrc32c(): Promise<typeof import("zarrita")> {
  const zarr = await import("zarrita");
  if (!registered) {
    zarr.registry.set("crc32c", async () => VerifyingCrc32c);
    registered = true;
  }
  return zarr;
}
