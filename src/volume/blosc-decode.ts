/**
 * A JavaScript decoder for Blosc 1 frames (the format zarr-python writes) with byte shuffle, writing straight into
 * the caller's buffer. Paired with native zstd (optional) and a JS LZ4 block decoder it avoids the wasm build's
 * extra copies and lets every read worker decode at full speed. Frames it does not handle (bitshuffle, snappy,
 * blosclz, zlib inside blosc) return false so the caller falls back to the reference (numcodecs wasm) decoder.
 * Layout reference: Blosc's README_CHUNK_FORMAT (16-byte header, block starts, per-block split streams).
 */

const FLAG_SHUFFLE = 0x1;
const FLAG_MEMCPYED = 0x2;
const FLAG_BITSHUFFLE = 0x4;
const FLAG_NOSPLIT = 0x10;
const FORMAT_LZ4 = 1;
const FORMAT_ZSTD = 4;

/** Native zstd frame decompression, when an optional native binding is installed; null otherwise. */
export type ZstdDecompress = (frame: Uint8Array) => Uint8Array;

/**
 * Decodes one LZ4 block (raw block format, no frame) from src[s0, s1) into dst starting at d0.
 * Returns the number of bytes written, or -1 if the block is malformed or would overrun dEnd.
 */
export function lz4DecodeBlock(src: Uint8Array, s0: number, s1: number, dst: Uint8Array, d0: number, dEnd: number): number {
  let s = s0;
  let d = d0;
  while (s < s1) {
    const token = src[s++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (s >= s1) return -1;
        b = src[s++]!;
        lit += b;
      } while (b === 255);
    }
    if (lit > 0) {
      if (s + lit > s1 || d + lit > dEnd) return -1;
      if (lit < 16) for (let i = 0; i < lit; i++) dst[d + i] = src[s + i]!;
      else dst.set(src.subarray(s, s + lit), d);
      s += lit;
      d += lit;
    }
    if (s >= s1) break; // the last sequence carries literals only
    if (s + 2 > s1) return -1;
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || d - offset < d0) return -1;
    let len = (token & 15) + 4;
    if (len === 19) {
      let b: number;
      do {
        if (s >= s1) return -1;
        b = src[s++]!;
        len += b;
      } while (b === 255);
    }
    if (d + len > dEnd) return -1;
    let m = d - offset;
    if (offset >= len && len >= 32) {
      dst.copyWithin(d, m, m + len);
      d += len;
    } else {
      // Overlapping matches repeat the last `offset` bytes: copy forwards byte by byte.
      const end = d + len;
      while (d < end) dst[d++] = dst[m++]!;
    }
  }
  return d - d0;
}

/** Reverses Blosc's byte shuffle of one block: src holds `typesize` planes of `n` bytes each. */
export function unshuffleInto(typesize: number, src: Uint8Array, s0: number, dst: Uint8Array, d0: number, blockBytes: number): void {
  const n = Math.floor(blockBytes / typesize);
  if (typesize === 2 && (d0 & 1) === 0 && (src.byteOffset + d0) % 2 === 0) {
    const out = new Uint16Array(dst.buffer, dst.byteOffset + d0, n);
    const lo = s0;
    const hi = s0 + n;
    for (let i = 0; i < n; i++) out[i] = src[lo + i]! | (src[hi + i]! << 8);
  } else if (typesize === 4 && (dst.byteOffset + d0) % 4 === 0) {
    const out = new Int32Array(dst.buffer, dst.byteOffset + d0, n);
    const p1 = s0 + n, p2 = s0 + 2 * n, p3 = s0 + 3 * n;
    for (let i = 0; i < n; i++) out[i] = src[s0 + i]! | (src[p1 + i]! << 8) | (src[p2 + i]! << 16) | (src[p3 + i]! << 24);
  } else {
    for (let j = 0; j < typesize; j++) {
      const plane = s0 + j * n;
      for (let i = 0; i < n; i++) dst[d0 + i * typesize + j] = src[plane + i]!;
    }
  }
  // Bytes past the last whole element are stored unshuffled.
  const rem = blockBytes - n * typesize;
  for (let i = 0; i < rem; i++) dst[d0 + n * typesize + i] = src[s0 + n * typesize + i]!;
}

/**
 * Decodes a Blosc 1 frame into dst[d0, d0 + nbytes) using `tmp` (at least one block) for shuffled data.
 * Returns false when the frame uses a feature this decoder leaves to the reference implementation, or looks
 * inconsistent; the caller then decodes it with numcodecs, which also produces the precise error for corrupt data.
 */
export function bloscDecodeInto(frame: Uint8Array, dst: Uint8Array, d0: number, tmp: Uint8Array, zstd: ZstdDecompress | null): boolean {
  if (frame.length < 16) return false;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const flags = frame[2]!;
  const typesize = frame[3]!;
  const nbytes = dv.getUint32(4, true);
  const blocksize = dv.getUint32(8, true);
  const cbytes = dv.getUint32(12, true);
  if (frame[0]! > 2 || cbytes !== frame.length || d0 + nbytes > dst.length) return false;
  if (flags & FLAG_MEMCPYED) {
    if (16 + nbytes > frame.length) return false;
    dst.set(frame.subarray(16, 16 + nbytes), d0);
    return true;
  }
  if (flags & FLAG_BITSHUFFLE) return false;
  const format = (flags & 0xe0) >>> 5;
  if (format !== FORMAT_LZ4 && !(format === FORMAT_ZSTD && zstd)) return false;
  if (blocksize === 0 || tmp.length < blocksize) return false;
  const shuffled = (flags & FLAG_SHUFFLE) !== 0 && typesize > 1;
  const nblocks = Math.ceil(nbytes / blocksize);
  const leftover = nbytes % blocksize;
  for (let b = 0; b < nblocks; b++) {
    const isLeftover = b === nblocks - 1 && leftover > 0;
    const bsize = isLeftover ? leftover : blocksize;
    let s = dv.getInt32(16 + 4 * b, true);
    const nsplits = !(flags & FLAG_NOSPLIT) && !isLeftover && typesize <= 16 && bsize / typesize >= 128 ? typesize : 1;
    const neblock = bsize / nsplits;
    if (!Number.isInteger(neblock)) return false;
    const out = shuffled ? tmp : dst;
    let o = shuffled ? 0 : d0 + b * blocksize;
    for (let j = 0; j < nsplits; j++) {
      if (s + 4 > frame.length) return false;
      const cs = dv.getInt32(s, true);
      s += 4;
      if (cs < 0 || s + cs > frame.length) return false;
      if (cs === neblock) out.set(frame.subarray(s, s + cs), o);
      else if (format === FORMAT_LZ4) {
        if (lz4DecodeBlock(frame, s, s + cs, out, o, o + neblock) !== neblock) return false;
      } else {
        const dec = zstd!(frame.subarray(s, s + cs));
        if (dec.length !== neblock) return false;
        out.set(dec, o);
      }
      s += cs;
      o += neblock;
    }
    if (shuffled) unshuffleInto(typesize, tmp, 0, dst, d0 + b * blocksize, bsize);
  }
  return true;
}
