/**
 * Chunk-parallel work on worker threads: twin rendering, import, pyramids. The caller lists independent tasks;
 * idle workers take the next one (chunks differ in cost, so a fixed split would leave a worker waiting), and each
 * result is handed to `onResult` on the calling thread as it arrives, in whatever order: callers only fold
 * order-independent things there (integer counts, minima and maxima) or write to disjoint places.
 *
 * One thread (threads <= 1, or no worker entry, e.g. inside a bundle without the worker beside it) runs the same
 * handler on the calling thread, so outputs are byte-identical for any thread count.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { TEMP_MARKER } from "../util/atomic-write.js";
import { availableParallelism } from "node:os";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { ConvergenceError, FileFormatError, ParameterError, SsbCtError, VolumeError, type ErrorDetails } from "../util/errors.js";
import { threadCount } from "../util/shard.js";
import { loadHandler, type TaskKind } from "./tasks.js";
import type { PoolError, PoolReply, PoolRequest } from "./worker.js";

/** Default number of threads: SSB_CT_THREADS, else one per core. */
export function defaultThreads(): number {
  const env = process.env.SSB_CT_THREADS;
  if (env !== undefined && env !== "") {
    const n = Math.floor(Number(env));
    if (Number.isFinite(n) && n >= 0) return n;
  }
  return availableParallelism();
}

/**
 * The worker entry: a built bundle beside this module (dist/); else, in a source checkout, one ESM bundle of the
 * worker made with esbuild (a runtime dependency) and cached under node_modules/.cache/ssb-ct by the sources'
 * sizes and times, because loading ~60 TypeScript modules through tsx in every worker took 1 to 3 s per worker;
 * else the TypeScript source through tsx's API.
 */
async function workerEntry(): Promise<{ code: string | URL; eval: boolean } | null> {
  const here = import.meta.url;
  if (!here) return null;
  const built = new URL("./task-worker.mjs", here);
  if (existsSync(fileURLToPath(built))) return { code: built, eval: false };
  const src = new URL("./worker.ts", here);
  if (!existsSync(fileURLToPath(src))) return null;
  try {
    return { code: pathToFileURL(await cachedBundle(fileURLToPath(src))), eval: false };
  } catch {
    /* no esbuild, or no writable cache: tsx below */
  }
  try {
    const api = pathToFileURL(createRequire(here).resolve("tsx/esm/api").replace(/\.cjs$/, ".mjs")).href;
    // Worker threads do not inherit loader flags: the bootstrap registers tsx itself.
    const code = `import(${JSON.stringify(api)}).then((m) => m.tsImport(${JSON.stringify(src.href)}, ${JSON.stringify(src.href)}));`;
    return { code, eval: true };
  } catch {
    return null;
  }
}

/** Every .ts file under dir with its size and modification time (the bundle's cache key). */
function sourceStamp(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceStamp(p, out);
    else if (e.name.endsWith(".ts")) {
      const st = statSync(p);
      out.push(`${p}:${st.size}:${st.mtimeMs}`);
    }
  }
  return out;
}

let bundling: Promise<string> | null = null;

