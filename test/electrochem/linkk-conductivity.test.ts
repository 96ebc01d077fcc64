import { describe, expect, it } from "vitest";
import {
  circuitImpedance,
  electronicConductivity,
  electronicConductivityFromIV,
  ionicConductivity,
  ionicConductivityFromSpectrum,
  linKK,
  parseCircuit,
  type ImpedanceSpectrum,
} from "../../src/electrochem/index.js";
import { gaussian, seededRandom } from "../../src/numerics/index.js";
import { ParameterError } from "../../src/util/errors.js";
import { hasPythonModules, runPython } from "../helpers/python.js";

const C = parseCircuit("R0-p(R1,CPE1)-p(R2,CPE2)");
const T = { R0: 60, R1: 180, CPE1_0: 1.5e-8, CPE1_1: 0.93, R2: 450, CPE2_0: 1.4e-5, CPE2_1: 0.88 };
const F = Float64Array.from({ length: 57 }, (_, i) => 3e6 * Math.pow(10, -i / 8));

/** A sweep from high to low frequency during which R2 changes by `drift` (relative) in proportion to time. */
function sweep(noise: number, drift: number, seed: number): ImpedanceSpectrum {
  const rand = seededRandom(seed);
  let t = 0;
  const ts = Array.from(F, (f) => (t += Math.max(2 / f, 0.2)));
  const re = new Float64Array(F.length);
  const im = new Float64Array(F.length);
  F.forEach((f, i) => {
    const z = circuitImpedance(C, { ...T, R2: T.R2 * (1 - (drift * ts[i]!) / t) }, [f]);
    const m = Math.hypot(z.re_ohm[0]!, z.im_ohm[0]!);
    re[i] = z.re_ohm[0]! + noise * m * gaussian(rand);
    im[i] = z.im_ohm[0]! + noise * m * gaussian(rand);
  });
  return { freq_Hz: F, re_ohm: re, im_ohm: im };
}

describe("Lin-KK", () => {
  it("a valid spectrum passes, with residuals at noise level", () => {
    for (const seed of [1, 2, 3]) {
      const r = linKK(sweep(0.002, 0, seed));
      expect(r.valid).toBe(true);
      expect(r.muCriterionMet).toBe(true);
      expect(r.mu).toBeLessThanOrEqual(0.85);
      // residual rms close to the 0.2 % noise per component
      const rms = Math.sqrt(r.pseudoChiSquare / (2 * F.length));
      expect(rms).toBeLessThan(0.003);
      expect(rms).toBeGreaterThan(0.001);
    }
  });

  it("M selection: confirm = 1 is impedance.py's first-M rule; the default needs mu <= c to persist", () => {
    const s = sweep(0.003, 0, 12);
    const one = linKK(s, { confirm: 1 });
    expect(one.mu).toBeLessThanOrEqual(0.85);
    one.muTrace.slice(0, one.M - 1).forEach((m) => expect(m).toBeGreaterThan(0.85));
    const three = linKK(s);
    expect(three.M).toBeGreaterThanOrEqual(one.M);
    for (let q = three.M; q < three.M + 3 && q <= three.muTrace.length; q++) expect(three.muTrace[q - 1]!).toBeLessThanOrEqual(0.85);
  });

  it("noise-free KK-compliant data are reproduced almost exactly", () => {
    expect(linKK(sweep(0, 0, 1)).maxAbsResidual).toBeLessThan(1e-4);
  });

  it("a spectrum with drift fails", () => {
    for (const drift of [0.2, 0.3]) {
      const r = linKK(sweep(0.002, drift, 4));
      expect(r.valid).toBe(false);
      expect(r.maxAbsResidual).toBeGreaterThan(0.03);
    }
    // smaller drift is caught when the tolerance is set from the instrument noise (4 x 0.2 %)
    expect(linKK(sweep(0.002, 0.1, 4), { residualTolerance: 0.008 }).valid).toBe(false);
    expect(linKK(sweep(0.002, 0, 4), { residualTolerance: 0.008 }).valid).toBe(true);
  });

  it("returned R_k, tau_k, mu and residuals are consistent with the Voigt chain", () => {
    const s = sweep(0.002, 0, 9);
    const r = linKK(s);
    let neg = 0;
    let pos = 0;
    r.R_ohm.forEach((x) => (x < 0 ? (neg -= x) : (pos += x)));
    expect(r.mu).toBeCloseTo(1 - neg / pos, 12);
    expect(r.tau_s[0]).toBeCloseTo(1 / (2 * Math.PI * 3e6), 15);
    expect(r.tau_s[r.M - 1]! / (1 / (2 * Math.PI * F[F.length - 1]!))).toBeCloseTo(1, 10);
    F.forEach((f, i) => {
      const w = 2 * Math.PI * f;
      let re = r.R0_ohm;
      let im = w * r.L_H;
      r.R_ohm.forEach((R, k) => {
        const x = w * r.tau_s[k]!;
        re += R / (1 + x * x);
        im -= (R * x) / (1 + x * x);
      });
      const mod = Math.hypot(s.re_ohm[i]!, s.im_ohm[i]!);
      expect(r.residuals.re[i]).toBeCloseTo((s.re_ohm[i]! - re) / mod, 10);
      expect(r.residuals.im[i]).toBeCloseTo((s.im_ohm[i]! - im) / mod, 10);
    });
  });
});

