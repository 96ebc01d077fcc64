/**
 * Shards of one writing job (`--shard i/n`) in one store, run at once on many machines over a shared file system.
 *
 * The store's writer lock (dataset-lock.ts) keeps two different jobs from mixing chunks, but shards of one job must
 * coexist. So a shard holds the store lock only for its two short critical sections:
 * - begin: the first shard of a job (no job record, or one of other content) creates the store's metadata; the
 *   others find the job record with their identity and open it (so none of them clears chunks another already
 *   wrote). The shard removes its own done record and the store's completion marks here.
 * - finish: the shard writes its done record (its partial results: counts, value ranges), and whichever shard
 *   finds all n done records of its job writes the final metadata from them, identically whoever does it.
 * In between it holds its own shard lock, which marks the job as running: a writer of other content (sharded or
 * not) is refused while any shard of another job is alive, as a second whole-store writer is.
 *
 * Bookkeeping lives in `.ssb-ct/shards/` (readers and content identities ignore `.ssb-ct`), in files whose names
 * contain `shard` or `done`: `NAME.shard-job.json`, `NAME.shard-0001-of-0004/` (its lock) and
 * `NAME.shard-0001-of-0004.done.json`. A shard killed at any point is rerun as it is: its chunks are rewritten
 * atomically with the same bytes, its done record is written again, and the store is complete once all are there.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFileAtomic } from "../util/atomic-write.js";
import { acquireLock, lockPath, processAlive } from "../util/lock.js";
import { shardTag, type Shard } from "../util/shard.js";
import { BOOKKEEPING_DIR, DatasetLockedError, lockDataset } from "./dataset-lock.js";

export const SHARDS_DIR = "shards";

export interface ShardJob {
  /** Job name in file names: `twin`, `segment-unet`, `import`. Letters, digits, `.`, `_`, `-`. */
  name: string;
  /** Content identity, equal for every shard of one job (parameters, model, input); another value is another job. */
  identity: string;
  shard: Shard;
  /** What a refusal names ("twin generation"). */
  purpose: string;
}

interface JobRecord {
  format: "ssb-ct-shard-job";
  name: string;
  identity: string;
  count: number;
}

interface DoneRecord<T> {
  format: "ssb-ct-shard-done";
  name: string;
  identity: string;
  index: number;
  count: number;
  partial: T;
}

function shardsDir(store: string): string {
  return join(store, BOOKKEEPING_DIR, SHARDS_DIR);
}

function readJson<T>(p: string): T | null {
  try {
    return JSON.parse(readFileSync(p, "utf8")) as T;
  } catch {
    return null;
  }
}

/**
 * Shard locks of running shards in the store (all jobs, or one job name), as "NAME shard i/n: pid P on HOST".
 * A lock of another host cannot be checked and counts as running.
 */
export function liveShards(store: string, name?: string): string[] {
  const dir = shardsDir(store);
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const m = /^(.+)\.shard-(\d+)-of-(\d+)$/.exec(entry);
    if (!m || (name !== undefined && m[1] !== name)) continue;
    const info = readJson<{ pid: number; host: string }>(lockPath(join(dir, entry)));
    if (!info) continue;
    if (info.host === hostname() && !processAlive(info.pid)) continue;
    out.push(`${m[1]} shard ${Number(m[2])}/${Number(m[3])}: pid ${info.pid} on ${info.host}`);
  }
  return out;
}

/** Throws DatasetLockedError when shards of a job are running (for whole-store writers, under the store lock). */
export function assertNoLiveShards(store: string, purpose: string, name?: string): void {
  const live = liveShards(store, name);
  if (live.length)
    throw new DatasetLockedError(`shards of another job are writing this dataset; ${purpose} refused`, {
      path: store,
      location: shardsDir(store),
      got: live.slice(0, 3).join("; ") + (live.length > 3 ? `; ... (${live.length})` : ""),
      expected: "one job per dataset: wait for its shards to finish (locks of processes that are gone on this host are ignored)",
    });
}

/**
 * Removes the shard records of a job name (or all): a whole-store writer that replaces the content makes them
 * meaningless, and a later sharded run of the old content must start afresh rather than reopen the new store.
 */
export function clearShardRecords(store: string, name?: string): void {
  const dir = shardsDir(store);
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) if (name === undefined || entry.startsWith(`${name}.`)) rmSync(join(dir, entry), { recursive: true, force: true });
}

