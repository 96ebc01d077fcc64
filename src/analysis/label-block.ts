/**
 * In-memory connected-component labelling of one block, run-based.
 *
 * A block's foreground is cut into runs along x (maximal stretches of member voxels in a row). Runs of a row are
 * joined with the overlapping runs of the already scanned neighbour rows, (z, y-1), (z-1, y-1), (z-1, y) and
 * (z-1, y+1), with a one-voxel x tolerance where the connectivity allows a diagonal step. The union-find works on
 * runs, not voxels, so its size is the number of runs. Statistics are accumulated per run (a run's x sum is an
 * arithmetic series), so no per-voxel label image is ever built; only the six core faces are kept as label planes
 * for merging with neighbouring blocks.
 */
import type { TypedArray } from "../volume/index.js";
import { StatsColumns } from "./stats.js";

export type Connectivity = 6 | 18 | 26;

/** Depth of voxel centres from an interface surface given per (y, x) column. */
export interface DepthSpec {
  /** Interface position per column of the whole volume (length Y * X, C order), in voxel-edge z units. */
  interfaceZ: Float64Array;
  /** Volume size along x (row stride of interfaceZ). */
  sizeX: number;
  /** Voxel size along z (um). */
  voxelZ_um: number;
  /** +1: depth grows with z (plating electrode at low z); -1: depth grows towards low z. */
  direction: 1 | -1;
}

/** Selects member voxels: a single class value or a set of them. */
export type Membership = { value: number } | { values: readonly number[] };

export interface BlockInput {
  data: TypedArray;
  /** Shape (z, y, x) of the array `data` holds (the block's read region). */
  dataShape: readonly number[];
  /** Offset of the core inside `data`. */
  coreOffset: readonly number[];
  /** Shape of the core. */
  coreShape: readonly number[];
  /** Global index of the core's first voxel. */
  origin: readonly number[];
  /** Global volume shape (for first-voxel indices). */
  volumeShape: readonly number[];
  /** Auxiliary volume laid out like `data`; member voxels where it equals `overlapValue` are counted. */
  overlap?: TypedArray;
  overlapValue?: number;
}

/** Face planes of a block core: 0 = not a member, otherwise local component index + 1. */
export interface FacePlanes {
  /** [z-low, z-high, y-low, y-high, x-low, x-high]; z planes are (y, x), y planes (z, x), x planes (z, y). */
  planes: Int32Array[];
}

export interface BlockResult extends FacePlanes {
  nComponents: number;
  stats: StatsColumns;
}

/** Reusable scratch buffers: one per labeller, so blocks do not allocate. */
export class RunScratch {
  rs = new Int32Array(1024);
  re = new Int32Array(1024);
  parent = new Int32Array(1024);
  comp = new Int32Array(1024);
  rowPtr = new Int32Array(1024);

  ensureRuns(n: number): void {
    if (this.rs.length >= n) return;
    const cap = Math.max(n, Math.ceil(this.rs.length * 1.5));
    const g = (a: Int32Array) => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.rs = g(this.rs);
    this.re = g(this.re);
    this.parent = new Int32Array(cap);
    this.comp = new Int32Array(cap);
  }
  ensureRows(n: number): void {
    if (this.rowPtr.length < n) this.rowPtr = new Int32Array(n);
  }
}

function find(p: Int32Array, i: number): number {
  while (p[i] !== i) {
    const g = p[p[i]!]!;
    p[i] = g;
    i = g;
  }
  return i;
}

/** Joins the overlapping runs of two rows; `k` = 1 lets runs touch diagonally in x. */
function joinRows(rs: Int32Array, re: Int32Array, p: Int32Array, a0: number, a1: number, b0: number, b1: number, k: number): void {
  let i = a0;
  let j = b0;
  while (i < a1 && j < b1) {
    const e1 = re[i]!;
    const e2 = re[j]!;
    if (e1 + k <= rs[j]!) {
      i++;
      continue;
    }
    if (e2 + k <= rs[i]!) {
      j++;
      continue;
    }
    let ra = find(p, i);
    let rb = find(p, j);
    if (ra !== rb) {
      // The smaller run index becomes the root, so a root always precedes its members in scan order.
      if (ra < rb) p[rb] = ra;
      else p[ra] = rb;
    }
    if (e1 < e2) i++;
    else j++;
  }
}

