/**
 * Command line for notebooks without Jupyter (run with `node --import tsx src/notebook/cli.ts ...`;
 * scripts/run-notebooks.sh wraps it):
 *
 *   run  [--in-place | --out DIR] [--cell-timeout S] NOTEBOOK...
 *        executes each notebook in a fresh kernel process; default: only checks that every cell runs.
 *        --in-place  writes the executed notebook over the input (left untouched if a cell fails)
 *        --out DIR   writes DIR/NAME.ipynb and DIR/NAME.html (+ one DIR/plotly.min.js when a figure needs it)
 *   html [--out DIR] NOTEBOOK...
 *        exports already executed notebooks as HTML (default: NAME.html beside each notebook)
 *
 * Exit status: 0 when every notebook ran, 1 when a cell failed, 2 for a usage error.
 */
import { basename, join, resolve } from "node:path";
import { mkdirSync } from "node:fs";
import { ParameterError, SsbCtError } from "../util/errors.js";
import { writeNotebookHtml } from "./html.js";
import { runNotebook } from "./run.js";

interface Args {
  command: "run" | "html";
  inPlace: boolean;
  out: string | null;
  cellTimeoutS: number | undefined;
  notebooks: string[];
}

function parseArgs(argv: string[]): Args {
  const a: Args = { command: "run", inPlace: false, out: null, cellTimeoutS: undefined, notebooks: [] };
  let i = 0;
  if (argv[0] === "run" || argv[0] === "html") a.command = argv[i++] as Args["command"];
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new ParameterError("option needs a value", { field: arg });
      return v;
    };
    if (arg === "--in-place") a.inPlace = true;
    else if (arg === "--out") a.out = value();
    else if (arg === "--cell-timeout") a.cellTimeoutS = Number(value());
    else if (arg.startsWith("-")) throw new ParameterError("unknown option", { field: arg, expected: "--in-place, --out DIR, --cell-timeout S" });
    else a.notebooks.push(arg);
  }
  if (a.notebooks.length === 0) throw new ParameterError("no notebook given", { expected: "one or more .ipynb paths" });
  if (a.inPlace && a.out) throw new ParameterError("--in-place and --out exclude each other", { field: "--out" });
  const names = a.notebooks.map((p) => basename(p));
  const dup = names.find((n, k) => names.indexOf(n) !== k);
  if (a.out && dup) throw new ParameterError("two notebooks would write the same file in --out", { field: "--out", got: dup });
  return a;
}

async function run(a: Args): Promise<number> {
  if (a.out) mkdirSync(a.out, { recursive: true });
  const failed: string[] = [];
  for (const nb of a.notebooks) {
    const name = basename(nb, ".ipynb");
    const outputPath = a.inPlace ? nb : a.out ? join(a.out, `${name}.ipynb`) : null;
    const r = await runNotebook(nb, { outputPath, cellTimeoutS: a.cellTimeoutS });
    if (a.out && r.outputPath) {
      const h = writeNotebookHtml(r.notebook, join(a.out, `${name}.html`));
      process.stderr.write(`notebook ${basename(nb)}: HTML written to ${h.htmlPath}\n`);
    }
    if (!r.ok) failed.push(nb);
  }
  if (failed.length > 0) {
    process.stderr.write(`${failed.length} of ${a.notebooks.length} notebook(s) failed: ${failed.join(", ")}\n`);
    return 1;
  }
  process.stderr.write(`all ${a.notebooks.length} notebook(s) ran without error\n`);
  return 0;
}

function html(a: Args): number {
  if (a.out) mkdirSync(a.out, { recursive: true });
  for (const nb of a.notebooks) {
    const target = a.out ? join(a.out, `${basename(nb, ".ipynb")}.html`) : resolve(nb).replace(/\.ipynb$/, "") + ".html";
    const h = writeNotebookHtml(nb, target);
    process.stderr.write(`notebook ${basename(nb)}: HTML written to ${h.htmlPath}${h.plotlyScript ? " (+ plotly.min.js)" : ""}\n`);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\nusage: cli.ts [run] [--in-place | --out DIR] [--cell-timeout S] NOTEBOOK... | cli.ts html [--out DIR] NOTEBOOK...\n`);
    return 2;
  }
  try {
    return a.command === "html" ? html(a) : await run(a);
  } catch (e) {
    if (e instanceof SsbCtError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
