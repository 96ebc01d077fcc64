/**
 * Executes a notebook with Node alone: no Jupyter, no Python. Each notebook gets a fresh kernel process (kernel.ts:
 * tslab's converter and executor, as tslab's Jupyter kernel runs them) whose working directory is the notebook's
 * folder; this side collects the outputs, stops at the first failing cell, and writes the executed notebook
 * atomically in Jupyter's own format.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../util/atomic-write.js";
import { ParameterError, SsbCtError } from "../util/errors.js";
import { joinText, readNotebook, serializeNotebook, type DisplayDataOutput, type ErrorOutput, type JsonObject, type Notebook, type Output } from "./nbformat.js";
import type { CellError, KernelMessage, ParentMessage } from "./protocol.js";

export interface RunNotebookOptions {
  /** Where to write the executed notebook (may be the input itself); omitted or null: nothing is written. */
  outputPath?: string | null;
  /** Seconds one cell may run before the kernel is killed and the cell fails. Default 1200 (as our nbconvert runs). */
  cellTimeoutS?: number;
  /** Environment of the kernel process. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Progress and failure lines ("notebook X: cell 3/12"); default: written to stderr; null: silent. */
  log?: ((line: string) => void) | null;
  /**
   * Also write the notebook when a cell failed (outputs up to the failure, cells after it cleared). Default: true,
   * except when the output is the input itself, which then keeps its previous outputs.
   */
  writeOnError?: boolean;
}

export interface CellFailure {
  /** 0-based index of the cell among all cells of the notebook. */
  index: number;
  executionCount: number;
  /** The first lines of the cell's source. */
  sourceHead: string;
  error: ErrorOutput;
}

export interface NotebookRunResult {
  ok: boolean;
  notebook: Notebook;
  /** The file written, or null when nothing was written. */
  outputPath: string | null;
  codeCellsRun: number;
  seconds: number;
  failure: CellFailure | null;
  kernel: { tslab: string; typescript: string; node: string } | null;
}

/** tslab's kernel_info language_info (jupyter.js), which nbclient copies into the notebook it runs. */
const LANGUAGE_INFO: JsonObject = {
  codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
  file_extension: ".ts",
  mimetype: "text/typescript",
  name: "typescript",
  version: "3.7.2",
};
/** tslab's TypeScript compiler starts in a few seconds; a kernel not ready after this is stuck, not slow. */
const KERNEL_START_TIMEOUT_S = 120;
const DEFAULT_KERNELSPEC: JsonObject = { display_name: "TypeScript", language: "typescript", name: "tslab" };

/** The kernel's entry script beside this module (sources), or in the source tree above a built bundle (dist/). */
function kernelEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, "kernel-boot.mjs"), resolve(here, "../src/notebook/kernel-boot.mjs")];
  const found = candidates.find((p) => existsSync(p) && existsSync(resolve(dirname(p), "kernel.ts")));
  if (!found) throw new SsbCtError("notebook kernel entry not found", { path: candidates[0], expected: "src/notebook/kernel-boot.mjs and kernel.ts" });
  return found;
}

function sourceHead(src: string, lines = 3): string {
  const all = src.split("\n");
  return all.slice(0, lines).join("\n") + (all.length > lines ? "\n…" : "");
}

/** Outputs of the cells, with streams merged as Jupyter shows them and display ids kept for updates. */
class OutputSink {
  private readonly byDisplayId = new Map<string, DisplayDataOutput[]>();
  constructor(private readonly cells: Map<number, Output[]>) {}

  stream(cell: number, name: "stdout" | "stderr", text: string): void {
    const outs = this.cells.get(cell);
    if (!outs) return;
    const last = outs.at(-1);
    if (last?.output_type === "stream" && last.name === name) last.text = joinText(last.text) + text;
    else outs.push({ output_type: "stream", name, text });
  }

  display(cell: number, data: DisplayDataOutput["data"], metadata: JsonObject, displayId: string | null, update: boolean): void {
    if (update && displayId !== null) {
      for (const o of this.byDisplayId.get(displayId) ?? []) {
        o.data = data;
        o.metadata = metadata;
      }
      return;
    }
    const outs = this.cells.get(cell);
    if (!outs) return;
    const o: DisplayDataOutput = { output_type: "display_data", data, metadata };
    outs.push(o);
    if (displayId !== null) this.byDisplayId.set(displayId, [...(this.byDisplayId.get(displayId) ?? []), o]);
  }
}

