/**
 * One writer per results folder: a lock file with the holder's pid, host and start time. A second job that would
 * write fails at once naming the holder; a lock whose process is gone (same host) is stale and taken over.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { SsbCtError } from "./errors.js";
/** Folder of the lock file under the locked folder (the pipeline keeps its step records there too). */
export const STEPS_DIR = "steps";

export class LockedError extends SsbCtError {}

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** Whether a process of this host still runs (EPERM: it runs, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** How long an unreadable lock file is taken for one being written before it counts as stale, ms. */
const UNREADABLE_STALE_MS = 10_000;

/** Modification time of the lock file, ms (now if it vanished meanwhile: not stale). */
function lockAgeBase(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return Date.now();
  }
}

export function lockPath(resultsDir: string): string {
  return join(resultsDir, STEPS_DIR, "job.lock");
}

/** Takes the lock or throws LockedError; returns the release function (idempotent). */
export function acquireLock(resultsDir: string): () => void {
  const p = lockPath(resultsDir);
  mkdirSync(join(resultsDir, STEPS_DIR), { recursive: true });
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(p, "wx");
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          const cur = JSON.parse(readFileSync(p, "utf8")) as LockInfo;
          if (cur.pid === me.pid && cur.host === me.host) unlinkSync(p);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let holder: LockInfo | null = null;
      try {
        holder = JSON.parse(readFileSync(p, "utf8")) as LockInfo;
      } catch {
        holder = null; // a lock being written this instant, or garbage: treated as stale below only if unreadable twice
      }
      if (holder && holder.host === me.host && !processAlive(holder.pid)) {
        unlinkSync(p);
        continue;
      }
      // An empty or partial lock is one being written this instant (open "wx" creates it before its content is
      // written): taking it over would let two writers in. Only a lock unreadable for longer than any write takes
      // is stale (a crash between create and write).
      if (!holder && attempt === 0 && existsSync(p) && Date.now() - lockAgeBase(p) > UNREADABLE_STALE_MS) {
        unlinkSync(p);
        continue;
      }
      throw new LockedError("another job is writing these results", {
        path: p,
        got: holder ? `pid ${holder.pid} on ${holder.host} since ${holder.startedAt}` : "an unreadable lock",
        expected: "one writer at a time: wait for it, or remove the lock file if that process is gone",
      });
    }
  }
  throw new LockedError("could not take the results lock", { path: p });
}