/** Sum of overlaps (exact, no diagonal) between runs of two rows, credited to each run's component face count. */
function subtractOverlaps(
  rs: Int32Array,
  re: Int32Array,
  comp: Int32Array,
  face: Float64Array,
  a0: number,
  a1: number,
  b0: number,
  b1: number,
): void {
  let i = a0;
  let j = b0;
  while (i < a1 && j < b1) {
    const lo = Math.max(rs[i]!, rs[j]!);
    const hi = Math.min(re[i]!, re[j]!);
    if (hi > lo) {
      // Face-adjacent member voxels always share a component, so both sides lose the shared face.
      face[comp[i]!] = (face[comp[i]!] ?? 0) - (2 * (hi - lo));
    }
    if (re[i]! < re[j]!) i++;
    else j++;
  }
}

/** Scans the core of a block into runs; returns the run count. */
function scanRuns(input: BlockInput, member: Membership, s: RunScratch): number {
  const { data, dataShape, coreOffset, coreShape } = input;
  const [nz, ny, nx] = coreShape as [number, number, number];
  const sy = dataShape[2]!;
  const sz = dataShape[1]! * sy;
  const nRows = nz * ny;
  s.ensureRows(nRows + 1);
  // Worst case: every other voxel of every row starts a run.
  s.ensureRuns(Math.min(nRows * ((nx + 1) >> 1), Math.max(1024, nRows * 4)));
  let rs = s.rs;
  let re = s.re;
  const rowPtr = s.rowPtr;
  let n = 0;
  const single = "value" in member;
  const v = single ? member.value : 0;
  const set = single ? null : new Set(member.values);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      rowPtr[z * ny + y] = n;
      const base = (z + coreOffset[0]!) * sz + (y + coreOffset[1]!) * sy + coreOffset[2]!;
      const end = base + nx;
      let i = base;
      if (n + ((nx + 1) >> 1) > rs.length) {
        s.ensureRuns(n + ((nx + 1) >> 1) + nRows);
        rs = s.rs;
        re = s.re;
      }
      if (set === null) {
        while (i < end) {
          while (i < end && data[i] !== v) i++;
          if (i >= end) break;
          const st = i;
          while (i < end && data[i] === v) i++;
          rs[n] = st - base;
          re[n] = i - base;
          n++;
        }
      } else {
        while (i < end) {
          while (i < end && !set.has(data[i]!)) i++;
          if (i >= end) break;
          const st = i;
          while (i < end && set.has(data[i]!)) i++;
          rs[n] = st - base;
          re[n] = i - base;
          n++;
        }
      }
    }
  }
  rowPtr[nRows] = n;
  return n;
}

/**
 * Labels the members of one block core. Component statistics use global voxel coordinates. Faces of exposed
 * voxels are counted inside the core only; faces on the core's boundary are left to the caller, who sees the
 * neighbouring block (or the volume border).
 */
export function labelBlock(
  input: BlockInput,
  member: Membership,
  connectivity: Connectivity,
  stats: StatsColumns,
  scratch: RunScratch,
  depth?: DepthSpec,
): BlockResult {
  const [nz, ny, nx] = input.coreShape as [number, number, number];
  const [oz, oy, ox] = input.origin as [number, number, number];
  const VY = input.volumeShape[1]!;
  const VX = input.volumeShape[2]!;
  const nRuns = scanRuns(input, member, scratch);
  const { rs, re, rowPtr } = scratch;
  const p = scratch.parent;
  for (let r = 0; r < nRuns; r++) p[r] = r;

  const kPlane = connectivity === 6 ? 0 : 1;
  const kDiag = connectivity === 26 ? 1 : 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = z * ny + y;
      const a0 = rowPtr[row]!;
      const a1 = rowPtr[row + 1]!;
      if (a0 === a1) continue;
      if (y > 0) joinRows(rs, re, p, a0, a1, rowPtr[row - 1]!, rowPtr[row]!, kPlane);
      if (z > 0) {
        const up = row - ny;
        joinRows(rs, re, p, a0, a1, rowPtr[up]!, rowPtr[up + 1]!, kPlane);
        if (connectivity !== 6) {
          if (y > 0) joinRows(rs, re, p, a0, a1, rowPtr[up - 1]!, rowPtr[up]!, kDiag);
          if (y < ny - 1) joinRows(rs, re, p, a0, a1, rowPtr[up + 1]!, rowPtr[up + 2]!, kDiag);
        }
      }
    }
  }

  // Component numbers in scan order; a root precedes its members, so its number is already set.
  stats.size = 0;
  const comp = scratch.comp;
  const flags = stats.flags;
  const aux = flags.overlap ? input.overlap : undefined;
  const auxValue = input.overlapValue ?? 1;
  const sy = input.dataShape[2]!;
  const sz = input.dataShape[1]! * sy;
  const [co0, co1, co2] = input.coreOffset as [number, number, number];
  let nComp = 0;
  for (let z = 0; z < nz; z++) {
    const gz = oz + z;
    for (let y = 0; y < ny; y++) {
      const gy = oy + y;
      const row = z * ny + y;
      for (let r = rowPtr[row]!, r1 = rowPtr[row + 1]!; r < r1; r++) {
        let c: number;
        if (p[r] === r) {
          c = stats.push((gz * VY + gy) * VX + ox + rs[r]!);
          nComp++;
        } else c = comp[find(p, r)]!;
        comp[r] = c;
        const x0 = ox + rs[r]!;
        const x1 = ox + re[r]! - 1;
        stats.addRun(c, gz, gy, x0, x1);
        if (flags.depth && depth) {
          const dir = depth.direction;
          const dz = depth.voxelZ_um;
          const zc = gz + 0.5;
          const rowBase = gy * depth.sizeX;
          let sum = 0;
          let mn = stats.minDepth[c]!;
          for (let x = x0; x <= x1; x++) {
            const d = dir * (zc - depth.interfaceZ[rowBase + x]!) * dz;
            sum += d;
            if (d < mn) mn = d;
          }
          stats.sumDepth[c] = (stats.sumDepth[c] ?? 0) + sum;
          stats.minDepth[c] = mn;
        }
        if (aux) {
          const base = (z + co0) * sz + (y + co1) * sy + co2;
          let k = 0;
          for (let i = base + rs[r]!, e = base + re[r]!; i < e; i++) if (aux[i] === auxValue) k++;
          stats.overlap[c] = (stats.overlap[c] ?? 0) + k;
        }
      }
    }
  }

  if (flags.surface) countInteriorFaces(nz, ny, nx, rs, re, comp, rowPtr, stats);

  return { nComponents: nComp, stats, planes: facePlanes(nz, ny, nx, rs, re, comp, rowPtr) };
}

