/**
 * Read worker: decodes its share of a region read's chunks straight into the shared output buffer.
 * Each worker owns one chunk-sized scratch slot at the end of that buffer.
 */
import { parentPort } from "node:worker_threads";
import { readChunkInto, type ChunkJob, type ChunkTask } from "./chunk-read.js";
import { SsbCtError, type ErrorDetails } from "../util/errors.js";

export interface WorkerRequest {
  id: number;
  job: ChunkJob;
  tasks: ChunkTask[];
  buffer: SharedArrayBuffer;
  scratch: number;
}

export interface WorkerReply {
  id: number;
  error?: { message: string; name: string; summary?: string; details?: ErrorDetails };
}

parentPort?.on("message", async (msg: WorkerRequest) => {
  const buf = new Uint8Array(msg.buffer);
  try {
    for (const t of msg.tasks) await readChunkInto(msg.job, t, buf, msg.scratch);
    parentPort!.postMessage({ id: msg.id } satisfies WorkerReply);
  } catch (e) {
    const err = e as Error;
    const named = e instanceof SsbCtError ? { summary: e.summary, details: e.details } : {};
    parentPort!.postMessage({ id: msg.id, error: { message: err.message, name: e instanceof SsbCtError ? err.name : "Error", ...named } } satisfies WorkerReply);
  }
});
