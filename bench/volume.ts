/**
 * Volume read throughput, ours vs zarr-python 2.13 (Debian python3-zarr) on the same stores in one run.
 * A 384^3 uint16 CT-like volume in 64^3 chunks is written once by zarr-python with blosc-lz4 (byte shuffle), zstd
 * and no compression. Both sides then read the whole array and a 64-slice slab, page cache warm, in two ways:
 * into a new array each time (`fresh`, the headline) and into the array of the previous read (`reuse`: our
 * `read(sel, { out })`, zarr-python's `get_basic_selection(sel, out=...)`). The sides take turns (--rounds rounds
 * of --reps reads each) and every number is the median over all reads, so a neighbour's burst hits both sides.
 * Throughput is decoded bytes per second; ratio = ours / peer (>= 1 means we are as fast).
 *
 * Printed with it: the load average before and after, and the machine's memory bandwidth measured in the same run
 * (memcpy between mapped buffers, and the cost of a fresh buffer of the volume's size) on both sides: numpy maps
 * large arrays with 2 MiB pages (madvise), Node's buffers get 4 KiB pages, and on a VM that gap alone is tens of ms.
 * Args: [--size N] [--reps R] [--rounds K]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZarrArray, type NdArray, type Selection } from "../src/volume/index.js";
import { stopReadPool } from "../src/volume/read-pool.js";
import { loadAverage, median, memoryBandwidth, printResult, runPythonJson } from "./lib.js";

const CODECS = ["blosc-lz4", "zstd", "raw"] as const;
type Codec = (typeof CODECS)[number];
const MODES = ["full", "slab", "full_reuse", "slab_reuse"] as const;
type Mode = (typeof MODES)[number];

const WRITE = `
import sys, json, zarr, numcodecs, numpy as np
root, n = sys.argv[1], int(sys.argv[2])
rs = np.random.RandomState(0)
z, y, x = np.ogrid[0:n, 0:n, 0:n]
# CT-like: smooth grey levels, particles, noise; compresses like a real reconstruction (not like zeros or white noise).
vol = (20000 + 8000 * np.sin(z / 23.0) * np.cos(y / 31.0) + 6000 * np.sin(x / 17.0)).astype(np.float32)
vol += rs.normal(0, 900, size=(n, n, n)).astype(np.float32)
vol = np.clip(vol, 0, 65535).astype(np.uint16)
comps = {"blosc-lz4": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE),
         "zstd": numcodecs.Zstd(level=3), "raw": None}
for name, comp in comps.items():
    a = zarr.open(f"{root}/{name}.zarr", mode="w", shape=vol.shape, chunks=(64, 64, 64), dtype="<u2", compressor=comp)
    a[:] = vol
h = int(n) // 2
print(json.dumps({"checksum": int(vol.astype(np.uint64).sum()), "slab_checksum": int(vol[h - 32:h + 32].astype(np.uint64).sum())}))
`;

const TIME = `
import sys, json, time, zarr, numpy as np
root, n, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
h = n // 2
slab = (slice(h - 32, h + 32), slice(None), slice(None))
out = {}
for name in ["blosc-lz4", "zstd", "raw"]:
    a = zarr.open(f"{root}/{name}.zarr", mode="r")
    a[:]  # warm the page cache
    full_out = np.empty(a.shape, a.dtype); slab_out = np.empty((64, n, n), a.dtype)
    t = {"full": [], "slab": [], "full_reuse": [], "slab_reuse": []}
    sums = {}
    for _ in range(reps):
        t0 = time.perf_counter(); r = a[:]; t["full"].append(time.perf_counter() - t0)
        t0 = time.perf_counter(); s = a[slab]; t["slab"].append(time.perf_counter() - t0)
        t0 = time.perf_counter(); a.get_basic_selection(Ellipsis, out=full_out); t["full_reuse"].append(time.perf_counter() - t0)
        t0 = time.perf_counter(); a.get_basic_selection(slab, out=slab_out); t["slab_reuse"].append(time.perf_counter() - t0)
    sums = [int(x.astype(np.uint64).sum()) for x in (r, s, full_out, slab_out)]
    out[name] = {"times": t, "sums": sums}
# The same machine measures as numpy sees it: memcpy between mapped arrays, and a fresh array written once.
nb = n * n * n * 2
src = np.ones(nb, np.uint8); dst = np.zeros(nb, np.uint8)
cp, fr = [], []
for _ in range(7):
    t0 = time.perf_counter(); np.copyto(dst, src); cp.append(time.perf_counter() - t0)
    t0 = time.perf_counter(); np.empty(nb, np.uint8).fill(3); fr.append(time.perf_counter() - t0)
out["_memory"] = {"memcpy_GBps": nb / float(np.median(cp)) / 1e9, "fresh_buffer_ms": float(np.median(fr)) * 1e3}
print(json.dumps(out))
`;

interface PeerRound {
  [codec: string]: { times: Record<Mode, number[]>; sums: number[] };
}

function checksum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** One round of our reads of one codec: `reps` of each mode, seconds; checks every result's checksum. */
async function ourRound(arr: ZarrArray, n: number, reps: number, want: { checksum: number; slab_checksum: number }, codec: string): Promise<Record<Mode, number[]>> {
  const slabSel: Selection = [[n / 2 - 32, n / 2 + 32], [0, n], [0, n]];
  const t: Record<Mode, number[]> = { full: [], slab: [], full_reuse: [], slab_reuse: [] };
  let full: NdArray | undefined;
  let slab: NdArray | undefined;
  for (let r = 0; r < reps; r++) {
    let t0 = performance.now();
    const a = await arr.read();
    t.full.push((performance.now() - t0) / 1000);
    t0 = performance.now();
    const s = await arr.read(slabSel);
    t.slab.push((performance.now() - t0) / 1000);
    full ??= a;
    slab ??= s;
    t0 = performance.now();
    await arr.read(undefined, { out: full.data });
    t.full_reuse.push((performance.now() - t0) / 1000);
    t0 = performance.now();
    await arr.read(slabSel, { out: slab.data });
    t.slab_reuse.push((performance.now() - t0) / 1000);
    if (r === 0 && (checksum(a.data) !== want.checksum || checksum(s.data) !== want.slab_checksum))
      throw new Error(`${codec}: our read differs from zarr-python's (checksum)`);
  }
  if (checksum(full!.data) !== want.checksum || checksum(slab!.data) !== want.slab_checksum)
    throw new Error(`${codec}: our read into a reused array differs from zarr-python's (checksum)`);
  return t;
}

