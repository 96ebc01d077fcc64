/**
 * One block of the twin at one time point, rendered and written as a task of the parallel pool (src/parallel):
 * the cell model is rebuilt from the parameters in each worker (it is a pure function of them, seeded), the block's
 * chunks are written straight into the store's arrays, and what the manifest needs of the block comes back:
 * per-layer material counts and the channels' value ranges (the group attributes are written once, at the end).
 */
import { OmeImage } from "../volume/ome.js";
import type { TaskHandler } from "../parallel/tasks.js";
import type { Box } from "./imaging.js";
import { renderBlock } from "./imaging.js";
import { buildCellModel } from "./microstructure.js";
import { MATERIAL_COUNT } from "./optics.js";
import type { TwinParameters } from "./params.js";

export interface TwinRenderInit {
  params: TwinParameters;
  path: string;
}

export interface TwinRenderTask {
  ti: number;
  time_h: number;
  box: Box;
}

export interface TwinRenderResult {
  ti: number;
  /** First layer (z) of the block. */
  z0: number;
  /** counts[(k - z0) * MATERIAL_COUNT + code]: voxels of each material in layer k of the block. */
  counts: Float64Array;
  /** [absorption lo, hi, phase lo, hi] of the block's finite values (Infinity/-Infinity when none). */
  ranges: [number, number, number, number];
}

function finiteRange(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (Number.isFinite(lo) && Number.isFinite(hi)) return [lo, hi];
  lo = Infinity;
  hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export const twinRenderHandler: TaskHandler<TwinRenderInit, TwinRenderTask, TwinRenderResult> = async ({ params, path }) => {
  const m = buildCellModel(params);
  const img = await OmeImage.open(path);
  const image = img.array(0);
  const material = (await img.openLabels("material")).array(0);
  const segmentation = (await img.openLabels("segmentation")).array(0);
  const [absorption, phase] = [img.channelIndex("absorption"), img.channelIndex("phase")];
  return async ({ ti, time_h, box }) => {
    const b = renderBlock(m, ti, time_h, box);
    const shape = [1, 1, ...b.shape];
    const at = (c: number) => [ti, c, box[0], box[2], box[4]];
    // Through the arrays, not OmeImage.writeVolume: that rewrites the group attributes per block (racy across
    // workers and shards); the ranges go back to the caller instead.
    await image.write(at(absorption), { data: b.absorption, shape });
    await image.write(at(phase), { data: b.phase, shape });
    await material.write(at(0), { data: b.material, shape });
    await segmentation.write(at(0), { data: b.segmentation, shape });
    const plane = b.shape[1] * b.shape[2];
    const counts = new Float64Array(b.shape[0] * MATERIAL_COUNT);
    for (let q = 0; q < b.material.length; q++) counts[Math.floor(q / plane) * MATERIAL_COUNT + b.material[q]!]! += 1;
    const [aLo, aHi] = finiteRange(b.absorption);
    const [pLo, pHi] = finiteRange(b.phase);
    return { result: { ti, z0: box[0], counts, ranges: [aLo, aHi, pLo, pHi] }, transfer: [counts.buffer as ArrayBuffer] };
  };
};
