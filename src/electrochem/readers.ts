/**
 * Cycler and impedance-analyser text exports: BioLogic EC-Lab (.mpt), Gamry (.DTA) and CSV with unit-bearing
 * column names. The parsers are pure (bytes in, columns out) and return columns under canonical names with
 * the unit in the name (`freq_Hz`, `re_ohm`, `im_ohm`, `time_s`, `Ewe_V`, `I_mA`, ...), converted to SI or
 * kept in the stated unit where that is the field's habit (mA, mAh). `im_ohm` is always Im(Z): EC-Lab's
 * `-Im(Z)/Ohm` column is negated. The `read*` functions add file I/O and return a danfojs DataFrame.
 */
import { readFile } from "node:fs/promises";
import type { DataFrame } from "danfojs-node";
import { FileFormatError } from "../util/errors.js";
import type { ImpedanceSpectrum } from "./spectrum.js";

export interface ColumnInfo {
  /** Canonical name, e.g. "im_ohm". */
  name: string;
  /** Header text as written in the file, e.g. "-Im(Z)/Ohm". */
  original: string;
  /** Unit after conversion ("" when dimensionless or unknown). */
  unit: string;
  /** Multiplier applied to the file's numbers (e.g. -1 for -Im(Z), 1e3 for kOhm). */
  factor: number;
}

export interface DataTable {
  /** File name (or description) for messages. */
  source: string;
  columns: Record<string, Float64Array>;
  info: ColumnInfo[];
  /** 1-based line number in the file of each data row. */
  lines: Int32Array;
  /** Header key/value pairs found (EC-Lab header, Gamry TAG lines). */
  meta: Record<string, string>;
}

