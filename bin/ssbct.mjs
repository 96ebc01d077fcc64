#!/usr/bin/env node
// `ssbct`: the package's command line. In a checkout (src/ present and tsx installed, as after `npm ci`) it runs the
// TypeScript sources through tsx, so it is never stale and needs no build; an installed package has no src/ and no
// tsx and runs the built bundle dist/cli.mjs. SSB_CT_USE_DIST=1 forces the bundle (to test it in a checkout).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = new URL("../src/cli/main.ts", import.meta.url);
const built = new URL("../dist/cli.mjs", import.meta.url);

async function load() {
  if (process.env.SSB_CT_USE_DIST !== "1" && existsSync(fileURLToPath(source))) {
    let api = null;
    try {
      api = await import("tsx/esm/api");
    } catch {
      // no tsx (a production install of a checkout): fall through to the bundle
    }
    if (api) {
      api.register();
      return import(source.href);
    }
  }
  if (existsSync(fileURLToPath(built))) return import(built.href);
  process.stderr.write("ssbct: neither the TypeScript sources with tsx (npm ci) nor the built bundle dist/cli.mjs (npm run build) are here\n");
  process.exit(1);
}

const { runCli } = await load();
const code = await runCli(process.argv.slice(2));
// Exit explicitly: worker threads and native sessions of a finished command must not keep the process alive.
process.stdout.write("", () => process.exit(code));
