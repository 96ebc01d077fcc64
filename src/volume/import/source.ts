/** What every importable volume source (TIFF stack, HDF5 dataset) offers to the slab-by-slab copier. */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { DataType, NdArray } from "../types.js";

export interface VolumeSource {
  /** "tiff-stack", "tiff-multipage" or "hdf5". */
  readonly kind: string;
  /** Path of the file or folder, for messages. */
  readonly path: string;
  readonly shapeZYX: [number, number, number];
  readonly dtype: DataType;
  /** Voxel size (z, y, x) in micrometres when the source states it with units; undefined otherwise. */
  readonly voxelSizeUm?: [number, number, number];
  /** Where `voxelSizeUm` came from (a dataset path or tag), for provenance. */
  readonly voxelSizeOrigin?: string;
  /** Why a voxel size the source seems to hold was not usable (e.g. no units), for the error a caller sees. */
  readonly voxelSizeProblem?: string;
  /**
   * Identity of the source content, cheap to compute (names, sizes, shape, dtype, and the first and last bytes of
   * each file): a resumed import must come from the same data.
   */
  fingerprint(): string;
  /** Reads slices [z0, z1) as a (z1 - z0, y, x) array of `dtype`. */
  readSlab(z0: number, z1: number): Promise<NdArray>;
  close(): void;
}

const SAMPLE_BYTES = 4096;

/** Feeds a file's size and its first and last few kilobytes into a hash: catches replaced or rewritten files. */
export function hashFileSample(hash: ReturnType<typeof createHash>, path: string): void {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    hash.update(`size=${size};`);
    const n = Math.min(SAMPLE_BYTES, size);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 0);
    hash.update(buf);
    if (size > n) {
      const m = Math.min(SAMPLE_BYTES, size - n);
      const tail = Buffer.alloc(m);
      readSync(fd, tail, 0, m, size - m);
      hash.update(tail);
    }
  } finally {
    closeSync(fd);
  }
}
