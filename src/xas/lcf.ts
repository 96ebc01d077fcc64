/**
 * Linear-combination fitting (LCF) of a normalised XAS spectrum with standards (e.g. Li3PS4, Li2S, Li3P at the
 * S and P K-edges).
 *
 * Standards are interpolated (linearly) onto the sample's energies inside a window relative to E0. Weights are
 * non-negative by default (Lawson-Hanson NNLS); sum-to-1 is optional and exact (solved as an equality-
 * constrained least squares on the positive set). An optional common energy shift of the sample is fitted by
 * a bracketing search on chi-square. Errors are 1 sigma from the covariance scaled to reduced chi-square = 1
 * (as Larch), for weights not held at zero; the shift's error comes from the curvature of chi-square.
 * R-factor = sum (y - yfit)^2 / sum y^2.
 *
 * Refused with a ParameterError: a NaN or infinity anywhere in a standard (not only inside the window: a corrupt
 * file is corrupt), duplicate or decreasing energies in a standard or the sample, an E0 outside the sample's
 * energies, and standards whose weights the data cannot determine because, inside the window, one is a linear
 * combination of others (the same file loaded twice, a mixture given as a standard). Nearly dependent standards
 * are fitted with a warning in the result.
 */
import { ParameterError } from "../util/errors.js";
import { nnls, spdInverse, lstsq, symmetricEigen } from "../numerics/linalg.js";
import { checkEnergyGrid } from "./normalize.js";

export interface XasStandard {
  name: string;
  energy_eV: ArrayLike<number>;
  /** Normalised absorption (norm or flat). */
  mu: ArrayLike<number>;
}

export interface LcfOptions {
  /** E0 of the sample (eV): the window is relative to it. */
  e0_eV: number;
  /** Fit window relative to E0 (eV). Default [-20, 30]. */
  window_eV?: [number, number];
  /** Force the weights to sum to 1. Default false. */
  sumToOne?: boolean;
  /** Allow negative weights (plain least squares). Default false. */
  allowNegative?: boolean;
  /** Fit a common energy shift of the sample within +/- this many eV. Default 0 (no shift). */
  maxE0Shift_eV?: number;
}

export interface LcfResult {
  names: string[];
  weights: number[];
  /** 1-sigma errors; 0 for a weight held at its bound of zero. */
  weightErrors: number[];
  weightSum: number;
  /** Energy shift applied to the sample (eV) and its 1-sigma error (NaN when not fitted). */
  e0Shift_eV: number;
  e0Shift_stdErr_eV: number;
  rFactor: number;
  chiSquare: number;
  reducedChiSquare: number;
  /** Points in the window. */
  nPoints: number;
  /** Number of varied parameters (free weights, minus one for sum-to-1, plus the shift). */
  nVaried: number;
  window_eV: [number, number];
  energy_eV: Float64Array;
  data: Float64Array;
  fit: Float64Array;
  residual: Float64Array;
  /** Each standard's weighted contribution on energy_eV. */
  components: Record<string, Float64Array>;
  /** Conditions the numbers should be read with (nearly collinear standards); empty when none. */
  warnings: string[];
  options: Required<Omit<LcfOptions, "window_eV">> & { window_eV: [number, number] };
}

/** Linear interpolation of (x, y) at xi; throws naming the standard when xi is outside its range. */
function interp(x: ArrayLike<number>, y: ArrayLike<number>, xi: number, name: string): number {
  const n = x.length;
  if (xi < x[0]! - 1e-9 || xi > x[n - 1]! + 1e-9) {
    throw new ParameterError("standard does not cover the fit window", { field: name, expected: `energies ${x[0]}..${x[n - 1]} eV to include`, got: `${xi} eV` });
  }
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= xi) lo = mid;
    else hi = mid;
  }
  const t = x[hi]! === x[lo]! ? 0 : (xi - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}

interface Solve {
  w: Float64Array;
  chi2: number;
  free: boolean[];
}

