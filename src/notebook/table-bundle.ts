/**
 * Result tables (and danfojs DataFrames) as a display bundle: an HTML <table> whose headers show the unit that the
 * column name carries (`depth_mid_um` -> "depth_mid" over "µm") and a monospaced text/plain for consoles and diffs.
 */
import { tableRows, type Cell, type ResultTable } from "../analysis/table.js";
import { ParameterError } from "../util/errors.js";
import { escapeHtml } from "../util/html-escape.js";

/** What showTable needs from a danfojs DataFrame (danfojs itself is not loaded to draw one). */
export interface DataFrameLike {
  columns: string[];
  /** Row-major values, as danfojs' `DataFrame.values` (a row of a one-column frame may be a bare value). */
  values: ArrayLike<unknown>;
  index: ArrayLike<string | number>;
}

export interface TableOptions {
  /** Rows shown; longer tables show their head and tail around a "…" row. Default 40. */
  maxRows?: number;
  /** Significant digits of non-integer numbers. Default 4. */
  digits?: number;
  /** Caption above the table; default the ResultTable's name (none for a DataFrame). */
  caption?: string;
}

/** Unit suffixes of our column names, longest first so `_um3` wins over `_um`. */
const UNIT_SUFFIXES: ReadonlyArray<[string, string]> = [
  ["_mAh_cm2", "mAh/cm²"],
  ["_mA_cm2", "mA/cm²"],
  ["_ohm_cm2", "Ω·cm²"],
  ["_S_cm", "S/cm"],
  ["_per_cm", "1/cm"],
  ["_voxels", "voxels"],
  ["_um3", "µm³"],
  ["_um2", "µm²"],
  ["_mm2", "mm²"],
  ["_cm2", "cm²"],
  ["_mAh", "mAh"],
  ["_keV", "keV"],
  ["_pct", "%"],
  ["_ohm", "Ω"],
  ["_deg", "°"],
  ["_um", "µm"],
  ["_nm", "nm"],
  ["_mm", "mm"],
  ["_cm", "cm"],
  ["_mA", "mA"],
  ["_uA", "µA"],
  ["_mV", "mV"],
  ["_eV", "eV"],
  ["_Hz", "Hz"],
  ["_V", "V"],
  ["_h", "h"],
  ["_s", "s"],
];

/** Splits a unit-bearing column name into its quantity and unit (unit null when the name carries none). */
export function splitUnit(name: string): { quantity: string; unit: string | null } {
  for (const [suffix, unit] of UNIT_SUFFIXES)
    if (name.length > suffix.length && name.endsWith(suffix)) return { quantity: name.slice(0, -suffix.length), unit };
  return { quantity: name, unit: null };
}

/**
 * A number as a reader wants it: integers in full, others to `digits` significant digits without trailing zeros,
 * exponent notation only outside 1e-3 .. 1e9 where fixed notation would hide the digits or run long.
 */
export function formatNumber(x: number, digits = 4): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "∞" : "−∞";
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e9) return x.toExponential(Math.max(0, digits - 1)).replace(/\.?0+e/, "e");
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  const s = x.toFixed(decimals);
  return decimals > 0 ? s.replace(/\.?0+$/, "") : s;
}

function formatCell(v: unknown, digits: number): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return formatNumber(v, digits);
  if (typeof v === "boolean") return v ? "true" : "false";
  return String(v);
}

interface Grid {
  caption: string | null;
  /** Header names; the first is the DataFrame index (empty name) when there is one. */
  names: string[];
  /** Which columns hold numbers (right-aligned). */
  numeric: boolean[];
  /** Rows shown, formatted; null marks the "…" gap. */
  rows: (string[] | null)[];
  nRows: number;
  nCols: number;
}

function isDataFrame(t: ResultTable | DataFrameLike): t is DataFrameLike {
  // A ResultTable's columns are a record by name, a DataFrame's an array of names.
  return Array.isArray(t.columns);
}

function shownRows(n: number, maxRows: number): (number | null)[] {
  if (n <= maxRows) return Array.from({ length: n }, (_, i) => i);
  const head = Math.ceil(maxRows / 2), tail = Math.floor(maxRows / 2);
  return [...Array.from({ length: head }, (_, i) => i), null, ...Array.from({ length: tail }, (_, i) => n - tail + i)];
}

