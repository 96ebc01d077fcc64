/**
 * The main job (`npm run reproduce`, `ssbct reproduce`): dataset -> pyramid -> U-Net labels -> quantification ->
 * cell electrochemistry and XAS -> 3D meshes -> segmenter comparison -> figures -> report -> notebooks. One plan of
 * steps, shared with the notebooks (which call `results()` and read the same outputs).
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { presetParameters } from "../twin/index.js";
import { FIGURE_IDS, type Figure, type ReportRow } from "../figures/figure.js";
import { findChromium, renderFigureImages, writeFigure } from "../figures/export.js";
import { builderAvailable, FIGURE_BUILDERS, reportRows, extraFigureFiles } from "./figure-builders.js";
import { jobPaths, type JobOptions, type JobPaths } from "./paths.js";
import { readRecord } from "./record.js";
import { JobResults } from "./results.js";
import { runSteps, type StepRun, type StepSpec } from "./step.js";
import { pyramidStep, quantifyStep, segmentStep, twinStep, userDatasetStep } from "./volume-steps.js";
import { analysisSteps } from "./analysis-steps.js";
import { writeReport, type ReportFigure } from "./report.js";
import { notebookStep } from "./notebook-step.js";

/** Steps whose results the notebooks read (everything but figures, report and notebooks). */
export const COMPUTE_STEPS = ["dataset", "pyramid", "segment", "quantify-truth", "quantify-unet", "cell", "meshes", "compare-segmenters"];

function figuresStep(p: JobPaths, steps: () => StepSpec[], compute: string[]): StepSpec {
  const chromium = findChromium() !== null;
  return {
    name: "figures",
    describe: "every figure as plotly JSON + HTML (+ PNG/SVG where Chromium exists) and tableS1.csv",
    version: 1,
    after: compute,
    optional: compute,
    code: ["src/figures", "src/pipeline/figure-builders.ts"],
    // Installing Chromium later must redo the images, so whether it exists is part of the identity.
    params: { ids: FIGURE_IDS, images: chromium },
    outputs: { root: p.figuresDir, paths: [...FIGURE_IDS.flatMap((id) => [`${id}.html`, `${id}.json`, `${id}.png`, `${id}.svg`]), "plotly.min.js", "tableS1.csv"] },
    async run(ctx) {
      const r = new JobResults(p, steps());
      for (const id of FIGURE_IDS) for (const ext of ["html", "json", "png", "svg"]) rmSync(join(p.figuresDir, `${id}.${ext}`), { force: true });
      const figs: Figure[] = [];
      const missing: string[] = [];
      for (const b of FIGURE_BUILDERS) {
        const why = builderAvailable(b, r);
        if (why !== true) {
          missing.push(`${b.id} (${why})`);
          continue;
        }
        const fig = await b.build(r);
        writeFigure(fig, p.figuresDir);
        figs.push(fig);
      }
      await extraFigureFiles(r, p.figuresDir);
      const img = await renderFigureImages(figs, p.figuresDir);
      if (img.skipped) ctx.log(`figures: ${img.skipped}`);
      return { summary: `${figs.length} figures${missing.length ? `, not drawn: ${missing.map((m) => m.split(" ")[0]).join(", ")}` : ""}${img.skipped ? "; images skipped (no Chromium)" : `; ${img.written.length} images`}`, values: { figures: figs.length } };
    },
  };
}

function reportStep(p: JobPaths, steps: () => StepSpec[], compute: string[]): StepSpec {
  return {
    name: "report",
    describe: "paper-vs-reproduced report (report.md, report.json)",
    version: 1,
    after: [...compute, "figures"],
    optional: compute,
    code: ["src/figures", "src/pipeline/figure-builders.ts", "src/pipeline/report.ts"],
    params: {},
    outputs: { root: p.figuresDir, paths: ["report.json", "report.md"] },
    async run() {
      const r = new JobResults(p, steps());
      const rows: ReportRow[] = reportRows(r);
      const figures: ReportFigure[] = FIGURE_BUILDERS.map((b) => {
        const files = ["html", "json", "png", "svg"].map((e) => `${b.id}.${e}`).filter((f) => existsSync(join(p.figuresDir, f)));
        const why = builderAvailable(b, r);
        return why !== true ? { id: b.id, title: b.title, files: [], missing: why } : { id: b.id, title: b.title, files };
      });
      const inputs: Record<string, string> = {};
      for (const s of [...compute, "figures"]) {
        const rec = readRecord(p.resultsDir, s);
        inputs[s] = rec ? `${rec.status} ${rec.outputId.slice(0, 16)}` : "missing";
      }
      writeReport(p.figuresDir, { dataset: p.source === "twin" ? `twin preset '${p.preset}'` : p.store, rows, figures, inputs });
      const agree = rows.filter((x) => x.verdict === "agrees").length;
      return { summary: `${rows.length} rows, ${agree} agree`, values: { rows: rows.length, agrees: agree } };
    },
  };
}

export interface JobStepOptions extends JobOptions {
  notebooks?: boolean;
  /** Seeds of the segmenter comparison (fig2c); default in analysis-steps.ts. */
  compareSeeds?: number[];
}

/** The job's steps in order for these options. */
export function jobSteps(o: JobStepOptions = {}): StepSpec[] {
  const p = jobPaths(o);
  const list: StepSpec[] = [];
  const all = () => list;
  list.push(p.source === "twin" ? twinStep(p.store, presetParameters(p.preset)) : userDatasetStep(p.store));
  list.push(pyramidStep(p.store));
  list.push(segmentStep(p.store, p.modelDir));
  list.push(quantifyStep(p.store, "segmentation", "truth", ["dataset"]));
  list.push(quantifyStep(p.store, "unet", "unet", ["dataset", "segment"]));
  list.push(...analysisSteps(p, o, all));
  const compute = list.map((s) => s.name);
  list.push(figuresStep(p, all, compute));
  list.push(reportStep(p, all, compute));
  if (o.notebooks !== false) list.push(notebookStep(p));
  return list;
}

export interface JobRunOptions extends JobStepOptions {
  force?: boolean | string[];
  targets?: string[];
  log?: (line: string) => void;
}

export async function runJob(o: JobRunOptions = {}): Promise<{ paths: JobPaths; runs: StepRun[] }> {
  const p = jobPaths(o);
  const runs = await runSteps(jobSteps(o), { resultsDir: p.resultsDir, force: o.force, targets: o.targets, log: o.log });
  return { paths: p, runs };
}

/**
 * For notebooks: brings the computation steps up to date (running only what is missing or stale) and returns the
 * reader of their results. Inside `npm run reproduce` everything is already up to date, so this only checks.
 */
export async function results(o: JobRunOptions = {}): Promise<JobResults> {
  const p = jobPaths(o);
  const steps = jobSteps({ ...o, notebooks: false });
  await runSteps(steps, { resultsDir: p.resultsDir, targets: o.targets ?? steps.map((s) => s.name).filter((n) => COMPUTE_STEPS.includes(n)), log: o.log ?? ((l) => console.log(l)) });
  return new JobResults(p, steps);
}

