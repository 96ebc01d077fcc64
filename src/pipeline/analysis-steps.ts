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
import type { JobPaths } from "./paths.js";
import type { StepSpec } from "./step.js";
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
    applies: () => (existsSync(join(p.store, ELECTROCHEM_FILE)) && existsSync(join(p.store, XAS_FILE)) ? null : `the dataset has no ${ELECTROCHEM_FILE} / ${XAS_FILE} (cycler and XAS files of a real cell: see README)`),
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

export function analysisSteps(p: JobPaths, _o: { compareSeeds?: number[] }): StepSpec[] {
  return [cellStep(p)];
}
