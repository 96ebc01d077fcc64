/**
 * The two checks of fitCircuit that judge its own result: "does the fit depend on the start?" and "is a
 * parameter at a bound?". Both must mean the same for a chi-square near zero (noise-free data) and for a
 * parameter far below 1 in SI units (a 20 pF capacitor), where absolute tolerances fire on every fit.
 */
import { describe, expect, it } from "vitest";
import { circuitImpedance, fitCircuit, parseCircuit, type ImpedanceSpectrum } from "../../src/electrochem/index.js";
import { gaussian, seededRandom } from "../../src/numerics/index.js";

const F = Float64Array.from({ length: 41 }, (_, i) => 1e7 * Math.pow(10, -i / 6)); // 10 MHz .. 1 Hz

function spectrum(circuit: string, params: Record<string, number>, relNoise = 0, seed = 1): ImpedanceSpectrum {
  const z = circuitImpedance(parseCircuit(circuit), params, F);
  const rand = seededRandom(seed);
  const re = Float64Array.from(z.re_ohm, (v, i) => v + relNoise * Math.hypot(v, z.im_ohm[i]!) * gaussian(rand));
  const im = Float64Array.from(z.im_ohm, (v, i) => v + relNoise * Math.hypot(z.re_ohm[i]!, v) * gaussian(rand));
  return { freq_Hz: Float64Array.from(F), re_ohm: re, im_ohm: im, source: `${circuit} synthetic` };
}

const TWO_ARCS = "R0-p(R1,CPE1)-p(R2,CPE2)";
const TWO_ARCS_TRUTH = { R0: 60, R1: 180, CPE1_0: 1.5e-8, CPE1_1: 0.93, R2: 450, CPE2_0: 1.4e-5, CPE2_1: 0.88 };

describe("multi-start comparison at chi-square near zero", () => {
  it("noise-free data: starts that all recover the truth are counted as one minimum, with no warning", () => {
    const r = fitCircuit(TWO_ARCS, spectrum(TWO_ARCS, TWO_ARCS_TRUTH), { starts: 8 });
    for (const [k, v] of Object.entries(TWO_ARCS_TRUTH)) expect(Math.abs(r.params[k]! / v - 1)).toBeLessThan(1e-6);
    // every start that converged to the truth (chi-square at rounding level, 1e-27 .. 1e-19) is at the best minimum
    const atTruth = r.starts.filter((s) => Object.entries(TWO_ARCS_TRUTH).every(([k, v]) => Math.abs(s.params[k]! / v - 1) < 1e-6));
    expect(atTruth.length).toBeGreaterThanOrEqual(4);
    expect(r.startsAtBest).toBe(atTruth.length);
    expect(r.warnings.join(" ")).not.toMatch(/depends on the start|starts disagree/);
  });

  it("noisy data keep the relative comparison: the same fit is still reported stable", () => {
    const r = fitCircuit(TWO_ARCS, spectrum(TWO_ARCS, TWO_ARCS_TRUTH, 0.005, 7), { starts: 6, seed: 3 });
    expect(r.startsAtBest).toBeGreaterThanOrEqual(3);
    expect(r.warnings.join(" ")).not.toMatch(/depends on the start|starts disagree/);
  });
});

describe("'at a bound' relative to the parameter's scale", () => {
  const RC = "R0-p(R1,C1)";
  const RC_TRUTH = { R0: 50, R1: 2000, C1: 2e-11 }; // a 20 pF grain-boundary-like arc, f_peak ~ 4 MHz

  it("a 20 pF capacitor far from its bounds is not flagged", () => {
    const r = fitCircuit(RC, spectrum(RC, RC_TRUTH), { starts: 4 });
    expect(r.params.C1! / 2e-11).toBeCloseTo(1, 6);
    expect(r.parametersAtBounds).toEqual([]);
    expect(r.warnings.join(" ")).not.toMatch(/at a bound/);
  });

  it("with another parameter held at its bound, only that one is flagged", () => {
    // R0 may not go below 60 ohm (the truth is 50): the fit holds it there, and C1 (20 pF) is free
    const r = fitCircuit(RC, spectrum(RC, RC_TRUTH), { starts: 3, bounds: { R0: [60, 1000] }, maxIterations: 3000 });
    expect(r.params.R0).toBeCloseTo(60, 9);
    expect(r.params.C1! / 2e-11).toBeCloseTo(1, 1);
    expect(r.parametersAtBounds).toEqual(["R0"]);
  });

  it("a tiny parameter held at a tiny user bound is still flagged", () => {
    // the truth (20 pF) lies below the allowed range, so C1 ends on its lower bound of 25 pF
    const r = fitCircuit("R0-C1", spectrum("R0-C1", { R0: 50, C1: 2e-11 }), { starts: 3, bounds: { C1: [2.5e-11, 1e-9] } });
    expect(r.params.C1! / 2.5e-11).toBeCloseTo(1, 9);
    expect(r.parametersAtBounds).toEqual(["C1"]);
  });

  it("a resistor that collapses towards zero (far below its start) is reported, as a bound the data push it to", () => {
    // C1 held at 15 pF (the truth is 20 pF): the fit compensates with R0 -> 3e-13 ohm, 14 decades below its start
    const r = fitCircuit(RC, spectrum(RC, RC_TRUTH), { starts: 3, bounds: { C1: [1e-13, 1.5e-11] } });
    expect(r.params.C1! / 1.5e-11).toBeCloseTo(1, 9);
    expect(r.params.R0!).toBeLessThan(1e-9);
    expect(r.parametersAtBounds).toEqual(["R0", "C1"]);
  });

  it("a CPE exponent held at its upper bound is flagged; the other parameters of that fit are not", () => {
    const c = "R0-p(R1,CPE1)";
    const r = fitCircuit(c, spectrum(c, { R0: 50, R1: 2000, CPE1_0: 2e-10, CPE1_1: 0.93 }), { starts: 3, bounds: { CPE1_1: [0.5, 0.9] }, maxIterations: 3000 });
    expect(r.params.CPE1_1).toBeCloseTo(0.9, 9);
    expect(r.params.CPE1_0!).toBeGreaterThan(1e-10); // 3e-10: far below 1e-9, far from any bound
    expect(r.parametersAtBounds).toEqual(["CPE1_1"]);
  });
});
