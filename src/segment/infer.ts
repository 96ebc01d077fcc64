/**
 * Whole-volume segmentation into the OME-Zarr `labels/` group, chunk by chunk.
 *
 * For every output chunk the windows that touch it are predicted (or taken from a bounded LRU cache of window
 * predictions), Gaussian-weighted and accumulated over that chunk only, so memory is one chunk accumulator plus the
 * cache budget, independent of the volume size. Windows shared by neighbouring chunks are recomputed when they have
 * fallen out of the cache; the result does not depend on that (the accumulation order is fixed).
 *
 * Each label chunk is written atomically and last (after its probability / entropy chunks), so a present label
 * chunk means the chunk is finished: a restarted job with the same model and settings on the same image skips
 * those chunks. "Same" is the job record on the label image's level-0 array (`ssb-ct-segment`): the model's
 * fingerprint, the settings, and the identity of the image (level-0 listing, shape, time points, channels) taken
 * when the job started. Any difference replaces the label image whole and says why (`SegmentStats.replaced`): a
 * regenerated image must never keep the labels of the old one.
 *
 * The label image is tracked (volume/completion.ts): its completion record is removed before the first chunk is
 * written and written after the last, so readers refuse a segmentation that was interrupted or failed. The store's
 * writer lock is held throughout.
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { OmeImage, ZarrArray, type ChunkCache, type LabelImage } from "../volume/index.js";
import { chunkCount, identityMismatch, imageIdentity, removeCompletion, writeCompletion, type ImageIdentity } from "../volume/completion.js";
import { lockDataset } from "../volume/dataset-lock.js";
import { assertNoLiveShards, lockShard, lockStore } from "../volume/shard-writer.js";
import { checkShard, inShard, isSharded, shardSize, type Shard } from "../util/shard.js";
import { writeErrorOf } from "../volume/output-folder.js";
import { jsonIdentity } from "../util/identity.js";
import { VolumeError, ParameterError } from "../util/errors.js";
import { createProgress, type ProgressSink } from "../util/progress.js";
import { DEFAULT_INFER, DEFAULT_VOXEL_SIZE_POLICY, type InferConfig, type MirrorAxes, type VoxelSizePolicy } from "./plans.js";
import { mirrorEngine } from "./tta.js";
import { resampledShape, resampleLinear, voxelSizesDiffer, type ResampleRecord } from "./resample.js";
import { predictVolumeProbabilities } from "./predict-volume.js";
import type { SegmentModel } from "./model-io.js";
import { modelFingerprint } from "./model-io.js";
import { createEngine, type EngineName, type SegmentEngine } from "./engines.js";
import { normaliseInto } from "./normalise.js";
import { accumulateWindow, finishAccumulator, gaussianImportance, windowStarts, windowsTouching, type Box } from "./sliding-window.js";
import { sizeMultiple } from "./unet.js";

export interface SegmentOptions extends Partial<InferConfig> {
  /** Label image name under labels/ (default "unet"; the twin's truth lives in labels/segmentation). */
  labelName?: string;
  /** Allow replacing a label image that this module did not write (e.g. ground truth); default false. */
  overwriteForeign?: boolean;
  /** Time points to segment (default: all). */
  timePoints?: number[];
  engine?: EngineName;
  /** Use this engine instead of creating one (it is not disposed). */
  engineInstance?: SegmentEngine;
  /** Also store class probabilities (float32, labels/<name>/probabilities, axes t, class, z, y, x). */
  writeProbabilities?: boolean;
  /** Also store the entropy of the class probabilities (nats; labels/<name>/entropy). */
  writeEntropy?: boolean;
  /** Skip chunks a previous run with the same model and settings on the same image finished (default true). */
  resume?: boolean;
  intraOpThreads?: number;
  progress?: ProgressSink | false;
  /** Stop after this many chunks (for tests of restart; default: no limit). */
  maxChunks?: number;
  /** Mirroring test-time augmentation along these axes (e.g. TTA_MIRROR_AXES: 8x the inference time; default none). */
  tta?: MirrorAxes;
  /**
   * A scan whose voxel size differs from the model's beyond `voxelSizeTolerance`: "resample" (default) segments it on
   * the model's grid and brings the probabilities back (each time point is then held in memory whole); "refuse";
   * "as-is" (the scan's own grid; measured comparisons in plans.ts).
   */
  voxelSizePolicy?: VoxelSizePolicy;
  /**
   * Part i of n (`--shard i/n`): only output chunks k with k mod n = i (k over time points, then z, y, x chunks).
   * Shards of one job run at once on one store; the last to find every chunk written writes the completion record.
   */
  shard?: Shard;
  /** Threads of the inference engine (`--threads N`); intraOpThreads wins when both are given. */
  threads?: number;
}