/** Weights for a design matrix a (m x k) and data y under the chosen constraints. */
function solveWeights(a: Float64Array, m: number, k: number, y: Float64Array, sumToOne: boolean, allowNeg: boolean): Solve {
  let w: Float64Array;
  if (!sumToOne) {
    w = allowNeg ? lstsq(a, m, k, y) : nnls(a, m, k, y);
  } else {
    let free = new Array<boolean>(k).fill(true);
    if (!allowNeg) {
      // NNLS with a heavily weighted sum row finds the active set; the exact constrained solve follows.
      let scale = 0;
      for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!));
      const big = 1e3 * Math.max(scale, 1) * Math.sqrt(m);
      const aa = new Float64Array((m + 1) * k);
      aa.set(a);
      for (let j = 0; j < k; j++) aa[m * k + j] = big;
      const yy = new Float64Array(m + 1);
      yy.set(y);
      yy[m] = big;
      const w0 = nnls(aa, m + 1, k, yy);
      free = Array.from(w0, (v) => v > 0);
    }
    w = equalityLs(a, m, k, y, free);
    if (!allowNeg && w.some((v) => v < 0)) {
      // Rare: the exact solve left the cone; drop the offending standards and solve again.
      free = free.map((f, j) => f && w[j]! > 0);
      w = equalityLs(a, m, k, y, free);
    }
  }
  let chi2 = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += a[i * k + j]! * w[j]!;
    chi2 += (y[i]! - s) ** 2;
  }
  return { w, chi2, free: Array.from(w, (v) => allowNeg || v > 0) };
}

/** min ||A w - y|| subject to sum(w) = 1 and w_j = 0 where !free: eliminate the last free weight. */
function equalityLs(a: Float64Array, m: number, k: number, y: Float64Array, free: boolean[]): Float64Array {
  const idx = free.map((f, j) => (f ? j : -1)).filter((j) => j >= 0);
  const w = new Float64Array(k);
  if (idx.length === 0) return w;
  const last = idx[idx.length - 1]!;
  if (idx.length === 1) {
    w[last] = 1;
    return w;
  }
  const rest = idx.slice(0, -1);
  // y - a_last = sum_{j in rest} w_j (a_j - a_last)
  const b = new Float64Array(m * rest.length);
  const r = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    r[i] = y[i]! - a[i * k + last]!;
    rest.forEach((j, c) => (b[i * rest.length + c] = a[i * k + j]! - a[i * k + last]!));
  }
  const x = lstsq(b, m, rest.length, r);
  let s = 0;
  rest.forEach((j, c) => {
    w[j] = x[c]!;
    s += x[c]!;
  });
  w[last] = 1 - s;
  return w;
}

/**
 * Smallest eigenvalue of the Gram matrix of the design's columns scaled to unit norm, below which the standards'
 * weights are not determined: float64 rounding of interpolated spectra is about 1e-16 relative, so 1e-10 is
 * dependence up to rounding, far from any pair of distinct measured spectra.
 */
const DEPENDENT_EIGENVALUE = 1e-10;
/**
 * Below this smallest eigenvalue the weights' errors are inflated more than 1/sqrt(1e-3) ~ 30 times over those of
 * orthogonal standards: the fit is reported, with a warning. Distinct S K-edge standards (Li3PS4, Li2S, S8; common
 * edge step, different white lines) measure 0.04 over a -20 .. +30 eV window.
 */
const COLLINEAR_WARNING_EIGENVALUE = 1e-3;

/**
 * Checks that the data can determine every standard's weight: the design's columns (one per standard, in the fit
 * window), with a row of ones appended under sum-to-1 (the constraint then separates a standard from a scaled copy
 * of it), scaled to unit norm, must have a Gram matrix whose smallest eigenvalue is not ~0. Throws naming the
 * standards in the dependent combination (components above 0.1 of its eigenvector); returns a warning for nearly
 * dependent ones.
 */
