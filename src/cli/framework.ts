/**
 * The `ssbct` command framework: one declarative spec per command (options with defaults and units, an example),
 * parsed by node:util parseArgs in strict mode, and one set of conventions for every command:
 *
 * - `--help` (options, defaults, units, an example), `--version`, `--debug`; `--json` where a command reports;
 * - exit status 0 success, 1 failure (a fit that does not converge, a pipeline step that fails, a bug), 2 bad usage
 *   or bad input (an unknown flag, a missing file, a store that is not what it should be), 130 after Ctrl-C;
 * - a user error is one line on stderr, `<command>: <message>` naming the option or file; the stack trace only with
 *   `--debug` (or SSB_CT_DEBUG=1);
 * - Ctrl-C: the library writes chunks and result files atomically and its completion records last, so stopping
 *   between two writes leaves complete files and an output that reads as unfinished (a rerun resumes or redoes it);
 *   the first Ctrl-C aborts the command's signal and exits, a second one exits at once;
 * - an output that already holds different data is refused before any work starts unless `--overwrite`
 *   (`guardOutputDir` / `recordOutputDir`).
 */
import type { Shard } from "../util/shard.js";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ConvergenceError, ParameterError, SsbCtError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { stableJson } from "../util/identity.js";

/** Bad usage of a command: an unknown flag, a missing or malformed value, a flag not supported yet. Exit 2. */
export class UsageError extends ParameterError {}

export type OptionValue = string | boolean | string[] | undefined;

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Repeatable: every occurrence is kept. */
  multiple?: boolean;
  /** Placeholder of the value in the help text ("PATH", "N", "um"). */
  value?: string;
  /** The default as the command applies it (shown in --help; `opt()` returns it when the flag is absent). */
  default?: string | boolean;
  /** One line, with the unit of the value. */
  help: string;
  /** Not listed in --help (kept for old command lines). */
  hidden?: boolean;
}

export interface CommandSpec {
  name: string;
  /** One line for `ssbct --help`. */
  summary: string;
  /** The usage line after `ssbct <name>`, e.g. "--data STORE --model DIR [options]". */
  usage: string;
  /** Paragraphs under the usage line: what the command reads and writes. */
  description?: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments: their placeholder and count; absent = none allowed. */
  positionals?: { name: string; min: number; max?: number };
  /** At least one example command line. */
  examples: string[];
  /** Adds `--json`: the command's report as one JSON object on stdout. */
  json?: boolean;
  /** Adds `--overwrite`. */
  overwrite?: boolean;
  /** Adds `--shard i/n` and `--threads N`. */
  parallel?: boolean;
  /** Option tokens rewritten before parsing (e.g. a flag whose value is optional). */
  preprocess?: (args: string[]) => string[];
  run(ctx: CommandContext): Promise<number | void>;
}

export type { Shard } from "../util/shard.js";

const COMMON: Record<string, OptionSpec> = {
  help: { type: "boolean", short: "h", help: "this text" },
  version: { type: "boolean", help: "the version of ssb-ct" },
  debug: { type: "boolean", help: "print stack traces of errors (also SSB_CT_DEBUG=1)" },
};
const JSON_OPT: Record<string, OptionSpec> = { json: { type: "boolean", help: "print the report as one JSON object on stdout (progress and notes stay on stderr)" } };
const OVERWRITE_OPT: Record<string, OptionSpec> = { overwrite: { type: "boolean", help: "replace an output that holds other data (refused by default, before any work)" } };
const PARALLEL_OPT: Record<string, OptionSpec> = {
  shard: { type: "string", value: "i/n", help: "run part i (0-based) of n independent parts, split by output chunk (cluster job arrays)" },
  threads: { type: "string", value: "N", help: "worker threads for chunk-parallel work (default: one per core)" },
};

export function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, ...(spec.json ? JSON_OPT : {}), ...(spec.overwrite ? OVERWRITE_OPT : {}), ...(spec.parallel ? PARALLEL_OPT : {}), ...COMMON };
}

