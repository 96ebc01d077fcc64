/**
 * Step 3 of a circuit fit: statistics at the best start. Covariance from J^T W J (with a rank analysis when it is
 * singular), parameters at bounds, whether the starts agree, relative residuals and the parallel blocks' time
 * constants and effective capacitances.
 */
import { spdInverse, symmetricEigen } from "../numerics/linalg.js";
import { circuitToString, effectiveCapacitance, toParamRecord, type Circuit } from "./circuit.js";
import type { FitOptions, FitResult, ParallelBlockInfo } from "./fit.js";
import type { ParamSpec, PreparedFit } from "./fit-prepare.js";
import { rcBlocks } from "./fit-start.js";
import type { SolvedFit, StartRun } from "./fit-solve.js";
import { relativeResiduals } from "./spectrum.js";

/**
 * Is a fitted value at one of its bounds? Measured relative to the parameter's own scale: its magnitude for a scale
 * parameter (R, C, Q, ...), the allowed width for an exponent. An absolute tolerance (1e-9) called every parameter
 * below 1e-9 in SI units (a 20 pF capacitor) "at" its lower bound. The projection of the solver puts a held
 * parameter exactly on its bound, so 1e-9 of the scale separates held from free.
 * A scale parameter without a given bound on that side has an automatic box of 1e15 either side of its start (a guard
 * against overflow, see fit-prepare.ts); ending within a decade of that box's edge means it ran off towards 0 or
 * infinity (the data do not determine it), which is reported as being at a bound too.
 */
function isAtBound(sp: ParamSpec, v: number, given: [number, number] | undefined): boolean {
  if (sp.transform === "log") {
    if (v < 1e-300) return true;
    const autoLo = (given?.[0] ?? 0) === 0;
    const autoHi = (given?.[1] ?? Infinity) === Infinity;
    const near = (b: number, auto: boolean) => Number.isFinite(b) && (auto ? Math.abs(Math.log10(v / b)) <= 1 : Math.abs(v - b) <= 1e-9 * Math.max(v, b));
    return near(sp.lo, autoLo) || near(sp.hi, autoHi);
  }
  const scale = Number.isFinite(sp.hi - sp.lo) ? sp.hi - sp.lo : Math.max(Math.abs(v), Math.abs(sp.lo), Math.abs(sp.hi));
  const near = (b: number) => Number.isFinite(b) && Math.abs(v - b) <= 1e-9 * scale;
  return near(sp.lo) || near(sp.hi);
}

const at = (a: ArrayLike<number>, i: number): number => a[i] ?? NaN;

/** Weighted model, chi-square and J^T W J (free parameters) at the full parameter vector p. */
function optimumNormalMatrix(pr: PreparedFit, p: Float64Array): { zr: Float64Array; zi: Float64Array; chi2: number; A: Float64Array } {
  const { n, sw, spectrum: s } = pr;
  const k = pr.freeIdx.length;
  const zr = new Float64Array(n);
  const zi = new Float64Array(n);
  const jr = new Float64Array(k * n);
  const ji = new Float64Array(k * n);
  pr.evaluateFree(Float64Array.from(pr.freeIdx, (g) => at(p, g)), zr, zi, jr, ji);
  let chi2 = 0;
  const A = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    const wr = at(sw, i);
    const wi = at(sw, n + i);
    const rr = wr * (at(zr, i) - at(s.re_ohm, i));
    const ri = wi * (at(zi, i) - at(s.im_ohm, i));
    chi2 += rr * rr + ri * ri;
    for (let a = 0; a < k; a++) {
      const ar = wr * at(jr, a * n + i);
      const ai = wi * at(ji, a * n + i);
      for (let b = a; b < k; b++) A[a * k + b] = at(A, a * k + b) + (ar * wr * at(jr, b * n + i) + ai * wi * at(ji, b * n + i));
    }
  }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) A[a * k + b] = at(A, b * k + a);
  return { zr, zi, chi2, A };
}

/**
 * Free-parameter covariance (k x k, scaled by scaleCov) from the normal matrix. Rank-deficient: the near-null
 * eigenvectors of the equilibrated J^T W J name the parameters the data cannot separate; they get NaN, the rest
 * their errors from the pseudo-inverse. Returns the indices of the unidentifiable parameters.
 */
