/**
 * OME-Zarr (NGFF) images for operando CT: one 5D image (t, c, z, y, x) per experiment, channels such as
 * `absorption` and `phase`, physical axis units (micrometer, hour), multiscale pyramids, and label images under
 * `labels/<name>`. Version 0.4 (zarr v2, the widest reader support) is the default; 0.5 (zarr v3) on request.
 * Reading also accepts 3D/4D images and any OME-Zarr with the axes named t, c, z, y, x.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { VolumeError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { readJsonIfExists, ZarrArray, type ChunkCache } from "./array.js";
import { fetchGroupAttrs, isRemote, storeJoin } from "./store-http.js";
import { assertLabelsReadable, labelStatus, type LabelStatus } from "./completion.js";
import { checkDatasetFolder, writeErrorOf } from "./output-folder.js";
import type { Block, CodecSpec, DataType, NdArray, Selection } from "./types.js";
import { INT_RANGE } from "./metadata.js";

export type OmeVersion = "0.4" | "0.5";

/** Experiment description kept with the image under the `ssb-ct` attribute. Units are in the names. */
export interface ExperimentMetadata {
  currentDensity_mA_cm2?: number;
  electrodeArea_cm2?: number;
  xrayEnergy_keV?: number;
  /** Which electrode Li is plated on, relative to the z axis (top = low z). */
  platingElectrode?: "top" | "bottom";
  description?: string;
  [key: string]: unknown;
}

export interface OmeImageSpec {
  channels: string[];
  /** Acquisition times of the time points (hours since the start of plating). */
  timePointsH: number[];
  shapeZYX: [number, number, number];
  voxelSizeUm: [number, number, number];
  dtype: DataType;
  chunksZYX?: [number, number, number];
  codec?: CodecSpec;
  version?: OmeVersion;
  name?: string;
  experiment?: ExperimentMetadata;
  overwrite?: boolean;
}

export interface OpenOptions {
  /**
   * Units to use where the file states none. Without this, an image whose space axes carry no unit is an error:
   * depth in micrometres must never be silently assumed.
   */
  units?: { space?: string; time?: string };
}

export interface LabelClass {
  value: number;
  name: string;
  color?: [number, number, number, number];
}

const SPACE_TO_UM: Record<string, number> = {
  angstrom: 1e-4,
  nanometer: 1e-3,
  micrometer: 1,
  millimeter: 1e3,
  centimeter: 1e4,
  meter: 1e6,
};
const TIME_TO_H: Record<string, number> = { second: 1 / 3600, minute: 1 / 60, hour: 1, day: 24 };

const AXES = ["t", "c", "z", "y", "x"] as const;

interface Axis {
  name: string;
  type?: string;
  unit?: string;
}

interface Dataset {
  path: string;
  coordinateTransformations: Array<{ type: string; scale?: number[]; translation?: number[] }>;
}

interface Multiscale {
  version?: string;
  name?: string;
  axes: Axis[];
  datasets: Dataset[];
  type?: string;
  metadata?: Record<string, unknown>;
}

/**
 * Group attributes, whichever zarr version: v2 `.zattrs`, v3 `zarr.json` attributes; `file` is where they live
 * (what metadata errors name).
 */
function readGroupAttrs(path: string): { attrs: Record<string, unknown>; zarrFormat: 2 | 3; file: string } {
  if (!existsSync(path)) throw new VolumeError("no OME-Zarr store at this path", { path, expected: "a zarr group folder" });
  const v3 = readJsonIfExists(join(path, "zarr.json")) as Record<string, unknown> | undefined;
  if (v3) {
    if (v3.node_type !== "group") throw new VolumeError("expected a zarr group", { path: join(path, "zarr.json"), field: "node_type", expected: "group", got: String(v3.node_type) });
    return { attrs: (v3.attributes ?? {}) as Record<string, unknown>, zarrFormat: 3, file: join(path, "zarr.json") };
  }
  if (!existsSync(join(path, ".zgroup")))
    throw new VolumeError("not a zarr group", { path, expected: ".zgroup (zarr v2) or zarr.json (zarr v3)" });
  return { attrs: (readJsonIfExists(join(path, ".zattrs")) ?? {}) as Record<string, unknown>, zarrFormat: 2, file: join(path, ".zattrs") };
}

function writeGroup(path: string, zarrFormat: 2 | 3, attrs: Record<string, unknown>): void {
  mkdirSync(path, { recursive: true });
  if (zarrFormat === 2) {
    writeFileAtomic(join(path, ".zgroup"), JSON.stringify({ zarr_format: 2 }));
    writeFileAtomic(join(path, ".zattrs"), JSON.stringify(attrs, null, 2));
  } else {
    writeFileAtomic(join(path, "zarr.json"), JSON.stringify({ zarr_format: 3, node_type: "group", attributes: attrs }, null, 2));
  }
}

/** The OME block of a group's attributes: 0.5 nests it under `ome`, 0.4 keeps it at top level. */
function omeBlock(attrs: Record<string, unknown>): { ome: Record<string, unknown>; version: OmeVersion } {
  if (attrs.ome && typeof attrs.ome === "object") return { ome: attrs.ome as Record<string, unknown>, version: "0.5" };
  return { ome: attrs, version: "0.4" };
}

function wrapOme(version: OmeVersion, ome: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return version === "0.5" ? { ome: { version: "0.5", ...ome }, ...extra } : { ...ome, ...extra };
}

