/** ZarrArray<D>: reads are typed by the array's dtype (checked by the compiler here) and by the stored dtype at run time. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VolumeError } from "../../src/util/errors.js";
import { ZarrArray } from "../../src/volume/index.js";
import { tempDir } from "../helpers/tmp.js";

describe("ZarrArray typed by dtype", () => {
  it("create, openAs and hasDtype give reads of the dtype's typed array; another dtype is refused by name", async () => {
    const dir = tempDir();
    const path = join(dir, "a.zarr");
    const made = await ZarrArray.create(path, { shape: [4, 5], chunks: [2, 5], dtype: "uint16" });
    await made.write([0, 0], { data: Uint16Array.from({ length: 20 }, (_, i) => 1000 * i), shape: [4, 5] });
    // The annotations are the compile-time half of the test: `data` must already be a Uint16Array.
    const direct: Uint16Array = (await made.read()).data;
    expect(direct[19]).toBe(19000);
    const opened = await ZarrArray.openAs(path, "uint16");
    const again: Uint16Array = (await opened.read([[1, 2], [0, 5]])).data;
    expect(Array.from(again)).toEqual([5000, 6000, 7000, 8000, 9000]);
    for await (const b of opened.blocks()) {
      const d: Uint16Array = b.data.data;
      expect(d).toBeInstanceOf(Uint16Array);
    }
    const plain = await ZarrArray.open(path);
    expect(plain.hasDtype("uint16")).toBe(true);
    expect(plain.hasDtype("float32")).toBe(false);
    await expect(ZarrArray.openAs(path, "float32")).rejects.toThrow(VolumeError);
    await expect(ZarrArray.openAs(path, "float32")).rejects.toThrow(/array has another dtype; path: .*a\.zarr; field: dtype; expected: float32; got: uint16/);
  });
});
