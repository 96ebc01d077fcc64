/** Importing a scan never writes into a folder that holds something else (not even its job file). */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { importTiffStack, writeTiffStack } from "../../src/volume/import/index.js";
import { VolumeError } from "../../src/util/errors.js";
import { tempDir } from "../helpers/tmp.js";

describe("import into a folder that is not a dataset", () => {
  it("is refused before a byte is written, naming the folder and what is in it", async () => {
    const dir = tempDir();
    const stack = join(dir, "stack");
    const data = new Uint16Array(4 * 8 * 8).map((_, i) => i);
    writeTiffStack(stack, { shape: [4, 8, 8], data });
    const dst = join(dir, "thesis");
    mkdirSync(dst);
    writeFileSync(join(dst, "notes.txt"), "my notes");
    const err = await importTiffStack(stack, dst, { voxelSizeUm: [1, 1, 1], channel: "absorption", progress: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeError);
    expect(String((err as Error).message)).toMatch(/holds files that are not an OME-Zarr image.*notes\.txt/);
    expect(readdirSync(dst)).toEqual(["notes.txt"]);
    // An empty folder is fine.
    const ok = join(dir, "empty");
    mkdirSync(ok);
    await importTiffStack(stack, ok, { voxelSizeUm: [1, 1, 1], channel: "absorption", progress: false });
    expect(readdirSync(ok)).toContain("0");
  });
});
