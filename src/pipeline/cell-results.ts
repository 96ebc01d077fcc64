/**
 * The cell's electrochemistry and XAS, analysed once into one JSON-serialisable object (`CellResults`) that a
 * pipeline step writes to disk and notebooks, figures and the report read back: the galvanostatic plating curve
 * and its short (Fig. 2a), the current-density screening (Fig. S2), an equivalent-circuit fit of the impedance at
 * every CT time (Fig. 3c, Fig. S6, Table S1), the blocking-electrode spectrum (sigma_ion, Fig. S1c), the DC
 * polarisation (sigma_e, Fig. S7b) and the S and P K-edge XAS with linear-combination fits (Fig. 3a, b) of
 * Park et al., Chem. Commun. 2023, 59, 7799.
 *
 * Every number in the result is finite; a value that cannot be known (a singular covariance, a cell that did not
 * fail) is `null`, never NaN, because JSON has no NaN and a round trip must give the same object back.
 */
import type { ResultTable } from "../analysis/table.js";
import {
  detectShortCircuit,
  electronicConductivity,
  fitCircuit,
  linKK,
  polarisationAt,
  type FitResult,
  type GalvanostaticRecord,
  type ImpedanceSpectrum,
  type LinKKOptions,
  type ShortCircuitOptions,
  type ShortCircuitResult,
  type Weighting,
} from "../electrochem/index.js";
import type { SpectrumJson, TwinElectrochemJson, TwinXasJson, VoltageCurveJson, XasSpectrumJson } from "../twin/load.js";
import { FileFormatError, ParameterError } from "../util/errors.js";
import { linearCombinationFit, preEdge, type LcfResult, type PreEdgeResult } from "../xas/index.js";

export const CELL_RESULTS_FORMAT = "ssb-ct-cell-results";
export const CELL_RESULTS_VERSION = 1;

// ---------------------------------------------------------------------------------------------------------------
// The result's shape

export type FailureModeName = "voltage-collapse" | "loss-of-signal" | "none";

/** A detected short circuit (or its absence) of one galvanostatic run. */
export interface ShortResult {
  failed: boolean;
  mode: FailureModeName;
  /** Time of failure, h; null when the cell did not fail. */
  time_h: number | null;
  /** Charge passed up to failure (or to the end of the record), mAh/cm2. */
  capacity_mAh_cm2: number;
  /** Faraday's-law thickness of that charge as dense Li, um (4.85 um per mAh/cm2). */
  liThickness_um: number;
  /** Median |V| before failure, V; null when no valid sample. */
  medianPolarisation_V: number | null;
  /** Index of the first sample at or after failure; -1 when none. */
  failureIndex: number;
  reason: string;
}

/** One galvanostatic run: the curve as plotted and its failure analysis. */
export interface VoltageRun {
  label: string;
  current_mA_cm2: number;
  time_h: number[];
  /** Working-electrode voltage, V; null where the voltage was not measured. */
  voltage_V: Array<number | null>;
  short: ShortResult;
  /** Median |V| / j before failure: an areal resistance, ohm cm2; null when no valid sample. */
  arealResistance_ohm_cm2: number | null;
}

export interface GalvanostaticResults {
  /** The run the CT was recorded during (0.8 mA/cm2 in the paper). */
  operando: VoltageRun;
  /** CT time points, h (the times of the impedance spectra). */
  ctTimes_h: number[];
  /** Polarisation |V| at each CT time (median over +/- 60 s), V; null after the short. */
  polarisationAtCt_V: Array<number | null>;
  /** Screening runs sorted by current density (0.6, 0.8, 1.0 mA/cm2 in the paper). */
  screening: VoltageRun[];
  /** Lowest current density at which a run failed, mA/cm2; null when none failed. */
  criticalCurrentDensity_mA_cm2: number | null;
  /** A bulk-type (10 mm) cell for Fig. S2b, when one was supplied; null otherwise (see bulkCellNote). */
  bulkCell: VoltageRun | null;
  bulkCellNote: string;
}

/** Lin-KK check of one spectrum. */
export interface LinKKSummary {
  valid: boolean;
  /** Number of RC elements of the Voigt chain. */
  M: number;
  mu: number;
  /** Largest |(Z - Z_KK)/|Z|| over real and imaginary parts. */
  maxAbsResidual: number;
  residualTolerance: number;
  /** (Z - Z_KK)/|Z| at freq_Hz (decreasing frequency). */
  residual_re: number[];
  residual_im: number[];
}

/** Fit of an equivalent circuit to one spectrum, with the data and the fitted curve at the measured frequencies. */
export interface ImpedanceFit {
  label: string;
  /** Plating time, h; null for a spectrum not taken during plating (blocking electrodes). */
  time_h: number | null;
  circuit: string;
  weighting: string;
  /** Measured spectrum ordered by decreasing frequency; Z = re + j im (capacitive arcs: im < 0). */
  freq_Hz: number[];
  re_ohm: number[];
  im_ohm: number[];
  /** Fitted circuit at freq_Hz. */
  fit_re_ohm: number[];
  fit_im_ohm: number[];
  params: Record<string, number>;
  /** 1-sigma errors from the covariance; null where the covariance is singular. */
  paramErrors: Record<string, number | null>;
  chiSquare: number;
  reducedChiSquare: number;
  dof: number;
  warnings: string[];
}

