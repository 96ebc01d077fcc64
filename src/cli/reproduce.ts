/**
 * `npm run reproduce`: the main job on the embedded default data, end to end (see src/pipeline/job.ts for the
 * steps). Each step that already ran on the same inputs is skipped, so a rerun with nothing changed takes seconds
 * and a rerun after an interruption continues.
 */
import { parseArgs } from "node:util";
import { jobPaths, jobSteps, runJob } from "../pipeline/index.js";

const HELP = `Usage: npm run reproduce -- [options]

Regenerates every figure of Park et al., Chem. Commun. 2023, 59, 7799 from data: the digital twin's dataset
(or your OME-Zarr with --data) -> pyramid -> U-Net labels -> quantification -> impedance/XAS fits -> 3D meshes ->
segmenter comparison -> figures (HTML, JSON, PNG/SVG with Chromium) -> report.md/json -> executed notebooks.

Options:
  --preset NAME        twin preset: default (2 µm voxels, ~5 min from scratch) or ci (4 µm, seconds)   [default]
  --data PATH          analyse this OME-Zarr instead of generating the twin
  --out DIR            figures, report and executed notebooks go here   [data/generated/figures]
  --skip-notebooks     stop after the report
  --force [STEP,...]   redo these steps (all when no list) even if up to date
  --only STEP,...      run only these steps (and what they need)
  --list               print the steps and whether each is up to date, run nothing
  -h, --help           this text

Outputs: data/generated/twin-<preset>.ome.zarr, data/generated/results-<preset>/ (tables, fits, step records),
the figures folder (<id>.html/.json/.png/.svg, tableS1.csv, report.md, report.json, notebooks/).
Example: npm run reproduce -- --preset ci --skip-notebooks`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      strict: true,
      allowPositionals: false,
      options: {
        preset: { type: "string" },
        data: { type: "string" },
        out: { type: "string" },
        "skip-notebooks": { type: "boolean" },
        force: { type: "string" },
        "force-all": { type: "boolean" },
        only: { type: "string" },
        list: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      args: process.argv.slice(2).flatMap((a, i, all) => (a === "--force" && (i === all.length - 1 || all[i + 1]!.startsWith("--")) ? ["--force-all"] : [a])),
    });
  } catch (e) {
    console.error(`reproduce: ${e instanceof Error ? e.message : String(e)}\nRun with --help for the options.`);
    return 2;
  }
  const v = parsed.values;
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  const opts = { preset: v.preset, data: v.data, figuresDir: v.out, notebooks: !v["skip-notebooks"] };
  if (v.preset && !["default", "ci", "paper"].includes(v.preset)) {
    console.error(`reproduce: unknown preset "${v.preset}" (expected default, ci or paper)`);
    return 2;
  }
  if (v.list) {
    const { staleReason } = await import("../pipeline/step.js");
    const p = jobPaths(opts);
    for (const s of jobSteps(opts)) console.log(`${s.name.padEnd(20)} ${staleReason(p.resultsDir, s) ?? "up to date"}`);
    return 0;
  }
  const force = v["force-all"] ? true : v.force ? v.force.split(",") : undefined;
  const t0 = performance.now();
  const { paths, runs } = await runJob({ ...opts, force, targets: v.only?.split(",") });
  const s = (performance.now() - t0) / 1000;
  console.log(`done in ${s.toFixed(1)} s: ${runs.filter((r) => r.outcome === "ran").length} steps ran, ${runs.filter((r) => r.outcome === "up to date").length} up to date, ${runs.filter((r) => r.outcome === "not applicable").length} not applicable`);
  console.log(`figures and report: ${paths.figuresDir}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    if (process.env.SSB_CT_DEBUG) console.error(e);
    process.exit(1);
  },
);
