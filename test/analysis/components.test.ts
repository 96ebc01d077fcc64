/**
 * Streaming connected components against closed-form truth and against scipy.ndimage.label and
 * skimage.measure.label on the same volumes: same count and same sizes (sorted, and in label order) for
 * connectivity 6, 18 and 26, with block shapes that put components across block faces, edges and corners.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { labelArray, labelBlocks, arrayBlocks, zarrArrayComponents, type Connectivity } from "../../src/analysis/index.js";
import { ZarrArray } from "../../src/volume/index.js";
import { VolumeError, ParameterError } from "../../src/util/errors.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { rng, tempDir } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-analysis-");
const havePeers = hasPythonModules("numpy", "scipy.ndimage", "skimage.measure");
const CONNS: Connectivity[] = [6, 18, 26];

function sizesOf(res: ReturnType<typeof labelArray>): number[] {
  return Array.from(res.stats.count.subarray(0, res.nComponents));
}

/** Voxel pairs that touch only across a block corner, an edge or a face diagonal of a 4^3 block grid. */
function diagonalVolume(): { data: Uint8Array; shape: [number, number, number] } {
  const shape: [number, number, number] = [12, 12, 12];
  const data = new Uint8Array(12 ** 3);
  const set = (z: number, y: number, x: number) => (data[(z * 12 + y) * 12 + x] = 1);
  // Corner only: (3,3,3) and (4,4,4) sit in blocks (0,0,0) and (1,1,1).
  set(3, 3, 3);
  set(4, 4, 4);
  // Edge only: (3,7,9) and (4,8,9) sit in blocks (0,1,2) and (1,2,2); they differ in z and y.
  set(3, 7, 9);
  set(4, 8, 9);
  // Face crossing with an in-plane step: (7,1,1) and (8,2,1) share block (., 0, 0) in y and x but differ in z and y.
  set(7, 1, 1);
  set(8, 2, 1);
  // Straight face contact: (7,9,5) and (8,9,5).
  set(7, 9, 5);
  set(8, 9, 5);
  return { data, shape };
}

describe("connected components: closed-form truth", () => {
  it("joins across faces, edges and corners exactly as the connectivity allows", () => {
    const { data, shape } = diagonalVolume();
    // Pairs: corner (3 axes differ), edge (2 axes), face + in-plane step (2 axes), straight face (1 axis).
    const expected: Record<Connectivity, number> = { 6: 2 + 2 + 2 + 1, 18: 2 + 1 + 1 + 1, 26: 1 + 1 + 1 + 1 };
    for (const c of CONNS)
      for (const bs of [
        [4, 4, 4],
        [12, 12, 12],
        [1, 1, 1],
        [3, 5, 2],
      ]) {
        const res = labelArray({ data, shape }, { connectivity: c, member: { value: 1 }, blockShape: bs });
        expect(res.nComponents, `connectivity ${c}, blocks ${bs}`).toBe(expected[c]);
        expect(sizesOf(res).reduce((a, b) => a + b, 0)).toBe(8);
      }
  });

  it("streams a chunked zarr array (4^3 chunks) with the same closed-form answer", async () => {
    const { data, shape } = diagonalVolume();
    const arr = await ZarrArray.create(join(dir, "diag.zarr"), { shape, chunks: [4, 4, 4], dtype: "uint8" });
    await arr.write([0, 0, 0], { data, shape });
    const reopened = await ZarrArray.open(join(dir, "diag.zarr"));
    const expected: Record<Connectivity, number> = { 6: 7, 18: 5, 26: 4 };
    for (const c of CONNS) expect((await zarrArrayComponents(reopened, { value: 1, connectivity: c })).nComponents).toBe(expected[c]);
  });

  it("gives the same answer for every block order", async () => {
    const r = rng(3);
    const shape: [number, number, number] = [10, 11, 9];
    const data = Uint8Array.from({ length: 990 }, () => (r() < 0.3 ? 1 : 0));
    const whole = labelArray({ data, shape }, { connectivity: 26, member: { value: 1 }, blockShape: [10, 11, 9] });
    const blocks = [...arrayBlocks({ data, shape }, [3, 4, 2])];
    // Reverse and interleave: neighbours arrive before and after each other.
    const shuffled = blocks.filter((_, i) => i % 2 === 1).reverse().concat(blocks.filter((_, i) => i % 2 === 0));
    const res = await labelBlocks(shape, shuffled, { connectivity: 26, member: { value: 1 } });
    expect(res.nComponents).toBe(whole.nComponents);
    expect(sizesOf(res)).toEqual(sizesOf(whole));
  });

  it("labels a set of classes together", () => {
    const data = Uint8Array.from([1, 2, 0, 2, 2, 0, 1]);
    const res = labelArray({ data, shape: [1, 1, 7] }, { connectivity: 6, member: { values: [1, 2] }, blockShape: [1, 1, 2] });
    expect(sizesOf(res)).toEqual([2, 2, 1]);
  });

  it("rejects an unstated connectivity, blocks off the grid, gaps and repeats", async () => {
    const data = new Uint8Array(64);
    const shape: [number, number, number] = [4, 4, 4];
    expect(() => labelArray({ data, shape }, { connectivity: 8 as Connectivity, member: { value: 1 } })).toThrow(ParameterError);
    const read: Array<[number, number]> = [
      [0, 4],
      [0, 4],
      [0, 4],
    ];
    const b = (z0: number, z1: number) => ({ core: [[z0, z1], [0, 4], [0, 4]] as Array<[number, number]>, read, data: { data, shape } });
    await expect(labelBlocks(shape, [b(0, 2), b(1, 4)], { connectivity: 6, member: { value: 1 } })).rejects.toThrow(VolumeError);
    await expect(labelBlocks(shape, [b(0, 2)], { connectivity: 6, member: { value: 1 } })).rejects.toThrow(/do not cover/);
    await expect(labelBlocks(shape, [b(0, 2), b(0, 2), b(2, 4)], { connectivity: 6, member: { value: 1 } })).rejects.toThrow(/twice/);
  });
});