function toGrid(t: ResultTable | DataFrameLike, o: TableOptions): Grid {
  const maxRows = o.maxRows ?? 40;
  const digits = o.digits ?? 4;
  if (!Number.isInteger(maxRows) || maxRows < 1) throw new ParameterError("maxRows must be a positive integer", { field: "maxRows", expected: ">= 1", got: String(maxRows) });
  let names: string[];
  let get: (row: number, col: number) => unknown;
  let n: number;
  let caption: string | null;
  if (isDataFrame(t)) {
    names = ["", ...t.columns];
    n = t.values.length;
    get = (r, c) => {
      if (c === 0) return t.index[r];
      const row = t.values[r];
      return Array.isArray(row) || ArrayBuffer.isView(row) ? (row as ArrayLike<unknown>)[c - 1] : c === 1 ? row : undefined;
    };
    caption = o.caption ?? null;
  } else {
    n = tableRows(t);
    const cols = Object.keys(t.columns);
    names = cols;
    get = (r, c) => t.columns[cols[c]!]![r] as Cell;
    caption = o.caption ?? t.name;
  }
  const numeric = names.map((_, c) => {
    let any = false;
    for (let r = 0; r < n; r++) {
      const v = get(r, c);
      if (v === null || v === undefined) continue;
      if (typeof v !== "number") return false;
      any = true;
    }
    return any;
  });
  const rows = shownRows(n, maxRows).map((r) => (r === null ? null : names.map((_, c) => formatCell(get(r, c), digits))));
  return { caption, names, numeric, rows, nRows: n, nCols: isDataFrame(t) ? names.length - 1 : names.length };
}

function headerHtml(name: string, numeric: boolean): string {
  if (name === "") return "<th></th>";
  const { quantity, unit } = splitUnit(name);
  const u = unit ? `<br><span class="unit" style="font-weight:normal">${escapeHtml(unit)}</span>` : "";
  return `<th title="${escapeHtml(name)}"${numeric ? ' class="num" style="text-align:right"' : ""}>${escapeHtml(quantity)}${u}</th>`;
}

function tableHtml(g: Grid): string {
  const num = ' class="num" style="text-align:right"';
  const head = `<tr>${g.names.map((n, c) => headerHtml(n, g.numeric[c]!)).join("")}</tr>`;
  const body = g.rows
    .map((r) => (r === null ? `<tr class="gap"><td colspan="${g.names.length}" style="text-align:center">…</td></tr>` : `<tr>${r.map((v, c) => `<td${g.numeric[c] ? num : ""}>${escapeHtml(v)}</td>`).join("")}</tr>`))
    .join("\n");
  const cap = g.caption ? `<caption style="text-align:left">${escapeHtml(g.caption)}</caption>` : "";
  const foot = `<div class="table-shape" style="color:#666;font-size:90%">${g.nRows} rows × ${g.nCols} columns</div>`;
  return `<div class="ssbct-table"><table>${cap}\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody></table>${foot}</div>`;
}

function tablePlain(g: Grid): string {
  const shown = g.rows.map((r) => r ?? g.names.map(() => "…"));
  const width = g.names.map((h, c) => Math.max(h.length, ...shown.map((r) => r[c]!.length)));
  const pad = (s: string, c: number) => (g.numeric[c] ? s.padStart(width[c]!) : s.padEnd(width[c]!));
  const lines = [g.names.map(pad).join("  ").trimEnd(), ...shown.map((r) => r.map(pad).join("  ").trimEnd())];
  if (g.caption) lines.unshift(g.caption);
  lines.push(`[${g.nRows} rows × ${g.nCols} columns]`);
  return lines.join("\n");
}

/** The display bundle of a table: text/html and text/plain. */
export function tableBundle(t: ResultTable | DataFrameLike, options: TableOptions = {}): { "text/html": string; "text/plain": string } {
  const g = toGrid(t, options);
  return { "text/html": tableHtml(g), "text/plain": tablePlain(g) };
}
