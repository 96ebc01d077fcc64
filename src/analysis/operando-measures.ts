/**
 * The measurements of an operando analysis, one streaming accumulator each (`add(block)` over the blocks of a time
 * point, `finish()` once), and the typed rows they contribute to the result tables. analyseOperando composes them.
 */
import { UM2_PER_CM2 } from "../numerics/constants.js";
import type { Block, NdArray, TypedArray } from "../volume/index.js";
import { accumulateCensus, createCensus, type Census, type ClassSpec } from "./census.js";
import { ComponentLabeller, type ComponentResult, type Connectivity, type DepthSpec } from "./components.js";
import { arealCapacity_mAh_cm2, faradayThickness_um } from "./faraday.js";
import { accumulateInterface, createInterfaceAccumulator, finishInterface, interfaceSummary, type InterfaceMap, type InterfaceOptions } from "./interface.js";
import { layerComposition } from "./measures.js";
import type { Columns } from "./table.js";

/** A block of the label image at time t, with the same block at t-1 and the lithium probabilities where asked. */
export interface OperandoBlock {
  block: Block;
  data: NdArray<TypedArray>;
  previous?: NdArray<TypedArray>;
  probability?: NdArray<TypedArray>;
}

export interface Accumulator<T> {
  add(b: OperandoBlock): void;
  finish(): T;
}

// ---------------------------------------------------------------------------------------------------------------
// Interface position and roughness

export type InterfaceRow = {
  time_h: number;
  interface_mean_um: number;
  interface_min_um: number;
  interface_max_um: number;
  interface_rms_roughness_um: number;
  interface_coverage_pct: number;
  counter_interface_found: boolean;
};
export const INTERFACE_COLUMNS: Columns<InterfaceRow> = {
  time_h: true,
  interface_mean_um: true,
  interface_min_um: true,
  interface_max_um: true,
  interface_rms_roughness_um: true,
  interface_coverage_pct: true,
  counter_interface_found: true,
};

/** Per-column interface of the electrode (value `electrodeValue`). */
export function interfaceMeasure(shape: [number, number, number], electrodeValue: number, options: InterfaceOptions): Accumulator<InterfaceMap> {
  const acc = createInterfaceAccumulator(shape, electrodeValue);
  return {
    add: ({ block, data }) => accumulateInterface(acc, block.core, block.read, data),
    finish: () => finishInterface(acc, options),
  };
}

