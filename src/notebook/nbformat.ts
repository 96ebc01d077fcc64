/**
 * The subset of nbformat 4 that the runner and the HTML export read and write, with the same on-disk conventions as
 * Jupyter's own writer (sorted keys, one-space indent, multi-line strings as lists of lines), so that a notebook run
 * by our runner and one run by nbconvert differ only where their outputs differ.
 */
import { readFileSync } from "node:fs";
import { FileFormatError } from "../util/errors.js";

/** nbformat stores multi-line text either as one string or as a list of lines (each but the last ending in "\n"). */
export type MultilineString = string | string[];

/** JSON values as nbformat keeps them (plotly figures, metadata). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** MIME type -> content: text as (multi-line) strings, binary images as base64, `+json` types as JSON. */
export type MimeBundle = Record<string, MultilineString | JsonValue>;

export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: MultilineString;
}

export interface DisplayDataOutput {
  output_type: "display_data";
  data: MimeBundle;
  metadata: JsonObject;
}

export interface ExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: MimeBundle;
  metadata: JsonObject;
}

export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}

export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

export interface CodeCell {
  cell_type: "code";
  id?: string;
  metadata: JsonObject;
  source: MultilineString;
  execution_count: number | null;
  outputs: Output[];
}

export interface MarkdownCell {
  cell_type: "markdown";
  id?: string;
  metadata: JsonObject;
  source: MultilineString;
  attachments?: Record<string, MimeBundle>;
}

export interface RawCell {
  cell_type: "raw";
  id?: string;
  metadata: JsonObject;
  source: MultilineString;
}

export type Cell = CodeCell | MarkdownCell | RawCell;

export interface Notebook {
  cells: Cell[];
  metadata: JsonObject;
  nbformat: number;
  nbformat_minor: number;
}

/** Joins nbformat's list-of-lines form back into one string. */
export function joinText(s: MultilineString | JsonValue | undefined): string {
  if (s === undefined || s === null) return "";
  if (typeof s === "string") return s;
  if (Array.isArray(s) && s.every((x) => typeof x === "string")) return (s as string[]).join("");
  return JSON.stringify(s);
}

/** Splits text into lines that keep their "\n", Jupyter's stored form (an empty string is an empty list). */
export function splitLines(s: string): string[] {
  return s === "" ? [] : s.split(/(?<=\n)/);
}

/** Reads and checks an .ipynb file: nbformat 4 with a cells list; anything else is a FileFormatError naming the path. */
export function readNotebook(path: string): Notebook {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new FileFormatError("cannot read notebook", { path, got: (e as Error).message });
  }
  return parseNotebook(text, path);
}

export function parseNotebook(text: string, path = "<string>"): Notebook {
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    throw new FileFormatError("notebook is not valid JSON", { path, expected: "nbformat 4 JSON", got: (e as Error).message });
  }
  if (typeof nb !== "object" || nb === null || Array.isArray(nb))
    throw new FileFormatError("notebook is not a JSON object", { path, expected: "nbformat 4 JSON object", got: typeof nb });
  const o = nb as Record<string, unknown>;
  if (o.nbformat !== 4) throw new FileFormatError("unsupported notebook format", { path, field: "nbformat", expected: "4", got: String(o.nbformat) });
  if (!Array.isArray(o.cells)) throw new FileFormatError("notebook has no cells list", { path, field: "cells", expected: "array", got: typeof o.cells });
  o.cells.forEach((c: unknown, i: number) => {
    const t = (c as { cell_type?: unknown } | null)?.cell_type;
    if (t !== "code" && t !== "markdown" && t !== "raw")
      throw new FileFormatError("unknown cell type", { path, location: `cell ${i + 1}`, field: "cell_type", expected: "code, markdown or raw", got: String(t) });
    const cell = c as Record<string, unknown>;
    if (typeof cell.source !== "string" && !Array.isArray(cell.source))
      throw new FileFormatError("cell source is not text", { path, location: `cell ${i + 1}`, field: "source", expected: "string or list of strings", got: typeof cell.source });
    if (cell.metadata === undefined) cell.metadata = {};
    if (t === "code") {
      if (!Array.isArray(cell.outputs)) cell.outputs = [];
      if (cell.execution_count === undefined) cell.execution_count = null;
    }
  });
  if (o.metadata === undefined) o.metadata = {};
  if (typeof o.nbformat_minor !== "number") o.nbformat_minor = 4;
  return nb as Notebook;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

function splitBundle(b: MimeBundle): MimeBundle {
  const out: MimeBundle = {};
  for (const [k, v] of Object.entries(b))
    out[k] = typeof v === "string" && (k.startsWith("text/") || k === "image/svg+xml" || k === "application/javascript") ? splitLines(v) : v;
  return out;
}

/**
 * Jupyter's stored form: text split into lines, keys sorted, one-space indent, trailing newline. JSON-valued MIME
 * data (a plotly figure) is written compactly: indented, a mesh's number arrays would take one line per number and
 * inflate a 1.5 MB figure to 10 MB.
 */
export function serializeNotebook(nb: Notebook): string {
  const compact: string[] = [];
  const token = (v: JsonValue): string => `@@ssbct-compact-${compact.push(JSON.stringify(sortKeys(v))) - 1}@@`;
  const cells = nb.cells.map((c): Cell => {
    const source = splitLines(joinText(c.source));
    if (c.cell_type !== "code") return { ...c, source };
    const outputs = c.outputs.map((o): Output => {
      if (o.output_type === "stream") return { ...o, text: splitLines(joinText(o.text)) };
      if (o.output_type === "display_data" || o.output_type === "execute_result") {
        const data = splitBundle(o.data);
        for (const [k, v] of Object.entries(data)) if (/json$/.test(k) && v !== null && typeof v === "object" && !Array.isArray(v)) data[k] = token(v as JsonValue);
        return { ...o, data };
      }
      return o;
    });
    return { ...c, source, outputs };
  });
  const text = JSON.stringify(sortKeys({ ...nb, cells }), null, 1);
  return text.replace(/"@@ssbct-compact-(\d+)@@"/g, (_m, i: string) => compact[Number(i)]!) + "\n";
}
