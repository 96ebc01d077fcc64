/**
 * The Li electrode / electrolyte interface per (y, x) column, found in one streaming pass over a label volume.
 *
 * z is the depth axis (the electrodes lie across it). For each column we keep the first and last z of a voxel that
 * is not electrode lithium; with the plating electrode on the top (low z) face, the interface is the first
 * non-lithium z (an edge coordinate: the number of electrode voxels above it), and a counter electrode on the
 * bottom face ends after the last non-lithium voxel. Both reduce with min/max, so blocks can come in any order.
 * Depth is then measured from this possibly rough surface, not from an array index.
 */
import { box3 } from "./box.js";
import { medianInPlace } from "../numerics/stats.js";
import { ParameterError, VolumeError } from "../util/errors.js";
import type { NdArray, TypedArray } from "../volume/index.js";
import type { DepthSpec } from "./label-block.js";

export type PlatingSide = "top" | "bottom";

export interface InterfaceAccumulator {
  shape: [number, number, number];
  electrodeValue: number;
  /** Per column: smallest / largest z of a non-electrode voxel (Z / -1 where none yet). */
  minOther: Int32Array;
  maxOther: Int32Array;
}

export function createInterfaceAccumulator(shape: [number, number, number], electrodeValue: number): InterfaceAccumulator {
  const n = shape[1] * shape[2];
  const minOther = new Int32Array(n).fill(shape[0]);
  const maxOther = new Int32Array(n).fill(-1);
  return { shape, electrodeValue, minOther, maxOther };
}

/** Folds one block (core region `core`, data over `read`) into the column extremes. */
export function accumulateInterface(acc: InterfaceAccumulator, core: Array<[number, number]>, read: Array<[number, number]>, data: NdArray<TypedArray>): void {
  const X = acc.shape[2];
  const sy = data.shape[2]!;
  const sz = data.shape[1]! * sy;
  const ev = acc.electrodeValue;
  const d = data.data;
  const { minOther, maxOther } = acc;
  const [[z0, z1], [y0, y1], [x0, x1]] = box3(core, "core");
  const [[rz], [ry], [rx]] = box3(read, "read");
  for (let z = z0; z < z1; z++) {
    const bz = (z - rz) * sz;
    for (let y = y0; y < y1; y++) {
      const b = bz + (y - ry) * sy - rx;
      const col = y * X;
      for (let x = x0; x < x1; x++) {
        if (d[b + x] !== ev) {
          const c = col + x;
          if (z < minOther[c]!) minOther[c] = z;
          if (z > maxOther[c]!) maxOther[c] = z;
        }
      }
    }
  }
}

export interface InterfaceMap {
  shape: [number, number, number];
  plating: PlatingSide;
  /** Plating interface per column, z edge coordinate (voxels); length Y * X. */
  platingZ: Float64Array;
  /** Counter-electrode interface per column, or null when no counter electrode lies on the opposite face. */
  counterZ: Float64Array | null;
  /** Share of columns in which the plating electrode was found before filling and smoothing. */
  coverage: number;
  counterCoverage: number;
  voxelSizeUm: [number, number, number];
}

export interface InterfaceOptions {
  plating: PlatingSide;
  voxelSizeUm: [number, number, number];
  /** Least share of columns that must show the electrode on the plating face (default 0.5). */
  minCoverage?: number;
  /** Radius (columns) of the median filter that removes single-column segmentation noise (default 1; 0 = off). */
  medianRadius?: number;
}

/**
 * Fills columns without an interface with the median of the others, then median-filters the map. Typed arrays
 * only: a 2048 x 2048 map costs a few 32 MiB buffers, not boxed JS arrays.
 */
function fillAndSmooth(raw: Float64Array, Y: number, X: number, radius: number): Float64Array {
  const n = Y * X;
  const tmp = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(raw[i]!)) tmp[k++] = raw[i]!;
  const fill = medianInPlace(tmp, k);
  for (let i = 0; i < n; i++) if (!Number.isFinite(raw[i]!)) raw[i] = fill;
  if (radius <= 0) return raw;
  const out = tmp;
  const win = new Float64Array((2 * radius + 1) ** 2);
  for (let y = 0; y < Y; y++)
    for (let x = 0; x < X; x++) {
      let w = 0;
      for (let yy = Math.max(0, y - radius); yy <= Math.min(Y - 1, y + radius); yy++)
        for (let xx = Math.max(0, x - radius); xx <= Math.min(X - 1, x + radius); xx++) win[w++] = raw[yy * X + xx]!;
      out[y * X + x] = medianInPlace(win, w);
    }
  return out;
}

