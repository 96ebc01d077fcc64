/**
 * `ssbct quantify`: the paper's measurements from a label image (electrolyte / void / lithium): void fraction vs
 * depth, void components, porosity, deposited Li against Faraday's law, nucleation, lithium components. One CSV per
 * table plus tables.json in --out, written atomically; the folder's marker names the labels and parameters, so a
 * rerun with the same inputs replaces it and anything else is refused unless --overwrite.
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { OmeImage } from "../volume/index.js";
import { guardOutputDir, recordOutputDir, requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "quantify",
  summary: "Measures voids vs depth, porosity, deposited Li vs Faraday's law, nucleation and component sizes from a label image of an OME-Zarr dataset; writes one CSV per table.",
  usage: "--data STORE --out DIR [--labels NAME] [options]",
  description:
    "Needs the experiment metadata in the image (current density in mA/cm2, electrode area in cm2, plating electrode) for the Faraday columns; without them those columns are NaN and a note says so. A label image whose writer has not finished is refused unless --allow-incomplete. Across machines: `--shard i/n` analyses one z slab into a partial result in --out and `--merge` joins them exactly (components crossing slab borders united) into the component census, the same tables `--components` writes in one process; --threads sets the worker threads of the census.",
  options: {
    data: { type: "string", value: "STORE", help: "OME-Zarr image with the label image" },
    labels: { type: "string", value: "NAME", default: "unet", help: "label image under labels/ (classes electrolyte, void, lithium)" },
    out: { type: "string", value: "DIR", help: "folder for the tables (CSV + tables.json)" },
    connectivity: { type: "string", value: "6|18|26", default: "26", help: "voxel connectivity of components" },
    "bin-width": { type: "string", value: "um", default: "20", help: "depth bin width of the void profile, micrometres" },
    "reference-time": { type: "string", value: "INDEX", default: "0", help: "time index of the pristine reference volume" },
    "void-radius": { type: "string", value: "um", default: "20", help: "radius for the nearest pre-existing void of a new Li component, micrometres" },
    "allow-incomplete": { type: "boolean", help: "analyse an unfinished label image (missing chunks read as class 0)" },
    components: { type: "boolean", help: "also write the component census (label_components.csv, label_component_summary.csv, layer_composition.csv)" },
    merge: { type: "boolean", help: "join the partial results of `--shard i/n` runs in --out into the component census" },
  },
  examples: [
    "ssbct quantify --data S.ome.zarr --labels unet --out S-tables",
    "ssbct quantify --data S.ome.zarr --labels unet --out T --shard 3/16   (then, after all 16: ssbct quantify --data S.ome.zarr --labels unet --out T --merge)",
  ],
  json: true,
  overwrite: true,
  parallel: true,
  async run(ctx: CommandContext) {
    const data = requireInput(ctx.req("data"), "--data");
    const out = ctx.req("out");
    const labelName = ctx.req("labels");
    const connectivity = Number(ctx.choice("connectivity", ["6", "18", "26"] as const)) as 6 | 18 | 26;
    const binWidth_um = ctx.num("bin-width", { min: 0.001, unit: "um" })!;
    const referenceTime = ctx.num("reference-time", { integer: true, min: 0 })!;
    const voidSearchRadius_um = ctx.num("void-radius", { min: 0, unit: "um" })!;
    const allowIncomplete = ctx.flag("allow-incomplete");
    const { shard, threads } = ctx.parallel();
    const merge = ctx.flag("merge");
    const census = { labels: labelName, connectivity, allowIncomplete };
    if (merge || (shard && shard.count > 1)) {
      // The cluster route: a partial result per shard, then the exact merge (src/analysis/shard-quantify.ts). Shards
      // share --out, so the library checks that every partial result there is of this job (no folder guard here).
      const { quantify } = await import("../analysis/shard-quantify.js");
      const r = await quantify(data, out, { ...census, ...(shard ? { shard } : {}), merge, ...(threads !== undefined ? { threads } : {}) });
      if ("file" in r) ctx.report(`wrote the partial result of shard ${shard!.index}/${shard!.count} (z ${r.z[0]}..${r.z[1]}): ${r.file}`, { out, shard: `${shard!.index}/${shard!.count}`, ...r });
      else ctx.report(`merged ${r.shards} partial results into ${r.files.length} tables in ${out}`, { out, ...r });
      return 0;
    }
    if (threads !== undefined && !ctx.flag("components"))
      throw new UsageError("--threads applies to the component census: add --components (or use --shard / --merge)", { field: "--threads" });
    const img = await OmeImage.open(data);
    const lab = await img.openLabels(labelName);
    const { imageIdentity } = await import("../volume/completion.js");
    const identity = { command: "quantify", inputs: { data: resolve(data), image: imageIdentity(img), labels: labelName, connectivity, binWidth_um, referenceTime, voidSearchRadius_um, allowIncomplete, components: ctx.flag("components") } };
    const replace = guardOutputDir(ctx, out, identity);
    const { analyseOperando, operandoTables } = await import("../analysis/index.js");
    const { writeTableSet } = await import("../pipeline/tables.js");
    const r = await analyseOperando(lab, { experiment: img.experiment, connectivity, binWidth_um, referenceTime, voidSearchRadius_um, allowIncomplete });
    if (ctx.signal.aborted) return 130;
    for (const n of r.notes) ctx.note(n);
    if (replace) rmSync(out, { recursive: true, force: true });
    const files = writeTableSet(out, operandoTables(r));
    if (ctx.flag("components")) {
      const { quantifyAll } = await import("../analysis/shard-quantify.js");
      files.push(...(await quantifyAll(data, out, { ...census, ...(threads !== undefined ? { threads } : {}) })).files);
    }
    recordOutputDir(out, identity);
    const ts = r.timeSeries.columns;
    const time = (ts.time_h ?? []) as number[];
    const li = (ts.deposited_lithium_um3 ?? []) as number[];
    const last = time.length - 1;
    ctx.report(
      `wrote ${files.length} tables to ${out} (${time.length} time points; ${last >= 0 ? `${Number(li[last]).toFixed(0)} um3 deposited Li at ${time[last]} h` : "no time points"})`,
      { out, files, notes: r.notes, timeSeries: r.timeSeries.columns },
    );
    return 0;
  },
};
