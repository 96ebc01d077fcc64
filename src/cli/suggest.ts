/**
 * `ssbct suggest`: where to annotate next. Segments one time point with a model, writing the entropy of the class
 * probabilities, and ranks z-slices and boxes by it (the most uncertain first), leaving out slices already annotated.
 */
import { DEFAULT_INFER, DEFAULT_SUGGEST } from "../segment/plans.js";
import { OmeImage } from "../volume/index.js";
import { requireInput, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "suggest",
  summary: "Suggests the z-slices and boxes to annotate next: the model's most uncertain ones (entropy of its class probabilities, nats) at one time point.",
  usage: "--data STORE --model DIR [options]",
  options: {
    data: { type: "string", value: "STORE", help: "OME-Zarr image to annotate" },
    model: { type: "string", value: "DIR", help: "model folder" },
    t: { type: "string", value: "INDEX", help: "time point index   [default: the last]" },
    label: { type: "string", value: "NAME", default: "unet", help: "label image the segmentation and its entropy go to" },
    annotations: { type: "string", value: "NAME", help: "sparse label image whose annotated slices are left out" },
    top: { type: "string", value: "N", default: String(DEFAULT_SUGGEST.top), help: "how many slices and boxes to list" },
    box: { type: "string", value: "z,y,x", default: DEFAULT_SUGGEST.boxZYX.join(","), help: "box size, voxels" },
    patch: { type: "string", value: "vox", default: String(DEFAULT_INFER.patchZYX[0]), help: "inference window edge, voxels" },
  },
  examples: ["ssbct suggest --data scan.ome.zarr --model my-model --annotations sparse --top 5"],
  json: true,
  async run(ctx: CommandContext) {
    const data = requireInput(ctx.req("data"), "--data");
    const modelDir = requireInput(ctx.req("model"), "--model");
    const top = ctx.num("top", { integer: true, min: 1 })!;
    const box = ctx.nums("box", { integer: true, min: 1, count: 3, unit: "voxels" })!;
    const p = ctx.num("patch", { integer: true, min: 1, unit: "voxels" })!;
    const img = await OmeImage.open(data);
    const t = ctx.num("t", { integer: true, min: 0, max: img.timePointsH.length - 1 });
    const { loadSegmentModel } = await import("../segment/model-io.js");
    const { suggestAnnotations } = await import("../segment/suggest.js");
    const sm = await loadSegmentModel(modelDir);
    const r = await suggestAnnotations(img, sm, {
      ...(t !== undefined ? { t } : {}),
      labelName: ctx.req("label"),
      ...(ctx.has("annotations") ? { annotations: ctx.req("annotations") } : {}),
      top,
      boxZYX: [box[0]!, box[1]!, box[2]!],
      segment: { patchZYX: [p, p, p] },
    });
    ctx.report(
      () =>
        [
          `time point ${r.t} (${img.timePointsH[r.t]} h): mean entropy ${r.meanEntropy.toFixed(4)} nats${r.annotatedSlices.length ? `; ${r.annotatedSlices.length} annotated slices left out` : ""}`,
          "slices to annotate next (z, mean entropy, uncertain voxels):",
          ...r.slices.map((s) => `  z ${s.z}: ${s.meanEntropy.toFixed(4)}, ${s.uncertainVoxels}`),
          "boxes (start z,y,x + size, mean entropy, uncertain voxels):",
          ...r.boxes.map((b) => `  ${b.start.join(",")} + ${b.size.join("x")}: ${b.meanEntropy.toFixed(4)}, ${b.uncertainVoxels}`),
        ].join("\n"),
      { data, ...r },
    );
    return 0;
  },
};
