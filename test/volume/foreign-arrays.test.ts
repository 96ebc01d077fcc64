/**
 * Arrays other tools write (the issue "Read what other tools write"): zarr-python 2.13 + numcodecs write bool,
 * float16, int64/uint64, Fortran-ordered, Blosc AUTOSHUFFLE, numcodecs LZ4 and Delta-filtered arrays with random values and ragged
 * edge chunks; we read them voxel for voxel (against the bytes numpy writes of the array converted to the type we
 * read as). Variants we do not read fail with a VolumeError naming the .zarray and the field.
 * zarr-python 3 is not packaged for Debian bookworm, so "open an array written by zarr-python v3" is not tested here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VolumeError, ZarrArray, type DataType } from "../../src/volume/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { tempDir } from "../helpers/tmp.js";

const py = hasPythonModules("zarr", "numcodecs", "numpy");
const dir = tempDir();

interface Variant {
  name: string;
  /** Python expression for the values `a` (RandomState `rs`, shape `shape`). */
  values: string;
  /** Extra zarr.open keyword arguments. */
  kwargs: string;
  /** The dtype we read as, and numpy's name of it for the reference bytes. */
  dtype: DataType;
  np: string;
  shape?: number[];
  chunks?: number[];
}

const S = [23, 30, 19];
const C = [8, 16, 7];

const variants: Variant[] = [
  { name: "bool |b1 as uint8 0/1", values: "rs.random_sample(shape) > 0.5", kwargs: "compressor=numcodecs.Blosc()", dtype: "uint8", np: "u1" },
  { name: "bool |b1, raw, fill_value True", values: "rs.random_sample(shape) > 0.3", kwargs: "compressor=None, fill_value=True", dtype: "uint8", np: "u1" },
  { name: "float16 <f2 as float32 (zstd)", values: "(rs.standard_normal(shape) * 300).astype('<f2')", kwargs: "compressor=numcodecs.Zstd(level=3)", dtype: "float32", np: "<f4" },
  { name: "float16 >f2 big-endian, raw", values: "(rs.standard_normal(shape) * 3).astype('>f2')", kwargs: "compressor=None", dtype: "float32", np: "<f4" },
  { name: "order F uint16 (blosc lz4)", values: "(rs.random_sample(shape) * 60000).astype('<u2')", kwargs: "order='F'", dtype: "uint16", np: "<u2" },
  { name: "order F float64 4D (gzip)", values: "rs.standard_normal(shape)", kwargs: "order='F', compressor=numcodecs.GZip(level=4)", dtype: "float64", np: "<f8", shape: [5, 9, 11, 6], chunks: [2, 4, 5, 4] },
  { name: "order F int8 2D (raw)", values: "rs.randint(-128, 128, shape).astype('i1')", kwargs: "order='F', compressor=None", dtype: "int8", np: "i1", shape: [41, 27], chunks: [16, 10] },
  { name: "blosc AUTOSHUFFLE uint8 (bit shuffle)", values: "(rs.random_sample(shape) * 40).astype('u1')", kwargs: "compressor=numcodecs.Blosc(cname='lz4', shuffle=-1)", dtype: "uint8", np: "u1" },
  { name: "blosc AUTOSHUFFLE int32 (byte shuffle)", values: "rs.randint(-100000, 100000, shape).astype('<i4')", kwargs: "compressor=numcodecs.Blosc(cname='zstd', shuffle=-1)", dtype: "int32", np: "<i4" },
  { name: "blosc AUTOSHUFFLE float32", values: "rs.standard_normal(shape).astype('<f4')", kwargs: "compressor=numcodecs.Blosc(cname='blosclz', shuffle=numcodecs.Blosc.AUTOSHUFFLE)", dtype: "float32", np: "<f4" },
  { name: "numcodecs LZ4 float32", values: "rs.standard_normal(shape).astype('<f4')", kwargs: "compressor=numcodecs.LZ4()", dtype: "float32", np: "<f4" },
  { name: "numcodecs LZ4 uint8, acceleration 5", values: "(np.sin(np.arange(np.prod(shape)) / 30).reshape(shape) * 100 + 120).astype('u1')", kwargs: "compressor=numcodecs.LZ4(acceleration=5)", dtype: "uint8", np: "u1" },
  { name: "Delta int32 (blosc)", values: "np.cumsum(rs.randint(-50, 50, np.prod(shape))).reshape(shape).astype('<i4')", kwargs: "filters=[numcodecs.Delta(dtype='<i4')]", dtype: "int32", np: "<i4" },
  { name: "Delta uint8 wrapping", values: "rs.randint(0, 256, shape).astype('u1')", kwargs: "filters=[numcodecs.Delta(dtype='u1')], compressor=None", dtype: "uint8", np: "u1" },
  { name: "Delta int32 astype int16 (zlib)", values: "(np.cumsum(rs.randint(-9, 9, np.prod(shape))) + 70000).reshape(shape).astype('<i4')", kwargs: "filters=[numcodecs.Delta(dtype='<i4', astype='<i2')], compressor=numcodecs.Zlib()", dtype: "int32", np: "<i4" },
  { name: "Delta float64", values: "np.cumsum(rs.standard_normal(np.prod(shape))).reshape(shape)", kwargs: "filters=[numcodecs.Delta(dtype='<f8')], compressor=numcodecs.LZ4()", dtype: "float64", np: "<f8" },
  { name: "Delta uint16 + order F + AUTOSHUFFLE", values: "(rs.random_sample(shape) * 60000).astype('<u2')", kwargs: "order='F', filters=[numcodecs.Delta(dtype='<u2')], compressor=numcodecs.Blosc(shuffle=-1)", dtype: "uint16", np: "<u2" },
  // scikit-image's label() and napari's label layers write int64: read as float64, exact below 2^53.
  { name: "int64 <i8 labels as float64 (blosc)", values: "rs.randint(-2**40, 2**40, shape).astype('<i8')", kwargs: "compressor=numcodecs.Blosc()", dtype: "float64", np: "<f8" },
  { name: "uint64 >u8 big-endian at 2^53, raw, fill 7", values: "np.where(rs.random_sample(shape) > 0.5, 2**53, rs.randint(0, 9, shape)).astype('>u8')", kwargs: "compressor=None, fill_value=7", dtype: "float64", np: "<f8" },
  { name: "float16 + order F + LZ4", values: "(rs.standard_normal(shape) * 10).astype('<f2')", kwargs: "order='F', compressor=numcodecs.LZ4()", dtype: "float32", np: "<f4" },
];

