/**
 * Our non-convolution cpu kernels (broadcasting Add/Sub/Multiply/Greater, Sum, Exp, LeakyReLU and its fused
 * gradient, 2x2x2 max pooling and its gradient, last-axis Concat and SplitV), each tier (native where the addon
 * is built, portable JS) against TF.js's stock kernels switched off in the same process, on odd sizes and on
 * values with ties and zeros. Values that the stock kernels compute exactly are required to be identical.
 */
import { describe, expect, it, beforeAll, afterEach } from "vitest";
import { tf, initTf } from "../../src/segment/tf.js";
import { kernelPath, kernelPathCalls, setFastKernels, setNativeKernels } from "../../src/segment/fast-kernels.js";
import { Xoshiro128StarStar as Rng } from "../../src/numerics/random.js";

let tiers: Array<"native" | "js"> = ["js"];
beforeAll(async () => {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  await initTf();
  if (kernelPath().startsWith("native")) tiers = ["native", "js"];
  else if (process.env.CI === "true") throw new Error(`native kernels missing in CI: ${kernelPath()}`);
});
afterEach(() => {
  setFastKernels(true);
  setNativeKernels(true);
});

function random(shape: number[], seed: number, ints = false): tf.Tensor {
  const r = new Rng(seed);
  // integer values in -3..3 make ties (max pooling) and exact zeros (LeakyReLU's kink)
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (ints ? Math.round(r.normal() * 1.5) : r.normal())), shape);
}

