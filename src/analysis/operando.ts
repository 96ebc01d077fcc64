/**
 * Whole operando analysis of a segmented OME-Zarr label image, streaming over its chunks: interface per time point,
 * void profile and void components of the reference (pristine) volume, and per time point the layer porosity, the
 * lithium volume against Faraday's law, new lithium components (nucleation) and a short-circuit check.
 *
 * Memory: one block per open time point (at most three: t, t-1, probabilities), per-column interface maps (Y * X),
 * the depth census (a few numbers per depth bin) and the component tables. Nothing grows with the volume beyond
 * the outputs and the per-column maps.
 */
import { ParameterError, VolumeError } from "../util/errors.js";
import { createProgress, type ProgressSink } from "../util/progress.js";
import type { Block, NdArray, Selection, TypedArray } from "../volume/index.js";
import { checkLabelsReadable, type LabelStatusSource } from "./adapters.js";
import { accumulateCensus, createCensus, type ClassSpec } from "./census.js";
import { ComponentLabeller, type Connectivity } from "./components.js";
import { arealCapacity_mAh_cm2, faradayThickness_um, UM2_PER_CM2 } from "./faraday.js";
import {
  accumulateInterface,
  checkVoxelSize,
  createInterfaceAccumulator,
  depthSpec,
  finishInterface,
  interfaceSummary,
  type InterfaceMap,
  type PlatingSide,
} from "./interface.js";
import { componentTable, layerComposition, sizeDistribution, voidProfile } from "./measures.js";
import type { ResultTable } from "./table.js";

/** What the analysis needs of a label image; `LabelImage` from the volume store fits (its status is checked first). */
export interface LabelSource extends LabelStatusSource {
  readonly shapeZYX: [number, number, number];
  readonly voxelSizeUm: [number, number, number];
  readonly timePointsH: number[];
  readonly classes: ReadonlyArray<{ value: number; name: string }>;
  blocks(t: number, options?: { halo?: number | number[] }): AsyncIterable<Block>;
  readVolume(t: number, options?: { selection?: Selection }): Promise<NdArray>;
}

/** The experiment fields the analysis reads (as `OmeImage.experiment` holds them). */
export interface ExperimentInfo {
  currentDensity_mA_cm2?: number;
  electrodeArea_cm2?: number;
  platingElectrode?: "top" | "bottom";
}

export interface OperandoOptions {
  experiment: ExperimentInfo;
  /** Connectivity of void and lithium components: always explicit. */
  connectivity: Connectivity;
  /** Depth bin width of the void profile, um. */
  binWidth_um: number;
  /** Class names of the three phases in the label image (defaults: electrolyte, void, lithium). */
  classNames?: { electrolyte?: string; void?: string; lithium?: string };
  /** Time index of the pristine reference volume (default 0): its interface is depth 0 at every time point. */
  referenceTime?: number;
  /** Lithium probability blocks per time index, on the label image's grid (probability-weighted volumes). */
  probabilities?: (t: number) => AsyncIterable<Block>;
  /** Radius within which the nearest pre-existing void of a new lithium component is searched, um (default 20). */
  voidSearchRadius_um?: number;
  /** Least share of columns with the electrode on the plating face (default 0.5). */
  minInterfaceCoverage?: number;
  /** Radius (columns) of the median filter on the interface map (default 1; 0 keeps the raw per-column interface). */
  interfaceMedianRadius?: number;
  progress?: ProgressSink | false;
  /**
   * Analyse a label image whose writer has not finished (an interrupted or failed segmentation: missing chunks
   * read as class 0). Default false: such a label image is refused by name. A stale one (computed from another
   * image) is always refused.
   */
  allowIncomplete?: boolean;
}

export interface OperandoResult {
  referenceInterface: InterfaceMap;
  /** Per time point: interface position and roughness. */
  interfaces: ResultTable;
  /** Void fraction vs depth of the reference volume (Fig. 1b). */
  voidProfile: ResultTable;
  /** Void components of the reference volume (volume, centroid, bbox, depth, surface). */
  voids: ResultTable;
  voidSizes: ResultTable;
  /** Per time point: porosity (Fig. S5), lithium volume vs Faraday (Fig. 2d), nucleation count, short circuit. */
  timeSeries: ResultTable;
  /** Lithium components new at a time point (no voxel was lithium at the previous time point). */
  nucleation: ResultTable;
  /** Lithium components in the layer at the last time point. */
  lithiumSizes: ResultTable;
  /** Facts the caller should know (missing metadata that left columns NaN). */
  notes: string[];
}

