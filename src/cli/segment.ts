/**
 * `ssbct segment`: tiled whole-volume inference with a trained model, written as labels/<name> in the image. An
 * interrupted run of the same model and settings on the same image resumes; labels of another model, image or
 * settings are refused before any work unless --overwrite (then replaced whole, saying why).
 */
import { DEFAULT_INFER } from "../segment/plans.js";
import { OmeImage } from "../volume/index.js";
import { stableJson } from "../util/identity.js";
import { requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "segment",
  summary: "Segments every time point of an OME-Zarr image with a trained U-Net (electrolyte / void / lithium) and writes labels/<name> into the image.",
  usage: "--data STORE --model DIR [options]",
  description: "The image must have the model's channels and voxel size (within 2 %). Inference runs on ONNX Runtime by default.",
  options: {
    data: { type: "string", value: "STORE", help: "OME-Zarr image to segment" },
    model: { type: "string", value: "DIR", help: "model folder (e.g. data/models/unet-default)" },
    label: { type: "string", value: "NAME", default: "unet", help: "label image name under labels/" },
    engine: { type: "string", value: "onnx|tfjs", default: "onnx", help: "inference engine" },
    patch: { type: "string", value: "vox", default: String(DEFAULT_INFER.patchZYX[0]), help: "cubic window edge, voxels (a multiple of 2^(depth-1))" },
    probabilities: { type: "boolean", help: "also store class probabilities (float32, labels/<name>/probabilities)" },
    entropy: { type: "boolean", help: "also store the entropy of the class probabilities (nats)" },
    tta: { type: "string", value: "AXES", help: "mirroring test-time augmentation along these axes, e.g. zyx (2^axes x the inference time)" },
    "voxel-size-policy": { type: "string", value: "P", default: "resample", help: "a scan at another voxel size than the model's: resample (on the model's grid), refuse, or as-is" },
  },
  examples: ["ssbct segment --data S.ome.zarr --model data/models/unet-default", "ssbct segment --data S.ome.zarr --model my-model --label mine --probabilities --json"],
  json: true,
  overwrite: true,
  parallel: true,
  async run(ctx: CommandContext) {
    const data = requireInput(ctx.req("data"), "--data");
    const modelDir = requireInput(ctx.req("model"), "--model");
    const labelName = ctx.req("label");
    const engine = ctx.choice("engine", ["onnx", "tfjs"] as const)!;
    const p = ctx.num("patch", { integer: true, min: 1, unit: "voxels" })!;
    const { shard, threads } = ctx.parallel();
    const policy = ctx.choice("voxel-size-policy", ["resample", "refuse", "as-is"] as const)!;
    const ttaText = ctx.opt("tta");
    if (ttaText !== undefined && !/^(?!.*(.).*\1)[zyx]+$/.test(ttaText)) throw new UsageError("--tta expects mirror axes from z, y, x, each at most once (e.g. zyx)", { field: "--tta", got: ttaText });
    const tta = ttaText ? (ttaText.split("") as Array<"z" | "y" | "x">) : undefined;
    const img = await OmeImage.open(data);
    const { loadSegmentModel, modelFingerprint } = await import("../segment/model-io.js");
    const { segmentImage } = await import("../segment/infer.js");
    const { imageIdentity } = await import("../volume/completion.js");
    const sm = await loadSegmentModel(modelDir);
    const writeProbabilities = ctx.flag("probabilities");
    const writeEntropy = ctx.flag("entropy");
    // Shards of one job write the same label image at once: the library checks their job identity instead.
    if ((await img.labelNames()).includes(labelName) && !ctx.overwrite && !(shard && shard.count > 1)) {
      // Same model, settings and image: a resume. Anything else would replace the labels: refused up front.
      const prev = (await img.openLabels(labelName)).array(0).attributes["ssb-ct-segment"] as Record<string, unknown> | undefined;
      const want = { model: modelFingerprint(sm), image: imageIdentity(img), patchZYX: [p, p, p], probabilities: writeProbabilities, entropy: writeEntropy, tta: tta ?? null };
      const had = prev ? { model: prev.model, image: prev.image, patchZYX: prev.patchZYX, probabilities: prev.probabilities, entropy: prev.entropy, tta: prev.tta ?? null } : null;
      if (stableJson(had) !== stableJson(want))
        throw new UsageError(`labels/${labelName} already holds ${had ? "labels of another model, image or settings" : "labels the segmenter did not write"} (pass --overwrite to replace them, or --label another name)`, { path: data, field: "--label", got: labelName });
    }
    const stats = await segmentImage(img, sm, {
      labelName,
      engine,
      patchZYX: [p, p, p],
      writeProbabilities,
      writeEntropy,
      overwriteForeign: ctx.overwrite,
      voxelSizePolicy: policy,
      ...(tta ? { tta } : {}),
      ...(shard ? { shard } : {}),
      ...(threads !== undefined ? { threads } : {}),
    });
    if (stats.replaced) ctx.note(`replaced the earlier labels/${labelName}: ${stats.replaced}`);
    ctx.report(
      `${stats.complete ? "wrote" : "partly wrote"} ${data}/labels/${labelName}: ${stats.chunksWritten} chunks written, ${stats.chunksSkipped} already done, ${stats.windowsPredicted} windows on ${stats.engine} in ${stats.seconds.toFixed(1)} s`,
      { data, label: labelName, ...stats },
    );
    // A shard finishes its own chunks; the store is complete once every shard has run.
    return stats.complete || (shard && shard.count > 1) ? 0 : 1;
  },
};
