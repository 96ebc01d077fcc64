/**
 * XAS input that must not turn silently into numbers: NaN anywhere in a standard, an E0 outside the data,
 * duplicate energies, standards that are (nearly) linear combinations of each other. And the post-edge range
 * default, which follows Larch's rule norm1 = min(25, 5 round(norm2 / 15)) (xraylarch larch/xafs/pre_edge.py).
 */
import { describe, expect, it } from "vitest";
import { linearCombinationFit, linearCombinationFitAll, preEdge, type XasStandard } from "../../src/xas/index.js";
import { ParameterError } from "../../src/util/errors.js";

const logistic = (x: number, w: number) => 1 / (1 + Math.exp(-x / w));

/** Synthetic edge at e0 on a grid eMin..eMax with step dE (sloped pre-edge, unit step, gentle post-edge slope). */
function edge(e0: number, eMin: number, eMax: number, dE: number) {
  const e: number[] = [];
  for (let x = eMin; x <= eMax + 1e-9; x += dE) e.push(Math.round(x * 1000) / 1000);
  const mu = e.map((x) => 0.8 - 2e-4 * (x - e0) + 0.9 * logistic(x - e0, 0.7) * (1 + 0.3 * ((x - e0) / 1000)));
  return { e, mu };
}

/** The error thrown by fn (fails the test when nothing or something else is thrown). */
function thrown(fn: () => unknown): ParameterError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ParameterError);
    return e as ParameterError;
  }
  throw new Error("expected a ParameterError, nothing was thrown");
}

describe("post-edge range default (Larch: norm1 = min(25, 5 round(norm2/15)))", () => {
  const larchNorm1 = (norm2: number) => Math.min(25, 5 * Math.round(norm2 / 15));

  it("a scan 150 eV above E0 starts the post-edge fit at 25 eV, not 10 eV", () => {
    const { e, mu } = edge(2472, 2420, 2622, 0.25);
    const r = preEdge(e, mu);
    expect(r.e0_eV).toBe(2472);
    expect(r.norm2_eV).toBe(150);
    expect(r.norm1_eV).toBe(25);
    expect(r.nnorm).toBe(1); // 125 eV wide: 30 <= width < 300
  });

  it("follows the rule for short scans too (norm2 = 30, 60, 100 eV)", () => {
    for (const norm2 of [30, 60, 100]) {
      const { e, mu } = edge(2472, 2430, 2472 + norm2, 0.25);
      const r = preEdge(e, mu);
      expect(r.norm2_eV).toBe(norm2);
      expect(r.norm1_eV).toBe(larchNorm1(norm2)); // 10, 20, 25
    }
  });
});

describe("E0 outside the data", () => {
  const { e, mu } = edge(2472, 2420, 2622, 0.25);

  it("preEdge refuses a given E0 outside the energies instead of replacing it silently", () => {
    const err = thrown(() => preEdge(e, mu, { e0_eV: 2145.5 })); // a P K-edge E0 given for an S K-edge scan
    expect(err.details.field).toBe("e0_eV");
    expect(err.details.got).toMatch(/2145\.5/);
    expect(err.details.expected).toMatch(/2420\.25.*2621\.75/);
    expect(() => preEdge(e, mu, { e0_eV: NaN })).toThrow(ParameterError);
    // inside the data it is honoured (snapped to the grid)
    expect(preEdge(e, mu, { e0_eV: 2471.9 }).e0_eV).toBe(2472);
  });

  it("LCF refuses an E0 outside the sample's energies", () => {
    const st: XasStandard[] = [{ name: "A", energy_eV: e, mu }];
    const err = thrown(() => linearCombinationFit(e, mu, st, { e0_eV: 2700 }));
    expect(err.details.field).toBe("e0_eV");
    expect(err.details.expected).toMatch(/2420.*2622/);
  });
});

describe("NaN and duplicate energies", () => {
  const { e, mu } = edge(2472, 2420, 2622, 0.25);
  const std = (name: string, m: number[] = mu, en: number[] = e): XasStandard => ({ name, energy_eV: en, mu: m });

  it("a NaN anywhere in a standard is refused, also at its first point and outside the fit window", () => {
    for (const i of [0, 5, e.length - 1]) {
      const bad = mu.map((v, j) => (j === i ? NaN : v));
      const err = thrown(() => linearCombinationFit(e, mu, [std("Li2S", bad)], { e0_eV: 2472 }));
      expect(err.details.field).toBe("Li2S");
      expect(err.details.location).toBe(`point ${i}`);
    }
    const badE = e.map((v, j) => (j === 0 ? NaN : v));
    expect(thrown(() => linearCombinationFit(e, mu, [std("Li2S", mu, badE)], { e0_eV: 2472 })).details.location).toBe("point 0");
  });

  it("a NaN in the sample's energies is refused (it would silently drop the point from the window)", () => {
    const badE = e.map((v, j) => (j === 300 ? NaN : v));
    const err = thrown(() => linearCombinationFit(badE, mu, [std("A")], { e0_eV: 2472 }));
    expect(err.details.field).toBe("energy_eV");
    expect(err.details.location).toBe("point 300");
  });

  it("duplicate energies are named as such, in spectra, standards and samples", () => {
    const dupE = e.map((v, j) => (j === 41 ? e[40]! : v));
    const inPre = thrown(() => preEdge(dupE, mu));
    expect(inPre.message).toMatch(/duplicate energy/);
    expect(inPre.details.location).toBe("point 41");
    const inStd = thrown(() => linearCombinationFit(e, mu, [std("Li3PS4", mu, dupE)], { e0_eV: 2472 }));
    expect(inStd.message).toMatch(/duplicate energy/);
    expect(inStd.details.field).toBe("Li3PS4");
    const inSample = thrown(() => linearCombinationFit(dupE, mu, [std("A")], { e0_eV: 2472 }));
    expect(inSample.message).toMatch(/duplicate energy/);
    expect(inSample.details.location).toBe("point 41");
  });
});

