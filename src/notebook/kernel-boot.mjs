// Entry of the notebook kernel process (run.ts starts `node kernel-boot.mjs`). A plain script file, not `node -e` or
// `--import`: those flags land in process.execArgv, which worker threads and forked children of notebook cells
// inherit (a worker refuses --input-type; a fork would run -e code instead of its script). kernel.ts is loaded
// through tsx's scoped API, so the cells' own require() calls do not pass through tsx.
const { tsImport } = await import("tsx/esm/api");
await tsImport("./kernel.ts", import.meta.url);
