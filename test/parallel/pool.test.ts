/**
 * The task pool itself: tasks done on worker threads only (the caller idle) write the same chunks as the calling
 * thread, every worker takes tasks, and an error in a worker reaches the caller as the same named error.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lastTaskSplit, runTasks } from "../../src/parallel/pool.js";
import { importSlab, type ImportSlabInit, type SlabRange } from "../../src/volume/import/import-task.js";
import { TiffStackSource, writeTiffStack } from "../../src/volume/import/index.js";
import { OmeImage } from "../../src/volume/index.js";
import { FileFormatError } from "../../src/util/errors.js";
import { tempDir, rng } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-pool-");
const [NZ, NY, NX] = [36, 20, 18];

async function emptyImage(path: string): Promise<OmeImage> {
  return OmeImage.create(path, { channels: ["absorption"], timePointsH: [0], shapeZYX: [NZ, NY, NX], voxelSizeUm: [1, 1, 1], dtype: "uint16", chunksZYX: [4, 8, 8] });
}

function chunks(root: string, rel = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const n of readdirSync(join(root, rel))) {
    const r = rel ? `${rel}/${n}` : n;
    if (statSync(join(root, r)).isDirectory()) for (const [k, v] of chunks(root, r)) out.set(k, v);
    else if (/^\d/.test(n)) out.set(r, readFileSync(join(root, r)));
  }
  return out;
}

describe("task pool", () => {
  it("workers alone write the chunks the calling thread writes, and both workers take tasks", async () => {
    const r = rng(11);
    const stack = join(dir, "stack");
    writeTiffStack(stack, { data: new Uint16Array(NZ * NY * NX).map(() => Math.floor(r() * 60000)), shape: [NZ, NY, NX] });
    const slabs = Array.from({ length: NZ / 4 }, (_, s) => s);
    const here = await emptyImage(join(dir, "here.ome.zarr"));
    const src = TiffStackSource.open(stack);
    const slot = { t: 0, channelIndex: 0, dtype: "uint16" as const, chunkZ: 4 };
    const want: SlabRange[] = [];
    for (const s of slabs) want.push(await importSlab(src, here, slot, s));
    src.close();
    const there = join(dir, "there.ome.zarr");
    await emptyImage(there);
    const got: SlabRange[] = [];
    await runTasks<ImportSlabInit, number, SlabRange>("import", { source: { kind: "tiff", path: stack, options: {} }, dst: there, ...slot }, slabs, (rg, i) => void (got[i] = rg), { threads: 2, callerWorks: false });
    expect(lastTaskSplit[0]).toBe(0);
    expect(lastTaskSplit.slice(1).every((n) => n > 0)).toBe(true);
    expect(lastTaskSplit.reduce((a, b) => a + b, 0)).toBe(slabs.length);
    expect(got).toEqual(want);
    const a = chunks(join(dir, "here.ome.zarr", "0"));
    const b = chunks(join(there, "0"));
    expect(a.size).toBe(NZ / 4 * 3 * 3);
    expect([...a].every(([k, v]) => b.get(k)?.equals(v))).toBe(true);
  }, 60_000);

  it("an error in a worker reaches the caller with its class and message", async () => {
    const there = join(dir, "err.ome.zarr");
    await emptyImage(there);
    const init: ImportSlabInit = { source: { kind: "tiff", path: join(dir, "no-such-stack"), options: {} }, dst: there, t: 0, channelIndex: 0, dtype: "uint16", chunkZ: 4 };
    const err = await runTasks("import", init, [0, 1], () => {}, { threads: 2, callerWorks: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileFormatError);
    expect(String(err)).toMatch(/TIFF stack not found.*no-such-stack/);
  }, 60_000);
});