/** Decodes bytes as UTF-8 when they are valid UTF-8, else as Latin-1 (EC-Lab writes Windows code pages). */
export function decodeText(bytes: Uint8Array): string {
  try {
    const s = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
  } catch {
    return new TextDecoder("latin1").decode(bytes);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Column names and units

const UNIT_CONVERSIONS: Record<string, { unit: string; factor: number }> = {
  ohm: { unit: "ohm", factor: 1 },
  mohm: { unit: "ohm", factor: 1e-3 },
  kohm: { unit: "ohm", factor: 1e3 },
  Mohm: { unit: "ohm", factor: 1e6 },
  hz: { unit: "Hz", factor: 1 },
  khz: { unit: "Hz", factor: 1e3 },
  mhz: { unit: "Hz", factor: 1e6 }, // MHz; mHz is spelled out below before lower-casing
  s: { unit: "s", factor: 1 },
  ms: { unit: "s", factor: 1e-3 },
  min: { unit: "s", factor: 60 },
  h: { unit: "s", factor: 3600 },
  v: { unit: "V", factor: 1 },
  mv: { unit: "V", factor: 1e-3 },
  a: { unit: "A", factor: 1 },
  ma: { unit: "mA", factor: 1 },
  ua: { unit: "mA", factor: 1e-3 },
  na: { unit: "mA", factor: 1e-6 },
  "ma.h": { unit: "mAh", factor: 1 },
  mah: { unit: "mAh", factor: 1 },
  "a.h": { unit: "mAh", factor: 1e3 },
  ah: { unit: "mAh", factor: 1e3 },
  deg: { unit: "deg", factor: 1 },
  "°": { unit: "deg", factor: 1 },
  "ma/cm2": { unit: "mA_cm2", factor: 1 },
  "ma/cm^2": { unit: "mA_cm2", factor: 1 },
  "mah/cm2": { unit: "mAh_cm2", factor: 1 },
  "°c": { unit: "degC", factor: 1 },
  "#": { unit: "", factor: 1 },
};

function convertUnit(raw: string): { unit: string; factor: number } {
  const u = raw.trim().replace(/Ω/g, "ohm").replace(/µ|μ/g, "u");
  if (u === "mHz") return { unit: "Hz", factor: 1e-3 };
  if (u === "MOhm" || u === "Mohm") return { unit: "ohm", factor: 1e6 };
  const hit = UNIT_CONVERSIONS[u.toLowerCase()];
  if (hit) return hit;
  return { unit: u.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, ""), factor: 1 };
}

/** Canonical quantity names for the headers cyclers write (lower-cased, spaces removed). */
const QUANTITIES: Array<[RegExp, string]> = [
  [/^(freq|frequency|f)$/, "freq"],
  [/^(re|re\(z\)|z'|zreal|z_re|zre|re_z|rez|real\(z\)|zr)$/, "re"],
  [/^(im|im\(z\)|z''|z"|zimag|z_im|zim|im_z|imz|imag\(z\)|zi)$/, "im"],
  [/^(\|z\||zmod|mod\(z\)|z_mod|modz)$/, "mod"],
  [/^(phase\(z\)|zphz|phase|phz)$/, "phase"],
  [/^(time|t)$/, "time"],
  [/^(ewe|<ewe>|e|voltage|vf|v|potential|ecell|ewe-ece)$/, "Ewe"],
  [/^(<i>|i|current|im_a|idc)$/, "I"],
  [/^(\(q-qo\)|q-qo|q|capacity|charge)$/, "Q"],
  [/^(cyclenumber|cycle)$/, "cycle"],
];

/** Splits a header like "freq/Hz", "Frequency (Hz)", "Z' [kOhm]", "time_s" into quantity and unit. */
export function parseColumnName(header: string, unitHint?: string): ColumnInfo {
  const original = header;
  let h = header.trim();
  let unitRaw = unitHint ?? "";
  let m: RegExpExecArray | null;
  if (!unitHint) {
    if ((m = /^(.*?)\s*[[(]([^()[\]]*)[\])]\s*$/.exec(h)) && !/^(re|im|mod|phase|real|imag)$/i.test(m[1]!.replace(/^-/, ""))) {
      h = m[1]!;
      unitRaw = m[2]!;
    } else if ((m = /^(.*)\/([^/]+)$/.exec(h)) && m[1] !== "") {
      h = m[1]!;
      unitRaw = m[2]!;
    } else if ((m = /^(.*)_(ohm|hz|s|v|a|ma|mah|deg|h|min)$/i.exec(h))) {
      h = m[1]!;
      unitRaw = m[2]!;
    }
  }
  let factor = 1;
  if (h.startsWith("-")) {
    factor = -1;
    h = h.slice(1).trim();
  }
  const { unit, factor: uf } = convertUnit(unitRaw);
  factor *= uf;
  const key = h.toLowerCase().replace(/\s+/g, "");
  let quantity = h.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "") || "col";
  for (const [re, q] of QUANTITIES) {
    if (re.test(key)) {
      quantity = q;
      break;
    }
  }
  const canonical: Record<string, string> = { freq: "freq", re: "re", im: "im", mod: "mod", phase: "phase" };
  const base = canonical[quantity] ?? quantity;
  const name = unit ? `${base}_${unit}` : base;
  return { name, original, unit, factor };
}

/** A number, NaN for an empty cell or an explicit NaN, null for anything else. */
function parseNumber(s: string, decimalComma: boolean): number | null {
  let t = s.trim();
  if (t === "" || /^(nan|-nan|n\/a)$/i.test(t)) return NaN;
  if (decimalComma) t = t.replace(",", ".");
  const v = Number(t);
  return Number.isNaN(v) ? null : v;
}

/**
 * Throws unless a data row has exactly the header's columns. Empty cells after the last column are allowed
 * (EC-Lab ends every row with a tab, spreadsheets a trailing separator); any other extra cell is refused,
 * because reading the first N cells of a longer row silently shifts every value into the wrong column.
 * `likelyCause` names what usually produces longer rows in this format (decimal commas in a ',' separated file).
 */
function checkRowWidth(source: string, headers: readonly ColumnInfo[], row: { line: number; cells: string[] }, likelyCause?: string): void {
  const expected = `${headers.length} columns (${headers.map((h) => h.original).join(", ")})`;
  if (row.cells.length < headers.length) {
    throw new FileFormatError("data row has fewer columns than the header", { path: source, location: `line ${row.line}`, expected, got: `${row.cells.length}` });
  }
  let last = row.cells.length;
  while (last > headers.length && row.cells[last - 1]!.trim() === "") last--;
  if (last > headers.length) {
    throw new FileFormatError(`data row has more columns than the header${likelyCause ? ` (${likelyCause})` : ""}`, {
      path: source,
      location: `line ${row.line}`,
      expected,
      got: `${last} columns: ${row.cells.slice(0, last).join(" | ")}`,
    });
  }
}

/** Builds a table from header names and text rows; throws naming file, line and column for a bad number. */
function buildTable(
  source: string,
  headers: ColumnInfo[],
  rows: Array<{ line: number; cells: string[] }>,
  decimalComma: boolean,
  meta: Record<string, string>,
  likelyCauseOfLongRows?: string,
): DataTable {
  const n = rows.length;
  const names = new Set<string>();
  for (const h of headers) {
    let name = h.name;
    for (let k = 2; names.has(name); k++) name = `${h.name}_${k}`;
    h.name = name;
    names.add(name);
  }
  const columns: Record<string, Float64Array> = {};
  for (const h of headers) columns[h.name] = new Float64Array(n);
  const lines = new Int32Array(n);
  rows.forEach((row, r) => {
    lines[r] = row.line;
    checkRowWidth(source, headers, row, likelyCauseOfLongRows);
    headers.forEach((h, c) => {
      const v = parseNumber(row.cells[c]!, decimalComma);
      if (v === null) {
        throw new FileFormatError("not a number", {
          path: source,
          location: `line ${row.line}`,
          field: h.original,
          expected: decimalComma ? "a number with decimal comma" : "a number",
          got: JSON.stringify(row.cells[c]),
        });
      }
      columns[h.name]![r] = v * h.factor;
    });
  });
  return { source, columns, info: headers, lines, meta };
}

// ---------------------------------------------------------------------------------------------------------------
// Formats

/** Parses a BioLogic EC-Lab ASCII export (.mpt). */
export function parseMpt(bytes: Uint8Array | string, source = "<mpt>"): DataTable {
  const text = typeof bytes === "string" ? bytes : decodeText(bytes);
  const lines = text.split(/\r?\n/);
  if (!/^EC-Lab ASCII FILE/i.test(lines[0]?.trim() ?? "")) {
    throw new FileFormatError("not an EC-Lab ASCII export", { path: source, location: "line 1", expected: "EC-Lab ASCII FILE", got: JSON.stringify(lines[0]?.slice(0, 40)) });
  }
  const m = /^Nb header lines\s*:\s*(\d+)/i.exec(lines[1]?.trim() ?? "");
  if (!m) {
    throw new FileFormatError("missing header-count line", { path: source, location: "line 2", expected: "Nb header lines : N", got: JSON.stringify(lines[1]) });
  }
  const nHeader = Number(m[1]);
  if (nHeader < 3 || nHeader > lines.length) {
    throw new FileFormatError("header count outside the file", { path: source, location: "line 2", expected: `3 .. ${lines.length}`, got: String(nHeader) });
  }
  const meta: Record<string, string> = {};
  for (let i = 2; i < nHeader - 1; i++) {
    const kv = /^([^:]+?)\s*:\s*(.*)$/.exec(lines[i]!);
    if (kv) meta[kv[1]!.trim()] = kv[2]!.trim();
  }
  const headerCells = lines[nHeader - 1]!.split("\t").map((s) => s.trim());
  while (headerCells.length && headerCells[headerCells.length - 1] === "") headerCells.pop();
  if (headerCells.length === 0) {
    throw new FileFormatError("empty column header line", { path: source, location: `line ${nHeader}`, expected: "tab-separated column names", got: "nothing" });
  }
  const headers = headerCells.map((h) => parseColumnName(h));
  const rows: Array<{ line: number; cells: string[] }> = [];
  let decimalComma = false;
  for (let i = nHeader; i < lines.length; i++) {
    const ln = lines[i]!;
    if (ln.trim() === "") continue;
    const cells = ln.split("\t");
    if (!decimalComma && cells.some((c) => /^\s*[-+]?\d+,\d*(E[-+]?\d+)?\s*$/i.test(c))) decimalComma = true;
    rows.push({ line: i + 1, cells });
  }
  return buildTable(source, headers, rows, decimalComma, meta);
}

/** Parses a Gamry .DTA file: the ZCURVE table (impedance) or, if absent, the first CURVE table. */
export function parseDta(bytes: Uint8Array | string, source = "<DTA>"): DataTable {
  const text = typeof bytes === "string" ? bytes : decodeText(bytes);
  const lines = text.split(/\r?\n/);
  const meta: Record<string, string> = {};
  let start = lines.findIndex((l) => /^ZCURVE\s+TABLE/.test(l));
  if (start < 0) start = lines.findIndex((l) => /^[A-Z]*CURVE\d*\s+TABLE/.test(l));
  if (start < 0) {
    throw new FileFormatError("no data table in Gamry file", { path: source, expected: "a line 'ZCURVE\\tTABLE' (or CURVE TABLE)", got: `${lines.length} lines without one` });
  }
  for (let i = 0; i < start; i++) {
    const cells = lines[i]!.split("\t");
    if (cells.length >= 3 && cells[0]) meta[cells[0]] = cells[2]!;
  }
  const names = (lines[start + 1] ?? "").split("\t");
  const units = (lines[start + 2] ?? "").split("\t");
  if (names.length < 2) {
    throw new FileFormatError("missing column names after the table line", { path: source, location: `line ${start + 2}`, expected: "tab-separated names", got: JSON.stringify(lines[start + 1]) });
  }
  // Gamry rows start with an empty cell (indent); drop it from names, units and rows alike.
  const first = names[0]!.trim() === "" ? 1 : 0;
  const headers: ColumnInfo[] = [];
  for (let c = first; c < names.length; c++) {
    const nm = names[c]!.trim();
    if (nm === "") continue;
    const info = parseColumnName(nm, (units[c] ?? "").trim());
    const key = nm.toLowerCase();
    // Gamry spells quantities its own way
    const gamry: Record<string, string> = {
      freq: "freq_Hz", zreal: "re_ohm", zimag: "im_ohm", zmod: "mod_ohm", zphz: "phase_deg", time: "time_s", pt: "point",
      im: "I_A", vf: "Ewe_V", idc: "Idc_A", vdc: "Vdc_V", zsig: "Zsig_V", ierange: "IERange",
    };
    if (gamry[key]) info.name = gamry[key]!;
    headers.push(info);
  }
  const rows: Array<{ line: number; cells: string[] }> = [];
  let decimalComma = false;
  for (let i = start + 3; i < lines.length; i++) {
    const ln = lines[i]!;
    if (/^EXPERIMENTABORTED/.test(ln) || (ln.trim() !== "" && !ln.startsWith("\t") && first === 1)) break;
    if (ln.trim() === "") continue;
    const cells = ln.split("\t").slice(first);
    if (!decimalComma && cells.some((c) => /^\s*[-+]?\d+,\d*(E[-+]?\d+)?\s*$/i.test(c))) decimalComma = true;
    rows.push({ line: i + 1, cells });
  }
  return buildTable(source, headers, rows, decimalComma, meta);
}

/**
 * Splits one CSV line at `sep`, honouring double-quoted cells ("a;b" is one cell, "" inside quotes is a quote).
 * With ',' as the separator a quoted cell holding a decimal-comma number ("5,12") is returned with a decimal
 * point: the quotes make it unambiguous, and spreadsheets in comma locales write numbers that way.
 */
function splitCsvLine(line: string, sep: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  let wasQuoted = false;
  const finish = () => {
    const t = cell.trim();
    cells.push(wasQuoted && sep === "," && /^[-+]?\d*,\d+(e[-+]?\d+)?$/i.test(t) ? t.replace(",", ".") : t);
    cell = "";
    wasQuoted = false;
  };
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell.trim() === "") {
      quoted = true;
      wasQuoted = true;
      cell = "";
    } else if (ch === sep) finish();
    else cell += ch;
  }
  finish();
  return cells;
}

/**
 * Parses CSV with unit-bearing column names ("freq/Hz", "Z' (Ohm)", "-Z'' [kOhm]", "time_s"). The separator
 * is sniffed from the header (';', tab or ','); with ';' or tab, a comma inside a number is a decimal comma.
 * With ',' an unquoted decimal comma splits a number in two, so such a file is refused by its first row that
 * ends up longer than the header (naming that cause) instead of being read with shifted columns.
 */
export function parseCsv(bytes: Uint8Array | string, source = "<csv>"): DataTable {
  const text = typeof bytes === "string" ? bytes : decodeText(bytes);
  const lines = text.split(/\r?\n/);
  let h = 0;
  while (h < lines.length && (lines[h]!.trim() === "" || lines[h]!.startsWith("#"))) h++;
  if (h >= lines.length) throw new FileFormatError("empty CSV", { path: source, expected: "a header line", got: "no lines" });
  const header = lines[h]!;
  const sep = header.includes(";") ? ";" : header.includes("\t") ? "\t" : ",";
  const headers = splitCsvLine(header, sep).map((s) => parseColumnName(s));
  const rows: Array<{ line: number; cells: string[] }> = [];
  for (let i = h + 1; i < lines.length; i++) {
    if (lines[i]!.trim() === "") continue;
    rows.push({ line: i + 1, cells: splitCsvLine(lines[i]!, sep) });
  }
  const likelyCause = sep === "," ? "decimal commas in a ',' separated file? re-export with ';' as the separator or with decimal points" : undefined;
  return buildTable(source, headers, rows, sep !== ",", {}, likelyCause);
}

function requireColumns(t: DataTable, names: string[]): Float64Array[] {
  return names.map((nm) => {
    const c = t.columns[nm];
    if (!c) {
      throw new FileFormatError("missing column", {
        path: t.source,
        field: nm,
        expected: `columns ${names.join(", ")}`,
        got: `columns ${t.info.map((i) => `${i.original} -> ${i.name}`).join(", ")}`,
      });
    }
    return c;
  });
}

/**
 * Extracts an impedance spectrum (freq_Hz, re_ohm, im_ohm) from a table; throws naming the file and line for
 * missing columns and NaNs. Rows with freq <= 0 are an error, not silently dropped.
 */
export function spectrumFromTable(t: DataTable, rows?: { start: number; end: number }): ImpedanceSpectrum {
  const [f, re, im] = requireColumns(t, ["freq_Hz", "re_ohm", "im_ohm"]);
  const a = rows?.start ?? 0;
  const b = rows?.end ?? f!.length;
  for (let i = a; i < b; i++) {
    for (const [name, col] of [["freq_Hz", f], ["re_ohm", re], ["im_ohm", im]] as const) {
      if (!Number.isFinite(col![i]!)) {
        throw new FileFormatError("missing or non-finite value", { path: t.source, location: `line ${t.lines[i]}`, field: name, expected: "a finite number", got: String(col![i]) });
      }
    }
  }
  return { freq_Hz: f!.slice(a, b), re_ohm: re!.slice(a, b), im_ohm: im!.slice(a, b), source: t.source };
}

/**
 * Splits a table holding several consecutive sweeps (EC-Lab writes one after another) at every point where the
 * frequency jumps back up, returning one spectrum per sweep.
 */
export function spectraFromTable(t: DataTable): ImpedanceSpectrum[] {
  const [f] = requireColumns(t, ["freq_Hz"]);
  const out: ImpedanceSpectrum[] = [];
  let start = 0;
  for (let i = 1; i <= f!.length; i++) {
    if (i === f!.length || f![i]! > f![i - 1]! * 1.0000001 !== f![1]! > f![0]! * 1.0000001) {
      if (i - start >= 2 || i === f!.length) out.push(spectrumFromTable(t, { start, end: i }));
      start = i;
    }
  }
  return out;
}

/** Converts a table to a danfojs DataFrame (columns under canonical names). Imports danfojs lazily. */
export async function tableToDataFrame(t: DataTable): Promise<DataFrame> {
  const dfd = await import("danfojs-node");
  const data: Record<string, number[]> = {};
  for (const info of t.info) data[info.name] = Array.from(t.columns[info.name]!);
  return new dfd.DataFrame(data);
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new FileFormatError("cannot read file", { path, got: (e as Error).message }, { cause: e });
  }
}

/** Reads a BioLogic .mpt file into a DataFrame (see parseMpt for names and units). */
export async function readMpt(path: string): Promise<DataFrame> {
  return tableToDataFrame(parseMpt(await readBytes(path), path));
}

/** Reads a Gamry .DTA file into a DataFrame (see parseDta). */
export async function readDta(path: string): Promise<DataFrame> {
  return tableToDataFrame(parseDta(await readBytes(path), path));
}

/** Reads a CSV with unit-bearing column names into a DataFrame (see parseCsv). */
export async function readCsv(path: string): Promise<DataFrame> {
  return tableToDataFrame(parseCsv(await readBytes(path), path));
}

/** Reads any of the three formats by extension (.mpt, .dta, else CSV) into a table. */
export async function readTable(path: string): Promise<DataTable> {
  const bytes = await readBytes(path);
  const lower = path.toLowerCase();
  if (lower.endsWith(".mpt")) return parseMpt(bytes, path);
  if (lower.endsWith(".dta")) return parseDta(bytes, path);
  return parseCsv(bytes, path);
}
