/**
 * Complex nonlinear least-squares fitting of equivalent circuits (CNLS).
 *
 * Three steps, one file each: fit-prepare.ts (checks, weights, start), fit-solve.ts (Levenberg-Marquardt from
 * src/numerics on the stacked, weighted [Re, Im] residuals, multi-start) and fit-summary.ts (covariance, rank, start
 * comparison, effective capacitances). The solver works in transformed coordinates: scale parameters (R, C, L, Q, A_W, Z0, tau)
 * as ln p, which keeps them positive and makes ohm and farad comparable, and CPE exponents directly, projected
 * onto their bounds (default 0 < alpha <= 1). Several seeded starts are run and compared.
 *
 * Weightings multiply the squared residuals (pyimpspec's convention):
 *   unit          w = 1
 *   modulus       w = 1/|Z|
 *   proportional  w_re = 1/Re(Z)^2, w_im = 1/Im(Z)^2
 *   boukamp       w = 1/|Z|^2         (default: relative error, right for noise proportional to |Z|)
 * or give explicit standard deviations `sigma_ohm`, then chi-square is absolute and the covariance unscaled.
 */
import type { Circuit } from "./circuit.js";
import { prepareFit } from "./fit-prepare.js";
import { solveFit } from "./fit-solve.js";
import { summariseFit } from "./fit-summary.js";
import type { ImpedanceSpectrum, ModelImpedance } from "./spectrum.js";

export { guessParameters, orderBlocksByTimeConstant } from "./fit-start.js";

export type Weighting = "unit" | "modulus" | "proportional" | "boukamp";

export interface FitOptions {
  /** Starting values; missing ones come from `guessParameters`. */
  initial?: Record<string, number>;
  /** Parameters held at the given values (not fitted; standard error 0). */
  fixed?: Record<string, number>;
  /** [lower, upper] per parameter; defaults: [0, inf) for scale parameters, [0, 1] for CPE alpha. */
  bounds?: Record<string, [number, number]>;
  weighting?: Weighting;
  /** Known standard deviations of Re Z and Im Z (ohm); overrides `weighting` and makes chi-square absolute. */
  sigma_ohm?: { re: ArrayLike<number>; im: ArrayLike<number> };
  /** Number of starts: the given/guessed start plus starts-1 seeded random perturbations. Default 8. */
  starts?: number;
  seed?: number;
  /** Spread (standard deviation) of random starts, in decades for scale parameters. Default 0.5. */
  startSpread_decades?: number;
  maxIterations?: number;
  /** Sort R||C and R||CPE blocks of the same kind by time constant (fastest first). Default true. */
  orderByTimeConstant?: boolean;
}

export interface ParallelBlockInfo {
  /** e.g. "p(R1,CPE1)" */
  block: string;
  resistor: string;
  capacitor: string;
  /** R C, or (R Q)^(1/alpha) for a CPE (s). */
  tau_s: number;
  /** Effective capacitance (F): C itself, or Hsu-Mansfeld Q^(1/alpha) R^((1-alpha)/alpha) for a CPE. */
  C_eff_F: number;
  /** 1-sigma error of C_eff from the covariance by the delta method (F). */
  C_eff_stdErr_F: number;
  /** Characteristic frequency 1/(2 pi tau) (Hz). */
  f_peak_Hz: number;
}

export interface StartOutcome {
  converged: boolean;
  chiSquare: number;
  iterations: number;
  params: Record<string, number>;
}

/** A circuit fit; `fit`, `residuals` and `freq_Hz` (ModelImpedance) as Lin-KK reports them. */
export interface FitResult extends ModelImpedance {
  circuit: Circuit;
  paramNames: string[];
  params: Record<string, number>;
  /** 1-sigma standard errors; NaN where the covariance is singular, 0 for fixed parameters. */
  stdErr: Record<string, number>;
  /** Covariance matrix in paramNames order (units of the parameters); rows of fixed parameters are 0. */
  covariance: number[][];
  /** Correlation matrix in paramNames order (NaN for fixed parameters). */
  correlation: number[][];
  weighting: Weighting | "sigma";
  /** Weighted sum of squared residuals. */
  chiSquare: number;
  /** chiSquare / (2 N - k), k = number of free parameters. */
  reducedChiSquare: number;
  dof: number;
  /** 2 N (real values fitted). */
  nValues: number;
  /** n ln(chi2/n) + 2k with n = 2N. */
  aic: number;
  /** n ln(chi2/n) + k ln n. */
  bic: number;
  iterations: number;
  blocks: ParallelBlockInfo[];
  parametersAtBounds: string[];
  starts: StartOutcome[];
  /** Number of starts that reached the best minimum (same chi-square and parameters). */
  startsAtBest: number;
  warnings: string[];
}

/**
 * Fits `circuit` (a string in impedance.py syntax or a parsed Circuit) to a spectrum by weighted CNLS.
 * Throws ConvergenceError when no start converges, FileFormatError/ParameterError for bad data.
 */
export function fitCircuit(circuit: Circuit | string, spectrum: ImpedanceSpectrum, options: FitOptions = {}): FitResult {
  const prepared = prepareFit(circuit, spectrum, options);
  return summariseFit(prepared, solveFit(prepared, options), options);
}
