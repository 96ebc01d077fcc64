/**
 * The portable JS tier of our cpu kernels (the native tier is switched off here; test/segment/native-kernels.test.ts
 * covers it) against TF.js's stock kernels (switched off in the same process) and against a direct
 * sum written out here: forward conv, both gradients through tf.grads, and SplitV, for shapes with odd sizes,
 * channel counts that are not multiples of 4, kernel 1 and 3, and batch 2.
 */
import { describe, expect, it, beforeAll, afterAll, afterEach } from "vitest";
import { tf, initTf } from "../../src/segment/tf.js";
import { fastKernelCalls, setFastKernels, setNativeKernels } from "../../src/segment/fast-kernels.js";
import { Xoshiro128StarStar } from "../../src/numerics/index.js";

beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
  setNativeKernels(false);
});
afterEach(() => setFastKernels(true));
afterAll(() => setNativeKernels(true));

function random(shape: number[], seed: number): tf.Tensor {
  const r = new Xoshiro128StarStar(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal()), shape);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(a.shape).toEqual(b.shape);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** conv3d, 'same', stride 1, written as the definition. */
function directConv(x: tf.Tensor, w: tf.Tensor): Float32Array {
  const [N, D, H, W, Ci] = x.shape as number[];
  const [k, , , , Co] = w.shape as number[];
  const p = (k! - 1) / 2;
  const xv = x.dataSync();
  const wv = w.dataSync();
  const out = new Float32Array(N! * D! * H! * W! * Co!);
  for (let n = 0; n < N!; n++)
    for (let z = 0; z < D!; z++)
      for (let y = 0; y < H!; y++)
        for (let c = 0; c < W!; c++)
          for (let o = 0; o < Co!; o++) {
            let s = 0;
            for (let dz = 0; dz < k!; dz++)
              for (let dy = 0; dy < k!; dy++)
                for (let dx = 0; dx < k!; dx++) {
                  const zz = z + dz - p;
                  const yy = y + dy - p;
                  const cc = c + dx - p;
                  if (zz < 0 || yy < 0 || cc < 0 || zz >= D! || yy >= H! || cc >= W!) continue;
                  for (let i = 0; i < Ci!; i++) s += xv[(((n * D! + zz) * H! + yy) * W! + cc) * Ci! + i]! * wv[(((dz * k! + dy) * k! + dx) * Ci! + i) * Co! + o]!;
                }
            out[(((n * D! + z) * H! + y) * W! + c) * Co! + o] = s;
          }
  return out;
}

const cases: Array<{ x: number[]; k: number; co: number }> = [
  { x: [2, 5, 6, 7, 3], k: 3, co: 5 },
  { x: [1, 8, 4, 9, 8], k: 3, co: 8 },
  { x: [1, 4, 5, 3, 6], k: 1, co: 2 },
  { x: [1, 3, 3, 3, 2], k: 5, co: 4 },
];

describe("fast TF.js cpu kernels", () => {
  for (const { x: xs, k, co } of cases) {
    it(`conv3d and its gradients match the stock kernels: x ${xs.join("x")}, kernel ${k}, ${co} out channels`, () => {
      const x = random(xs, 1);
      const w = random([k, k, k, xs[4]!, co], 2);
      const g = random([...xs.slice(0, 4), co], 3);
      const run = () => {
        const y = tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, "same");
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 1, "same"), g)))([x, w]);
        // conv3dTranspose with stride 1 runs Conv3DBackpropInputV2 directly
        const t = tf.conv3dTranspose(g as tf.Tensor5D, w as tf.Tensor5D, xs as [number, number, number, number, number], 1, "same");
        return { y, dx: dx!, dw: dw!, t };
      };
      const before = fastKernelCalls();
      const fast = run();
      const after = fastKernelCalls();
      for (const name of ["Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"]) expect(after[name] ?? 0).toBeGreaterThan(before[name] ?? 0);
      setFastKernels(false);
      const stock = run();
      expect(fastKernelCalls()).toEqual(after);
      const scale = Math.sqrt(k ** 3 * xs[4]!);
      expect(maxAbsDiff(fast.y, stock.y)).toBeLessThan(1e-5 * scale);
      expect(maxAbsDiff(fast.dx, stock.dx)).toBeLessThan(1e-5 * scale);
      expect(maxAbsDiff(fast.t, stock.t)).toBeLessThan(1e-5 * scale);
      expect(maxAbsDiff(fast.dw, stock.dw)).toBeLessThan(1e-4 * Math.sqrt(xs.slice(0, 4).reduce((a, b) => a * b, 1)));
      // and both against the definition
      const direct = directConv(x, w);
      const fy = fast.y.dataSync();
      for (let i = 0; i < direct.length; i++) expect(Math.abs(fy[i]! - direct[i]!)).toBeLessThan(1e-5 * scale);
    });
  }

  it("falls back to the stock kernel for strides other than 1 (same result with the switch on or off)", () => {
    const x = random([1, 8, 8, 8, 4], 4);
    const w = random([2, 2, 2, 4, 6], 5);
    const n0 = fastKernelCalls().Conv3D ?? 0;
    const a = tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 2, "valid");
    expect(fastKernelCalls().Conv3D ?? 0).toBe(n0);
    setFastKernels(false);
    const b = tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 2, "valid");
    expect(maxAbsDiff(a, b)).toBe(0);
  });

  it("SplitV along the last axis equals the stock kernel; other axes fall back", () => {
    const x = random([2, 3, 4, 5, 7], 6);
    const n0 = fastKernelCalls().SplitV ?? 0;
    const fast = tf.split(x, [3, 4], -1);
    expect(fastKernelCalls().SplitV).toBe(n0 + 1);
    const fastMid = tf.split(x, [1, 2], 1);
    setFastKernels(false);
    const stock = tf.split(x, [3, 4], -1);
    const stockMid = tf.split(x, [1, 2], 1);
    for (let i = 0; i < 2; i++) {
      expect(maxAbsDiff(fast[i]!, stock[i]!)).toBe(0);
      expect(maxAbsDiff(fastMid[i]!, stockMid[i]!)).toBe(0);
    }
  });
});
