/**
 * Completion records and provenance of label images computed from an image (the U-Net's labels/unet, the twin's
 * labels). A missing label chunk reads as class 0, so a half-written label image looks like a valid one: after a
 * segmentation aborted by NaNs, labels/unet was analysed as if complete. And labels are only meaningful for the
 * image they were computed from: rerunning the twin into a segmented store left the old labels on the new image.
 *
 * So a writer of such labels declares its job (an attribute of the level-0 array, written before any chunk: the
 * label image is "tracked" from then on), removes the completion record before it writes a chunk, and writes the
 * record last, with the identity of the image it read. A reader then knows, by name, whether the label image is
 * complete, unfinished, or stale (its image has changed since). Label images without a job attribute (someone
 * else's, or written before this existed) are "untracked": nothing is known about them, and nothing is refused.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { jsonIdentity, treeIdentity } from "../util/identity.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { VolumeError } from "../util/errors.js";
import type { ZarrArray } from "./array.js";

/** File inside the label image's folder; present only while the label image is complete. */
export const COMPLETION_FILE = "ssb-ct-complete.json";
/** Level-0 attributes that declare a tracked label image's job: the segmenter's, the twin's, and sparse / imported annotations (segment/sparse-labels.ts). */
export const JOB_ATTRS = ["ssb-ct-segment", "ssb-ct-twin", "ssb-ct-labels"] as const;

/** What labels were computed from: cheap to take (a listing, no content read), so it is checked on every read. */
export interface ImageIdentity {
  /** sha256 over (relative path, size) of every file of the level-0 array: a chunk added, removed or rewritten with another size changes it. */
  level0: string;
  level0Files: number;
  shapeZYX: number[];
  timePointsH: number[];
  channels: string[];
}

/** What identity needs of an image (`OmeImage` fits). */
export interface IdentifiableImage {
  readonly path: string;
  readonly shapeZYX: [number, number, number];
  readonly timePointsH: number[];
  readonly channels: string[];
  array(level?: number): { readonly path: string };
}

export function imageIdentity(img: IdentifiableImage): ImageIdentity {
  const rel = relative(img.path, img.array(0).path) || ".";
  const id = treeIdentity(img.path, [rel], { content: false });
  return { level0: id.listing, level0Files: id.files, shapeZYX: [...img.shapeZYX], timePointsH: [...img.timePointsH], channels: [...img.channels] };
}

/** The first way `now` differs from `recorded`, in words naming the field; null when they agree. */
export function identityMismatch(recorded: ImageIdentity, now: ImageIdentity): string | null {
  const same = (a: unknown, b: unknown): boolean => jsonIdentity(a) === jsonIdentity(b);
  if (!same(recorded.shapeZYX, now.shapeZYX)) return `image shape (z, y, x): recorded ${recorded.shapeZYX.join(" x ")}, now ${now.shapeZYX.join(" x ")}`;
  if (!same(recorded.timePointsH, now.timePointsH)) return `image time points: recorded [${recorded.timePointsH.join(", ")}] h, now [${now.timePointsH.join(", ")}] h`;
  if (!same(recorded.channels, now.channels)) return `image channels: recorded ${recorded.channels.join(", ")}, now ${now.channels.join(", ")}`;
  if (recorded.level0 !== now.level0)
    return recorded.level0Files !== now.level0Files
      ? `image level-0 array: ${recorded.level0Files} files recorded, ${now.level0Files} now`
      : "image level-0 array: chunk sizes differ from the recorded ones (rewritten since)";
  return null;
}

export interface CompletionRecord {
  format: "ssb-ct-labels-complete";
  version: 1;
  /** The job attribute of the level-0 array when the labels were finished (equal to it while they are valid). */
  job: unknown;
  /** The image the labels were computed from, at completion. */
  image: ImageIdentity;
  /** Chunks of the level-0 array (every one written). */
  chunks: number;
}

/** The job attribute of a label image's level-0 array and its key, or null for an untracked label image. */
export function jobOf(attributes: Record<string, unknown>): { key: string; job: unknown } | null {
  for (const key of JOB_ATTRS) if (attributes[key] !== undefined) return { key, job: attributes[key] };
  return null;
}