export function formatHelp(spec: CommandSpec): string {
  const opts = Object.entries(allOptions(spec)).filter(([, o]) => !o.hidden);
  const left = opts.map(([name, o]) => `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "string" ? ` ${o.value ?? "VALUE"}` : ""}${o.multiple ? " ..." : ""}`);
  const w = Math.min(32, Math.max(...left.map((l) => l.length)) + 2);
  const lines = opts.map(([, o], i) => {
    const l = left[i]!;
    const def = o.default !== undefined && o.default !== false ? `   [default: ${String(o.default)}]` : "";
    return `  ${l.padEnd(w)}${l.length >= w ? `\n  ${" ".repeat(w)}` : ""}${o.help}${def}`;
  });
  return [
    `Usage: ssbct ${spec.name} ${spec.usage}`.trimEnd(),
    "",
    spec.summary,
    ...(spec.description ? ["", spec.description] : []),
    "",
    "Options:",
    ...lines,
    "",
    spec.examples.length > 1 ? "Examples:" : "Example:",
    ...spec.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}

/** The package.json of ssb-ct above this module (sources: src/cli/, bundle: dist/). */
export function packageInfo(): { version: string; root: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, "package.json");
    if (existsSync(p)) {
      const j = JSON.parse(readFileSync(p, "utf8")) as { name?: string; version?: string };
      if (j.name === "ssb-ct") return { version: j.version ?? "0.0.0", root: dir };
    }
    dir = dirname(dir);
  }
  return { version: "unknown", root: process.cwd() };
}

function levenshtein(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** The closest of `names` to `got` (for "did you mean"), or null when none is close. */
export function closest(got: string, names: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    const dd = levenshtein(got, n);
    if (dd < bestD) {
      bestD = dd;
      best = n;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(got.length / 3)) ? best : null;
}

/** parseArgs' errors (long, and about positionals when the flag is merely misspelt) as one line naming the option. */
function usageFromParseError(spec: CommandSpec, e: unknown): UsageError {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  const names = Object.keys(allOptions(spec));
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const opt = /'(-[^']*)'/.exec(msg)?.[1] ?? msg;
    const guess = closest(opt.replace(/^-+/, "").split("=")[0]!, names);
    return new UsageError(`unknown option ${opt}${guess ? ` (did you mean --${guess}?)` : ""}; ssbct ${spec.name} --help lists the options`);
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const opt = /'(-[^']*)'/.exec(msg)?.[1]?.split(" ")[0] ?? "";
    if (/does not take an argument/.test(msg)) return new UsageError(`option ${opt} takes no value`, { field: opt });
    // "--x -1": parseArgs reads -1 as an option; say how to pass a value that starts with a dash.
    if (/ambiguous/.test(msg)) return new UsageError(`option ${opt} needs a value; one that starts with "-" is written ${opt}=-VALUE`, { field: opt });
    return new UsageError(`option ${opt} needs a value`, { field: opt });
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const got = /'([^']*)'/.exec(msg)?.[1] ?? msg;
    return new UsageError(`unexpected argument ${JSON.stringify(got)} (options are written --name value)`, { got, expected: `see ssbct ${spec.name} --help` });
  }
  return new UsageError(msg);
}

export interface ParsedCommand {
  values: Record<string, OptionValue>;
  positionals: string[];
}

export function parseCommand(spec: CommandSpec, args: string[]): ParsedCommand {
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const [name, o] of Object.entries(allOptions(spec))) options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: spec.preprocess ? spec.preprocess(args) : args, options, strict: true, allowPositionals: spec.positionals !== undefined });
  } catch (e) {
    throw usageFromParseError(spec, e);
  }
  return { values: parsed.values as Record<string, OptionValue>, positionals: parsed.positionals };
}

/** What a command's run() gets: its options (typed getters that name the flag in errors), flags and I/O. */
export class CommandContext {
  readonly json: boolean;
  readonly debug: boolean;
  readonly overwrite: boolean;
  /** Aborted by Ctrl-C; library calls that accept a signal stop between two writes. */
  readonly signal: AbortSignal;
  constructor(
    readonly spec: CommandSpec,
    readonly values: Record<string, OptionValue>,
    readonly positionals: string[],
    signal: AbortSignal,
    /** The arguments as given (after the command name), e.g. for a model's record of how it was made. */
    readonly args: string[] = [],
  ) {
    this.json = values.json === true;
    this.debug = values.debug === true;
    this.overwrite = values.overwrite === true;
    this.signal = signal;
  }

  has(name: string): boolean {
    return this.values[name] !== undefined;
  }

  /** A string option, or its default, or undefined. */
  opt(name: string): string | undefined {
    const v = this.values[name];
    if (Array.isArray(v)) return v[v.length - 1];
    if (typeof v === "string") return v;
    const d = this.spec.options[name]?.default;
    return typeof d === "string" ? d : undefined;
  }

  /** A string option that must be given (or have a default). */
  req(name: string): string {
    const v = this.opt(name);
    if (v === undefined || v === "") throw new UsageError(`missing option --${name}`, { field: `--${name}`, expected: `see ssbct ${this.spec.name} --help` });
    return v;
  }

  flag(name: string): boolean {
    const v = this.values[name];
    if (v === undefined) return this.spec.options[name]?.default === true;
    return v === true;
  }

  all(name: string): string[] {
    const v = this.values[name];
    return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
  }

