/**
 * Physical measurements read off a depth census and a component table: void fraction vs depth (Fig. 1b), layer
 * composition and porosity (Fig. S5), component tables and size distributions. Volumes in um3, depths in um.
 */
import { ParameterError } from "../util/errors.js";
import { classIndex, voxelVolume_um3, type Census } from "./census.js";
import type { ComponentResult } from "./components.js";
import type { ResultTable } from "./table.js";

/**
 * Void fraction per depth bin: void voxels / all layer voxels of the bin (volume %), void volume and voxel counts.
 * Bins run from the plating interface (depth 0) to the deepest non-empty bin.
 */
export function voidProfile(census: Census, voidClass = "void"): ResultTable {
  const kv = classIndex(census, voidClass);
  const nb = census.nBins;
  const total = new Float64Array(nb);
  for (let k = 0; k < census.classes.length; k++) for (let b = 0; b < nb; b++) total[b] = (total[b] ?? 0) + census.counts[k * nb + b]!;
  let last = -1;
  for (let b = 0; b < nb; b++) if (total[b]! > 0) last = b;
  const vv = voxelVolume_um3(census);
  const w = census.binWidth_um;
  const cols: ResultTable["columns"] = {
    depth_start_um: [],
    depth_end_um: [],
    depth_mid_um: [],
    layer_voxels: [],
    void_voxels: [],
    layer_volume_um3: [],
    void_volume_um3: [],
    void_fraction_pct: [],
  };
  for (let b = 0; b <= last; b++) {
    const nv = census.counts[kv * nb + b]!;
    cols.depth_start_um!.push(b * w);
    cols.depth_end_um!.push((b + 1) * w);
    cols.depth_mid_um!.push((b + 0.5) * w);
    cols.layer_voxels!.push(total[b]!);
    cols.void_voxels!.push(nv);
    cols.layer_volume_um3!.push(total[b]! * vv);
    cols.void_volume_um3!.push(nv * vv);
    cols.void_fraction_pct!.push(total[b]! > 0 ? (100 * nv) / total[b]! : NaN);
  }
  return { name: "void_profile", columns: cols };
}

export interface LayerComposition {
  layer_voxels: number;
  layer_volume_um3: number;
  /** Volume per class inside the layer, um3, keyed by class name. */
  volume_um3: Record<string, number>;
  voxels: Record<string, number>;
  /** void / layer volume, %. */
  porosity_pct: number;
  /** Sum of lithium probabilities in the layer times the voxel volume, um3 (null without probabilities). */
  lithiumProbabilityVolume_um3: number | null;
}

export function layerComposition(census: Census, voidClass = "void"): LayerComposition {
  const nb = census.nBins;
  const vv = voxelVolume_um3(census);
  const voxels: Record<string, number> = {};
  const volume: Record<string, number> = {};
  let total = 0;
  census.classes.forEach((c, k) => {
    let s = 0;
    for (let b = 0; b < nb; b++) s += census.counts[k * nb + b]!;
    voxels[c.name] = s;
    volume[c.name] = s * vv;
    total += s;
  });
  const nv = voxels[census.classes[classIndex(census, voidClass)]!.name]!;
  let prob: number | null = null;
  if (census.probSum) {
    prob = 0;
    for (const p of census.probSum) prob += p;
    prob *= vv;
  }
  return {
    layer_voxels: total,
    layer_volume_um3: total * vv,
    volume_um3: volume,
    voxels,
    porosity_pct: total > 0 ? (100 * nv) / total : NaN,
    lithiumProbabilityVolume_um3: prob,
  };
}

