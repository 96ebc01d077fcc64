/**
 * Faster kernels for the TF.js cpu backend, for the ops a 3D U-Net spends its training time in, above all the 3D
 * convolutions and their two gradients. Two tiers:
 *
 * - native (`native/tfjs-kernels`, an optional package compiled by node-gyp at `npm ci`, no BLAS): stride-1 "same"
 *   convolutions with odd cubic kernels and "valid" ones whose kernel equals the stride (the U-Net's transposed-conv
 *   upsampling and its gradients) as register-blocked GEMMs over the channels-last layout, AVX2+FMA when the CPU
 *   has it, on several threads. Off with SSB_CT_TFJS_NATIVE=0; threads from SSB_CT_TFJS_THREADS (default: all cores).
 * - portable JS (always there): the stride-1 "same" convolution and its gradients summed in registers four output
 *   channels at a time. The stock kernels were profiled at 0.4 GFLOP/s (they add into the output array in the
 *   innermost loop); see bench/README.md for the measured effect of both tiers.
 *
 * Besides the convolutions, the other ops that fill a training step once the convolutions are fast (measured: bias
 * adds, LeakyReLU and its gradient, bias-gradient sums, pooling, concat/split, the loss's exp, Adam's broadcasts):
 * broadcasting Add/Sub/Multiply/RealDiv/Greater, Sum over leading or trailing axes, Exp, LeakyReLU with a fused
 * gradient (one kernel instead of greater + mul + where), 2x2x2 max pooling and its gradient, last-axis Concat and
 * SplitV. Native where the addon has them, else portable JS (kernels-cpu/elementwise.ts); bit-identical to the stock
 * kernels except exp (last bit).
 *
 * Any other case (dilations, non-cubic kernels, other strides and paddings, other dtypes) falls through to the stock
 * kernel, so results never depend on which path ran beyond float rounding. SSB_CT_TFJS_FAST_KERNELS=0 turns both
 * tiers off.
 */
import { createRequire } from "node:module";
import * as tf from "@tensorflow/tfjs";
import { broadcastBinary, broadcastPlan, concatLastAxis, leakyReluGrad, maxPool3dPatch, maxPool3dPatchGrad, sumAxes, type BinaryOp } from "./kernels-cpu/elementwise.js";

interface CpuBackend {
  data: { get(id: unknown): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values?: Float32Array | Uint8Array): tf.TensorInfo;
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: CpuBackend;
  attrs: Record<string, unknown>;
}

let enabled = process.env.SSB_CT_TFJS_FAST_KERNELS !== "0";
let nativeEnabled = process.env.SSB_CT_TFJS_NATIVE !== "0";

/** Switch our kernels on or off at run time (tests compare paths; SSB_CT_TFJS_FAST_KERNELS=0 starts off). */
export function setFastKernels(on: boolean): void {
  enabled = on;
}

/** Switch the native tier on or off at run time (off: the portable JS kernels; SSB_CT_TFJS_NATIVE=0 starts off). */
export function setNativeKernels(on: boolean): void {
  nativeEnabled = on;
}

/** The compiled addon's entry points (native/tfjs-kernels/src/kernels.cc); outputs are written into the last array. */
interface NativeKernels {
  conv3d(x: Float32Array, n: number, d: number, h: number, w: number, ci: number, filter: Float32Array, k: number, s: number, p: number, co: number, y: Float32Array): void;
  conv3dBackpropInputPatch(dy: Float32Array, n: number, d: number, h: number, w: number, co: number, filter: Float32Array, k: number, ci: number, dd: number, dh: number, dw: number, dx: Float32Array): void;
  conv3dFilterGrad(x: Float32Array, n: number, d: number, h: number, w: number, ci: number, dy: Float32Array, k: number, s: number, p: number, co: number, dw: Float32Array): void;
  leakyRelu(x: Float32Array, alpha: number, out: Float32Array): void;
  leakyReluGrad(dy: Float32Array, x: Float32Array, alpha: number, out: Float32Array): void;
  binary(op: 0 | 1 | 2 | 3, a: Float32Array, as: number, aj: number, b: Float32Array, bs: number, bj: number, outer: number, inner: number, out: Float32Array): void;
  exp(x: Float32Array, out: Float32Array): void;
  copy2d(src: Float32Array, srcOff: number, srcStride: number, dst: Float32Array, dstOff: number, dstStride: number, rows: number, width: number): void;
  columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  maxPool(x: Float32Array, n: number, d: number, h: number, w: number, c: number, f: number, dy: Float32Array | null, out: Float32Array): void;
  setSimd(level: 0 | 1): void;
  setThreads(n: number): void;
  info(): { threads: number; simd: string };
}

