/**
 * Multiscale pyramids for 5D (t, c, z, y, x) images: each level halves z, y and x, by the mean for intensities and by
 * the mode (most frequent value; ties go to the smaller label) for label images, so napari and neuroglancer open the
 * result at any zoom. Streams one output chunk at a time.
 */
import { join } from "node:path";
import { VolumeError } from "../util/errors.js";
import { createProgress, type ProgressOptions } from "../util/progress.js";
import { ZarrArray } from "./array.js";
import { typedArrayFor, type DataType, type NdArray } from "./types.js";
import { defaultThreads, runTasks } from "../parallel/pool.js";
import { pyramidChunk, type PyramidInit } from "./pyramid-task.js";

export interface PyramidSource {
  readonly path: string;
  readonly version: "0.4" | "0.5";
  array(level?: number): ZarrArray;
  setLevels(levels: number): Promise<void>;
}

/** 2x downsampling of a 3D block by the mean; odd edges average what exists. */
export function downsampleMean(src: NdArray, dtype: DataType): NdArray {
  const [Z, Y, X] = src.shape as [number, number, number];
  const z2 = Math.ceil(Z / 2), y2 = Math.ceil(Y / 2), x2 = Math.ceil(X / 2);
  const out = typedArrayFor(dtype, z2 * y2 * x2);
  const isInt = !dtype.startsWith("float");
  const s = src.data;
  for (let z = 0; z < z2; z++)
    for (let y = 0; y < y2; y++)
      for (let x = 0; x < x2; x++) {
        let sum = 0;
        let n = 0;
        for (let dz = 0; dz < 2; dz++) {
          const zz = 2 * z + dz;
          if (zz >= Z) break;
          for (let dy = 0; dy < 2; dy++) {
            const yy = 2 * y + dy;
            if (yy >= Y) break;
            const row = (zz * Y + yy) * X;
            for (let dx = 0; dx < 2; dx++) {
              const xx = 2 * x + dx;
              if (xx >= X) break;
              sum += s[row + xx]!;
              n++;
            }
          }
        }
        out[(z * y2 + y) * x2 + x] = isInt ? Math.round(sum / n) : sum / n;
      }
  return { data: out, shape: [z2, y2, x2] };
}

/** 2x downsampling of a 3D label block by the mode of each 2x2x2 cell. */
export function downsampleMode(src: NdArray, dtype: DataType): NdArray {
  const [Z, Y, X] = src.shape as [number, number, number];
  const z2 = Math.ceil(Z / 2), y2 = Math.ceil(Y / 2), x2 = Math.ceil(X / 2);
  const out = typedArrayFor(dtype, z2 * y2 * x2);
  const s = src.data;
  const vals = new Float64Array(8);
  for (let z = 0; z < z2; z++)
    for (let y = 0; y < y2; y++)
      for (let x = 0; x < x2; x++) {
        let n = 0;
        for (let dz = 0; dz < 2 && 2 * z + dz < Z; dz++)
          for (let dy = 0; dy < 2 && 2 * y + dy < Y; dy++)
            for (let dx = 0; dx < 2 && 2 * x + dx < X; dx++) vals[n++] = s[((2 * z + dz) * Y + 2 * y + dy) * X + 2 * x + dx]!;
        let best = vals[0]!;
        let bestCount = 0;
        for (let i = 0; i < n; i++) {
          let c = 0;
          for (let j = 0; j < n; j++) if (vals[j] === vals[i]) c++;
          if (c > bestCount || (c === bestCount && vals[i]! < best)) {
            best = vals[i]!;
            bestCount = c;
          }
        }
        out[(z * y2 + y) * x2 + x] = best;
      }
  return { data: out, shape: [z2, y2, x2] };
}

/**
 * Writes levels 1..levels-1 below `source` (which must hold level 0) and updates its multiscales metadata.
 * `method`: "mean" for images, "mode" for labels.
 */
export async function buildPyramid(
  source: PyramidSource,
  options: { levels: number; method: "mean" | "mode"; progress?: ProgressOptions; /** Worker threads (0 or 1: this thread; default one per core); same bytes for any count. */ threads?: number },
): Promise<void> {
  const { levels, method } = options;
  if (!Number.isInteger(levels) || levels < 1) throw new VolumeError("levels must be a positive integer", { path: source.path, field: "levels", got: String(levels) });
  const base = source.array(0);
  if (base.ndim !== 5) throw new VolumeError("pyramids are built for 5D (t, c, z, y, x) images", { path: base.path, got: `${base.ndim}D` });
  const down = method === "mean" ? downsampleMean : downsampleMode;
  let prev = base;
  let totalBlocks = 0;
  const shapes: number[][] = [];
  for (let k = 1; k < levels; k++) {
    const p = shapes[k - 2] ?? base.shape;
    const s = [p[0]!, p[1]!, ...p.slice(2).map((v) => Math.ceil(v / 2))];
    shapes.push(s);
    totalBlocks += s[0]! * s[1]! * s.slice(2).reduce((acc, v, i) => acc * Math.ceil(v / base.chunks[i + 2]!), 1);
  }
  const progress = createProgress(`pyramid ${source.path}`, totalBlocks, { unit: "chunks", ...options.progress });
  for (let k = 1; k < levels; k++) {
    const shape = shapes[k - 1]!;
    const arr = await ZarrArray.create(join(source.path, String(k)), {
      shape,
      chunks: base.chunks,
      dtype: base.dtype,
      codec: base.codec,
      zarrFormat: base.zarrFormat,
      dimensionNames: ["t", "c", "z", "y", "x"],
      overwrite: true,
    });
    // Chunks of one level are independent (each reads only the finer level): spread over worker threads.
    const tasks = arr.chunksOverlapping(arr.fullSelection());
    const threads = options.threads ?? defaultThreads();
    if (threads > 1 && tasks.length > 1)
      await runTasks<PyramidInit, number[], null>("pyramid", { src: prev.path, dst: arr.path, method }, tasks, () => progress.tick(), { threads });
    else
      for (const coords of tasks) {
        await pyramidChunk(prev, arr, coords, down);
        progress.tick();
      }
    prev = arr;
  }
  progress.finish();
  await source.setLevels(levels);
}