/** Component table in physical units (um, um3, um2), rows in label order. */
export function componentTable(res: ComponentResult, voxelSizeUm: [number, number, number], name = "components"): ResultTable {
  const s = res.stats;
  const [dz, dy, dx] = voxelSizeUm;
  const vv = dz * dy * dx;
  const n = res.nComponents;
  const f = s.flags;
  const cols: ResultTable["columns"] = { label: [], volume_voxels: [], volume_um3: [], equivalent_diameter_um: [] };
  if (f.centroid) Object.assign(cols, { centroid_z_um: [], centroid_y_um: [], centroid_x_um: [] });
  if (f.bbox)
    Object.assign(cols, { bbox_z0_um: [], bbox_y0_um: [], bbox_x0_um: [], bbox_z1_um: [], bbox_y1_um: [], bbox_x1_um: [], touches_border: [] });
  if (f.depth) Object.assign(cols, { min_depth_um: [], mean_depth_um: [] });
  if (f.surface) Object.assign(cols, { surface_area_um2: [], voxel_face_area_um2: [] });
  for (let i = 0; i < n; i++) {
    const c = s.count[i]!;
    cols.label!.push(i + 1);
    cols.volume_voxels!.push(c);
    cols.volume_um3!.push(c * vv);
    cols.equivalent_diameter_um!.push(Math.cbrt((6 * c * vv) / Math.PI));
    if (f.centroid) {
      // Voxel centres sit at index + 0.5 in physical units (the image origin is the first voxel's corner).
      cols.centroid_z_um!.push((s.sumZ[i]! / c + 0.5) * dz);
      cols.centroid_y_um!.push((s.sumY[i]! / c + 0.5) * dy);
      cols.centroid_x_um!.push((s.sumX[i]! / c + 0.5) * dx);
    }
    if (f.bbox) {
      const b = i * 6;
      cols.bbox_z0_um!.push(s.bbox[b]! * dz);
      cols.bbox_y0_um!.push(s.bbox[b + 1]! * dy);
      cols.bbox_x0_um!.push(s.bbox[b + 2]! * dx);
      cols.bbox_z1_um!.push((s.bbox[b + 3]! + 1) * dz);
      cols.bbox_y1_um!.push((s.bbox[b + 4]! + 1) * dy);
      cols.bbox_x1_um!.push((s.bbox[b + 5]! + 1) * dx);
      const sh = res.shape;
      cols.touches_border!.push(
        s.bbox[b] === 0 || s.bbox[b + 1] === 0 || s.bbox[b + 2] === 0 || s.bbox[b + 3] === sh[0] - 1 || s.bbox[b + 4] === sh[1] - 1 || s.bbox[b + 5] === sh[2] - 1,
      );
    }
    if (f.depth) {
      cols.min_depth_um!.push(s.minDepth[i]!);
      cols.mean_depth_um!.push(s.sumDepth[i]! / c);
    }
    if (f.surface) {
      const faces = s.faceZ[i]! * dy * dx + s.faceY[i]! * dz * dx + s.faceX[i]! * dz * dy;
      cols.voxel_face_area_um2!.push(faces);
      cols.surface_area_um2!.push(faces * SURFACE_ISOTROPIC_FACTOR);
    }
  }
  return { name, columns: cols };
}

/**
 * Counting voxel faces overestimates a smooth surface: for an isotropically oriented surface the faces' summed
 * area is 3/2 of the true area (the mean of |n_x| + |n_y| + |n_z| over the sphere), so the estimate scales by 2/3.
 */
export const SURFACE_ISOTROPIC_FACTOR = 2 / 3;

/** Histogram of component volumes in log-spaced bins (`binsPerDecade` per factor of 10), from the smallest volume. */
export function sizeDistribution(volumes_um3: ArrayLike<number>, binsPerDecade = 5, name = "size_distribution"): ResultTable {
  if (!(binsPerDecade > 0)) throw new ParameterError("bins per decade must be positive", { field: "binsPerDecade", got: String(binsPerDecade) });
  const cols: ResultTable["columns"] = { volume_lo_um3: [], volume_hi_um3: [], count: [], total_volume_um3: [] };
  if (volumes_um3.length === 0) return { name, columns: cols };
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < volumes_um3.length; i++) {
    mn = Math.min(mn, volumes_um3[i]!);
    mx = Math.max(mx, volumes_um3[i]!);
  }
  const l0 = Math.floor(Math.log10(mn) * binsPerDecade);
  const l1 = Math.floor(Math.log10(mx) * binsPerDecade);
  const n = l1 - l0 + 1;
  const count = new Float64Array(n);
  const vol = new Float64Array(n);
  for (let i = 0; i < volumes_um3.length; i++) {
    const v = volumes_um3[i]!;
    const b = Math.min(n - 1, Math.max(0, Math.floor(Math.log10(v) * binsPerDecade) - l0));
    count[b] = (count[b] ?? 0) + 1;
    vol[b] = (vol[b] ?? 0) + v;
  }
  for (let b = 0; b < n; b++) {
    cols.volume_lo_um3!.push(10 ** ((l0 + b) / binsPerDecade));
    cols.volume_hi_um3!.push(10 ** ((l0 + b + 1) / binsPerDecade));
    cols.count!.push(count[b]!);
    cols.total_volume_um3!.push(vol[b]!);
  }
  return { name, columns: cols };
}
