/**
 * `ssbct report`: scores models and intensity baselines against ground-truth labels at one time point: Dice, IoU,
 * TP/FP/FN per class and confusion matrices. The multi-Otsu baselines take their class means from --train-data.
 */
import { basename } from "node:path";
import { DEFAULT_INFER } from "../segment/plans.js";
import { OmeImage } from "../volume/index.js";
import { VolumeError } from "../util/errors.js";
import { requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";
import { rawVolumes } from "./segment-data.js";

export const command: CommandSpec = {
  name: "report",
  summary: "Scores trained models and intensity baselines (multi-Otsu on phase and on absorption) against the ground-truth labels of a test image: Dice, IoU, TP/FP/FN per class, confusion matrices.",
  usage: "--data STORE --model DIR [--model DIR2 ...] [--train-data STORE,...] [options]",
  description:
    "Each model segments the test time point into labels/report-<channels> of the test image. The baselines name their classes by the training data's class means: from --train-data, else from the first model's record. The table goes to stdout (with --json: one object).",
  options: {
    data: { type: "string", value: "STORE", help: "test image with ground-truth labels" },
    "train-data": { type: "string", value: "STORE,...", help: "training images for the baselines' class means   [default: the first model's record]" },
    model: { type: "string", multiple: true, value: "DIR", help: "model folder to score (repeatable)" },
    truth: { type: "string", value: "NAME", default: "segmentation", help: "label image holding the truth" },
    t: { type: "string", value: "INDEX", help: "time point index   [default: the last]" },
    patch: { type: "string", value: "vox", default: String(DEFAULT_INFER.patchZYX[0]), help: "inference window edge, voxels" },
    "record-test": { type: "boolean", help: "store the scores in each model's record (model.json)" },
  },
  examples: ["ssbct report --data twin-999.ome.zarr --train-data twin-101.ome.zarr --model data/models/unet-default"],
  json: true,
  async run(ctx: CommandContext) {
    const data = requireInput(ctx.req("data"), "--data");
    const trainData = ctx.opt("train-data")?.split(",") ?? [];
    for (const d of trainData) requireInput(d, "--train-data");
    const models = ctx.all("model");
    for (const m of models) requireInput(m, "--model");
    if (!models.length && !trainData.length) throw new UsageError("nothing to score: give --model DIR (and/or --train-data for the baselines)", { field: "--model" });
    const img = await OmeImage.open(data);
    const truthName = ctx.req("truth");
    const t = ctx.num("t", { integer: true, min: 0, max: img.timePointsH.length - 1 }) ?? img.timePointsH.length - 1;
    const p = ctx.num("patch", { integer: true, min: 1, unit: "voxels" })!;
    const { classMeans, evaluateLabels, formatReport, otsuBaseline, recordedBaselines } = await import("../segment/report.js");
    const { loadSegmentModel, saveSegmentModel } = await import("../segment/model-io.js");
    const { segmentImage } = await import("../segment/infer.js");
    type MethodResult = ReturnType<typeof evaluateLabels>;
    const truthLab = await img.openLabels(truthName);
    truthLab.assertReadable(); // scores against an unfinished or stale truth would be wrong without a sign
    const truth = (await truthLab.readVolume(t)).data as Uint8Array;
    const names = ["electrolyte", "void", "lithium"];
    const results: MethodResult[] = [];
    if (trainData.length) {
      const { vols } = await rawVolumes(trainData, truthName, ["phase", "absorption"], "--train-data");
      for (const ch of ["phase", "absorption"] as const) {
        // class means from the training data only
        const sums = [0, 0, 0];
        const w = [0, 0, 0];
        for (const v of vols) {
          const m = classMeans(v.channels[ch]!, v.labels, 3);
          const n = [0, 0, 0];
          for (const l of v.labels) n[l] = (n[l] ?? 0) + 1;
          m.forEach((x, k) => {
            const nk = n[k] ?? 0;
            if (nk) {
              sums[k] = (sums[k] ?? 0) + x * nk;
              w[k] = (w[k] ?? 0) + nk;
            }
          });
        }
        const vol = (await img.readVolume(t, ch)).data;
        results.push(evaluateLabels(`otsu-${ch}`, truth, otsuBaseline(vol, sums.map((s, k) => s / (w[k] ?? 0))), names));
      }
    } else {
      // No training data: the class means the first model recorded when it was trained.
      const sm = await loadSegmentModel(models[0]!);
      const volumes = { phase: (await img.readVolume(t, "phase")).data, absorption: (await img.readVolume(t, "absorption")).data };
      results.push(...recordedBaselines(sm.record, volumes, truth, models[0]!));
    }
    for (const dir of models) {
      const sm = await loadSegmentModel(dir);
      const label = `report-${sm.record.unet.channels.join("-")}`;
      const stats = await segmentImage(img, sm, { labelName: label, timePoints: [t], patchZYX: [p, p, p], resume: false });
      // Only time point t was segmented, so the label image as a whole has no completion record; this run wrote
      // every chunk of t (resume: false), which is what is read.
      if (stats.chunksWritten === 0) throw new VolumeError("the model wrote no labels", { path: `${data}/labels/${label}`, got: JSON.stringify(stats) });
      const pred = (await (await img.openLabels(label)).readVolume(t)).data;
      const res = evaluateLabels(`unet-${sm.record.unet.channels.join("+")}`, truth, pred, names);
      results.push(res);
      if (ctx.flag("record-test")) {
        // the scores go into the model's record, so they travel with the weights
        sm.record.metrics = { ...sm.record.metrics, test: { volume: basename(img.path), t, timeH: img.timePointsH[t], truth: truthName, perClass: res.classes, confusion: res.confusion } };
        await saveSegmentModel(dir, sm);
      }
    }
    ctx.report(formatReport(results), { volume: data, t, results });
    return 0;
  },
};
