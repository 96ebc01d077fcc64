import { describe, expect, it } from "vitest";
import {
  cumulativeCapacity,
  detectShortCircuit,
  galvanostaticFromTable,
  parseMpt,
  polarisationAt,
  screeningSummary,
  type GalvanostaticRecord,
} from "../../src/electrochem/index.js";
import { gaussian, LI_UM_PER_MAH_CM2, seededRandom } from "../../src/numerics/index.js";
import { ParameterError } from "../../src/util/errors.js";

/** Park et al. Fig. 2a: 0.8 mA/cm2, polarisation easing from ~0.12 V, short after 3.2 h. */
function run(kind: "collapse" | "nan" | "stop" | "none", j = 0.8, tShort_h = 3.2, seed = 1): GalvanostaticRecord {
  const rand = seededRandom(seed);
  const dt = 10;
  const tEnd = kind === "stop" ? tShort_h * 3600 : 4 * 3600;
  const t: number[] = [];
  const v: number[] = [];
  for (let ti = 0; ti <= tEnd; ti += dt) {
    t.push(ti);
    const h = ti / 3600;
    let volt = 0.15 * j * (1 - 0.1 * h) + 0.002 * gaussian(rand);
    if (h >= tShort_h && kind === "collapse") volt = 0.001 + 0.0005 * gaussian(rand);
    if (h >= tShort_h && kind === "nan") volt = NaN;
    v.push(volt);
  }
  return { time_s: t, voltage_V: v, current_mA_cm2: j, source: `${kind}-${j}` };
}

describe("short-circuit detection", () => {
  it.each(["collapse", "nan"] as const)("finds the %s short at 3.2 h with 2.56 mAh/cm2 and 12.4 um of Li", (kind) => {
    const r = detectShortCircuit(run(kind));
    expect(r.failed).toBe(true);
    expect(r.mode).toBe(kind === "collapse" ? "voltage-collapse" : "loss-of-signal");
    expect(Math.abs(r.failureTime_h - 3.2)).toBeLessThan(10 / 3600 + 1e-9);
    expect(Math.abs(r.capacity_mAh_cm2 - 2.56)).toBeLessThan(0.8 * (10 / 3600) + 1e-9);
    expect(r.liThickness_um).toBeCloseTo(r.capacity_mAh_cm2 * 4.85, 1);
    expect(r.liThickness_um).toBeGreaterThan(12.3);
    expect(r.liThickness_um).toBeLessThan(12.5);
  });

  it("a record that stops before its planned duration is a loss of signal", () => {
    const r = detectShortCircuit(run("stop"), { plannedDuration_s: 4 * 3600 });
    expect(r.mode).toBe("loss-of-signal");
    expect(Math.abs(r.failureTime_h - 3.2)).toBeLessThan(10 / 3600 + 1e-9);
  });

  it("a healthy cell with gradually easing polarisation does not fail", () => {
    const r = detectShortCircuit(run("none"));
    expect(r.failed).toBe(false);
    expect(r.capacity_mAh_cm2).toBeCloseTo(0.8 * 4, 9);
    // median |V| over 0..4 h of 0.12 (1 - 0.1 h): 0.12 x 0.8 at 2 h
    expect(r.medianPolarisation_V).toBeCloseTo(0.12 * 0.8, 2);
  });

  it("a data gap is a loss of signal at its start", () => {
    const rec = run("none");
    const t = Array.from(rec.time_s);
    const k = t.findIndex((x) => x >= 2 * 3600);
    for (let i = k; i < t.length; i++) t[i] = (t[i] ?? 0) + 3600;
    const r = detectShortCircuit({ ...rec, time_s: t });
    expect(r.mode).toBe("loss-of-signal");
    expect(r.failureTime_s).toBe(t[k - 1]);
  });

  it("brief dips shorter than minDuration_s are not a short", () => {
    const rec = run("none");
    const v = Array.from(rec.voltage_V);
    for (let i = 500; i < 503; i++) v[i] = 0.0;
    expect(detectShortCircuit({ ...rec, voltage_V: v }).failed).toBe(false);
    expect(detectShortCircuit({ ...rec, voltage_V: v }, { minDuration_s: 5 }).failed).toBe(true);
  });

  it("polarisation at CT times is the local median |V|, NaN after the short", () => {
    const p = polarisationAt(run("nan"), [0.5, 1.5, 3.5], 120);
    // 25 samples of 2 mV noise: the median is good to ~0.5 mV (1 sigma)
    expect(Math.abs(p[0]! - 0.12 * (1 - 0.05))).toBeLessThan(0.0015);
    expect(Math.abs(p[1]! - 0.12 * (1 - 0.15))).toBeLessThan(0.0015);
    expect(p[2]).toBeNaN();
  });

  it("capacity integrates a varying current", () => {
    const q = cumulativeCapacity({ time_s: [0, 1800, 3600], voltage_V: [0.1, 0.1, 0.1], current_mA_cm2: [0.2, 0.4, 0.6] });
    expect(q[2]).toBeCloseTo(0.5 * (0.3 + 0.5) * 1, 12);
    expect(LI_UM_PER_MAH_CM2).toBeCloseTo(4.85, 2);
  });

  it("rejects non-increasing time naming the sample", () => {
    expect(() => detectShortCircuit({ time_s: [0, 10, 10], voltage_V: [1, 1, 1], current_mA_cm2: 1 })).toThrow(ParameterError);
    expect(() => detectShortCircuit({ time_s: [0, 10, 10], voltage_V: [1, 1, 1], current_mA_cm2: 1 })).toThrow(/sample 2/);
  });
});