describe("collinear standards", () => {
  /** Three S K-edge-like standards with distinct white lines, on a 0.1 eV grid. */
  const e = Array.from({ length: 801 }, (_, i) => 2440 + i * 0.1);
  const mk = (name: string, peaks: Array<[number, number, number]>, e0: number): XasStandard => ({
    name,
    energy_eV: e,
    mu: e.map((x) => logistic(x - e0, 0.8) + peaks.reduce((s, [c, h, w]) => s + h * Math.exp(-(((x - c) / w) ** 2)), 0)),
  });
  const a = mk("Li3PS4", [[2472.0, 1.6, 1.2], [2480, 0.3, 3]], 2471);
  const b = mk("Li2S", [[2473.5, 0.9, 1.0], [2476.5, 0.7, 1.5]], 2472);
  const c = mk("S8", [[2471.0, 2.2, 0.8]], 2470);
  const muOf = (s: XasStandard) => Array.from(s.mu);
  const sample = muOf(a).map((v, i) => 0.6 * v + 0.4 * muOf(b)[i]!);

  it("the same spectrum loaded twice is refused, naming both", () => {
    const err = thrown(() => linearCombinationFit(e, sample, [a, b, { ...a, name: "Li3PS4 (again)" }], { e0_eV: 2472 }));
    expect(err.message).toMatch(/linearly dependent/);
    expect(err.details.got).toMatch(/Li3PS4, .*Li3PS4 \(again\)/);
    expect(err.details.got).not.toMatch(/Li2S/);
  });

  it("a standard that is a combination of others is refused, with or without sum-to-1", () => {
    const mix = { name: "mixture", energy_eV: e, mu: muOf(a).map((v, i) => 0.5 * v + 0.5 * muOf(b)[i]!) };
    for (const sumToOne of [false, true]) {
      const err = thrown(() => linearCombinationFit(e, sample, [a, b, c, mix], { e0_eV: 2472, sumToOne }));
      expect(err.details.got).toMatch(/Li3PS4/);
      expect(err.details.got).toMatch(/mixture/);
      expect(err.details.got).not.toMatch(/S8/);
    }
  });

  it("a scaled copy is dependent without sum-to-1 but determined with it", () => {
    const twice = { name: "Li2S x2", energy_eV: e, mu: muOf(b).map((v) => 2 * v) };
    expect(() => linearCombinationFit(e, sample, [a, b, twice], { e0_eV: 2472 })).toThrow(/linearly dependent/);
    // with sum-to-1, w_b + w_b2 = 1 and w_b + 2 w_b2 = 0.4 fix both: no error (the NNLS then keeps Li2S only)
    const r = linearCombinationFit(e, sample, [a, twice], { e0_eV: 2472, sumToOne: true });
    expect(r.weightSum).toBeCloseTo(1, 12);
  });

  it("nearly collinear standards fit, with a warning naming them; well separated standards give none", () => {
    // Li2S as measured elsewhere: the same spectrum with a 1 % stronger white line
    const near = { name: "Li2S (beamline B)", energy_eV: e, mu: e.map((x, i) => muOf(b)[i]! + 0.01 * 0.9 * Math.exp(-(((x - 2473.5) / 1.0) ** 2))) };
    const r = linearCombinationFit(e, sample, [a, b, near], { e0_eV: 2472 });
    expect(r.warnings.join(" ")).toMatch(/standards Li2S, Li2S \(beamline B\) are nearly collinear/);
    expect(r.warnings.join(" ")).not.toMatch(/Li3PS4/);
    const clean = linearCombinationFit(e, sample, [a, b, c], { e0_eV: 2472 });
    expect(clean.warnings).toEqual([]);
  });

  it("fitting all combinations refuses a dependent set too", () => {
    expect(() => linearCombinationFitAll(e, sample, [a, b, { ...b, name: "copy" }], { e0_eV: 2472, maxComponents: 2 })).toThrow(/linearly dependent/);
  });
});
