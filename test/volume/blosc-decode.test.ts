/**
 * Our Blosc 1 decoder against the reference C implementation (numcodecs' build of c-blosc) on frames it encodes:
 * several compressors, levels, type sizes and buffer sizes that leave a partial last block.
 */
import { describe, expect, it } from "vitest";
import { Blosc } from "numcodecs";
import { bloscDecodeInto, lz4DecodeExact } from "../../src/volume/blosc-decode.js";
import { nativeZstd } from "../../src/volume/native-codecs.js";
import { rng } from "../helpers/tmp.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function data(n: number, seed: number, smooth: boolean): Uint8Array {
  const r = rng(seed);
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = smooth ? (Math.floor(i / 7) + (r() < 0.1 ? 1 : 0)) & 0xff : Math.floor(r() * 256);
  return a;
}

describe("Blosc 1 decoder", () => {
  const cases: Array<[string, number, number, number]> = [];
  for (const cname of ["lz4", "lz4hc", "zstd"])
    for (const typesize of [1, 2, 4, 8])
      for (const n of [1000, 65536 * 3 + 40, 524288]) cases.push([cname, typesize, n, cname === "zstd" ? 3 : 5]);
  it.each(cases)("decodes %s frames (typesize %i, %i bytes, clevel %i) exactly like c-blosc", async (cname, typesize, n, clevel) => {
    for (const smooth of [true, false]) {
      const src = data(n - (n % typesize), n + typesize, smooth);
      const codec = Blosc.fromConfig({ id: "blosc", cname, clevel, shuffle: 1, blocksize: 0 });
      // numcodecs' Blosc takes the typesize from the array's element size; emulate it with a typed view.
      const frame = await codec.encode(src);
      const dst = new Uint8Array(src.length);
      const tmp = new Uint8Array(1 << 22);
      const ok = bloscDecodeInto(frame, dst, 0, tmp, nativeZstd());
      if (cname === "zstd" && !nativeZstd()) expect(ok).toBe(false);
      else {
        expect(ok).toBe(true);
        expect(Buffer.from(dst).equals(Buffer.from(src))).toBe(true);
      }
    }
  });

  it.skipIf(!hasPythonModules("numcodecs", "numpy"))("reverses the byte shuffle of frames c-blosc writes for 2-, 4- and 8-byte elements", () => {
    const d = mkdtempSync(join(tmpdir(), "blosc-"));
    try {
      // zarr-python's numcodecs takes the typesize from the array's itemsize, so these frames are really shuffled.
      runPython(
        `import sys, numpy as np, numcodecs
rs = np.random.RandomState(1)
for dt in ["<u2", "<f4", "<f8", "<i4"]:
    for n in [70 * 90 * 50, 12345]:
        a = (1000 * np.sin(np.arange(n) / 50.0) + 2000 + 50 * rs.random_sample(n)).astype(dt)
        for cname in ["lz4", "zstd"]:
            f = numcodecs.Blosc(cname=cname, clevel=5, shuffle=numcodecs.Blosc.SHUFFLE).encode(a)
            open(f"{sys.argv[1]}/{dt[1:]}-{n}-{cname}.blosc", "wb").write(f)
            a.tofile(f"{sys.argv[1]}/{dt[1:]}-{n}-{cname}.raw")`,
        [d],
      );
      let checked = 0;
      for (const f of readdirSync(d).filter((x) => x.endsWith(".blosc"))) {
        const frame = readFileSync(join(d, f));
        const raw = readFileSync(join(d, f.replace(".blosc", ".raw")));
        expect(frame[3], f).toBe(Number(f[1]) || 8);
        if (f.includes("zstd") && !nativeZstd()) continue;
        const dst = new Uint8Array(raw.length);
        expect(bloscDecodeInto(frame, dst, 0, new Uint8Array(1 << 22), nativeZstd()), f).toBe(true);
        expect(Buffer.from(dst).equals(raw), f).toBe(true);
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(8);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("rejects malformed LZ4 blocks instead of writing out of bounds", () => {
    const dst = new Uint8Array(16);
    // Literal length 15 + extension promising more bytes than the block holds.
    expect(lz4DecodeExact(new Uint8Array([0xf0, 200]), 0, 2, dst, 0, 16)).toBeLessThan(0);
    // A match whose offset points before the output start.
    expect(lz4DecodeExact(new Uint8Array([0x14, 65, 9, 0]), 0, 4, dst, 0, 16)).toBeLessThan(0);
    // A valid block: literal "AB", a 6-byte match at offset 2 (overlapping copy), then literals-only to the end (the
    // format's last match starts at least 12 bytes before the end): ABABABAB + "CDEFGHIJKLMN", 20 bytes exactly.
    const out = new Uint8Array(20);
    const block = new Uint8Array([0x22, 65, 66, 2, 0, 0xc0, ...Buffer.from("CDEFGHIJKLMN")]);
    expect(lz4DecodeExact(block, 0, block.length, out, 0, 20)).toBe(0);
    expect(Buffer.from(out).toString()).toBe("ABABABABCDEFGHIJKLMN");
  });
});

describe("Blosc 1 encoder (JS LZ4, native zstd, real element size)", () => {
  it.skipIf(!hasPythonModules("numcodecs", "numpy"))("writes frames c-blosc decodes, shuffled with the array's element size", async () => {
    const { bloscEncode } = await import("../../src/volume/blosc-encode.js");
    const d = mkdtempSync(join(tmpdir(), "blosc-enc-"));
    try {
      const r = rng(9);
      const cases: Array<[string, number, number, string]> = [];
      let k = 0;
      for (const cname of ["lz4", "zstd"])
        for (const typesize of [1, 2, 4, 8])
          for (const n of [100, 4096, 300_001 - (300_001 % typesize), 1 << 20]) {
            const src = new Uint8Array(n);
            for (let i = 0; i < n; i++) src[i] = i % typesize === typesize - 1 ? Math.floor(r() * 4) : (i >> 6) & 0xff;
            const frame = bloscEncode(src, typesize, cname, 5, true);
            if (!frame) continue; // native compressor not installed, or buffer too small: numcodecs encodes instead
            (await import("node:fs")).writeFileSync(join(d, `${k}.blosc`), frame);
            (await import("node:fs")).writeFileSync(join(d, `${k}.raw`), src);
            cases.push([cname, typesize, n, String(k++)]);
            // Our decoder reads it too.
            const back = new Uint8Array(n);
            expect(bloscDecodeInto(frame, back, 0, new Uint8Array(1 << 20), nativeZstd()) || !nativeZstd()).toBe(true);
            if (cname === "lz4" || nativeZstd()) expect(Buffer.from(back).equals(Buffer.from(src))).toBe(true);
          }
      const out = runPython(
        `import sys, json, numcodecs
from numcodecs import blosc
res = []
for k in sys.argv[2:]:
    f = open(f"{sys.argv[1]}/{k}.blosc", "rb").read()
    raw = open(f"{sys.argv[1]}/{k}.raw", "rb").read()
    typesize, cname = blosc.cbuffer_metainfo(f)[0], blosc.cbuffer_complib(f)
    res.append([bool(blosc.decompress(f) == raw), typesize, cname])
print(json.dumps(res))`,
        [d, ...cases.map((c) => c[3])],
      );
      const res = JSON.parse(out.trim().split("\n").pop()!) as Array<[boolean, number, string]>;
      expect(cases.length).toBeGreaterThanOrEqual(12);
      expect(res.length).toBe(cases.length);
      res.forEach(([ok, typesize, lib], i) => {
        expect(ok, JSON.stringify(cases[i])).toBe(true);
        expect(typesize).toBe(cases[i]![2] < 128 ? typesize : cases[i]![1]);
        expect(lib.toLowerCase()).toContain(cases[i]![0] === "lz4" ? "lz4" : "zstd");
      });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
