/**
 * The native conv3d kernels (native/tfjs-kernels) against TF.js's stock kernels (switched off in the same process),
 * against our portable JS kernels, and against convolution written out as its definition here: forward, input
 * gradient and filter gradient (through tf.grads, so TF.js's own gradient plumbing picks the kernels), for odd
 * spatial sizes, channel counts that are not multiples of 8 (the addon pads columns to whole vectors), kernels 1, 3
 * and 5 "same", and kernel == stride "valid" (the U-Net's transposed-conv upsampling and its gradients), including
 * sizes the stride does not divide. Skipped with its reason where the addon was not built (CI=true fails instead).
 */
import { describe, expect, it, beforeAll, afterEach } from "vitest";
import { tf, initTf } from "../../src/segment/tf.js";
import { kernelPath, kernelPathCalls, setFastKernels, setNativeKernels, setNativeSimd, setNativeThreads } from "../../src/segment/fast-kernels.js";
import { Xoshiro128StarStar as Rng } from "../../src/numerics/random.js";

let hasNative = false;
beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
  hasNative = kernelPath().startsWith("native");
  if (!hasNative && process.env.CI === "true") throw new Error(`native kernels missing in CI: ${kernelPath()}`);
});
afterEach(() => {
  setFastKernels(true);
  setNativeKernels(true);
  setNativeSimd(true);
  setNativeThreads(2);
});

function random(shape: number[], seed: number): tf.Tensor {
  const r = new Rng(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal()), shape);
}

