/**
 * `ssbct labels sparsify`: a sparse annotation label image from a dense one (every K-th z-slice kept, the rest marked
 * "not annotated"), as a user would annotate a scan in napari: for training and fine-tuning on sparse labels.
 * `ssbct labels import`: a label layer painted in napari or ilastik (TIFF or zarr; 0 = not painted, 1, 2, 3 = the
 * classes + 1) into the same sparse form, after checking its shape and voxel size against the image.
 */
import { DEFAULT_SPARSIFY } from "../segment/plans.js";
import { OmeImage } from "../volume/index.js";
import { requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "labels",
  summary: "Label-image tools. sparsify: writes labels/<to> as labels/<from> with only every K-th z-slice kept; the other voxels hold 255 (not annotated), which training, fine-tuning and the metrics skip. import: writes labels/<to> from a label layer painted in napari or ilastik (TIFF or zarr array; file value 0 = not painted, v = class v - 1: 1 electrolyte, 2 void, 3 lithium), refusing another shape or voxel size.",
  usage: "sparsify --data STORE [--from NAME] [--to NAME] [--every K] [--offset I] | import --data STORE --file PATH [--to NAME] [--t INDEX] [--voxel-size um|dz,dy,dx]",
  options: {
    data: { type: "string", value: "STORE", help: "OME-Zarr image holding the dense label image" },
    from: { type: "string", value: "NAME", default: "segmentation", help: "dense label image to take slices from" },
    to: { type: "string", value: "NAME", default: "sparse", help: "sparse label image to write" },
    every: { type: "string", value: "K", default: String(DEFAULT_SPARSIFY.every), help: "keep every K-th z-slice" },
    offset: { type: "string", value: "I", default: String(DEFAULT_SPARSIFY.offset), help: "first kept slice, 0 <= I < K" },
    file: { type: "string", value: "PATH", help: "import: the label layer (multi-page TIFF, zarr array or OME-Zarr label image)" },
    t: { type: "string", value: "INDEX", help: "import: time point the annotations were drawn on (required when the image has several)" },
    "voxel-size": { type: "string", value: "um|dz,dy,dx", help: "import: voxel size the layer was drawn at, micrometres, when the file records none" },
  },
  positionals: { name: "sparsify|import", min: 1, max: 1 },
  examples: ["ssbct labels sparsify --data twin.ome.zarr --from segmentation --to sparse --every 8", "ssbct labels import --data scan.ome.zarr --file painted.tif --to painted --t 3"],
  json: true,
  overwrite: true,
  async run(ctx: CommandContext) {
    const sub = ctx.positionals[0];
    if (sub === "import") return importLayer(ctx);
    if (sub !== "sparsify") throw new UsageError(`unknown labels command "${sub}"`, { expected: "sparsify or import" });
    const data = requireInput(ctx.req("data"), "--data");
    const every = ctx.num("every", { integer: true, min: 1 })!;
    const offset = ctx.num("offset", { integer: true, min: 0, max: every - 1 })!;
    const from = ctx.req("from");
    const to = ctx.req("to");
    const img = await OmeImage.open(data);
    if ((await img.labelNames()).includes(to) && !ctx.overwrite) throw new UsageError(`labels/${to} already exists (pass --overwrite to replace it, or --to another name)`, { path: data, field: "--to" });
    const { sparsifyLabelImage } = await import("../segment/sparse-labels.js");
    const r = await sparsifyLabelImage(img, from, to, { every, offset, overwrite: ctx.overwrite });
    ctx.report(`wrote labels/${r.to}: ${r.keptSlices.length} of ${img.shapeZYX[0]} z-slices kept (${(r.annotatedFraction * 100).toFixed(1)} % of the voxels annotated)`, { data, ...r });
    return 0;
  },
};

async function importLayer(ctx: CommandContext): Promise<number> {
  const data = requireInput(ctx.req("data"), "--data");
  const file = requireInput(ctx.req("file"), "--file");
  const to = ctx.opt("to") ?? "annotations";
  const t = ctx.num("t", { integer: true, min: 0 });
  const vs = ctx.nums("voxel-size", { min: 0, unit: "um" });
  if (vs && vs.length !== 1 && vs.length !== 3) throw new UsageError("--voxel-size takes one number or three (dz,dy,dx)", { field: "--voxel-size", got: vs.join(",") });
  const img = await OmeImage.open(data);
  if ((await img.labelNames()).includes(to) && !ctx.overwrite) throw new UsageError(`labels/${to} already exists (pass --overwrite to replace it, or --to another name)`, { path: data, field: "--to" });
  const { importLabelLayer } = await import("../volume/import/labels.js");
  const voxelSizeUm: [number, number, number] | undefined = vs ? (vs.length === 1 ? [vs[0]!, vs[0]!, vs[0]!] : [vs[0]!, vs[1]!, vs[2]!]) : undefined;
  const r = await importLabelLayer(img, file, to, { ...(t !== undefined ? { t } : {}), ...(voxelSizeUm ? { voxelSizeUm } : {}), overwrite: ctx.overwrite });
  ctx.report(
    `wrote labels/${r.name} from ${file} (${r.format}) at time point ${r.t}: ${(r.annotatedFraction * 100).toFixed(2)} % of its voxels annotated; voxel size ${r.voxelSizeCheck.join("; ")}`,
    { data, file, ...r },
  );
  return 0;
}
