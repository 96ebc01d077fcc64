/**
 * One shard of an import (`--shard i/n`): slabs k with k mod n = i of a TIFF stack or HDF5 volume into one
 * (time point, channel) slot, by n processes at once on a shared file system (volume/shard-writer.ts). The first
 * shard of the job creates the image (or checks the one it adds to) under the store lock; every shard writes only
 * its slabs' chunks; the last one done records the channel's value range (the union of every shard's, and of what
 * the image held before) once, so the store's bytes are those of one process's import.
 *
 * A shard is redone whole when rerun (its chunks are rewritten with the same bytes): the slab-level resume of the
 * single-process import (its job file) does not apply; the shard records in `.ssb-ct/shards/` say what is done.
 */
import { basename, join } from "node:path";
import { ParameterError, VolumeError } from "../../util/errors.js";
import { jsonIdentity } from "../../util/identity.js";
import { createProgress } from "../../util/progress.js";
import { shardItems, type Shard } from "../../util/shard.js";
import { runTasks } from "../../parallel/pool.js";
import { OmeImage, type ChannelRange } from "../ome.js";
import { checkDatasetFolder, writeErrorOf } from "../output-folder.js";
import { BOOKKEEPING_DIR } from "../dataset-lock.js";
import { beginShard, SHARDS_DIR, type ShardSession } from "../shard-writer.js";
import type { DataType } from "../types.js";
import { imageExists, LOSSLESS, sameVoxel, voxelTriple, type ImportOptions, type ImportResult } from "./import.js";
import type { ImportSlabInit, SlabRange, SourceSpec } from "./import-task.js";
import type { VolumeSource } from "./source.js";

interface ImportPartial {
  /** Union of the slot's range before the job and of this shard's slabs. */
  range: SlabRange;
}

function union(a: SlabRange, b: SlabRange): SlabRange {
  if (!a) return b;
  if (!b) return a;
  return [Math.min(a[0], b[0]), Math.max(a[1], b[1])];
}

