/**
 * Round trips with zarr-python 2.13 (Debian python3-zarr) both ways, and with zarrita for zarr v3:
 * an independent implementation must read our bytes, and we must read theirs, voxel for voxel.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ZarrArray, typedArrayFor, type CodecSpec, type DataType, type TypedArray } from "../../src/volume/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { rng, tempDir } from "../helpers/tmp.js";

const py = hasPythonModules("zarr", "numcodecs", "numpy");
const dir = tempDir();

function sample(dtype: DataType, n: number, seed: number): TypedArray {
  const r = rng(seed);
  const a = typedArrayFor(dtype, n);
  // Smooth structure plus noise so compressors have something realistic to do.
  for (let i = 0; i < n; i++) {
    const v = Math.sin(i / 97) * 0.5 + 0.5 + 0.2 * r();
    a[i] = dtype === "float32" ? v * 1000 - 300 : dtype === "uint8" ? Math.floor(v * 200) : Math.floor(v * 50000);
  }
  return a;
}

const NP: Record<string, string> = { uint8: "uint8", uint16: "<u2", float32: "<f4", int16: "<i2", int32: "<i4", float64: "<f8", uint32: "<u4" };

const codecs: Array<[string, CodecSpec]> = [
  ["blosc-lz4", { name: "blosc", cname: "lz4", clevel: 5, shuffle: "byte" }],
  ["blosc-zstd-bit", { name: "blosc", cname: "zstd", clevel: 3, shuffle: "bit" }],
  ["zstd", { name: "zstd", level: 3 }],
  ["gzip", { name: "gzip", level: 4 }],
  ["raw", { name: "raw" }],
];
const dtypes: DataType[] = ["uint8", "uint16", "float32"];
const shape = [37, 50, 29];
const chunks = [16, 16, 16];

describe.skipIf(!py)("zarr v2 interoperability with zarr-python", () => {
  for (const [cname, codec] of codecs)
    for (const dtype of dtypes) {
      it(`zarr-python reads what we write (${cname}, ${dtype}, ragged edge chunks)`, async () => {
        const path = join(dir, `ours-${cname}-${dtype}.zarr`);
        const n = shape.reduce((a, b) => a * b);
        const data = sample(dtype, n, 7);
        const arr = await ZarrArray.create(path, { shape, chunks, dtype, codec });
        // Two partial writes that straddle chunk boundaries exercise read-modify-write.
        await arr.write([0, 0, 0], { data: data.slice(0, 20 * 50 * 29), shape: [20, 50, 29] });
        await arr.write([20, 0, 0], { data: data.slice(20 * 50 * 29), shape: [17, 50, 29] });
        writeFileSync(`${path}.bin`, new Uint8Array(data.buffer));
        const out = runPython(
          `import sys, json, zarr, numpy as np
z = zarr.open(sys.argv[1], mode="r")
ref = np.fromfile(sys.argv[1] + ".bin", dtype=sys.argv[2]).reshape(z.shape)
print(json.dumps({"shape": list(z.shape), "chunks": list(z.chunks), "equal": bool(np.array_equal(z[:], ref)), "dtype": str(z.dtype)}))`,
          [path, NP[dtype]!],
        );
        const res = JSON.parse(out.trim().split("\n").pop()!);
        expect(res.shape).toEqual(shape);
        expect(res.chunks).toEqual(chunks);
        expect(res.equal).toBe(true);
      });
    }

  const pyCompressors: Record<string, string> = {
    "blosc-lz4": "numcodecs.Blosc(cname='lz4', clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)",
    "blosc-lz4-bit": "numcodecs.Blosc(cname='lz4', clevel=5, shuffle=numcodecs.Blosc.BITSHUFFLE)",
    "blosc-zstd": "numcodecs.Blosc(cname='zstd', clevel=3, shuffle=numcodecs.Blosc.SHUFFLE)",
    zstd: "numcodecs.Zstd(level=3)",
    gzip: "numcodecs.GZip(level=4)",
    zlib: "numcodecs.Zlib(level=4)",
    raw: "None",
  };
  for (const [cname, comp] of Object.entries(pyCompressors))
    for (const dtype of dtypes) {
      it(`we read what zarr-python writes (${cname}, ${dtype}, dimension_separator ${cname === "zstd" ? "/" : "."})`, async () => {
        const path = join(dir, `py-${cname}-${dtype}.zarr`);
        runPython(
          `import sys, zarr, numcodecs, numpy as np
rs = np.random.RandomState(3)
a = (rs.random_sample((37, 50, 29)) * 1000).astype(sys.argv[2])
z = zarr.open(sys.argv[1], mode="w", shape=a.shape, chunks=(16, 16, 16), dtype=a.dtype, compressor=${comp}${cname === "zstd" ? ", dimension_separator='/'" : ""})
z[:] = a
a.tofile(sys.argv[1] + ".bin")`,
          [path, NP[dtype]!],
        );
        const arr = await ZarrArray.open(path);
        expect(arr.shape).toEqual(shape);
        expect(arr.dtype).toBe(dtype);
        const got = await arr.read();
        const ref = readFileSync(`${path}.bin`);
        expect(Buffer.from(got.data.buffer, got.data.byteOffset, got.data.byteLength).equals(ref)).toBe(true);
        // A region that cuts through chunks must match the same region of the reference.
        const sub = await arr.read([[5, 30], [17, 18], [3, 29]]);
        const refArr = new (got.data.constructor as new (b: ArrayBuffer) => TypedArray)(ref.buffer.slice(ref.byteOffset, ref.byteOffset + ref.byteLength));
        let mismatches = 0;
        for (let z = 5; z < 30; z++) for (let x = 3; x < 29; x++) if (sub.data[(z - 5) * 26 + (x - 3)] !== refArr[(z * 50 + 17) * 29 + x]) mismatches++;
        expect(sub.shape).toEqual([25, 1, 26]);
        expect(mismatches).toBe(0);
      });
    }

  it("a large read decoded on worker threads matches zarr-python and our single-thread read", async () => {
    const { poolSize, stopReadPool } = await import("../../src/volume/read-pool.js");
    const path = join(dir, "py-large.zarr");
    runPython(
      `import sys, zarr, numcodecs, numpy as np
rs = np.random.RandomState(5)
a = (rs.random_sample((150, 128, 100)) * 60000).astype("<u2")
z = zarr.open(sys.argv[1], mode="w", shape=a.shape, chunks=(32, 32, 32), dtype=a.dtype, compressor=numcodecs.Blosc(cname="zstd", clevel=1, shuffle=numcodecs.Blosc.BITSHUFFLE))
z[:] = a
a.tofile(sys.argv[1] + ".bin")`,
      [path],
    );
    const ref = readFileSync(`${path}.bin`);
    const arr = await ZarrArray.open(path);
    const prev = process.env.SSB_CT_READ_THREADS;
    try {
      process.env.SSB_CT_READ_THREADS = "2";
      expect(poolSize()).toBe(2);
      const pooled = await arr.read();
      expect(pooled.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(Buffer.from(pooled.data.buffer, pooled.data.byteOffset, pooled.data.byteLength).equals(ref)).toBe(true);
      process.env.SSB_CT_READ_THREADS = "0";
      const serial = await arr.read();
      expect(serial.data.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expect(Buffer.from(serial.data.buffer, serial.data.byteOffset, serial.data.byteLength).equals(ref)).toBe(true);
    } finally {
      if (prev === undefined) delete process.env.SSB_CT_READ_THREADS;
      else process.env.SSB_CT_READ_THREADS = prev;
      await stopReadPool();
    }
  });

  it("reads a big-endian array and missing chunks as the fill value", async () => {
    const path = join(dir, "py-be.zarr");
    runPython(
      `import sys, zarr, numpy as np
z = zarr.open(sys.argv[1], mode="w", shape=(20, 20), chunks=(8, 8), dtype=">u2", fill_value=7)
z[0:8, 0:8] = np.arange(64, dtype=">u2").reshape(8, 8)`,
      [path],
    );
    const arr = await ZarrArray.open(path);
    const r = await arr.read();
    expect(r.data[0]).toBe(0);
    expect(r.data[7 * 20 + 7]).toBe(63);
    expect(r.data[19 * 20 + 19]).toBe(7);
  });
});

describe("zarr v3 interoperability with zarrita", () => {
  it("zarrita reads our v3 arrays and we read zarrita's", async () => {
    const zarr = await import("zarrita");
    const { default: FileSystemStore } = await import("@zarrita/storage/fs");
    const path = join(dir, "ours-v3.zarr");
    const data = sample("uint16", 37 * 50 * 29, 11);
    const ours = await ZarrArray.create(path, { shape, chunks, dtype: "uint16", zarrFormat: 3, codec: { name: "zstd", level: 3 } });
    await ours.write([0, 0, 0], { data, shape });
    const z = await zarr.open.v3(zarr.root(new FileSystemStore(path)), { kind: "array" });
    const got = await zarr.get(z);
    expect(Array.from(got.shape)).toEqual(shape);
    expect(Buffer.from((got.data as Uint16Array).buffer).equals(Buffer.from(data.buffer))).toBe(true);

    const path2 = join(dir, "zarrita-v3.zarr");
    const store = new FileSystemStore(path2);
    const zw = await zarr.create(zarr.root(store), { shape, chunkShape: chunks, dtype: "uint16", codecs: [{ name: "bytes", configuration: { endian: "little" } }, { name: "zstd", configuration: { level: 1, checksum: false } }] });
    await zarr.set(zw, null, { data: data as Uint16Array, shape, stride: [50 * 29, 29, 1] });
    const back = await (await ZarrArray.open(path2)).read();
    expect(Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(Buffer.from(data.buffer))).toBe(true);
  });
});
