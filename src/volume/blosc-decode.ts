/**
 * A JavaScript decoder for Blosc 1 frames (the format zarr-python writes), writing straight into the caller's buffer.
 * It is as strict as c-blosc 1.21 (the library zarr-python calls) and stricter where c-blosc would read garbage: every
 * header field, block start and stream size is checked before it is used, and each stream must decode to exactly its
 * share of the block, so a damaged frame is refused with the field named instead of decoding to wrong values.
 * numcodecs' wasm build, which this replaces, accepted frames c-blosc refuses and returned garbage for them.
 *
 * Compressors: LZ4/LZ4HC, BloscLZ, Snappy and zlib in JS (Node's zlib), zstd through the native binding (without it,
 * `bloscDecodeInto` returns false and codecs.ts decodes the zstd streams with numcodecs' wasm zstd). Shuffles: none,
 * byte, bit. Layout reference: Blosc's README_CHUNK_FORMAT and blosc.c (blosc_run_decompression_with_context, blosc_d).
 */
import { inflateSync } from "node:zlib";
import { VolumeError } from "../util/errors.js";
import type { ChunkLocation } from "./codecs.js";

const FLAG_SHUFFLE = 0x1;
const FLAG_MEMCPYED = 0x2;
const FLAG_BITSHUFFLE = 0x4;
const FLAG_RESERVED = 0x8;
const FLAG_NOSPLIT = 0x10;
const FORMAT_BLOSCLZ = 0;
const FORMAT_LZ4 = 1;
const FORMAT_SNAPPY = 2;
const FORMAT_ZLIB = 3;
const FORMAT_ZSTD = 4;
const FORMAT_NAMES = ["blosclz", "lz4", "snappy", "zlib", "zstd"];
const HEADER_BYTES = 16;
/** c-blosc's BLOSC_MAX_BLOCKSIZE: (INT_MAX - BLOSC_MAX_TYPESIZE * 4) / 3. */
const MAX_BLOCKSIZE = Math.floor((2 ** 31 - 1 - 255 * 4) / 3);
/** c-blosc splits a block into one stream per byte of the type only when each stream gets at least this many bytes. */
const MIN_BUFFERSIZE = 128;
const MAX_SPLITS = 16;

/**
 * Native zstd decompression of a whole frame `src` into dst[d0, d1) (ZSTD_decompress with that capacity, as c-blosc
 * calls it). Returns the bytes written; throws on malformed input or when the content does not fit.
 */
export type ZstdDecompress = (src: Uint8Array, dst: Uint8Array, d0: number, d1: number) => number;

const IN_MEMORY: ChunkLocation = { path: "(blosc frame in memory)" };

// ---------------------------------------------------------------------------------------------------------------
// LZ4 block format (lz4_Block_format.md): sequences of a token, literals, a 2-byte offset and a match length.

const LZ4_ERRORS: Record<number, string> = {
  1: "a literal length that runs past the end of the stream",
  2: "literals that run past the end of the stream",
  3: "more output than the block holds",
  5: "match offset 0",
  6: "a match that reaches back before the start of the block",
  7: "a match length that runs past the end of the stream",
  8: "a match that ends within the last 5 bytes of the block (they must be literals)",
  9: "more data after a sequence that must be the last (its literals end within 12 bytes of the block's end or 8 bytes of the stream's)",
  10: "a stream that ends without its final literals (after a match, or empty)",
  11: "fewer bytes than the block holds",
};

/** What an LZ4 error code returned by `lz4DecodeExact` means. */
export function lz4ErrorText(code: number): string {
  return LZ4_ERRORS[-code] ?? `LZ4 error ${code}`;
}

/**
 * Decodes one LZ4 block that must fill dst[d0, dEnd) exactly and obey the format's end-of-block rules: what c-blosc
 * accepts (LZ4_decompress_safe with capacity dEnd - d0, then its check of the size) minus LZ4 1.9's leniencies
 * (offset 0, a last match ending within the last 5 bytes). Returns 0, or a negative code for `lz4ErrorText`.
 */
