/**
 * Do the two inference engines compute the same model? One window of a normalised volume through TF.js (the
 * weights as trained) and through ONNX Runtime (the exported graph that segments whole volumes): the largest
 * probability difference and the share of voxels given the same class. An export bug (a transposed kernel, a
 * wrong depth-to-space order) shows up here as labels that disagree, not as a number in the 6th digit.
 */
import { ParameterError } from "../util/errors.js";
import { createOnnxEngine, createTfjsEngine } from "./engines.js";
import type { SegmentModel } from "./model-io.js";
import { extractPatch, type TrainingVolume } from "./patches.js";
import { sizeMultiple } from "./unet.js";

export interface EngineAgreement {
  /** Engine names, TF.js first. */
  engines: [string, string];
  windowStartZYX: [number, number, number];
  windowZYX: [number, number, number];
  voxels: number;
  /** Largest |p_tfjs - p_onnx| over every voxel and class. */
  maxAbsProbabilityDiff: number;
  /** Voxels whose most probable class is the same in both engines, % of the window. */
  sameLabel_pct: number;
}

/**
 * Start of a window of `windowZYX` voxels centred (as far as the volume allows) on the voxel of class `classValue`
 * nearest the volume's centre, so the window holds that class and its surroundings; the volume centre if absent.
 */
export function windowOnClass(vol: TrainingVolume, classValue: number, windowZYX: readonly [number, number, number]): [number, number, number] {
  const [d, h, w] = vol.shapeZYX;
  const mid = [d / 2, h / 2, w / 2];
  let best = -1;
  let bestR2 = Infinity;
  for (let i = 0; i < vol.labels.length; i++) {
    if (vol.labels[i] !== classValue) continue;
    const z = Math.floor(i / (h * w)) - mid[0]!, y = (Math.floor(i / w) % h) - mid[1]!, x = (i % w) - mid[2]!;
    const r2 = z * z + y * y + x * x;
    if (r2 < bestR2) {
      bestR2 = r2;
      best = i;
    }
  }
  const centre = best < 0 ? mid.map(Math.floor) : [Math.floor(best / (h * w)), Math.floor(best / w) % h, best % w];
  return [0, 1, 2].map((a) => Math.max(0, Math.min(vol.shapeZYX[a]! - windowZYX[a]!, centre[a]! - Math.floor(windowZYX[a]! / 2)))) as [number, number, number];
}

/**
 * Runs one window through both engines and compares them. `onnxBytes`: the exported model to check (default: a
 * fresh export of the model's weights).
 */
export async function engineAgreement(
  sm: SegmentModel,
  vol: TrainingVolume,
  startZYX: [number, number, number],
  windowZYX: [number, number, number],
  onnxBytes?: Uint8Array,
): Promise<EngineAgreement> {
  const mult = sizeMultiple(sm.record.unet);
  if (windowZYX.some((n) => n % mult !== 0))
    throw new ParameterError("window edges must be multiples of 2^(depth-1)", { field: "windowZYX", expected: `multiples of ${mult}`, got: windowZYX.join(" x ") });
  const patch = extractPatch(vol, startZYX, windowZYX);
  const n = windowZYX[0] * windowZYX[1] * windowZYX[2];
  const input = new Float32Array(patch.channels.length * n);
  patch.channels.forEach((c, i) => input.set(c, i * n));
  const tfjs = await createTfjsEngine(sm);
  const onnx = await createOnnxEngine(sm, onnxBytes ? { onnxBytes } : {});
  try {
    const a = await tfjs.predict(input, windowZYX);
    const b = await onnx.predict(input, windowZYX);
    const K = tfjs.classes;
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    let same = 0;
    for (let v = 0; v < n; v++) {
      let ka = 0, kb = 0;
      for (let k = 1; k < K; k++) {
        if (a[k * n + v]! > a[ka * n + v]!) ka = k;
        if (b[k * n + v]! > b[kb * n + v]!) kb = k;
      }
      if (ka === kb) same++;
    }
    return { engines: [tfjs.name, onnx.name], windowStartZYX: startZYX, windowZYX, voxels: n, maxAbsProbabilityDiff: maxDiff, sameLabel_pct: (100 * same) / n };
  } finally {
    await tfjs.dispose();
    await onnx.dispose();
  }
}
