/**
 * analyseCell on a generated twin dataset (the ci geometry with every CT time of the default protocol, written
 * and read back through the real files) must give back the twin's true values: the manifest's circuit values,
 * conductivities, decomposition fraction and short time, and the closed-form short times of the screening.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tableRows } from "../../src/analysis/table.js";
import {
  analyseCell,
  analyseXasEdge,
  assertJsonSafe,
  cellResultsFromJson,
  type CellResults,
} from "../../src/pipeline/cell-results.js";
import { generateTwin, loadTwinDataset, presetParameters, type TwinDataset } from "../../src/twin/index.js";
import { FileFormatError, ParameterError } from "../../src/util/errors.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-cell-");
let ds: TwinDataset;
let r: CellResults;

/** A deep copy to corrupt without touching the shared dataset. */
const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

beforeAll(async () => {
  // ci geometry (seconds) but the default protocol's CT times (every 0.5 h to the short): the R_ct break at
  // 1.0 h needs them.
  const p = presetParameters("ci", { ct: { times_h: [] } });
  const path = join(dir, "cell.ome.zarr");
  await generateTwin(p, path, { progress: false });
  ds = loadTwinDataset(path);
  r = analyseCell(ds.electrochem, ds.xas, { provenance: { electrochem: "sha256:abc", xas: "sha256:def" } });
}, 120_000);

