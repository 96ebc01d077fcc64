/**
 * The analyses applied to the digital twin's electrochemistry and XAS must give back the twin's true values
 * (src/twin is the independent truth: it synthesises, we analyse).
 */
import { describe, expect, it } from "vitest";
import {
  detectShortCircuit,
  electronicConductivity,
  fitCircuit,
  ionicConductivityFromSpectrum,
  linKK,
} from "../../src/electrochem/index.js";
import {
  blockingSpectrum,
  cellSpectrum,
  ctTimes_h,
  dcPolarisation,
  presetParameters,
  shortTime_h,
  voltageCurve,
  xasDataset,
} from "../../src/twin/index.js";
import { linearCombinationFit, preEdge } from "../../src/xas/index.js";

const p = presetParameters("default");

describe("twin electrochemistry", () => {
  it("R_int(t) and R_ct(t) come back within 3 sigma, arcs never swap, spectra pass Lin-KK", () => {
    const times = ctTimes_h(p);
    expect(times.length).toBeGreaterThan(3);
    let inside = 0;
    let total = 0;
    for (const t of times) {
      const s = cellSpectrum(p, t);
      const r = fitCircuit(s.circuit, s, { starts: 4, seed: 1 });
      for (const name of ["R0", "R1", "R2"]) {
        total++;
        if (Math.abs(r.params[name]! - s.params[name]!) <= 2 * r.stdErr[name]!) inside++;
        expect(Math.abs(r.params[name]! - s.params[name]!)).toBeLessThan(4 * r.stdErr[name]!);
      }
      // the high-frequency arc is the ~0.01 uF interface, the slow one the ~10 uF charge transfer
      expect(r.blocks[0]!.C_eff_F).toBeGreaterThan(3e-9);
      expect(r.blocks[0]!.C_eff_F).toBeLessThan(3e-8);
      expect(r.blocks[1]!.C_eff_F).toBeGreaterThan(3e-6);
      expect(r.blocks[1]!.C_eff_F).toBeLessThan(3e-5);
      expect(linKK(s).valid).toBe(true);
    }
    expect(inside / total).toBeGreaterThanOrEqual(0.8);
  });

  it("ionic and electronic conductivities", () => {
    const b = blockingSpectrum(p);
    const ion = ionicConductivityFromSpectrum(b, {
      circuit: b.circuit,
      thickness_um: p.cell.blockingThickness_um,
      area_cm2: p.cell.blockingArea_cm2,
    });
    const trueIon = p.cell.ionicConductivity_S_cm;
    expect(Math.abs(ion.sigma_S_cm - trueIon)).toBeLessThan(4 * ion.sigma_stdErr_S_cm + 1e-3 * trueIon);
    const dc = dcPolarisation(p);
    const el = electronicConductivity(dc.time_s, dc.current_A, { voltage_V: dc.voltage_V, thickness_um: dc.thickness_um, area_cm2: dc.area_cm2 });
    expect(el.steady).toBe(true);
    expect(Math.abs(el.sigma_S_cm - dc.electronicConductivity_S_cm) / dc.electronicConductivity_S_cm).toBeLessThan(0.01);
  });

  it("the voltage curve's end is found as the short, with the capacity to failure", () => {
    const v = voltageCurve(p);
    const r = detectShortCircuit(
      { time_s: v.time_s, voltage_V: v.voltage_V, current_mA_cm2: v.current_mA_cm2 },
      { plannedDuration_s: 2 * shortTime_h(p) * 3600 },
    );
    expect(r.failed).toBe(true);
    expect(Math.abs(r.failureTime_h - v.short_h)).toBeLessThan(p.cell.voltageStep_s / 3600 + 1e-9);
    expect(r.capacity_mAh_cm2).toBeCloseTo(v.current_mA_cm2 * v.short_h, 6);
  });
});

describe("twin XAS", () => {
  it("LCF of the after-plating spectra gives back the decomposition fraction at both edges", () => {
    const d = xasDataset(p);
    for (const edge of ["S", "P"] as const) {
      const refs = d.references.filter((r) => r.edge === edge);
      const after = d.measured.find((m) => m.edge === edge && m.label.includes("after"))!;
      const e0 = preEdge(after.E_eV, after.mu).e0_eV;
      const r = linearCombinationFit(
        after.E_eV,
        after.mu,
        refs.map((x) => ({ name: Object.keys(x.fractions)[0]!, energy_eV: x.E_eV, mu: x.mu })),
        { e0_eV: e0, window_eV: [-15, 25] },
      );
      const prod = edge === "S" ? "Li2S" : "Li3P";
      const j = r.names.indexOf(prod);
      expect(Math.abs(r.weights[j]! - d.decompositionFraction)).toBeLessThan(3 * r.weightErrors[j]! + 1e-3);
      expect(r.weightErrors[j]!).toBeLessThan(0.05);
    }
  });
});
