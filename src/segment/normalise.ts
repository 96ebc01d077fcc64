/**
 * Input normalisation (nnU-Net's CT scheme, made class-aware): clip each channel to the 0.5 / 99.5 percentiles of
 * the training data, then z-score with the training data's mean and standard deviation. The numbers are stored in
 * the model record so inference applies exactly what training saw.
 *
 * With labels, the clip range is the widest of the per-class 0.5 / 99.5 percentiles. Why: nnU-Net takes the
 * percentiles over all foreground voxels, and a class rarer than 0.5 % then lies below the lower clip. Voids are
 * about 0.15 % of a twin volume: with whole-volume percentiles the phase channel was clipped at 0.76 (x 1e-6),
 * inside lithium's range, so every void voxel read as the darkest lithium and the channel that tells them apart
 * was cut away (the first shipped model's record: phase clipped at 0.76, with lithium at about 1.3 and voids below 0).
 */
import type { TypedArray } from "../volume/index.js";
import { percentileSorted } from "../numerics/stats.js";
import { VolumeError } from "../util/errors.js";
import { IGNORE_LABEL, NORMALISATION_PERCENTILES, type ChannelName, type ChannelNormalisation } from "./plans.js";


/** Per-class samples (every voxel of a class up to `perClass`, evenly strided beyond) of one channel. */
function classSamples(volumes: readonly TypedArray[], labels: readonly Uint8Array[], perClass: number): Float64Array[] {
  const counts: number[] = [];
  for (const l of labels) for (let i = 0; i < l.length; i++) counts[l[i]!] = (counts[l[i]!] ?? 0) + 1;
  const out: Float64Array[] = [];
  counts.forEach((n, k) => {
    if (!n || k === IGNORE_LABEL) return; // not annotated (sparse labels): no class of its own
    const stride = Math.max(1, Math.floor(n / perClass));
    const s: number[] = [];
    let seen = 0;
    volumes.forEach((v, vi) => {
      const l = labels[vi]!;
      for (let i = 0; i < v.length; i++) if (l[i] === k && seen++ % stride === 0) s.push(Number(v[i]));
    });
    out.push(Float64Array.from(s).sort());
  });
  return out;
}

/**
 * Normalisation statistics of one channel from training volumes (NaNs rejected). With `labels` (one per volume),
 * the clip range covers every class (see the file comment); without, all voxels are pooled.
 */
export function channelStatistics(channel: ChannelName, volumes: readonly TypedArray[], maxSamples = 2_000_000, labels?: readonly Uint8Array[]): ChannelNormalisation {
  let total = 0;
  for (const v of volumes) total += v.length;
  const stride = Math.max(1, Math.floor(total / maxSamples));
  const sample: number[] = [];
  for (const v of volumes)
    for (let i = 0; i < v.length; i += stride) {
      const x = Number(v[i]);
      if (Number.isNaN(x)) throw new VolumeError("NaN in training data", { field: channel, location: `element ${i}` });
      sample.push(x);
    }
  const sorted = Float64Array.from(sample).sort();
  let clipLow = percentileSorted(sorted, NORMALISATION_PERCENTILES[0]);
  let clipHigh = percentileSorted(sorted, NORMALISATION_PERCENTILES[1]);
  if (labels) {
    if (labels.length !== volumes.length || labels.some((l, i) => l.length !== volumes[i]!.length))
      throw new VolumeError("labels and channel volumes differ in number or size", { field: channel, expected: `${volumes.length} label arrays of the channels' sizes` });
    for (const c of classSamples(volumes, labels, 200_000)) {
      clipLow = Math.min(clipLow, percentileSorted(c, NORMALISATION_PERCENTILES[0]));
      clipHigh = Math.max(clipHigh, percentileSorted(c, NORMALISATION_PERCENTILES[1]));
    }
  }
  let s = 0;
  let s2 = 0;
  for (const x of sorted) {
    const c = Math.min(clipHigh, Math.max(clipLow, x));
    s += c;
    s2 += c * c;
  }
  const mean = s / sorted.length;
  const std = Math.sqrt(Math.max(0, s2 / sorted.length - mean * mean));
  return { channel, clipLow, clipHigh, mean, std: std > 0 ? std : 1 };
}

/**
 * Writes the normalised values of `src` into `dst` at `offset` (same element order); throws on NaN / infinity,
 * naming where (so a corrupt reconstruction never turns silently into labels).
 */
export function normaliseInto(src: TypedArray, dst: Float32Array, offset: number, n: ChannelNormalisation, where: string): void {
  const inv = 1 / n.std;
  for (let i = 0; i < src.length; i++) {
    const x = Number(src[i]);
    if (!Number.isFinite(x)) throw new VolumeError("non-finite value in input volume", { field: n.channel, location: where, expected: "finite intensities", got: String(x) });
    dst[offset + i] = (Math.min(n.clipHigh, Math.max(n.clipLow, x)) - n.mean) * inv;
  }
}
