/**
 * Complex nonlinear least-squares fitting of equivalent circuits (CNLS).
 *
 * Residuals are stacked [Re, Im] and weighted; the solver is a Levenberg-Marquardt with Marquardt scaling and
 * Nielsen's damping update, working in transformed coordinates: scale parameters (R, C, L, Q, A_W, Z0, tau)
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
import { ConvergenceError, ParameterError } from "../util/errors.js";
import {
  type Circuit,
  type CircuitNode,
  type ElementNode,
  circuitToString,
  compileCircuit,
  parseCircuit,
  toParamRecord,
} from "./circuit.js";
import { gaussian, seededRandom, spdInverse, choleskyInPlace, choleskySolveInPlace, symmetricEigen } from "./linalg.js";
import { type ImpedanceSpectrum, validateSpectrum } from "./spectrum.js";

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

export interface FitResult {
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
  fit: { re_ohm: Float64Array; im_ohm: Float64Array };
  /** (Z_fit - Z)/|Z| for real and imaginary parts (dimensionless). */
  residuals: { re: Float64Array; im: Float64Array };
  /** Frequencies in the order fitted (decreasing). */
  freq_Hz: Float64Array;
  blocks: ParallelBlockInfo[];
  parametersAtBounds: string[];
  starts: StartOutcome[];
  /** Number of starts that reached the best minimum (same chi-square and parameters). */
  startsAtBest: number;
  warnings: string[];
}

// ---------------------------------------------------------------------------------------------------------------

type Transform = "log" | "linear";

const SHAPE_PARAMS: Record<string, Set<number>> = { CPE: new Set([1]) };

function isExponent(el: ElementNode, k: number): boolean {
  return SHAPE_PARAMS[el.type]?.has(k) ?? false;
}

interface ParamSpec {
  name: string;
  /** Index in circuit.paramNames. */
  index: number;
  transform: Transform;
  lo: number;
  hi: number;
}

function paramSpecs(circuit: Circuit, bounds: Record<string, [number, number]> = {}): ParamSpec[] {
  const specs: ParamSpec[] = [];
  for (const el of circuit.elements) {
    el.paramNames.forEach((name, k) => {
      const exp = isExponent(el, k);
      let [lo, hi] = bounds[name] ?? (exp ? [0, 1] : [0, Infinity]);
      if (!(lo < hi)) {
        throw new ParameterError("bounds must satisfy lower < upper", { field: name, expected: "[lo, hi] with lo < hi", got: `[${lo}, ${hi}]` });
      }
      const transform: Transform = !exp && lo >= 0 ? "log" : "linear";
      if (transform === "linear" && exp && lo <= 0) lo = 1e-6; // alpha = 0 would be a pure resistor: keep open
      specs.push({ name, index: el.paramOffset + k, transform, lo, hi });
    });
  }
  for (const name of Object.keys(bounds)) {
    if (!circuit.paramNames.includes(name)) {
      throw new ParameterError("bound given for a parameter the circuit does not have", { field: name, expected: circuit.paramNames.join(", "), got: name });
    }
  }
  return specs;
}

const toU = (s: ParamSpec, p: number): number => (s.transform === "log" ? Math.log(p) : p);
const fromU = (s: ParamSpec, u: number): number => (s.transform === "log" ? Math.exp(u) : u);
const clipU = (s: ParamSpec, u: number): number => {
  const lo = s.transform === "log" ? (s.lo > 0 ? Math.log(s.lo) : -Infinity) : s.lo;
  const hi = s.transform === "log" ? Math.log(s.hi) : s.hi;
  return Math.min(hi, Math.max(lo, u));
};

// ---------------------------------------------------------------------------------------------------------------
// Initial guess

interface BlockRC {
  node: CircuitNode;
  r: ElementNode;
  c: ElementNode;
}

/** Top-level (series) parallel blocks made of exactly one R and one C or CPE. */
function rcBlocks(circuit: Circuit): BlockRC[] {
  const top = circuit.root.kind === "series" ? circuit.root.children : [circuit.root];
  const out: BlockRC[] = [];
  for (const node of top) {
    if (node.kind !== "parallel" || node.children.length !== 2) continue;
    const [a, b] = node.children;
    if (a!.kind !== "element" || b!.kind !== "element") continue;
    const r = a!.type === "R" ? a! : b!.type === "R" ? b! : null;
    const c = a!.type === "C" || a!.type === "CPE" ? a! : b!.type === "C" || b!.type === "CPE" ? b! : null;
    if (r && c && r !== c) out.push({ node, r, c });
  }
  return out;
}

