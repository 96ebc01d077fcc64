/**
 * XAS normalisation following Larch's `pre_edge` rules, with every parameter, default or not, returned with
 * the result (Larch's defaults have changed between versions; a stored result must say what it used).
 *
 * Rules (energies relative to E0, eV):
 *   E0       energy of the largest dmu/dE (snapped to the grid)
 *   pre1     first-but-one energy - E0, rounded to 5 eV (2 eV when E0 is within 20 points of the start),
 *            not below the first energy; pre2 = pre1 / 2
 *   norm2    last energy - E0 rounded to 5 eV (not beyond the last energy);
 *            norm1 = min(25, 5 round(norm2/15)) (Larch's rule, xraylarch larch/xafs/pre_edge.py), and at most
 *            norm2 - 10 (Larch: norm2 - 2; 10 eV keeps a post-edge line from resting on a handful of points)
 *   nnorm    2 if norm2 - norm1 >= 300, 1 if >= 30, else 0
 *   pre-edge line fitted to mu E^nvict over [pre1, pre2]; post-edge polynomial of degree nnorm fitted to
 *   mu - pre over [norm1, norm2]; edge step = post(E0) - pre(E0); norm = (mu - pre) / step;
 *   flat = norm with the post-edge curvature (post - pre)/step removed above E0.
 *
 * Refused with a ParameterError (Larch repairs or replaces these silently): non-finite energies or mu, duplicate
 * or decreasing energies, and a given E0 outside the data (Larch replaces it by the steepest point; a stored
 * result would then claim an E0 the user never chose).
 */
import { ParameterError } from "../util/errors.js";
import { lstsq } from "../numerics/linalg.js";

export interface PreEdgeOptions {
  e0_eV?: number;
  /** Fix the edge step instead of measuring it. */
  step?: number;
  pre1_eV?: number;
  pre2_eV?: number;
  norm1_eV?: number;
  norm2_eV?: number;
  nnorm?: number;
  /** Victoreen exponent: the pre-edge line is fitted to mu E^nvict. Default 0. */
  nvict?: number;
}

export interface PreEdgeResult {
  energy_eV: Float64Array;
  e0_eV: number;
  /** Index of E0 in energy_eV. */
  ie0: number;
  edgeStep: number;
  pre1_eV: number;
  pre2_eV: number;
  norm1_eV: number;
  norm2_eV: number;
  nnorm: number;
  nvict: number;
  /** Pre-edge line coefficients [offset, slope] of mu E^nvict = offset + slope E. */
  preCoefs: [number, number];
  /** Post-edge polynomial coefficients c_k of (mu - pre) = sum c_k E^k. */
  normCoefs: number[];
  preEdge: Float64Array;
  postEdge: Float64Array;
  norm: Float64Array;
  flat: Float64Array;
  /** d norm / dE (1/eV). */
  dmude: Float64Array;
}

/** numpy.gradient: central differences inside, one-sided at the ends, for non-uniform spacing. */
export function gradient(y: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const n = y.length;
  const g = new Float64Array(n);
  if (n < 2) return g;
  g[0] = (y[1]! - y[0]!) / (x[1]! - x[0]!);
  g[n - 1] = (y[n - 1]! - y[n - 2]!) / (x[n - 1]! - x[n - 2]!);
  for (let i = 1; i < n - 1; i++) {
    const h1 = x[i]! - x[i - 1]!;
    const h2 = x[i + 1]! - x[i]!;
    g[i] = (h1 * h1 * y[i + 1]! - h2 * h2 * y[i - 1]! + (h2 * h2 - h1 * h1) * y[i]!) / (h1 * h2 * (h1 + h2));
  }
  return g;
}

/** Index of the last energy <= value (0 when all are above), as Larch's index_of. */
function indexOf(e: Float64Array, value: number): number {
  if (value < e[0]!) return 0;
  let i = 0;
  while (i + 1 < e.length && e[i + 1]! <= value) i++;
  return i;
}

function indexNearest(e: Float64Array, value: number): number {
  let best = 0;
  for (let i = 1; i < e.length; i++) if (Math.abs(e[i]! - value) < Math.abs(e[best]! - value)) best = i;
  return best;
}

const round5 = (x: number) => 5 * Math.round(x / 5);

/**
 * E0 as the energy of maximum dmu/dE, ignoring the two points at each end (finite differences are worst there).
 */
export function findE0(energy_eV: ArrayLike<number>, mu: ArrayLike<number>): number {
  const d = gradient(mu, energy_eV);
  let best = Math.min(2, d.length - 1);
  for (let i = best; i < d.length - 2; i++) if (d[i]! > d[best]!) best = i;
  return energy_eV[best]!;
}

/**
 * Throws a ParameterError unless every energy is finite and they increase strictly. A repeated energy gets its own
 * message (scans restarted mid-range write one; averaging or dropping the repeat is the user's call, not ours).
 * `field` names the array in the message: "energy_eV" for a sample, the standard's name for a standard.
 */
