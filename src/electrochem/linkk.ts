/**
 * Lin-KK validity test (Schoenleber et al., Electrochim. Acta 131 (2014) 20).
 *
 * The spectrum is fitted by a KK-compliant Voigt chain Z = R0 + j omega L + sum_k R_k / (1 + j omega tau_k)
 * with M time constants log-spaced from 1/omega_max to 1/omega_min. The fit is linear in (R0, L, R_k); rows are
 * weighted by 1/|Z| and real and imaginary parts are fitted together. M grows from 1 until
 * mu = 1 - sum(|R_k|, R_k < 0) / sum(|R_k|, R_k >= 0) drops to the criterion c (0.85) and stays there (see
 * `confirm`), which stops before the chain starts fitting noise. A spectrum is KK-consistent when the relative residuals (Z - Z_fit)/|Z| are at
 * noise level and show no trend.
 */
import { ParameterError } from "../util/errors.js";
import { lstsq } from "../numerics/linalg.js";
import { type ImpedanceSpectrum, type ModelImpedance, relativeResiduals, validateSpectrum } from "./spectrum.js";

export interface LinKKOptions {
  /**
   * M is the first number of RC elements whose mu stays <= c for `confirm` consecutive M. Default 3;
   * impedance.py's rule is confirm = 1. mu is not monotonic in M: with CPE-like arcs a single dip below c at
   * small M stops the original rule while the chain still under-fits by several percent of |Z|.
   */
  confirm?: number;
  /** mu criterion. Default 0.85. */
  c?: number;
  /** Largest number of RC elements. Default 50. */
  maxM?: number;
  /**
   * Include a series capacitance (for blocking-electrode spectra). Default false. Not validated yet: on a
   * capacitive spectrum the mu criterion can stop at very few RC elements.
   */
  addCapacitance?: boolean;
  /**
   * Largest |relative residual| (real or imaginary) for `valid`. Default 0.02 (2 % of |Z|), which flags drift
   * that changes an arc by more than roughly 15 % during the sweep; set it to about 4 times the relative noise
   * of the instrument, when that is known, to catch smaller drift.
   */
  residualTolerance?: number;
}

export interface LinKKResult extends ModelImpedance {
  /** Number of RC elements used. */
  M: number;
  mu: number;
  /** mu for M = 1, 2, ... as far as it was computed. */
  muTrace: number[];
  /** mu reached c (false: maxM was hit first). */
  muCriterionMet: boolean;
  tau_s: Float64Array;
  R_ohm: Float64Array;
  R0_ohm: number;
  L_H: number;
  /** Series capacitance (F) when addCapacitance, else Infinity. */
  C_F: number;
  maxAbsResidual: number;
  /** Boukamp pseudo chi-square: sum(res_re^2 + res_im^2). */
  pseudoChiSquare: number;
  /** max |residual| <= residualTolerance. */
  valid: boolean;
}

interface LinFit {
  x: Float64Array;
  tau: Float64Array;
  mu: number;
}

function fitVoigt(omega: Float64Array, zr: Float64Array, zi: Float64Array, M: number, addC: boolean): LinFit {
  const n = omega.length;
  const tMin = 1 / omega[0]!;
  const tMax = 1 / omega[n - 1]!;
  const tau = new Float64Array(M);
  for (let k = 0; k < M; k++) tau[k] = M === 1 ? tMin : tMin * Math.pow(tMax / tMin, k / (M - 1));
  // columns: R0, L, [1/C], R_1..R_M
  const cols = 2 + (addC ? 1 : 0) + M;
  const a = new Float64Array(2 * n * cols);
  const b = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const w = omega[i]!;
    const wt = 1 / Math.hypot(zr[i]!, zi[i]!);
    const re = i * cols;
    const im = (n + i) * cols;
    a[re + 0] = wt;
    a[im + 1] = w * wt;
    let c = 2;
    if (addC) {
      a[im + c] = -wt / w; // Z_C = -j/(omega C): linear in 1/C
      c++;
    }
    for (let k = 0; k < M; k++) {
      const wt2 = w * tau[k]!;
      const d = 1 + wt2 * wt2;
      a[re + c + k] = wt / d;
      a[im + c + k] = (-wt2 / d) * wt;
    }
    b[i] = zr[i]! * wt;
    b[n + i] = zi[i]! * wt;
  }
  const x = lstsq(a, 2 * n, cols, b);
  let neg = 0;
  let pos = 0;
  const off = 2 + (addC ? 1 : 0);
  for (let k = 0; k < M; k++) {
    const r = x[off + k]!;
    if (r < 0) neg += -r;
    else pos += r;
  }
  const mu = pos > 0 ? 1 - neg / pos : -Infinity;
  return { x, tau, mu };
}

