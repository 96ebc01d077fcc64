/**
 * The 3D figures of Park et al. (Chem. Commun. 2023, 59, 7799): Fig. 1a (voids in the pristine Li3PS4 layer, with
 * magnified views at three depths) and Fig. 2b (the top Li electrode and the Li deposited in Li3PS4 at the CT time
 * points, pristine voids hidden), as plotly `mesh3d` figures.
 *
 * The figure functions draw meshes they are given (typed inputs); `fig1aInputs` and `fig2bInputs` read the label
 * volumes and build those meshes, so a notebook can cache, inspect or export (src/figures/mesh-export.ts) the
 * surfaces it plots. Mesh positions are (x, y, depth) in um, depth measured from the mean pristine Li/Li3PS4
 * interface into the electrolyte (negative inside the electrode), and scenes keep the aspect ratio true to um.
 */
import { createHash } from "node:crypto";
import { accumulateInterface, createInterfaceAccumulator, finishInterface, type InterfaceMap, type PlatingSide } from "../analysis/interface.js";
import { ParameterError, VolumeError } from "../util/errors.js";
import type { LabelImage, OmeImage } from "../volume/index.js";
import { axis, baseLayout, CLASS_COLOURS, SERIES_COLOURS, type Figure, type PlotlyFrame, type PlotlyLayout, type PlotlyTrace } from "./figure.js";
import { emptyMesh, labelSurface, type LabelVolume, type SurfaceMesh } from "./mesh.js";

// ---------------------------------------------------------------------------------------------------------------
// Typed inputs

/** A box in figure coordinates: x, y lateral and depth from the pristine interface, um. */
export interface DepthBox {
  x_um: [number, number];
  y_um: [number, number];
  depth_um: [number, number];
}

/** One magnified view of Fig. 1a: the voids of a sub-box at full resolution. */
export interface Fig1aInset {
  /** What the window shows, e.g. "near the interface". */
  label: string;
  box: DepthBox;
  voids: SurfaceMesh;
}

export interface Fig1aInput {
  /** Voxel size of the label volume read (z, y, x), um. */
  voxelSizeUm: [number, number, number];
  /** Edge of the cells the main view's surface was extracted on (z, y, x), um. */
  cellUm: [number, number, number];
  /** Mean pristine interface below the volume's top face, um: the depth origin. */
  interface_um: number;
  /** The electrolyte layer (plating interface to counter interface) in figure coordinates. */
  layer: DepthBox;
  /** Surfaces of all voids of the layer; positions (x, y, depth) um. */
  voids: SurfaceMesh;
  insets: Fig1aInset[];
  /** Dataset, label image, time point, level (see Figure.provenance). */
  provenance: Record<string, string>;
}

/** One CT time point of Fig. 2b. */
export interface Fig2bFrame {
  time_h: number;
  /** The plating (top) Li electrode: lithium on the electrode side of this time point's interface. */
  electrode: SurfaceMesh;
  /** Lithium between the two electrodes: deposited in the Li3PS4 layer. */
  deposit: SurfaceMesh;
  /** Voxel volume of the deposit, um3 (shown in the frame title). */
  depositVolume_um3: number;
}

export interface Fig2bInput {
  voxelSizeUm: [number, number, number];
  /** Mean pristine interface below the volume's top face, um: the depth origin of every frame. */
  interface_um: number;
  /** Lateral extent and depth range shown (electrode top to counter interface), figure coordinates. */
  scene: DepthBox;
  /** Depth of the counter-electrode interface (the layer's far side), um. */
  layerDepth_um: number;
  frames: Fig2bFrame[];
  provenance: Record<string, string>;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading label volumes

/** Values of the classes that count as lithium: a class named "lithium", else the twin's "Li ..." materials. */
function lithiumClassValues(labels: LabelImage): number[] {
  const named = labels.classes.filter((c) => c.name === "lithium");
  const li = named.length ? named : labels.classes.filter((c) => /^Li(\s|$)/.test(c.name));
  if (!li.length)
    throw new VolumeError("label image declares no lithium class", {
      path: labels.path,
      field: "classes",
      expected: 'a class named "lithium" or "Li ..." (or pass lithiumValues)',
      got: labels.classes.map((c) => `${c.value}:${c.name}`).join(", ") || "no declared classes",
    });
  return li.map((c) => c.value);
}

function voidClassValues(labels: LabelImage): number[] {
  const v = labels.classes.filter((c) => c.name === "void");
  if (!v.length)
    throw new VolumeError("label image declares no void class", {
      path: labels.path,
      field: "classes",
      expected: 'a class named "void" (or pass voidValues)',
      got: labels.classes.map((c) => `${c.value}:${c.name}`).join(", ") || "no declared classes",
    });
  return v.map((c) => c.value);
}

/** A time point of a label image at a pyramid level, as a LabelVolume (voxel size of that level). */
export async function readLabelVolume(
  labels: LabelImage,
  t: number,
  options: { level?: number; selection?: Array<[number, number]> } = {},
): Promise<LabelVolume> {
  const level = options.level ?? 0;
  if (!Number.isInteger(level) || level < 0 || level >= labels.levels)
    throw new VolumeError("label image has no such pyramid level", {
      path: labels.path,
      field: "level",
      expected: `0..${labels.levels - 1} (build more with buildPyramid from src/volume)`,
      got: String(level),
    });
  const nd = await labels.readVolume(t, { level, selection: options.selection });
  const d = nd.data;
  if (!(d instanceof Uint8Array || d instanceof Uint16Array || d instanceof Uint32Array))
    throw new VolumeError("labels must be unsigned integers", { path: labels.path, field: "dtype", expected: "uint8, uint16 or uint32", got: labels.dtype });
  const f = 2 ** level;
  const h = labels.voxelSizeUm;
  const sel = options.selection;
  const h3: [number, number, number] = [h[0] * f, h[1] * f, h[2] * f];
  return {
    data: d,
    shapeZYX: [nd.shape[0]!, nd.shape[1]!, nd.shape[2]!],
    voxelSizeUm: h3,
    originUm: sel ? [sel[0]![0] * h3[0], sel[1]![0] * h3[1], sel[2]![0] * h3[2]] : [0, 0, 0],
  };
}

/** 1 where the label is one of `values`, else 0. */
function binaryMask(volume: LabelVolume, values: readonly number[]): Uint8Array {
  const set = new Set(values);
  const d = volume.data;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) if (set.has(d[i]!)) out[i] = 1;
  return out;
}

