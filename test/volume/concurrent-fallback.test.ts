/**
 * Concurrent chunk reads in one thread through the asynchronous decoders (zstd inside Blosc without the native
 * binding, as on a machine where `npm ci` could not compile zstd-napi). Found by running the job with Python hidden:
 * a pyramid task's reads shared the encoded-bytes buffer, the next read refilled it while a decoder awaited, and the
 * strict Blosc check refused the mixed frame ("header.cbytes ... got 244"). Each read must see its own bytes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { join } from "node:path";
import { ZarrArray } from "../../src/volume/index.js";
import { setNativeCodecs } from "../../src/volume/native-codecs.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir();

describe("concurrent reads without the native zstd binding", () => {
  afterEach(() => setNativeCodecs(true));

  it("give every chunk its own bytes (blosc-zstd chunks of different sizes, read at once)", async () => {
    const shape = [4, 32, 32];
    const arr = await ZarrArray.create(join(dir, "z.zarr"), { shape, chunks: [1, 32, 32], dtype: "uint8", codec: { name: "blosc", cname: "zstd", clevel: 5, shuffle: "byte" } });
    const data = new Uint8Array(4 * 32 * 32);
    // chunks that compress to different sizes: constant, a ramp, noise, sparse
    for (let i = 0; i < 1024; i++) {
      data[i] = 7;
      data[1024 + i] = i % 256;
      data[2048 + i] = (i * 2654435761) >>> 24;
      data[3072 + i] = i % 97 === 0 ? 3 : 0;
    }
    await arr.write([0, 0, 0], { data, shape });
    setNativeCodecs(false);
    const reopened = await ZarrArray.open(arr.path);
    const parts = await Promise.all([0, 1, 2, 3, 3, 2, 1, 0].map((z) => reopened.read([[z, z + 1], [0, 32], [0, 32]])));
    [0, 1, 2, 3, 3, 2, 1, 0].forEach((z, k) => expect(Buffer.from(parts[k]!.data as Uint8Array).equals(Buffer.from(data.subarray(z * 1024, (z + 1) * 1024)))).toBe(true));
  });
});