export interface SegmentStats {
  chunksWritten: number;
  chunksSkipped: number;
  windowsPredicted: number;
  windowsTotal: number;
  voxels: number;
  engine: string;
  seconds: number;
  /** Why an existing label image of this name was replaced instead of resumed (null: resumed, or none existed). */
  replaced: string | null;
  /** True when every chunk of every time point is written and the completion record is in place. */
  complete: boolean;
  /** Set when the scan was segmented on the model's grid (its voxel size differs): what was done, also in the job record. */
  resampled: ResampleRecord | null;
  /** Mirror axes of test-time augmentation, or null. */
  tta: string[] | null;
  /** Policy "as-is" on a scan of another voxel size: both voxel sizes (also in the job record), else null. */
  voxelSizeAsIs: { imageVoxelUm: number[]; modelVoxelUm: number[]; tolerance: number } | null;
}

/** Checks that the image has the model's channels and voxel size; throws a VolumeError naming the mismatch. */
export function checkCompatible(img: OmeImage, sm: SegmentModel, tolerance = DEFAULT_INFER.voxelSizeTolerance): number[] {
  const want = sm.record.unet.channels;
  const missing = want.filter((c) => !img.channels.includes(c));
  if (missing.length)
    throw new VolumeError("image channels do not match the model", {
      path: img.path,
      field: "channels",
      expected: `channels ${want.join(", ")} (model input)`,
      got: `${img.channels.join(", ")} (missing ${missing.join(", ")})`,
    });
  const vs = sm.record.voxelSizeUm;
  if (vs) {
    const got = img.voxelSizeUm;
    for (let a = 0; a < 3; a++)
      if (Math.abs(got[a]! - vs[a]!) > tolerance * vs[a]!)
        throw new VolumeError("voxel size does not match the model's training data", {
          path: img.path,
          field: "voxelSizeUm",
          expected: `${vs.join(" x ")} um (within ${(tolerance * 100).toFixed(0)} %); resample the volume or retrain`,
          got: `${got.join(" x ")} um`,
        });
  }
  return want.map((c) => img.channels.indexOf(c));
}

class WindowCache {
  private map = new Map<string, Float32Array>();
  private bytes = 0;
  constructor(private readonly budget: number) {}
  get(key: string): Float32Array | undefined {
    const v = this.map.get(key);
    if (v) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: Float32Array): void {
    if (v.byteLength > this.budget) return;
    this.map.set(key, v);
    this.bytes += v.byteLength;
    for (const [k, old] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= old.byteLength;
    }
  }
}

async function readWindow(
  img: OmeImage,
  t: number,
  sm: SegmentModel,
  start: readonly [number, number, number],
  patch: readonly [number, number, number],
  cache: ChunkCache,
): Promise<Float32Array> {
  const [pd, ph, pw] = patch;
  const shape = img.shapeZYX;
  const sel: Box = [0, 1, 2].map((a) => [start[a]!, Math.min(shape[a]!, start[a]! + patch[a]!)]) as Box;
  const ext = sel.map(([a, b]) => b - a);
  const pv = pd * ph * pw;
  const out = new Float32Array(sm.record.unet.channels.length * pv);
  const inside = ext[0] === pd && ext[1] === ph && ext[2] === pw;
  for (const [c, norm] of sm.record.normalisation.entries()) {
    const raw = await img.readVolume(t, norm.channel, { selection: sel, cache });
    const where = `t=${t} window z${sel[0][0]}:${sel[0][1]} y${sel[1][0]}:${sel[1][1]} x${sel[2][0]}:${sel[2][1]}`;
    if (inside) {
      normaliseInto(raw.data, out, c * pv, norm, where);
      continue;
    }
    // Volume smaller than the window: the rest stays 0, the normalised mean intensity.
    const tmp = new Float32Array(raw.data.length);
    normaliseInto(raw.data, tmp, 0, norm, where);
    for (let z = 0; z < ext[0]!; z++)
      for (let y = 0; y < ext[1]!; y++) out.set(tmp.subarray((z * ext[1]! + y) * ext[2]!, (z * ext[1]! + y + 1) * ext[2]!), c * pv + (z * ph + y) * pw);
  }
  return out;
}

