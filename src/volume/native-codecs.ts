/**
 * Optional native codecs. `zstd-napi` (an optional dependency, built from source at install where a C compiler is
 * available) decodes zstd at native speed; without it every path falls back to numcodecs' wasm build and gives the
 * same bytes, only slower. `nativeCodecs()` tells which one is in use.
 *
 * We call its low-level binding (ZSTD_decompress into a buffer we give it) rather than its `decompress()`: that one
 * sizes its output from the frame header, so a damaged content-size field could ask for any allocation, and a
 * truncated frame without one came back short instead of failing. With a fixed capacity, libzstd itself refuses
 * content that does not fit, and the frame decodes straight into the chunk's place in the output.
 */
import { createRequire } from "node:module";
import type { ZstdDecompress } from "./blosc-decode.js";

let zstd: ZstdDecompress | null | undefined;

export function nativeZstd(): ZstdDecompress | null {
  if (zstd !== undefined) return zstd;
  zstd = null;
  if (process.env.SSB_CT_NATIVE_CODECS === "0") return zstd;
  try {
    const req = createRequire(import.meta.url);
    const binding = req("zstd-napi/binding") as { decompress: (dst: Uint8Array, src: Uint8Array) => number };
    zstd = (src, dst, d0, d1) => binding.decompress(dst.subarray(d0, d1), src);
  } catch {
    zstd = null;
  }
  return zstd;
}

export function nativeCodecs(): { zstd: boolean } {
  return { zstd: nativeZstd() !== null };
}

/**
 * Turns the native codecs off (`false`) or lets them be found again (`true`, still subject to
 * SSB_CT_NATIVE_CODECS=0), so tests and benchmarks can run the fallback path in the same process.
 */
export function setNativeCodecs(enabled: boolean): void {
  zstd = enabled ? undefined : null;
}
