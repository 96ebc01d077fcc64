/**
 * Training loop for the U-Net: seeded patch sampling with rare-class oversampling, augmentation, soft Dice +
 * cross-entropy, Adam with a poly learning-rate schedule, per-class validation Dice, progress with ETA, and
 * checkpoints that hold weights, optimiser moments, step and random state, so a resumed run continues exactly
 * (bit for bit on the same backend) rather than restarting the schedule as nnU-Net does (nnUNet#901).
 *
 * Adam is written out here instead of using tf.train.adam because TF.js rebuilds its bias-correction powers
 * differently after setWeights, so a resumed run would drift from an uninterrupted one.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FileFormatError, ParameterError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { createProgress, type ProgressSink } from "../util/progress.js";
import { tf, initTf } from "./tf.js";
import { DEFAULT_TRAIN, IGNORE_LABEL, type TrainConfig } from "./plans.js";
import { loadSegmentModel, saveSegmentModel, type SegmentModel } from "./model-io.js";
import { Xoshiro128StarStar } from "../numerics/random.js";
import { annotatedIndex, augmentPatch, boundaryIndex, classIndex, extractPatch, samplePatchStart, type Patch, type TrainingVolume } from "./patches.js";
import { classMetrics, confusionMatrix } from "./metrics.js";
import { scoreOnVolumes } from "./predict-volume.js";
import { sizeMultiple } from "./unet.js";

export interface TrainLogEntry {
  step: number;
  loss: number;
  lr: number;
}

export interface ValidationEntry {
  step: number;
  dice: Record<string, number>;
}

export interface TrainState {
  step: number;
  rng: number[];
  losses: TrainLogEntry[];
  validation: ValidationEntry[];
  /** Per-class Dice over whole validation volumes (when `validationVolumes` are given). */
  volumeValidation?: ValidationEntry[];
  /** The checkpoint kept in `bestDir`: step and foreground-mean whole-volume Dice. */
  best?: { step: number; score: number };
}

export interface TrainOptions {
  config?: Partial<TrainConfig>;
  /** Checkpoint folder (model.json, weights.bin, optimizer.bin, state.json). */
  checkpointDir?: string;
  /** Continue from the checkpoint in checkpointDir if there is one. */
  resume?: boolean;
  /** Stop (and checkpoint) after this step, e.g. to test resumption; the schedule still targets config.steps. */
  stopAfter?: number;
  validation?: TrainingVolume[];
  /**
   * Whole held-out volumes scored (sliding window through ONNX Runtime) at every validation step; the model with the
   * best mean foreground Dice over them is saved to `bestDir`. Patch Dice alone selected models that overfit.
   */
  validationVolumes?: TrainingVolume[];
  bestDir?: string;
  /** Window used to score whole volumes (default: the inference default). */
  validationWindowZYX?: [number, number, number];
  progress?: ProgressSink | false;
  log?: (line: string) => void;
}

export interface TrainResult {
  model: SegmentModel;
  state: TrainState;
}

/**
 * Soft Dice (over the whole batch) + cross-entropy of logits (B, D, H, W, K) against integer labels. Voxels labelled
 * IGNORE_LABEL (not annotated, in sparse labels) count in neither term: cross-entropy is the mean over annotated
 * voxels and the Dice sums run over annotated voxels only, so dense labels give exactly the loss they gave before.
 */
export function diceCeLoss(logits: tf.Tensor, labels: tf.Tensor, classes: number, diceWeight: number, smooth: number): tf.Scalar {
  return tf.tidy(() => {
    const lab = labels.flatten().toInt();
    const ignored = tf.equal(lab, IGNORE_LABEL);
    const mask = tf.logicalNot(ignored).toFloat();
    const oh = tf.mul(tf.oneHot(tf.where(ignored, tf.zerosLike(lab), lab), classes), mask.expandDims(1));
    const flat = logits.reshape([-1, classes]);
    const logp = tf.logSoftmax(flat, -1);
    const annotated = tf.maximum(tf.sum(mask), 1);
    const ce = tf.neg(tf.div(tf.sum(tf.mul(oh, logp)), annotated));
    const p = tf.mul(tf.exp(logp), mask.expandDims(1));
    const inter = tf.sum(tf.mul(p, oh), 0);
    const denom = tf.add(tf.sum(p, 0), tf.sum(oh, 0));
    const dice = tf.div(tf.add(tf.mul(inter, 2), smooth), tf.add(denom, smooth));
    return tf.add(ce, tf.mul(tf.sub(1, tf.mean(dice)), diceWeight)) as tf.Scalar;
  });
}

