/**
 * The region-read path (chunk groups placed row by row, chunks decoded straight into place, reads into a caller's
 * `out`, missing chunks as the fill value) against zarr-python 2.13's own reading of the same stores.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZarrArray, type Selection, type TypedArray } from "../../src/volume/index.js";
import { groupAlongLastAxis, type ChunkTask } from "../../src/volume/chunk-read.js";
import { poolSize, stopReadPool } from "../../src/volume/read-pool.js";
import { VolumeError } from "../../src/util/errors.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { rng, tempDir } from "../helpers/tmp.js";

const py = hasPythonModules("zarr", "numcodecs", "numpy");
const dir = tempDir();

/** zarr-python writes the stores; `<name>.bin` is its own read of the whole array (C order, little-endian). */
const WRITE = `import sys, zarr, numcodecs, numpy as np
root = sys.argv[1]
rs = np.random.RandomState(3)
z, y, x = np.ogrid[0:37, 0:45, 0:301]
a = (20000 + 9000 * np.sin(z / 5.0 + x / 40.0) + 3000 * np.cos(y / 7.0) + rs.normal(0, 500, (37, 45, 301))).astype("<u2")
# Ragged edge chunks along every axis, 19 chunks per row; the chunks of z 24-36, x 160-300 are never written.
g = zarr.open(root + "/groups.zarr", mode="w", shape=a.shape, chunks=(8, 9, 16), dtype="<u2", fill_value=7,
              compressor=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE))
g[:, :, 0:160] = a[:, :, 0:160]
g[0:24, :, 160:] = a[0:24, :, 160:]
g[:].tofile(root + "/groups.bin")
# Chunks of whole planes: every full chunk is one contiguous stretch of a full read.
p = zarr.open(root + "/planes.zarr", mode="w", shape=a.shape, chunks=(4, 45, 301), dtype="<u2", compressor=None)
p[:] = a
p[:].tofile(root + "/planes.bin")
# Large enough for the worker pool (45 chunks of 128 KiB), zstd, float32, missing chunks, fill -1.5.
f = zarr.open(root + "/pooled.zarr", mode="w", shape=(96, 96, 130), chunks=(32, 32, 32), dtype="<f4", fill_value=-1.5,
              compressor=numcodecs.Zstd(level=1))
v = (rs.random_sample((96, 96, 130)) * 1000 - 200).astype("<f4")
f[0:64] = v[0:64]
f[64:, 0:32] = v[64:, 0:32]
f[:].tofile(root + "/pooled.bin")
`;

function truthOf(name: string, ctor: new (b: ArrayBuffer) => TypedArray): TypedArray {
  const b = readFileSync(join(dir, `${name}.bin`));
  return new ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The region `sel` of a C-ordered array of `shape`, element by element (independent of the read path). */
function region(all: TypedArray, shape: number[], sel: Selection): number[] {
  const out: number[] = [];
  const [[z0, z1], [y0, y1], [x0, x1]] = sel as [[number, number], [number, number], [number, number]];
  for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out.push(all[(z * shape[1]! + y) * shape[2]! + x]!);
  return out;
}

/** Fails with the count and first mismatch (a diff of 10^5 elements would take minutes to print). */
function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, label: string): void {
  expect(got.length, label).toBe(want.length);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) {
      if (first < 0) first = i;
      bad++;
    }
  expect(bad === 0 ? "same" : `${bad} differ, first at ${first}: ${got[first]} vs ${want[first]}`, label).toBe("same");
}

function randomSel(shape: number[], r: () => number): Selection {
  return shape.map((s) => {
    const a = Math.floor(r() * s);
    const b = a + 1 + Math.floor(r() * (s - a));
    return [a, b] as [number, number];
  });
}

async function withThreads<T>(n: number, f: () => Promise<T>): Promise<T> {
  const prev = process.env.SSB_CT_READ_THREADS;
  process.env.SSB_CT_READ_THREADS = String(n);
  try {
    return await f();
  } finally {
    if (prev === undefined) delete process.env.SSB_CT_READ_THREADS;
    else process.env.SSB_CT_READ_THREADS = prev;
  }
}

