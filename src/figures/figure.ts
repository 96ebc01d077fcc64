/**
 * The figure contract shared by every figure function: a plotly figure (data + layout, optional animation frames)
 * plus what it is and what it was computed from. Figure functions take result tables and fitted values, never
 * volumes to recompute, so the notebooks and the headless job draw the same numbers.
 *
 * Plotly's own types are not a dependency: traces and layouts are plain JSON objects as plotly.js documents them.
 */
import { classHex } from "../util/class-colours.js";

/** One plotly trace (`scatter`, `heatmap`, `mesh3d`, ...): plain JSON as plotly.js takes it. */
export interface PlotlyTrace {
  type: string;
  [key: string]: unknown;
}

/** A plotly layout object (axes, annotations, shapes, sliders, updatemenus). */
export type PlotlyLayout = Record<string, unknown>;

/** An animation frame (plotly `frames`): named, with the traces that change. */
export interface PlotlyFrame {
  name: string;
  data: PlotlyTrace[];
  traces?: number[];
  layout?: PlotlyLayout;
}

/**
 * Figure ids of Park et al., Chem. Commun. 2023, 59, 7799 (main text and ESI) that come from data, plus
 * "fig2c-scores": the segmenter comparison behind Fig. 2c's claim (both U-Nets and intensity baselines, several seeds).
 */
export const FIGURE_IDS = [
  "fig1a", "fig1b", "fig2a", "fig2b", "fig2c", "fig2c-scores", "fig2d", "fig3a", "fig3b", "fig3c", "fig4",
  "figS1c", "figS2a", "figS2b", "figS5", "figS6", "figS7b",
] as const;
export type FigureId = (typeof FIGURE_IDS)[number];

/** Panels of the paper that are photographs or material characterisation, not data this toolkit handles. */
export const NOT_FROM_DATA: ReadonlyArray<{ id: string; what: string }> = [
  { id: "figS1a", what: "X-ray diffraction pattern of the Li3PS4 glass (material characterisation)" },
  { id: "figS1b", what: "Raman spectrum and SEM image of the Li3PS4 powder (material characterisation)" },
  { id: "figS3", what: "photograph of the operando CT set-up at BL20XU, SPring-8" },
  { id: "figS4", what: "photographs of the cell disassembly for XAS" },
];

/** What a display needs of a figure: a paper figure (Figure) or any other plotly figure (a training curve). */
export type FigureLike = Pick<Figure, "title" | "caption" | "data" | "layout" | "frames"> & Partial<Pick<Figure, "id" | "provenance">>;

export interface Figure {
  id: FigureId;
  /** Short title shown above the plot. */
  title: string;
  /** One or two sentences: what is plotted, from what, in which units. */
  caption: string;
  data: PlotlyTrace[];
  layout: PlotlyLayout;
  frames?: PlotlyFrame[];
  /** Frame a static image (PNG/SVG) shows, when not the initial state (e.g. the last time point of an animation). */
  staticFrame?: string;
  /** Names and content hashes (or paths) of the inputs the figure was drawn from. */
  provenance: Record<string, string>;
}

/** Project-wide class colours (electrolyte, void, lithium, electrode, interphase): the same in every figure. */
export const CLASS_COLOURS = {
  electrolyte: classHex("electrolyte"),
  void: classHex("void"),
  lithium: classHex("lithium"),
  electrode: classHex("electrode"),
  interphase: classHex("interphase"),
  deposit: classHex("lithium"),
} as const;

/** Colours of series that are not material classes (truth vs measured vs theory, fits vs data). */
export const SERIES_COLOURS = {
  data: "#1f3b73",
  fit: "#d62728",
  theory: "#000000",
  unet: "#2ca02c",
  truth: "#7f7f7f",
  secondary: "#9467bd",
  tertiary: "#ff7f0e",
} as const;

/** Axis with a title that states its unit, e.g. axis("Depth from Li/Li3PS4 interface", "µm"). */
export function axis(title: string, unit: string | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: { text: unit ? `${title} (${unit})` : title }, showline: true, mirror: true, ticks: "outside", zeroline: false, automargin: true, ...extra };
}

/** Base layout: white background, a readable font, the title and room for it. */
export function baseLayout(title: string, extra: PlotlyLayout = {}): PlotlyLayout {
  return {
    title: { text: title, x: 0.02, xanchor: "left" },
    font: { family: "DejaVu Sans, Arial, sans-serif", size: 13 },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    margin: { l: 70, r: 30, t: 60, b: 60 },
    width: 760,
    height: 480,
    legend: { bgcolor: "rgba(255,255,255,0.8)" },
    ...extra,
  };
}

/** How a reproduced number compares with the paper's. */
export type Verdict = "agrees" | "differs" | "not comparable";

/** One headline number of the paper against ours (report.md / report.json). */
export interface ReportRow {
  /** Figure id (or "text" for a number stated only in the text). */
  id: string;
  quantity: string;
  unit: string;
  /** The paper's value as printed there ("0.5", "100-120", "~0.01", "increases"). */
  paper: string;
  /** Our value, formatted with its uncertainty where one exists. */
  ours: string;
  verdict: Verdict;
  /** Why the verdict (the tolerance used, or what makes it not comparable). */
  reason: string;
}
