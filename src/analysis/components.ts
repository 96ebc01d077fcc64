/**
 * Exact, streaming 3D connected components over a chunked volume.
 *
 * Each block is labelled in memory (label-block.ts). Components that touch a face shared with another block get a
 * global id in a union-find; the block keeps its six core faces as planes of global ids until every neighbouring
 * block has been seen. When a block arrives, it is merged with each already seen neighbour across the shared face,
 * edge or corner (26 possible neighbours), using exactly the voxel offsets the connectivity allows. This is what
 * block-wise labellers that only compare faces miss: two voxels can touch across a block edge or corner only
 * (dask-image#321). Components that touch no shared face are final at once and go straight to the output.
 *
 * Blocks may come in any order and need only form a rectilinear grid (a chunk grid clipped at the volume's end).
 * Memory: the output table, the planes of blocks with unseen neighbours (one slab of blocks in scan order), and
 * the global union-find, which is compacted from time to time: components no waiting plane can reach are retired
 * to the output, so it too stays at the size of one slab of block faces.
 */
import { DisjointSets } from "../numerics/disjoint-sets.js";
import { ParameterError, VolumeError } from "../util/errors.js";
import type { NdArray, TypedArray } from "../volume/index.js";
import { labelBlock, RunScratch, type Connectivity, type DepthSpec, type Membership } from "./label-block.js";
import { propertyFlags, StatsColumns, type ComponentProperty } from "./stats.js";

export type { Connectivity, DepthSpec, Membership } from "./label-block.js";

/** One block of a label volume: its core region (global indices), the region read and its data. */
export interface LabelBlock {
  core: Array<[number, number]>;
  read: Array<[number, number]>;
  data: NdArray<TypedArray>;
  /** Auxiliary data over the same read region, for `overlap` counts. */
  aux?: NdArray<TypedArray>;
}

export interface ComponentOptions {
  /** 6 (faces), 18 (faces + edges) or 26 (faces + edges + corners): always explicit. */
  connectivity: Connectivity;
  /** Class value(s) whose voxels form components. */
  member: Membership;
  /** Properties to compute beyond the voxel count. `depth` needs `depth`; `surface` uses `voxelSizeUm`. */
  properties?: ComponentProperty[];
  depth?: DepthSpec;
  /** Count, per component, the member voxels whose auxiliary block value (`LabelBlock.aux`) equals `value`. */
  overlap?: { value: number };
  /** Growth of the cross-block union-find (ids) between compactions (default 65536; small values for tests). */
  compactSlack?: number;
}

/** Components in scipy/skimage label order (by first voxel in C order); coordinates are voxel indices. */
export interface ComponentResult {
  connectivity: Connectivity;
  shape: [number, number, number];
  nComponents: number;
  stats: StatsColumns;
}

interface BlockRecord {
  start: [number, number, number];
  end: [number, number, number];
  /** Face planes of global ids (null where the face is on the volume border). */
  planes: Array<Int32Array | null>;
  seen: number;
  expected: number;
}

const DIRS: Array<[number, number, number]> = [];
for (let dz = -1; dz <= 1; dz++) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if (dz || dy || dx) DIRS.push([dz, dy, dx]);

/** Union-find over global ids (1-based; 0 = none) with component statistics at the roots. */
class GlobalSets {
  private readonly sets = new DisjointSets(1, 1.5); // id 0 is "no component"
  constructor(readonly stats: StatsColumns) {
    stats.push(Infinity);
  }
  get n(): number {
    return this.sets.size;
  }
  add(src: StatsColumns, j: number): number {
    if (this.sets.size >= 2 ** 31 - 1) throw new VolumeError("too many components cross block faces for int32 ids", { expected: "< 2^31 - 1" });
    const id = this.sets.add();
    this.stats.append(src, j);
    return id;
  }
  find(i: number): number {
    return this.sets.find(i);
  }
  isRoot(i: number): boolean {
    return this.sets.isRoot(i);
  }
  union(a: number, b: number): void {
    const ra = this.sets.find(a);
    const rb = this.sets.find(b);
    if (ra === rb) return;
    const root = this.sets.link(ra, rb);
    this.stats.mergeFrom(root, this.stats, root === ra ? rb : ra);
  }
}

