/**
 * Training patches: sampling with oversampling of rare classes (lithium is rare: without it most patches hold no
 * lithium and the network learns to never predict it) and augmentation, pure functions over typed arrays.
 */
import { gaussianSmoothAxis } from "../numerics/filters.js";
import { IGNORE_LABEL, type AugmentConfig } from "./plans.js";
import type { Xoshiro128StarStar } from "../numerics/random.js";

/** A training volume with normalised channels, channels first. */
export interface TrainingVolume {
  shapeZYX: [number, number, number];
  /** One normalised (z, y, x) array per model input channel, in network order. */
  channels: Float32Array[];
  labels: Uint8Array;
  /** Where it came from (recorded in the model). */
  source: string;
}

export interface Patch {
  shapeZYX: [number, number, number];
  channels: Float32Array[];
  labels: Uint8Array;
}

/**
 * Voxel indices of each class (optionally only where `keep` is non-zero), in increasing order. Values outside the
 * classes (IGNORE_LABEL: not annotated) belong to no list.
 */
function indicesByClass(labels: Uint8Array, classes: number, keep?: Uint8Array): Int32Array[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) if ((!keep || keep[i]) && labels[i]! < classes) counts[labels[i]!]!++;
  const out = counts.map((c) => new Int32Array(c));
  const fill = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    if (keep && !keep[i]) continue;
    const l = labels[i]!;
    if (l >= classes) continue;
    out[l]![fill[l]!++] = i;
  }
  return out;
}

/**
 * Indices of the annotated voxels (label not IGNORE_LABEL) of a sparsely labelled volume, in increasing order;
 * null when every voxel is annotated (dense labels: patches are then drawn uniformly, as before).
 */
export function annotatedIndex(vol: TrainingVolume): Int32Array | null {
  const lab = vol.labels;
  let n = 0;
  for (let i = 0; i < lab.length; i++) if (lab[i] !== IGNORE_LABEL) n++;
  if (n === lab.length) return null;
  const out = new Int32Array(n);
  for (let i = 0, j = 0; i < lab.length; i++) if (lab[i] !== IGNORE_LABEL) out[j++] = i;
  return out;
}

/** Voxel indices of each class (for oversampling), computed once per volume. */
export function classIndex(vol: TrainingVolume, classes: number): Int32Array[] {
  return indicesByClass(vol.labels, classes);
}

/**
 * Voxel indices of each class that see a voxel of another class within `radius` voxels along at least `minAxes`
 * of the axes z, y, x: with minAxes = 2 the curved surfaces of small structures (lithium needles, voids) count
 * and flat faces (the electrode slabs) do not, so drawing from this list steers sampling to the small structures.
 * A not-annotated neighbour (IGNORE_LABEL) is no other class: the edge of an annotated slice is no surface.
 */
export function boundaryIndex(vol: TrainingVolume, classes: number, radius: number, minAxes = 2): Int32Array[] {
  const [d, h, w] = vol.shapeZYX;
  const lab = vol.labels;
  const isBoundary = new Uint8Array(lab.length);
  const strides = [h * w, w, 1];
  for (let z = 0, i = 0; z < d; z++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++, i++) {
        const l = lab[i]!;
        if (l === IGNORE_LABEL) continue;
        const pos = [z, y, x];
        let axes = 0;
        for (let a = 0; a < 3; a++) {
          const n = vol.shapeZYX[a]!;
          const st = strides[a]!;
          for (let r = 1; r <= radius; r++)
            if ((pos[a]! >= r && differs(lab[i - r * st]!, l)) || (pos[a]! + r < n && differs(lab[i + r * st]!, l))) {
              axes++;
              break;
            }
        }
        if (axes >= minAxes) isBoundary[i] = 1;
      }
  return indicesByClass(lab, classes, isBoundary);
}

function differs(neighbour: number, l: number): boolean {
  return neighbour !== l && neighbour !== IGNORE_LABEL;
}

/** Where a rare-class centre is drawn from: every voxel of the class, or (with probability `fraction`) its surface. */
export interface BoundarySampling {
  index: Int32Array[];
  fraction: number;
}

/**
 * Start (z, y, x) of a patch: centred on a random voxel of a present rare class with probability `oversample`;
 * otherwise uniform, or, with `annotated` (sparse labels), placed at random around a random annotated voxel, so no
 * patch is drawn where nothing is annotated.
 */