function axesFor(): Axis[] {
  return [
    { name: "t", type: "time", unit: "hour" },
    { name: "c", type: "channel" },
    { name: "z", type: "space", unit: "micrometer" },
    { name: "y", type: "space", unit: "micrometer" },
    { name: "x", type: "space", unit: "micrometer" },
  ];
}

/** Hours per time step for the OME scale: the spacing if uniform, else the mean (the exact list is in `ssb-ct`). */
function timeStep(times: number[]): number {
  if (times.length < 2) return 1;
  return (times[times.length - 1]! - times[0]!) / (times.length - 1);
}

/**
 * Why the OME time scale is not the truth, when it is not: NGFF 0.4/0.5 can only state a uniform scale on t, so
 * viewers (napari, OME-Zarr viewers) place time point i at i x the mean spacing. Undefined when uniform.
 */
function timeAxisNote(times: number[]): string | undefined {
  if (times.length < 3) return undefined;
  const step = timeStep(times);
  const uniform = times.every((t, i) => Math.abs(t - (times[0]! + i * step)) <= 1e-9 * Math.max(1, Math.abs(step) * times.length));
  if (uniform) return undefined;
  return (
    `irregular time points: the OME scale on t (${step} hour) is their mean spacing, so viewers that read only the ` +
    `OME metadata show time point i at ${times[0]} + i x ${step} h; the acquisition times are ssb-ct.time_points_h`
  );
}


/** Range of the written values of one channel; null when nothing (finite) has been written through this library. */
export type ChannelRange = [number, number] | null;

/**
 * The omero window of a channel (required by the NGFF 0.4 schema). min/max: the range of the values written
 * (level 0, all time points, tracked as blocks are written), start/end the same (full contrast); nothing written:
 * the dtype range for integers, 0..1 for floats (unknown).
 */
function windowOf(dtype: DataType, range: ChannelRange): { min: number; max: number; start: number; end: number } {
  const [lo, hi] = range ?? INT_RANGE[dtype] ?? [0, 1];
  return { min: lo, max: hi, start: lo, end: hi };
}

function readRanges(list: unknown, n: number): ChannelRange[] {
  return Array.from({ length: n }, (_, i) => {
    const r = Array.isArray(list) ? list[i] : null;
    return Array.isArray(r) && r.length === 2 && r.every((v) => typeof v === "number" && Number.isFinite(v)) && r[0] <= r[1] ? [r[0], r[1]] : null;
  });
}

function multiscaleFor(version: OmeVersion, name: string, levels: number, times: number[], voxel: number[], kind: "mean" | "mode"): Multiscale {
  const timeStepH = timeStep(times);
  const datasets: Dataset[] = [];
  for (let k = 0; k < levels; k++) {
    const f = 2 ** k;
    datasets.push({
      path: String(k),
      coordinateTransformations: [
        { type: "scale", scale: [timeStepH, 1, voxel[0]! * f, voxel[1]! * f, voxel[2]! * f] },
        ...(k > 0 ? [{ type: "translation", translation: [0, 0, ...voxel.map((v) => ((f - 1) / 2) * v)] }] : []),
      ],
    });
  }
  const ms: Multiscale = {
    name,
    axes: axesFor(),
    datasets,
    type: kind,
    metadata: { description: `2x downsampling by ${kind} over z, y, x per level`, method: "ssb-ct buildPyramid" },
  };
  const note = timeAxisNote(times);
  if (note) ms.metadata!.time_axis = note;
  if (version === "0.4") ms.version = "0.4";
  return ms;
}

interface Layout {
  /** Index of each of t, c, z, y, x in the stored array's axes (-1 when the axis is absent). */
  axisIndex: Record<(typeof AXES)[number], number>;
  voxelSizeUm: [number, number, number];
  timeScaleH: number;
}

/**
 * Axes, voxel size and time step of multiscale 0, validated: `path` is the attributes file (errors name it and the
 * field). `explicitTimes`: the time points come from our own list in hours, so the OME time scale and unit are not
 * used for them.
 */
