/**
 * Chunk integrity on disk: the zarr v3 crc32c codec (known answers, our arrays' chunks verified on every read path,
 * zarrita's sharded reads verified too) and the fsync option for final outputs (it reaches every atomic write).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import * as atomic from "../../src/util/atomic-write.js";
import { VolumeError } from "../../src/util/errors.js";
import { crc32c, appendCrc32c, stripCrc32c, crc32cLastOnly } from "../../src/volume/crc32c.js";
import { ZarrArray } from "../../src/volume/index.js";
import type { CodecSpec } from "../../src/volume/types.js";
import { rng, tempDir } from "../helpers/tmp.js";

// A pass-through spy: every write still happens, and we see the options each one got.
vi.mock("../../src/util/atomic-write.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/util/atomic-write.js")>();
  return { ...real, writeFileAtomic: vi.fn(real.writeFileAtomic) };
});

const dir = tempDir("ssb-ct-crc-");
const ascii = (s: string) => new TextEncoder().encode(s);

/** Bit-at-a-time CRC-32C, the definition the table-driven one must agree with. */
function crc32cBitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("CRC-32C", () => {
  it("gives the known answers (the check value and RFC 3720 B.4)", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("agrees with the bit-at-a-time definition at every length and when continued", () => {
    const r = rng(3);
    const data = Uint8Array.from({ length: 300 }, () => Math.floor(r() * 256));
    for (let n = 0; n <= 300; n += 7) expect(crc32c(data, 0, n), `n=${n}`).toBe(crc32cBitwise(data.subarray(0, n)));
    expect(crc32c(data, 123, 300, crc32c(data, 0, 123))).toBe(crc32c(data));
  });

  it("appends the checksum little-endian and refuses a chunk whose checksum does not match", () => {
    const enc = appendCrc32c(ascii("123456789"));
    expect([...enc.subarray(9)]).toEqual([0x83, 0x92, 0x06, 0xe3]);
    expect(Buffer.from(stripCrc32c(enc, { path: "p" })).toString()).toBe("123456789");
    enc[3] = (enc[3] ?? 0) ^ 1;
    expect(() => stripCrc32c(enc, { path: "p", location: "c/0" })).toThrow(/crc32c checksum mismatch.*at: c\/0.*field: crc32c/);
    expect(() => stripCrc32c(new Uint8Array(3), { path: "p" })).toThrow(/truncated chunk.*3 bytes/);
  });

  it("recognises the v3 pipelines our reader decodes itself", () => {
    const c = (...names: string[]) => names.map((name) => ({ name, configuration: {} }));
    expect(crc32cLastOnly(c("bytes", "crc32c"))).toBe(true);
    expect(crc32cLastOnly(c("bytes", "blosc", "crc32c"))).toBe(true);
    expect(crc32cLastOnly(c("bytes", "zstd"))).toBe(false);
    expect(crc32cLastOnly(c("bytes", "crc32c", "zstd"))).toBe(false);
    expect(crc32cLastOnly(c("transpose", "bytes", "crc32c"))).toBe(false);
    expect(crc32cLastOnly(c("sharding_indexed", "crc32c"))).toBe(false);
  });
});

/** A v3 array whose metadata lists crc32c after its compressor (as zarr-python 3 writes when asked). */
async function crcArray(name: string, codec: CodecSpec, shape = [40, 36], chunks = [16, 16]): Promise<ZarrArray> {
  const path = join(dir, name);
  await ZarrArray.create(path, { shape, chunks, dtype: "uint16", codec, zarrFormat: 3 });
  const meta = JSON.parse(readFileSync(join(path, "zarr.json"), "utf8"));
  meta.codecs.push({ name: "crc32c" });
  writeFileSync(join(path, "zarr.json"), JSON.stringify(meta));
  return ZarrArray.open(path);
}

describe("zarr v3 arrays with crc32c", () => {
  const codecs: Array<[string, CodecSpec]> = [
    ["raw", { name: "raw" }],
    ["blosc", { name: "blosc", cname: "lz4", shuffle: "byte" }],
    ["zstd", { name: "zstd" }],
    ["gzip", { name: "gzip" }],
  ];
  for (const [name, codec] of codecs)
    it(`writes the checksum and verifies it on every read (${name})`, async () => {
      const arr = await crcArray(`crc-${name}.zarr`, codec);
      const data = Uint16Array.from({ length: 40 * 36 }, (_, i) => (i * 37) % 1000);
      await arr.write([0, 0], { data, shape: [40, 36] });
      const file = arr.chunkPath([1, 0]);
      const stored = readFileSync(file);
      // The chunk ends with the CRC-32C of what precedes it.
      expect(stored.readUInt32LE(stored.length - 4)).toBe(crc32c(stored, 0, stored.length - 4));
      expect([...(await arr.read()).data]).toEqual([...data]);
      // zarrita (which strips crc32c) reads our chunks as the same values: the layout is the codec's.
      const zarr = await import("zarrita");
      const { default: FileSystemStore } = await import("@zarrita/storage/fs");
      const node = await zarr.open.v3(zarr.root(new FileSystemStore(arr.path)), { kind: "array" });
      expect([...((await zarr.get(node)).data as Uint16Array)]).toEqual([...data]);
      // One flipped bit anywhere in a chunk is refused by name on each read path.
      const bad = Buffer.from(stored);
      bad[Math.floor(bad.length / 3)] = (bad[Math.floor(bad.length / 3)] ?? 0) ^ 0x10;
      writeFileSync(file, bad);
      const named = /crc32c checksum mismatch.*at: c\/1\/0/;
      await expect(arr.read()).rejects.toThrow(named);
      await expect(arr.readChunk([1, 0])).rejects.toThrow(named);
      await expect(arr.read([[16, 20], [0, 4]], { cache: arr.chunkCache(1 << 20) })).rejects.toThrow(named);
      // The other chunks still read.
      expect((await arr.read([[0, 16], [0, 36]])).data.length).toBe(16 * 36);
      // Rewriting attributes keeps crc32c in the metadata, so the chunks stay readable.
      writeFileSync(file, stored);
      await arr.setAttributes({ note: "kept" });
      const again = await ZarrArray.open(arr.path);
      expect(JSON.parse(readFileSync(join(arr.path, "zarr.json"), "utf8")).codecs.at(-1).name).toBe("crc32c");
      expect([...(await again.read()).data]).toEqual([...data]);
    });

  it("verifies the crc32c of a shard index read through zarrita and names the shard", async () => {
    // A hand-made sharded array (zarrita cannot write shards): one 4x4 shard of four raw 2x2 inner chunks, the index
    // (offset, size per inner chunk, uint64) protected by crc32c as zarr-python 3 writes it by default.
    const path = join(dir, "sharded.zarr");
    await ZarrArray.create(path, { shape: [4, 4], chunks: [4, 4], dtype: "uint16", zarrFormat: 3, codec: { name: "raw" } });
    const meta = JSON.parse(readFileSync(join(path, "zarr.json"), "utf8"));
    meta.codecs = [
      {
        name: "sharding_indexed",
        configuration: {
          chunk_shape: [2, 2],
          codecs: [{ name: "bytes", configuration: { endian: "little" } }],
          index_codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "crc32c" }],
          index_location: "end",
        },
      },
    ];
    writeFileSync(join(path, "zarr.json"), JSON.stringify(meta));
    const values = Uint16Array.from({ length: 16 }, (_, i) => 100 + i);
    const inner: number[] = [];
    for (const [r0, c0] of [[0, 0], [0, 2], [2, 0], [2, 2]] as const)
      for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) inner.push(values[(r0 + r) * 4 + c0 + c]!);
    const chunks = new Uint8Array(Uint16Array.from(inner).buffer);
    const index = new DataView(new ArrayBuffer(4 * 16));
    for (let k = 0; k < 4; k++) {
      index.setBigUint64(16 * k, BigInt(8 * k), true);
      index.setBigUint64(16 * k + 8, 8n, true);
    }
    const shard = new Uint8Array([...chunks, ...appendCrc32c(new Uint8Array(index.buffer))]);
    const shardFile = join(path, "c", "0", "0");
    (await import("node:fs")).mkdirSync(join(path, "c", "0"), { recursive: true });
    writeFileSync(shardFile, shard);
    const arr = await ZarrArray.open(path);
    expect([...(await arr.read()).data]).toEqual([...values]);
    // Writing would replace the whole shard with one chunk in our layout: refused by name, the shard untouched.
    await expect(arr.writeChunk([0, 0], new Uint16Array(16))).rejects.toThrow(/read only.*zarr\.json.*codecs.*sharding_indexed/s);
    await expect(arr.write([0, 0], { data: new Uint16Array(4), shape: [2, 2] })).rejects.toThrow(VolumeError);
    expect(readFileSync(shardFile)).toEqual(Buffer.from(shard));
    const bad = Uint8Array.from(shard);
    bad[chunks.length + 3] = (bad[chunks.length + 3] ?? 0) ^ 1; // inside the index
    writeFileSync(shardFile, bad);
    const err = await arr.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeError);
    expect((err as VolumeError).details.location).toBe("c/0/0");
    expect((err as VolumeError).message).toMatch(/crc32c checksum mismatch/);
  });
});

