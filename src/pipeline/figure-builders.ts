/**
 * Which figure is drawn from which results: one builder per figure id, each naming the steps it reads, so the job's
 * figure step and the notebooks draw the same figure from the same numbers.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { toCsv } from "../analysis/table.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { fig1b, fig2d, fig4, figS5, type VolumeTables } from "../figures/fig-volume.js";
import { FIGURE_IDS, type Figure, type FigureId, type ReportRow } from "../figures/figure.js";
import { volumeReportRows } from "../figures/report-volume.js";
import { fig2a, fig3a, fig3b, fig3c, figS1c, figS2a, figS2b, figS6, figS7b } from "../figures/fig-cell.js";
import { cellReportRows } from "../figures/report-cell.js";
import { CELL_JSON, FIG2C_COMPARISON_JSON, readFig1aInput, readFig2bInput, readFig2cView } from "./analysis-steps.js";
import { fig2c, fig2cScores } from "../figures/fig2c.js";
import type { ComparisonResult } from "../segment/compare.js";
import { fig2cReportRows } from "../figures/report-fig2c.js";
import { fig1a, fig2b } from "../figures/fig-3d.js";
import type { CellResults } from "./cell-results.js";
import type { JobResults } from "./results.js";

export interface FigureBuilder {
  id: FigureId;
  title: string;
  /** Steps whose results it reads; the figure is not drawn (and the report says why) unless all are available. */
  steps: string[];
  /** Steps of which at least one must be available (U-Net or truth labels: a user's scan has only the U-Net's). */
  oneOf?: string[];
  /** A further condition on the results (a file only some datasets have); true or the reason it is not drawn. */
  available?: (r: JobResults) => true | string;
  build: (r: JobResults) => Promise<Figure> | Figure;
}

/** The U-Net's tables where the U-Net ran, else the truth's (a user's scan has only what was segmented). */
export function primaryVolume(r: JobResults): VolumeTables {
  return r.available("quantify-unet") === true ? r.volume("unet") : r.volume("truth");
}

function volumeSeries(r: JobResults): VolumeTables[] {
  return (["unet", "truth"] as const).filter((s) => r.available(`quantify-${s}`) === true).map((s) => r.volume(s));
}

export function comparison(r: JobResults): ComparisonResult {
  return r.json<ComparisonResult>("compare-segmenters", FIG2C_COMPARISON_JSON);
}

export function cellResults(r: JobResults): CellResults {
  return r.json<CellResults>("cell", CELL_JSON);
}

function lcfWeight(c: CellResults, edge: "S" | "P", name: string): number | null {
  const l = c.xas[edge].lcf;
  const i = l.names.indexOf(name);
  return i < 0 ? null : l.weights[i] ?? null;
}

/** Adds the identities of the steps a figure was drawn from to its provenance (after checking they are fresh). */
function withSteps(fig: Figure, r: JobResults, ...steps: string[]): Figure {
  for (const s of steps) r.record(s);
  return { ...fig, provenance: { ...fig.provenance, ...r.provenance(...steps) } };
}

const VOLUME_STEPS = ["quantify-unet", "quantify-truth"];

/** Whether a figure can be drawn from the available results: true, or the reason it cannot. */
export function builderAvailable(b: FigureBuilder, r: JobResults): true | string {
  for (const s of b.steps) {
    const a = r.available(s);
    if (a !== true) return a;
  }
  if (b.oneOf && !b.oneOf.some((s) => r.available(s) === true)) return `needs one of ${b.oneOf.join(", ")}, none available`;
  return b.available ? b.available(r) : true;
}

const anyVolume = (r: JobResults): string[] => (r.available("quantify-unet") === true ? ["quantify-unet"] : ["quantify-truth"]);

const cellFigure = (id: FigureId, title: string, f: (c: CellResults, prov: Record<string, string>) => Figure): FigureBuilder => ({
  id,
  title,
  steps: ["cell"],
  build: (r) => f(cellResults(r), r.provenance("cell")),
});