  /** A number option checked for being finite, an integer if asked, and inside [min, max] (unit for the message). */
  num(name: string, o: { integer?: boolean; min?: number; max?: number; unit?: string } = {}): number | undefined {
    const s = this.opt(name);
    if (s === undefined) return undefined;
    const v = Number(s);
    const range = `${o.min ?? "-inf"} .. ${o.max ?? "inf"}${o.unit ? ` ${o.unit}` : ""}`;
    if (s.trim() === "" || !Number.isFinite(v) || (o.integer && !Number.isInteger(v)) || (o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max))
      throw new UsageError(`option --${name} expects ${o.integer ? "an integer" : "a number"} in ${range}`, { field: `--${name}`, got: s });
    return v;
  }

  /** A comma-separated list of numbers. */
  nums(name: string, o: { integer?: boolean; min?: number; max?: number; unit?: string; count?: number } = {}): number[] | undefined {
    const s = this.opt(name);
    if (s === undefined) return undefined;
    const vs = s.split(",").map((x) => Number(x));
    const bad = vs.some((v, i) => s.split(",")[i]!.trim() === "" || !Number.isFinite(v) || (o.integer && !Number.isInteger(v)) || (o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max));
    if (bad || (o.count !== undefined && vs.length !== o.count))
      throw new UsageError(`option --${name} expects ${o.count ?? "a list of"} comma-separated ${o.integer ? "integers" : "numbers"}${o.min !== undefined || o.max !== undefined ? ` in ${o.min ?? "-inf"} .. ${o.max ?? "inf"}` : ""}${o.unit ? ` ${o.unit}` : ""}`, { field: `--${name}`, got: s });
    return vs;
  }

  /** One of a fixed set of words. */
  choice<T extends string>(name: string, choices: readonly T[]): T | undefined {
    const s = this.opt(name);
    if (s === undefined) return undefined;
    if (!(choices as readonly string[]).includes(s)) throw new UsageError(`option --${name} expects one of ${choices.join(", ")}`, { field: `--${name}`, got: s });
    return s as T;
  }

  /** `--shard i/n` and `--threads N` as the library options `{ shard, threads }` (both checked, both optional). */
  parallel(): { shard?: Shard; threads?: number } {
    const out: { shard?: Shard; threads?: number } = {};
    const s = this.opt("shard");
    if (s !== undefined) {
      const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
      if (!m) throw new UsageError("option --shard expects i/n with 0 <= i < n, e.g. 0/4", { field: "--shard", got: s });
      const index = Number(m[1]);
      const count = Number(m[2]);
      if (count < 1 || index >= count) throw new UsageError("option --shard expects i/n with 0 <= i < n (indices start at 0)", { field: "--shard", got: s });
      out.shard = { index, count };
    }
    const t = this.num("threads", { integer: true, min: 1, max: 1024 });
    if (t !== undefined) out.threads = t;
    return out;
  }

  /** Human text on stdout, or the report as one JSON line with --json. */
  report(human: string | (() => string), data: unknown): void {
    if (this.json) process.stdout.write(JSON.stringify(data, jsonReplacer) + "\n");
    else process.stdout.write((typeof human === "function" ? human() : human).replace(/\n?$/, "\n"));
  }

  /** A note for the user: stderr, so --json output stays one object. */
  note(line: string): void {
    process.stderr.write(`${this.spec.name}: ${line}\n`);
  }
}

/** Typed arrays become arrays, non-finite numbers strings, so --json output is plain JSON. */
export function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  return v;
}

/** Exit status for an error: 2 for bad usage or bad input, 1 for a failure of the computation or anything else. */
export function exitCodeFor(e: unknown): number {
  if (e instanceof ConvergenceError) return 1;
  if (e instanceof SsbCtError) return e.name === "StepFailedError" ? 1 : 2;
  const code = (e as { code?: string } | null)?.code;
  if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return 2;
  return 1;
}

function oneLine(e: unknown): string {
  if (e instanceof SsbCtError) return e.message.replace(/\s*\n\s*/g, " ");
  if (e instanceof Error) return `${e.name === "Error" ? "" : `${e.name}: `}${e.message}`.replace(/\s*\n\s*/g, " ");
  return String(e);
}

let interrupted = false;

