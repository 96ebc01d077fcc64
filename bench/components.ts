/**
 * `npm run bench -- components [sizes] [--conn 6,18,26] [--repeat 3]`
 *
 * Our streaming connected-component labelling (64^3 blocks merged across faces, edges and corners) against
 * scipy.ndimage.label on the same label volumes, one run. Both label the voids (class 1) of a synthetic segmented
 * volume: electrolyte (0) with spherical voids (1), lithium blobs and filaments (2) and 0.5 % isolated-voxel
 * segmentation noise of both classes, so diagonal contacts are frequent.
 *
 * Fairness: the peer is timed on `ndimage.label(mask, structure)` with the mask `vol == 1` precomputed and no sizes
 * computed afterwards; ours is timed from the uint8 label volume to the finished component table (voxel counts and
 * first-voxel order), after one untimed warm-up run. Throughput = voxels / median time. ratio = ours / peer (higher is better for us).
 *
 * `--memory 128x128x128,384x384x384,128x256x256,1024x256x256` (the default; ZxYxX shapes) also writes an OME-Zarr
 * label image of each shape (2 time points, 64^3 chunks, electrodes, the same voids and deposits at every size, so
 * the output tables do not grow) and runs the whole operando analysis on it in a fresh process, reporting that
 * process's peak RSS (reads on the main thread: SSB_CT_READ_THREADS=0). Peak memory should not grow with the
 * number of voxels: at a fixed cross-section it stays flat, and it grows only with the (y, x) cross-section (per-column
 * interface maps, one slab of block face planes).
 * `--memory none` skips this.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { analyseOperando, type LabelSource } from "../src/analysis/operando.js";
import { labelArray } from "../src/analysis/components.js";
import type { Connectivity } from "../src/analysis/components.js";
import { OmeImage } from "../src/volume/index.js";
import { median, peakRssMiB, printResult, runPythonJson } from "./lib.js";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A segmented-looking volume: voids (1) and lithium (2) in electrolyte (0), 0.5 % isolated-voxel noise. */
export function syntheticLabels(n: number, seed = 7): Uint8Array {
  const r = rng(seed);
  const vol = new Uint8Array(n * n * n);
  const ball = (cz: number, cy: number, cx: number, rad: number, v: number) => {
    const r2 = rad * rad;
    for (let z = Math.max(0, Math.floor(cz - rad)); z <= Math.min(n - 1, Math.ceil(cz + rad)); z++)
      for (let y = Math.max(0, Math.floor(cy - rad)); y <= Math.min(n - 1, Math.ceil(cy + rad)); y++)
        for (let x = Math.max(0, Math.floor(cx - rad)); x <= Math.min(n - 1, Math.ceil(cx + rad)); x++) {
          const d = (z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2;
          if (d <= r2) vol[(z * n + y) * n + x] = v;
        }
  };
  const voids = Math.round((n * n * n) / 4000);
  for (let i = 0; i < voids; i++) ball(r() * n, r() * n, r() * n, 1 + r() * 5, 1);
  const blobs = Math.round((n * n * n) / 60000);
  for (let i = 0; i < blobs; i++) {
    // A filament: a random walk of small balls, crossing chunk faces at arbitrary angles.
    let z = r() * n;
    let y = r() * n;
    let x = r() * n;
    for (let k = 0; k < 30; k++) {
      ball(z, y, x, 1 + r() * 2, 2);
      z += (r() - 0.5) * 4;
      y += (r() - 0.5) * 4;
      x += (r() - 0.5) * 4;
    }
  }
  const noise = Math.round(vol.length * 0.005);
  for (let i = 0; i < noise; i++) vol[Math.floor(r() * vol.length)] = r() < 0.5 ? 1 : 2;
  return vol;
}

const PEER = `
import sys, json, time, numpy as np, scipy.ndimage as ndi
path, n, conns, rep = sys.argv[1], int(sys.argv[2]), [int(c) for c in sys.argv[3].split(',')], int(sys.argv[4])
vol = np.fromfile(path, dtype=np.uint8).reshape(n, n, n)
mask = vol == 1
out = {}
for c in conns:
    st = ndi.generate_binary_structure(3, {6: 1, 18: 2, 26: 3}[c])
    ts = []
    for _ in range(rep):
        t0 = time.perf_counter(); lab, k = ndi.label(mask, st); ts.append(time.perf_counter() - t0)
    sizes = np.bincount(lab.ravel())[1:]
    out[str(c)] = {"s": sorted(ts)[len(ts) // 2], "n": int(k), "sum": int(sizes.sum()), "max": int(sizes.max()) if k else 0}
    del lab
import resource
out["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
`;

/**
 * Writes a two-time-point label image of shape (Z, Y, X), z-slab by z-slab (the writer never holds the volume):
 * 8-voxel lithium electrodes on both z faces, the same 500 voids (radius 1-4 voxels) at every size, and five new
 * 3^3 lithium deposits at t = 1 h. The output tables are the same size at every volume size, so any growth of
 * peak memory is the analysis holding data.
 */
async function writeOperandoImage(path: string, shape: [number, number, number]): Promise<void> {
  const [Z, Y, X] = shape;
  const img = await OmeImage.create(path, {
    channels: ["absorption"],
    timePointsH: [0, 1],
    shapeZYX: shape,
    voxelSizeUm: [0.5, 0.5, 0.5],
    dtype: "uint8",
    chunksZYX: [64, 64, 64],
    experiment: { currentDensity_mA_cm2: 0.8, electrodeArea_cm2: 0.0314, platingElectrode: "top" },
  });
  const lab = await img.createLabels("segmentation", {
    classes: [
      { value: 0, name: "electrolyte" },
      { value: 1, name: "void" },
      { value: 2, name: "lithium" },
    ],
  });
  const e = 8;
  const r = rng(5);
  const inside = () => [e + 6 + r() * (Z - 2 * e - 12), r() * Y, r() * X];
  const voids = Array.from({ length: 500 }, () => [...inside(), 1 + r() * 3]);
  const deposits = Array.from({ length: 5 }, () => inside().map(Math.floor));
  const slab = 64;
  for (let t = 0; t < 2; t++)
    for (let z0 = 0; z0 < Z; z0 += slab) {
      const nz = Math.min(slab, Z - z0);
      const vol = new Uint8Array(nz * Y * X);
      for (let z = z0; z < z0 + nz; z++) if (z < e || z >= Z - e) vol.fill(2, (z - z0) * Y * X, (z - z0 + 1) * Y * X);
      for (const [cz, cy, cx, rad] of voids) {
        for (let z = Math.max(z0, Math.floor(cz! - rad!)); z <= Math.min(z0 + nz - 1, Math.ceil(cz! + rad!)); z++)
          for (let y = Math.max(0, Math.floor(cy! - rad!)); y <= Math.min(Y - 1, Math.ceil(cy! + rad!)); y++)
            for (let x = Math.max(0, Math.floor(cx! - rad!)); x <= Math.min(X - 1, Math.ceil(cx! + rad!)); x++)
              if ((z - cz!) ** 2 + (y - cy!) ** 2 + (x - cx!) ** 2 <= rad! * rad!) vol[((z - z0) * Y + y) * X + x] = 1;
      }
      if (t === 1)
        for (const [dz, dy, dx] of deposits)
          for (let z = dz!; z < dz! + 3; z++)
            for (let y = dy!; y < Math.min(Y, dy! + 3); y++)
              for (let x = dx!; x < Math.min(X, dx! + 3); x++) if (z >= z0 && z < z0 + nz) vol[((z - z0) * Y + y) * X + x] = 2;
      await lab.writeVolume(t, [z0, 0, 0], { data: vol, shape: [nz, Y, X] });
    }
}

/**
 * Peak RSS of this process image. getrusage's maxRSS survives exec on Linux, so a child spawned by a large parent
 * would report the parent's peak; VmHWM in /proc/self/status belongs to the exec'd image alone.
 */
function ownPeakRssMiB(): number {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return peakRssMiB();
}

/**
 * Child-process side of --memory: analyse one image, print peak RSS as JSON. With `gc`, a full garbage collection
 * runs every 8 blocks (node --expose-gc), so the peak shows what the analysis holds rather than block buffers that
 * are already garbage but not yet collected (V8 collects ArrayBuffers lazily).
 */
async function memoryChild(path: string, gc: boolean): Promise<void> {
  const img = await OmeImage.open(path);
  const lab = await img.openLabels("segmentation");
  const collect = (globalThis as { gc?: () => void }).gc;
  let k = 0;
  const src: LabelSource = {
    shapeZYX: lab.shapeZYX,
    voxelSizeUm: lab.voxelSizeUm,
    timePointsH: lab.timePointsH,
    classes: lab.classes,
    readVolume: (t, o) => lab.readVolume(t, o),
    blocks: (t, o) =>
      (async function* () {
        for await (const b of lab.blocks(t, o)) {
          if (gc && collect && ++k % 8 === 0) collect();
          yield b;
        }
      })(),
  };
  const t0 = performance.now();
  const res = await analyseOperando(src, { experiment: img.experiment, connectivity: 26, binWidth_um: 5, progress: false });
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ rss_mib: ownPeakRssMiB(), s, voids: res.voids.columns.label!.length, nucleation: res.nucleation.columns.time_h!.length }));
}

