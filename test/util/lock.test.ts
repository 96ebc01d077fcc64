/**
 * The lock's race: `open("wx")` creates the lock file before its holder's pid is written, so a second writer can
 * find it empty. Taking an empty lock over let two `segment --shard` processes into the store at once (one deleted
 * the label image the other was writing: ENOTEMPTY in CI). An unreadable lock is stale only once it is old.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, utimesSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { hostname } from "node:os";
import { acquireLock, lockPath, LockedError } from "../../src/util/lock.js";
import { tempDir } from "../helpers/tmp.js";

describe("acquireLock", () => {
  it("refuses a lock file that is empty because it is being written, and takes over one left empty long ago", () => {
    const dir = tempDir();
    const p = lockPath(dir);
    mkdirSync(join(dir, "steps"), { recursive: true });
    writeFileSync(p, ""); // created this instant by another writer, content not yet written
    expect(() => acquireLock(dir)).toThrow(LockedError);
    expect(existsSync(p)).toBe(true);
    const old = new Date(Date.now() - 60_000);
    utimesSync(p, old, old); // a crash between create and write, a minute ago
    const release = acquireLock(dir);
    expect(existsSync(p)).toBe(true);
    release();
    expect(existsSync(p)).toBe(false);
  });

  it("takes over the lock of a process that no longer runs, and refuses a live holder", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "steps"), { recursive: true });
    writeFileSync(lockPath(dir), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startedAt: "then" }));
    const release = acquireLock(dir);
    expect(() => acquireLock(dir)).toThrow(LockedError);
    release();
  });
});
