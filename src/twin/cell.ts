/**
 * The twin's electrochemistry, from the same charge history as the volumes: galvanostatic voltage curves, the
 * equivalent-circuit parameters and impedance spectra at each CT time, a blocking-electrode spectrum (ionic
 * conductivity) and a DC polarisation run (electronic conductivity).
 *
 * Model (phenomenological, documented so nobody mistakes it for a measurement):
 * - R0 (bulk) = L / (sigma_ion A).
 * - R_int = (ASR_int0 + d_interphase / sigma_interphase) / A: rises as the Li2S/Li3P layer thickens (Fig. 3c).
 * - R_ct = ASR_ct0 / (a A), a = 1 + g q_interfaceLi + s_dep d_dep, with d_dep the deposits' Li as an
 *   equivalent thickness (um): falls slowly while Li roughens the electrode, then steeply once the deposits
 *   in Li3PS4 add surface (from the nucleation time, 1.0 h by default).
 * - Polarisation eta = [j (ASR_bulk + ASR_int) + (2RT/F) asinh(j / 2 j0)] / (1 - (j/j_lim)^2), j0 = RT/(F ASR_ct):
 *   ohmic + Butler-Volmer, amplified near a limiting current (the 1.0 mA/cm2 screening run's large polarisation).
 *   Plating on the working electrode: voltage_V = -eta. The curve ends at the short.
 * - Arcs: R_int || CPE1 and R_ct || CPE2, Q chosen so the Hsu-Mansfeld effective capacitance
 *   C = Q^(1/alpha) R^((1-alpha)/alpha) equals the parameter (about 0.01 uF and 10 uF, Fig. S6 / Table S1).
 */
import { circuitImpedance, parseCircuit } from "../electrochem/index.js";
import { LI_UM_PER_MAH_CM2, RT_F_V } from "../numerics/constants.js";
import { chargeState } from "./history.js";
import { shortTime_h, type TwinParameters } from "./params.js";
import { gaussianAt } from "../numerics/random.js";

export const CELL_CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)";
export const BLOCKING_CIRCUIT = "p(R0,C0)-CPE1";

export interface CellResistances {
  time_h: number;
  current_mA_cm2: number;
  R_bulk_ohm: number;
  R_int_ohm: number;
  R_ct_ohm: number;
  /** Relative active area of the plating electrode (1 = pristine). */
  areaFactor: number;
  /** Circuit parameters in impedance.py naming for CELL_CIRCUIT. */
  circuit: Record<string, number>;
  /** Effective capacitances of the two arcs, F. */
  C_int_F: number;
  C_ct_F: number;
}

/** Q of a CPE whose Hsu-Mansfeld effective capacitance in parallel with R is C_F. */
export function cpeQForCapacitance(C_F: number, R_ohm: number, alpha: number): number {
  return Math.pow(C_F, alpha) * Math.pow(R_ohm, alpha - 1);
}

export function cellResistances(p: TwinParameters, time_h: number, current_mA_cm2 = p.history.current_mA_cm2): CellResistances {
  const c = p.cell;
  const s = chargeState(p, time_h, current_mA_cm2);
  const A = c.electrodeArea_cm2;
  const asrBulk = (p.geometry.electrolyte_um * 1e-4) / c.ionicConductivity_S_cm;
  const asrInt = c.interfaceASR0_ohm_cm2 + (s.interphase_um * 1e-4) / c.interphaseConductivity_S_cm;
  const areaFactor = 1 + c.roughnessGain_per_mAh_cm2 * s.interfaceLi_mAh_cm2 + c.depositSpecificArea_per_um * s.depositLi_mAh_cm2 * LI_UM_PER_MAH_CM2;
  const asrCt = c.chargeTransferASR0_ohm_cm2 / areaFactor;
  const R0 = asrBulk / A, R1 = asrInt / A, R2 = asrCt / A;
  const [a1, a2] = c.cpeAlpha;
  const circuit = {
    R0,
    R1,
    CPE1_0: cpeQForCapacitance(c.interfaceCapacitance_F, R1, a1),
    CPE1_1: a1,
    R2,
    CPE2_0: cpeQForCapacitance(c.chargeTransferCapacitance_F, R2, a2),
    CPE2_1: a2,
  };
  return {
    time_h,
    current_mA_cm2,
    R_bulk_ohm: R0,
    R_int_ohm: R1,
    R_ct_ohm: R2,
    areaFactor,
    circuit,
    C_int_F: c.interfaceCapacitance_F,
    C_ct_F: c.chargeTransferCapacitance_F,
  };
}