function memoryRuns(shapes: Array<[number, number, number]>, dir: string): Array<Record<string, number | string>> {
  const out: Array<Record<string, number | string>> = [];
  for (const shape of shapes) {
    const name = shape.join("x");
    const path = join(dir, `operando-${name}.ome.zarr`);
    const w = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--write", path, name], { encoding: "utf8" });
    if (w.status !== 0) throw new Error(`writing the ${name} image failed:\n${w.stderr}`);
    // Main-thread chunk reads: the volume store's worker pool (started only for large multi-chunk reads) would add
    // a fixed ~80 MiB of worker isolates at one size and not the other, hiding what the analysis itself holds.
    const child = (gc: boolean) => {
      const r = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, fileURLToPath(import.meta.url), "--analyse", path, gc ? "gc" : "plain"], {
        encoding: "utf8",
        env: { ...process.env, SSB_CT_READ_THREADS: "0" },
      });
      if (r.status !== 0) throw new Error(`analysing the ${name} image failed:\n${r.stderr}`);
      return JSON.parse(r.stdout.trim().split("\n").pop()!) as { rss_mib: number; s: number; voids: number; nucleation: number };
    };
    const j = child(false);
    const g = child(true);
    const row = {
      shape_zyx: name,
      voxels: shape[0] * shape[1] * shape[2],
      peak_rss_mib: +j.rss_mib.toFixed(0),
      peak_rss_gc_every_8_blocks_mib: +g.rss_mib.toFixed(0),
      analysis_s: +j.s.toFixed(1),
      void_components: j.voids,
      new_lithium_components: j.nucleation,
    };
    console.log(JSON.stringify(row));
    out.push(row);
  }
  return out;
}