const NATIVE_ENTRY_POINTS: readonly (keyof NativeKernels)[] = [
  "conv3d",
  "conv3dBackpropInputPatch",
  "conv3dFilterGrad",
  "leakyRelu",
  "leakyReluGrad",
  "binary",
  "exp",
  "copy2d",
  "columnSums",
  "maxPool",
  "setSimd",
  "setThreads",
  "info",
];

let native: NativeKernels | null | undefined;
let nativeError = "";

/**
 * The addon, loaded once: the installed optional package first, then the package folder in this checkout (a
 * `node-gyp rebuild` there works without reinstalling). Null when neither loads; the reason is kept for printing.
 */
function loadNative(): NativeKernels | null {
  if (native !== undefined) return native;
  native = null;
  if (process.env.SSB_CT_TFJS_NATIVE === "0") {
    nativeError = "switched off (SSB_CT_TFJS_NATIVE=0)";
    return native;
  }
  const require = createRequire(import.meta.url);
  for (const id of ["ssb-ct-tfjs-kernels", "../../native/tfjs-kernels/index.js"]) {
    try {
      native = require(id) as NativeKernels;
      break;
    } catch (e) {
      nativeError ||= `not built (${(e as Error).message.split("\n")[0]})`;
    }
  }
  // a build older than this source (pulled without reinstalling) lacks entry points: use the JS tier, say why
  const missing = native ? NATIVE_ENTRY_POINTS.filter((f) => typeof (native as unknown as Record<string, unknown>)[f] !== "function") : [];
  if (missing.length) {
    native = null;
    nativeError = `stale build, lacks ${missing.join(", ")} (npm rebuild ssb-ct-tfjs-kernels)`;
  }
  const t = Number(process.env.SSB_CT_TFJS_THREADS);
  if (native && Number.isInteger(t) && t > 0) native.setThreads(t);
  return native;
}

/** Which of our kernel tiers runs, in words (printed by initTf): native with its SIMD and threads, or portable JS. */
export function kernelPath(): string {
  if (!enabled) return "stock TF.js kernels (SSB_CT_TFJS_FAST_KERNELS=0)";
  const n = loadNative();
  if (n && nativeEnabled) {
    const i = n.info();
    return `native conv3d kernels (${i.simd}, ${i.threads} threads)`;
  }
  return `portable JS conv3d kernels; native ${n ? "switched off" : nativeError}`;
}

/** Native tier: AVX2+FMA code when the CPU has it (true, the default) or the baseline build (false); for tests. */
export function setNativeSimd(on: boolean): void {
  loadNative()?.setSimd(on ? 1 : 0);
}

/** Threads of the native tier (no effect without it). */
export function setNativeThreads(n: number): void {
  loadNative()?.setThreads(n);
}

function values(b: CpuBackend, t: tf.TensorInfo): Float32Array {
  return b.data.get(t.dataId).values as Float32Array;
}

/**
 * The values of float32 tensors as Float32Arrays for the native tier, or null: the cpu backend may keep a float32
 * tensor's values in another array type (a cast from int32 keeps the Int32Array), and those go to the JS kernels.
 */
function f32(b: CpuBackend, ...ts: tf.TensorInfo[]): Float32Array[] | null {
  const out: Float32Array[] = [];
  for (const t of ts) {
    const v = b.data.get(t.dataId).values;
    if (!(v instanceof Float32Array)) return null;
    out.push(v);
  }
  return out;
}

const ones = (a: unknown) => a === undefined || a === 1 || (Array.isArray(a) && a.every((v) => v === 1));

/** Odd cubic kernel edge k for a stride-1, dilation-1, "same" conv with filter shape [k, k, k, in, out]; else 0. */
function sameKernel(filterShape: readonly number[], attrs: Record<string, unknown>): number {
  const [kd, kh, kw] = filterShape;
  if (attrs.pad !== "same" || !ones(attrs.strides) || !ones(attrs.dilations)) return 0;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NDHWC") return 0;
  return kd === kh && kh === kw && kd! % 2 === 1 ? kd! : 0;
}