describe("screening summary", () => {
  it("orders runs by current density and finds the critical current density", () => {
    const s = screeningSummary([
      { ...run("collapse", 1.0, 1.5, 2), label: "1.0" },
      { ...run("none", 0.2, 9, 3), label: "0.2" },
      { ...run("collapse", 0.8, 3.2, 4), label: "0.8" },
      { ...run("none", 0.5, 9, 5), label: "0.5" },
    ]);
    expect(s.rows.map((r) => r.label)).toEqual(["0.2", "0.5", "0.8", "1.0"]);
    expect(s.criticalCurrentDensity_mA_cm2).toBe(0.8);
    expect(s.highestSurvived_mA_cm2).toBe(0.5);
    expect(s.rows[3]!.capacity_mAh_cm2).toBeCloseTo(1.5, 2);
    // areal resistance = |V| / j = 0.15 (1 - 0.1 h) ohm cm2 x 1000 at the median time
    expect(s.rows[1]!.arealResistance_ohm_cm2).toBeGreaterThan(100);
    expect(s.rows[1]!.arealResistance_ohm_cm2).toBeLessThan(150);
  });
});

describe("from a cycler file", () => {
  it("an EC-Lab galvanostatic export with decimal commas gives the same failure", () => {
    const rec = run("collapse");
    const area = 0.0314;
    const lines = ["EC-Lab ASCII FILE", "Nb header lines : 4", "Galvanostatic Cycling with Potential Limitation", "time/s\tEwe/V\t<I>/mA\tcycle number"];
    for (let i = 0; i < rec.time_s.length; i++) {
      const cells = [rec.time_s[i]!, rec.voltage_V[i]!, 0.8 * area, 0].map((x) => x.toExponential(7).replace(".", ","));
      lines.push(cells.join("\t"));
    }
    const t = parseMpt(Buffer.from(lines.join("\r\n"), "latin1"), "gcpl.mpt");
    const r = detectShortCircuit(galvanostaticFromTable(t, area));
    expect(r.mode).toBe("voltage-collapse");
    expect(Math.abs(r.failureTime_h - 3.2)).toBeLessThan(10 / 3600 + 1e-9);
    expect(Math.abs(r.capacity_mAh_cm2 - 2.56)).toBeLessThan(0.01);
    expect(() => galvanostaticFromTable({ ...t, columns: { time_s: t.columns.time_s! } }, area)).toThrow(/gcpl\.mpt.*Ewe_V/);
  });
});
