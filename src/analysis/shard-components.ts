/**
 * Connected components of one z slab of a label volume, in a form that slabs computed apart (shards of a job,
 * on other machines) can be joined exactly: the slab's components with additive statistics (voxel count, sums of
 * the coordinates, bounding box, first voxel in C order) and the component of every voxel of its first and last z
 * planes. Joining adjacent slabs unites the components that touch across their shared face with the offsets the
 * connectivity allows; sums, minima and maxima then combine exactly, so any split into slabs gives the same table
 * as one slab covering the volume (the tests check it, and check one slab against ComponentLabeller).
 *
 * Memory: two planes and the per-label statistics (one entry per provisional label: a new label starts at every
 * voxel with no labelled neighbour before it), never the slab.
 */
import { DisjointSets } from "../numerics/disjoint-sets.js";
import { ParameterError } from "../util/errors.js";
import type { Connectivity } from "./label-block.js";

/** Additive statistics of the components of a slab (column-wise; index = component). */
export interface SlabComponents {
  count: number[];
  sumZ: number[];
  sumY: number[];
  sumX: number[];
  zMin: number[];
  zMax: number[];
  yMin: number[];
  yMax: number[];
  xMin: number[];
  xMax: number[];
  /** Linear index (z Y X + y X + x, global z) of the component's first voxel in C order. */
  first: number[];
}

export interface SlabResult {
  z0: number;
  z1: number;
  components: SlabComponents;
  /** Component + 1 of each voxel of the first / last plane of the slab (0: not a member), row-major Y x X. */
  firstPlane: Int32Array;
  lastPlane: Int32Array;
}

/** (dy, dx) offsets to the previous plane (dz = -1) that the connectivity allows. */
export function crossOffsets(connectivity: Connectivity): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let dy = -1; dy <= 1; dy++)
    for (let dx = -1; dx <= 1; dx++) {
      const nz = 1 + (dy ? 1 : 0) + (dx ? 1 : 0);
      if (nz <= (connectivity === 6 ? 1 : connectivity === 18 ? 2 : 3)) out.push([dy, dx]);
    }
  return out;
}

/** In-plane offsets to voxels already visited in raster order. */
function planeOffsets(connectivity: Connectivity): Array<[number, number]> {
  return connectivity === 6
    ? [
        [0, -1],
        [-1, 0],
      ]
    : [
        [0, -1],
        [-1, -1],
        [-1, 0],
        [-1, 1],
      ];
}

export function checkConnectivity(c: unknown): asserts c is Connectivity {
  if (c !== 6 && c !== 18 && c !== 26) throw new ParameterError("connectivity must be 6, 18 or 26", { field: "connectivity", expected: "6 (faces), 18 (+ edges) or 26 (+ corners)", got: String(c) });
}

/** Plane-sweep labelling of slab [z0, z1): feed planes in z order with `addPlane`, then `finish`. */
export class SlabLabeller {
  private readonly sets = new DisjointSets(1); // label 0 is background
  private readonly st: SlabComponents = { count: [0], sumZ: [0], sumY: [0], sumX: [0], zMin: [0], zMax: [0], yMin: [0], yMax: [0], xMin: [0], xMax: [0], first: [0] };
  private prev: Int32Array;
  private cur: Int32Array;
  private firstPlane: Int32Array | null = null;
  private z: number;
  private readonly cross: Array<[number, number]>;
  private readonly inPlane: Array<[number, number]>;

  constructor(
    readonly shapeYX: [number, number],
    readonly z0: number,
    readonly z1: number,
    readonly connectivity: Connectivity,
    private readonly isMember: (value: number) => boolean,
  ) {
    checkConnectivity(connectivity);
    this.prev = new Int32Array(shapeYX[0] * shapeYX[1]);
    this.cur = new Int32Array(shapeYX[0] * shapeYX[1]);
    this.z = z0;
    this.cross = crossOffsets(connectivity);
    this.inPlane = planeOffsets(connectivity);
  }

  private find(i: number): number {
    return this.sets.find(i);
  }

  private union(a: number, b: number): number {
    // The smaller (earlier) label is the root: it does not matter for the result, only for speed.
    return this.sets.union(a, b);
  }

  private newLabel(z: number, y: number, x: number, linear: number): number {
    const id = this.sets.add();
    const s = this.st;
    s.count.push(0);
    s.sumZ.push(0);
    s.sumY.push(0);
    s.sumX.push(0);
    s.zMin.push(z);
    s.zMax.push(z);
    s.yMin.push(y);
    s.yMax.push(y);
    s.xMin.push(x);
    s.xMax.push(x);
    s.first.push(linear);
    return id;
  }

