/**
 * Voxel census of the electrolyte layer by depth: one streaming pass that counts, per depth bin below the plating
 * interface, the voxels of each declared class (and sums lithium probabilities where given). Void fraction vs depth
 * (Fig. 1b), porosity (Fig. S5) and the lithium volume in the layer (Fig. 2d) are all read off this census.
 *
 * The layer is what lies past the plating interface (depth > 0 at the voxel centre) and, where a counter electrode
 * was found, before the counter interface. Every voxel value must be a declared class; anything else is an error
 * naming the value and the voxel, never silently binned.
 */
import { box3 } from "./box.js";
import { ParameterError, VolumeError } from "../util/errors.js";
import type { NdArray, TypedArray } from "../volume/index.js";
import type { InterfaceMap } from "./interface.js";

export interface ClassSpec {
  value: number;
  name: string;
}

export interface Census {
  classes: ClassSpec[];
  binWidth_um: number;
  nBins: number;
  /** counts[k * nBins + b]: voxels of class k in depth bin b (inside the layer). */
  counts: Float64Array;
  /** Voxels per class outside the layer (electrodes and anything beyond them). */
  outside: Float64Array;
  /** Sum of lithium probabilities per bin, when probabilities were given. */
  probSum: Float64Array | null;
  voxelSizeUm: [number, number, number];
}

export function createCensus(map: InterfaceMap, classes: ClassSpec[], binWidth_um: number, withProbabilities = false): Census {
  if (!(binWidth_um > 0) || !Number.isFinite(binWidth_um))
    throw new ParameterError("depth bin width must be positive", { field: "binWidth_um", expected: "> 0 um", got: String(binWidth_um) });
  if (classes.length === 0)
    throw new VolumeError("label volume declares no classes", { field: "classes", expected: "image-label properties with label-value and name" });
  for (const c of classes)
    if (!Number.isInteger(c.value) || c.value < 0 || c.value > 65535)
      throw new VolumeError("label class value must be an integer in 0..65535", { field: `classes[${c.name}].value`, got: String(c.value) });
  const depthRange = map.shape[0] * map.voxelSizeUm[0];
  const nBins = Math.ceil(depthRange / binWidth_um) + 1;
  return {
    classes,
    binWidth_um,
    nBins,
    counts: new Float64Array(classes.length * nBins),
    outside: new Float64Array(classes.length),
    probSum: withProbabilities ? new Float64Array(nBins) : null,
    voxelSizeUm: map.voxelSizeUm,
  };
}

/** Adds one block. `prob` (optional) holds lithium probabilities over the same read region as `data`. */
export function accumulateCensus(
  census: Census,
  map: InterfaceMap,
  core: Array<[number, number]>,
  read: Array<[number, number]>,
  data: NdArray<TypedArray>,
  prob?: NdArray<TypedArray>,
): void {
  let maxValue = 0;
  for (const c of census.classes) maxValue = Math.max(maxValue, c.value);
  const lut = new Int32Array(maxValue + 1).fill(-1);
  census.classes.forEach((c, k) => (lut[c.value] = k));
  const X = map.shape[2];
  const sy = data.shape[2]!;
  const sz = data.shape[1]! * sy;
  const d = data.data;
  const p = prob?.data;
  if (p && p.length !== d.length) throw new VolumeError("probability block does not match the label block", { field: "prob", got: JSON.stringify(prob!.shape) });
  const { counts, outside, nBins } = census;
  const probSum = census.probSum;
  const top = map.plating === "top";
  const pz = map.platingZ;
  const cz = map.counterZ;
  const dz = map.voxelSizeUm[0];
  const invBin = 1 / census.binWidth_um;
  const [[z0, z1], [y0, y1], [x0, x1]] = box3(core, "core");
  const [[rz], [ry], [rx]] = box3(read, "read");
  for (let z = z0; z < z1; z++) {
    const zc = z + 0.5;
    const bz = (z - rz) * sz;
    for (let y = y0; y < y1; y++) {
      const b = bz + (y - ry) * sy - rx;
      const col = y * X;
      for (let x = x0; x < x1; x++) {
        const v = d[b + x]!;
        const k = v <= maxValue && v >= 0 ? lut[v]! : -1;
        if (k < 0)
          throw new VolumeError("label value outside the declared classes", {
            field: "labels",
            location: `voxel (z, y, x) = (${z}, ${y}, ${x})`,
            expected: census.classes.map((c) => `${c.value} (${c.name})`).join(", "),
            got: String(v),
          });
        const c = col + x;
        const depth = (top ? zc - pz[c]! : pz[c]! - zc) * dz;
        const inLayer = depth > 0 && (cz === null || (top ? zc < cz[c]! : zc > cz[c]!));
        if (!inLayer) {
          outside[k] = (outside[k] ?? 0) + 1;
          continue;
        }
        const bin = Math.min(nBins - 1, Math.floor(depth * invBin));
        counts[k * nBins + bin] = (counts[k * nBins + bin] ?? 0) + 1;
        if (probSum && p) probSum[bin] = (probSum[bin] ?? 0) + p[b + x]!;
      }
    }
  }
}

/** Index of a class by name; errors list the declared names. */
export function classIndex(census: Census, name: string): number {
  const k = census.classes.findIndex((c) => c.name === name);
  if (k < 0) throw new VolumeError("no such label class", { field: "class", expected: census.classes.map((c) => c.name).join(", "), got: name });
  return k;
}

/** Voxels of class k in the whole layer. */
export function layerVoxels(census: Census, k: number): number {
  let s = 0;
  for (let b = 0; b < census.nBins; b++) s += census.counts[k * census.nBins + b]!;
  return s;
}

export function voxelVolume_um3(census: Census): number {
  const [a, b, c] = census.voxelSizeUm;
  return a * b * c;
}
