/**
 * `ssbct twin`: the digital twin's dataset (OME-Zarr volumes + labels, and twin-manifest.json,
 * twin-electrochem.json, twin-xas.json inside the store). One writer per store (a second run stops at once naming
 * the holder; a lock left by a killed run is taken over). The twin is deterministic, so rerunning the same
 * parameters into the same store is allowed (it rewrites identical bytes, and finishes an interrupted run); a store
 * holding anything else is refused unless --overwrite.
 *
 * Also runnable directly (`node --import tsx src/cli/twin.ts ...`), as older scripts and tests do.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { jsonIdentity } from "../util/identity.js";
import { generateTwin, presetParameters, type TwinOverrides, type TwinParameters } from "../twin/index.js";
import { isMainModule, runCommand, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

function parseSet(kv: string, overrides: Record<string, unknown>): void {
  const m = /^([A-Za-z]+)\.([A-Za-z0-9_]+)=(.*)$/.exec(kv);
  if (!m) throw new UsageError("--set expects group.key=JSON", { field: "--set", expected: "e.g. history.current_mA_cm2=0.6", got: kv });
  let value: unknown;
  try {
    value = JSON.parse(m[3]!);
  } catch {
    throw new UsageError("--set value is not JSON", { field: `--set ${m[1]}.${m[2]}`, got: m[3] });
  }
  const group = m[1]!;
  overrides[group] = { ...((overrides[group] as object | undefined) ?? {}), [m[2]!]: value };
}

/** The parameter identity of the twin an existing store holds (finished: manifest; interrupted: label attributes). */
function storedTwinIdentity(out: string): string | null {
  const manifest = join(out, "twin-manifest.json");
  if (existsSync(manifest)) {
    try {
      return jsonIdentity((JSON.parse(readFileSync(manifest, "utf8")) as { parameters: unknown }).parameters);
    } catch {
      return null;
    }
  }
  // An interrupted generation removed the manifest first; its label arrays still carry the job's identity.
  const labels = join(out, "labels");
  if (!existsSync(labels)) return null;
  for (const name of readdirSync(labels)) {
    for (const f of [".zattrs", "zarr.json", "0/.zattrs", "0/zarr.json"]) {
      const p = join(labels, name, f);
      if (!existsSync(p)) continue;
      try {
        const j = JSON.parse(readFileSync(p, "utf8")) as { attributes?: Record<string, unknown> } & Record<string, unknown>;
        const job = (j.attributes?.["ssb-ct-twin"] ?? j["ssb-ct-twin"]) as { parameters?: string } | undefined;
        if (job?.parameters) return job.parameters;
      } catch {
        // not readable: other data
      }
    }
  }
  return null;
}

