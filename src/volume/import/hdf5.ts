/**
 * Reconstructed volumes in HDF5 files laid out as DXchange (APS, the tomopy world) or NeXus: a 3D (z, y, x) dataset,
 * by default `/exchange/data`, read slab by slab through h5wasm (libhdf5 does the hyperslab selection, so only the
 * slab is ever in memory). The voxel size is taken from the file only where it is stored with a length unit.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { basename } from "node:path";
import type H5Wasm from "h5wasm/node";
import type { Dataset, File as H5File } from "h5wasm/node";
import { FileFormatError } from "../../util/errors.js";
import { BYTES_PER_ELEMENT, dataTypeOf, typedArrayFor, type DataType, type NdArray, type TypedArray } from "../types.js";
import { hashFileSample, type VolumeSource } from "./source.js";

/** Where DXchange files keep the effective (sample-plane) pixel size of the reconstruction: an isotropic voxel edge. */
export const DEFAULT_VOXEL_SIZE_PATHS = ["/measurement/instrument/detection_system/objective/resolution"];

const LENGTH_TO_UM: Record<string, number> = {
  um: 1,
  "µm": 1,
  "μm": 1,
  micron: 1,
  microns: 1,
  micrometer: 1,
  micrometers: 1,
  micrometre: 1,
  micrometres: 1,
  nm: 1e-3,
  nanometer: 1e-3,
  nanometers: 1e-3,
  mm: 1e3,
  millimeter: 1e3,
  millimeters: 1e3,
  cm: 1e4,
  m: 1e6,
  meter: 1e6,
  meters: 1e6,
};

export interface Hdf5SourceOptions {
  /** Path of the 3D (z, y, x) volume dataset. Default `/exchange/data`. */
  datasetPath?: string;
  /**
   * Datasets that may hold the voxel size (a scalar: isotropic edge; or three values z, y, x) with a `units`
   * attribute. The first present one wins. Default {@link DEFAULT_VOXEL_SIZE_PATHS}.
   */
  voxelSizePaths?: string[];
  /**
   * Most bytes fetched from libhdf5 in one hyperslab read (default 64 MiB): a slab larger than this is read in
   * pieces, so the WebAssembly heap (at most 4 GiB) never has to hold a whole slab of a large detector.
   */
  maxReadBytes?: number;
}

/** Our dtype for an HDF5 numeric type, or undefined (64-bit integers, strings, compounds, ...). */
function dtypeOfH5(meta: { type: number; size: number; signed: boolean }): DataType | undefined {
  if (meta.type === 0) {
    const table: Record<number, DataType> = meta.signed ? { 1: "int8", 2: "int16", 4: "int32" } : { 1: "uint8", 2: "uint16", 4: "uint32" };
    return table[meta.size];
  }
  if (meta.type === 1) return meta.size === 4 ? "float32" : meta.size === 8 ? "float64" : undefined;
  return undefined;
}

type H5Module = typeof H5Wasm;
let loading: Promise<H5Module> | undefined;

/** Loads h5wasm (and its WebAssembly libhdf5) on first use, so importing the volume package stays cheap. */
function loadH5(): Promise<H5Module> {
  loading ??= import("h5wasm/node").then(async (m) => {
    await m.default.ready;
    return m.default;
  });
  return loading;
}

export class Hdf5Source implements VolumeSource {
  readonly kind = "hdf5";
  readonly voxelSizeUm?: [number, number, number];
  readonly voxelSizeOrigin?: string;
  /** A voxel-size dataset that was present but unusable (no units), reported when the caller gives none. */
  readonly voxelSizeProblem?: string;

  private constructor(
    readonly path: string,
    readonly datasetPath: string,
    private readonly file: H5File,
    private readonly dataset: Dataset,
    readonly shapeZYX: [number, number, number],
    readonly dtype: DataType,
    private readonly maxReadBytes: number,
    voxel: { value?: [number, number, number]; origin?: string; problem?: string },
  ) {
    if (voxel.value) this.voxelSizeUm = voxel.value;
    if (voxel.origin) this.voxelSizeOrigin = voxel.origin;
    if (voxel.problem) this.voxelSizeProblem = voxel.problem;
  }

