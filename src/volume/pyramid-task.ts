/**
 * One output chunk of a pyramid level as a task of the parallel pool (src/parallel): read twice its extent from
 * the finer level, downsample, write. Chunks of one level are independent, so a level is spread over threads.
 */
import type { TaskHandler } from "../parallel/tasks.js";
import { ZarrArray } from "./array.js";
import { downsampleMean, downsampleMode } from "./pyramid.js";
import type { TypedArray } from "./types.js";

export interface PyramidInit {
  /** Finer level (read). */
  src: string;
  /** Level being written. */
  dst: string;
  method: "mean" | "mode";
}

export const pyramidChunkHandler: TaskHandler<PyramidInit, number[], null> = async ({ src, dst, method }) => {
  const prev = await ZarrArray.open(src);
  const arr = await ZarrArray.open(dst);
  const down = method === "mean" ? downsampleMean : downsampleMode;
  return async (coords) => {
    await pyramidChunk(prev, arr, coords, down);
    return { result: null };
  };
};

/** Computes and writes output chunk `coords` of `arr` from `prev` (the next finer level). */
export async function pyramidChunk(prev: ZarrArray, arr: ZarrArray, coords: readonly number[], down: typeof downsampleMean): Promise<void> {
  const shape = arr.shape;
  const core = coords.map((c, i) => [c * arr.chunks[i]!, Math.min((c + 1) * arr.chunks[i]!, shape[i]!)] as [number, number]);
  const [t, c] = [core[0]![0], core[1]![0]];
  // Each output chunk is computed from twice its extent in the finer level.
  const src = await prev.read([[t, t + 1], [c, c + 1], ...core.slice(2).map(([a, b], i) => [2 * a, Math.min(2 * b, prev.shape[i + 2]!)] as [number, number])]);
  const d = down({ data: src.data, shape: src.shape.slice(2) }, arr.dtype);
  await arr.write(
    core.map(([a]) => a),
    { data: d.data as TypedArray, shape: [1, 1, ...d.shape] },
  );
}
