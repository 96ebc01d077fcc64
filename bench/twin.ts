/**
 * Digital-twin generation: time of the `default` preset (all 8 time points, both channels and both label
 * images), against the peer zarr-python 2.13 writing arrays of the same shapes, chunks and codec (blosc lz4,
 * byte shuffle) filled with precomputed data: the I/O floor our generator cannot go below. ratio = peer / ours
 * (the share of our time the bare writes would take).
 * Then the `paper` preset (0.5 um voxels, one time point) streams at two lateral sizes in child processes and
 * reports each one's peak RSS: it must not grow with the volume (run with native and with wasm codecs).
 * Args: [--skip-default] [--sizes 128,256] (lateral voxels of the two paper runs)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateTwin, presetParameters } from "../src/twin/index.js";
import { peakRssMiB, printResult, runPythonJson } from "./lib.js";

const PEER = `
import sys, json, time, zarr, numcodecs, numpy as np
root, nt, nz, ny, nx, ch = sys.argv[1], *map(int, sys.argv[2:7])
comp = numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
rs = np.random.RandomState(0)
img = (148 + 6 * rs.standard_normal((nz, ny, nx))).astype(np.float32)
lab = (rs.random_sample((nz, ny, nx)) < 0.01).astype(np.uint8)
t = time.perf_counter()
a = zarr.open(root + "/img", mode="w", shape=(nt, 2, nz, ny, nx), chunks=(1, 1, ch, ch, ch), dtype="<f4", compressor=comp)
m = zarr.open(root + "/mat", mode="w", shape=(nt, 1, nz, ny, nx), chunks=(1, 1, ch, ch, ch), dtype="|u1", compressor=comp)
s = zarr.open(root + "/seg", mode="w", shape=(nt, 1, nz, ny, nx), chunks=(1, 1, ch, ch, ch), dtype="|u1", compressor=comp)
for ti in range(nt):
    a[ti, 0] = img; a[ti, 1] = img; m[ti, 0] = lab; s[ti, 0] = lab
print(json.dumps({"seconds": time.perf_counter() - t}))
`;

/** Child mode: generate `paper` at nyx x nyx, one time point, print {"seconds", "rssMiB", "voxels"} last. */
export async function child(nyx: number, out: string): Promise<void> {
  const p = presetParameters("paper", { geometry: { nyx: [nyx, nyx] }, ct: { times_h: [3.2] } });
  const r = await generateTwin(p, out, { progress: false, overwrite: true });
  const [nz, ny, nx] = r.manifest.shapeZYX;
  process.stdout.write(JSON.stringify({ seconds: r.seconds, rssMiB: peakRssMiB(), voxels: nz * ny * nx }) + "\n");
}

export async function main(args: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-twin-"));
  try {
    const i = args.indexOf("--sizes");
    const sizes = (i >= 0 ? args[i + 1]! : "128,256").split(",").map(Number);
    let ours = NaN, peer = NaN, shape: number[] = [];
    if (!args.includes("--skip-default")) {
      const p = presetParameters("default");
      const r = await generateTwin(p, join(dir, "default.ome.zarr"), { overwrite: true });
      ours = r.seconds;
      shape = r.manifest.shapeZYX;
      const [nz, ny, nx] = shape as [number, number, number];
      peer = runPythonJson<{ seconds: number }>(PEER, [join(dir, "peer"), String(r.manifest.times_h.length), String(nz), String(ny), String(nx), String(p.ct.chunk)]).seconds;
      process.stdout.write(`default: ${shape.join("x")} x ${r.manifest.times_h.length} time points in ${ours.toFixed(1)} s (peak RSS ${peakRssMiB().toFixed(0)} MiB); zarr-python bare writes ${peer.toFixed(1)} s\n`);
    }
    const here = fileURLToPath(new URL("./twin.ts", import.meta.url));
    type Mem = { nyx: number; codecs: string; voxels: number; seconds: number; rssMiB: number };
    const mem: Mem[] = [];
    // Twice: with the store's default (native) codecs and with SSB_CT_NATIVE_CODECS=0 (numcodecs wasm), to tell
    // the generator's memory from the codec's.
    for (const codecs of ["native", "wasm"]) {
      for (const n of sizes) {
        const out = join(dir, `paper-${n}.ome.zarr`);
        const env = codecs === "wasm" ? { ...process.env, SSB_CT_NATIVE_CODECS: "0" } : process.env;
        const r = spawnSync(process.execPath, ["--import", "tsx", "-e", `import(${JSON.stringify(here)}).then((m) => m.child(${n}, ${JSON.stringify(out)}))`], {
          encoding: "utf8",
          maxBuffer: 1 << 26,
          env,
        });
        if (r.status !== 0) throw new Error(`paper child (${n}) failed:\n${r.stderr}`);
        const line = r.stdout.trim().split("\n").pop()!;
        const c = JSON.parse(line) as { seconds: number; rssMiB: number; voxels: number };
        mem.push({ nyx: n, codecs, ...c });
        process.stdout.write(`paper ${n}x${n} lateral (${codecs} codecs): ${(c.voxels / 1e6).toFixed(1)} Mvoxel per channel in ${c.seconds.toFixed(1)} s, peak RSS ${c.rssMiB.toFixed(0)} MiB\n`);
        rmSync(out, { recursive: true, force: true });
      }
    }
    printResult({
      bench: "twin",
      ours,
      peer,
      ratio: peer / ours,
      unit: "s (default preset, 8 time points; peer: zarr-python writing the same arrays)",
      defaultShapeZYX: shape,
      paperPeakRss: mem,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
