/**
 * Resampling between voxel grids (issue 16): a scan whose voxel size differs from the model's is resampled to the
 * model's grid for inference and the result brought back. Intensities and class probabilities are interpolated
 * (trilinear, separable: one pass per axis); labels take the nearest voxel (interpolating class values would invent
 * classes between them). Grids are aligned at the volume's outer faces, as scipy.ndimage.zoom(grid_mode=True) and
 * skimage.transform.resize do: output voxel j of n_out covers [j, j+1) * n_in / n_out of the input's voxels, so its
 * centre reads the input at (j + 0.5) * n_in / n_out - 0.5, clamped to the edge voxels.
 *
 * Downsampling first smooths with a Gaussian of sigma = (factor - 1) / 2 input voxels per axis (skimage's
 * anti_aliasing default): without it, noise above the new Nyquist limit folds back into the coarser scan and the
 * model sees a noisier image than a detector of that voxel size would record.
 */
import { gaussianSmoothAxis } from "../numerics/filters.js";
import type { TypedArray } from "../volume/index.js";
import { ParameterError } from "../util/errors.js";
import { DEFAULT_INFER } from "./plans.js";

export type Shape3 = [number, number, number];

function checkShape(n: number, shape: readonly number[], channels: number, what: string): void {
  if (shape.length !== 3 || shape.some((s) => !(Number.isInteger(s) && s >= 1)))
    throw new ParameterError("shape must be three positive integers (z, y, x)", { field: what, got: shape.join(" x ") });
  const v = shape[0]! * shape[1]! * shape[2]!;
  if (n !== v * channels) throw new ParameterError("array size does not match the shape", { field: what, expected: `${channels} x ${shape.join(" x ")} = ${channels * v}`, got: String(n) });
}

/** Grid of `shape` voxels of `fromUm` re-gridded at `toUm`: the voxel count that keeps the physical extent. */
export function resampledShape(shape: readonly [number, number, number], fromUm: readonly number[], toUm: readonly number[]): Shape3 {
  return [0, 1, 2].map((a) => Math.max(1, Math.round((shape[a]! * fromUm[a]!) / toUm[a]!))) as Shape3;
}

/** Linear interpolation weights along one axis: for each output index, the two input indices and the weight of the second. */
function axisWeights(nIn: number, nOut: number): { i0: Int32Array; i1: Int32Array; f: Float32Array } {
  const i0 = new Int32Array(nOut);
  const i1 = new Int32Array(nOut);
  const f = new Float32Array(nOut);
  const scale = nIn / nOut;
  for (let j = 0; j < nOut; j++) {
    const x = Math.min(nIn - 1, Math.max(0, (j + 0.5) * scale - 0.5));
    const lo = Math.floor(x);
    i0[j] = lo;
    i1[j] = Math.min(nIn - 1, lo + 1);
    f[j] = x - lo;
  }
  return { i0, i1, f };
}

/** One axis (0 z, 1 y, 2 x) of a (z, y, x) volume resampled linearly to length nOut. */
function resampleAxis(src: Float32Array, shape: Shape3, axis: number, nOut: number): { data: Float32Array; shape: Shape3 } {
  const out: Shape3 = [...shape];
  out[axis] = nOut;
  const nIn = shape[axis]!;
  if (nIn === nOut) return { data: src, shape };
  const { i0, i1, f } = axisWeights(nIn, nOut);
  const [d, h, w] = out;
  const dst = new Float32Array(d * h * w);
  const [, sh, sw] = shape;
  for (let z = 0, o = 0; z < d; z++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++, o++) {
        const at = (zz: number, yy: number, xx: number) => src[(zz * sh + yy) * sw + xx]!;
        if (axis === 0) dst[o] = at(i0[z]!, y, x) * (1 - f[z]!) + at(i1[z]!, y, x) * f[z]!;
        else if (axis === 1) dst[o] = at(z, i0[y]!, x) * (1 - f[y]!) + at(z, i1[y]!, x) * f[y]!;
        else dst[o] = at(z, y, i0[x]!) * (1 - f[x]!) + at(z, y, i1[x]!) * f[x]!;
      }
  return { data: dst, shape: out };
}