export async function main(args: string[]): Promise<void> {
  const get = (flag: string, dflt: string) => {
    const i = args.indexOf(flag);
    return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
  };
  const positional = args.filter((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1]!.startsWith("--")));
  const sizes = positional.length ? positional.map(Number) : [256, 512];
  const conns = get("--conn", "6,18,26").split(",").map(Number) as Connectivity[];
  const repeat = Number(get("--repeat", "3"));
  const memArg = get("--memory", "128x128x128,384x384x384,128x256x256,1024x256x256");
  const memShapes = memArg === "none" ? [] : memArg.split(",").map((m) => m.split("x").map(Number) as [number, number, number]);
  const dir = mkdtempSync(join(tmpdir(), "bench-components-"));
  let memory: Array<Record<string, number | string>> = [];
  const rows: Array<Record<string, number | string>> = [];
  let sumOurs = 0;
  let sumPeer = 0;
  try {
    for (const n of sizes) {
      const vol = syntheticLabels(n);
      const path = join(dir, `labels-${n}.u8`);
      writeFileSync(path, vol);
      const peer = runPythonJson<Record<string, { s: number; n: number; sum: number; max: number }> & { rss_mib: number }>(PEER, [
        path,
        String(n),
        conns.join(","),
        String(repeat),
      ]);
      for (const c of conns) {
        const ts: number[] = [];
        // One untimed run first: the JIT compiles the labeller (scipy's C needs no warm-up).
        labelArray({ data: vol, shape: [n, n, n] }, { connectivity: c, member: { value: 1 }, blockShape: [64, 64, 64] });
        let res = null;
        for (let k = 0; k < repeat; k++) {
          const t0 = performance.now();
          res = labelArray({ data: vol, shape: [n, n, n] }, { connectivity: c, member: { value: 1 }, blockShape: [64, 64, 64] });
          ts.push((performance.now() - t0) / 1000);
        }
        const p = peer[String(c)]!;
        const counts = res!.stats.count.subarray(0, res!.nComponents);
        let sum = 0;
        let max = 0;
        for (const v of counts) {
          sum += v;
          if (v > max) max = v;
        }
        const agree = p.n === res!.nComponents && p.sum === sum && p.max === max;
        const vox = n ** 3;
        const ours = vox / median(ts) / 1e6;
        const theirs = vox / p.s / 1e6;
        sumOurs += ours;
        sumPeer += theirs;
        const row = { size: n, connectivity: c, ours_Mvox_s: +ours.toFixed(1), scipy_Mvox_s: +theirs.toFixed(1), ratio: +(ours / theirs).toFixed(2), components: res!.nComponents, agree: agree ? "yes" : "NO" };
        rows.push(row);
        console.log(JSON.stringify(row));
        if (!agree) throw new Error(`component counts disagree with scipy at ${n}^3, connectivity ${c}: ${JSON.stringify({ peer: p, ours: { n: res!.nComponents, sum, max } })}`);
      }
      console.log(`peer process peak RSS ${peer.rss_mib.toFixed(0)} MiB (${n}^3)`);
    }
    memory = memoryRuns(memShapes, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`our process peak RSS ${peakRssMiB().toFixed(0)} MiB (holds the largest input volume in memory)`);
  const ratios = rows.map((r) => Number(r.ratio));
  printResult({
    bench: "components",
    ours: +(sumOurs / rows.length).toFixed(1),
    peer: +(sumPeer / rows.length).toFixed(1),
    ratio: +Math.min(...ratios).toFixed(2),
    unit: "Mvoxel/s (mean over cases; ratio = worst case of ours/scipy.ndimage.label)",
    cases: rows,
    memory,
  });
}

// Child processes of --memory run this file directly.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [flag, path, n] = process.argv.slice(2);
  if (flag === "--write") await writeOperandoImage(path!, n!.split("x").map(Number) as [number, number, number]);
  else if (flag === "--analyse") await memoryChild(path!, n === "gc");
}
