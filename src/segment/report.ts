/**
 * Accuracy report: per-class Dice, IoU, TP/FP/FN and the confusion matrix of any segmentation against truth, and
 * the classical baselines users compare against: 3-class multi-Otsu on one channel (scikit-image's
 * `threshold_multiotsu(classes=3, nbins=256)` algorithm). The Otsu classes are ordered by intensity and named by
 * the order of the class means measured on training data, never on the volume being scored.
 */
import type { TypedArray } from "../volume/index.js";
import { ParameterError, VolumeError } from "../util/errors.js";
import type { ChannelName } from "./plans.js";
import { classMetrics, confusionMatrix, type ClassMetrics } from "./metrics.js";

export interface MethodResult {
  method: string;
  classes: ClassMetrics[];
  /** confusion[truth][prediction] voxel counts. */
  confusion: number[][];
  /** Mean Dice over the classes after the first (nnU-Net's foreground mean). */
  foregroundMeanDice: number;
}

/**
 * Two thresholds splitting `values` into 3 classes with maximal between-class variance, computed like
 * scikit-image 0.19: a 256-bin histogram over [min, max], thresholds at bin centres, class k = number of
 * thresholds <= value.
 */
export function multiOtsu3(values: TypedArray | number[], nbins = 256): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return [lo, hi];
  const hist = new Float64Array(nbins);
  const width = (hi - lo) / nbins;
  for (let i = 0; i < values.length; i++) {
    let b = Math.floor((Number(values[i]) - lo) / width);
    if (b >= nbins) b = nbins - 1; // numpy puts the maximum in the last bin
    hist[b]! += 1;
  }
  const centres = Float64Array.from({ length: nbins }, (_, b) => lo + (b + 0.5) * width);
  // cumulative zeroth and first moments for O(1) class statistics
  const P = new Float64Array(nbins + 1);
  const S = new Float64Array(nbins + 1);
  for (let b = 0; b < nbins; b++) {
    P[b + 1] = P[b]! + hist[b]! / values.length;
    S[b + 1] = S[b]! + (hist[b]! / values.length) * centres[b]!;
  }
  const term = (a: number, b: number) => {
    const p = P[b]! - P[a]!;
    const s = S[b]! - S[a]!;
    return p > 0 ? (s * s) / p : 0;
  };
  let best = -Infinity;
  let idx: [number, number] = [0, 1];
  for (let i = 0; i < nbins - 2; i++)
    for (let j = i + 1; j < nbins - 1; j++) {
      // classes: bins [0, i], (i, j], (j, end]
      const v = term(0, i + 1) + term(i + 1, j + 1) + term(j + 1, nbins);
      if (v > best) {
        best = v;
        idx = [i, j];
      }
    }
  return [centres[idx[0]]!, centres[idx[1]]!];
}

/** Mean intensity of each class (by label value) in a training volume. */
export function classMeans(values: TypedArray, labels: Uint8Array, classes: number): number[] {
  const s = new Float64Array(classes);
  const n = new Float64Array(classes);
  for (let i = 0; i < labels.length; i++) {
    s[labels[i]!]! += Number(values[i]);
    n[labels[i]!]! += 1;
  }
  return Array.from(s, (v, k) => (n[k]! ? v / n[k]! : NaN));
}

/**
 * Mean raw intensity of each class per channel over training volumes, weighted by voxel count, annotated voxels only
 * (IGNORE_LABEL and other values outside the classes are skipped); null where a class has no voxel. Stored in a
 * model's record (`classMeans`) so `report` can name the multi-Otsu classes without the training data.
 */
