/**
 * Display helpers for notebook cells: `ssb.notebook.showFigure(fig)`, `showTable(table)`, `markdown(text)`,
 * `showBundle({...})`.
 *
 * How they reach the notebook: tslab keeps one process-wide writer for display messages,
 * `require("tslab/dist/jupyter").lastWriteDisplayData`, which its Jupyter kernel points at the running cell before
 * executing it (its own `tslab.display.*` calls go through it too). Our runner (run.ts / kernel.ts) sets the very same
 * writer. We find that module among the modules the process has already loaded, so the bundle of this library never
 * loads a second copy of tslab whose writer nobody set; unlike `tslab.display.raw`, the writer takes a whole
 * multi-MIME bundle. Outside a kernel (a plain Node script) the text/plain form is printed instead.
 */
import { createRequire } from "node:module";
import { sep } from "node:path";
import type { FigureLike } from "../figures/figure.js";
import type { ResultTable } from "../analysis/table.js";
import { figureBundle, type FigureOptions } from "./figure-bundle.js";
import type { JsonObject, MimeBundle } from "./nbformat.js";
import { markdownHtml } from "./markdown.js";
import { tableBundle, type DataFrameLike, type TableOptions } from "./table-bundle.js";

interface DisplayMessage {
  data: MimeBundle;
  metadata: JsonObject;
  transient: { display_id?: string };
}
type DisplayWriter = (msg: DisplayMessage, update: boolean) => void;

const WRITER_MODULE = `${sep}tslab${sep}dist${sep}jupyter.js`;

function moduleCache(): NodeJS.Dict<NodeModule> {
  try {
    return createRequire(import.meta.url).cache;
  } catch {
    return {};
  }
}

/** The display writer of the tslab kernel (or of our runner) in this process, or null outside a kernel. */
function kernelWriter(): DisplayWriter | null {
  for (const [key, mod] of Object.entries(moduleCache())) {
    if (!key.endsWith(WRITER_MODULE) || !mod) continue;
    const w = (mod.exports as { lastWriteDisplayData?: unknown }).lastWriteDisplayData;
    if (typeof w === "function") return w as DisplayWriter;
  }
  return null;
}

/** Emits one display_data output holding every MIME type of `data` (front ends pick the richest they render). */
export function showBundle(data: MimeBundle, metadata: JsonObject = {}): void {
  const write = kernelWriter();
  if (write) {
    write({ data, metadata, transient: {} }, false);
    return;
  }
  const plain = data["text/plain"];
  process.stdout.write((typeof plain === "string" ? plain : Array.isArray(plain) ? plain.join("") : JSON.stringify(data)) + "\n");
}

/** Shows a plotly figure that draws offline, in Jupyter, after a kernel restart and in exported HTML (figure-bundle.ts). */
export function showFigure(fig: FigureLike, options: FigureOptions = {}): void {
  showBundle({ ...figureBundle(fig, options) });
}

/** Shows a ResultTable or a danfojs DataFrame as an HTML table with units in the headers (and as text). */
export function showTable(table: ResultTable | DataFrameLike, options: TableOptions = {}): void {
  showBundle({ ...tableBundle(table, options) });
}

/**
 * Shows Markdown text. The front end renders text/markdown; the text/html rendering beside it is for those that
 * will not render markdown from an untrusted notebook (classic Jupyter shows it as plain text) and for nbconvert.
 */
export function markdown(text: string): void {
  showBundle({ "text/markdown": text, "text/html": markdownHtml(text), "text/plain": text });
}
