/**
 * The volume steps of the main job: the twin's dataset (or a user's OME-Zarr), its pyramid, the U-Net labels and
 * the quantification of each label image. Each is a StepSpec; job.ts composes them with the others.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { analyseOperando, operandoTables } from "../analysis/index.js";
import { checkCompatible, loadSegmentModel, segmentImage } from "../segment/index.js";
import { generateTwin, MANIFEST_FILE, ELECTROCHEM_FILE, XAS_FILE, type TwinParameters } from "../twin/index.js";
import { VolumeError } from "../util/errors.js";
import { buildPyramid, OmeImage } from "../volume/index.js";
import { readFileSync } from "node:fs";
import { jsonIdentity, treeIdentity } from "../util/identity.js";
import { StepNotApplicable, type StepSpec } from "./step.js";
import { writeTableSet } from "./tables.js";

/** Level-0 arrays and side files of a twin store: what the twin step writes (pyramid levels are the next step's). */
export const TWIN_OUTPUTS = ["0", "labels/material/0", "labels/segmentation/0", MANIFEST_FILE, ELECTROCHEM_FILE, XAS_FILE];
export const PYRAMID_LEVELS = 3;

export function twinStep(store: string, params: TwinParameters): StepSpec {
  return {
    name: "dataset",
    describe: `generate the digital twin (preset '${params.preset}', seed ${params.seed})`,
    version: 1,
    after: [],
    code: ["src/twin", "src/volume"],
    params: { source: "twin", parameters: params },
    outputs: { root: store, paths: TWIN_OUTPUTS },
    async run() {
      const r = await generateTwin(params, store, { overwrite: true });
      return { summary: `${r.blocks} blocks, short circuit at ${r.manifest.short_h.toFixed(2)} h`, values: { short_h: r.manifest.short_h } };
    },
  };
}

/** A user's OME-Zarr: nothing is generated; its level-0 image and metadata are the identity of everything after it. */
/**
 * Identity of an image's metadata that analysis depends on (axes, units, scales of level 0, time points, experiment),
 * leaving out the list of pyramid levels, which the pyramid step adds.
 */
export function imageMetadataIdentity(store: string): string {
  for (const [file, pick] of [[".zattrs", (j: Record<string, unknown>) => j], ["zarr.json", (j: Record<string, unknown>) => (j.attributes ?? {}) as Record<string, unknown>]] as const) {
    const path = join(store, file);
    if (!existsSync(path)) continue;
    const attrs = structuredClone(pick(JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>));
    const ome = (attrs.ome ?? attrs) as Record<string, unknown>;
    const ms = ome.multiscales;
    if (Array.isArray(ms)) for (const m of ms as Array<Record<string, unknown>>) if (Array.isArray(m.datasets)) m.datasets = m.datasets.slice(0, 1);
    return jsonIdentity(attrs);
  }
  return "no metadata";
}

export function userDatasetStep(store: string): StepSpec {
  return {
    name: "dataset",
    describe: `read the OME-Zarr ${store}`,
    version: 1,
    after: [],
    params: { source: "user" },
    // Metadata counts through `external` (the pyramid step rewrites .zattrs, so the file itself is not an identity).
    external: () => ({ metadata: imageMetadataIdentity(store) }),
    outputs: { root: store, paths: ["0", "labels/segmentation/0", MANIFEST_FILE, ELECTROCHEM_FILE, XAS_FILE] },
    async run() {
      if (!existsSync(store)) throw new VolumeError("dataset not found", { path: store, expected: "an OME-Zarr image (ssbct import makes one from TIFF or HDF5)" });
      const img = await OmeImage.open(store);
      return { summary: `${img.shapeZYX.join(" x ")} voxels of ${img.voxelSizeUm.join(" x ")} µm, ${img.timePointsH.length} time points` };
    },
  };
}

