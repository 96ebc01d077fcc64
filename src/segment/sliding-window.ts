/**
 * Sliding-window geometry and blending, pure functions over typed arrays.
 * Windows follow nnU-Net: overlap 50 %, the first window at 0 and the last flush with the end, the others evenly
 * spaced; each window's probabilities are weighted by a Gaussian importance map (sigma = patch/8) that down-weights
 * the window borders, where a convolutional network sees the least context.
 */

/** Start offsets of windows of length `patch` covering [0, size) with at least `overlap` fractional overlap. */
export function windowStarts(size: number, patch: number, overlap: number): number[] {
  if (size <= patch) return [0];
  const step = patch * (1 - overlap);
  const n = Math.ceil((size - patch) / step) + 1;
  const actual = (size - patch) / (n - 1);
  return Array.from({ length: n }, (_, i) => Math.round(i * actual));
}

/** Gaussian importance map (D, H, W), maximum 1, no zeros (nnU-Net replaces zeros by the smallest non-zero value). */
export function gaussianImportance(patch: readonly [number, number, number], sigmaFraction: number): Float32Array {
  const axes = patch.map((p) => {
    const s = p * sigmaFraction;
    const c = (p - 1) / 2;
    return Float64Array.from({ length: p }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * s * s)));
  });
  const [d, h, w] = patch;
  const out = new Float32Array(d * h * w);
  let min = Infinity;
  let max = 0;
  for (let z = 0, o = 0; z < d; z++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++, o++) {
        const v = axes[0]![z]! * axes[1]![y]! * axes[2]![x]!;
        out[o] = v;
        if (v > 0 && v < min) min = v;
        if (v > max) max = v;
      }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! > 0 ? out[i]! / max : min / max;
  return out;
}

export type Box = [[number, number], [number, number], [number, number]];

/** All windows (start z, y, x) of a volume. */
export function windowGrid(shape: readonly [number, number, number], patch: readonly [number, number, number], overlap: number): [number, number, number][] {
  const sz = windowStarts(shape[0], patch[0], overlap);
  const sy = windowStarts(shape[1], patch[1], overlap);
  const sx = windowStarts(shape[2], patch[2], overlap);
  const out: [number, number, number][] = [];
  for (const z of sz) for (const y of sy) for (const x of sx) out.push([z, y, x]);
  return out;
}

/**
 * Windows whose extent intersects the box, from the per-axis start lists (z, y, x), in z-major order.
 * Works per axis so the cost does not grow with the number of windows in the volume.
 */
export function windowsTouching(axisStarts: readonly (readonly number[])[], patch: readonly [number, number, number], box: Box): [number, number, number][] {
  const hit = axisStarts.map((starts, a) => starts.filter((v) => v < box[a]![1] && v + patch[a]! > box[a]![0]));
  const out: [number, number, number][] = [];
  for (const z of hit[0]!) for (const y of hit[1]!) for (const x of hit[2]!) out.push([z, y, x]);
  return out;
}

/**
 * Adds importance-weighted window probabilities into a box accumulator.
 * probs: (K, pd, ph, pw) for the window at `start`; acc: (K, bd, bh, bw) for `box`; weight: (bd, bh, bw).
 * Only the part of the window inside the box is touched, so memory is that of one chunk plus one window.
 */
export function accumulateWindow(
  probs: Float32Array,
  start: readonly [number, number, number],
  patch: readonly [number, number, number],
  importance: Float32Array,
  acc: Float32Array,
  weight: Float32Array,
  box: Box,
  classes: number,
): void {
  const [pd, ph, pw] = patch;
  const bd = box[0][1] - box[0][0];
  const bh = box[1][1] - box[1][0];
  const bw = box[2][1] - box[2][0];
  const z0 = Math.max(start[0], box[0][0]);
  const z1 = Math.min(start[0] + pd, box[0][1]);
  const y0 = Math.max(start[1], box[1][0]);
  const y1 = Math.min(start[1] + ph, box[1][1]);
  const x0 = Math.max(start[2], box[2][0]);
  const x1 = Math.min(start[2] + pw, box[2][1]);
  const pv = pd * ph * pw;
  const bv = bd * bh * bw;
  // class-major: each pass streams one probability plane and one accumulator plane
  for (let z = z0; z < z1; z++)
    for (let y = y0; y < y1; y++) {
      const pRow = ((z - start[0]) * ph + (y - start[1])) * pw - start[2];
      const bRow = ((z - box[0][0]) * bh + (y - box[1][0])) * bw - box[2][0];
      for (let x = x0; x < x1; x++) weight[bRow + x]! += importance[pRow + x]!;
      for (let k = 0; k < classes; k++) {
        const pk = k * pv + pRow;
        const bk = k * bv + bRow;
        for (let x = x0; x < x1; x++) acc[bk + x]! += importance[pRow + x]! * probs[pk + x]!;
      }
    }
}

/** Normalises an accumulator in place to probabilities and returns argmax labels (and optionally entropy, nats). */
export function finishAccumulator(
  acc: Float32Array,
  weight: Float32Array,
  classes: number,
  withEntropy: boolean,
): { labels: Uint8Array; entropy: Float32Array | null } {
  const n = weight.length;
  const labels = new Uint8Array(n);
  const entropy = withEntropy ? new Float32Array(n) : null;
  for (let i = 0; i < n; i++) {
    const w = weight[i]!;
    if (!(w > 0)) throw new Error(`voxel ${i} of the chunk was covered by no window`);
    let best = 0;
    let bestP = -1;
    let h = 0;
    for (let k = 0; k < classes; k++) {
      const p = acc[k * n + i]! / w;
      acc[k * n + i] = p;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
      if (entropy && p > 0) h -= p * Math.log(p);
    }
    labels[i] = best;
    if (entropy) entropy[i] = h;
  }
  return { labels, entropy };
}
