/**
 * Where annotating would help most (issue 16, `ssbct suggest`): the per-voxel entropy of the model's class
 * probabilities (what `segment --entropy` writes) ranked into z-slices and boxes for the next round of labelling.
 * The ranking is by mean entropy: a slice where the model is unsure about many voxels is one where a correction
 * teaches the most, and on the twin those are the slices with the most misclassified voxels
 * (test/segment/suggest.test.ts checks it against the truth). Slices already annotated, and slices within
 * `minSeparation` of a listed or annotated one, are left out, so the list spreads over the volume.
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { ZarrArray, type OmeImage } from "../volume/index.js";
import { ParameterError, VolumeError } from "../util/errors.js";
import { DEFAULT_SUGGEST, IGNORE_LABEL, type SuggestConfig } from "./plans.js";
import type { SegmentModel } from "./model-io.js";
import { segmentImage, type SegmentOptions } from "./infer.js";

export interface SliceSuggestion {
  z: number;
  meanEntropy: number;
  /** Voxels with entropy above `uncertainEntropy`. */
  uncertainVoxels: number;
}

export interface BoxSuggestion {
  /** Start (z, y, x) and size of the box. */
  start: [number, number, number];
  size: [number, number, number];
  meanEntropy: number;
  uncertainVoxels: number;
}

/** Entropy (nats) per voxel of class-major probabilities (K, z, y, x). */
export function entropyOf(probabilities: Float32Array, classes: number): Float32Array {
  const n = probabilities.length / classes;
  if (!Number.isInteger(n)) throw new ParameterError("probabilities are not a whole number of voxels per class", { field: "probabilities", got: `${probabilities.length} values, ${classes} classes` });
  const out = new Float32Array(n);
  for (let k = 0; k < classes; k++)
    for (let i = 0; i < n; i++) {
      const p = probabilities[k * n + i]!;
      if (p > 0) out[i]! -= p * Math.log(p);
    }
  return out;
}

/** z-slices holding at least one annotated voxel (label not IGNORE_LABEL). */
export function annotatedSlices(labels: Uint8Array, shapeZYX: readonly [number, number, number]): number[] {
  const plane = shapeZYX[1] * shapeZYX[2];
  const out: number[] = [];
  for (let z = 0; z < shapeZYX[0]; z++) {
    for (let i = z * plane; i < (z + 1) * plane; i++)
      if (labels[i] !== IGNORE_LABEL) {
        out.push(z);
        break;
      }
  }
  return out;
}

function check(entropy: Float32Array, shape: readonly [number, number, number]): void {
  if (entropy.length !== shape[0] * shape[1] * shape[2]) throw new ParameterError("entropy does not match the shape", { field: "entropy", expected: `${shape.join(" x ")} voxels`, got: String(entropy.length) });
}

/** The `top` z-slices by mean entropy, at least minSeparation + 1 slices from each other and from `exclude` (annotated slices). */
export function rankSlices(entropy: Float32Array, shapeZYX: readonly [number, number, number], options: Partial<SuggestConfig> & { exclude?: readonly number[] } = {}): SliceSuggestion[] {
  const c = { ...DEFAULT_SUGGEST, ...options };
  check(entropy, shapeZYX);
  const plane = shapeZYX[1] * shapeZYX[2];
  const all: SliceSuggestion[] = [];
  for (let z = 0; z < shapeZYX[0]; z++) {
    let s = 0;
    let u = 0;
    for (let i = z * plane; i < (z + 1) * plane; i++) {
      const e = entropy[i]!;
      s += e;
      if (e > c.uncertainEntropy) u++;
    }
    all.push({ z, meanEntropy: s / plane, uncertainVoxels: u });
  }
  all.sort((a, b) => b.meanEntropy - a.meanEntropy || a.z - b.z);
  const taken = [...(options.exclude ?? [])];
  const out: SliceSuggestion[] = [];
  for (const s of all) {
    if (out.length >= c.top) break;
    if (taken.some((z) => Math.abs(z - s.z) <= c.minSeparation)) continue;
    out.push(s);
    taken.push(s.z);
  }
  return out;
}

