/**
 * Input normalisation (nnU-Net's CT scheme): clip each channel to the 0.5 / 99.5 percentiles of the training data,
 * then z-score with the training data's mean and standard deviation. The numbers are stored in the model record
 * so inference applies exactly what training saw.
 */
import type { TypedArray } from "../volume/index.js";
import { VolumeError } from "../util/errors.js";
import { NORMALISATION_PERCENTILES, type ChannelName, type ChannelNormalisation } from "./plans.js";

/** Percentile (0-100) of a sample by linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: Float64Array | Float32Array, q: number): number {
  const pos = (q / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Normalisation statistics of one channel from training volumes (all voxels; NaNs rejected). */
export function channelStatistics(channel: ChannelName, volumes: readonly TypedArray[], maxSamples = 2_000_000): ChannelNormalisation {
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
  const clipLow = percentile(sorted, NORMALISATION_PERCENTILES[0]);
  const clipHigh = percentile(sorted, NORMALISATION_PERCENTILES[1]);
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
