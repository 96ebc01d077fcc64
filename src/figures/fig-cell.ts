/**
 * Figures of the cell's electrochemistry and XAS (Park et al., Chem. Commun. 2023: Fig. 2a, 3a-c, S1c, S2a, S2b,
 * S6, S7b), drawn from a CellResults (src/pipeline/cell-results.ts) and nothing else, so a notebook reading the
 * results file and the headless job draw the same numbers. Every figure function is pure:
 * (results, provenance?) -> Figure. Nyquist plots put -Im Z up with equal scaling on both axes (a semicircle
 * must look like one).
 */
import { formatCurrent, type CellImpedanceResult, type CellResults, type VoltageRun, type XasEdgeResult } from "../pipeline/cell-results.js";
import { axis, baseLayout, SERIES_COLOURS, type Figure, type PlotlyTrace } from "./figure.js";

// ---------------------------------------------------------------------------------------------------------------
// Formatting shared by the annotations (and by the tests that read the numbers back)

const SUPER_MINUS = "\u2212";

/**
 * "5.00 × 10<sup>−4</sup>" (plotly HTML); with err: "(5.001 ± 0.003) × 10<sup>−4</sup>", with enough decimals
 * that the error shows one significant digit (at most 6), so a tiny error is never printed as "± 0.000".
 */
export function sciHtml(x: number, digits = 3, err: number | null = null): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const exp = Math.floor(Math.log10(Math.abs(x)));
  const m = x / 10 ** exp;
  const pow = `10<sup>${exp < 0 ? SUPER_MINUS : ""}${Math.abs(exp)}</sup>`;
  if (err === null || !Number.isFinite(err)) return `${m.toFixed(digits)} × ${pow}`;
  const em = err / 10 ** exp;
  const dec = em > 0 ? Math.min(6, Math.max(digits, -Math.floor(Math.log10(em)))) : digits;
  return `(${m.toFixed(dec)} ± ${em.toFixed(dec)}) × ${pow}`;
}

/** "256.9 ± 2.1" with a fixed number of decimals (error omitted when unknown). */
function pm(x: number, err: number | null, decimals: number): string {
  return err === null ? x.toFixed(decimals) : `${x.toFixed(decimals)} ± ${err.toFixed(decimals)}`;
}

function provenanceOf(results: CellResults, extra: Record<string, string>): Record<string, string> {
  return { ...results.provenance, ...extra, analysis: `${results.format} v${results.version}` };
}