export async function main(args: string[]): Promise<void> {
  const opt = (k: string, d: number) => {
    const i = args.indexOf(k);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const n = opt("--size", 384);
  const reps = opt("--reps", 3);
  const rounds = opt("--rounds", 3);
  const loadBefore = loadAverage();
  const root = mkdtempSync(join(tmpdir(), "ssb-ct-bench-volume-"));
  try {
    console.error(`zarr-python writes ${n}^3 uint16 (64^3 chunks); then ${rounds} rounds of ${reps} reads per side and mode (load ${loadBefore.join(" ")}) ...`);
    const want = runPythonJson<{ checksum: number; slab_checksum: number }>(WRITE, [root, String(n)]);
    const arrays = new Map<Codec, ZarrArray>();
    for (const c of CODECS) {
      const arr = await ZarrArray.open(join(root, `${c}.zarr`));
      await arr.read(); // warm-up: page cache, JIT, workers
      arrays.set(c, arr);
    }
    const ours = new Map<Codec, Record<Mode, number[]>>(CODECS.map((c) => [c, { full: [], slab: [], full_reuse: [], slab_reuse: [] }]));
    const peer = new Map<Codec, Record<Mode, number[]>>(CODECS.map((c) => [c, { full: [], slab: [], full_reuse: [], slab_reuse: [] }]));
    const peerMem: { memcpy_GBps: number[]; fresh_buffer_ms: number[] } = { memcpy_GBps: [], fresh_buffer_ms: [] };
    for (let k = 0; k < rounds; k++) {
      const pr = runPythonJson<PeerRound & { _memory: { memcpy_GBps: number; fresh_buffer_ms: number } }>(TIME, [root, String(n), String(reps)]);
      peerMem.memcpy_GBps.push(pr._memory.memcpy_GBps);
      peerMem.fresh_buffer_ms.push(pr._memory.fresh_buffer_ms);
      for (const c of CODECS) {
        const p = pr[c]!;
        const [sFull, sSlab, sFullOut, sSlabOut] = p.sums;
        if (sFull !== want.checksum || sSlab !== want.slab_checksum || sFullOut !== want.checksum || sSlabOut !== want.slab_checksum)
          throw new Error(`${c}: zarr-python's read differs from the volume it wrote (checksum)`);
        for (const m of MODES) peer.get(c)![m].push(...p.times[m]);
        const o = await ourRound(arrays.get(c)!, n, reps, want, c);
        for (const m of MODES) ours.get(c)![m].push(...o[m]);
      }
    }
    await stopReadPool();
    const mem = memoryBandwidth(n * n * n * 2);
    const bytes: Record<Mode, number> = { full: n * n * n * 2, slab: 64 * n * n * 2, full_reuse: n * n * n * 2, slab_reuse: 64 * n * n * 2 };
    const gbps = (m: Mode, ts: number[]) => +(bytes[m] / median(ts) / 1e9).toFixed(3);
    const rows = CODECS.map((c) => {
      const row: Record<string, string | number> = { codec: c };
      for (const m of MODES) {
        const o = gbps(m, ours.get(c)![m]);
        const p = gbps(m, peer.get(c)![m]);
        row[`ours_${m}_GBps`] = o;
        row[`peer_${m}_GBps`] = p;
        row[`ratio_${m}`] = +(o / p).toFixed(2);
      }
      return row;
    });
    console.table(rows.map((r) => ({ codec: r.codec, ...Object.fromEntries(MODES.map((m) => [m, `${r[`ours_${m}_GBps`]} / ${r[`peer_${m}_GBps`]} = ${r[`ratio_${m}`]}`])) })));
    const worst = [...rows].sort((a, b) => (a.ratio_full as number) - (b.ratio_full as number))[0]!;
    const worstReuse = Math.min(...rows.map((r) => r.ratio_full_reuse as number));
    const worstSlab = Math.min(...rows.map((r) => r.ratio_slab as number));
    const raw = rows.find((r) => r.codec === "raw")!;
    const memory = {
      node_memcpy_GBps: mem.memcpyGBps,
      numpy_memcpy_GBps: +median(peerMem.memcpy_GBps).toFixed(2),
      node_fresh_buffer_ms: mem.freshBufferMs,
      numpy_fresh_buffer_ms: +median(peerMem.fresh_buffer_ms).toFixed(1),
    };
    console.error(
      `memory: memcpy ${memory.numpy_memcpy_GBps} GB/s (numpy), ${memory.node_memcpy_GBps} (Node); a fresh ${(bytes.full / 1e6).toFixed(0)} MB buffer written once: ` +
        `${memory.numpy_fresh_buffer_ms} ms (numpy), ${memory.node_fresh_buffer_ms} ms (Node); our raw full read = ` +
        `${((raw.ours_full_GBps as number) / memory.numpy_memcpy_GBps * 100).toFixed(0)} % of memcpy (fresh), ` +
        `${((raw.ours_full_reuse_GBps as number) / memory.numpy_memcpy_GBps * 100).toFixed(0)} % (reuse)`,
    );
    printResult({
      bench: "volume",
      ours: worst.ours_full_GBps as number,
      peer: worst.peer_full_GBps as number,
      ratio: worst.ratio_full as number,
      unit: "GB/s full read into a new array (worst codec; median)",
      worst_codec: worst.codec,
      worst_ratio_slab: worstSlab,
      worst_ratio_full_reuse: worstReuse,
      ...Object.fromEntries(rows.flatMap((r) => [[`ratio_full_${r.codec}`, r.ratio_full], [`ratio_slab_${r.codec}`, r.ratio_slab], [`ratio_full_reuse_${r.codec}`, r.ratio_full_reuse]])),
      raw_full_of_memcpy: +((raw.ours_full_GBps as number) / memory.numpy_memcpy_GBps).toFixed(2),
      raw_full_reuse_of_memcpy: +((raw.ours_full_reuse_GBps as number) / memory.numpy_memcpy_GBps).toFixed(2),
      ...memory,
      load_before: loadBefore,
      load_after: loadAverage(),
      size: n,
      reads_per_median: reps * rounds,
      codecs: rows,
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
