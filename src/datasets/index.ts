/**
 * Where the notebooks and the main job find their data. In order: the SSB_CT_DATASET environment variable (any
 * OME-Zarr, e.g. a beamline volume imported with volume.importTiffStack), the twin's `default` dataset written by
 * `npm run reproduce`, or else the twin's small `ci` dataset, generated on first use in a few seconds.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateTwin, presetParameters, MANIFEST_FILE } from "../twin/index.js";
import { FileFormatError } from "../util/errors.js";

export interface DatasetOptions {
  /** Project root (where data/ lives); default: the current directory or its parent (notebooks run in notebooks/). */
  root?: string;
  /**
   * Preset to generate when nothing else exists. "default-column": the `default` preset's physics and 2 um voxels
   * (what the shipped segmentation model was trained on) in a 96 x 96 voxel column, generated in seconds.
   */
  fallbackPreset?: "ci" | "default" | "default-column";
}

/** The project folder holding data/: the working directory, or its parent when run from notebooks/. */
export function projectRoot(): string {
  for (const c of [process.cwd(), resolve(process.cwd(), "..")]) if (existsSync(join(c, "data")) && existsSync(join(c, "package.json"))) return c;
  return process.cwd();
}

export async function resolveDataset(options: DatasetOptions = {}): Promise<string> {
  const env = process.env.SSB_CT_DATASET;
  const root = options.root ?? projectRoot();
  if (env) return resolve(root, env);
  const def = join(root, "data", "generated", "twin-default.ome.zarr");
  if (existsSync(join(def, MANIFEST_FILE))) return def;
  const preset = options.fallbackPreset ?? "ci";
  const path = join(root, "data", "generated", `twin-${preset}.ome.zarr`);
  const params = preset === "default-column" ? presetParameters("default", { geometry: { nyx: [96, 96] } }) : presetParameters(preset);
  if (!existsSync(join(path, MANIFEST_FILE))) await generateTwin(params, path, { overwrite: true });
  return path;
}

/** Folder of a model shipped in data/models (default: the phase + absorption U-Net used by the main job). */
export function shippedModel(name = "unet-default", options: { root?: string } = {}): string {
  const dir = join(options.root ?? projectRoot(), "data", "models", name);
  if (!existsSync(join(dir, "model.json")))
    throw new FileFormatError("no such shipped model", { path: join(dir, "model.json"), expected: "a folder of data/models with model.json + weights.bin (see data/models/README.md)", got: name });
  return dir;
}
export { writeExampleScan, writeExampleAnnotations, type ExampleScanOptions, type ExampleScan, type ExampleStack, type ScanChannel, type ExampleAnnotationOptions } from "./example-scan.js";
