/**
 * Where a circuit fit starts and how its blocks are labelled: the data-derived initial guess, and the ordering of
 * same-kind R||C blocks by time constant that keeps labels (fast arc first) stable between fits.
 */
import type { Circuit, CircuitNode, ElementNode } from "./circuit.js";
import { type ImpedanceSpectrum, validateSpectrum } from "./spectrum.js";

export interface BlockRC {
  node: CircuitNode;
  r: ElementNode;
  c: ElementNode;
}

/** Top-level (series) parallel blocks made of exactly one R and one C or CPE. */
export function rcBlocks(circuit: Circuit): BlockRC[] {
  const top = circuit.root.kind === "series" ? circuit.root.children : [circuit.root];
  const out: BlockRC[] = [];
  for (const node of top) {
    if (node.kind !== "parallel" || node.children.length !== 2) continue;
    const [a, b] = node.children;
    if (a?.kind !== "element" || b?.kind !== "element") continue;
    const r = a.type === "R" ? a : b.type === "R" ? b : null;
    const c = a.type === "C" || a.type === "CPE" ? a : b.type === "C" || b.type === "CPE" ? b : null;
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
