/**
 * Optional native codecs. `zstd-napi` (an optional dependency, built from source at install where a C compiler is
 * available) decodes zstd at native speed; without it every path falls back to numcodecs' wasm build and gives the
 * same bytes, only slower. `nativeCodecs()` tells which one is in use.
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
    const mod = req("zstd-napi") as { decompress: (b: Uint8Array) => Uint8Array };
    zstd = (frame) => mod.decompress(frame);
  } catch {
    zstd = null;
  }
  return zstd;
}

export function nativeCodecs(): { zstd: boolean } {
  return { zstd: nativeZstd() !== null };
}