/** Turns the column extremes into interface maps; fails when the plating electrode is not on its face. */
export function finishInterface(acc: InterfaceAccumulator, options: InterfaceOptions): InterfaceMap {
  const [Z, Y, X] = acc.shape;
  if (options.plating !== "top" && options.plating !== "bottom")
    throw new ParameterError("plating electrode side unknown: the depth axis cannot be identified", {
      field: "platingElectrode",
      expected: '"top" (low z) or "bottom" (high z), from the image metadata or given explicitly',
      got: String(options.plating),
    });
  checkVoxelSize(options.voxelSizeUm);
  const n = Y * X;
  const plating = new Float64Array(n);
  const counter = new Float64Array(n);
  let found = 0;
  let foundCounter = 0;
  for (let c = 0; c < n; c++) {
    const lo = acc.minOther[c]!;
    const hi = acc.maxOther[c]!;
    // top: electrode occupies z < lo, so lo > 0 means the top voxel is electrode. bottom: hi < Z - 1.
    const top = lo > 0 && lo < Z ? lo : NaN;
    const bottom = hi >= 0 && hi < Z - 1 ? hi + 1 : NaN;
    const p = options.plating === "top" ? top : bottom;
    const q = options.plating === "top" ? bottom : top;
    plating[c] = p;
    counter[c] = q;
    if (Number.isFinite(p)) found++;
    if (Number.isFinite(q)) foundCounter++;
  }
  const coverage = found / n;
  const counterCoverage = foundCounter / n;
  const minCoverage = options.minCoverage ?? 0.5;
  if (coverage < minCoverage)
    throw new VolumeError("the depth axis cannot be identified: no lithium electrode on the plating face", {
      field: "platingElectrode",
      expected: `electrode lithium (class ${acc.electrodeValue}) on the ${options.plating} face (z ${options.plating === "top" ? "= 0" : `= ${Z - 1}`}) in >= ${(minCoverage * 100).toFixed(0)} % of the columns`,
      got: `${(coverage * 100).toFixed(1)} % of the columns`,
    });
  const r = options.medianRadius ?? 1;
  return {
    shape: acc.shape,
    plating: options.plating,
    platingZ: fillAndSmooth(plating, Y, X, r),
    counterZ: counterCoverage >= minCoverage ? fillAndSmooth(counter, Y, X, r) : null,
    coverage,
    counterCoverage,
    voxelSizeUm: options.voxelSizeUm,
  };
}

export function checkVoxelSize(v: unknown): asserts v is [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((s) => typeof s === "number" && Number.isFinite(s) && s > 0))
    throw new VolumeError("label volume has no usable voxel size", {
      field: "voxelSizeUm",
      expected: "three positive voxel sizes (z, y, x) in um from the image's coordinateTransformations",
      got: JSON.stringify(v),
    });
}

/** Depth specification for component statistics and depth profiles. */
export function depthSpec(map: InterfaceMap): DepthSpec {
  return { interfaceZ: map.platingZ, sizeX: map.shape[2], voxelZ_um: map.voxelSizeUm[0], direction: map.plating === "top" ? 1 : -1 };
}

/** Mean and range of the plating interface position, um from the volume's z = 0 face. */
export function interfaceSummary(map: InterfaceMap): { mean_um: number; min_um: number; max_um: number; rms_roughness_um: number } {
  const dz = map.voxelSizeUm[0];
  let s = 0;
  let s2 = 0;
  let mn = Infinity;
  let mx = -Infinity;
  for (const v of map.platingZ) {
    s += v;
    s2 += v * v;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const n = map.platingZ.length;
  const mean = s / n;
  return { mean_um: mean * dz, min_um: mn * dz, max_um: mx * dz, rms_roughness_um: Math.sqrt(Math.max(0, s2 / n - mean * mean)) * dz };
}
