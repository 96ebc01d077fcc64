/**
 * `ssbct train`: trains the 3D U-Net on labelled OME-Zarr images (seeded; resumable from a checkpoint folder). Every
 * default comes from src/segment/plans.ts; the saved model records the command line that made it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_FINE_TUNE, DEFAULT_TRAIN, DEFAULT_UNET, type ChannelName, type TrainConfig, type UNetConfig } from "../segment/plans.js";
import { requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";
import { portableCommand, rawVolumes } from "./segment-data.js";

export const command: CommandSpec = {
  name: "train",
  summary: "Trains the 3D U-Net segmenter (electrolyte / void / lithium) on OME-Zarr images with ground-truth labels; writes a model folder (TF.js weights, ONNX, model.json with its record).",
  usage: "--data STORE[,STORE...] --out DIR [options]",
  description: "Runs on pure-JS TF.js (or tfjs-node where it installs). With --checkpoint DIR, an interrupted run continues from its last checkpoint on --resume.",
  options: {
    data: { type: "string", value: "STORE,...", help: "training images (every time point of each)" },
    out: { type: "string", value: "DIR", help: "model folder to write" },
    truth: { type: "string", value: "NAME", default: "segmentation", help: "label image under labels/ holding the truth" },
    val: { type: "string", value: "STORE,...", help: "validation images (patch-wise validation loss)" },
    "val-volumes": { type: "string", value: "STORE,...", help: "images for whole-volume validation (Dice); the best model goes to --best" },
    "val-t": { type: "string", value: "t,...", default: "-1", help: "time points of --val-volumes (negative counts from the end)" },
    best: { type: "string", value: "DIR", help: "where the best model by whole-volume validation is kept" },
    channels: { type: "string", value: "c,...", default: DEFAULT_UNET.channels.join(","), help: "input channels" },
    depth: { type: "string", value: "N", default: String(DEFAULT_UNET.depth), help: "U-Net levels" },
    base: { type: "string", value: "N", default: String(DEFAULT_UNET.baseFilters), help: "filters of the first level" },
    norm: { type: "string", value: "instance|none", default: DEFAULT_UNET.norm, help: "normalisation layers" },
    steps: { type: "string", value: "N", default: String(DEFAULT_TRAIN.steps), help: "optimiser steps" },
    patch: { type: "string", value: "vox", default: String(DEFAULT_TRAIN.patchZYX[0]), help: "cubic patch edge, voxels (a multiple of 2^(depth-1))" },
    batch: { type: "string", value: "N", default: String(DEFAULT_TRAIN.batchSize), help: "patches per step" },
    lr: { type: "string", value: "RATE", default: String(DEFAULT_TRAIN.learningRate), help: "Adam learning rate at step 0 (poly decay)" },
    oversample: { type: "string", value: "P", default: String(DEFAULT_TRAIN.oversampleRare), help: "share of patches centred on a rare class, 0-1" },
    "oversample-boundary": { type: "string", value: "P", default: String(DEFAULT_TRAIN.oversampleBoundary), help: "share of those centred on a class boundary, 0-1" },
    "validate-every": { type: "string", value: "N", default: String(DEFAULT_TRAIN.validateEvery), help: "steps between validations" },
    "checkpoint-every": { type: "string", value: "N", default: String(DEFAULT_TRAIN.checkpointEvery), help: "steps between checkpoints" },
    seed: { type: "string", value: "N", default: String(DEFAULT_UNET.seed), help: "seed of weights and patch sampling" },
    checkpoint: { type: "string", value: "DIR", help: "checkpoint folder (written every --checkpoint-every steps)" },
    resume: { type: "boolean", help: "continue from the checkpoint in --checkpoint" },
    init: { type: "string", value: "DIR", help: `fine-tune this saved model instead of training a new one (its architecture, channels and recipe; ${DEFAULT_FINE_TUNE.steps} steps at lr ${DEFAULT_FINE_TUNE.learningRate} unless --steps / --lr)` },
    renormalise: { type: "boolean", help: "with --init: normalise the inputs by the new data instead of keeping the parent's normalisation" },
  },
  examples: ["ssbct train --data a.ome.zarr,b.ome.zarr --val c.ome.zarr --out my-model --steps 2000 --seed 1", "ssbct train --init data/models/unet-default --data my-scan.ome.zarr --truth sparse --out my-model"],
  json: true,
  overwrite: true,
  async run(ctx: CommandContext) {
    const data = ctx.req("data").split(",");
    for (const d of data) requireInput(d, "--data");
    const out = ctx.req("out");
    const channels = ctx.req("channels").split(",") as ChannelName[];
    const norm = ctx.choice("norm", ["instance", "none"] as const)!;
    const unet: UNetConfig = { ...DEFAULT_UNET, channels, depth: ctx.num("depth", { integer: true, min: 1, max: 6 })!, baseFilters: ctx.num("base", { integer: true, min: 1 })!, norm, seed: ctx.num("seed", { integer: true, min: 0 })! };
    const p = ctx.num("patch", { integer: true, min: 1, unit: "voxels" })!;
    const config = {
      patchZYX: [p, p, p] as [number, number, number],
      steps: ctx.num("steps", { integer: true, min: 1 })!,
      batchSize: ctx.num("batch", { integer: true, min: 1 })!,
      learningRate: ctx.num("lr", { min: 0 })!,
      seed: ctx.num("seed", { integer: true, min: 0 })!,
      oversampleRare: ctx.num("oversample", { min: 0, max: 1 })!,
      oversampleBoundary: ctx.num("oversample-boundary", { min: 0, max: 1 })!,
      validateEvery: ctx.num("validate-every", { integer: true, min: 1 })!,
      checkpointEvery: ctx.num("checkpoint-every", { integer: true, min: 1 })!,
    };
    if (ctx.flag("resume") && !ctx.has("checkpoint")) throw new UsageError("--resume needs --checkpoint DIR", { field: "--resume" });
    // A finished model in --out is another run's result: refused before hours of training, unless --overwrite.
    if (existsSync(join(out, "model.json")) && !ctx.overwrite) throw new UsageError("--out already holds a model (pass --overwrite to replace it, or --checkpoint DIR --resume to continue a run)", { path: out, field: "--out" });
    const truth = ctx.req("truth");
    const valT = ctx.nums("val-t", { integer: true })!;
    const init = ctx.opt("init");
    if (init !== undefined) {
      const fixed = ["channels", "depth", "base", "norm"].filter((k) => ctx.has(k));
      if (fixed.length) throw new UsageError(`--${fixed[0]} comes from the parent model with --init`, { field: `--${fixed[0]}` });
    }
    if (init !== undefined) return fineTune(ctx, requireInput(init, "--init"), data, out, truth, valT, config);
    const { createSegmentModel, saveSegmentModel } = await import("../segment/model-io.js");
    const { normalisationFor, toTrainingVolume } = await import("../segment/data.js");
    const { trainSegmentModel } = await import("../segment/train.js");
    const { vols, voxel } = await rawVolumes(data, truth, channels, "--data");
    const normalisation = normalisationFor(channels, vols);
    const val = ctx.has("val") ? (await rawVolumes(ctx.req("val").split(","), truth, channels, "--val")).vols : [];
    const valVolumes = ctx.has("val-volumes") ? (await rawVolumes(ctx.req("val-volumes").split(","), truth, channels, "--val-volumes", valT)).vols : [];
    const sm = await createSegmentModel(unet, normalisation);
    sm.record.voxelSizeUm = voxel;
    sm.record.training.command = portableCommand("train", ctx.args);
    const log = (l: string) => (ctx.json ? process.stderr : process.stdout).write(l + "\n");
    const res = await trainSegmentModel(sm, vols.map((v) => toTrainingVolume(v, normalisation)), {
      config,
      validation: val.map((v) => toTrainingVolume(v, normalisation)),
      validationVolumes: valVolumes.map((v) => toTrainingVolume(v, normalisation)),
      bestDir: ctx.opt("best"),
      checkpointDir: ctx.opt("checkpoint"),
      resume: ctx.flag("resume"),
      log,
    });
    if (ctx.signal.aborted) return 130;
    res.model.record.training.command = sm.record.training.command;
    await saveSegmentModel(out, res.model);
    const l = res.state.losses;
    ctx.report(`saved ${out}: ${l.length} steps, loss ${l[0]?.loss.toFixed(4)} -> ${l[l.length - 1]?.loss.toFixed(4)}`, { out, steps: l.length, firstLoss: l[0]?.loss ?? null, lastLoss: l[l.length - 1]?.loss ?? null });
    return 0;
  },
};

/**
 * `train --init DIR`: fine-tuning a saved model on (sparse) labels. The parent's recipe holds unless an option is
 * given on the command line (the spec's defaults are those of training from scratch, so only given flags count).
 */
