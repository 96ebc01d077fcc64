import { describe, expect, it } from "vitest";
import {
  chargeState,
  GLASS_UM_PER_mAh_cm2,
  materialOptics,
  Material,
  presetParameters,
  PRODUCT_UM_PER_mAh_cm2,
} from "../../src/twin/index.js";
import { LI_UM_PER_MAH_CM2 } from "../../src/numerics/index.js";

// Independent constants (CODATA F; atomic masses; the densities of the project's optical-constants reference).
const F = 96485.33212;
const M = { Li: 6.941, P: 30.974, S: 32.06 };
const rho = { Li: 0.534, Li3PS4: 1.88, Li2S: 1.66, Li3P: 1.43 };

describe("charge history", () => {
  it("Faraday's law: 4.85 um of dense Li per mAh/cm2, 12.4 um at 0.8 mA/cm2 x 3.2 h", () => {
    const um = ((3.6 / F) * (M.Li / rho.Li)) * 1e4;
    expect(LI_UM_PER_MAH_CM2).toBeCloseTo(um, 10);
    expect(LI_UM_PER_MAH_CM2).toBeCloseTo(4.85, 2);
    const p = presetParameters("default");
    expect(chargeState(p, 3.2).faradayLi_um).toBeCloseTo(12.4, 1);
  });

  it("decomposition products take about 1.5x the volume of the glass consumed", () => {
    const glass = (3 * M.Li + M.P + 4 * M.S) / rho.Li3PS4;
    const products = (4 * (2 * M.Li + M.S)) / rho.Li2S + (3 * M.Li + M.P) / rho.Li3P;
    expect(PRODUCT_UM_PER_mAh_cm2 / GLASS_UM_PER_mAh_cm2).toBeCloseTo(products / glass, 10);
    expect(products / glass).toBeGreaterThan(1.45);
    expect(products / glass).toBeLessThan(1.6);
    // 8 electrons per formula unit
    expect(GLASS_UM_PER_mAh_cm2).toBeCloseTo(((3.6 / F / 8) * glass) * 1e4, 10);
  });

  it("conserves charge at every instant and lags Faraday early, approaching it by the short", () => {
    const p = presetParameters("default");
    for (let t = 0; t <= 3.2; t += 0.1) {
      const s = chargeState(p, t);
      expect(s.passed_mAh_cm2).toBeCloseTo(0.8 * t, 12);
      expect(Math.abs(s.lithium_mAh_cm2 + s.decomposition_mAh_cm2 - s.passed_mAh_cm2)).toBeLessThan(1e-12);
      expect(Math.abs(s.interfaceLi_mAh_cm2 + s.depositLi_mAh_cm2 - s.lithium_mAh_cm2)).toBeLessThan(1e-12);
      expect(s.decomposition_mAh_cm2).toBeGreaterThanOrEqual(0);
    }
    const r15 = chargeState(p, 1.5).lithium_mAh_cm2 / chargeState(p, 1.5).passed_mAh_cm2;
    const r32 = chargeState(p, 3.2).lithium_mAh_cm2 / chargeState(p, 3.2).passed_mAh_cm2;
    expect(r15).toBeLessThan(0.7);
    expect(r32).toBeGreaterThan(r15 + 0.1);
    expect(r32).toBeGreaterThan(0.75);
    // Early on, decomposition takes most of the charge.
    const s02 = chargeState(p, 0.2);
    expect(s02.decomposition_mAh_cm2 / s02.passed_mAh_cm2).toBeGreaterThan(0.5);
    // No deposits before nucleation.
    expect(chargeState(p, 0.99).depositLi_mAh_cm2).toBe(0);
    expect(chargeState(p, 1.5).depositLi_mAh_cm2).toBeGreaterThan(0);
  });
});

describe("optical constants", () => {
  it("match the reference table at 8 and 20 keV", () => {
    const o8 = materialOptics(8);
    expect(o8.delta[Material.liDeposit]).toBeCloseTo(1.497e-6, 12);
    expect(o8.delta[Material.electrolyte]).toBeCloseTo(6.064e-6, 12);
    expect(o8.mu_per_cm[Material.electrolyte]).toBeCloseTo(148.5, 6);
    expect(o8.mu_per_cm[Material.liElectrode]).toBeCloseTo(0.2527, 8);
    expect(o8.delta[Material.void]).toBe(0);
    const o20 = materialOptics(20);
    expect(o20.mu_per_cm[Material.electrolyte]).toBeCloseTo(10.44, 6);
    // between tabulated energies the values lie between the neighbours
    const o10 = materialOptics(10);
    expect(o10.delta[Material.electrolyte]).toBeLessThan(6.064e-6);
    expect(o10.delta[Material.electrolyte]).toBeGreaterThan(2.507e-6);
    // the interphase is a Li2S/Li3P mix: between the two (8 keV: 5.229e-6 and 4.347e-6)
    expect(o8.delta[Material.interphase]).toBeLessThan(5.229e-6);
    expect(o8.delta[Material.interphase]).toBeGreaterThan(4.347e-6);
  });

  it("Li and void are near-identical in absorption but not in delta", () => {
    const o = materialOptics(8);
    const absGap = o.mu_per_cm[Material.liDeposit]! - o.mu_per_cm[Material.void]!;
    const absRange = o.mu_per_cm[Material.electrolyte]! - o.mu_per_cm[Material.void]!;
    const phGap = o.delta[Material.liDeposit]! - o.delta[Material.void]!;
    const phRange = o.delta[Material.electrolyte]! - o.delta[Material.void]!;
    expect(absGap / absRange).toBeLessThan(0.01);
    expect(phGap / phRange).toBeGreaterThan(0.2);
  });
});