describe("analyseCell: recovered vs the twin's truth", () => {
  it("R_int and R_ct at every CT time within 4 sigma of the truth (>= 80 % within 2 sigma), never swapped", () => {
    // The spectra carry 0.3 % Gaussian noise of |Z| per point, so the covariance errors are the right yardstick:
    // 4 sigma bounds every value (a false alarm rate of 6e-5 per value), and a calibrated error must also put
    // most values inside 2 sigma.
    expect(r.impedance.map((x) => x.time_h)).toEqual(ds.manifest.times_h);
    let inside = 0;
    let total = 0;
    r.impedance.forEach((x, i) => {
      const truth = ds.manifest.timePoints[i]!.circuit;
      for (const [got, err, want] of [
        [x.interphase.R_ohm, x.interphase.R_err_ohm, truth.R_int_ohm],
        [x.chargeTransfer.R_ohm, x.chargeTransfer.R_err_ohm, truth.R_ct_ohm],
        [x.R0_ohm, x.R0_err_ohm, truth.R_bulk_ohm],
      ] as const) {
        expect(err).not.toBeNull();
        expect(Math.abs(got - want)).toBeLessThan(4 * err!);
        total++;
        if (Math.abs(got - want) <= 2 * err!) inside++;
      }
      // the fast arc is the interphase: its time constant is shorter than the charge transfer's
      expect(x.interphase.tau_s).toBeLessThan(x.chargeTransfer.tau_s);
    });
    expect(inside / total).toBeGreaterThanOrEqual(0.8);
  });

  it("effective capacitances of both arcs: within 4 sigma and 5 % of the truth (0.01 uF and 10 uF)", () => {
    r.impedance.forEach((x, i) => {
      const truth = ds.manifest.timePoints[i]!.circuit;
      for (const [arc, want] of [[x.interphase, truth.C_int_F], [x.chargeTransfer, truth.C_ct_F]] as const) {
        expect(arc.C_eff_err_F).not.toBeNull();
        expect(Math.abs(arc.C_eff_F - want)).toBeLessThan(4 * arc.C_eff_err_F! + 1e-3 * want);
        expect(Math.abs(arc.C_eff_F - want) / want).toBeLessThan(0.05);
      }
    });
  });

  it("every cell spectrum passes Lin-KK and the fits have no warnings", () => {
    for (const x of r.impedance) {
      expect(x.linKK.valid).toBe(true);
      expect(x.linKK.maxAbsResidual).toBeLessThan(0.02);
      expect(x.warnings).toEqual([]);
      expect(x.fit_re_ohm).toHaveLength(x.freq_Hz.length);
    }
  });

  it("sigma_ion within 4 sigma of the truth, sigma_e within 4 sigma + 0.1 %", () => {
    const ion = ds.manifest.electrochemistry.ionicConductivity_S_cm;
    expect(Math.abs(r.blocking.sigma_ion_S_cm - ion)).toBeLessThan(4 * r.blocking.sigma_ion_err_S_cm! + 1e-3 * ion);
    // the blocking pellet's R0 is in the manifest too (closed form L / (sigma A))
    expect(Math.abs(r.blocking.R_bulk_ohm - ds.manifest.electrochemistry.blockingR0_ohm)).toBeLessThan(4 * r.blocking.R_bulk_err_ohm!);
    const el = ds.manifest.electrochemistry.electronicConductivity_S_cm;
    // 0.1 %: what remains of the ionic decay (exp(-t/tau)) in the window is < 1e-6 of the electronic current
    expect(Math.abs(r.dcPolarisation.sigma_e_S_cm - el)).toBeLessThan(4 * r.dcPolarisation.sigma_e_err_S_cm! + 1e-3 * el);
    expect(r.dcPolarisation.steady).toBe(true);
  });

  it("XAS: the product weights after plating within 0.03 of the true decomposition fraction, ~0 before", () => {
    // Tolerance 0.03 (10 % of 0.31): the 50 eV scans leave only ~15 eV of post-edge, so the measured edge steps of
    // Li3PS4 and the products differ by up to 7 % although their true per-atom steps are equal, and the LCF
    // weights inherit that bias (a few 1-sigma errors of 0.002). The before spectra contain no product.
    const x = ds.manifest.xas.decompositionFraction;
    expect(x).toBeGreaterThan(0.1);
    for (const e of [r.xas.S, r.xas.P]) {
      expect(Math.abs(e.productWeight - x)).toBeLessThan(0.03);
      expect(e.productWeight_err).not.toBeNull();
      expect(e.productWeight_err!).toBeLessThan(0.01);
      const jb = e.lcfBefore.names.indexOf(e.product);
      expect(e.lcfBefore.weights[jb]!).toBeLessThan(0.02);
      expect(e.lcf.rFactor).toBeLessThan(1e-3);
      // fitted curve = sum of the weighted components on the data grid
      e.fit.forEach((v, i) => expect(v).toBeCloseTo(Object.values(e.components).reduce((s, c) => s + c[i]!, 0), 12));
    }
    expect(r.xas.S.product).toBe("Li2S");
    expect(r.xas.P.product).toBe("Li3P");
  });

  it("the short: time within one sample of the truth, capacity j t, Faraday thickness 4.85 um per mAh/cm2", () => {
    const s = r.galvanostatic.operando.short;
    const dt_h = ds.manifest.parameters.cell.voltageStep_s / 3600;
    expect(s.failed).toBe(true);
    expect(Math.abs(s.time_h! - ds.manifest.short_h)).toBeLessThanOrEqual(dt_h + 1e-9);
    const j = ds.manifest.parameters.history.current_mA_cm2;
    expect(s.capacity_mAh_cm2).toBeCloseTo(j * ds.manifest.short_h, 6);
    expect(Math.abs(s.liThickness_um / (s.capacity_mAh_cm2 * ds.manifest.constants.li_um_per_mAh_cm2) - 1)).toBeLessThan(1e-3);
  });

  it("screening: failure times follow the twin's closed form t_ref (j_ref / j)^n; slowest at 0.6, largest polarisation at 1.0", () => {
    const h = ds.manifest.parameters.history;
    const runs = r.galvanostatic.screening;
    expect(runs.map((x) => x.current_mA_cm2)).toEqual([0.6, 0.8, 1.0]);
    for (const x of runs) {
      const want = h.shortTimeRef_h * Math.pow(h.currentRef_mA_cm2 / x.current_mA_cm2, h.shortTimeExponent);
      expect(Math.abs(x.short.time_h! - want)).toBeLessThanOrEqual(ds.manifest.parameters.cell.voltageStep_s / 3600 + 1e-9);
    }
    expect(runs[0]!.short.time_h!).toBeGreaterThan(runs[1]!.short.time_h!);
    expect(runs[2]!.short.medianPolarisation_V!).toBeGreaterThan(3 * runs[1]!.short.medianPolarisation_V!);
    expect(r.galvanostatic.criticalCurrentDensity_mA_cm2).toBe(0.6);
    expect(r.galvanostatic.bulkCell).toBeNull();
    expect(r.notes.some((n) => n.includes("bulk-type"))).toBe(true);
  });

  it("Table S1 has one row per CT time with unit-bearing columns equal to the fits", () => {
    const t = r.tableS1;
    expect(t.name).toBe("tableS1");
    expect(tableRows(t)).toBe(ds.manifest.times_h.length);
    expect(t.columns.R_int_ohm).toEqual(r.impedance.map((x) => x.interphase.R_ohm));
    expect(t.columns.R_ct_err_ohm).toEqual(r.impedance.map((x) => x.chargeTransfer.R_err_ohm));
    for (const k of ["time_h", "R0_ohm", "R_int_ohm", "R_int_err_ohm", "C_int_F", "R_ct_ohm", "C_ct_F", "C_ct_err_F"]) expect(t.columns).toHaveProperty(k);
  });
});

