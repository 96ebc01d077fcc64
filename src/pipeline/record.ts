/**
 * Step records: the completion record a step writes last (and removes first when it reruns), holding the identity
 * of everything it was computed from and of what it wrote. A result is complete only while its record exists, and
 * fresh only while the identities in it still match what is on disk.
 */
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { SsbCtError } from "../util/errors.js";
import type { TreeIdentity } from "../util/identity.js";

export const RECORD_FORMAT = "ssb-ct-step";
import { STEPS_DIR } from "../util/lock.js";
export { STEPS_DIR };

export type StepStatus = "complete" | "not-applicable";

export interface StepRecord {
  format: typeof RECORD_FORMAT;
  version: 1;
  step: string;
  /** Version of the step's computation: bumped when its code changes what it writes. */
  stepVersion: number;
  status: StepStatus;
  /** Why the step does not apply to these inputs (status "not-applicable"). */
  reason?: string;
  params: unknown;
  /** Identity of every input by name: upstream steps' output identities and external inputs' hashes. */
  inputs: Record<string, string>;
  /** sha256 over stepVersion, params and inputs. */
  inputsHash: string;
  /** Output root (relative to the results folder, or absolute for a dataset outside it) and paths under it. */
  outputRoot: string;
  outputPaths: string[];
  outputs: TreeIdentity;
  /**
   * The identity downstream steps record for this step: its output content only, so a rerun that writes the same
   * bytes (a deterministic twin regenerated after a code change elsewhere) does not cascade.
   */
  outputId: string;
  /** Headline numbers and one line for the log (what the step found). */
  summary: string;
  values: Record<string, number | string | null>;
  startedAt: string;
  seconds: number;
}

/** A result that is missing, partial or computed from inputs that have changed since. */
export class StaleResultError extends SsbCtError {}

/** A step that failed: the job stops and names it. */
export class StepFailedError extends SsbCtError {}

export function recordPath(resultsDir: string, step: string): string {
  return join(resultsDir, STEPS_DIR, `${step}.json`);
}

export function readRecord(resultsDir: string, step: string): StepRecord | null {
  const p = recordPath(resultsDir, step);
  if (!existsSync(p)) return null;
  let r: unknown;
  try {
    r = JSON.parse(readFileSync(p, "utf8"));
  } catch (e) {
    throw new StaleResultError("step record is not JSON", { path: p, got: String(e) });
  }
  const rec = r as Partial<StepRecord>;
  if (rec.format !== RECORD_FORMAT || rec.version !== 1 || rec.step !== step)
    throw new StaleResultError("not a step record of this version", { path: p, field: "format/version/step", expected: `${RECORD_FORMAT} v1 for step ${step}`, got: `${String(rec.format)} v${String(rec.version)} ${String(rec.step)}` });
  return rec as StepRecord;
}

export function writeRecord(resultsDir: string, rec: StepRecord): void {
  writeFileAtomic(recordPath(resultsDir, rec.step), JSON.stringify(rec, null, 1) + "\n", { fsync: true });
}

/** Removes a step's record before its outputs are rewritten, so a crash mid-way leaves it visibly incomplete. */
export function removeRecord(resultsDir: string, step: string): void {
  const p = recordPath(resultsDir, step);
  if (existsSync(p)) unlinkSync(p);
}
