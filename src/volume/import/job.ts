/**
 * The import job file: a small JSON record inside the destination store saying which source is being copied into
 * which (time point, channel) slot and which z slabs are already written. Rewritten atomically after every slab, so
 * after a crash it lists only slabs whose chunks are all on disk, and a rerun continues from the first missing one.
 */
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { VolumeError } from "../../util/errors.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import type { DataType } from "../types.js";

const PREFIX = ".ssb-ct-import-";

export interface ImportJob {
  format: "ssb-ct-import-job";
  version: 1;
  source: {
    kind: string;
    /** As given by the caller; informational (the fingerprint decides identity, so a moved source still resumes). */
    path: string;
    fingerprint: string;
    shapeZYX: [number, number, number];
    dtype: DataType;
  };
  target: { t: number; channel: string; dtype: DataType; chunkZ: number };
  voxelSizeUm: [number, number, number];
  voxelSizeOrigin: string;
  slabCount: number;
  /** Indices of slabs fully written, ascending. */
  slabsDone: number[];
  complete: boolean;
  startedAt: string;
  updatedAt: string;
}

export function jobPath(storePath: string, t: number, channelIndex: number): string {
  return join(storePath, `${PREFIX}t${t}-c${channelIndex}.json`);
}

export function readJob(path: string): ImportJob | undefined {
  if (!existsSync(path)) return undefined;
  let job: unknown;
  try {
    job = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new VolumeError("import job file is unreadable", { path, expected: "JSON written by an earlier import", got: (e as Error).message });
  }
  const j = job as Partial<ImportJob>;
  if (j.format !== "ssb-ct-import-job" || j.version !== 1 || !Array.isArray(j.slabsDone) || !j.source || !j.target)
    throw new VolumeError("not an import job file", { path, field: "format", expected: "ssb-ct-import-job version 1", got: String(j.format) });
  return job as ImportJob;
}

export function writeJob(path: string, job: ImportJob): void {
  job.updatedAt = new Date().toISOString();
  writeFileAtomic(path, JSON.stringify(job, null, 2) + "\n");
}

/** Removes every job file of a store (its image is being replaced). */
export function removeJobs(storePath: string): void {
  if (!existsSync(storePath)) return;
  for (const n of readdirSync(storePath)) if (n.startsWith(PREFIX)) rmSync(join(storePath, n), { force: true });
}

/** Why an existing job cannot be continued with this source and target, or undefined when it can. */
export function jobMismatch(job: ImportJob, want: Pick<ImportJob, "source" | "target">): string | undefined {
  const a = job.source;
  const b = want.source;
  if (a.fingerprint !== b.fingerprint) return `the job was started from ${a.kind} ${a.path} (different content)`;
  if (a.shapeZYX.join(",") !== b.shapeZYX.join(",") || a.dtype !== b.dtype) return `the job's source was ${a.shapeZYX.join("x")} ${a.dtype}`;
  const s = job.target;
  const t = want.target;
  if (s.t !== t.t || s.channel !== t.channel || s.dtype !== t.dtype || s.chunkZ !== t.chunkZ)
    return `the job wrote t=${s.t}, channel ${s.channel}, ${s.dtype}, slab depth ${s.chunkZ}`;
  return undefined;
}
