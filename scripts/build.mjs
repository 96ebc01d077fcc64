// `npm run build`: the library as others install it, in dist/:
//   ssb-ct.mjs, volume.mjs, cli.mjs (+ shared chunk-*.mjs)  ES modules; dependencies stay imports of node_modules
//   ssb-ct.cjs, volume.cjs                                   CommonJS for require() and tslab notebook cells
//   read-worker.mjs                                          the chunk-decoding worker (built, never compiled at run time)
//   types/                                                   declarations (.d.ts) from the same sources
// Why the CommonJS bundle inlines zarrita and numcodecs: they are ESM-only, and require() of an ES module is not
// available on every Node 20 (tslab compiles cells to CommonJS). Native and optional packages stay external.
// Options: --no-types skips the declarations (the slow part; for quick rebuilds of the bundles); --outdir DIR builds
// into another folder than dist/ (the package test stages a package there without touching the checkout's dist/).
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outArg = process.argv.indexOf("--outdir");
const dist = outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, "dist");
const withTypes = !process.argv.includes("--no-types");
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
  "tslab",
  "tsx",
  "tsx/esm/api",
  "zstd-napi",
  // only for building worker bundles in a source checkout (src/parallel/pool.ts); dist/ ships them built
  "esbuild",
];

// Old ESM chunks would otherwise pile up (their names carry a content hash). Only they go: a notebook run may be
// reading the CommonJS bundle at this moment.
mkdirSync(dist, { recursive: true });
for (const f of readdirSync(dist)) if (/^chunk-.*\.mjs(\.map)?$/.test(f)) rmSync(join(dist, f), { force: true });

// ES modules: one graph with shared chunks, so `import "ssb-ct"` and the CLI share module state and code.
await build({
  entryPoints: { "ssb-ct": join(root, "src/index.ts"), volume: join(root, "src/volume/index.ts"), cli: join(root, "src/cli/main.ts") },
  outdir: dist,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  // Chunks sit in dist/ itself: modules find files beside themselves (read-worker.mjs) through import.meta.url.
  chunkNames: "chunk-[hash]",
  logLevel: "warning",
});

await build({
  entryPoints: [join(root, "src/index.ts")],
  outfile: join(dist, "ssb-ct.cjs"),
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
// require("ssb-ct/volume"): the namespace of the one CommonJS bundle (a second bundle would duplicate its state).
writeFileSync(join(dist, "volume.cjs"), '"use strict";\n// The volume namespace of the CommonJS bundle.\nmodule.exports = require("./ssb-ct.cjs").volume;\n');

// Worker-thread entries, found by their modules beside themselves (dist/<name>.mjs): chunk decoding and the
// chunk-parallel tasks (twin rendering, import, pyramids).
const workers = [
  ["src/volume/read-worker.ts", "read-worker.mjs"],
  ["src/parallel/worker.ts", "task-worker.mjs"],
].filter(([src]) => existsSync(join(root, src)));
for (const [src, out] of workers) {
  await build({
    entryPoints: [join(root, src)],
    outfile: join(dist, out),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external,
    banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
    logLevel: "warning",
  });
}
console.log(`built dist/ssb-ct.mjs, volume.mjs, cli.mjs (ES modules), dist/ssb-ct.cjs, volume.cjs (CommonJS), ${workers.map(([, o]) => `dist/${o}`).join(", ")}`);

// Declarations: `import type` users and notebook cells (`typeof import("../dist/types/index")`) type-check every
// call against the same source (tslab cannot compile src/ itself: it runs TypeScript 5.0).
if (withTypes) {
  const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.types.json"), "--outDir", join(dist, "types")], { stdio: "inherit" });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  console.log("built dist/types (declarations)");
}