/** One R||CPE (or R||C) arc of a fitted spectrum. */
export interface ArcResult {
  /** e.g. "p(R1,CPE1)". */
  block: string;
  resistor: string;
  capacitor: string;
  R_ohm: number;
  R_err_ohm: number | null;
  /** CPE Q, S s^alpha (= F s^(alpha-1)); for an ideal capacitor its capacitance (alpha = 1). */
  Q_S_s_alpha: number;
  Q_err_S_s_alpha: number | null;
  alpha: number;
  alpha_err: number | null;
  /** Hsu-Mansfeld effective capacitance Q^(1/alpha) R^((1-alpha)/alpha), F, with its delta-method error. */
  C_eff_F: number;
  C_eff_err_F: number | null;
  tau_s: number;
  f_peak_Hz: number;
}

/** A cell spectrum at one CT time: the fit and its physical reading. */
export interface CellImpedanceResult extends ImpedanceFit {
  time_h: number;
  /** Series (bulk) resistance, ohm. */
  R0_ohm: number;
  R0_err_ohm: number | null;
  /** The fast arc (shorter time constant): the interphase resistance R_int (~0.01 uF). */
  interphase: ArcResult;
  /** The slow arc: the charge-transfer resistance R_ct (~10 uF). */
  chargeTransfer: ArcResult;
  linKK: LinKKSummary;
}

/** Blocking-electrode spectrum and the ionic conductivity it gives. */
export interface BlockingResult extends ImpedanceFit {
  thickness_um: number;
  area_cm2: number;
  /** Where the pellet geometry came from: "options" or "dcPolarisation" (the same pellet in the twin). */
  geometrySource: "options" | "dcPolarisation";
  bulkResistor: string;
  R_bulk_ohm: number;
  R_bulk_err_ohm: number | null;
  sigma_ion_S_cm: number;
  sigma_ion_err_S_cm: number | null;
}

/** DC polarisation (Hebb-Wagner) with ion-blocking electrodes and the electronic conductivity it gives. */
export interface DcPolarisationResults {
  voltage_V: number;
  thickness_um: number;
  area_cm2: number;
  time_h: number[];
  current_A: number[];
  /** Window averaged as the steady state, h. */
  steadyWindow_h: [number, number];
  steadyCurrent_A: number;
  steadyCurrent_err_A: number | null;
  /** Relative drift of the current across the window; steady when <= 5 %. */
  relativeDrift: number;
  steady: boolean;
  sigma_e_S_cm: number;
  sigma_e_err_S_cm: number | null;
}

/** Larch pre_edge parameters used for every spectrum of one edge (the same for all, so they compare). */
export type XasNormalisation = Pick<PreEdgeResult, "e0_eV" | "pre1_eV" | "pre2_eV" | "norm1_eV" | "norm2_eV" | "nnorm" | "nvict">;

export interface NormalisedSpectrum {
  label: string;
  /** The single compound of a reference; null for a measured spectrum. */
  compound: string | null;
  energy_eV: number[];
  /** (mu - pre-edge line) / edge step. */
  norm: number[];
  edgeStep: number;
}

export interface LcfSummary {
  names: string[];
  weights: number[];
  /** 1-sigma errors (scaled to reduced chi-square = 1, as Larch); null where the covariance is singular. */
  weightErrors: Array<number | null>;
  weightSum: number;
  rFactor: number;
  chiSquare: number;
  reducedChiSquare: number;
  nPoints: number;
  /** Fit window relative to E0, eV. */
  window_eV: [number, number];
  sumToOne: boolean;
}

/** One absorption edge: normalised spectra and the LCF of "after" (and "before", as a control). */
export interface XasEdgeResult {
  edge: "S" | "P";
  /** The decomposition product expected at this edge (Li2S at S, Li3P at P). */
  product: string;
  normalisation: XasNormalisation;
  before: NormalisedSpectrum;
  after: NormalisedSpectrum;
  references: NormalisedSpectrum[];
  lcf: LcfSummary;
  /** The product's weight in the "after" spectrum and its 1-sigma error. */
  productWeight: number;
  productWeight_err: number | null;
  /** The same fit of the "before" spectrum: the product's weight there should be ~0. */
  lcfBefore: LcfSummary;
  /** Energies of the fitted curve: the "after" grid where every reference covers it, eV. */
  fitEnergy_eV: number[];
  fit: number[];
  /** Each reference's weighted contribution on fitEnergy_eV. */
  components: Record<string, number[]>;
}

export interface CellAnalysisSettings {
  fitStarts: number;
  fitSeed: number;
  weighting: Weighting;
  cellCircuit: string | null;
  blockingCircuit: string | null;
  dcSteadyFraction: number;
  xasWindow_eV: [number, number];
  xasSumToOne: boolean;
  xasNorm1_eV: number;
  xasNnorm: number;
}

export interface CellResults {
  format: typeof CELL_RESULTS_FORMAT;
  version: typeof CELL_RESULTS_VERSION;
  /** Names and content hashes of the inputs, as the caller gave them. */
  provenance: Record<string, string>;
  settings: CellAnalysisSettings;
  galvanostatic: GalvanostaticResults;
  /** One fit per CT time, in time order. */
  impedance: CellImpedanceResult[];
  blocking: BlockingResult;
  dcPolarisation: DcPolarisationResults;
  xas: { S: XasEdgeResult; P: XasEdgeResult };
  /** Table S1: one row per CT time (circuit parameters with 1-sigma errors). */
  tableS1: ResultTable;
  /** What the analysis could not do or assumed, in words. */
  notes: string[];
}

/** The part of a voltage curve the analysis reads (time_s, voltage_V with null where not measured, j). */
export type VoltageRecordJson = Pick<VoltageCurveJson, "current_mA_cm2" | "time_s" | "voltage_V">;

