/**
 * Broadcasting binary ops, reductions and 2x2x2 max pooling for TF.js's cpu backend, in plain loops. The stock
 * kernels compute every element's broadcast source with per-element index arithmetic (a bias add over a 32^3 x 8
 * batch took 330 ms of a 1.7 s training step, the bias gradient's Sum 200 ms: it transposes first), and recompute
 * the pooling argmax in the gradient through buffer.get calls. Here the common layouts are special-cased:
 * an operand is the full output, a scalar, a trailing block repeated over leading axes (a bias), or a leading block
 * repeated over trailing axes (a keep-dims reduction); anything else returns null and the stock kernel runs.
 */

/** How an operand maps onto an output split into outer x inner elements at one axis. */
type Mode = "full" | "scalar" | "inner" | "outer";

function modeAt(shape: readonly number[], out: readonly number[], k: number): Mode | null {
  const r = out.length;
  const s = [...new Array<number>(r - shape.length).fill(1), ...shape];
  if (s.every((d, i) => d === out[i])) return "full";
  if (s.every((d) => d === 1)) return "scalar";
  if (s.every((d, i) => (i < k ? d === 1 : d === out[i]))) return "inner";
  if (s.every((d, i) => (i < k ? d === out[i] : d === 1))) return "outer";
  return null;
}

/** Broadcast output shape (numpy rules), or null when the shapes do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1;
    const y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(Math.max(x, y));
  }
  return out;
}

export type BinaryOp = "add" | "sub" | "mul" | "div" | "greater";

/**
 * out = a (op) b with broadcasting, when both operands fit one split of the output (see Mode); else null.
 * "greater" writes 0/1 bytes (TF.js's bool storage), the rest float32.
 */
export function broadcastBinary(op: BinaryOp, a: Float32Array, aShape: readonly number[], b: Float32Array, bShape: readonly number[]): { values: Float32Array | Uint8Array; shape: number[] } | null {
  const plan = broadcastPlan(aShape, bShape);
  if (!plan) return null;
  const { shape, outer, inner } = plan;
  if (op === "greater") {
    const out = new Uint8Array(outer * inner);
    runGreater(out, a, plan, b);
    return { values: out, shape };
  }
  const out = new Float32Array(outer * inner);
  run(op, out, a, plan, b);
  return { values: out, shape };
}

/**
 * The output of a broadcast seen as outer x inner elements, with each operand's element (o, j) at o*as + j*aj
 * (resp. bs, bj): full (inner, 1), scalar (0, 0), trailing block (0, 1) or leading block (1, 0). Null when the
 * shapes need any other pattern.
 */
export interface BroadcastPlan {
  shape: number[];
  outer: number;
  inner: number;
  as: number;
  aj: number;
  bs: number;
  bj: number;
}

export function broadcastPlan(aShape: readonly number[], bShape: readonly number[]): BroadcastPlan | null {
  const shape = broadcastShape(aShape, bShape);
  if (!shape) return null;
  const size = shape.reduce((p, d) => p * d, 1);
  for (let k = 0; k <= shape.length; k++) {
    const ma = modeAt(aShape, shape, k);
    const mb = modeAt(bShape, shape, k);
    if (!ma || !mb) continue;
    const inner = shape.slice(k).reduce((p, d) => p * d, 1);
    const outer = inner === 0 ? 0 : size / inner;
    const [as, aj] = steps(ma, inner);
    const [bs, bj] = steps(mb, inner);
    return { shape, outer, inner, as, aj, bs, bj };
  }
  return null;
}

// Operand steps: its index is o*inner+j (full), j (inner), o (outer) or 0 (scalar).
function steps(ma: Mode, inner: number): [number, number] {
  return [ma === "full" ? inner : ma === "outer" ? 1 : 0, ma === "full" || ma === "inner" ? 1 : 0];
}

// One loop per op and output type, so that V8 compiles monomorphic element accesses (the stock kernels' generic
// typed-array accesses cost several ns per element).
function runGreater(out: Uint8Array, a: Float32Array, { outer, inner, as, aj, bs, bj }: BroadcastPlan, b: Float32Array): void {
  for (let o = 0, t = 0; o < outer; o++) for (let j = 0, ia = o * as, ib = o * bs; j < inner; j++, t++, ia += aj, ib += bj) out[t] = a[ia]! > b[ib]! ? 1 : 0;
}

function run(op: Exclude<BinaryOp, "greater">, out: Float32Array, a: Float32Array, { outer, inner, as, aj, bs, bj }: BroadcastPlan, b: Float32Array): void {
  for (let o = 0, t = 0; o < outer; o++) {
    let ia = o * as;
    let ib = o * bs;
    switch (op) {
      case "add":
        for (let j = 0; j < inner; j++, t++, ia += aj, ib += bj) out[t] = a[ia]! + b[ib]!;
        break;
      case "sub":
        for (let j = 0; j < inner; j++, t++, ia += aj, ib += bj) out[t] = a[ia]! - b[ib]!;
        break;
      case "mul":
        for (let j = 0; j < inner; j++, t++, ia += aj, ib += bj) out[t] = a[ia]! * b[ib]!;
        break;
      case "div":
        for (let j = 0; j < inner; j++, t++, ia += aj, ib += bj) out[t] = a[ia]! / b[ib]!;
        break;
    }
  }
}

/**
 * Sum of x over the given axes when they are a leading or a trailing run of axes; else null. Sums are kept in
 * float64 in the stock kernel's order (it transposes the reduced axes innermost and adds them in sequence), so the
 * results are the same floats.
 */