/**
 * Geometry the native tier handles: a cubic kernel k with equal strides s and no dilation, channels last, either
 * stride-1 "same" with odd k (padding (k-1)/2) or "valid" (padding 0). Null otherwise.
 */
function nativeGeometry(filterShape: readonly number[], attrs: Record<string, unknown>): { k: number; s: number; p: number } | null {
  const [kd, kh, kw] = filterShape;
  if (kd === undefined || kd !== kh || kh !== kw || !ones(attrs.dilations)) return null;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NDHWC") return null;
  const st = attrs.strides;
  const s = typeof st === "number" ? st : Array.isArray(st) && st.length === 3 && st[0] === st[1] && st[1] === st[2] ? (st[0] as number) : 0;
  if (!Number.isInteger(s) || s < 1) return null;
  if (attrs.pad === "same" && s === 1 && kd % 2 === 1) return { k: kd, s, p: (kd - 1) >> 1 };
  if (attrs.pad === "valid") return { k: kd, s, p: 0 };
  return null;
}

const outEdge = (d: number, g: { k: number; s: number; p: number }) => Math.floor((d + 2 * g.p - g.k) / g.s) + 1;

/**
 * y (N, D, H, W, Co) = stride-1 "same" 3D convolution of x (N, D, H, W, Ci) with w (k, k, k, Ci, Co).
 */
export function conv3dSame(x: Float32Array, shape: readonly number[], w: Float32Array, k: number, co: number): Float32Array {
  const [N, D, H, W, Ci] = shape as [number, number, number, number, number];
  const p = (k - 1) >> 1;
  const y = new Float32Array(N * D * H * W * co);
  const K = k * Ci;
  const co4 = co - (co % 4);
  for (let n = 0; n < N; n++)
    for (let z = 0; z < D; z++)
      for (let r = 0; r < H; r++) {
        const yRow = ((n * D + z) * H + r) * W * co;
        for (let dz = 0; dz < k; dz++) {
          const zz = z + dz - p;
          if (zz < 0 || zz >= D) continue;
          for (let dy = 0; dy < k; dy++) {
            const rr = r + dy - p;
            if (rr < 0 || rr >= H) continue;
            const xRow = ((n * D + zz) * H + rr) * W * Ci;
            const wTap = (dz * k + dy) * K * co;
            for (let c = 0; c < W; c++) {
              const j0 = Math.max(0, p - c) * Ci;
              const j1 = Math.min(k, W - c + p) * Ci;
              const xb = xRow + (c - p) * Ci;
              const yo = yRow + c * co;
              for (let o = 0; o < co4; o += 4) {
                let a0 = 0;
                let a1 = 0;
                let a2 = 0;
                let a3 = 0;
                for (let j = j0, wo = wTap + j0 * co + o; j < j1; j++, wo += co) {
                  const v = x[xb + j]!;
                  a0 += v * w[wo]!;
                  a1 += v * w[wo + 1]!;
                  a2 += v * w[wo + 2]!;
                  a3 += v * w[wo + 3]!;
                }
                y[yo + o]! += a0;
                y[yo + o + 1]! += a1;
                y[yo + o + 2]! += a2;
                y[yo + o + 3]! += a3;
              }
              for (let o = co4; o < co; o++) {
                let a = 0;
                for (let j = j0, wo = wTap + j0 * co + o; j < j1; j++, wo += co) a += x[xb + j]! * w[wo]!;
                y[yo + o]! += a;
              }
            }
          }
        }
      }
  return y;
}

/** w (k, k, k, Ci, Co) -> (k, k, k, Co, Ci) flipped along the three spatial axes: the input-gradient filter. */
export function flipTranspose(w: Float32Array, k: number, ci: number, co: number): Float32Array {
  const out = new Float32Array(w.length);
  const k3 = k * k * k;
  for (let t = 0; t < k3; t++) {
    const src = (k3 - 1 - t) * ci * co;
    const dst = t * co * ci;
    for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[dst + o * ci + i] = w[src + i * co + o]!;
  }
  return out;
}