function resolveClass(src: LabelSource, name: string, role: string): number {
  const c = src.classes.find((k) => k.name === name);
  if (!c)
    throw new VolumeError(`label image has no ${role} class`, {
      field: "classes",
      expected: `a class named "${name}" (set options.classNames.${role} to map another name)`,
      got: src.classes.map((k) => `${k.value}:${k.name}`).join(", ") || "no declared classes",
    });
  return c.value;
}

async function* zip(
  main: AsyncIterable<Block>,
  others: Array<AsyncIterable<Block> | null>,
): AsyncGenerator<{ block: Block; others: Array<Block | null> }> {
  const its = others.map((o) => (o ? o[Symbol.asyncIterator]() : null));
  for await (const block of main) {
    const got: Array<Block | null> = [];
    for (const it of its) {
      if (!it) {
        got.push(null);
        continue;
      }
      const r = await it.next();
      if (r.done || JSON.stringify(r.value.core) !== JSON.stringify(block.core) || JSON.stringify(r.value.read) !== JSON.stringify(block.read))
        throw new VolumeError("paired volumes are not on the same block grid", {
          field: "blocks",
          expected: JSON.stringify(block.core),
          got: r.done ? "end of blocks" : JSON.stringify(r.value.core),
        });
      got.push(r.value);
    }
    yield { block, others: got };
  }
}

/** Distance (um) from a point (voxel index units) to the nearest voxel centre of `value` within `radius_um`. */
async function nearestValueDistance(
  src: LabelSource,
  t: number,
  value: number,
  point: [number, number, number],
  radius_um: number,
): Promise<number> {
  const v = src.voxelSizeUm;
  const sel: Selection = [0, 1, 2].map((a) => {
    const r = Math.ceil(radius_um / v[a]!);
    const c = Math.floor(point[a]!);
    return [Math.max(0, c - r), Math.min(src.shapeZYX[a]!, c + r + 1)] as [number, number];
  });
  const win = await src.readVolume(t, { selection: sel });
  const [nz, ny, nx] = win.shape as [number, number, number];
  let best = Infinity;
  const d = win.data;
  for (let z = 0; z < nz; z++) {
    const dz = (sel[0]![0] + z + 0.5 - point[0]) * v[0];
    for (let y = 0; y < ny; y++) {
      const dy = (sel[1]![0] + y + 0.5 - point[1]) * v[1];
      const base = (z * ny + y) * nx;
      for (let x = 0; x < nx; x++) {
        if (d[base + x] !== value) continue;
        const dx = (sel[2]![0] + x + 0.5 - point[2]) * v[2];
        const r2 = dz * dz + dy * dy + dx * dx;
        if (r2 < best) best = r2;
      }
    }
  }
  const dist = Math.sqrt(best);
  return dist <= radius_um ? dist : NaN;
}