/** Axis index pairs (p, q) of the face plane normal to each axis. */
const PLANE_AXES: Array<[number, number]> = [
  [1, 2],
  [0, 2],
  [0, 1],
];

/** Largest number of non-zero offset components allowed by each connectivity. */
const MAX_NZ: Record<Connectivity, number> = { 6: 1, 18: 2, 26: 3 };

/**
 * Streaming labeller: feed blocks with `add`, then `finish`. Synchronous, so a caller can drive it from any source
 * (an async block iterator, an in-memory array, a worker).
 */
export class ComponentLabeller {
  private readonly flags;
  private readonly out: StatsColumns;
  private readonly local: StatsColumns;
  private global: GlobalSets;
  /** Compaction runs when the union-find holds this many ids more than after the last one. */
  private readonly compactSlack: number;
  private liveAfterCompact = 0;
  private readonly scratch = new RunScratch();
  private readonly blocks = new Map<string, BlockRecord>();
  private readonly done = new Set<string>();
  private readonly startToEnd: Array<Map<number, number>> = [new Map(), new Map(), new Map()];
  private readonly endToStart: Array<Map<number, number>> = [new Map(), new Map(), new Map()];
  private voxelsSeen = 0;
  private readonly maxNz: number;

  constructor(
    readonly shape: [number, number, number],
    readonly options: ComponentOptions,
  ) {
    const c = options.connectivity;
    if (c !== 6 && c !== 18 && c !== 26)
      throw new ParameterError("connectivity must be stated as 6, 18 or 26", { field: "connectivity", expected: "6, 18 or 26", got: String(c) });
    if (!shape.every((s) => Number.isInteger(s) && s > 0))
      throw new ParameterError("volume shape must be three positive integers", { field: "shape", got: JSON.stringify(shape) });
    this.flags = propertyFlags(options.properties, options.overlap !== undefined);
    if (this.flags.depth && !options.depth)
      throw new ParameterError("component depth was asked for without an interface", { field: "depth", expected: "a DepthSpec (depthSpec(finishInterface(...)))" });
    if (options.depth && options.depth.interfaceZ.length !== shape[1] * shape[2])
      throw new ParameterError("interface map does not match the volume", {
        field: "depth.interfaceZ",
        expected: `${shape[1] * shape[2]} columns (Y*X)`,
        got: String(options.depth.interfaceZ.length),
      });
    this.out = new StatsColumns(this.flags);
    this.local = new StatsColumns(this.flags);
    this.global = new GlobalSets(new StatsColumns(this.flags));
    this.maxNz = MAX_NZ[c];
    this.compactSlack = options.compactSlack ?? 1 << 16;
  }