/** dW (k, k, k, Ci, Co) of a stride-1 "same" conv from its input x (N, D, H, W, Ci) and output gradient g. */
export function conv3dSameFilterGrad(x: Float32Array, shape: readonly number[], g: Float32Array, k: number, co: number): Float32Array {
  const [N, D, H, W, Ci] = shape as [number, number, number, number, number];
  const p = (k - 1) >> 1;
  const dw = new Float32Array(k * k * k * Ci * co);
  const co4 = co - (co % 4);
  for (let dz = 0; dz < k; dz++) {
    const z0 = Math.max(0, p - dz);
    const z1 = Math.min(D, D + p - dz);
    for (let dy = 0; dy < k; dy++) {
      const r0 = Math.max(0, p - dy);
      const r1 = Math.min(H, H + p - dy);
      for (let dx = 0; dx < k; dx++) {
        const c0 = Math.max(0, p - dx);
        const c1 = Math.min(W, W + p - dx);
        const tap = ((dz * k + dy) * k + dx) * Ci * co;
        for (let i = 0; i < Ci; i++)
          for (let o = 0; o < co; o += 4) {
            const wide = o < co4;
            let a0 = 0;
            let a1 = 0;
            let a2 = 0;
            let a3 = 0;
            for (let n = 0; n < N; n++)
              for (let z = z0; z < z1; z++)
                for (let r = r0; r < r1; r++) {
                  let xi = (((n * D + z + dz - p) * H + r + dy - p) * W + c0 + dx - p) * Ci + i;
                  let gi = (((n * D + z) * H + r) * W + c0) * co + o;
                  if (wide)
                    for (let c = c0; c < c1; c++, xi += Ci, gi += co) {
                      const v = x[xi]!;
                      a0 += v * g[gi]!;
                      a1 += v * g[gi + 1]!;
                      a2 += v * g[gi + 2]!;
                      a3 += v * g[gi + 3]!;
                    }
                  else
                    for (let c = c0; c < c1; c++, xi += Ci, gi += co) {
                      const v = x[xi]!;
                      a0 += v * g[gi]!;
                      if (o + 1 < co) a1 += v * g[gi + 1]!;
                      if (o + 2 < co) a2 += v * g[gi + 2]!;
                    }
                }
            const d = tap + i * co + o;
            dw[d] = a0;
            if (o + 1 < co) dw[d + 1] = a1;
            if (o + 2 < co) dw[d + 2] = a2;
            if (o + 3 < co) dw[d + 3] = a3;
          }
      }
    }
  }
  return dw;
}

/** Splits x along its last axis into pieces of the given sizes. */
export function splitLastAxis(x: Float32Array, last: number, sizes: readonly number[]): Float32Array[] {
  const rows = x.length / last;
  let off = 0;
  return sizes.map((s) => {
    const out = new Float32Array(rows * s);
    for (let r = 0, src = off, dst = 0; r < rows; r++, src += last, dst += s) for (let c = 0; c < s; c++) out[dst + c] = x[src + c]!;
    off += s;
    return out;
  });
}

type Fast = (a: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] | null;

/** Our kernel for the fused LeakyReLU gradient (cpu only; see registerFastKernels). */
const LEAKY_RELU_GRAD = "SsbCtLeakyReluGrad";

const BINARY: Record<BinaryOp, { kernel: string; code: 0 | 1 | 2 | 3 | -1 }> = {
  add: { kernel: "Add", code: 0 },
  sub: { kernel: "Sub", code: 1 },
  mul: { kernel: "Multiply", code: 2 },
  div: { kernel: "RealDiv", code: 3 },
  greater: { kernel: "Greater", code: -1 },
};

