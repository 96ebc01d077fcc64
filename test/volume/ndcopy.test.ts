/** Box copies and fills against a naive element-by-element reference on random shapes and boxes (1-5 D). */
import { describe, expect, it } from "vitest";
import { copyBox, fillBox } from "../../src/volume/ndcopy.js";
import { copyBoxWithin } from "../../src/volume/chunk-read.js";
import { rng } from "../helpers/tmp.js";

function naiveIndex(shape: number[], idx: number[]): number {
  let o = 0;
  for (let a = 0; a < shape.length; a++) o = o * shape[a]! + idx[a]!;
  return o;
}

function* boxIndices(extent: number[]): Generator<number[]> {
  const idx = extent.map(() => 0);
  if (extent.some((e) => e <= 0)) return;
  for (;;) {
    yield [...idx];
    let a = extent.length - 1;
    while (a >= 0 && ++idx[a]! >= extent[a]!) idx[a--] = 0;
    if (a < 0) return;
  }
}

describe("n-dimensional box copies", () => {
  it("copyBox, copyBoxWithin and fillBox match a naive loop on 300 random boxes", () => {
    const r = rng(42);
    const ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let trial = 0; trial < 300; trial++) {
      const nd = ri(1, 5);
      const srcShape = Array.from({ length: nd }, () => ri(1, 7));
      const dstShape = Array.from({ length: nd }, () => ri(1, 7));
      // Boxes that are often whole along trailing axes, to exercise run merging.
      const extent = srcShape.map((s, a) => (r() < 0.4 ? Math.min(s, dstShape[a]!) : ri(1, Math.min(s, dstShape[a]!))));
      const srcStart = extent.map((e, a) => ri(0, srcShape[a]! - e));
      const dstStart = extent.map((e, a) => ri(0, dstShape[a]! - e));
      const nSrc = srcShape.reduce((x, y) => x * y);
      const nDst = dstShape.reduce((x, y) => x * y);
      const src = new Uint16Array(nSrc).map((_, i) => (i * 7919 + trial) & 0xffff);
      const dst = new Uint16Array(nDst).map((_, i) => i % 13);
      const ref = dst.slice();
      for (const idx of boxIndices(extent))
        ref[naiveIndex(dstShape, idx.map((v, a) => v + dstStart[a]!))] = src[naiveIndex(srcShape, idx.map((v, a) => v + srcStart[a]!))]!;
      copyBox(src, srcShape, srcStart, dst, dstShape, dstStart, extent);
      expect(Array.from(dst), `copyBox trial ${trial}`).toEqual(Array.from(ref));

      // The same copy within one byte buffer: destination first, source (the "scratch") after it.
      const buf = new Uint8Array((nDst + nSrc) * 2);
      const view = new Uint16Array(buf.buffer);
      view.set(dst.map((_, i) => i % 13));
      view.set(src, nDst);
      copyBoxWithin(buf, nDst * 2, srcShape, srcStart, dstShape, dstStart, extent, 2);
      expect(Array.from(view.subarray(0, nDst)), `copyBoxWithin trial ${trial}`).toEqual(Array.from(ref));

      const filled = new Float32Array(nDst);
      fillBox(filled, dstShape, dstStart, extent, 3.5);
      let count = 0;
      for (const v of filled) if (v === 3.5) count++;
      expect(count).toBe(extent.reduce((x, y) => x * y));
    }
  });
});
