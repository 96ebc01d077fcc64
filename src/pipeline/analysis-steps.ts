/**
 * Steps after the volumes: the cell's electrochemistry and XAS (fits with uncertainties), the 3D meshes of the
 * figures, and the segmenter comparison of Fig. 2c.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ELECTROCHEM_FILE, loadTwinDataset, XAS_FILE } from "../twin/index.js";
import { toCsv } from "../analysis/table.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { analyseCell } from "./cell-results.js";
import { fig1aInputs, fig2bInputs, type Fig1aInput, type Fig2bInput } from "../figures/fig-3d.js";
import { writeMesh } from "../figures/mesh-export.js";
import { CLASS_COLOURS } from "../figures/figure.js";
import { OmeImage } from "../volume/index.js";
import { fig2cInputs, regionAround, type Fig2cInputs } from "../figures/fig2c.js";
import { numbers } from "../figures/columns.js";
import { compareSegmenters } from "../segment/compare.js";
import { treeIdentity } from "../util/identity.js";
import { packageRoot } from "./paths.js";
import { JobResults } from "./results.js";
import { primaryVolume } from "./figure-builders.js";
import { readBinaryJson, writeBinaryJson } from "./binary-json.js";
import type { JobPaths } from "./paths.js";
import { StepNotApplicable, type StepSpec } from "./step.js";
import { SsbCtError } from "../util/errors.js";
import { writeJsonResult } from "./tables.js";

export const CELL_JSON = "cell/cell-results.json";

export function cellStep(p: JobPaths): StepSpec {
  return {
    name: "cell",
    describe: "voltage curve and short, impedance fits with uncertainties (Table S1), σ_ion, σ_e, XAS normalisation and LCF",
    version: 1,
    after: ["dataset"],
    code: ["src/pipeline/cell-results.ts", "src/electrochem", "src/xas"],
    params: {},
    outputs: { root: ".", paths: ["cell"] },
    applies: () => (existsSync(join(p.store, ELECTROCHEM_FILE)) && existsSync(join(p.store, XAS_FILE)) ? null : `the dataset has no ${ELECTROCHEM_FILE} / ${XAS_FILE}: the job reads the cell's electrochemistry and XAS from these files in the store (the twin writes them); a real cell's cycler files (.mpt, .DTA, CSV: electrochem.parseMpt, parseDta, parseCsv) and XAS scans are analysed in a notebook, not yet by the job`),
    async run(ctx) {
      const tw = loadTwinDataset(p.store);
      const res = analyseCell(tw.electrochem, tw.xas, { provenance: { dataset: ctx.upstream.dataset?.outputId ?? "" } });
      rmSync(join(ctx.resultsDir, "cell"), { recursive: true, force: true });
      writeJsonResult(join(ctx.resultsDir, CELL_JSON), res);
      writeFileAtomic(join(ctx.resultsDir, "cell", "tableS1.csv"), toCsv(res.tableS1));
      return { summary: `${res.impedance.length} spectra fitted, short at ${res.galvanostatic.operando.short.time_h?.toFixed(2) ?? "none"} h` };
    },
  };
}

export const FIG1A_JSON = "meshes/fig1a-input.json";
export const FIG2B_JSON = "meshes/fig2b-input.json";

/**
 * Surfaces for the 3D figures (voids of the pristine layer for Fig. 1a; electrode and deposits over time for
 * Fig. 2b), from the U-Net labels where they exist, else the truth; also exported as PLY and glTF for other viewers.
 */
export function meshesStep(p: JobPaths): StepSpec {
  return {
    name: "meshes",
    describe: "surfaces of voids, electrode and deposited Li (Fig. 1a, 2b; PLY + glTF)",
    version: 1,
    after: ["dataset", "pyramid", "segment"],
    optional: ["segment"],
    code: ["src/figures/mesh.ts", "src/figures/fig-3d.ts", "src/figures/mesh-export.ts"],
    params: { fig2bTimes_h: [0, 1.0, 1.5, 3.2], maxDepositVertices: 20_000 },
    outputs: { root: ".", paths: ["meshes"] },
    async run(ctx) {
      const img = await OmeImage.open(p.store);
      const labelName = ctx.upstream.segment ? "unet" : "segmentation";
      const names = await img.labelNames();
      if (!names.includes(labelName)) throw new StepNotApplicable(`the dataset has no labels/${labelName}`);
      const labels = await img.openLabels(labelName);
      // Meshes of a half-written or stale label image would draw a wrong figure: refuse it by name.
      labels.assertReadable();
      const dir = join(ctx.resultsDir, "meshes");
      rmSync(dir, { recursive: true, force: true });
      const a = await fig1aInputs(img, labels, {});
      a.provenance = { ...a.provenance, labels: labelName };
      const times = img.timePointsH;
      const wanted = [0, 1.0, 1.5, 3.2].filter((h) => times.some((t) => Math.abs(t - h) < 1e-6));
      // 20k deposit vertices (4 µm cells at 3.2 h) keep the figure near 1.5 MB; its notebook holds it twice.
      const b = await fig2bInputs(img, { labelName, times_h: wanted, maxVertices: { deposit: 20_000 } });
      b.provenance = { ...b.provenance, labels: labelName };
      writeBinaryJson(join(ctx.resultsDir, FIG1A_JSON), a);
      writeBinaryJson(join(ctx.resultsDir, FIG2B_JSON), b);
      writeMesh(join(dir, "voids-pristine.ply"), [{ name: "voids", mesh: a.voids, color: "#505050" }]);
      writeMesh(join(dir, "voids-pristine.glb"), [{ name: "voids", mesh: a.voids, color: "#505050" }]);
      for (const f of b.frames) {
        const parts = [
          { name: "electrode", mesh: f.electrode, color: CLASS_COLOURS.electrode },
          { name: "deposited Li", mesh: f.deposit, color: CLASS_COLOURS.lithium },
        ];
        writeMesh(join(dir, `lithium-${f.time_h}h.ply`), parts);
        writeMesh(join(dir, `lithium-${f.time_h}h.glb`), parts);
      }
      return { summary: `${a.voids.positions.length / 3} void vertices; ${b.frames.length} time points of electrode + deposits (${labelName} labels)` };
    },
  };
}