/** Polarisation (V, positive) of the cell at time_h and current density. */
export function polarisation_V(p: TwinParameters, time_h: number, current_mA_cm2 = p.history.current_mA_cm2): number {
  const r = cellResistances(p, time_h, current_mA_cm2);
  const A = p.cell.electrodeArea_cm2;
  const j = current_mA_cm2 * 1e-3;
  const ohmic = j * (r.R_bulk_ohm + r.R_int_ohm) * A;
  const j0 = RT_F_V / (r.R_ct_ohm * A);
  const ct = 2 * RT_F_V * Math.asinh(j / (2 * j0));
  const x = current_mA_cm2 / p.cell.limitingCurrent_mA_cm2;
  return (ohmic + ct) / (1 - x * x);
}

export interface VoltageCurve {
  current_mA_cm2: number;
  /** Time, s; current through the cell, mA (electrodeArea x density); working-electrode voltage, V. */
  time_s: Float64Array;
  current_mA: Float64Array;
  voltage_V: Float64Array;
  /** Time of the short, h: the curve's last point; after it the voltage can no longer be measured. */
  short_h: number;
}

/** Galvanostatic plating curve from 0 to the short, sampled every voltageStep_s, with 0.5 mV noise. */
export function voltageCurve(p: TwinParameters, current_mA_cm2 = p.history.current_mA_cm2): VoltageCurve {
  const ts = shortTime_h({ ...p, history: { ...p.history, current_mA_cm2 } });
  const dt = p.cell.voltageStep_s;
  const n = Math.floor((ts * 3600) / dt + 1e-9) + 1;
  const last = Math.abs((n - 1) * dt - ts * 3600) < 1e-6 ? n : n + 1;
  const time_s = new Float64Array(last);
  const voltage_V = new Float64Array(last);
  const current_mA = new Float64Array(last).fill(current_mA_cm2 * p.cell.electrodeArea_cm2);
  const stream = 1000 + Math.round(current_mA_cm2 * 1000);
  for (let i = 0; i < last; i++) {
    const t = Math.min(i * dt, ts * 3600);
    time_s[i] = t;
    voltage_V[i] = -polarisation_V(p, t / 3600, current_mA_cm2) + 5e-4 * gaussianAt(p.seed, stream, i);
  }
  return { current_mA_cm2, time_s, current_mA, voltage_V, short_h: ts };
}

/** Log-spaced frequencies from fmax down to fmin (Hz), pointsPerDecade per decade, both ends included. */
export function eisFrequencies(fmax_Hz: number, fmin_Hz: number, pointsPerDecade: number): Float64Array {
  const decades = Math.log10(fmax_Hz / fmin_Hz);
  const n = Math.max(2, Math.round(decades * pointsPerDecade) + 1);
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = fmax_Hz * Math.pow(10, (-decades * i) / (n - 1));
  return f;
}

export interface ImpedanceSpectrum {
  label: string;
  time_h: number | null;
  circuit: string;
  /** True circuit parameters (impedance.py names, SI units). */
  params: Record<string, number>;
  freq_Hz: Float64Array;
  /** Z = re_ohm + j im_ohm (im < 0 on capacitive arcs), with relative noise. */
  re_ohm: Float64Array;
  im_ohm: Float64Array;
}