describe.skipIf(!py)("region reads against zarr-python", () => {
  const shape = [37, 45, 301];
  beforeAll(() => {
    runPython(WRITE, [dir]);
  }, 60_000);
  afterAll(async () => {
    await stopReadPool();
  });

  it("reads groups of ragged chunks, with never-written ones as the fill value, whole and in 40 random regions", async () => {
    const truth = truthOf("groups", Uint16Array);
    const arr = await ZarrArray.open(join(dir, "groups.zarr"));
    const all = await arr.read();
    expectSame(all.data, truth, "whole");
    expect(all.data[(30 * 45 + 2) * 301 + 200]).toBe(7);
    const r = rng(11);
    for (let i = 0; i < 40; i++) {
      const sel = randomSel(shape, r);
      const got = await arr.read(sel);
      expect(got.shape).toEqual(sel.map(([a, b]) => b - a));
      expectSame(got.data, region(truth, shape, sel), JSON.stringify(sel));
    }
  });

  it("reads chunks of whole planes (decoded straight into place) and their ragged last chunk", async () => {
    const truth = truthOf("planes", Uint16Array);
    const arr = await ZarrArray.open(join(dir, "planes.zarr"));
    expectSame((await arr.read()).data, truth, "whole");
    for (const sel of [[[4, 12], [0, 45], [0, 301]], [[3, 37], [0, 45], [0, 301]], [[5, 30], [1, 44], [0, 301]]] as Selection[])
      expectSame((await arr.read(sel)).data, region(truth, shape, sel), JSON.stringify(sel));
  });

  it("reads into `out`: the same array back, every element rewritten (fill value included), with or without room", async () => {
    const truth = truthOf("groups", Uint16Array);
    const arr = await ZarrArray.open(join(dir, "groups.zarr"));
    const sel: Selection = [[10, 37], [3, 45], [100, 301]];
    const want = region(truth, shape, sel);
    const first = await arr.read(sel);
    first.data.fill(12345);
    const again = await arr.read(sel, { out: first.data });
    expect(again.data).toBe(first.data);
    expectSame(again.data, want, "reused");
    // A plain array of the right size has no decode room after it: read and copied over.
    const plain = new Uint16Array(want.length).fill(999);
    const viaCopy = await arr.read(sel, { out: plain });
    expect(viaCopy.data).toBe(plain);
    expectSame(plain, want, "copied over");
  });

  it("refuses an `out` of another dtype or length, naming the field", async () => {
    const arr = await ZarrArray.open(join(dir, "groups.zarr"));
    const sel: Selection = [[0, 2], [0, 3], [0, 4]];
    for (const out of [new Float32Array(24), new Uint16Array(23)]) {
      const err = await arr.read(sel, { out }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VolumeError);
      expect((err as VolumeError).details.field).toBe("out");
      expect(String((err as Error).message)).toMatch(/24 elements of uint16/);
    }
  });

  it("decodes on worker threads into a fresh shared buffer and into a reused one, as on one thread", async () => {
    const truth = truthOf("pooled", Float32Array);
    const pshape = [96, 96, 130];
    const arr = await ZarrArray.open(join(dir, "pooled.zarr"));
    const sels: Selection[] = [arr.fullSelection(), [[5, 90], [0, 96], [1, 129]]];
    for (const sel of sels) {
      const want = region(truth, pshape, sel);
      const pooled = await withThreads(2, async () => {
        expect(poolSize()).toBe(2);
        const a = await arr.read(sel);
        expect(a.data.buffer).toBeInstanceOf(SharedArrayBuffer);
        expectSame(a.data, want, "fresh");
        a.data.fill(Number.NaN);
        const b = await arr.read(sel, { out: a.data });
        expect(b.data).toBe(a.data);
        return b;
      });
      expectSame(pooled.data, want, "reused");
      const serial = await withThreads(0, () => arr.read(sel));
      expect(serial.data.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expectSame(serial.data, want, "one thread");
    }
  });
});

describe("grouping chunks along the last axis", () => {
  const task = (y: number, x: number, wx: number, x0 = 0): ChunkTask => ({ file: `${y}.${x}`, key: `${y}.${x}`, srcStart: [0, x0], dstStart: [y * 4, x], extent: [4, wx] });

  it("joins neighbours of one row up to the limit and breaks at a new row or a gap", () => {
    const tasks = [task(0, 0, 3, 1), task(0, 3, 4), task(0, 7, 4), task(0, 11, 2), task(1, 0, 3, 1), task(1, 3, 4), task(1, 9, 4)];
    const groups = groupAlongLastAxis(tasks, 3).map((g) => g.map((t) => t.key));
    expect(groups).toEqual([["0.0", "0.3", "0.7"], ["0.11"], ["1.0", "1.3"], ["1.9"]]);
    expect(groupAlongLastAxis(tasks, 1).length).toBe(tasks.length);
  });
});