  static async open(path: string, options: Hdf5SourceOptions = {}): Promise<Hdf5Source> {
    const datasetPath = options.datasetPath ?? "/exchange/data";
    if (!existsSync(path) || !statSync(path).isFile()) throw new FileFormatError("HDF5 file not found", { path, expected: "an HDF5 (DXchange/NeXus) file" });
    if (!hasHdf5Signature(path))
      throw new FileFormatError("not an HDF5 file", { path, field: "superblock signature", expected: "\\x89HDF\\r\\n\\x1a\\n at byte 0, 512, 1024, ...", got: "none found" });
    const h5wasm = await loadH5();
    let file: H5File;
    try {
      file = new h5wasm.File(path, "r");
    } catch (e) {
      throw new FileFormatError("cannot open as HDF5", { path, got: e instanceof Error ? e.message : String(e) });
    }
    try {
      const entity = file.get(datasetPath);
      if (!(entity instanceof h5wasm.Dataset))
        throw new FileFormatError(entity ? "HDF5 object is not a dataset" : "HDF5 dataset not found", {
          path,
          field: datasetPath,
          expected: "a 3D (z, y, x) dataset (set datasetPath for other layouts)",
          got: entity ? entity.constructor.name : "nothing at this path",
        });
      const meta = entity.metadata;
      const shape = meta.shape ?? [];
      if (shape.length !== 3)
        throw new FileFormatError("HDF5 volume must be 3D (z, y, x)", { path, field: datasetPath, expected: "3 dimensions", got: JSON.stringify(shape) });
      const dtype = dtypeOfH5(meta);
      if (!dtype)
        throw new FileFormatError("unsupported HDF5 data type", {
          path,
          field: datasetPath,
          expected: "8/16/32-bit integers or 32/64-bit floats",
          got: `${entity.dtype} (class ${meta.type}, ${meta.size} bytes)`,
        });
      const voxel = readVoxelSize(h5wasm, file, path, options.voxelSizePaths ?? DEFAULT_VOXEL_SIZE_PATHS);
      return new Hdf5Source(path, datasetPath, file, entity, shape as [number, number, number], dtype, options.maxReadBytes ?? 64 * 2 ** 20, voxel);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  fingerprint(): string {
    const h = createHash("sha256");
    h.update(`hdf5;${basename(this.path)};${this.datasetPath};${this.shapeZYX.join("x")};${this.dtype};`);
    hashFileSample(h, this.path);
    return h.digest("hex");
  }

  async readSlab(z0: number, z1: number): Promise<NdArray> {
    const [, ny, nx] = this.shapeZYX;
    const plane = ny * nx;
    const step = Math.max(1, Math.floor(this.maxReadBytes / (plane * BYTES_PER_ELEMENT[this.dtype])));
    if (z1 - z0 <= step) return { data: this.readRange(z0, z1), shape: [z1 - z0, ny, nx] };
    const out = typedArrayFor(this.dtype, (z1 - z0) * plane);
    for (let z = z0; z < z1; z += step) out.set(this.readRange(z, Math.min(z1, z + step)), (z - z0) * plane);
    return { data: out, shape: [z1 - z0, ny, nx] };
  }

  private readRange(z0: number, z1: number): TypedArray {
    const [, ny, nx] = this.shapeZYX;
    const v = this.dataset.slice([[z0, z1], [], []]);
    const ok = ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
    if (!ok || dataTypeOf(v as TypedArray) !== this.dtype || (v as TypedArray).length !== (z1 - z0) * ny * nx)
      throw new FileFormatError("HDF5 slab read returned unexpected data", {
        path: this.path,
        field: this.datasetPath,
        location: `z ${z0}..${z1}`,
        expected: `${(z1 - z0) * ny * nx} values of ${this.dtype}`,
      });
    return v as TypedArray;
  }

  close(): void {
    this.file.close();
  }
}

/** libhdf5 looks for its superblock at 0 and at every power of two from 512 (files with a user block). */
function hasHdf5Signature(path: string): boolean {
  const sig = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let at = 0; at + 8 <= size; at = at === 0 ? 512 : at * 2) {
      readSync(fd, buf, 0, 8, at);
      if (buf.equals(sig)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

function readVoxelSize(
  h5wasm: H5Module,
  file: H5File,
  path: string,
  candidates: string[],
): { value?: [number, number, number]; origin?: string; problem?: string } {
  for (const p of candidates) {
    const e = file.get(p);
    if (!(e instanceof h5wasm.Dataset)) continue;
    const raw = e.value;
    const values: number[] =
      typeof raw === "number" ? [raw] : ArrayBuffer.isView(raw) && !(raw instanceof DataView) ? Array.from(raw as ArrayLike<number>, Number) : [];
    if (!(values.length === 1 || values.length === 3) || !values.every((v) => Number.isFinite(v) && v > 0))
      return { problem: `${p} holds ${JSON.stringify(raw)}, not one or three positive numbers` };
    const attrs = e.attrs;
    const unitAttr = attrs.units ?? attrs.unit;
    const unit = unitAttr ? String(unitAttr.value).trim() : undefined;
    if (!unit) return { problem: `${p} = ${values.join(", ")} has no units attribute` };
    const f = LENGTH_TO_UM[unit] ?? LENGTH_TO_UM[unit.toLowerCase()];
    if (f === undefined) return { problem: `${p} has unknown length unit ${JSON.stringify(unit)}` };
    const um = values.map((v) => v * f);
    const zyx = (um.length === 1 ? [um[0], um[0], um[0]] : um) as [number, number, number];
    return { value: zyx, origin: `${basename(path)}:${p} (${unit})` };
  }
  return {};
}