export function sumAxes(x: Float32Array, shape: readonly number[], axes: readonly number[]): { values: Float32Array; shape: number[] } | null {
  const r = shape.length;
  const ax = [...new Set(axes.map((a) => (a < 0 ? a + r : a)))].sort((p, q) => p - q);
  if (ax.length === 0 || ax.some((a) => a < 0 || a >= r)) return null;
  const contiguous = ax.every((a, i) => a === ax[0]! + i);
  if (!contiguous) return null;
  const kept = shape.filter((_, i) => !ax.includes(i));
  if (ax[ax.length - 1] === r - 1) {
    // trailing axes: row sums
    const inner = ax.reduce((p, a) => p * shape[a]!, 1);
    const outer = inner === 0 ? kept.reduce((p, d) => p * d, 1) : x.length / inner;
    const out = new Float32Array(outer);
    for (let o = 0, t = 0; o < outer; o++) {
      let s = 0;
      for (let j = 0; j < inner; j++, t++) s += x[t]!;
      out[o] = s;
    }
    return { values: out, shape: kept };
  }
  if (ax[0] === 0) {
    // leading axes: column sums, each column added in row order
    const cols = kept.reduce((p, d) => p * d, 1);
    const rows = cols === 0 ? 0 : x.length / cols;
    const acc = new Float64Array(cols);
    for (let o = 0, t = 0; o < rows; o++) for (let j = 0; j < cols; j++, t++) acc[j]! += x[t]!;
    return { values: Float32Array.from(acc), shape: kept };
  }
  return null;
}

/**
 * Max pooling with window == stride == f ("valid", floor), channels last: the pooled values, or (wantArgmax) per
 * output the flat input index that won, ties going to the last maximum in (dz, dy, dx) order as in TF.js's
 * maxPool3dPositions (the values are then those of that winner).
 */
export function maxPool3dPatch(x: Float32Array, shape: readonly number[], f: number, wantArgmax: boolean): { values: Float32Array; argmax: Int32Array | null; shape: number[] } {
  const [N, D, H, W, C] = shape as [number, number, number, number, number];
  const Do = Math.floor(D / f);
  const Ho = Math.floor(H / f);
  const Wo = Math.floor(W / f);
  const size = N * Do * Ho * Wo * C;
  const values = new Float32Array(size);
  const argmax = wantArgmax ? new Int32Array(size) : null;
  const best = new Float64Array(C);
  const at = new Int32Array(C);
  let t = 0;
  for (let n = 0; n < N; n++)
    for (let z = 0; z < Do; z++)
      for (let r = 0; r < Ho; r++)
        for (let c = 0; c < Wo; c++) {
          best.fill(-Infinity);
          at.fill(-1);
          for (let dz = 0; dz < f; dz++)
            for (let dy = 0; dy < f; dy++) {
              const row = ((n * D + z * f + dz) * H + r * f + dy) * W;
              for (let dx = 0; dx < f; dx++) {
                const base = (row + c * f + dx) * C;
                // TF.js's forward keeps the first maximum (strict >: 0 before -0 stays 0), its gradient routes to
                // the last one (>=); each is matched where it is used
                if (wantArgmax)
                  for (let ch = 0; ch < C; ch++) {
                    const v = x[base + ch]!;
                    if (v >= best[ch]!) {
                      best[ch] = v;
                      at[ch] = base + ch;
                    }
                  }
                else
                  for (let ch = 0; ch < C; ch++) {
                    const v = x[base + ch]!;
                    if (v > best[ch]!) best[ch] = v;
                  }
              }
            }
          for (let ch = 0; ch < C; ch++, t++) {
            // a window of NaNs keeps -Infinity and no winner, as the stock kernel does
            values[t] = best[ch]!;
            if (argmax) argmax[t] = at[ch]!;
          }
        }
  return { values, argmax, shape: [N, Do, Ho, Wo, C] };
}

/** Gradient of maxPool3dPatch: dy routed to the winning input of each window, zero elsewhere. */
export function maxPool3dPatchGrad(dy: Float32Array, argmax: Int32Array, inputSize: number): Float32Array {
  const dx = new Float32Array(inputSize);
  for (let t = 0; t < argmax.length; t++) {
    const i = argmax[t]!;
    if (i >= 0) dx[i]! += dy[t]!;
  }
  return dx;
}

/**
 * Gradient of LeakyReLU in one pass: dy where x > 0, alpha * dy elsewhere. TF.js builds it from three kernels
 * (greater, mul, where: three full-size outputs); the values are the same, with alpha rounded to float32 as the
 * stock mul does.
 */
export function leakyReluGrad(dy: Float32Array, x: Float32Array, alpha: number): Float32Array {
  const a = Math.fround(alpha);
  const out = new Float32Array(dy.length);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! > 0 ? dy[i]! : a * dy[i]!;
  return out;
}

/** Concatenation along the last axis of arrays that share all leading axes (rows): row copies. */
export function concatLastAxis(parts: readonly Float32Array[], widths: readonly number[], rows: number): Float32Array {
  const total = widths.reduce((p, w) => p + w, 0);
  const out = new Float32Array(rows * total);
  let off = 0;
  parts.forEach((src, k) => {
    const w = widths[k]!;
    for (let r = 0, s = 0, d = off; r < rows; r++, s += w, d += total) for (let c = 0; c < w; c++) out[d + c] = src[s + c]!;
    off += w;
  });
  return out;
}
