/**
 * `ssbct figures`: the paper's figures and the report, from the job's results. It runs the job up to its `figures`
 * and `report` steps: what is up to date is read, what is missing or stale is computed first (so on a fresh
 * dataset this is most of `ssbct reproduce`), and the notebooks are not run.
 */
import { existsSync, readdirSync } from "node:fs";
import { UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "figures",
  summary: "Draws every figure of the paper (plotly JSON + standalone HTML, PNG and SVG where Chromium exists) and writes report.md/json, computing the results they need first if they are missing or stale.",
  usage: "[--preset NAME | --data STORE] [--out DIR]",
  options: {
    preset: { type: "string", value: "NAME", default: "default", help: "twin preset whose results to draw: default, ci or paper" },
    data: { type: "string", value: "STORE", help: "draw the results of this OME-Zarr (as `ssbct reproduce --data`) instead of the twin's" },
    out: { type: "string", value: "DIR", help: "figures folder   [default: data/generated/figures (figures-<name> for others)]" },
    list: { type: "boolean", help: "print the figure ids and titles, draw nothing" },
  },
  examples: ["ssbct figures --preset ci --out ci-figures", "ssbct figures --list"],
  json: true,
  async run(ctx: CommandContext) {
    const { FIGURE_BUILDERS, runJob } = await import("../pipeline/index.js");
    if (ctx.flag("list")) {
      ctx.report(FIGURE_BUILDERS.map((b) => `${b.id.padEnd(10)} ${b.title}`).join("\n"), { figures: FIGURE_BUILDERS.map((b) => ({ id: b.id, title: b.title })) });
      return 0;
    }
    const preset = ctx.opt("preset")!;
    if (!["default", "ci", "paper"].includes(preset)) throw new UsageError(`unknown preset "${preset}"`, { field: "--preset", expected: "default, ci or paper" });
    const data = ctx.opt("data");
    if (data !== undefined && !existsSync(data)) throw new UsageError("--data: no such store", { path: data, field: "--data" });
    const log = ctx.json ? (l: string) => process.stderr.write(l + "\n") : undefined;
    const { paths, runs } = await runJob({ preset: ctx.has("preset") ? preset : undefined, data, figuresDir: ctx.opt("out"), notebooks: false, targets: ["figures", "report"], ...(log ? { log } : {}) });
    const files = existsSync(paths.figuresDir) ? readdirSync(paths.figuresDir).filter((f) => /\.(html|json|png|svg|csv|md)$/.test(f)).sort() : [];
    ctx.report(`${files.length} files in ${paths.figuresDir} (report: ${paths.figuresDir}/report.md)`, { figuresDir: paths.figuresDir, files, steps: runs.map((r) => ({ step: r.step, outcome: r.outcome })) });
    return 0;
  },
};
