import { describe, expect, it } from "vitest";
import { gaussian, seededRandom } from "../../src/numerics/index.js";
import { findE0, linearCombinationFit, linearCombinationFitAll, normalizeArea, normalizeMinMax, preEdge, type XasStandard } from "../../src/xas/index.js";
import { ParameterError } from "../../src/util/errors.js";

const logistic = (x: number, w: number) => 1 / (1 + Math.exp(-x / w));

/** Synthetic edge: sloped pre-edge line + J x step x quadratic post-edge curvature; E0 on the grid. */
function edge(e0: number, eMin: number, eMax: number, dE: number, J: number, curv: [number, number]) {
  const e: number[] = [];
  for (let x = eMin; x <= eMax + 1e-9; x += dE) e.push(Math.round(x * 1000) / 1000);
  const pre = (x: number) => 0.8 - 2e-4 * (x - e0);
  const post = (x: number) => 1 + curv[0] * ((x - e0) / 1000) + curv[1] * ((x - e0) / 1000) ** 2;
  const mu = e.map((x) => pre(x) + J * logistic(x - e0, 0.7) * post(x));
  return { e, mu, pre, post };
}

describe("preEdge (Larch rules)", () => {
  it("normalised step = 1, flat pre-edge and flat post-edge on a wide synthetic edge", () => {
    const { e, mu } = edge(8979, 8779, 9779, 0.5, 2.3, [-0.3, 0.2]);
    const r = preEdge(e, mu);
    expect(r.e0_eV).toBe(8979);
    expect(r.edgeStep / 2.3).toBeCloseTo(1, 4);
    expect(r.nnorm).toBe(2);
    e.forEach((x, i) => {
      if (x < 8979 - 15) expect(Math.abs(r.norm[i]!)).toBeLessThan(1e-4);
      if (x > 8979 + 15) expect(Math.abs(r.flat[i]! - 1)).toBeLessThan(1e-4);
    });
    // norm still carries the post-edge curvature, flat does not
    expect(Math.abs(r.norm[e.length - 1]! - (1 - 0.3 * 0.8 + 0.2 * 0.64))).toBeLessThan(1e-3);
  });

  it("returns every parameter it used, following the default rules", () => {
    const { e, mu } = edge(2472, 2420.5, 2600, 0.25, 0.9, [0.5, 0]);
    const r = preEdge(e, mu);
    expect(r.e0_eV).toBe(2472);
    // pre1 = round5(E[1] - E0) = round5(-51.25) = -50, pre2 = -25
    expect(r.pre1_eV).toBe(-50);
    expect(r.pre2_eV).toBe(-25);
    // norm2 = round5(128) = 130 -> clipped to 128; norm1 = min(25, 5 * round(128/15) = 45) = 25 (Larch's pre_edge rule)
    expect(r.norm2_eV).toBeCloseTo(128, 9);
    expect(r.norm1_eV).toBe(25);
    expect(r.nnorm).toBe(1);
    expect(r.nvict).toBe(0);
    expect(r.preCoefs[1]).toBeCloseTo(-2e-4, 8);
    expect(r.edgeStep / 0.9).toBeCloseTo(1, 3);
  });

  it("explicit parameters are honoured and reported", () => {
    const { e, mu } = edge(2472, 2420, 2600, 0.5, 0.9, [0.5, 0]);
    const r = preEdge(e, mu, { e0_eV: 2472, pre1_eV: -40, pre2_eV: -15, norm1_eV: 30, norm2_eV: 120, nnorm: 1 });
    expect([r.pre1_eV, r.pre2_eV, r.norm1_eV, r.norm2_eV, r.nnorm]).toEqual([-40, -15, 30, 120, 1]);
    expect(r.edgeStep / 0.9).toBeCloseTo(1, 3);
  });

  it("findE0 picks the steepest point; bad input names the point", () => {
    const { e, mu } = edge(2145.5, 2100, 2250, 0.5, 1, [0, 0]);
    expect(findE0(e, mu)).toBe(2145.5);
    const bad = [...e];
    bad[10] = bad[9]!;
    expect(() => preEdge(bad, mu)).toThrow(/point 10/);
    expect(() => preEdge(e, mu.map((v, i) => (i === 3 ? NaN : v)))).toThrow(ParameterError);
  });

  it("min-max and area normalisations", () => {
    const mm = normalizeMinMax([2, 4, 3]);
    expect(Array.from(mm)).toEqual([0, 1, 0.5]);
    const e = Array.from({ length: 11 }, (_, i) => i);
    const a = normalizeArea(e, e.map(() => 2));
    expect(a[0]).toBeCloseTo(0.1, 12);
  });
});

/** Three S K-edge-like standards with distinct white lines (Li3PS4, Li2S, a third phase). */
function standards(): XasStandard[] {
  const e = Array.from({ length: 801 }, (_, i) => 2440 + i * 0.1);
  const mk = (name: string, peaks: Array<[number, number, number]>, e0: number): XasStandard => ({
    name,
    energy_eV: e,
    mu: e.map((x) => logistic(x - e0, 0.8) + peaks.reduce((s, [c, h, w]) => s + h * Math.exp(-(((x - c) / w) ** 2)), 0)),
  });
  return [
    mk("Li3PS4", [[2472.0, 1.6, 1.2], [2480, 0.3, 3]], 2471),
    mk("Li2S", [[2473.5, 0.9, 1.0], [2476.5, 0.7, 1.5]], 2472),
    mk("S8", [[2471.0, 2.2, 0.8]], 2470),
  ];
}

