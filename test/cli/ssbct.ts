/** Runs `ssbct` as a user would: node on bin/ssbct.mjs in a child process (async, so vitest's worker stays responsive). */
import { fileURLToPath } from "node:url";
import { run, type RunResult } from "../helpers/run.js";

export const BIN = fileURLToPath(new URL("../../bin/ssbct.mjs", import.meta.url));
export const REPO = fileURLToPath(new URL("../../", import.meta.url));

export function ssbct(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return run(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, SSB_CT_PROGRESS: "0", ...options.env } });
}

/**
 * The error convention: the error is the last line on stderr, one line starting with the command's name, with no
 * stack trace. (Notes printed before it, such as the TF.js backend in use, are allowed.)
 */
export function expectOneLineError(r: RunResult, command: string): string {
  const lines = r.stderr.trim().split("\n");
  const last = lines[lines.length - 1]!;
  if (!last.startsWith(`${command}: `) || /\n\s+at /.test(r.stderr) || lines.filter((l) => l.startsWith(`${command}: `)).length !== 1)
    throw new Error(`expected the error as one line "${command}: ..." at the end of stderr, got:\n${r.stderr}`);
  return last;
}
