/**
 * A chunked zarr array (v2 or v3) on the local file system: open, create, read and write any region as typed arrays,
 * and iterate over chunk-aligned blocks with a halo. Memory use is bounded by what the caller asks for: a region read
 * allocates the region, block iteration one block at a time.
 *
 * Writes are atomic per chunk (temp file + rename) so a killed writer leaves each chunk old or new, and processes
 * writing disjoint chunks never interfere. Two writers of the same chunk are not coordinated: the last rename wins.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { VolumeError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { decodeChunk, encodeChunk, unpackStored } from "./codecs.js";
import { chunkNamingStore, crc32cLastOnly, zarritaVerifyingCrc32c } from "./crc32c.js";
import { chunkKey, emitV2, emitV3, parseV2, parseV3, type ArrayMeta } from "./metadata.js";
import { copyBox } from "./ndcopy.js";
import { readChunkInto, type ChunkJob, type ChunkTask } from "./chunk-read.js";
import { readParallel, scratchBytes, shouldUsePool } from "./read-pool.js";
import {
  BYTES_PER_ELEMENT,
  dataTypeOf,
  product,
  typedArrayFor,
  viewAs,
  type ArraySpec,
  type Block,
  type CodecSpec,
  type DataType,
  type NdArray,
  type Selection,
  type TypedArray,
} from "./types.js";

export interface BlockOptions {
  /** Voxels of context added on each side of every block, per axis or one number for all. */
  halo?: number | number[];
  /** Restrict iteration to this region. */
  selection?: Selection;
  /** Block shape; default the chunk shape (one chunk per block). */
  blockShape?: number[];
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new VolumeError("cannot read metadata file", { path, got: (e as NodeJS.ErrnoException).code ?? String(e) });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VolumeError("metadata file is not valid JSON", { path, got: (e as Error).message });
  }
}

/** Reads a JSON file if it exists. */
export function readJsonIfExists(path: string): unknown {
  return existsSync(path) ? readJson(path) : undefined;
}

export interface ReadOptions {
  /** Take decoded chunks from (and add them to) this cache, made by `chunkCache` of the same array. */
  cache?: ChunkCache;
}

export interface StoreOptions {
  /**
   * Flush every chunk and metadata file to the disk (fsync) before it replaces the old one, so a power loss cannot
   * leave a final result renamed into place but empty. Costs a disk round trip per file: for final outputs.
   */
  fsync?: boolean;
}

export class ZarrArray {
  /** Chunk and metadata writes are flushed to the disk before they are renamed into place. */
  readonly fsync: boolean;
  /**
   * The v3 codec list ends with `crc32c` (after bytes and at most one compressor): chunks carry a checksum, verified
   * on read and written on write. Pipelines with crc32c elsewhere are read through zarrita, which verifies it too.
   */
  private readonly crc32c: boolean;

  private constructor(
    readonly path: string,
    readonly meta: ArrayMeta,
    options: StoreOptions & { crc32c?: boolean } = {},
  ) {
    this.fsync = options.fsync === true;
    this.crc32c = options.crc32c === true;
  }

  get shape(): number[] {
    return this.meta.shape;
  }
  get chunks(): number[] {
    return this.meta.chunks;
  }
  get dtype(): DataType {
    return this.meta.dtype;
  }
  get zarrFormat(): 2 | 3 {
    return this.meta.zarrFormat;
  }
  get codec(): CodecSpec {
    return this.meta.codec;
  }
  get fillValue(): number {
    return this.meta.fillValue;
  }
  get attributes(): Record<string, unknown> {
    return this.meta.attributes;
  }
  get ndim(): number {
    return this.meta.shape.length;
  }

