/** Typed access to result-table columns for the figure functions: a missing or non-numeric column is a named error. */
import type { ResultTable } from "../analysis/table.js";
import { FileFormatError } from "../util/errors.js";

/** The numeric column `name` of `table` (null and non-numbers read as NaN), or a FileFormatError naming it. */
export function numbers(table: ResultTable, name: string): number[] {
  const c = table.columns[name];
  if (!c)
    throw new FileFormatError("result table lacks a column the figure needs", { field: `${table.name}.${name}`, expected: name, got: Object.keys(table.columns).join(", ") });
  return c.map((v) => (typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN));
}

/** Formats a number with `digits` significant digits, without exponent for everyday magnitudes. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** The value of `column` in the row whose time_h equals `time_h` (to 1e-6 h); NaN when no row has that time. */
export function atTime(table: ResultTable, column: string, time_h: number): number {
  const t = numbers(table, "time_h");
  const i = t.findIndex((x) => Math.abs(x - time_h) < 1e-6);
  return i < 0 ? NaN : numbers(table, column)[i]!;
}