export function lz4DecodeExact(src: Uint8Array, s0: number, s1: number, dst: Uint8Array, d0: number, dEnd: number): number {
  let s = s0;
  let d = d0;
  // Past these points a sequence must be the last, literals-only one: the last match starts at least 12 bytes
  // before the block's end (MFLIMIT) and the stream needs room for an offset, a token and 5 literals after it.
  // Before them, the offset and the next token are known to be inside the stream: no checks needed for those.
  const sLast = s1 - 8;
  const dLast = dEnd - 12;
  // The last 5 bytes of a block are literals (LASTLITERALS).
  const dMatchEnd = dEnd - 5;
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
      if (s + lit > sLast || d + lit > dLast) {
        if (s + lit > s1) return -2;
        if (d + lit > dEnd) return -3;
        if (s + lit < s1) return -9;
        if (d + lit < dEnd) return -11;
        dst.set(src.subarray(s, s1), d);
        return 0;
      }
      if (lit < 16) for (let i = 0; i < lit; i++) dst[d + i] = src[s + i]!;
      else dst.set(src.subarray(s, s + lit), d);
      s += lit;
      d += lit;
    } else if (s > sLast || d > dLast) {
      // A sequence without literals where only the final literals may come: the block cannot end properly.
      return s < s1 ? -9 : -11;
    }
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || d - offset < d0) return offset === 0 ? -5 : -6;
    let len = (token & 15) + 4;
    if (len === 19) {
      let b: number;
      do {
        if (s >= s1) return -7;
        b = src[s++]!;
        len += b;
      } while (b === 255);
    }
    if (d + len > dMatchEnd) return -8;
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
  // The stream ended after a match (or was empty): a block always ends with literals.
  return -10;
}

// ---------------------------------------------------------------------------------------------------------------
// BloscLZ (c-blosc 1.21 blosclz_decompress, ported check by check).

const BLOSCLZ_MAX_DISTANCE = 8191;

/** Decodes a BloscLZ stream into dst[d0, dEnd); returns the bytes written or -1 where c-blosc returns an error. */
function blosclzDecode(src: Uint8Array, s0: number, s1: number, dst: Uint8Array, d0: number, dEnd: number): number {
  if (s1 === s0) return 0;
  let ip = s0;
  let op = d0;
  let ctrl = src[ip++]! & 31;
  for (;;) {
    if (ctrl >= 32) {
      let len = (ctrl >>> 5) - 1;
      let ofs = (ctrl & 31) << 8;
      let code: number;
      if (len === 6) {
        do {
          if (ip + 1 >= s1) return -1;
          code = src[ip++]!;
          len += code;
        } while (code === 255);
      } else if (ip + 1 >= s1) return -1;
      code = src[ip++]!;
      len += 3;
      let ref = op - ofs - code;
      if (code === 255 && ofs === 31 << 8) {
        if (ip + 1 >= s1) return -1;
        ofs = (src[ip]! << 8) + src[ip + 1]!;
        ip += 2;
        ref = op - ofs - BLOSCLZ_MAX_DISTANCE;
      }
      if (op + len > dEnd) return -1;
      if (ref - 1 < d0) return -1;
      if (ip >= s1) break;
      ctrl = src[ip++]!;
      ref--;
      const end = op + len;
      while (op < end) dst[op++] = dst[ref++]!;
    } else {
      ctrl++;
      if (op + ctrl > dEnd || ip + ctrl > s1) return -1;
      dst.set(src.subarray(ip, ip + ctrl), op);
      op += ctrl;
      ip += ctrl;
      if (ip >= s1) break;
      ctrl = src[ip++]!;
    }
  }
  return op - d0;
}

// ---------------------------------------------------------------------------------------------------------------
// Snappy raw format (format_description.txt): a varint length, then literals and copies; snappy_uncompress's checks.

/** Decodes a Snappy stream into dst[d0, dEnd); returns the bytes written or -1 for any input snappy rejects. */
function snappyDecode(src: Uint8Array, s0: number, s1: number, dst: Uint8Array, d0: number, dEnd: number): number {
  let ip = s0;
  let total = 0;
  for (let shift = 0; ; shift += 7) {
    if (ip >= s1 || shift > 28) return -1;
    const b = src[ip++]!;
    if (shift === 28 && b > 15) return -1; // more than 32 bits
    total += (b & 127) * 2 ** shift;
    if (b < 128) break;
  }
  if (total > dEnd - d0) return -1;
  const oEnd = d0 + total;
  let op = d0;
  while (ip < s1) {
    const tag = src[ip++]!;
    let len: number;
    let offset: number;
    switch (tag & 3) {
      case 0: {
        len = tag >>> 2;
        if (len >= 60) {
          const extra = len - 59;
          if (ip + extra > s1) return -1;
          len = 0;
          for (let k = extra - 1; k >= 0; k--) len = len * 256 + src[ip + k]!;
          ip += extra;
        }
        len += 1;
        if (ip + len > s1 || op + len > oEnd) return -1;
        dst.set(src.subarray(ip, ip + len), op);
        ip += len;
        op += len;
        continue;
      }
      case 1:
        if (ip >= s1) return -1;
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | src[ip++]!;
        break;
      case 2:
        if (ip + 2 > s1) return -1;
        len = (tag >>> 2) + 1;
        offset = src[ip]! | (src[ip + 1]! << 8);
        ip += 2;
        break;
      default:
        if (ip + 4 > s1) return -1;
        len = (tag >>> 2) + 1;
        offset = (src[ip]! | (src[ip + 1]! << 8) | (src[ip + 2]! << 16) | (src[ip + 3]! << 24)) >>> 0;
        ip += 4;
    }
    if (offset === 0 || offset > op - d0 || op + len > oEnd) return -1;
    let m = op - offset;
    const end = op + len;
    while (op < end) dst[op++] = dst[m++]!;
  }
  return op === oEnd ? total : -1;
}

