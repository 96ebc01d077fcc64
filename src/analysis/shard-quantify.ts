/**
 * `quantify` as a job that splits over machines: components of each analysed class at every time point (voxels,
 * volume, centroid, bounding box, whether they touch the top or bottom face) and the class composition of every z
 * layer, from a label image of an OME-Zarr store.
 *
 * `quantifyShard` (`--shard i/n`) analyses one contiguous z slab of chunk rows (shards get neighbouring rows, so
 * only components on a slab's two faces need joining) and writes its partial result to
 * `OUT/quantify.shard-000i-of-000n.json`; `quantifyMerge` (`--merge`) joins the n partial results exactly
 * (components crossing slab borders united, see shard-components.ts) and writes the tables. `quantifyAll` does
 * both in one process: its tables are byte-identical to the merged ones.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { ParameterError, VolumeError } from "../util/errors.js";
import { jsonIdentity, treeIdentity } from "../util/identity.js";
import { checkShard, contiguousRange, shardTag, type Shard } from "../util/shard.js";
import { OmeImage, type LabelImage } from "../volume/index.js";
import { writeTables, type ResultTable } from "./table.js";
import { checkConnectivity, joinSlabs, SlabLabeller, type SlabComponents, type SlabResult } from "./shard-components.js";
import type { Connectivity } from "./label-block.js";
import { defaultThreads, runTasks } from "../parallel/pool.js";
import type { TaskHandler } from "../parallel/tasks.js";

export interface QuantifyOptions {
  /** Label image under labels/ (default "segmentation"; the U-Net's is "unet"). */
  labels?: string;
  /** Class names whose components are measured (default: every class but the one with value 0). */
  classes?: string[];
  /** Default 26. */
  connectivity?: Connectivity;
  /** Read a label image whose writer has not finished (default false: refused, naming it). */
  allowIncomplete?: boolean;
}

interface Context {
  lab: LabelImage;
  shape: [number, number, number];
  voxel: [number, number, number];
  times: number[];
  classes: Array<{ name: string; value: number }>;
  allClasses: Array<{ name: string; value: number }>;
  connectivity: Connectivity;
  chunkZ: number;
  identity: string;
}

/** Partial result of one shard (JSON): per time point and class one slab, plus the slab's layer composition. */
export interface ShardFile {
  format: "ssb-ct-quantify-shard";
  identity: string;
  shard: Shard;
  z0: number;
  z1: number;
  /** [time][class]; the face planes run-length encoded (value, run, value, run, ...): mostly 0 or long runs. */
  slabs: Array<Array<Omit<SlabResult, "firstPlane" | "lastPlane"> & { firstPlane: number[]; lastPlane: number[] }>>;
  /** [time][layer - z0][class value index] voxel counts. */
  layers: number[][][];
}

async function context(store: string, options: QuantifyOptions): Promise<Context> {
  const img = await OmeImage.open(store);
  const name = options.labels ?? "segmentation";
  const lab = await img.openLabels(name);
  lab.assertReadable({ allowIncomplete: options.allowIncomplete });
  const connectivity = options.connectivity ?? 26;
  checkConnectivity(connectivity);
  const allClasses = lab.classes.map((c) => ({ name: c.name, value: c.value }));
  if (!allClasses.length) throw new VolumeError("the label image declares no classes", { path: lab.path, field: "image-label.properties", expected: "classes with names and values" });
  const wanted = options.classes ?? allClasses.filter((c) => c.value !== 0).map((c) => c.name);
  const classes = wanted.map((n) => {
    const c = allClasses.find((k) => k.name === n);
    if (!c) throw new ParameterError("no such label class", { path: lab.path, field: "classes", expected: allClasses.map((k) => k.name).join(", "), got: n });
    return c;
  });
  const a0 = lab.array(0);
  const chunkZ = a0.chunks[a0.chunks.length - 3]!;
  // What the result is computed from: the label chunks (listing of sizes), grid, classes and settings. Shards of
  // one job share it; the merge refuses partial results of another.
  const identity = jsonIdentity({
    labels: name,
    listing: treeIdentity(lab.path, ["0"], { content: false }).listing,
    shape: lab.shapeZYX,
    times: lab.timePointsH,
    classes,
    allClasses,
    connectivity,
  });
  return { lab, shape: lab.shapeZYX, voxel: lab.voxelSizeUm, times: lab.timePointsH, classes, allClasses, connectivity, chunkZ, identity };
}

