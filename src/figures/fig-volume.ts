/**
 * Figures drawn from the volume quantification tables (analysis.operandoTables): the void profile (Fig. 1b), the
 * deposited Li against Faraday's law (Fig. 2d), the porosity of the layer (Fig. S5) and the mechanism (Fig. 4)
 * drawn from measured positions, not a static picture.
 */
import type { ResultTable } from "../analysis/table.js";
import { axis, baseLayout, CLASS_COLOURS, SERIES_COLOURS, type Figure, type PlotlyTrace } from "./figure.js";
import { fmt, numbers } from "./columns.js";

/** The quantification tables of one label image (U-Net or truth), as the pipeline stores them. */
export interface VolumeTables {
  /** Which labels: "unet" (U-Net segmentation) or "truth" (the twin's ground truth), or a user's label name. */
  source: string;
  voidProfile: ResultTable;
  timeSeries: ResultTable;
  nucleation: ResultTable;
  interfaces: ResultTable;
}

/** The depth bin with the highest void fraction: its bounds (um) and fraction (%). */
export function voidPeak(profile: ResultTable): { lo_um: number; hi_um: number; fraction_pct: number; volume_um3: number } {
  const f = numbers(profile, "void_fraction_pct");
  const lo = numbers(profile, "depth_start_um");
  const hi = numbers(profile, "depth_end_um");
  const v = numbers(profile, "void_volume_um3");
  let best = 0;
  for (let i = 1; i < f.length; i++) if (f[i]! > f[best]!) best = i;
  return { lo_um: lo[best]!, hi_um: hi[best]!, fraction_pct: f[best]!, volume_um3: v[best]! };
}

/** Fig. 1b: void volume % (bars, left) and void volume (line, right) per depth bin from the Li/Li3PS4 interface. */
export function fig1b(t: VolumeTables, provenance: Record<string, string> = {}): Figure {
  const mid = numbers(t.voidProfile, "depth_mid_um");
  const lo = numbers(t.voidProfile, "depth_start_um");
  const hi = numbers(t.voidProfile, "depth_end_um");
  const frac = numbers(t.voidProfile, "void_fraction_pct");
  const vol = numbers(t.voidProfile, "void_volume_um3");
  const peak = voidPeak(t.voidProfile);
  const data: PlotlyTrace[] = [
    {
      type: "bar",
      name: "void volume (% of layer)",
      x: mid,
      y: frac,
      width: hi.map((h, i) => 0.9 * (h - lo[i]!)),
      marker: { color: frac.map((_, i) => (lo[i] === peak.lo_um ? SERIES_COLOURS.fit : "#4a4a4a")) },
      hovertemplate: "%{x} µm: %{y:.3f} %<extra></extra>",
    },
    {
      type: "scatter",
      mode: "lines+markers",
      name: "void volume (µm³)",
      x: mid,
      y: vol,
      yaxis: "y2",
      line: { color: SERIES_COLOURS.data },
      hovertemplate: "%{x} µm: %{y:.3s} µm³<extra></extra>",
    },
  ];
  return {
    id: "fig1b",
    title: "Fig. 1b: voids vs depth in the pristine Li3PS4 layer",
    caption: `Void volume per ${fmt(hi[0]! - lo[0]!)} µm depth bin measured perpendicular to the detected Li/Li3PS4 interface (t = 0 h, ${t.source} labels). Peak ${fmt(peak.fraction_pct)} % at ${fmt(peak.lo_um)}-${fmt(peak.hi_um)} µm.`,
    data,
    layout: baseLayout("Fig. 1b: voids vs depth from the Li/Li3PS4 interface", {
      xaxis: axis("Depth from Li/Li3PS4 interface", "µm"),
      yaxis: axis("Void volume", "% of layer", { rangemode: "tozero" }),
      yaxis2: { ...axis("Void volume", "µm³", { rangemode: "tozero" }), overlaying: "y", side: "right", showgrid: false, mirror: false },
      legend: { x: 0.99, xanchor: "right", y: 0.99 },
      bargap: 0.05,
      annotations: [
        { x: (peak.lo_um + peak.hi_um) / 2, y: peak.fraction_pct, yshift: 10, text: `${fmt(peak.fraction_pct)} % at ${fmt(peak.lo_um)}-${fmt(peak.hi_um)} µm`, showarrow: false, font: { color: SERIES_COLOURS.fit } },
      ],
      margin: { l: 70, r: 80, t: 60, b: 60 },
    }),
    provenance,
  };
}

