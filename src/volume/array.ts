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
import { groupAlongLastAxis, readGroupInto, type ChunkJob, type ChunkTask } from "./chunk-read.js";
import { readParallel, scratchBytes, shouldUsePool } from "./read-pool.js";
import { fetchAll, fetchJsonIfExists, fetchKey, isRemote, storeJoin } from "./store-http.js";
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
  type TypedArrayByDataType,
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
  /**
   * Read into this array (the region's dtype and element count) instead of a new one, and return it. Fastest with
   * the `data` of an earlier read of a region of the same shape: its pages are already mapped, and its buffer has
   * the decode room after it, so nothing is allocated.
   */
  out?: TypedArray;
}

/** Bytes of neighbouring chunks decoded side by side before their rows are placed (chunk-read.ts, groupAlongLastAxis). */
const GROUP_BYTES = 8 << 20;
/** Outputs from this size on are written row by row from groups of chunks. */
const GROUP_MIN_OUTPUT = 16 << 20;

export interface StoreOptions {
  /**
   * Flush every chunk and metadata file to the disk (fsync) before it replaces the old one, so a power loss cannot
   * leave a final result renamed into place but empty. Costs a disk round trip per file: for final outputs.
   */
  fsync?: boolean;
}

/**
 * A chunked zarr array. `D` is its dtype when known at compile time (from `create`, `openAs` or `hasDtype`): reads
 * then return the matching typed array (`ZarrArray<"uint8">` reads Uint8Array) without casts.
 */
export class ZarrArray<D extends DataType = DataType> {
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
  get dtype(): D {
    return this.meta.dtype as D;
  }

  /** Narrows the array's type to dtype `d` when it has it. */
  hasDtype<T extends DataType>(d: T): this is ZarrArray<T> {
    return this.meta.dtype === d;
  }

