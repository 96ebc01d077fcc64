/**
 * A small pool of worker threads that decode chunks in parallel into one SharedArrayBuffer. zarr-python reads raw and
 * zstd chunks on one thread at native speed; our codecs are wasm builds of the same C libraries, so we win back the
 * difference by using every core. Workers start on first use and never keep the process alive when idle.
 *
 * Set SSB_CT_READ_THREADS=0 to read on the main thread only (or N for N workers).
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { VolumeError } from "../util/errors.js";
import type { ChunkJob, ChunkTask } from "./chunk-read.js";
import type { WorkerReply, WorkerRequest } from "./read-worker.js";

interface Slot {
  worker: Worker;
  busy: boolean;
}

let slots: Slot[] | null = null;
let broken = false;
let nextId = 1;
const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void; slot: Slot }>();
let inFlight = 0;

export function poolSize(): number {
  const env = process.env.SSB_CT_READ_THREADS;
  if (env !== undefined && env !== "") return Math.max(0, Math.floor(Number(env)) || 0);
  return Math.min(8, availableParallelism());
}

/**
 * The worker entry: a built bundle next to this module if there is one (dist/), else the TypeScript source loaded
 * through tsx's API (worker threads do not inherit loader flags, so the bootstrap registers it itself).
 */
function workerEntry(): { code: string | URL; eval: boolean } | null {
  const here = import.meta.url;
  if (!here) return null;
  const built = new URL("./read-worker.mjs", here);
  if (existsSync(fileURLToPath(built))) return { code: built, eval: false };
  const src = new URL("./read-worker.ts", here);
  if (!existsSync(fileURLToPath(src))) return null;
  try {
    // require.resolve picks the CommonJS build; the ESM one sits beside it.
    const api = pathToFileURL(createRequire(here).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
    const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(src.href)}, ${JSON.stringify(src.href)}));`;
    return { code, eval: true };
  } catch {
    return null;
  }
}

function start(): Slot[] | null {
  if (slots) return slots;
  if (broken) return null;
  const n = poolSize();
  const entry = n > 0 ? workerEntry() : null;
  if (!entry) {
    broken = true;
    return null;
  }
  slots = [];
  for (let i = 0; i < n; i++) {
    const worker = new Worker(entry.code, { eval: entry.eval });
    const slot: Slot = { worker, busy: false };
    worker.on("message", (m: WorkerReply) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      p.slot.busy = false;
      settle();
      // Rebuilt from its summary and details so the caller sees the same named error as a main-thread read.
      if (m.error) p.reject(m.error.summary !== undefined ? new VolumeError(m.error.summary, m.error.details ?? {}) : new VolumeError(m.error.message, {}));
      else p.resolve();
    });
    worker.on("error", (e) => {
      broken = true;
      for (const [id, p] of pending) if (p.slot === slot) {
        pending.delete(id);
        p.reject(e);
      }
      settle();
    });
    worker.unref();
    slots.push(slot);
  }
  return slots;
}

/** Workers hold the event loop only while they have work, so an idle pool never keeps a script from exiting. */
function settle(): void {
  inFlight = pending.size;
  for (const s of slots ?? []) inFlight > 0 ? s.worker.ref() : s.worker.unref();
}

function run(slot: Slot, req: Omit<WorkerRequest, "id">): Promise<void> {
  const id = nextId++;
  slot.busy = true;
  return new Promise<void>((resolve, reject) => {
    pending.set(id, { resolve, reject, slot });
    settle();
    slot.worker.postMessage({ id, ...req } satisfies WorkerRequest);
  });
}

/** True when a read of this many chunks is worth spreading over workers. */
export function shouldUsePool(tasks: number, chunkBytes: number): boolean {
  return !broken && poolSize() > 1 && tasks >= 4 && tasks * chunkBytes >= 4 << 20;
}

/**
 * Decodes all chunk groups into `buffer` (output at job.outOffset, one scratch slot of `slotBytes` per worker from
 * byte `scratch` on) using the pool. Returns false when no pool could be started, so the caller reads on its own
 * thread.
 */
export async function readParallel(job: ChunkJob, groups: ChunkTask[][], buffer: SharedArrayBuffer, scratch: number, slotBytes: number): Promise<boolean> {
  const pool = start();
  if (!pool) return false;
  // Hand out small batches so a worker that draws cheap (missing or small) chunks takes more; each message costs
  // a structured clone of its tasks, so not one group at a time.
  const batch = Math.max(1, Math.ceil(groups.length / (pool.length * 4)));
  let next = 0;
  await Promise.all(
    pool.map(async (slot, i) => {
      const mine = scratch + i * slotBytes;
      while (next < groups.length) {
        const part = groups.slice(next, next + batch);
        next += batch;
        await run(slot, { job, groups: part, buffer, scratch: mine });
      }
    }),
  );
  return true;
}

/** Scratch bytes to allocate after the output for a pooled read with slots of `slotBytes`. */
export function scratchBytes(slotBytes: number): number {
  return Math.max(1, poolSize()) * slotBytes;
}

/** Stops the workers (tests and benchmarks call this to compare thread counts). */
export async function stopReadPool(): Promise<void> {
  const s = slots;
  slots = null;
  broken = false;
  if (s) await Promise.all(s.map((x) => x.worker.terminate()));
}