  /** Opens a zarr v2 (`.zarray`) or v3 (`zarr.json`) array. */
  static async open(path: string, options: StoreOptions = {}): Promise<ZarrArray> {
    if (!existsSync(path)) throw new VolumeError("no zarr store at this path", { path, expected: "a folder with .zarray or zarr.json" });
    if (existsSync(join(path, ".zarray"))) {
      const meta = parseV2(join(path, ".zarray"), readJson(join(path, ".zarray")), readJsonIfExists(join(path, ".zattrs")));
      return new ZarrArray(path, meta, options);
    }
    if (existsSync(join(path, "zarr.json"))) {
      const json = readJson(join(path, "zarr.json")) as Record<string, unknown>;
      if (json && json.node_type === "group")
        throw new VolumeError("this is a zarr group, not an array", { path, field: "node_type", expected: "array", got: "group" });
      const meta = parseV3(join(path, "zarr.json"), json);
      // A trailing crc32c is the only codec we would otherwise leave to zarrita: verify it ourselves instead.
      const crc32c = crc32cLastOnly(json.codecs);
      if (crc32c) meta.foreignCodecs = undefined;
      return new ZarrArray(path, meta, { ...options, crc32c });
    }
    if (existsSync(join(path, ".zgroup")))
      throw new VolumeError("this is a zarr group, not an array", { path, expected: "a folder with .zarray", got: ".zgroup" });
    throw new VolumeError("no zarr array metadata", { path, expected: ".zarray (zarr v2) or zarr.json (zarr v3)" });
  }