function parseLayout(path: string, ms: Multiscale, options: OpenOptions, explicitTimes = false): Layout {
  const field = "multiscales[0].axes";
  if (!Array.isArray(ms.axes)) throw new VolumeError("OME-Zarr multiscales has no axes", { path, field, expected: "an array of {name, type, unit}" });
  const axisIndex = { t: -1, c: -1, z: -1, y: -1, x: -1 };
  ms.axes.forEach((a, i) => {
    const nm = (typeof a === "string" ? a : a.name) as keyof typeof axisIndex;
    if (!(nm in axisIndex)) throw new VolumeError("unsupported axis name", { path, field: `${field}[${i}].name`, expected: "t, c, z, y or x", got: String(nm) });
    axisIndex[nm] = i;
  });
  for (const ax of ["z", "y", "x"] as const)
    if (axisIndex[ax] < 0) throw new VolumeError("image lacks a spatial axis", { path, field, expected: "axes z, y and x", got: JSON.stringify(ms.axes) });
  if (!Array.isArray(ms.datasets) || !ms.datasets.length)
    throw new VolumeError("OME-Zarr multiscales has no datasets", { path, field: "multiscales[0].datasets", expected: "a non-empty list of {path, coordinateTransformations}" });
  checkTransforms(path, ms);
  const scale = ms.datasets[0]!.coordinateTransformations.find((t) => t.type === "scale")!.scale!;
  const unitOf = (ax: "t" | "z" | "y" | "x"): string | undefined => {
    const a = ms.axes[axisIndex[ax]];
    return a && typeof a === "object" ? a.unit : undefined;
  };
  const voxel = (["z", "y", "x"] as const).map((ax) => {
    const unit = unitOf(ax) ?? options.units?.space;
    if (!unit)
      throw new VolumeError("OME-Zarr space axis has no unit", {
        path,
        field: `${field}[${axisIndex[ax]}].unit`,
        expected: "a UDUNITS-2 length unit such as micrometer (or pass units: {space} when opening)",
        got: "missing",
      });
    const f = SPACE_TO_UM[unit];
    if (f === undefined) throw new VolumeError("unknown space unit", { path, field: `${field}[${axisIndex[ax]}].unit`, expected: Object.keys(SPACE_TO_UM).join(", "), got: unit });
    return scale[axisIndex[ax]]! * f;
  }) as [number, number, number];
  let timeScaleH = 1;
  if (axisIndex.t >= 0) {
    const unit = unitOf("t") ?? options.units?.time;
    if (unit) {
      const f = TIME_TO_H[unit];
      if (f === undefined) throw new VolumeError("unknown time unit", { path, field: `${field}[${axisIndex.t}].unit`, expected: Object.keys(TIME_TO_H).join(", "), got: unit });
      timeScaleH = scale[axisIndex.t]! * f;
    } else if (explicitTimes) {
      timeScaleH = NaN; // never used: the times come from the explicit list
    } else {
      // Without a unit the time points would be numbers of unknown meaning (seconds? hours?): Faraday's law and
      // every rate would be off by that factor.
      throw new VolumeError("OME-Zarr time axis has no unit", {
        path,
        field: `${field}[${axisIndex.t}].unit`,
        expected: `a time unit (${Object.keys(TIME_TO_H).join(", ")}), or pass units: {time} when opening`,
        got: "missing",
      });
    }
  }
  return { axisIndex, voxelSizeUm: voxel, timeScaleH };
}

/**
 * Every dataset's scale: one positive finite number per axis (a zero, negative or NaN voxel size makes every
 * physical quantity wrong, silently); translations finite.
 */
function checkTransforms(path: string, ms: Multiscale): void {
  ms.datasets.forEach((ds, k) => {
    const field = `multiscales[0].datasets[${k}].coordinateTransformations`;
    const list = ds?.coordinateTransformations;
    if (!Array.isArray(list)) throw new VolumeError("OME-Zarr dataset has no coordinate transformations", { path, field, expected: "a list with a scale transform" });
    const si = list.findIndex((t) => t?.type === "scale");
    const scale = list[si]?.scale;
    if (!Array.isArray(scale) || scale.length !== ms.axes.length)
      throw new VolumeError(`OME-Zarr dataset ${k} has no scale transform`, { path, field, expected: `a scale with ${ms.axes.length} entries`, got: JSON.stringify(scale ?? null) });
    scale.forEach((v, i) => {
      if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
        throw new VolumeError("OME-Zarr scale must be positive finite numbers", { path, field: `${field}[${si}].scale[${i}]`, expected: "a positive finite number", got: JSON.stringify(v) });
    });
    list.forEach((t, ti) => {
      if (t?.type !== "translation") return;
      const tr = t.translation;
      if (!Array.isArray(tr) || tr.length !== ms.axes.length || tr.some((v) => typeof v !== "number" || !Number.isFinite(v)))
        throw new VolumeError("OME-Zarr translation must be finite numbers", { path, field: `${field}[${ti}].translation`, expected: `${ms.axes.length} finite numbers`, got: JSON.stringify(tr ?? null) });
    });
  });
}

/** True when `list` is our explicit list of `n` time points in hours (finite, increasing). */
function explicitTimeList(list: unknown, n: number): list is number[] {
  return Array.isArray(list) && list.length === n && list.every((v, i) => typeof v === "number" && Number.isFinite(v) && (i === 0 || v > (list[i - 1] as number)));
}

/** Common read/write plumbing of images and label images: both are 5D (t, c, z, y, x) multiscale groups. */
abstract class MultiscaleVolume {
  protected constructor(
    readonly path: string,
    readonly version: OmeVersion,
    protected readonly levelArrays: ZarrArray[],
    protected readonly layout: Layout,
    readonly timePointsH: number[],
  ) {}

  get levels(): number {
    return this.levelArrays.length;
  }
  get voxelSizeUm(): [number, number, number] {
    return this.layout.voxelSizeUm;
  }
  get shapeZYX(): [number, number, number] {
    const s = this.levelArrays[0]!.shape;
    const a = this.layout.axisIndex;
    return [s[a.z]!, s[a.y]!, s[a.x]!];
  }
  get dtype(): DataType {
    return this.levelArrays[0]!.dtype;
  }
  /** The stored array of a resolution level (0 = full resolution). */
  array(level = 0): ZarrArray {
    const a = this.levelArrays[level];
    if (!a) throw new VolumeError("no such resolution level", { path: this.path, field: "level", expected: `0..${this.levelArrays.length - 1}`, got: String(level) });
    return a;
  }