/** Broadcasting float32 binary op (see broadcastBinary); other dtypes and layouts go to the stock kernel. */
function binary(op: BinaryOp): Fast {
  const { kernel, code } = BINARY[op];
  return ({ inputs: { a, b }, backend }) => {
    if (a!.dtype !== "float32" || b!.dtype !== "float32") return null;
    const nk = nativeOn();
    const ab = nk && code >= 0 ? f32(backend, a!, b!) : null;
    const plan = ab ? broadcastPlan(a!.shape, b!.shape) : null;
    if (nk && ab && plan && code >= 0 && plan.outer * plan.inner < 2 ** 31) {
      const out = new Float32Array(plan.outer * plan.inner);
      nk.binary(code as 0 | 1 | 2 | 3, ab[0]!, plan.as, plan.aj, ab[1]!, plan.bs, plan.bj, plan.outer, plan.inner, out);
      count(kernel, "native");
      return backend.makeTensorInfo(plan.shape, "float32", out);
    }
    const r = broadcastBinary(op, values(backend, a!), a!.shape, values(backend, b!), b!.shape);
    if (!r) return null;
    count(kernel, "js");
    return backend.makeTensorInfo(r.shape, op === "greater" ? "bool" : "float32", r.values);
  };
}

/** Window edge of a channels-last max pool whose cubic window equals its stride, "valid"; else 0. */
function poolPatch(attrs: Record<string, unknown>): number {
  const cube = (v: unknown) => (typeof v === "number" ? v : Array.isArray(v) && v.length === 3 && v[0] === v[1] && v[1] === v[2] ? (v[0] as number) : 0);
  const f = cube(attrs.filterSize);
  if (!f || f !== cube(attrs.strides) || attrs.pad !== "valid") return 0;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== "NDHWC") return 0;
  return f;
}

/** The native addon when it is loaded and switched on, else null. */
function nativeOn(): NativeKernels | null {
  return nativeEnabled ? loadNative() : null;
}

