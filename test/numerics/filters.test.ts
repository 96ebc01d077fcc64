/** Gaussian smoothing along an axis: closed forms (constants stay, a linear ramp stays inside, an impulse gives the kernel). */
import { describe, expect, it } from "vitest";
import { gaussianSmoothAxis } from "../../src/numerics/index.js";

describe("gaussianSmoothAxis", () => {
  const shape = [5, 6, 40];
  const n = 5 * 6 * 40;
  it("keeps a constant, keeps a linear ramp away from the edges, and spreads an impulse as the normalised Gaussian", () => {
    const c = gaussianSmoothAxis(new Float32Array(n).fill(3.5), shape, 1, 1.3);
    for (const v of c) expect(v).toBeCloseTo(3.5, 5);
    const ramp = Float32Array.from({ length: n }, (_, i) => i % 40);
    const r = gaussianSmoothAxis(ramp, shape, 2, 2, 3);
    for (let x = 6; x < 34; x++) expect(r[x]).toBeCloseTo(x, 4); // radius 3 sigma = 6 voxels
    const imp = new Float32Array(n);
    imp[20] = 1;
    const g = gaussianSmoothAxis(imp, shape, 2, 1.5, 4);
    const w = Array.from({ length: 13 }, (_, i) => Math.exp(-((i - 6) ** 2) / (2 * 1.5 * 1.5)));
    const sum = w.reduce((a, b) => a + b, 0);
    for (let d = -6; d <= 6; d++) expect(g[20 + d]).toBeCloseTo((w[d + 6] ?? 0) / sum, 6);
    expect(g[20 + 7]).toBe(0);
  });
});
