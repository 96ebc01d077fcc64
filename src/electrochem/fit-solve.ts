/**
 * Step 2 of a circuit fit: Levenberg-Marquardt (src/numerics) on the weighted stacked residuals [Re, Im], from the
 * start and from seeded random perturbations of it.
 */
import { levenbergMarquardt, type LeastSquaresProblem, type LevenbergMarquardtOutcome } from "../numerics/least-squares.js";
import { gaussian, seededRandom } from "../numerics/random.js";
import { ConvergenceError } from "../util/errors.js";
import type { FitOptions } from "./fit.js";
import { clipU, fromU, type PreparedFit } from "./fit-prepare.js";
import { orderBlocksByTimeConstant } from "./fit-start.js";

export interface StartRun {
  lm: LevenbergMarquardtOutcome;
  /** Full parameter vector (fixed values filled in, blocks ordered when asked). */
  p: Float64Array;
}

export interface SolvedFit {
  /** Every start, in order. */
  outcomes: StartRun[];
  /** The converged starts, best (lowest cost) first; never empty. */
  ok: StartRun[];
  nStarts: number;
}

/** Free parameters from transformed coordinates. */
export function freeParams(pr: PreparedFit, u: Float64Array): Float64Array {
  return Float64Array.from(pr.specs, (sp, j) => fromU(sp, u[j] ?? NaN));
}

/** The solver's view: weighted residuals and their Jacobian with respect to the transformed coordinates. */
function leastSquaresProblem(pr: PreparedFit): LeastSquaresProblem {
  const { n, sw, specs, spectrum: s } = pr;
  const k = specs.length;
  const zr = new Float64Array(n);
  const zi = new Float64Array(n);
  const jr = new Float64Array(k * n);
  const ji = new Float64Array(k * n);
  return {
    k,
    m: 2 * n,
    project: (j, v) => {
      const sp = specs[j];
      return sp ? clipU(sp, v) : v;
    },
    evaluate(u, r, J) {
      const p = freeParams(pr, u);
      pr.evaluateFree(p, zr, zi, jr, ji);
      let cost = 0;
      for (let i = 0; i < n; i++) {
        const a = (sw[i] ?? 0) * ((zr[i] ?? 0) - (s.re_ohm[i] ?? 0));
        const b = (sw[n + i] ?? 0) * ((zi[i] ?? 0) - (s.im_ohm[i] ?? 0));
        r[i] = a;
        r[n + i] = b;
        cost += a * a + b * b;
      }
      specs.forEach((sp, j) => {
        const dpdu = sp.transform === "log" ? (p[j] ?? 0) : 1;
        for (let i = 0; i < n; i++) {
          J[i * k + j] = (sw[i] ?? 0) * (jr[j * n + i] ?? 0) * dpdu;
          J[(n + i) * k + j] = (sw[n + i] ?? 0) * (ji[j * n + i] ?? 0) * dpdu;
        }
      });
      return Number.isFinite(cost) ? cost : Infinity;
    },
  };
}

/** Runs every start; throws ConvergenceError when none converges. */
export function solveFit(pr: PreparedFit, options: FitOptions): SolvedFit {
  const problem = leastSquaresProblem(pr);
  const order = options.orderByTimeConstant ?? true;
  const nStarts = Math.max(1, Math.floor(options.starts ?? 8));
  const rand = seededRandom(options.seed ?? 1);
  const spread = (options.startSpread_decades ?? 0.5) * Math.LN10;
  const maxIterations = options.maxIterations ?? 300;
  const outcomes: StartRun[] = [];
  for (let st = 0; st < nStarts; st++) {
    const u = Float64Array.from(pr.u0);
    if (st > 0) {
      pr.specs.forEach((sp, j) => {
        const uj = u[j] ?? 0;
        if (sp.transform === "log") u[j] = uj + spread * gaussian(rand);
        else u[j] = Math.max(sp.lo, Math.min(sp.hi, (pr.u0[j] ?? 0) + 0.1 * gaussian(rand))); // exponents vary little in practice
      });
    }
    const lm = levenbergMarquardt(problem, u, { maxIterations });
    let p = pr.expand(freeParams(pr, lm.u));
    if (order) p = orderBlocksByTimeConstant(pr.circuit, p, pr.fixedIdx);
    outcomes.push({ lm, p });
  }
  const ok = outcomes.filter((o) => o.lm.converged && Number.isFinite(o.lm.cost));
  if (ok.length === 0) {
    const best = outcomes.reduce((a, b) => (b.lm.cost < a.lm.cost ? b : a));
    throw new ConvergenceError("circuit fit did not converge from any start", {
      path: pr.spectrum.source,
      field: pr.circuit.text,
      expected: `convergence within ${maxIterations} iterations`,
      got: `${nStarts} starts, best chi-square ${best.lm.cost.toPrecision(4)} after ${best.lm.iterations} iterations`,
    });
  }
  ok.sort((a, b) => a.lm.cost - b.lm.cost);
  return { outcomes, ok, nStarts };
}