describe.skipIf(!havePeers)("connected components against scipy.ndimage.label and skimage.measure.label", () => {
  type Case = { name: string; shape: [number, number, number]; data: Uint8Array };
  const cases: Case[] = [];
  const r = rng(11);
  for (const [i, p] of [0.15, 0.3, 0.45].entries()) {
    const shape: [number, number, number] = [19 + i, 23, 17 + 2 * i];
    const n = shape[0] * shape[1] * shape[2];
    cases.push({ name: `random p=${p}`, shape, data: Uint8Array.from({ length: n }, () => { const u = r(); return u < p ? 1 : u < p + 0.25 ? 2 : 0; }) });
  }
  // Sparse diagonal chains: each voxel touches the next only through an edge or a corner, crossing many blocks.
  {
    const shape: [number, number, number] = [24, 24, 24];
    const data = new Uint8Array(24 ** 3);
    for (let k = 0; k < 60; k++) {
      let z = Math.floor(r() * 24);
      let y = Math.floor(r() * 24);
      let x = Math.floor(r() * 24);
      for (let s = 0; s < 12; s++) {
        data[(z * 24 + y) * 24 + x] = 1;
        z = Math.min(23, Math.max(0, z + (r() < 0.5 ? 1 : -1)));
        y = Math.min(23, Math.max(0, y + (r() < 0.5 ? 1 : -1)));
        if (r() < 0.5) x = Math.min(23, Math.max(0, x + (r() < 0.5 ? 1 : -1)));
      }
    }
    cases.push({ name: "diagonal chains", shape, data });
  }
  cases.push({ name: "block corners", ...diagonalVolume() });

  const script = `
import sys, json, numpy as np, scipy.ndimage as ndi, skimage.measure as skm
path, shape = sys.argv[1], json.loads(sys.argv[2])
m = np.fromfile(path, dtype=np.uint8).reshape(shape) == 1
out = {}
for c, k in ((6, 1), (18, 2), (26, 3)):
    lab, n = ndi.label(m, ndi.generate_binary_structure(3, k))
    sk = skm.label(m, connectivity=k)
    out[c] = {"n": int(n), "sizes": np.bincount(lab.ravel())[1:].tolist(),
              "sk_n": int(sk.max()), "sk_sizes": np.bincount(sk.ravel())[1:].tolist()}
print(json.dumps(out))
`;
  mkdirSync(dir, { recursive: true });
  for (const cs of cases) {
    it(`${cs.name}: same count and sizes for 6, 18, 26`, () => {
      const path = join(dir, `${cs.name.replace(/\W+/g, "_")}.u8`);
      writeFileSync(path, cs.data);
      const peer = JSON.parse(runPython(script, [path, JSON.stringify(cs.shape)])) as Record<string, { n: number; sizes: number[]; sk_n: number; sk_sizes: number[] }>;
      for (const c of CONNS) {
        const p = peer[String(c)]!;
        // skimage and scipy must agree with each other too, or the peer itself is in doubt.
        expect(p.sk_n).toBe(p.n);
        for (const bs of [
          [4, 4, 4],
          [5, 3, 7],
          [2, 2, 2],
          [64, 64, 64],
        ]) {
          const res = labelArray({ data: cs.data, shape: cs.shape }, { connectivity: c, member: { value: 1 }, blockShape: bs });
          const ours = sizesOf(res);
          expect(res.nComponents, `${cs.name} conn ${c} blocks ${bs}`).toBe(p.n);
          expect([...ours].sort((a, b) => a - b)).toEqual([...p.sizes].sort((a, b) => a - b));
          expect([...ours].sort((a, b) => a - b)).toEqual([...p.sk_sizes].sort((a, b) => a - b));
          // Components are numbered by first voxel in C order, as both peers number them.
          expect(ours).toEqual(p.sizes);
        }
        // Retiring finished components after every block (compaction) changes nothing.
        const compacted = labelArray({ data: cs.data, shape: cs.shape }, { connectivity: c, member: { value: 1 }, blockShape: [3, 4, 5], compactSlack: 0 });
        expect(sizesOf(compacted)).toEqual(p.sizes);
      }
    });
  }
});