/** Takes the store lock, waiting while another shard holds it (its critical sections are short). */
export async function lockStore(store: string, purpose: string, waitMs = 600_000): Promise<() => void> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      return lockDataset(store, purpose);
    } catch (e) {
      if (!(e instanceof DatasetLockedError) || Date.now() > until) throw e;
      await sleep(50 + Math.floor(Math.random() * 100));
    }
  }
}

/**
 * Takes the lock of shard i of job `name` (held while the shard writes: it marks the job as running) or throws
 * DatasetLockedError when that shard is already running. Returns the release function.
 */
export function lockShard(store: string, name: string, shard: Shard, purpose: string): () => void {
  const where = join(shardsDir(store), `${name}.${shardTag(shard)}`);
  try {
    return acquireLock(where);
  } catch (e) {
    throw new DatasetLockedError(`shard ${shard.index}/${shard.count} of this job is already running; ${purpose} refused`, { path: store, location: lockPath(where) }, { cause: e });
  }
}

export interface ShardSession<T> {
  /** True when this shard created the store's metadata (first of its job). */
  readonly created: boolean;
  /**
   * Writes this shard's done record with its partial results, then, if every shard of the job is done, calls
   * `finalise` with all partial results in shard order (under the store lock). Returns whether it finalised.
   */
  finish(partial: T, finalise: (partials: T[]) => Promise<void>): Promise<boolean>;
  /** Releases the shard lock (idempotent); call in `finally`. */
  release(): void;
}

export interface BeginOptions {
  /** How long to wait for another shard's critical section (ms); default 10 minutes (a finaliser builds pyramids). */
  waitMs?: number;
}

/**
 * Starts shard i of a job in `store`. `prepare(fresh)` runs under the store lock: with fresh = true it must create
 * the store's metadata (this shard is the first of its job, or the job's content changed); with false it opens what
 * is there. In both cases it removes the store's completion marks (the store is unfinished until the last shard).
 */
export async function beginShard<T>(store: string, job: ShardJob, prepare: (fresh: boolean) => Promise<void>, options: BeginOptions = {}): Promise<ShardSession<T>> {
  const waitMs = options.waitMs ?? 600_000;
  const dir = shardsDir(store);
  const jobFile = join(dir, `${job.name}.shard-job.json`);
  const doneFile = (s: Shard) => join(dir, `${job.name}.${shardTag(s)}.done.json`);
  const { index, count } = job.shard;
  let releaseShard: () => void = () => {};
  let created = false;
  const releaseStore = await lockStore(store, job.purpose, waitMs);
  try {
    const rec = readJson<JobRecord>(jobFile);
    const same = rec !== null && rec.format === "ssb-ct-shard-job" && rec.identity === job.identity && rec.count === count;
    if (!same) {
      // Another job's shards (or a whole-store writer's) may not be running; ours may (a rerun of a sibling).
      assertNoLiveShards(store, job.purpose);
      await prepare(true);
      created = true;
      clearShardRecords(store, job.name);
      const fresh: JobRecord = { format: "ssb-ct-shard-job", name: job.name, identity: job.identity, count };
      writeFileAtomic(jobFile, JSON.stringify(fresh, null, 1) + "\n");
    } else await prepare(false);
    releaseShard = lockShard(store, job.name, job.shard, job.purpose);
    rmSync(doneFile(job.shard), { force: true });
  } finally {
    releaseStore();
  }
  return {
    created,
    release: () => releaseShard(),
    async finish(partial: T, finalise: (partials: T[]) => Promise<void>): Promise<boolean> {
      const mine: DoneRecord<T> = { format: "ssb-ct-shard-done", name: job.name, identity: job.identity, index, count, partial };
      writeFileAtomic(doneFile(job.shard), JSON.stringify(mine) + "\n", { fsync: true });
      const release = await lockStore(store, job.purpose, waitMs);
      try {
        const rec = readJson<JobRecord>(jobFile);
        // A job of other content started since (after this shard's chunks): nothing of ours to finish.
        if (!rec || rec.identity !== job.identity || rec.count !== count) return false;
        const parts: T[] = [];
        for (let i = 0; i < count; i++) {
          const d = readJson<DoneRecord<T>>(doneFile({ index: i, count }));
          if (!d || d.format !== "ssb-ct-shard-done" || d.identity !== job.identity || d.count !== count || d.index !== i) return false;
          parts.push(d.partial);
        }
        await finalise(parts);
        return true;
      } finally {
        release();
      }
    },
  };
}