function freeCovariance(A: Float64Array, k: number, scaleCov: number): { cov: number[][]; unidentifiable: number[] } {
  const cov: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(NaN));
  const set = (a: number, b: number, v: number) => {
    const row = cov[a];
    if (row) row[b] = v;
  };
  const inv = spdInverse(A, k);
  if (inv) {
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) set(a, b, at(inv, a * k + b) * scaleCov);
    return { cov, unidentifiable: [] };
  }
  const d = Float64Array.from({ length: k }, (_, a) => 1 / Math.sqrt(Math.max(at(A, a * k + a), 1e-300)));
  const S = Float64Array.from(A, (v, idx) => v * at(d, Math.floor(idx / k)) * at(d, idx % k));
  const { values, vectors } = symmetricEigen(S, k);
  const lmax = Math.max(...values);
  const bad = new Set<number>();
  for (let e = 0; e < k; e++) {
    if (at(values, e) > 1e-10 * lmax) continue;
    for (let a = 0; a < k; a++) if (Math.abs(at(vectors, a * k + e)) > 0.05) bad.add(a);
  }
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      if (bad.has(a) || bad.has(b)) continue;
      let sum = 0;
      for (let e = 0; e < k; e++) if (at(values, e) > 1e-10 * lmax) sum += (at(vectors, a * k + e) * at(vectors, b * k + e)) / at(values, e);
      set(a, b, sum * at(d, a) * at(d, b) * scaleCov);
    }
  }
  return { cov, unidentifiable: [...bad] };
}

/**
 * Compares starts: how many found the best minimum, and did any find a different one of similar quality? Costs
 * within 1e-3 of the best (relative) are the same minimum. Near chi-square 0 (noise-free data) a relative test alone
 * calls rounding a different minimum (starts that all reach the truth end anywhere between 1e-25 and 1e-19), so
 * costs below the floor that residuals of 1e-8 |Z| at every point would give count as equal too: 1e-8 lies far below
 * the precision of any measured impedance (about 1e-4 relative) and far above the model's rounding (about 1e-13).
 */
function compareStarts(pr: PreparedFit, solved: SolvedFit, stdErr: Record<string, number>, dof: number): { atBest: number; warnings: string[] } {
  const { n, sw, spectrum: s, circuit } = pr;
  const [best] = solved.ok;
  if (!best) return { atBest: 0, warnings: [] };
  const p = best.p;
  let costFloor = 0;
  for (let i = 0; i < n; i++) costFloor += 1e-16 * (at(s.re_ohm, i) ** 2 + at(s.im_ohm, i) ** 2) * (at(sw, i) ** 2 + at(sw, n + i) ** 2);
  const tolCost = Math.max(1e-3 * best.lm.cost, costFloor);
  let atBest = 0;
  let rival: StartRun | null = null;
  for (const o of solved.ok) {
    const sameCost = o.lm.cost - best.lm.cost <= tolCost;
    const sameParams = o.p.every((v, j) => {
      const se = stdErr[circuit.paramNames[j] ?? ""] ?? NaN;
      const pj = at(p, j);
      const tol = Number.isFinite(se) ? Math.max(0.1 * se, 1e-6 * Math.abs(pj)) : 1e-3 * Math.abs(pj);
      return Math.abs(v - pj) <= tol;
    });
    if (sameCost && sameParams) atBest++;
    else if (!rival && o.lm.cost <= best.lm.cost * (1 + 0.05 / Math.max(dof, 1)) + costFloor) rival = o;
  }
  const warnings: string[] = [];
  const nStarts = solved.nStarts;
  if (rival) {
    const rp = rival.p;
    warnings.push(
      `starts disagree: a start reached chi-square ${rival.lm.cost.toPrecision(6)} (best ${best.lm.cost.toPrecision(6)}) with different parameters (${circuit.paramNames
        .map((nm, j) => `${nm}=${at(rp, j).toPrecision(3)}`)
        .join(", ")}); the minimum is not unique`,
    );
  } else if (nStarts > 1 && atBest < Math.ceil(nStarts / 2)) {
    warnings.push(`only ${atBest} of ${nStarts} starts reached the best minimum; the fit depends on the start (try more starts or a better initial guess)`);
  }
  return { atBest, warnings };
}