function batchTensors(patches: Patch[], channels: number): { x: tf.Tensor5D; y: tf.Tensor4D } {
  const [d, h, w] = patches[0]!.shapeZYX;
  const n = d * h * w;
  const xs = new Float32Array(patches.length * n * channels);
  const ys = new Int32Array(patches.length * n);
  patches.forEach((p, b) => {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < channels; c++) xs[(b * n + i) * channels + c] = p.channels[c]![i]!;
      ys[b * n + i] = p.labels[i]!;
    }
  });
  return { x: tf.tensor5d(xs, [patches.length, d, h, w, channels]), y: tf.tensor4d(ys, [patches.length, d, h, w], "int32") };
}

/** Learning rate at a step: poly schedule lr0 (1 - step/steps)^0.9 (nnU-Net). */
export function learningRateAt(cfg: TrainConfig, step: number): number {
  return cfg.learningRate * Math.pow(1 - step / cfg.steps, 0.9);
}

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Per-class hard Dice of the model on fixed patches. */
export function validationDice(sm: SegmentModel, patches: Patch[]): Record<string, number> {
  const K = sm.record.unet.classes.length;
  const C = sm.record.unet.channels.length;
  const conf = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (const p of patches) {
    const pred = tf.tidy(() => {
      const { x, y } = batchTensors([p], C);
      y.dispose();
      return tf.argMax(sm.model.predict(x) as tf.Tensor, -1);
    });
    const labels = pred.dataSync();
    pred.dispose();
    const m = confusionMatrix(p.labels, labels, K);
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) conf[i]![j]! += m[i]![j]!;
  }
  return Object.fromEntries(classMetrics(conf, sm.record.unet.classes).map((c) => [c.name, c.dice]));
}

