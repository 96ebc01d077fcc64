/**
 * The kernel process of the notebook runner (entry point, started by run.ts; not exported). One process per notebook,
 * working directory = the notebook's folder, so cells get fresh module state and resolve `../dist/...` as they do under
 * Jupyter. Cells run through tslab's own converter and executor, wired the way tslab's Jupyter kernel wires them
 * (tslab/dist/main.js and jupyter.js): stdout/stderr writes become stream outputs, tslab's process-wide display writer
 * becomes display outputs. The difference: the executor's console, where tslab reports compile diagnostics and thrown
 * values, is ours, so a failed cell comes back as a structured error instead of stderr text.
 */
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { formatWithOptions, inspect } from "node:util";
import { SsbCtError } from "../util/errors.js";
import type { CellError, KernelMessage, ParentMessage } from "./protocol.js";
import type { JsonObject, MimeBundle } from "./nbformat.js";

// The few pieces of tslab's API used here (tslab/dist/converter.d.ts, executor.d.ts, jupyter.d.ts).
interface TslabConverter {
  close(): void;
}
interface TslabExecutor {
  execute(src: string): Promise<boolean>;
  close(): void;
}
interface ExecutorConsole {
  log(...args: unknown[]): void;
  error(...args: unknown[]): void;
}
interface TslabDisplayMessage {
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  transient?: { display_id?: string };
}
interface TslabJupyterModule {
  lastWriteDisplayData: ((msg: TslabDisplayMessage, update: boolean) => void) | null;
}

/** The format string tslab's executor prints a TypeScript diagnostic with (executor.js, printDiagnostics). */
const DIAGNOSTIC_FORMAT = "%s%d:%d - %s";

function send(msg: KernelMessage): void {
  process.send!(msg);
}

/** tslab as the notebook's folder sees it (as tslab's own kernel finds a local install), else the one beside us. */
function tslabRoot(): string {
  for (const from of [join(process.cwd(), "noop.js"), fileURLToPath(import.meta.url)]) {
    try {
      return dirname(createRequire(from).resolve("tslab/package.json"));
    } catch {
      /* try the next */
    }
  }
  throw new SsbCtError("tslab not found", { path: process.cwd(), expected: "node_modules/tslab (a devDependency of ssb-ct: npm ci)" });
}

const root = tslabRoot();
const req = createRequire(join(root, "package.json"));
const tslabVersion = (req("./package.json") as { version: string }).version;
const jupyter = req("./dist/jupyter.js") as TslabJupyterModule;

/** The notebook's folder and its parents up to the project root (the one holding node_modules/tslab), longest first. */
const projectDirs: string[] = (() => {
  const top = dirname(dirname(root));
  const out = [process.cwd()];
  for (let d = process.cwd(); d !== top && (d + sep).startsWith(top + sep); ) out.push((d = dirname(d)));
  return out;
})();

/** Absolute paths of this machine made relative to the notebook, so error outputs can be committed. */
function relativize(text: string): string {
  let out = text;
  for (const d of projectDirs) out = out.split(d + sep).join((relative(process.cwd(), d) || ".") + "/");
  return out;
}

let current = -1;
let captured: unknown[][] = [];

function chunkText(chunk: unknown): string {
  if (typeof chunk === "string") return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString("utf8");
  return String(chunk);
}

// Writes become stream outputs of the cell that is running (or ran last: late writes stay with it, as in Jupyter).
function redirect(stream: NodeJS.WriteStream, name: "stdout" | "stderr"): void {
  stream.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
    send({ type: "stream", cell: current, name, text: chunkText(chunk) });
    const done = typeof encoding === "function" ? encoding : cb;
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  }) as NodeJS.WriteStream["write"];
}

function toJsonBundle(data: Record<string, unknown>): MimeBundle {
  const out: MimeBundle = {};
  for (const [k, v] of Object.entries(data)) out[k] = v instanceof Uint8Array ? Buffer.from(v).toString("base64") : (v as MimeBundle[string]);
  return out;
}

jupyter.lastWriteDisplayData = (msg, update) => {
  send({
    type: "display",
    cell: current,
    data: toJsonBundle(msg.data),
    metadata: (msg.metadata ?? {}) as JsonObject,
    displayId: msg.transient?.display_id ?? null,
    update: !!update,
  });
};

const executorConsole: ExecutorConsole = {
  // The executor logs a cell's last expression here; tslab's kernel prints it to stdout, so do we.
  log: (...args) => process.stdout.write(formatWithOptions({ colors: false }, ...args) + "\n"),
  error: (...args) => {
    captured.push(args);
  },
};

function isErrorLike(e: unknown): e is { name?: string; message: string; stack?: string; cause?: unknown } {
  return typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string";
}

const thisFile = fileURLToPath(import.meta.url);

