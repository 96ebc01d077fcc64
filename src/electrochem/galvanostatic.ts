/**
 * Galvanostatic plating of a Li | solid electrolyte | Li cell: polarisation over time, short-circuit detection,
 * time and cumulative areal capacity to failure, and current-density screening summaries (Park et al. Fig. 2a,
 * Fig. S2).
 *
 * A short circuit shows in the record in one of two ways: the cell voltage collapses towards zero (a metallic
 * Li path bypasses the electrolyte), or the record loses its signal (NaN, an instrument limit, or the data stop
 * or pause while the current was still on). Both are detected; the earlier one defines failure.
 */
import { LI_UM_PER_MAH_CM2 } from "../numerics/constants.js";
import { median } from "../numerics/stats.js";
import { FileFormatError, ParameterError, checkRange } from "../util/errors.js";
import type { DataTable } from "./readers.js";

export interface GalvanostaticRecord {
  time_s: ArrayLike<number>;
  voltage_V: ArrayLike<number>;
  /** Applied current density (mA/cm2), either one value or one per sample (sign ignored). */
  current_mA_cm2: number | ArrayLike<number>;
  source?: string;
}

export interface ShortCircuitOptions {
  /** Collapse when |V| < collapseFraction x the reference polarisation. Default 0.2. */
  collapseFraction?: number;
  /** The reference polarisation is the median |V| over this window before each point (s). Default 600. */
  referenceWindow_s?: number;
  /** A collapse must last this long (or to the end of the record) to count (s). Default 60. */
  minDuration_s?: number;
  /** A time gap longer than gapFactor x the median sampling interval is a loss of signal. Default 20. */
  gapFactor?: number;
  /** |V| at or above this is an instrument limit (loss of signal). Default Infinity. */
  voltageLimit_V?: number;
  /** Planned duration of the step (s); a record ending earlier than this counts as loss of signal. */
  plannedDuration_s?: number;
}

export type FailureMode = "voltage-collapse" | "loss-of-signal" | "none";

export interface ShortCircuitResult {
  failed: boolean;
  mode: FailureMode;
  /** Time of failure (s); NaN when the cell did not fail. */
  failureTime_s: number;
  /** Same in hours. */
  failureTime_h: number;
  /** Index of the first sample at or after failure (-1 when none). */
  failureIndex: number;
  /** Charge passed per area up to failure, or to the end of the record when there was none (mAh/cm2). */
  capacity_mAh_cm2: number;
  /** Equivalent dense Li thickness plated (um), 4.85 um per mAh/cm2 (Li: 3860 mAh/g, 0.534 g/cm3). */
  liThickness_um: number;
  /** Median |V| over the record before failure (V). */
  medianPolarisation_V: number;
  /** Detail for the report, e.g. "|V| fell to 0.002 V (< 0.2 x 0.085 V) at 3.2 h". */
  reason: string;
}


function currentAt(rec: GalvanostaticRecord, i: number): number {
  const c = rec.current_mA_cm2;
  return Math.abs(typeof c === "number" ? c : c[i]!);
}

/** Cumulative |charge| per area (mAh/cm2) at each sample, trapezoidal in time. */
export function cumulativeCapacity(rec: GalvanostaticRecord): Float64Array {
  const n = rec.time_s.length;
  const q = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    const dt_h = (rec.time_s[i]! - rec.time_s[i - 1]!) / 3600;
    q[i] = q[i - 1]! + 0.5 * (currentAt(rec, i) + currentAt(rec, i - 1)) * dt_h;
  }
  return q;
}

/** |V| over time with NaN kept (V). The polarisation of a symmetric cell is the magnitude of its voltage. */
export function polarisation(rec: GalvanostaticRecord): Float64Array {
  return Float64Array.from(rec.voltage_V, (v) => Math.abs(v));
}

/**
 * Polarisation (V) at chosen times (h), e.g. the CT time points: the median |V| of the samples within
 * +/- halfWindow_s of each time (NaN where there are none, e.g. after the short).
 */
export function polarisationAt(rec: GalvanostaticRecord, times_h: ArrayLike<number>, halfWindow_s = 60): Float64Array {
  validate(rec);
  const out = new Float64Array(times_h.length);
  for (let k = 0; k < times_h.length; k++) {
    const tc = times_h[k]! * 3600;
    const vals: number[] = [];
    for (let i = 0; i < rec.time_s.length; i++) {
      const v = Math.abs(rec.voltage_V[i]!);
      if (Math.abs(rec.time_s[i]! - tc) <= halfWindow_s && Number.isFinite(v)) vals.push(v);
    }
    out[k] = median(vals);
  }
  return out;
}