function checkStandardsIndependent(a: Float64Array, m: number, k: number, names: readonly string[], sumToOne: boolean): string[] {
  if (k < 2) return [];
  const g = new Float64Array(k * k);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let q = p; q < k; q++) g[p * k + q] = (g[p * k + q] ?? 0) + (a[i * k + p]! * a[i * k + q]!);
  if (sumToOne) {
    // The constraint row weighs like an average standard, so neither it nor the spectra dominate the test.
    let mean = 0;
    for (let p = 0; p < k; p++) mean += g[p * k + p]! / k;
    for (let p = 0; p < k; p++) for (let q = p; q < k; q++) g[p * k + q] = (g[p * k + q] ?? 0) + mean;
  }
  for (let p = 0; p < k; p++) for (let q = 0; q < p; q++) g[p * k + q] = g[q * k + p]!;
  const d = Float64Array.from({ length: k }, (_, p) => 1 / Math.sqrt(Math.max(g[p * k + p]!, 1e-300)));
  const gn = Float64Array.from(g, (v, idx) => v * d[Math.floor(idx / k)]! * d[idx % k]!);
  const { values, vectors } = symmetricEigen(gn, k);
  let e = 0;
  for (let j = 1; j < k; j++) if (values[j]! < values[e]!) e = j;
  const lambda = values[e]!;
  const involved = names.filter((_, p) => Math.abs(vectors[p * k + e]!) > 0.1);
  if (lambda <= DEPENDENT_EIGENVALUE) {
    throw new ParameterError("standards are linearly dependent in the fit window: their weights are not determined", {
      field: "standards",
      expected: `standards of which none is a combination of the others${sumToOne ? " (under sum-to-1)" : ""}; drop one of the named`,
      got: `${involved.join(", ")} (smallest eigenvalue of the normalised Gram matrix ${lambda.toExponential(2)})`,
    });
  }
  if (lambda < COLLINEAR_WARNING_EIGENVALUE) {
    return [
      `standards ${involved.join(", ")} are nearly collinear in the fit window (smallest eigenvalue of the normalised Gram matrix ${lambda.toExponential(2)}): their weights are strongly correlated and their errors inflated about ${Math.round(1 / Math.sqrt(lambda))}x`,
    ];
  }
  return [];
}

/** Throws unless the given E0 lies inside the sample's energies (the window is placed relative to it). */
function checkE0InSample(e0: number, energy: ArrayLike<number>): void {
  const lo = energy[0]!;
  const hi = energy[energy.length - 1]!;
  if (!(Number.isFinite(e0) && e0 >= lo && e0 <= hi)) {
    throw new ParameterError("E0 outside the sample's energies", { field: "e0_eV", expected: `an energy inside the sample's scan, ${lo} .. ${hi} eV`, got: `${e0} eV` });
  }
}

