/**
 * The cell figures and report rows: every figure has finite data and unit-bearing axis titles, Nyquist plots use
 * equal scaling with -Im Z up, and the numbers printed in annotations are the results' numbers. Report verdicts
 * follow their stated rules.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  cellFigures,
  fig2a,
  fig3a,
  fig3b,
  fig3c,
  figS1c,
  figS2a,
  figS2b,
  figS6,
  figS7b,
  sciHtml,
} from "../../src/figures/fig-cell.js";
import { FIGURE_IDS, type Figure, type PlotlyTrace } from "../../src/figures/figure.js";
import { cellReportRows, spearman } from "../../src/figures/report-cell.js";
import { analyseCell, type CellResults } from "../../src/pipeline/cell-results.js";
import { generateTwin, loadTwinDataset, presetParameters, type TwinDataset } from "../../src/twin/index.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-figcell-");
let ds: TwinDataset;
let r: CellResults;
const PROV = { electrochem: "sha256:0123", xas: "sha256:4567" };

beforeAll(async () => {
  const p = presetParameters("ci", { ct: { times_h: [] } });
  const path = join(dir, "cell.ome.zarr");
  await generateTwin(p, path, { progress: false });
  ds = loadTwinDataset(path);
  r = analyseCell(ds.electrochem, ds.xas, { provenance: { manifest: "sha256:89ab" } });
}, 120_000);

type Ax = { title?: { text?: string }; scaleanchor?: string; scaleratio?: number };
const layoutAxis = (f: Figure, name: string) => f.layout[name] as Ax | undefined;
const annotationTexts = (f: Figure) => ((f.layout.annotations as Array<{ text?: string }> | undefined) ?? []).map((a) => a.text ?? "");

/** Reads "(m ± e) × 10<sup>−k</sup>" or "m × 10<sup>−k</sup>" back into numbers. */
function readSci(text: string): { value: number; err: number | null; decimals: number } {
  const m = /\(?(-?[\d.]+)(?: ± ([\d.]+))?\)? × 10<sup>([−-]?)(\d+)<\/sup>/.exec(text);
  if (!m) throw new Error(`no number in ${text}`);
  const e = (m[3] ? -1 : 1) * Number(m[4]);
  return { value: Number(m[1]) * 10 ** e, err: m[2] ? Number(m[2]) * 10 ** e : null, decimals: m[1]!.split(".")[1]?.length ?? 0 };
}