export async function trainSegmentModel(sm0: SegmentModel, data: TrainingVolume[], options: TrainOptions = {}): Promise<TrainResult> {
  await initTf();
  const cfg: TrainConfig = { ...DEFAULT_TRAIN, ...(options.config ?? {}), augment: { ...DEFAULT_TRAIN.augment, ...(options.config?.augment ?? {}) } };
  const unet = sm0.record.unet;
  const K = unet.classes.length;
  const C = unet.channels.length;
  const mult = sizeMultiple(unet);
  if (cfg.patchZYX.some((p) => p % mult !== 0))
    throw new ParameterError("training patch must be a multiple of 2^(depth-1)", { field: "patchZYX", expected: `multiples of ${mult}`, got: cfg.patchZYX.join("x") });
  if (!data.length) throw new ParameterError("no training volumes", { field: "data" });
  for (const v of data)
    if (v.channels.length !== C)
      throw new ParameterError("training volume has the wrong number of channels", { field: v.source, expected: `${C} (${unet.channels.join(", ")})`, got: String(v.channels.length) });
  const log = options.log ?? (() => {});

  let sm = sm0;
  let state: TrainState = { step: 0, rng: new Xoshiro128StarStar(cfg.seed).state, losses: [], validation: [] };
  const vars = () => sm.model.trainableWeights.map((w) => w.read() as tf.Variable);
  let m: tf.Variable[] = [];
  let v: tf.Variable[] = [];
  const ckpt = options.checkpointDir;
  if (ckpt && options.resume && existsSync(join(ckpt, "state.json"))) {
    const stPath = join(ckpt, "state.json");
    const st = JSON.parse(readFileSync(stPath, "utf8")) as TrainState & { optimizerSha256: string; shapes: number[][]; config: TrainConfig };
    sm = await loadSegmentModel(ckpt);
    const opt = new Uint8Array(readFileSync(join(ckpt, "optimizer.bin")));
    if (sha(opt) !== st.optimizerSha256) throw new FileFormatError("optimizer state is corrupt (checksum mismatch)", { path: join(ckpt, "optimizer.bin") });
    const f = new Float32Array(opt.buffer, opt.byteOffset, opt.byteLength / 4);
    let off = 0;
    const take = (shape: number[]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const t = tf.variable(tf.tensor(f.slice(off, off + n), shape), false);
      off += n;
      return t;
    };
    m = st.shapes.map(take);
    v = st.shapes.map(take);
    state = { step: st.step, rng: st.rng, losses: st.losses, validation: st.validation, volumeValidation: st.volumeValidation, best: st.best };
    log(`resumed from ${ckpt} at step ${state.step}`);
  } else {
    m = vars().map((w) => tf.variable(tf.zerosLike(w), false));
    v = vars().map((w) => tf.variable(tf.zerosLike(w), false));
  }

  const rng = new Xoshiro128StarStar(state.rng);
  const zeroPoints = cfg.augment.intensityScaleAbout === "raw-zero" ? sm.record.normalisation.map((n) => (Math.min(n.clipHigh, Math.max(n.clipLow, 0)) - n.mean) / n.std) : undefined;
  const index = data.map((d) => classIndex(d, K));
  // sparse labels: uniform patch draws are centred on annotated voxels (null: every voxel is annotated)
  const annotated = data.map((d) => annotatedIndex(d));
  const empty = data.findIndex((_, i) => annotated[i]?.length === 0);
  if (empty >= 0) throw new ParameterError("training volume has no annotated voxel", { field: data[empty]!.source, expected: `some voxels with a class label (not ${IGNORE_LABEL})`, got: `all ${IGNORE_LABEL}` });
  const surfaces = cfg.oversampleBoundary > 0 ? data.map((d) => ({ index: boundaryIndex(d, K, cfg.boundaryRadius_vox), fraction: cfg.oversampleBoundary })) : null;
  const rare = cfg.rareClasses ?? Array.from({ length: K - 1 }, (_, i) => i + 1);
  const valVols = options.validation ?? [];
  const valRng = new Xoshiro128StarStar(cfg.seed + 7919);
  const valPatches: Patch[] = [];
  for (let i = 0; valVols.length && i < cfg.validationPatches; i++) {
    const vi = i % valVols.length;
    const vol = valVols[vi]!;
    // stratified: every rare class gets its share of validation patches, the rest are drawn uniformly, so a
    // class is never scored on patches that happen not to contain it
    const slot = i % (rare.length + 1);
    const start = samplePatchStart(vol, classIndex(vol, K), cfg.patchZYX, rare, 0, valRng, slot < rare.length ? rare[slot] : undefined);
    valPatches.push(extractPatch(vol, start, cfg.patchZYX));
  }

  const saveCheckpoint = async () => {
    if (!ckpt) return;
    sm.record.training = { ...sm.record.training, config: cfg, stepsDone: state.step, data: [...new Set([...sm.record.training.data, ...data.map((d) => d.source)])] };
    await saveSegmentModel(ckpt, sm);
    const parts = [...m, ...v].map((t) => t.dataSync() as Float32Array);
    const total = parts.reduce((s, p) => s + p.length, 0);
    const all = new Float32Array(total);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    const bytes = new Uint8Array(all.buffer);
    writeFileAtomic(join(ckpt, "optimizer.bin"), bytes);
    writeFileAtomic(
      join(ckpt, "state.json"),
      JSON.stringify({ ...state, rng: rng.state, optimizerSha256: sha(bytes), shapes: m.map((t) => t.shape), config: cfg }),
    );
  };

  const stop = Math.min(cfg.steps, options.stopAfter ?? cfg.steps);
  const progress = createProgress("train", cfg.steps, { unit: "steps", sink: options.progress });
  progress.set(state.step);
  while (state.step < stop) {
    const patches: Patch[] = [];
    for (let b = 0; b < cfg.batchSize; b++) {
      const vi = rng.int(data.length);
      const start = samplePatchStart(data[vi]!, index[vi]!, cfg.patchZYX, rare, cfg.oversampleRare, rng, undefined, surfaces?.[vi], annotated[vi] ?? undefined);
      patches.push(augmentPatch(extractPatch(data[vi]!, start, cfg.patchZYX), cfg.augment, rng, zeroPoints));
    }
    const lr = learningRateAt(cfg, state.step);
    const t = state.step + 1;
    const { x, y } = batchTensors(patches, C);
    const ws = vars();
    const { value, grads } = tf.variableGrads(() => diceCeLoss(sm.model.apply(x, { training: true }) as tf.Tensor, y, K, cfg.diceWeight, cfg.diceSmooth), ws);
    const bc1 = 1 - Math.pow(cfg.adamBeta1, t);
    const bc2 = 1 - Math.pow(cfg.adamBeta2, t);
    tf.tidy(() => {
      ws.forEach((w, i) => {
        const g = grads[w.name]!;
        const mi = tf.add(tf.mul(m[i]!, cfg.adamBeta1), tf.mul(g, 1 - cfg.adamBeta1));
        const vi = tf.add(tf.mul(v[i]!, cfg.adamBeta2), tf.mul(tf.square(g), 1 - cfg.adamBeta2));
        m[i]!.assign(mi);
        v[i]!.assign(vi);
        w.assign(tf.sub(w, tf.mul(tf.div(tf.div(mi, bc1), tf.add(tf.sqrt(tf.div(vi, bc2)), cfg.adamEpsilon)), lr)));
      });
    });
    const loss = (await value.data())[0]!;
    tf.dispose([x, y, value, ...Object.values(grads)]);
    if (!Number.isFinite(loss)) throw new ParameterError("training diverged (loss is not finite)", { field: "learningRate", got: `loss ${loss} at step ${t}` });
    state.step = t;
    state.losses.push({ step: t, loss, lr });
    progress.set(t);
    if (valPatches.length && (t % cfg.validateEvery === 0 || t === cfg.steps)) {
      const dice = validationDice(sm, valPatches);
      state.validation.push({ step: t, dice });
      log(`step ${t} loss ${loss.toFixed(4)} val Dice ${Object.entries(dice).map(([k, d]) => `${k} ${d.toFixed(3)}`).join(", ")}`);
    }
    if (options.validationVolumes?.length && (t % cfg.validateEvery === 0 || t === cfg.steps)) {
      const { classes: metrics, dice, score } = await scoreOnVolumes(sm, options.validationVolumes, { patchZYX: options.validationWindowZYX });
      (state.volumeValidation ??= []).push({ step: t, dice });
      const better = !state.best || score > state.best.score;
      log(`step ${t} whole-volume val Dice ${metrics.map((c) => `${c.name} ${c.dice.toFixed(4)}`).join(", ")}${better ? " (best)" : ""}`);
      if (better && options.bestDir) {
        state.best = { step: t, score };
        const rec = sm.record;
        const saved = { ...rec.metrics };
        rec.metrics = { ...rec.metrics, volumeValidationDice: dice, volumeValidationStep: t };
        rec.training = { ...rec.training, config: cfg, stepsDone: t, data: [...new Set([...rec.training.data, ...data.map((d) => d.source)])] };
        await saveSegmentModel(options.bestDir, sm);
        rec.metrics = saved;
      } else if (better) state.best = { step: t, score };
    }
    if (cfg.checkpointEvery > 0 && t % cfg.checkpointEvery === 0) await saveCheckpoint();
  }
  progress.finish();
  state.rng = rng.state;
  await saveCheckpoint();
  const last = state.validation[state.validation.length - 1];
  if (last) sm.record.metrics = { ...sm.record.metrics, validationDice: last.dice, validationStep: last.step };
  sm.record.training = { ...sm.record.training, config: cfg, stepsDone: state.step, data: [...new Set([...sm.record.training.data, ...data.map((d) => d.source)])] };
  tf.dispose([...m, ...v]);
  return { model: sm, state };
}