/** Time constant, effective capacitance (Hsu-Mansfeld for a CPE) and its delta-method error of each R||C block. */
function parallelBlocks(circuit: Circuit, p: Float64Array, covFull: number[][]): ParallelBlockInfo[] {
  const cov = (a: number, b: number) => covFull[a]?.[b] ?? NaN;
  return rcBlocks(circuit).map((b) => {
    const iR = b.r.paramOffset;
    const iQ = b.c.paramOffset;
    const R = at(p, iR);
    const base = { block: circuitToString(b.node), resistor: b.r.name, capacitor: b.c.name };
    if (b.c.type === "C") {
      const C = at(p, iQ);
      const tau = R * C;
      return { ...base, tau_s: tau, C_eff_F: C, C_eff_stdErr_F: Math.sqrt(cov(iQ, iQ)), f_peak_Hz: 1 / (2 * Math.PI * tau) };
    }
    const Q = at(p, iQ);
    const a = at(p, iQ + 1);
    const Ceff = effectiveCapacitance(R, Q, a);
    // d ln C / d(R, Q, alpha)
    const g = [(1 - a) / (a * R), 1 / (a * Q), -(Math.log(Q) + Math.log(R)) / (a * a)];
    const idx = [iR, iQ, iQ + 1];
    let v = 0;
    for (let x = 0; x < 3; x++) for (let y = 0; y < 3; y++) v += at(g, x) * at(g, y) * cov(at(idx, x), at(idx, y));
    const tau = Math.pow(R * Q, 1 / a);
    return { ...base, tau_s: tau, C_eff_F: Ceff, C_eff_stdErr_F: Ceff * Math.sqrt(v), f_peak_Hz: 1 / (2 * Math.PI * tau) };
  });
}

/** The FitResult of the best start. */
export function summariseFit(pr: PreparedFit, solved: SolvedFit, options: FitOptions): FitResult {
  const { circuit, n, spectrum: s, freeIdx, specs } = pr;
  const best = solved.ok[0];
  if (!best) throw new RangeError("summariseFit needs at least one converged start (solveFit guarantees one)");
  const p = best.p;
  const k = freeIdx.length;
  const kAll = circuit.paramNames.length;
  const m = 2 * n;
  const { zr, zi, chi2, A } = optimumNormalMatrix(pr, p);
  const dof = m - k;
  const redchi = chi2 / dof;
  const warnings: string[] = [];
  const { cov: covF, unidentifiable } = freeCovariance(A, k, pr.sigma ? 1 : redchi);
  if (unidentifiable.length) {
    const names = unidentifiable.map((a) => circuit.paramNames[freeIdx[a] ?? -1] ?? "?");
    warnings.push(`the Jacobian is rank-deficient at the optimum: ${names.join(", ")} are not identifiable from these data (standard errors NaN)`);
  }
  // Free-parameter covariance embedded into the full matrix (fixed rows and columns 0).
  const covFull: number[][] = Array.from({ length: kAll }, () => new Array<number>(kAll).fill(0));
  freeIdx.forEach((ga, a) =>
    freeIdx.forEach((gb, b) => {
      const row = covFull[ga];
      if (row) row[gb] = covF[a]?.[b] ?? NaN;
    }),
  );
  const variance = (a: number) => covFull[a]?.[a] ?? NaN;
  const stdErr: Record<string, number> = {};
  circuit.paramNames.forEach((name, a) => (stdErr[name] = Math.sqrt(variance(a))));
  const correlation = covFull.map((row, a) => row.map((v, b) => (a === b ? (v > 0 ? 1 : NaN) : v / Math.sqrt(variance(a) * variance(b)))));

  const atBounds = specs.filter((sp) => isAtBound(sp, at(p, sp.index), options.bounds?.[sp.name])).map((sp) => sp.name);
  if (atBounds.length) warnings.push(`parameters at a bound (their standard errors assume the bound is inactive): ${atBounds.join(", ")}`);
  const starts = compareStarts(pr, solved, stdErr, dof);
  warnings.push(...starts.warnings);
  if (!best.lm.converged) warnings.push("best start did not meet the convergence tolerances");

  return {
    circuit,
    paramNames: [...circuit.paramNames],
    params: toParamRecord(circuit, p),
    stdErr,
    covariance: covFull,
    correlation,
    weighting: pr.sigma ? "sigma" : pr.weighting,
    chiSquare: chi2,
    reducedChiSquare: redchi,
    dof,
    nValues: m,
    aic: m * Math.log(chi2 / m) + 2 * k,
    bic: m * Math.log(chi2 / m) + k * Math.log(m),
    iterations: best.lm.iterations,
    fit: { re_ohm: zr, im_ohm: zi },
    residuals: relativeResiduals(s, zr, zi),
    freq_Hz: s.freq_Hz,
    blocks: parallelBlocks(circuit, p, covFull),
    parametersAtBounds: atBounds,
    starts: solved.outcomes.map((o) => ({ converged: o.lm.converged, chiSquare: o.lm.cost, iterations: o.lm.iterations, params: toParamRecord(circuit, o.p) })),
    startsAtBest: starts.atBest,
    warnings,
  };
}
