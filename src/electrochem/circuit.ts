/**
 * Equivalent circuits in impedance.py's string syntax and their complex impedance.
 *
 * Syntax: `-` joins elements in series, `p(a,b,...)` puts them in parallel, and both nest, e.g.
 * `R0-p(R1,CPE1)-p(R2,CPE2)`. An element name is its type followed by an optional suffix that starts with a
 * digit or underscore (`R0`, `CPE1`, `Wo_diff`). Parameter names follow impedance.py: a one-parameter element's
 * parameter is the element name (`R0`), a multi-parameter element's are `NAME_0`, `NAME_1` (`CPE1_0` = Q,
 * `CPE1_1` = alpha).
 *
 * Elements (omega = 2 pi f in rad/s, Z in ohm):
 *   R   [R_ohm]                 Z = R
 *   C   [C_F]                   Z = 1 / (j omega C)
 *   L   [L_H]                   Z = j omega L
 *   CPE [Q_F_s^(alpha-1), alpha] Z = 1 / (Q (j omega)^alpha)
 *   W   [A_W ohm s^-1/2]        Z = A_W (1 - j) / sqrt(omega)          (semi-infinite Warburg)
 *   Wo  [Z0_ohm, tau_s]         Z = Z0 coth(sqrt(j omega tau)) / sqrt(j omega tau)   (finite space, open)
 *   Ws  [Z0_ohm, tau_s]         Z = Z0 tanh(sqrt(j omega tau)) / sqrt(j omega tau)   (finite length, short)
 */
import { ParameterError } from "../util/errors.js";

export type ElementType = "R" | "C" | "L" | "CPE" | "W" | "Wo" | "Ws";

/** Parameter count, units and physical meaning of each element's parameters, in impedance.py's order. */
export const ELEMENT_PARAMETERS: Readonly<Record<ElementType, ReadonlyArray<{ meaning: string; unit: string }>>> = {
  R: [{ meaning: "resistance", unit: "ohm" }],
  C: [{ meaning: "capacitance", unit: "F" }],
  L: [{ meaning: "inductance", unit: "H" }],
  CPE: [
    { meaning: "Q", unit: "F s^(alpha-1)" },
    { meaning: "alpha", unit: "" },
  ],
  W: [{ meaning: "Warburg coefficient A_W", unit: "ohm s^-1/2" }],
  Wo: [
    { meaning: "Z0", unit: "ohm" },
    { meaning: "tau", unit: "s" },
  ],
  Ws: [
    { meaning: "Z0", unit: "ohm" },
    { meaning: "tau", unit: "s" },
  ],
};

export interface ElementNode {
  kind: "element";
  /** Name as written, e.g. "CPE1". */
  name: string;
  type: ElementType;
  /** Parameter names in impedance.py's convention, e.g. ["CPE1_0", "CPE1_1"]. */
  paramNames: string[];
  /** Index of this element's first parameter in `Circuit.paramNames`. */
  paramOffset: number;
}

export interface SeriesNode {
  kind: "series";
  children: CircuitNode[];
}

export interface ParallelNode {
  kind: "parallel";
  children: CircuitNode[];
}

export type CircuitNode = ElementNode | SeriesNode | ParallelNode;

export interface Circuit {
  /** The string it was parsed from. */
  text: string;
  root: CircuitNode;
  /** Elements in the order they appear in the string. */
  elements: ElementNode[];
  /** All parameter names in order of appearance; this is the order of parameter vectors. */
  paramNames: string[];
}

export interface ComplexArrays {
  re_ohm: Float64Array;
  im_ohm: Float64Array;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing

interface Token {
  kind: "name" | "(" | ")" | "," | "-" | "end";
  text: string;
  /** 1-based column in the circuit string. */
  col: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === "," || ch === "-") {
      tokens.push({ kind: ch, text: ch, col: i + 1 });
      i++;
      continue;
    }
    const m = /^[A-Za-z][A-Za-z0-9_]*/.exec(text.slice(i));
    if (!m) {
      throw new ParameterError("circuit string does not parse", {
        field: "circuit",
        location: `column ${i + 1} in "${text}"`,
        expected: "an element name (R, C, L, CPE, W, Wo, Ws + suffix), p(...), '-' or ','",
        got: `token "${ch}"`,
      });
    }
    tokens.push({ kind: "name", text: m[0], col: i + 1 });
    i += m[0].length;
  }
  tokens.push({ kind: "end", text: "end of string", col: text.length + 1 });
  return tokens;
}

