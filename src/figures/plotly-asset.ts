/**
 * Where plotly.js lives on this machine. Figures never carry it (4.8 MB): notebooks load it from the project's
 * node_modules through the Jupyter server, exported HTML from one copy beside the page.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../util/atomic-write.js";
import { FileFormatError } from "../util/errors.js";

const SCRIPT = "plotly.js-dist-min/plotly.min.js";

function resolveFrom(fromFile: string): string | null {
  try {
    return createRequire(fromFile).resolve(SCRIPT);
  } catch {
    return null;
  }
}

function thisFile(): string | null {
  try {
    return import.meta.url ? fileURLToPath(import.meta.url) : null;
  } catch {
    return null;
  }
}

/** Absolute path of plotly.min.js as seen from `dir` (default: the working directory), else from this module. */
export function plotlyScriptFile(dir = process.cwd()): string {
  const here = thisFile();
  const found = resolveFrom(join(dir, "noop.js")) ?? (here ? resolveFrom(here) : null);
  if (!found) throw new FileFormatError("plotly.js not found", { path: SCRIPT, expected: "the plotly.js-dist-min package installed (npm ci)" });
  return found;
}

/**
 * plotly.min.js relative to `dir` with "/" separators (what a browser joins to the notebook's URL folder), or null
 * when it is not installed.
 */
export function plotlyScriptRelative(dir = process.cwd()): string | null {
  try {
    return relative(dir, plotlyScriptFile(dir)).split(sep).join("/");
  } catch {
    return null;
  }
}

/** File name of plotly.js beside exported pages (one copy per folder). */
export const PLOTLY_SCRIPT_NAME = "plotly.min.js";

/** Copies plotly.min.js into `dir` unless the same file is there already; returns its path. */
export function copyPlotlyScript(dir: string): string {
  const src = plotlyScriptFile();
  const dest = join(dir, PLOTLY_SCRIPT_NAME);
  if (existsSync(dest) && statSync(dest).size === statSync(src).size) return dest;
  writeFileAtomic(dest, readFileSync(src));
  return dest;
}
