/**
 * Copies and fills n-dimensional boxes of C-ordered arrays. Trailing axes that the box spans completely (in both
 * arrays) merge into one contiguous run, and axes the box spans once drop out, so a box of full rows or planes moves
 * with a few `set` calls instead of one per row.
 */
import type { TypedArray } from "./types.js";

export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** A box reduced to contiguous runs: `run` elements at every combination of the outer axes. */
export interface BoxPlan {
  run: number;
  /** Extent, source stride and destination stride of each outer axis (only axes with extent > 1). */
  outerExtent: number[];
  srcStride: number[];
  dstStride: number[];
  srcBase: number;
  dstBase: number;
}

/** Plans a copy of `extent` from srcStart in srcShape to dstStart in dstShape; null if the box is empty. */
export function planBox(
  srcShape: readonly number[],
  srcStart: readonly number[],
  dstShape: readonly number[],
  dstStart: readonly number[],
  extent: readonly number[],
): BoxPlan | null {
  const n = extent.length;
  for (const e of extent) if (e <= 0) return null;
  const ss = strides(srcShape);
  const ds = strides(dstShape);
  let srcBase = 0;
  let dstBase = 0;
  for (let a = 0; a < n; a++) {
    srcBase += srcStart[a]! * ss[a]!;
    dstBase += dstStart[a]! * ds[a]!;
  }
  if (n === 0) return { run: 1, outerExtent: [], srcStride: [], dstStride: [], srcBase, dstBase };
  let runAxes = 1;
  let run = extent[n - 1]!;
  while (runAxes < n && extent[n - runAxes] === srcShape[n - runAxes] && extent[n - runAxes] === dstShape[n - runAxes]) {
    run *= extent[n - runAxes - 1]!;
    runAxes++;
  }
  const plan: BoxPlan = { run, outerExtent: [], srcStride: [], dstStride: [], srcBase, dstBase };
  for (let a = 0; a < n - runAxes; a++) {
    if (extent[a]! === 1) continue;
    plan.outerExtent.push(extent[a]!);
    plan.srcStride.push(ss[a]!);
    plan.dstStride.push(ds[a]!);
  }
  return plan;
}

/** Calls fn(srcOffset, dstOffset) for every run of the plan, in C order. */
export function forEachRun(plan: BoxPlan, fn: (src: number, dst: number) => void): void {
  const { outerExtent: ext, srcStride: ss, dstStride: ds } = plan;
  const outer = ext.length;
  if (outer === 0) return fn(plan.srcBase, plan.dstBase);
  if (outer <= 2) {
    // The common 3D case (z, y outer; x the run) without index bookkeeping.
    const n0 = ext[0]!, s0 = ss[0]!, d0 = ds[0]!;
    const n1 = outer === 2 ? ext[1]! : 1, s1 = outer === 2 ? ss[1]! : 0, d1 = outer === 2 ? ds[1]! : 0;
    for (let i = 0; i < n0; i++) {
      let s = plan.srcBase + i * s0;
      let d = plan.dstBase + i * d0;
      for (let j = 0; j < n1; j++, s += s1, d += d1) fn(s, d);
    }
    return;
  }
  const idx = new Array<number>(outer).fill(0);
  for (;;) {
    let s = plan.srcBase;
    let d = plan.dstBase;
    for (let a = 0; a < outer; a++) {
      s += idx[a]! * ss[a]!;
      d += idx[a]! * ds[a]!;
    }
    fn(s, d);
    let a = outer - 1;
    while (a >= 0) {
      if (++idx[a]! < ext[a]!) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0) return;
  }
}

export function copyBox(
  src: TypedArray,
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: TypedArray,
  dstShape: readonly number[],
  dstStart: readonly number[],
  extent: readonly number[],
): void {
  const plan = planBox(srcShape, srcStart, dstShape, dstStart, extent);
  if (!plan) return;
  const run = plan.run;
  const sameKind = src.constructor === dst.constructor;
  forEachRun(plan, (s, d) => {
    if (sameKind && run >= 16) dst.set(src.subarray(s, s + run) as never, d);
    else for (let i = 0; i < run; i++) dst[d + i] = src[s + i]!;
  });
}

/** Fills a box of a C-ordered array with one value. */
export function fillBox(dst: TypedArray, dstShape: readonly number[], dstStart: readonly number[], extent: readonly number[], value: number): void {
  const plan = planBox(dstShape, dstStart, dstShape, dstStart, extent);
  if (!plan) return;
  forEachRun(plan, (_, d) => dst.fill(value, d, d + plan.run));
}

/**
 * Writes `src`, a chunk of `shape` stored in Fortran order (first axis fastest), into `dst` in C order. Runs along
 * the last axis read `src` with a stride; the others advance by odometer, so the cost is one move per element.
 */
export function transposeFToC(src: TypedArray, dst: TypedArray, shape: readonly number[]): void {
  const n = shape.length;
  if (n === 0) {
    dst[0] = src[0]!;
    return;
  }
  // Fortran strides: axis 0 has stride 1.
  const fs = new Array<number>(n);
  let acc = 1;
  for (let a = 0; a < n; a++) {
    fs[a] = acc;
    acc *= shape[a]!;
  }
  if (acc === 0) return;
  const last = shape[n - 1]!;
  const sLast = fs[n - 1]!;
  if (n === 3) {
    // The common 3D chunk as plain loops.
    const [n0, n1] = [shape[0]!, shape[1]!];
    const s1 = fs[1]!;
    let d = 0;
    for (let i = 0; i < n0; i++)
      for (let j = 0; j < n1; j++) {
        let s = i + j * s1;
        for (let k = 0; k < last; k++, s += sLast) dst[d++] = src[s]!;
      }
    return;
  }
  const idx = new Array<number>(n - 1).fill(0);
  let d = 0;
  for (;;) {
    let s = 0;
    for (let a = 0; a < n - 1; a++) s += idx[a]! * fs[a]!;
    for (let k = 0; k < last; k++, s += sLast) dst[d++] = src[s]!;
    let a = n - 2;
    while (a >= 0) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
      a--;
    }
    if (a < 0) return;
  }
}
