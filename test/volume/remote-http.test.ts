/**
 * Stores opened by http:// URL, served by a node:http server on loopback from folders our writer made: reads equal
 * the local reads, a chunk the server does not have (404) is the fill value, and a server error or a dropped
 * connection in the middle of a read fails it with a VolumeError naming the URL, the chunk and the status.
 */
import { createReadStream, existsSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OmeImage, ZarrArray, type NdArray } from "../../src/volume/index.js";
import { stopReadPool } from "../../src/volume/read-pool.js";
import { storeJoin } from "../../src/volume/store-http.js";
import { VolumeError } from "../../src/util/errors.js";
import { rng, tempDir } from "../helpers/tmp.js";

const dir = tempDir();

/** Paths (relative to the served folder) answered with a 500, or with a connection dropped mid-body. */
const failing = new Map<string, "500" | "drop">();
const requests: string[] = [];
let server: Server;
let base = "";

function serve(): Promise<void> {
  server = createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/+/, "");
    requests.push(rel);
    const file = join(dir, ...rel.split("/"));
    const fault = failing.get(rel);
    if (fault === "500") {
      res.writeHead(500, "Internal Server Error").end("boom");
      return;
    }
    if (rel.includes("..") || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    if (fault === "drop") {
      res.writeHead(200, { "content-length": String(statSync(file).size) });
      res.write(Buffer.alloc(3));
      res.destroy();
      return;
    }
    res.writeHead(200, { "content-length": String(statSync(file).size) });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    resolve();
  }));
}

function same(a: NdArray, b: NdArray): boolean {
  return a.shape.join() === b.shape.join() && a.data.length === b.data.length && a.data.every((v, i) => Object.is(v, b.data[i]));
}

beforeAll(async () => {
  await serve();
});
afterAll(async () => {
  await stopReadPool();
  await new Promise<void>((r) => server.close(() => r()));
});

