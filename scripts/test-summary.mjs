// Prints vitest's totals as one plain line ("vitest: N passed, N failed, N skipped") for CI logs and tools that
// read a run's closing line; exits non-zero if anything failed or nothing ran.
import { readFileSync } from "node:fs";

const r = JSON.parse(readFileSync(new URL("../.cache/vitest-results.json", import.meta.url), "utf8"));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (r.numFailedTests > 0 || r.numPassedTests === 0) process.exit(1);
