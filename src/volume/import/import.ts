/**
 * Copies a volume source (TIFF stack, HDF5 dataset) into one (time point, channel) slot of an OME-Zarr image, one z
 * slab (the chunk depth) at a time: memory holds one slab, progress is reported per slab, and an interrupted import
 * resumes from the first slab its job file does not list as written.
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { ParameterError, VolumeError } from "../../util/errors.js";
import { createProgress, type ProgressSink } from "../../util/progress.js";
import { OmeImage, type ExperimentMetadata, type OmeVersion } from "../ome.js";
import type { CodecSpec, DataType } from "../types.js";
import { Hdf5Source, type Hdf5SourceOptions } from "./hdf5.js";
import { jobMismatch, jobPath, readJob, removeJobs, writeJob, type ImportJob } from "./job.js";
import { checkDatasetFolder } from "../output-folder.js";
import type { VolumeSource } from "./source.js";
import { TiffStackSource, type TiffStackOptions } from "./tiff-stack.js";
import { convert, importSlab, type ImportSlabInit, type SlabRange, type SourceSpec } from "./import-task.js";
import { runTasks } from "../../parallel/pool.js";
import { checkShard, isSharded, type Shard } from "../../util/shard.js";
import { importShard } from "./import-shard.js";

export interface ImportOptions {
  /**
   * Voxel size in micrometres: one number (isotropic) or [dz, dy, dx]. Required unless the source states it with
   * units (HDF5) or the volume goes into an existing image. When given it overrides the source's value.
   */
  voxelSizeUm?: number | [number, number, number];
  /** Channel to fill. Default "absorption". */
  channel?: string;
  /** Time point index to fill. Default 0. */
  timePoint?: number;
  /**
   * "create" (default): make a new image at the destination (an existing one is an error unless `overwrite`).
   * "add": fill a slot of the existing image at the destination (its shape and voxel size must match).
   * "auto": "add" if an image exists there, else "create".
   */
  mode?: "create" | "add" | "auto";
  /** New image only: all its channels (default [channel]). */
  channels?: string[];
  /** New image only: acquisition times of all its time points, hours (default [0]). */
  timePointsH?: number[];
  /** New image only: chunk shape (z, y, x); the z chunk depth is the slab depth. Default 64^3 (clipped). */
  chunksZYX?: [number, number, number];
  codec?: CodecSpec;
  version?: OmeVersion;
  name?: string;
  experiment?: ExperimentMetadata;
  /** Stored dtype. Default the source's (or the existing image's); only value-preserving conversions are allowed. */
  dtype?: DataType;
  /**
   * Replace an image (create) or a slot's earlier import (add) made from a different source. An unfinished or
   * finished import of the same source is still resumed (or left as it is); use `restart` to copy it again.
   */
  overwrite?: boolean;
  /** Discard the job of an earlier import of the same source and copy everything again. */
  restart?: boolean;
  /** Progress sink (default: the terminal/log bar); false for silence. */
  progress?: ProgressSink | false;
  /** Stops the copy between slabs; the job file keeps what was written, so a rerun resumes. */
  signal?: AbortSignal;
  /**
   * Part i of n (`--shard i/n`): only slabs k with k mod n = i, by n processes at once on a shared file system
   * (import-shard.ts). TIFF stacks and HDF5 files only; `restart` and `signal` do not apply (a shard is rerun whole).
   */
  shard?: Shard;
  /**
   * Worker threads reading, converting and writing slabs (0 or 1: this thread; default one per core). TIFF stacks
   * and HDF5 files only (a worker opens the source again); the store's bytes do not depend on it.
   */
  threads?: number;
}

export interface ImportResult {
  image: OmeImage;
  /** Slabs copied by this call. */
  slabsWritten: number;
  /** Slabs found already written by an earlier, interrupted call. */
  slabsSkipped: number;
  slabCount: number;
  voxelSizeUm: [number, number, number];
  voxelSizeOrigin: string;
  /** The job file recording source, target and progress. */
  jobFile: string;
}

/** Conversions that keep every value exactly. */
export const LOSSLESS: Record<DataType, DataType[]> = {
  uint8: ["uint8", "uint16", "int16", "uint32", "int32", "float32", "float64"],
  int8: ["int8", "int16", "int32", "float32", "float64"],
  uint16: ["uint16", "uint32", "int32", "float32", "float64"],
  int16: ["int16", "int32", "float32", "float64"],
  uint32: ["uint32", "float64"],
  int32: ["int32", "float64"],
  float32: ["float32", "float64"],
  float64: ["float64"],
};

