import { describe, expect, it } from "vitest";
import {
  circuitImpedance,
  effectiveCapacitance,
  fitCircuit,
  linKK,
  parseCircuit,
  type ImpedanceSpectrum,
} from "../../src/electrochem/index.js";
import { gaussian, seededRandom } from "../../src/numerics/index.js";
import { ConvergenceError, FileFormatError, ParameterError } from "../../src/util/errors.js";

// The paper's two-arc cell (Fig. S6 / Table S1): bulk R0, interface R_int with C ~ 0.01 uF, charge transfer
// R_ct with C ~ 10 uF, measured 3 MHz .. 0.1 Hz.
const CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)";
const TRUTH = { R0: 60, R1: 180, CPE1_0: 1.5e-8, CPE1_1: 0.93, R2: 450, CPE2_0: 1.4e-5, CPE2_1: 0.88 };
const FREQ = Float64Array.from({ length: 8 * 7 + 1 }, (_, i) => 3e6 * Math.pow(10, -i / 8)); // 3 MHz .. 0.3 Hz

function noisySpectrum(params: Record<string, number>, relNoise: number, seed: number, circuit = CIRCUIT, freq = FREQ): ImpedanceSpectrum {
  const z = circuitImpedance(parseCircuit(circuit), params, freq);
  const rand = seededRandom(seed);
  const re = new Float64Array(freq.length);
  const im = new Float64Array(freq.length);
  for (let i = 0; i < freq.length; i++) {
    const mod = Math.hypot(z.re_ohm[i]!, z.im_ohm[i]!);
    re[i] = z.re_ohm[i]! + relNoise * mod * gaussian(rand);
    im[i] = z.im_ohm[i]! + relNoise * mod * gaussian(rand);
  }
  return { freq_Hz: Float64Array.from(freq), re_ohm: re, im_ohm: im, source: `synthetic seed ${seed}` };
}

