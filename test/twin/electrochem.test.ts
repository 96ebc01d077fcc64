import { describe, expect, it } from "vitest";
import {
  blockingSpectrum,
  cellResistances,
  cellSpectrum,
  ctTimes_h,
  dcPolarisation,
  presetParameters,
  voltageCurve,
} from "../../src/twin/index.js";

/** Closed form of R0-p(R1,CPE1)-p(R2,CPE2), written here independently of the circuit module. */
function closedForm(prm: Record<string, number>, f: number): [number, number] {
  const w = 2 * Math.PI * f;
  const rc = (R: number, Q: number, a: number): [number, number] => {
    // Z = R / (1 + R Q (j w)^a)
    const m = R * Q * Math.pow(w, a);
    const dr = 1 + m * Math.cos((a * Math.PI) / 2);
    const di = m * Math.sin((a * Math.PI) / 2);
    const d2 = dr * dr + di * di;
    return [(R * dr) / d2, (-R * di) / d2];
  };
  const a = rc(prm.R1!, prm.CPE1_0!, prm.CPE1_1!);
  const b = rc(prm.R2!, prm.CPE2_0!, prm.CPE2_1!);
  return [prm.R0! + a[0] + b[0], a[1] + b[1]];
}

describe("twin impedance", () => {
  it("matches the closed form of the circuit (noise off) over 3 MHz to 0.1 Hz", () => {
    const p = presetParameters("default", { cell: { eisNoise: 0 } });
    for (const t of [0, 1.5, 3.2]) {
      const s = cellSpectrum(p, t);
      expect(s.freq_Hz[0]).toBeCloseTo(3e6, 3);
      expect(s.freq_Hz[s.freq_Hz.length - 1]).toBeCloseTo(0.1, 12);
      for (let i = 0; i < s.freq_Hz.length; i++) {
        const [re, im] = closedForm(s.params, s.freq_Hz[i]!);
        const mag = Math.hypot(re, im);
        expect(Math.abs(s.re_ohm[i]! - re) / mag).toBeLessThan(1e-9);
        expect(Math.abs(s.im_ohm[i]! - im) / mag).toBeLessThan(1e-9);
      }
    }
  });

  it("has capacitances near 0.01 uF and 10 uF, seen as two arcs at the expected apex frequencies", () => {
    const p = presetParameters("default", { cell: { eisNoise: 0, eisPointsPerDecade: 40 } });
    const s = cellSpectrum(p, 0);
    const prm = s.params;
    const Ceff = (Q: number, R: number, a: number) => Math.pow(Q * Math.pow(R, 1 - a), 1 / a);
    expect(Ceff(prm.CPE1_0!, prm.R1!, prm.CPE1_1!)).toBeCloseTo(1e-8, 12);
    expect(Ceff(prm.CPE2_0!, prm.R2!, prm.CPE2_1!)).toBeCloseTo(1e-5, 9);
    // local maxima of -Im Z
    const peaks: number[] = [];
    for (let i = 1; i < s.freq_Hz.length - 1; i++)
      if (-s.im_ohm[i]! > -s.im_ohm[i - 1]! && -s.im_ohm[i]! > -s.im_ohm[i + 1]!) peaks.push(s.freq_Hz[i]!);
    expect(peaks.length).toBe(2);
    const apex = (R: number, Q: number, a: number) => 1 / (2 * Math.PI * Math.pow(R * Q, 1 / a));
    const expected = [apex(prm.R1!, prm.CPE1_0!, prm.CPE1_1!), apex(prm.R2!, prm.CPE2_0!, prm.CPE2_1!)];
    peaks.forEach((f, k) => expect(Math.abs(Math.log10(f / expected[k]!))).toBeLessThan(0.1));
  });

  it("R_int rises and R_ct falls gradually to 1.0 h, then steeply", () => {
    const p = presetParameters("default");
    const times = ctTimes_h(p);
    const r = times.map((t) => cellResistances(p, t));
    for (let i = 1; i < r.length; i++) {
      expect(r[i]!.R_int_ohm).toBeGreaterThan(r[i - 1]!.R_int_ohm);
      expect(r[i]!.R_ct_ohm).toBeLessThan(r[i - 1]!.R_ct_ohm);
    }
    const rate = (a: number, b: number) => (cellResistances(p, a).R_ct_ohm - cellResistances(p, b).R_ct_ohm) / (b - a);
    expect(rate(1.0, 1.5)).toBeGreaterThan(2 * rate(0.5, 1.0));
  });

  it("recovers the ionic conductivity (5.0e-4 S/cm) from the blocking-electrode spectrum", () => {
    const p = presetParameters("default");
    const s = blockingSpectrum(p);
    // Below the bulk arc Z = R0 + Z_CPE and Re Z is linear in -Im Z: fit the line, read the intercept.
    const xs: number[] = [], ys: number[] = [];
    for (let i = 0; i < s.freq_Hz.length; i++) if (s.freq_Hz[i]! < 1e4) (xs.push(-s.im_ohm[i]!), ys.push(s.re_ohm[i]!));
    const n = xs.length;
    const mx = xs.reduce((a, b) => a + b) / n, my = ys.reduce((a, b) => a + b) / n;
    let sxy = 0, sxx = 0;
    for (let i = 0; i < n; i++) (sxy += (xs[i]! - mx) * (ys[i]! - my)), (sxx += (xs[i]! - mx) ** 2);
    const R0 = my - (sxy / sxx) * mx;
    const sigma = (p.cell.blockingThickness_um * 1e-4) / (R0 * p.cell.blockingArea_cm2);
    expect(Math.abs(sigma / 5.0e-4 - 1)).toBeLessThan(0.03);
  });

  it("recovers the electronic conductivity (3.2e-8 S/cm) from the DC polarisation tail", () => {
    const p = presetParameters("default");
    const d = dcPolarisation(p);
    const n = d.current_A.length;
    let s = 0;
    for (let i = Math.floor(0.9 * n); i < n; i++) s += d.current_A[i]!;
    const Iss = s / (n - Math.floor(0.9 * n));
    const sigma = (Iss * d.thickness_um * 1e-4) / (d.voltage_V * d.area_cm2);
    expect(Math.abs(sigma / 3.2e-8 - 1)).toBeLessThan(0.01);
    expect(d.current_A[0]!).toBeGreaterThan(100 * Iss);
  });
});

