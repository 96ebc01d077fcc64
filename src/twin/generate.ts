/**
 * Writes the twin's dataset: an OME-Zarr image (t, c = absorption/phase, z, y, x) with labels/material and
 * labels/segmentation, written chunk by chunk (memory bounded by one block plus its margin), and next to the
 * arrays, inside the store: twin-manifest.json (every parameter, seed and true value), twin-electrochem.json
 * (voltage curves, impedance spectra, DC polarisation) and twin-xas.json (reference and measured spectra).
 *
 * Safe to rerun into the same store, never two at once: the folder is checked before a byte is written (new, empty
 * or an earlier image), the store's writer lock is held throughout (a second writer fails naming the holder), the
 * manifest (the store's completion mark, which readers test) is removed first and written last, and replacing the
 * image removes every label image of the old one (labels/unet of the old volume must not stay on the new one).
 * The twin's own label images are tracked: each gets a completion record with the identity of the image, last.
 */
import { VolumeError } from "../util/errors.js";
import { classRgba, type Rgba } from "../util/class-colours.js";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { jsonIdentity } from "../util/identity.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { createProgress, type ProgressSink } from "../util/progress.js";
import { chunkCount, imageIdentity, removeCompletion, writeCompletion } from "../volume/completion.js";
import { lockDataset } from "../volume/dataset-lock.js";
import { assertNoLiveShards, beginShard, clearShardRecords, type ShardSession } from "../volume/shard-writer.js";
import { checkShard, isSharded, shardItems, type Shard } from "../util/shard.js";
import { runTasks } from "../parallel/pool.js";
import type { TwinRenderInit, TwinRenderResult, TwinRenderTask } from "./render-task.js";
import { checkDatasetFolder, writeErrorOf } from "../volume/output-folder.js";
import { buildPyramid, OmeImage, type CodecSpec, type LabelImage } from "../volume/index.js";
import { blockingSpectrum, cellResistances, cellSpectrum, dcPolarisation, voltageCurve, type CellResistances } from "./cell.js";
import { LI_UM_PER_MAH_CM2 } from "../numerics/constants.js";
import { chargeState, GLASS_UM_PER_mAh_cm2, PRODUCT_UM_PER_mAh_cm2, type ChargeState } from "./history.js";
import type { Box } from "./imaging.js";
import { buildCellModel, depositRadii, depthOfLayer, targetVoidFraction, type CellModel } from "./microstructure.js";
import { Material, MATERIAL_COUNT, MATERIAL_NAMES, materialOptics, SegClass } from "./optics.js";
import { ctTimes_h, type TwinParameters } from "./params.js";
import { xasDataset } from "./xas.js";

export const MANIFEST_FILE = "twin-manifest.json";
export const ELECTROCHEM_FILE = "twin-electrochem.json";
export const XAS_FILE = "twin-xas.json";

/** The project's class colours (src/util/class-colours.ts) as OME-NGFF image-label colors: viewers and figures agree. */
const RGBA = {
  electrolyte: classRgba("electrolyte"),
  void: classRgba("void"),
  lithium: classRgba("lithium"),
  electrode: classRgba("electrode"),
  interphase: classRgba("interphase"),
};
/** Colour of each material code (index = code, see MATERIAL_NAMES): Li3PS4 as electrolyte, every plated Li as lithium. */
const MATERIAL_RGBA: readonly Rgba[] = [[0, 0, 0, 0], RGBA.electrolyte, RGBA.interphase, RGBA.electrode, RGBA.lithium, RGBA.lithium, RGBA.electrode, RGBA.void];
/** The label image's classes: every material code but 0, which no voxel holds. */
export const MATERIAL_CLASSES = MATERIAL_NAMES.map((name, value) => ({ value, name, color: MATERIAL_RGBA[value] ?? RGBA.void })).filter((c) => c.value !== 0);
export const SEGMENTATION_CLASSES = [
  { value: SegClass.electrolyte, name: "electrolyte", color: RGBA.electrolyte },
  { value: SegClass.void, name: "void", color: RGBA.void },
  { value: SegClass.lithium, name: "lithium", color: RGBA.lithium },
];

