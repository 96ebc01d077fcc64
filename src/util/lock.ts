/**
 * One writer per results folder: a lock file with the holder's pid, host and start time. A second job that would
 * write fails at once naming the holder; a lock whose process is gone (same host) is stale and taken over.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
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
      if (!holder && attempt === 0 && existsSync(p)) {
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
