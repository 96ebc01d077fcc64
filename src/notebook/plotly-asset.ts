/**
 * Where plotly.js lives on this machine. Figures never carry it (4.8 MB): notebooks load it from the project's
 * node_modules through the Jupyter server, exported HTML from one copy beside the page.
 */
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
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