/** The `top` boxes of a non-overlapping grid of `boxZYX` (edge boxes clipped to the volume) by mean entropy. */
export function rankBoxes(entropy: Float32Array, shapeZYX: readonly [number, number, number], options: Partial<SuggestConfig> = {}): BoxSuggestion[] {
  const c = { ...DEFAULT_SUGGEST, ...options };
  check(entropy, shapeZYX);
  const [d, h, w] = shapeZYX;
  const [bd, bh, bw] = c.boxZYX;
  if (![bd, bh, bw].every((b) => Number.isInteger(b) && b >= 1)) throw new ParameterError("box edges must be positive integers", { field: "boxZYX", got: c.boxZYX.join(" x ") });
  const out: BoxSuggestion[] = [];
  for (let z0 = 0; z0 < d; z0 += bd)
    for (let y0 = 0; y0 < h; y0 += bh)
      for (let x0 = 0; x0 < w; x0 += bw) {
        const size: [number, number, number] = [Math.min(bd, d - z0), Math.min(bh, h - y0), Math.min(bw, w - x0)];
        let s = 0;
        let u = 0;
        for (let z = z0; z < z0 + size[0]; z++)
          for (let y = y0; y < y0 + size[1]; y++)
            for (let x = x0, i = (z * h + y) * w + x0; x < x0 + size[2]; x++, i++) {
              const e = entropy[i]!;
              s += e;
              if (e > c.uncertainEntropy) u++;
            }
        out.push({ start: [z0, y0, x0], size, meanEntropy: s / (size[0] * size[1] * size[2]), uncertainVoxels: u });
      }
  out.sort((a, b) => b.meanEntropy - a.meanEntropy);
  return out.slice(0, c.top);
}

export interface SuggestOptions extends Partial<SuggestConfig> {
  /** Time point (default: the last, where deposits are largest). */
  t?: number;
  /** Label image the segmentation (and its entropy) is written to / read from (default "unet"). */
  labelName?: string;
  /** An annotation label image (sparse labels) whose annotated slices are left out of the suggestions. */
  annotations?: string;
  /** Options of the segmentation run that writes the entropy (patch, engine, tta, ...). */
  segment?: Omit<SegmentOptions, "labelName" | "writeEntropy" | "timePoints">;
}

export interface SuggestResult {
  t: number;
  labelName: string;
  /** Mean entropy of the whole time point, nats. */
  meanEntropy: number;
  slices: SliceSuggestion[];
  boxes: BoxSuggestion[];
  /** Slices left out because they are annotated already. */
  annotatedSlices: number[];
}

/**
 * Segments time point t of `img` with `sm`, writing the entropy (resumes a finished run of the same model and
 * settings), and ranks slices and boxes by it.
 */
export async function suggestAnnotations(img: OmeImage, sm: SegmentModel, options: SuggestOptions = {}): Promise<SuggestResult> {
  const T = img.timePointsH.length;
  const t = options.t ?? T - 1;
  if (!(Number.isInteger(t) && t >= 0 && t < T)) throw new ParameterError("time point out of range", { path: img.path, field: "t", expected: `0..${T - 1}`, got: String(t) });
  const labelName = options.labelName ?? "unet";
  await segmentImage(img, sm, { ...(options.segment ?? {}), labelName, writeEntropy: true, timePoints: [t] });
  const lab = await img.openLabels(labelName);
  const ep = join(lab.path, "entropy");
  if (!existsSync(ep)) throw new VolumeError("segmentation wrote no entropy", { path: ep, expected: "labels/<name>/entropy (segment with writeEntropy)" });
  const arr = await ZarrArray.open(ep);
  const [d, h, w] = img.shapeZYX;
  const nd = await arr.read([[t, t + 1], [0, 1], [0, d], [0, h], [0, w]]);
  const entropy = nd.data instanceof Float32Array ? nd.data : Float32Array.from(nd.data as ArrayLike<number>);
  let exclude: number[] = [];
  if (options.annotations) {
    const ann = await img.openLabels(options.annotations);
    ann.assertReadable();
    const a = await ann.readVolume(t);
    exclude = annotatedSlices(a.data instanceof Uint8Array ? a.data : Uint8Array.from(a.data as ArrayLike<number>), img.shapeZYX);
  }
  let sum = 0;
  for (let i = 0; i < entropy.length; i++) sum += entropy[i]!;
  return {
    t,
    labelName,
    meanEntropy: sum / entropy.length,
    slices: rankSlices(entropy, img.shapeZYX, { ...options, exclude }),
    boxes: rankBoxes(entropy, img.shapeZYX, options),
    annotatedSlices: exclude,
  };
}