describe("stores opened by URL", () => {
  for (const version of ["0.4", "0.5"] as const) {
    it(`OmeImage.open by URL reads what the local store holds (OME-Zarr ${version}), never-written chunks as the fill value`, async () => {
      const name = `img-${version}.ome.zarr`;
      const shapeZYX: [number, number, number] = [20, 24, 18];
      const img = await OmeImage.create(join(dir, name), { channels: ["absorption", "phase"], timePointsH: [0, 1.5], shapeZYX, voxelSizeUm: [0.5, 0.5, 0.5], dtype: "float32", chunksZYX: [8, 8, 8], version });
      const r = rng(7);
      const vol = new Float32Array(20 * 24 * 18).map(() => r() * 100 - 20);
      await img.writeVolume(1, "phase", [0, 0, 0], { data: vol, shape: shapeZYX });
      await img.writeVolume(0, "phase", [0, 0, 0], { data: vol.subarray(0, 8 * 24 * 18), shape: [8, 24, 18] });
      const remote = await OmeImage.open(`${base}/${name}`);
      const local = await OmeImage.open(join(dir, name));
      expect(remote.channels).toEqual(local.channels);
      expect(remote.timePointsH).toEqual([0, 1.5]);
      expect(remote.voxelSizeUm).toEqual([0.5, 0.5, 0.5]);
      expect(remote.shapeZYX).toEqual(shapeZYX);
      const full = await remote.readVolume(1, "phase");
      expect(Array.from(full.data)).toEqual(Array.from(vol));
      // Time 0 holds only z < 8: the rest was never written, the server answers 404, the reads give 0.
      const part = await remote.readVolume(0, "phase", { selection: [[4, 20], [0, 24], [0, 18]] });
      expect(same(part, await local.readVolume(0, "phase", { selection: [[4, 20], [0, 24], [0, 18]] }))).toBe(true);
      expect(part.data[(10 - 4) * 24 * 18]).toBe(0);
      // Blocks with a halo go through the chunk cache (one request per chunk).
      const blocksR: NdArray[] = [];
      for await (const b of remote.blocks(1, "absorption", { halo: 2 })) blocksR.push(b.data);
      const blocksL: NdArray[] = [];
      for await (const b of local.blocks(1, "absorption", { halo: 2 })) blocksL.push(b.data);
      expect(blocksR.length).toBe(blocksL.length);
      expect(blocksR.every((b, i) => same(b, blocksL[i]!))).toBe(true);
    });
  }

  it("reads a large array by URL on worker threads as locally, a deleted chunk (404) as the fill value", async () => {
    const path = join(dir, "big.zarr");
    const shape = [64, 128, 256];
    const arr = await ZarrArray.create(path, { shape, chunks: [32, 32, 64], dtype: "uint16", fillValue: 9, codec: { name: "zstd", level: 1 } });
    const r = rng(3);
    await arr.write([0, 0, 0], { data: new Uint16Array(64 * 128 * 256).map(() => Math.floor(r() * 60000)), shape });
    rmSync(arr.chunkPath([1, 2, 3]));
    const prev = process.env.SSB_CT_READ_THREADS;
    process.env.SSB_CT_READ_THREADS = "2";
    try {
      const remote = await ZarrArray.open(`${base}/big.zarr`);
      expect(remote.chunkPath([1, 2, 3])).toBe(`${base}/big.zarr/1/2/3`);
      const a = await remote.read();
      expect(a.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      const b = await (await ZarrArray.open(path)).read();
      expect(same(a, b)).toBe(true);
      expect(a.data[(40 * 128 + 70) * 256 + 199]).toBe(9);
      // A region read into a reused array, and the chunk-level read, by URL too.
      const sel: Array<[number, number]> = [[3, 60], [10, 120], [5, 250]];
      const first = await remote.read(sel);
      first.data.fill(1);
      expect(same(await remote.read(sel, { out: first.data }), await arr.read(sel))).toBe(true);
      expect(await remote.readChunk([1, 2, 3])).toBeNull();
    } finally {
      if (prev === undefined) delete process.env.SSB_CT_READ_THREADS;
      else process.env.SSB_CT_READ_THREADS = prev;
    }
  });

  it("fails a read whole, naming the URL, chunk and status, when the server errs or drops the connection mid-read", async () => {
    const remote = await ZarrArray.open(`${base}/big.zarr`);
    for (const [fault, pattern] of [["500", /HTTP 500/], ["drop", /connection|terminated|socket|other side closed|cannot reach/i]] as const) {
      failing.set("big.zarr/1/1/1", fault);
      requests.length = 0;
      const err = await remote.read().catch((e: unknown) => e);
      expect(err, fault).toBeInstanceOf(VolumeError);
      const e = err as VolumeError;
      expect(e.details.path).toBe(`${base}/big.zarr/1/1/1`);
      expect(e.details.location).toBe("1/1/1");
      expect(String(e.details.got)).toMatch(pattern);
      expect(requests).toContain("big.zarr/1/1/1");
      failing.clear();
    }
    // The server is well again: the same store reads in full.
    expect(same(await remote.read(), await (await ZarrArray.open(join(dir, "big.zarr"))).read())).toBe(true);
  });

  it("refuses writes, hasChunk and a URL without a store, by name", async () => {
    const remote = await ZarrArray.open(`${base}/big.zarr`);
    const w = await remote.write([0, 0, 0], { data: new Uint16Array(1), shape: [1, 1, 1] }).catch((e: unknown) => e);
    expect(w).toBeInstanceOf(VolumeError);
    expect(String((w as Error).message)).toMatch(/read only/);
    expect(() => remote.hasChunk([0, 0, 0])).toThrow(VolumeError);
    const none = await ZarrArray.open(`${base}/nothing.zarr`).catch((e: unknown) => e);
    expect(none).toBeInstanceOf(VolumeError);
    expect((none as VolumeError).details.path).toBe(`${base}/nothing.zarr`);
    const down = await ZarrArray.open("http://127.0.0.1:1/x.zarr").catch((e: unknown) => e);
    expect(down).toBeInstanceOf(VolumeError);
    expect(String((down as Error).message)).toMatch(/cannot reach/);
  });

  it("joins keys onto URLs and paths alike", () => {
    expect(storeJoin("http://h:1/a/b.zarr", "0", "1.2")).toBe("http://h:1/a/b.zarr/0/1.2");
    expect(storeJoin("https://h/a%20b.zarr/", "c/0/1")).toBe("https://h/a%20b.zarr/c/0/1");
    expect(storeJoin("data/x.zarr", "0")).toBe(join("data/x.zarr", "0"));
  });
});