interface CellOutcome {
  ok: boolean;
  error: CellError | null;
}

/** The kernel process and the cell that is running in it. */
class Kernel {
  private readonly child: ChildProcess;
  private stderrTail = "";
  private waiting: { cell: number; resolve: (o: CellOutcome) => void } | null = null;
  private readyWait: { resolve: (v: NotebookRunResult["kernel"]) => void; reject: (e: Error) => void } | null = null;
  private exited: string | null = null;

  constructor(cwd: string, env: NodeJS.ProcessEnv, private readonly sink: OutputSink, private readonly log: (line: string) => void) {
    this.child = spawn(process.execPath, [kernelEntry()], { cwd, env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    // Writes that bypass process.stdout/stderr (native code, Node itself) are not cell output, as under Jupyter.
    const raw = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      for (const line of text.split("\n")) if (line.trim()) this.log(`  [kernel] ${line}`);
    };
    this.child.stdout!.on("data", raw);
    this.child.stderr!.on("data", raw);
    this.child.on("message", (m: KernelMessage) => this.onMessage(m));
    this.child.on("error", (e) => {
      this.readyWait?.reject(new SsbCtError("notebook kernel did not start", { path: cwd, got: e.message }));
      this.readyWait = null;
    });
    this.child.on("exit", (code, signal) => {
      this.exited = `the kernel process exited (${signal ? `signal ${signal}` : `code ${code}`})`;
      const detail = this.stderrTail.trim().split("\n").slice(-20);
      this.readyWait?.reject(new SsbCtError("notebook kernel did not start", { path: cwd, got: [this.exited, ...detail].join("\n") }));
      this.readyWait = null;
      this.waiting?.resolve({ ok: false, error: { ename: "KernelDiedError", evalue: `${this.exited} while running this cell`, traceback: detail } });
      this.waiting = null;
    });
  }

  private onMessage(m: KernelMessage): void {
    if (m.type === "ready") {
      this.readyWait?.resolve(m.versions);
      this.readyWait = null;
    } else if (m.type === "stream") this.sink.stream(m.cell, m.name, m.text);
    else if (m.type === "display") this.sink.display(m.cell, m.data, m.metadata, m.displayId, m.update);
    else if (m.type === "done" && this.waiting?.cell === m.cell) {
      this.waiting.resolve({ ok: m.ok, error: m.error });
      this.waiting = null;
    }
  }

  private send(m: ParentMessage): void {
    // A callback keeps a closed channel (kernel already gone) from becoming an 'error' event; 'exit' reports it.
    if (this.child.connected) this.child.send(m, () => {});
  }

  start(javascript: boolean, timeoutS: number): Promise<NotebookRunResult["kernel"]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.readyWait = null;
        this.child.kill("SIGKILL");
        reject(new SsbCtError("notebook kernel did not start in time", { expected: `ready within ${timeoutS} s`, got: this.stderrTail.trim().slice(-500) || "no output" }));
      }, timeoutS * 1000);
      const settle = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      this.readyWait = { resolve: settle(resolve), reject: settle(reject) };
      this.send({ type: "init", javascript });
    });
  }

  execute(cell: number, code: string, timeoutS: number): Promise<CellOutcome> {
    if (this.exited) return Promise.resolve({ ok: false, error: { ename: "KernelDiedError", evalue: this.exited, traceback: [] } });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        this.child.kill("SIGKILL");
        resolve({ ok: false, error: { ename: "CellTimeoutError", evalue: `the cell did not finish within ${timeoutS} s (cellTimeoutS); the kernel was stopped`, traceback: [] } });
      }, timeoutS * 1000);
      this.waiting = {
        cell,
        resolve: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      this.send({ type: "execute", cell, code });
    });
  }

  /** Asks the kernel to exit; kills it if it has not after a grace period (cells may leave handles open). */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.send({ type: "shutdown" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await gone;
    clearTimeout(timer);
  }
}

function now(): string {
  return new Date().toISOString();
}

