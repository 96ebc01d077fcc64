/**
 * Segmentation metrics with nnU-Net's conventions: per class TP / FP / FN over all voxels,
 * Dice = 2TP / (2TP + FP + FN), IoU = TP / (TP + FP + FN); a class absent from both truth and prediction gets NaN
 * (nnU-Net reports it as NaN and leaves it out of means).
 */
export interface ClassMetrics {
  name: string;
  tp: number;
  fp: number;
  fn: number;
  dice: number;
  iou: number;
}

/** confusion[truth][pred] voxel counts. */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, classes: number): number[][] {
  if (truth.length !== pred.length) throw new RangeError(`truth has ${truth.length} voxels, prediction ${pred.length}`);
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]!]![pred[i]!]!++;
  return m;
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