export interface ResampleOptions {
  /** Channels stacked first (C, z, y, x), each resampled alike (default 1). */
  channels?: number;
  /** Gaussian prefilter where an axis is downsampled (default true; see the file comment). */
  antialias?: boolean;
}

/** Trilinear resampling of (C, z, y, x) values from `fromShape` to `toShape` (float32 out). */
export function resampleLinear(src: TypedArray | Float32Array, fromShape: readonly [number, number, number], toShape: readonly [number, number, number], options: ResampleOptions = {}): Float32Array {
  const C = options.channels ?? 1;
  checkShape(src.length, fromShape, C, "fromShape");
  checkShape(toShape[0] * toShape[1] * toShape[2] * C, toShape, C, "toShape");
  const vin = fromShape[0] * fromShape[1] * fromShape[2];
  const vout = toShape[0] * toShape[1] * toShape[2];
  const out = new Float32Array(C * vout);
  for (let c = 0; c < C; c++) {
    let cur: Float32Array = src instanceof Float32Array ? src.subarray(c * vin, (c + 1) * vin) : Float32Array.from(src.subarray(c * vin, (c + 1) * vin) as ArrayLike<number>);
    let shape: Shape3 = [fromShape[0], fromShape[1], fromShape[2]];
    for (let a = 0; a < 3; a++) {
      const factor = shape[a]! / toShape[a]!;
      if (options.antialias !== false && factor > 1) cur = (factor - 1) / 2 > 0 ? gaussianSmoothAxis(cur, shape, a, (factor - 1) / 2, 4) : cur;
      ({ data: cur, shape } = resampleAxis(cur, shape, a, toShape[a]!));
    }
    out.set(cur, c * vout);
  }
  return out;
}

/** Nearest-neighbour resampling of labels (z, y, x) from `fromShape` to `toShape` (same grid alignment as resampleLinear). */
export function resampleNearest(labels: Uint8Array, fromShape: readonly [number, number, number], toShape: readonly [number, number, number]): Uint8Array {
  checkShape(labels.length, fromShape, 1, "fromShape");
  checkShape(toShape[0] * toShape[1] * toShape[2], toShape, 1, "toShape");
  const idx = [0, 1, 2].map((a) => {
    const nIn = fromShape[a]!;
    const nOut = toShape[a]!;
    return Int32Array.from({ length: nOut }, (_, j) => Math.min(nIn - 1, Math.floor(((j + 0.5) * nIn) / nOut)));
  });
  const [d, h, w] = toShape;
  const [, sh, sw] = fromShape;
  const out = new Uint8Array(d * h * w);
  for (let z = 0, o = 0; z < d; z++)
    for (let y = 0; y < h; y++) {
      const row = (idx[0]![z]! * sh + idx[1]![y]!) * sw;
      for (let x = 0; x < w; x++, o++) out[o] = labels[row + idx[2]![x]!]!;
    }
  return out;
}

/** Whether two voxel sizes differ by more than `tolerance` (relative to `reference`) along any axis. */
export function voxelSizesDiffer(got: readonly number[], reference: readonly number[], tolerance = DEFAULT_INFER.voxelSizeTolerance): boolean {
  return [0, 1, 2].some((a) => Math.abs(got[a]! - reference[a]!) > tolerance * reference[a]!);
}

/** What resampled inference did, recorded with the labels and returned in SegmentStats. */
export interface ResampleRecord {
  imageVoxelUm: [number, number, number];
  modelVoxelUm: [number, number, number];
  tolerance: number;
  imageShapeZYX: [number, number, number];
  modelGridShapeZYX: [number, number, number];
  intensities: "trilinear, Gaussian anti-aliasing where downsampled";
  probabilities: "trilinear back to the image grid; labels = argmax";
}