export function readFig1aInput(resultsDir: string): Fig1aInput {
  return readBinaryJson<Fig1aInput>(join(resultsDir, FIG1A_JSON));
}

export function readFig2bInput(resultsDir: string): Fig2bInput {
  return readBinaryJson<Fig2bInput>(join(resultsDir, FIG2B_JSON));
}

export const FIG2C_VIEW_JSON = "fig2c/view.json";
export const FIG2C_COMPARISON_JSON = "fig2c/comparison.json";

/** Where Fig. 2c looks: the first lithium nucleus (largest new component at the first nucleation time), or the centre. */
function fig2cCentre(r: JobResults, img: OmeImage): { z: number; y: number; x: number } {
  const [nz, ny, nx] = img.shapeZYX;
  const v = img.voxelSizeUm;
  const centre = { z: (nz * v[0]) / 2, y: (ny * v[1]) / 2, x: (nx * v[2]) / 2 };
  if (r.available("quantify-unet") !== true && r.available("quantify-truth") !== true) return centre;
  const nuc = primaryVolume(r).nucleation;
  const t = numbers(nuc, "time_h");
  if (!t.length) return centre;
  const first = Math.min(...t);
  const vol = numbers(nuc, "volume_um3");
  let best = -1;
  t.forEach((x, i) => {
    if (x === first && (best < 0 || vol[i]! > vol[best]!)) best = i;
  });
  return { z: numbers(nuc, "centroid_z_um")[best]!, y: numbers(nuc, "centroid_y_um")[best]!, x: numbers(nuc, "centroid_x_um")[best]! };
}

/**
 * Fig. 2c: the region around the first nucleus at the last time point in phase and absorption (from the dataset),
 * and the comparison of both shipped U-Nets and intensity baselines on unseen twin seeds of both deposit shapes.
 */
export function compareStep(p: JobPaths, steps: () => StepSpec[], seeds?: number[]): StepSpec {
  return {
    name: "compare-segmenters",
    describe: "Fig. 2c: phase vs absorption view; both U-Nets and multi-Otsu on unseen twin seeds, needle and void-filling deposits",
    version: 1,
    after: ["dataset", "quantify-truth", "quantify-unet"],
    optional: ["quantify-truth", "quantify-unet"],
    code: ["src/segment/compare.ts", "src/figures/fig2c.ts", "src/twin", "src/segment/predict-volume.ts", "src/segment/report.ts"],
    params: { seeds: seeds ?? null, half: { z: 20, yx: 32 } },
    external: () => ({ models: treeIdentity(packageRoot(), ["data/models/unet-default", "data/models/unet-absorption-only"]).content }),
    outputs: { root: ".", paths: ["fig2c"] },
    async run(ctx) {
      const img = await OmeImage.open(p.store);
      if (!img.channels.includes("phase") || !img.channels.includes("absorption")) throw new StepNotApplicable("Fig. 2c needs both a phase and an absorption channel");
      const r = new JobResults(p, steps());
      const region = regionAround(img.shapeZYX, img.voxelSizeUm, fig2cCentre(r, img), { z: 20, yx: 32 });
      let view: Fig2cInputs;
      try {
        view = await fig2cInputs(img, img.timePointsH.length - 1, region);
      } catch (e) {
        if (e instanceof SsbCtError) throw new StepNotApplicable(`the dataset cannot be shown as Fig. 2c: ${e.message}`);
        throw e;
      }
      rmSync(join(ctx.resultsDir, "fig2c"), { recursive: true, force: true });
      writeBinaryJson(join(ctx.resultsDir, FIG2C_VIEW_JSON), view);
      // The comparison scores against the twin's truth on twin seeds: it says nothing about a user's scan.
      if (p.source !== "twin") return { summary: "view of the dataset; segmenter comparison not run (it needs the twin's truth)" };
      const cmp = await compareSegmenters({ root: packageRoot(), ...(seeds ? { seeds } : {}) });
      writeJsonResult(join(ctx.resultsDir, FIG2C_COMPARISON_JSON), cmp);
      return { summary: `${cmp.seeds.length} seeds x ${cmp.variants.length} twin variants in ${cmp.seconds.toFixed(0)} s` };
    },
  };
}

export function readFig2cView(resultsDir: string): Fig2cInputs {
  return readBinaryJson<Fig2cInputs>(join(resultsDir, FIG2C_VIEW_JSON));
}

export function analysisSteps(p: JobPaths, o: { compareSeeds?: number[] }, steps: () => StepSpec[]): StepSpec[] {
  return [cellStep(p), meshesStep(p), compareStep(p, steps, o.compareSeeds)];
}
