/**
 * One z slab of an import as a task of the parallel pool (src/parallel): each worker opens the source itself (TIFF
 * decoding and HDF5 reads are the work), converts the slab, writes its chunks through the array and returns the
 * slab's value range; the caller records ranges and the job file, so the job lists only slabs fully on disk.
 */
import type { TaskHandler } from "../../parallel/tasks.js";
import { OmeImage } from "../ome.js";
import { typedArrayFor, type DataType, type NdArray } from "../types.js";
import { Hdf5Source, type Hdf5SourceOptions } from "./hdf5.js";
import type { VolumeSource } from "./source.js";
import { TiffStackSource, type TiffStackOptions } from "./tiff-stack.js";

/** How to open a source again in another thread (built-in sources only). */
export type SourceSpec = { kind: "tiff"; path: string; options: TiffStackOptions } | { kind: "hdf5"; path: string; options: Hdf5SourceOptions };

export async function openSource(spec: SourceSpec): Promise<VolumeSource> {
  return spec.kind === "tiff" ? TiffStackSource.open(spec.path, spec.options) : Hdf5Source.open(spec.path, spec.options);
}

export interface ImportSlabInit {
  source: SourceSpec;
  dst: string;
  t: number;
  channelIndex: number;
  dtype: DataType;
  chunkZ: number;
}

/** [lo, hi] of the slab's finite values, or null when it has none. */
export type SlabRange = [number, number] | null;

export function convert(slab: NdArray, dtype: DataType): NdArray {
  const out = typedArrayFor(dtype, slab.data.length);
  out.set(slab.data);
  return { data: out, shape: slab.shape };
}

export function finiteRange(data: ArrayLike<number>): SlabRange {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Reads, converts and writes slab s (slices [s*chunkZ, ...)) into (t, channel) of the image's level 0. */
export async function importSlab(source: VolumeSource, image: OmeImage, init: Omit<ImportSlabInit, "source" | "dst">, s: number): Promise<SlabRange> {
  const nz = source.shapeZYX[0];
  const z0 = s * init.chunkZ;
  const z1 = Math.min(nz, z0 + init.chunkZ);
  let slab = await source.readSlab(z0, z1);
  if (source.dtype !== init.dtype) slab = convert(slab, init.dtype);
  await image.array(0).write([init.t, init.channelIndex, z0, 0, 0], { data: slab.data, shape: [1, 1, ...slab.shape] });
  return finiteRange(slab.data as ArrayLike<number>);
}

export const importSliceHandler: TaskHandler<ImportSlabInit, number, SlabRange> = async (init) => {
  const source = await openSource(init.source);
  const image = await OmeImage.open(init.dst);
  return async (s) => ({ result: await importSlab(source, image, init, s) });
};
