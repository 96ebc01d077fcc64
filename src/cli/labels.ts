/**
 * `ssbct labels sparsify`: a sparse annotation label image from a dense one (every K-th z-slice kept, the rest marked
 * "not annotated"), as a user would annotate a scan in napari: for training and fine-tuning on sparse labels.
 */
import { DEFAULT_SPARSIFY } from "../segment/plans.js";
import { OmeImage } from "../volume/index.js";
import { requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "labels",
  summary: "Label-image tools. sparsify: writes labels/<to> as labels/<from> with only every K-th z-slice kept; the other voxels hold 255 (not annotated), which training, fine-tuning and the metrics skip.",
  usage: "sparsify --data STORE [--from NAME] [--to NAME] [--every K] [--offset I]",
  options: {
    data: { type: "string", value: "STORE", help: "OME-Zarr image holding the dense label image" },
    from: { type: "string", value: "NAME", default: "segmentation", help: "dense label image to take slices from" },
    to: { type: "string", value: "NAME", default: "sparse", help: "sparse label image to write" },
    every: { type: "string", value: "K", default: String(DEFAULT_SPARSIFY.every), help: "keep every K-th z-slice" },
    offset: { type: "string", value: "I", default: String(DEFAULT_SPARSIFY.offset), help: "first kept slice, 0 <= I < K" },
  },
  positionals: { name: "sparsify", min: 1, max: 1 },
  examples: ["ssbct labels sparsify --data twin.ome.zarr --from segmentation --to sparse --every 8"],
  json: true,
  overwrite: true,
  async run(ctx: CommandContext) {
    const sub = ctx.positionals[0];
    if (sub !== "sparsify") throw new UsageError(`unknown labels command "${sub}"`, { expected: "sparsify" });
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