function countInteriorFaces(
  nz: number,
  ny: number,
  nx: number,
  rs: Int32Array,
  re: Int32Array,
  comp: Int32Array,
  rowPtr: Int32Array,
  stats: StatsColumns,
): void {
  const { faceX, faceY, faceZ } = stats;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const row = z * ny + y;
      const a0 = rowPtr[row]!;
      const a1 = rowPtr[row + 1]!;
      if (a0 === a1) continue;
      const yFaces = (y > 0 ? 1 : 0) + (y < ny - 1 ? 1 : 0);
      const zFaces = (z > 0 ? 1 : 0) + (z < nz - 1 ? 1 : 0);
      for (let r = a0; r < a1; r++) {
        const c = comp[r]!;
        const len = re[r]! - rs[r]!;
        faceY[c] = (faceY[c] ?? 0) + (len * yFaces);
        faceZ[c] = (faceZ[c] ?? 0) + (len * zFaces);
        // Runs are maximal, so a run end inside the core always faces a non-member voxel.
        faceX[c] = (faceX[c] ?? 0) + ((rs[r]! > 0 ? 1 : 0) + (re[r]! < nx ? 1 : 0));
      }
      if (y > 0) subtractOverlaps(rs, re, comp, faceY, a0, a1, rowPtr[row - 1]!, a0);
      if (z > 0) subtractOverlaps(rs, re, comp, faceZ, a0, a1, rowPtr[row - ny]!, rowPtr[row - ny + 1]!);
    }
  }
}

function facePlanes(
  nz: number,
  ny: number,
  nx: number,
  rs: Int32Array,
  re: Int32Array,
  comp: Int32Array,
  rowPtr: Int32Array,
): Int32Array[] {
  const z0 = new Int32Array(ny * nx);
  const z1 = new Int32Array(ny * nx);
  const y0 = new Int32Array(nz * nx);
  const y1 = new Int32Array(nz * nx);
  const x0 = new Int32Array(nz * ny);
  const x1 = new Int32Array(nz * ny);
  const fillRow = (row: number, plane: Int32Array, off: number) => {
    for (let r = rowPtr[row]!, r1 = rowPtr[row + 1]!; r < r1; r++) plane.fill(comp[r]! + 1, off + rs[r]!, off + re[r]!);
  };
  for (let y = 0; y < ny; y++) {
    fillRow(y, z0, y * nx);
    fillRow((nz - 1) * ny + y, z1, y * nx);
  }
  for (let z = 0; z < nz; z++) {
    fillRow(z * ny, y0, z * nx);
    fillRow(z * ny + ny - 1, y1, z * nx);
    for (let y = 0; y < ny; y++) {
      const row = z * ny + y;
      const a0 = rowPtr[row]!;
      const a1 = rowPtr[row + 1]!;
      if (a0 === a1) continue;
      if (rs[a0] === 0) x0[z * ny + y] = comp[a0]! + 1;
      if (re[a1 - 1] === nx) x1[z * ny + y] = comp[a1 - 1]! + 1;
    }
  }
  return [z0, z1, y0, y1, x0, x1];
}