  protected checkTime(t: number): void {
    const nt = this.layout.axisIndex.t >= 0 ? this.levelArrays[0]!.shape[this.layout.axisIndex.t]! : 1;
    if (!Number.isInteger(t) || t < 0 || t >= nt)
      throw new VolumeError("time index out of range", { path: this.path, field: "t", expected: `0..${nt - 1}`, got: String(t) });
  }

  /** Full-array selection for (t, c) and a zyx region. */
  protected selectionFor(level: number, t: number, c: number, zyx?: Selection): Selection {
    const arr = this.array(level);
    const a = this.layout.axisIndex;
    const sel: Selection = arr.shape.map((s) => [0, s] as [number, number]);
    if (a.t >= 0) sel[a.t] = [t, t + 1];
    if (a.c >= 0) sel[a.c] = [c, c + 1];
    if (zyx) {
      if (zyx.length !== 3) throw new VolumeError("a zyx selection needs 3 ranges", { path: this.path, field: "selection", got: JSON.stringify(zyx) });
      sel[a.z] = zyx[0]!;
      sel[a.y] = zyx[1]!;
      sel[a.x] = zyx[2]!;
    }
    return sel;
  }

  protected zyxOrderOk(): boolean {
    const a = this.layout.axisIndex;
    return a.z < a.y && a.y < a.x && (a.t < 0 || a.t < a.z) && (a.c < 0 || a.c < a.z);
  }

  protected async read3d(t: number, c: number, zyx: Selection | undefined, level: number, cache?: ChunkCache): Promise<NdArray> {
    this.checkTime(t);
    if (!this.zyxOrderOk()) throw new VolumeError("axes must be ordered (t, c,) z, y, x", { path: this.path });
    const r = await this.array(level).read(this.selectionFor(level, t, c, zyx), { cache });
    const a = this.layout.axisIndex;
    return { data: r.data, shape: [r.shape[a.z]!, r.shape[a.y]!, r.shape[a.x]!] };
  }

  protected async write3d(t: number, c: number, startZYX: readonly number[], data: NdArray, level: number): Promise<void> {
    this.checkTime(t);
    if (data.shape.length !== 3) throw new VolumeError("expected a 3D (z, y, x) block", { path: this.path, field: "data.shape", got: JSON.stringify(data.shape) });
    const arr = this.array(level);
    const a = this.layout.axisIndex;
    const start = new Array<number>(arr.ndim).fill(0);
    const shape = new Array<number>(arr.ndim).fill(1);
    if (a.t >= 0) start[a.t] = t;
    if (a.c >= 0) start[a.c] = c;
    [a.z, a.y, a.x].forEach((ax, i) => {
      start[ax] = startZYX[i]!;
      shape[ax] = data.shape[i]!;
    });
    await arr.write(start, { data: data.data, shape });
  }

  protected async *blocks3d(t: number, c: number, halo: number | number[] | undefined, level: number): AsyncGenerator<Block> {
    this.checkTime(t);
    const arr = this.array(level);
    const a = this.layout.axisIndex;
    const h = typeof halo === "number" ? [halo, halo, halo] : halo ?? [0, 0, 0];
    const fullHalo = new Array<number>(arr.ndim).fill(0);
    fullHalo[a.z] = h[0]!;
    fullHalo[a.y] = h[1]!;
    fullHalo[a.x] = h[2]!;
    const pick = (s: Selection): Selection => [s[a.z]!, s[a.y]!, s[a.x]!];
    for await (const b of arr.blocks({ selection: this.selectionFor(level, t, c), halo: fullHalo })) {
      yield { core: pick(b.core), read: pick(b.read), data: { data: b.data.data, shape: [b.data.shape[a.z]!, b.data.shape[a.y]!, b.data.shape[a.x]!] } };
    }
  }
}

export class OmeImage extends MultiscaleVolume {
  private constructor(
    path: string,
    version: OmeVersion,
    levelArrays: ZarrArray[],
    layout: Layout,
    timePointsH: number[],
    readonly channels: string[],
    readonly experiment: ExperimentMetadata,
    readonly name: string,
    private readonly openOptions: OpenOptions = {},
    /** Range of the values written per channel (the omero windows); kept in ssb-ct.data_range. */
    private readonly ranges: ChannelRange[] = channels.map(() => null),
  ) {
    super(path, version, levelArrays, layout, timePointsH);
  }

  /** Range of the finite values written to each channel (level 0, all time points); null where none yet. */
  get dataRanges(): ChannelRange[] {
    return this.ranges.map((r) => (r ? [r[0], r[1]] : null));
  }

  /**
   * Sets the channel ranges to ones computed elsewhere and writes the attributes once: for writers whose chunks
   * went through the arrays (worker threads, shards of one job), where a per-block read-modify-write of the group
   * attributes would race and would differ between shards.
   */
  recordDataRanges(ranges: readonly ChannelRange[]): void {
    this.channels.forEach((_, i) => {
      const r = ranges[i] ?? null;
      this.ranges[i] = r ? [r[0], r[1]] : null;
    });
    this.writeAttrs(this.levels);
  }

  private writeAttrs(levels: number): void {
    writeGroup(this.path, this.version === "0.5" ? 3 : 2, imageAttrs(this.version, this.name, levels, this.timePointsH, this.voxelSizeUm, this.channels, this.experiment, this.dtype, this.ranges));
  }