export function samplePatchStart(
  vol: TrainingVolume,
  index: Int32Array[],
  patch: readonly [number, number, number],
  rareClasses: readonly number[],
  oversample: number,
  rng: Xoshiro128StarStar,
  /** Centre on this class (when present) instead of drawing; used for stratified validation patches. */
  forceClass?: number,
  boundary?: BoundarySampling,
  annotated?: Int32Array,
): [number, number, number] {
  const [d, h, w] = vol.shapeZYX;
  const maxStart = [Math.max(0, d - patch[0]), Math.max(0, h - patch[1]), Math.max(0, w - patch[2])];
  const present = rareClasses.filter((c) => (index[c]?.length ?? 0) > 0);
  const forced = forceClass !== undefined && (index[forceClass]?.length ?? 0) > 0;
  if (forced || (present.length && rng.next() < oversample)) {
    const cls = forced ? forceClass! : present[rng.int(present.length)]!;
    const surface = boundary && boundary.fraction > 0 && (boundary.index[cls]?.length ?? 0) > 0 && rng.next() < boundary.fraction;
    const list = surface ? boundary.index[cls]! : index[cls]!;
    return around(list[rng.int(list.length)]!);
  }
  if (annotated?.length) return around(annotated[rng.int(annotated.length)]!);
  return [rng.int(maxStart[0]! + 1), rng.int(maxStart[1]! + 1), rng.int(maxStart[2]! + 1)];

  function around(v: number): [number, number, number] {
    const z = Math.floor(v / (h * w));
    const y = Math.floor(v / w) % h;
    const x = v % w;
    const centre = [z, y, x];
    return [0, 1, 2].map((a) => {
      const off = rng.int(patch[a]!); // where in the patch the chosen voxel lands
      return Math.min(maxStart[a]!, Math.max(0, centre[a]! - off));
    }) as [number, number, number];
  }
}

/** Copies a patch out of a volume (zero / class 0 beyond the edges of a volume smaller than the patch). */
export function extractPatch(vol: TrainingVolume, start: readonly number[], patch: readonly [number, number, number]): Patch {
  const [d, h, w] = vol.shapeZYX;
  const [pd, ph, pw] = patch;
  const n = pd * ph * pw;
  const channels = vol.channels.map(() => new Float32Array(n));
  const labels = new Uint8Array(n);
  for (let z = 0; z < Math.min(pd, d - start[0]!); z++)
    for (let y = 0; y < Math.min(ph, h - start[1]!); y++) {
      const src = ((z + start[0]!) * h + (y + start[1]!)) * w + start[2]!;
      const len = Math.min(pw, w - start[2]!);
      const dst = (z * ph + y) * pw;
      for (let c = 0; c < channels.length; c++) channels[c]!.set(vol.channels[c]!.subarray(src, src + len), dst);
      labels.set(vol.labels.subarray(src, src + len), dst);
    }
  return { shapeZYX: [pd, ph, pw], channels, labels };
}

function remap<T extends Float32Array | Uint8Array>(a: T, shape: readonly number[], map: (z: number, y: number, x: number) => number): T {
  const [d, h, w] = shape as [number, number, number];
  const out = new (a.constructor as { new (n: number): T })(a.length);
  for (let z = 0, o = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++, o++) out[o] = a[map(z, y, x)]!;
  return out;
}


/**
 * Random flips, 90-degree rotations in y-x (square patches), intensity scale/shift, noise and blur.
 * `zeroPoints`: per channel, where raw intensity 0 lies in normalised units; the intensity scale is applied about it
 * (see AugmentConfig.intensityScale), else about the normalised 0 (nnU-Net).
 */
export function augmentPatch(p: Patch, cfg: AugmentConfig, rng: Xoshiro128StarStar, zeroPoints?: readonly number[]): Patch {
  const shape = p.shapeZYX;
  const [d, h, w] = shape;
  let channels = p.channels;
  let labels = p.labels;
  const flips = [0, 1, 2].map(() => rng.next() < cfg.flipProbability);
  const rot = cfg.rotate90 && h === w ? rng.int(4) : 0;
  if (flips.some(Boolean) || rot) {
    const map = (z: number, y: number, x: number) => {
      // output (z, y, x) reads input after rotation by rot*90 degrees then flips
      let yy = y;
      let xx = x;
      for (let r = 0; r < rot; r++) [yy, xx] = [xx, h - 1 - yy];
      const zz = flips[0] ? d - 1 - z : z;
      if (flips[1]) yy = h - 1 - yy;
      if (flips[2]) xx = w - 1 - xx;
      return (zz * h + yy) * w + xx;
    };
    channels = channels.map((c) => remap(c, shape, map));
    labels = remap(labels, shape, map);
  }
  channels = channels.map((c0, ci) => {
    let c: Float32Array = Float32Array.from(c0);
    const scale = rng.uniform(cfg.intensityScale[0], cfg.intensityScale[1]);
    const shift = rng.uniform(cfg.intensityShift[0], cfg.intensityShift[1]);
    const z0 = zeroPoints?.[ci] ?? 0;
    for (let i = 0; i < c.length; i++) c[i] = z0 + (c[i]! - z0) * scale + shift;
    if (rng.next() < cfg.noiseProbability) {
      const sd = rng.uniform(cfg.noiseStd[0], cfg.noiseStd[1]);
      for (let i = 0; i < c.length; i++) c[i]! += sd * rng.normal();
    }
    if (rng.next() < cfg.blurProbability) {
      const s = rng.uniform(cfg.blurSigma_vox[0], cfg.blurSigma_vox[1]);
      for (let a = 0; a < 3; a++) c = gaussianSmoothAxis(c, shape, a, s);
    }
    return c;
  });
  return { shapeZYX: shape, channels, labels };
}
