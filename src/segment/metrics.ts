/**
 * Segmentation metrics with nnU-Net's conventions: per class TP / FP / FN over all voxels,
 * Dice = 2TP / (2TP + FP + FN), IoU = TP / (TP + FP + FN); a class absent from both truth and prediction gets NaN
 * (nnU-Net reports it as NaN and leaves it out of means).
 */
import { ParameterError } from "../util/errors.js";
import { IGNORE_LABEL } from "./plans.js";

export interface ClassMetrics {
  name: string;
  tp: number;
  fp: number;
  fn: number;
  dice: number;
  iou: number;
}

/**
 * confusion[truth][pred] voxel counts. Voxels whose truth is IGNORE_LABEL (not annotated, sparse labels) are left
 * out; any other truth or prediction outside 0..classes-1 is an error naming the value (it used to crash unnamed).
 */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number): number[][] {
  if (truth.length !== pred.length) throw new ParameterError("truth and prediction differ in size", { field: "prediction", expected: `${truth.length} voxels (as the truth)`, got: `${pred.length} voxels` });
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    if (t === IGNORE_LABEL) continue;
    const row = m[t];
    const p = pred[i]!;
    if (!row || !(p >= 0 && p < classes))
      throw new ParameterError("label value outside the classes", { field: row ? "prediction" : "truth", location: `voxel ${i}`, expected: `0..${classes - 1} (or ${IGNORE_LABEL}: not annotated, truth only)`, got: String(row ? p : t) });
    row[p]!++;
  }
  return m;
}

/** Number of annotated voxels (truth not IGNORE_LABEL) and their fraction. */
export function annotatedCount(truth: ArrayLike<number>): { voxels: number; fraction: number } {
  let n = 0;
  for (let i = 0; i < truth.length; i++) if (truth[i] !== IGNORE_LABEL) n++;
  return { voxels: n, fraction: truth.length ? n / truth.length : 0 };
}

export function classMetrics(confusion: number[][], names: readonly string[]): ClassMetrics[] {
  const k = confusion.length;
  return Array.from({ length: k }, (_, c) => {
    const tp = confusion[c]![c]!;
    let fp = 0;
    let fn = 0;
    for (let j = 0; j < k; j++) {
      if (j === c) continue;
      fp += confusion[j]![c]!;
      fn += confusion[c]![j]!;
    }
    const denom = 2 * tp + fp + fn;
    return { name: names[c] ?? String(c), tp, fp, fn, dice: denom ? (2 * tp) / denom : NaN, iou: tp + fp + fn ? tp / (tp + fp + fn) : NaN };
  });
}