  /** Opens an array that must have dtype `dtype` (a VolumeError naming the path otherwise). */
  static async openAs<T extends DataType>(path: string, dtype: T, options: StoreOptions = {}): Promise<ZarrArray<T>> {
    const arr = await ZarrArray.open(path, options);
    if (!arr.hasDtype(dtype)) throw new VolumeError("array has another dtype", { path, field: "dtype", expected: dtype, got: arr.dtype });
    return arr;
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

  /** Opens a zarr v2 (`.zarray`) or v3 (`zarr.json`) array: a folder, or an http(s) URL (read only, store-http.ts). */
  static async open(path: string, options: StoreOptions = {}): Promise<ZarrArray> {
    if (isRemote(path)) return ZarrArray.openRemote(path, options);
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

  private static async openRemote(url: string, options: StoreOptions): Promise<ZarrArray> {
    const [v2, attrs, v3] = await Promise.all([".zarray", ".zattrs", "zarr.json"].map((k) => fetchJsonIfExists(storeJoin(url, k))));
    if (v2 !== undefined) return new ZarrArray(url, parseV2(storeJoin(url, ".zarray"), v2, attrs), options);
    const json = v3 as Record<string, unknown> | undefined;
    if (!json) throw new VolumeError("no zarr array metadata at this URL", { path: url, expected: ".zarray (zarr v2) or zarr.json (zarr v3)", got: "HTTP 404 for both" });
    if (json.node_type === "group")
      throw new VolumeError("this is a zarr group, not an array", { path: url, field: "node_type", expected: "array", got: "group" });
    const meta = parseV3(storeJoin(url, "zarr.json"), json);
    const crc32c = crc32cLastOnly(json.codecs);
    if (crc32c) meta.foreignCodecs = undefined;
    return new ZarrArray(url, meta, { ...options, crc32c });
  }

  /** Creates an empty array (all chunks missing, reads return the fill value). */
  static async create<T extends DataType>(path: string, spec: ArraySpec<T>, options: StoreOptions = {}): Promise<ZarrArray<T>> {
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
    const arr = new ZarrArray<T>(path, meta, options);
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
    if (isRemote(this.path)) throw new VolumeError("a store opened by URL is read only", { path: this.path, location: key, expected: "a local folder to write to" });
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
    return storeJoin(this.path, ...this.chunkKey(coords).split("/"));
  }

  /** True when the chunk has been written (missing chunks read as the fill value). Local stores only. */
  hasChunk(coords: readonly number[]): boolean {
    if (isRemote(this.path)) throw new VolumeError("hasChunk needs a local store (a remote one would need a request per chunk)", { path: this.path, location: this.chunkKey(coords) });
    return existsSync(this.chunkPath(coords));
  }

  private chunkElements(): number {
    return product(this.meta.chunks);
  }

  /** Decodes one stored chunk (full chunk shape, edge chunks padded); null when the chunk was never written. */
  readChunk(coords: readonly number[]): Promise<TypedArrayByDataType[D] | null>;
  async readChunk(coords: readonly number[]): Promise<TypedArray | null> {
    return this.readChunkFrom(coords);
  }

  /** readChunk, from bytes fetched already (a remote store's, null when the server had none) when given. */
  private async readChunkFrom(coords: readonly number[], fetched?: Uint8Array | null): Promise<TypedArray | null> {
    if (this.meta.foreignCodecs) throw new VolumeError("chunk-level access needs a codec pipeline we decode ourselves", { path: this.path });
    const file = this.chunkPath(coords);
    let buf: Uint8Array;
    if (fetched !== undefined || isRemote(file)) {
      const got = fetched !== undefined ? fetched : await fetchKey(file, { location: this.chunkKey(coords) });
      if (!got) return null;
      buf = got;
    } else
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
      const u = unpackStored(bytes, stored, this.meta.dtype, this.meta.littleEndian, this.meta.chunks, where);
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
    // Sharded or transposed v3 arrays are read through zarrita; writing a chunk file in our layout would replace a
    // whole shard (or store the wrong axis order) and lose data, so such arrays are read only.
    if (this.meta.foreignCodecs)
      throw new VolumeError("writing this array's codec pipeline is not supported (it is read only)", {
        path: join(this.path, "zarr.json"),
        field: "codecs",
        expected: "bytes with optional blosc, zstd, gzip and crc32c",
        got: "sharding_indexed or transpose",
      });
    const st = this.meta.stored;
    if (st)
      throw new VolumeError("writing this array's stored form is not supported (it is read only)", {
        path: join(this.path, ".zarray"),
        field: st.delta ? "filters" : st.float16 || st.int64 ? "dtype" : "order",
        expected: 'a C-ordered array without filters of |u1 |i1 <u2 <i2 <u4 <i4 <f4 <f8',
        got: st.delta ? "delta filter" : st.float16 ? "<f2 (float16)" : st.int64 ? "64-bit integers (read as float64)" : '"F"',
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
   * Reads a region into a new typed array, or into `options.out`. Large reads decode chunks on worker threads into
   * shared memory; the returned array may then be backed by a SharedArrayBuffer that is longer than the data (decode
   * scratch space): use `data.byteOffset`/`data.byteLength`, not `data.buffer`, when you need its bytes.
   */
  read(selection?: Selection, options?: ReadOptions): Promise<NdArray<TypedArrayByDataType[D]>>;
  async read(selection?: Selection, options: ReadOptions = {}): Promise<NdArray> {
    const sel = selection ?? this.fullSelection();
    this.checkSelection(sel);
    const outShape = sel.map(([a, b]) => b - a);
    const out = options.out;
    if (out) this.checkOut(out, product(outShape));
    if (this.meta.foreignCodecs || options.cache) {
      const res = this.meta.foreignCodecs ? await readWithZarrita(this, sel) : await this.readCached(sel, options.cache!);
      if (!out) return res;
      out.set(res.data as never);
      return { data: out, shape: outShape };
    }
    return this.readRegion(sel, outShape, out);
  }

  private checkOut(out: TypedArray, n: number): void {
    if (dataTypeOf(out) !== this.meta.dtype || out.length !== n)
      throw new VolumeError("the output array does not fit the region", {
        path: this.path,
        field: "out",
        expected: `${n} elements of ${this.meta.dtype}`,
        got: `${out.length} elements of ${dataTypeOf(out)}`,
      });
  }

  /**
   * The region read of our own codecs. Chunks are decoded in groups of neighbours along the last axis, into scratch
   * room after the output in the same buffer, so rows move with `copyWithin` (no views, no second buffer).
   */
  private async readRegion(sel: Selection, outShape: number[], out?: TypedArray): Promise<NdArray> {
    const n = product(outShape);
    const bpe = BYTES_PER_ELEMENT[this.meta.dtype];
    const chunkShape = this.meta.chunks;
    const chunkBytes = this.chunkElements() * bpe;
    const tasks: ChunkTask[] = [];
    for (const coords of this.chunksOverlapping(sel)) {
      const { inChunk, inRegion, extent } = this.overlap(coords, sel);
      tasks.push({ file: this.chunkPath(coords), key: this.chunkKey(coords), srcStart: inChunk, dstStart: inRegion, extent });
    }
    // A remote store's chunks are fetched here, all before any is decoded: a failed request fails the read whole.
    if (isRemote(this.path)) {
      const got = await fetchAll(tasks.map((t) => ({ url: t.file, location: t.key })));
      tasks.forEach((t, i) => (t.bytes = got[i] ?? null));
    }
    // Row-ordered placement pays from outputs far beyond the TLB's reach; a small read (a training patch, an
    // inference window) is faster decoding one chunk at a time into the same small scratch slot (measured: 32^3
    // windows of 64^3 chunks, 0.55 against 0.8 ms of CPU per read).
    const perGroup = n * bpe >= GROUP_MIN_OUTPUT ? Math.max(1, Math.floor(GROUP_BYTES / chunkBytes)) : 1;
    const groups = groupAlongLastAxis(tasks, perGroup);
    const slotBytes = Math.max(0, ...groups.map((g) => g.length)) * chunkBytes;
    // A fresh buffer is zeroed, so missing chunks need writing only for another fill value; a caller's may hold anything.
    const fill = out || this.meta.fillValue !== 0 ? this.meta.fillValue : undefined;
    const job: ChunkJob = { codec: this.meta.codec, dtype: this.meta.dtype, bytesPerElement: bpe, littleEndian: this.meta.littleEndian, chunkShape, outShape, crc32c: this.crc32c, stored: this.meta.stored, fill };
    // Output first, scratch after it (8-byte aligned so every dtype view is legal).
    const outBytes = Math.ceil((n * bpe) / 8) * 8;
    const pooled = shouldUsePool(tasks.length, chunkBytes);
    const scratchNeed = pooled ? scratchBytes(slotBytes) : slotBytes;
    // A caller's output is used in place when its buffer has the room after it (a result of an earlier read of the
    // same shape has), which saves faulting in fresh pages: about 2 us per 4 KiB page on our machines, the largest
    // cost of a raw read. Otherwise the region is read as usual and copied over.
    const room = out ? out.buffer.byteLength - (out.byteOffset + outBytes) : -1;
    if (out && room < scratchNeed) {
      const res = await this.readRegion(sel, outShape);
      out.set(res.data as never);
      return { data: out, shape: outShape };
    }
    const base = out ? out.byteOffset : 0;
    job.outOffset = base;
    if (pooled) {
      const sab = out && out.buffer instanceof SharedArrayBuffer ? out.buffer : out ? null : new SharedArrayBuffer(outBytes + scratchNeed);
      if (sab) {
        const data = out ?? viewAs(this.meta.dtype, sab, 0, n);
        if (await readParallel(job, groups, sab, base + outBytes, slotBytes)) return { data, shape: outShape };
      }
    }
    const ab = out ? out.buffer : new ArrayBuffer(outBytes + slotBytes);
    const data = out ?? viewAs(this.meta.dtype, ab, 0, n);
    const u8 = new Uint8Array(ab);
    for (const g of groups) await readGroupInto(job, g, u8, base + outBytes);
    return { data, shape: outShape };
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
  blocks(options?: BlockOptions): AsyncGenerator<Block<TypedArrayByDataType[D]>>;
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
    const all = this.chunksOverlapping(sel);
    // A remote store's chunks that the cache lacks are fetched together (latency, not bandwidth, bounds one by one).
    const fetched = new Map<string, Uint8Array | null>();
    if (isRemote(this.path)) {
      const missing = all.filter((c) => cache.get(c.join(",")) === undefined);
      const got = await fetchAll(missing.map((c) => ({ url: this.chunkPath(c), location: this.chunkKey(c) })));
      missing.forEach((c, i) => fetched.set(c.join(","), got[i] ?? null));
    }
    for (const coords of all) {
      const key = coords.join(",");
      let chunk = cache.get(key);
      if (chunk === undefined) {
        chunk = fetched.has(key) ? await this.readChunkFrom(coords, fetched.get(key) ?? null) : await this.readChunk(coords);
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
    if (isRemote(this.path)) throw new VolumeError("storedBytes needs a local store", { path: this.path });
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
  const base = isRemote(arr.path)
    ? new (await import("@zarrita/storage/fetch")).default(arr.path)
    : new (await import("@zarrita/storage/fs")).default(arr.path);
  const store = chunkNamingStore(base, arr.path);
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