/** Runs a command with the conventions above; resolves to the exit status (never throws). */
export async function runCommand(spec: CommandSpec, args: string[]): Promise<number> {
  const debug = args.includes("--debug") || Boolean(process.env.SSB_CT_DEBUG && process.env.SSB_CT_DEBUG !== "0");
  const controller = new AbortController();
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort();
    process.stderr.write(`\n${spec.name}: interrupted; every file written so far is complete, the output is marked unfinished and a rerun continues it\n`);
    // Give a command that watches the signal a moment to stop between two writes, then leave.
    setTimeout(() => process.exit(130), 1500).unref();
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  try {
    // --help and --version win over everything else, even over a bad flag next to them.
    if (args.includes("--help") || args.includes("-h")) {
      process.stdout.write(formatHelp(spec));
      return 0;
    }
    if (args.includes("--version")) {
      process.stdout.write(`${packageInfo().version}\n`);
      return 0;
    }
    const parsed = parseCommand(spec, args);
    const p = spec.positionals;
    if (p) {
      if (parsed.positionals.length < p.min) throw new UsageError(`missing ${p.name}`, { expected: `ssbct ${spec.name} ${spec.usage}` });
      if (p.max !== undefined && parsed.positionals.length > p.max)
        throw new UsageError(`too many arguments`, { expected: `at most ${p.max} ${p.name}`, got: parsed.positionals.join(" ") });
    }
    const ctx = new CommandContext(spec, parsed.values, parsed.positionals, controller.signal, args);
    const code = await spec.run(ctx);
    if (controller.signal.aborted) return 130;
    return code ?? 0;
  } catch (e) {
    if (controller.signal.aborted) return 130;
    process.stderr.write(`${spec.name}: ${oneLine(e)}\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(e.stack + "\n");
    else if (!(e instanceof SsbCtError)) process.stderr.write(`(an unexpected error: run with --debug for the stack trace)\n`);
    return exitCodeFor(e);
  } finally {
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outputs that already hold data

/** Marker in an output folder naming what produced it; compared before a rerun writes there. */
export const OUTPUT_MARKER = ".ssbct-output.json";

export interface OutputIdentity {
  command: string;
  /** Everything the output depends on: inputs (paths and identities) and parameters. */
  inputs: unknown;
}

/**
 * Refuses (exit 2, before any work) an output folder that holds other data: anything not written by this command
 * from the same inputs. A missing or empty folder, or one whose marker matches, is fine; `--overwrite` allows the
 * rest. Returns whether the folder is to be replaced (held other data and --overwrite was given).
 */
export function guardOutputDir(ctx: CommandContext, dir: string, identity: OutputIdentity, option = "--out"): boolean {
  if (!existsSync(dir)) return false;
  if (!statSync(dir).isDirectory()) throw new UsageError(`${option} is a file, not a folder`, { path: dir, field: option });
  const entries = readdirSync(dir);
  if (entries.length === 0) return false;
  const marker = join(dir, OUTPUT_MARKER);
  if (existsSync(marker)) {
    try {
      const prev = JSON.parse(readFileSync(marker, "utf8")) as OutputIdentity;
      if (stableJson(prev) === stableJson(identity)) return false;
    } catch {
      // an unreadable marker counts as other data
    }
  }
  if (ctx.overwrite) return true;
  throw new UsageError(`${option} already holds other data (pass --overwrite to replace it)`, { path: dir, field: option, got: entries.slice(0, 4).join(", ") + (entries.length > 4 ? ", ..." : "") });
}

/** Writes the marker last, once the output is complete. */
export function recordOutputDir(dir: string, identity: OutputIdentity): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, OUTPUT_MARKER), stableJson(identity));
}

/** The same for a single output file: refused when it exists unless its embedded `ssbct` identity matches. */
export function guardOutputFile(ctx: CommandContext, path: string, identity: OutputIdentity, option = "--out"): void {
  if (!existsSync(path)) return;
  if (statSync(path).isDirectory()) throw new UsageError(`${option} is a folder, not a file`, { path, field: option });
  try {
    const prev = (JSON.parse(readFileSync(path, "utf8")) as { ssbct?: unknown }).ssbct;
    if (stableJson(prev) === stableJson(identity)) return;
  } catch {
    // not ours
  }
  if (!ctx.overwrite) throw new UsageError(`${option} already exists with other content (pass --overwrite to replace it)`, { path, field: option });
}

/** File identity for output markers: the path as given, its size and modification time. */
export function fileStamp(path: string): { path: string; size: number; mtimeMs: number } {
  const s = statSync(path);
  return { path, size: s.size, mtimeMs: Math.round(s.mtimeMs) };
}

/** Checks that an input path exists, naming the option when it does not (exit 2). */
export function requireInput(path: string, option: string): string {
  if (!existsSync(path)) throw new UsageError(`${option}: no such file or folder`, { path, field: option });
  return path;
}

/** True when this module file is the script node was started with (a command file run directly). */
export function isMainModule(metaUrl: string, fileName: string): boolean {
  const argv1 = process.argv[1];
  if (!argv1 || !metaUrl.endsWith(`/${fileName}`)) return false;
  try {
    return fileURLToPath(metaUrl) === argv1 || argv1.endsWith(`/${fileName}`) || argv1.endsWith(`\\${fileName}`);
  } catch {
    return false;
  }
}