  /**
   * Widens channel c's range by the finite values of `data`; when it grew, merges with the range on disk (another
   * writer of the same store may have widened it) and rewrites the group attributes (omero window).
   */
  private widenRange(c: number, data: ArrayLike<number>): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
      // NaN or infinities present (or nothing): the range of the finite values only.
      lo = Infinity;
      hi = -Infinity;
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (!Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (lo > hi) return;
    }
    const old = this.ranges[c] ?? null;
    if (old && old[0] <= lo && old[1] >= hi) return;
    let onDisk: ChannelRange[] = [];
    try {
      onDisk = readRanges((readGroupAttrs(this.path).attrs["ssb-ct"] as { data_range?: unknown } | undefined)?.data_range, this.channels.length);
    } catch {
      /* unreadable attributes: they are rewritten below */
    }
    this.ranges.forEach((r, i) => {
      const parts = [r, onDisk[i] ?? null, i === c ? ([lo, hi] as [number, number]) : null].filter((x): x is [number, number] => x !== null);
      this.ranges[i] = parts.length ? [Math.min(...parts.map((x) => x[0])), Math.max(...parts.map((x) => x[1]))] : null;
    });
    this.writeAttrs(this.levels);
  }

  /**
   * Creates an empty image: level 0 only (build the pyramid after writing), every chunk missing (reads as 0).
   * The folder is checked before anything is written: new, empty, or (with overwrite) an earlier image. Overwriting
   * replaces the image whole: its resolution levels and every label image go (they belong to the old pixels, and
   * labels of an old image must never stay attached to a new one); other files in the store are left alone.
   */
  static async create(path: string, spec: OmeImageSpec): Promise<OmeImage> {
    const version = spec.version ?? "0.4";
    const zarrFormat = version === "0.5" ? 3 : 2;
    if (!spec.channels.length) throw new VolumeError("an image needs at least one channel", { path, field: "channels" });
    if (!spec.timePointsH.length) throw new VolumeError("an image needs at least one time point", { path, field: "timePointsH" });
    if (spec.timePointsH.some((t) => !Number.isFinite(t)))
      throw new VolumeError("time points must be finite numbers of hours", { path, field: "timePointsH", got: JSON.stringify(spec.timePointsH) });
    for (let i = 1; i < spec.timePointsH.length; i++)
      if (!(spec.timePointsH[i]! > spec.timePointsH[i - 1]!))
        throw new VolumeError("time points must increase", { path, field: "timePointsH", got: JSON.stringify(spec.timePointsH) });
    if (spec.voxelSizeUm.length !== 3 || spec.voxelSizeUm.some((v) => !(v > 0) || !Number.isFinite(v)))
      throw new VolumeError("voxel size must be positive", { path, field: "voxelSizeUm", expected: "three positive finite micrometre values", got: JSON.stringify(spec.voxelSizeUm) });
    const state = checkDatasetFolder(path, { overwrite: spec.overwrite });
    if (state === "dataset") {
      let group: { attrs: Record<string, unknown>; file: string } | null = null;
      try {
        group = readGroupAttrs(path);
      } catch {
        group = null; // a store of ours with unreadable metadata (a crash while it was written) may be replaced
      }
      if (group && !Array.isArray(omeBlock(group.attrs).ome.multiscales))
        throw new VolumeError("the output folder is a zarr group that is not an OME-Zarr image; nothing was written", {
          path: group.file,
          field: "multiscales",
          expected: "an earlier OME-Zarr image to overwrite, or a new or empty folder",
          got: "no multiscales",
        });
    }
    const name = spec.name ?? "operando-ct";
    const chunks = spec.chunksZYX ?? defaultChunks(spec.shapeZYX);
    try {
      if (state === "dataset") clearImage(path);
      // Group first: a store interrupted after this is recognisably ours (a zarr group) and can be overwritten.
      const attrs = imageAttrs(version, name, 1, spec.timePointsH, spec.voxelSizeUm, spec.channels, spec.experiment ?? {}, spec.dtype, spec.channels.map(() => null));
      writeGroup(path, zarrFormat, attrs);
      const arr = await ZarrArray.create(join(path, "0"), {
        shape: [spec.timePointsH.length, spec.channels.length, ...spec.shapeZYX],
        chunks: [1, 1, ...chunks],
        dtype: spec.dtype,
        codec: spec.codec,
        zarrFormat,
        dimensionNames: [...AXES],
        overwrite: true,
      });
      const layout: Layout = { axisIndex: { t: 0, c: 1, z: 2, y: 3, x: 4 }, voxelSizeUm: [...spec.voxelSizeUm], timeScaleH: timeStep(spec.timePointsH) };
      return new OmeImage(path, version, [arr], layout, [...spec.timePointsH], [...spec.channels], { ...(spec.experiment ?? {}) }, name, {}, spec.channels.map(() => null));
    } catch (e) {
      throw writeErrorOf(e, path);
    }
  }

  static async open(path: string, options: OpenOptions = {}): Promise<OmeImage> {
    const { attrs, file } = isRemote(path) ? await fetchGroupAttrs(path) : readGroupAttrs(path);
    const { ome, version } = omeBlock(attrs);
    const list = ome.multiscales as Multiscale[] | undefined;
    if (!Array.isArray(list) || !list.length)
      throw new VolumeError("not an OME-Zarr image", { path: file, field: "multiscales", expected: "a non-empty multiscales list in the group attributes" });
    const ms = list[0]!;
    const { levelArrays, timeCount } = await openLevels(path, file, ms);
    const own = (attrs["ssb-ct"] ?? {}) as { time_points_h?: unknown; experiment?: ExperimentMetadata; data_range?: unknown };
    const explicit = explicitTimeList(own.time_points_h, timeCount);
    if (!explicit && Array.isArray(own.time_points_h) && own.time_points_h.length === timeCount)
      throw new VolumeError("time points must be finite, increasing numbers of hours", { path: file, field: "ssb-ct.time_points_h", expected: `${timeCount} increasing finite numbers`, got: JSON.stringify(own.time_points_h) });
    const layout = parseLayout(file, ms, options, explicit || timeCount <= 1);
    const a0 = levelArrays[0]!;
    const times = explicit ? [...(own.time_points_h as number[])] : Array.from({ length: timeCount }, (_, i) => i * (timeCount > 1 ? layout.timeScaleH : 1));
    const nc = layout.axisIndex.c >= 0 ? a0.shape[layout.axisIndex.c]! : 1;
    const omero = ome.omero as { channels?: Array<{ label?: string }> } | undefined;
    const channels = Array.from({ length: nc }, (_, i) => omero?.channels?.[i]?.label ?? `channel-${i}`);
    return new OmeImage(path, version, levelArrays, layout, times, channels, own.experiment ?? {}, ms.name ?? "", options, readRanges(own.data_range, nc));
  }

  channelIndex(channel: string | number): number {
    const i = typeof channel === "number" ? channel : this.channels.indexOf(channel);
    if (!Number.isInteger(i) || i < 0 || i >= this.channels.length)
      throw new VolumeError("no such channel", { path: this.path, field: "channel", expected: this.channels.join(", "), got: String(channel) });
    return i;
  }

  /** Reads a 3D (z, y, x) volume, or a region of it, for one time point and channel. */
  async readVolume(t: number, channel: string | number, options: { selection?: Selection; level?: number; cache?: ChunkCache } = {}): Promise<NdArray> {
    return this.read3d(t, this.channelIndex(channel), options.selection, options.level ?? 0, options.cache);
  }

  /** Writes a 3D block with its origin at startZYX. */
  async writeVolume(t: number, channel: string | number, startZYX: readonly number[], data: NdArray): Promise<void> {
    const c = this.channelIndex(channel);
    await this.write3d(t, c, startZYX, data, 0);
    this.widenRange(c, data.data as ArrayLike<number>);
  }

  blocks(t: number, channel: string | number, options: { halo?: number | number[]; level?: number } = {}): AsyncGenerator<Block> {
    return this.blocks3d(t, this.channelIndex(channel), options.halo, options.level ?? 0);
  }

  private labelsPath(): string {
    return storeJoin(this.path, "labels");
  }

  async labelNames(): Promise<string[]> {
    if (isRemote(this.path)) {
      // A server cannot list folders: the labels group's own list is all there is.
      const group = await fetchGroupAttrs(this.labelsPath()).catch(() => null);
      const listed = group ? omeBlock(group.attrs).ome.labels : undefined;
      return Array.isArray(listed) ? (listed as string[]) : [];
    }
    if (!existsSync(this.labelsPath())) return [];
    const { attrs } = readGroupAttrs(this.labelsPath());
    const { ome } = omeBlock(attrs);
    // A name whose folder was removed (by hand, or by an interrupted rewrite) is not a label image any more.
    return Array.isArray(ome.labels) ? (ome.labels as string[]).filter((n) => existsSync(join(this.labelsPath(), n))) : [];
  }

  /**
   * Creates a label image (same t, z, y, x grid; one channel) under labels/<name>. Overwriting replaces the label
   * image whole (levels, extra arrays, completion record). `attributes` go on the level-0 array before any chunk
   * is written: a writer's job attribute (see completion.ts) makes the label image tracked from its first byte.
   */
  async createLabels(
    name: string,
    options: {
      dtype?: "uint8" | "uint16" | "uint32";
      classes?: LabelClass[];
      chunksZYX?: [number, number, number];
      overwrite?: boolean;
      codec?: CodecSpec;
      attributes?: Record<string, unknown>;
    } = {},
  ): Promise<LabelImage> {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name === "." || name === "..")
      throw new VolumeError("invalid label name", { path: this.path, field: "name", expected: "letters, digits, . _ -", got: name });
    const zarrFormat = this.version === "0.5" ? 3 : 2;
    const names = await this.labelNames();
    const lp = join(this.labelsPath(), name);
    if (names.includes(name) && !options.overwrite) throw new VolumeError("label image exists", { path: lp, expected: "a new name, or overwrite: true" });
    const a0 = this.array(0);
    const ax = this.layout.axisIndex;
    const chunks = options.chunksZYX ?? ([a0.chunks[ax.z]!, a0.chunks[ax.y]!, a0.chunks[ax.x]!] as [number, number, number]);
    try {
      // Whole: a stale level 1, probabilities array or completion record of the old label image must not survive.
      rmSync(lp, { recursive: true, force: true });
      const arr = await ZarrArray.create(join(lp, "0"), {
        shape: [this.timePointsH.length, 1, ...this.shapeZYX],
        chunks: [1, 1, ...chunks],
        dtype: options.dtype ?? "uint8",
        codec: options.codec ?? { name: "blosc", cname: "zstd", clevel: 5, shuffle: "byte" },
        zarrFormat,
        dimensionNames: [...AXES],
        attributes: options.attributes,
        overwrite: true,
      });
      const classes = options.classes ?? [];
      writeGroup(lp, zarrFormat, labelAttrs(this.version, name, 1, this.timePointsH, this.voxelSizeUm, classes));
      if (!names.includes(name)) names.push(name);
      writeGroup(this.labelsPath(), zarrFormat, wrapOme(this.version, { labels: names }));
      const layout: Layout = { axisIndex: { t: 0, c: 1, z: 2, y: 3, x: 4 }, voxelSizeUm: this.voxelSizeUm, timeScaleH: this.layout.timeScaleH };
      return new LabelImage(lp, this.version, [arr], layout, [...this.timePointsH], classes, name, this);
    } catch (e) {
      throw writeErrorOf(e, this.path);
    }
  }

  /**
   * Opens labels/<name> whatever its state (a resumed segmentation reads its own unfinished labels); readers of
   * results check `status()` / `assertReadable()`, as the analysis does.
   */
  async openLabels(name: string): Promise<LabelImage> {
    const lp = storeJoin(this.labelsPath(), name);
    if (!(await this.labelNames()).includes(name))
      throw new VolumeError("no such label image", { path: lp, expected: (await this.labelNames()).join(", ") || "(no labels)", got: name });
    return LabelImage.openAt(lp, this.timePointsH, { ...this.openOptions, source: this });
  }

  /** Rewrites the group metadata to list `levels` resolution levels (after buildPyramid wrote them). */
  async setLevels(levels: number): Promise<void> {
    this.writeAttrs(levels);
    this.levelArrays.length = 0;
    for (let k = 0; k < levels; k++) this.levelArrays.push(await ZarrArray.open(join(this.path, String(k))));
  }
}

