/**
 * Copies an n-dimensional box between two C-ordered arrays. Trailing axes that are whole in both arrays and in the
 * box merge into one contiguous run, so a box of full rows or planes moves with one `set` call instead of one per row.
 */
import type { TypedArray } from "./types.js";

export function copyBox(
  src: TypedArray,
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: TypedArray,
  dstShape: readonly number[],
  dstStart: readonly number[],
  extent: readonly number[],
): void {
  const n = extent.length;
  if (n === 0) {
    dst[0] = src[0]!;
    return;
  }
  for (const e of extent) if (e <= 0) return;
  // Merge trailing axes while the box spans them completely in both arrays.
  let runAxes = 1;
  let run = extent[n - 1]!;
  while (runAxes < n) {
    const ax = n - runAxes;
    if (extent[ax] !== srcShape[ax] || extent[ax] !== dstShape[ax]) break;
    run *= extent[ax - 1]!;
    runAxes++;
  }
  const outer = n - runAxes;
  const srcStrides = strides(srcShape);
  const dstStrides = strides(dstShape);
  let srcBase = 0;
  let dstBase = 0;
  for (let a = 0; a < n; a++) {
    srcBase += srcStart[a]! * srcStrides[a]!;
    dstBase += dstStart[a]! * dstStrides[a]!;
  }
  if (outer === 0) {
    dst.set(src.subarray(srcBase, srcBase + run) as never, dstBase);
    return;
  }
  const idx = new Array<number>(outer).fill(0);
  const sameKind = src.constructor === dst.constructor;
  for (;;) {
    let so = srcBase;
    let d = dstBase;
    for (let a = 0; a < outer; a++) {
      so += idx[a]! * srcStrides[a]!;
      d += idx[a]! * dstStrides[a]!;
    }
    if (sameKind && run >= 16) dst.set(src.subarray(so, so + run) as never, d);
    else for (let i = 0; i < run; i++) dst[d + i] = src[so + i]!;
    let a = outer - 1;
    while (a >= 0) {
      if (++idx[a]! < extent[a]!) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0) return;
  }
}

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Fills a box of a C-ordered array with one value. */
export function fillBox(dst: TypedArray, dstShape: readonly number[], dstStart: readonly number[], extent: readonly number[], value: number): void {
  const n = extent.length;
  for (const e of extent) if (e <= 0) return;
  const st = strides(dstShape);
  let runAxes = 1;
  let run = extent[n - 1]!;
  while (runAxes < n && extent[n - runAxes] === dstShape[n - runAxes]) {
    run *= extent[n - runAxes - 1]!;
    runAxes++;
  }
  const outer = n - runAxes;
  let base = 0;
  for (let a = 0; a < n; a++) base += dstStart[a]! * st[a]!;
  const idx = new Array<number>(outer).fill(0);
  for (;;) {
    let d = base;
    for (let a = 0; a < outer; a++) d += idx[a]! * st[a]!;
    dst.fill(value, d, d + run);
    let a = outer - 1;
    while (a >= 0) {
      if (++idx[a]! < extent[a]!) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0) return;
  }
}
