/**
 * Steps and the runner. A step declares its upstream steps, its parameters, its external inputs (a model folder,
 * a user's scan) and where its outputs live. The runner skips a step whose record says it ran on the same inputs
 * and whose outputs are still the ones it wrote; otherwise it removes the record, runs the step and writes the
 * record last. "Does not apply" (StepNotApplicable) is the only kind of skip; every other error fails the run
 * naming the step.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { packageRoot } from "./paths.js";
import { ParameterError, SsbCtError } from "../util/errors.js";
import { jsonIdentity, sha256, treeIdentity, type TreeIdentity } from "../util/identity.js";
import { acquireLock } from "../util/lock.js";
import { readRecord, removeRecord, StaleResultError, StepFailedError, writeRecord, type StepRecord } from "./record.js";

/** Thrown by a step (or its `applies` check) when it does not apply to these inputs: recorded, not an error. */
export class StepNotApplicable extends SsbCtError {}

export interface StepOutputs {
  /** Folder the paths are relative to (absolute, or relative to the results folder). */
  root: string;
  paths: string[];
  /** Files under those paths that are not this step's (e.g. another step's pyramid levels inside a store). */
  exclude?: (rel: string) => boolean;
}

export interface StepContext {
  resultsDir: string;
  /** Records of the upstream steps, by name (only complete ones reach `run`). */
  upstream: Record<string, StepRecord>;
  /** One line for the job log. */
  log: (line: string) => void;
}

export interface StepReport {
  summary?: string;
  values?: Record<string, number | string | null>;
}

export interface StepSpec {
  name: string;
  /** One line: what the step computes (for --help and the log). */
  describe: string;
  /** Bump when the step's code changes what it writes. */
  version: number;
  /** Upstream steps it reads; a not-applicable upstream makes this step not applicable unless listed in `optional`. */
  after: string[];
  optional?: string[];
  params: unknown;
  /**
   * Source folders (relative to the package root, e.g. "src/analysis") whose code computes this step: their content
   * is an input, so a changed computation reruns the step instead of leaving results of the old code.
   */
  code?: string[];
  /** Identities of inputs that are not steps' outputs (model files, a scan), computed when the step is checked. */
  external?: () => Record<string, string>;
  outputs: StepOutputs;
  /** null when the step applies to these inputs, else the reason it does not. */
  applies?: (upstream: Record<string, StepRecord>) => string | null;
  run: (ctx: StepContext) => Promise<StepReport | void>;
}

export type StepOutcome = "ran" | "up to date" | "not applicable";

export interface StepRun {
  step: string;
  outcome: StepOutcome;
  seconds: number;
  summary: string;
}

function outputRoot(resultsDir: string, spec: StepSpec): string {
  return isAbsolute(spec.outputs.root) ? spec.outputs.root : join(resultsDir, spec.outputs.root);
}

function storedRoot(resultsDir: string, spec: StepSpec): string {
  return relative(resultsDir, outputRoot(resultsDir, spec)) || ".";
}

interface Inputs {
  inputs: Record<string, string>;
  inputsHash: string;
  upstream: Record<string, StepRecord>;
  /** Reason this step cannot apply because an upstream did not. */
  inherited: string | null;
}

function gatherInputs(resultsDir: string, spec: StepSpec): Inputs {
  const inputs: Record<string, string> = {};
  const upstream: Record<string, StepRecord> = {};
  let inherited: string | null = null;
  for (const name of spec.after) {
    const rec = readRecord(resultsDir, name);
    if (!rec) throw new StaleResultError(`step "${spec.name}" needs step "${name}", which has not completed`, { path: resultsDir, expected: `run "${name}" first` });
    if (rec.status === "not-applicable") {
      inputs[name] = `not-applicable:${rec.inputsHash}`;
      if (!spec.optional?.includes(name)) inherited ??= `needs "${name}", which does not apply: ${rec.reason ?? ""}`;
      continue;
    }
    inputs[name] = rec.outputId;
    upstream[name] = rec;
  }
  if (spec.code?.length) inputs.code = codeIdentity(spec.code);
  Object.assign(inputs, spec.external?.() ?? {});
  const inputsHash = jsonIdentity({ step: spec.name, stepVersion: spec.version, params: spec.params, inputs });
  return { inputs, inputsHash, upstream, inherited };
}