export function interfaceRow(time_h: number, map: InterfaceMap): InterfaceRow {
  const sum = interfaceSummary(map);
  return {
    time_h,
    interface_mean_um: sum.mean_um,
    interface_min_um: sum.min_um,
    interface_max_um: sum.max_um,
    interface_rms_roughness_um: sum.rms_roughness_um,
    interface_coverage_pct: 100 * map.coverage,
    counter_interface_found: map.counterZ !== null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Layer census: porosity, lithium volume, Faraday's law

/** Class voxels per depth bin below the reference interface (and lithium probabilities when given). */
export function censusMeasure(refMap: InterfaceMap, classes: ClassSpec[], binWidth_um: number, withProbabilities: boolean): Accumulator<Census> {
  const census = createCensus(refMap, classes, binWidth_um, withProbabilities);
  return {
    add: ({ block, data, probability }) => accumulateCensus(census, refMap, block.core, block.read, data, probability),
    finish: () => census,
  };
}

export type TimeSeriesRow = {
  time_h: number;
  charge_mAh_cm2: number;
  charge_mAh: number;
  layer_volume_um3: number;
  void_volume_um3: number;
  electrolyte_volume_um3: number;
  porosity_pct: number;
  lithium_volume_um3: number;
  deposited_lithium_um3: number;
  lithium_probability_volume_um3: number;
  faraday_thickness_um: number;
  faraday_volume_fov_um3: number;
  faraday_volume_electrode_um3: number;
  deposited_to_faraday_ratio: number;
  new_lithium_components: number;
  short_circuit: boolean | null;
};
export const TIME_SERIES_COLUMNS: Columns<TimeSeriesRow> = {
  time_h: true,
  charge_mAh_cm2: true,
  charge_mAh: true,
  layer_volume_um3: true,
  void_volume_um3: true,
  electrolyte_volume_um3: true,
  porosity_pct: true,
  lithium_volume_um3: true,
  deposited_lithium_um3: true,
  lithium_probability_volume_um3: true,
  faraday_thickness_um: true,
  faraday_volume_fov_um3: true,
  faraday_volume_electrode_um3: true,
  deposited_to_faraday_ratio: true,
  new_lithium_components: true,
  short_circuit: true,
};

export interface ChargeInfo {
  current_mA_cm2?: number;
  electrodeArea_cm2?: number;
  fov_um2: number;
}

export interface ClassNames {
  electrolyte: string;
  void: string;
  lithium: string;
}

/**
 * The census columns of a time point's row: layer composition, and the lithium deposited since the reference
 * (`refLithium_um3`; undefined at the reference itself) against the charge passed by Faraday's law.
 */
export function compositionColumns(
  census: Census,
  names: ClassNames,
  time_h: number,
  refLithium_um3: number | undefined,
  charge: ChargeInfo,
): Omit<TimeSeriesRow, "new_lithium_components" | "short_circuit"> {
  const comp = layerComposition(census, names.void);
  const li = comp.volume_um3[names.lithium] ?? NaN;
  const j = charge.current_mA_cm2;
  const area = charge.electrodeArea_cm2;
  const hasCharge = j !== undefined && Number.isFinite(time_h);
  const thick = hasCharge ? faradayThickness_um(j, Math.max(0, time_h)) : NaN;
  const fov = thick * charge.fov_um2;
  const deposited = li - (refLithium_um3 ?? li);
  return {
    time_h,
    charge_mAh_cm2: hasCharge ? arealCapacity_mAh_cm2(j, Math.max(0, time_h)) : NaN,
    charge_mAh: hasCharge && area !== undefined ? arealCapacity_mAh_cm2(j, Math.max(0, time_h)) * area : NaN,
    layer_volume_um3: comp.layer_volume_um3,
    void_volume_um3: comp.volume_um3[names.void] ?? NaN,
    electrolyte_volume_um3: comp.volume_um3[names.electrolyte] ?? NaN,
    porosity_pct: comp.porosity_pct,
    lithium_volume_um3: li,
    deposited_lithium_um3: deposited,
    lithium_probability_volume_um3: comp.lithiumProbabilityVolume_um3 ?? NaN,
    faraday_thickness_um: thick,
    faraday_volume_fov_um3: fov,
    faraday_volume_electrode_um3: area !== undefined ? thick * area * UM2_PER_CM2 : NaN,
    deposited_to_faraday_ratio: fov > 0 ? deposited / fov : NaN,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Components: void components of the reference, lithium components (nucleation, short circuit, sizes)

export interface ComponentMeasureOptions {
  connectivity: Connectivity;
  value: number;
  depth: DepthSpec;
  /** Also the surface estimate (voids). */
  surface?: boolean;
  /** Count overlap with the same value at the previous time point (lithium: nucleation). */
  overlapPrevious?: boolean;
}

/** Connected components of one class, exact across blocks. */
export function componentMeasure(shape: [number, number, number], o: ComponentMeasureOptions): Accumulator<ComponentResult> {
  const lab = new ComponentLabeller(shape, {
    connectivity: o.connectivity,
    member: { value: o.value },
    properties: o.surface ? ["centroid", "bbox", "depth", "surface"] : ["centroid", "bbox", "depth"],
    depth: o.depth,
    overlap: o.overlapPrevious ? { value: o.value } : undefined,
  });
  return {
    add: ({ block, data, previous }) => lab.add({ core: block.core, read: block.read, data, aux: o.overlapPrevious ? previous : undefined }),
    finish: () => lab.finish(),
  };
}

export type NucleationRow = {
  time_h: number;
  label: number;
  volume_um3: number;
  min_depth_um: number;
  mean_depth_um: number;
  centroid_z_um: number;
  centroid_y_um: number;
  centroid_x_um: number;
  nearest_void_distance_um: number;
};
export const NUCLEATION_COLUMNS: Columns<NucleationRow> = {
  time_h: true,
  label: true,
  volume_um3: true,
  min_depth_um: true,
  mean_depth_um: true,
  centroid_z_um: true,
  centroid_y_um: true,
  centroid_x_um: true,
  nearest_void_distance_um: true,
};

/** A lithium component new at this time point (no overlap with lithium before), inside the layer. */
export interface NewComponent {
  /** 0-based component index. */
  index: number;
  voxels: number;
  minDepth_um: number;
  meanDepth_um: number;
  /** Centroid in voxel index units (+0.5: voxel centres). */
  centroid: [number, number, number];
}

export interface LithiumEvents {
  /** null when the counter electrode was not found (a short cannot be judged). */
  shortCircuit: boolean | null;
  /** Volumes of the components in the layer (past the plating interface, off both z faces), um3. */
  inLayer_um3: number[];
  /** New components; empty for the first time point analysed. */
  newComponents: NewComponent[];
}

/**
 * Reads a time point's lithium components: a component touching both z faces is a short; one past the interface
 * and off both faces lies in the layer; one in the layer without lithium at the previous time point is new.
 */
export function lithiumEvents(res: ComponentResult, Z: number, voxelVolume_um3: number, counterFound: boolean, hasPrevious: boolean): LithiumEvents {
  const s = res.stats;
  const at = (a: ArrayLike<number>, i: number) => a[i] ?? NaN;
  let short: boolean | null = counterFound ? false : null;
  const inLayer: number[] = [];
  const fresh: NewComponent[] = [];
  for (let i = 0; i < res.nComponents; i++) {
    const b = i * 6;
    const z0 = s.bbox[b];
    const z1 = s.bbox[b + 3];
    if (short !== null && z0 === 0 && z1 === Z - 1) short = true;
    const minDepth = at(s.minDepth, i);
    const c = at(s.count, i);
    // Lithium in the layer: past the plating interface and not part of an electrode on a z face.
    if (minDepth > 0 && z0 !== 0 && z1 !== Z - 1) inLayer.push(c * voxelVolume_um3);
    if (!hasPrevious || at(s.overlap, i) > 0 || !(minDepth > 0)) continue;
    fresh.push({
      index: i,
      voxels: c,
      minDepth_um: minDepth,
      meanDepth_um: at(s.sumDepth, i) / c,
      centroid: [at(s.sumZ, i) / c + 0.5, at(s.sumY, i) / c + 0.5, at(s.sumX, i) / c + 0.5],
    });
  }
  return { shortCircuit: short, inLayer_um3: inLayer, newComponents: fresh };
}