export class LabelImage extends MultiscaleVolume {
  constructor(
    path: string,
    version: OmeVersion,
    levelArrays: ZarrArray[],
    layout: Layout,
    timePointsH: number[],
    readonly classes: LabelClass[],
    readonly name: string,
    /** The image the labels belong to (known when opened through it): what staleness is checked against. */
    private readonly source?: OmeImage,
  ) {
    super(path, version, levelArrays, layout, timePointsH);
  }

  static async openAt(path: string, timePointsH?: number[], options: OpenOptions & { source?: OmeImage } = {}): Promise<LabelImage> {
    const { attrs, file } = isRemote(path) ? await fetchGroupAttrs(path) : readGroupAttrs(path);
    const { ome, version } = omeBlock(attrs);
    const ms = (ome.multiscales as Multiscale[] | undefined)?.[0];
    if (!ms) throw new VolumeError("label image has no multiscales", { path: file, field: "multiscales" });
    const { levelArrays, timeCount } = await openLevels(path, file, ms);
    // Opened on its own (no image times given): our own list of the acquisition times, when the label image has it.
    const own = (attrs["ssb-ct"] as { time_points_h?: unknown } | undefined)?.time_points_h;
    if (!(timePointsH && timePointsH.length === timeCount) && explicitTimeList(own, timeCount)) timePointsH = [...own];
    const layout = parseLayout(file, ms, options, timeCount <= 1 || timePointsH?.length === timeCount);
    const il = (ome["image-label"] ?? {}) as { properties?: Array<Record<string, unknown>>; colors?: Array<{ "label-value": number; rgba: [number, number, number, number] }> };
    const classes: LabelClass[] = (il.properties ?? []).map((p) => {
      const value = Number(p["label-value"]);
      const color = il.colors?.find((c) => c["label-value"] === value)?.rgba;
      return { value, name: String(p.class ?? p.name ?? value), ...(color ? { color } : {}) };
    });
    const nt = timeCount;
    const times = timePointsH && timePointsH.length === nt ? timePointsH : Array.from({ length: nt }, (_, i) => i * (nt > 1 ? layout.timeScaleH : 1));
    return new LabelImage(path, version, levelArrays, layout, times, classes, ms.name ?? "", options.source);
  }

