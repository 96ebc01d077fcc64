import { describe, expect, it } from "vitest";
import { chargeState, presetParameters, referenceSpectrum, shortTime_h, xasDataset } from "../../src/twin/index.js";
import { ParameterError } from "../../src/util/errors.js";

/** Two-reference least squares, unconstrained: solves [a b] minimising |y - a r1 - b r2|^2. */
function lcf2(y: Float64Array, r1: Float64Array, r2: Float64Array): [number, number] {
  let s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0;
  for (let i = 0; i < y.length; i++) {
    s11 += r1[i]! * r1[i]!;
    s12 += r1[i]! * r2[i]!;
    s22 += r2[i]! * r2[i]!;
    s1y += r1[i]! * y[i]!;
    s2y += r2[i]! * y[i]!;
  }
  const det = s11 * s22 - s12 * s12;
  return [(s1y * s22 - s2y * s12) / det, (s2y * s11 - s1y * s12) / det];
}

describe("twin XAS", () => {
  it("measured spectra are mixtures with the decomposition fraction the state implies, and they sum to 1", () => {
    const p = presetParameters("default");
    const d = xasDataset(p);
    // independent decomposition fraction: mol decomposed vs intact glass in the probed depth
    const F = 96485.33212;
    const s = chargeState(p, shortTime_h(p));
    const nDec = (s.decomposition_mAh_cm2 * 3.6) / (8 * F);
    const Vm = (3 * 6.941 + 30.974 + 4 * 32.06) / 1.88;
    const nIntact = ((p.xas.probeDepth_um - s.interphase_um) * 1e-4) / Vm;
    const x = nDec / (nDec + nIntact);
    expect(d.decompositionFraction).toBeCloseTo(x, 10);
    expect(x).toBeGreaterThan(0.1);
    expect(x).toBeLessThan(0.9);
    for (const edge of ["S", "P"] as const) {
      const refs = d.references.filter((r) => r.edge === edge);
      const lps = refs.find((r) => "Li3PS4" in r.fractions)!;
      const prod = refs.find((r) => !("Li3PS4" in r.fractions))!;
      for (const m of d.measured.filter((r) => r.edge === edge)) {
        const total = Object.values(m.fractions).reduce((a, b) => a + b, 0);
        expect(total).toBeCloseTo(1, 12);
        const [a, b] = lcf2(m.mu, lps.mu, prod.mu);
        const truth = m.label.includes("after") ? x : 0;
        expect(Math.abs(b - truth)).toBeLessThan(0.03);
        expect(Math.abs(a + b - 1)).toBeLessThan(0.02);
      }
    }
  });

  it("reference spectra are normalised (pre-edge ~0, far post-edge ~1) and the S edge changes more than P", () => {
    const d = xasDataset(presetParameters("default"));
    for (const r of d.references) {
      expect(Math.abs(r.mu[0]!)).toBeLessThan(0.05);
      expect(Math.abs(r.mu[r.mu.length - 1]! - 1)).toBeLessThan(0.1);
    }
    const change = (edge: "S" | "P") => {
      const [before, after] = d.measured.filter((m) => m.edge === edge);
      let s = 0;
      for (let i = 0; i < before!.mu.length; i++) s += (after!.mu[i]! - before!.mu[i]!) ** 2;
      return Math.sqrt(s / before!.mu.length);
    };
    expect(change("S")).toBeGreaterThan(change("P"));
  });

  it("an unknown reference compound is a ParameterError naming the known ones", () => {
    const e = new Float64Array([2470, 2480]);
    expect(() => referenceSpectrum("S", "Li4P2S6", e)).toThrow(ParameterError);
    expect(() => referenceSpectrum("S", "Li4P2S6", e)).toThrow(/field: compound; expected: .*Li2S.*; got: Li4P2S6/);
  });
});