  /** Adds one block. Its core must lie in the volume and on the same grid as earlier blocks. */
  add(block: LabelBlock): void {
    const { core, read, data } = block;
    if (core.length !== 3 || read.length !== 3 || data.shape.length !== 3)
      throw new VolumeError("expected a 3D (z, y, x) block", { field: "block", got: JSON.stringify({ core, read, shape: data.shape }) });
    const start = core.map((c) => c[0]) as [number, number, number];
    const end = core.map((c) => c[1]) as [number, number, number];
    for (let a = 0; a < 3; a++) {
      if (!(start[a]! >= 0 && end[a]! <= this.shape[a]! && end[a]! > start[a]!))
        throw new VolumeError("block core outside the volume", { field: `core[${a}]`, expected: `within [0, ${this.shape[a]})`, got: JSON.stringify(core[a]) });
      if (read[a]![0] > start[a]! || read[a]![1] < end[a]! || data.shape[a] !== read[a]![1] - read[a]![0])
        throw new VolumeError("block read region does not hold its core", { field: `read[${a}]`, got: JSON.stringify({ core: core[a], read: read[a], shape: data.shape[a] }) });
      const known = this.startToEnd[a]!.get(start[a]!);
      if (known !== undefined && known !== end[a])
        throw new VolumeError("blocks do not form a grid", { field: `core[${a}]`, expected: `[${start[a]}, ${known})`, got: JSON.stringify(core[a]) });
      const knownStart = this.endToStart[a]!.get(end[a]!);
      if (knownStart !== undefined && knownStart !== start[a])
        throw new VolumeError("blocks do not form a grid", { field: `core[${a}]`, expected: `[${knownStart}, ${end[a]})`, got: JSON.stringify(core[a]) });
    }
    const key = start.join(",");
    if (this.done.has(key) || this.blocks.has(key)) throw new VolumeError("block given twice", { field: "core", got: JSON.stringify(core) });
    for (let a = 0; a < 3; a++) {
      this.startToEnd[a]!.set(start[a]!, end[a]!);
      this.endToStart[a]!.set(end[a]!, start[a]!);
    }
    if (this.flags.overlap && (!block.aux || block.aux.data.length !== data.data.length))
      throw new VolumeError("overlap counts need an auxiliary block over the same region", { field: "block.aux", got: block.aux ? JSON.stringify(block.aux.shape) : "none" });
    const coreShape = [end[0] - start[0], end[1] - start[1], end[2] - start[2]] as [number, number, number];
    this.voxelsSeen += coreShape[0] * coreShape[1] * coreShape[2];

    const res = labelBlock(
      {
        data: data.data,
        dataShape: data.shape,
        coreOffset: [start[0] - read[0]![0], start[1] - read[1]![0], start[2] - read[2]![0]],
        coreShape,
        origin: start,
        volumeShape: this.shape,
        overlap: block.aux?.data,
        overlapValue: this.options.overlap?.value,
      },
      this.options.member,
      this.options.connectivity,
      this.local,
      this.scratch,
      this.options.depth,
    );
    const local = this.local;
    const planes = res.planes;
    const border = [start[0] === 0, end[0] === this.shape[0], start[1] === 0, end[1] === this.shape[1], start[2] === 0, end[2] === this.shape[2]];

    // Voxel faces on the volume border count as exposed (the volume is treated as padded with non-members).
    if (this.flags.surface) {
      const faceOf = [local.faceZ, local.faceZ, local.faceY, local.faceY, local.faceX, local.faceX];
      for (let f = 0; f < 6; f++) {
        if (!border[f]) continue;
        const pl = planes[f]!;
        const fc = faceOf[f]!;
        for (let i = 0; i < pl.length; i++) if (pl[i]) fc[pl[i]! - 1] = (fc[pl[i]! - 1] ?? 0) + 1;
      }
    }

    // Local components on a shared face become global; the others are final now.
    const gid = new Int32Array(res.nComponents);
    for (let f = 0; f < 6; f++) {
      if (border[f]) continue;
      const pl = planes[f]!;
      for (let i = 0; i < pl.length; i++) if (pl[i]) gid[pl[i]! - 1] = -1;
    }
    for (let c = 0; c < res.nComponents; c++) {
      if (gid[c] === -1) gid[c] = this.global.add(local, c);
      else this.out.append(local, c);
    }
    const rec: BlockRecord = { start, end, planes: [], seen: 0, expected: 1 };
    for (let f = 0; f < 6; f++) {
      if (border[f]) {
        rec.planes.push(null);
        continue;
      }
      const pl = planes[f]!;
      for (let i = 0; i < pl.length; i++) if (pl[i]) pl[i] = gid[pl[i]! - 1]!;
      rec.planes.push(pl);
    }
    for (let a = 0; a < 3; a++) rec.expected *= 1 + (start[a]! > 0 ? 1 : 0) + (end[a]! < this.shape[a]! ? 1 : 0);
    rec.expected -= 1;

    for (const d of DIRS) {
      const nStart: number[] = [];
      let ok = true;
      for (let a = 0; a < 3; a++) {
        if (d[a] === 0) nStart.push(start[a]!);
        else if (d[a] === 1) {
          if (end[a]! >= this.shape[a]!) ok = false;
          nStart.push(end[a]!);
        } else {
          const s = this.endToStart[a]!.get(start[a]!);
          if (s === undefined) ok = false;
          nStart.push(s ?? -1);
        }
      }
      if (!ok) continue;
      const nb = this.blocks.get(nStart.join(","));
      if (!nb) continue;
      this.mergeNeighbour(rec, nb, d);
      rec.seen++;
      nb.seen++;
      if (nb.seen === nb.expected) {
        this.blocks.delete(nStart.join(","));
        this.done.add(nStart.join(","));
      }
    }
    if (rec.seen === rec.expected) this.done.add(key);
    else this.blocks.set(key, rec);
    if (this.global.n - this.liveAfterCompact > this.compactSlack) this.compact();
  }

