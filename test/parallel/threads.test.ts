/**
 * Worker threads (`threads` option, `--threads N`) change how fast, never what: stores written with 1 and with 2
 * threads are byte-identical for twin generation (with its pyramid) and import. And the shard helper splits work
 * into parts that cover every item exactly once.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateTwin, presetParameters } from "../../src/twin/index.js";
import { importTiffStack, writeTiffStack } from "../../src/volume/import/index.js";
import { OmeImage } from "../../src/volume/index.js";
import { contiguousRange, inShard, parseShard, shardItems, shardSize, shardTag } from "../../src/util/shard.js";
import { ParameterError } from "../../src/util/errors.js";
import { tempDir, rng } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-threads-");

function files(root: string, rel = ""): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const n of readdirSync(join(root, rel))) {
    if (n.startsWith(".ssb-ct")) continue;
    const r = rel ? `${rel}/${n}` : n;
    if (statSync(join(root, r)).isDirectory()) for (const [k, v] of files(root, r)) out.set(k, v);
    else out.set(r, readFileSync(join(root, r)));
  }
  return out;
}

function expectSame(a: string, b: string): void {
  const fa = files(a);
  const fb = files(b);
  expect([...fb.keys()].sort()).toEqual([...fa.keys()].sort());
  expect([...fa].filter(([k, v]) => !fb.get(k)!.equals(v)).map(([k]) => k)).toEqual([]);
}

describe("threads", () => {
  it("twin generation with its pyramid: 1 and 2 threads write the same bytes", async () => {
    const p = presetParameters("ci", { ct: { chunk: 16 } });
    const a = join(dir, "t1.ome.zarr");
    const b = join(dir, "t2.ome.zarr");
    await generateTwin(p, a, { progress: false, threads: 1, pyramidLevels: 2 });
    await generateTwin(p, b, { progress: false, threads: 2, pyramidLevels: 2 });
    expectSame(a, b);
    const img = await OmeImage.open(b);
    expect(img.levels).toBe(2);
    // The omero window comes from the blocks' ranges, gathered across threads: finite and ordered.
    for (const r of img.dataRanges) expect(r && r[0] < r[1]).toBe(true);
  }, 120_000);

  it("import of a TIFF stack: 1 and 2 threads write the same bytes", async () => {
    const [nz, ny, nx] = [40, 24, 20];
    const r = rng(5);
    const vol = new Uint16Array(nz * ny * nx).map(() => Math.floor(r() * 4000));
    const stack = join(dir, "stack");
    writeTiffStack(stack, { data: vol, shape: [nz, ny, nx] });
    const a = join(dir, "i1.ome.zarr");
    const b = join(dir, "i2.ome.zarr");
    const ra = await importTiffStack(stack, a, { voxelSizeUm: 1, chunksZYX: [4, 16, 16], progress: false, threads: 1 });
    const rb = await importTiffStack(stack, b, { voxelSizeUm: 1, chunksZYX: [4, 16, 16], progress: false, threads: 2 });
    expect(rb.slabsWritten).toBe(10);
    expectSame(a, b);
    expect(Array.from((await rb.image.readVolume(0, 0)).data)).toEqual(Array.from(vol));
    expect(rb.image.dataRanges[0]).toEqual(ra.image.dataRanges[0]);
  }, 120_000);
});

describe("shards", () => {
  it("parses i/n and refuses what is not a shard, naming the field", () => {
    expect(parseShard("2/5")).toEqual({ index: 2, count: 5 });
    expect(() => parseShard("5/5")).toThrow(ParameterError);
    expect(() => parseShard("1/0")).toThrow(/positive integer/);
    expect(() => parseShard("1-4")).toThrow(/field: --shard/);
    expect(shardTag({ index: 3, count: 16 })).toBe("shard-0003-of-0016");
  });

  it("both assignments give every item to exactly one shard, and shardSize counts them", () => {
    for (const total of [0, 1, 7, 24, 100])
      for (const n of [1, 2, 3, 5, 8, 30])
        for (const assignment of ["round-robin", "contiguous"] as const) {
          const owners = Array.from({ length: total }, (_, k) => Array.from({ length: n }, (_, i) => i).filter((i) => inShard(k, total, { index: i, count: n }, assignment)));
          expect(owners.every((o) => o.length === 1)).toBe(true);
          for (let i = 0; i < n; i++) expect(shardItems(Array.from({ length: total }, (_, k) => k), { index: i, count: n }, assignment).length).toBe(shardSize(total, { index: i, count: n }, assignment));
        }
    // Contiguous parts differ by at most one item.
    const sizes = Array.from({ length: 7 }, (_, i) => contiguousRange(24, { index: i, count: 7 })).map(([a, b]) => b - a);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
});