/** Fig. 2d: theoretical (Faraday) Li volume over the field of view against the deposited Li seen by CT. */
export function fig2d(series: VolumeTables[], provenance: Record<string, string> = {}): Figure {
  const first = series[0];
  if (!first) throw new RangeError("fig2d needs at least one table set");
  const t = numbers(first.timeSeries, "time_h");
  const far = numbers(first.timeSeries, "faraday_volume_fov_um3");
  const data: PlotlyTrace[] = [
    { type: "scatter", mode: "lines+markers", name: "theoretical (Faraday's law)", x: t, y: far, line: { color: SERIES_COLOURS.theory }, marker: { symbol: "square", color: SERIES_COLOURS.theory } },
  ];
  for (const s of series) {
    const colour = s.source === "truth" ? SERIES_COLOURS.truth : SERIES_COLOURS.unet;
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: s.source === "truth" ? "CT, twin ground truth labels" : `CT, ${s.source === "unet" ? "U-Net" : s.source} labels`,
      x: numbers(s.timeSeries, "time_h"),
      y: numbers(s.timeSeries, "deposited_lithium_um3"),
      line: { color: colour, dash: s.source === "truth" ? "dot" : "solid" },
      marker: { color: colour, size: 9 },
      customdata: numbers(s.timeSeries, "deposited_to_faraday_ratio"),
      hovertemplate: "%{x} h: %{y:.3s} µm³ (%{customdata:.0%} of Faraday)<extra></extra>",
    });
  }
  const ratio = numbers(first.timeSeries, "deposited_to_faraday_ratio");
  const last = t.length - 1;
  return {
    id: "fig2d",
    title: "Fig. 2d: deposited Li volume vs Faraday's law",
    caption: `Li deposited inside the Li3PS4 layer from CT (${series.map((s) => s.source).join(", ")} labels) against the volume of all charge passed as dense Li over the field of view; at ${fmt(t[last]!)} h CT/Faraday = ${fmt(ratio[last]!, 2)} (${first.source}).`,
    data,
    layout: baseLayout("Fig. 2d: deposited Li volume vs Faraday's law", {
      xaxis: axis("Plating time", "h", { rangemode: "tozero" }),
      yaxis: axis("Li volume", "µm³", { rangemode: "tozero", exponentformat: "power" }),
      legend: { x: 0.01, y: 0.99 },
    }),
    provenance,
  };
}

/** Fig. S5: porosity of the electrolyte layer over time (the paper shows 0-1 h; later times are greyed). */
export function figS5(series: VolumeTables[], provenance: Record<string, string> = {}, untilH = 1.0): Figure {
  const data: PlotlyTrace[] = [];
  for (const s of series) {
    const t = numbers(s.timeSeries, "time_h");
    const p = numbers(s.timeSeries, "porosity_pct");
    const colour = s.source === "truth" ? SERIES_COLOURS.truth : SERIES_COLOURS.unet;
    const name = s.source === "truth" ? "twin ground truth labels" : s.source === "unet" ? "U-Net labels" : s.source;
    const early = t.map((x) => x <= untilH + 1e-9);
    data.push({ type: "scatter", mode: "lines+markers", name: `${name}, 0-${fmt(untilH)} h`, x: t.filter((_, i) => early[i]), y: p.filter((_, i) => early[i]), line: { color: colour }, marker: { color: colour, size: 9 } });
    data.push({ type: "scatter", mode: "lines+markers", name: `${name}, later`, x: t, y: p, line: { color: colour, dash: "dot", width: 1 }, marker: { color: colour, size: 5, opacity: 0.4 }, opacity: 0.5, showlegend: false });
  }
  return {
    id: "figS5",
    title: "Fig. S5: porosity of the Li3PS4 layer",
    caption: `Void volume as % of the electrolyte layer (between the two detected interfaces) at each CT time point; 0-${fmt(untilH)} h as in the paper, later points dotted.`,
    data,
    layout: baseLayout("Fig. S5: porosity of the Li3PS4 layer", {
      xaxis: axis("Plating time", "h", { rangemode: "tozero" }),
      yaxis: axis("Porosity", "%"),
      legend: { x: 0.99, xanchor: "right", y: 0.99 },
    }),
    provenance,
  };
}