  /**
   * Retires global components that no waiting block can reach any more: a root referenced by no stored face plane
   * is final and goes to the output; the rest are renumbered into a fresh union-find and the planes rewritten.
   * This keeps the union-find at the size of one slab of block faces, whatever the volume's size.
   */
  private compact(): void {
    const gs = this.global;
    const newId = new Int32Array(gs.n);
    const next = new GlobalSets(new StatsColumns(this.flags));
    for (const rec of this.blocks.values())
      for (const pl of rec.planes) {
        if (!pl) continue;
        for (let i = 0; i < pl.length; i++) {
          const v = pl[i]!;
          if (v === 0) continue;
          const r = gs.find(v);
          if (newId[r] === 0) newId[r] = next.add(gs.stats, r);
          pl[i] = newId[r]!;
        }
      }
    for (let i = 1; i < gs.n; i++) if (gs.isRoot(i) && newId[i] === 0) this.out.append(gs.stats, i);
    this.global = next;
    this.liveAfterCompact = next.n;
  }

  /** Merges block b with an already seen neighbour a at block offset d = grid(a) - grid(b). */
  private mergeNeighbour(b: BlockRecord, a: BlockRecord, d: [number, number, number]): void {
    const nonzero = [0, 1, 2].filter((k) => d[k] !== 0);
    const free = [0, 1, 2].filter((k) => d[k] === 0);
    const gs = this.global;
    if (nonzero.length === 1) {
      const ax = nonzero[0]!;
      // b's plane facing a, and a's plane facing b.
      const pb = b.planes[ax * 2 + (d[ax] === -1 ? 0 : 1)]!;
      const pa = a.planes[ax * 2 + (d[ax] === -1 ? 1 : 0)]!;
      const [pAx, qAx] = PLANE_AXES[ax]!;
      const np = b.end[pAx]! - b.start[pAx]!;
      const nq = b.end[qAx]! - b.start[qAx]!;
      const inPlane = this.maxNz - 1; // offsets within the plane, beyond the step across it
      const surface = this.flags.surface;
      const faceCol = surface ? [this.global.stats.faceZ, this.global.stats.faceY, this.global.stats.faceX][ax]! : null;
      for (let i = 0; i < np; i++) {
        for (let j = 0; j < nq; j++) {
          const lb = pb[i * nq + j]!;
          if (faceCol) {
            const la0 = pa[i * nq + j]!;
            if ((lb === 0) !== (la0 === 0)) {
              const g = gs.find(lb || la0);
              faceCol[g] = (faceCol[g] ?? 0) + 1;
            }
          }
          if (lb === 0) continue;
          for (let oi = -1; oi <= 1; oi++) {
            const ii = i + oi;
            if (ii < 0 || ii >= np) continue;
            for (let oj = -1; oj <= 1; oj++) {
              if ((oi !== 0 ? 1 : 0) + (oj !== 0 ? 1 : 0) > inPlane) continue;
              const jj = j + oj;
              if (jj < 0 || jj >= nq) continue;
              const la = pa[ii * nq + jj]!;
              if (la !== 0) gs.union(lb, la);
            }
          }
        }
      }
      return;
    }
    if (nonzero.length === 2) {
      if (this.maxNz < 2) return;
      const [a1, a2] = nonzero as [number, number];
      const c = free[0]!;
      const lineB = this.edgeLine(b, a1, d[a1] === -1 ? 0 : 1, a2, d[a2] === -1 ? 0 : 1);
      const lineA = this.edgeLine(a, a1, d[a1] === -1 ? 1 : 0, a2, d[a2] === -1 ? 1 : 0);
      const n = b.end[c]! - b.start[c]!;
      const reach = this.maxNz - 2;
      for (let i = 0; i < n; i++) {
        const lb = lineB(i);
        if (lb === 0) continue;
        for (let o = -reach; o <= reach; o++) {
          const ii = i + o;
          if (ii < 0 || ii >= n) continue;
          const la = lineA(ii);
          if (la !== 0) gs.union(lb, la);
        }
      }
      return;
    }
    if (this.maxNz < 3) return;
    const vb = this.cornerValue(b, d[0] === -1 ? 0 : 1, d[1] === -1 ? 0 : 1, d[2] === -1 ? 0 : 1);
    const va = this.cornerValue(a, d[0] === -1 ? 1 : 0, d[1] === -1 ? 1 : 0, d[2] === -1 ? 1 : 0);
    if (vb !== 0 && va !== 0) gs.union(vb, va);
  }