describe("fitCircuit on the paper-like two-arc circuit", () => {
  it("recovers the truth on noise-free data to high precision", () => {
    const r = fitCircuit(CIRCUIT, noisySpectrum(TRUTH, 0, 1));
    for (const [k, v] of Object.entries(TRUTH)) expect(Math.abs(r.params[k]! - v) / v).toBeLessThan(1e-6);
    expect(r.chiSquare).toBeLessThan(1e-16);
  });

  it("true values lie within 2 sigma in >= 90 % of seeded noisy trials (per parameter and overall)", () => {
    const trials = 40;
    const hits: Record<string, number> = {};
    let total = 0;
    let count = 0;
    for (let t = 0; t < trials; t++) {
      const r = fitCircuit(CIRCUIT, noisySpectrum(TRUTH, 0.01, 1000 + t), { starts: 4, seed: t });
      for (const [k, v] of Object.entries(TRUTH)) {
        const inside = Math.abs(r.params[k]! - v) <= 2 * r.stdErr[k]!;
        hits[k] = (hits[k] ?? 0) + (inside ? 1 : 0);
        total += inside ? 1 : 0;
        count++;
      }
      // Boukamp weighting with 1 % proportional noise: chi2_red ~ (0.01)^2
      expect(r.reducedChiSquare).toBeGreaterThan(0.5e-4);
      expect(r.reducedChiSquare).toBeLessThan(2e-4);
    }
    expect(total / count).toBeGreaterThanOrEqual(0.9);
    for (const k of Object.keys(TRUTH)) expect(hits[k]! / trials).toBeGreaterThanOrEqual(0.8);
  });

  it("does not depend on reasonable starts and keeps arc labels by time constant", () => {
    const spec = noisySpectrum(TRUTH, 0.005, 7);
    // Starts with the arcs swapped and off by factors of 3: R1/R2 and the CPEs exchanged.
    const swapped = { R0: 20, R1: 1500, CPE1_0: 5e-5, CPE1_1: 0.8, R2: 60, CPE2_0: 5e-9, CPE2_1: 1 };
    const a = fitCircuit(CIRCUIT, spec, { initial: swapped, starts: 1 });
    const b = fitCircuit(CIRCUIT, spec, { starts: 6, seed: 3 });
    for (const k of Object.keys(TRUTH)) {
      expect(Math.abs(a.params[k]! - b.params[k]!)).toBeLessThan(1e-4 * Math.abs(b.params[k]!) + 0.01 * b.stdErr[k]!);
    }
    // R1 is the fast (interface, ~0.01 uF) arc in both fits
    expect(a.blocks[0]!.tau_s).toBeLessThan(a.blocks[1]!.tau_s);
    expect(Math.abs(a.params.R1! - TRUTH.R1) / TRUTH.R1).toBeLessThan(0.05);
    expect(Math.abs(a.params.R2! - TRUTH.R2) / TRUTH.R2).toBeLessThan(0.05);
  });

  it("fits from random initial values within a factor 3 of the truth all reach the same minimum", () => {
    // A single LM start from such values stalls in a local minimum about 1 time in 8 (measured 25/200);
    // the default seeded multi-start is what makes the result independent of the user's start.
    const spec = noisySpectrum(TRUTH, 0.01, 17);
    const ref = fitCircuit(CIRCUIT, spec, { starts: 8 });
    const rand = seededRandom(99);
    for (let t = 0; t < 10; t++) {
      const init: Record<string, number> = {};
      for (const [k, v] of Object.entries(TRUTH)) init[k] = k.endsWith("_1") ? Math.min(1, v * (0.85 + 0.15 * rand())) : v * Math.pow(3, 2 * rand() - 1);
      const r = fitCircuit(CIRCUIT, spec, { initial: init, seed: t });
      expect(Math.abs(r.chiSquare - ref.chiSquare) / ref.chiSquare).toBeLessThan(1e-6);
      for (const k of Object.keys(TRUTH)) expect(Math.abs(r.params[k]! - ref.params[k]!)).toBeLessThan(0.01 * ref.stdErr[k]!);
    }
  });

  it("reports Hsu-Mansfeld C_eff near 0.01 uF and 10 uF with delta-method errors", () => {
    const r = fitCircuit(CIRCUIT, noisySpectrum(TRUTH, 0.005, 11));
    const c1 = effectiveCapacitance(TRUTH.R1, TRUTH.CPE1_0, TRUTH.CPE1_1);
    const c2 = effectiveCapacitance(TRUTH.R2, TRUTH.CPE2_0, TRUTH.CPE2_1);
    // independent closed form: C = (R Q)^(1/a) / R
    expect(c1).toBeCloseTo(Math.pow(TRUTH.R1 * TRUTH.CPE1_0, 1 / TRUTH.CPE1_1) / TRUTH.R1, 20);
    expect(c1).toBeGreaterThan(3e-9);
    expect(c1).toBeLessThan(3e-8);
    expect(c2).toBeGreaterThan(3e-6);
    expect(c2).toBeLessThan(3e-5);
    expect(Math.abs(r.blocks[0]!.C_eff_F - c1)).toBeLessThan(3 * r.blocks[0]!.C_eff_stdErr_F);
    expect(Math.abs(r.blocks[1]!.C_eff_F - c2)).toBeLessThan(3 * r.blocks[1]!.C_eff_stdErr_F);
    expect(r.blocks[0]!.C_eff_stdErr_F).toBeGreaterThan(0);
  });

  it("reports consistent statistics: correlations in [-1, 1], AIC/BIC from chi-square", () => {
    const r = fitCircuit(CIRCUIT, noisySpectrum(TRUTH, 0.01, 5));
    const k = r.paramNames.length;
    for (let a = 0; a < k; a++) {
      expect(r.correlation[a]![a]).toBeCloseTo(1, 12);
      for (let b = 0; b < k; b++) expect(Math.abs(r.correlation[a]![b]!)).toBeLessThanOrEqual(1 + 1e-12);
    }
    const n = 2 * FREQ.length;
    expect(r.dof).toBe(n - k);
    expect(r.aic).toBeCloseTo(n * Math.log(r.chiSquare / n) + 2 * k, 9);
    expect(r.bic - r.aic).toBeCloseTo(k * Math.log(n) - 2 * k, 9);
    // CPE exponent and Q of one arc are strongly correlated, as they must be
    const iQ = r.paramNames.indexOf("CPE2_0");
    const iA = r.paramNames.indexOf("CPE2_1");
    expect(Math.abs(r.correlation[iQ]![iA]!)).toBeGreaterThan(0.5);
  });

  it.each(["unit", "modulus", "proportional", "boukamp"] as const)("weighting %s recovers noise-free truth", (w) => {
    const r = fitCircuit(CIRCUIT, noisySpectrum(TRUTH, 0, 2), { weighting: w, starts: 3 });
    for (const [k, v] of Object.entries(TRUTH)) expect(Math.abs(r.params[k]! - v) / v).toBeLessThan(1e-5);
    expect(r.weighting).toBe(w);
  });

  it("with known sigma the covariance is absolute and chi2_red ~ 1", () => {
    const spec = noisySpectrum(TRUTH, 0.01, 21);
    const z = circuitImpedance(parseCircuit(CIRCUIT), TRUTH, FREQ);
    const sig = Float64Array.from(z.re_ohm, (re, i) => 0.01 * Math.hypot(re, z.im_ohm[i]!));
    const r = fitCircuit(CIRCUIT, spec, { sigma_ohm: { re: sig, im: sig } });
    expect(r.weighting).toBe("sigma");
    expect(r.reducedChiSquare).toBeGreaterThan(0.6);
    expect(r.reducedChiSquare).toBeLessThan(1.5);
  });
});

