/**
 * Result tables: named columns with units in their names (`depth_um`, `void_volume_um3`), written as CSV or handed
 * over as danfojs-node DataFrames. danfojs (and the TF.js it loads) is imported only when a DataFrame is asked for.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { ParameterError } from "../util/errors.js";

export type Cell = number | string | boolean | null;

/** Column-wise table; every column has the same length and its unit in its name. */
export interface ResultTable {
  name: string;
  columns: Record<string, Cell[]>;
}

/** A row type: column name (with its unit suffix) -> cell. */
export type Row = Record<string, Cell>;

/** Every column of a row type, in table order (an object literal's key order is the CSV's column order). */
export type Columns<R extends Row> = { readonly [K in keyof R]-?: true };

/**
 * A table filled row by row whose rows the compiler checks: a row lacking a column, with a column the table does
 * not have, or with a cell of the wrong type does not compile. Columns are those of `columns`, in its order.
 */
export class TableBuilder<R extends Row> {
  private readonly names: Array<keyof R & string>;
  private readonly cols: { [K in keyof R]: Array<R[K]> };

  constructor(
    readonly name: string,
    columns: Columns<R>,
  ) {
    this.names = Object.keys(columns) as Array<keyof R & string>;
    this.cols = Object.fromEntries(this.names.map((k) => [k, []])) as unknown as { [K in keyof R]: Array<R[K]> };
  }

  push(row: R): void {
    for (const k of this.names) this.cols[k].push(row[k]);
  }

  get length(): number {
    const first = this.names[0];
    return first === undefined ? 0 : this.cols[first].length;
  }

  /** The rows reordered by ascending `key` (a number column; stable for ties). */
  sortBy(key: { [K in keyof R]: R[K] extends number ? K : never }[keyof R]): void {
    const col = this.cols[key] as number[];
    const idx = col.map((_, i) => i).sort((a, b) => (col[a] ?? NaN) - (col[b] ?? NaN));
    for (const k of this.names) {
      const c = this.cols[k];
      this.cols[k] = idx.map((i) => c[i] as R[typeof k]);
    }
  }

  /** The column-wise table (the builder's arrays, not copies). */
  build(): ResultTable {
    return { name: this.name, columns: this.cols as Record<string, Cell[]> };
  }
}

export function tableRows(t: ResultTable): number {
  const lens = Object.values(t.columns).map((c) => c.length);
  if (lens.some((l) => l !== lens[0]))
    throw new ParameterError("table columns differ in length", { field: t.name, got: JSON.stringify(Object.fromEntries(Object.entries(t.columns).map(([k, v]) => [k, v.length]))) });
  return lens[0] ?? 0;
}

function csvCell(v: Cell): string {
  if (v === null) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  if (typeof v === "boolean") return v ? "true" : "false";
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** RFC 4180 CSV with a header row of the unit-bearing column names. */
export function toCsv(t: ResultTable): string {
  const n = tableRows(t);
  const names = Object.keys(t.columns);
  const lines = [names.map(csvCell).join(",")];
  for (let i = 0; i < n; i++) lines.push(names.map((k) => csvCell(t.columns[k]![i]!)).join(","));
  return lines.join("\n") + "\n";
}

/** Writes the table as CSV atomically (a crash leaves the old file or the whole new one). */
export function writeCsv(path: string, t: ResultTable): void {
  writeFileAtomic(path, toCsv(t));
}

/** The table as a danfojs-node DataFrame (columns in the table's order). */
export async function toDataFrame(t: ResultTable): Promise<import("danfojs-node").DataFrame> {
  tableRows(t);
  const dfd = await import("danfojs-node");
  const cols = Object.keys(t.columns);
  // Row arrays keep the table's column order (an object of columns comes back sorted by name).
  const n = tableRows(t);
  const rows: Cell[][] = Array.from({ length: n }, (_, i) => cols.map((k) => {
    const v = t.columns[k]![i]!;
    return typeof v === "number" && !Number.isFinite(v) ? NaN : v;
  }));
  return new dfd.DataFrame(rows, { columns: cols });
}

/** Writes each table as `<dir>/<table.name>.csv`; returns the paths written. */
export function writeTables(dir: string, tables: ResultTable[]): string[] {
  const names = new Set<string>();
  return tables.map((t) => {
    if (!/^[A-Za-z0-9._-]+$/.test(t.name) || names.has(t.name))
      throw new ParameterError("table names must be unique file-name-safe words", { field: "name", expected: "letters, digits, . _ - (unique)", got: t.name });
    names.add(t.name);
    const path = join(dir, `${t.name}.csv`);
    writeCsv(path, t);
    return path;
  });
}

/** The same table with only `names` (in that order); a name it lacks is a ParameterError naming the table. */
export function selectColumns(t: ResultTable, names: string[]): ResultTable {
  const missing = names.filter((n) => !(n in t.columns));
  if (missing.length) throw new ParameterError("table lacks columns", { field: t.name, expected: missing.join(", "), got: Object.keys(t.columns).join(", ") });
  return { name: t.name, columns: Object.fromEntries(names.map((n) => [n, t.columns[n]!])) };
}