function validate(rec: GalvanostaticRecord): void {
  const n = rec.time_s.length;
  if (rec.voltage_V.length !== n) {
    throw new ParameterError("time and voltage differ in length", { path: rec.source, field: "voltage_V", expected: String(n), got: String(rec.voltage_V.length) });
  }
  if (typeof rec.current_mA_cm2 !== "number" && rec.current_mA_cm2.length !== n) {
    throw new ParameterError("current array length differs from time", { path: rec.source, field: "current_mA_cm2", expected: String(n), got: String(rec.current_mA_cm2.length) });
  }
  if (n < 2) throw new ParameterError("record too short", { path: rec.source, field: "time_s", expected: ">= 2 samples", got: String(n) });
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(rec.time_s[i]!)) {
      throw new ParameterError("non-finite time", { path: rec.source, field: "time_s", location: `sample ${i}`, expected: "finite", got: String(rec.time_s[i]) });
    }
    if (i > 0 && !(rec.time_s[i]! > rec.time_s[i - 1]!)) {
      throw new ParameterError("time is not strictly increasing", { path: rec.source, field: "time_s", location: `sample ${i}`, expected: `> ${rec.time_s[i - 1]}`, got: String(rec.time_s[i]) });
    }
  }
}

/** Finds the first short circuit in a galvanostatic record. */
export function detectShortCircuit(rec: GalvanostaticRecord, options: ShortCircuitOptions = {}): ShortCircuitResult {
  validate(rec);
  const frac = options.collapseFraction ?? 0.2;
  checkRange("collapseFraction", frac, 0, 1, "", { lo: true, hi: true });
  const win = options.referenceWindow_s ?? 600;
  const minDur = options.minDuration_s ?? 60;
  const gapFactor = options.gapFactor ?? 20;
  const vLimit = options.voltageLimit_V ?? Infinity;
  const n = rec.time_s.length;
  const t = rec.time_s;
  const pol = polarisation(rec);
  const dts: number[] = [];
  for (let i = 1; i < n; i++) dts.push(t[i]! - t[i - 1]!);
  const dtMed = median(dts);

  let failIdx = -1;
  let mode: FailureMode = "none";
  let reason = "";
  // Sliding window of valid |V| for the reference (kept sorted lazily: windows are small in practice).
  let lo = 0;
  for (let i = 0; i < n && failIdx < 0; i++) {
    const v = pol[i]!;
    if (i > 0 && t[i]! - t[i - 1]! > gapFactor * dtMed) {
      failIdx = i - 1;
      mode = "loss-of-signal";
      reason = `no data for ${(t[i]! - t[i - 1]!).toFixed(0)} s after t = ${(t[i - 1]! / 3600).toFixed(3)} h`;
      break;
    }
    if (!Number.isFinite(v) || v >= vLimit) {
      failIdx = i;
      mode = "loss-of-signal";
      reason = `voltage ${Number.isFinite(v) ? `at the instrument limit (${v} V)` : "not measured (NaN)"} at t = ${(t[i]! / 3600).toFixed(3)} h`;
      break;
    }
    while (t[i]! - t[lo]! > win) lo++;
    if (i - lo < 3) continue; // need a few points to have a reference
    const ref: number[] = [];
    for (let j = lo; j < i; j++) if (Number.isFinite(pol[j]!)) ref.push(pol[j]!);
    const vRef = median(ref);
    if (v < frac * vRef) {
      // Confirm the collapse lasts minDuration_s (or to the end of the record).
      let j = i;
      let held = true;
      while (j < n && t[j]! - t[i]! < minDur) {
        if (Number.isFinite(pol[j]!) && pol[j]! >= frac * vRef) {
          held = false;
          break;
        }
        j++;
      }
      if (held) {
        failIdx = i;
        mode = "voltage-collapse";
        reason = `|V| fell to ${v.toPrecision(3)} V (< ${frac} x ${vRef.toPrecision(3)} V) at t = ${(t[i]! / 3600).toFixed(3)} h`;
      }
    }
  }
  if (failIdx < 0 && options.plannedDuration_s !== undefined && t[n - 1]! < options.plannedDuration_s - gapFactor * dtMed) {
    failIdx = n - 1;
    mode = "loss-of-signal";
    reason = `record ends at ${(t[n - 1]! / 3600).toFixed(3)} h before the planned ${(options.plannedDuration_s / 3600).toFixed(3)} h`;
  }
  const q = cumulativeCapacity(rec);
  const end = failIdx >= 0 ? failIdx : n - 1;
  const before: number[] = [];
  for (let i = 0; i < (failIdx >= 0 ? failIdx : n); i++) if (Number.isFinite(pol[i]!)) before.push(pol[i]!);
  const cap = q[end]!;
  return {
    failed: failIdx >= 0,
    mode,
    failureTime_s: failIdx >= 0 ? t[failIdx]! : NaN,
    failureTime_h: failIdx >= 0 ? t[failIdx]! / 3600 : NaN,
    failureIndex: failIdx,
    capacity_mAh_cm2: cap,
    liThickness_um: cap * LI_UM_PER_MAH_CM2,
    medianPolarisation_V: median(before),
    reason: failIdx >= 0 ? reason : "no short circuit detected",
  };
}