export const FIGURE_BUILDERS: FigureBuilder[] = [
  { id: "fig1a", title: "voids of the pristine layer in 3D", steps: ["meshes"], build: (r) => withSteps(fig1a(readFig1aInput(r.paths.resultsDir)), r, "meshes") },
  { id: "fig2b", title: "electrode and deposited Li in 3D over time", steps: ["meshes"], build: (r) => withSteps(fig2b(readFig2bInput(r.paths.resultsDir)), r, "meshes") },
  { id: "fig1b", title: "voids vs depth", steps: [], oneOf: VOLUME_STEPS, build: (r) => fig1b(primaryVolume(r), r.provenance(...anyVolume(r))) },
  cellFigure("fig2a", "voltage during plating to the short", fig2a),
  { id: "fig2c", title: "one region in phase and absorption at the last time point", steps: ["compare-segmenters"], build: (r) => withSteps(fig2c(readFig2cView(r.paths.resultsDir)), r, "compare-segmenters") },
  {
    id: "fig2c-scores",
    title: "lithium vs void by segmentation over unseen seeds",
    steps: ["compare-segmenters"],
    available: (r) => (existsSync(join(r.paths.resultsDir, FIG2C_COMPARISON_JSON)) ? true : "the segmenter comparison runs on the twin only (it needs truth)"),    build: (r) => fig2cScores(comparison(r), r.provenance("compare-segmenters")),
  },
  { id: "fig2d", title: "deposited Li vs Faraday", steps: [], oneOf: VOLUME_STEPS, build: (r) => fig2d(volumeSeries(r), r.provenance("quantify-unet", "quantify-truth")) },
  { id: "figS5", title: "porosity 0-1 h", steps: [], oneOf: VOLUME_STEPS, build: (r) => figS5(volumeSeries(r), r.provenance("quantify-unet", "quantify-truth")) },
  cellFigure("fig3a", "S K-edge XAS with LCF", fig3a),
  cellFigure("fig3b", "P K-edge XAS with LCF", fig3b),
  cellFigure("fig3c", "R_int and R_ct over plating time", fig3c),
  cellFigure("figS1c", "blocking-electrode Nyquist and σ_ion", figS1c),
  cellFigure("figS2a", "current-density screening", figS2a),
  cellFigure("figS2b", "operando vs bulk cell", figS2b),
  cellFigure("figS6", "impedance at every CT time with fits", figS6),
  cellFigure("figS7b", "DC polarisation and σ_e", figS7b),
  {
    id: "fig4",
    title: "mechanism from measurements",
    steps: ["cell"],
    oneOf: VOLUME_STEPS,
    build: (r) => {
      const c = cellResults(r);
      const t = primaryVolume(r);
      const img = r.twin().manifest;
      const first = c.impedance[0];
      const last = c.impedance[c.impedance.length - 1];
      return fig4(
        {
          tables: t,
          width_um: img.shapeZYX[2] * img.voxel_um,
          layer_um: img.parameters.geometry.electrolyte_um,
          short_h: c.galvanostatic.operando.short.time_h,
          electronicConductivity_S_cm: c.dcPolarisation.sigma_e_S_cm,
          xasProducts: { Li3P: lcfWeight(c, "P", "Li3P"), Li2S: lcfWeight(c, "S", "Li2S") },
          rInt_ohm: first && last ? { first: first.interphase.R_ohm, last: last.interphase.R_ohm } : null,
        },
        r.provenance(anyVolume(r)[0]!, "cell"),
      );
    },
  },
];

FIGURE_BUILDERS.sort((a, b) => FIGURE_IDS.indexOf(a.id) - FIGURE_IDS.indexOf(b.id));

/** Every report row the available results support. */
export function reportRows(r: JobResults): ReportRow[] {
  const rows: ReportRow[] = [];
  for (const s of ["unet", "truth"] as const) if (r.available(`quantify-${s}`) === true) rows.push(...volumeReportRows(r.volume(s)));
  if (r.available("compare-segmenters") === true && existsSync(join(r.paths.resultsDir, FIG2C_COMPARISON_JSON))) rows.push(...fig2cReportRows(comparison(r)));
  if (r.available("cell") === true) rows.push(...cellReportRows(cellResults(r), r.paths.source === "twin" ? r.twin().manifest : undefined));
  return rows;
}

/** Files beside the figures that are not plotly figures (Table S1 as CSV). */
export async function extraFigureFiles(r: JobResults, dir: string): Promise<void> {
  if (r.available("cell") === true) writeFileAtomic(join(dir, "tableS1.csv"), toCsv(cellResults(r).tableS1));
}
