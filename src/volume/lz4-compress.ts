/**
 * LZ4 block compressor (raw block format, the one Blosc stores), greedy with a 64 Ki-entry hash of 4-byte sequences,
 * like LZ4's fast mode. Pure JS on purpose: native bindings hand back buffers the garbage collector does not count,
 * so a long write job's memory grew with the volume (found by the twin's memory benchmark).
 */

const MINMATCH = 4;
const LAST_LITERALS = 5;
const MFLIMIT = 12;
const table = new Int32Array(1 << 16);

/** Worst-case compressed size of n bytes. */
export function lz4Bound(n: number): number {
  return n + Math.ceil(n / 255) + 16;
}

function writeLength(dst: Uint8Array, d: number, len: number): number {
  while (len >= 255) {
    dst[d++] = 255;
    len -= 255;
  }
  dst[d++] = len;
  return d;
}

/** Compresses src[s0, s1) into dst at d0; returns the number of bytes written. dst needs lz4Bound(s1 - s0) bytes. */
export function lz4CompressBlock(src: Uint8Array, s0: number, s1: number, dst: Uint8Array, d0: number): number {
  table.fill(-1);
  let d = d0;
  let anchor = s0;
  let i = s0;
  const matchLimit = s1 - LAST_LITERALS;
  const startLimit = s1 - MFLIMIT;
  let misses = 0;
  while (i < startLimit) {
    const seq = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
    const h = Math.imul(seq, 2654435761) >>> 16;
    const ref = table[h]!;
    table[h] = i;
    if (ref < 0 || i - ref > 65535 || (src[ref]! | (src[ref + 1]! << 8) | (src[ref + 2]! << 16) | (src[ref + 3]! << 24)) !== seq) {
      i += 1 + (misses++ >> 6);
      continue;
    }
    misses = 0;
    let mlen = MINMATCH;
    while (i + mlen < matchLimit && src[ref + mlen] === src[i + mlen]) mlen++;
    const lit = i - anchor;
    const ml = mlen - MINMATCH;
    dst[d++] = (Math.min(lit, 15) << 4) | Math.min(ml, 15);
    if (lit >= 15) d = writeLength(dst, d, lit - 15);
    if (lit < 16) for (let k = 0; k < lit; k++) dst[d + k] = src[anchor + k]!;
    else dst.set(src.subarray(anchor, i), d);
    d += lit;
    const off = i - ref;
    dst[d++] = off & 0xff;
    dst[d++] = off >>> 8;
    if (ml >= 15) d = writeLength(dst, d, ml - 15);
    i += mlen;
    anchor = i;
  }
  const lit = s1 - anchor;
  dst[d++] = Math.min(lit, 15) << 4;
  if (lit >= 15) d = writeLength(dst, d, lit - 15);
  dst.set(src.subarray(anchor, s1), d);
  d += lit;
  return d - d0;
}