/** Fits the sample (energy_eV, mu) as a non-negative (optionally sum-to-1) combination of standards. */
export function linearCombinationFit(
  energy_eV: ArrayLike<number>,
  mu: ArrayLike<number>,
  standards: XasStandard[],
  options: LcfOptions,
): LcfResult {
  if (standards.length === 0) throw new ParameterError("no standards given", { field: "standards", expected: ">= 1", got: "0" });
  if (energy_eV.length !== mu.length) throw new ParameterError("energy and mu differ in length", { field: "mu", expected: String(energy_eV.length), got: String(mu.length) });
  if (energy_eV.length === 0) throw new ParameterError("empty sample spectrum", { field: "energy_eV", expected: "energies and mu", got: "0 points" });
  checkEnergyGrid(energy_eV, "energy_eV");
  checkE0InSample(options.e0_eV, energy_eV);
  for (const st of standards) {
    if (st.energy_eV.length !== st.mu.length || st.energy_eV.length < 2) {
      throw new ParameterError("standard's energy and mu differ in length or are too short", { field: st.name, expected: ">= 2 equal-length arrays", got: `${st.energy_eV.length} energies, ${st.mu.length} values` });
    }
    checkEnergyGrid(st.energy_eV, st.name);
    for (let i = 0; i < st.mu.length; i++) {
      if (!Number.isFinite(st.mu[i]!)) {
        throw new ParameterError("non-finite value in a standard", { location: `point ${i}`, field: st.name, expected: `finite mu at every point (E = ${st.energy_eV[i]} eV)`, got: String(st.mu[i]) });
      }
    }
  }
  if (new Set(standards.map((x) => x.name)).size !== standards.length) {
    throw new ParameterError("standard names must be unique", { field: "standards", expected: "unique names", got: standards.map((x) => x.name).join(", ") });
  }
  const win = options.window_eV ?? [-20, 30];
  const sumToOne = options.sumToOne ?? false;
  const allowNeg = options.allowNegative ?? false;
  const maxShift = options.maxE0Shift_eV ?? 0;
  if (!(win[1] > win[0])) throw new ParameterError("empty fit window", { field: "window_eV", expected: "[lo, hi] with lo < hi", got: JSON.stringify(win) });
  const e0 = options.e0_eV;
  const sel: number[] = [];
  for (let i = 0; i < energy_eV.length; i++) {
    const r = energy_eV[i]! - e0;
    if (r >= win[0] && r <= win[1]) {
      if (!Number.isFinite(mu[i]!)) throw new ParameterError("non-finite sample value in the window", { field: "mu", location: `point ${i}`, expected: "finite", got: String(mu[i]) });
      sel.push(i);
    }
  }
  const k = standards.length;
  const m = sel.length;
  const nVary = k - (sumToOne ? 1 : 0) + (maxShift > 0 ? 1 : 0);
  if (m <= nVary) {
    throw new ParameterError("too few points in the fit window", { field: "window_eV", expected: `> ${nVary} points`, got: `${m} in [${win[0]}, ${win[1]}] eV around E0 = ${e0} eV` });
  }
  const ew = Float64Array.from(sel, (i) => energy_eV[i]!);
  const y = Float64Array.from(sel, (i) => mu[i]!);

  // Shifting the sample by dE is the same as evaluating the standards at E - dE on the sample's grid.
  const design = (dE: number): Float64Array => {
    const a = new Float64Array(m * k);
    standards.forEach((s, j) => {
      for (let i = 0; i < m; i++) a[i * k + j] = interp(s.energy_eV, s.mu, ew[i]! - dE, s.name);
    });
    return a;
  };
  const chiAt = (dE: number) => solveWeights(design(dE), m, k, y, sumToOne, allowNeg).chi2;
  const warnings = checkStandardsIndependent(design(0), m, k, standards.map((st) => st.name), sumToOne);

  let shift = 0;
  let shiftErr = NaN;
  if (maxShift > 0) {
    // Coarse scan, then golden-section refinement around the best grid point.
    const steps = 40;
    let best = 0;
    let bestChi = Infinity;
    for (let s = 0; s <= steps; s++) {
      const d = -maxShift + (2 * maxShift * s) / steps;
      const c = chiAt(d);
      if (c < bestChi) {
        bestChi = c;
        best = d;
      }
    }
    const h = (2 * maxShift) / steps;
    let lo = Math.max(-maxShift, best - h);
    let hi = Math.min(maxShift, best + h);
    const g = (Math.sqrt(5) - 1) / 2;
    let x1 = hi - g * (hi - lo);
    let x2 = lo + g * (hi - lo);
    let f1 = chiAt(x1);
    let f2 = chiAt(x2);
    for (let it = 0; it < 60 && hi - lo > 1e-6; it++) {
      if (f1 < f2) {
        hi = x2;
        x2 = x1;
        f2 = f1;
        x1 = hi - g * (hi - lo);
        f1 = chiAt(x1);
      } else {
        lo = x1;
        x1 = x2;
        f1 = f2;
        x2 = lo + g * (hi - lo);
        f2 = chiAt(x2);
      }
    }
    shift = 0.5 * (lo + hi);
  }
  const a = design(shift);
  const sol = solveWeights(a, m, k, y, sumToOne, allowNeg);
  const fit = new Float64Array(m);
  const components: Record<string, Float64Array> = {};
  standards.forEach((s) => (components[s.name] = new Float64Array(m)));
  for (let i = 0; i < m; i++) {
    let v = 0;
    for (let j = 0; j < k; j++) {
      const c = a[i * k + j]! * sol.w[j]!;
      components[standards[j]!.name]![i] = c;
      v += c;
    }
    fit[i] = v;
  }
  const residual = Float64Array.from(y, (v, i) => v - fit[i]!);
  let sy2 = 0;
  for (let i = 0; i < m; i++) sy2 += y[i]! * y[i]!;
  const nFree = sol.free.filter(Boolean).length;
  const nVaried = Math.max(0, nFree - (sumToOne && nFree > 0 ? 1 : 0)) + (maxShift > 0 ? 1 : 0);
  const redchi = sol.chi2 / Math.max(m - nVaried, 1);

  // Covariance of the free weights: (A_f^T A_f)^-1 s^2, projected onto sum(w) = 1 when constrained.
  const errs = new Array<number>(k).fill(0);
  const freeIdx = sol.free.map((f, j) => (f ? j : -1)).filter((j) => j >= 0);
  const kf = freeIdx.length;
  if (kf > 0) {
    const ata = new Float64Array(kf * kf);
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < kf; p++) for (let q = 0; q < kf; q++) ata[p * kf + q] = (ata[p * kf + q] ?? 0) + (a[i * k + freeIdx[p]!]! * a[i * k + freeIdx[q]!]!);
    }
    const inv = spdInverse(ata, kf);
    if (inv) {
      const cov = Float64Array.from(inv, (v) => v * redchi);
      if (sumToOne && kf > 1) {
        // C - C 1 (1^T C 1)^-1 1^T C
        const c1 = new Float64Array(kf);
        let s = 0;
        for (let p = 0; p < kf; p++) {
          for (let q = 0; q < kf; q++) c1[p] = (c1[p] ?? 0) + cov[p * kf + q]!;
          s += c1[p]!;
        }
        for (let p = 0; p < kf; p++) for (let q = 0; q < kf; q++) cov[p * kf + q] = (cov[p * kf + q] ?? 0) - ((c1[p]! * c1[q]!) / s);
      } else if (sumToOne && kf === 1) {
        cov[0] = 0;
      }
      freeIdx.forEach((j, p) => (errs[j] = Math.sqrt(Math.max(cov[p * kf + p]!, 0))));
    } else {
      freeIdx.forEach((j) => (errs[j] = NaN));
    }
  }
  if (maxShift > 0) {
    // sigma^2 = 2 / (d2 chi2 / d dE2) x redchi
    const h = 0.05;
    const c0 = sol.chi2;
    const cp = chiAt(Math.min(shift + h, maxShift + h));
    const cm = chiAt(shift - h);
    const curv = (cp - 2 * c0 + cm) / (h * h);
    shiftErr = curv > 0 ? Math.sqrt((2 * redchi) / curv) : NaN;
  }
  return {
    names: standards.map((s) => s.name),
    weights: Array.from(sol.w),
    weightErrors: errs,
    weightSum: sol.w.reduce((p, v) => p + v, 0),
    e0Shift_eV: shift,
    e0Shift_stdErr_eV: shiftErr,
    rFactor: sol.chi2 / sy2,
    chiSquare: sol.chi2,
    reducedChiSquare: redchi,
    nPoints: m,
    nVaried,
    window_eV: [win[0], win[1]],
    energy_eV: ew,
    data: y,
    fit,
    residual,
    components,
    warnings,
    options: { e0_eV: e0, window_eV: [win[0], win[1]], sumToOne, allowNegative: allowNeg, maxE0Shift_eV: maxShift },
  };
}

/**
 * Fits every combination of 1..maxComponents standards (Larch's lincombo_fitall) and returns the results
 * sorted by reduced chi-square (best first), so a user sees whether a simpler mixture explains the data as well.
 */
export function linearCombinationFitAll(
  energy_eV: ArrayLike<number>,
  mu: ArrayLike<number>,
  standards: XasStandard[],
  options: LcfOptions & { maxComponents?: number },
): LcfResult[] {
  const maxC = Math.min(options.maxComponents ?? standards.length, standards.length);
  if (!(maxC >= 1)) throw new ParameterError("maxComponents must be >= 1", { field: "maxComponents", expected: ">= 1", got: String(options.maxComponents) });
  const out: LcfResult[] = [];
  const pick = (start: number, chosen: XasStandard[]) => {
    if (chosen.length > 0) out.push(linearCombinationFit(energy_eV, mu, chosen, options));
    if (chosen.length === maxC) return;
    for (let j = start; j < standards.length; j++) pick(j + 1, [...chosen, standards[j]!]);
  };
  pick(0, []);
  return out.sort((a, b) => a.reducedChiSquare - b.reducedChiSquare);
}
