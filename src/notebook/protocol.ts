/** Messages between the notebook runner (run.ts, parent) and its kernel process (kernel.ts), over Node's IPC channel. */
import type { JsonObject, MimeBundle } from "./nbformat.js";

/** A failed cell as nbformat's error output describes it; evalue carries the real message, never an empty one. */
export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export type ParentMessage =
  /** First message: which converter to build (jslab notebooks are JavaScript). */
  | { type: "init"; javascript: boolean }
  | { type: "execute"; cell: number; code: string }
  | { type: "shutdown" };

export type KernelMessage =
  | { type: "ready"; versions: { tslab: string; typescript: string; node: string } }
  | { type: "stream"; cell: number; name: "stdout" | "stderr"; text: string }
  | { type: "display"; cell: number; data: MimeBundle; metadata: JsonObject; displayId: string | null; update: boolean }
  | { type: "done"; cell: number; ok: boolean; error: CellError | null };
