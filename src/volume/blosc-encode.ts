/**
 * Blosc 1 frame encoder for byte-shuffled LZ4 (our JS compressor) and zstd (optional native `zstd-napi`).
 * numcodecs' wasm encoder always shuffles with a 4-byte type size, which compresses 8- and 16-bit CT data worse;
 * this one uses the array's real element size, as zarr-python does. Returns null when it cannot encode (zstd without
 * the native module) so the caller falls back to numcodecs (valid frames either way).
 */
import { createRequire } from "node:module";
import { lz4Bound, lz4CompressBlock } from "./lz4-compress.js";

type Compress = (src: Uint8Array) => Uint8Array;

let zstdLevel: ((src: Uint8Array, level: number) => Uint8Array) | null | undefined;
let lz4Out = new Uint8Array(0);

function lz4Block(src: Uint8Array): Uint8Array {
  const bound = lz4Bound(src.length);
  if (lz4Out.length < bound) lz4Out = new Uint8Array(bound);
  const n = lz4CompressBlock(src, 0, src.length, lz4Out, 0);
  return lz4Out.subarray(0, n);
}

function zstdCompress(): ((src: Uint8Array, level: number) => Uint8Array) | null {
  if (zstdLevel !== undefined) return zstdLevel;
  zstdLevel = null;
  if (process.env.SSB_CT_NATIVE_CODECS === "0") return zstdLevel;
  try {
    const mod = createRequire(import.meta.url)("zstd-napi") as { compress: (b: Uint8Array, p?: { compressionLevel?: number }) => Uint8Array };
    zstdLevel = (src, level) => mod.compress(src, { compressionLevel: level });
  } catch {
    zstdLevel = null;
  }
  return zstdLevel;
}

/** Byte shuffle of one block: element i's byte j goes to plane j (the inverse of unshuffleInto). */
export function shuffleBlock(typesize: number, src: Uint8Array, s0: number, bytes: number, dst: Uint8Array): void {
  const n = Math.floor(bytes / typesize);
  for (let j = 0; j < typesize; j++) {
    const plane = j * n;
    for (let i = 0; i < n; i++) dst[plane + i] = src[s0 + i * typesize + j]!;
  }
  for (let i = n * typesize; i < bytes; i++) dst[i] = src[s0 + i]!;
}

/**
 * Encodes `data` as a Blosc 1 frame: byte shuffle with `typesize`, blocks of up to 256 KiB split into one stream per
 * byte plane (as c-blosc does for fast codecs), each stream stored raw when compression would not shrink it.
 */
export function bloscEncode(data: Uint8Array, typesize: number, cname: string, clevel: number, shuffle: boolean): Uint8Array | null {
  const isLz4 = cname === "lz4" || cname === "lz4hc";
  const compress: Compress | null = isLz4 ? lz4Block : cname === "zstd" ? (() => {
    const z = zstdCompress();
    return z ? (s: Uint8Array) => z(s, Math.max(1, Math.min(19, clevel * 2 - 1))) : null;
  })() : null;
  if (!compress || clevel < 1 || data.byteLength < 128 || data.byteLength >= 2 ** 31 - 16) return null;
  const nbytes = data.byteLength;
  const ts = shuffle && typesize > 1 && typesize <= 16 ? typesize : 1;
  const blocksize = Math.min(nbytes, Math.max(ts, Math.floor((256 << 10) / ts) * ts));
  const nblocks = Math.ceil(nbytes / blocksize);
  const leftover = nbytes % blocksize;
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(16 + 4 * nblocks);
  const dv = new DataView(header.buffer);
  let offset = header.length;
  const tmp = new Uint8Array(blocksize);
  let split = false;
  for (let b = 0; b < nblocks; b++) {
    const isLeft = b === nblocks - 1 && leftover > 0;
    const bsize = isLeft ? leftover : blocksize;
    dv.setInt32(16 + 4 * b, offset, true);
    let block = data.subarray(b * blocksize, b * blocksize + bsize);
    if (ts > 1) {
      shuffleBlock(ts, data, b * blocksize, bsize, tmp);
      block = tmp.subarray(0, bsize);
    }
    // Split streams only where a Blosc 1 decoder infers the same split from the header (see blosc-decode.ts).
    const nsplits = !isLeft && ts > 1 && bsize / ts >= 128 ? ts : 1;
    if (nsplits > 1) split = true;
    const neblock = bsize / nsplits;
    for (let j = 0; j < nsplits; j++) {
      const stream = block.subarray(j * neblock, (j + 1) * neblock);
      // Copy: the compressor reuses its output buffer.
      let c = compress(stream);
      c = c.byteLength >= neblock ? stream.slice() : c.slice();
      const len = new Uint8Array(4);
      new DataView(len.buffer).setInt32(0, c.byteLength, true);
      parts.push(len, c);
      offset += 4 + c.byteLength;
    }
  }
  header[0] = 2;
  header[1] = 1; // BLOSC_LZ4_VERSION_FORMAT and BLOSC_ZSTD_VERSION_FORMAT are both 1
  // Splitting is the Blosc 1.x default for shuffled fast codecs; without it we must say so (NOSPLIT flag 0x10).
  header[2] = (ts > 1 ? 0x1 : 0) | ((isLz4 ? 1 : 4) << 5) | (split || ts === 1 ? 0 : 0x10);
  header[3] = ts;
  dv.setUint32(4, nbytes, true);
  dv.setUint32(8, blocksize, true);
  dv.setUint32(12, offset, true);
  const out = new Uint8Array(offset);
  out.set(header, 0);
  let o = header.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
