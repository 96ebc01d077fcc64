/** Greyscale images of volume slices with an explicit or percentile-based intensity window. */
import { quantileNearestSorted } from "../numerics/stats.js";
import type { NdArray } from "../volume/types.js";
import { encodePng } from "./png.js";

export interface Window {
  min: number;
  max: number;
}

/** Intensity window between two percentiles (0-100) of the finite values, like a viewer's auto-contrast. */
export function percentileWindow(values: ArrayLike<number>, lo = 0.5, hi = 99.5): Window {
  const finite: number[] = [];
  const step = Math.max(1, Math.floor(values.length / 200_000));
  for (let i = 0; i < values.length; i += step) if (Number.isFinite(values[i]!)) finite.push(values[i]!);
  if (!finite.length) return { min: 0, max: 1 };
  finite.sort((a, b) => a - b);
  const min = quantileNearestSorted(finite, lo / 100);
  const max = quantileNearestSorted(finite, hi / 100);
  return max > min ? { min, max } : { min, max: min + 1 };
}

/** One 2D slice of a 3D (z, y, x) volume: axis 0 gives a (y, x) image, 1 a (z, x), 2 a (z, y). */
export function extractSlice(vol: NdArray, axis: 0 | 1 | 2, index: number): { data: Float64Array; width: number; height: number } {
  const [Z, Y, X] = vol.shape as [number, number, number];
  const dims = [Z, Y, X];
  if (!Number.isInteger(index) || index < 0 || index >= dims[axis]!) throw new RangeError(`slice index ${index} outside 0..${dims[axis]! - 1} on axis ${axis}`);
  const [h, w] = axis === 0 ? [Y, X] : axis === 1 ? [Z, X] : [Z, Y];
  const out = new Float64Array(h * w);
  for (let r = 0; r < h; r++)
    for (let c = 0; c < w; c++) {
      const [z, y, x] = axis === 0 ? [index, r, c] : axis === 1 ? [r, index, c] : [r, c, index];
      out[r * w + c] = vol.data[(z * Y + y) * X + x]!;
    }
  return { data: out, width: w, height: h };
}

/**
 * PNG of a slice mapped linearly from window.min (black) to window.max (white), enlarged `zoom` times by pixel
 * replication (no interpolation, so every voxel stays visible as a square).
 */
export function slicePng(vol: NdArray, axis: 0 | 1 | 2, index: number, options: { window?: Window; zoom?: number } = {}): Uint8Array {
  const s = extractSlice(vol, axis, index);
  const win = options.window ?? percentileWindow(s.data);
  const zoom = Math.max(1, Math.floor(options.zoom ?? 1));
  const w = s.width * zoom;
  const px = new Uint8Array(w * s.height * zoom);
  const scale = 255 / (win.max - win.min);
  for (let r = 0; r < s.height * zoom; r++)
    for (let c = 0; c < w; c++) {
      const v = s.data[Math.floor(r / zoom) * s.width + Math.floor(c / zoom)]!;
      px[r * w + c] = Math.max(0, Math.min(255, Math.round((v - win.min) * scale)));
    }
  return encodePng(px, w, s.height * zoom, 1);
}

/**
 * RGB PNG of a label slice: each class value drawn in its colour (OME-Zarr `image-label` colours, RGBA with alpha
 * ignored); values without a colour are black. Same slicing and zoom as `slicePng`.
 */
export function labelSlicePng(
  labels: NdArray,
  axis: 0 | 1 | 2,
  index: number,
  colors: readonly { value: number; color: readonly number[] }[],
  options: { zoom?: number } = {},
): Uint8Array {
  const s = extractSlice(labels, axis, index);
  const lut = new Map(colors.map((c) => [c.value, c.color]));
  const zoom = Math.max(1, Math.floor(options.zoom ?? 1));
  const w = s.width * zoom;
  const px = new Uint8Array(w * s.height * zoom * 3);
  for (let r = 0; r < s.height * zoom; r++)
    for (let c = 0; c < w; c++) {
      const rgb = lut.get(s.data[Math.floor(r / zoom) * s.width + Math.floor(c / zoom)]!) ?? [0, 0, 0];
      px.set([rgb[0]!, rgb[1]!, rgb[2]!], (r * w + c) * 3);
    }
  return encodePng(px, w, s.height * zoom, 3);
}