  /**
   * Whether the labels can be read as a result: complete, incomplete (a tracked writer has not finished), stale
   * (computed from another image than the one they are attached to), or untracked (no writer's job recorded).
   */
  status(): LabelStatus {
    return labelStatus(this.path, this.array(0), this.source);
  }

  /** Throws IncompleteLabelsError (unless allowIncomplete) or StaleLabelsError, naming this label image. */
  assertReadable(options: { allowIncomplete?: boolean } = {}): void {
    assertLabelsReadable(this.name || this.path, this.path, this.status(), options);
  }

  /** Value of a class by name. */
  classValue(name: string): number {
    const c = this.classes.find((k) => k.name === name);
    if (!c) throw new VolumeError("no such label class", { path: this.path, field: "class", expected: this.classes.map((k) => k.name).join(", "), got: name });
    return c.value;
  }

  async readVolume(t: number, options: { selection?: Selection; level?: number } = {}): Promise<NdArray> {
    return this.read3d(t, 0, options.selection, options.level ?? 0);
  }

  async writeVolume(t: number, startZYX: readonly number[], data: NdArray): Promise<void> {
    return this.write3d(t, 0, startZYX, data, 0);
  }

  blocks(t: number, options: { halo?: number | number[]; level?: number } = {}): AsyncGenerator<Block> {
    return this.blocks3d(t, 0, options.halo, options.level ?? 0);
  }