const FAST: Record<string, Fast> = {
  Conv3D({ inputs: { x, filter }, backend, attrs }) {
    if (x!.dtype !== "float32") return null;
    const co = filter!.shape[4]!;
    const nk = nativeOn();
    const g = nk ? nativeGeometry(filter!.shape, attrs) : null;
    const xw = g ? f32(backend, x!, filter!) : null;
    const [N, D, H, W, Ci] = x!.shape as [number, number, number, number, number];
    if (nk && g && xw && D + 2 * g.p >= g.k && H + 2 * g.p >= g.k && W + 2 * g.p >= g.k) {
      const shape = [N, outEdge(D, g), outEdge(H, g), outEdge(W, g), co];
      const y = new Float32Array(shape.reduce((a, b) => a * b, 1));
      nk.conv3d(xw[0]!, N, D, H, W, Ci, xw[1]!, g.k, g.s, g.p, co, y);
      count("Conv3D", "native");
      return backend.makeTensorInfo(shape, "float32", y);
    }
    const k = sameKernel(filter!.shape, attrs);
    if (!k) return null;
    const y = conv3dSame(values(backend, x!), x!.shape, values(backend, filter!), k, co);
    count("Conv3D", "js");
    return backend.makeTensorInfo([...x!.shape.slice(0, 4), co], "float32", y);
  },
  Conv3DBackpropInputV2({ inputs: { dy, filter }, backend, attrs }) {
    if (dy!.dtype !== "float32") return null;
    const [, , , ci, co] = filter!.shape as number[];
    const inShape = attrs.inputShape as number[];
    const nk = nativeOn();
    const dyw = nk ? f32(backend, dy!, filter!) : null;
    const g = dyw ? nativeGeometry(filter!.shape, attrs) : null;
    const [N, Do, Ho, Wo] = dy!.shape as [number, number, number, number, number];
    if (nk && dyw && g && g.p === 0 && g.k === g.s && inShape.length === 5) {
      // kernel == stride: every input voxel feeds one output voxel, so the gradient is written in place
      const [, D, H, W] = inShape as [number, number, number, number, number];
      if (outEdge(D, g) === Do && outEdge(H, g) === Ho && outEdge(W, g) === Wo) {
        const dx = new Float32Array(N * D * H * W * ci!);
        nk.conv3dBackpropInputPatch(dyw[0]!, N, Do, Ho, Wo, co!, dyw[1]!, g.k, ci!, D, H, W, dx);
        count("Conv3DBackpropInputV2", "native");
        return backend.makeTensorInfo([N, D, H, W, ci!], "float32", dx);
      }
    }
    const k = sameKernel(filter!.shape, attrs);
    if (!k) return null;
    // stride-1 "same": the input gradient is the same convolution of dy with the flipped, transposed filter
    const wt = flipTranspose(values(backend, filter!), k, ci!, co!);
    let dx: Float32Array;
    if (nk && dyw && g) {
      dx = new Float32Array(N * Do * Ho * Wo * ci!);
      nk.conv3d(dyw[0]!, N, Do, Ho, Wo, co!, wt, k, 1, g.p, ci!, dx);
      count("Conv3DBackpropInputV2", "native");
    } else {
      dx = conv3dSame(values(backend, dy!), dy!.shape, wt, k, ci!);
      count("Conv3DBackpropInputV2", "js");
    }
    return backend.makeTensorInfo([...dy!.shape.slice(0, 4), ci!], "float32", dx);
  },
  Conv3DBackpropFilterV2({ inputs: { x, dy }, backend, attrs }) {
    const fs = attrs.filterShape as number[];
    if (x!.dtype !== "float32") return null;
    const nk = nativeOn();
    const g = nk ? nativeGeometry(fs, attrs) : null;
    const xd = g ? f32(backend, x!, dy!) : null;
    const [N, D, H, W, Ci] = x!.shape as [number, number, number, number, number];
    const co = fs[4]!;
    if (nk && g && xd && D + 2 * g.p >= g.k && H + 2 * g.p >= g.k && W + 2 * g.p >= g.k) {
      const dw = new Float32Array(fs.reduce((a, b) => a * b, 1));
      nk.conv3dFilterGrad(xd[0]!, N, D, H, W, Ci, xd[1]!, g.k, g.s, g.p, co, dw);
      count("Conv3DBackpropFilterV2", "native");
      return backend.makeTensorInfo([...fs], "float32", dw);
    }
    const k = sameKernel(fs, attrs);
    if (!k) return null;
    const dw = conv3dSameFilterGrad(values(backend, x!), x!.shape, values(backend, dy!), k, co);
    count("Conv3DBackpropFilterV2", "js");
    return backend.makeTensorInfo([...fs], "float32", dw);
  },
  Add: binary("add"),
  Sub: binary("sub"),
  Multiply: binary("mul"),
  RealDiv: binary("div"),
  Greater: binary("greater"),
  Sum({ inputs: { x }, backend, attrs }) {
    if (x!.dtype !== "float32") return null;
    const axis = attrs.axis as number | number[];
    const ax = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + x!.shape.length : a)))].sort((p, q) => p - q);
    // keepDims: the reduced axes stay as 1s
    const shapeOf = (kept: number[]) => (attrs.keepDims ? x!.shape.map((d, i) => (ax.includes(i) ? 1 : d)) : kept);
    const nk = nativeOn();
    const xv = nk ? f32(backend, x!) : null;
    if (nk && xv && ax.length > 0 && ax.every((a, i) => a === i) && ax.length < x!.shape.length) {
      // leading axes (a bias gradient): column sums
      const cols = x!.shape.slice(ax.length).reduce((p, d) => p * d, 1);
      const rows = cols === 0 ? 0 : xv[0]!.length / cols;
      const out = new Float32Array(cols);
      nk.columnSums(xv[0]!, rows, cols, out);
      count("Sum", "native");
      return backend.makeTensorInfo(shapeOf(x!.shape.slice(ax.length)), "float32", out);
    }
    const r = sumAxes(values(backend, x!), x!.shape, ax);
    if (!r) return null;
    count("Sum", "js");
    return backend.makeTensorInfo(shapeOf(r.shape), "float32", r.values);
  },
  Exp({ inputs: { x }, backend }) {
    const nk = nativeOn();
    const xv = nk && x!.dtype === "float32" ? f32(backend, x!) : null;
    if (!nk || !xv) return null;
    const out = new Float32Array(xv[0]!.length);
    nk.exp(xv[0]!, out);
    count("Exp", "native");
    return backend.makeTensorInfo([...x!.shape], "float32", out);
  },
  MaxPool3D({ inputs: { x }, backend, attrs }) {
    const f = poolPatch(attrs);
    if (!f || x!.dtype !== "float32" || x!.shape.length !== 5) return null;
    const nk = nativeOn();
    const xv = nk ? f32(backend, x!) : null;
    if (nk && xv) {
      const [N, D, H, W, C] = x!.shape as [number, number, number, number, number];
      const shape = [N, Math.floor(D / f), Math.floor(H / f), Math.floor(W / f), C];
      const out = new Float32Array(shape.reduce((p, d) => p * d, 1));
      nk.maxPool(xv[0]!, N, D, H, W, C, f, null, out);
      count("MaxPool3D", "native");
      return backend.makeTensorInfo(shape, "float32", out);
    }
    const r = maxPool3dPatch(values(backend, x!), x!.shape, f, false);
    count("MaxPool3D", "js");
    return backend.makeTensorInfo(r.shape, "float32", r.values);
  },
  MaxPool3DGrad({ inputs: { dy, input }, backend, attrs }) {
    const f = poolPatch(attrs);
    if (!f || input!.dtype !== "float32" || input!.shape.length !== 5) return null;
    const nk = nativeOn();
    const xd = nk ? f32(backend, input!, dy!) : null;
    const [N, D, H, W, C] = input!.shape as [number, number, number, number, number];
    const pooled = [N, Math.floor(D / f), Math.floor(H / f), Math.floor(W / f), C];
    if (nk && xd && pooled.every((d, i) => d === dy!.shape[i])) {
      const dx = new Float32Array(N * D * H * W * C);
      nk.maxPool(xd[0]!, N, D, H, W, C, f, xd[1]!, dx);
      count("MaxPool3DGrad", "native");
      return backend.makeTensorInfo([...input!.shape], "float32", dx);
    }
    // the winners are recomputed from the input, as the stock kernel does (same tie rule)
    const r = maxPool3dPatch(values(backend, input!), input!.shape, f, true);
    if (r.shape.some((d, i) => d !== dy!.shape[i])) return null;
    const dx = maxPool3dPatchGrad(values(backend, dy!), r.argmax!, input!.shape.reduce((a, b) => a * b, 1));
    count("MaxPool3DGrad", "js");
    return backend.makeTensorInfo([...input!.shape], "float32", dx);
  },
  Concat({ inputs, backend, attrs }) {
    // inputs arrive as an array here; same dtype float32, same leading shape, joined along the last axis
    const list = Object.values(inputs);
    const first = list[0];
    if (!first || list.length < 2) return null;
    const rank = first.shape.length;
    const axis = attrs.axis as number | number[];
    const ax = Array.isArray(axis) ? axis[0] : axis;
    if (rank < 1 || (ax !== -1 && ax !== rank - 1)) return null;
    const lead = first.shape.slice(0, -1);
    for (const t of list) if (t.dtype !== "float32" || t.shape.length !== rank || t.shape.slice(0, -1).some((d, i) => d !== lead[i])) return null;
    const widths = list.map((t) => t.shape[rank - 1]!);
    const rows = lead.reduce((p, d) => p * d, 1);
    const total = widths.reduce((p, w) => p + w, 0);
    const nk = nativeOn();
    const vs = nk ? f32(backend, ...list) : null;
    if (nk && vs && rows * total < 2 ** 31) {
      const out = new Float32Array(rows * total);
      let off = 0;
      vs.forEach((v, k) => {
        nk.copy2d(v, 0, widths[k]!, out, off, total, rows, widths[k]!);
        off += widths[k]!;
      });
      count("Concat", "native");
      return backend.makeTensorInfo([...lead, total], "float32", out);
    }
    count("Concat", "js");
    return backend.makeTensorInfo([...lead, widths.reduce((p, w) => p + w, 0)], "float32", concatLastAxis(list.map((t) => values(backend, t)), widths, rows));
  },
  LeakyRelu({ inputs: { x }, backend, attrs }) {
    const nk = nativeOn();
    const xv = nk && x!.dtype === "float32" ? f32(backend, x!) : null;
    if (!nk || !xv) return null;
    const out = new Float32Array(x!.shape.reduce((p, d) => p * d, 1));
    nk.leakyRelu(xv[0]!, attrs.alpha as number, out);
    count("LeakyRelu", "native");
    return backend.makeTensorInfo([...x!.shape], "float32", out);
  },
  [LEAKY_RELU_GRAD]({ inputs: { dy, x }, backend, attrs }) {
    const nk = nativeOn();
    const dx = nk ? f32(backend, dy!, x!) : null;
    if (nk && dx) {
      const out = new Float32Array(x!.shape.reduce((p, d) => p * d, 1));
      nk.leakyReluGrad(dx[0]!, dx[1]!, attrs.alpha as number, out);
      count(LEAKY_RELU_GRAD, "native");
      return backend.makeTensorInfo([...x!.shape], "float32", out);
    }
    count(LEAKY_RELU_GRAD, "js");
    return backend.makeTensorInfo([...x!.shape], "float32", leakyReluGrad(values(backend, dy!), values(backend, x!), attrs.alpha as number));
  },
  SplitV({ inputs: { x }, backend, attrs }) {
    const rank = x!.shape.length;
    const axis = attrs.axis as number;
    const sizes = attrs.numOrSizeSplits;
    if (x!.dtype !== "float32" || rank < 2 || (axis !== -1 && axis !== rank - 1) || !Array.isArray(sizes) || sizes.some((s) => s < 0)) return null;
    const last = x!.shape[rank - 1]!;
    const nk = nativeOn();
    const xv = nk ? f32(backend, x!) : null;
    if (nk && xv && xv[0]!.length < 2 ** 31 && (sizes as number[]).reduce((p, q) => p + q, 0) === last) {
      const rows = last === 0 ? 0 : xv[0]!.length / last;
      let off = 0;
      count("SplitV", "native");
      return (sizes as number[]).map((w) => {
        const out = new Float32Array(rows * w);
        nk.copy2d(xv[0]!, off, last, out, 0, w, rows, w);
        off += w;
        return backend.makeTensorInfo([...x!.shape.slice(0, -1), w], "float32", out);
      });
    }
    count("SplitV", "js");
    return splitLastAxis(values(backend, x!), last, sizes as number[]).map((v, i) => backend.makeTensorInfo([...x!.shape.slice(0, -1), (sizes as number[])[i]!], "float32", v));
  },
};