const WRITE = `import sys, json, zarr, numcodecs, numpy as np
shape = tuple(json.loads(sys.argv[2])); chunks = tuple(json.loads(sys.argv[3]))
rs = np.random.RandomState(11)
a = np.asarray(VALUES)
z = zarr.open(sys.argv[1], mode="w", shape=shape, chunks=chunks, dtype=a.dtype, KWARGS)
z[:] = a
b = zarr.open(sys.argv[1], mode="r")[:]
np.ascontiguousarray(b).astype(sys.argv[4]).tofile(sys.argv[1] + ".bin")`;

function write(name: string, v: { values: string; kwargs: string; np: string }, shape: number[], chunks: number[]): string {
  const path = join(dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.zarr`);
  runPython(WRITE.replace("VALUES", v.values).replace("KWARGS", v.kwargs), [path, JSON.stringify(shape), JSON.stringify(chunks), v.np]);
  return path;
}

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

describe.skipIf(!py)("arrays written by zarr-python 2.13 and numcodecs", () => {
  for (const v of variants)
    it(`reads ${v.name}, ragged edge chunks, voxel for voxel`, async () => {
      const shape = v.shape ?? S;
      const chunks = v.chunks ?? C;
      const path = write(v.name, v, shape, chunks);
      const ref = readFileSync(`${path}.bin`);
      const arr = await ZarrArray.open(path);
      expect(arr.dtype).toBe(v.dtype);
      expect(arr.shape).toEqual(shape);
      const all = await arr.read();
      expect(bytesOf(all.data).equals(ref)).toBe(true);
      // A region that cuts through chunks, through the plain and the chunk-cache paths.
      const sel = shape.map((s, i) => [Math.min(3, s - 1), Math.max(Math.min(3, s - 1) + 1, s - 2 - i)] as [number, number]);
      const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
      const ext = sel.map(([a, b]) => b - a);
      for (const sub of [await arr.read(sel), await arr.read(sel, { cache: arr.chunkCache(1 << 20) })]) {
        expect(sub.shape).toEqual(ext);
        let bad = 0;
        for (let k = 0; k < sub.data.length; k++) {
          let rem = k;
          let off = 0;
          for (let i = ext.length - 1; i >= 0; i--) {
            off += (sel[i]![0] + (rem % ext[i]!)) * strides[i]!;
            rem = Math.floor(rem / ext[i]!);
          }
          if (sub.data[k] !== all.data[off] && !(Number.isNaN(sub.data[k]) && Number.isNaN(all.data[off]))) bad++;
        }
        expect(bad).toBe(0);
      }
      if (v.np === "u1" && v.name.startsWith("bool")) expect(all.data.every((x) => x === 0 || x === 1)).toBe(true);
    });

  it("reads a large Fortran-ordered Delta array on worker threads as on one thread", async () => {
    const { stopReadPool } = await import("../../src/volume/read-pool.js");
    const v = { values: "(rs.random_sample(shape) * 60000).astype('<u2')", kwargs: "order='F', filters=[numcodecs.Delta(dtype='<u2')], compressor=numcodecs.LZ4()", np: "<u2" };
    const path = write("large-F-delta", v, [130, 128, 100], [32, 32, 32]);
    const ref = readFileSync(`${path}.bin`);
    const prev = process.env.SSB_CT_READ_THREADS;
    try {
      process.env.SSB_CT_READ_THREADS = "2";
      const arr = await ZarrArray.open(path);
      const got = await arr.read();
      expect(bytesOf(got.data).equals(ref)).toBe(true);
    } finally {
      if (prev === undefined) delete process.env.SSB_CT_READ_THREADS;
      else process.env.SSB_CT_READ_THREADS = prev;
      await stopReadPool();
    }
  });

  const refused: Array<[string, string, string, string]> = [
    ["int64 with a Delta filter", "rs.randint(-5, 5, shape).astype('<i8')", "filters=[numcodecs.Delta(dtype='<i8')]", "filters"],
    ["filter FixedScaleOffset", "rs.standard_normal(shape)", "filters=[numcodecs.FixedScaleOffset(offset=0, scale=10, dtype='<f8', astype='<i4')]", "filters[0].id"],
    ["two filters", "rs.randint(0, 9, shape).astype('<i4')", "filters=[numcodecs.Delta(dtype='<i4'), numcodecs.Delta(dtype='<i4')]", "filters"],
    ["compressor BZ2", "rs.randint(0, 9, shape).astype('<i4')", "compressor=numcodecs.BZ2()", "compressor.id"],
    ["complex dtype", "rs.standard_normal(shape).astype('<c8')", "compressor=None", "dtype"],
  ];
  for (const [name, values, kwargs, field] of refused)
    it(`refuses ${name} with a VolumeError naming the .zarray and field ${field}`, async () => {
      const path = write(`refused-${name}`, { values, kwargs, np: "<f8" }, [6, 5], [4, 4]);
      const err = await ZarrArray.open(path).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VolumeError);
      expect((err as VolumeError).details.path).toBe(join(path, ".zarray"));
      expect((err as VolumeError).details.field).toBe(field);
    });

  it("refuses, naming the chunk, a 64-bit integer that float64 would round (beyond 2^53); other chunks still read", async () => {
    const v = { values: "np.where(np.arange(np.prod(shape)).reshape(shape) == 37, 2**53 + 1, 5).astype('<i8')", kwargs: "compressor=numcodecs.Zstd()", np: "<f8" };
    const path = write("int64-beyond", v, [10, 10], [4, 4]); // element 37 = (3, 7): chunk 0.1
    const arr = await ZarrArray.open(path);
    const err = await arr.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeError);
    expect((err as VolumeError).details).toMatchObject({ location: "0.1", field: "dtype" });
    expect((err as VolumeError).message).toMatch(/too large to read exactly/);
    expect([...(await arr.read([[4, 10], [0, 10]])).data].every((x) => x === 5)).toBe(true);
    await expect(arr.write([0, 0], { data: new Float64Array(1), shape: [1, 1] })).rejects.toThrow(VolumeError);
  });

  it("refuses to write into an array of another tool's stored form (Fortran order)", async () => {
    const v = { values: "rs.randint(0, 9, shape).astype('<u2')", kwargs: "order='F'", np: "<u2" };
    const path = write("write-F", v, [10, 10], [4, 4]);
    const arr = await ZarrArray.open(path);
    await expect(arr.write([0, 0], { data: new Uint16Array(4), shape: [2, 2] })).rejects.toThrow(VolumeError);
  });
});

describe("zarr v3 int64 (as zarr-python 3 writes label arrays)", () => {
  it("reads int64 chunks with the bytes codec as float64 and refuses int64 behind sharding by name", async () => {
    const { mkdirSync, writeFileSync } = await import("node:fs");
    const path = join(dir, "v3-int64.zarr");
    mkdirSync(join(path, "c", "0"), { recursive: true });
    const meta = {
      zarr_format: 3,
      node_type: "array",
      shape: [2, 3],
      data_type: "int64",
      chunk_grid: { name: "regular", configuration: { chunk_shape: [2, 2] } },
      chunk_key_encoding: { name: "default", configuration: { separator: "/" } },
      fill_value: -1,
      codecs: [{ name: "bytes", configuration: { endian: "little" } }],
    };
    writeFileSync(join(path, "zarr.json"), JSON.stringify(meta));
    writeFileSync(join(path, "c", "0", "0"), Buffer.from(BigInt64Array.from([1n, -2n, 3n, 2n ** 52n]).buffer));
    const arr = await ZarrArray.open(path);
    expect(arr.dtype).toBe("float64");
    expect([...(await arr.read()).data]).toEqual([1, -2, -1, 3, 2 ** 52, -1]); // chunk c/0/1 missing: fill value
    writeFileSync(join(path, "zarr.json"), JSON.stringify({ ...meta, codecs: [{ name: "transpose", configuration: { order: [1, 0] } }, ...meta.codecs] }));
    const err = await ZarrArray.open(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeError);
    expect((err as VolumeError).details).toMatchObject({ path: join(path, "zarr.json"), field: "data_type" });
  });
});