  /** Adds plane z (the next one) from `data` at `offset` (row-major Y x X values). */
  addPlane(data: ArrayLike<number>, offset = 0): void {
    const [Y, X] = this.shapeYX;
    const z = this.z++;
    if (z >= this.z1) throw new ParameterError("more planes than the slab holds", { field: "z", expected: `< ${this.z1}`, got: String(z) });
    const cur = this.cur;
    const prev = this.prev;
    const hasPrev = z > this.z0;
    const s = this.st;
    const planeBase = z * Y * X;
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++) {
        const i = y * X + x;
        if (!this.isMember(data[offset + i]!)) {
          cur[i] = 0;
          continue;
        }
        let label = 0;
        for (const [dy, dx] of this.inPlane) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || xx < 0 || xx >= X) continue;
          const l = cur[yy * X + xx]!;
          if (l) label = label ? this.union(label, l) : l;
        }
        if (hasPrev)
          for (const [dy, dx] of this.cross) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= Y || xx < 0 || xx >= X) continue;
            const l = prev[yy * X + xx]!;
            if (l) label = label ? this.union(label, l) : l;
          }
        if (!label) label = this.newLabel(z, y, x, planeBase + i);
        cur[i] = label;
        // Statistics go to the voxel's own label; finish() folds labels into their roots.
        s.count[label]! += 1;
        s.sumZ[label]! += z;
        s.sumY[label]! += y;
        s.sumX[label]! += x;
        if (z > s.zMax[label]!) s.zMax[label] = z;
        if (y < s.yMin[label]!) s.yMin[label] = y;
        if (y > s.yMax[label]!) s.yMax[label] = y;
        if (x < s.xMin[label]!) s.xMin[label] = x;
        if (x > s.xMax[label]!) s.xMax[label] = x;
      }
    }
    if (z === this.z0) this.firstPlane = Int32Array.from(cur);
    this.prev = cur;
    this.cur = prev;
  }

  finish(): SlabResult {
    if (this.z !== this.z1) throw new ParameterError("the slab is missing planes", { field: "z", expected: `${this.z1 - this.z0} planes`, got: String(this.z - this.z0) });
    const s = this.st;
    const index = new Int32Array(this.sets.size); // root label -> component + 1
    const out: SlabComponents = { count: [], sumZ: [], sumY: [], sumX: [], zMin: [], zMax: [], yMin: [], yMax: [], xMin: [], xMax: [], first: [] };
    for (let l = 1; l < this.sets.size; l++) {
      const r = this.find(l);
      let c = index[r]! - 1;
      if (c < 0) {
        c = out.count.length;
        index[r] = c + 1;
        for (const k of Object.keys(out) as Array<keyof SlabComponents>) out[k].push(s[k][l]!);
        continue;
      }
      mergeInto(out, c, s, l);
    }
    const relabel = (plane: Int32Array) => plane.map((l) => (l ? index[this.find(l)]! : 0));
    // this.prev holds the last plane after the final swap.
    return { z0: this.z0, z1: this.z1, components: out, firstPlane: relabel(this.firstPlane ?? new Int32Array(this.prev.length)), lastPlane: relabel(this.prev) };
  }
}

/** Adds component j of `src` into component i of `dst`. */
export function mergeInto(dst: SlabComponents, i: number, src: SlabComponents, j: number): void {
  dst.count[i]! += src.count[j]!;
  dst.sumZ[i]! += src.sumZ[j]!;
  dst.sumY[i]! += src.sumY[j]!;
  dst.sumX[i]! += src.sumX[j]!;
  dst.zMin[i] = Math.min(dst.zMin[i]!, src.zMin[j]!);
  dst.zMax[i] = Math.max(dst.zMax[i]!, src.zMax[j]!);
  dst.yMin[i] = Math.min(dst.yMin[i]!, src.yMin[j]!);
  dst.yMax[i] = Math.max(dst.yMax[i]!, src.yMax[j]!);
  dst.xMin[i] = Math.min(dst.xMin[i]!, src.xMin[j]!);
  dst.xMax[i] = Math.max(dst.xMax[i]!, src.xMax[j]!);
  dst.first[i] = Math.min(dst.first[i]!, src.first[j]!);
}

/**
 * Joins the slabs of one volume (any split into contiguous z ranges, given in any order) into its components,
 * numbered by first voxel in C order (as scipy and skimage number them).
 */
export function joinSlabs(slabs: readonly SlabResult[], shapeYX: [number, number], connectivity: Connectivity): SlabComponents {
  checkConnectivity(connectivity);
  // Empty slabs (more shards than chunk rows) hold nothing and would cut the faces their neighbours share.
  const sorted = slabs.filter((s) => s.z1 > s.z0).sort((a, b) => a.z0 - b.z0);
  for (let s = 1; s < sorted.length; s++)
    if (sorted[s]!.z0 !== sorted[s - 1]!.z1)
      throw new ParameterError("slabs do not tile the volume in z", { field: "slabs", expected: `a slab starting at z = ${sorted[s - 1]!.z1}`, got: `one starting at z = ${sorted[s]!.z0}` });
  const base: number[] = [];
  let total = 0;
  for (const sl of sorted) {
    base.push(total);
    total += sl.components.count.length;
  }
  const sets = new DisjointSets(total);
  const [Y, X] = shapeYX;
  const cross = crossOffsets(connectivity);
  for (let s = 1; s < sorted.length; s++) {
    const below = sorted[s - 1]!.lastPlane;
    const above = sorted[s]!.firstPlane;
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++) {
        const b = above[y * X + x]!;
        if (!b) continue;
        for (const [dy, dx] of cross) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= Y || xx < 0 || xx >= X) continue;
          const a = below[yy * X + xx]!;
          if (!a) continue;
          sets.union(base[s - 1]! + a - 1, base[s]! + b - 1);
        }
      }
  }
  const out: SlabComponents = { count: [], sumZ: [], sumY: [], sumX: [], zMin: [], zMax: [], yMin: [], yMax: [], xMin: [], xMax: [], first: [] };
  const index = new Int32Array(total);
  sorted.forEach((sl, s) => {
    for (let j = 0; j < sl.components.count.length; j++) {
      const r = sets.find(base[s]! + j);
      const c = index[r]! - 1;
      if (c < 0) {
        index[r] = out.count.length + 1;
        for (const k of Object.keys(out) as Array<keyof SlabComponents>) out[k].push(sl.components[k][j]!);
      } else mergeInto(out, c, sl.components, j);
    }
  });
  // Label order: by first voxel in C order (unique per component, so the order is the same for any split).
  const order = out.first.map((_, i) => i).sort((a, b) => out.first[a]! - out.first[b]!);
  return Object.fromEntries(Object.entries(out).map(([k, col]) => [k, order.map((i) => (col as number[])[i]!)])) as unknown as SlabComponents;
}