export function voxelTriple(v: number | [number, number, number]): [number, number, number] {
  const t = (typeof v === "number" ? [v, v, v] : v) as [number, number, number];
  if (!Array.isArray(t) || t.length !== 3 || !t.every((x) => Number.isFinite(x) && x > 0))
    throw new ParameterError("voxel size must be one or three positive numbers", { field: "voxelSizeUm", expected: "micrometres > 0", got: JSON.stringify(v) });
  return t;
}

export function sameVoxel(a: number[], b: number[]): boolean {
  return a.every((x, i) => Math.abs(x - b[i]!) <= 1e-6 * Math.max(Math.abs(x), Math.abs(b[i]!)));
}

export function imageExists(path: string): boolean {
  return existsSync(join(path, ".zgroup")) || existsSync(join(path, "zarr.json"));
}

/** Imports any {@link VolumeSource}; the source stays open (the caller closes it). */
export async function importVolume(source: VolumeSource, dstPath: string, options: ImportOptions = {}, reopen?: SourceSpec): Promise<ImportResult> {
  if (isSharded(checkShard(options.shard))) {
    if (!reopen) throw new ParameterError("a sharded import needs a TIFF stack or an HDF5 file (each shard opens the source itself)", { field: "shard" });
    return importShard(source, dstPath, options, reopen, options.shard!);
  }
  const t = options.timePoint ?? 0;
  const channel = options.channel ?? "absorption";
  if (!Number.isInteger(t) || t < 0) throw new ParameterError("time point index must be a non-negative integer", { field: "timePoint", got: String(t) });
  let mode = options.mode ?? "create";
  if (mode === "auto") mode = imageExists(dstPath) ? "add" : "create";

  const callerVoxel = options.voxelSizeUm !== undefined ? voxelTriple(options.voxelSizeUm) : undefined;
  let voxel: [number, number, number] | undefined = callerVoxel ?? source.voxelSizeUm;
  let voxelOrigin = callerVoxel ? "caller" : source.voxelSizeOrigin ?? "source";

  let image: OmeImage | undefined;
  let channelIndex: number;
  let targetDtype: DataType;
  let chunkZ: number;
  let channels: string[];
  let timePointsH: number[];

  if (mode === "add") {
    if (!imageExists(dstPath)) throw new VolumeError("no OME-Zarr image to add to", { path: dstPath, expected: "an existing image (or mode: \"create\")" });
    image = await OmeImage.open(dstPath);
    channelIndex = image.channelIndex(channel);
    if (t >= image.timePointsH.length)
      throw new ParameterError("time point index is outside the image", { path: dstPath, field: "timePoint", expected: `0..${image.timePointsH.length - 1}`, got: String(t) });
    if (image.shapeZYX.join(",") !== source.shapeZYX.join(","))
      throw new VolumeError("source volume size differs from the image", { path: source.path, expected: `${image.shapeZYX.join(" x ")} (z, y, x) as in ${dstPath}`, got: source.shapeZYX.join(" x ") });
    if (voxel && !sameVoxel(voxel, image.voxelSizeUm))
      throw new VolumeError("voxel size differs from the image's", { path: source.path, field: "voxelSizeUm", expected: `${image.voxelSizeUm.join(", ")} um as in ${dstPath}`, got: `${voxel.join(", ")} um (${voxelOrigin})` });
    if (!voxel) {
      voxel = image.voxelSizeUm;
      voxelOrigin = `existing image ${basename(dstPath)}`;
    }
    targetDtype = image.dtype;
    if (options.dtype && options.dtype !== targetDtype)
      throw new ParameterError("the existing image has another dtype", { path: dstPath, field: "dtype", expected: targetDtype, got: options.dtype });
    // OME-NGFF puts the space axes last, so z is third from the end whether or not t and c are present.
    const chunks = image.array(0).chunks;
    chunkZ = chunks[chunks.length - 3]!;
    channels = image.channels;
    timePointsH = image.timePointsH;
  } else {
    channels = options.channels ?? [channel];
    channelIndex = channels.indexOf(channel);
    if (channelIndex < 0) throw new ParameterError("channel is not among the image's channels", { field: "channel", expected: channels.join(", "), got: channel });
    timePointsH = options.timePointsH ?? [0];
    if (t >= timePointsH.length) throw new ParameterError("time point index is outside timePointsH", { field: "timePoint", expected: `0..${timePointsH.length - 1}`, got: String(t) });
    targetDtype = options.dtype ?? source.dtype;
    chunkZ = Math.max(1, Math.min(options.chunksZYX?.[0] ?? 64, source.shapeZYX[0]));
  }
  if (!voxel)
    throw new ParameterError("voxel size unknown: the source does not state it", {
      path: source.path,
      field: "voxelSizeUm",
      expected: "voxelSizeUm: [dz, dy, dx] in micrometres (never assumed)",
      got: source.voxelSizeProblem ?? `no voxel size in this ${source.kind}`,
    });
  if (!LOSSLESS[source.dtype].includes(targetDtype))
    throw new ParameterError("dtype conversion would change values", {
      path: source.path,
      field: "dtype",
      expected: `one of ${LOSSLESS[source.dtype].join(", ")} for ${source.dtype} data`,
      got: targetDtype,
    });

  const nz = source.shapeZYX[0];
  const slabCount = Math.ceil(nz / chunkZ);
  const want: Pick<ImportJob, "source" | "target"> = {
    source: { kind: source.kind, path: source.path, fingerprint: source.fingerprint(), shapeZYX: [...source.shapeZYX], dtype: source.dtype },
    target: { t, channel, dtype: targetDtype, chunkZ },
  };
  const jp = jobPath(dstPath, t, channelIndex);
  const prior = existsSync(dstPath) ? readJob(jp) : undefined;
  const mismatch = prior ? jobMismatch(prior, want) : undefined;
  let job: ImportJob | undefined = prior && !mismatch && !options.restart ? prior : undefined;
  if (prior && mismatch && !options.overwrite)
    throw new VolumeError("destination holds an import from a different source", {
      path: jp,
      expected: `the same source to resume (or overwrite: true), ${want.source.kind} ${source.path}`,
      got: mismatch,
    });

  if (mode === "create") {
    if (prior && !mismatch && imageExists(dstPath)) {
      // Our own import of this source: keep the image (other slots may have been added to it since) and resume,
      // or with `restart` rewrite this slot.
      image = await OmeImage.open(dstPath);
      if (image.shapeZYX.join(",") !== source.shapeZYX.join(",") || image.dtype !== targetDtype)
        throw new VolumeError("the image of an earlier import has another shape or dtype", { path: dstPath, got: `${image.shapeZYX.join("x")} ${image.dtype}` });
      if (!sameVoxel(voxel, image.voxelSizeUm))
        throw new VolumeError("voxel size differs from the image made by the earlier import", {
          path: dstPath,
          field: "voxelSizeUm",
          expected: `${image.voxelSizeUm.join(", ")} um (or overwrite: true to make a new image)`,
          got: `${voxel.join(", ")} um (${voxelOrigin})`,
        });
    } else {
      job = undefined; // also after a crash between writing the job and creating the image
      if (imageExists(dstPath) && !options.overwrite)
        throw new VolumeError("an OME-Zarr image already exists here", { path: dstPath, expected: "a new location, overwrite: true, or mode: \"add\"" });
      // Before the job file (the first byte written): never write into a folder that holds something else.
      checkDatasetFolder(dstPath, { overwrite: options.overwrite });
      removeJobs(dstPath);
    }
  }
  if (!job) {
    const now = new Date().toISOString();
    job = { format: "ssb-ct-import-job", version: 1, ...want, voxelSizeUm: voxel, voxelSizeOrigin: voxelOrigin, slabCount, slabsDone: [], complete: false, startedAt: now, updatedAt: now };
    writeJob(jp, job);
  }
  if (!image) {
    image = await OmeImage.create(dstPath, {
      channels,
      timePointsH,
      shapeZYX: [...source.shapeZYX],
      voxelSizeUm: voxel,
      dtype: targetDtype,
      chunksZYX: [chunkZ, options.chunksZYX?.[1] ?? Math.min(64, source.shapeZYX[1]), options.chunksZYX?.[2] ?? Math.min(64, source.shapeZYX[2])],
      ...(options.codec ? { codec: options.codec } : {}),
      ...(options.version ? { version: options.version } : {}),
      ...(options.name ? { name: options.name } : {}),
      ...(options.experiment ? { experiment: options.experiment } : {}),
      overwrite: true,
    });
  }

  const done = new Set(job.slabsDone);
  const skipped = done.size;
  const sliceCount = (s: number) => Math.min(nz, (s + 1) * chunkZ) - s * chunkZ;
  const progress = createProgress(`import ${basename(source.path)}`, nz, { unit: "slices", ...(options.progress !== undefined ? { sink: options.progress } : {}) });
  let already = 0;
  for (const s of done) already += sliceCount(s);
  progress.set(already);
  let written = 0;
  const img = image;
  const slot = { t, channelIndex, dtype: targetDtype, chunkZ };
  const ranges = img.dataRanges;
  const todo = Array.from({ length: slabCount }, (_, s) => s).filter((s) => !done.has(s));
  const interrupted = () =>
    new VolumeError("import interrupted; run it again with the same source to resume", {
      path: dstPath,
      got: `${done.size} of ${slabCount} slabs written`,
    }, { cause: options.signal?.reason });
  if (options.signal?.aborted && todo.length) throw interrupted();
  const record = (s: number, range: SlabRange) => {
    // The omero window first, then the job: a slab the job lists has its values in the recorded range.
    const old = ranges[channelIndex] ?? null;
    if (range && (!old || range[0] < old[0] || range[1] > old[1])) {
      ranges[channelIndex] = old ? [Math.min(old[0], range[0]), Math.max(old[1], range[1])] : range;
      img.recordDataRanges(ranges);
    }
    done.add(s);
    job!.slabsDone = [...done].sort((a, b) => a - b);
    writeJob(jp, job!);
    written++;
    progress.tick(sliceCount(s));
  };
  // Worker threads write through the 5D level-0 array; other layouts (an image of someone else's) stay here.
  const threads = reopen && img.array(0).ndim === 5 ? options.threads : 1;
  // Ctrl-C (the signal) stops between slabs: none is started after it, those running finish and are recorded.
  if (reopen && threads !== undefined && threads <= 1) {
    for (const s of todo) {
      if (options.signal?.aborted) break;
      record(s, await importSlab(source, img, slot, s));
    }
  } else if (reopen && img.array(0).ndim === 5) {
    await runTasks<ImportSlabInit, number, SlabRange>("import", { source: reopen, dst: dstPath, ...slot }, todo, (r, i) => record(todo[i]!, r), { threads, signal: options.signal });
  } else {
    for (const s of todo) {
      if (options.signal?.aborted) break;
      const z0 = s * chunkZ;
      let slab = await source.readSlab(z0, Math.min(nz, z0 + chunkZ));
      if (source.dtype !== targetDtype) slab = convert(slab, targetDtype);
      await img.writeVolume(t, channelIndex, [z0, 0, 0], slab);
      record(s, null);
    }
  }
  if (done.size < slabCount) throw interrupted();
  job.complete = true;
  writeJob(jp, job);
  progress.finish();
  return { image, slabsWritten: written, slabsSkipped: skipped, slabCount, voxelSizeUm: job.voxelSizeUm, voxelSizeOrigin: job.voxelSizeOrigin, jobFile: jp };
}