/** Viridis, sampled at t in [0, 1]: a perceptual order for the CT times (early dark, late yellow). */
export function viridis(t: number): string {
  const stops: Array<[number, number, number]> = [
    [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i]!.map((v, k) => Math.round(v + f * (stops[i + 1]![k]! - v)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** -Im Z (the plotted ordinate of a Nyquist plot, capacitive arcs up). */
const negIm = (a: number[]) => a.map((v) => -v + 0);

// ---------------------------------------------------------------------------------------------------------------
// Fig. 2a: the plating curve of the operando cell

/** Fig. 2a: voltage vs time at 0.8 mA/cm2, CT time points as labelled vertical markers, the short annotated. */
export function fig2a(results: CellResults, provenance: Record<string, string> = {}): Figure {
  const g = results.galvanostatic;
  const run = g.operando;
  const s = run.short;
  const vEnd = s.failureIndex >= 0 ? run.voltage_V[s.failureIndex] ?? null : null;
  const data: PlotlyTrace[] = [
    { type: "scatter", mode: "lines", name: pretty(run.label), x: run.time_h, y: run.voltage_V, line: { color: SERIES_COLOURS.data, width: 2 } },
  ];
  const shapes: Array<Record<string, unknown>> = g.ctTimes_h.map((t) => ({
    type: "line", xref: "x", yref: "paper", x0: t, x1: t, y0: 0, y1: 1, line: { color: SERIES_COLOURS.truth, width: 1, dash: "dot" }, layer: "below",
  }));
  const annotations: Array<Record<string, unknown>> = g.ctTimes_h.map((t, i) => ({
    x: t, y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false, text: `${t} h`, font: { size: 10, color: SERIES_COLOURS.truth },
    // 3.0 and 3.2 h sit 0.2 h apart: lift every other label so they do not overlap
    yshift: i % 2 ? 12 : 0,
  }));
  if (s.failed && s.time_h !== null && vEnd !== null) {
    data.push({ type: "scatter", mode: "markers", name: "short circuit", x: [s.time_h], y: [vEnd], marker: { symbol: "x", size: 12, color: SERIES_COLOURS.fit } });
    annotations.push({
      x: s.time_h, y: vEnd, xref: "x", yref: "y", ax: -90, ay: 170, showarrow: true, arrowhead: 2, arrowcolor: SERIES_COLOURS.fit,
      text: `short circuit at ${s.time_h.toFixed(2)} h<br>${s.capacity_mAh_cm2.toFixed(2)} mAh/cm² = ${s.liThickness_um.toFixed(1)} µm Li`,
      font: { color: SERIES_COLOURS.fit }, bgcolor: "rgba(255,255,255,0.85)", align: "left",
    });
  }
  const tMax = Math.max(...run.time_h);
  return {
    id: "fig2a",
    title: `Galvanostatic plating at ${formatCurrent(run.current_mA_cm2)} mA/cm² (operando CT)`,
    caption: `Voltage (V) of the Li/Li3PS4/Li cell vs plating time (h) at ${formatCurrent(run.current_mA_cm2)} mA/cm²; dotted lines: CT time points; ×: the short circuit (${s.reason}).`,
    data,
    layout: baseLayout(`Galvanostatic plating at ${formatCurrent(run.current_mA_cm2)} mA/cm²`, {
      xaxis: axis("Plating time", "h", { range: [0, tMax * 1.06] }),
      yaxis: axis("Voltage", "V"),
      shapes,
      annotations,
      showlegend: false,
      margin: { l: 70, r: 30, t: 80, b: 60 },
    }),
    provenance: provenanceOf(results, provenance),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fig. 3a, 3b: XAS with LCF

function xasFigure(results: CellResults, e: XasEdgeResult, id: "fig3a" | "fig3b", provenance: Record<string, string>): Figure {
  const product = e.product;
  const others = e.lcf.names.filter((n) => n !== product);
  const w = (name: string) => {
    const j = e.lcf.names.indexOf(name);
    return `${name} ${pm(e.lcf.weights[j]!, e.lcf.weightErrors[j] ?? null, 3)}`;
  };
  const data: PlotlyTrace[] = [
    { type: "scatter", mode: "lines", name: "before plating", x: e.before.energy_eV, y: e.before.norm, line: { color: SERIES_COLOURS.theory, width: 1.5 } },
    { type: "scatter", mode: "lines", name: "after plating", x: e.after.energy_eV, y: e.after.norm, line: { color: SERIES_COLOURS.data, width: 2 } },
    { type: "scatter", mode: "lines", name: "LCF fit", x: e.fitEnergy_eV, y: e.fit, line: { color: SERIES_COLOURS.fit, width: 1.5, dash: "dash" } },
    { type: "scatter", mode: "lines", name: `${product} (weighted)`, x: e.fitEnergy_eV, y: e.components[product], line: { color: SERIES_COLOURS.tertiary, width: 1.5, dash: "dot" }, fill: "tozeroy", fillcolor: "rgba(255,127,14,0.12)" },
    ...others.map((n): PlotlyTrace => ({ type: "scatter", mode: "lines", name: `${n} (weighted)`, x: e.fitEnergy_eV, y: e.components[n], line: { color: SERIES_COLOURS.secondary, width: 1.2, dash: "dot" } })),
  ];
  const e0 = e.normalisation.e0_eV;
  const shapes: Array<Record<string, unknown>> = [
    // the LCF window: where the weights were fitted
    { type: "rect", xref: "x", yref: "paper", x0: e0 + e.lcf.window_eV[0], x1: e0 + e.lcf.window_eV[1], y0: 0, y1: 1, fillcolor: "rgba(127,127,127,0.07)", line: { width: 0 }, layer: "below" },
  ];
  const annotations: Array<Record<string, unknown>> = [
    {
      xref: "paper", yref: "paper", x: 0.02, y: 0.97, xanchor: "left", yanchor: "top", showarrow: false, align: "left", bgcolor: "rgba(255,255,255,0.85)",
      text: `LCF of "after plating"<br>E<sub>0</sub> ${e.lcf.window_eV[0]} to +${e.lcf.window_eV[1]} eV<br>${e.lcf.sumToOne ? "weights sum to 1" : "free weights"}:<br>${e.lcf.names.map(w).join("<br>")}<br>R-factor ${e.lcf.rFactor.toExponential(1)}`,
    },
  ];
  if (e.edge === "P") {
    // Fig. 3b: the paper sees the change between 2140 and 2147 eV (Li3P)
    shapes.push({ type: "rect", xref: "x", yref: "paper", x0: 2140, x1: 2147, y0: 0, y1: 1, fillcolor: "rgba(255,127,14,0.10)", line: { width: 0 }, layer: "below" });
    annotations.push({ xref: "x", yref: "paper", x: 2143.5, y: 1, yanchor: "bottom", showarrow: false, text: "2140–2147 eV", font: { size: 11, color: SERIES_COLOURS.tertiary } });
  }
  const title = `${e.edge} K-edge XAS before and after plating`;
  return {
    id,
    title,
    caption: `${e.edge} K-edge spectra normalised to the edge step (Larch pre_edge, E0 = ${e0} eV) vs photon energy (eV) before and after plating, with the LCF of "after" by the Li3PS4 and ${product} references and its weighted components; shaded: the LCF window.`,
    data,
    layout: baseLayout(title, {
      xaxis: axis("Photon energy", "eV", { range: [Math.min(...e.after.energy_eV), Math.max(...e.after.energy_eV)] }),
      yaxis: axis("Normalised absorption", "edge step = 1", { rangemode: "tozero" }),
      shapes,
      annotations,
      legend: { x: 0.99, y: 0.98, xanchor: "right", bgcolor: "rgba(255,255,255,0.85)" },
    }),
    provenance: provenanceOf(results, provenance),
  };
}

/** Fig. 3a: S K-edge, before/after, LCF with Li3PS4 + Li2S. */
export function fig3a(results: CellResults, provenance: Record<string, string> = {}): Figure {
  return xasFigure(results, results.xas.S, "fig3a", provenance);
}

/** Fig. 3b: P K-edge, before/after, LCF with Li3PS4 + Li3P. */
export function fig3b(results: CellResults, provenance: Record<string, string> = {}): Figure {
  return xasFigure(results, results.xas.P, "fig3b", provenance);
}

// ---------------------------------------------------------------------------------------------------------------
// Fig. 3c: R_int and R_ct vs plating time

/** Fig. 3c: R_int (left axis) and R_ct (right axis) vs plating time with 1-sigma error bars from the fit covariance. */
export function fig3c(results: CellResults, provenance: Record<string, string> = {}): Figure {
  const imp = results.impedance;
  const t = imp.map((r) => r.time_h);
  const err = (xs: Array<number | null>) => xs.map((v) => v ?? 0);
  const cInt = SERIES_COLOURS.data;
  const cCt = SERIES_COLOURS.fit;
  const data: PlotlyTrace[] = [
    {
      type: "scatter", mode: "lines+markers", name: "R<sub>int</sub> (interphase, fast arc)", x: t, y: imp.map((r) => r.interphase.R_ohm),
      error_y: { type: "data", array: err(imp.map((r) => r.interphase.R_err_ohm)), visible: true, color: cInt, thickness: 1.5, width: 5 },
      marker: { color: cInt, size: 8, symbol: "circle" }, line: { color: cInt }, yaxis: "y",
    },
    {
      type: "scatter", mode: "lines+markers", name: "R<sub>ct</sub> (charge transfer, slow arc)", x: t, y: imp.map((r) => r.chargeTransfer.R_ohm),
      error_y: { type: "data", array: err(imp.map((r) => r.chargeTransfer.R_err_ohm)), visible: true, color: cCt, thickness: 1.5, width: 5 },
      marker: { color: cCt, size: 8, symbol: "square" }, line: { color: cCt }, yaxis: "y2",
    },
  ];
  const rInt = imp.map((r) => r.interphase.R_ohm);
  const rCt = imp.map((r) => r.chargeTransfer.R_ohm);
  return {
    id: "fig3c",
    title: "Interphase and charge-transfer resistance during plating",
    caption: "R_int (fast arc, ~0.01 µF) and R_ct (slow arc, ~10 µF) in ohm from the fit of R0-p(R1,CPE1)-p(R2,CPE2) to the spectrum at each CT time, vs plating time (h); error bars: 1 sigma from the fit covariance (smaller than the markers where not visible).",
    data,
    layout: baseLayout("Interphase and charge-transfer resistance during plating", {
      xaxis: axis("Plating time", "h", { range: [-0.1, Math.max(...t) + 0.15] }),
      yaxis: axis("R<sub>int</sub>", "Ω", { range: [0, Math.max(...rInt) * 1.15], title: { text: "R<sub>int</sub> (Ω)", font: { color: cInt } }, tickfont: { color: cInt }, mirror: false }),
      yaxis2: axis("R<sub>ct</sub>", "Ω", { range: [0, Math.max(...rCt) * 1.1], title: { text: "R<sub>ct</sub> (Ω)", font: { color: cCt } }, tickfont: { color: cCt }, overlaying: "y", side: "right", mirror: false, tickmode: "auto", showgrid: false }),
      legend: { x: 0.98, y: 0.5, xanchor: "right", bgcolor: "rgba(255,255,255,0.85)" },
      margin: { l: 75, r: 75, t: 60, b: 60 },
    }),
    provenance: provenanceOf(results, provenance),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fig. S1c: blocking-electrode Nyquist plot

/** Fig. S1c: Nyquist plot of the blocking-electrode spectrum with the fit, equal scaling, sigma_ion annotated. */
export function figS1c(results: CellResults, provenance: Record<string, string> = {}): Figure {
  const b = results.blocking;
  const R = b.R_bulk_ohm;
  // The bulk arc of a sulfide pellet lies above the measured band: the plot zooms on the intercept (where
  // sigma_ion is read) and an inset shows the whole electrode spike.
  const xMax = 8 * R;
  const data: PlotlyTrace[] = [
    { type: "scatter", mode: "markers", name: "measured", x: b.re_ohm, y: negIm(b.im_ohm), marker: { color: SERIES_COLOURS.data, size: 6, symbol: "circle-open" } },
    { type: "scatter", mode: "lines", name: `fit ${b.circuit}`, x: b.fit_re_ohm, y: negIm(b.fit_im_ohm), line: { color: SERIES_COLOURS.fit, width: 2 } },
    { type: "scatter", mode: "markers", name: "measured (whole spectrum)", x: b.re_ohm, y: negIm(b.im_ohm), xaxis: "x2", yaxis: "y2", marker: { color: SERIES_COLOURS.data, size: 3 }, showlegend: false },
    { type: "scatter", mode: "lines", name: "fit (whole spectrum)", x: b.fit_re_ohm, y: negIm(b.fit_im_ohm), xaxis: "x2", yaxis: "y2", line: { color: SERIES_COLOURS.fit, width: 1.5 }, showlegend: false },
  ];
  const imMax = Math.max(...negIm(b.im_ohm));
  const sigmaText = `σ<sub>ion</sub> = ${sciHtml(b.sigma_ion_S_cm, 3, b.sigma_ion_err_S_cm)} S/cm`;
  return {
    id: "figS1c",
    title: "Ionic conductivity of Li3PS4 (blocking electrodes)",
    caption: `Nyquist plot (ohm, equal scaling) of the blocking-electrode cell with the fit of ${b.circuit}; sigma_ion = L / (R_bulk A) with L = ${b.thickness_um} µm, A = ${b.area_cm2} cm². Inset: the whole spectrum (3 MHz to 0.1 Hz).`,
    data,
    layout: baseLayout("Ionic conductivity of Li3PS4 (blocking electrodes)", {
      width: 760,
      height: 560,
      xaxis: axis("Z′ = Re Z", "Ω", { range: [0, xMax], domain: [0, 1] }),
      yaxis: axis("−Z″ = −Im Z", "Ω", { scaleanchor: "x", scaleratio: 1, range: [0, xMax * 0.6], constrain: "domain" }),
      xaxis2: axis("Re Z", "Ω", { domain: [0.62, 0.97], anchor: "y2", rangemode: "tozero", constrain: "domain", tickfont: { size: 9 }, title: { text: "Re Z (Ω)", font: { size: 10 } }, exponentformat: "SI", nticks: 4 }),
      yaxis2: axis("−Im Z", "Ω", { domain: [0.3, 0.95], anchor: "x2", scaleanchor: "x2", scaleratio: 1, range: [0, imMax * 1.05], constrain: "domain", tickfont: { size: 9 }, title: { text: "−Im Z (Ω)", font: { size: 10 } }, exponentformat: "SI" }),
      shapes: [{ type: "line", xref: "x", yref: "y", x0: R, x1: R, y0: 0, y1: xMax * 0.6, line: { color: SERIES_COLOURS.truth, width: 1, dash: "dot" } }],
      annotations: [
        {
          xref: "x", yref: "y", x: 2.2 * R, y: xMax * 0.12, xanchor: "left", yanchor: "bottom", showarrow: false, align: "left", bgcolor: "rgba(255,255,255,0.85)",
          text: `R<sub>bulk</sub> = ${pm(R, b.R_bulk_err_ohm, 1)} Ω<br>${sigmaText}<br>L = ${b.thickness_um} µm, A = ${b.area_cm2} cm²`,
        },
        { xref: "x2 domain", yref: "y2 domain", x: 0.5, y: 1, yanchor: "bottom", showarrow: false, text: "whole spectrum", font: { size: 10 } },
      ],
      legend: { x: 0.97, y: 0.03, xanchor: "right", yanchor: "bottom", bgcolor: "rgba(255,255,255,0.85)" },
    }),
    provenance: provenanceOf(results, provenance),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fig. S2a, S2b: screening and operando vs bulk

/** Unit text of the data labels ("mA/cm2") as the figures print it. */
const pretty = (label: string) => label.replace(/cm2\b/g, "cm²");

function runTrace(run: VoltageRun, colour: string, name: string): PlotlyTrace {
  return { type: "scatter", mode: "lines", name: pretty(name), x: run.time_h, y: run.voltage_V, line: { color: colour, width: 2 } };
}

function failureMarker(run: VoltageRun, colour: string): PlotlyTrace | null {
  const s = run.short;
  const v = s.failureIndex >= 0 ? run.voltage_V[s.failureIndex] : null;
  if (!s.failed || s.time_h === null || v === null || v === undefined) return null;
  return { type: "scatter", mode: "markers", name: `${run.label} failure`, x: [s.time_h], y: [v], marker: { symbol: "x", size: 11, color: colour }, showlegend: false };
}

/** Fig. S2a: voltage curves of the operando cell at 0.6, 0.8 and 1.0 mA/cm2 to their failure. */
export function figS2a(results: CellResults, provenance: Record<string, string> = {}): Figure {
  const runs = results.galvanostatic.screening;
  const colours = [SERIES_COLOURS.unet, SERIES_COLOURS.data, SERIES_COLOURS.fit, SERIES_COLOURS.secondary, SERIES_COLOURS.tertiary];
  const data: PlotlyTrace[] = [];
  runs.forEach((r, i) => {
    const c = colours[i % colours.length]!;
    const pol = r.short.medianPolarisation_V;
    data.push(runTrace(r, c, `${formatCurrent(r.current_mA_cm2)} mA/cm²: ${r.short.failed && r.short.time_h !== null ? `fails at ${r.short.time_h.toFixed(2)} h` : "no failure"}, median |V| ${pol === null ? "n/a" : pol.toFixed(2)} V`));
    const m = failureMarker(r, c);
    if (m) data.push(m);
  });
  return {
    id: "figS2a",
    title: "Current-density screening of the operando cell",
    caption: "Voltage (V) vs plating time (h) of the operando cell at each screening current density until the voltage could no longer be measured (×: failure).",
    data,
    layout: baseLayout("Current-density screening of the operando cell", {
      xaxis: axis("Plating time", "h", { rangemode: "tozero" }),
      yaxis: axis("Voltage", "V"),
      legend: { x: 0.98, y: 0.02, xanchor: "right", yanchor: "bottom", bgcolor: "rgba(255,255,255,0.85)" },
    }),
    provenance: provenanceOf(results, provenance),
  };
}

/** Fig. S2b: the operando cell against a bulk-type (10 mm) cell at the same current density, or what exists. */
export function figS2b(results: CellResults, provenance: Record<string, string> = {}): Figure {
  const g = results.galvanostatic;
  const data: PlotlyTrace[] = [runTrace(g.operando, SERIES_COLOURS.data, g.operando.label)];
  const annotations: Array<Record<string, unknown>> = [];
  if (g.bulkCell) data.push(runTrace(g.bulkCell, SERIES_COLOURS.theory, g.bulkCell.label));
  else {
    annotations.push({
      xref: "paper", yref: "paper", x: 0.97, y: 0.06, xanchor: "right", yanchor: "bottom", showarrow: false, align: "right",
      bgcolor: "rgba(255,255,255,0.9)", bordercolor: SERIES_COLOURS.truth, borderpad: 6,
      text: "bulk-type cell (Ø 10 mm): no data in the input<br><span style='font-size:11px'>the twin models the operando cell only</span>",
      font: { color: SERIES_COLOURS.truth },
    });
  }
  return {
    id: "figS2b",
    title: "Operando cell vs bulk-type cell",
    caption: g.bulkCell
      ? `Voltage (V) vs plating time (h) of the operando cell and the bulk-type cell at ${formatCurrent(g.operando.current_mA_cm2)} mA/cm².`
      : `Voltage (V) vs plating time (h) of the operando cell at ${formatCurrent(g.operando.current_mA_cm2)} mA/cm²; ${g.bulkCellNote}.`,
    data,
    layout: baseLayout("Operando cell vs bulk-type cell", {
      xaxis: axis("Plating time", "h", { rangemode: "tozero" }),
      yaxis: axis("Voltage", "V"),
      annotations,
      legend: { x: 0.02, y: 0.98, xanchor: "left", yanchor: "top", bgcolor: "rgba(255,255,255,0.85)" },
      showlegend: true,
    }),
    provenance: provenanceOf(results, provenance),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fig. S6: Nyquist at every CT time and the circuit

/**
 * The circuit R0-p(R_int,CPE_int)-p(R_ct,CPE_ct) as plotly shapes and annotations in paper coordinates inside the
 * box [x0, x1] x [y0, y1] (the strip above the plot).
 */
export function circuitDiagram(x0: number, x1: number, y0: number, y1: number, labels: { r0: string; rInt: string; cInt: string; rCt: string; cCt: string }): { shapes: Array<Record<string, unknown>>; annotations: Array<Record<string, unknown>> } {
  const W = x1 - x0;
  const H = y1 - y0;
  const X = (f: number) => x0 + f * W;
  const Y = (f: number) => y0 + f * H;
  const line = (xa: number, ya: number, xb: number, yb: number): Record<string, unknown> => ({ type: "line", xref: "paper", yref: "paper", x0: X(xa), y0: Y(ya), x1: X(xb), y1: Y(yb), line: { color: "#222", width: 2 } });
  const resistor = (xa: number, xb: number, yc: number): Record<string, unknown> => ({ type: "rect", xref: "paper", yref: "paper", x0: X(xa), x1: X(xb), y0: Y(yc - 0.11), y1: Y(yc + 0.11), line: { color: "#222", width: 2 }, fillcolor: "#fff" });
  const label = (xf: number, yf: number, text: string, yanchor: "bottom" | "top"): Record<string, unknown> => ({ xref: "paper", yref: "paper", x: X(xf), y: Y(yf), text, showarrow: false, yanchor, font: { size: 12 } });
  const shapes: Array<Record<string, unknown>> = [];
  const annotations: Array<Record<string, unknown>> = [];
  const mid = 0.5;
  const top = 0.78;
  const bot = 0.22;
  // series wire and R0
  shapes.push(line(0, mid, 0.1, mid), resistor(0.1, 0.2, mid), line(0.2, mid, 0.3, mid));
  annotations.push(label(0.15, mid + 0.13, labels.r0, "bottom"));
  // one R || CPE block between xa and xb
  const block = (xa: number, xb: number, rName: string, cName: string) => {
    const xc = (xa + xb) / 2;
    shapes.push(line(xa, bot, xa, top), line(xb, bot, xb, top));
    shapes.push(line(xa, top, xc - 0.06, top), resistor(xc - 0.06, xc + 0.06, top), line(xc + 0.06, top, xb, top));
    // CPE: two slanted plates (a capacitor whose plates lean: the constant phase element)
    const g = 0.012;
    shapes.push(line(xa, bot, xc - g, bot), line(xc + g, bot, xb, bot));
    shapes.push(line(xc - g - 0.01, bot - 0.16, xc - g + 0.01, bot + 0.16), line(xc + g - 0.01, bot - 0.16, xc + g + 0.01, bot + 0.16));
    annotations.push(label(xc, top + 0.13, rName, "bottom"), label(xc, bot - 0.2, cName, "top"));
  };
  block(0.3, 0.6, labels.rInt, labels.cInt);
  shapes.push(line(0.6, mid, 0.68, mid));
  block(0.68, 0.98, labels.rCt, labels.cCt);
  shapes.push(line(0.98, mid, 1, mid));
  return { shapes, annotations };
}

/** Fig. S6: Nyquist plots at every CT time with the fitted curves (coloured by time) and the equivalent circuit. */
export function figS6(results: CellResults, provenance: Record<string, string> = {}): Figure {
  const imp = results.impedance;
  const tMax = Math.max(...imp.map((r) => r.time_h), 1e-9);
  const data: PlotlyTrace[] = [];
  imp.forEach((r: CellImpedanceResult) => {
    const c = viridis(r.time_h / tMax);
    data.push({ type: "scatter", mode: "markers", name: `${r.time_h} h`, legendgroup: `t${r.time_h}`, x: r.re_ohm, y: negIm(r.im_ohm), marker: { color: c, size: 5, symbol: "circle-open" } });
    data.push({ type: "scatter", mode: "lines", name: `${r.time_h} h fit`, legendgroup: `t${r.time_h}`, showlegend: false, x: r.fit_re_ohm, y: negIm(r.fit_im_ohm), line: { color: c, width: 1.8 } });
  });
  // The same spectra again in an inset zoomed on the fast (interphase) arc, which is small next to R_ct.
  imp.forEach((r: CellImpedanceResult) => {
    const c = viridis(r.time_h / tMax);
    data.push({ type: "scatter", mode: "markers", name: `${r.time_h} h (zoom)`, legendgroup: `t${r.time_h}`, showlegend: false, x: r.re_ohm, y: negIm(r.im_ohm), xaxis: "x2", yaxis: "y2", marker: { color: c, size: 4, symbol: "circle-open" } });
    data.push({ type: "scatter", mode: "lines", name: `${r.time_h} h fit (zoom)`, legendgroup: `t${r.time_h}`, showlegend: false, x: r.fit_re_ohm, y: negIm(r.fit_im_ohm), xaxis: "x2", yaxis: "y2", line: { color: c, width: 1.2 } });
  });
  const reAll = imp.flatMap((r) => r.re_ohm);
  const xLo = Math.max(0, Math.min(...reAll) - 0.05 * (Math.max(...reAll) - Math.min(...reAll)));
  const xHi = Math.max(...reAll) * 1.02;
  // Equal scaling with explicit ranges: the y span follows from the pixel size of the plot area, so the empty
  // upper part of the plot can hold the zoom on the fast arc.
  const width = 840;
  const height = 720;
  const margin = { l: 70, r: 120, t: 50, b: 60 };
  const plotTop = 0.8;
  const wPx = width - margin.l - margin.r;
  const hPx = (height - margin.t - margin.b) * plotTop;
  const ySpan = ((xHi - xLo) * hPx) / wPx;
  const fastEnd = Math.max(...imp.map((r) => r.R0_ohm + r.interphase.R_ohm));
  const fastStart = Math.min(...imp.map((r) => r.R0_ohm));
  const zx: [number, number] = [fastStart - 0.08 * (fastEnd - fastStart), fastEnd + 0.25 * (fastEnd - fastStart)];
  const insetDom = { x: [0.42, 0.99] as [number, number], y: [0.54 * plotTop, 0.98 * plotTop] as [number, number] };
  const zySpan = ((zx[1] - zx[0]) * (insetDom.y[1] - insetDom.y[0]) * (height - margin.t - margin.b)) / ((insetDom.x[1] - insetDom.x[0]) * wPx);
  const diagram = circuitDiagram(0.1, 0.9, 0.85, 0.99, {
    r0: "R<sub>0</sub> (bulk)",
    rInt: "R<sub>int</sub>",
    cInt: "CPE<sub>int</sub> (~0.01 µF)",
    rCt: "R<sub>ct</sub>",
    cCt: "CPE<sub>ct</sub> (~10 µF)",
  });
  const circuit = imp[0]?.circuit ?? "";
  return {
    id: "figS6",
    title: "Impedance at each CT time",
    caption: `Nyquist plots (ohm, equal scaling, -Im Z up) of the operando cell at each CT time (h, colour) with the fitted ${circuit} (lines); inset: zoom on the fast (interphase) arc; above: the circuit (R_int: fast arc, R_ct: slow arc).`,
    data,
    layout: baseLayout("Impedance at each CT time", {
      width,
      height,
      xaxis: axis("Z′ = Re Z", "Ω", { range: [xLo, xHi], domain: [0, 1] }),
      yaxis: axis("−Z″ = −Im Z", "Ω", { scaleanchor: "x", scaleratio: 1, range: [-0.03 * ySpan, 0.97 * ySpan], domain: [0, plotTop] }),
      xaxis2: axis("Re Z", "Ω", { domain: insetDom.x, anchor: "y2", range: zx, tickfont: { size: 9 }, title: { text: "Re Z (Ω)", font: { size: 10 } } }),
      yaxis2: axis("−Im Z", "Ω", { domain: insetDom.y, anchor: "x2", range: [-0.05 * zySpan, 0.95 * zySpan], scaleanchor: "x2", scaleratio: 1, tickfont: { size: 9 }, title: { text: "−Im Z (Ω)", font: { size: 10 } } }),
      shapes: diagram.shapes,
      annotations: [
        ...diagram.annotations,
        { xref: "x2 domain", yref: "y2 domain", x: 0.02, y: 0.98, xanchor: "left", yanchor: "top", showarrow: false, text: "fast arc (R<sub>int</sub>)", font: { size: 10 } },
      ],
      legend: { title: { text: "plating time" }, x: 1.02, y: plotTop, xanchor: "left", yanchor: "top" },
      margin,
    }),
    provenance: provenanceOf(results, provenance),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fig. S7b: DC polarisation

/** Fig. S7b: DC polarisation current vs time (log current), the steady window and sigma_e. */
export function figS7b(results: CellResults, provenance: Record<string, string> = {}): Figure {
  const d = results.dcPolarisation;
  const [w0, w1] = d.steadyWindow_h;
  const sigmaText = `σ<sub>e</sub> = ${sciHtml(d.sigma_e_S_cm, 3, d.sigma_e_err_S_cm)} S/cm`;
  const data: PlotlyTrace[] = [
    { type: "scatter", mode: "lines", name: "current", x: d.time_h, y: d.current_A, line: { color: SERIES_COLOURS.data, width: 1.5 } },
    { type: "scatter", mode: "lines", name: "steady (electronic) current", x: [w0, w1], y: [d.steadyCurrent_A, d.steadyCurrent_A], line: { color: SERIES_COLOURS.fit, width: 3 } },
  ];
  return {
    id: "figS7b",
    title: "Electronic conductivity of Li3PS4 (DC polarisation)",
    caption: `Current (A, log scale) vs time (h) at ${d.voltage_V} V across ion-blocking electrodes; the ionic current decays to the electronic one, averaged over the shaded window: sigma_e = I_ss L / (V A), L = ${d.thickness_um} µm, A = ${d.area_cm2} cm².`,
    data,
    layout: baseLayout("Electronic conductivity of Li3PS4 (DC polarisation)", {
      xaxis: axis("Time", "h", { rangemode: "tozero" }),
      yaxis: axis("Current", "A", { type: "log", exponentformat: "power" }),
      shapes: [{ type: "rect", xref: "x", yref: "paper", x0: w0, x1: w1, y0: 0, y1: 1, fillcolor: "rgba(214,39,40,0.08)", line: { width: 0 }, layer: "below" }],
      annotations: [
        {
          xref: "paper", yref: "paper", x: 0.97, y: 0.95, xanchor: "right", yanchor: "top", showarrow: false, align: "right", bgcolor: "rgba(255,255,255,0.85)",
          text: `I<sub>ss</sub> = ${sciHtml(d.steadyCurrent_A, 3, d.steadyCurrent_err_A)} A at ${d.voltage_V} V<br>${sigmaText}<br>drift over window ${(100 * d.relativeDrift).toFixed(1)} %${d.steady ? "" : " (not steady)"}`,
        },
      ],
      showlegend: true,
      legend: { x: 0.97, y: 0.55, xanchor: "right", bgcolor: "rgba(255,255,255,0.85)" },
    }),
    provenance: provenanceOf(results, provenance),
  };
}

/** Every figure of this module, in the paper's order. */
export function cellFigures(results: CellResults, provenance: Record<string, string> = {}): Figure[] {
  return [fig2a, fig3a, fig3b, fig3c, figS1c, figS2a, figS2b, figS6, figS7b].map((f) => f(results, provenance));
}