const ELEMENT_RE = /^(CPE|Wo|Ws|W|R|C|L)([0-9_][A-Za-z0-9_]*)?$/;

/**
 * Parses an impedance.py circuit string. Throws a ParameterError naming the offending token and its column
 * for anything that does not parse, for unknown element types and for duplicate element names.
 */
export function parseCircuit(text: string): Circuit {
  if (typeof text !== "string" || text.trim() === "") {
    throw new ParameterError("empty circuit string", {
      field: "circuit",
      expected: "e.g. R0-p(R1,CPE1)-p(R2,CPE2)",
      got: JSON.stringify(text),
    });
  }
  const tokens = tokenize(text);
  let pos = 0;
  const elements: ElementNode[] = [];
  const paramNames: string[] = [];
  const seen = new Set<string>();

  const fail = (tok: Token, expected: string): never => {
    throw new ParameterError("circuit string does not parse", {
      field: "circuit",
      location: `column ${tok.col} in "${text}"`,
      expected,
      got: `token "${tok.text}"`,
    });
  };

  // series := term ('-' term)* ; term := 'p' '(' series (',' series)+ ')' | element
  const parseSeries = (): CircuitNode => {
    const children: CircuitNode[] = [parseTerm()];
    while (tokens[pos]!.kind === "-") {
      pos++;
      children.push(parseTerm());
    }
    return children.length === 1 ? children[0]! : { kind: "series", children };
  };

  const parseTerm = (): CircuitNode => {
    const tok = tokens[pos]!;
    if (tok.kind !== "name") return fail(tok, "an element name or p(");
    if (tok.text === "p" && tokens[pos + 1]!.kind === "(") {
      pos += 2;
      const children: CircuitNode[] = [parseSeries()];
      while (tokens[pos]!.kind === ",") {
        pos++;
        children.push(parseSeries());
      }
      if (tokens[pos]!.kind !== ")") fail(tokens[pos]!, "',' or ')'");
      if (children.length < 2) fail(tokens[pos]!, "p(...) with at least two branches separated by ','");
      pos++;
      return { kind: "parallel", children };
    }
    const m = ELEMENT_RE.exec(tok.text);
    if (!m) return fail(tok, "an element R, C, L, CPE, W, Wo or Ws with an optional suffix starting with a digit or '_'");
    if (seen.has(tok.text)) return fail(tok, `element names used once (${tok.text} appears twice)`);
    seen.add(tok.text);
    pos++;
    const type = m[1] as ElementType;
    const n = ELEMENT_PARAMETERS[type].length;
    const names = n === 1 ? [tok.text] : Array.from({ length: n }, (_, k) => `${tok.text}_${k}`);
    const el: ElementNode = { kind: "element", name: tok.text, type, paramNames: names, paramOffset: paramNames.length };
    paramNames.push(...names);
    elements.push(el);
    return el;
  };

  const root = parseSeries();
  if (tokens[pos]!.kind !== "end") fail(tokens[pos]!, "'-' or end of string");
  return { text, root, elements, paramNames };
}