/** Path of the worker bundle for the current sources, built once (atomically: concurrent processes may race). */
function cachedBundle(workerTs: string): Promise<string> {
  bundling ??= (async () => {
    const srcRoot = dirname(dirname(workerTs));
    const root = dirname(srcRoot);
    const key = createHash("sha256").update(sourceStamp(srcRoot).join("\n")).digest("hex").slice(0, 16);
    const dir = join(root, "node_modules", ".cache", "ssb-ct");
    const file = join(dir, `task-worker-${key}.mjs`);
    if (existsSync(file)) return file;
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}${TEMP_MARKER}${process.pid}`;
    const { build } = await import("esbuild");
    await build({
      entryPoints: [workerTs],
      outfile: tmp,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      // Native and optional packages stay packages (resolved from the checkout's node_modules at run time).
      external: ["onnxruntime-node", "@tensorflow/*", "danfojs-node", "h5wasm", "h5wasm/*", "plotly.js-dist-min", "playwright-core", "tsx", "tsx/*", "zstd-napi", "esbuild"],
      banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
      logLevel: "silent",
    });
    // Bundles of earlier sources go, once no process can still be starting workers from them (an hour on).
    for (const old of readdirSync(dir))
      try {
        if (old.startsWith("task-worker-") && old !== basename(file) && Date.now() - statSync(join(dir, old)).mtimeMs > 3_600_000) rmSync(join(dir, old), { force: true });
      } catch {
        /* removed by another process meanwhile */
      }
    renameSync(tmp, file);
    return file;
  })();
  bundling.catch(() => {
    bundling = null;
  });
  return bundling;
}

const CLASSES: Record<string, new (summary: string, details: ErrorDetails) => SsbCtError> = {
  SsbCtError,
  VolumeError,
  ParameterError,
  FileFormatError,
  ConvergenceError,
};

function rebuild(e: PoolError): Error {
  const C = CLASSES[e.name];
  const err = C && e.summary !== undefined ? new C(e.summary, e.details ?? {}) : Object.assign(new Error(e.message), { name: e.name });
  if (e.stack) err.stack = e.stack;
  return err;
}

export interface RunTasksOptions {
  /** Worker threads (0 or 1: the calling thread). Default: SSB_CT_THREADS, else one per core. */
  threads?: number;
  /** Whether the calling thread takes tasks too (default true; false sends every task to a worker: tests). */
  callerWorks?: boolean;
  /** Once aborted, no task is started; those running finish and are reported (their work is done). */
  signal?: AbortSignal;
}

/** Tasks done by each thread of the last runTasks call: [calling thread, worker 1, ...] (tests check the split). */
export let lastTaskSplit: number[] = [];

/**
 * Runs `tasks` of `kind` with the handler initialised by `init`; calls onResult(result, taskIndex) per task.
 * Rejects with the first task error (the other workers are stopped).
 */
export async function runTasks<I, Q, R>(
  kind: TaskKind,
  init: I,
  tasks: readonly Q[],
  onResult: (result: R, index: number) => void | Promise<void>,
  options: RunTasksOptions = {},
): Promise<void> {
  if (!tasks.length) return;
  const n = threadCount(options.threads ?? defaultThreads(), tasks.length, availableParallelism() * 4);
  const entry = n > 1 ? await workerEntry() : null;
  const fn = await (await loadHandler(kind))(init);
  if (!entry) {
    let i = 0;
    for (; i < tasks.length && !options.signal?.aborted; i++) await onResult((await fn(tasks[i])).result as R, i);
    lastTaskSplit = [i];
    return;
  }
  const callerWorks = options.callerWorks ?? true;
  const split = new Array<number>(callerWorks ? n : n + 1).fill(0);
  lastTaskSplit = split;
  // The calling thread is one of the n: it works while the n - 1 workers start (loading the modules of a worker
  // takes a second or more through tsx), so more threads never cost more than that start-up.
  const env = { ...process.env, SSB_CT_READ_THREADS: "0" };
  const workers = Array.from({ length: callerWorks ? n - 1 : n }, () => new Worker(entry.code, { eval: entry.eval, env }));
  let next = 0;
  let failed: Error | null = null;
  let own: Promise<void> = Promise.resolve();
  try {
    own = (async () => {
      while (callerWorks && !failed && !options.signal?.aborted && next < tasks.length) {
        const i = next++;
        await onResult((await fn(tasks[i])).result as R, i);
        split[0]! += 1;
        // Let the workers' messages in (they are macrotasks): their next task is handed out here.
        await new Promise<void>((r) => setImmediate(r));
      }
    })();
    own.catch((e: Error) => {
      failed ??= e;
    });
    const remote = workers.map(
      (w, wi) =>
        new Promise<void>((resolve, reject) => {
          // Two tasks in flight per worker, so it never waits for the calling thread to finish a task of its own.
          const inFlight = new Set<number>();
          let finished = false;
          const fail = (e: Error) => {
            finished = true;
            failed ??= e;
            reject(e);
          };
          const give = () => {
            while (!failed && !options.signal?.aborted && next < tasks.length && inFlight.size < 2) {
              const i = next++;
              inFlight.add(i);
              w.postMessage({ type: "task", id: i, task: tasks[i] } satisfies PoolRequest);
            }
            if (!inFlight.size && !finished) {
              finished = true;
              resolve();
            }
          };
          w.on("message", (m: PoolReply) => {
            if (!inFlight.has(m.id) || finished) return;
            if (m.error) return fail(rebuild(m.error));
            inFlight.delete(m.id);
            split[wi + 1]! += 1;
            Promise.resolve(onResult(m.result as R, m.id)).then(give, fail);
          });
          w.on("error", fail);
          w.on("exit", (code) => {
            if (!finished) fail(new Error(`task worker exited (code ${code}) with tasks ${[...inFlight].join(", ")} unfinished`));
          });
          w.postMessage({ type: "init", kind, init } satisfies PoolRequest);
          give();
        }),
    );
    await Promise.all([own, ...remote]);
  } finally {
    failed ??= new Error("stopped");
    await Promise.all(workers.map((w) => w.terminate()));
    // A failure elsewhere stops the calling thread's loop after its current task; nothing runs on after we return.
    await own.catch(() => {});
  }
}