function toErrorOutput(e: CellError): ErrorOutput {
  return { output_type: "error", ename: e.ename, evalue: e.evalue, traceback: e.traceback };
}

/** The lines that tell which cell failed and why (runNotebook logs them). */
export function describeFailure(name: string, f: CellFailure, nCells: number): string[] {
  return [
    `notebook ${name}: cell ${f.index + 1}/${nCells} failed (In [${f.executionCount}]):`,
    ...f.sourceHead.split("\n").map((l) => `  | ${l}`),
    `  ${f.error.ename}: ${f.error.evalue.split("\n").join("\n  ")}`,
    ...f.error.traceback.slice(0, 30).map((l) => `    ${l}`),
  ];
}

/**
 * Runs every code cell of the notebook at `path` in order in a fresh kernel process, stopping at the first failing
 * cell. Returns the executed notebook and, with `outputPath`, writes it there atomically.
 */
export async function runNotebook(path: string, options: RunNotebookOptions = {}): Promise<NotebookRunResult> {
  const input = resolve(path);
  const nb = readNotebook(input);
  const name = basename(input);
  const timeoutS = options.cellTimeoutS ?? 1200;
  if (!(timeoutS > 0)) throw new ParameterError("cell timeout must be positive", { field: "cellTimeoutS", expected: "> 0 s", got: String(timeoutS) });
  const log = options.log === null ? () => {} : options.log ?? ((line: string) => process.stderr.write(line + "\n"));
  const outputPath = options.outputPath ? resolve(options.outputPath) : null;
  const t0 = Date.now();

  const kernelspec = (nb.metadata.kernelspec as JsonObject | undefined) ?? DEFAULT_KERNELSPEC;
  const javascript = kernelspec.name === "jslab";
  const outputs = new Map<number, Output[]>();
  const kernel = new Kernel(dirname(input), options.env ?? process.env, new OutputSink(outputs), log);
  let versions: NotebookRunResult["kernel"] = null;
  let failure: CellFailure | null = null;
  let count = 0;
  try {
    versions = await kernel.start(javascript, KERNEL_START_TIMEOUT_S);
    for (let i = 0; i < nb.cells.length; i++) {
      const cell = nb.cells[i]!;
      if (cell.cell_type !== "code") continue;
      const { execution: _stale, ...metadata } = cell.metadata;
      cell.metadata = metadata;
      cell.outputs = [];
      cell.execution_count = null;
      const src = joinText(cell.source);
      // Like nbclient: blank cells are not sent to the kernel and get no execution count.
      if (failure || src.trim() === "") continue;
      log(`notebook ${name}: cell ${i + 1}/${nb.cells.length}`);
      cell.execution_count = ++count;
      outputs.set(i, cell.outputs);
      const busy = now();
      const r = await kernel.execute(i, src, timeoutS);
      const idle = now();
      cell.metadata.execution = { "iopub.execute_input": busy, "iopub.status.busy": busy, "iopub.status.idle": idle, "shell.execute_reply": idle };
      if (!r.ok) {
        const error = toErrorOutput(r.error ?? { ename: "CellError", evalue: "the cell failed without a message", traceback: [] });
        cell.outputs.push(error);
        failure = { index: i, executionCount: count, sourceHead: sourceHead(src), error };
      }
    }
  } finally {
    await kernel.close();
  }

  nb.metadata.kernelspec = kernelspec;
  if (!javascript) nb.metadata.language_info = LANGUAGE_INFO;
  const seconds = (Date.now() - t0) / 1000;
  const sameFile = outputPath === input;
  const write = outputPath !== null && (failure === null || (options.writeOnError ?? !sameFile));
  if (write) writeFileAtomic(outputPath, serializeNotebook(nb));
  if (failure) {
    for (const line of describeFailure(name, failure, nb.cells.length)) log(line);
    if (write) log(`notebook ${name}: outputs up to the failure written to ${outputPath}`);
    else if (outputPath) log(`notebook ${name}: not written (${outputPath} keeps its previous outputs)`);
  } else log(`notebook ${name}: ${count} code cells ran in ${seconds.toFixed(1)} s${write ? `, written to ${outputPath}` : ""}`);
  return { ok: failure === null, notebook: nb, outputPath: write ? outputPath : null, codeCellsRun: count, seconds, failure, kernel: versions };
}