function noisy(p: TwinParameters, stream: number, z: { re_ohm: Float64Array; im_ohm: Float64Array }): void {
  const s = p.cell.eisNoise;
  for (let i = 0; i < z.re_ohm.length; i++) {
    const m = Math.hypot(z.re_ohm[i]!, z.im_ohm[i]!);
    z.re_ohm[i]! += s * m * gaussianAt(p.seed, stream, 2 * i);
    z.im_ohm[i]! += s * m * gaussianAt(p.seed, stream, 2 * i + 1);
  }
}

/** Impedance spectrum of the Li/Li3PS4/Li cell at time_h (3 MHz to 0.1 Hz by default). */
export function cellSpectrum(p: TwinParameters, time_h: number): ImpedanceSpectrum {
  const r = cellResistances(p, time_h);
  const c = p.cell;
  const freq_Hz = eisFrequencies(c.eisFreqMax_Hz, c.eisFreqMin_Hz, c.eisPointsPerDecade);
  const z = circuitImpedance(parseCircuit(CELL_CIRCUIT), r.circuit, freq_Hz);
  noisy(p, 2000 + Math.round(time_h * 1000), z);
  return { label: `cell t=${time_h} h`, time_h, circuit: CELL_CIRCUIT, params: r.circuit, freq_Hz, ...z };
}

/** Blocking-electrode (SS/Li3PS4/SS) spectrum: bulk R || geometric C, then the double-layer CPE. */
export function blockingSpectrum(p: TwinParameters): ImpedanceSpectrum {
  const c = p.cell;
  const R0 = (c.blockingThickness_um * 1e-4) / (c.ionicConductivity_S_cm * c.blockingArea_cm2);
  const params = { R0, C0: c.blockingGeometricCapacitance_F, CPE1_0: c.blockingQ, CPE1_1: c.blockingAlpha };
  const freq_Hz = eisFrequencies(c.eisFreqMax_Hz, c.eisFreqMin_Hz, c.eisPointsPerDecade);
  const z = circuitImpedance(parseCircuit(BLOCKING_CIRCUIT), params, freq_Hz);
  noisy(p, 3000, z);
  return { label: "blocking electrodes (ionic conductivity)", time_h: null, circuit: BLOCKING_CIRCUIT, params, freq_Hz, ...z };
}

export interface DcPolarisation {
  voltage_V: number;
  thickness_um: number;
  area_cm2: number;
  time_s: Float64Array;
  current_A: Float64Array;
  /** True steady (electronic) current, A, and the electronic conductivity it encodes, S/cm. */
  steadyCurrent_A: number;
  electronicConductivity_S_cm: number;
}

/**
 * Hebb-Wagner DC polarisation with Li-ion blocking electrodes: the ionic current decays from V/R_bulk with
 * time constant tau to leave the electronic current V sigma_e A / L, sampled every 10 s, with relative noise.
 */
export function dcPolarisation(p: TwinParameters): DcPolarisation {
  const c = p.cell;
  const L_cm = c.blockingThickness_um * 1e-4;
  const Ie = (c.dcVoltage_V * c.electronicConductivity_S_cm * c.blockingArea_cm2) / L_cm;
  const I0 = (c.dcVoltage_V * c.ionicConductivity_S_cm * c.blockingArea_cm2) / L_cm;
  const n = Math.floor(c.dcDuration_s / 10) + 1;
  const time_s = new Float64Array(n);
  const current_A = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = i * 10;
    time_s[i] = t;
    current_A[i] = (Ie + I0 * Math.exp(-t / c.dcTau_s)) * (1 + c.dcNoise * gaussianAt(p.seed, 4000, i));
  }
  return {
    voltage_V: c.dcVoltage_V,
    thickness_um: c.blockingThickness_um,
    area_cm2: c.blockingArea_cm2,
    time_s,
    current_A,
    steadyCurrent_A: Ie,
    electronicConductivity_S_cm: c.electronicConductivity_S_cm,
  };
}
