/**
 * Scores a model on an in-memory volume with truth (a twin column, a labelled crop of real data) the way it will be
 * used: normalised with the model's own recorded statistics, segmented with nnU-Net's sliding windows through ONNX
 * Runtime, and reported with the same per-class Dice / IoU / confusion as `npm run segment -- report`.
 */
import type { RawVolume } from "./data.js";
import { toTrainingVolume } from "./data.js";
import { createOnnxEngine } from "./engines.js";
import type { SegmentModel } from "./model-io.js";
import { predictVolume, type PredictVolumeOptions } from "./predict-volume.js";
import { evaluateLabels, type MethodResult } from "./report.js";

/** Per-class metrics and confusion of `sm` on `raw` against its labels, named `method` in reports. */
export async function evaluateModel(method: string, sm: SegmentModel, raw: RawVolume, options: PredictVolumeOptions = {}): Promise<MethodResult> {
  const engine = await createOnnxEngine(sm);
  try {
    const pred = await predictVolume(engine, toTrainingVolume(raw, sm.record.normalisation), options);
    return evaluateLabels(method, raw.labels, pred, sm.record.unet.classes);
  } finally {
    await engine.dispose();
  }
}
