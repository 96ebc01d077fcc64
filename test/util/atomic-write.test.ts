/**
 * Durable atomic writes: with `fsync`, the file's data and then its directory entry are flushed (a rename is durable
 * only once the directory is synced); without it, neither is (the pipeline asks for it on final outputs only).
 */
import { describe, expect, it, vi } from "vitest";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const synced: Array<"file" | "directory"> = [];
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    fsyncSync: (fd: number) => {
      synced.push(fs.fstatSync(fd).isDirectory() ? "directory" : "file");
      fs.fsyncSync(fd);
    },
  };
});

const { writeFileAtomic, fsyncDirectory } = await import("../../src/util/atomic-write.js");

describe("writeFileAtomic", () => {
  const dir = mkdtempSync(join(tmpdir(), "ssb-ct-atomic-"));

  it("with fsync flushes the data, then the directory that holds the new name", () => {
    synced.length = 0;
    writeFileAtomic(join(dir, "a.json"), '{"a":1}', { fsync: true });
    expect(synced).toEqual(["file", "directory"]);
    expect(readFileSync(join(dir, "a.json"), "utf8")).toBe('{"a":1}');
    expect(readdirSync(dir)).toEqual(["a.json"]); // no temp file left
  });

  it("without fsync flushes nothing", () => {
    synced.length = 0;
    writeFileAtomic(join(dir, "b.json"), "b");
    expect(synced).toEqual([]);
  });

  it("fsyncDirectory names a missing directory's error instead of passing silently", () => {
    expect(() => fsyncDirectory(join(dir, "missing"))).toThrow(/ENOENT/);
  });
});