/** Measured quantities the mechanism figure draws (each with where it came from). */
export interface MechanismInputs {
  tables: VolumeTables;
  /** Field of view along x, um (for the lateral axis). */
  width_um: number;
  /** Electrolyte thickness between the electrodes, um. */
  layer_um: number;
  /** Short-circuit time from the voltage curve, h (null: no short). */
  short_h: number | null;
  /** Electronic conductivity from DC polarisation, S/cm (null: not measured). */
  electronicConductivity_S_cm: number | null;
  /** Li3P and Li2S weights of the after-cycling XAS fits (null: not measured). */
  xasProducts: { Li3P: number | null; Li2S: number | null };
  /** R_int at the first and last CT time, ohm (null: not fitted). */
  rInt_ohm: { first: number; last: number } | null;
}

/** Depth range around the void-fraction peak where the fraction exceeds 1.5x the median bin. */
export function voidBand(profile: ResultTable): { lo_um: number; hi_um: number } {
  const f = numbers(profile, "void_fraction_pct");
  const lo = numbers(profile, "depth_start_um");
  const hi = numbers(profile, "depth_end_um");
  const sorted = [...f].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  let peak = 0;
  for (let i = 1; i < f.length; i++) if (f[i]! > f[peak]!) peak = i;
  let a = peak;
  let b = peak;
  while (a > 0 && f[a - 1]! > 1.5 * median) a--;
  while (b < f.length - 1 && f[b + 1]! > 1.5 * median) b++;
  return { lo_um: lo[a]!, hi_um: hi[b]! };
}

/**
 * Fig. 4: the mechanism as a cross-section (lateral x vs depth) drawn from measurements: the void-rich band
 * (Fig. 1b), the Li nuclei where and when CT first saw them (nucleation table), the plating interface's movement,
 * and the numbers behind the electronic-conduction argument (σ_e, Li3P from XAS, R_int growth, the short).
 */