export interface VoidBin {
  depthLo_um: number;
  depthHi_um: number;
  targetFraction: number;
  /** Counted void fraction of the bin's volume. */
  fraction: number;
}

export interface TimePointTruth {
  time_h: number;
  charge: ChargeState;
  /** Voxel counts per material code (index = code). */
  materialVoxels: number[];
  /** Volumes from the voxel counts, um3. */
  platedLi_um3: number;
  depositLi_um3: number;
  lithium_um3: number;
  interphase_um3: number;
  void_um3: number;
  /** Faraday's-law volume of all charge passed as dense Li over the field of view, um3. */
  faradayLi_um3: number;
  /** Charge recovered from the voxel counts, mAh/cm2: Li (4.85 um per mAh/cm2) + decomposition (products). */
  voxelCharge_mAh_cm2: { lithium: number; decomposition: number; total: number };
  depositRadii_um: number[];
  voidByDepth: VoidBin[];
  circuit: CellResistances;
}

export interface TwinManifest {
  format: "ssb-ct-twin";
  version: 1;
  preset: string;
  seed: number;
  parameters: TwinParameters;
  shapeZYX: [number, number, number];
  voxel_um: number;
  footprint_um2: number;
  /** Electrode area whose deposit charge the deposits in view carry, um2 (see history.depositsPer_mm2). */
  depositFootprint_um2: number;
  interface_um: number;
  bottom_um: number;
  short_h: number;
  times_h: number[];
  constants: { li_um_per_mAh_cm2: number; glass_um_per_mAh_cm2: number; product_um_per_mAh_cm2: number };
  channels: { absorption: string; phase: string };
  optics: { energy_keV: number; delta: Record<string, number>; mu_per_cm: Record<string, number> };
  labels: { material: typeof MATERIAL_CLASSES; segmentation: typeof SEGMENTATION_CLASSES };
  voids: { count: number; spheres: number };
  deposits: Array<{ nucleus_um: { z: number; y: number; x: number }; voidIndex: number; share: number; shorting: boolean }>;
  timePoints: TimePointTruth[];
  files: { electrochemistry: string; xas: string };
  electrochemistry: { ionicConductivity_S_cm: number; electronicConductivity_S_cm: number; blockingR0_ohm: number };
  xas: { decompositionFraction: number; probeDepth_um: number };
}

export interface GenerateOptions {
  overwrite?: boolean;
  /** false: silent; a sink: custom progress; default: the terminal bar. */
  progress?: false | ProgressSink;
  codec?: CodecSpec;
  /** Resolution levels to write (1: full resolution only; more: 2x mean/mode pyramids for viewers). */
  pyramidLevels?: number;
  /**
   * Part i of n of the job (`--shard i/n`): only its blocks are rendered; the last shard to finish writes the
   * manifest and the other metadata (see volume/shard-writer.ts). The store is byte-identical to an unsharded run's.
   */
  shard?: Shard;
  /** Worker threads rendering blocks (0 or 1: this thread; default: one per core). Output does not depend on it. */
  threads?: number;
  /**
   * Ctrl-C: no block is started after it, those in flight finish, and the call throws before the manifest (the
   * store's completion mark) is written, so the store reads as unfinished and the same call completes it.
   */
  signal?: AbortSignal;
}

export interface GenerateResult {
  manifest: TwinManifest;
  path: string;
  /** Blocks (one block of one time point) this call rendered. */
  blocks: number;
  seconds: number;
}

/** Result of one shard: the manifest only from the shard that finished the store (the last one done). */
export interface ShardGenerateResult extends Omit<GenerateResult, "manifest"> {
  manifest: TwinManifest | null;
  shard: Shard;
  /** Whether this shard found every shard done and wrote the manifest (the store is complete). */
  finalised: boolean;
}

/** What a part of the job (the whole, or a shard) found in its blocks; summed over parts by finaliseTwin. */
interface TwinPartial {
  /** Per time index: voxels of each material per layer, [k * MATERIAL_COUNT + code]. */
  layerCounts: number[][];
  /** Per channel (absorption, phase): [lo, hi] of the values written, null when none. */
  ranges: ([number, number] | null)[];
}