  /** Labels along the block edge where face (axis a1, side s1) meets face (a2, s2); side 0 = low, 1 = high. */
  private edgeLine(r: BlockRecord, a1: number, s1: number, a2: number, s2: number): (i: number) => number {
    const plane = r.planes[a1 * 2 + s1]!;
    const [pAx, qAx] = PLANE_AXES[a1]!;
    const nq = r.end[qAx]! - r.start[qAx]!;
    const idx = s2 === 0 ? 0 : r.end[a2]! - r.start[a2]! - 1;
    if (a2 === pAx) return (i) => plane[idx * nq + i]!;
    return (i) => plane[i * nq + idx]!;
  }

  private cornerValue(r: BlockRecord, sz: number, sy: number, sx: number): number {
    const plane = r.planes[sz]!;
    const nx = r.end[2] - r.start[2];
    const y = sy === 0 ? 0 : r.end[1] - r.start[1] - 1;
    const x = sx === 0 ? 0 : nx - 1;
    return plane[y * nx + x]!;
  }

  /** Closes the stream: checks every voxel was covered once and returns the components in label order. */
  finish(): ComponentResult {
    const total = this.shape[0] * this.shape[1] * this.shape[2];
    if (this.voxelsSeen !== total || this.blocks.size > 0)
      throw new VolumeError("blocks do not cover the volume", {
        field: "blocks",
        expected: `${total} voxels in blocks that tile the volume`,
        got: `${this.voxelsSeen} voxels, ${this.blocks.size} blocks still waiting for neighbours`,
      });
    const gs = this.global;
    for (let i = 1; i < gs.n; i++) if (gs.isRoot(i)) this.out.append(gs.stats, i);
    this.out.sortByFirstVoxel();
    return { connectivity: this.options.connectivity, shape: this.shape, nComponents: this.out.size, stats: this.out };
  }
}

/** Labels the components of a block stream (bounded memory: one block at a time plus the merge state). */
export async function labelBlocks(
  shape: [number, number, number],
  blocks: AsyncIterable<LabelBlock> | Iterable<LabelBlock>,
  options: ComponentOptions,
  onBlock?: (block: LabelBlock) => void,
): Promise<ComponentResult> {
  const lab = new ComponentLabeller(shape, options);
  for await (const b of blocks as AsyncIterable<LabelBlock>) {
    lab.add(b);
    onBlock?.(b);
  }
  return lab.finish();
}

/** Blocks of an in-memory (z, y, x) array, as views: the whole array is the read region of every block. */
export function* arrayBlocks(volume: NdArray<TypedArray>, blockShape: readonly number[]): Generator<LabelBlock> {
  const [Z, Y, X] = volume.shape as [number, number, number];
  const read: Array<[number, number]> = [
    [0, Z],
    [0, Y],
    [0, X],
  ];
  const [bz, by, bx] = blockShape as [number, number, number];
  if (![bz, by, bx].every((b) => Number.isInteger(b) && b > 0))
    throw new ParameterError("block shape must be three positive integers", { field: "blockShape", got: JSON.stringify(blockShape) });
  for (let z = 0; z < Z; z += bz)
    for (let y = 0; y < Y; y += by)
      for (let x = 0; x < X; x += bx)
        yield {
          core: [
            [z, Math.min(Z, z + bz)],
            [y, Math.min(Y, y + by)],
            [x, Math.min(X, x + bx)],
          ],
          read,
          data: volume,
        };
}

/** Labels an in-memory volume through the same block-merging path as out-of-core data. */
export function labelArray(volume: NdArray<TypedArray>, options: ComponentOptions & { blockShape?: number[] }): ComponentResult {
  if (volume.shape.length !== 3) throw new VolumeError("expected a 3D (z, y, x) volume", { field: "shape", got: JSON.stringify(volume.shape) });
  const shape = volume.shape as [number, number, number];
  const lab = new ComponentLabeller(shape, options);
  for (const b of arrayBlocks(volume, options.blockShape ?? [64, 64, 64])) lab.add(b);
  return lab.finish();
}
