/**
 * Step 1 of a circuit fit: checks the options against the circuit and the data, and builds the weighted problem
 * the solver sees (free parameters in transformed coordinates, bounds, weights, start).
 */
import { ParameterError } from "../util/errors.js";
import { type Circuit, type ElementNode, compileCircuit, parseCircuit } from "./circuit.js";
import type { FitOptions, Weighting } from "./fit.js";
import { guessParameters } from "./fit-start.js";
import { type ImpedanceSpectrum, validateSpectrum } from "./spectrum.js";

type Transform = "log" | "linear";

const SHAPE_PARAMS: Record<string, Set<number>> = { CPE: new Set([1]) };

function isExponent(el: ElementNode, k: number): boolean {
  return SHAPE_PARAMS[el.type]?.has(k) ?? false;
}

export interface ParamSpec {
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

export const toU = (s: ParamSpec, p: number): number => (s.transform === "log" ? Math.log(p) : p);
export const fromU = (s: ParamSpec, u: number): number => (s.transform === "log" ? Math.exp(u) : u);
export const clipU = (s: ParamSpec, u: number): number => {
  const lo = s.transform === "log" ? (s.lo > 0 ? Math.log(s.lo) : -Infinity) : s.lo;
  const hi = s.transform === "log" ? Math.log(s.hi) : s.hi;
  return Math.min(hi, Math.max(lo, u));
};


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

/** Evaluates the circuit at free parameters p (fixed ones filled in): Z into zr, zi and optionally dZ/dp (k x n). */
export type FreeEvaluator = (p: Float64Array, zr: Float64Array, zi: Float64Array, jr?: Float64Array, ji?: Float64Array) => void;

/** Everything the solver and the summary need, checked. */
export interface PreparedFit {
  circuit: Circuit;
  /** The spectrum ordered by decreasing frequency. */
  spectrum: ImpedanceSpectrum;
  /** Known standard deviations in the spectrum's order, when given. */
  sigma?: FitOptions["sigma_ohm"];
  weighting: Weighting;
  /** Free parameters' specs (bounds of scale parameters include the automatic 15-decade box). */
  specs: ParamSpec[];
  /** Indices (in circuit.paramNames) of the fixed and the free parameters. */
  fixedIdx: ReadonlySet<number>;
  freeIdx: number[];
  /** Number of frequencies. */
  n: number;
  /** sqrt of the weights of the 2n stacked residuals [Re..., Im...]. */
  sw: Float64Array;
  evaluateFree: FreeEvaluator;
  /** Full parameter vector from the free one. */
  expand: (pFree: ArrayLike<number>) => Float64Array;
  /** Start in transformed coordinates. */
  u0: Float64Array;
}

function fixedIndices(circuit: Circuit, fixed: Record<string, number>): Set<number> {
  const fixedIdx = new Set<number>();
  for (const [name, v] of Object.entries(fixed)) {
    const j = circuit.paramNames.indexOf(name);
    if (j < 0) throw new ParameterError("fixed value for a parameter the circuit does not have", { field: name, expected: circuit.paramNames.join(", "), got: name });
    if (!Number.isFinite(v)) throw new ParameterError("fixed value must be finite", { field: name, expected: "a finite number", got: String(v) });
    fixedIdx.add(j);
  }
  return fixedIdx;
}

/** sigma_ohm checked against the data and put in the validated spectrum's (decreasing-frequency) order. */
function orderedSigma(spectrum: ImpedanceSpectrum, s: ImpedanceSpectrum, sigmaIn: FitOptions["sigma_ohm"]): FitOptions["sigma_ohm"] {
  if (!sigmaIn) return undefined;
  if (sigmaIn.re.length !== spectrum.freq_Hz.length || sigmaIn.im.length !== spectrum.freq_Hz.length) {
    throw new ParameterError("sigma_ohm must have one value per frequency", { field: "sigma_ohm", expected: String(spectrum.freq_Hz.length), got: `${sigmaIn.re.length}, ${sigmaIn.im.length}` });
  }
  // validateSpectrum reversed the order to decreasing frequency
  return s !== spectrum ? { re: Array.from(sigmaIn.re).reverse(), im: Array.from(sigmaIn.im).reverse() } : sigmaIn;
}

/** The start in transformed coordinates; widens unbounded scale parameters' boxes around it (see below). */
function startVector(circuit: Circuit, s: ImpedanceSpectrum, specs: ParamSpec[], initial: Record<string, number> = {}): Float64Array {
  const init = { ...guessParameters(circuit, s), ...initial };
  for (const name of Object.keys(initial)) {
    if (!circuit.paramNames.includes(name)) {
      throw new ParameterError("initial value for a parameter the circuit does not have", { field: name, expected: circuit.paramNames.join(", "), got: name });
    }
  }
  const u0 = new Float64Array(specs.length);
  specs.forEach((sp, j) => {
    const v = init[sp.name] ?? NaN;
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
  return u0;
}

/** Validates the inputs and builds the weighted problem. */
export function prepareFit(circuitIn: Circuit | string, spectrum: ImpedanceSpectrum, options: FitOptions): PreparedFit {
  const circuit = typeof circuitIn === "string" ? parseCircuit(circuitIn) : circuitIn;
  const kAll = circuit.paramNames.length;
  const fixed = options.fixed ?? {};
  const fixedIdx = fixedIndices(circuit, fixed);
  const freeIdx = circuit.paramNames.map((_, j) => j).filter((j) => !fixedIdx.has(j));
  const k = freeIdx.length;
  if (k === 0) throw new ParameterError("every parameter is fixed", { field: "fixed", expected: "at least one free parameter", got: Object.keys(fixed).join(", ") });
  const s = validateSpectrum(spectrum, k + 1);
  const n = s.freq_Hz.length;
  const specs = paramSpecs(circuit, options.bounds).filter((sp) => !fixedIdx.has(sp.index));
  const weighting = options.weighting ?? "boukamp";
  const sigma = orderedSigma(spectrum, s, options.sigma_ohm);
  const sw = buildWeights(s, weighting, sigma);
  const ev = compileCircuit(circuit, s.freq_Hz);
  // Full parameter vector from the free one (fixed values filled in); the solver sees only free columns.
  const base = Float64Array.from(circuit.paramNames, (name) => fixed[name] ?? NaN);
  const expand = (pFree: ArrayLike<number>): Float64Array => {
    const full = Float64Array.from(base);
    freeIdx.forEach((g, j) => (full[g] = pFree[j] ?? NaN));
    return full;
  };
  const jrAll = new Float64Array(kAll * n);
  const jiAll = new Float64Array(kAll * n);
  const evaluateFree: FreeEvaluator = (pFree, zr, zi, jr, ji) => {
    if (!jr || !ji || fixedIdx.size === 0) return ev.evaluate(fixedIdx.size ? expand(pFree) : pFree, zr, zi, jr, ji);
    ev.evaluate(expand(pFree), zr, zi, jrAll, jiAll);
    freeIdx.forEach((g, j) => {
      jr.set(jrAll.subarray(g * n, (g + 1) * n), j * n);
      ji.set(jiAll.subarray(g * n, (g + 1) * n), j * n);
    });
  };
  const u0 = startVector(circuit, s, specs, options.initial);
  return { circuit, spectrum: s, sigma, weighting, specs, fixedIdx, freeIdx, n, sw, evaluateFree, expand, u0 };
}
