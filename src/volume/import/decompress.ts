/**
 * Decoders for the TIFF compression schemes beamline software writes (LZW, PackBits, Deflate) and for the TIFF
 * predictors (horizontal differencing, floating-point byte planes). Pure functions over byte arrays; the caller
 * says how many bytes a strip or tile must decode to, so a corrupt stream cannot make a decoder allocate more.
 */
import { inflateSync } from "node:zlib";

/** Thrown by the decoders; the TIFF reader wraps it with the file, page and strip. */
export class DecodeError extends Error {}

/**
 * TIFF LZW (TIFF 6.0 section 13): codes MSB-first, 9 to 12 bits, Clear = 256, EOI = 257, and the code width grows
 * one code early (at 511, 1023, 2047), which is what libtiff writes. Output stops at `expected` bytes.
 */
export function lzwDecode(src: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const length = new Int32Array(4096);
  const first = new Uint8Array(4096);
  for (let i = 0; i < 256; i++) {
    prefix[i] = -1;
    suffix[i] = i;
    length[i] = 1;
    first[i] = i;
  }
  let next = 258;
  let width = 9;
  let prev = -1;
  let op = 0;
  let ip = 0;
  let bitBuf = 0;
  let bitCount = 0;

  // Writes the string of `code` at op; returns false when the output is full.
  const emit = (code: number): boolean => {
    const len = length[code]!;
    const end = op + len;
    let c = code;
    // Walk the prefix chain backwards; bytes past the expected size are dropped (they are padding or garbage).
    for (let p = end - 1; p >= op; p--) {
      if (p < expected) out[p] = suffix[c]!;
      c = prefix[c]!;
    }
    op = Math.min(end, expected);
    return op < expected;
  };

  for (;;) {
    while (bitCount < width) {
      if (ip >= src.length) return finish();
      bitBuf = ((bitBuf << 8) | src[ip++]!) & 0xfffff;
      bitCount += 8;
    }
    const code = (bitBuf >>> (bitCount - width)) & ((1 << width) - 1);
    bitCount -= width;
    if (code === 257) break;
    if (code === 256) {
      next = 258;
      width = 9;
      prev = -1;
      continue;
    }
    if (prev === -1) {
      if (code > 255) throw new DecodeError(`LZW stream starts with code ${code} after a Clear code`);
      if (!emit(code)) break;
      prev = code;
      continue;
    }
    if (code < next) {
      if (!emit(code)) break;
      if (next < 4096) {
        prefix[next] = prev;
        suffix[next] = first[code]!;
        length[next] = length[prev]! + 1;
        first[next] = first[prev]!;
        next++;
      }
    } else if (code === next && next < 4096) {
      prefix[next] = prev;
      suffix[next] = first[prev]!;
      length[next] = length[prev]! + 1;
      first[next] = first[prev]!;
      next++;
      if (!emit(code)) break;
    } else {
      throw new DecodeError(`LZW code ${code} is not in the table (next free code ${next})`);
    }
    if (next + 1 >= 1 << width && width < 12) width++;
    prev = code;
  }
  return finish();

  function finish(): Uint8Array {
    if (op < expected) throw new DecodeError(`LZW data ends after ${op} of ${expected} bytes`);
    return out;
  }
}

/** PackBits (Apple run-length coding, TIFF compression 32773). */
export function packbitsDecode(src: Uint8Array, expected: number): Uint8Array {
  const out = new Uint8Array(expected);
  let ip = 0;
  let op = 0;
  while (op < expected && ip < src.length) {
    const n = src[ip++]!;
    if (n < 128) {
      const count = n + 1;
      if (ip + count > src.length) throw new DecodeError(`PackBits literal run of ${count} bytes runs past the end of the data`);
      const take = Math.min(count, expected - op);
      out.set(src.subarray(ip, ip + take), op);
      ip += count;
      op += take;
    } else if (n > 128) {
      if (ip >= src.length) throw new DecodeError("PackBits repeat run has no byte to repeat");
      const count = Math.min(257 - n, expected - op);
      out.fill(src[ip++]!, op, op + count);
      op += count;
    }
    // n === 128 is a no-op by definition.
  }
  if (op < expected) throw new DecodeError(`PackBits data ends after ${op} of ${expected} bytes`);
  return out;
}

/** zlib-wrapped Deflate (TIFF compression 8 and the older 32946). */
export function deflateDecode(src: Uint8Array, expected: number): Uint8Array {
  let raw: Buffer;
  try {
    raw = inflateSync(src, { maxOutputLength: Math.max(expected, 1) });
  } catch (e) {
    // A stream longer than the strip needs is legal (some writers pad); the first `expected` bytes are what matter.
    if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") raw = inflateSync(src).subarray(0, expected);
    else throw new DecodeError(`Deflate stream is corrupt: ${(e as Error).message}`);
  }
  if (raw.length < expected) throw new DecodeError(`Deflate data ends after ${raw.length} of ${expected} bytes`);
  return raw.length === expected ? raw : raw.subarray(0, expected);
}

/** Reverses the byte order of every `size`-byte element in place (big-endian file on a little-endian host). */
export function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 2) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const a = bytes[i]!;
      bytes[i] = bytes[i + 1]!;
      bytes[i + 1] = a;
    }
  } else if (size === 4) {
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      const a = bytes[i]!;
      const b = bytes[i + 1]!;
      bytes[i] = bytes[i + 3]!;
      bytes[i + 1] = bytes[i + 2]!;
      bytes[i + 2] = b;
      bytes[i + 3] = a;
    }
  } else if (size === 8) {
    for (let i = 0; i + 7 < bytes.length; i += 8) {
      for (let k = 0; k < 4; k++) {
        const a = bytes[i + k]!;
        bytes[i + k] = bytes[i + 7 - k]!;
        bytes[i + 7 - k] = a;
      }
    }
  }
}

/**
 * Undoes TIFF predictor 2 (horizontal differencing) on native-order integer samples, row by row: each sample was
 * stored as the difference to its left neighbour, modulo the sample width (typed-array stores wrap the same way).
 */
export function undoHorizontalDifferencing(
  samples: Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array,
  rowLength: number,
): void {
  for (let r = 0; r + rowLength <= samples.length; r += rowLength) {
    for (let i = r + 1; i < r + rowLength; i++) samples[i] = samples[i]! + samples[i - 1]!;
  }
}

/**
 * Undoes TIFF predictor 3 (Adobe floating-point predictor): per row, bytes were split into planes (most significant
 * byte first, whatever the file's byte order) and then byte-differenced. Returns native little-endian samples.
 */
export function undoFloatingPointPredictor(bytes: Uint8Array, rowLength: number, bytesPerSample: number): Uint8Array {
  const rowBytes = rowLength * bytesPerSample;
  const out = new Uint8Array(bytes.length);
  for (let r = 0; r + rowBytes <= bytes.length; r += rowBytes) {
    for (let i = r + 1; i < r + rowBytes; i++) bytes[i] = (bytes[i]! + bytes[i - 1]!) & 0xff;
    for (let b = 0; b < bytesPerSample; b++) {
      const plane = r + b * rowLength;
      const hostByte = bytesPerSample - 1 - b;
      for (let k = 0; k < rowLength; k++) out[r + k * bytesPerSample + hostByte] = bytes[plane + k]!;
    }
  }
  return out;
}