/** What labels were computed from; stored as `ssb-ct-segment` on the label image's level-0 array. */
interface JobRecord {
  model: string;
  patchZYX: number[];
  overlap: number;
  gaussianSigmaFraction: number;
  probabilities: boolean;
  entropy: boolean;
  image: ImageIdentity;
  tta?: string[];
  resample?: ResampleRecord;
  /** Segmented on the scan's own grid although its voxel size differs from the model's (policy "as-is"). */
  voxelSizeAsIs?: { imageVoxelUm: number[]; modelVoxelUm: number[]; tolerance: number };
}

/** Why a previous job's labels cannot be continued by this job, naming the field; null when they can. */
function jobMismatch(prev: unknown, job: JobRecord): string | null {
  if (!prev || typeof prev !== "object") return "the label image has no job record";
  const p = prev as Partial<JobRecord>;
  if (!p.image) return "the label image records no image identity (written by an older version)";
  const image = identityMismatch(p.image, job.image);
  if (image) return `the image changed since it was segmented: ${image}`;
  if (p.model !== job.model) return "another model (weights or normalisation differ)";
  for (const k of ["patchZYX", "overlap", "gaussianSigmaFraction", "probabilities", "entropy"] as const)
    if (jsonIdentity(p[k]) !== jsonIdentity(job[k])) return `another setting: ${k} was ${JSON.stringify(p[k])}, now ${JSON.stringify(job[k])}`;
  return jsonIdentity(p) === jsonIdentity(job) ? null : "another job record";
}

/**
 * Segments an OME-Zarr image with a model into labels/<labelName>; returns what was done. Holds the store's writer
 * lock; a full disk or read-only store is reported in words (finished chunks stay, and a rerun resumes).
 */
export async function segmentImage(img: OmeImage, sm: SegmentModel, options: SegmentOptions = {}): Promise<SegmentStats> {
  let release: () => void = () => {};
  let releaseShard: () => void = () => {};
  const shard = checkShard(options.shard);
  try {
    if (!isSharded(shard)) {
      release = lockDataset(img.path, "segmentation");
      assertNoLiveShards(img.path, "segmentation");
      return await segmentLocked(img, sm, options);
    }
    // Shards hold the store lock only while they decide (resume or replace) and create the label image, so that
    // none of them replaces it under another; a present label chunk marks a finished chunk, as for one process.
    release = await lockStore(img.path, "segmentation");
    return await segmentLocked(img, sm, options, {
      // Replacing the label image would delete the chunks of running shards of another job: refused while they run.
      beforeReplace: () => assertNoLiveShards(img.path, "segmentation"),
      prepared: () => {
        releaseShard = lockShard(img.path, `segment-${options.labelName ?? "unet"}`, shard, "segmentation");
        release();
      },
    });
  } catch (e) {
    throw writeErrorOf(e, img.path);
  } finally {
    release();
    releaseShard();
  }
}

/** Calls of a sharded segmentation around the part that decides about and creates the label image (under the store lock). */
interface ShardHooks {
  beforeReplace(): void;
  prepared(): void;
}