describe("cell figures", () => {
  it("each figure: a known id, traces with finite data, axis titles with units, the caller's provenance", () => {
    const figs = cellFigures(r, PROV);
    expect(figs.map((f) => f.id)).toEqual(["fig2a", "fig3a", "fig3b", "fig3c", "figS1c", "figS2a", "figS2b", "figS6", "figS7b"]);
    for (const f of figs) {
      expect(FIGURE_IDS).toContain(f.id);
      expect(f.title.length).toBeGreaterThan(5);
      expect(f.caption.length).toBeGreaterThan(20);
      expect(f.data.length).toBeGreaterThan(0);
      for (const t of f.data as PlotlyTrace[]) {
        for (const k of ["x", "y"] as const) {
          const a = t[k] as unknown[];
          expect(Array.isArray(a), `${f.id} ${String(t.name)} ${k}`).toBe(true);
          expect(a.length).toBeGreaterThan(0);
          for (const v of a) expect(Number.isFinite(v), `${f.id} ${String(t.name)} ${k}`).toBe(true);
        }
      }
      for (const ax of ["xaxis", "yaxis", "xaxis2", "yaxis2"]) {
        const a = layoutAxis(f, ax);
        if (a) expect(a.title?.text ?? "", `${f.id} ${ax}`).toMatch(/\([^()]+\)$/);
      }
      expect(f.provenance).toMatchObject({ ...PROV, manifest: "sha256:89ab" });
      // the figure is plain JSON (notebooks and the job serialise it)
      expect(JSON.parse(JSON.stringify(f))).toEqual(f);
    }
    expect(layoutAxis(fig2a(r), "xaxis")!.title!.text).toBe("Plating time (h)");
    expect(layoutAxis(fig3a(r), "xaxis")!.title!.text).toBe("Photon energy (eV)");
  });

  it("fig2a: a labelled vertical marker at every CT time and the short's time, capacity and thickness", () => {
    const f = fig2a(r);
    const shapes = f.layout.shapes as Array<{ x0: number; x1: number; yref: string }>;
    expect(shapes.map((s) => s.x0)).toEqual(r.galvanostatic.ctTimes_h);
    const texts = annotationTexts(f);
    for (const t of r.galvanostatic.ctTimes_h) expect(texts).toContain(`${t} h`);
    const s = r.galvanostatic.operando.short;
    const shortText = texts.find((x) => x.includes("short circuit"))!;
    expect(shortText).toContain(`${s.time_h!.toFixed(2)} h`);
    expect(shortText).toContain(`${s.capacity_mAh_cm2.toFixed(2)} mAh/cm²`);
    expect(shortText).toContain(`${s.liThickness_um.toFixed(1)} µm`);
    expect(f.data[0]!.y).toEqual(r.galvanostatic.operando.voltage_V);
  });

  it("fig3a/3b: normalised before/after, the LCF fit and the weighted product component; printed weights are the results'", () => {
    for (const [f, e] of [[fig3a(r), r.xas.S], [fig3b(r), r.xas.P]] as const) {
      const names = f.data.map((t) => String(t.name));
      expect(names).toEqual(expect.arrayContaining(["before plating", "after plating", "LCF fit", `${e.product} (weighted)`]));
      expect(f.data.find((t) => t.name === "LCF fit")!.y).toEqual(e.fit);
      expect(f.data.find((t) => t.name === `${e.product} (weighted)`)!.y).toEqual(e.components[e.product]);
      const text = annotationTexts(f).find((x) => x.includes("LCF"))!;
      e.lcf.names.forEach((n, j) => expect(text).toContain(`${n} ${e.lcf.weights[j]!.toFixed(3)} ± ${e.lcf.weightErrors[j]!.toFixed(3)}`));
    }
  });

  it("fig3c: R_int and R_ct on two axes with their 1-sigma error bars", () => {
    const f = fig3c(r);
    const [a, b] = f.data as Array<PlotlyTrace & { error_y: { array: number[] } }>;
    expect(a!.y).toEqual(r.impedance.map((x) => x.interphase.R_ohm));
    expect(a!.error_y.array).toEqual(r.impedance.map((x) => x.interphase.R_err_ohm));
    expect(b!.y).toEqual(r.impedance.map((x) => x.chargeTransfer.R_ohm));
    expect(b!.error_y.array).toEqual(r.impedance.map((x) => x.chargeTransfer.R_err_ohm));
    expect(b!.yaxis).toBe("y2");
    expect(layoutAxis(f, "yaxis2")!.title!.text).toBe("R<sub>ct</sub> (Ω)");
  });

  it("Nyquist plots (S1c, S6): -Im Z up, equal scaling on both axes, fitted curves at the measured frequencies", () => {
    for (const f of [figS1c(r), figS6(r)]) {
      expect(layoutAxis(f, "yaxis")!.scaleanchor).toBe("x");
      expect(layoutAxis(f, "yaxis")!.scaleratio).toBe(1);
      expect(layoutAxis(f, "yaxis2")!.scaleanchor).toBe("x2");
      expect(layoutAxis(f, "yaxis")!.title!.text).toContain("−Im Z");
    }
    const s1 = figS1c(r);
    expect(s1.data[0]!.y).toEqual(r.blocking.im_ohm.map((v) => -v));
    expect(s1.data[1]!.x).toEqual(r.blocking.fit_re_ohm);
    const s6 = figS6(r);
    expect(s6.data).toHaveLength(4 * r.impedance.length);
    r.impedance.forEach((x, i) => {
      expect(s6.data[2 * i]!.x).toEqual(x.re_ohm);
      expect(s6.data[2 * i + 1]!.y).toEqual(x.fit_im_ohm.map((v) => -v));
    });
    // the circuit diagram: resistor boxes and wires as shapes, element labels as annotations
    const shapes = s6.layout.shapes as Array<{ type: string }>;
    expect(shapes.filter((s) => s.type === "rect")).toHaveLength(3);
    const texts = annotationTexts(s6).join(" ");
    for (const l of ["R<sub>0</sub>", "R<sub>int</sub>", "R<sub>ct</sub>", "CPE<sub>int</sub>", "CPE<sub>ct</sub>"]) expect(texts).toContain(l);
  });

  it("the sigma_ion and sigma_e printed in S1c and S7b are the results' values and errors", () => {
    const ion = readSci(annotationTexts(figS1c(r)).find((x) => x.includes("σ<sub>ion</sub>"))!.split("σ<sub>ion</sub>")[1]!);
    const half = (x: { decimals: number }, v: number) => 0.5 * 10 ** (Math.floor(Math.log10(v)) - x.decimals);
    expect(Math.abs(ion.value - r.blocking.sigma_ion_S_cm)).toBeLessThanOrEqual(half(ion, r.blocking.sigma_ion_S_cm) * 1.0001);
    expect(Math.abs(ion.err! - r.blocking.sigma_ion_err_S_cm!)).toBeLessThanOrEqual(half(ion, r.blocking.sigma_ion_S_cm) * 1.0001);
    const el = readSci(annotationTexts(figS7b(r))[0]!.split("σ<sub>e</sub>")[1]!);
    expect(Math.abs(el.value - r.dcPolarisation.sigma_e_S_cm)).toBeLessThanOrEqual(half(el, r.dcPolarisation.sigma_e_S_cm) * 1.0001);
    expect(el.err).not.toBe(0); // a tiny error gets enough decimals to show
    expect(figS7b(r).data[1]!.y).toEqual([r.dcPolarisation.steadyCurrent_A, r.dcPolarisation.steadyCurrent_A]);
  });

  it("sciHtml: one significant digit of the error, never '± 0.000'", () => {
    expect(sciHtml(5.0007e-4, 3, 2.68e-7)).toBe("(5.001 ± 0.003) × 10<sup>−4</sup>");
    expect(sciHtml(3.19993e-8, 3, 3.4e-12)).toBe("(3.1999 ± 0.0003) × 10<sup>−8</sup>");
    expect(sciHtml(3.2e-8)).toBe("3.200 × 10<sup>−8</sup>");
  });

  it("S2a shows every screening run; S2b says there is no bulk cell, and draws one when given", () => {
    const a = figS2a(r);
    const lines = a.data.filter((t) => t.mode === "lines");
    expect(lines.map((t) => t.x)).toEqual(r.galvanostatic.screening.map((x) => x.time_h));
    const b = figS2b(r);
    expect(b.data).toHaveLength(1);
    expect(annotationTexts(b).join(" ")).toMatch(/no data/);
    const withBulk = analyseCell(ds.electrochem, ds.xas, { bulkCell: { ...ds.electrochem.voltage, label: "bulk-type cell (test copy)" } });
    const b2 = figS2b(withBulk);
    expect(b2.data.map((t) => t.name)).toContain("bulk-type cell (test copy)");
    expect(annotationTexts(b2)).toEqual([]);
  });
});