export function pyramidStep(store: string): StepSpec {
  const paths: string[] = [];
  for (let l = 1; l < PYRAMID_LEVELS; l++) paths.push(String(l), `labels/material/${l}`, `labels/segmentation/${l}`);
  return {
    name: "pyramid",
    describe: "multiscale pyramid (image: mean, labels: mode) for viewers and 3D figures",
    version: 1,
    after: ["dataset"],
    code: ["src/volume/pyramid.ts"],
    params: { levels: PYRAMID_LEVELS },
    outputs: { root: store, paths },
    async run() {
      const img = await OmeImage.open(store);
      await buildPyramid(img, { levels: PYRAMID_LEVELS, method: "mean" });
      const names = await img.labelNames();
      for (const name of ["material", "segmentation"]) if (names.includes(name)) await buildPyramid(await img.openLabels(name), { levels: PYRAMID_LEVELS, method: "mode" });
      return { summary: `${PYRAMID_LEVELS} levels` };
    },
  };
}

/**
 * U-Net labels (labels/unet). Resuming is segmentImage's own decision: its job record holds the image's identity,
 * the model and the settings, so a partial run is resumed only on the same inputs and replaced otherwise.
 */
export function segmentStep(store: string, modelDir: string): StepSpec {
  return {
    name: "segment",
    describe: `U-Net segmentation with ${modelDir.split(/[\\/]/).slice(-2).join("/")} -> labels/unet`,
    version: 1,
    after: ["dataset"],
    code: ["src/segment/infer.ts", "src/segment/sliding-window.ts", "src/segment/normalise.ts", "src/segment/engines.ts", "src/segment/onnx-export.ts"],
    params: { labelName: "unet" },
    external: () => ({ model: treeIdentity(modelDir, ["model.json", "weights.bin"]).content }),
    outputs: { root: store, paths: ["labels/unet"] },
    async run() {
      const img = await OmeImage.open(store);
      const model = await loadSegmentModel(modelDir);
      try {
        checkCompatible(img, model);
      } catch (e) {
        throw new StepNotApplicable(`the shipped model does not apply to this image: ${e instanceof Error ? e.message : String(e)}`);
      }
      const seg = await segmentImage(img, model, { labelName: "unet", overwriteForeign: false });
      const replaced = seg.replaced ? `; earlier labels replaced: ${seg.replaced}` : "";
      return { summary: `${seg.chunksWritten} chunks written, ${seg.chunksSkipped} resumed (${seg.engine})${replaced}`, values: { chunksWritten: seg.chunksWritten } };
    },
  };
}

/** Quantification of one label image -> <resultsDir>/<dirName>/ (CSV per table + tables.json). */
export function quantifyStep(store: string, labelName: string, dirName: string, after: string[]): StepSpec {
  return {
    name: `quantify-${dirName}`,
    describe: `voids vs depth, porosity, Li vs Faraday, nucleation from labels/${labelName}`,
    version: 1,
    after,
    code: ["src/analysis"],
    params: { labelName, connectivity: 26, binWidth_um: 20 },
    outputs: { root: ".", paths: [dirName] },
    applies: () => (existsSync(join(store, "labels", labelName)) ? null : `the dataset has no labels/${labelName}`),
    async run(ctx) {
      const img = await OmeImage.open(store);
      const lab = await img.openLabels(labelName);
      const r = await analyseOperando(lab, { experiment: img.experiment, connectivity: 26, binWidth_um: 20, progress: false });
      if (r.notes.length) throw new VolumeError("the label image lacks metadata the quantification needs", { path: lab.path, got: r.notes.join(" ") });
      rmSync(join(ctx.resultsDir, dirName), { recursive: true, force: true });
      writeTableSet(join(ctx.resultsDir, dirName), operandoTables(r));
      const ts = r.timeSeries.columns;
      const last = (ts.time_h?.length ?? 1) - 1;
      return { summary: `${(ts.deposited_lithium_um3?.[last] as number).toFixed(0)} µm³ deposited Li at ${String(ts.time_h?.[last])} h`, values: { depositedLi_um3: ts.deposited_lithium_um3?.[last] as number } };
    },
  };
}
