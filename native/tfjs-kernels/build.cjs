// Install script: compile the addon with node-gyp (npm's own copy when npm runs us). A failed compile (no compiler,
// no headers) must never fail `npm ci`: ssb-ct then uses its portable kernels, so this only warns.
"use strict";
const { spawnSync } = require("node:child_process");
const gyp = process.env.npm_config_node_gyp;
const r = gyp
  ? spawnSync(process.execPath, [gyp, "rebuild"], { stdio: "inherit", cwd: __dirname })
  : spawnSync("node-gyp", ["rebuild"], { stdio: "inherit", cwd: __dirname, shell: true });
if (r.status !== 0) {
  console.warn("ssb-ct-tfjs-kernels: native build failed; TF.js training will use the portable kernels (slower).");
}
process.exit(0);