/** Plating and counter interfaces of a lithium mask, through the analysis module's column-wise detection. */
function interfaceOfMask(mask: Uint8Array, volume: LabelVolume, plating: PlatingSide, medianRadius: number): InterfaceMap {
  const shape: [number, number, number] = [volume.shapeZYX[0], volume.shapeZYX[1], volume.shapeZYX[2]];
  const acc = createInterfaceAccumulator(shape, 1);
  const whole = shape.map((n) => [0, n] as [number, number]);
  accumulateInterface(acc, whole, whole, { data: mask, shape: [...shape] });
  return finishInterface(acc, { plating, voxelSizeUm: [volume.voxelSizeUm[0], volume.voxelSizeUm[1], volume.voxelSizeUm[2]], medianRadius });
}

function mean(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s / a.length;
}

function platingSide(image: OmeImage, given: PlatingSide | undefined): PlatingSide {
  const p = given ?? image.experiment.platingElectrode;
  if (p !== "top" && p !== "bottom")
    throw new VolumeError("the depth axis cannot be identified: the plating electrode side is not in the metadata", {
      path: image.path,
      field: "experiment.platingElectrode",
      expected: '"top" (low z) or "bottom" (high z), or options.plating',
      got: String(p),
    });
  return p;
}

/**
 * Depth geometry from a lithium mask: the mean plating and counter interfaces as distances (um) below the volume's
 * z = 0 face, and the map from z (um below that face) to depth. For plating on the bottom face depth runs upwards.
 */
interface DepthFrameOfVolume {
  interface_um: number;
  counter_um: number;
  /** Sign of depth per z: +1 for plating on top (depth = z - interface), -1 for the bottom. */
  direction: 1 | -1;
  map: InterfaceMap;
}

function depthFrame(volume: LabelVolume, lithiumValues: readonly number[], plating: PlatingSide, medianRadius: number): DepthFrameOfVolume {
  const map = interfaceOfMask(binaryMask(volume, lithiumValues), volume, plating, medianRadius);
  const hz = volume.voxelSizeUm[0];
  const oz = volume.originUm?.[0] ?? 0;
  const counter = map.counterZ ? mean(map.counterZ) : plating === "top" ? volume.shapeZYX[0] : 0;
  return { interface_um: oz + mean(map.platingZ) * hz, counter_um: oz + counter * hz, direction: plating === "top" ? 1 : -1, map };
}

/** Mesh positions (x, y, z um below the top face) to figure coordinates (x, y, depth). */
function toDepth(mesh: SurfaceMesh, interface_um: number, direction: 1 | -1): SurfaceMesh {
  const p = mesh.positions.slice();
  for (let i = 2; i < p.length; i += 3) p[i] = direction * (p[i]! - interface_um) + 0; // + 0: no -0 at depth 0
  // Flipping depth's sign mirrors the mesh: swap two indices per triangle so the winding stays outward.
  if (direction === 1) return { positions: p, indices: mesh.indices };
  const t = mesh.indices.slice();
  for (let k = 0; k < t.length; k += 3) [t[k + 1], t[k + 2]] = [t[k + 2]!, t[k + 1]!];
  return { positions: p, indices: t };
}

function lateralBox(volume: LabelVolume): { x_um: [number, number]; y_um: [number, number] } {
  const o = volume.originUm ?? [0, 0, 0];
  const [, ny, nx] = volume.shapeZYX;
  const [, hy, hx] = volume.voxelSizeUm;
  return { x_um: [o[2], o[2] + nx * hx], y_um: [o[1], o[1] + ny * hy] };
}

// ---------------------------------------------------------------------------------------------------------------
// Fig. 1a inputs

export interface Fig1aOptions {
  /** Time index of the pristine volume (default 0). */
  t?: number;
  /** Pyramid level of the labels for the main view (default 0); insets always read level 0. */
  level?: number;
  voidValues?: number[];
  lithiumValues?: number[];
  plating?: PlatingSide;
  /** Depth windows of the magnified views, um from the interface (default 0-20, 100-120 and the deepest 20 um with voids). */
  insetDepths_um?: Array<[number, number]>;
  /** Lateral edge of the magnified windows, um (default 40: twice the depth window, so a view stays legible). */
  insetWidth_um?: number;
  /** Vertex budget of the main view's void surface (default 60000); coarser cells are used beyond it. */
  maxVertices?: number;
  /** Median radius (columns) of the interface map whose mean is depth 0 (default 1, as src/analysis). */
  interfaceMedianRadius?: number;
}

