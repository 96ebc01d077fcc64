/**
 * Notebooks without Jupyter: `ssbct notebooks run|html ...` (src/cli/notebooks.ts holds the options and --help).
 * This file stays runnable as `node --import tsx src/notebook/cli.ts run|html ...` for scripts/run-notebooks.sh.
 * Exit status: 0 when every notebook ran, 1 when a cell failed, 2 for a usage error.
 */
import { runCli } from "../cli/main.js";

process.exitCode = await runCli(["notebooks", ...process.argv.slice(2)]);