export async function analyseOperando(src: LabelSource, options: OperandoOptions): Promise<OperandoResult> {
  // Before anything is read: an unfinished or stale label image gives numbers that look right and are not.
  const incomplete = checkLabelsReadable(src, options.allowIncomplete);
  checkVoxelSize(src.voxelSizeUm);
  const conn = options.connectivity;
  if (conn !== 6 && conn !== 18 && conn !== 26)
    throw new ParameterError("connectivity must be stated as 6, 18 or 26", { field: "connectivity", got: String(conn) });
  const names = { electrolyte: "electrolyte", void: "void", lithium: "lithium", ...options.classNames };
  const vElectrolyte = resolveClass(src, names.electrolyte, "electrolyte");
  const vVoid = resolveClass(src, names.void, "void");
  const vLi = resolveClass(src, names.lithium, "lithium");
  const plating = options.experiment.platingElectrode as PlatingSide | undefined;
  if (plating !== "top" && plating !== "bottom")
    throw new VolumeError("the depth axis cannot be identified: the plating electrode side is not in the metadata", {
      field: "experiment.platingElectrode",
      expected: '"top" (low z) or "bottom" (high z)',
      got: String(plating),
    });
  const classes: ClassSpec[] = src.classes.map((c) => ({ value: c.value, name: c.name }));
  const shape = src.shapeZYX;
  const vox = src.voxelSizeUm;
  const vv = vox[0] * vox[1] * vox[2];
  const nt = src.timePointsH.length;
  const ref = options.referenceTime ?? 0;
  if (!Number.isInteger(ref) || ref < 0 || ref >= nt)
    throw new ParameterError("reference time index out of range", { field: "referenceTime", expected: `0..${nt - 1}`, got: String(ref) });
  const notes: string[] = incomplete ? [incomplete] : [];
  const j = options.experiment.currentDensity_mA_cm2;
  const area = options.experiment.electrodeArea_cm2;
  if (j === undefined) notes.push("experiment.currentDensity_mA_cm2 missing: Faraday columns are NaN");
  if (area === undefined) notes.push("experiment.electrodeArea_cm2 missing: charge_mAh and whole-electrode Faraday volume are NaN");
  const radius = options.voidSearchRadius_um ?? 20;
  const progress = createProgress("operando analysis", nt + 1, { unit: "passes", sink: options.progress });
  const ifOpts = { plating, voxelSizeUm: vox, minCoverage: options.minInterfaceCoverage, medianRadius: options.interfaceMedianRadius };

  // Pass 1: the reference interface.
  const refAcc = createInterfaceAccumulator(shape, vLi);
  for await (const b of src.blocks(ref)) accumulateInterface(refAcc, b.core, b.read, b.data as NdArray<TypedArray>);
  const refMap = finishInterface(refAcc, ifOpts);
  progress.tick();
  const depth = depthSpec(refMap);

  const ifCols: ResultTable["columns"] = { time_h: [], interface_mean_um: [], interface_min_um: [], interface_max_um: [], interface_rms_roughness_um: [], interface_coverage_pct: [], counter_interface_found: [] };
  const ts: ResultTable["columns"] = {
    time_h: [],
    charge_mAh_cm2: [],
    charge_mAh: [],
    layer_volume_um3: [],
    void_volume_um3: [],
    electrolyte_volume_um3: [],
    porosity_pct: [],
    lithium_volume_um3: [],
    deposited_lithium_um3: [],
    lithium_probability_volume_um3: [],
    faraday_thickness_um: [],
    faraday_volume_fov_um3: [],
    faraday_volume_electrode_um3: [],
    deposited_to_faraday_ratio: [],
    new_lithium_components: [],
    short_circuit: [],
  };
  const nuc: ResultTable["columns"] = {
    time_h: [],
    label: [],
    volume_um3: [],
    min_depth_um: [],
    mean_depth_um: [],
    centroid_z_um: [],
    centroid_y_um: [],
    centroid_x_um: [],
    nearest_void_distance_um: [],
  };
  let voidsTable: ResultTable | null = null;
  let voidProfileTable: ResultTable | null = null;
  let lithiumSizes: ResultTable = sizeDistribution([], 5, "lithium_sizes");
  let refLithium = NaN;
  const fov_um2 = shape[1] * vox[1] * shape[2] * vox[2];

  // Reference first (its lithium is the baseline), then the others in time order.
  const order = [ref, ...Array.from({ length: nt }, (_, i) => i).filter((i) => i !== ref)];
  for (const t of order) {
    const prev = t > 0 ? t - 1 : -1;
    const census = createCensus(refMap, classes, options.binWidth_um, options.probabilities !== undefined);
    const acc = createInterfaceAccumulator(shape, vLi);
    const liLab = new ComponentLabeller(shape, {
      connectivity: conn,
      member: { value: vLi },
      properties: ["centroid", "bbox", "depth"],
      depth,
      overlap: prev >= 0 ? { value: vLi } : undefined,
    });
    const voidLab =
      t === ref ? new ComponentLabeller(shape, { connectivity: conn, member: { value: vVoid }, properties: ["centroid", "bbox", "depth", "surface"], depth }) : null;
    const others = [prev >= 0 ? src.blocks(prev) : null, options.probabilities ? options.probabilities(t) : null];
    for await (const { block, others: [pb, prob] } of zip(src.blocks(t), others)) {
      const data = block.data as NdArray<TypedArray>;
      accumulateInterface(acc, block.core, block.read, data);
      accumulateCensus(census, refMap, block.core, block.read, data, prob ? (prob.data as NdArray<TypedArray>) : undefined);
      liLab.add({ core: block.core, read: block.read, data, aux: pb ? (pb.data as NdArray<TypedArray>) : undefined });
      voidLab?.add({ core: block.core, read: block.read, data });
    }
    progress.tick();

    const time = src.timePointsH[t]!;
    const map = finishInterface(acc, { ...ifOpts, minCoverage: 0 });
    const sum = interfaceSummary(map);
    ifCols.time_h!.push(time);
    ifCols.interface_mean_um!.push(sum.mean_um);
    ifCols.interface_min_um!.push(sum.min_um);
    ifCols.interface_max_um!.push(sum.max_um);
    ifCols.interface_rms_roughness_um!.push(sum.rms_roughness_um);
    ifCols.interface_coverage_pct!.push(100 * map.coverage);
    ifCols.counter_interface_found!.push(map.counterZ !== null);

    const comp = layerComposition(census, names.void);
    const li = comp.volume_um3[names.lithium]!;
    if (t === ref) refLithium = li;
    const hasCharge = j !== undefined && Number.isFinite(time);
    const thick = hasCharge ? faradayThickness_um(j, Math.max(0, time)) : NaN;
    const fov = thick * fov_um2;
    const deposited = li - refLithium;
    ts.time_h!.push(time);
    ts.charge_mAh_cm2!.push(hasCharge ? arealCapacity_mAh_cm2(j, Math.max(0, time)) : NaN);
    ts.charge_mAh!.push(hasCharge && area !== undefined ? arealCapacity_mAh_cm2(j, Math.max(0, time)) * area : NaN);
    ts.layer_volume_um3!.push(comp.layer_volume_um3);
    ts.void_volume_um3!.push(comp.volume_um3[names.void]!);
    ts.electrolyte_volume_um3!.push(comp.volume_um3[names.electrolyte]!);
    ts.porosity_pct!.push(comp.porosity_pct);
    ts.lithium_volume_um3!.push(li);
    ts.deposited_lithium_um3!.push(deposited);
    ts.lithium_probability_volume_um3!.push(comp.lithiumProbabilityVolume_um3 ?? NaN);
    ts.faraday_thickness_um!.push(thick);
    ts.faraday_volume_fov_um3!.push(fov);
    ts.faraday_volume_electrode_um3!.push(area !== undefined ? thick * area * UM2_PER_CM2 : NaN);
    ts.deposited_to_faraday_ratio!.push(fov > 0 ? deposited / fov : NaN);

    const liRes = liLab.finish();
    const s = liRes.stats;
    let newCount = 0;
    let short: boolean | null = map.counterZ === null ? null : false;
    const inLayer: number[] = [];
    for (let i = 0; i < liRes.nComponents; i++) {
      const b = i * 6;
      if (short !== null && s.bbox[b] === 0 && s.bbox[b + 3] === shape[0] - 1) short = true;
      // Lithium in the layer: past the plating interface and not part of an electrode on a z face.
      if (s.minDepth[i]! > 0 && s.bbox[b] !== 0 && s.bbox[b + 3] !== shape[0] - 1) inLayer.push(s.count[i]! * vv);
      if (prev < 0 || s.overlap[i]! > 0 || !(s.minDepth[i]! > 0)) continue;
      newCount++;
      const c = s.count[i]!;
      const centroid: [number, number, number] = [s.sumZ[i]! / c + 0.5, s.sumY[i]! / c + 0.5, s.sumX[i]! / c + 0.5];
      nuc.time_h!.push(time);
      nuc.label!.push(i + 1);
      nuc.volume_um3!.push(c * vv);
      nuc.min_depth_um!.push(s.minDepth[i]!);
      nuc.mean_depth_um!.push(s.sumDepth[i]! / c);
      nuc.centroid_z_um!.push(centroid[0] * vox[0]);
      nuc.centroid_y_um!.push(centroid[1] * vox[1]);
      nuc.centroid_x_um!.push(centroid[2] * vox[2]);
      nuc.nearest_void_distance_um!.push(await nearestValueDistance(src, ref, vVoid, centroid, radius));
    }
    ts.new_lithium_components!.push(prev < 0 ? NaN : newCount);
    ts.short_circuit!.push(short);
    if (t === nt - 1) lithiumSizes = sizeDistribution(inLayer, 5, "lithium_sizes");

    if (voidLab) {
      const vr = voidLab.finish();
      voidsTable = componentTable(vr, vox, "voids");
      voidProfileTable = voidProfile(census, names.void);
    }
  }
  progress.finish();
  // Rows in time order (the reference was analysed first).
  const timeOrder = (cols: ResultTable["columns"]) => {
    const idx = cols.time_h!.map((_, i) => i).sort((a, b) => (cols.time_h![a] as number) - (cols.time_h![b] as number));
    for (const k of Object.keys(cols)) cols[k] = idx.map((i) => cols[k]![i]!);
  };
  timeOrder(ts);
  timeOrder(ifCols);
  const voidVolumes = (voidsTable!.columns.volume_um3 as number[]) ?? [];
  return {
    referenceInterface: refMap,
    interfaces: { name: "interfaces", columns: ifCols },
    voidProfile: voidProfileTable!,
    voids: voidsTable!,
    voidSizes: sizeDistribution(voidVolumes, 5, "void_sizes"),
    timeSeries: { name: "time_series", columns: ts },
    nucleation: { name: "nucleation", columns: nuc },
    lithiumSizes,
    notes,
  };
}

/** The tables of an operando analysis, in the order a report shows them (for `writeTables`). */
export function operandoTables(r: OperandoResult): ResultTable[] {
  return [r.interfaces, r.voidProfile, r.voids, r.voidSizes, r.timeSeries, r.nucleation, r.lithiumSizes];
}