/**
 * A physically reasonable start from the data: series resistors take the high-frequency real intercept, the
 * resistors inside parallel blocks share the arc width, and the blocks' time constants are spread log-evenly
 * over the measured band (first block fastest), which is where the arcs must lie to be seen at all.
 */
export function guessParameters(circuit: Circuit, spectrum: ImpedanceSpectrum): Record<string, number> {
  const s = validateSpectrum(spectrum);
  const n = s.freq_Hz.length;
  let reMin = Infinity;
  let reMax = -Infinity;
  for (let i = 0; i < n; i++) {
    reMin = Math.min(reMin, s.re_ohm[i]!);
    reMax = Math.max(reMax, s.re_ohm[i]!);
  }
  const span = Math.max(reMax - reMin, 1e-3 * Math.max(Math.abs(reMax), 1e-6));
  const fMax = s.freq_Hz[0]!;
  const fMin = s.freq_Hz[n - 1]!;
  const wMin = 2 * Math.PI * fMin;
  const top = circuit.root.kind === "series" ? circuit.root.children : [circuit.root];
  const topElements = new Set(top.filter((c): c is ElementNode => c.kind === "element"));
  const parallels: CircuitNode[] = [];
  const collect = (node: CircuitNode) => {
    if (node.kind === "parallel") parallels.push(node);
    if (node.kind !== "element") node.children.forEach(collect);
  };
  collect(circuit.root);
  const innerR = circuit.elements.filter((e) => e.type === "R" && !topElements.has(e)).length;
  const p: Record<string, number> = {};
  let seriesR = 0;
  for (const el of circuit.elements) {
    if (el.type === "R") {
      p[el.name] = topElements.has(el) ? (seriesR++ === 0 ? Math.max(reMin, 1e-3 * span) : 1e-2 * span) : span / Math.max(innerR, 1);
    }
  }
  const lowIm = Math.max(Math.abs(s.im_ohm[n - 1]!), 1e-3 * span);
  for (const el of circuit.elements) {
    if (el.type === "L") {
      const w = 2 * Math.PI * fMax;
      p[el.name] = s.im_ohm[0]! > 0 ? s.im_ohm[0]! / w : 1e-3 * span / w;
    } else if (el.type === "W") {
      p[el.name] = (span / 4) * Math.sqrt(wMin);
    } else if (el.type === "Wo" || el.type === "Ws") {
      p[el.paramNames[0]!] = span / 2;
      p[el.paramNames[1]!] = 1 / wMin;
    } else if ((el.type === "C" || el.type === "CPE") && !parallels.some((b) => contains(b, el))) {
      const a = el.type === "CPE" ? 0.9 : 1;
      const q = 1 / (lowIm * Math.pow(wMin, a));
      if (el.type === "C") p[el.name] = q;
      else {
        p[el.paramNames[0]!] = q;
        p[el.paramNames[1]!] = a;
      }
    }
  }
  parallels.forEach((block, b) => {
    const frac = (b + 0.5) / parallels.length;
    const f = Math.exp((1 - frac) * Math.log(fMax) + frac * Math.log(fMin));
    const tau = 1 / (2 * Math.PI * f);
    const rs = collectElements(block).filter((e) => e.type === "R");
    const rB = rs.length ? p[rs[0]!.name]! : span / parallels.length;
    for (const el of block.kind === "parallel" ? block.children : []) {
      if (el.kind !== "element") continue;
      if (el.type === "C") p[el.name] = tau / rB;
      if (el.type === "CPE") {
        p[el.paramNames[0]!] = Math.pow(tau, 0.9) / rB;
        p[el.paramNames[1]!] = 0.9;
      }
    }
  });
  for (const name of circuit.paramNames) if (!(name in p)) p[name] = 1;
  return p;
}

function contains(node: CircuitNode, el: ElementNode): boolean {
  if (node.kind === "element") return node === el;
  return node.children.some((c) => contains(c, el));
}