export interface AnalyseCellOptions {
  /** Input names and hashes, copied into the result (and from there into every figure). */
  provenance?: Record<string, string>;
  /** Starts of the multi-start circuit fit (default 8) and their seed (default 1). */
  fitStarts?: number;
  fitSeed?: number;
  /** CNLS weighting (default "boukamp": noise proportional to |Z|). */
  weighting?: Weighting;
  /** Circuit for the cell spectra; default: the circuit string each spectrum carries. */
  cellCircuit?: string;
  /** Circuit for the blocking spectrum; default: the circuit string it carries. */
  blockingCircuit?: string;
  /** Resistor of the blocking circuit that is the bulk (default "R0"). */
  blockingResistor?: string;
  /** Blocking pellet geometry; default: the DC polarisation record's (the twin uses one pellet for both). */
  blockingGeometry?: { thickness_um: number; area_cm2: number };
  /** Fraction of the DC record averaged as the steady state (default 0.1). */
  dcSteadyFraction?: number;
  /** Short detection; by default a record that ends is a failure at its end (see analyseGalvanostaticRun). */
  shortCircuit?: ShortCircuitOptions;
  linKK?: LinKKOptions;
  /** A bulk-type cell's plating curve for Fig. S2b, when measured. */
  bulkCell?: VoltageRecordJson & { label?: string };
  /** LCF window relative to the Li3PS4 reference's E0 (default [-15, 25] eV) and sum-to-1 (default true, Larch). */
  xasWindow_eV?: [number, number];
  xasSumToOne?: boolean;
  /** Post-edge range start above E0 (default 20 eV: past the white lines) and polynomial degree (default 1). */
  xasNorm1_eV?: number;
  xasNnorm?: number;
  /** References fitted at each edge (default S: Li3PS4 + Li2S, P: Li3PS4 + Li3P, as the paper assigns them). */
  xasStandards?: { S: [string, string]; P: [string, string] };
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers: JSON-safe numbers and validated arrays

/** A finite number, or null: JSON has no NaN or Infinity. */
function orNull(x: number): number | null {
  return Number.isFinite(x) ? x + 0 : null;
}

/** Plain array from a typed one, -0 made 0 (JSON writes -0 as 0, and a round trip must compare equal). */
function plain(a: ArrayLike<number>): number[] {
  return Array.from(a, (v) => v + 0);
}

/**
 * A numeric array field of an input file, checked: a JSON file cannot carry NaN, so a null or string where a
 * number belongs must stop the analysis naming the field, not become 0 in a Float64Array.
 */
function numbers(x: unknown, source: string, field: string, allowNull = false): Float64Array {
  if (!Array.isArray(x)) throw new FileFormatError("expected an array of numbers", { path: source, field, expected: "number[]", got: typeof x });
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v: unknown = x[i];
    if (typeof v === "number" && Number.isFinite(v)) out[i] = v;
    else if (allowNull && (v === null || (typeof v === "number" && Number.isNaN(v)))) out[i] = NaN;
    else throw new FileFormatError("non-finite or non-numeric value", { path: source, field, location: `index ${i}`, expected: allowNull ? "a finite number or null" : "a finite number", got: String(v) });
  }
  return out;
}

function sameLength(source: string, fields: Record<string, ArrayLike<number>>): void {
  const entries = Object.entries(fields);
  const n = entries[0]![1].length;
  if (entries.some(([, a]) => a.length !== n)) {
    throw new FileFormatError("arrays differ in length", { path: source, field: entries.map(([k]) => k).join(", "), expected: "equal lengths", got: entries.map(([k, a]) => `${k}: ${a.length}`).join(", ") });
  }
}

/**
 * Walks the finished result: every number must be finite (a NaN that slipped through would turn into null on
 * disk and the notebooks would read a different object than the pipeline wrote). Throws naming the JSON path.
 */
export function assertJsonSafe(x: unknown, path = "$"): void {
  if (typeof x === "number") {
    if (!Number.isFinite(x)) throw new ParameterError("result holds a non-finite number", { field: path, expected: "finite number or null", got: String(x) });
    return;
  }
  if (x === null || typeof x === "string" || typeof x === "boolean") return;
  if (Array.isArray(x)) {
    x.forEach((v, i) => assertJsonSafe(v, `${path}[${i}]`));
    return;
  }
  if (typeof x === "object") {
    if (ArrayBuffer.isView(x)) throw new ParameterError("result holds a typed array", { field: path, expected: "plain number[]", got: x.constructor.name });
    for (const [k, v] of Object.entries(x as Record<string, unknown>)) assertJsonSafe(v, `${path}.${k}`);
    return;
  }
  throw new ParameterError("result holds a value JSON cannot carry", { field: path, expected: "number, string, boolean, null, array or object", got: typeof x });
}

// ---------------------------------------------------------------------------------------------------------------
// Galvanostatic runs

/** "1.0", "0.8", "0.25": a current density as the paper prints it (whole numbers keep one decimal). */
export function formatCurrent(j_mA_cm2: number): string {
  return Number.isInteger(j_mA_cm2) ? j_mA_cm2.toFixed(1) : String(j_mA_cm2);
}

function shortResult(r: ShortCircuitResult, protocolEnd: boolean, n: number): ShortResult {
  // With no planned duration the paper's protocol applies: plating ran "until the voltage could not be
  // measured", so the end of the record is the loss of signal; say so instead of "before the planned Infinity h".
  const atEnd = protocolEnd && r.mode === "loss-of-signal" && r.failureIndex === n - 1;
  const reason = atEnd
    ? `record ends at ${r.failureTime_h.toFixed(3)} h; plating ran until the voltage could not be measured, so the end of the record is the short`
    : r.reason;
  return {
    failed: r.failed,
    mode: r.mode,
    time_h: orNull(r.failureTime_h),
    capacity_mAh_cm2: r.capacity_mAh_cm2 + 0,
    liThickness_um: r.liThickness_um + 0,
    medianPolarisation_V: orNull(r.medianPolarisation_V),
    failureIndex: r.failureIndex,
    reason,
  };
}