let registered = false;
const calls: Record<string, number> = {};
const pathCalls: Record<"native" | "js", Record<string, number>> = { native: {}, js: {} };

function count(name: string, path: "native" | "js"): void {
  pathCalls[path][name] = (pathCalls[path][name] ?? 0) + 1;
}

/** How many times each of our kernels ran (the rest went to the stock kernels); for tests and profiling. */
export function fastKernelCalls(): Readonly<Record<string, number>> {
  return { ...calls };
}

/** The same, per tier: which calls the native addon served and which the portable JS kernels. */
export function kernelPathCalls(): { native: Record<string, number>; js: Record<string, number> } {
  return { native: { ...pathCalls.native }, js: { ...pathCalls.js } };
}

/** Wraps the cpu backend's kernels with the fast paths (once; stock kernels handle every other case). */
export function registerFastKernels(): void {
  if (registered) return;
  registered = true;
  registerLeakyReluGrad();
  for (const [name, fast] of Object.entries(FAST)) {
    if (name === LEAKY_RELU_GRAD) {
      // a kernel of our own, not a stock one: no fallback needed, its gradient only calls it when enabled
      tf.registerKernel({ kernelName: name, backendName: "cpu", kernelFunc: (args) => fast(args as unknown as KernelArgs)! });
      continue;
    }
    const stock = tf.getKernel(name, "cpu");
    if (!stock) continue;
    tf.unregisterKernel(name, "cpu");
    tf.registerKernel({
      ...stock,
      kernelFunc: (args) => {
        const out = enabled ? fast(args as unknown as KernelArgs) : null;
        if (out === null) return stock.kernelFunc(args);
        calls[name] = (calls[name] ?? 0) + 1;
        return out;
      },
    });
  }
}

/**
 * Replaces LeakyReLU's gradient with one that runs our fused kernel on the cpu backend when our kernels are on, and
 * TF.js's own formula (greater, mul, where) everywhere else, so other backends and the switch-off are unchanged.
 */
function registerLeakyReluGrad(): void {
  const stock = tf.getGradient("LeakyRelu");
  if (!stock) return;
  tf.registerGradient({
    ...stock,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      if (!enabled || tf.getBackend() !== "cpu" || Array.isArray(dy) || saved[0]?.dtype !== "float32" || dy.dtype !== "float32") return stock.gradFunc(dy, saved, attrs);
      const x = saved[0];
      return { x: () => tf.engine().runKernel(LEAKY_RELU_GRAD, { dy, x }, { alpha: attrs.alpha as number }) as tf.Tensor };
    },
  });
}