const codeCache = new Map<string, string>();

/** Content identity of source folders of this package (cached per process: code does not change under a run). */
export function codeIdentity(folders: string[]): string {
  const key = folders.join("\0");
  let id = codeCache.get(key);
  if (id === undefined) {
    const root = packageRoot();
    // Installed without sources (a bundle): the package version stands for the code.
    id = existsSync(join(root, "src")) ? treeIdentity(root, folders).content : `package ${packageVersion(root)}`;
    codeCache.set(key, id);
  }
  return id;
}

function packageVersion(root: string): string {
  try {
    return String((JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string }).version);
  } catch {
    return "unknown";
  }
}

function outputsIdentity(resultsDir: string, spec: StepSpec, content: boolean): TreeIdentity {
  return treeIdentity(outputRoot(resultsDir, spec), spec.outputs.paths, { content, exclude: spec.outputs.exclude });
}

/**
 * Why a step's record does not describe the current state, or null when it does (cheap: listing only).
 */
export function staleReason(resultsDir: string, spec: StepSpec): string | null {
  const rec = readRecord(resultsDir, spec.name);
  if (!rec) return "never completed (or interrupted: its record is written last)";
  let g: Inputs;
  try {
    g = gatherInputs(resultsDir, spec);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  if (rec.inputsHash !== g.inputsHash) {
    const changed = Object.keys({ ...rec.inputs, ...g.inputs }).filter((k) => rec.inputs[k] !== g.inputs[k]);
    if (rec.stepVersion !== spec.version) return `its code changed (version ${rec.stepVersion} -> ${spec.version})`;
    if (jsonIdentity(rec.params) !== jsonIdentity(spec.params)) return "its parameters changed";
    return `inputs changed: ${changed.join(", ") || "?"}`;
  }
  if (rec.status === "complete") {
    const now = outputsIdentity(resultsDir, spec, false);
    if (now.listing !== rec.outputs.listing) return `its outputs changed on disk (${rec.outputs.files} files recorded, ${now.files} found)`;
  }
  return null;
}

export interface RunOptions {
  resultsDir: string;
  /** Rerun these steps (or all, with true) even when up to date. */
  force?: boolean | string[];
  log?: (line: string) => void;
}

function isForced(force: RunOptions["force"], name: string): boolean {
  return force === true || (Array.isArray(force) && force.includes(name));
}

async function runOne(spec: StepSpec, opts: RunOptions, log: (l: string) => void): Promise<StepRun> {
  const { resultsDir } = opts;
  const t0 = performance.now();
  const reason = staleReason(resultsDir, spec);
  if (reason === null && !isForced(opts.force, spec.name)) {
    const rec = readRecord(resultsDir, spec.name)!;
    return { step: spec.name, outcome: rec.status === "complete" ? "up to date" : "not applicable", seconds: 0, summary: rec.status === "complete" ? rec.summary : rec.reason ?? "" };
  }
  const g = gatherInputs(resultsDir, spec);
  removeRecord(resultsDir, spec.name);
  const startedAt = new Date().toISOString();
  const base = {
    format: "ssb-ct-step" as const,
    version: 1 as const,
    step: spec.name,
    stepVersion: spec.version,
    params: spec.params,
    inputs: g.inputs,
    inputsHash: g.inputsHash,
    outputRoot: storedRoot(resultsDir, spec),
    outputPaths: spec.outputs.paths,
    startedAt,
  };
  const notApplicable = (why: string): StepRun => {
    const empty: TreeIdentity = { files: 0, bytes: 0, listing: "", content: "" };
    writeRecord(resultsDir, { ...base, status: "not-applicable", reason: why, outputs: empty, outputId: sha256(`n/a:${g.inputsHash}`), summary: why, values: {}, seconds: 0 });
    return { step: spec.name, outcome: "not applicable", seconds: 0, summary: why };
  };
  const why = g.inherited ?? spec.applies?.(g.upstream) ?? null;
  if (why) return notApplicable(why);
  log(`${spec.name}: ${reason ?? "forced"} -> running (${spec.describe})`);
  let report: StepReport | void;
  try {
    report = await spec.run({ resultsDir, upstream: g.upstream, log });
  } catch (e) {
    if (e instanceof StepNotApplicable) return notApplicable(e.message);
    throw new StepFailedError(`step "${spec.name}" failed`, { got: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }, { cause: e });
  }
  const outputs = outputsIdentity(resultsDir, spec, true);
  const seconds = (performance.now() - t0) / 1000;
  const summary = report?.summary ?? "";
  writeRecord(resultsDir, { ...base, status: "complete", outputs, outputId: sha256(`${spec.name}:${outputs.content}`), summary, values: report?.values ?? {}, seconds });
  return { step: spec.name, outcome: "ran", seconds, summary };
}

/**
 * Runs `steps` in the given order (each after its upstream), up to and including `targets` (default: all),
 * skipping those up to date. Takes the results folder's lock only when a step has to run, so readers (notebooks
 * run by the job) never contend with the job for it.
 */
export async function runSteps(steps: StepSpec[], opts: RunOptions & { targets?: string[] }): Promise<StepRun[]> {
  const byName = new Map(steps.map((s) => [s.name, s]));
  for (const s of steps) for (const a of s.after) if (!byName.has(a)) throw new ParameterError("step depends on an unknown step", { field: s.name, got: a, expected: [...byName.keys()].join(", ") });
  const wanted = new Set<string>();
  const want = (n: string): void => {
    const s = byName.get(n);
    if (!s) throw new ParameterError("unknown step", { field: "targets", got: n, expected: [...byName.keys()].join(", ") });
    if (wanted.has(n)) return;
    wanted.add(n);
    s.after.forEach(want);
  };
  (opts.targets ?? steps.map((s) => s.name)).forEach(want);
  const plan = steps.filter((s) => wanted.has(s.name));
  const log = opts.log ?? ((l: string) => console.log(l));
  const needsWork = plan.some((s) => isForced(opts.force, s.name) || staleReason(opts.resultsDir, s) !== null);
  const release = needsWork ? acquireLock(opts.resultsDir) : () => {};
  const onSignal = (): void => {
    release();
    process.exit(130);
  };
  if (needsWork) process.once("SIGINT", onSignal);
  try {
    const runs: StepRun[] = [];
    for (const [i, s] of plan.entries()) {
      const r = await runOne(s, opts, log);
      log(`[${i + 1}/${plan.length}] ${s.name}: ${r.outcome}${r.outcome === "ran" ? ` in ${r.seconds.toFixed(1)} s` : ""}${r.summary ? ` - ${r.summary}` : ""}`);
      runs.push(r);
    }
    return runs;
  } finally {
    process.removeListener("SIGINT", onSignal);
    release();
  }
}

/** The record of a step whose result may be read: complete and fresh, or a StaleResultError naming why not. */
export function freshRecord(resultsDir: string, spec: StepSpec): StepRecord {
  const why = staleReason(resultsDir, spec);
  if (why) throw new StaleResultError(`result of step "${spec.name}" cannot be read: ${why}`, { path: resultsDir, expected: "run the job (npm run reproduce) or pipeline.ensure() first" });
  const rec = readRecord(resultsDir, spec.name)!;
  if (rec.status !== "complete") throw new StepNotApplicable(`step "${spec.name}" does not apply: ${rec.reason ?? ""}`, { path: resultsDir });
  return rec;
}
