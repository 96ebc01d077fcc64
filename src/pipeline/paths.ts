/** Where the main job reads and writes, from its options: one place so the job, the CLI and the notebooks agree. */
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../datasets/index.js";

export interface JobOptions {
  /** Project root holding data/ (default: the current folder, or its parent when run from notebooks/). */
  root?: string;
  /** Twin preset to generate (default "default"); ignored when `data` is given. */
  preset?: string;
  /** A user's OME-Zarr to analyse instead of the twin (SSB_CT_DATASET in notebooks). */
  data?: string;
  /** Segmentation model folder (default: the shipped data/models/unet-default). */
  modelDir?: string;
  resultsDir?: string;
  figuresDir?: string;
}

export interface JobPaths {
  root: string;
  /** Short name of the run (preset or dataset file name), used in folder names. */
  name: string;
  store: string;
  source: "twin" | "user";
  preset: string;
  resultsDir: string;
  figuresDir: string;
  modelDir: string;
  /** Folder of the committed notebooks. */
  notebooksDir: string;
}

/** The checkout this module belongs to (where data/models and notebooks/ are), whichever folder the job runs in. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "data", "models"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export function jobPaths(o: JobOptions = {}): JobPaths {
  const root = resolve(o.root ?? projectRoot());
  const data = o.data ?? (process.env.SSB_CT_DATASET || undefined);
  const preset = o.preset ?? process.env.SSB_CT_PRESET ?? "default";
  const name = data ? basename(data).replace(/\.ome\.zarr$|\.zarr$/, "") : preset;
  const gen = join(root, "data", "generated");
  const pkg = packageRoot();
  return {
    root,
    name,
    store: data ? resolve(root, data) : join(gen, `twin-${preset}.ome.zarr`),
    source: data ? "user" : "twin",
    preset,
    resultsDir: resolve(root, o.resultsDir ?? join(gen, `results-${name}`)),
    figuresDir: resolve(root, o.figuresDir ?? join(gen, name === "default" && !data ? "figures" : `figures-${name}`)),
    modelDir: resolve(root, o.modelDir ?? join(pkg, "data", "models", "unet-default")),
    notebooksDir: join(pkg, "notebooks"),
  };
}