export function trainingClassMeans(
  vols: readonly { channels: Partial<Record<ChannelName, TypedArray>>; labels: Uint8Array; source?: string }[],
  channels: readonly ChannelName[],
  classes: number,
): Partial<Record<ChannelName, (number | null)[]>> {
  const out: Partial<Record<ChannelName, (number | null)[]>> = {};
  for (const ch of channels) {
    const s = new Float64Array(classes);
    const n = new Float64Array(classes);
    for (const v of vols) {
      const a = v.channels[ch];
      if (!a) throw new VolumeError("training volume lacks a channel", { field: ch, location: v.source, got: Object.keys(v.channels).join(", ") });
      const l = v.labels;
      for (let i = 0; i < l.length; i++) {
        const k = l[i]!;
        if (k >= classes) continue;
        s[k]! += Number(a[i]);
        n[k]! += 1;
      }
    }
    out[ch] = Array.from(s, (x, k) => (n[k]! ? x / n[k]! : null));
  }
  return out;
}

/**
 * The training class means of one channel from a model's record (what `report` needs for the baselines without
 * `--train-data`); an error naming the model and field when the record has none (models trained before issue 16).
 */
export function recordedClassMeans(record: { classMeans?: Partial<Record<ChannelName, (number | null)[]>> }, channel: ChannelName, modelName = "model"): number[] {
  const m = record.classMeans?.[channel];
  if (!m)
    throw new ParameterError("the model's record has no training class means for this channel", {
      path: modelName,
      field: `ssbCt.classMeans.${channel}`,
      expected: "a model trained or fine-tuned since issue 16 (or pass the training data: --train-data)",
      got: Object.keys(record.classMeans ?? {}).join(", ") || "none",
    });
  return m.map((x) => (x === null ? NaN : x));
}

/**
 * The multi-Otsu baselines of `report` for each channel, the classes named by the training class means in a model's
 * record (`classMeans`), so no training data is needed (`ssbct report` without --train-data).
 */
export function recordedBaselines(
  record: { classMeans?: Partial<Record<ChannelName, (number | null)[]>>; unet: { classes: string[] } },
  volumes: Partial<Record<ChannelName, TypedArray>>,
  truth: ArrayLike<number>,
  modelName = "model",
): MethodResult[] {
  return (Object.keys(volumes) as ChannelName[]).map((ch) => evaluateLabels(`otsu-${ch}`, truth, otsuBaseline(volumes[ch]!, recordedClassMeans(record, ch, modelName)), record.unet.classes));
}

/** 3-class multi-Otsu labels; Otsu class k (by intensity) becomes the class with the k-th smallest training mean. */
export function otsuBaseline(values: TypedArray, trainingClassMeans: readonly number[]): Uint8Array {
  const [t0, t1] = multiOtsu3(values);
  const order = trainingClassMeans.map((m, k) => [m, k] as const).sort((a, b) => a[0] - b[0]).map(([, k]) => k);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    out[i] = order[(v >= t0 ? 1 : 0) + (v >= t1 ? 1 : 0)]!;
  }
  return out;
}

export function evaluateLabels(method: string, truth: ArrayLike<number>, pred: ArrayLike<number>, names: readonly string[]): MethodResult {
  const confusion = confusionMatrix(truth, pred, names.length);
  const classes = classMetrics(confusion, names);
  const fg = classes.slice(1).filter((c) => Number.isFinite(c.dice));
  return { method, classes, confusion, foregroundMeanDice: fg.length ? fg.reduce((s, c) => s + c.dice, 0) / fg.length : NaN };
}

/** Markdown tables: per-class metrics for every method, then each method's confusion matrix. */
export function formatReport(results: readonly MethodResult[]): string {
  const names = results[0]?.classes.map((c) => c.name) ?? [];
  const lines = ["| method | class | Dice | IoU | TP | FP | FN |", "| --- | --- | --- | --- | --- | --- | --- |"];
  for (const r of results)
    for (const c of r.classes) lines.push(`| ${r.method} | ${c.name} | ${c.dice.toFixed(4)} | ${c.iou.toFixed(4)} | ${c.tp} | ${c.fp} | ${c.fn} |`);
  for (const r of results) {
    lines.push("", `Confusion (rows truth, columns prediction): ${r.method}`, "", `| truth \\ pred | ${names.join(" | ")} |`, `| --- |${names.map(() => " --- |").join("")}`);
    r.confusion.forEach((row, i) => lines.push(`| ${names[i]} | ${row.join(" | ")} |`));
  }
  return lines.join("\n");
}