/** z range of a shard: contiguous rows of chunks (whole chunks, so no chunk is read by two shards). */
function slabOf(ctx: Context, shard: Shard): [number, number] {
  const rows = Math.ceil(ctx.shape[0] / ctx.chunkZ);
  const [r0, r1] = contiguousRange(rows, shard);
  return [Math.min(ctx.shape[0], r0 * ctx.chunkZ), Math.min(ctx.shape[0], r1 * ctx.chunkZ)];
}

async function analyseSlab(ctx: Context, shard: Shard): Promise<ShardFile> {
  const [z0, z1] = slabOf(ctx, shard);
  const [, Y, X] = ctx.shape;
  const P = Y * X;
  const slabs: ShardFile["slabs"] = [];
  const layers: number[][][] = [];
  const valueIndex = new Map(ctx.allClasses.map((c, i) => [c.value, i]));
  for (let t = 0; t < ctx.times.length; t++) {
    const labellers = ctx.classes.map((c) => new SlabLabeller([Y, X], z0, z1, ctx.connectivity, (v) => v === c.value));
    const lt: number[][] = [];
    for (let z = z0; z < z1; z += ctx.chunkZ) {
      const zz = Math.min(z1, z + ctx.chunkZ);
      const block = await ctx.lab.readVolume(t, { selection: [[z, zz], [0, Y], [0, X]] });
      for (let k = 0; k < zz - z; k++) {
        for (const l of labellers) l.addPlane(block.data as ArrayLike<number>, k * P);
        const counts = new Array<number>(ctx.allClasses.length).fill(0);
        for (let q = k * P; q < (k + 1) * P; q++) {
          const i = valueIndex.get(block.data[q]!);
          if (i === undefined)
            throw new VolumeError("a label value outside the declared classes", { path: ctx.lab.path, location: `t=${t} z=${z + k} voxel ${q - k * P}`, expected: ctx.allClasses.map((c) => `${c.value} (${c.name})`).join(", "), got: String(block.data[q]) });
          counts[i]! += 1;
        }
        lt.push(counts);
      }
    }
    layers.push(lt);
    slabs.push(
      labellers.map((l) => {
        const r = l.finish();
        return { ...r, firstPlane: encodeRuns(r.firstPlane), lastPlane: encodeRuns(r.lastPlane) };
      }),
    );
  }
  return { format: "ssb-ct-quantify-shard", identity: ctx.identity, shard, z0, z1, slabs, layers };
}

function encodeRuns(a: Int32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; ) {
    const v = a[i]!;
    let j = i + 1;
    while (j < a.length && a[j] === v) j++;
    out.push(v, j - i);
    i = j;
  }
  return out;
}

function decodeRuns(runs: number[], n: number): Int32Array {
  const a = new Int32Array(n);
  let o = 0;
  for (let k = 0; k + 1 < runs.length; k += 2) {
    a.fill(runs[k]!, o, o + runs[k + 1]!);
    o += runs[k + 1]!;
  }
  if (o !== n) throw new VolumeError("a partial result's face plane has the wrong size", { expected: `${n} voxels`, got: String(o) });
  return a;
}

/** Name of a shard's partial result inside the output folder. */
export function quantifyShardFile(outDir: string, shard: Shard): string {
  return join(outDir, `quantify.${shardTag(shard)}.json`);
}

export interface QuantifyShardResult {
  file: string;
  z: [number, number];
}