function voidProfile(m: CellModel, layerCounts: Float64Array): VoidBin[] {
  const p = m.params;
  const [nz, ny, nx] = m.shapeZYX;
  const w = p.voids.binWidth_um;
  const nb = Math.ceil(p.geometry.electrolyte_um / w);
  const voids = new Float64Array(nb);
  const layers = new Float64Array(nb);
  for (let k = 0; k < nz; k++) {
    const d = depthOfLayer(m, k);
    if (d < 0 || d >= p.geometry.electrolyte_um) continue;
    const b = Math.floor(d / w);
    layers[b]! += 1;
    voids[b]! += layerCounts[k * MATERIAL_COUNT + Material.void]!;
  }
  return Array.from({ length: nb }, (_, b) => ({
    depthLo_um: b * w,
    depthHi_um: Math.min((b + 1) * w, p.geometry.electrolyte_um),
    targetFraction: targetVoidFraction(p, (b + 0.5) * w),
    fraction: layers[b]! ? voids[b]! / (layers[b]! * ny * nx) : 0,
  }));
}

function toJson(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v === Infinity ? "Infinity" : v));
}

/** Level-0 attribute of the twin's label images: what wrote them (see volume/completion.ts). */
export const TWIN_JOB_ATTR = "ssb-ct-twin";

/**
 * Generates the whole dataset at `path` (an .ome.zarr folder). Refuses, before writing, a path that is a file,
 * "", a folder holding anything but an earlier image, an earlier image without `overwrite`, and a store another
 * process is writing (naming it). With `shard`, renders only that part (see GenerateOptions.shard).
 */
