/**
 * Crash safety and concurrent writers, with real processes: a writer killed with SIGKILL at a random moment leaves
 * every chunk either old or new (never torn), and two processes writing disjoint chunks of one array corrupt nothing.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ZarrArray, type CodecSpec } from "../../src/volume/index.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir();
const writer = fileURLToPath(new URL("../fixtures/chunk-writer.ts", import.meta.url));

function startWriter(path: string, r0: number, r1: number, gens: number) {
  const child = spawn(process.execPath, ["--import", "tsx", writer, path, String(r0), String(r1), String(gens)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const ready = new Promise<void>((res, rej) => {
    child.stdout.on("data", () => out.includes("ready") && res());
    child.on("exit", (code) => (out.includes("ready") ? res() : rej(new Error(`writer exited ${code}: ${err}`))));
  });
  const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
  return { child, ready, exited, stderr: () => err };
}

async function checkUniformChunks(arr: ZarrArray): Promise<Set<number>> {
  const gens = new Set<number>();
  const [ny, nx] = arr.chunkGrid() as [number, number];
  for (let r = 0; r < ny; r++)
    for (let c = 0; c < nx; c++) {
      const chunk = await arr.readChunk([r, c]);
      expect(chunk, `chunk ${r}.${c}`).not.toBeNull();
      const v = chunk![0]!;
      let torn = 0;
      for (let i = 0; i < chunk!.length; i++) if (chunk![i] !== v) torn++;
      expect(torn, `chunk ${r}.${c} mixes generations`).toBe(0);
      gens.add(v);
    }
  return gens;
}

const codecs: Array<[string, CodecSpec]> = [
  ["raw", { name: "raw" }],
  ["blosc", { name: "blosc", cname: "lz4", shuffle: "byte" }],
];

describe("crash safety", () => {
  for (const [name, codec] of codecs)
    it(`a writer killed mid-write leaves every ${name} chunk old or new`, async () => {
      const path = join(dir, `kill-${name}.zarr`);
      // 256 KiB chunks make each write take long enough for the kill to land inside one.
      const arr = await ZarrArray.create(path, { shape: [1024, 1024], chunks: [256, 512], dtype: "uint16", codec });
      const w = startWriter(path, 0, 4, 0);
      await w.ready;
      for (let round = 0; round < 3; round++) {
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
        const gens = await checkUniformChunks(arr);
        expect(Math.min(...gens)).toBeGreaterThanOrEqual(1);
      }
      w.child.kill("SIGKILL");
      await w.exited;
      const gens = await checkUniformChunks(arr);
      // Chunks of at most two neighbouring generations: the one in progress and the one before.
      expect(Math.max(...gens) - Math.min(...gens)).toBeLessThanOrEqual(1);
      // A killed writer may leave its temp file; it never has a chunk's name.
      const leftovers = readdirSync(join(path, "0")).filter((f) => f.includes(".tmp-"));
      expect(leftovers.length).toBeLessThanOrEqual(1);
    });
});

describe("concurrent writers", () => {
  it("two processes writing disjoint chunks of one array at the same time corrupt nothing", async () => {
    const path = join(dir, "concurrent.zarr");
    const arr = await ZarrArray.create(path, { shape: [1024, 512], chunks: [128, 128], dtype: "uint16", codec: { name: "zstd", level: 1 } });
    const a = startWriter(path, 0, 4, 20);
    const b = startWriter(path, 4, 8, 20);
    const [ca, cb] = await Promise.all([a.exited, b.exited]);
    expect(ca, a.stderr()).toBe(0);
    expect(cb, b.stderr()).toBe(0);
    const gens = await checkUniformChunks(arr);
    expect([...gens]).toEqual([20]);
    const all = await arr.read();
    expect(all.data.every((v) => v === 20)).toBe(true);
  });
});