/** Analyses shard i of n of the store's label image; writes its partial result (atomically, last). */
export async function quantifyShard(store: string, outDir: string, shard: Shard, options: QuantifyOptions = {}): Promise<QuantifyShardResult> {
  checkShard(shard);
  const ctx = await context(store, options);
  const part = await analyseSlab(ctx, shard);
  const file = quantifyShardFile(outDir, shard);
  writeFileAtomic(file, JSON.stringify(part) + "\n", { fsync: true });
  return { file, z: [part.z0, part.z1] };
}

function tablesOf(ctx: Context, parts: ShardFile[]): ResultTable[] {
  const [Z, Y, X] = ctx.shape;
  const [vz, vy, vx] = ctx.voxel;
  const v3 = vz * vy * vx;
  const comp: Record<string, Array<number | string | boolean>> = {
    time_h: [], class: [], label: [], voxels: [], volume_um3: [], centroid_z_um: [], centroid_y_um: [], centroid_x_um: [],
    z_min: [], z_max: [], y_min: [], y_max: [], x_min: [], x_max: [], touches_top: [], touches_bottom: [],
  };
  const summary: Record<string, Array<number | string>> = { time_h: [], class: [], components: [], voxels: [], volume_um3: [], largest_um3: [] };
  const layer: Record<string, number[]> = { time_h: [], z: [], z_um: [], ...Object.fromEntries(ctx.allClasses.map((c) => [`${c.name}_voxels`, []])) };
  const sorted = [...parts].sort((a, b) => a.z0 - b.z0);
  ctx.times.forEach((time_h, t) => {
    ctx.classes.forEach((c, ci) => {
      const slabs: SlabResult[] = sorted.map((p) => {
        const s = p.slabs[t]![ci]!;
        return { ...s, firstPlane: decodeRuns(s.firstPlane, Y * X), lastPlane: decodeRuns(s.lastPlane, Y * X) };
      });
      const r: SlabComponents = joinSlabs(slabs, [Y, X], ctx.connectivity);
      let voxels = 0;
      let largest = 0;
      for (let i = 0; i < r.count.length; i++) {
        const n = r.count[i]!;
        voxels += n;
        largest = Math.max(largest, n);
        comp.time_h!.push(time_h);
        comp.class!.push(c.name);
        comp.label!.push(i + 1);
        comp.voxels!.push(n);
        comp.volume_um3!.push(n * v3);
        // Voxel centres: index + 0.5 voxels from the volume's corner.
        comp.centroid_z_um!.push((r.sumZ[i]! / n + 0.5) * vz);
        comp.centroid_y_um!.push((r.sumY[i]! / n + 0.5) * vy);
        comp.centroid_x_um!.push((r.sumX[i]! / n + 0.5) * vx);
        comp.z_min!.push(r.zMin[i]!);
        comp.z_max!.push(r.zMax[i]!);
        comp.y_min!.push(r.yMin[i]!);
        comp.y_max!.push(r.yMax[i]!);
        comp.x_min!.push(r.xMin[i]!);
        comp.x_max!.push(r.xMax[i]!);
        comp.touches_top!.push(r.zMin[i] === 0);
        comp.touches_bottom!.push(r.zMax[i] === Z - 1);
      }
      summary.time_h!.push(time_h);
      summary.class!.push(c.name);
      summary.components!.push(r.count.length);
      summary.voxels!.push(voxels);
      summary.volume_um3!.push(voxels * v3);
      summary.largest_um3!.push(largest * v3);
    });
    for (const p of sorted)
      p.layers[t]!.forEach((counts, k) => {
        layer.time_h!.push(time_h);
        layer.z!.push(p.z0 + k);
        layer.z_um!.push((p.z0 + k + 0.5) * vz);
        ctx.allClasses.forEach((c, i) => layer[`${c.name}_voxels`]!.push(counts[i]!));
      });
  });
  return [
    { name: "label_components", columns: comp },
    { name: "label_component_summary", columns: summary },
    { name: "layer_composition", columns: layer },
  ];
}

