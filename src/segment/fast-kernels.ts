/**
 * Faster pure-JS kernels for the TF.js cpu backend, for the ops a 3D U-Net spends its training time in: the
 * stride-1 "same" 3D convolution and its two gradients, and SplitV along the last axis (the gradient of the skip
 * concatenations). The stock kernels were profiled at 0.4 GFLOP/s for Conv3D and its gradients, with SplitV as
 * expensive as one of them (base-4 U-Net, 16^3 patches, batch 2); see bench/README.md for the measured effect.
 *
 * Why faster: the stock Conv3D adds into the output array in its innermost loop (one store per multiply-add);
 * here each output is summed in local variables, four output channels at a time, over the contiguous run of
 * (dx, input channel) values that one (dz, dy) tap row reads. The gradients are the same loop: the input gradient
 * is this convolution of dy with the flipped, transposed filter; the filter gradient sums input x dy products over
 * the positions where a tap is inside the volume. Any other case (strides, dilations, even or uneven kernels,
 * other axes) falls through to the stock kernel, so results never depend on which path ran beyond float rounding.
 */
import * as tf from "@tensorflow/tfjs";

interface CpuBackend {
  data: { get(id: unknown): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values?: Float32Array): tf.TensorInfo;
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: CpuBackend;
  attrs: Record<string, unknown>;
}

let enabled = process.env.SSB_CT_TFJS_FAST_KERNELS !== "0";

/** Switch the fast kernels on or off at run time (tests compare both paths; SSB_CT_TFJS_FAST_KERNELS=0 starts off). */
export function setFastKernels(on: boolean): void {
  enabled = on;
}

function values(b: CpuBackend, t: tf.TensorInfo): Float32Array {
  return b.data.get(t.dataId).values as Float32Array;
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

const FAST: Record<string, Fast> = {
  Conv3D({ inputs: { x, filter }, backend, attrs }) {
    const k = sameKernel(filter!.shape, attrs);
    if (!k || x!.dtype !== "float32") return null;
    const co = filter!.shape[4]!;
    const y = conv3dSame(values(backend, x!), x!.shape, values(backend, filter!), k, co);
    return backend.makeTensorInfo([...x!.shape.slice(0, 4), co], "float32", y);
  },
  Conv3DBackpropInputV2({ inputs: { dy, filter }, backend, attrs }) {
    const k = sameKernel(filter!.shape, attrs);
    if (!k || dy!.dtype !== "float32") return null;
    const [, , , ci, co] = filter!.shape as number[];
    const wt = flipTranspose(values(backend, filter!), k, ci!, co!);
    const dx = conv3dSame(values(backend, dy!), dy!.shape, wt, k, ci!);
    return backend.makeTensorInfo([...dy!.shape.slice(0, 4), ci!], "float32", dx);
  },
  Conv3DBackpropFilterV2({ inputs: { x, dy }, backend, attrs }) {
    const fs = attrs.filterShape as number[];
    const k = sameKernel(fs, attrs);
    if (!k || x!.dtype !== "float32") return null;
    const dw = conv3dSameFilterGrad(values(backend, x!), x!.shape, values(backend, dy!), k, fs[4]!);
    return backend.makeTensorInfo([...fs], "float32", dw);
  },
  SplitV({ inputs: { x }, backend, attrs }) {
    const rank = x!.shape.length;
    const axis = attrs.axis as number;
    const sizes = attrs.numOrSizeSplits;
    if (x!.dtype !== "float32" || rank < 2 || (axis !== -1 && axis !== rank - 1) || !Array.isArray(sizes) || sizes.some((s) => s < 0)) return null;
    const last = x!.shape[rank - 1]!;
    return splitLastAxis(values(backend, x!), last, sizes as number[]).map((v, i) => backend.makeTensorInfo([...x!.shape.slice(0, -1), (sizes as number[])[i]!], "float32", v));
  },
};

let registered = false;
const calls: Record<string, number> = {};

/** How many times each fast kernel ran (the rest went to the stock kernels); for tests and profiling. */
export function fastKernelCalls(): Readonly<Record<string, number>> {
  return { ...calls };
}

/** Wraps the cpu backend's kernels with the fast paths (once; stock kernels handle every other case). */
export function registerFastKernels(): void {
  if (registered) return;
  registered = true;
  for (const [name, fast] of Object.entries(FAST)) {
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
