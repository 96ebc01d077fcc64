import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";

/** Suffix marker of in-flight temp files; readers and listings ignore names containing it. */
export const TEMP_MARKER = ".tmp-";

/**
 * Writes `data` to `path` so that a reader (or a crash) sees either the old file or the whole new one, never a
 * part: the bytes go to a uniquely named temp file in the same directory, are flushed, then renamed over `path`
 * (rename is atomic within a POSIX file system). Unique temp names let several processes write different files of
 * one directory at once.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, options: { fsync?: boolean } = {}): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `${basename(path)}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString("hex")}`);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const fd = openSync(tmp, "w");
  try {
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    if (options.fsync) fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  if (options.fsync) fsyncDirectory(dir);
}

/**
 * Flushes a directory's entries: after a rename, the new name is durable only once its directory is synced (a power
 * loss may otherwise bring back the old file, or no file, even though the data blocks were flushed). Platforms that
 * cannot open a directory for syncing (Windows: EISDIR/EPERM) have no such step to take.
 */
export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EISDIR" || code === "EPERM" || code === "EACCES") return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EBADF") throw e; // file systems that do not sync directories
  } finally {
    closeSync(fd);
  }
}