async function segmentLocked(img: OmeImage, sm: SegmentModel, options: SegmentOptions, hooks?: ShardHooks): Promise<SegmentStats> {
  const cfg: InferConfig = { ...DEFAULT_INFER, ...stripUndefined(options) };
  const shard = checkShard(options.shard);
  const t0 = performance.now();
  const vs = sm.record.voxelSizeUm;
  const policy = options.voxelSizePolicy ?? DEFAULT_VOXEL_SIZE_POLICY;
  const resample: ResampleRecord | null =
    vs && policy === "resample" && voxelSizesDiffer(img.voxelSizeUm, vs, cfg.voxelSizeTolerance)
      ? {
          imageVoxelUm: [...img.voxelSizeUm],
          modelVoxelUm: [vs[0], vs[1], vs[2]],
          tolerance: cfg.voxelSizeTolerance,
          imageShapeZYX: [...img.shapeZYX],
          modelGridShapeZYX: resampledShape(img.shapeZYX, img.voxelSizeUm, vs),
          intensities: "trilinear, Gaussian anti-aliasing where downsampled",
          probabilities: "trilinear back to the image grid; labels = argmax",
        }
      : null;
  checkCompatible(img, sm, resample || policy === "as-is" ? Infinity : cfg.voxelSizeTolerance);
  const asIs = !resample && policy === "as-is" && vs && voxelSizesDiffer(img.voxelSizeUm, vs, cfg.voxelSizeTolerance) ? { imageVoxelUm: [...img.voxelSizeUm], modelVoxelUm: [...vs], tolerance: cfg.voxelSizeTolerance } : null;
  const tta = options.tta?.length ? [...options.tta] : null;
  const mult = sizeMultiple(sm.record.unet);
  if (cfg.patchZYX.some((p) => p % mult !== 0 || p < mult))
    throw new ParameterError("patch size must be a multiple of 2^(depth-1)", { field: "patchZYX", expected: `multiples of ${mult}`, got: cfg.patchZYX.join("x") });
  if (!(cfg.overlap >= 0 && cfg.overlap < 1)) throw new ParameterError("overlap out of range", { field: "overlap", expected: "[0, 1)", got: String(cfg.overlap) });
  const labelName = options.labelName ?? "unet";
  const K = sm.record.unet.classes.length;
  const job: JobRecord = {
    model: modelFingerprint(sm),
    patchZYX: cfg.patchZYX,
    overlap: cfg.overlap,
    gaussianSigmaFraction: cfg.gaussianSigmaFraction,
    probabilities: Boolean(options.writeProbabilities),
    entropy: Boolean(options.writeEntropy),
    image: imageIdentity(img),
    // only when used, so labels written before these options existed still resume
    ...(tta ? { tta } : {}),
    ...(resample ? { resample } : {}),
    ...(asIs ? { voxelSizeAsIs: asIs } : {}),
  };
  const resume = options.resume ?? true;
  const shape = img.shapeZYX;
  const T = img.timePointsH.length;
  let lab: LabelImage | null = null;
  let replaced: string | null = null;
  if ((await img.labelNames()).includes(labelName)) {
    const old = await img.openLabels(labelName);
    const prev = old.array(0).attributes["ssb-ct-segment"];
    if (prev === undefined && !options.overwriteForeign)
      throw new VolumeError("label image exists and was not written by the segmenter (ground truth?)", {
        path: old.path,
        field: "labelName",
        expected: "another labelName, or overwriteForeign: true",
        got: labelName,
      });
    const grid = old.array(0).shape.join(",") === [T, 1, ...shape].join(",");
    const why = !resume ? "resume: false" : jobMismatch(prev, job) ?? (grid ? null : `its grid ${old.array(0).shape.join(" x ")} is not the image's`);
    if (why === null) lab = old;
    else replaced = why;
  }
  const fresh = lab === null;
  if (fresh && (await img.labelNames()).includes(labelName)) hooks?.beforeReplace();
  if (lab) removeCompletion(lab.path); // first: from here on the label image is unfinished until the record is back
  else
    lab = await img.createLabels(labelName, {
      dtype: "uint8",
      classes: sm.record.classes,
      overwrite: true,
      attributes: { "ssb-ct-segment": job, "ssb-ct-model": { classes: sm.record.classes, channels: sm.record.unet.channels, training: sm.record.training.data, metrics: sm.record.metrics } },
    });
  const labArr = lab.array(0);
  const [, , cz, cy, cx] = labArr.chunks as [number, number, number, number, number];
  const extraArray = async (name: string, channels: number): Promise<ZarrArray> => {
    const p = join(lab!.path, name);
    if (!fresh && existsSync(p)) return ZarrArray.open(p);
    return ZarrArray.create(p, {
      shape: [T, channels, ...shape],
      chunks: [1, channels, cz, cy, cx],
      dtype: "float32",
      codec: { name: "blosc", cname: "zstd", clevel: 3, shuffle: "byte" },
      zarrFormat: labArr.zarrFormat,
      dimensionNames: ["t", "c", "z", "y", "x"],
      overwrite: true,
    });
  };
  const probArr = options.writeProbabilities ? await extraArray("probabilities", K) : null;
  const entArr = options.writeEntropy ? await extraArray("entropy", 1) : null;
  hooks?.prepared();

  const patch = cfg.patchZYX as [number, number, number];
  const importance = gaussianImportance(patch, cfg.gaussianSigmaFraction);
  const axisStarts = [0, 1, 2].map((a) => windowStarts(shape[a]!, patch[a]!, cfg.overlap));
  const windowsPerVolume = axisStarts[0]!.length * axisStarts[1]!.length * axisStarts[2]!.length;
  const times = options.timePoints ?? Array.from({ length: T }, (_, i) => i);
  const nChunks = [Math.ceil(shape[0] / cz), Math.ceil(shape[1] / cy), Math.ceil(shape[2] / cx)];
  const totalChunks = nChunks[0]! * nChunks[1]! * nChunks[2]! * times.length;
  const progress = createProgress(`segment ${labelName}`, shardSize(totalChunks, shard), { unit: "chunks", sink: options.progress });
  const baseEngine: SegmentEngine = options.engineInstance ?? (await createEngine(sm, options.engine ?? "onnx", { intraOpThreads: options.intraOpThreads ?? options.threads }));
  const engine: SegmentEngine = tta ? mirrorEngine(baseEngine, tta) : baseEngine;
  // resampled inference: the probabilities of one whole time point on the image grid, computed once per time point
  let resampled = null as { t: number; probs: Float32Array } | null;
  const cache = new WindowCache(cfg.cacheMiB * 2 ** 20);
  // Neighbouring windows overlap by half: without this each input chunk would be decoded about 8 times.
  const inputCache = img.array(0).chunkCache(cfg.inputCacheMiB * 2 ** 20);
  const stats: SegmentStats = { chunksWritten: 0, chunksSkipped: 0, windowsPredicted: 0, windowsTotal: windowsPerVolume * times.length, voxels: 0, engine: engine.name, seconds: 0, replaced, complete: false, resampled: resample, tta, voxelSizeAsIs: asIs };
  let k = 0;
  try {
    for (const t of times) {
      if (!(Number.isInteger(t) && t >= 0 && t < T)) throw new ParameterError("time point out of range", { field: "timePoints", expected: `0..${T - 1}`, got: String(t) });
      for (let iz = 0; iz < nChunks[0]!; iz++)
        for (let iy = 0; iy < nChunks[1]!; iy++)
          for (let ix = 0; ix < nChunks[2]!; ix++) {
            const coords = [t, 0, iz, iy, ix];
            if (!inShard(k++, totalChunks, shard)) continue;
            if (!fresh && labArr.hasChunk(coords)) {
              stats.chunksSkipped++;
              progress.tick();
              continue;
            }
            if (options.maxChunks !== undefined && stats.chunksWritten >= options.maxChunks) return stats;
            const box: Box = [
              [iz * cz, Math.min(shape[0], (iz + 1) * cz)],
              [iy * cy, Math.min(shape[1], (iy + 1) * cy)],
              [ix * cx, Math.min(shape[2], (ix + 1) * cx)],
            ];
            const bv = (box[0][1] - box[0][0]) * (box[1][1] - box[1][0]) * (box[2][1] - box[2][0]);
            const acc = new Float32Array(K * bv);
            const weight = new Float32Array(bv);
            if (resample) {
              if (resampled?.t !== t) resampled = { t, probs: await probabilitiesViaModelGrid(img, t, sm, engine, cfg, resample) };
              copyBox(resampled.probs, shape, box, K, acc, weight);
            }
            for (const start of resample ? [] : windowsTouching(axisStarts, patch, box)) {
              const key = `${t}/${start.join(",")}`;
              let probs = cache.get(key);
              if (!probs) {
                // Serial on purpose: prefetching the next window while ONNX Runtime runs was measured no faster on
                // two cores (the reader competes with the engine's threads).
                const input = await readWindow(img, t, sm, start, patch, inputCache);
                probs = await engine.predict(input, patch);
                stats.windowsPredicted++;
                cache.set(key, probs);
              }
              accumulateWindow(probs, start, patch, importance, acc, weight, box, K);
            }
            const { labels, entropy } = finishAccumulator(acc, weight, K, Boolean(entArr));
            const ext = box.map(([a, b]) => b - a) as [number, number, number];
            if (probArr) await probArr.writeChunk([t, 0, iz, iy, ix], padChunk(acc, K, ext, [cz, cy, cx]));
            if (entArr && entropy) await entArr.writeChunk([t, 0, iz, iy, ix], padChunk(entropy, 1, ext, [cz, cy, cx]));
            // The label chunk goes last: its presence marks the chunk as finished.
            await labArr.writeChunk(coords, padChunk(labels, 1, ext, [cz, cy, cx]));
            stats.chunksWritten++;
            stats.voxels += bv;
            progress.tick();
          }
    }
    // Last: the completion record, only when every time point is finished (a run over some time points, or one
    // stopped by maxChunks, leaves the label image incomplete) and the image is still the one that was read.
    const n = chunkCount(labArr);
    if (n.written === n.total) {
      const now = imageIdentity(img);
      const changed = identityMismatch(job.image, now);
      if (changed) throw new VolumeError("the image changed while it was segmented; the labels are left incomplete", { path: img.path, got: changed, expected: "run the segmentation again" });
      writeCompletion(lab.path, { job, image: now, chunks: n.total });
      stats.complete = true;
    }
  } finally {
    progress.finish();
    if (!options.engineInstance) await baseEngine.dispose();
    stats.seconds = (performance.now() - t0) / 1000;
  }
  return stats;
}