/** Writes a circuit back in impedance.py syntax. */
export function circuitToString(node: CircuitNode): string {
  if (node.kind === "element") return node.name;
  if (node.kind === "series") return node.children.map(circuitToString).join("-");
  return `p(${node.children.map(circuitToString).join(",")})`;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation with analytic derivatives

/**
 * A circuit bound to a frequency grid: evaluates Z(p) and, on request, dZ/dp for a parameter vector in
 * `circuit.paramNames` order. The fitter calls this in its inner loop, so it works on flat arrays.
 */
export interface CircuitEvaluator {
  readonly circuit: Circuit;
  readonly nFreq: number;
  readonly nParams: number;
  /**
   * Fills zRe/zIm (length nFreq) and, when given, jRe/jIm (row-major nParams x nFreq: jRe[k*nFreq+i] =
   * d Re Z_i / d p_k).
   */
  evaluate(p: ArrayLike<number>, zRe: Float64Array, zIm: Float64Array, jRe?: Float64Array, jIm?: Float64Array): void;
}

/** Frequency-only quantities, computed once per grid. */
interface Grid {
  n: number;
  omega: Float64Array;
  lnOmega: Float64Array;
  invSqrtOmega: Float64Array;
}

/**
 * Impedance of a sub-circuit and its derivatives with respect to the parameters it depends on. Buffers are
 * allocated once at compile time and overwritten by each evaluation (the evaluator is not re-entrant).
 */
interface NodeBuf {
  re: Float64Array;
  im: Float64Array;
  /** Global parameter indices this node depends on. */
  idx: number[];
  dre: Float64Array[];
  dim: Float64Array[];
  run(p: ArrayLike<number>, wantJ: boolean): void;
}

function buildNode(node: CircuitNode, g: Grid): NodeBuf {
  const n = g.n;
  if (node.kind === "element") return buildElement(node, g);
  const kids = node.children.map((c) => buildNode(c, g));
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const idx = kids.flatMap((k) => k.idx);
  if (node.kind === "series") {
    // A series sum passes its children's derivatives through unchanged: share their buffers.
    const dre = kids.flatMap((k) => k.dre);
    const dim = kids.flatMap((k) => k.dim);
    return {
      re, im, idx, dre, dim,
      run(p, wantJ) {
        re.fill(0);
        im.fill(0);
        for (const k of kids) {
          k.run(p, wantJ);
          for (let i = 0; i < n; i++) {
            re[i] = (re[i] ?? 0) + k.re[i]!;
            im[i] = (im[i] ?? 0) + k.im[i]!;
          }
        }
      },
    };
  }
  // Parallel: Y = sum 1/Z_k, Z = 1/Y, dZ/dp = (Z/Z_k)^2 dZ_k/dp for p in branch k.
  const dre = idx.map(() => new Float64Array(n));
  const dim = idx.map(() => new Float64Array(n));
  const yRe = new Float64Array(n);
  const yIm = new Float64Array(n);
  const shorted = new Int32Array(n);
  const wRe = new Float64Array(n);
  const wIm = new Float64Array(n);
  return {
    re, im, idx, dre, dim,
    run(p, wantJ) {
      yRe.fill(0);
      yIm.fill(0);
      shorted.fill(-1);
      kids.forEach((k, kk) => {
        k.run(p, wantJ);
        for (let i = 0; i < n; i++) {
          const a = k.re[i]!;
          const b = k.im[i]!;
          const m2 = a * a + b * b;
          if (m2 === 0) {
            shorted[i] = kk;
            continue;
          }
          yRe[i] = (yRe[i] ?? 0) + (a / m2);
          yIm[i] = (yIm[i] ?? 0) - (b / m2);
        }
      });
      for (let i = 0; i < n; i++) {
        if (shorted[i]! >= 0) {
          // a zero-impedance branch shorts the block
          re[i] = 0;
          im[i] = 0;
          continue;
        }
        const m2 = yRe[i]! * yRe[i]! + yIm[i]! * yIm[i]!;
        re[i] = yRe[i]! / m2;
        im[i] = -yIm[i]! / m2;
      }
      if (!wantJ) return;
      let out = 0;
      kids.forEach((k, kk) => {
        // w = (Z / Z_k)^2 = (Z Y_k)^2
        for (let i = 0; i < n; i++) {
          if (shorted[i]! >= 0) {
            wRe[i] = shorted[i] === kk ? 1 : 0;
            wIm[i] = 0;
            continue;
          }
          const a = k.re[i]!;
          const b = k.im[i]!;
          const m2 = a * a + b * b;
          const ykRe = a / m2;
          const ykIm = -b / m2;
          const rRe = re[i]! * ykRe - im[i]! * ykIm;
          const rIm = re[i]! * ykIm + im[i]! * ykRe;
          wRe[i] = rRe * rRe - rIm * rIm;
          wIm[i] = 2 * rRe * rIm;
        }
        for (let j = 0; j < k.idx.length; j++, out++) {
          const sr = k.dre[j]!;
          const si = k.dim[j]!;
          const oR = dre[out]!;
          const oI = dim[out]!;
          for (let i = 0; i < n; i++) {
            oR[i] = wRe[i]! * sr[i]! - wIm[i]! * si[i]!;
            oI[i] = wRe[i]! * si[i]! + wIm[i]! * sr[i]!;
          }
        }
      });
    },
  };
}

/** Binds a circuit to a frequency grid (Hz). */
export function compileCircuit(circuit: Circuit, freq_Hz: ArrayLike<number>): CircuitEvaluator {
  const n = freq_Hz.length;
  const omega = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const f = freq_Hz[i]!;
    if (!Number.isFinite(f) || f <= 0) {
      throw new ParameterError("frequencies must be finite and positive", {
        field: "freq_Hz",
        location: `index ${i}`,
        expected: "> 0 Hz",
        got: String(f),
      });
    }
    omega[i] = 2 * Math.PI * f;
  }
  const grid: Grid = {
    n,
    omega,
    lnOmega: Float64Array.from(omega, Math.log),
    invSqrtOmega: Float64Array.from(omega, (w) => 1 / Math.sqrt(w)),
  };
  const root = buildNode(circuit.root, grid);
  const nParams = circuit.paramNames.length;
  return {
    circuit,
    nFreq: n,
    nParams,
    evaluate(p, zRe, zIm, jRe, jIm) {
      const wantJ = jRe !== undefined && jIm !== undefined;
      root.run(p, wantJ);
      zRe.set(root.re);
      zIm.set(root.im);
      if (wantJ) {
        jRe!.fill(0);
        jIm!.fill(0);
        for (let j = 0; j < root.idx.length; j++) {
          const off = root.idx[j]! * n;
          jRe!.set(root.dre[j]!, off);
          jIm!.set(root.dim[j]!, off);
        }
      }
    },
  };
}