export function fig4(m: MechanismInputs, provenance: Record<string, string> = {}): Figure {
  const band = voidBand(m.tables.voidProfile);
  const nuc = m.tables.nucleation;
  const nt = numbers(nuc, "time_h");
  const nx = numbers(nuc, "centroid_x_um");
  const nd = numbers(nuc, "mean_depth_um");
  const nv = numbers(nuc, "volume_um3");
  const times = [...new Set(nt)].sort((a, b) => a - b);
  const ifMean = numbers(m.tables.interfaces, "interface_mean_um");
  const shift = ifMean.length ? ifMean[0]! - ifMean[ifMean.length - 1]! : 0;
  const palette = ["#08306b", "#2171b5", "#6baed6", "#41ab5d", "#006d2c", "#fd8d3c", "#d94801"];
  const data: PlotlyTrace[] = times.map((tt, k) => {
    const idx = nt.map((x, i) => (x === tt ? i : -1)).filter((i) => i >= 0);
    return {
      type: "scatter",
      mode: "markers",
      name: `Li nuclei first seen at ${fmt(tt)} h`,
      x: idx.map((i) => nx[i]),
      y: idx.map((i) => nd[i]),
      marker: { color: palette[k % palette.length], size: idx.map((i) => Math.max(8, Math.min(30, 2 * Math.cbrt(nv[i]!)))), line: { color: "#000", width: 1 } },
      hovertemplate: "x %{x:.0f} µm, depth %{y:.0f} µm<extra></extra>",
    };
  });
  const notes: string[] = [];
  if (m.rInt_ohm) notes.push(`R_int ${fmt(m.rInt_ohm.first)} → ${fmt(m.rInt_ohm.last)} Ω<br>  (interphase grows)`);
  if (m.xasProducts.Li3P !== null || m.xasProducts.Li2S !== null)
    notes.push(`XAS after plating (LCF weights):<br>  Li2S ${m.xasProducts.Li2S === null ? "n/a" : fmt(m.xasProducts.Li2S, 2)} (S edge), Li3P ${m.xasProducts.Li3P === null ? "n/a" : fmt(m.xasProducts.Li3P, 2)} (P edge)`);
  if (m.electronicConductivity_S_cm !== null) notes.push(`σ_e(Li3PS4) = ${fmt(m.electronicConductivity_S_cm, 2)} S/cm`);
  notes.push(`void-rich band ${fmt(band.lo_um)}-${fmt(band.hi_um)} µm`);
  if (m.short_h !== null) notes.push(`short circuit at ${fmt(m.short_h)} h`);
  const shapes: Record<string, unknown>[] = [
    { type: "rect", xref: "x", yref: "y", x0: 0, x1: m.width_um, y0: -Math.max(6, shift + 4), y1: 0, fillcolor: CLASS_COLOURS.electrode, line: { width: 0 }, layer: "below" },
    { type: "rect", xref: "x", yref: "y", x0: 0, x1: m.width_um, y0: 0, y1: m.layer_um, fillcolor: "#eeeeee", line: { width: 0 }, layer: "below" },
    { type: "rect", xref: "x", yref: "y", x0: 0, x1: m.width_um, y0: band.lo_um, y1: band.hi_um, fillcolor: "rgba(0,0,0,0.18)", line: { width: 0 }, layer: "below" },
    { type: "rect", xref: "x", yref: "y", x0: 0, x1: m.width_um, y0: 0, y1: 3, fillcolor: CLASS_COLOURS.interphase, opacity: 0.8, line: { width: 0 }, layer: "below" },
    { type: "rect", xref: "x", yref: "y", x0: 0, x1: m.width_um, y0: m.layer_um, y1: m.layer_um + 6, fillcolor: CLASS_COLOURS.electrode, line: { width: 0 }, layer: "below" },
  ];
  const annotations: Record<string, unknown>[] = [
    { x: m.width_um * 0.02, y: -2, xanchor: "left", text: "Li plating electrode", showarrow: false, font: { color: "#fff" } },
    { x: m.width_um * 0.98, y: 1.5, xanchor: "right", text: "reductively decomposed layer, Li2S + Li3P (thickness not to scale)", showarrow: false, font: { size: 11 } },
    { x: m.width_um * 0.98, y: (band.lo_um + band.hi_um) / 2, xanchor: "right", text: "void-rich band (Fig. 1b)", showarrow: false },
    { x: m.width_um * 0.02, y: m.layer_um + 3, xanchor: "left", text: "counter electrode", showarrow: false, font: { color: "#fff" } },
    { x: 1.02, y: 1, xref: "paper", yref: "paper", xanchor: "left", yanchor: "top", align: "left", text: notes.join("<br>"), showarrow: false, bordercolor: "#888", borderwidth: 1, bgcolor: "#fff" },
  ];
  return {
    id: "fig4",
    title: "Fig. 4: Li nucleation inside Li3PS4, from measured positions",
    caption: `Cross-section (lateral x vs depth from the plating interface) with the void-rich band from the pristine void profile, each Li component new at its CT time at its measured centroid (marker size ~ cube root of volume, ${m.tables.source} labels), and the electrochemical and XAS numbers that point to electronic conduction.`,
    data,
    layout: baseLayout("Fig. 4: where Li nucleates, drawn from measurements", {
      width: 1020,
      height: 560,
      xaxis: axis("Lateral position x", "µm", { range: [0, m.width_um], showgrid: false }),
      yaxis: axis("Depth from Li/Li3PS4 interface", "µm", { autorange: false, range: [m.layer_um + 6, -Math.max(6, shift + 4)], showgrid: false }),
      shapes,
      annotations,
      margin: { l: 70, r: 330, t: 60, b: 60 },
      legend: { x: 1.02, xanchor: "left", y: 0.3 },
    }),
    provenance,
  };
}


/** The lithium components of the first CT time with any nucleation: when, their mean depths, how many in the void band. */
export function firstNuclei(t: VolumeTables): { time_h: number | null; depths_um: number[]; inBand: number; band: { lo_um: number; hi_um: number } } {
  const band = voidBand(t.voidProfile);
  const depth = numbers(t.nucleation, "mean_depth_um");
  const times = numbers(t.nucleation, "time_h");
  if (!times.length) return { time_h: null, depths_um: [], inBand: 0, band };
  const first = Math.min(...times);
  const depths_um = depth.filter((_, i) => times[i] === first);
  return { time_h: first, depths_um, inBand: depths_um.filter((d) => d >= band.lo_um && d <= band.hi_um).length, band };
}
