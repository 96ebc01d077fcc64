/**
 * Sliding-window prediction of a whole in-memory volume (a training or validation volume, already normalised),
 * with the same windows and Gaussian blending as `segmentImage`. Used to score a model on whole held-out volumes
 * during training: Dice on a few patches centred on rare classes says little about the false positives elsewhere.
 */
import { createOnnxEngine, type SegmentEngine } from "./engines.js";
import type { SegmentModel } from "./model-io.js";
import { extractPatch, type TrainingVolume } from "./patches.js";
import { accumulateWindow, finishAccumulator, gaussianImportance, windowGrid, type Box } from "./sliding-window.js";
import { DEFAULT_INFER, type MirrorAxes } from "./plans.js";
import { mirrorEngine } from "./tta.js";
import { classMetrics, confusionMatrix, type ClassMetrics } from "./metrics.js";

export interface PredictVolumeOptions {
  patchZYX?: [number, number, number];
  overlap?: number;
  gaussianSigmaFraction?: number;
  /** Mirroring test-time augmentation along these axes (e.g. TTA_MIRROR_AXES; default none). */
  tta?: MirrorAxes;
}

/** Labels (z, y, x) of a normalised in-memory volume; windows larger than the volume are zero-padded. */
export async function predictVolume(engine: SegmentEngine, vol: TrainingVolume, options: PredictVolumeOptions = {}): Promise<Uint8Array> {
  return (await predictVolumeProbabilities(engine, vol, options)).labels;
}

/**
 * Class probabilities (K, z, y, x; class-major) and argmax labels of a normalised in-memory volume, with the same
 * windows and blending as `predictVolume` (used where probabilities are resampled or turned into entropy).
 */
export async function predictVolumeProbabilities(
  engine0: SegmentEngine,
  vol: TrainingVolume,
  options: PredictVolumeOptions = {},
): Promise<{ probabilities: Float32Array; labels: Uint8Array }> {
  const engine = options.tta?.length ? mirrorEngine(engine0, options.tta) : engine0; // not disposed here: the caller's
  const patch = options.patchZYX ?? DEFAULT_INFER.patchZYX;
  const overlap = options.overlap ?? DEFAULT_INFER.overlap;
  const importance = gaussianImportance(patch, options.gaussianSigmaFraction ?? DEFAULT_INFER.gaussianSigmaFraction);
  const shape = vol.shapeZYX;
  const [d, h, w] = shape;
  const [pd, ph, pw] = patch;
  const K = engine.classes;
  const C = vol.channels.length;
  const n = d * h * w;
  const pv = pd * ph * pw;
  const acc = new Float32Array(K * n);
  const weight = new Float32Array(n);
  const box: Box = [
    [0, d],
    [0, h],
    [0, w],
  ];
  const input = new Float32Array(C * pv);
  for (const start of windowGrid(shape, patch, overlap)) {
    // extractPatch zero-pads a window larger than the volume, as segmentImage does
    extractPatch(vol, start, patch).channels.forEach((c, i) => input.set(c, i * pv));
    const probs = await engine.predict(input, patch);
    accumulateWindow(probs, start, patch, importance, acc, weight, box, K);
  }
  const { labels } = finishAccumulator(acc, weight, K, false); // normalises acc to probabilities in place
  return { probabilities: acc, labels };
}

/** Confusion matrix (truth rows, prediction columns) of a model over whole volumes. */
export async function volumeConfusion(engine: SegmentEngine, vols: readonly TrainingVolume[], options: PredictVolumeOptions = {}): Promise<number[][]> {
  const K = engine.classes;
  const conf = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (const v of vols) {
    const m = confusionMatrix(v.labels, await predictVolume(engine, v, options), K);
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) conf[i]![j]! += m[i]![j]!;
  }
  return conf;
}

/**
 * Scores a model on whole volumes through ONNX Runtime: per-class metrics, Dice by class name, and nnU-Net's
 * foreground mean Dice (classes after the first; a class absent from truth and prediction, NaN, is left out).
 */
export async function scoreOnVolumes(
  sm: SegmentModel,
  vols: readonly TrainingVolume[],
  options: PredictVolumeOptions = {},
): Promise<{ classes: ClassMetrics[]; dice: Record<string, number>; score: number }> {
  const engine = await createOnnxEngine(sm);
  let conf: number[][];
  try {
    conf = await volumeConfusion(engine, vols, options);
  } finally {
    await engine.dispose();
  }
  const classes = classMetrics(conf, sm.record.unet.classes);
  const fg = classes.slice(1).map((c) => c.dice).filter(Number.isFinite);
  return { classes, dice: Object.fromEntries(classes.map((c) => [c.name, c.dice])), score: fg.length ? fg.reduce((a, b) => a + b, 0) / fg.length : 0 };
}
