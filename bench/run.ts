/**
 * `npm run bench -- NAME [args]` runs bench/NAME.ts. Every benchmark measures ours against a peer in the same
 * run and prints its result last, as one JSON line: {"bench", "ours", "peer", "ratio", "unit", ...}.
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && f !== "lib.ts")
  .map((f) => f.replace(/\.ts$/, ""));
if (!name || !existsSync(join(here, `${name}.ts`))) {
  console.error(`usage: npm run bench -- NAME [args]\navailable: ${available.join(", ")}`);
  process.exit(2);
}
const mod = (await import(join(here, `${name}.ts`))) as { main: (args: string[]) => Promise<void> };
await mod.main(args);