export function checkEnergyGrid(energy: ArrayLike<number>, field: string, source?: string): void {
  for (let i = 0; i < energy.length; i++) {
    const e = energy[i]!;
    if (!Number.isFinite(e)) throw new ParameterError("non-finite energy", { path: source, location: `point ${i}`, field, expected: "finite energies (eV)", got: String(e) });
    if (i === 0) continue;
    const prev = energy[i - 1]!;
    if (e === prev) {
      throw new ParameterError("duplicate energy (remove or average the repeated point)", { path: source, location: `point ${i}`, field, expected: `> ${prev} eV (point ${i - 1})`, got: `${e} eV again` });
    }
    if (!(e > prev)) throw new ParameterError("energies must increase strictly", { path: source, location: `point ${i}`, field, expected: `> ${prev} eV`, got: `${e} eV` });
  }
}

function validate(energy: ArrayLike<number>, mu: ArrayLike<number>, source = "spectrum"): void {
  if (energy.length !== mu.length) {
    throw new ParameterError("energy and mu differ in length", { path: source, field: "mu", expected: String(energy.length), got: String(mu.length) });
  }
  if (energy.length < 8) throw new ParameterError("too few points for normalisation", { path: source, field: "energy_eV", expected: ">= 8", got: String(energy.length) });
  checkEnergyGrid(energy, "energy_eV", source);
  for (let i = 0; i < mu.length; i++) {
    if (!Number.isFinite(mu[i]!)) throw new ParameterError("non-finite value", { path: source, field: "mu", location: `point ${i}`, expected: "finite", got: String(mu[i]) });
  }
}

/**
 * Throws unless a given E0 lies inside the data, between the second and the next-to-last energy (the range in
 * which Larch accepts one; at the first or last point there is no pre- or post-edge to fit).
 */
export function checkE0Inside(e0_eV: number, energy: ArrayLike<number>, source?: string): void {
  const lo = energy[1]!;
  const hi = energy[energy.length - 2]!;
  if (!(Number.isFinite(e0_eV) && e0_eV >= lo && e0_eV <= hi)) {
    throw new ParameterError("E0 outside the data", { path: source, field: "e0_eV", expected: `an energy inside the scan, ${lo} .. ${hi} eV`, got: `${e0_eV} eV` });
  }
}

/** Least-squares polynomial coefficients c_0..c_deg of y(x), fitted in x - x0 for conditioning, returned in x. */
function polyfit(x: Float64Array, y: Float64Array, deg: number): number[] {
  const n = x.length;
  const x0 = x.reduce((a, b) => a + b, 0) / n;
  const a = new Float64Array(n * (deg + 1));
  for (let i = 0; i < n; i++) for (let k = 0; k <= deg; k++) a[i * (deg + 1) + k] = Math.pow(x[i]! - x0, k);
  const c = lstsq(a, n, deg + 1, y);
  // expand sum c_k (x - x0)^k into powers of x
  const out = new Array<number>(deg + 1).fill(0);
  for (let k = 0; k <= deg; k++) {
    for (let j = 0; j <= k; j++) out[j]! += c[k]! * binom(k, j) * Math.pow(-x0, k - j);
  }
  return out;
}

function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

function polyval(c: number[], x: number, x0 = 0): number {
  let s = 0;
  for (let k = c.length - 1; k >= 0; k--) s = s * (x - x0) + c[k]!;
  return s;
}

