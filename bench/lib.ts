import { spawnSync } from "node:child_process";
import { peerPython } from "../test/helpers/python.js";

export interface BenchResult {
  bench: string;
  ours: number;
  peer: number;
  /** ours / peer for throughputs (higher is better for us), or peer / ours for times: stated per bench. */
  ratio: number;
  unit: string;
  [extra: string]: unknown;
}

/** Prints the one JSON line a benchmark ends with. */
export function printResult(result: BenchResult): void {
  process.stdout.write(JSON.stringify(result) + "\n");
}

/** Runs a Python peer script with Debian's interpreter; its last stdout line must be JSON. */
export function runPythonJson<T>(script: string, args: string[] = [], env: Record<string, string> = {}): T {
  const py = peerPython();
  if (!py) throw new Error("no Python with the peer packages (python3-zarr, python3-scipy, ...) found: see environment.md");
  const r = spawnSync(py, ["-c", script, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`python peer failed (${r.status}):\n${r.stderr}`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/** Median of a few timings; benchmarks repeat and take the median to damp a shared machine's noise. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}
