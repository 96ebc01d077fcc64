/**
 * Chunk codecs: bytes <-> compressed bytes. gzip/zlib use Node's native zlib; blosc and zstd use numcodecs' wasm
 * builds (the same C libraries zarr-python uses). Corrupt or truncated input is reported with the chunk's path.
 */
import { gunzipSync, gzipSync, inflateSync, deflateSync } from "node:zlib";
import { Blosc, Zstd } from "numcodecs";
import type { Codec } from "numcodecs";
import { VolumeError } from "../util/errors.js";
import type { CodecSpec, DataType } from "./types.js";
import { BYTES_PER_ELEMENT } from "./types.js";
import { bloscDecodeInto } from "./blosc-decode.js";
import { bloscEncode } from "./blosc-encode.js";
import { nativeZstd } from "./native-codecs.js";

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

/**
 * Blosc frames carry their sizes in a 16-byte header; checking them first turns a truncated file into a clear error
 * instead of a wasm abort.
 */
function checkBloscHeader(buf: Uint8Array, expectedBytes: number, where: string): void {
  if (buf.byteLength < 16) throw new VolumeError("truncated blosc chunk", { path: where, expected: ">= 16 bytes", got: `${buf.byteLength} bytes` });
  const dv = new DataView(buf.buffer, buf.byteOffset, 16);
  const nbytes = dv.getUint32(4, true);
  const cbytes = dv.getUint32(12, true);
  if (cbytes !== buf.byteLength)
    throw new VolumeError("truncated or corrupt blosc chunk", { path: where, expected: `${cbytes} bytes (from its header)`, got: `${buf.byteLength} bytes` });
  if (nbytes !== expectedBytes)
    throw new VolumeError("blosc chunk has the wrong size", { path: where, expected: `${expectedBytes} decoded bytes`, got: `${nbytes}` });
}

export async function encodeChunk(bytes: Uint8Array, spec: CodecSpec, dtype: DataType): Promise<Uint8Array> {
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
  }
}

/** Decodes one chunk and checks that it holds exactly `expectedBytes` bytes. `where` names the chunk file in errors. */
export async function decodeChunk(
  buf: Uint8Array,
  spec: CodecSpec,
  dtype: DataType,
  expectedBytes: number,
  where: string,
): Promise<Uint8Array> {
  let out: Uint8Array;
  try {
    switch (spec.name) {
      case "raw":
        out = buf;
        break;
      case "gzip":
        out = gunzipSync(buf);
        break;
      case "zlib":
        out = inflateSync(buf);
        break;
      case "blosc": {
        checkBloscHeader(buf, expectedBytes, where);
        const fast = new Uint8Array(expectedBytes);
        const blocksize = new DataView(buf.buffer, buf.byteOffset, 16).getUint32(8, true);
        out = bloscDecodeInto(buf, fast, 0, new Uint8Array(blocksize), nativeZstd()) ? fast : await numcodec(spec, dtype).decode(buf);
        break;
      }
      case "zstd": {
        const native = nativeZstd();
        out = native ? native(buf) : await numcodec(spec, dtype).decode(buf);
        break;
      }
    }
  } catch (e) {
    if (e instanceof VolumeError) throw e;
    throw new VolumeError(`corrupt ${spec.name} chunk`, { path: where, expected: `a valid ${spec.name} stream`, got: String((e as Error).message ?? e) }, { cause: e });
  }
  if (out.byteLength !== expectedBytes)
    throw new VolumeError("chunk has the wrong size", {
      path: where,
      expected: `${expectedBytes} bytes (${expectedBytes / BYTES_PER_ELEMENT[dtype]} x ${dtype})`,
      got: `${out.byteLength} bytes`,
    });
  return out;
}