describe("CellResults as a file", () => {
  it("survives a JSON round trip unchanged and carries the provenance", () => {
    const back = JSON.parse(JSON.stringify(r)) as unknown;
    expect(back).toEqual(r);
    expect(cellResultsFromJson(back)).toEqual(r);
    expect(() => assertJsonSafe(r)).not.toThrow();
    expect(r.provenance).toEqual({ electrochem: "sha256:abc", xas: "sha256:def" });
  });

  it("a file of another kind is refused by name", () => {
    expect(() => cellResultsFromJson({ format: "other", version: 1 })).toThrow(FileFormatError);
    expect(() => cellResultsFromJson({ ...copy(r), version: 2 })).toThrow(/version/);
  });

  it("assertJsonSafe names the path of a NaN", () => {
    expect(() => assertJsonSafe({ a: [1, { b: NaN }] })).toThrow(/\$\.a\[1\]\.b/);
  });
});

describe("bad input gives named errors", () => {
  it("impedance arrays of different lengths", () => {
    const e = copy(ds.electrochem);
    e.impedance[2]!.re_ohm.pop();
    expect(() => analyseCell(e, ds.xas)).toThrow(FileFormatError);
    expect(() => analyseCell(e, ds.xas)).toThrow(/impedance\[2\].*re_ohm/);
  });

  it("NaN (null in JSON) in an impedance spectrum", () => {
    const e = copy(ds.electrochem);
    (e.impedance[1]!.im_ohm as Array<number | null>)[5] = null;
    expect(() => analyseCell(e, ds.xas)).toThrow(/non-finite.*impedance\[1\].*index 5.*im_ohm|impedance\[1\].*index 5/);
    const e2 = copy(ds.electrochem);
    e2.impedance[1]!.im_ohm[5] = NaN;
    expect(() => analyseCell(e2, ds.xas)).toThrow(FileFormatError);
  });

  it("voltage and time of different lengths; a spectrum without a time", () => {
    const e = copy(ds.electrochem);
    e.voltage.voltage_V.pop();
    expect(() => analyseCell(e, ds.xas)).toThrow(/electrochem\.voltage.*differ in length|differ in length.*electrochem\.voltage/);
    const e2 = copy(ds.electrochem);
    e2.impedance[0]!.time_h = null;
    expect(() => analyseCell(e2, ds.xas)).toThrow(/time_h/);
  });

  it("XAS: NaN in mu, energies out of order, a missing reference", () => {
    const x = copy(ds.xas);
    (x.measured[1]!.mu as Array<number | null>)[10] = null;
    expect(() => analyseCell(ds.electrochem, x)).toThrow(/xas\.measured\[1\].*index 10/);
    const y = copy(ds.xas);
    const E = y.references[0]!.E_eV;
    [E[3], E[4]] = [E[4]!, E[3]!];
    expect(() => analyseXasEdge(y, "S")).toThrow(/increase strictly/);
    const z = copy(ds.xas);
    z.references = z.references.filter((s) => !("Li3P" in s.fractions));
    expect(() => analyseXasEdge(z, "P")).toThrow(/Li3P/);
    expect(() => analyseXasEdge(z, "S")).not.toThrow();
  });

  it("bad options: non-positive pellet geometry, zero fit starts", () => {
    expect(() => analyseCell(ds.electrochem, ds.xas, { blockingGeometry: { thickness_um: -1, area_cm2: 1 } })).toThrow(ParameterError);
    expect(() => analyseCell(ds.electrochem, ds.xas, { fitStarts: 0 })).toThrow(/fitStarts/);
  });

  it("no impedance spectra", () => {
    const e = copy(ds.electrochem);
    e.impedance = [];
    expect(() => analyseCell(e, ds.xas)).toThrow(/no impedance spectra/);
  });
});
