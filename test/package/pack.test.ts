/**
 * The package as others install it: `npm pack` of a staged copy (the checkout's package.json and `files`, dist/
 * built fresh by scripts/build.mjs into the stage, so the checkout's dist/ is never touched), installed into an empty
 * folder with npm as a user would, then `ssbct --help`, require() and import of "ssb-ct" and "ssb-ct/volume", the
 * declarations with TypeScript, and a small twin -> info -> quantify run, with neither the sources nor tsx present.
 *
 * npm resolves the dependencies' metadata from the registry (tarballs come from npm's cache where they are), so the
 * test needs the registry: without it, it is skipped with the reason outside CI and fails in CI (CI=true).
 * Optional dependencies are left out (--omit=optional): tfjs-node downloads libtensorflow and zstd-napi compiles
 * with node-gyp, both slow and both optional at run time. Measured on 2 cores: about 60 s in all.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { run } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { name: string; version: string; files: string[] };
const env = { ...process.env, SSB_CT_PROGRESS: "0", npm_config_onnxruntime_node_install: "skip", npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" };

const reachable = await run(npm, ["ping", "--fetch-timeout=8000", "--fetch-retries=0"], { env }).then((r) => r.status === 0, () => false);
if (!reachable && process.env.CI === "true") throw new Error("npm registry unreachable: the package install test needs it (CI=true)");
const app = tempDir("ssb-ct-app-");

describe.skipIf(!reachable)("npm pack -> npm install in an empty folder", () => {
  beforeAll(async () => {
    const stage = tempDir("ssb-ct-stage-");
    for (const f of ["package.json", ...pkg.files.filter((f) => !f.startsWith("dist"))]) cpSync(join(REPO, f), join(stage, f), { recursive: true });
    const b = await run(process.execPath, [join(REPO, "scripts/build.mjs"), "--outdir", join(stage, "dist")], { cwd: REPO, env });
    expect(b.status, b.stderr + b.stdout).toBe(0);
    const packDir = tempDir("ssb-ct-pack-");
    const p = await run(npm, ["pack", "--ignore-scripts", "--pack-destination", packDir], { cwd: stage, env });
    expect(p.status, p.stderr).toBe(0);
    const tgz = readdirSync(packDir).find((f) => f.endsWith(".tgz"))!;
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
    const i = await run(npm, ["install", "--prefer-offline", "--omit=optional", "--no-package-lock", join(packDir, tgz)], { cwd: app, env });
    expect(i.status, i.stderr).toBe(0);
  }, 600_000);

  it("installs the bin: ssbct --help, --version, and a command's help", async () => {
    const bin = join(app, "node_modules/.bin/ssbct");
    expect(existsSync(bin)).toBe(true);
    const h = await run(bin, ["--help"], { cwd: app, env });
    expect(h.status, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/^Usage: ssbct <command>/);
    expect((await run(bin, ["--version"], { cwd: app, env })).stdout.trim()).toBe(pkg.version);
    const seg = await run(bin, ["segment", "--help"], { cwd: app, env });
    expect(seg.stdout).toMatch(/^Usage: ssbct segment/);
    // what was installed: the bundles and workers, no sources, no tsx
    const installed = join(app, "node_modules", pkg.name);
    expect(existsSync(join(installed, "src"))).toBe(false);
    for (const f of ["dist/ssb-ct.mjs", "dist/ssb-ct.cjs", "dist/cli.mjs", "dist/read-worker.mjs", "dist/types/index.d.ts", "data/models/unet-default/model.json"]) expect(existsSync(join(installed, f)), f).toBe(true);
    expect(existsSync(join(app, "node_modules/tsx"))).toBe(false);
  });

  it('require("ssb-ct") and import "ssb-ct" both work, with the volume subpath and the old dist path', async () => {
    const cjs = await run(process.execPath, ["-e", 'const s = require("ssb-ct"); const v = require("ssb-ct/volume"); const d = require("ssb-ct/dist/ssb-ct.cjs"); console.log(JSON.stringify([Object.keys(s).sort(), typeof v.OmeImage, s.volume.OmeImage === v.OmeImage, d === s]))'], { cwd: app, env });
    expect(cjs.status, cjs.stderr).toBe(0);
    const [keys, t, same, sameDist] = JSON.parse(cjs.stdout) as [string[], string, boolean, boolean];
    expect(keys).toEqual(expect.arrayContaining(["analysis", "electrochem", "figures", "pipeline", "segment", "twin", "volume", "xas"]));
    expect([t, same, sameDist]).toEqual(["function", true, true]);
    const esm = await run(process.execPath, ["--input-type=module", "-e", 'import * as s from "ssb-ct"; import { OmeImage } from "ssb-ct/volume"; console.log(typeof s.twin.generateTwin, typeof OmeImage)'], { cwd: app, env });
    expect(esm.status, esm.stderr).toBe(0);
    expect(esm.stdout.trim()).toBe("function function");
  });

  it("the declarations type-check a user's TypeScript", async () => {
    mkdirSync(join(app, "ts"), { recursive: true });
    writeFileSync(join(app, "ts/use.mts"), 'import { volume, twin } from "ssb-ct";\nimport { OmeImage } from "ssb-ct/volume";\nconst p: twin.TwinParameters = twin.presetParameters("ci");\nexport const f = (i: OmeImage): [number, number, number] => i.voxelSizeUm;\nexport const g = volume.OmeImage.open;\nexport const seed: number = p.seed;\n');
    writeFileSync(join(app, "ts/tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, types: [], typeRoots: [] }, files: ["use.mts"] }));
    const tsc = await run(process.execPath, [join(REPO, "node_modules/typescript/bin/tsc"), "-p", join(app, "ts/tsconfig.json")], { cwd: join(app, "ts"), env });
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  });

  it("a tslab notebook in the app's folder imports and requires the installed package, types checked", async () => {
    // Run by the checkout's notebook runner (tslab as a library); the cells resolve "ssb-ct" from the app's
    // node_modules as a Jupyter kernel started there would (tslab type-checks with node10 resolution: typesVersions).
    mkdirSync(join(app, "nb"), { recursive: true });
    const cell = (src: string[]) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source: src });
    const nb = {
      cells: [
        cell(['import * as ssb from "ssb-ct";\n', 'import { OmeImage } from "ssb-ct/volume";\n', 'const seed: number = ssb.twin.presetParameters("ci").seed;\n', "console.log(typeof OmeImage.open, seed > 0);\n"]),
        cell(['const lib = require("ssb-ct");\n', 'console.log(typeof lib.analysis.analyseOperando);\n']),
      ],
      metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    writeFileSync(join(app, "nb/use.ipynb"), JSON.stringify(nb));
    const r = await run(process.execPath, [join(REPO, "bin/ssbct.mjs"), "notebooks", "run", "--out", join(app, "nb/out"), join(app, "nb/use.ipynb")], { cwd: app, env });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(readFileSync(join(app, "nb/out/use.ipynb"), "utf8")) as { cells: Array<{ outputs: Array<{ text?: string[] | string }> }> };
    const text = out.cells.map((c) => c.outputs.map((o) => [o.text ?? ""].flat().join("")).join("")).join("|");
    expect(text).toBe("function true\n|function\n");
  });

  it("runs twin, info and quantify from the built bundle (read and task workers from dist/)", async () => {
    const bin = join(app, "node_modules/.bin/ssbct");
    const t = await run(bin, ["twin", "--preset", "ci", "--times", "0,3.2", "--out", "ci.ome.zarr"], { cwd: app, env });
    expect(t.status, t.stderr).toBe(0);
    const i = await run(bin, ["info", "ci.ome.zarr", "--json"], { cwd: app, env: { ...env, SSB_CT_READ_THREADS: "2" } });
    expect(i.status, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout)).toMatchObject({ shapeZYX: [54, 48, 48], voxelSizeUm: [4, 4, 4] });
    const q = await run(bin, ["quantify", "--data", "ci.ome.zarr", "--labels", "segmentation", "--out", "tables"], { cwd: app, env: { ...env, SSB_CT_READ_THREADS: "2" } });
    expect(q.status, q.stderr).toBe(0);
    expect(existsSync(join(app, "tables/time_series.csv"))).toBe(true);
  });
});