  async setLevels(levels: number): Promise<void> {
    const zarrFormat = this.version === "0.5" ? 3 : 2;
    writeGroup(this.path, zarrFormat, labelAttrs(this.version, this.name, levels, this.timePointsH, this.voxelSizeUm, this.classes));
    this.levelArrays.length = 0;
    for (let k = 0; k < levels; k++) this.levelArrays.push(await ZarrArray.open(join(this.path, String(k))));
  }
}

/** Opens the level arrays a multiscale lists; checks rank against the axes; returns the time axis length. */
async function openLevels(path: string, file: string, ms: Multiscale): Promise<{ levelArrays: ZarrArray[]; timeCount: number }> {
  if (!Array.isArray(ms.axes)) throw new VolumeError("OME-Zarr multiscales has no axes", { path: file, field: "multiscales[0].axes", expected: "an array of {name, type, unit}" });
  if (!Array.isArray(ms.datasets) || !ms.datasets.length)
    throw new VolumeError("OME-Zarr multiscales has no datasets", { path: file, field: "multiscales[0].datasets", expected: "a non-empty list of {path, coordinateTransformations}" });
  const levelArrays: ZarrArray[] = [];
  for (const [k, ds] of ms.datasets.entries()) {
    if (typeof ds?.path !== "string" || !isLocalName(ds.path))
      throw new VolumeError("OME-Zarr dataset path is not a folder of this store", { path: file, field: `multiscales[0].datasets[${k}].path`, expected: "a relative folder name such as 0", got: JSON.stringify(ds?.path) });
    levelArrays.push(await ZarrArray.open(storeJoin(path, ds.path)));
  }
  const a0 = levelArrays[0]!;
  if (a0.ndim !== ms.axes.length)
    throw new VolumeError("array rank does not match the OME axes", { path: a0.path, expected: `${ms.axes.length} dimensions`, got: String(a0.ndim) });
  const t = ms.axes.findIndex((a) => (typeof a === "string" ? a : a?.name) === "t");
  return { levelArrays, timeCount: t >= 0 ? a0.shape[t]! : 1 };
}

/** A path segment that stays inside the store (what may be removed when the image is replaced). */
function isLocalName(p: string): boolean {
  return p.split("/").every((seg) => seg !== "" && seg !== "." && seg !== ".." && /^[A-Za-z0-9._-]+$/.test(seg));
}

/**
 * Removes what belongs to an image that is being replaced: its resolution levels (those its metadata lists and any
 * numbered folder), its label images and consolidated metadata. Other files of the store stay.
 */
function clearImage(path: string): void {
  const listed: string[] = [];
  try {
    const ms = (omeBlock(readGroupAttrs(path).attrs).ome.multiscales as Multiscale[] | undefined)?.[0];
    for (const ds of ms?.datasets ?? []) if (typeof ds?.path === "string" && isLocalName(ds.path)) listed.push(ds.path.split("/")[0]!);
  } catch {
    /* unreadable metadata: the numbered folders below are still removed */
  }
  const numbered = readdirSync(path).filter((n) => /^\d+$/.test(n));
  for (const n of new Set([...listed, ...numbered, "labels", ".zmetadata"])) rmSync(join(path, n), { recursive: true, force: true });
}

function imageAttrs(
  version: OmeVersion,
  name: string,
  levels: number,
  times: number[],
  voxel: number[],
  channels: string[],
  experiment: ExperimentMetadata,
  dtype: DataType,
  ranges: ChannelRange[],
): Record<string, unknown> {
  const omero = {
    name,
    channels: channels.map((label, i) => ({ label, color: "FFFFFF", active: true, window: windowOf(dtype, ranges[i] ?? null) })),
    rdefs: { model: "greyscale" },
  };
  const note = timeAxisNote(times);
  return wrapOme(
    version,
    { multiscales: [multiscaleFor(version, name, levels, times, voxel, "mean")], omero },
    {
      "ssb-ct": {
        version: 1,
        time_points_h: times,
        ...(note ? { time_axis: note } : {}),
        voxel_size_um: voxel,
        channels,
        // Range of the values written per channel (level 0): what the omero windows are; null = none written yet.
        data_range: ranges,
        experiment,
      },
    },
  );
}

function labelAttrs(version: OmeVersion, name: string, levels: number, times: number[], voxel: number[], classes: LabelClass[]): Record<string, unknown> {
  // NGFF 0.4: colors and properties, when present, hold at least one entry (an empty list fails the schema).
  const colors = classes.filter((c) => c.color).map((c) => ({ "label-value": c.value, rgba: c.color }));
  const il: Record<string, unknown> = {
    ...(colors.length ? { colors } : {}),
    ...(classes.length ? { properties: classes.map((c) => ({ "label-value": c.value, class: c.name })) } : {}),
    source: { image: "../../" },
  };
  if (version === "0.4") il.version = "0.4";
  const note = timeAxisNote(times);
  return wrapOme(
    version,
    { multiscales: [multiscaleFor(version, name, levels, times, voxel, "mode")], "image-label": il },
    { "ssb-ct": { time_points_h: times, ...(note ? { time_axis: note } : {}) } },
  );
}

/** 64^3 chunks (512 KiB at 16 bit): big enough for fast codecs, small enough for bounded-memory blocks. */
function defaultChunks(shape: [number, number, number]): [number, number, number] {
  return shape.map((s) => Math.max(1, Math.min(64, s))) as [number, number, number];
}
