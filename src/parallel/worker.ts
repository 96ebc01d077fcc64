/**
 * Entry of the task worker threads (pool.ts): one `init` message (kind + shared data), then tasks, each answered
 * with its result or its error (an SsbCtError crosses as summary + details and is rebuilt with its class).
 */
import { parentPort } from "node:worker_threads";
import { SsbCtError, type ErrorDetails } from "../util/errors.js";
import { loadHandler, type TaskFn, type TaskKind } from "./tasks.js";

export type PoolRequest = { type: "init"; kind: TaskKind; init: unknown } | { type: "task"; id: number; task: unknown };

export interface PoolError {
  message: string;
  name: string;
  stack?: string;
  summary?: string;
  details?: ErrorDetails;
}

export type PoolReply = { id: number; result?: unknown; error?: PoolError };

export function errorToMessage(e: unknown): PoolError {
  const err = e instanceof Error ? e : new Error(String(e));
  const named = e instanceof SsbCtError ? { summary: e.summary, details: e.details } : {};
  return { message: err.message, name: err.name, stack: err.stack, ...named };
}

const port = parentPort;
if (port) {
  let fn: Promise<TaskFn<unknown, unknown>> | null = null;
  port.on("message", async (msg: PoolRequest) => {
    if (msg.type === "init") {
      fn = loadHandler(msg.kind).then((h) => h(msg.init));
      fn.catch(() => {}); // reported with the first task
      return;
    }
    try {
      if (!fn) throw new Error("task before init");
      const r = await (await fn)(msg.task);
      port.postMessage({ id: msg.id, result: r.result } satisfies PoolReply, r.transfer ?? []);
    } catch (e) {
      port.postMessage({ id: msg.id, error: errorToMessage(e) } satisfies PoolReply);
    }
  });
}
