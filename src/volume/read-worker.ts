/**
 * Read worker: decodes its share of a region read's chunk groups straight into the shared output buffer.
 * Each worker owns one scratch slot (room for one group of decoded chunks) after the output in that buffer.
 */
import { parentPort } from "node:worker_threads";
import { readGroupInto, type ChunkJob, type ChunkTask } from "./chunk-read.js";
import { SsbCtError, type ErrorDetails } from "../util/errors.js";

export interface WorkerRequest {
  id: number;
  job: ChunkJob;
  /** Groups of neighbouring chunks along the last axis (groupAlongLastAxis). */
  groups: ChunkTask[][];
  buffer: SharedArrayBuffer;
  /** Byte offset of this worker's scratch slot in `buffer`. */
  scratch: number;
}

export interface WorkerReply {
  id: number;
  error?: { message: string; name: string; summary?: string; details?: ErrorDetails };
}

parentPort?.on("message", async (msg: WorkerRequest) => {
  const buf = new Uint8Array(msg.buffer);
  try {
    for (const g of msg.groups) await readGroupInto(msg.job, g, buf, msg.scratch);
    parentPort!.postMessage({ id: msg.id } satisfies WorkerReply);
  } catch (e) {
    const err = e as Error;
    const named = e instanceof SsbCtError ? { summary: e.summary, details: e.details } : {};
    parentPort!.postMessage({ id: msg.id, error: { message: err.message, name: e instanceof SsbCtError ? err.name : "Error", ...named } } satisfies WorkerReply);
  }
});