describe("cell report rows", () => {
  it("with the manifest: every headline the twin covers agrees within its stated rule; S2b is not comparable", () => {
    const rows = cellReportRows(r, ds.manifest);
    const by = (q: string) => rows.find((x) => x.quantity.includes(q))!;
    expect(by("time of the short").verdict).toBe("agrees");
    expect(by("capacity plated").verdict).toBe("agrees");
    expect(by("R_int").verdict).toBe("agrees");
    expect(by("R_ct").verdict).toBe("agrees");
    expect(by("high-frequency").verdict).toBe("agrees");
    expect(by("low-frequency").verdict).toBe("agrees");
    expect(by("ionic conductivity").verdict).toBe("agrees");
    expect(by("electronic conductivity").verdict).toBe("agrees");
    expect(by("S K-edge").paper).toBe("Li2S");
    expect(by("S K-edge").verdict).toBe("agrees");
    expect(by("P K-edge").paper).toBe("Li3P");
    expect(by("P K-edge").verdict).toBe("agrees");
    expect(by("volume expansion").verdict).toBe("agrees");
    expect(by("0.6 mA/cm2").verdict).toBe("agrees");
    expect(by("1.0 mA/cm2").verdict).toBe("agrees");
    expect(by("bulk-type").verdict).toBe("not comparable");
    for (const row of rows) {
      expect(row.reason.length).toBeGreaterThan(10);
      // rows go into markdown tables: a "|" would split a cell
      for (const v of Object.values(row)) expect(v).not.toContain("|");
    }
    // the numbers shown are the results'
    expect(by("ionic conductivity").ours).toContain((r.blocking.sigma_ion_S_cm / 1e-4).toFixed(3));
    expect(by("time of the short").ours).toContain(r.galvanostatic.operando.short.time_h!.toFixed(2));
  });

  it("verdicts follow the data: a rising R_ct or a wrong sigma_ion differs; no manifest, no volume expansion", () => {
    const bad = JSON.parse(JSON.stringify(r)) as CellResults;
    bad.impedance.reverse().forEach((x, i) => (x.time_h = r.impedance[i]!.time_h));
    bad.blocking.sigma_ion_S_cm = 4.0e-4;
    const rows = cellReportRows(bad);
    expect(rows.find((x) => x.quantity.includes("R_ct"))!.verdict).toBe("differs");
    expect(rows.find((x) => x.quantity.includes("R_int"))!.verdict).toBe("differs");
    expect(rows.find((x) => x.quantity.includes("ionic conductivity"))!.verdict).toBe("differs");
    expect(rows.find((x) => x.quantity.includes("volume expansion"))!.verdict).toBe("not comparable");
  });

  it("spearman: +1, -1 and ties", () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // closed form for ties: ranks y = [0.5, 0.5, 2, 3] against [0, 1, 2, 3]
    expect(spearman([1, 2, 3, 4], [5, 5, 6, 7])).toBeCloseTo(4.5 / Math.sqrt(5 * 4.5), 12);
  });
});