const INSET_LABELS = ["near the interface", "void-rich band", "deep"];

/**
 * Lateral window (start indices) of `win` voxels holding the most mask voxels over all z rows of `mask`; a
 * summed-area table of the per-column counts makes every candidate O(1). Ties keep the first in scan order.
 */
function busiestWindow(mask: Uint8Array, shape: readonly [number, number, number], win: [number, number]): [number, number] {
  const [nz, ny, nx] = shape;
  const sat = new Float64Array((ny + 1) * (nx + 1));
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++) {
      let c = 0;
      for (let z = 0; z < nz; z++) c += mask[(z * ny + y) * nx + x]!;
      sat[(y + 1) * (nx + 1) + x + 1] = c + sat[y * (nx + 1) + x + 1]! + sat[(y + 1) * (nx + 1) + x]! - sat[y * (nx + 1) + x]!;
    }
  let best: [number, number] = [0, 0];
  let bestCount = -1;
  for (let y = 0; y + win[0] <= ny; y++)
    for (let x = 0; x + win[1] <= nx; x++) {
      const y1 = y + win[0], x1 = x + win[1];
      const c = sat[y1 * (nx + 1) + x1]! - sat[y * (nx + 1) + x1]! - sat[y1 * (nx + 1) + x]! + sat[y * (nx + 1) + x]!;
      if (c > bestCount) {
        bestCount = c;
        best = [y, x];
      }
    }
  return best;
}

/** Reads the pristine labels and builds the void surfaces of Fig. 1a (main view and magnified views). */
export async function fig1aInputs(image: OmeImage, labels: LabelImage, options: Fig1aOptions = {}): Promise<Fig1aInput> {
  const t = options.t ?? 0;
  const level = options.level ?? 0;
  const plating = platingSide(image, options.plating);
  const voidValues = options.voidValues ?? voidClassValues(labels);
  const liValues = options.lithiumValues ?? lithiumClassValues(labels);
  const medianRadius = options.interfaceMedianRadius ?? 1;
  const vol = await readLabelVolume(labels, t, { level });
  const frame = depthFrame(vol, liValues, plating, medianRadius);
  const layerDepth = Math.abs(frame.counter_um - frame.interface_um);
  const main = labelSurface(vol, { mask: voidValues, maxVertices: options.maxVertices ?? 60000 });
  const voids = toDepth(main, frame.interface_um, frame.direction);

  // Magnified views at full resolution: level 0, only the z rows of each window (bounded memory on big volumes).
  const [NZ, NY, NX] = labels.shapeZYX;
  const [hz, hy, hx] = labels.voxelSizeUm;
  const windows = options.insetDepths_um ?? defaultInsetDepths(layerDepth, deepestVoidDepth(binaryMask(vol, voidValues), vol, frame));
  const width = options.insetWidth_um ?? 40;
  if (!(width > 0)) throw new ParameterError("inset width must be positive", { field: "insetWidth_um", expected: "> 0 um", got: String(width) });
  const insets: Fig1aInset[] = [];
  for (const [k, [d0, d1]] of windows.entries()) {
    if (!(d1 > d0)) throw new ParameterError("inset depth window must have lo < hi", { field: `insetDepths_um[${k}]`, expected: "[lo, hi] um", got: `[${d0}, ${d1}]` });
    // Depth d lies at z_um = interface + direction * d below the top face.
    const zA = frame.interface_um + frame.direction * d0, zB = frame.interface_um + frame.direction * d1;
    const z0 = Math.max(0, Math.min(NZ, Math.round(Math.min(zA, zB) / hz)));
    const z1 = Math.max(z0, Math.min(NZ, Math.round(Math.max(zA, zB) / hz)));
    const win: [number, number] = [Math.min(NY, Math.round(width / hy)), Math.min(NX, Math.round(width / hx))];
    let mesh = emptyMesh();
    let y0 = 0, x0 = 0;
    if (z1 > z0) {
      const rows = await readLabelVolume(labels, t, { level: 0, selection: [[z0, z1], [0, NY], [0, NX]] });
      const mask = binaryMask(rows, voidValues);
      [y0, x0] = busiestWindow(mask, rows.shapeZYX, win);
      mesh = toDepth(labelSurface(cropMask(mask, rows, [y0, y0 + win[0]], [x0, x0 + win[1]]), { mask: [1] }), frame.interface_um, frame.direction);
    }
    const depthA = frame.direction * (z0 * hz - frame.interface_um), depthB = frame.direction * (z1 * hz - frame.interface_um);
    insets.push({
      label: INSET_LABELS[k] ?? `window ${k + 1}`,
      box: { x_um: [x0 * hx, (x0 + win[1]) * hx], y_um: [y0 * hy, (y0 + win[0]) * hy], depth_um: [Math.min(depthA, depthB), Math.max(depthA, depthB)] },
      voids: mesh,
    });
  }
  return {
    voxelSizeUm: [...vol.voxelSizeUm] as [number, number, number],
    cellUm: main.cellUm,
    interface_um: frame.interface_um,
    layer: { ...lateralBox(vol), depth_um: [0, layerDepth] },
    voids,
    insets,
    provenance: {
      dataset: image.path,
      labels: `${labels.name || labels.path} (classes void ${voidValues.join(",")}, lithium ${liValues.join(",")})`,
      time: `t index ${t} (${image.timePointsH[t]} h)`,
      level: `${level} (main view cells ${main.cellUm.map((c) => c.toFixed(2)).join(" x ")} um, magnified views level 0)`,
    },
  };
}

