/**
 * `--shard i/n` as a scheduler runs it: n processes at once on one store, each writing only its own chunks. Their
 * store must equal one process's byte for byte (bookkeeping aside: `.ssb-ct/`, names with `shard` or `done`), for
 * twin generation, segmentation and quantification; and a shard killed with SIGKILL and rerun completes the same.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { quantifyAll, quantifyMerge } from "../../src/analysis/shard-quantify.js";
import { labelArray } from "../../src/analysis/components.js";
import { segmentImage } from "../../src/segment/infer.js";
import { generateTwin } from "../../src/twin/index.js";
import { OmeImage } from "../../src/volume/index.js";
import { DatasetLockedError } from "../../src/volume/dataset-lock.js";
import { lockShard } from "../../src/volume/shard-writer.js";
import { run } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { importTiffStack, writeTiffStack } from "../../src/volume/import/index.js";
import { rng } from "../helpers/tmp.js";
import { IMPORT_OPTIONS, segmentSetup, twinParameters } from "./setup.js";

const dir = tempDir("ssb-ct-shard-");
const JOB = join(__dirname, "shard-job.ts");
// node with tsx's loader in-process (not the tsx CLI, which runs the script in a child: SIGKILL must hit the writer).
const NODE = [process.execPath, "--import", "tsx"] as const;
let whole: string;

/** Every file of a store but bookkeeping, with its bytes. */
function files(root: string, rel = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const n of readdirSync(join(root, rel))) {
    if (n.startsWith(".ssb-ct") || n.includes("shard") || n.includes("done")) continue;
    const r = rel ? `${rel}/${n}` : n;
    if (statSync(join(root, r)).isDirectory()) for (const [k, v] of files(root, r)) out.set(k, v);
    else out.set(r, readFileSync(join(root, r)));
  }
  return out;
}

function expectSameFiles(a: string, b: string): void {
  const fa = files(a);
  const fb = files(b);
  expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
  const differ = [...fa].filter(([k, v]) => !fb.get(k)!.equals(v)).map(([k]) => k);
  expect(differ).toEqual([]);
}

function job(...args: string[]) {
  return run(NODE[0], [...NODE.slice(1), JOB, ...args]);
}

/** The command line as a scheduler runs it (bin/ssbct.mjs loads the sources through tsx in its own process). */
const SSBCT = join(__dirname, "..", "..", "bin", "ssbct.mjs");
function ssbct(...args: string[]) {
  return run(process.execPath, [SSBCT, ...args]);
}
const TWIN_ARGS = ["twin", "--preset", "ci", "--set", "ct.chunk=16", "--threads", "1"];

async function shards(n: number, start: (i: number) => ReturnType<typeof run>): Promise<void> {
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => start(i)));
  for (const r of rs) expect(r.status, r.stderr).toBe(0);
}

beforeAll(async () => {
  whole = join(dir, "whole.ome.zarr");
  await generateTwin(await twinParameters(), whole, { progress: false, threads: 1 });
}, 120_000);

describe("twin --shard i/n", () => {
  it("3 concurrent processes write the store of one process, byte for byte", async () => {
    const out = join(dir, "sharded.ome.zarr");
    await shards(3, (i) => ssbct(...TWIN_ARGS, "--out", out, "--shard", `${i}/3`));
    expectSameFiles(whole, out);
    expect(files(whole).size).toBeGreaterThan(100);
    // The bookkeeping names every shard as done, and the manifest exists once (written by the last one).
    expect(readdirSync(join(out, ".ssb-ct", "shards")).filter((n) => n.endsWith(".done.json"))).toHaveLength(3);
  }, 240_000);

  it("a shard killed with SIGKILL while writing, rerun, completes the same store", async () => {
    const out = join(dir, "killed.ome.zarr");
    const child = spawn(process.execPath, [SSBCT, ...TWIN_ARGS, "--out", out, "--shard", "0/2"], { stdio: "ignore" });
    // Kill once it has written chunks of its own (but before it can finish: the twin takes seconds).
    const chunkDir = join(out, "0", "0", "0");
    const t0 = Date.now();
    while (!(existsSync(chunkDir) && readdirSync(chunkDir).length > 0) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    expect(existsSync(join(out, "twin-manifest.json"))).toBe(false);
    const other = await ssbct(...TWIN_ARGS, "--out", out, "--shard", "1/2", "--json");
    expect(other.status, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout).finalised).toBe(false); // shard 0 is not done
    const rerun = await ssbct(...TWIN_ARGS, "--out", out, "--shard", "0/2", "--json");
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout).finalised).toBe(true);
    expectSameFiles(whole, out);
  }, 240_000);
});

