/**
 * Separable filters over (z, y, x) volumes in C order: the Gaussian smoothing that training augmentation (blur) and
 * resampling (anti-aliasing before downsampling) both use.
 */

/**
 * Gaussian smoothing along one axis of a (d, h, w) volume, edges replicated. The kernel reaches `radiusSigmas`
 * standard deviations (at least one voxel) and each output is the weighted sum divided by the kernel's sum.
 * sigma in voxels; returns a new array.
 */
export function gaussianSmoothAxis(a: Float32Array, shape: readonly number[], axis: number, sigma: number, radiusSigmas = 3): Float32Array {
  const r = Math.max(1, Math.ceil(radiusSigmas * sigma));
  const k = Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((s, v) => s + v, 0);
  const [d, h, w] = shape as [number, number, number];
  const stride = [h * w, w, 1][axis] ?? 1;
  const len = shape[axis] ?? 1;
  const out = new Float32Array(a.length);
  for (let z = 0, o = 0; z < d; z++)
    for (let y = 0; y < h; y++)
      for (let x = 0, pos0 = axis === 0 ? z : y; x < w; x++, o++) {
        const pos = axis === 2 ? x : pos0;
        let s = 0;
        for (let j = -r; j <= r; j++) {
          const q = Math.min(len - 1, Math.max(0, pos + j)); // edge replicate
          s += (k[j + r] ?? 0) * (a[o + (q - pos) * stride] ?? 0);
        }
        out[o] = s / ks;
      }
  return out;
}
