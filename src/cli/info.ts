/**
 * `ssbct info`: what a dataset holds, read from its metadata only (no voxel is read): shape, voxel size and units,
 * dtype and chunks, channels with their value ranges, time points, pyramid levels, experiment metadata, label images
 * with their classes and state (complete, unfinished, stale), and what has been computed from it (segmentations and
 * their models, probability maps, the twin's files).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { OmeImage } from "../volume/index.js";
import { requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

interface LabelInfo {
  name: string;
  state: string;
  reason: string;
  classes: Array<{ value: number; name: string }>;
  levels: number;
  writtenBy: string;
  extras: string[];
}

export const command: CommandSpec = {
  name: "info",
  summary: "Describes an OME-Zarr dataset: shape, voxel size and units, channels and their value ranges, time points, pyramid levels, experiment metadata, label images and their state, and what has been computed from it.",
  usage: "STORE [--json]",
  description: "Reads metadata only, so it is instant on any size of image. Units: voxel size in micrometres, times in hours.",
  options: {},
  positionals: { name: "STORE", min: 1, max: 1 },
  examples: ["ssbct info data/generated/twin-default.ome.zarr", "ssbct info my-scan.ome.zarr --json"],
  json: true,
  async run(ctx: CommandContext) {
    const path = requireInput(ctx.positionals[0]!, "STORE");
    if (!statSync(path).isDirectory()) throw new UsageError("not an OME-Zarr store (a file, not a folder)", { path });
    const img = await OmeImage.open(path);
    const labels: LabelInfo[] = [];
    for (const name of await img.labelNames()) {
      const lab = await img.openLabels(name);
      const st = lab.status();
      const attrs = lab.array(0).attributes;
      const seg = attrs["ssb-ct-segment"] as { model?: string } | undefined;
      const model = attrs["ssb-ct-model"] as { channels?: string[] } | undefined;
      const writtenBy = seg ? `segmenter (model ${String(seg.model).slice(0, 12)}, channels ${(model?.channels ?? []).join("+")})` : attrs["ssb-ct-twin"] ? "digital twin (ground truth)" : "unknown (imported or another tool)";
      const extras = ["probabilities", "entropy"].filter((x) => existsSync(join(lab.path, x)));
      labels.push({ name, state: st.state, reason: st.reason, classes: lab.classes.map((c) => ({ value: c.value, name: c.name })), levels: lab.levels, writtenBy, extras });
    }
    const twinFiles = ["twin-manifest.json", "twin-electrochem.json", "twin-xas.json"].filter((f) => existsSync(join(path, f)));
    const jobFiles = readdirSync(path).filter((f) => /import|job/i.test(f) && f.endsWith(".json"));
    const a = img.array(0);
    const info = {
      path,
      name: img.name,
      omeVersion: img.version,
      shapeZYX: img.shapeZYX,
      voxelSizeUm: img.voxelSizeUm,
      units: { space: "micrometer", time: "hour" },
      dtype: img.dtype,
      chunks: a.chunks,
      channels: img.channels.map((c, i) => ({ name: c, range: img.dataRanges[i] ?? null })),
      timePointsH: img.timePointsH,
      levels: img.levels,
      experiment: img.experiment,
      labels,
      computed: { twin: twinFiles, importJobs: jobFiles },
    };
    const [nz, ny, nx] = img.shapeZYX;
    const [dz, dy, dx] = img.voxelSizeUm;
    ctx.report(
      () =>
        [
          `${path}: OME-Zarr ${img.version}${img.name ? ` "${img.name}"` : ""}`,
          `  shape      ${nz} x ${ny} x ${nx} voxels (z, y, x), ${img.dtype}, chunks ${a.chunks.join(" x ")}`,
          `  voxel size ${dz} x ${dy} x ${dx} um (field of view ${(nz * dz).toFixed(1)} x ${(ny * dy).toFixed(1)} x ${(nx * dx).toFixed(1)} um)`,
          `  channels   ${info.channels.map((c) => `${c.name}${c.range ? ` [${c.range[0].toPrecision(4)} .. ${c.range[1].toPrecision(4)}]` : ""}`).join(", ")}`,
          `  times      ${img.timePointsH.length} time points: ${img.timePointsH.map((t) => `${t} h`).join(", ")}`,
          `  levels     ${img.levels} (${img.levels > 1 ? "pyramid for viewers" : "full resolution only"})`,
          `  experiment ${Object.keys(img.experiment).length ? Object.entries(img.experiment).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ") : "none recorded"}`,
          `  labels     ${labels.length ? `${labels.length} label image(s)` : "none"}`,
          ...labels.map((l) => `    ${l.name}: ${l.state}${l.reason ? ` (${l.reason})` : ""}; ${l.classes.map((c) => `${c.value}=${c.name}`).join(", ")}; ${l.writtenBy}${l.extras.length ? `; with ${l.extras.join(", ")}` : ""}`),
          `  computed   ${[...twinFiles, ...jobFiles].join(", ") || "nothing besides the labels above"}`,
        ].join("\n"),
      info,
    );
    return 0;
  },
};
