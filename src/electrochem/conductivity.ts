/**
 * Conductivities of a solid-electrolyte pellet between two blocking electrodes.
 * Ionic: sigma = L / (R A) with R the bulk resistance from impedance. Electronic (Hebb-Wagner, ion-blocking
 * electrodes under a DC bias): sigma_e = I_ss L / (V A) with I_ss the steady-state current.
 */
import { ParameterError, checkRange } from "../util/errors.js";
import { type FitOptions, type FitResult, fitCircuit } from "./fit.js";
import type { ImpedanceSpectrum } from "./spectrum.js";

export interface Conductivity {
  sigma_S_cm: number;
  /** 1-sigma error propagated from the resistance or current (S/cm); NaN when unknown. */
  sigma_stdErr_S_cm: number;
}

/** sigma (S/cm) = L / (R A) for thickness_um (um), area_cm2 (cm^2), R_ohm (ohm). */
export function ionicConductivity(R_ohm: number, thickness_um: number, area_cm2: number, R_stdErr_ohm = NaN): Conductivity {
  checkRange("R_ohm", R_ohm, 0, Infinity, "ohm", { lo: true });
  checkRange("thickness_um", thickness_um, 0, Infinity, "um", { lo: true });
  checkRange("area_cm2", area_cm2, 0, Infinity, "cm2", { lo: true });
  const sigma = (thickness_um * 1e-4) / (R_ohm * area_cm2);
  return { sigma_S_cm: sigma, sigma_stdErr_S_cm: (sigma * R_stdErr_ohm) / R_ohm };
}

export interface BlockingElectrodeOptions extends FitOptions {
  thickness_um: number;
  area_cm2: number;
  /**
   * Circuit for the blocking-electrode spectrum. Default "R0-CPE1": the bulk arc of a sulfide pellet lies above
   * a few MHz (R ~ 100 ohm, C_geo ~ 10 pF), so below that the spectrum is the bulk resistance plus the
   * electrode spike. Use "p(R0,CPE0)-CPE1" when the bulk arc is inside the band.
   */
  circuit?: string;
  /** Which resistor is the bulk. Default "R0". */
  resistor?: string;
}

/** Fits a blocking-electrode spectrum and converts the bulk resistance to ionic conductivity. */
export function ionicConductivityFromSpectrum(
  spectrum: ImpedanceSpectrum,
  options: BlockingElectrodeOptions,
): Conductivity & { R_ohm: number; R_stdErr_ohm: number; fit: FitResult } {
  const circuit = options.circuit ?? "R0-CPE1";
  const name = options.resistor ?? "R0";
  const fit = fitCircuit(circuit, spectrum, options);
  const R = fit.params[name];
  if (R === undefined) {
    throw new ParameterError("bulk resistor not in circuit", { field: "resistor", expected: fit.paramNames.join(", "), got: name });
  }
  const se = fit.stdErr[name]!;
  return { ...ionicConductivity(R, options.thickness_um, options.area_cm2, se), R_ohm: R, R_stdErr_ohm: se, fit };
}

export interface DcPolarisationOptions {
  thickness_um: number;
  area_cm2: number;
  /** Applied DC bias (V). */
  voltage_V: number;
  /** Fraction of the record at its end averaged as the steady state. Default 0.1. */
  steadyFraction?: number;
}

export interface DcPolarisationResult extends Conductivity {
  /** Mean current over the steady-state window (A). */
  I_ss_A: number;
  /** Relative change of the current across the window from a linear fit (|slope| * window / I_ss). */
  relativeDrift: number;
  /** False when the current still drifts by more than 5 % across the window. */
  steady: boolean;
}

/**
 * Electronic conductivity from a DC polarisation record (time_s, current_A) with ion-blocking electrodes:
 * sigma_e = I_ss L / (V A).
 */
export function electronicConductivity(
  time_s: ArrayLike<number>,
  current_A: ArrayLike<number>,
  options: DcPolarisationOptions,
): DcPolarisationResult {
  const n = time_s.length;
  if (current_A.length !== n || n < 3) {
    throw new ParameterError("time and current must have equal length >= 3", { field: "current_A", expected: `${n} values`, got: String(current_A.length) });
  }
  checkRange("voltage_V", Math.abs(options.voltage_V), 0, Infinity, "V", { lo: true });
  checkRange("thickness_um", options.thickness_um, 0, Infinity, "um", { lo: true });
  checkRange("area_cm2", options.area_cm2, 0, Infinity, "cm2", { lo: true });
  const frac = options.steadyFraction ?? 0.1;
  checkRange("steadyFraction", frac, 0, 1, "", { lo: true });
  const tEnd = time_s[n - 1]!;
  const tStart = tEnd - frac * (tEnd - time_s[0]!);
  let sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, m = 0;
  for (let i = 0; i < n; i++) {
    const t = time_s[i]!;
    const y = current_A[i]!;
    if (t < tStart || !Number.isFinite(y)) continue;
    sx += t;
    sy += y;
    sxx += t * t;
    sxy += t * y;
    syy += y * y;
    m++;
  }
  if (m < 3) {
    throw new ParameterError("too few points in the steady-state window", { field: "steadyFraction", expected: ">= 3 points", got: `${m}` });
  }
  const mean = sy / m;
  const varT = sxx / m - (sx / m) ** 2;
  const slope = varT > 0 ? (sxy / m - (sx / m) * mean) / varT : 0;
  const resVar = Math.max(0, syy / m - mean * mean - slope * slope * varT);
  const semI = Math.sqrt(resVar / Math.max(m - 2, 1));
  const drift = Math.abs((slope * (tEnd - tStart)) / mean);
  const g = (options.thickness_um * 1e-4) / (Math.abs(options.voltage_V) * options.area_cm2);
  return {
    I_ss_A: mean,
    sigma_S_cm: Math.abs(mean) * g,
    sigma_stdErr_S_cm: semI * g,
    relativeDrift: drift,
    steady: drift <= 0.05,
  };
}

/**
 * Electronic conductivity from steady-state currents at several biases: the conductance is the slope of
 * I_ss against V through the origin (least squares), sigma_e = G L / A.
 */
export function electronicConductivityFromIV(
  voltage_V: ArrayLike<number>,
  current_A: ArrayLike<number>,
  thickness_um: number,
  area_cm2: number,
): Conductivity & { conductance_S: number } {
  const n = voltage_V.length;
  if (current_A.length !== n || n < 1) {
    throw new ParameterError("voltage and current must have equal, non-zero length", { field: "current_A", expected: String(n), got: String(current_A.length) });
  }
  let vv = 0, vi = 0;
  for (let i = 0; i < n; i++) {
    vv += voltage_V[i]! * voltage_V[i]!;
    vi += voltage_V[i]! * current_A[i]!;
  }
  if (!(vv > 0)) throw new ParameterError("all biases are zero", { field: "voltage_V", expected: "non-zero biases", got: "0" });
  const G = vi / vv;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += (current_A[i]! - G * voltage_V[i]!) ** 2;
  const seG = n > 1 ? Math.sqrt(rss / (n - 1) / vv) : NaN;
  const k = (thickness_um * 1e-4) / area_cm2;
  return { conductance_S: G, sigma_S_cm: G * k, sigma_stdErr_S_cm: seG * k };
}
