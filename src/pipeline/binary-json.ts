/**
 * JSON for results that hold typed arrays (mesh positions and indices): each typed array is stored as
 * `{"$typed": "Float32Array", "base64": ...}` (little-endian bytes), so a mesh round-trips bit-exactly and stays
 * about a third the size of a number list.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/atomic-write.js";
import { FileFormatError } from "../util/errors.js";

const KINDS = { Float32Array, Float64Array, Uint32Array, Int32Array, Uint16Array, Uint8Array } as const;
type Kind = keyof typeof KINDS;

export function toBinaryJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = v.constructor.name as Kind;
      if (!(name in KINDS)) throw new FileFormatError("typed array kind not supported in result JSON", { got: name, expected: Object.keys(KINDS).join(", ") });
      return { $typed: name, base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
    }
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    return v;
  });
}

export function fromBinaryJson<T>(text: string, path = "<string>"): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === "object" && "$typed" in v) {
      const { $typed, base64 } = v as { $typed: string; base64: string };
      const C = KINDS[$typed as Kind];
      if (!C) throw new FileFormatError("unknown typed array in result JSON", { path, got: $typed });
      const bytes = Buffer.from(base64, "base64");
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      return new C(copy.buffer, 0, copy.byteLength / C.BYTES_PER_ELEMENT);
    }
    return v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v;
  }) as T;
}

export function writeBinaryJson(path: string, value: unknown): void {
  writeFileAtomic(path, toBinaryJson(value), { fsync: true });
}

export function readBinaryJson<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new FileFormatError("result file missing", { path, got: String(e) });
  }
  return fromBinaryJson<T>(text, path);
}