/**
 * One galvanostatic run: the curve in hours and its short circuit. Unless `options.plannedDuration_s` is set, a
 * record that simply ends counts as failing at its last sample, because the paper plated "until the voltage
 * could not be measured" (a record is cut when the cell shorts); a voltage collapse earlier in the record still
 * wins.
 */
export function analyseGalvanostaticRun(curve: VoltageRecordJson, source: string, options: ShortCircuitOptions = {}, label?: string): VoltageRun {
  const time_s = numbers(curve.time_s, source, "time_s");
  const voltage_V = numbers(curve.voltage_V, source, "voltage_V", true);
  sameLength(source, { time_s, voltage_V });
  const j = curve.current_mA_cm2;
  if (typeof j !== "number" || !(j > 0) || !Number.isFinite(j)) {
    throw new FileFormatError("current density must be a positive number", { path: source, field: "current_mA_cm2", expected: "> 0 mA/cm2", got: String(j) });
  }
  const protocolEnd = options.plannedDuration_s === undefined;
  const rec: GalvanostaticRecord = { time_s, voltage_V, current_mA_cm2: j, source };
  const r = detectShortCircuit(rec, { ...options, plannedDuration_s: options.plannedDuration_s ?? Infinity });
  const short = shortResult(r, protocolEnd, time_s.length);
  const med = short.medianPolarisation_V;
  return {
    label: label ?? `${formatCurrent(j)} mA/cm2`,
    current_mA_cm2: j,
    time_h: Array.from(time_s, (t) => t / 3600 + 0),
    voltage_V: Array.from(voltage_V, (v) => orNull(v)),
    short,
    arealResistance_ohm_cm2: med === null ? null : med / (j * 1e-3),
  };
}