/** Runs Lin-KK on a spectrum; throws for bad data (naming the source) like the fitter. */
export function linKK(spectrum: ImpedanceSpectrum, options: LinKKOptions = {}): LinKKResult {
  const c = options.c ?? 0.85;
  const maxM = options.maxM ?? 50;
  const addC = options.addCapacitance ?? false;
  const tol = options.residualTolerance ?? 0.02;
  if (!(c > 0 && c <= 1)) throw new ParameterError("mu criterion out of range", { field: "c", expected: "(0, 1]", got: String(c) });
  if (!(maxM >= 1)) throw new ParameterError("maxM must be >= 1", { field: "maxM", expected: ">= 1", got: String(maxM) });
  const s = validateSpectrum(spectrum, 4);
  const n = s.freq_Hz.length;
  const omega = Float64Array.from(s.freq_Hz, (f) => 2 * Math.PI * f);
  const Mmax = Math.min(maxM, Math.max(1, 2 * n - 3 - (addC ? 1 : 0)));
  const confirm = Math.max(1, Math.floor(options.confirm ?? 3));
  const fits: LinFit[] = [];
  const fitAt = (m: number): LinFit => (fits[m] ??= fitVoigt(omega, s.re_ohm, s.im_ohm, m, addC));
  let M = Mmax;
  for (let m = 1; m <= Mmax; m++) {
    if (fitAt(m).mu > c) continue;
    let held = true;
    for (let q = m + 1; q < m + confirm && q <= Mmax; q++) {
      if (fitAt(q).mu > c) {
        held = false;
        break;
      }
    }
    if (held) {
      M = m;
      break;
    }
  }
  const { x, tau, mu } = fitAt(M);
  const muTrace = Array.from({ length: fits.length - 1 }, (_, k) => fits[k + 1]?.mu ?? NaN);
  const off = 2 + (addC ? 1 : 0);
  const R = x.slice(off, off + M);
  const invC = addC ? x[2]! : 0;
  const fr = new Float64Array(n);
  const fi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = omega[i]!;
    let re = x[0]!;
    let im = w * x[1]! - invC / w;
    for (let k = 0; k < M; k++) {
      const wt = w * tau[k]!;
      const d = 1 + wt * wt;
      re += R[k]! / d;
      im -= (R[k]! * wt) / d;
    }
    fr[i] = re;
    fi[i] = im;
  }
  const { re: rr, im: ri } = relativeResiduals(s, fr, fi);
  let maxAbs = 0;
  let chi = 0;
  rr.forEach((a, i) => {
    const b = ri[i] ?? NaN;
    maxAbs = Math.max(maxAbs, Math.abs(a), Math.abs(b));
    chi += a * a + b * b;
  });
  return {
    M,
    mu,
    muTrace,
    muCriterionMet: mu <= c,
    tau_s: tau,
    R_ohm: R,
    R0_ohm: x[0]!,
    L_H: x[1]!,
    C_F: addC ? 1 / invC : Infinity,
    freq_Hz: s.freq_Hz,
    fit: { re_ohm: fr, im_ohm: fi },
    residuals: { re: rr, im: ri },
    maxAbsResidual: maxAbs,
    pseudoChiSquare: chi,
    valid: maxAbs <= tol,
  };
}