describe("twin voltage curves", () => {
  it("polarisation falls gradually and the curve ends at the short", () => {
    const p = presetParameters("default");
    const v = voltageCurve(p);
    const last = v.time_s.length - 1;
    expect(v.time_s[last]! / 3600).toBeCloseTo(3.2, 9);
    expect(v.voltage_V[0]!).toBeLessThan(0);
    const eta = (i: number) => -v.voltage_V[i]!;
    expect(eta(last)).toBeLessThan(0.9 * eta(0));
    // smoothed over 0.5 h windows it never rises by more than the noise
    const win = Math.round(1800 / p.cell.voltageStep_s);
    const means: number[] = [];
    for (let a = 0; a + win <= v.voltage_V.length; a += win) {
      let s = 0;
      for (let i = a; i < a + win; i++) s += eta(i);
      means.push(s / win);
    }
    for (let i = 1; i < means.length; i++) expect(means[i]!).toBeLessThan(means[i - 1]! + 1e-3);
  });

  it("screening: slow failure at 0.6 mA/cm2, much larger polarisation at 1.0 mA/cm2", () => {
    const p = presetParameters("default");
    const [a, b, c] = [0.6, 0.8, 1.0].map((j) => voltageCurve(p, j));
    expect(a!.short_h).toBeGreaterThan(b!.short_h);
    expect(c!.short_h).toBeLessThan(b!.short_h);
    expect(-c!.voltage_V[0]!).toBeGreaterThan(2 * -b!.voltage_V[0]!);
    expect(-a!.voltage_V[0]!).toBeLessThan(-b!.voltage_V[0]!);
  });
});
