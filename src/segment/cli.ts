/**
 * The segmenter's command line is `ssbct train|segment|report` (src/cli/train.ts, segment.ts, report.ts hold the
 * options and --help). This file stays runnable as `npx tsx src/segment/cli.ts train|segment|report ...`, the
 * command line recorded in the shipped models and data/models/README.md.
 */
import { runCli } from "../cli/main.js";

/** Runs `ssbct <argv>`; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  if (cmd !== "train" && cmd !== "segment" && cmd !== "report") {
    process.stderr.write("usage: cli.ts train|segment|report [--options]; ssbct <command> --help lists the options\n");
    return 2;
  }
  return runCli(argv);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) process.exitCode = await main(process.argv.slice(2));