export const command: CommandSpec = {
  name: "twin",
  summary: "Generates the digital twin's operando dataset: the 5D image (t, c = absorption 1/cm and phase delta x 1e6, z, y, x), labels/material and labels/segmentation, and the twin's manifest, electrochemistry and XAS files inside the store.",
  usage: "[--preset ci|default|paper] [--out STORE] [options]",
  description:
    "The output must be new, empty, or a twin store made from the same parameters (rewritten identically, or an interrupted run finished); anything else needs --overwrite, which replaces the image with every label image of it.",
  options: {
    preset: { type: "string", value: "NAME", default: "default", help: "parameter preset: ci (4 um voxels, seconds), default (2 um), paper (0.5 um, streamed)" },
    out: { type: "string", value: "STORE", help: "output OME-Zarr store   [default: data/generated/twin-<preset>.ome.zarr]" },
    seed: { type: "string", value: "N", help: "random seed (integer)" },
    set: { type: "string", multiple: true, value: "group.key=JSON", help: "override one parameter, e.g. history.current_mA_cm2=0.6 (repeatable)" },
    times: { type: "string", value: "h,h,...", help: "CT time points in hours   [default: every 0.5 h to the short, plus the short]" },
    levels: { type: "string", value: "N", default: "1", help: "resolution levels (2x pyramids for viewers), 1-8" },
    "print-params": { type: "boolean", help: "print the resolved parameters as JSON and exit" },
    "no-overwrite": { type: "boolean", hidden: true, help: "refuse to replace an existing store (the default now)" },
  },
  examples: ["ssbct twin --preset default --seed 7 --out S.ome.zarr", "ssbct twin --preset ci --set history.current_mA_cm2=1.0 --times 0,1.5,3.2 --out ci.ome.zarr"],
  json: true,
  overwrite: true,
  parallel: true,
  async run(ctx: CommandContext) {
    const overrides: Record<string, unknown> = {};
    const seed = ctx.num("seed", { integer: true, min: 0 });
    if (seed !== undefined) overrides.seed = seed;
    const times = ctx.nums("times", { min: 0, unit: "h" });
    if (times) overrides.ct = { times_h: times };
    for (const kv of ctx.all("set")) parseSet(kv, overrides);
    const levels = ctx.num("levels", { integer: true, min: 1, max: 8 })!;
    const preset = ctx.req("preset");
    if (!["ci", "default", "paper"].includes(preset)) throw new UsageError("unknown preset", { field: "--preset", expected: "ci, default or paper", got: preset });
    const { shard, threads } = ctx.parallel();
    const p: TwinParameters = presetParameters(preset, overrides as TwinOverrides);
    if (ctx.flag("print-params")) {
      process.stdout.write(JSON.stringify(p, null, 2) + "\n");
      return 0;
    }
    const out = ctx.opt("out") ?? `data/generated/twin-${p.preset}.ome.zarr`;
    let overwrite = ctx.overwrite;
    // Shards of one job start together into the same store, so a folder that another shard has just begun is not
    // "other data": the library compares the job's identity with the shard records and refuses another job itself.
    if (existsSync(out) && !ctx.overwrite && !(shard && shard.count > 1)) {
      const held = storedTwinIdentity(out);
      if (held === jsonIdentity(p)) overwrite = true; // the same twin: regenerating it changes nothing
      else if (held !== null || readdirSync(out).length > 0)
        throw new UsageError(held !== null ? "--out holds a twin made from other parameters (pass --overwrite to replace it)" : "--out already holds data (pass --overwrite to replace it)", { path: out, field: "--out" });
    }
    const r = await generateTwin(p, out, { overwrite, pyramidLevels: levels, signal: ctx.signal, ...(shard ? { shard } : {}), ...(threads !== undefined ? { threads } : {}) });
    if (ctx.signal.aborted) return 130;
    const m = r.manifest;
    const shardInfo = "shard" in r ? { shard: `${r.shard.index}/${r.shard.count}`, finalised: r.finalised } : {};
    if (!m) {
      // a shard that is not the last to finish: its blocks are written, the last shard writes the manifest
      ctx.report(`wrote shard ${shardInfo.shard} of ${out} (${r.blocks} blocks, ${r.seconds.toFixed(1)} s); the store is complete when every shard has run`, { out, blocks: r.blocks, seconds: r.seconds, ...shardInfo });
      return 0;
    }
    const last = m.timePoints[m.timePoints.length - 1]!;
    ctx.report(
      () =>
        [
          `wrote ${out} (${m.shapeZYX.join(" x ")} voxels of ${m.voxel_um} um, ${m.times_h.length} time points, ${r.seconds.toFixed(1)} s)`,
          `short at ${m.short_h.toFixed(2)} h; Li at the short ${(last.lithium_um3 / 1e3).toFixed(1)} x 10^3 um3 of Faraday's ${(last.faradayLi_um3 / 1e3).toFixed(1)} x 10^3 um3`,
          `manifest: ${out}/twin-manifest.json`,
        ].join("\n"),
      { out, preset: m.preset, seed: m.seed, shapeZYX: m.shapeZYX, voxel_um: m.voxel_um, times_h: m.times_h, short_h: m.short_h, seconds: r.seconds, manifest: `${out}/twin-manifest.json`, ...shardInfo },
    );
    return 0;
  },
};

if (isMainModule(import.meta.url, "twin.ts")) process.exitCode = await runCommand(command, process.argv.slice(2));
