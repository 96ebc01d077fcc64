import { describe, expect, it } from "vitest";
import { ParameterError } from "../../src/util/errors.js";
import { ctTimes_h, presetParameters, shortTime_h, PRESET_NAMES } from "../../src/twin/index.js";

function errorOf(f: () => unknown): ParameterError {
  try {
    f();
  } catch (e) {
    if (e instanceof ParameterError) return e;
    throw e;
  }
  throw new Error("expected a ParameterError");
}

describe("twin parameters", () => {
  it("every preset validates and the default time points follow the paper", () => {
    for (const name of PRESET_NAMES) expect(presetParameters(name).preset).toBe(name);
    const p = presetParameters("default");
    expect(shortTime_h(p)).toBeCloseTo(3.2, 12);
    expect(ctTimes_h(p)).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.2]);
    // default: 2 um voxels, a few hundred um laterally, at least 250 um deep
    expect(p.geometry.voxel_um).toBe(2);
    expect(p.geometry.nyx[0] * p.geometry.voxel_um).toBeGreaterThanOrEqual(200);
    expect(p.geometry.topLi_um + p.geometry.electrolyte_um + p.geometry.bottomLi_um).toBeGreaterThanOrEqual(250);
    expect(presetParameters("paper").geometry.voxel_um).toBe(0.5);
  });

  it("the short time scales with current density (slow failure at 0.6, fast at 1.0)", () => {
    const t06 = shortTime_h(presetParameters("default", { history: { current_mA_cm2: 0.6 } }));
    const t10 = shortTime_h(presetParameters("default", { history: { current_mA_cm2: 1.0 } }));
    expect(t06).toBeGreaterThan(3.2);
    expect(t10).toBeLessThan(3.2);
  });

  it("rejects unphysical input naming the parameter and its range", () => {
    const neg = errorOf(() => presetParameters("ci", { history: { current_mA_cm2: -0.8 } }));
    expect(neg.details.field).toBe("history.current_mA_cm2");
    expect(neg.message).toMatch(/expected: \(0, 100\] mA\/cm2/);
    const vf = errorOf(() => presetParameters("ci", { voids: { peakFraction: 1.2 } }));
    expect(vf.details.field).toBe("voids.peakFraction");
    expect(vf.message).toMatch(/\[0, 1\]/);
    const late = errorOf(() => presetParameters("ci", { ct: { times_h: [0, 3.5] } }));
    expect(late.details.field).toBe("ct.times_h[1]");
    expect(late.message).toMatch(/3\.2/);
    const e = errorOf(() => presetParameters("ci", { ct: { energy_keV: 40 } }));
    expect(e.details.field).toBe("ct.energy_keV");
    expect(e.message).toMatch(/\[8, 30\] keV/);
    expect(errorOf(() => presetParameters("huge")).details.field).toBe("preset");
    expect(errorOf(() => presetParameters("ci", { history: { nosuch: 1 } as never })).details.field).toBe("history.nosuch");
  });
});

describe("twin geometry checks", () => {
  it("refuses a top electrode too thin to absorb the plated Li", async () => {
    const { buildCellModel } = await import("../../src/twin/index.js");
    const p = presetParameters("ci", { geometry: { topLi_um: 8 } });
    expect(() => buildCellModel(p)).toThrow(/geometry\.topLi_um/);
  });
});
