/**
 * One writer per dataset. Two processes writing one store (two `twin` runs with different seeds, a segmentation
 * while the twin regenerates the image) leave chunks of both: one run died with ENOTEMPTY, the other exited 0 with
 * `0/.zarray` gone. A writer therefore holds a lock file inside the store for as long as it writes; a second
 * writer fails at once naming the holder (pid, host, start). The lock is the pipeline's (same file format and
 * rules): a lock whose process is gone (same host) is stale and taken over, so a killed run never blocks the next.
 *
 * The lock lives in the store's bookkeeping folder `.ssb-ct/`, which zarr readers ignore (no .zgroup/.zarray) and
 * which content identities never list (lock files are not data).
 */
import { join } from "node:path";
import { acquireLock, LockedError, lockPath } from "../util/lock.js";
import { TEMP_MARKER } from "../util/atomic-write.js";
import { VolumeError } from "../util/errors.js";

/** Bookkeeping folder inside a store (locks); never part of the dataset. */
export const BOOKKEEPING_DIR = ".ssb-ct";

/** A second writer of a dataset: `got` names the holder. */
export class DatasetLockedError extends VolumeError {}

/**
 * Names inside a store folder that are bookkeeping, not data: our lock folder, import job files
 * (`.ssb-ct-import-*`), temp files of atomic writes in flight, and the Finder's `.DS_Store`.
 */
export function isBookkeeping(name: string): boolean {
  return name.startsWith(BOOKKEEPING_DIR) || name.includes(TEMP_MARKER) || name === ".DS_Store";
}

/** Path of the lock file of a store (for messages and tests). */
export function datasetLockPath(store: string): string {
  return lockPath(join(store, BOOKKEEPING_DIR));
}

/**
 * Takes the store's writer lock or throws DatasetLockedError naming the holder; returns the release function
 * (idempotent). `purpose` says what was refused ("twin generation", "segmentation").
 */
export function lockDataset(store: string, purpose: string): () => void {
  try {
    return acquireLock(join(store, BOOKKEEPING_DIR));
  } catch (e) {
    if (!(e instanceof LockedError)) throw e;
    throw new DatasetLockedError(
      `another process is writing this dataset; ${purpose} refused`,
      {
        path: store,
        location: datasetLockPath(store),
        got: e.details.got ?? "a lock file",
        expected: "one writer per dataset: wait for it to finish (a lock of a process that is gone is taken over)",
      },
      { cause: e },
    );
  }
}
