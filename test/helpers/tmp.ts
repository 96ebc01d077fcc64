import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A temp folder removed after the test file finishes. */
export function tempDir(prefix = "ssb-ct-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Deterministic pseudo-random numbers (mulberry32) for test data. */
export { seededRandom as rng } from "../../src/numerics/index.js";