function collectElements(node: CircuitNode): ElementNode[] {
  if (node.kind === "element") return [node];
  return node.children.flatMap(collectElements);
}

// ---------------------------------------------------------------------------------------------------------------
// Time-constant ordering

function blockTau(b: BlockRC, p: Float64Array): number {
  const R = p[b.r.paramOffset]!;
  if (b.c.type === "C") return R * p[b.c.paramOffset]!;
  return Math.pow(R * p[b.c.paramOffset]!, 1 / p[b.c.paramOffset + 1]!);
}

/**
 * Permutes the values of same-kind R||C (or R||CPE) blocks so that the first-written block has the shortest
 * time constant. The impedance is unchanged (series addition commutes), so labels such as R_int (fast arc) and
 * R_ct (slow arc) mean the same thing in every fitted spectrum.
 */
export function orderBlocksByTimeConstant(circuit: Circuit, p: Float64Array, frozen: ReadonlySet<number> = new Set()): Float64Array {
  const touches = (b: BlockRC) => frozen.has(b.r.paramOffset) || b.c.paramNames.some((_, k) => frozen.has(b.c.paramOffset + k));
  const blocks = rcBlocks(circuit).filter((b) => !touches(b));
  const out = Float64Array.from(p);
  const kinds = new Map<string, BlockRC[]>();
  for (const b of blocks) {
    const key = b.c.type;
    kinds.set(key, [...(kinds.get(key) ?? []), b]);
  }
  for (const group of kinds.values()) {
    if (group.length < 2) continue;
    const sorted = [...group].sort((x, y) => blockTau(x, p) - blockTau(y, p));
    group.forEach((dst, i) => {
      const src = sorted[i]!;
      out[dst.r.paramOffset] = p[src.r.paramOffset]!;
      for (let k = 0; k < dst.c.paramNames.length; k++) out[dst.c.paramOffset + k] = p[src.c.paramOffset + k]!;
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The solver

interface Problem {
  specs: ParamSpec[];
  k: number;
  n: number;
  /** sqrt of weights for the 2n stacked residuals */
  sw: Float64Array;
  zRe: Float64Array;
  zIm: Float64Array;
  evaluate: (p: Float64Array, zr: Float64Array, zi: Float64Array, jr?: Float64Array, ji?: Float64Array) => void;
}

interface LmOutcome {
  u: Float64Array;
  cost: number;
  iterations: number;
  converged: boolean;
}

function pFromU(pr: Problem, u: Float64Array): Float64Array {
  const p = new Float64Array(pr.k);
  for (let j = 0; j < pr.k; j++) p[j] = fromU(pr.specs[j]!, u[j]!);
  return p;
}

/** Weighted residuals and (optionally) the Jacobian with respect to u, 2n x k row-major. */
function residuals(pr: Problem, u: Float64Array, r: Float64Array, J?: Float64Array): number {
  const { n, k } = pr;
  const p = pFromU(pr, u);
  const zr = new Float64Array(n);
  const zi = new Float64Array(n);
  const jr = J ? new Float64Array(k * n) : undefined;
  const ji = J ? new Float64Array(k * n) : undefined;
  pr.evaluate(p, zr, zi, jr, ji);
  let cost = 0;
  for (let i = 0; i < n; i++) {
    r[i] = pr.sw[i]! * (zr[i]! - pr.zRe[i]!);
    r[n + i] = pr.sw[n + i]! * (zi[i]! - pr.zIm[i]!);
    cost += r[i]! * r[i]! + r[n + i]! * r[n + i]!;
  }
  if (J && jr && ji) {
    for (let j = 0; j < k; j++) {
      const dpdu = pr.specs[j]!.transform === "log" ? p[j]! : 1;
      for (let i = 0; i < n; i++) {
        J[i * k + j] = pr.sw[i]! * jr[j * n + i]! * dpdu;
        J[(n + i) * k + j] = pr.sw[n + i]! * ji[j * n + i]! * dpdu;
      }
    }
  }
  return Number.isFinite(cost) ? cost : Infinity;
}

function levenbergMarquardt(pr: Problem, u0: Float64Array, maxIter: number): LmOutcome {
  const { k } = pr;
  const m = 2 * pr.n;
  const ftol = 1e-12;
  const xtol = 1e-10;
  const gtol = 1e-12;
  let u = Float64Array.from(u0, (v, j) => clipU(pr.specs[j]!, v));
  const r = new Float64Array(m);
  const J = new Float64Array(m * k);
  let cost = residuals(pr, u, r, J);
  if (!Number.isFinite(cost)) return { u, cost, iterations: 0, converged: false };
  const A = new Float64Array(k * k);
  const g = new Float64Array(k);
  const normal = () => {
    A.fill(0);
    g.fill(0);
    for (let i = 0; i < m; i++) {
      const row = i * k;
      const ri = r[i]!;
      for (let a = 0; a < k; a++) {
        const ja = J[row + a]!;
        if (ja === 0) continue;
        g[a] += ja * ri;
        for (let b = a; b < k; b++) A[a * k + b] += ja * J[row + b]!;
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) A[a * k + b] = A[b * k + a]!;
  };
  normal();
  let maxDiag = 0;
  for (let a = 0; a < k; a++) maxDiag = Math.max(maxDiag, A[a * k + a]!);
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
    for (let a = 0; a < k; a++) gmax = Math.max(gmax, Math.abs(g[a]!));
    if (gmax <= gtol * Math.max(cost, 1e-300) || cost === 0) {
      converged = true;
      break;
    }
    M.set(A);
    for (let a = 0; a < k; a++) M[a * k + a] += lambda * Math.max(A[a * k + a]!, 1e-12 * maxDiag, 1e-300);
    if (!choleskyInPlace(M, k)) {
      lambda *= nu;
      nu *= 2;
      if (lambda > 1e16) break;
      continue;
    }
    for (let a = 0; a < k; a++) delta[a] = -g[a]!;
    choleskySolveInPlace(M, k, delta);
    const uNew = new Float64Array(k);
    let stepNorm = 0;
    let uNorm = 0;
    for (let a = 0; a < k; a++) {
      uNew[a] = clipU(pr.specs[a]!, u[a]! + delta[a]!);
      delta[a] = uNew[a]! - u[a]!;
      stepNorm += delta[a]! * delta[a]!;
      uNorm += u[a]! * u[a]!;
    }
    if (Math.sqrt(stepNorm) <= xtol * (Math.sqrt(uNorm) + xtol)) {
      converged = true;
      break;
    }
    const costNew = residuals(pr, uNew, rNew, JNew);
    // predicted reduction of 0.5*cost for the (projected) step: -(g.d + 0.5 d A d)
    let pred = 0;
    for (let a = 0; a < k; a++) {
      let ad = 0;
      for (let b = 0; b < k; b++) ad += A[a * k + b]! * delta[b]!;
      pred -= g[a]! * delta[a]! + 0.5 * delta[a]! * ad;
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

function buildWeights(s: ImpedanceSpectrum, weighting: Weighting, sigma?: FitOptions["sigma_ohm"]): Float64Array {
  const n = s.freq_Hz.length;
  const sw = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const re = s.re_ohm[i]!;
    const im = s.im_ohm[i]!;
    const mod = Math.hypot(re, im);
    let wr: number;
    let wi: number;
    if (sigma) {
      wr = 1 / sigma.re[i]! ** 2;
      wi = 1 / sigma.im[i]! ** 2;
    } else if (weighting === "unit") {
      wr = wi = 1;
    } else if (weighting === "modulus") {
      wr = wi = 1 / mod;
    } else if (weighting === "boukamp") {
      wr = wi = 1 / (mod * mod);
    } else {
      wr = 1 / (re * re);
      wi = 1 / (im * im);
    }
    if (!Number.isFinite(wr) || !Number.isFinite(wi) || wr <= 0 || wi <= 0) {
      throw new ParameterError("weight is zero or infinite at a data point", {
        path: s.source,
        field: sigma ? "sigma_ohm" : `weighting "${weighting}"`,
        location: `point ${i} (${s.freq_Hz[i]} Hz)`,
        expected: "non-zero Re Z, Im Z (proportional) or |Z|, or positive sigma",
        got: `Z = ${re} + ${im}j`,
      });
    }
    sw[i] = Math.sqrt(wr);
    sw[n + i] = Math.sqrt(wi);
  }
  return sw;
}

/**
 * Is a fitted value at one of its bounds? Measured relative to the parameter's own scale: its magnitude for a scale
 * parameter (R, C, Q, ...), the allowed width for an exponent. An absolute tolerance (1e-9) called every parameter
 * below 1e-9 in SI units (a 20 pF capacitor) "at" its lower bound. The projection of the solver puts a held
 * parameter exactly on its bound, so 1e-9 of the scale separates held from free.
 * A scale parameter without a given bound on that side has an automatic box of 1e15 either side of its start (a guard
 * against overflow, see fitCircuit); ending within a decade of that box's edge means it ran off towards 0 or
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

/**
 * Fits `circuit` (a string in impedance.py syntax or a parsed Circuit) to a spectrum by weighted CNLS.
 * Throws ConvergenceError when no start converges, FileFormatError/ParameterError for bad data.
 */
export function fitCircuit(circuitIn: Circuit | string, spectrum: ImpedanceSpectrum, options: FitOptions = {}): FitResult {
  const circuit = typeof circuitIn === "string" ? parseCircuit(circuitIn) : circuitIn;
  const kAll = circuit.paramNames.length;
  const fixed = options.fixed ?? {};
  const fixedIdx = new Set<number>();
  for (const [name, v] of Object.entries(fixed)) {
    const j = circuit.paramNames.indexOf(name);
    if (j < 0) throw new ParameterError("fixed value for a parameter the circuit does not have", { field: name, expected: circuit.paramNames.join(", "), got: name });
    if (!Number.isFinite(v)) throw new ParameterError("fixed value must be finite", { field: name, expected: "a finite number", got: String(v) });
    fixedIdx.add(j);
  }
  const freeIdx = circuit.paramNames.map((_, j) => j).filter((j) => !fixedIdx.has(j));
  const k = freeIdx.length;
  if (k === 0) throw new ParameterError("every parameter is fixed", { field: "fixed", expected: "at least one free parameter", got: Object.keys(fixed).join(", ") });
  const s = validateSpectrum(spectrum, k + 1);
  const n = s.freq_Hz.length;
  const specs = paramSpecs(circuit, options.bounds).filter((sp) => !fixedIdx.has(sp.index));
  const weighting = options.weighting ?? "boukamp";
  if (options.sigma_ohm && (options.sigma_ohm.re.length !== spectrum.freq_Hz.length || options.sigma_ohm.im.length !== spectrum.freq_Hz.length)) {
    throw new ParameterError("sigma_ohm must have one value per frequency", { field: "sigma_ohm", expected: String(spectrum.freq_Hz.length), got: `${options.sigma_ohm.re.length}, ${options.sigma_ohm.im.length}` });
  }
  let sigma = options.sigma_ohm;
  if (sigma && s !== spectrum) {
    // validateSpectrum reversed the order to decreasing frequency
    sigma = { re: Array.from(sigma.re).reverse(), im: Array.from(sigma.im).reverse() };
  }
  const sw = buildWeights(s, weighting, sigma);
  const ev = compileCircuit(circuit, s.freq_Hz);
  // Full parameter vector from the free one (fixed values filled in); the solver sees only free columns.
  const base = new Float64Array(kAll);
  circuit.paramNames.forEach((name, j) => (base[j] = fixed[name] ?? NaN));
  const expand = (pFree: ArrayLike<number>): Float64Array => {
    const full = Float64Array.from(base);
    freeIdx.forEach((g, j) => (full[g] = pFree[j]!));
    return full;
  };
  const jrAll = new Float64Array(kAll * n);
  const jiAll = new Float64Array(kAll * n);
  const evaluateFree = (pFree: Float64Array, zr: Float64Array, zi: Float64Array, jr?: Float64Array, ji?: Float64Array) => {
    if (!jr || !ji || fixedIdx.size === 0) return ev.evaluate(fixedIdx.size ? expand(pFree) : pFree, zr, zi, jr, ji);
    ev.evaluate(expand(pFree), zr, zi, jrAll, jiAll);
    freeIdx.forEach((g, j) => {
      jr.set(jrAll.subarray(g * n, (g + 1) * n), j * n);
      ji.set(jiAll.subarray(g * n, (g + 1) * n), j * n);
    });
  };
  const pr: Problem = { specs, k, n, sw, zRe: s.re_ohm, zIm: s.im_ohm, evaluate: evaluateFree };
  const order = options.orderByTimeConstant ?? true;

  const guess = guessParameters(circuit, s);
  const init = { ...guess, ...(options.initial ?? {}) };
  for (const name of Object.keys(options.initial ?? {})) {
    if (!circuit.paramNames.includes(name)) {
      throw new ParameterError("initial value for a parameter the circuit does not have", { field: name, expected: circuit.paramNames.join(", "), got: name });
    }
  }
  const u0 = new Float64Array(k);
  specs.forEach((sp, j) => {
    const v = init[sp.name]!;
    if (!Number.isFinite(v) || (sp.transform === "log" && v <= 0)) {
      throw new ParameterError("initial value must be finite and positive for a scale parameter", { field: sp.name, expected: "> 0", got: String(v) });
    }
    u0[j] = toU(sp, v);
    // An unbounded scale parameter can run off to 1e300 along a direction the data do not see (an arc pushed
    // far outside the band); a 15-decade box around the start keeps the arithmetic finite, and a parameter
    // that ends on it is reported in parametersAtBounds.
    if (sp.transform === "log") {
      if (sp.lo === 0) sp.lo = v * 1e-15;
      if (sp.hi === Infinity) sp.hi = v * 1e15;
    }
  });

  const nStarts = Math.max(1, Math.floor(options.starts ?? 8));
  const rand = seededRandom(options.seed ?? 1);
  const spread = (options.startSpread_decades ?? 0.5) * Math.LN10;
  const maxIter = options.maxIterations ?? 300;
  const outcomes: { lm: LmOutcome; p: Float64Array }[] = [];
  for (let st = 0; st < nStarts; st++) {
    const u = Float64Array.from(u0);
    if (st > 0) {
      specs.forEach((sp, j) => {
        if (sp.transform === "log") u[j] += spread * gaussian(rand);
        else u[j] = Math.max(sp.lo, Math.min(sp.hi, u0[j]! + 0.1 * gaussian(rand))); // exponents vary little in practice
      });
    }
    const lm = levenbergMarquardt(pr, u, maxIter);
    let p = expand(pFromU(pr, lm.u));
    if (order) p = orderBlocksByTimeConstant(circuit, p, fixedIdx);
    outcomes.push({ lm, p });
  }
  const ok = outcomes.filter((o) => o.lm.converged && Number.isFinite(o.lm.cost));
  if (ok.length === 0) {
    const best = outcomes.reduce((a, b) => (b.lm.cost < a.lm.cost ? b : a));
    throw new ConvergenceError("circuit fit did not converge from any start", {
      path: s.source,
      field: circuit.text,
      expected: `convergence within ${maxIter} iterations`,
      got: `${nStarts} starts, best chi-square ${best.lm.cost.toPrecision(4)} after ${best.lm.iterations} iterations`,
    });
  }
  ok.sort((a, b) => a.lm.cost - b.lm.cost);
  const best = ok[0]!;
  const p = best.p;

  // Statistics at the optimum, in the user's parameter units.
  const m = 2 * n;
  const zr = new Float64Array(n);
  const zi = new Float64Array(n);
  const jr = new Float64Array(k * n);
  const ji = new Float64Array(k * n);
  evaluateFree(Float64Array.from(freeIdx, (g) => p[g]!), zr, zi, jr, ji);
  let chi2 = 0;
  const A = new Float64Array(k * k);
  for (let i = 0; i < n; i++) {
    const rr = sw[i]! * (zr[i]! - s.re_ohm[i]!);
    const ri = sw[n + i]! * (zi[i]! - s.im_ohm[i]!);
    chi2 += rr * rr + ri * ri;
    for (let a = 0; a < k; a++) {
      const ar = sw[i]! * jr[a * n + i]!;
      const ai = sw[n + i]! * ji[a * n + i]!;
      for (let b = a; b < k; b++) A[a * k + b] += ar * sw[i]! * jr[b * n + i]! + ai * sw[n + i]! * ji[b * n + i]!;
    }
  }
  for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) A[a * k + b] = A[b * k + a]!;
  const dof = m - k;
  const redchi = chi2 / dof;
  const warnings: string[] = [];
  const inv = spdInverse(A, k);
  const scaleCov = sigma ? 1 : redchi;
  // Free-parameter covariance; embedded into the full matrix (fixed rows and columns 0) below.
  const covF: number[][] = Array.from({ length: k }, () => new Array<number>(k).fill(NaN));
  const cov = covF;
  if (inv) {
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) cov[a]![b] = inv[a * k + b]! * scaleCov;
  } else {
    // Rank-deficient: the near-null eigenvectors of the equilibrated J^T W J name the parameters the data
    // cannot separate; they get NaN, the rest their errors from the pseudo-inverse.
    const d = Float64Array.from({ length: k }, (_, a) => 1 / Math.sqrt(Math.max(A[a * k + a]!, 1e-300)));
    const S = Float64Array.from(A, (v, idx) => v * d[Math.floor(idx / k)]! * d[idx % k]!);
    const { values, vectors } = symmetricEigen(S, k);
    const lmax = Math.max(...values);
    const bad = new Set<number>();
    for (let e = 0; e < k; e++) {
      if (values[e]! > 1e-10 * lmax) continue;
      for (let a = 0; a < k; a++) if (Math.abs(vectors[a * k + e]!) > 0.05) bad.add(a);
    }
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        if (bad.has(a) || bad.has(b)) continue;
        let sum = 0;
        for (let e = 0; e < k; e++) if (values[e]! > 1e-10 * lmax) sum += (vectors[a * k + e]! * vectors[b * k + e]!) / values[e]!;
        cov[a]![b] = sum * d[a]! * d[b]! * scaleCov;
      }
    }
    const names = [...bad].map((a) => circuit.paramNames[freeIdx[a]!]!);
    warnings.push(`the Jacobian is rank-deficient at the optimum: ${names.join(", ")} are not identifiable from these data (standard errors NaN)`);
  }
  const covFull: number[][] = Array.from({ length: kAll }, () => new Array<number>(kAll).fill(0));
  freeIdx.forEach((ga, a) => freeIdx.forEach((gb, b) => (covFull[ga]![gb] = covF[a]![b]!)));
  const stdErr: Record<string, number> = {};
  circuit.paramNames.forEach((name, a) => (stdErr[name] = Math.sqrt(covFull[a]![a]!)));
  const correlation = covFull.map((row, a) =>
    row.map((v, b) => (a === b ? (v > 0 ? 1 : NaN) : v / Math.sqrt(covFull[a]![a]! * covFull[b]![b]!))),
  );

  const atBounds = specs.filter((sp) => isAtBound(sp, p[sp.index]!, options.bounds?.[sp.name])).map((sp) => sp.name);
  if (atBounds.length) warnings.push(`parameters at a bound (their standard errors assume the bound is inactive): ${atBounds.join(", ")}`);

  // Compare starts: how many found the best minimum, and did any find a different one of similar quality?
  // Costs within 1e-3 of the best (relative) are the same minimum. Near chi-square 0 (noise-free data) a relative
  // test alone calls rounding a different minimum (starts that all reach the truth end anywhere between 1e-25 and
  // 1e-19), so costs below the floor that residuals of 1e-8 |Z| at every point would give count as equal too: 1e-8
  // lies far below the precision of any measured impedance (about 1e-4 relative) and far above the model's rounding
  // (about 1e-13).
  let costFloor = 0;
  for (let i = 0; i < n; i++) costFloor += 1e-16 * (s.re_ohm[i]! ** 2 + s.im_ohm[i]! ** 2) * (sw[i]! ** 2 + sw[n + i]! ** 2);
  const tolCost = Math.max(1e-3 * best.lm.cost, costFloor);
  let atBest = 0;
  let rival: { lm: LmOutcome; p: Float64Array } | null = null;
  for (const o of ok) {
    const sameCost = o.lm.cost - best.lm.cost <= tolCost;
    const sameParams = o.p.every((v, j) => {
      const se = stdErr[circuit.paramNames[j]!]!;
      const tol = Number.isFinite(se) ? Math.max(0.1 * se, 1e-6 * Math.abs(p[j]!)) : 1e-3 * Math.abs(p[j]!);
      return Math.abs(v - p[j]!) <= tol;
    });
    if (sameCost && sameParams) atBest++;
    else if (!rival && o.lm.cost <= best.lm.cost * (1 + 0.05 / Math.max(dof, 1)) + costFloor) rival = o;
  }
  if (rival) {
    warnings.push(
      `starts disagree: a start reached chi-square ${rival.lm.cost.toPrecision(6)} (best ${best.lm.cost.toPrecision(6)}) with different parameters (${circuit.paramNames
        .map((nm, j) => `${nm}=${rival!.p[j]!.toPrecision(3)}`)
        .join(", ")}); the minimum is not unique`,
    );
  } else if (nStarts > 1 && atBest < Math.ceil(nStarts / 2)) {
    warnings.push(`only ${atBest} of ${nStarts} starts reached the best minimum; the fit depends on the start (try more starts or a better initial guess)`);
  }
  if (!best.lm.converged) warnings.push("best start did not meet the convergence tolerances");

  const residRe = new Float64Array(n);
  const residIm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const mod = Math.hypot(s.re_ohm[i]!, s.im_ohm[i]!);
    residRe[i] = (zr[i]! - s.re_ohm[i]!) / mod;
    residIm[i] = (zi[i]! - s.im_ohm[i]!) / mod;
  }

  const blocks: ParallelBlockInfo[] = rcBlocks(circuit).map((b) => {
    const iR = b.r.paramOffset;
    const iQ = b.c.paramOffset;
    const R = p[iR]!;
    if (b.c.type === "C") {
      const C = p[iQ]!;
      const tau = R * C;
      return { block: circuitToString(b.node), resistor: b.r.name, capacitor: b.c.name, tau_s: tau, C_eff_F: C, C_eff_stdErr_F: Math.sqrt(covFull[iQ]![iQ]!), f_peak_Hz: 1 / (2 * Math.PI * tau) };
    }
    const Q = p[iQ]!;
    const a = p[iQ + 1]!;
    const Ceff = Math.pow(Q, 1 / a) * Math.pow(R, (1 - a) / a);
    // d ln C / d(R, Q, alpha)
    const g = [(1 - a) / (a * R), 1 / (a * Q), -(Math.log(Q) + Math.log(R)) / (a * a)];
    const idx = [iR, iQ, iQ + 1];
    let v = 0;
    for (let x = 0; x < 3; x++) for (let y = 0; y < 3; y++) v += g[x]! * g[y]! * covFull[idx[x]!]![idx[y]!]!;
    const tau = Math.pow(R * Q, 1 / a);
    return { block: circuitToString(b.node), resistor: b.r.name, capacitor: b.c.name, tau_s: tau, C_eff_F: Ceff, C_eff_stdErr_F: Ceff * Math.sqrt(v), f_peak_Hz: 1 / (2 * Math.PI * tau) };
  });

  return {
    circuit,
    paramNames: [...circuit.paramNames],
    params: toParamRecord(circuit, p),
    stdErr,
    covariance: covFull,
    correlation,
    weighting: sigma ? "sigma" : weighting,
    chiSquare: chi2,
    reducedChiSquare: redchi,
    dof,
    nValues: m,
    aic: m * Math.log(chi2 / m) + 2 * k,
    bic: m * Math.log(chi2 / m) + k * Math.log(m),
    iterations: best.lm.iterations,
    fit: { re_ohm: zr, im_ohm: zi },
    residuals: { re: residRe, im: residIm },
    freq_Hz: s.freq_Hz,
    blocks,
    parametersAtBounds: atBounds,
    starts: outcomes.map((o) => ({ converged: o.lm.converged, chiSquare: o.lm.cost, iterations: o.lm.iterations, params: toParamRecord(circuit, o.p) })),
    startsAtBest: atBest,
    warnings,
  };
}


/** Hsu-Mansfeld effective capacitance of an R||CPE (F): Q^(1/alpha) R^((1-alpha)/alpha). */
export function effectiveCapacitance(R_ohm: number, Q: number, alpha: number): number {
  return Math.pow(Q, 1 / alpha) * Math.pow(R_ohm, (1 - alpha) / alpha);
}
