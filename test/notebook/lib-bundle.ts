/**
 * The display helpers as notebook cells load them: a CommonJS bundle of src/notebook (npm run build bundles all of
 * src/ the same way). Fixture notebooks require it through SSB_CT_NOTEBOOK_LIB, so the tests need no prior build.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export async function buildNotebookLib(dir: string): Promise<string> {
  const outfile = join(dir, "ssb-ct-notebook.cjs");
  await build({
    entryPoints: [fileURLToPath(new URL("../../src/notebook/index.ts", import.meta.url))],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["danfojs-node", "@tensorflow/tfjs", "@tensorflow/tfjs-node"],
    // As scripts/build-cjs.mjs: import.meta.url does not exist in CommonJS.
    define: { "import.meta.url": "__ssbct_import_meta_url" },
    banner: { js: 'const __ssbct_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: "warning",
  });
  return outfile;
}