describe("fsync option", () => {
  const spy = vi.mocked(atomic.writeFileAtomic);
  const fsyncOf = (from: number) => spy.mock.calls.slice(from).map(([p, , o]) => [String(p).slice(dir.length + 1), o?.fsync === true]);

  it("flushes every chunk and metadata write of an array created or opened with it, and no others", async () => {
    const p = join(dir, "durable.zarr");
    let n = spy.mock.calls.length;
    const arr = await ZarrArray.create(p, { shape: [8, 8], chunks: [4, 8], dtype: "uint8", attributes: { a: 1 } }, { fsync: true });
    expect(arr.fsync).toBe(true);
    await arr.write([0, 0], { data: new Uint8Array(64).fill(3), shape: [8, 8] });
    await arr.setAttributes({ a: 2 });
    expect(fsyncOf(n)).toEqual([
      ["durable.zarr/.zarray", true],
      ["durable.zarr/.zattrs", true],
      ["durable.zarr/0/0", true],
      ["durable.zarr/1/0", true],
      ["durable.zarr/.zattrs", true],
    ]);
    n = spy.mock.calls.length;
    const reopened = await ZarrArray.open(p, { fsync: true });
    await reopened.writeChunk([0, 0], new Uint8Array(32).fill(4));
    const plain = await ZarrArray.open(p);
    expect(plain.fsync).toBe(false);
    await plain.writeChunk([1, 0], new Uint8Array(32).fill(5));
    expect(fsyncOf(n)).toEqual([
      ["durable.zarr/0/0", true],
      ["durable.zarr/1/0", false],
    ]);
    expect([...(await plain.read([[0, 8], [0, 1]])).data]).toEqual([4, 4, 4, 4, 5, 5, 5, 5]);
  });

  it("flushes the zarr.json of a v3 array", async () => {
    const n = spy.mock.calls.length;
    await ZarrArray.create(join(dir, "durable3.zarr"), { shape: [4], chunks: [4], dtype: "uint8", zarrFormat: 3 }, { fsync: true });
    expect(fsyncOf(n)).toEqual([["durable3.zarr/zarr.json", true]]);
  });
});
