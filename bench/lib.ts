import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
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

/** The 1, 5 and 15 minute load averages, rounded: benchmarks print them so a busy machine shows in the result. */
export function loadAverage(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [+a.toFixed(2), +b.toFixed(2), +c.toFixed(2)];
}

/**
 * Memory bandwidth as this process sees it: median GB/s of copying `bytes` between two buffers whose pages are
 * already mapped (a plain memcpy underneath), and the median milliseconds to allocate a fresh buffer of that size
 * and write it once (what a read into a new array pays on top: zeroed pages mapped one 4 KiB fault at a time).
 */
export function memoryBandwidth(bytes: number, reps = 7): { memcpyGBps: number; freshBufferMs: number } {
  const src = new Uint8Array(bytes).fill(1);
  const dst = new Uint8Array(bytes).fill(2);
  const copy: number[] = [];
  const fresh: number[] = [];
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    dst.set(src);
    copy.push(performance.now() - t);
    t = performance.now();
    new Uint8Array(bytes).fill(3);
    fresh.push(performance.now() - t);
  }
  return { memcpyGBps: +(bytes / median(copy) / 1e6).toFixed(2), freshBufferMs: +median(fresh).toFixed(1) };
}
