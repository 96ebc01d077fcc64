/**
 * Where a new dataset may be written, checked before a byte is written: a new or empty folder, or (with
 * overwrite) an earlier OME-Zarr image. Never a file, never "", never a folder holding other things (a home
 * folder, a folder of TIFFs), whose files a rerun with overwrite would otherwise mix with or remove.
 *
 * And what a failed write means, in words: a full disk, a read-only file system or a missing permission reach the
 * user as Node's bare ENOSPC / EROFS / EACCES with a temp file's name; here they name the store and what to do.
 */
import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { TEMP_MARKER } from "../util/atomic-write.js";
import { VolumeError } from "../util/errors.js";
import { isBookkeeping } from "./dataset-lock.js";

export type FolderState = "new" | "empty" | "dataset";

/** True when the folder is a zarr group (v2 `.zgroup` or v3 `zarr.json`): an earlier image, or one being written. */
export function isZarrGroup(path: string): boolean {
  return existsSync(join(path, ".zgroup")) || existsSync(join(path, "zarr.json"));
}

/**
 * Checks that `path` can receive a new dataset, writing nothing: throws a VolumeError naming the path unless it
 * does not exist, is an empty folder (bookkeeping aside), or is a zarr group and `overwrite` is set.
 */
export function checkDatasetFolder(path: string, options: { overwrite?: boolean } = {}): FolderState {
  if (typeof path !== "string" || path.trim() === "")
    throw new VolumeError("no output path given", { field: "path", expected: "a folder path for the OME-Zarr store", got: JSON.stringify(path) });
  let state: FolderState = "new";
  if (existsSync(path)) {
    if (!statSync(path).isDirectory())
      throw new VolumeError("the output path is a file, not a folder", { path, expected: "a new or empty folder, or an earlier OME-Zarr image (with overwrite)", got: "a file" });
    const foreign = readdirSync(path).filter((n) => !isBookkeeping(n));
    if (isZarrGroup(path)) {
      if (!options.overwrite) throw new VolumeError("an OME-Zarr image already exists here", { path, expected: "an empty location, or overwrite: true" });
      state = "dataset";
    } else if (foreign.length) {
      throw new VolumeError("the output folder holds files that are not an OME-Zarr image; nothing was written", {
        path,
        expected: "a new or empty folder, or an earlier OME-Zarr image (with overwrite)",
        got: foreign.slice(0, 5).join(", ") + (foreign.length > 5 ? `, ... (${foreign.length} entries)` : ""),
      });
    } else state = "empty";
  }
  checkWritable(path);
  return state;
}

/** Fails now, not after the first chunk, when the folder (or its nearest existing parent) cannot be written. */
function checkWritable(path: string): void {
  let dir = resolve(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw writeErrorOf(e, path);
  }
}

/** The file a failed write was about, without the temp suffix of an atomic write. */
function cleanPath(p: string | undefined): string | undefined {
  if (!p) return p;
  const i = p.indexOf(TEMP_MARKER);
  return i >= 0 ? p.slice(0, i) : p;
}

/**
 * A VolumeError in words for a file-system error of a dataset write (full disk, read-only, no permission); any
 * other error is returned as it is. Rethrow the result.
 */
export function writeErrorOf(e: unknown, store: string): unknown {
  const err = e as NodeJS.ErrnoException | undefined;
  const code = err && typeof err === "object" ? err.code : undefined;
  const where = cleanPath(err?.path) ?? store;
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return new VolumeError(
        "the disk is full: the dataset could not be written",
        {
          path: where,
          got: `${code} (no space left on the device${code === "EDQUOT" ? ": quota" : ""})`,
          expected: `free space on the file system of ${store}, then run again: chunks and metadata written before stay readable, and the unfinished result is marked incomplete`,
        },
        { cause: e },
      );
    case "EROFS":
      return new VolumeError("the output folder is on a read-only file system", { path: where, got: "EROFS", expected: "a writable location for the dataset" }, { cause: e });
    case "EACCES":
    case "EPERM":
      return new VolumeError("no permission to write the dataset here", { path: where, got: code, expected: "a folder you may write to" }, { cause: e });
    default:
      return e;
  }
}
