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
import type { ClassSpec } from "./census.js";
import type { Connectivity } from "./components.js";
import { checkVoxelSize, depthSpec, type InterfaceMap, type PlatingSide } from "./interface.js";
import { componentTable, sizeDistribution, voidProfile } from "./measures.js";
import {
  censusMeasure,
  componentMeasure,
  compositionColumns,
  interfaceMeasure,
  interfaceRow,
  lithiumEvents,
  INTERFACE_COLUMNS,
  NUCLEATION_COLUMNS,
  TIME_SERIES_COLUMNS,
  type Accumulator,
  type InterfaceRow,
  type NucleationRow,
  type OperandoBlock,
  type TimeSeriesRow,
} from "./operando-measures.js";
import { TableBuilder, type ResultTable } from "./table.js";

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
  const charge = { current_mA_cm2: j, electrodeArea_cm2: area, fov_um2: shape[1] * vox[1] * shape[2] * vox[2] };

  // Pass 1: the reference interface.
  const refInterface = interfaceMeasure(shape, vLi, ifOpts);
  for await (const block of src.blocks(ref)) refInterface.add({ block, data: block.data as NdArray<TypedArray> });
  const refMap = refInterface.finish();
  progress.tick();
  const depth = depthSpec(refMap);

  const interfaces = new TableBuilder<InterfaceRow>("interfaces", INTERFACE_COLUMNS);
  const timeSeries = new TableBuilder<TimeSeriesRow>("time_series", TIME_SERIES_COLUMNS);
  const nucleation = new TableBuilder<NucleationRow>("nucleation", NUCLEATION_COLUMNS);
  let reference: { voids: ResultTable; voidProfile: ResultTable } | null = null;
  let lithiumSizes: ResultTable = sizeDistribution([], 5, "lithium_sizes");
  let refLithium = NaN;

  // Reference first (its lithium is the baseline), then the others in time order.
  const order = [ref, ...Array.from({ length: nt }, (_, i) => i).filter((i) => i !== ref)];
  for (const t of order) {
    const prev = t > 0 ? t - 1 : -1;
    const census = censusMeasure(refMap, classes, options.binWidth_um, options.probabilities !== undefined);
    const iface = interfaceMeasure(shape, vLi, { ...ifOpts, minCoverage: 0 });
    const lithium = componentMeasure(shape, { connectivity: conn, value: vLi, depth, overlapPrevious: prev >= 0 });
    const voids = t === ref ? componentMeasure(shape, { connectivity: conn, value: vVoid, depth, surface: true }) : null;
    const measures: Array<Accumulator<unknown>> = [iface, census, lithium, ...(voids ? [voids] : [])];
    const others = [prev >= 0 ? src.blocks(prev) : null, options.probabilities ? options.probabilities(t) : null];
    for await (const { block, others: [pb, prob] } of zip(src.blocks(t), others)) {
      const b: OperandoBlock = {
        block,
        data: block.data as NdArray<TypedArray>,
        previous: pb ? (pb.data as NdArray<TypedArray>) : undefined,
        probability: prob ? (prob.data as NdArray<TypedArray>) : undefined,
      };
      for (const m of measures) m.add(b);
    }
    progress.tick();

    const time = src.timePointsH[t] ?? NaN;
    const map = iface.finish();
    interfaces.push(interfaceRow(time, map));
    const layerCensus = census.finish();
    const composition = compositionColumns(layerCensus, names, time, t === ref ? undefined : refLithium, charge);
    if (t === ref) refLithium = composition.lithium_volume_um3;
    const events = lithiumEvents(lithium.finish(), shape[0], vv, map.counterZ !== null, prev >= 0);
    for (const c of events.newComponents) {
      nucleation.push({
        time_h: time,
        label: c.index + 1,
        volume_um3: c.voxels * vv,
        min_depth_um: c.minDepth_um,
        mean_depth_um: c.meanDepth_um,
        centroid_z_um: c.centroid[0] * vox[0],
        centroid_y_um: c.centroid[1] * vox[1],
        centroid_x_um: c.centroid[2] * vox[2],
        nearest_void_distance_um: await nearestValueDistance(src, ref, vVoid, c.centroid, radius),
      });
    }
    timeSeries.push({ ...composition, new_lithium_components: prev < 0 ? NaN : events.newComponents.length, short_circuit: events.shortCircuit });
    if (t === nt - 1) lithiumSizes = sizeDistribution(events.inLayer_um3, 5, "lithium_sizes");
    if (voids) reference = { voids: componentTable(voids.finish(), vox, "voids"), voidProfile: voidProfile(layerCensus, names.void) };
  }
  progress.finish();
  if (!reference) throw new RangeError("the reference time point was not analysed"); // unreachable: order starts with ref
  // Rows in time order (the reference was analysed first).
  timeSeries.sortBy("time_h");
  interfaces.sortBy("time_h");
  const voidVolumes = reference.voids.columns.volume_um3 as number[];
  return {
    referenceInterface: refMap,
    interfaces: interfaces.build(),
    voidProfile: reference.voidProfile,
    voids: reference.voids,
    voidSizes: sizeDistribution(voidVolumes, 5, "void_sizes"),
    timeSeries: timeSeries.build(),
    nucleation: nucleation.build(),
    lithiumSizes,
    notes,
  };
}

/** The tables of an operando analysis, in the order a report shows them (for `writeTables`). */
export function operandoTables(r: OperandoResult): ResultTable[] {
  return [r.interfaces, r.voidProfile, r.voids, r.voidSizes, r.timeSeries, r.nucleation, r.lithiumSizes];
}