/** Larch-style pre-edge subtraction, normalisation and flattening. */
export function preEdge(energy_eV: ArrayLike<number>, mu: ArrayLike<number>, options: PreEdgeOptions = {}): PreEdgeResult {
  validate(energy_eV, mu);
  const e = Float64Array.from(energy_eV);
  const m = Float64Array.from(mu);
  const n = e.length;
  const nvict = options.nvict ?? 0;
  if (options.e0_eV !== undefined) checkE0Inside(options.e0_eV, e);
  let e0 = options.e0_eV ?? findE0(e, m);
  const ie0 = indexNearest(e, e0);
  e0 = e[ie0]!;

  let pre1 = options.pre1_eV ?? (ie0 > 20 ? round5(e[1]! - e0) : 2 * Math.round((e[1]! - e0) / 2));
  pre1 = Math.max(pre1, e[0]! - e0);
  let pre2 = options.pre2_eV ?? 0.5 * pre1;
  if (pre1 > pre2) [pre1, pre2] = [pre2, pre1];
  const rel = Float64Array.from(e, (x) => x - e0!);
  const ip1 = indexOf(rel, pre1);
  if (indexOf(rel, pre2) < ip1 + 2 + nvict) pre2 = rel[Math.min(n - 1, ip1 + 2 + nvict)]!;

  let norm2 = options.norm2_eV ?? round5(e[n - 1]! - e0);
  if (norm2 < 0) norm2 = e[n - 1]! - e0 - norm2;
  norm2 = Math.min(norm2, e[n - 1]! - e0);
  let norm1 = options.norm1_eV ?? Math.min(25, 5 * Math.round(norm2 / 15));
  if (norm1 > norm2) [norm1, norm2] = [norm2, norm1];
  norm1 = Math.min(norm1, norm2 - 10);
  let nnorm = options.nnorm;
  if (nnorm === undefined) nnorm = norm2 - norm1 < 30 ? 0 : norm2 - norm1 < 300 ? 1 : 2;
  nnorm = Math.max(0, Math.min(nnorm, 5));

  // Pre-edge line over [p1, p2)
  let p1 = indexOf(e, pre1 + e0);
  let p2 = indexNearest(e, pre2 + e0);
  if (p2 - p1 < 2) p2 = Math.min(n, p1 + 2);
  const ex = e.slice(p1, p2);
  const mx = Float64Array.from(ex, (x, i) => m[p1 + i]! * Math.pow(x, nvict));
  const pc = polyfit(ex, mx, 1);
  const preCoefs: [number, number] = [pc[0]!, pc[1]!];
  const pre = Float64Array.from(e, (x) => (pc[0]! + pc[1]! * x) * Math.pow(x, -nvict));

  // Post-edge polynomial of mu - pre over [p1, p2)
  p1 = indexOf(e, norm1 + e0);
  p2 = indexNearest(e, norm2 + e0);
  if (p2 - p1 < 2) p2 = Math.min(n, p1 + 2);
  if (p2 - p1 < 2) p1 = p1 - 2;
  if (p2 - p1 < nnorm + 1) {
    throw new ParameterError("too few points in the post-edge range", { field: "norm1_eV/norm2_eV", expected: `>= ${nnorm + 1} points in [${norm1}, ${norm2}] eV above E0`, got: `${p2 - p1}` });
  }
  const nx = e.slice(p1, p2);
  const ny = Float64Array.from(nx, (_, i) => m[p1 + i]! - pre[p1 + i]!);
  // Fit in (E - E0) so high powers of ~2000 eV do not swamp the normal equations.
  const cRel = polyfit(Float64Array.from(nx, (x) => x - e0!), ny, nnorm);
  const post = Float64Array.from(e, (x, i) => pre[i]! + polyval(cRel, x, e0!));
  // Coefficients in absolute energy powers, as Larch reports them.
  const normCoefs = new Array<number>(nnorm + 1).fill(0);
  for (let k = 0; k <= nnorm; k++) for (let j = 0; j <= k; j++) normCoefs[j]! += cRel[k]! * binom(k, j) * Math.pow(-e0, k - j);

  let step = options.step ?? post[ie0]! - pre[ie0]!;
  step = Math.max(1e-12, Math.abs(step));
  const norm = Float64Array.from(m, (v, i) => (v - pre[i]!) / step);
  const resid0 = (post[ie0]! - pre[ie0]!) / step;
  const flat = Float64Array.from(norm, (v, i) => (i < ie0 ? v : v - (post[i]! - pre[i]!) / step + resid0));
  return {
    energy_eV: e,
    e0_eV: e0,
    ie0,
    edgeStep: step,
    pre1_eV: pre1,
    pre2_eV: pre2,
    norm1_eV: norm1,
    norm2_eV: norm2,
    nnorm,
    nvict,
    preCoefs,
    normCoefs,
    preEdge: pre,
    postEdge: post,
    norm,
    flat,
    dmude: gradient(norm, e),
  };
}

/** Min-max normalisation (0 at the minimum, 1 at the maximum), a common choice for tender-edge spectra. */
export function normalizeMinMax(mu: ArrayLike<number>): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < mu.length; i++) {
    lo = Math.min(lo, mu[i]!);
    hi = Math.max(hi, mu[i]!);
  }
  if (!(hi > lo)) throw new ParameterError("constant spectrum cannot be min-max normalised", { field: "mu", expected: "max > min", got: `${lo}..${hi}` });
  return Float64Array.from(mu, (v) => (v - lo) / (hi - lo));
}

/** Area normalisation: divides by the trapezoidal integral over energy so the spectrum has unit area (1/eV). */
export function normalizeArea(energy_eV: ArrayLike<number>, mu: ArrayLike<number>): Float64Array {
  validate(energy_eV, mu);
  let area = 0;
  for (let i = 1; i < mu.length; i++) area += 0.5 * (mu[i]! + mu[i - 1]!) * (energy_eV[i]! - energy_eV[i - 1]!);
  if (!(Math.abs(area) > 0)) throw new ParameterError("zero area", { field: "mu", expected: "non-zero integral", got: String(area) });
  return Float64Array.from(mu, (v) => v / area);
}