function bits(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Runs f with our kernels (one tier) and with the stock kernels; returns both results and the tier's call counts. */
function compare<T>(tier: "native" | "js", f: () => T): { ours: T; stock: T; calls: Record<string, number>; native: Record<string, number> } {
  setNativeKernels(tier === "native");
  // calls of either tier count: with the native tier on, ops it has no kernel for run the JS ones
  const flat = () => {
    const c = kernelPathCalls();
    const out: Record<string, number> = {};
    for (const t of tier === "native" ? (["native", "js"] as const) : (["js"] as const)) for (const [k, v] of Object.entries(c[t])) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const before = flat();
  const nBefore = kernelPathCalls().native;
  const ours = f();
  const after = flat();
  const native: Record<string, number> = {};
  for (const [k, v] of Object.entries(kernelPathCalls().native)) if (v !== (nBefore[k] ?? 0)) native[k] = v - (nBefore[k] ?? 0);
  const calls: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) calls[k] = v - (before[k] ?? 0);
  setFastKernels(false);
  const stock = f();
  setFastKernels(true);
  return { ours, stock, calls, native };
}

describe("cpu kernels besides the convolutions", () => {
  for (const tier of ["native", "js"] as const) {
    const skip = () => !tiers.includes(tier);

    it(`${tier}: broadcasting add, sub, mul, div, greater equal the stock kernels for full, scalar, trailing and leading operands`, (ctx) => {
      if (skip()) return ctx.skip("native kernels not built");
      const pairs: Array<[number[], number[]]> = [
        [[2, 5, 3, 7, 9], [1, 1, 1, 1, 9]],
        [[1, 1, 1, 1, 9], [2, 5, 3, 7, 9]],
        [[3, 7, 9], []],
        [[], [3, 7, 9]],
        [[301, 3], [301, 1]],
        [[1, 3], [301, 3]],
        [[4, 6, 5], [4, 6, 5]],
        [[7, 5], [5]],
        // large enough for the addon to split the work across threads
        [[2, 32, 32, 32, 8], [1, 1, 1, 1, 8]],
      ];
      pairs.forEach(([as, bs], i) => {
        const a = random(as, 10 + i);
        const b = random(bs, 20 + i);
        const { ours, stock, calls, native } = compare(tier, () => [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b), tf.greater(a, b)]);
        expect(Object.keys(calls).length, `${as} vs ${bs}`).toBeGreaterThan(0);
        if (tier === "native") expect(native).toMatchObject({ Add: 1, Sub: 1, Multiply: 1, RealDiv: 1 });
        ours.forEach((t, k) => {
          expect(t.shape).toEqual(stock[k]!.shape);
          expect(t.dtype).toBe(stock[k]!.dtype);
          expect(bits(t)).toEqual(bits(stock[k]!));
        });
      });
    });

    it(`${tier}: sum over leading, trailing and all axes (keepDims too) equals the stock kernel; middle axes fall back`, (ctx) => {
      if (skip()) return ctx.skip("native kernels not built");
      const x = random([3, 5, 7, 11], 30);
      const cases: Array<[number | number[], boolean]> = [
        [[0, 1, 2], false],
        [[0], true],
        [-1, false],
        [[2, 3], true],
        [[0, 1, 2, 3], false],
        [[1, 2], false],
      ];
      for (const [axis, keep] of cases) {
        const { ours, stock, native } = compare(tier, () => tf.sum(x, axis, keep));
        if (tier === "native" && Array.isArray(axis) && axis[0] === 0 && axis.length < 4) expect(native.Sum, String(axis)).toBe(1);
        expect(ours.shape).toEqual(stock.shape);
        expect(bits(ours)).toEqual(bits(stock));
      }
    });

    it(`${tier}: LeakyReLU and its fused gradient equal the stock kernels, zeros included`, (ctx) => {
      if (skip()) return ctx.skip("native kernels not built");
      // 2 x 32^3 x 5: large enough for the addon to use its threads
      const x = random([2, 32, 32, 32, 5], 40, true);
      const dy = random([2, 32, 32, 32, 5], 41);
      const { ours, stock, calls } = compare(tier, () => {
        const y = tf.leakyRelu(x, 0.01);
        const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(a, 0.01), dy)))([x]);
        return [y, dx!];
      });
      expect(calls.SsbCtLeakyReluGrad).toBe(1);
      if (tier === "native") expect(calls.LeakyRelu).toBeGreaterThanOrEqual(1);
      expect(bits(ours[0]!)).toEqual(bits(stock[0]!));
      expect(bits(ours[1]!)).toEqual(bits(stock[1]!));
    });

    it(`${tier}: max pooling 2x2x2 and its gradient equal the stock kernels with ties and odd sizes`, (ctx) => {
      if (skip()) return ctx.skip("native kernels not built");
      for (const shape of [
        [2, 8, 6, 4, 3],
        [1, 7, 5, 9, 2],
      ]) {
        const x = random(shape, 50, true);
        const { ours, stock, calls, native } = compare(tier, () => {
          const y = tf.maxPool3d(x as tf.Tensor5D, 2, 2, "valid");
          const dy = random(y.shape, 51);
          const [dx] = tf.grads((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool3d(a as tf.Tensor5D, 2, 2, "valid"), dy)))([x]);
          return [y, dx!];
        });
        expect(calls.MaxPool3D).toBeGreaterThanOrEqual(1);
        expect(calls.MaxPool3DGrad).toBe(1);
        if (tier === "native") expect(native.MaxPool3DGrad).toBe(1);
        expect(bits(ours[0]!)).toEqual(bits(stock[0]!));
        expect(bits(ours[1]!)).toEqual(bits(stock[1]!));
      }
    });

    it(`${tier}: concat and split along the last axis equal the stock kernels`, (ctx) => {
      if (skip()) return ctx.skip("native kernels not built");
      const a = random([2, 3, 5, 7, 3], 60);
      const b = random([2, 3, 5, 7, 5], 61);
      const c = random([2, 3, 5, 7, 1], 62);
      const { ours, stock, calls, native } = compare(tier, () => {
        const cat = tf.concat([a, b, c], -1);
        return [cat, ...tf.split(cat, [3, 5, 1], -1), ...tf.split(cat, [4, 5], 4)];
      });
      expect(calls.Concat).toBe(1);
      expect(calls.SplitV).toBe(2);
      if (tier === "native") expect(native).toMatchObject({ Concat: 1, SplitV: 2 });
      ours.forEach((t, k) => {
        expect(t.shape).toEqual(stock[k]!.shape);
        expect(bits(t)).toEqual(bits(stock[k]!));
      });
    });
  }

  it("native exp agrees with the stock kernel to float rounding", (ctx) => {
    if (!tiers.includes("native")) return ctx.skip("native kernels not built");
    const x = tf.mul(random([301, 3], 70), 10);
    const { ours, stock, calls } = compare("native", () => tf.exp(x));
    expect(calls.Exp).toBe(1);
    const o = ours.dataSync();
    const s = stock.dataSync();
    // both take exp in double and round once to float: equal unless two libms straddle a rounding boundary
    let differ = 0;
    for (let i = 0; i < o.length; i++) {
      expect(Math.abs(o[i]! - s[i]!)).toBeLessThanOrEqual(Math.abs(s[i]!) * 2 ** -23);
      if (o[i] !== s[i]) differ++;
    }
    expect(differ).toBeLessThanOrEqual(2);
  });
});
