/**
 * `ssbct reproduce`: the main job on the embedded default data, end to end (see src/pipeline/job.ts for the steps).
 * Each step that already ran on the same inputs is skipped, so a rerun with nothing changed takes seconds and a
 * rerun after an interruption continues. Step records are written last and removed first, so Ctrl-C leaves the
 * interrupted step marked unfinished.
 */
import { UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "reproduce",
  summary:
    "Regenerates every figure of Park et al., Chem. Commun. 2023, 59, 7799 from data: the digital twin's dataset (or your OME-Zarr with --data) -> pyramid -> U-Net labels -> quantification -> impedance/XAS fits -> 3D meshes -> segmenter comparison -> figures (HTML, JSON, PNG/SVG with Chromium) -> report.md/json -> executed notebooks.",
  usage: "[options]",
  description:
    "Outputs: data/generated/twin-<preset>.ome.zarr, data/generated/results-<preset>/ (tables, fits, step records), the figures folder (<id>.html/.json/.png/.svg, tableS1.csv, report.md, report.json, notebooks/). Paths are relative to the current folder.",
  options: {
    preset: { type: "string", value: "NAME", default: "default", help: "twin preset: default (2 um voxels, ~5 min from scratch) or ci (4 um, seconds)" },
    data: { type: "string", value: "STORE", help: "analyse this OME-Zarr instead of generating the twin" },
    out: { type: "string", value: "DIR", help: "figures, report and executed notebooks go here   [default: data/generated/figures]" },
    "skip-notebooks": { type: "boolean", help: "stop after the report" },
    force: { type: "string", value: "[STEP,...]", help: "redo these steps (all when no list) even if up to date" },
    "force-all": { type: "boolean", hidden: true, help: "--force without a list" },
    only: { type: "string", value: "STEP,...", help: "run only these steps (and what they need)" },
    list: { type: "boolean", help: "print the steps and whether each is up to date, run nothing" },
  },
  // --force takes an optional list: a bare --force becomes --force-all for the strict parser.
  preprocess: (args) => args.flatMap((a, i, all) => (a === "--force" && (i === all.length - 1 || all[i + 1]!.startsWith("-")) ? ["--force-all"] : [a])),
  examples: ["ssbct reproduce --preset ci --skip-notebooks", "ssbct reproduce --data my-scan.ome.zarr --out my-figures"],
  json: true,
  async run(ctx: CommandContext) {
    const preset = ctx.opt("preset");
    if (preset && !["default", "ci", "paper"].includes(preset)) throw new UsageError(`unknown preset "${preset}"`, { field: "--preset", expected: "default, ci or paper" });
    const { jobPaths, jobSteps, runJob, staleReason } = await import("../pipeline/index.js");
    const opts = { preset: ctx.has("preset") ? preset : undefined, data: ctx.opt("data"), figuresDir: ctx.opt("out"), notebooks: !ctx.flag("skip-notebooks") };
    if (ctx.flag("list")) {
      const p = jobPaths(opts);
      const rows = jobSteps(opts).map((s) => ({ step: s.name, state: staleReason(p.resultsDir, s) ?? "up to date" }));
      ctx.report(rows.map((r) => `${r.step.padEnd(20)} ${r.state}`).join("\n"), { steps: rows });
      return 0;
    }
    const force = ctx.flag("force-all") ? true : ctx.opt("force")?.split(",");
    const t0 = performance.now();
    // With --json the step log goes to stderr, so stdout holds one JSON object.
    const log = ctx.json ? (l: string) => process.stderr.write(l + "\n") : undefined;
    const { paths, runs } = await runJob({ ...opts, force, targets: ctx.opt("only")?.split(","), ...(log ? { log } : {}) });
    const s = (performance.now() - t0) / 1000;
    const count = (o: string) => runs.filter((r) => r.outcome === o).length;
    ctx.report(
      `done in ${s.toFixed(1)} s: ${count("ran")} steps ran, ${count("up to date")} up to date, ${count("not applicable")} not applicable\nfigures and report: ${paths.figuresDir}`,
      { seconds: s, figuresDir: paths.figuresDir, resultsDir: paths.resultsDir, steps: runs.map((r) => ({ step: r.step, outcome: r.outcome })) },
    );
    return 0;
  },
};
