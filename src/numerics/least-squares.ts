/**
 * Nonlinear least squares: Levenberg-Marquardt with Marquardt scaling, Nielsen's damping update and an optional
 * per-coordinate projection onto bounds (a step is projected, and the predicted reduction is that of the projected
 * step). Used by the circuit fitter; the linear solvers are in linalg.ts.
 */
import { choleskyInPlace, choleskySolveInPlace } from "./linalg.js";

export interface LeastSquaresProblem {
  /** Number of parameters. */
  k: number;
  /** Number of residuals. */
  m: number;
  /** Fills residuals r (m) and Jacobian J (m x k, row-major) at u; returns sum r^2 (Infinity when not finite). */
  evaluate(u: Float64Array, r: Float64Array, J: Float64Array): number;
  /** Coordinate j of u projected onto its bounds (default: unbounded). */
  project?(j: number, value: number): number;
}

export interface LevenbergMarquardtOptions {
  maxIterations: number;
  /** Relative cost reduction that ends the iteration (default 1e-12). */
  ftol?: number;
  /** Relative step length that ends it (default 1e-10). */
  xtol?: number;
  /** Largest gradient component relative to the cost that ends it (default 1e-12). */
  gtol?: number;
}

export interface LevenbergMarquardtOutcome {
  u: Float64Array;
  /** Sum of squared residuals at u. */
  cost: number;
  iterations: number;
  converged: boolean;
}

/** Minimises sum r(u)^2 from u0. */
export function levenbergMarquardt(pr: LeastSquaresProblem, u0: Float64Array, options: LevenbergMarquardtOptions): LevenbergMarquardtOutcome {
  const { k, m } = pr;
  const maxIter = options.maxIterations;
  const ftol = options.ftol ?? 1e-12;
  const xtol = options.xtol ?? 1e-10;
  const gtol = options.gtol ?? 1e-12;
  const project = pr.project ? pr.project.bind(pr) : (_j: number, v: number) => v;
  let u = Float64Array.from(u0, (v, j) => project(j, v));
  const r = new Float64Array(m);
  const J = new Float64Array(m * k);
  let cost = pr.evaluate(u, r, J);
  if (!Number.isFinite(cost)) return { u, cost, iterations: 0, converged: false };
  const A = new Float64Array(k * k);
  const g = new Float64Array(k);
  // Normal equations A = J^T J (upper triangle, mirrored), g = J^T r.
  const normal = () => {
    A.fill(0);
    g.fill(0);
    for (let i = 0; i < m; i++) {
      const row = i * k;
      const ri = r[i] ?? 0;
      for (let a = 0; a < k; a++) {
        const ja = J[row + a] ?? 0;
        if (ja === 0) continue;
        g[a] = (g[a] ?? 0) + ja * ri;
        for (let b = a; b < k; b++) A[a * k + b] = (A[a * k + b] ?? 0) + ja * (J[row + b] ?? 0);
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) A[a * k + b] = A[b * k + a] ?? 0;
  };
  normal();
  let maxDiag = 0;
  for (let a = 0; a < k; a++) maxDiag = Math.max(maxDiag, A[a * k + a] ?? 0);
  let lambda = 1e-3;
  let nu = 2;
  const M = new Float64Array(k * k);
  const delta = new Float64Array(k);
  const rNew = new Float64Array(m);
  const JNew = new Float64Array(m * k);
  let converged = false;
  let it = 0;
  for (; it < maxIter; it++) {
    let gmax = 0;
    for (const ga of g) gmax = Math.max(gmax, Math.abs(ga));
    if (gmax <= gtol * Math.max(cost, 1e-300) || cost === 0) {
      converged = true;
      break;
    }
    M.set(A);
    for (let a = 0; a < k; a++) {
      const d = A[a * k + a] ?? 0;
      M[a * k + a] = d + lambda * Math.max(d, 1e-12 * maxDiag, 1e-300);
    }
    if (!choleskyInPlace(M, k)) {
      lambda *= nu;
      nu *= 2;
      if (lambda > 1e16) break;
      continue;
    }
    for (let a = 0; a < k; a++) delta[a] = -(g[a] ?? 0);
    choleskySolveInPlace(M, k, delta);
    const uNew = new Float64Array(k);
    let stepNorm = 0;
    let uNorm = 0;
    for (let a = 0; a < k; a++) {
      const ua = u[a] ?? 0;
      const un = project(a, ua + (delta[a] ?? 0));
      uNew[a] = un;
      const d = un - ua;
      delta[a] = d;
      stepNorm += d * d;
      uNorm += ua * ua;
    }
    if (Math.sqrt(stepNorm) <= xtol * (Math.sqrt(uNorm) + xtol)) {
      converged = true;
      break;
    }
    const costNew = pr.evaluate(uNew, rNew, JNew);
    // predicted reduction of 0.5*cost for the (projected) step: -(g.d + 0.5 d A d)
    let pred = 0;
    for (let a = 0; a < k; a++) {
      let ad = 0;
      for (let b = 0; b < k; b++) ad += (A[a * k + b] ?? 0) * (delta[b] ?? 0);
      const da = delta[a] ?? 0;
      pred -= (g[a] ?? 0) * da + 0.5 * da * ad;
    }
    const actual = 0.5 * (cost - costNew);
    const rho = pred > 0 ? actual / pred : actual > 0 ? 1 : -1;
    if (Number.isFinite(costNew) && costNew < cost && rho > 0) {
      const rel = (cost - costNew) / cost;
      u = uNew;
      cost = costNew;
      r.set(rNew);
      J.set(JNew);
      normal();
      lambda *= Math.max(1 / 3, 1 - Math.pow(2 * rho - 1, 3));
      nu = 2;
      if (rel <= ftol) {
        converged = true;
        it++;
        break;
      }
    } else {
      lambda *= nu;
      nu *= 2;
      if (lambda > 1e16) {
        // No downhill step exists at any damping: a (possibly bound-constrained) minimum.
        converged = true;
        break;
      }
    }
  }
  return { u, cost, iterations: it, converged };
}