/** Removes the completion record: first, before a tracked label image is (re)written. */
export function removeCompletion(labelPath: string): void {
  rmSync(join(labelPath, COMPLETION_FILE), { force: true });
}

/** Writes the completion record: last, after every chunk. */
export function writeCompletion(labelPath: string, record: Omit<CompletionRecord, "format" | "version">): void {
  const full: CompletionRecord = { format: "ssb-ct-labels-complete", version: 1, ...record };
  writeFileAtomic(join(labelPath, COMPLETION_FILE), JSON.stringify(full, null, 1) + "\n", { fsync: true });
}

export function readCompletion(labelPath: string): CompletionRecord | null {
  const p = join(labelPath, COMPLETION_FILE);
  if (!existsSync(p)) return null;
  let r: Partial<CompletionRecord>;
  try {
    r = JSON.parse(readFileSync(p, "utf8")) as Partial<CompletionRecord>;
  } catch (e) {
    throw new VolumeError("completion record is not JSON", { path: p, got: (e as Error).message });
  }
  if (r.format !== "ssb-ct-labels-complete" || r.version !== 1 || !r.image)
    throw new VolumeError("not a completion record of this version", { path: p, field: "format", expected: "ssb-ct-labels-complete version 1", got: `${String(r.format)} v${String(r.version)}` });
  return r as CompletionRecord;
}

/** Chunks of an array and how many of them are written (one stat per chunk). */
export function chunkCount(arr: ZarrArray): { total: number; written: number } {
  let total = 0;
  let written = 0;
  for (const c of arr.chunksOverlapping(arr.fullSelection())) {
    total++;
    if (arr.hasChunk(c)) written++;
  }
  return { total, written };
}

export type LabelState = "complete" | "incomplete" | "stale" | "untracked";

export interface LabelStatus {
  state: LabelState;
  /** Why, in words (empty for complete and untracked). */
  reason: string;
}

/** A tracked label image whose writer has not finished (interrupted, failed, or still running). */
export class IncompleteLabelsError extends VolumeError {}
/** A label image computed from another image than the one it is now attached to. */
export class StaleLabelsError extends VolumeError {}

/** Status of a label image at `path` from its level-0 array and (when known) the image it belongs to. */
export function labelStatus(path: string, level0: ZarrArray, image?: IdentifiableImage): LabelStatus {
  const tracked = jobOf(level0.attributes);
  if (!tracked) return { state: "untracked", reason: "" };
  const rec = readCompletion(path);
  if (!rec) {
    const n = chunkCount(level0);
    return { state: "incomplete", reason: `no completion record (its writer was interrupted, failed or is still running); ${n.written} of ${n.total} chunks written, the others would read as class 0` };
  }
  if (jsonIdentity(rec.job) !== jsonIdentity(tracked.job))
    return { state: "incomplete", reason: `its completion record belongs to another job than its ${tracked.key} attribute (rewritten since, not finished)` };
  if (image) {
    const why = identityMismatch(rec.image, imageIdentity(image));
    if (why) return { state: "stale", reason: `computed from another image: ${why}` };
  }
  return { state: "complete", reason: "" };
}

/**
 * Throws unless a label image may be read as a result: IncompleteLabelsError (unless `allowIncomplete`) or
 * StaleLabelsError (always: labels of another image are never this image's), both naming the label image.
 */
export function assertLabelsReadable(name: string, path: string, status: LabelStatus, options: { allowIncomplete?: boolean } = {}): void {
  if (status.state === "incomplete" && !options.allowIncomplete)
    throw new IncompleteLabelsError(`label image "${name}" is incomplete`, {
      path,
      got: status.reason,
      expected: "a finished label image: run the segmentation again (it resumes), or pass allowIncomplete: true to read it anyway",
    });
  if (status.state === "stale")
    throw new StaleLabelsError(`label image "${name}" is stale`, {
      path,
      got: status.reason,
      expected: "labels computed from this image: segment it again",
    });
}