export async function importShard(source: VolumeSource, dstPath: string, options: ImportOptions, reopen: SourceSpec, shard: Shard): Promise<ImportResult> {
  const t = options.timePoint ?? 0;
  const channel = options.channel ?? "absorption";
  if (!Number.isInteger(t) || t < 0) throw new ParameterError("time point index must be a non-negative integer", { field: "timePoint", got: String(t) });
  const callerVoxel = options.voxelSizeUm !== undefined ? voxelTriple(options.voxelSizeUm) : undefined;
  const sourceVoxel = callerVoxel ?? source.voxelSizeUm;
  const voxelOrigin = callerVoxel ? "caller" : source.voxelSizeOrigin ?? "source";
  const mode = options.mode ?? "create";
  const chunkZ0 = Math.max(1, Math.min(options.chunksZYX?.[0] ?? 64, source.shapeZYX[0]));
  // Every shard of one job must agree on all of this; another value is another job.
  const identity = jsonIdentity({
    source: { kind: source.kind, fingerprint: source.fingerprint(), shapeZYX: source.shapeZYX, dtype: source.dtype },
    t,
    channel,
    voxel: sourceVoxel ?? null,
    mode,
    channels: options.channels ?? null,
    timePointsH: options.timePointsH ?? null,
    chunksZYX: options.chunksZYX ?? null,
    codec: options.codec ?? null,
    version: options.version ?? null,
    name: options.name ?? null,
    experiment: options.experiment ?? null,
    dtype: options.dtype ?? null,
  });
  if (mode !== "add") checkDatasetFolder(dstPath, { overwrite: true }); // a path we may make a store in at all
  let session: ShardSession<ImportPartial> | null = null;
  try {
    session = await beginShard<ImportPartial>(dstPath, { name: `import-t${t}-${channel.replace(/[^A-Za-z0-9._-]/g, "_")}`, identity, shard, purpose: "import" }, async (fresh) => {
      const create = mode === "create" || (mode === "auto" && !imageExists(dstPath));
      if (!fresh || !create) return;
      if (imageExists(dstPath) && !options.overwrite)
        throw new VolumeError("an OME-Zarr image already exists here", { path: dstPath, expected: "a new location, overwrite: true, or mode: \"add\"" });
      if (!sourceVoxel)
        throw new ParameterError("voxel size unknown: the source does not state it", { path: source.path, field: "voxelSizeUm", expected: "voxelSizeUm: [dz, dy, dx] in micrometres (never assumed)", got: source.voxelSizeProblem ?? `no voxel size in this ${source.kind}` });
      const channels = options.channels ?? [channel];
      await OmeImage.create(dstPath, {
        channels,
        timePointsH: options.timePointsH ?? [0],
        shapeZYX: [...source.shapeZYX],
        voxelSizeUm: sourceVoxel,
        dtype: options.dtype ?? source.dtype,
        chunksZYX: [chunkZ0, options.chunksZYX?.[1] ?? Math.min(64, source.shapeZYX[1]), options.chunksZYX?.[2] ?? Math.min(64, source.shapeZYX[2])],
        ...(options.codec ? { codec: options.codec } : {}),
        ...(options.version ? { version: options.version } : {}),
        ...(options.name ? { name: options.name } : {}),
        ...(options.experiment ? { experiment: options.experiment } : {}),
        overwrite: true,
      });
    });
    const image = await OmeImage.open(dstPath);
    const channelIndex = image.channelIndex(channel);
    if (t >= image.timePointsH.length) throw new ParameterError("time point index is outside the image", { path: dstPath, field: "timePoint", expected: `0..${image.timePointsH.length - 1}`, got: String(t) });
    if (image.shapeZYX.join(",") !== source.shapeZYX.join(","))
      throw new VolumeError("source volume size differs from the image", { path: source.path, expected: `${image.shapeZYX.join(" x ")} (z, y, x) as in ${dstPath}`, got: source.shapeZYX.join(" x ") });
    if (sourceVoxel && !sameVoxel(sourceVoxel, image.voxelSizeUm))
      throw new VolumeError("voxel size differs from the image's", { path: source.path, field: "voxelSizeUm", expected: `${image.voxelSizeUm.join(", ")} um as in ${dstPath}`, got: `${sourceVoxel.join(", ")} um (${voxelOrigin})` });
    const dtype: DataType = image.dtype;
    if (!LOSSLESS[source.dtype].includes(dtype))
      throw new ParameterError("dtype conversion would change values", { path: source.path, field: "dtype", expected: `one of ${LOSSLESS[source.dtype].join(", ")} for ${source.dtype} data`, got: dtype });
    if (image.array(0).ndim !== 5) throw new VolumeError("a sharded import writes 5D (t, c, z, y, x) images only", { path: dstPath, got: `${image.array(0).ndim}D` });
    const chunks = image.array(0).chunks;
    const chunkZ = chunks[chunks.length - 3]!;
    const slabCount = Math.ceil(source.shapeZYX[0] / chunkZ);
    const mine = shardItems(Array.from({ length: slabCount }, (_, s) => s), shard);
    let range: SlabRange = image.dataRanges[channelIndex] ?? null;
    const progress = createProgress(`import ${basename(source.path)} ${shard.index}/${shard.count}`, mine.length, { unit: "slabs", ...(options.progress !== undefined ? { sink: options.progress } : {}) });
    const slot = { t, channelIndex, dtype, chunkZ };
    await runTasks<ImportSlabInit, number, SlabRange>(
      "import",
      { source: reopen, dst: dstPath, ...slot },
      mine,
      (r) => {
        range = union(range, r);
        progress.tick();
      },
      { threads: options.threads },
    );
    progress.finish();
    await session.finish({ range }, async (parts) => {
      const img = await OmeImage.open(dstPath);
      const ranges: ChannelRange[] = img.dataRanges;
      ranges[channelIndex] = parts.reduce<SlabRange>((a, p) => union(a, p.range), null);
      img.recordDataRanges(ranges);
    });
    const voxel = image.voxelSizeUm;
    return { image: await OmeImage.open(dstPath), slabsWritten: mine.length, slabsSkipped: 0, slabCount, voxelSizeUm: [voxel[0], voxel[1], voxel[2]], voxelSizeOrigin: voxelOrigin, jobFile: join(dstPath, BOOKKEEPING_DIR, SHARDS_DIR) };
  } catch (e) {
    throw writeErrorOf(e, dstPath);
  } finally {
    session?.release();
  }
}