/**
 * Complex 1/tanh-style helpers for Wo and Ws. For x = sqrt(j omega tau), Re x >= 0, so e = exp(-2x) has
 * |e| <= 1 and tanh x = (1 - e)/(1 + e) never overflows; 1 - e uses expm1 so small x keeps its digits.
 */
function tanhPieces(xr: number, xi: number): { omeRe: number; omeIm: number; opeRe: number; opeIm: number } {
  const ea = Math.expm1(-2 * xr); // e^{-2a} - 1
  const c = Math.cos(2 * xi);
  const s = Math.sin(2 * xi);
  const sb = Math.sin(xi);
  // e - 1 = e^{-2a}(cos 2b - j sin 2b) - 1
  const emRe = ea * c - 2 * sb * sb;
  const emIm = -(ea + 1) * s;
  // one minus e, one plus e
  return { omeRe: -emRe, omeIm: -emIm, opeRe: 2 + emRe, opeIm: emIm };
}

function cdiv(ar: number, ai: number, br: number, bi: number): [number, number] {
  const m2 = br * br + bi * bi;
  return [(ar * br + ai * bi) / m2, (ai * br - ar * bi) / m2];
}

function cmul(ar: number, ai: number, br: number, bi: number): [number, number] {
  return [ar * br - ai * bi, ar * bi + ai * br];
}

