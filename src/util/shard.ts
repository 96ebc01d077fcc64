/**
 * Shards of a chunked job: `--shard i/n` runs part i (0-based) of n independent parts, split by output chunk, so
 * a SLURM job array or a Kubernetes Indexed Job can run a job over many machines with a shared file system and no
 * scheduler of our own. Every part writes only its own output chunks; which chunks those are is a pure function of
 * (chunk index, i, n), so every shard agrees without talking to the others.
 *
 * Two assignments:
 * - "round-robin" (work item k goes to shard k mod n), the default for writers (twin, import, segmentation,
 *   pyramid): neighbouring chunks cost alike (the electrode region is dearer than bulk electrolyte, the last time
 *   points dearer than the first), so dealing them out like cards balances the shards' run times.
 * - "contiguous" (shard i gets items [floor(i N / n), floor((i+1) N / n))), for quantification: a shard's chunks
 *   form one slab, so the components it must hand to the merge are only those touching its two slab faces.
 */
import { ParameterError } from "./errors.js";

export interface Shard {
  /** 0-based index of this part. */
  index: number;
  /** Number of parts (>= 1). */
  count: number;
}

export type ShardAssignment = "round-robin" | "contiguous";

/** Parses "i/n" (0 <= i < n) as given to `--shard`; throws ParameterError naming the field otherwise. */
export function parseShard(text: string, field = "--shard"): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ParameterError("a shard is written i/n", { field, expected: "i/n with 0 <= i < n, e.g. 0/4", got: JSON.stringify(text) });
  return checkShard({ index: Number(m[1]), count: Number(m[2]) }, field);
}

/** Checks a shard option (from a caller or the CLI) and returns it; undefined stays undefined (= the whole job). */
export function checkShard(shard: Shard, field?: string): Shard;
export function checkShard(shard: Shard | undefined, field?: string): Shard | undefined;
export function checkShard(shard: Shard | undefined, field = "shard"): Shard | undefined {
  if (shard === undefined) return undefined;
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1)
    throw new ParameterError("the number of shards must be a positive integer", { field, expected: "n >= 1 in i/n", got: String(count) });
  if (!Number.isSafeInteger(index) || index < 0 || index >= count)
    throw new ParameterError("the shard index must be in 0 .. n-1", { field, expected: `0 <= i < ${count} in i/${count} (indices start at 0)`, got: String(index) });
  return { index, count };
}

/** True when the job is split (a shard option with more than one part). */
export function isSharded(shard: Shard | undefined): shard is Shard {
  return shard !== undefined && shard.count > 1;
}

/** "i/n", or "all" for the whole job (messages, file names use shardTag). */
export function shardLabel(shard: Shard | undefined): string {
  return shard ? `${shard.index}/${shard.count}` : "all";
}

/** File-name tag of a shard: `shard-0003-of-0016` (zero-padded so listings sort). */
export function shardTag(shard: Shard): string {
  const w = Math.max(4, String(shard.count).length);
  return `shard-${String(shard.index).padStart(w, "0")}-of-${String(shard.count).padStart(w, "0")}`;
}

/** Whether work item k of `total` belongs to `shard` (always true without a shard). */
export function inShard(k: number, total: number, shard: Shard | undefined, assignment: ShardAssignment = "round-robin"): boolean {
  if (!shard || shard.count === 1) return true;
  if (assignment === "round-robin") return k % shard.count === shard.index;
  const [lo, hi] = contiguousRange(total, shard);
  return k >= lo && k < hi;
}

/** Items [lo, hi) of `total` that shard i gets under the contiguous assignment (shards differ by at most one item). */
export function contiguousRange(total: number, shard: Shard): [number, number] {
  return [Math.floor((shard.index * total) / shard.count), Math.floor(((shard.index + 1) * total) / shard.count)];
}

/** How many of `total` items belong to `shard` (all without one). */
export function shardSize(total: number, shard: Shard | undefined, assignment: ShardAssignment = "round-robin"): number {
  if (!shard || shard.count === 1) return total;
  if (assignment === "contiguous") {
    const [lo, hi] = contiguousRange(total, shard);
    return hi - lo;
  }
  return shard.index < total ? Math.ceil((total - shard.index) / shard.count) : 0;
}

/** The items of `items` (in order) that belong to `shard`. */
export function shardItems<T>(items: readonly T[], shard: Shard | undefined, assignment: ShardAssignment = "round-robin"): T[] {
  if (!shard || shard.count === 1) return [...items];
  return items.filter((_, k) => inShard(k, items.length, shard, assignment));
}

/**
 * Worker threads to use: `threads` if given (0 and 1 mean "this thread only"), else one per core. Clamped to the
 * number of work items, since an idle worker only costs its start-up.
 */
export function threadCount(threads: number | undefined, items: number, cores: number): number {
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 0))
    throw new ParameterError("threads must be a non-negative integer", { field: "threads", expected: "0 (this thread), 1, 2, ...", got: String(threads) });
  const want = threads ?? cores;
  return Math.max(1, Math.min(want, items));
}