/** A lateral window (all z rows) of a 0/1 mask, as a label volume placed where it lies. */
function cropMask(mask: Uint8Array, v: LabelVolume, yr: [number, number], xr: [number, number]): LabelVolume {
  const [nz, ny, nx] = v.shapeZYX;
  const [cy, cx] = [yr[1] - yr[0], xr[1] - xr[0]];
  const out = new Uint8Array(nz * cy * cx);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < cy; y++) out.set(mask.subarray((z * ny + yr[0] + y) * nx + xr[0], (z * ny + yr[0] + y) * nx + xr[1]), (z * cy + y) * cx);
  const o = v.originUm ?? [0, 0, 0];
  const h = v.voxelSizeUm;
  return { data: out, shapeZYX: [nz, cy, cx], voxelSizeUm: h, originUm: [o[0], o[1] + yr[0] * h[1], o[2] + xr[0] * h[2]] };
}

/** Largest depth (um) of a void voxel's far face inside the layer; 0 without voids. */
function deepestVoidDepth(mask: Uint8Array, v: LabelVolume, frame: DepthFrameOfVolume): number {
  const [nz, ny, nx] = v.shapeZYX;
  const hz = v.voxelSizeUm[0];
  const oz = v.originUm?.[0] ?? 0;
  let deepest = 0;
  for (let z = 0; z < nz; z++) {
    let any = false;
    for (let i = z * ny * nx; i < (z + 1) * ny * nx && !any; i++) any = mask[i] === 1;
    if (!any) continue;
    const d = frame.direction === 1 ? oz + (z + 1) * hz - frame.interface_um : frame.interface_um - oz - z * hz;
    if (d > deepest) deepest = d;
  }
  return deepest;
}

