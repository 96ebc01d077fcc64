/**
 * The kinds of chunk-parallel work a worker thread can do, each a module loaded on demand (a worker loads only
 * the code of its kind). A handler is initialised once per worker with what every task shares (parameters, store
 * path), then called per task; the same handler runs on the calling thread when there is one thread, so results
 * never depend on the thread count.
 */
export interface TaskResult<R> {
  result: R;
  /** Buffers moved to the caller instead of copied. */
  transfer?: ArrayBuffer[];
}

export type TaskFn<Q, R> = (task: Q) => Promise<TaskResult<R>>;
export type TaskHandler<I, Q, R> = (init: I) => Promise<TaskFn<Q, R>>;

// Handlers are typed where they are defined and at the runTasks call sites; the registry only loads them.
const HANDLERS = {
  twin: async () => (await import("../twin/render-task.js")).twinRenderHandler,
  import: async () => (await import("../volume/import/import-task.js")).importSliceHandler,
  pyramid: async () => (await import("../volume/pyramid-task.js")).pyramidChunkHandler,
  quantify: async () => (await import("../analysis/shard-quantify.js")).quantifySlabHandler,
} as const;

export type TaskKind = keyof typeof HANDLERS;

export async function loadHandler(kind: TaskKind): Promise<TaskHandler<unknown, unknown, unknown>> {
  const get = HANDLERS[kind];
  if (!get) throw new Error(`unknown task kind ${String(kind)}`);
  return (await get()) as unknown as TaskHandler<unknown, unknown, unknown>;
}
