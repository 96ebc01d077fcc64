/**
 * Chunk-parallel work on worker threads: the speed-up from 1 to 2 threads (`threads` option, `--threads N`) on
 * twin generation (`default` preset: 8 time points, both channels and label images) and on importing a TIFF
 * stack (1024 slices of 384 x 256 uint16, 192 MiB: 32 slabs of 32 slices, blosc lz4; large enough that the
 * second thread's start-up, about 0.3 s, is a small part). The peer is our own code on one
 * thread in the same run; ratio = (time at 1 thread) / (time at 2 threads), over both jobs together. The outputs
 * of both thread counts are compared byte for byte (a speed-up that changed the bytes would be no speed-up).
 * On a shared 2-core machine a busy neighbour takes one of the two cores: the load is printed with the result.
 * Args: [--skip-twin] [--skip-import] [--preset NAME] [--repeat N] (median of N runs per thread count, default 1)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { generateTwin, presetParameters } from "../src/twin/index.js";
import { importTiffStack, writeTiffStack } from "../src/volume/import/index.js";
import { median, printResult } from "./lib.js";

/** Files under a store, bookkeeping (`.ssb-ct`, import job files) aside, with their bytes. */
function storeFiles(root: string, rel = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const n of readdirSync(join(root, rel))) {
    if (n.startsWith(".ssb-ct")) continue;
    const r = rel ? `${rel}/${n}` : n;
    if (statSync(join(root, r)).isDirectory()) for (const [k, v] of storeFiles(root, r)) out.set(k, v);
    else out.set(r, readFileSync(join(root, r)));
  }
  return out;
}

function sameStore(a: string, b: string): boolean {
  const fa = storeFiles(a);
  const fb = storeFiles(b);
  if (fa.size !== fb.size) return false;
  for (const [k, v] of fa) if (!fb.get(k)?.equals(v)) return false;
  return true;
}

function synthetic(nz: number, ny: number, nx: number): Uint16Array {
  // CT-like: smooth grey levels plus noise (compresses like a real scan, neither constant nor random).
  const v = new Uint16Array(nz * ny * nx);
  let s = 12345;
  for (let z = 0, q = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, q++) {
        s = (s * 1103515245 + 12345) >>> 0;
        v[q] = 20000 + 8000 * Math.sin(x / 17 + z / 40) * Math.cos(y / 23) + ((s >>> 16) & 1023);
      }
  return v;
}

export async function main(args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-parallel-"));
  const repeat = Number(args[args.indexOf("--repeat") + 1] ?? 1) || 1;
  const preset = args.includes("--preset") ? args[args.indexOf("--preset") + 1]! : "default";
  const load0 = loadavg()[0]!;
  try {
    const jobs: Record<string, { t1: number; t2: number; ratio: number; identical: boolean }> = {};
    if (!args.includes("--skip-twin")) {
      const p = presetParameters(preset);
      const time = async (threads: number): Promise<number> => {
        const xs: number[] = [];
        for (let r = 0; r < repeat; r++) xs.push((await generateTwin(p, join(dir, `twin-${threads}.ome.zarr`), { progress: false, overwrite: true, threads })).seconds);
        return median(xs);
      };
      const t1 = await time(1);
      const t2 = await time(2);
      jobs.twin = { t1, t2, ratio: t1 / t2, identical: sameStore(join(dir, "twin-1.ome.zarr"), join(dir, "twin-2.ome.zarr")) };
      process.stdout.write(`twin ${preset}: 1 thread ${t1.toFixed(2)} s, 2 threads ${t2.toFixed(2)} s, x${(t1 / t2).toFixed(2)}, identical ${jobs.twin.identical}\n`);
    }
    if (!args.includes("--skip-import")) {
      const [nz, ny, nx] = [1024, 384, 256];
      const stack = join(dir, "stack");
      writeTiffStack(stack, { data: synthetic(nz, ny, nx), shape: [nz, ny, nx] });
      const time = async (threads: number): Promise<number> => {
        const xs: number[] = [];
        for (let r = 0; r < repeat; r++) {
          const out = join(dir, `import-${threads}.ome.zarr`);
          rmSync(out, { recursive: true, force: true });
          const t0 = performance.now();
          await importTiffStack(stack, out, { voxelSizeUm: 1, chunksZYX: [32, 64, 64], progress: false, threads });
          xs.push((performance.now() - t0) / 1000);
        }
        return median(xs);
      };
      const t1 = await time(1);
      const t2 = await time(2);
      jobs.import = { t1, t2, ratio: t1 / t2, identical: sameStore(join(dir, "import-1.ome.zarr"), join(dir, "import-2.ome.zarr")) };
      process.stdout.write(`import ${nz}x${ny}x${nx} uint16: 1 thread ${t1.toFixed(2)} s, 2 threads ${t2.toFixed(2)} s, x${(t1 / t2).toFixed(2)}, identical ${jobs.import.identical}\n`);
    }
    const all = Object.values(jobs);
    const t1 = all.reduce((a, j) => a + j.t1, 0);
    const t2 = all.reduce((a, j) => a + j.t2, 0);
    printResult({
      bench: "parallel",
      ours: t2,
      peer: t1,
      ratio: t1 / t2,
      unit: "s (2 threads vs 1 thread, twin + import)",
      jobs,
      cores: availableParallelism(),
      load1: [load0, loadavg()[0]!],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