function buildElement(el: ElementNode, g: Grid): NodeBuf {
  const { n, omega, lnOmega, invSqrtOmega } = g;
  const o = el.paramOffset;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const np = el.paramNames.length;
  const idx = Array.from({ length: np }, (_, k) => o + k);
  const dre = idx.map(() => new Float64Array(n));
  const dim = idx.map(() => new Float64Array(n));
  let run: NodeBuf["run"];
  switch (el.type) {
    case "R":
      dre[0]!.fill(1);
      run = (p) => re.fill(p[o]!);
      break;
    case "C":
      run = (p, wantJ) => {
        const C = p[o]!;
        for (let i = 0; i < n; i++) im[i] = -1 / (omega[i]! * C);
        if (wantJ) for (let i = 0; i < n; i++) dim[0]![i] = 1 / (omega[i]! * C * C);
      };
      break;
    case "L":
      dim[0]!.set(omega);
      run = (p) => {
        const L = p[o]!;
        for (let i = 0; i < n; i++) im[i] = omega[i]! * L;
      };
      break;
    case "CPE":
      run = (p, wantJ) => {
        const Q = p[o]!;
        const a = p[o + 1]!;
        const cr = Math.cos((-Math.PI * a) / 2) / Q;
        const ci = Math.sin((-Math.PI * a) / 2) / Q;
        for (let i = 0; i < n; i++) {
          const mag = Math.exp(-a * lnOmega[i]!); // omega^-alpha
          re[i] = mag * cr;
          im[i] = mag * ci;
        }
        if (!wantJ) return;
        const [dQr, dar] = [dre[0]!, dre[1]!];
        const [dQi, dai] = [dim[0]!, dim[1]!];
        const li = Math.PI / 2;
        for (let i = 0; i < n; i++) {
          dQr[i] = -re[i]! / Q;
          dQi[i] = -im[i]! / Q;
          // dZ/dalpha = -Z (ln omega + j pi/2)
          const lr = lnOmega[i]!;
          dar[i] = -(re[i]! * lr - im[i]! * li);
          dai[i] = -(re[i]! * li + im[i]! * lr);
        }
      };
      break;
    case "W":
      for (let i = 0; i < n; i++) {
        dre[0]![i] = invSqrtOmega[i]!;
        dim[0]![i] = -invSqrtOmega[i]!;
      }
      run = (p) => {
        const A = p[o]!;
        for (let i = 0; i < n; i++) {
          re[i] = A * invSqrtOmega[i]!;
          im[i] = -A * invSqrtOmega[i]!;
        }
      };
      break;
    case "Wo":
    case "Ws": {
      const open = el.type === "Wo";
      run = (p, wantJ) => {
        const Z0 = p[o]!;
        const tau = p[o + 1]!;
        for (let i = 0; i < n; i++) {
          // x = sqrt(j omega tau) = sqrt(omega tau / 2) (1 + j)
          const r = Math.sqrt((omega[i]! * tau) / 2);
          const t = tanhPieces(r, r);
          // h = tanh(x) for Ws, coth(x) for Wo
          const [hr, hi] = open ? cdiv(t.opeRe, t.opeIm, t.omeRe, t.omeIm) : cdiv(t.omeRe, t.omeIm, t.opeRe, t.opeIm);
          const [gr, gi] = cdiv(hr, hi, r, r); // h / x
          re[i] = Z0 * gr;
          im[i] = Z0 * gi;
          if (!wantJ) continue;
          dre[0]![i] = gr;
          dim[0]![i] = gi;
          // Wo: dZ/dtau = -Z0/(2 tau) (csch^2 x + coth x / x), csch^2 = coth^2 - 1
          // Ws: dZ/dtau =  Z0/(2 tau) (sech^2 x - tanh x / x), sech^2 = 1 - tanh^2
          const [h2r, h2i] = cmul(hr, hi, hr, hi);
          const sr = open ? -(h2r - 1 + gr) : 1 - h2r - gr;
          const si = open ? -(h2i + gi) : -h2i - gi;
          dre[1]![i] = (Z0 / (2 * tau)) * sr;
          dim[1]![i] = (Z0 / (2 * tau)) * si;
        }
      };
      break;
    }
  }
  return { re, im, idx, dre, dim, run };
}

function paramVector(circuit: Circuit, params: Record<string, number>): Float64Array {
  const p = new Float64Array(circuit.paramNames.length);
  circuit.paramNames.forEach((name, k) => {
    const v = params[name];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new ParameterError("circuit parameter missing or not finite", {
        field: name,
        expected: `a finite number for each of ${circuit.paramNames.join(", ")}`,
        got: v === undefined ? "missing" : String(v),
      });
    }
    p[k] = v;
  });
  return p;
}

/**
 * Complex impedance (ohm) of `circuit` at the given frequencies (Hz), Z = re_ohm + j im_ohm (capacitive
 * arcs have im_ohm < 0). `params` maps every name in `circuit.paramNames` to its value in the units of
 * ELEMENT_PARAMETERS.
 */
export function circuitImpedance(
  circuit: Circuit,
  params: Record<string, number>,
  freq_Hz: ArrayLike<number>,
): ComplexArrays {
  const p = paramVector(circuit, params);
  const ev = compileCircuit(circuit, freq_Hz);
  const re_ohm = new Float64Array(ev.nFreq);
  const im_ohm = new Float64Array(ev.nFreq);
  ev.evaluate(p, re_ohm, im_ohm);
  return { re_ohm, im_ohm };
}

/** Parameter record -> vector in `circuit.paramNames` order (throws naming a missing parameter). */
export function toParamVector(circuit: Circuit, params: Record<string, number>): Float64Array {
  return paramVector(circuit, params);
}

/** Parameter vector -> record keyed by `circuit.paramNames`. */
export function toParamRecord(circuit: Circuit, p: ArrayLike<number>): Record<string, number> {
  const out: Record<string, number> = {};
  circuit.paramNames.forEach((name, k) => (out[name] = p[k]!));
  return out;
}

/** Hsu-Mansfeld effective capacitance of an R||CPE (F): Q^(1/alpha) R^((1-alpha)/alpha). */
export function effectiveCapacitance(R_ohm: number, Q: number, alpha: number): number {
  return Math.pow(Q, 1 / alpha) * Math.pow(R_ohm, (1 - alpha) / alpha);
}