describe.skipIf(!hasPythonModules("numpy"))("Lin-KK against a numpy implementation of Schoenleber's rule", () => {
  it("same M, mu and residuals with confirm = 1", () => {
    const s = sweep(0.003, 0.05, 6);
    const ours = linKK(s, { confirm: 1 });
    const script = `
import json, sys, numpy as np
d = json.loads(sys.stdin.read())
f = np.array(d["f"]); Z = np.array(d["re"]) + 1j * np.array(d["im"]); w = 2 * np.pi * f
tmin, tmax = 1 / w.max(), 1 / w.min()
for M in range(1, 51):
    tau = np.array([tmin]) if M == 1 else tmin * (tmax / tmin) ** (np.arange(M) / (M - 1))
    K = 1 / (1 + 1j * np.outer(w, tau))
    A = np.hstack([np.ones((len(f), 1)), (1j * w)[:, None], K]) / np.abs(Z)[:, None]
    x = np.linalg.lstsq(np.vstack([A.real, A.imag]), np.concatenate([Z.real, Z.imag]) / np.concatenate([np.abs(Z), np.abs(Z)]), rcond=None)[0]
    R = x[2:]
    mu = 1 - np.abs(R[R < 0]).sum() / np.abs(R[R >= 0]).sum()
    if mu <= 0.85:
        break
Zfit = x[0] + 1j * w * x[1] + K @ R
res = (Z - Zfit) / np.abs(Z)
print(json.dumps({"M": M, "mu": mu, "re": res.real.tolist(), "im": res.imag.tolist()}))`;
    const peer = JSON.parse(
      runPython(script, [], { input: JSON.stringify({ f: Array.from(s.freq_Hz), re: Array.from(s.re_ohm), im: Array.from(s.im_ohm) }) }).trim(),
    ) as { M: number; mu: number; re: number[]; im: number[] };
    expect(ours.M).toBe(peer.M);
    expect(ours.mu).toBeCloseTo(peer.mu, 6);
    peer.re.forEach((v, i) => expect(ours.residuals.re[i]).toBeCloseTo(v, 7));
    peer.im.forEach((v, i) => expect(ours.residuals.im[i]).toBeCloseTo(v, 7));
  });
});

describe("conductivity", () => {
  it("ionic sigma = L/(R A)", () => {
    // Park et al.: 5.0e-4 S/cm; a 0.8 mm pellet of 0.785 cm2 has R = 0.08 / (5e-4 * 0.785) ohm
    const R = 0.08 / (5e-4 * 0.785);
    const c = ionicConductivity(R, 800, 0.785, 0.01 * R);
    expect(c.sigma_S_cm).toBeCloseTo(5e-4, 12);
    expect(c.sigma_stdErr_S_cm).toBeCloseTo(5e-6, 12);
    expect(() => ionicConductivity(0, 800, 1)).toThrow(ParameterError);
  });

  it("ionic conductivity from a blocking-electrode spectrum recovers the bulk resistance", () => {
    const R = 0.08 / (5e-4 * 0.785);
    const f = Float64Array.from({ length: 50 }, (_, i) => 3e6 * Math.pow(10, -i / 7));
    const z = circuitImpedance(parseCircuit("R0-CPE1"), { R0: R, CPE1_0: 2e-6, CPE1_1: 0.85 }, f);
    const rand = seededRandom(8);
    const re = Float64Array.from(z.re_ohm, (v, i) => v + 0.003 * Math.hypot(v, z.im_ohm[i]!) * gaussian(rand));
    const im = Float64Array.from(z.im_ohm, (v, i) => v + 0.003 * Math.hypot(z.re_ohm[i]!, v) * gaussian(rand));
    const c = ionicConductivityFromSpectrum({ freq_Hz: f, re_ohm: re, im_ohm: im }, { thickness_um: 800, area_cm2: 0.785 });
    expect(Math.abs(c.sigma_S_cm - 5e-4)).toBeLessThan(3 * c.sigma_stdErr_S_cm);
    expect(c.sigma_stdErr_S_cm / c.sigma_S_cm).toBeLessThan(0.01);
  });

  it("electronic conductivity from a decaying DC polarisation current", () => {
    // Steady state I = sigma V A / L; decaying ionic transient on top, 3.2e-8 S/cm as in the paper
    const sigma = 3.2e-8;
    const V = 0.5, L_um = 800, A = 0.785;
    const Iss = (sigma * V * A) / (L_um * 1e-4);
    const t = Float64Array.from({ length: 2000 }, (_, i) => i * 10);
    const rand = seededRandom(2);
    const I = Float64Array.from(t, (ti) => Iss * (1 + 20 * Math.exp(-ti / 600)) + 1e-3 * Iss * gaussian(rand));
    const r = electronicConductivity(t, I, { voltage_V: V, thickness_um: L_um, area_cm2: A });
    expect(r.steady).toBe(true);
    expect(Math.abs(r.sigma_S_cm - sigma) / sigma).toBeLessThan(0.002);
    // a record cut before the transient decays is flagged as not steady
    const cut = electronicConductivity(t.slice(0, 100), I.slice(0, 100), { voltage_V: V, thickness_um: L_um, area_cm2: A });
    expect(cut.steady).toBe(false);
  });

  it("electronic conductivity from an I-V series is the slope through the origin", () => {
    const G = 2e-9;
    const v = [0.1, 0.2, 0.3, 0.5];
    const r = electronicConductivityFromIV(v, v.map((x) => G * x), 800, 0.785);
    expect(r.conductance_S).toBeCloseTo(G, 20);
    expect(r.sigma_S_cm).toBeCloseTo((G * 0.08) / 0.785, 20);
  });
});