/** Stack frames of this kernel, tslab's executor and Node internals say nothing about the cell. */
function userFrames(stack: string): string[] {
  return stack.split("\n").filter((l) => !(/^\s+at /.test(l) && (l.includes(thisFile) || /node:vm|node:internal|[\\/]tslab[\\/]dist[\\/]/.test(l))));
}

function compileError(diags: unknown[][], code: string): CellError {
  const lines = code.split("\n");
  const evalue: string[] = [];
  const traceback: string[] = [];
  for (const [, file, line, col, text] of diags) {
    const where = `${file ? String(file).trim() + " " : ""}${line}:${col}`;
    evalue.push(`${where} - ${text}`);
    traceback.push(`${file ? `${String(file).trim()} line` : "cell line"} ${line}, column ${col}: ${text}`);
    const src = file ? undefined : lines[Number(line) - 1];
    if (src !== undefined) traceback.push(`    ${src}`, `    ${" ".repeat(Math.max(0, Number(col) - 1))}^`);
  }
  return { ename: "TypeScriptError", evalue: relativize(evalue.join("\n")), traceback: traceback.map(relativize) };
}

function thrownError(e: unknown): CellError {
  if (!isErrorLike(e)) return { ename: "ThrownValue", evalue: inspect(e), traceback: [`Uncaught ${inspect(e)}`] };
  const traceback = userFrames(e.stack ?? `${e.name ?? "Error"}: ${e.message}`);
  for (let c = e.cause, depth = 0; c !== undefined && depth < 5; c = isErrorLike(c) ? c.cause : undefined, depth++)
    traceback.push(...userFrames("Caused by: " + (isErrorLike(c) ? c.stack ?? c.message : inspect(c))));
  const ename = e.name || (e as object).constructor?.name || "Error";
  return { ename, evalue: relativize(e.message || "(empty message)"), traceback: traceback.map(relativize) };
}

/** What tslab reported for a failed cell, as an nbformat error. */
function cellError(reports: unknown[][], code: string): CellError {
  const diags = reports.filter((a) => a[0] === DIAGNOSTIC_FORMAT && a.length === 5);
  if (diags.length > 0) return compileError(diags, code);
  const last = reports.filter((a) => a[0] !== DIAGNOSTIC_FORMAT).at(-1);
  if (!last) return { ename: "CellError", evalue: "tslab reported a failure without a message", traceback: [] };
  return thrownError(last.length === 1 ? last[0] : new Error(formatWithOptions({ colors: false }, ...last)));
}

function start(javascript: boolean): TslabExecutor {
  const { createConverter } = req("./dist/converter.js") as { createConverter(o: { isJS: boolean; isBrowser: boolean }): TslabConverter };
  const { createExecutor } = req("./dist/executor.js") as {
    createExecutor(rootDir: string, convs: { node: TslabConverter; browser: TslabConverter; close(): void }, console: ExecutorConsole): TslabExecutor;
  };
  const node = createConverter({ isJS: javascript, isBrowser: false });
  let browser: TslabConverter | null = null;
  const convs = {
    node,
    get browser(): TslabConverter {
      return (browser ??= createConverter({ isJS: javascript, isBrowser: true }));
    },
    close(): void {
      node.close();
      browser?.close();
    },
  };
  return createExecutor(process.cwd(), convs, executorConsole);
}

let executor: TslabExecutor | null = null;

async function execute(cell: number, code: string): Promise<void> {
  current = cell;
  captured = [];
  let ok: boolean;
  try {
    ok = await executor!.execute(code);
  } catch (e) {
    captured.push([e]);
    ok = false;
  }
  const reports = captured;
  captured = [];
  // Diagnostics of a cell that still ran (e.g. a %module cell) are only warnings: show them as tslab's kernel does.
  if (ok) for (const args of reports) process.stderr.write(formatWithOptions({ colors: false }, ...args) + "\n");
  send({ type: "done", cell, ok, error: ok ? null : cellError(reports, code) });
}

redirect(process.stdout, "stdout");
redirect(process.stderr, "stderr");
// As tslab's kernel: errors that escape a cell are reported, not fatal.
process.on("uncaughtException", (e) => console.error("UncaughtException:", e));
process.on("unhandledRejection", (reason) => console.error("UnhandledPromiseRejection:", reason));

// The runner is gone (killed, or it finished): so is this kernel, whatever handles the cells left open.
process.on("disconnect", () => process.exit(0));

let queue = Promise.resolve();
process.on("message", (m: ParentMessage) => {
  queue = queue.then(async () => {
    if (m.type === "init") {
      executor = start(m.javascript);
      const ts = req("@tslab/typescript-for-tslab") as { version: string };
      send({ type: "ready", versions: { tslab: tslabVersion, typescript: ts.version, node: process.version } });
    } else if (m.type === "execute") {
      await execute(m.cell, m.code);
    } else {
      executor?.close();
      process.exit(0);
    }
  });
});