// ---------------------------------------------------------------------------------------------------------------
// Shuffles.

/** Reverses Blosc's byte shuffle of one block: src holds `typesize` planes of `n` bytes each. */
export function unshuffleInto(typesize: number, src: Uint8Array, s0: number, dst: Uint8Array, d0: number, blockBytes: number): void {
  const n = Math.floor(blockBytes / typesize);
  if (typesize === 2 && (dst.byteOffset + d0) % 2 === 0) {
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
 * Reverses Blosc's bit shuffle of one block (c-blosc's bitunshuffle): with n elements, a multiple of 8, src holds
 * 8 * typesize rows of n / 8 bytes, row (byte j, bit b) carrying bit b of byte j of every element, element k at bit
 * k % 8 of byte k / 8. Bytes past the last whole element, and blocks whose element count is not a multiple of 8,
 * are stored as they are.
 */
export function bitunshuffleInto(typesize: number, src: Uint8Array, s0: number, dst: Uint8Array, d0: number, blockBytes: number): void {
  const n = Math.floor(blockBytes / typesize);
  if (n % 8 !== 0) {
    dst.set(src.subarray(s0, s0 + blockBytes), d0);
    return;
  }
  const nbyte = n * typesize;
  const rowBytes = n >>> 3;
  dst.fill(0, d0, d0 + nbyte);
  for (let j = 0; j < typesize; j++)
    for (let b = 0; b < 8; b++) {
      const row = s0 + (j * 8 + b) * rowBytes;
      const bit = 1 << b;
      for (let m = 0; m < rowBytes; m++) {
        const v = src[row + m]!;
        if (v === 0) continue;
        const e = d0 + 8 * m * typesize + j;
        for (let k = 0; k < 8; k++) if (v & (1 << k)) dst[e + k * typesize] = (dst[e + k * typesize] ?? 0) | bit;
      }
    }
  dst.set(src.subarray(s0 + nbyte, s0 + blockBytes), d0 + nbyte);
}

// ---------------------------------------------------------------------------------------------------------------
// Frames.

/** The 16-byte header of a Blosc 1 frame, every field checked. */
export interface BloscHeader {
  flags: number;
  typesize: number;
  nbytes: number;
  blocksize: number;
  cbytes: number;
  /** Compressor of the streams: 0 blosclz, 1 lz4 (and lz4hc), 2 snappy, 3 zlib, 4 zstd. */
  format: number;
  /** The frame stores the data as it is after the header (no blocks, no streams). */
  memcpyed: boolean;
  nblocks: number;
}

function corrupt(where: ChunkLocation, field: string, expected: string, got: string | number, summary = "corrupt blosc chunk"): VolumeError {
  return new VolumeError(summary, { ...where, field, expected, got: String(got) });
}

/**
 * Reads and checks the header of a Blosc 1 frame that must decode to `expectedBytes`: every check c-blosc makes
 * before decoding (format version, reserved flag, typesize, block size, compressor and its format version, room
 * for the block starts, memcpyed size) plus the ones it leaves to the caller (frame length = cbytes, nbytes =
 * the chunk's size). Throws a VolumeError naming the field.
 */
export function readBloscHeader(frame: Uint8Array, expectedBytes: number, where: ChunkLocation = IN_MEMORY): BloscHeader {
  if (frame.byteLength < HEADER_BYTES)
    throw corrupt(where, "header", "at least 16 bytes (the Blosc header)", `${frame.byteLength} bytes`, "truncated blosc chunk");
  const dv = new DataView(frame.buffer, frame.byteOffset, HEADER_BYTES);
  const flags = frame[2]!;
  const typesize = frame[3]!;
  const nbytes = dv.getUint32(4, true);
  const blocksize = dv.getUint32(8, true);
  const cbytes = dv.getUint32(12, true);
  if (cbytes > frame.byteLength)
    throw corrupt(where, "header.cbytes (bytes 12-15)", `${cbytes} bytes (the frame's size in its header)`, `${frame.byteLength} bytes`, "truncated blosc chunk");
  if (cbytes < frame.byteLength)
    throw corrupt(where, "header.cbytes (bytes 12-15)", `${frame.byteLength} (the file's size: nothing may follow the frame)`, cbytes);
  if (frame[0] !== 2) throw corrupt(where, "header.version (byte 0)", "2 (Blosc 1 frame format)", frame[0]!);
  if (flags & FLAG_RESERVED) throw corrupt(where, "header.flags (byte 2)", "bit 0x08 clear (reserved)", `0x${flags.toString(16)}`);
  if (typesize === 0) throw corrupt(where, "header.typesize (byte 3)", "1 to 255", 0);
  if (nbytes !== expectedBytes)
    throw corrupt(where, "header.nbytes (bytes 4-7)", `${expectedBytes} decoded bytes (the chunk's size)`, nbytes, "blosc chunk has the wrong size");
  if (blocksize === 0 || blocksize > nbytes || blocksize > MAX_BLOCKSIZE)
    throw corrupt(where, "header.blocksize (bytes 8-11)", `1 to ${Math.min(nbytes, MAX_BLOCKSIZE)}`, blocksize);
  const nblocks = Math.ceil(nbytes / blocksize);
  const memcpyed = (flags & FLAG_MEMCPYED) !== 0;
  const format = flags >>> 5;
  if (memcpyed) {
    if (cbytes !== nbytes + HEADER_BYTES) throw corrupt(where, "header.cbytes (bytes 12-15)", `${nbytes + HEADER_BYTES} (nbytes + 16 for a stored frame)`, cbytes);
  } else {
    if (format > FORMAT_ZSTD) throw corrupt(where, "header.flags (byte 2, bits 5-7: compressor)", "0 blosclz, 1 lz4, 2 snappy, 3 zlib or 4 zstd", format);
    if (frame[1] !== 1) throw corrupt(where, "header.versionlz (byte 1)", `1 (the ${FORMAT_NAMES[format]} format version)`, frame[1]!);
    if (HEADER_BYTES + 4 * nblocks > cbytes)
      throw corrupt(where, "header (block starts)", `${HEADER_BYTES + 4 * nblocks} bytes for the starts of ${nblocks} blocks`, `${cbytes} bytes`, "truncated blosc chunk");
  }
  return { flags, typesize, nbytes, blocksize, cbytes, format, memcpyed, nblocks };
}

export interface BloscDecodeOptions {
  /** The chunk being decoded, named in errors. */
  where?: ChunkLocation;
  /** Bytes the frame must decode to (default: all of dst after d0). */
  expectedBytes?: number;
}

/**
 * Decodes a Blosc 1 frame into dst[d0, d0 + nbytes) using `tmp` (at least one block) for shuffled data.
 * Throws a VolumeError naming the chunk and the field for any frame c-blosc would refuse, and for frames whose
 * streams do not tile each block exactly. Returns false only when it needs something it does not have: zstd
 * streams without the native binding (`zstd` null), or a `tmp` smaller than the frame's block.
 */
export function bloscDecodeInto(
  frame: Uint8Array,
  dst: Uint8Array,
  d0: number,
  tmp: Uint8Array,
  zstd: ZstdDecompress | null,
  options: BloscDecodeOptions = {},
): boolean {
  const where = options.where ?? IN_MEMORY;
  const h = readBloscHeader(frame, options.expectedBytes ?? dst.length - d0, where);
  if (d0 + h.nbytes > dst.length) throw new RangeError(`blosc output needs ${h.nbytes} bytes after ${d0}, buffer has ${dst.length}`);
  if (h.memcpyed) {
    dst.set(frame.subarray(HEADER_BYTES, HEADER_BYTES + h.nbytes), d0);
    return true;
  }
  const { flags, typesize, nbytes, blocksize, cbytes, format, nblocks } = h;
  if (format === FORMAT_ZSTD && !zstd) return false;
  const shuffled = (flags & FLAG_SHUFFLE) !== 0 && typesize > 1;
  const bitshuffled = !shuffled && (flags & FLAG_BITSHUFFLE) !== 0;
  if ((shuffled || bitshuffled) && tmp.length < blocksize) return false;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerEnd = HEADER_BYTES + 4 * nblocks;
  const leftover = nbytes % blocksize;
  for (let b = 0; b < nblocks; b++) {
    const isLeftover = b === nblocks - 1 && leftover > 0;
    const bsize = isLeftover ? leftover : blocksize;
    // As c-blosc: the bit shuffle applies to blocks that hold at least one element.
    const unshuffle = shuffled || (bitshuffled && bsize >= typesize);
    let s = dv.getUint32(HEADER_BYTES + 4 * b, true);
    // c-blosc only asks for a start inside the frame; one inside the header or block table is damage too.
    if (s < headerEnd || s > cbytes - 4) throw corrupt(where, `block start ${b} (bytes ${HEADER_BYTES + 4 * b}-${HEADER_BYTES + 4 * b + 3})`, `${headerEnd} to ${cbytes - 4}`, s);
    const nsplits = !(flags & FLAG_NOSPLIT) && !isLeftover && typesize <= MAX_SPLITS && Math.floor(bsize / typesize) >= MIN_BUFFERSIZE ? typesize : 1;
    const neblock = Math.floor(bsize / nsplits);
    // c-blosc would leave the block's last bytes unwritten (uninitialised memory in its output).
    if (neblock * nsplits !== bsize)
      throw corrupt(where, "header.typesize (byte 3)", `a divisor of the ${bsize}-byte block (it is split into one stream per byte of the type)`, typesize);
    const out = unshuffle ? tmp : dst;
    let o = unshuffle ? 0 : d0 + b * blocksize;
    for (let j = 0; j < nsplits; j++) {
      if (s > cbytes - 4) throw corrupt(where, `${streamName(nsplits, j, b)} (at byte ${s})`, `its 4-byte size within the ${cbytes}-byte frame`, "the frame ends first", "truncated blosc chunk");
      const cs = dv.getInt32(s, true);
      s += 4;
      if (cs < 0 || cs > cbytes - s)
        throw corrupt(where, `${streamName(nsplits, j, b)}: compressed size (bytes ${s - 4}-${s - 1})`, `0 to ${cbytes - s} (the rest of the frame)`, cs);
      if (cs === neblock) out.set(frame.subarray(s, s + cs), o);
      else if (format === FORMAT_LZ4) {
        const r = lz4DecodeExact(frame, s, s + cs, out, o, o + neblock);
        if (r < 0) throw streamError(where, streamName(nsplits, j, b), format, s, s + cs, neblock, lz4ErrorText(r));
      } else decodeStream(frame, s, s + cs, out, o, o + neblock, format, zstd!, where, streamName(nsplits, j, b));
      s += cs;
      o += neblock;
    }
    if (shuffled) unshuffleInto(typesize, tmp, 0, dst, d0 + b * blocksize, bsize);
    else if (unshuffle) bitunshuffleInto(typesize, tmp, 0, dst, d0 + b * blocksize, bsize);
  }
  return true;
}

/** Decodes one non-LZ4 stream that must fill out[o0, o1) exactly; throws naming the stream otherwise. */
function decodeStream(
  frame: Uint8Array,
  s0: number,
  s1: number,
  out: Uint8Array,
  o0: number,
  o1: number,
  format: number,
  zstd: ZstdDecompress,
  where: ChunkLocation,
  stream: string,
): void {
  const name = FORMAT_NAMES[format]!;
  let n: number;
  let why = "";
  try {
    if (format === FORMAT_BLOSCLZ) n = blosclzDecode(frame, s0, s1, out, o0, o1);
    else if (format === FORMAT_SNAPPY) n = snappyDecode(frame, s0, s1, out, o0, o1);
    else if (format === FORMAT_ZLIB) {
      // c-blosc calls zlib's uncompress(): a whole zlib stream whose output fits the stream's share of the block.
      const dec = inflateSync(frame.subarray(s0, s1), { maxOutputLength: o1 - o0 });
      out.set(dec, o0);
      n = dec.length;
    } else n = zstd(frame.subarray(s0, s1), out, o0, o1);
  } catch (e) {
    n = -1;
    why = `: ${(e as Error).message}`;
  }
  if (n !== o1 - o0) throw streamError(where, stream, format, s0, s1, o1 - o0, n < 0 ? `invalid ${name} data${why}` : `${n} bytes`);
}

/** How errors name a compressed stream (built only for errors: a string per stream costs read speed). */
function streamName(nsplits: number, j: number, b: number): string {
  return nsplits > 1 ? `stream ${j} of block ${b}` : `block ${b}`;
}

function streamError(where: ChunkLocation, stream: string, format: number, s0: number, s1: number, bytes: number, got: string): VolumeError {
  const name = FORMAT_NAMES[format]!;
  return corrupt(where, `${stream}: ${name} stream (bytes ${s0}-${s1 - 1})`, `${name === "lz4" ? "an" : "a"} ${name} stream of exactly ${bytes} bytes`, got);
}