/**
 * Class probabilities (K, z, y, x) of one time point on the image's grid, computed on the model's grid: each channel
 * read whole, resampled (trilinear, anti-aliased) to the model's voxel size, normalised, segmented with the sliding
 * windows of `cfg`, and the probabilities interpolated back (resample.ts).
 */
async function probabilitiesViaModelGrid(img: OmeImage, t: number, sm: SegmentModel, engine: SegmentEngine, cfg: InferConfig, r: ResampleRecord): Promise<Float32Array> {
  const grid = r.modelGridShapeZYX;
  const n = grid[0] * grid[1] * grid[2];
  const channels: Float32Array[] = [];
  for (const norm of sm.record.normalisation) {
    const raw = await img.readVolume(t, norm.channel);
    const onGrid = resampleLinear(raw.data, img.shapeZYX, grid);
    const out = new Float32Array(n);
    normaliseInto(onGrid, out, 0, norm, `t=${t} (resampled to ${r.modelVoxelUm.join(" x ")} um)`);
    channels.push(out);
  }
  const vol = { shapeZYX: grid, channels, labels: new Uint8Array(n), source: `${img.path}#t=${t}` };
  const { probabilities } = await predictVolumeProbabilities(engine, vol, { patchZYX: cfg.patchZYX, overlap: cfg.overlap, gaussianSigmaFraction: cfg.gaussianSigmaFraction });
  return resampleLinear(probabilities, grid, img.shapeZYX, { channels: sm.record.unet.classes.length });
}

