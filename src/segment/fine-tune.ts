/**
 * Fine-tuning a saved model on a user's own (sparse) labels (issue 16): starts from the parent's weights with fresh
 * Adam moments and the poly schedule over the new steps, inherits the parent's training recipe (patch, batch,
 * oversampling, augmentation) except steps and learning rate (plans.ts `DEFAULT_FINE_TUNE`), keeps the parent's input
 * normalisation unless asked to re-estimate it, and records the parent (name, fingerprint, weights hash, its
 * training data) in the new model's record, with the annotated fraction of the new labels and the class means that
 * name the baselines of `report`.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ParameterError } from "../util/errors.js";
import { initTf } from "./tf.js";
import { DEFAULT_FINE_TUNE, DEFAULT_TRAIN, type FineTuneConfig, type TrainConfig } from "./plans.js";
import { loadSegmentModel, modelFingerprint, type ParentModel, type SegmentModel } from "./model-io.js";
import { buildUNet } from "./unet.js";
import { normalisationFor, toTrainingVolume, type RawVolume } from "./data.js";
import { trainSegmentModel, type TrainOptions, type TrainResult } from "./train.js";
import { annotatedCount } from "./metrics.js";
import { trainingClassMeans } from "./report.js";

export interface FineTuneOptions extends Partial<FineTuneConfig> {
  /** Further training settings over the parent's recipe (e.g. patchZYX, batchSize); steps / learningRate come from above. */
  config?: Partial<TrainConfig>;
  /** Name of the parent in the record when it is passed as a loaded model (default: its folder name when given a folder). */
  parentName?: string;
  /** Passed to `trainSegmentModel`: checkpoints (resumable), validation, progress, log. */
  train?: Omit<TrainOptions, "config">;
}

export interface FineTuneResult extends TrainResult {
  /** Loss of the first and last steps, and the mean over the first and last tenth of the steps. */
  loss: { first: number; last: number; firstTenthMean: number; lastTenthMean: number };
  seconds: number;
}

/** A copy of a loaded model (same architecture, weights and record) that training may change. */
async function cloneModel(sm: SegmentModel): Promise<SegmentModel> {
  await initTf();
  const model = buildUNet(sm.record.unet);
  model.setWeights(sm.model.getWeights());
  return { model, record: structuredClone(sm.record) }; // structuredClone keeps the infinite clip bounds
}

/** The parent's SHA-256 of weights.bin as its model.json records it (checked when it was loaded). */
function recordedWeightsSha(dir: string): string | null {
  const p = join(dir, "model.json");
  if (!existsSync(p)) return null;
  try {
    const j = JSON.parse(readFileSync(p, "utf8")) as { ssbCt?: { weightsSha256?: unknown } };
    return typeof j.ssbCt?.weightsSha256 === "string" ? j.ssbCt.weightsSha256 : null;
  } catch {
    return null;
  }
}

/**
 * Fine-tunes `parent` (a model folder, loaded fresh, or a loaded model, copied: the parent is never changed) on raw
 * volumes whose labels may be sparse (IGNORE_LABEL = not annotated). Returns the new model (not saved: the caller
 * saves it with `saveSegmentModel`) and its training state.
 */
export async function fineTuneModel(parent: string | SegmentModel, data: readonly RawVolume[], options: FineTuneOptions = {}): Promise<FineTuneResult> {
  const t0 = performance.now();
  if (!data.length) throw new ParameterError("no volumes to fine-tune on", { field: "data", expected: "at least one labelled volume" });
  const ft: FineTuneConfig = { ...DEFAULT_FINE_TUNE, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k in DEFAULT_FINE_TUNE)) };
  if (!(Number.isInteger(ft.steps) && ft.steps >= 1)) throw new ParameterError("fine-tuning steps must be a positive integer", { field: "steps", got: String(ft.steps) });
  if (!(ft.learningRate > 0)) throw new ParameterError("learning rate must be positive", { field: "learningRate", got: String(ft.learningRate) });
  const loaded = typeof parent === "string" ? await loadSegmentModel(parent) : parent;
  const sm = typeof parent === "string" ? loaded : await cloneModel(loaded);
  const pr = loaded.record;
  const parentRecord: ParentModel = {
    name: options.parentName ?? (typeof parent === "string" ? basename(parent) : "(in memory)"),
    fingerprint: modelFingerprint(loaded),
    weightsSha256: typeof parent === "string" ? recordedWeightsSha(parent) : null,
    stepsDone: pr.training.stepsDone,
    data: [...pr.training.data],
  };
  const channels = pr.unet.channels;
  const norm = ft.renormalise ? normalisationFor(channels, data) : pr.normalisation;
  sm.record.normalisation = norm;
  const labels = data.map((v) => v.labels);
  let annotatedVoxels = 0;
  let total = 0;
  for (const l of labels) {
    annotatedVoxels += annotatedCount(l).voxels;
    total += l.length;
  }
  if (!annotatedVoxels) throw new ParameterError("the labels hold no annotated voxel", { field: data.map((d) => d.source).join(", "), expected: "some class labels (not 255)" });
  sm.record.training = {
    data: [],
    config: null,
    stepsDone: 0,
    parent: parentRecord,
    normalisationFrom: ft.renormalise ? "re-estimated" : "parent",
    annotated: { voxels: annotatedVoxels, fraction: annotatedVoxels / total },
  };
  sm.record.metrics = {};
  sm.record.classMeans = trainingClassMeans(data, channels, pr.unet.classes.length);
  sm.record.createdAt = new Date().toISOString();
  // the parent's recipe, else the training defaults; what the fine-tuning plan sets wins
  const base: TrainConfig = pr.training.config ?? DEFAULT_TRAIN;
  const config: Partial<TrainConfig> = {
    ...base,
    checkpointEvery: 0,
    ...(options.config ?? {}),
    steps: ft.steps,
    learningRate: ft.learningRate,
    seed: ft.seed,
    validateEvery: ft.validateEvery,
  };
  const res = await trainSegmentModel(
    sm,
    data.map((v) => toTrainingVolume(v, norm)),
    { ...(options.train ?? {}), config },
  );
  const l = res.state.losses.map((e) => e.loss);
  const tenth = Math.max(1, Math.floor(l.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    ...res,
    loss: { first: l[0] ?? NaN, last: l[l.length - 1] ?? NaN, firstTenthMean: mean(l.slice(0, tenth)), lastTenthMean: mean(l.slice(-tenth)) },
    seconds: (performance.now() - t0) / 1000,
  };
}