  /** Creates an empty array (all chunks missing, reads return the fill value). */
  static async create(path: string, spec: ArraySpec, options: StoreOptions = {}): Promise<ZarrArray> {
    const { shape, chunks, dtype } = spec;
    if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0))
      throw new VolumeError("invalid array shape", { path, field: "shape", expected: "non-negative integers", got: JSON.stringify(shape) });
    if (!Array.isArray(chunks) || chunks.length !== shape.length || !chunks.every((c) => Number.isInteger(c) && c > 0))
      throw new VolumeError("invalid chunk shape", { path, field: "chunks", expected: `${shape.length} positive integers`, got: JSON.stringify(chunks) });
    if (!(dtype in BYTES_PER_ELEMENT))
      throw new VolumeError("unsupported dtype", { path, field: "dtype", expected: Object.keys(BYTES_PER_ELEMENT).join(", "), got: String(dtype) });
    const exists = existsSync(join(path, ".zarray")) || existsSync(join(path, "zarr.json"));
    if (exists && !spec.overwrite) throw new VolumeError("an array already exists here", { path, expected: "an empty location, or overwrite: true" });
    if (exists) rmSync(path, { recursive: true, force: true });
    const zarrFormat = spec.zarrFormat ?? 2;
    const meta: ArrayMeta = {
      zarrFormat,
      shape: [...shape],
      chunks: [...chunks],
      dtype,
      littleEndian: true,
      fillValue: spec.fillValue ?? 0,
      codec: spec.codec ?? { name: "blosc", cname: "lz4", clevel: 5, shuffle: "byte" },
      separator: "/",
      keyPrefix: zarrFormat === 3 ? "c" : "",
      dimensionNames: spec.dimensionNames,
      attributes: { ...(spec.attributes ?? {}) },
    };
    mkdirSync(path, { recursive: true });
    const arr = new ZarrArray(path, meta, options);
    if (zarrFormat === 2) {
      arr.writeFile(".zarray", JSON.stringify(emitV2(meta), null, 2));
      const attrs = meta.dimensionNames ? { ...meta.attributes, _ARRAY_DIMENSIONS: meta.dimensionNames } : meta.attributes;
      if (Object.keys(attrs).length) arr.writeFile(".zattrs", JSON.stringify(attrs, null, 2));
    } else {
      arr.writeFile("zarr.json", JSON.stringify(emitV3(meta), null, 2));
    }
    return arr;
  }

  /** Writes one file of the array atomically (and durably with the fsync option). */
  private writeFile(key: string, data: Uint8Array | string): void {
    writeFileAtomic(join(this.path, ...key.split("/")), data, { fsync: this.fsync });
  }

  /** Replaces the user attributes (atomically). */
  async setAttributes(attributes: Record<string, unknown>): Promise<void> {
    this.meta.attributes = { ...attributes };
    if (this.meta.zarrFormat === 2) this.writeFile(".zattrs", JSON.stringify(attributes, null, 2));
    else {
      const json = emitV3(this.meta);
      // emitV3 writes the pipelines we create; keep the checksum an opened array's chunks carry.
      if (this.crc32c) (json.codecs as unknown[]).push({ name: "crc32c" });
      this.writeFile("zarr.json", JSON.stringify(json, null, 2));
    }
  }

  /** Number of chunks along each axis. */
  chunkGrid(): number[] {
    return this.meta.shape.map((s, i) => Math.ceil(s / this.meta.chunks[i]!));
  }

  chunkKey(coords: readonly number[]): string {
    return chunkKey(this.meta, coords);
  }

  chunkPath(coords: readonly number[]): string {
    return join(this.path, ...this.chunkKey(coords).split("/"));
  }

  /** True when the chunk has been written (missing chunks read as the fill value). */
  hasChunk(coords: readonly number[]): boolean {
    return existsSync(this.chunkPath(coords));
  }

  private chunkElements(): number {
    return product(this.meta.chunks);
  }

  /** Decodes one stored chunk (full chunk shape, edge chunks padded); null when the chunk was never written. */
  async readChunk(coords: readonly number[]): Promise<TypedArray | null> {
    if (this.meta.foreignCodecs) throw new VolumeError("chunk-level access needs a codec pipeline we decode ourselves", { path: this.path });
    const file = this.chunkPath(coords);
    let buf: Uint8Array;
    try {
      buf = readFileSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw new VolumeError("cannot read chunk", { path: file, location: this.chunkKey(coords), got: String(e) });
    }
    const n = this.chunkElements();
    const where = { path: file, location: this.chunkKey(coords) };
    const stored = this.meta.stored;
    const bytes = await decodeChunk(buf, this.meta.codec, this.meta.dtype, n * (stored ? stored.bytesPerElement : BYTES_PER_ELEMENT[this.meta.dtype]), where, { crc32c: this.crc32c });
    if (stored) {
      const u = unpackStored(bytes, stored, this.meta.dtype, this.meta.littleEndian, this.meta.chunks);
      return viewAs(this.meta.dtype, u.buffer, u.byteOffset, n);
    }
    return this.bytesToTyped(bytes, n);
  }

  private bytesToTyped(bytes: Uint8Array, n: number): TypedArray {
    const bpe = BYTES_PER_ELEMENT[this.meta.dtype];
    let b = bytes;
    if (b.byteOffset % bpe !== 0) b = b.slice();
    if (!this.meta.littleEndian && bpe > 1) {
      if (b === bytes) b = b.slice();
      for (let i = 0; i < b.length; i += bpe) b.subarray(i, i + bpe).reverse();
    }
    return viewAs(this.meta.dtype, b.buffer, b.byteOffset, n);
  }

  /** Encodes and atomically writes one full chunk (chunk-shaped data, edge chunks padded). */
  async writeChunk(coords: readonly number[], data: TypedArray): Promise<void> {
    if (dataTypeOf(data) !== this.meta.dtype)
      throw new VolumeError("dtype mismatch", { path: this.path, location: this.chunkKey(coords), expected: this.meta.dtype, got: dataTypeOf(data) });
    if (data.length !== this.chunkElements())
      throw new VolumeError("chunk data has the wrong size", { path: this.path, location: this.chunkKey(coords), expected: `${this.chunkElements()} elements`, got: String(data.length) });
    if (!this.meta.littleEndian) throw new VolumeError("writing big-endian arrays is not supported", { path: this.path });
    const st = this.meta.stored;
    if (st)
      throw new VolumeError("writing this array's stored form is not supported (it is read only)", {
        path: join(this.path, ".zarray"),
        field: st.delta ? "filters" : st.float16 ? "dtype" : "order",
        expected: 'a C-ordered array without filters of |u1 |i1 <u2 <i2 <u4 <i4 <f4 <f8',
        got: st.delta ? "delta filter" : st.float16 ? "<f2 (float16)" : '"F"',
      });
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const enc = await encodeChunk(bytes, this.meta.codec, this.meta.dtype, { crc32c: this.crc32c });
    this.writeFile(this.chunkKey(coords), enc);
  }

  /** Full selection of the array. */
  fullSelection(): Selection {
    return this.meta.shape.map((s) => [0, s] as [number, number]);
  }

  checkSelection(sel: Selection, what = "selection"): void {
    const shape = this.meta.shape;
    const ok =
      sel.length === shape.length &&
      sel.every(([a, b], i) => Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b <= shape[i]! && a <= b);
    if (!ok)
      throw new VolumeError("region out of bounds", {
        path: this.path,
        field: what,
        expected: `${shape.length} ranges [start, stop) within shape [${shape.join(", ")}]`,
        got: JSON.stringify(sel),
      });
  }

  /** Chunk coordinates of every chunk overlapping the selection, in C order. */
  chunksOverlapping(sel: Selection): number[][] {
    const ranges = sel.map(([a, b], i) => {
      const c = this.meta.chunks[i]!;
      return b > a ? [Math.floor(a / c), Math.ceil(b / c)] : [0, 0];
    });
    const out: number[][] = [];
    const n = ranges.length;
    if (ranges.some(([a, b]) => b! <= a!)) return out;
    const idx = ranges.map(([a]) => a!);
    for (;;) {
      out.push([...idx]);
      let ax = n - 1;
      while (ax >= 0) {
        if (++idx[ax]! < ranges[ax]![1]!) break;
        idx[ax] = ranges[ax]![0]!;
        ax--;
      }
      if (ax < 0) return out;
    }
  }

  /** Where chunk `coords` meets region `sel`: the start of the overlap inside each, and its extent. */
  private overlap(coords: readonly number[], sel: Selection): { inChunk: number[]; inRegion: number[]; extent: number[] } {
    const cs = this.meta.chunks;
    const inChunk: number[] = [];
    const inRegion: number[] = [];
    const extent: number[] = [];
    for (let i = 0; i < coords.length; i++) {
      const c0 = coords[i]! * cs[i]!;
      const lo = Math.max(c0, sel[i]![0]);
      const hi = Math.min(c0 + cs[i]!, sel[i]![1]);
      inChunk.push(lo - c0);
      inRegion.push(lo - sel[i]![0]);
      extent.push(hi - lo);
    }
    return { inChunk, inRegion, extent };
  }

  /**
   * Reads a region into a new typed array. Large reads decode chunks on worker threads into shared memory; the
   * returned array may then be backed by a SharedArrayBuffer that is longer than the data (decode scratch space):
   * use `data.byteOffset`/`data.byteLength`, not `data.buffer`, when you need its bytes.
   */
  async read(selection?: Selection, options: ReadOptions = {}): Promise<NdArray> {
    const sel = selection ?? this.fullSelection();
    this.checkSelection(sel);
    if (this.meta.foreignCodecs) return readWithZarrita(this, sel);
    if (options.cache) return this.readCached(sel, options.cache);
    const outShape = sel.map(([a, b]) => b - a);
    const n = product(outShape);
    const bpe = BYTES_PER_ELEMENT[this.meta.dtype];
    const chunkShape = this.meta.chunks;
    const chunkBytes = this.chunkElements() * bpe;
    const tasks: ChunkTask[] = [];
    for (const coords of this.chunksOverlapping(sel)) {
      const { inChunk, inRegion, extent } = this.overlap(coords, sel);
      tasks.push({ file: this.chunkPath(coords), key: this.chunkKey(coords), srcStart: inChunk, dstStart: inRegion, extent });
    }
    const job: ChunkJob = { codec: this.meta.codec, dtype: this.meta.dtype, bytesPerElement: bpe, littleEndian: this.meta.littleEndian, chunkShape, outShape, crc32c: this.crc32c, stored: this.meta.stored };
    // Output first, scratch after it (8-byte aligned so every dtype view is legal).
    const outBytes = Math.ceil((n * bpe) / 8) * 8;
    if (shouldUsePool(tasks.length, chunkBytes)) {
      const sab = new SharedArrayBuffer(outBytes + scratchBytes(chunkBytes));
      const out = viewAs(this.meta.dtype, sab, 0, n);
      if (this.meta.fillValue !== 0) out.fill(this.meta.fillValue);
      if (await readParallel(job, tasks, sab, outBytes, chunkBytes)) return { data: out, shape: outShape };
    }
    const ab = new ArrayBuffer(outBytes + (tasks.length ? chunkBytes : 0));
    const out = viewAs(this.meta.dtype, ab, 0, n);
    if (this.meta.fillValue !== 0) out.fill(this.meta.fillValue);
    const u8 = new Uint8Array(ab);
    for (const t of tasks) await readChunkInto(job, t, u8, outBytes);
    return { data: out, shape: outShape };
  }

  /** Writes `data` with its origin at `start`. Chunks covered only in part are read, updated and rewritten. */
  async write(start: readonly number[], data: NdArray): Promise<void> {
    const sel: Selection = start.map((s, i) => [s, s + (data.shape[i] ?? 0)] as [number, number]);
    if (data.shape.length !== this.ndim) throw new VolumeError("data has the wrong number of dimensions", { path: this.path, expected: String(this.ndim), got: String(data.shape.length) });
    this.checkSelection(sel, "write region");
    if (dataTypeOf(data.data) !== this.meta.dtype)
      throw new VolumeError("dtype mismatch", { path: this.path, expected: this.meta.dtype, got: dataTypeOf(data.data) });
    if (data.data.length !== product(data.shape))
      throw new VolumeError("data length does not match its shape", { path: this.path, expected: String(product(data.shape)), got: String(data.data.length) });
    const cs = this.meta.chunks;
    for (const coords of this.chunksOverlapping(sel)) {
      const { inChunk: dstStart, inRegion: srcStart, extent } = this.overlap(coords, sel);
      // A chunk whose valid part (edge chunks are clipped by the array) is covered entirely needs no read.
      const whole = coords.every((c, i) => dstStart[i] === 0 && extent[i] === Math.min(cs[i]!, this.meta.shape[i]! - c * cs[i]!));
      let chunk: TypedArray | null = whole ? null : await this.readChunk(coords);
      if (!chunk) {
        chunk = typedArrayFor(this.meta.dtype, this.chunkElements());
        if (this.meta.fillValue !== 0) chunk.fill(this.meta.fillValue);
      }
      copyBox(data.data, data.shape, srcStart, chunk, cs, dstStart, extent);
      await this.writeChunk(coords, chunk);
    }
  }

  /**
   * Chunk-aligned blocks over the array (or a selection), each with `halo` voxels of context read from neighbours.
   * One block is in memory at a time.
   */
  async *blocks(options: BlockOptions = {}): AsyncGenerator<Block> {
    const sel = options.selection ?? this.fullSelection();
    this.checkSelection(sel);
    const n = this.ndim;
    const halo = typeof options.halo === "number" ? new Array<number>(n).fill(options.halo) : options.halo ?? new Array<number>(n).fill(0);
    const bs = options.blockShape ?? this.meta.chunks;
    if (bs.length !== n || bs.some((b) => !Number.isInteger(b) || b < 1))
      throw new VolumeError("invalid block shape", { path: this.path, field: "blockShape", expected: `${n} positive integers`, got: JSON.stringify(bs) });
    // Blocks are aligned to the block grid (which is the chunk grid by default) so each chunk is decoded once.
    const starts = sel.map(([a, b], i) => {
      const s: number[] = [];
      for (let x = Math.floor(a / bs[i]!) * bs[i]!; x < b; x += bs[i]!) s.push(x);
      return s;
    });
    if (starts.some((s) => s.length === 0)) return;
    const cache = halo.some((h) => h > 0) && !this.meta.foreignCodecs ? new ChunkCache(this.blockCacheCapacity(bs, halo)) : null;
    const idx = new Array<number>(n).fill(0);
    for (;;) {
      const core: Selection = idx.map((k, i) => {
        const s = starts[i]![k]!;
        return [Math.max(s, sel[i]![0]), Math.min(s + bs[i]!, sel[i]![1])] as [number, number];
      });
      const read: Selection = core.map(([a, b], i) => [Math.max(0, a - halo[i]!), Math.min(this.meta.shape[i]!, b + halo[i]!)] as [number, number]);
      // With a halo, neighbouring blocks share chunks: keep recently decoded ones instead of decoding up to 27 per block.
      const data = cache ? await this.readCached(read, cache) : await this.read(read);
      yield { core, read, data };
      let ax = n - 1;
      while (ax >= 0) {
        if (++idx[ax]! < starts[ax]!.length) break;
        idx[ax] = 0;
        ax--;
      }
      if (ax < 0) return;
    }
  }

  /**
   * Chunks to keep while iterating blocks with a halo: every chunk a block touches plus one more row of blocks along
   * the fastest axis, so the next block and the next row reuse decoded neighbours. Capped at 256 MiB.
   */
  private blockCacheCapacity(bs: number[], halo: number[]): number {
    const n = this.ndim;
    const span = bs.map((b, i) => Math.ceil((b + 2 * halo[i]!) / this.meta.chunks[i]!) + 1);
    const grid = this.chunkGrid();
    let cap = 1;
    for (let i = 0; i < n; i++) cap *= i === n - 1 ? grid[i]! + span[i]! : span[i]!;
    const bytes = this.chunkElements() * BYTES_PER_ELEMENT[this.meta.dtype];
    return Math.max(1, Math.min(cap, Math.floor((256 << 20) / bytes)));
  }

  /**
   * A cache of decoded chunks of this array holding at most `budgetBytes` of them (at least one chunk), for callers
   * that read overlapping regions (sliding windows): pass it to `read` so each chunk is decoded once while it stays.
   */
  chunkCache(budgetBytes: number): ChunkCache {
    return new ChunkCache(Math.max(1, Math.floor(budgetBytes / (this.chunkElements() * BYTES_PER_ELEMENT[this.meta.dtype]))));
  }

  /** A region read that takes decoded chunks from (and adds them to) `cache`. */
  private async readCached(sel: Selection, cache: ChunkCache): Promise<NdArray> {
    const outShape = sel.map(([a, b]) => b - a);
    const out = typedArrayFor(this.meta.dtype, product(outShape));
    if (this.meta.fillValue !== 0) out.fill(this.meta.fillValue);
    const cs = this.meta.chunks;
    for (const coords of this.chunksOverlapping(sel)) {
      const key = coords.join(",");
      let chunk = cache.get(key);
      if (chunk === undefined) {
        chunk = await this.readChunk(coords);
        cache.set(key, chunk);
      }
      if (!chunk) continue;
      const { inChunk, inRegion, extent } = this.overlap(coords, sel);
      copyBox(chunk, cs, inChunk, out, outShape, inRegion, extent);
    }
    return { data: out, shape: outShape };
  }

  /** Size in bytes of the decoded array. */
  nbytes(): number {
    return product(this.meta.shape) * BYTES_PER_ELEMENT[this.meta.dtype];
  }

  /** Bytes on disk of the stored chunks (a sum over files; cheap only for small arrays). */
  storedBytes(): number {
    let total = 0;
    for (const c of this.chunksOverlapping(this.fullSelection())) {
      try {
        total += statSync(this.chunkPath(c)).size;
      } catch {
        /* missing chunk */
      }
    }
    return total;
  }
}

/** Least-recently-used decoded chunks of one array (null = chunk never written), bounded by count. */
export class ChunkCache {
  private readonly map = new Map<string, TypedArray | null>();
  constructor(private readonly capacity: number) {}
  get(key: string): TypedArray | null | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: TypedArray | null): void {
    this.map.set(key, v);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }
}

/**
 * Reads arrays whose codec pipeline we do not implement (sharding, transpose) through zarrita, with its crc32c codec
 * replaced by one that verifies the checksum and names the chunk or shard that fails it.
 */
async function readWithZarrita(arr: ZarrArray, sel: Selection): Promise<NdArray> {
  const zarr = await zarritaVerifyingCrc32c();
  const { default: FileSystemStore } = await import("@zarrita/storage/fs");
  const store = chunkNamingStore(new FileSystemStore(arr.path), arr.path);
  try {
    const node = await zarr.open.v3(zarr.root(store), { kind: "array" });
    const res = await zarr.get(node, sel.map(([a, b]) => zarr.slice(a, b)));
    return { data: res.data as unknown as TypedArray, shape: [...res.shape] };
  } catch (e) {
    // zarrita wraps codec errors in its own; ours name the chunk.
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof VolumeError) throw cause;
    throw e;
  }
}