async function fineTune(ctx: CommandContext, init: string, data: string[], out: string, truth: string, valT: number[], config: TrainConfig | Pick<TrainConfig, "patchZYX" | "steps" | "batchSize" | "learningRate" | "seed" | "oversampleRare" | "oversampleBoundary" | "validateEvery" | "checkpointEvery">): Promise<number> {
  const { loadSegmentModel, saveSegmentModel } = await import("../segment/model-io.js");
  const { fineTuneModel } = await import("../segment/fine-tune.js");
  const { toTrainingVolume } = await import("../segment/data.js");
  const parent = await loadSegmentModel(init);
  const channels = parent.record.unet.channels as ChannelName[];
  const { vols } = await rawVolumes(data, truth, channels, "--data");
  const val = ctx.has("val") ? (await rawVolumes(ctx.req("val").split(","), truth, channels, "--val")).vols : [];
  const valVolumes = ctx.has("val-volumes") ? (await rawVolumes(ctx.req("val-volumes").split(","), truth, channels, "--val-volumes", valT)).vols : [];
  const given: Partial<TrainConfig> = {};
  if (ctx.has("patch")) given.patchZYX = config.patchZYX;
  if (ctx.has("batch")) given.batchSize = config.batchSize;
  if (ctx.has("oversample")) given.oversampleRare = config.oversampleRare;
  if (ctx.has("oversample-boundary")) given.oversampleBoundary = config.oversampleBoundary;
  if (ctx.has("checkpoint-every")) given.checkpointEvery = config.checkpointEvery;
  const log = (l: string) => (ctx.json ? process.stderr : process.stdout).write(l + "\n");
  // the validation volumes are normalised as the parent's inputs (fine-tuning keeps its normalisation by default)
  const norm = parent.record.normalisation;
  const res = await fineTuneModel(init, vols, {
    ...(ctx.has("steps") ? { steps: config.steps } : {}),
    ...(ctx.has("lr") ? { learningRate: config.learningRate } : {}),
    ...(ctx.has("seed") ? { seed: config.seed } : {}),
    ...(ctx.has("validate-every") ? { validateEvery: config.validateEvery } : {}),
    renormalise: ctx.flag("renormalise"),
    config: given,
    train: {
      validation: val.map((v) => toTrainingVolume(v, norm)),
      validationVolumes: valVolumes.map((v) => toTrainingVolume(v, norm)),
      bestDir: ctx.opt("best"),
      checkpointDir: ctx.opt("checkpoint"),
      resume: ctx.flag("resume"),
      log,
    },
  });
  if (ctx.signal.aborted) return 130;
  res.model.record.training.command = portableCommand("train", ctx.args);
  await saveSegmentModel(out, res.model);
  ctx.report(`saved ${out}: fine-tuned ${init} for ${res.state.losses.length} steps, loss ${res.loss.first.toFixed(4)} -> ${res.loss.last.toFixed(4)} (${res.seconds.toFixed(0)} s)`, { out, init, steps: res.state.losses.length, loss: res.loss, seconds: res.seconds });
  return 0;
}
