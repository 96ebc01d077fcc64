/** Order statistics shared by the analysis, the electrochemistry and the segmenter's normalisation. */

/** Percentile (0-100) of an ascending sample by linear interpolation between order statistics (numpy's default). */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (pos - lo) * (b - a);
}

/** Median of the first n entries of `a`, sorting them in place (typed arrays: no copy for large maps). */
export function medianInPlace(a: Float64Array, n = a.length): number {
  if (n === 0) return NaN;
  const v = a.subarray(0, n).sort();
  const m = n >> 1;
  const hi = v[m] ?? NaN;
  return n % 2 ? hi : ((v[m - 1] ?? NaN) + hi) / 2;
}

/** Median of a sample (NaN when empty); the input is not changed. */
export function median(xs: ArrayLike<number>): number {
  return medianInPlace(Float64Array.from(xs));
}

/**
 * Quantile (fraction f in [0, 1]) of an ascending sample as the nearest order statistic (index round(f (n-1))): a
 * value that occurs in the data, as viewers' auto-contrast windows take it. NaN for an empty sample.
 */
export function quantileNearestSorted(sorted: ArrayLike<number>, f: number): number {
  const n = sorted.length;
  return sorted[Math.min(n - 1, Math.max(0, Math.round(f * (n - 1))))] ?? NaN;
}