export interface QuantifyResult {
  files: string[];
  /** Partial results joined (1 for quantifyAll). */
  shards: number;
}

/**
 * Joins the n partial results in `outDir` (n from their names; all must be there, of the same job as the store's
 * labels now) and writes the tables: label_components.csv, label_component_summary.csv, layer_composition.csv.
 */
export async function quantifyMerge(store: string, outDir: string, options: QuantifyOptions = {}): Promise<QuantifyResult> {
  const ctx = await context(store, options);
  const names = existsSync(outDir) ? readdirSync(outDir).filter((n) => /^quantify\.shard-\d+-of-\d+\.json$/.test(n)) : [];
  if (!names.length) throw new VolumeError("no partial results to merge", { path: outDir, expected: "quantify.shard-*-of-*.json from `quantify --shard i/n` runs" });
  const counts = new Set(names.map((n) => Number(/-of-(\d+)/.exec(n)![1])));
  if (counts.size !== 1) throw new VolumeError("partial results of different shard counts", { path: outDir, got: [...counts].join(", "), expected: "one n: remove the others" });
  const n = [...counts][0]!;
  const parts: ShardFile[] = [];
  const missing: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = quantifyShardFile(outDir, { index: i, count: n });
    if (!existsSync(f)) {
      missing.push(i);
      continue;
    }
    const p = JSON.parse(readFileSync(f, "utf8")) as ShardFile;
    if (p.format !== "ssb-ct-quantify-shard" || p.identity !== ctx.identity)
      throw new VolumeError("a partial result belongs to another job (other labels, classes or settings)", { path: f, expected: "rerun that shard" });
    parts.push(p);
  }
  if (missing.length) throw new VolumeError("partial results are missing", { path: outDir, got: `shards ${missing.join(", ")} of ${n} not done`, expected: "every shard finished: rerun the missing ones" });
  return { files: writeTables(outDir, tablesOf(ctx, parts)), shards: n };
}

/** A slab of the job as a task of the parallel pool (src/parallel): the shards of one process are its threads. */
export const quantifySlabHandler: TaskHandler<{ store: string; options: QuantifyOptions }, Shard, ShardFile> = async ({ store, options }) => {
  const ctx = await context(store, options);
  return async (shard) => ({ result: await analyseSlab(ctx, shard) });
};

/**
 * The whole job in this process: the same tables as shards + merge. With several threads the volume is cut into
 * as many slabs, analysed on worker threads and joined as the merge joins shards.
 */
export async function quantifyAll(store: string, outDir: string, options: QuantifyOptions & { threads?: number } = {}): Promise<QuantifyResult> {
  const ctx = await context(store, options);
  const rows = Math.ceil(ctx.shape[0] / ctx.chunkZ);
  const n = Math.max(1, Math.min(rows, options.threads ?? defaultThreads()));
  const parts: ShardFile[] = [];
  const { threads: _t, ...plain } = options;
  const slabs = Array.from({ length: n }, (_, index) => ({ index, count: n }));
  await runTasks<{ store: string; options: QuantifyOptions }, Shard, ShardFile>("quantify", { store, options: plain }, slabs, (part) => void parts.push(part), { threads: n });
  return { files: writeTables(outDir, tablesOf(ctx, parts)), shards: 1 };
}

/** quantify with the CLI's options: `shard` runs one part, `merge` joins them, neither runs the whole. */
export async function quantify(store: string, outDir: string, options: QuantifyOptions & { shard?: Shard; merge?: boolean; threads?: number } = {}): Promise<QuantifyResult | QuantifyShardResult> {
  if (options.shard && options.merge) throw new ParameterError("--shard and --merge are separate steps", { field: "merge", expected: "quantify --shard i/n on every shard, then quantify --merge once" });
  if (options.merge) return quantifyMerge(store, outDir, options);
  const { shard, merge: _m, ...rest } = options;
  if (shard && shard.count > 1) return quantifyShard(store, outDir, shard, rest);
  return quantifyAll(store, outDir, rest);
}
