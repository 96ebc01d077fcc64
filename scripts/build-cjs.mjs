// Builds the CommonJS bundle that Jupyter notebooks load. tslab compiles cells to CommonJS and cannot import
// ESM-only packages (zarrita, numcodecs), so the library and those packages go into one .cjs file; native and
// optional packages stay external. The read worker gets its own ESM bundle beside it.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const external = [
  "onnxruntime-node",
  "@tensorflow/tfjs-node",
  "@tensorflow/tfjs",
  "@tensorflow/tfjs-backend-wasm",
  "danfojs-node",
  "h5wasm",
  "h5wasm/node",
  "plotly.js-dist-min",
  "playwright-core",
  "tsx",
  "tsx/esm/api",
  "zstd-napi",
];

await build({
  entryPoints: [join(root, "src/index.ts")],
  outfile: join(root, "dist/ssb-ct.cjs"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  sourcemap: "linked",
  external,
  // import.meta.url does not exist in CommonJS; give modules that resolve files beside themselves the bundle's URL.
  define: { "import.meta.url": "__ssbct_import_meta_url" },
  banner: { js: 'const __ssbct_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
});

await build({
  entryPoints: [join(root, "src/volume/read-worker.ts")],
  outfile: join(root, "dist/read-worker.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external,
  banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
  logLevel: "warning",
});
console.log("built dist/ssb-ct.cjs and dist/read-worker.mjs");

// Declarations for notebook cells: `const ssb: typeof import("../dist/types/index") = require("../dist/ssb-ct.cjs")`
// type-checks every call against the same source (tslab cannot compile src/ itself: it runs TypeScript 5.0).
import { spawnSync } from "node:child_process";
const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.types.json")], { stdio: "inherit" });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
console.log("built dist/types (declarations)");