function maxAbsDiff(a: tf.Tensor | Float32Array, b: tf.Tensor | Float32Array): number {
  const x = a instanceof Float32Array ? a : a.dataSync();
  const y = b instanceof Float32Array ? b : b.dataSync();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** conv3d by its definition: cubic kernel k, stride s, zero padding p on each side. */
function directConv(xv: Float32Array, xs: number[], wv: Float32Array, k: number, co: number, s: number, p: number): { y: Float32Array; shape: number[] } {
  const [N, D, H, W, Ci] = xs as [number, number, number, number, number];
  const e = (d: number) => Math.floor((d + 2 * p - k) / s) + 1;
  const [Do, Ho, Wo] = [e(D), e(H), e(W)];
  const y = new Float32Array(N * Do * Ho * Wo * co);
  for (let n = 0; n < N; n++)
    for (let z = 0; z < Do; z++)
      for (let r = 0; r < Ho; r++)
        for (let c = 0; c < Wo; c++)
          for (let o = 0; o < co; o++) {
            let acc = 0;
            for (let dz = 0; dz < k; dz++)
              for (let dy = 0; dy < k; dy++)
                for (let dx = 0; dx < k; dx++) {
                  const zz = z * s + dz - p;
                  const rr = r * s + dy - p;
                  const cc = c * s + dx - p;
                  if (zz < 0 || rr < 0 || cc < 0 || zz >= D || rr >= H || cc >= W) continue;
                  for (let i = 0; i < Ci; i++) acc += xv[(((n * D + zz) * H + rr) * W + cc) * Ci + i]! * wv[(((dz * k + dy) * k + dx) * Ci + i) * co + o]!;
                }
            y[(((n * Do + z) * Ho + r) * Wo + c) * co + o] = acc;
          }
  return { y, shape: [N, Do, Ho, Wo, co] };
}

/** The adjoints of directConv by their definition: dx and dw of sum(conv(x, w) * g). */
function directGrads(xv: Float32Array, xs: number[], wv: Float32Array, k: number, co: number, s: number, p: number, gv: Float32Array, gs: number[]) {
  const [N, D, H, W, Ci] = xs as [number, number, number, number, number];
  const [, Do, Ho, Wo] = gs as [number, number, number, number, number];
  const dx = new Float32Array(xv.length);
  const dw = new Float32Array(wv.length);
  for (let n = 0; n < N; n++)
    for (let z = 0; z < Do; z++)
      for (let r = 0; r < Ho; r++)
        for (let c = 0; c < Wo; c++)
          for (let o = 0; o < co; o++) {
            const g = gv[(((n * Do + z) * Ho + r) * Wo + c) * co + o]!;
            for (let dz = 0; dz < k; dz++)
              for (let dy = 0; dy < k; dy++)
                for (let dxk = 0; dxk < k; dxk++) {
                  const zz = z * s + dz - p;
                  const rr = r * s + dy - p;
                  const cc = c * s + dxk - p;
                  if (zz < 0 || rr < 0 || cc < 0 || zz >= D || rr >= H || cc >= W) continue;
                  for (let i = 0; i < Ci; i++) {
                    const xi = (((n * D + zz) * H + rr) * W + cc) * Ci + i;
                    const wi = (((dz * k + dy) * k + dxk) * Ci + i) * co + o;
                    dx[xi]! += g * wv[wi]!;
                    dw[wi]! += g * xv[xi]!;
                  }
                }
          }
  return { dx, dw };
}

interface Case {
  x: number[];
  k: number;
  co: number;
  stride: number;
  pad: "same" | "valid";
}

const cases: Case[] = [
  { x: [2, 5, 6, 7, 3], k: 3, co: 5, stride: 1, pad: "same" },
  { x: [1, 8, 4, 9, 8], k: 3, co: 8, stride: 1, pad: "same" },
  { x: [1, 6, 7, 5, 17], k: 3, co: 19, stride: 1, pad: "same" },
  { x: [2, 4, 4, 4, 16], k: 3, co: 24, stride: 1, pad: "same" },
  { x: [1, 4, 5, 3, 6], k: 1, co: 3, stride: 1, pad: "same" },
  { x: [1, 3, 3, 3, 2], k: 5, co: 4, stride: 1, pad: "same" },
  { x: [2, 6, 8, 4, 5], k: 2, co: 7, stride: 2, pad: "valid" },
  { x: [1, 7, 5, 9, 3], k: 2, co: 16, stride: 2, pad: "valid" },
  { x: [1, 7, 8, 6, 4], k: 3, co: 6, stride: 1, pad: "valid" },
  // above the addon's threshold for a second thread (4 M multiply-adds): the threaded paths
  { x: [2, 12, 10, 12, 16], k: 3, co: 24, stride: 1, pad: "same" },
  { x: [2, 16, 14, 16, 32], k: 2, co: 32, stride: 2, pad: "valid" },
];

describe("native TF.js conv3d kernels", () => {
  for (const c of cases) {
    const name = `x ${c.x.join("x")}, kernel ${c.k}, stride ${c.stride} ${c.pad}, ${c.co} out channels`;
    it(`conv3d, its input and filter gradients and conv3dTranspose equal stock TF.js, portable JS and the definition: ${name}`, (ctx) => {
      if (!hasNative) return ctx.skip(`native kernels not built: ${kernelPath()}`);
      const { x: xs, k, co, stride, pad } = c;
      const p = pad === "same" ? (k - 1) / 2 : 0;
      const x = random(xs, 1);
      const w = random([k, k, k, xs[4]!, co], 2);
      const def = directConv(x.dataSync() as Float32Array, xs, w.dataSync() as Float32Array, k, co, stride, p);
      const g = random(def.shape, 3);
      const run = () => {
        const y = tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, stride, pad);
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, stride, pad), g)))([x, w]);
        // conv3dTranspose runs Conv3DBackpropInputV2 directly: the U-Net's upsampling when kernel == stride == 2
        const t = tf.conv3dTranspose(g as tf.Tensor5D, w as tf.Tensor5D, xs as [number, number, number, number, number], stride, pad);
        return { y, dx: dx!, dw: dw!, t };
      };
      const before = kernelPathCalls().native;
      const nat = run();
      const after = kernelPathCalls().native;
      // the input gradient of a "valid" conv whose kernel is not its stride is left to the stock kernel
      const native = pad === "same" || k === stride ? ["Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"] : ["Conv3D", "Conv3DBackpropFilterV2"];
      for (const kn of native) expect(after[kn] ?? 0, kn).toBeGreaterThanOrEqual((before[kn] ?? 0) + 1);
      setNativeThreads(1);
      const one = run();
      setNativeThreads(2);
      // the baseline build (what a CPU without AVX2 runs) as well
      setNativeSimd(false);
      const plain = run();
      setNativeSimd(true);
      const afterOne = kernelPathCalls().native;
      setNativeKernels(false);
      const js = run();
      setFastKernels(false);
      const stock = run();
      expect(kernelPathCalls().native).toEqual(afterOne);

      const scale = Math.sqrt(k ** 3 * xs[4]!);
      const gScale = Math.sqrt(def.shape.slice(0, 4).reduce((a, b) => a * b, 1));
      const { dx: dxDef, dw: dwDef } = directGrads(x.dataSync() as Float32Array, xs, w.dataSync() as Float32Array, k, co, stride, p, g.dataSync() as Float32Array, def.shape);
      expect(nat.y.shape).toEqual(def.shape);
      expect(maxAbsDiff(nat.y, def.y)).toBeLessThan(1e-5 * scale);
      expect(maxAbsDiff(nat.y, stock.y)).toBeLessThan(1e-5 * scale);
      expect(maxAbsDiff(nat.dx, dxDef)).toBeLessThan(1e-5 * scale * 2);
      expect(maxAbsDiff(nat.dx, stock.dx)).toBeLessThan(1e-5 * scale * 2);
      expect(maxAbsDiff(nat.t, dxDef)).toBeLessThan(1e-5 * scale * 2);
      expect(maxAbsDiff(nat.t, stock.t)).toBeLessThan(1e-5 * scale * 2);
      expect(maxAbsDiff(nat.dw, dwDef)).toBeLessThan(1e-5 * gScale * 2);
      expect(maxAbsDiff(nat.dw, stock.dw)).toBeLessThan(1e-5 * gScale * 2);
      // the portable tier where it applies, and one thread vs two (the filter gradient is summed per thread)
      expect(maxAbsDiff(js.y, stock.y)).toBeLessThan(1e-5 * scale);
      expect(maxAbsDiff(one.y, nat.y)).toBe(0);
      expect(maxAbsDiff(one.dx, nat.dx)).toBe(0);
      expect(maxAbsDiff(one.dw, nat.dw)).toBeLessThan(1e-5 * gScale);
      expect(maxAbsDiff(plain.y, def.y)).toBeLessThan(1e-5 * scale);
      expect(maxAbsDiff(plain.dx, dxDef)).toBeLessThan(1e-5 * scale * 2);
      expect(maxAbsDiff(plain.t, dxDef)).toBeLessThan(1e-5 * scale * 2);
      expect(maxAbsDiff(plain.dw, dwDef)).toBeLessThan(1e-5 * gScale * 2);
    });
  }

  it("falls back to the stock kernel for dilations and non-cubic kernels (same result with the switches on or off)", (ctx) => {
    if (!hasNative) return ctx.skip(`native kernels not built: ${kernelPath()}`);
    const x = random([1, 7, 7, 7, 4], 4);
    const w = random([3, 3, 3, 4, 6], 5);
    const w2 = random([1, 3, 3, 4, 6], 6);
    const n0 = kernelPathCalls();
    const a = tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, "same", "NDHWC", 2);
    const b = tf.conv3d(x as tf.Tensor5D, w2 as tf.Tensor5D, 1, "same");
    const c = tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 2, "same");
    expect(kernelPathCalls()).toEqual(n0);
    setFastKernels(false);
    expect(maxAbsDiff(a, tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, "same", "NDHWC", 2))).toBe(0);
    expect(maxAbsDiff(b, tf.conv3d(x as tf.Tensor5D, w2 as tf.Tensor5D, 1, "same"))).toBe(0);
    expect(maxAbsDiff(c, tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 2, "same"))).toBe(0);
  });

  it("says which tier runs", () => {
    expect(kernelPath()).toMatch(/^(native conv3d kernels \((avx2\+fma|baseline), \d+ threads\)|portable JS conv3d kernels; native .+)$/);
    setFastKernels(false);
    expect(kernelPath()).toMatch(/^stock/);
  });
});