/** Copies a box of (K, z, y, x) probabilities into a chunk accumulator with weight 1 (finishAccumulator divides by it). */
function copyBox(probs: Float32Array, shape: readonly [number, number, number], box: Box, K: number, acc: Float32Array, weight: Float32Array): void {
  const [d, h, w] = shape;
  const n = d * h * w;
  const bw = box[2][1] - box[2][0];
  const bv = weight.length;
  for (let z = box[0][0], o = 0; z < box[0][1]; z++)
    for (let y = box[1][0]; y < box[1][1]; y++, o += bw) {
      const s = (z * h + y) * w + box[2][0];
      for (let k = 0; k < K; k++) acc.set(probs.subarray(k * n + s, k * n + s + bw), k * bv + o);
    }
  weight.fill(1);
}

function padChunk<T extends Float32Array | Uint8Array>(src: T, channels: number, ext: [number, number, number], chunk: [number, number, number]): T {
  if (ext[0] === chunk[0] && ext[1] === chunk[1] && ext[2] === chunk[2]) return src;
  const cv = chunk[0] * chunk[1] * chunk[2];
  const ev = ext[0] * ext[1] * ext[2];
  const out = new (src.constructor as { new (n: number): T })(channels * cv);
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < ext[0]; z++)
      for (let y = 0; y < ext[1]; y++) {
        const s = c * ev + (z * ext[1] + y) * ext[2];
        out.set(src.subarray(s, s + ext[2]) as never, c * cv + (z * chunk[1] + y) * chunk[2]);
      }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
