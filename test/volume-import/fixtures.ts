/** Test inputs written by Python (tifffile, Pillow/libtiff, h5py) and the truth they were made from. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runPython } from "../helpers/python.js";
import { typedArrayFor, type DataType, type NdArray } from "../../src/volume/types.js";

export const PY_MODULES = ["numpy", "tifffile", "h5py", "PIL", "zarr"];

const here = dirname(fileURLToPath(import.meta.url));

export interface Fixtures {
  dir: string;
  path(name: string): string;
  /** The volume Python wrote, as it was before any TIFF/HDF5 encoding. */
  truth(name: string): NdArray;
  cleanup(): void;
}

export function makeFixtures(): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), "ssb-ct-import-"));
  runPython(readFileSync(join(here, "make_fixtures.py"), "utf8"), [dir]);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Record<string, { shape: number[]; dtype: DataType }>;
  return {
    dir,
    path: (name) => join(dir, name),
    truth(name) {
      const m = manifest[name];
      if (!m) throw new Error(`no truth volume ${name}`);
      const bytes = readFileSync(join(dir, `${name}.raw`));
      const n = m.shape.reduce((a, b) => a * b, 1);
      const out = typedArrayFor(m.dtype, n);
      new Uint8Array(out.buffer).set(bytes);
      return { data: out, shape: m.shape };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Index of the first differing element (NaN-aware), or -1. */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}