function mixture(w: number[], noise: number, seed: number, shift = 0) {
  const st = standards();
  const rand = seededRandom(seed);
  const e = Array.from({ length: 301 }, (_, i) => 2450 + i * 0.2);
  const interp = (s: XasStandard, x: number) => {
    const i = Math.floor((x - 2440) / 0.1);
    const t = (x - 2440 - i * 0.1) / 0.1;
    return Number(s.mu[i]) * (1 - t) + Number(s.mu[i + 1]) * t;
  };
  const mu = e.map((x) => st.reduce((s, std, j) => s + w[j]! * interp(std, x - shift), 0) + noise * gaussian(rand));
  return { e, mu, st };
}

describe("linear-combination fitting", () => {
  it("recovers known fractions within stated errors (coverage over seeds)", () => {
    const truth = [0.6, 0.3, 0.1];
    let inside = 0;
    let total = 0;
    for (let seed = 0; seed < 30; seed++) {
      const { e, mu, st } = mixture(truth, 0.01, seed);
      const r = linearCombinationFit(e, mu, st, { e0_eV: 2472, window_eV: [-20, 30] });
      r.weights.forEach((w, j) => {
        total++;
        if (Math.abs(w - truth[j]!) <= 2 * r.weightErrors[j]!) inside++;
      });
      expect(r.reducedChiSquare / 1e-4).toBeGreaterThan(0.6);
      expect(r.reducedChiSquare / 1e-4).toBeLessThan(1.5);
    }
    expect(inside / total).toBeGreaterThanOrEqual(0.88);
  });

  it("absent standards get weight 0 (non-negative), sum-to-1 is exact when asked", () => {
    const { e, mu, st } = mixture([0.7, 0.3, 0], 0.005, 3);
    const free = linearCombinationFit(e, mu, st, { e0_eV: 2472 });
    expect(Math.min(...free.weights)).toBeGreaterThanOrEqual(0);
    const s1 = linearCombinationFit(e, mu, st, { e0_eV: 2472, sumToOne: true });
    expect(s1.weightSum).toBeCloseTo(1, 12);
    expect(Math.abs(s1.weights[0]! - 0.7)).toBeLessThan(3 * s1.weightErrors[0]! + 1e-3);
    // R-factor definition
    const ss = s1.residual.reduce((a, v) => a + v * v, 0);
    const sy = s1.data.reduce((a, v) => a + v * v, 0);
    expect(s1.rFactor).toBeCloseTo(ss / sy, 15);
  });

  it("an unconstrained fit of a mixture with a negative-looking standard stays non-negative", () => {
    const { e, mu, st } = mixture([1.0, 0, 0], 0.0, 1);
    const bent = mu.map((v, i) => v - 0.05 * Math.exp(-(((e[i]! - 2471) / 0.8) ** 2)));
    const r = linearCombinationFit(e, bent, st, { e0_eV: 2472 });
    expect(r.weights[2]).toBe(0);
    expect(r.weightErrors[2]).toBe(0);
    const neg = linearCombinationFit(e, bent, st, { e0_eV: 2472, allowNegative: true });
    expect(neg.weights[2]!).toBeLessThan(0);
  });

  it("fits an energy shift and its error", () => {
    const { e, mu, st } = mixture([0.5, 0.5, 0], 0.005, 9, 0.7);
    const r = linearCombinationFit(e, mu, st, { e0_eV: 2472, maxE0Shift_eV: 3 });
    expect(Math.abs(r.e0Shift_eV - 0.7)).toBeLessThan(3 * r.e0Shift_stdErr_eV + 1e-3);
    expect(r.e0Shift_stdErr_eV).toBeLessThan(0.05);
    expect(Math.abs(r.weights[0]! - 0.5)).toBeLessThan(0.02);
  });

  it("fitting all combinations ranks the true pair first", () => {
    const { e, mu, st } = mixture([0.65, 0.35, 0], 0.005, 21);
    const all = linearCombinationFitAll(e, mu, st, { e0_eV: 2472, maxComponents: 2 });
    expect(all.length).toBe(3 + 3);
    expect([...all[0]!.names].sort()).toEqual(["Li2S", "Li3PS4"]);
    expect(all[0]!.reducedChiSquare).toBeLessThan(all[1]!.reducedChiSquare);
  });

  it("window relative to E0 and bad inputs", () => {
    const { e, mu, st } = mixture([0.5, 0.5, 0], 0.005, 2);
    const r = linearCombinationFit(e, mu, st, { e0_eV: 2472, window_eV: [-5, 10] });
    expect(r.energy_eV[0]).toBeGreaterThanOrEqual(2467 - 1e-9);
    expect(r.energy_eV[r.nPoints - 1]).toBeLessThanOrEqual(2482 + 1e-9);
    const short = st.map((s) => (s.name === "Li2S" ? { ...s, energy_eV: Array.from(s.energy_eV).slice(0, 500), mu: Array.from(s.mu).slice(0, 500) } : s));
    expect(() => linearCombinationFit(e, mu, short, { e0_eV: 2472, window_eV: [-20, 30] })).toThrow(/standard does not cover.*Li2S/);
    expect(() => linearCombinationFit(e, mu, st, { e0_eV: 2472, window_eV: [0, 0.3] })).toThrow(/too few points/);
    const rev = st.map((s) => (s.name === "S8" ? { ...s, energy_eV: Array.from(s.energy_eV).reverse() } : s));
    expect(() => linearCombinationFit(e, mu, rev, { e0_eV: 2472 })).toThrow(/point 1.*field: S8/);
  });
});
