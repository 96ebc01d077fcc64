/**
 * A set of result tables on disk: one CSV per table (for users) and one JSON with all of them (for reading back
 * exactly). The JSON results are final outputs: written with fsync, so a power loss leaves the old or the new file.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeTables, type ResultTable } from "../analysis/table.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { FileFormatError } from "../util/errors.js";
import { stableJson } from "../util/identity.js";

export const TABLES_JSON = "tables.json";

export function writeTableSet(dir: string, tables: ResultTable[]): string[] {
  const files = writeTables(dir, tables);
  writeFileAtomic(join(dir, TABLES_JSON), stableJson({ format: "ssb-ct-tables", version: 1, tables }), { fsync: true });
  return [...files, join(dir, TABLES_JSON)];
}

export function readTableSet(dir: string): Record<string, ResultTable> {
  const p = join(dir, TABLES_JSON);
  if (!existsSync(p)) throw new FileFormatError("result tables missing", { path: p, expected: "tables.json written by the pipeline" });
  const j = JSON.parse(readFileSync(p, "utf8"), (_k, v: unknown) => (v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v)) as { format?: string; tables?: ResultTable[] };
  if (j.format !== "ssb-ct-tables" || !Array.isArray(j.tables)) throw new FileFormatError("not a result table set", { path: p, field: "format", expected: "ssb-ct-tables" });
  return Object.fromEntries(j.tables.map((t) => [t.name, t]));
}

/** A JSON result (numbers, arrays, plain objects) written atomically with NaN/Infinity kept. */
export function writeJsonResult(path: string, value: unknown): void {
  writeFileAtomic(path, stableJson(value), { fsync: true });
}

export function readJsonResult<T>(path: string): T {
  if (!existsSync(path)) throw new FileFormatError("result file missing", { path, expected: "written by the pipeline" });
  return JSON.parse(readFileSync(path, "utf8"), (_k, v: unknown) => (v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : v)) as T;
}