/** Fig. 2a and Fig. S2: the operando run, polarisation at the CT times, the screening and the bulk cell if any. */
export function analyseGalvanostatic(
  electrochem: TwinElectrochemJson,
  ctTimes_h: number[],
  options: Pick<AnalyseCellOptions, "shortCircuit" | "bulkCell"> = {},
): GalvanostaticResults {
  const operando = analyseGalvanostaticRun(electrochem.voltage, "electrochem.voltage", options.shortCircuit, `operando cell, ${formatCurrent(electrochem.voltage.current_mA_cm2)} mA/cm2`);
  const rec: GalvanostaticRecord = {
    time_s: Float64Array.from(operando.time_h, (t) => t * 3600),
    voltage_V: Float64Array.from(operando.voltage_V, (v) => (v === null ? NaN : v)),
    current_mA_cm2: operando.current_mA_cm2,
    source: "electrochem.voltage",
  };
  const pol = polarisationAt(rec, ctTimes_h);
  if (!Array.isArray(electrochem.screening)) throw new FileFormatError("screening runs missing", { path: "electrochem.screening", expected: "an array of voltage curves" });
  const screening = electrochem.screening
    .map((c, i) => analyseGalvanostaticRun(c, `electrochem.screening[${i}]`, options.shortCircuit, `${formatCurrent(c.current_mA_cm2)} mA/cm2`))
    .sort((a, b) => a.current_mA_cm2 - b.current_mA_cm2);
  const failed = screening.filter((r) => r.short.failed).map((r) => r.current_mA_cm2);
  const bulk = options.bulkCell
    ? analyseGalvanostaticRun(options.bulkCell, "options.bulkCell", options.shortCircuit, options.bulkCell.label ?? `bulk-type cell, ${formatCurrent(options.bulkCell.current_mA_cm2)} mA/cm2`)
    : null;
  return {
    operando,
    ctTimes_h: [...ctTimes_h],
    polarisationAtCt_V: Array.from(pol, (v) => orNull(v)),
    screening,
    criticalCurrentDensity_mA_cm2: failed.length ? Math.min(...failed) : null,
    bulkCell: bulk,
    bulkCellNote: bulk
      ? `bulk-type cell supplied (${bulk.label})`
      : "no bulk-type (10 mm) cell curve in the input: the twin does not model one, so Fig. S2b shows the operando cell only",
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Impedance

function spectrumFrom(s: SpectrumJson, source: string): ImpedanceSpectrum {
  const freq_Hz = numbers(s.freq_Hz, source, "freq_Hz");
  const re_ohm = numbers(s.re_ohm, source, "re_ohm");
  const im_ohm = numbers(s.im_ohm, source, "im_ohm");
  sameLength(source, { freq_Hz, re_ohm, im_ohm });
  return { freq_Hz, re_ohm, im_ohm, source };
}

function fitSummary(fit: FitResult, label: string, time_h: number | null, spectrum: ImpedanceSpectrum): ImpedanceFit {
  // The fitter orders by decreasing frequency; store the data in the same order as the fitted curve.
  const reversed = spectrum.freq_Hz.length > 1 && spectrum.freq_Hz[1]! > spectrum.freq_Hz[0]!;
  const ord = (a: Float64Array) => plain(reversed ? Float64Array.from(a).reverse() : a);
  const paramErrors: Record<string, number | null> = {};
  for (const k of fit.paramNames) paramErrors[k] = orNull(fit.stdErr[k]!);
  return {
    label,
    time_h,
    circuit: fit.circuit.text,
    weighting: fit.weighting,
    freq_Hz: plain(fit.freq_Hz),
    re_ohm: ord(spectrum.re_ohm),
    im_ohm: ord(spectrum.im_ohm),
    fit_re_ohm: plain(fit.fit.re_ohm),
    fit_im_ohm: plain(fit.fit.im_ohm),
    params: Object.fromEntries(fit.paramNames.map((k) => [k, fit.params[k]! + 0])),
    paramErrors,
    chiSquare: fit.chiSquare,
    reducedChiSquare: fit.reducedChiSquare,
    dof: fit.dof,
    warnings: [...fit.warnings],
  };
}

function arcFrom(fit: FitResult, b: FitResult["blocks"][number]): ArcResult {
  const cpe = `${b.capacitor}_0` in fit.params;
  const qName = cpe ? `${b.capacitor}_0` : b.capacitor;
  return {
    block: b.block,
    resistor: b.resistor,
    capacitor: b.capacitor,
    R_ohm: fit.params[b.resistor]!,
    R_err_ohm: orNull(fit.stdErr[b.resistor]!),
    Q_S_s_alpha: fit.params[qName]!,
    Q_err_S_s_alpha: orNull(fit.stdErr[qName]!),
    alpha: cpe ? fit.params[`${b.capacitor}_1`]! : 1,
    alpha_err: cpe ? orNull(fit.stdErr[`${b.capacitor}_1`]!) : 0,
    C_eff_F: b.C_eff_F,
    C_eff_err_F: orNull(b.C_eff_stdErr_F),
    tau_s: b.tau_s,
    f_peak_Hz: b.f_peak_Hz,
  };
}

/**
 * One cell spectrum: fit of the paper's circuit R0-p(R1,CPE1)-p(R2,CPE2) (or `circuit`), the two arcs told
 * apart by time constant (fast = interphase R_int, slow = charge transfer R_ct; the paper assigns them by their
 * ~0.01 and ~10 uF capacitances, which the result carries for that check), and a Lin-KK test of the data.
 */
export function analyseCellSpectrum(
  spectrum: SpectrumJson,
  source: string,
  options: Pick<AnalyseCellOptions, "fitStarts" | "fitSeed" | "weighting" | "cellCircuit" | "linKK"> = {},
): CellImpedanceResult {
  if (typeof spectrum.time_h !== "number" || !Number.isFinite(spectrum.time_h)) {
    throw new FileFormatError("cell spectrum without a plating time", { path: source, field: "time_h", expected: "a number of hours", got: String(spectrum.time_h) });
  }
  const s = spectrumFrom(spectrum, source);
  const circuit = options.cellCircuit ?? spectrum.circuit;
  const fit = fitCircuit(circuit, s, { starts: options.fitStarts ?? 8, seed: options.fitSeed ?? 1, weighting: options.weighting ?? "boukamp" });
  const blocks = [...fit.blocks].sort((a, b) => a.tau_s - b.tau_s);
  if (blocks.length !== 2) {
    throw new ParameterError("the cell circuit must have exactly two R||CPE (or R||C) arcs in series", { path: source, field: "cellCircuit", expected: "e.g. R0-p(R1,CPE1)-p(R2,CPE2)", got: circuit });
  }
  const arcResistors = new Set(blocks.map((b) => b.resistor));
  const series = fit.circuit.elements.filter((e) => e.type === "R" && !arcResistors.has(e.name));
  if (series.length !== 1) {
    throw new ParameterError("the cell circuit must have one series resistor (the bulk)", { path: source, field: "cellCircuit", expected: "e.g. R0-p(R1,CPE1)-p(R2,CPE2)", got: circuit });
  }
  const r0 = series[0]!.name;
  const kk = linKK(s, options.linKK);
  return {
    ...fitSummary(fit, spectrum.label, spectrum.time_h, s),
    time_h: spectrum.time_h,
    R0_ohm: fit.params[r0]!,
    R0_err_ohm: orNull(fit.stdErr[r0]!),
    interphase: arcFrom(fit, blocks[0]!),
    chargeTransfer: arcFrom(fit, blocks[1]!),
    linKK: {
      valid: kk.valid,
      M: kk.M,
      mu: kk.mu,
      maxAbsResidual: kk.maxAbsResidual,
      residualTolerance: options.linKK?.residualTolerance ?? 0.02,
      residual_re: plain(kk.residuals.re),
      residual_im: plain(kk.residuals.im),
    },
  };
}

/**
 * Blocking-electrode spectrum (Fig. S1c): fit of its circuit (the one the spectrum carries, p(R0,C0)-CPE1 in the
 * twin, unless `circuit` is given) and sigma_ion = L / (R_bulk A) with the error of R_bulk propagated.
 */
export function analyseBlockingSpectrum(
  spectrum: SpectrumJson,
  geometry: { thickness_um: number; area_cm2: number },
  geometrySource: BlockingResult["geometrySource"],
  options: Pick<AnalyseCellOptions, "fitStarts" | "fitSeed" | "weighting" | "blockingCircuit" | "blockingResistor"> = {},
): BlockingResult {
  const source = "electrochem.blocking";
  for (const [field, v] of [["thickness_um", geometry.thickness_um], ["area_cm2", geometry.area_cm2]] as const) {
    if (!(typeof v === "number" && Number.isFinite(v) && v > 0)) throw new ParameterError("blocking pellet geometry must be positive", { field: `blockingGeometry.${field}`, expected: "> 0", got: String(v) });
  }
  const s = spectrumFrom(spectrum, source);
  const circuit = options.blockingCircuit ?? spectrum.circuit;
  const name = options.blockingResistor ?? "R0";
  const fit = fitCircuit(circuit, s, { starts: options.fitStarts ?? 8, seed: options.fitSeed ?? 1, weighting: options.weighting ?? "boukamp" });
  const R = fit.params[name];
  if (R === undefined) throw new ParameterError("bulk resistor not in the blocking circuit", { path: source, field: "blockingResistor", expected: fit.paramNames.join(", "), got: name });
  const se = fit.stdErr[name]!;
  const sigma = (geometry.thickness_um * 1e-4) / (R * geometry.area_cm2);
  return {
    ...fitSummary(fit, spectrum.label, null, s),
    thickness_um: geometry.thickness_um,
    area_cm2: geometry.area_cm2,
    geometrySource,
    bulkResistor: name,
    R_bulk_ohm: R,
    R_bulk_err_ohm: orNull(se),
    sigma_ion_S_cm: sigma,
    // sigma is proportional to 1/R: the relative errors are equal
    sigma_ion_err_S_cm: orNull((sigma * se) / R),
  };
}

/** DC polarisation (Fig. S7b): the steady electronic current and sigma_e = I_ss L / (V A). */
export function analyseDcPolarisation(dc: TwinElectrochemJson["dcPolarisation"], steadyFraction = 0.1): DcPolarisationResults {
  const source = "electrochem.dcPolarisation";
  if (!dc || typeof dc !== "object") throw new FileFormatError("DC polarisation record missing", { path: source, expected: "{ voltage_V, thickness_um, area_cm2, time_s, current_A }" });
  const time_s = numbers(dc.time_s, source, "time_s");
  const current_A = numbers(dc.current_A, source, "current_A");
  sameLength(source, { time_s, current_A });
  const r = electronicConductivity(time_s, current_A, { voltage_V: dc.voltage_V, thickness_um: dc.thickness_um, area_cm2: dc.area_cm2, steadyFraction });
  const g = (dc.thickness_um * 1e-4) / (Math.abs(dc.voltage_V) * dc.area_cm2);
  const tEnd = time_s[time_s.length - 1]!;
  const tStart = tEnd - steadyFraction * (tEnd - time_s[0]!);
  return {
    voltage_V: dc.voltage_V,
    thickness_um: dc.thickness_um,
    area_cm2: dc.area_cm2,
    time_h: Array.from(time_s, (t) => t / 3600 + 0),
    current_A: plain(current_A),
    steadyWindow_h: [tStart / 3600, tEnd / 3600],
    steadyCurrent_A: r.I_ss_A,
    steadyCurrent_err_A: orNull(r.sigma_stdErr_S_cm / g),
    relativeDrift: r.relativeDrift,
    steady: r.steady,
    sigma_e_S_cm: r.sigma_S_cm,
    sigma_e_err_S_cm: orNull(r.sigma_stdErr_S_cm),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// XAS

interface CheckedXas {
  label: string;
  compound: string | null;
  E: Float64Array;
  mu: Float64Array;
}

function checkedXas(s: XasSpectrumJson, source: string, compound: string | null): CheckedXas {
  const E = numbers(s.E_eV, source, "E_eV");
  const mu = numbers(s.mu, source, "mu");
  sameLength(source, { E_eV: E, mu });
  if (E.length < 8) throw new FileFormatError("XAS spectrum too short", { path: source, field: "E_eV", expected: ">= 8 points", got: String(E.length) });
  for (let i = 1; i < E.length; i++) {
    if (!(E[i]! > E[i - 1]!)) throw new FileFormatError("XAS energies must increase strictly", { path: source, field: "E_eV", location: `index ${i}`, expected: `> ${E[i - 1]} eV`, got: `${E[i]} eV` });
  }
  return { label: s.label, compound, E, mu };
}

/** The single compound of a reference spectrum (its fractions name one compound at 1). */
function referenceCompound(s: XasSpectrumJson): string | null {
  const keys = Object.keys(s.fractions ?? {});
  return keys.length === 1 ? keys[0]! : null;
}

function interpAt(x: Float64Array, y: ArrayLike<number>, xi: number): number {
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= xi) lo = mid;
    else hi = mid;
  }
  const t = x[hi] === x[lo] ? 0 : (xi - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}

function lcfSummary(r: LcfResult): LcfSummary {
  return {
    names: [...r.names],
    weights: r.weights.map((w) => w + 0),
    weightErrors: r.weightErrors.map(orNull),
    weightSum: r.weightSum,
    rFactor: r.rFactor,
    chiSquare: r.chiSquare,
    reducedChiSquare: r.reducedChiSquare,
    nPoints: r.nPoints,
    window_eV: [r.window_eV[0], r.window_eV[1]],
    sumToOne: r.options.sumToOne,
  };
}

const DEFAULT_STANDARDS: { S: [string, string]; P: [string, string] } = { S: ["Li3PS4", "Li2S"], P: ["Li3PS4", "Li3P"] };

/**
 * One edge (Fig. 3a S, Fig. 3b P): Larch-style normalisation of the before/after spectra and the references with
 * one set of parameters (E0 of the Li3PS4 reference, the same pre- and post-edge ranges), then an LCF of "after"
 * (and, as a control, "before") by the references, and the fitted curve with its weighted components on the data
 * grid.
 *
 * The scans span only 50 eV, so the post-edge range starts at E0 + 20 eV (past the white lines; Larch's rule
 * would start it at E0 and include them) with a line (nnorm = 1). Edge steps measured on so short a range differ
 * between compounds by several per cent even where the true per-atom step is the same; the LCF weights inherit
 * that (see the notes in the result).
 */
export function analyseXasEdge(
  xas: TwinXasJson,
  edge: "S" | "P",
  options: Pick<AnalyseCellOptions, "xasWindow_eV" | "xasSumToOne" | "xasNorm1_eV" | "xasNnorm" | "xasStandards"> = {},
): XasEdgeResult {
  const names = (options.xasStandards ?? DEFAULT_STANDARDS)[edge];
  if (!Array.isArray(xas.references) || !Array.isArray(xas.measured)) {
    throw new FileFormatError("XAS references or measured spectra missing", { path: "xas", expected: "references[] and measured[]" });
  }
  const refs = names.map((name) => {
    const i = xas.references.findIndex((r) => r.edge === edge && referenceCompound(r) === name);
    if (i < 0) {
      const have = xas.references.filter((r) => r.edge === edge).map((r) => referenceCompound(r) ?? r.label);
      throw new FileFormatError(`no ${edge} K-edge reference spectrum of ${name}`, { path: "xas.references", field: name, expected: `a ${edge}-edge reference with fractions { ${name}: 1 }`, got: have.join(", ") || "none" });
    }
    return checkedXas(xas.references[i]!, `xas.references[${i}]`, name);
  });
  const measured = (when: "before" | "after") => {
    const i = xas.measured.findIndex((m) => m.edge === edge && m.label.toLowerCase().includes(when));
    if (i < 0) throw new FileFormatError(`no ${edge} K-edge spectrum "${when}" plating`, { path: "xas.measured", expected: `a ${edge}-edge spectrum whose label contains "${when}"`, got: xas.measured.filter((m) => m.edge === edge).map((m) => m.label).join(", ") || "none" });
    return checkedXas(xas.measured[i]!, `xas.measured[${i}]`, null);
  };
  const before = measured("before");
  const after = measured("after");

  // One normalisation for all spectra of the edge: E0 and ranges from the pristine electrolyte's reference.
  const base = preEdge(refs[0]!.E, refs[0]!.mu, { norm1_eV: options.xasNorm1_eV ?? 20, nnorm: options.xasNnorm ?? 1 });
  const norm: XasNormalisation = { e0_eV: base.e0_eV, pre1_eV: base.pre1_eV, pre2_eV: base.pre2_eV, norm1_eV: base.norm1_eV, norm2_eV: base.norm2_eV, nnorm: base.nnorm, nvict: base.nvict };
  const normalise = (s: CheckedXas): { p: PreEdgeResult; out: NormalisedSpectrum } => {
    const p = preEdge(s.E, s.mu, { e0_eV: norm.e0_eV, pre1_eV: norm.pre1_eV, pre2_eV: norm.pre2_eV, norm1_eV: norm.norm1_eV, norm2_eV: norm.norm2_eV, nnorm: norm.nnorm });
    return { p, out: { label: s.label, compound: s.compound, energy_eV: plain(s.E), norm: plain(p.norm), edgeStep: p.edgeStep } };
  };
  const nRefs = refs.map(normalise);
  const nBefore = normalise(before);
  const nAfter = normalise(after);
  const standards = nRefs.map((r, i) => ({ name: names[i]!, energy_eV: refs[i]!.E, mu: r.p.norm }));
  const lcfOpts = { e0_eV: norm.e0_eV, window_eV: options.xasWindow_eV ?? ([-15, 25] as [number, number]), sumToOne: options.xasSumToOne ?? true };
  const fitAfter = linearCombinationFit(after.E, nAfter.p.norm, standards, lcfOpts);
  const fitBefore = linearCombinationFit(before.E, nBefore.p.norm, standards, lcfOpts);

  // Fitted curve and components over the whole "after" grid that every reference covers (not just the window).
  const lo = Math.max(...refs.map((r) => r.E[0]!));
  const hi = Math.min(...refs.map((r) => r.E[r.E.length - 1]!));
  const fitEnergy = Array.from(after.E).filter((e) => e >= lo && e <= hi);
  const components: Record<string, number[]> = {};
  const fit = new Array<number>(fitEnergy.length).fill(0);
  standards.forEach((st, j) => {
    const w = fitAfter.weights[j]!;
    components[st.name] = fitEnergy.map((e, i) => {
      const c = w * interpAt(refs[j]!.E, st.mu, e) + 0;
      fit[i]! += c;
      return c;
    });
  });
  const product = names[1]!;
  const jp = fitAfter.names.indexOf(product);
  return {
    edge,
    product,
    normalisation: norm,
    before: nBefore.out,
    after: nAfter.out,
    references: nRefs.map((r) => r.out),
    lcf: lcfSummary(fitAfter),
    productWeight: fitAfter.weights[jp]! + 0,
    productWeight_err: orNull(fitAfter.weightErrors[jp]!),
    lcfBefore: lcfSummary(fitBefore),
    fitEnergy_eV: fitEnergy,
    fit: fit.map((v) => v + 0),
    components,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Table S1 and the whole cell

/** Table S1: the fitted circuit per CT time, unit-bearing column names, errors as 1 sigma (empty when unknown). */
export function tableS1(impedance: CellImpedanceResult[]): ResultTable {
  const col = <T>(f: (r: CellImpedanceResult) => T): T[] => impedance.map(f);
  return {
    name: "tableS1",
    columns: {
      time_h: col((r) => r.time_h),
      R0_ohm: col((r) => r.R0_ohm),
      R0_err_ohm: col((r) => r.R0_err_ohm),
      R_int_ohm: col((r) => r.interphase.R_ohm),
      R_int_err_ohm: col((r) => r.interphase.R_err_ohm),
      Q_int_S_s_alpha: col((r) => r.interphase.Q_S_s_alpha),
      Q_int_err_S_s_alpha: col((r) => r.interphase.Q_err_S_s_alpha),
      alpha_int: col((r) => r.interphase.alpha),
      alpha_int_err: col((r) => r.interphase.alpha_err),
      C_int_F: col((r) => r.interphase.C_eff_F),
      C_int_err_F: col((r) => r.interphase.C_eff_err_F),
      R_ct_ohm: col((r) => r.chargeTransfer.R_ohm),
      R_ct_err_ohm: col((r) => r.chargeTransfer.R_err_ohm),
      Q_ct_S_s_alpha: col((r) => r.chargeTransfer.Q_S_s_alpha),
      Q_ct_err_S_s_alpha: col((r) => r.chargeTransfer.Q_err_S_s_alpha),
      alpha_ct: col((r) => r.chargeTransfer.alpha),
      alpha_ct_err: col((r) => r.chargeTransfer.alpha_err),
      C_ct_F: col((r) => r.chargeTransfer.C_eff_F),
      C_ct_err_F: col((r) => r.chargeTransfer.C_eff_err_F),
      reduced_chi2: col((r) => r.reducedChiSquare),
      linkk_valid: col((r) => r.linKK.valid),
      linkk_max_residual: col((r) => r.linKK.maxAbsResidual),
    },
  };
}

/**
 * Analyses the cell's electrochemistry and XAS (the twin's twin-electrochem.json and twin-xas.json, or the same
 * shapes from real files) into one JSON-safe CellResults. CT times are the times of the impedance spectra.
 */
export function analyseCell(electrochem: TwinElectrochemJson, xas: TwinXasJson, options: AnalyseCellOptions = {}): CellResults {
  if (!electrochem || typeof electrochem !== "object" || !Array.isArray(electrochem.impedance) || electrochem.impedance.length === 0) {
    throw new FileFormatError("no impedance spectra", { path: "electrochem.impedance", expected: "one spectrum per CT time", got: String(electrochem?.impedance) });
  }
  const starts = options.fitStarts ?? 8;
  if (!(Number.isInteger(starts) && starts >= 1)) throw new ParameterError("fitStarts must be a positive integer", { field: "fitStarts", expected: ">= 1", got: String(starts) });
  const steadyFraction = options.dcSteadyFraction ?? 0.1;

  const order = electrochem.impedance.map((s, i) => ({ s, i })).sort((a, b) => (a.s.time_h ?? NaN) - (b.s.time_h ?? NaN));
  const impedance = order.map(({ s, i }) => analyseCellSpectrum(s, `electrochem.impedance[${i}] (${s.label})`, options));
  const ctTimes = impedance.map((r) => r.time_h);
  const galvanostatic = analyseGalvanostatic(electrochem, ctTimes, options);

  const dc = analyseDcPolarisation(electrochem.dcPolarisation, steadyFraction);
  const geometry = options.blockingGeometry ?? { thickness_um: dc.thickness_um, area_cm2: dc.area_cm2 };
  const blocking = analyseBlockingSpectrum(electrochem.blocking, geometry, options.blockingGeometry ? "options" : "dcPolarisation", options);
  const S = analyseXasEdge(xas, "S", options);
  const P = analyseXasEdge(xas, "P", options);

  const notes: string[] = [galvanostatic.bulkCellNote];
  if (!options.blockingGeometry) notes.push(`blocking pellet geometry taken from the DC polarisation record (${geometry.thickness_um} um, ${geometry.area_cm2} cm2): the same pellet measures both`);
  notes.push(
    `XAS normalised with one set of Larch pre_edge parameters per edge (E0 of the Li3PS4 reference; post-edge from E0 + ${S.normalisation.norm1_eV} eV, nnorm ${S.normalisation.nnorm}); on 50 eV scans the measured edge steps of the references differ by ${edgeStepSpread(S, P)} %, which biases LCF weights by a similar relative amount beyond their 1-sigma errors`,
  );
  for (const r of [...impedance, blocking]) for (const w of r.warnings) notes.push(`${r.label}: ${w}`);

  const results: CellResults = {
    format: CELL_RESULTS_FORMAT,
    version: CELL_RESULTS_VERSION,
    provenance: { ...(options.provenance ?? {}) },
    settings: {
      fitStarts: starts,
      fitSeed: options.fitSeed ?? 1,
      weighting: options.weighting ?? "boukamp",
      cellCircuit: options.cellCircuit ?? null,
      blockingCircuit: options.blockingCircuit ?? null,
      dcSteadyFraction: steadyFraction,
      xasWindow_eV: options.xasWindow_eV ?? [-15, 25],
      xasSumToOne: options.xasSumToOne ?? true,
      xasNorm1_eV: options.xasNorm1_eV ?? 20,
      xasNnorm: options.xasNnorm ?? 1,
    },
    galvanostatic,
    impedance,
    blocking,
    dcPolarisation: dc,
    xas: { S, P },
    tableS1: tableS1(impedance),
    notes,
  };
  assertJsonSafe(results);
  return results;
}

/** Largest relative difference of the references' edge steps at either edge, per cent (for the notes). */
function edgeStepSpread(...edges: XasEdgeResult[]): string {
  let worst = 0;
  for (const e of edges) {
    const st = e.references.map((r) => r.edgeStep);
    worst = Math.max(worst, (Math.max(...st) - Math.min(...st)) / Math.max(...st));
  }
  return (100 * worst).toFixed(1);
}

/**
 * Reads a CellResults back from parsed JSON, checking the format and version (a notebook must not plot a file
 * of another kind or an older layout as if it were this one).
 */
export function cellResultsFromJson(x: unknown): CellResults {
  const o = x as Partial<CellResults> | null;
  if (!o || typeof o !== "object" || o.format !== CELL_RESULTS_FORMAT || o.version !== CELL_RESULTS_VERSION) {
    throw new FileFormatError("not a cell-results file of this version", { expected: `format "${CELL_RESULTS_FORMAT}", version ${CELL_RESULTS_VERSION}`, got: o && typeof o === "object" ? `format ${String(o.format)}, version ${String(o.version)}` : typeof x });
  }
  return o as CellResults;
}