describe("shards and other writers", () => {
  it("a writer of other content is refused while a shard of a job runs; once that shard is gone it proceeds", async () => {
    const out = join(dir, "guarded.ome.zarr");
    cpSync(whole, out, { recursive: true });
    const release = lockShard(out, "twin", { index: 1, count: 4 }, "twin generation"); // a live shard (this process)
    const p = await twinParameters();
    await expect(generateTwin({ ...p, seed: p.seed + 1 }, out, { progress: false, overwrite: true, threads: 1 })).rejects.toThrow(/shards of another job are writing this dataset.*twin shard 1\/4: pid/);
    await expect(generateTwin({ ...p, seed: p.seed + 1 }, out, { progress: false, overwrite: true, threads: 1, shard: { index: 0, count: 2 } })).rejects.toThrow(DatasetLockedError);
    release();
    const r = await generateTwin({ ...p, seed: p.seed + 1 }, out, { progress: false, overwrite: true, threads: 1 });
    expect(r.manifest.seed).toBe(p.seed + 1);
  }, 120_000);
});

describe("import --shard i/n", () => {
  it("3 concurrent processes import a TIFF stack into the store one process writes, byte for byte", async () => {
    const [nz, ny, nx] = [60, 24, 20];
    const r = rng(3);
    const stack = join(dir, "import-stack");
    writeTiffStack(stack, { data: new Uint16Array(nz * ny * nx).map(() => Math.floor(r() * 50000)), shape: [nz, ny, nx] });
    const one = join(dir, "import-one.ome.zarr");
    const many = join(dir, "import-many.ome.zarr");
    await importTiffStack(stack, one, IMPORT_OPTIONS);
    // mode create: every shard creates the same image (metadata written identically); --times/--channels as IMPORT_OPTIONS
    await shards(3, (i) => ssbct("import", stack, "--out", many, "--voxel-size", "1", "--chunks", "8,16,16", "--channels", "absorption,phase", "--times", "0,1", "--mode", "create", "--threads", "1", "--shard", `${i}/3`));
    expectSameFiles(one, many);
    const img = await OmeImage.open(many);
    expect(img.dataRanges[0]).toEqual((await OmeImage.open(one)).dataRanges[0]);
    expect(img.dataRanges[0]).not.toBeNull();
  }, 240_000);
});

describe("segment --shard i/n", () => {
  it("3 concurrent processes write labels/unet of one process, byte for byte, and the last completes it", async () => {
    const one = join(dir, "seg-one.ome.zarr");
    const many = join(dir, "seg-many.ome.zarr");
    cpSync(whole, one, { recursive: true });
    cpSync(whole, many, { recursive: true });
    const { sm, options } = await segmentSetup();
    const r = await segmentImage(await OmeImage.open(one), sm, options);
    expect(r.complete).toBe(true);
    // Through the test driver: the pointwise engine (a function of the phase value) stands in for a U-Net, which
    // the command line would load from a model folder; what is tested is the sharding of segmentImage.
    await shards(3, (i) => job("segment", many, `${i}/3`));
    expectSameFiles(one, many);
    const img = await OmeImage.open(many);
    expect((await img.openLabels("unet")).status().state).toBe("complete");
  }, 240_000);
});

describe("quantify --shard i/n, then --merge", () => {
  it("3 concurrent shards and a merge write the tables of one process, byte for byte", async () => {
    const one = join(dir, "q-one");
    const many = join(dir, "q-many");
    const threaded = join(dir, "q-threads");
    await quantifyAll(whole, one, { threads: 1 });
    await quantifyAll(whole, threaded, { threads: 3 }); // 3 slabs on worker threads, joined like shards
    expectSameFiles(one, threaded);
    const q = ["quantify", "--data", whole, "--labels", "segmentation", "--out", many];
    await shards(3, (i) => ssbct(...q, "--shard", `${i}/3`));
    expect(readdirSync(many).filter((n) => n.includes("shard"))).toHaveLength(3);
    const m = await ssbct(...q, "--merge");
    expect(m.status, m.stderr).toBe(0);
    expectSameFiles(one, many);
    expect(readdirSync(one).sort()).toEqual(["label_component_summary.csv", "label_components.csv", "layer_composition.csv"]);
  }, 240_000);

  it("components joined across shard borders agree with the streaming labeller on the whole volume", async () => {
    const out = join(dir, "q-check");
    // 4 shards over 4 chunk rows of 16 planes: every slab border is crossed by the electrode and by voids.
    for (let i = 0; i < 4; i++) await (await import("../../src/analysis/shard-quantify.js")).quantifyShard(whole, out, { index: i, count: 4 });
    await quantifyMerge(whole, out);
    const rows = readFileSync(join(out, "label_components.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(","));
    const img = await OmeImage.open(whole);
    const lab = await img.openLabels("segmentation");
    let crossing = 0;
    for (const [t, time] of img.timePointsH.entries()) {
      const vol = await lab.readVolume(t);
      for (const c of lab.classes.filter((k) => k.value !== 0)) {
        const ref = labelArray(vol as never, { connectivity: 26, member: { value: c.value }, properties: ["bbox"] });
        const ours = rows.filter((r) => Number(r[0]) === time && r[1] === c.name);
        expect(ours.length).toBe(ref.nComponents);
        expect(ours.map((r) => Number(r[3]))).toEqual(Array.from(ref.stats.count.subarray(0, ref.nComponents)));
        crossing += ours.filter((r) => Number(r[8]) < 16 && Number(r[9]) >= 16).length;
      }
    }
    expect(crossing).toBeGreaterThan(0); // the check covered components that cross a slab border
  }, 240_000);
});