describe("fixed parameters", () => {
  it("holds a parameter, fits the rest, and counts only free parameters", () => {
    const spec = noisySpectrum(TRUTH, 0.005, 31);
    const free = fitCircuit(CIRCUIT, spec, { starts: 3 });
    const r = fitCircuit(CIRCUIT, spec, { starts: 3, fixed: { CPE2_1: TRUTH.CPE2_1, R0: TRUTH.R0 } });
    expect(r.params.CPE2_1).toBe(TRUTH.CPE2_1);
    expect(r.params.R0).toBe(TRUTH.R0);
    expect(r.stdErr.CPE2_1).toBe(0);
    expect(r.dof).toBe(2 * FREQ.length - 5);
    expect(r.correlation[r.paramNames.indexOf("R0")]![0]).toBeNaN();
    // fixing the true exponent shrinks the error of its partner Q
    expect(r.stdErr.CPE2_0!).toBeLessThan(free.stdErr.CPE2_0!);
    for (const k of ["R1", "R2", "CPE1_0", "CPE1_1", "CPE2_0"]) {
      expect(Math.abs(r.params[k]! - (TRUTH as Record<string, number>)[k]!)).toBeLessThan(4 * r.stdErr[k]!);
    }
    expect(() => fitCircuit(CIRCUIT, spec, { fixed: { X9: 1 } })).toThrow(/X9/);
  });
});

describe("other circuits", () => {
  it("fits R0-p(R1,C1)-Wo1 and R-C blocking-electrode spectra", () => {
    const truth = { R0: 10, R1: 100, C1: 1e-6, Wo1_0: 50, Wo1_1: 2 };
    const f = Float64Array.from({ length: 50 }, (_, i) => 1e5 * Math.pow(10, -i / 7));
    const r = fitCircuit("R0-p(R1,C1)-Wo1", noisySpectrum(truth, 0.002, 4, "R0-p(R1,C1)-Wo1", f), { starts: 6 });
    for (const [k, v] of Object.entries(truth)) expect(Math.abs(r.params[k]! - v)).toBeLessThan(4 * r.stdErr[k]!);
  });
});

describe("bad input and non-convergence", () => {
  const good = noisySpectrum(TRUTH, 0.01, 3);
  it("non-monotonic frequencies name the point", () => {
    const f = Float64Array.from(good.freq_Hz);
    [f[10], f[11]] = [f[11]!, f[10]!];
    expect(() => fitCircuit(CIRCUIT, { ...good, freq_Hz: f })).toThrow(/not strictly monotonic.*synthetic seed 3.*point 11/);
  });
  it("NaN names field and point", () => {
    const im = Float64Array.from(good.im_ohm);
    im[5] = NaN;
    let err: unknown;
    try {
      fitCircuit(CIRCUIT, { ...good, im_ohm: im });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileFormatError);
    expect(String(err)).toMatch(/im_ohm.*point 5|point 5.*im_ohm/);
  });
  it("fewer points than parameters", () => {
    const cut = (a: Float64Array) => a.slice(0, 3);
    expect(() => fitCircuit(CIRCUIT, { freq_Hz: cut(good.freq_Hz), re_ohm: cut(good.re_ohm), im_ohm: cut(good.im_ohm) })).toThrow(ParameterError);
  });
  it("proportional weighting with Im Z = 0 at a point names the point", () => {
    const im = Float64Array.from(good.im_ohm);
    im[7] = 0;
    expect(() => fitCircuit(CIRCUIT, { ...good, im_ohm: im }, { weighting: "proportional" })).toThrow(/point 7/);
  });
  it("a circuit that does not parse names the token", () => {
    expect(() => fitCircuit("R0-p(R1,Q1)", good)).toThrow(/Q1/);
  });
  it("throws ConvergenceError instead of returning numbers when iterations run out", () => {
    expect(() => fitCircuit(CIRCUIT, good, { maxIterations: 2, starts: 2 })).toThrow(ConvergenceError);
  });
  it("warns when the model is not identifiable (two resistors in series)", () => {
    const r = fitCircuit("R0-R9-p(R1,CPE1)-p(R2,CPE2)", good, { starts: 3 });
    expect(r.warnings.join(" ")).toMatch(/R0, R9 are not identifiable/);
    expect(r.stdErr.R0).toBeNaN();
    expect(r.stdErr.R9).toBeNaN();
    // the identifiable parameters keep finite errors, and R0 + R9 is the series resistance
    expect(Number.isFinite(r.stdErr.R2!)).toBe(true);
    expect(Math.abs(r.params.R0! + r.params.R9! - TRUTH.R0)).toBeLessThan(3);
  });
});

describe("residuals", () => {
  it("fit and Lin-KK report the same definition, data minus model over |Z| (increasing-frequency input too)", () => {
    const s = noisySpectrum(TRUTH, 0.01, 31);
    const up: ImpedanceSpectrum = { freq_Hz: s.freq_Hz.slice().reverse(), re_ohm: s.re_ohm.slice().reverse(), im_ohm: s.im_ohm.slice().reverse() };
    for (const r of [fitCircuit(CIRCUIT, up, { starts: 2 }), linKK(up)]) {
      // both return decreasing frequency: compare with the data in that order
      r.freq_Hz.forEach((f, i) => {
        expect(f).toBe(s.freq_Hz[i]);
        const mod = Math.hypot(s.re_ohm[i]!, s.im_ohm[i]!);
        expect(r.residuals.re[i]).toBeCloseTo((s.re_ohm[i]! - r.fit.re_ohm[i]!) / mod, 14);
        expect(r.residuals.im[i]).toBeCloseTo((s.im_ohm[i]! - r.fit.im_ohm[i]!) / mod, 14);
      });
    }
  });
});