/** 0-20 um, 100-120 um (the paper's void-rich band) and the deepest 20 um that holds voids, within the layer. */
function defaultInsetDepths(layerDepth_um: number, deepestVoid_um: number): Array<[number, number]> {
  const deepEnd = Math.min(layerDepth_um, Math.max(40, deepestVoid_um));
  return [
    [0, 20],
    [100, 120],
    [deepEnd - 20, deepEnd],
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Fig. 2b inputs

export interface Fig2bOptions {
  /** Label image name (default "segmentation"; "unet" for the U-Net's labels). */
  labelName?: string;
  /** Lithium class values (default: the class "lithium", or the twin's "Li ..." materials). */
  lithiumValues?: number[];
  /** CT times to show, h (default 0, 1.0, 1.5, 3.2 as in the paper); each must be a time point within 0.05 h. */
  times_h?: number[];
  /** Time index of the pristine reference whose interface is depth 0 (default 0). */
  referenceTime?: number;
  /** Pyramid level to read (default 0). */
  level?: number;
  plating?: PlatingSide;
  /** Vertex budgets per frame (defaults: electrode 8000, a flat slab that coarse cells draw well; deposit 40000). */
  maxVertices?: { electrode?: number; deposit?: number };
  /** Median radius (columns) of the plating interface map (default 1, as src/analysis). */
  interfaceMedianRadius?: number;
  /**
   * Median radius of the counter interface map, um (default 24, at most 16 columns): wider than a deposit where it
   * reaches the counter electrode, so that deposit stays a deposit.
   */
  counterMedianRadius_um?: number;
}

/**
 * Where the plating electrode and the counter electrode end, per (y, x) column, as edge z coordinates. The plating
 * side follows the median-filtered map (which bridges a stray non-Li voxel inside the electrode) but lets a column
 * reach up to one voxel deeper where its own first non-Li voxel is deeper: plated Li is rough by a voxel from column
 * to column, while a deposit that touches the electrode must not be taken in as electrode beyond that voxel. The
 * counter side is median-filtered over a wide window only, so a deposit that reaches the counter electrode (the
 * short) is not swallowed by it.
 */
interface ElectrodeLimits {
  plating: PlatingSide;
  platingZ: Float64Array;
  counterZ: Float64Array | null;
}

function electrodeLimits(liMask: Uint8Array, volume: LabelVolume, plating: PlatingSide, medianRadius: number, counterRadius: number): ElectrodeLimits {
  const shape: [number, number, number] = [volume.shapeZYX[0], volume.shapeZYX[1], volume.shapeZYX[2]];
  const acc = createInterfaceAccumulator(shape, 1);
  const whole = shape.map((n) => [0, n] as [number, number]);
  accumulateInterface(acc, whole, whole, { data: liMask, shape: [...shape] });
  const vox: [number, number, number] = [volume.voxelSizeUm[0], volume.voxelSizeUm[1], volume.voxelSizeUm[2]];
  const raw = finishInterface(acc, { plating, voxelSizeUm: vox, medianRadius: 0 });
  const smooth = finishInterface(acc, { plating, voxelSizeUm: vox, medianRadius });
  const wide = finishInterface(acc, { plating, voxelSizeUm: vox, medianRadius: counterRadius });
  const platingZ = new Float64Array(raw.platingZ.length);
  for (let c = 0; c < platingZ.length; c++)
    platingZ[c] =
      plating === "top"
        ? Math.max(smooth.platingZ[c]!, Math.min(raw.platingZ[c]!, smooth.platingZ[c]! + 1))
        : Math.min(smooth.platingZ[c]!, Math.max(raw.platingZ[c]!, smooth.platingZ[c]! - 1));
  return { plating, platingZ, counterZ: wide.counterZ };
}

/** Per voxel: 1 plating electrode, 2 deposit, 3 counter electrode, 0 not lithium. */
function lithiumRoles(volume: LabelVolume, liMask: Uint8Array, limits: ElectrodeLimits): Uint8Array {
  const [nz, ny, nx] = volume.shapeZYX;
  const roles = new Uint8Array(liMask.length);
  const top = limits.plating === "top";
  for (let z = 0; z < nz; z++)
    for (let c = 0; c < ny * nx; c++) {
      const i = z * ny * nx + c;
      if (!liMask[i]) continue;
      // Interfaces are edge coordinates: for plating on top, voxel centres above platingZ lie in the electrode.
      const p = limits.platingZ[c]!;
      const q = limits.counterZ ? limits.counterZ[c]! : NaN;
      const inPlating = top ? z + 0.5 < p : z + 0.5 > p;
      const inCounter = Number.isFinite(q) && (top ? z + 0.5 > q : z + 0.5 < q);
      roles[i] = inPlating ? 1 : inCounter ? 3 : 2;
    }
  return roles;
}

/**
 * Surfaces of one role in every frame, all at the coarsest level any frame's vertex budget needed, so the animation
 * does not change resolution from one time to the next.
 */
function surfacesAtOneLevel(volumes: LabelVolume[], role: number, maxVertices: number): SurfaceMesh[] {
  const first = volumes.map((v) => labelSurface(v, { mask: [role], maxVertices }));
  const level = Math.max(...first.map((m) => m.level));
  return first.map((m, k) => (m.level === level ? m : labelSurface(volumes[k]!, { mask: [role], level })));
}

/**
 * Reads the labels at each CT time and builds the surfaces of Fig. 2b: the plating electrode (lithium on the
 * electrode side of that time's interface, found column by column as src/analysis does) and the lithium between
 * the electrodes (deposits in Li3PS4). The counter electrode and the voids are not drawn, as in the paper.
 */
export async function fig2bInputs(image: OmeImage, options: Fig2bOptions = {}): Promise<Fig2bInput> {
  const labelName = options.labelName ?? "segmentation";
  const labels = await image.openLabels(labelName);
  labels.assertReadable();
  const liValues = options.lithiumValues ?? lithiumClassValues(labels);
  const plating = platingSide(image, options.plating);
  const level = options.level ?? 0;
  const medianRadius = options.interfaceMedianRadius ?? 1;
  const counterRadius_um = options.counterMedianRadius_um ?? 24;
  const times = options.times_h ?? [0, 1.0, 1.5, 3.2];
  const indices = times.map((th, k) => {
    const i = image.timePointsH.findIndex((x) => Math.abs(x - th) <= 0.05);
    if (i < 0)
      throw new ParameterError("no CT time point at this time", { path: image.path, field: `times_h[${k}]`, expected: image.timePointsH.join(", ") + " h", got: `${th} h` });
    return i;
  });
  const refT = options.referenceTime ?? 0;
  const ref = depthFrame(await readLabelVolume(labels, refT, { level }), liValues, plating, medianRadius);
  const budget = { electrode: options.maxVertices?.electrode ?? 8000, deposit: options.maxVertices?.deposit ?? 40000 };
  let vox: [number, number, number] = [0, 0, 0];
  let lateral = { x_um: [0, 0] as [number, number], y_um: [0, 0] as [number, number] };
  const roleVolumes: LabelVolume[] = [];
  const depositVoxels: number[] = [];
  for (let k = 0; k < indices.length; k++) {
    const vol = await readLabelVolume(labels, indices[k]!, { level });
    vox = [...vol.voxelSizeUm] as [number, number, number];
    lateral = lateralBox(vol);
    const liMask = binaryMask(vol, liValues);
    const counterRadius = Math.min(16, Math.ceil(counterRadius_um / Math.min(vol.voxelSizeUm[1], vol.voxelSizeUm[2])));
    const roles = lithiumRoles(vol, liMask, electrodeLimits(liMask, vol, plating, medianRadius, counterRadius));
    let n = 0;
    for (const r of roles) if (r === 2) n++;
    roleVolumes.push({ ...vol, data: roles });
    depositVoxels.push(n);
  }
  const electrodes = surfacesAtOneLevel(roleVolumes, 1, budget.electrode);
  const deposits = surfacesAtOneLevel(roleVolumes, 2, budget.deposit);
  let electrodeTop = 0;
  const frames: Fig2bFrame[] = indices.map((ti, k) => {
    const electrode = toDepth(electrodes[k]!, ref.interface_um, ref.direction);
    for (let i = 2; i < electrode.positions.length; i += 3) electrodeTop = Math.min(electrodeTop, electrode.positions[i]!);
    return {
      time_h: image.timePointsH[ti]!,
      electrode,
      deposit: toDepth(deposits[k]!, ref.interface_um, ref.direction),
      depositVolume_um3: depositVoxels[k]! * vox[0] * vox[1] * vox[2],
    };
  });
  const layerDepth = Math.abs(ref.counter_um - ref.interface_um);
  return {
    voxelSizeUm: vox,
    interface_um: ref.interface_um,
    scene: { ...lateral, depth_um: [Math.floor(electrodeTop), layerDepth] },
    layerDepth_um: layerDepth,
    frames,
    provenance: {
      dataset: image.path,
      labels: `${labelName} (lithium classes ${liValues.join(",")})`,
      times: indices.map((i) => `t${i}=${image.timePointsH[i]} h`).join(", "),
      level: String(level),
      reference: `interface of t index ${refT} (${ref.interface_um.toFixed(1)} um below the top face) is depth 0`,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Figures

/** Short content hash of meshes, for provenance. */
function meshHash(meshes: SurfaceMesh[]): string {
  const h = createHash("sha256");
  for (const m of meshes) {
    h.update(new Uint8Array(m.positions.buffer, m.positions.byteOffset, m.positions.byteLength));
    h.update(new Uint8Array(m.indices.buffer, m.indices.byteOffset, m.indices.byteLength));
  }
  return h.digest("hex").slice(0, 16);
}

/**
 * Plotted coordinates are local to the scene's box: x - x0, y - y0 and elevation -(depth - depth0), so every scene
 * spans [0, extent] laterally and [-extent, 0] vertically, and tick labels print the true x, y and depth. Elevation
 * rather than a reversed z axis: a reversed 3D axis mirrors the scene, and plotly then lights surfaces from the
 * wrong side; local coordinates because plotly's mesh lighting also fades for data far from the scene's origin
 * (magnified views 100 um deep came out unlit). Rounded to 0.01 um, far below any voxel, to keep the JSON small.
 */
function local(frame: DepthBox, axisIndex: number, v: number): number {
  const u = axisIndex === 0 ? v - frame.x_um[0] : axisIndex === 1 ? v - frame.y_um[0] : -(v - frame.depth_um[0]);
  return Math.round(u * 100) / 100 + 0;
}

function plotted(values: Float32Array, axisIndex: number, frame: DepthBox): number[] {
  const out = new Array<number>(values.length / 3);
  for (let i = axisIndex, k = 0; i < values.length; i += 3, k++) out[k] = local(frame, axisIndex, values[i]!);
  return out;
}

function corners(t: Uint32Array, j: number): number[] {
  const out = new Array<number>(t.length / 3);
  for (let i = j, k = 0; i < t.length; i += 3, k++) out[k] = t[i]!;
  return out;
}

const LIGHTING = { ambient: 0.35, diffuse: 0.85, specular: 0.3, roughness: 0.45, fresnel: 0.2 };
/** Light from above and in front of the default cameras (scene coordinates, elevation up; plotly caps each at 1e5). */
const LIGHT_POSITION = { x: 6e4, y: -4e4, z: 1e5 };

/**
 * Black, the void colour, takes no diffuse shading at all: surfaces in that colour are drawn in a dark grey so
 * their shape reads (the caption says so).
 */
function shadedColour(color: string): string {
  return color === "#000000" ? "#505050" : color;
}

/** A plotly mesh3d trace of a surface given in (x, y, depth) coordinates, drawn in the scene of `frame`. */
function meshTrace(mesh: SurfaceMesh, name: string, color: string, scene: string, frame: DepthBox, extra: Record<string, unknown> = {}): PlotlyTrace {
  return {
    type: "mesh3d",
    name,
    x: plotted(mesh.positions, 0, frame),
    y: plotted(mesh.positions, 1, frame),
    z: plotted(mesh.positions, 2, frame),
    // Depth to elevation mirrors the mesh: j and k swap so triangles still wind counter-clockwise seen from outside.
    i: corners(mesh.indices, 0),
    j: corners(mesh.indices, 2),
    k: corners(mesh.indices, 1),
    color: shadedColour(color),
    flatshading: false,
    lighting: LIGHTING,
    lightposition: LIGHT_POSITION,
    hoverinfo: "name",
    scene,
    ...extra,
  };
}

/** The 12 edges of a box as one scatter3d line trace (gaps between edges as nulls). */
function boxTrace(b: DepthBox, name: string, color: string, scene: string, frame: DepthBox, width = 2): PlotlyTrace {
  const [x0, x1] = b.x_um, [y0, y1] = b.y_um, [d0, d1] = b.depth_um;
  const c = (i: number): [number, number, number] => [local(frame, 0, i & 1 ? x1 : x0), local(frame, 1, i & 2 ? y1 : y0), local(frame, 2, i & 4 ? d1 : d0)];
  const x: Array<number | null> = [], y: Array<number | null> = [], z: Array<number | null> = [];
  for (let a = 0; a < 8; a++)
    for (const bit of [1, 2, 4])
      if (!(a & bit)) {
        const p = c(a), q = c(a | bit);
        x.push(p[0], q[0], null);
        y.push(p[1], q[1], null);
        z.push(p[2], q[2], null);
      }
  return { type: "scatter3d", mode: "lines", name, x, y, z, line: { color, width }, hoverinfo: "skip", showlegend: false, scene };
}

/** The Li/Li3PS4 interface (depth 0) as a translucent plane in the electrode colour, for orientation. */
function interfacePlane(frame: DepthBox, scene: string): PlotlyTrace {
  const [x0, x1] = frame.x_um, [y0, y1] = frame.y_um;
  const z = local(frame, 2, 0);
  return {
    type: "mesh3d",
    name: "Li/Li3PS4 interface",
    x: [0, x1 - x0, x1 - x0, 0],
    y: [0, 0, y1 - y0, y1 - y0],
    z: [z, z, z, z],
    i: [0, 0],
    j: [1, 2],
    k: [2, 3],
    color: CLASS_COLOURS.electrode,
    opacity: 0.35,
    hoverinfo: "name",
    showlegend: false,
    scene,
  };
}

/** A tick step of 1, 2 or 5 x 10^n giving about `n` ticks over `span`. */
function niceStep(span: number, n: number): number {
  const raw = span / Math.max(1, n);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/**
 * Ticks of one axis of a scene in local coordinates, labelled with the true values. Lateral axes leave out the
 * range's start: x = 0 and y = 0 meet where the depth axis ends, and would read as a depth.
 */
function ticks(frame: DepthBox, axisIndex: number, n: number): { tickmode: "array"; tickvals: number[]; ticktext: string[] } {
  const range = axisIndex === 0 ? frame.x_um : axisIndex === 1 ? frame.y_um : frame.depth_um;
  const step = niceStep(range[1] - range[0], n);
  const first = axisIndex === 2 ? Math.ceil(range[0] / step - 1e-9) : Math.floor(range[0] / step + 1);
  const tickvals: number[] = [], ticktext: string[] = [];
  for (let v = first * step; v <= range[1] + 1e-9; v += step) {
    tickvals.push(local(frame, axisIndex, v));
    ticktext.push(String(Math.round(v * 1000) / 1000 + 0));
  }
  return { tickmode: "array", tickvals, ticktext };
}

/** A 3D scene of `frame` with axes in um, depth growing downwards, and the aspect ratio true to um. */
function sceneLayout(frame: DepthBox, domain: { x: [number, number]; y: [number, number] }, camera: Record<string, unknown>, opts: { titles?: boolean; nticks?: number } = {}): Record<string, unknown> {
  const span = [frame.x_um[1] - frame.x_um[0], frame.y_um[1] - frame.y_um[0], frame.depth_um[1] - frame.depth_um[0]];
  const m = Math.max(...span);
  const titles = opts.titles ?? true;
  const n = opts.nticks ?? 6;
  const ax = (title: string, k: number, range: [number, number]): Record<string, unknown> => ({
    ...axis(titles ? title : "", titles ? "µm" : null),
    ...(titles ? {} : { title: { text: "" } }),
    range,
    autorange: false,
    showbackground: false,
    gridcolor: "#e4e4e4",
    linecolor: "#666666",
    ticks: "outside",
    ...(opts.nticks ? { tickfont: { size: 10 } } : {}),
    ...ticks(frame, k, n),
  });
  return {
    domain,
    xaxis: ax("x", 0, [0, span[0]!]),
    yaxis: ax("y", 1, [0, span[1]!]),
    zaxis: ax("Depth from Li/Li3PS4 interface", 2, [-span[2]!, 0]),
    aspectmode: "manual",
    aspectratio: { x: span[0]! / m, y: span[1]! / m, z: span[2]! / m },
    camera,
  };
}

const INSET_COLOURS = [SERIES_COLOURS.tertiary, SERIES_COLOURS.fit, SERIES_COLOURS.secondary];

/**
 * Fig. 1a: the voids of the pristine Li3PS4 layer as a 3D surface (void colour) in the layer's box, with magnified
 * views of three depth windows (outlined in the main view in the colour of their titles).
 */
export function fig1a(input: Fig1aInput): Figure {
  const data: PlotlyTrace[] = [
    meshTrace(input.voids, "voids", CLASS_COLOURS.void, "scene", input.layer, { showlegend: false }),
    boxTrace(input.layer, "Li3PS4 layer", "#888888", "scene", input.layer),
  ];
  input.insets.forEach((ins, k) => data.push(boxTrace(ins.box, ins.label, INSET_COLOURS[k % INSET_COLOURS.length]!, "scene", input.layer, 4)));
  data.push(interfacePlane(input.layer, "scene"));
  const camera = { eye: { x: 2.05, y: -2.05, z: 0.55 }, up: { x: 0, y: 0, z: 1 }, projection: { type: "perspective" } };
  const layout: PlotlyLayout = baseLayout("Fig. 1a  Voids in the pristine Li3PS4 layer", {
    width: 1100,
    height: 860,
    margin: { l: 10, r: 10, t: 60, b: 10 },
    showlegend: false,
    scene: sceneLayout(input.layer, { x: [0, 0.62], y: [0, 1] }, camera),
    annotations: [] as Array<Record<string, unknown>>,
  });
  const annotations = layout.annotations as Array<Record<string, unknown>>;
  const n = input.insets.length;
  input.insets.forEach((ins, k) => {
    const sid = `scene${k + 2}`;
    const y1 = 1 - k / n - 0.045, y0 = 1 - (k + 1) / n + 0.01;
    data.push(meshTrace(ins.voids, `voids ${ins.label}`, CLASS_COLOURS.void, sid, ins.box, { showlegend: false }));
    data.push(boxTrace(ins.box, ins.label, INSET_COLOURS[k % INSET_COLOURS.length]!, sid, ins.box, 3));
    layout[sid] = sceneLayout(ins.box, { x: [0.62, 1], y: [y0, y1] }, { eye: { x: 1.35, y: -1.35, z: 0.95 }, up: { x: 0, y: 0, z: 1 }, projection: { type: "perspective" } }, { titles: false, nticks: 3 });
    annotations.push({
      text: `<b>${ins.label}</b>: depth ${ins.box.depth_um[0].toFixed(0)}-${ins.box.depth_um[1].toFixed(0)} µm, ${(ins.box.x_um[1] - ins.box.x_um[0]).toFixed(0)} x ${(ins.box.y_um[1] - ins.box.y_um[0]).toFixed(0)} µm`,
      x: 0.63,
      y: y1 + 0.035,
      xref: "paper",
      yref: "paper",
      xanchor: "left",
      yanchor: "top",
      showarrow: false,
      font: { size: 13, color: INSET_COLOURS[k % INSET_COLOURS.length] },
    });
  });
  const all = [input.voids, ...input.insets.map((i) => i.voids)];
  return {
    id: "fig1a",
    title: "Voids in the pristine Li3PS4 layer",
    caption:
      `Surfaces (marching cubes, ${input.cellUm[2].toFixed(1)} µm cells) of the voids of the pristine Li3PS4 layer, in the void colour ` +
      `(black, lifted to dark grey so the shading shows); x, y and depth from the ` +
      `Li/Li3PS4 interface in µm at true aspect ratio. Right: magnified views (full ${input.voxelSizeUm[2].toFixed(1)} µm resolution) of the ` +
      `windows outlined on the left, at ${input.insets.map((i) => `${i.box.depth_um[0].toFixed(0)}-${i.box.depth_um[1].toFixed(0)}`).join(", ")} µm depth.`,
    data,
    layout,
    provenance: { ...input.provenance, meshes: meshHash(all) },
  };
}

/**
 * Fig. 2b: the plating Li electrode (electrode colour) and the Li deposited in Li3PS4 (lithium colour) at each CT
 * time, one animation frame per time with plotly's own slider and play button; pristine voids not drawn.
 */
export function fig2b(input: Fig2bInput): Figure {
  if (!input.frames.length) throw new ParameterError("Fig. 2b needs at least one time point", { field: "frames", expected: ">= 1 frame", got: "0" });
  const layer: DepthBox = { x_um: input.scene.x_um, y_um: input.scene.y_um, depth_um: [0, input.layerDepth_um] };
  const tracesOf = (f: Fig2bFrame): PlotlyTrace[] => [
    meshTrace(f.electrode, "Li electrode", CLASS_COLOURS.electrode, "scene", input.scene, { showlegend: true }),
    meshTrace(f.deposit, "Li deposited in Li3PS4", CLASS_COLOURS.lithium, "scene", input.scene, { showlegend: true }),
  ];
  const label = (f: Fig2bFrame): string => `${f.time_h.toFixed(1)} h`;
  const frameTitle = (f: Fig2bFrame): string =>
    `Fig. 2b  Li at T = ${label(f)}: deposited in Li3PS4 ${(f.depositVolume_um3 / 1e3).toFixed(1)} x 10³ µm³`;
  const frames: PlotlyFrame[] = input.frames.map((f) => ({
    name: label(f),
    data: tracesOf(f),
    traces: [0, 1],
    layout: { title: { text: frameTitle(f), x: 0.02, xanchor: "left" } },
  }));
  const data: PlotlyTrace[] = [...tracesOf(input.frames[0]!), boxTrace(layer, "Li3PS4 layer", "#999999", "scene", input.scene)];
  const camera = { eye: { x: 1.6, y: -1.3, z: 0.3 }, up: { x: 0, y: 0, z: 1 }, projection: { type: "perspective" } };
  const anim = { mode: "immediate", frame: { duration: 900, redraw: true }, transition: { duration: 0 } };
  const layout = baseLayout(frameTitle(input.frames[0]!), {
    width: 820,
    height: 820,
    margin: { l: 10, r: 10, t: 60, b: 10 },
    scene: sceneLayout(input.scene, { x: [0, 1], y: [0.1, 1] }, camera),
    legend: { x: 0.02, y: 0.93, bgcolor: "rgba(255,255,255,0.8)" },
    sliders: [
      {
        active: 0,
        x: 0.16,
        len: 0.8,
        y: 0.09,
        pad: { t: 10 },
        currentvalue: { prefix: "CT time T = ", font: { size: 14 } },
        steps: frames.map((f) => ({ label: f.name, method: "animate", args: [[f.name], anim] })),
      },
    ],
    updatemenus: [
      {
        type: "buttons",
        showactive: false,
        x: 0.02,
        y: 0.05,
        xanchor: "left",
        yanchor: "top",
        direction: "left",
        buttons: [
          { label: "▶", method: "animate", args: [null, { ...anim, fromcurrent: true }] },
          { label: "❚❚", method: "animate", args: [[null], { mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 } }] },
        ],
      },
    ],
  });
  return {
    id: "fig2b",
    title: "Li electrode and Li deposited in Li3PS4 during plating",
    caption:
      `Surfaces of the plating Li electrode and of the lithium deposited in the Li3PS4 layer at CT times ${input.frames.map(label).join(", ")} ` +
      `(slider); x, y and depth from the pristine Li/Li3PS4 interface in µm at true aspect ratio; voids of the pristine state and the counter electrode not drawn.`,
    data,
    layout,
    frames,
    // The static image shows the last CT time (the paper's last panel); the interactive one starts at the first.
    staticFrame: frames[frames.length - 1]?.name,
    provenance: { ...input.provenance, meshes: meshHash(input.frames.flatMap((f) => [f.electrode, f.deposit])) },
  };
}
