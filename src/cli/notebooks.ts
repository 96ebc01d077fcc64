/**
 * `ssbct notebooks run|html`: notebooks without Jupyter. `run` executes each notebook in a fresh kernel process
 * (tslab as a library); `html` exports already executed notebooks. Exit 1 when a cell fails.
 */
import { basename, join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import { UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "notebooks",
  summary: "Executes notebooks headless with Node alone (run, the default), or exports executed notebooks as HTML (html).",
  usage: "[run | html] [--in-place | --out DIR] [--cell-timeout S] NOTEBOOK...",
  description:
    "run: by default only checks that every cell runs; --in-place writes the executed notebook over the input (left untouched if a cell fails); --out DIR writes DIR/NAME.ipynb and DIR/NAME.html (+ one DIR/plotly.min.js when a figure needs it). html: NAME.html beside each notebook, or in --out DIR. The notebooks load dist/ssb-ct.cjs: run `npm run build` first (scripts/run-notebooks.sh does).",
  options: {
    "in-place": { type: "boolean", help: "run: write the executed notebook over the input" },
    out: { type: "string", value: "DIR", help: "write executed copies (run) or HTML (html) into this folder" },
    "cell-timeout": { type: "string", value: "S", help: "seconds a cell may run before the notebook fails" },
  },
  positionals: { name: "NOTEBOOK", min: 1 },
  examples: ["ssbct notebooks run --out executed notebooks/00-open-a-volume.ipynb", "ssbct notebooks html --out html executed/*.ipynb"],
  async run(ctx: CommandContext) {
    const args = [...ctx.positionals];
    const mode = args[0] === "run" || args[0] === "html" ? args.shift()! : "run";
    if (args.length === 0) throw new UsageError("no notebook given", { expected: "one or more .ipynb paths" });
    const out = ctx.opt("out");
    const inPlace = ctx.flag("in-place");
    if (inPlace && out) throw new UsageError("--in-place and --out exclude each other", { field: "--out" });
    const cellTimeoutS = ctx.num("cell-timeout", { min: 0, unit: "s" });
    const names = args.map((p) => basename(p));
    const dup = names.find((n, k) => names.indexOf(n) !== k);
    if (out && dup) throw new UsageError("two notebooks would write the same file in --out", { field: "--out", got: dup });
    const { writeNotebookHtml } = await import("../notebook/html.js");
    if (out) mkdirSync(out, { recursive: true });
    if (mode === "html") {
      for (const nb of args) {
        const target = out ? join(out, `${basename(nb, ".ipynb")}.html`) : resolve(nb).replace(/\.ipynb$/, "") + ".html";
        const h = writeNotebookHtml(nb, target);
        process.stderr.write(`notebook ${basename(nb)}: HTML written to ${h.htmlPath}${h.plotlyScript ? " (+ plotly.min.js)" : ""}\n`);
      }
      return 0;
    }
    const { runNotebook } = await import("../notebook/run.js");
    const failed: string[] = [];
    for (const nb of args) {
      const name = basename(nb, ".ipynb");
      const outputPath = inPlace ? nb : out ? join(out, `${name}.ipynb`) : null;
      const r = await runNotebook(nb, { outputPath, cellTimeoutS });
      if (out && r.outputPath) {
        const h = writeNotebookHtml(r.notebook, join(out, `${name}.html`));
        process.stderr.write(`notebook ${basename(nb)}: HTML written to ${h.htmlPath}\n`);
      }
      if (!r.ok) failed.push(nb);
      if (ctx.signal.aborted) break;
    }
    if (failed.length > 0) {
      process.stderr.write(`${failed.length} of ${args.length} notebook(s) failed: ${failed.join(", ")}\n`);
      return 1;
    }
    process.stderr.write(`all ${args.length} notebook(s) ran without error\n`);
    return 0;
  },
};