/**
 * Imports a TIFF slice stack (a folder with one TIFF per z slice, in natural file-name order, or one multi-page
 * TIFF) into an OME-Zarr image. The whole stack is validated from its IFDs first. `voxelSizeUm` is required for a
 * new image: TIFF slices do not carry a reliable physical voxel size.
 */
export async function importTiffStack(srcPath: string, dstPath: string, options: ImportOptions & TiffStackOptions = {}): Promise<ImportResult> {
  const src = TiffStackSource.open(srcPath, options);
  try {
    return await importVolume(src, dstPath, options, { kind: "tiff", path: srcPath, options: { allowGaps: options.allowGaps, pattern: options.pattern } });
  } finally {
    src.close();
  }
}

/**
 * Imports a 3D dataset of a DXchange/NeXus HDF5 file (default `/exchange/data`) into an OME-Zarr image. The voxel
 * size comes from `voxelSizeUm` or, failing that, from the file where it is stored with units.
 */
export async function importHdf5(srcFile: string, dstPath: string, options: ImportOptions & Hdf5SourceOptions = {}): Promise<ImportResult> {
  const src = await Hdf5Source.open(srcFile, options);
  try {
    const h5 = { datasetPath: options.datasetPath, voxelSizePaths: options.voxelSizePaths, maxReadBytes: options.maxReadBytes };
    return await importVolume(src, dstPath, options, { kind: "hdf5", path: srcFile, options: h5 });
  } finally {
    src.close();
  }
}