export async function generateTwin(p: TwinParameters, path: string, options?: GenerateOptions & { shard?: undefined }): Promise<GenerateResult>;
export async function generateTwin(p: TwinParameters, path: string, options: GenerateOptions): Promise<GenerateResult | ShardGenerateResult>;
export async function generateTwin(p: TwinParameters, path: string, options: GenerateOptions = {}): Promise<GenerateResult | ShardGenerateResult> {
  const shard = checkShard(options.shard);
  if (isSharded(shard)) return generateShard(p, path, options, shard);
  checkDatasetFolder(path, { overwrite: options.overwrite });
  let release: () => void = () => {};
  try {
    release = lockDataset(path, "twin generation");
    // Shards of a job (this content or another) may be running without the store lock: refuse as for a writer.
    assertNoLiveShards(path, "twin generation");
    const t0 = performance.now();
    // The manifest marks a finished store (readers look for it): gone before the first byte of the new dataset.
    rmSync(join(path, MANIFEST_FILE), { force: true });
    await createTwinStore(p, path, options);
    // Shard records of an earlier sharded run describe a store that is being replaced.
    clearShardRecords(path);
    const tasks = twinTasks(p);
    const partial = await renderTwin(p, path, tasks, options);
    if (options.signal?.aborted)
      throw new VolumeError("twin generation interrupted; run it again with the same parameters to finish it", { path, got: "stopped between two blocks" }, { cause: options.signal.reason });
    const manifest = await finaliseTwin(p, path, [partial], options);
    return { manifest, path, blocks: tasks.length, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    throw writeErrorOf(e, path);
  } finally {
    release();
  }
}

/** The twin's label images (each created by createTwinStore, completed by finaliseTwin). */
const TWIN_LABELS = ["material", "segmentation"] as const;

async function generateShard(p: TwinParameters, path: string, options: GenerateOptions, shard: Shard): Promise<ShardGenerateResult> {
  const t0 = performance.now();
  const identity = jsonIdentity({ job: "twin", parameters: p, codec: codecOf(options), levels: options.pyramidLevels ?? 1 });
  let session: ShardSession<TwinPartial> | null = null;
  // Where the store may go (not "", not a file, not a folder of other things) before the lock folder is made in
  // it; whether an earlier image may be replaced is decided by the first shard (OmeImage.create, with overwrite).
  checkDatasetFolder(path, { overwrite: true });
  try {
    session = await beginShard<TwinPartial>(path, { name: "twin", identity, shard, purpose: "twin generation" }, async (fresh) => {
      rmSync(join(path, MANIFEST_FILE), { force: true });
      if (fresh) await createTwinStore(p, path, options);
      else for (const name of TWIN_LABELS) removeCompletion(join(path, "labels", name));
    });
    const tasks = shardItems(twinTasks(p), shard);
    const partial = await renderTwin(p, path, tasks, options);
    let manifest: TwinManifest | null = null;
    const finalised = await session.finish(partial, async (parts) => {
      manifest = await finaliseTwin(p, path, parts, options);
    });
    return { manifest, path, blocks: tasks.length, seconds: (performance.now() - t0) / 1000, shard, finalised };
  } catch (e) {
    throw writeErrorOf(e, path);
  } finally {
    session?.release();
  }
}

function codecOf(options: GenerateOptions): CodecSpec {
  return options.codec ?? { name: "blosc", cname: "lz4", clevel: 5, shuffle: "byte" };
}

function twinChunks(p: TwinParameters, shapeZYX: readonly number[]): [number, number, number] {
  const ch = p.ct.chunk;
  return [Math.min(ch, shapeZYX[0]!), Math.min(ch, shapeZYX[1]!), Math.min(ch, shapeZYX[2]!)];
}

/** The job's work items in a fixed order (time-major, then chunk-aligned boxes in z, y, x): shards split this list. */
function twinTasks(p: TwinParameters): TwinRenderTask[] {
  const shape = twinShape(p);
  const [nz, ny, nx] = shape;
  const chunks = twinChunks(p, shape);
  const boxes: Box[] = [];
  for (let z = 0; z < nz; z += chunks[0])
    for (let y = 0; y < ny; y += chunks[1])
      for (let x = 0; x < nx; x += chunks[2]) boxes.push([z, Math.min(nz, z + chunks[0]), y, Math.min(ny, y + chunks[1]), x, Math.min(nx, x + chunks[2])]);
  return ctTimes_h(p).flatMap((time_h, ti) => boxes.map((box) => ({ ti, time_h, box })));
}

function twinShape(p: TwinParameters): [number, number, number] {
  const g = p.geometry;
  // As buildCellModel (checked there): the layers of both electrodes and the electrolyte, at the voxel size.
  return [Math.round((g.topLi_um + g.electrolyte_um + g.bottomLi_um) / g.voxel_um), g.nyx[0], g.nyx[1]];
}

/** Creates the image and the two label images, empty (every chunk missing), with the job attribute on the labels. */
async function createTwinStore(p: TwinParameters, path: string, options: GenerateOptions): Promise<void> {
  const times = ctTimes_h(p);
  const [nz, ny, nx] = twinShape(p);
  const h = p.geometry.voxel_um;
  const chunks = twinChunks(p, [nz, ny, nx]);
  const img = await OmeImage.create(path, {
    channels: ["absorption", "phase"],
    timePointsH: times,
    shapeZYX: [nz, ny, nx],
    voxelSizeUm: [h, h, h],
    dtype: "float32",
    chunksZYX: chunks,
    codec: codecOf(options),
    name: `ssb-ct twin (${p.preset})`,
    experiment: {
      currentDensity_mA_cm2: p.history.current_mA_cm2,
      electrodeArea_cm2: p.cell.electrodeArea_cm2,
      xrayEnergy_keV: p.ct.energy_keV,
      platingElectrode: "top",
      description: "Digital twin of operando Li/Li3PS4/Li CT (Park et al., Chem. Commun. 2023). absorption: mu_total in 1/cm; phase: delta x 1e6 with Zernike halo.",
      twin: { preset: p.preset, seed: p.seed, manifest: MANIFEST_FILE },
    },
    overwrite: options.overwrite,
  });
  const labelOptions = { dtype: "uint8" as const, chunksZYX: chunks, overwrite: options.overwrite, attributes: { [TWIN_JOB_ATTR]: twinJob(p) } };
  await img.createLabels("material", { ...labelOptions, classes: MATERIAL_CLASSES });
  await img.createLabels("segmentation", { ...labelOptions, classes: SEGMENTATION_CLASSES });
}

function twinJob(p: TwinParameters): { preset: string; seed: number; parameters: string } {
  return { preset: p.preset, seed: p.seed, parameters: jsonIdentity(p) };
}

/** Renders and writes `tasks` (on worker threads when there are several) and returns what the manifest needs of them. */
async function renderTwin(p: TwinParameters, path: string, tasks: TwinRenderTask[], options: GenerateOptions): Promise<TwinPartial> {
  const [nz] = twinShape(p);
  const times = ctTimes_h(p);
  const layerCounts = times.map(() => new Array<number>(nz * MATERIAL_COUNT).fill(0));
  const ranges: [number, number][] = [
    [Infinity, -Infinity],
    [Infinity, -Infinity],
  ];
  const progress = createProgress(`twin ${p.preset}`, tasks.length, { unit: "blocks", sink: options.progress });
  await runTasks<TwinRenderInit, TwinRenderTask, TwinRenderResult>(
    "twin",
    { params: p, path },
    tasks,
    (r) => {
      const lc = layerCounts[r.ti]!;
      const base = r.z0 * MATERIAL_COUNT;
      for (let q = 0; q < r.counts.length; q++) lc[base + q]! += r.counts[q]!;
      for (let c = 0; c < 2; c++) {
        const rg = ranges[c]!;
        rg[0] = Math.min(rg[0], r.ranges[2 * c]!);
        rg[1] = Math.max(rg[1], r.ranges[2 * c + 1]!);
      }
      progress.tick();
    },
    { threads: options.threads, ...(options.signal ? { signal: options.signal } : {}) },
  );
  progress.finish();
  return { layerCounts, ranges: ranges.map((r) => (r[0] <= r[1] ? r : null)) };
}

/**
 * Writes what needs every block: the channels' value ranges, the pyramid, the electrochemistry and XAS files, the
 * labels' completion records and, last, the manifest (the store's completion mark). Counts are integers summed
 * exactly, so any split of the blocks gives the same bytes.
 */
async function finaliseTwin(p: TwinParameters, path: string, parts: TwinPartial[], options: GenerateOptions): Promise<TwinManifest> {
  const m = buildCellModel(p);
  const times = ctTimes_h(p);
  const [nz, ny, nx] = m.shapeZYX;
  const h = m.voxel_um;
  const img = await OmeImage.open(path);
  const ranges = [0, 1].map((c) => {
    const rs = parts.map((pt) => pt.ranges[c] ?? null).filter((r): r is [number, number] => r !== null);
    return rs.length ? ([Math.min(...rs.map((r) => r[0])), Math.max(...rs.map((r) => r[1]))] as [number, number]) : null;
  });
  img.recordDataRanges(ranges);
  const matLab = await img.openLabels("material");
  const segLab = await img.openLabels("segmentation");
  const truths: TimePointTruth[] = [];
  for (let ti = 0; ti < times.length; ti++) {
    const t = times[ti]!;
    const radii = depositRadii(m, t);
    const layerCounts = new Float64Array(nz * MATERIAL_COUNT);
    for (const pt of parts) {
      const lc = pt.layerCounts[ti]!;
      for (let q = 0; q < layerCounts.length; q++) layerCounts[q]! += lc[q]!;
    }
    const counts = new Array<number>(MATERIAL_COUNT).fill(0);
    for (let k = 0; k < nz; k++) for (let c = 0; c < MATERIAL_COUNT; c++) counts[c]! += layerCounts[k * MATERIAL_COUNT + c]!;
    const v = h ** 3;
    const plated = counts[Material.liPlated]! * v;
    const deposit = counts[Material.liDeposit]! * v;
    const inter = counts[Material.interphase]! * v;
    const qLi = (plated + deposit) / m.footprint_um2 / LI_UM_PER_MAH_CM2;
    const qDec = inter / m.footprint_um2 / PRODUCT_UM_PER_mAh_cm2;
    const charge = chargeState(p, t);
    truths.push({
      time_h: t,
      charge,
      materialVoxels: counts,
      platedLi_um3: plated,
      depositLi_um3: deposit,
      lithium_um3: plated + deposit,
      interphase_um3: inter,
      void_um3: counts[Material.void]! * v,
      faradayLi_um3: charge.faradayLi_um * m.footprint_um2,
      voxelCharge_mAh_cm2: { lithium: qLi, decomposition: qDec, total: qLi + qDec },
      depositRadii_um: Array.from(radii),
      voidByDepth: voidProfile(m, layerCounts),
      circuit: cellResistances(p, t),
    });
  }
  const levels = options.pyramidLevels ?? 1;
  if (levels > 1) {
    const quiet = options.progress === false ? { sink: false as const } : {};
    const threads = options.threads;
    await buildPyramid(img, { levels, method: "mean", progress: quiet, threads });
    await buildPyramid(matLab, { levels, method: "mode", progress: quiet, threads });
    await buildPyramid(segLab, { levels, method: "mode", progress: quiet, threads });
  }
  const opt = materialOptics(p.ct.energy_keV);
  const named = (a: Float64Array) => Object.fromEntries(MATERIAL_CLASSES.map((c) => [c.name, a[c.value] ?? NaN]));
  const blocking = blockingSpectrum(p);
  const xas = xasDataset(p);
  const manifest: TwinManifest = {
    format: "ssb-ct-twin",
    version: 1,
    preset: p.preset,
    seed: p.seed,
    parameters: p,
    shapeZYX: [nz, ny, nx],
    voxel_um: h,
    footprint_um2: m.footprint_um2,
    depositFootprint_um2: m.depositFootprint_um2,
    interface_um: m.interface_um,
    bottom_um: m.bottom_um,
    short_h: m.short_h,
    times_h: times,
    constants: { li_um_per_mAh_cm2: LI_UM_PER_MAH_CM2, glass_um_per_mAh_cm2: GLASS_UM_PER_mAh_cm2, product_um_per_mAh_cm2: PRODUCT_UM_PER_mAh_cm2 },
    channels: { absorption: "linear attenuation mu_total, 1/cm", phase: "refractive index decrement delta x 1e6 (Zernike, with halo)" },
    optics: { energy_keV: p.ct.energy_keV, delta: named(opt.delta), mu_per_cm: named(opt.mu_per_cm) },
    labels: { material: MATERIAL_CLASSES, segmentation: SEGMENTATION_CLASSES },
    voids: { count: m.voids.length, spheres: m.voids.reduce((a, vd) => a + vd.spheres.length, 0) },
    deposits: m.deposits.map((d) => ({ nucleus_um: { z: d.nucleus.z_um, y: d.nucleus.y_um, x: d.nucleus.x_um }, voidIndex: d.voidIndex, share: d.share, shorting: d.shorting })),
    timePoints: truths,
    files: { electrochemistry: ELECTROCHEM_FILE, xas: XAS_FILE },
    electrochemistry: {
      ionicConductivity_S_cm: p.cell.ionicConductivity_S_cm,
      electronicConductivity_S_cm: p.cell.electronicConductivity_S_cm,
      blockingR0_ohm: blocking.params.R0!,
    },
    xas: { decompositionFraction: xas.decompositionFraction, probeDepth_um: p.xas.probeDepth_um },
  };
  const electrochem = {
    voltage: voltageCurve(p),
    screening: p.cell.screeningCurrents_mA_cm2.map((j) => voltageCurve(p, j)),
    impedance: times.map((t) => cellSpectrum(p, t)),
    blocking,
    dcPolarisation: dcPolarisation(p),
  };
  writeFileAtomic(join(path, ELECTROCHEM_FILE), toJson(electrochem));
  writeFileAtomic(join(path, XAS_FILE), toJson(xas));
  const image = imageIdentity(img);
  for (const lab of [matLab, segLab] as LabelImage[]) writeCompletion(lab.path, { job: twinJob(p), image, chunks: chunkCount(lab.array(0)).total });
  writeFileAtomic(join(path, MANIFEST_FILE), JSON.stringify(manifest, null, 1), { fsync: true });
  return manifest;
}