export interface ScreeningRow {
  label: string;
  current_mA_cm2: number;
  failed: boolean;
  mode: FailureMode;
  failureTime_h: number;
  capacity_mAh_cm2: number;
  medianPolarisation_V: number;
  /** Median |V| / j: an areal resistance (ohm cm2). */
  arealResistance_ohm_cm2: number;
}

export interface ScreeningSummary {
  rows: ScreeningRow[];
  /** Lowest current density at which a cell failed (mA/cm2); NaN when none failed. */
  criticalCurrentDensity_mA_cm2: number;
  /** Highest current density that survived (mA/cm2); NaN when all failed. */
  highestSurvived_mA_cm2: number;
}

/**
 * Screens cells (or steps) run at several current densities: one row per run, sorted by current density,
 * plus the critical current density. Report CCD with the protocol (capacity per step) it was measured with.
 */
export function screeningSummary(
  runs: Array<GalvanostaticRecord & { label?: string }>,
  options: ShortCircuitOptions = {},
): ScreeningSummary {
  const rows = runs.map((r, k) => {
    const res = detectShortCircuit(r, options);
    const j = median(Array.from({ length: r.time_s.length }, (_, i) => currentAt(r, i)));
    return {
      label: r.label ?? r.source ?? `run ${k}`,
      current_mA_cm2: j,
      failed: res.failed,
      mode: res.mode,
      failureTime_h: res.failureTime_h,
      capacity_mAh_cm2: res.capacity_mAh_cm2,
      medianPolarisation_V: res.medianPolarisation_V,
      arealResistance_ohm_cm2: res.medianPolarisation_V / (j * 1e-3),
    };
  });
  rows.sort((a, b) => a.current_mA_cm2 - b.current_mA_cm2);
  const failed = rows.filter((r) => r.failed).map((r) => r.current_mA_cm2);
  const survived = rows.filter((r) => !r.failed).map((r) => r.current_mA_cm2);
  return {
    rows,
    criticalCurrentDensity_mA_cm2: failed.length ? Math.min(...failed) : NaN,
    highestSurvived_mA_cm2: survived.length ? Math.max(...survived) : NaN,
  };
}

/**
 * A galvanostatic record from a cycler table (parseMpt / parseDta / parseCsv): time_s, the working-electrode
 * voltage (Ewe_V) and the current (I_mA, or I_A) divided by the electrode area (cm2). Rows with NaN voltage
 * are kept (they are the loss of signal the detector looks for).
 */
export function galvanostaticFromTable(t: DataTable, area_cm2: number): GalvanostaticRecord {
  checkRange("area_cm2", area_cm2, 0, Infinity, "cm2", { lo: true });
  const time = t.columns.time_s;
  const volt = t.columns.Ewe_V;
  const iMa = t.columns.I_mA ?? (t.columns.I_A ? Float64Array.from(t.columns.I_A, (v) => v * 1e3) : undefined);
  const missing = [!time && "time_s", !volt && "Ewe_V", !iMa && "I_mA or I_A"].filter(Boolean);
  if (missing.length) {
    throw new FileFormatError("missing column for galvanostatic analysis", {
      path: t.source,
      field: missing.join(", "),
      expected: "time_s, Ewe_V and I_mA (or I_A)",
      got: t.info.map((i) => `${i.original} -> ${i.name}`).join(", "),
    });
  }
  return { time_s: time!, voltage_V: volt!, current_mA_cm2: Float64Array.from(iMa!, (v) => v / area_cm2), source: t.source };
}
