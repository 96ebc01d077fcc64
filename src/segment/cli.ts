/**
 * Command line for the segmenter (run with `npx tsx src/segment/cli.ts <command> ...`):
 *   train   --data a.ome.zarr[,b...] [--truth segmentation] [--val v.ome.zarr] --out DIR [--channels phase,absorption]
 *           [--depth 3] [--base 8] [--norm instance|none] [--steps 2000] [--patch 32] [--batch 2] [--lr 3e-3] [--oversample 0.33] [--oversample-boundary 0.5] [--seed 1] [--checkpoint DIR] [--resume]
 *           [--val-volumes v.ome.zarr[,w...] [--val-t -1[,t...]] --best DIR]   whole-volume validation; best model kept in DIR
 *   segment --data x.ome.zarr --model DIR [--label unet] [--engine onnx|tfjs] [--patch 64] [--probabilities] [--entropy]
 *   report  --data test.ome.zarr --train-data a.ome.zarr --model DIR [--model DIR2 ...] [--truth segmentation] [--t LAST] [--record-test]
 * Every option has its default in plans.ts; the trained model records the command line that made it.
 * `segment` resumes an interrupted run of the same model and settings on the same image, and replaces (saying why)
 * labels of another image, model or settings. Errors (bad input, a store another process writes, a full disk) are
 * printed as one line naming the file, and exit with status 2.
 */
import { basename, isAbsolute } from "node:path";
import { OmeImage } from "../volume/index.js";
import { ParameterError, SsbCtError } from "../util/errors.js";
import { DEFAULT_TRAIN, DEFAULT_UNET, DEFAULT_INFER, type ChannelName, type UNetConfig } from "./plans.js";
import { createSegmentModel, loadSegmentModel, saveSegmentModel } from "./model-io.js";
import { normalisationFor, readRawVolume, toTrainingVolume, type RawVolume } from "./data.js";
import { trainSegmentModel } from "./train.js";
import { segmentImage } from "./infer.js";
import { classMeans, evaluateLabels, formatReport, otsuBaseline, type MethodResult } from "./report.js";

type Opts = Map<string, string[]>;

function parse(argv: string[]): Opts {
  const o: Opts = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new ParameterError("unexpected argument", { got: a, expected: "--name value" });
    const next = argv[i + 1];
    const v = next !== undefined && !next.startsWith("--") ? (i++, next) : "true";
    o.set(a.slice(2), [...(o.get(a.slice(2)) ?? []), v]);
  }
  return o;
}
const str = (o: Opts, k: string, d?: string): string => {
  const v = o.get(k)?.[0] ?? d;
  if (v === undefined) throw new ParameterError("missing option", { field: `--${k}` });
  return v;
};
const num = (o: Opts, k: string, d: number): number => {
  const v = Number(o.get(k)?.[0] ?? d);
  if (!Number.isFinite(v)) throw new ParameterError("option must be a number", { field: `--${k}`, got: o.get(k)?.[0] });
  return v;
};

/** Time points of every image (default all; negative counts from the end, -1 = last). */
async function rawVolumes(paths: string[], truth: string, channels: ChannelName[], times?: number[]): Promise<{ vols: RawVolume[]; voxel: [number, number, number] }> {
  const vols: RawVolume[] = [];
  let voxel: [number, number, number] = [1, 1, 1];
  for (const p of paths) {
    const img = await OmeImage.open(p);
    voxel = img.voxelSizeUm;
    const T = img.timePointsH.length;
    const ts = times ? times.map((t) => (t < 0 ? T + t : t)) : Array.from({ length: T }, (_, i) => i);
    for (const t of ts) {
      if (!(Number.isInteger(t) && t >= 0 && t < T)) throw new ParameterError("time point out of range", { path: p, field: "--val-t", expected: `-${T}..${T - 1}`, got: String(t) });
      vols.push(await readRawVolume(img, t, truth, channels));
    }
  }
  return { vols, voxel };
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  const o = parse(rest);
  if (cmd === "train") {
    const channels = str(o, "channels", DEFAULT_UNET.channels.join(",")).split(",") as ChannelName[];
    const unet: UNetConfig = { ...DEFAULT_UNET, channels, depth: num(o, "depth", DEFAULT_UNET.depth), baseFilters: num(o, "base", DEFAULT_UNET.baseFilters), norm: str(o, "norm", DEFAULT_UNET.norm) === "none" ? "none" : "instance", seed: num(o, "seed", DEFAULT_UNET.seed) };
    const truth = str(o, "truth", "segmentation");
    const { vols, voxel } = await rawVolumes(str(o, "data").split(","), truth, channels);
    const norm = normalisationFor(channels, vols);
    const val = o.has("val") ? (await rawVolumes(str(o, "val").split(","), truth, channels)).vols : [];
    const valT = str(o, "val-t", "-1").split(",").map(Number);
    const valVolumes = o.has("val-volumes") ? (await rawVolumes(str(o, "val-volumes").split(","), truth, channels, valT)).vols : [];
    const sm = await createSegmentModel(unet, norm);
    sm.record.voxelSizeUm = voxel;
    // record file names, not this machine's paths (the record ships with the model)
    sm.record.training.command = `npx tsx src/segment/cli.ts ${argv.map((a) => a.split(",").map((x) => (isAbsolute(x) ? basename(x) : x)).join(",")).join(" ")}`;
    const p = num(o, "patch", DEFAULT_TRAIN.patchZYX[0]);
    const res = await trainSegmentModel(sm, vols.map((v) => toTrainingVolume(v, norm)), {
      config: { patchZYX: [p, p, p], steps: num(o, "steps", DEFAULT_TRAIN.steps), batchSize: num(o, "batch", DEFAULT_TRAIN.batchSize), learningRate: num(o, "lr", DEFAULT_TRAIN.learningRate), seed: num(o, "seed", DEFAULT_TRAIN.seed), oversampleRare: num(o, "oversample", DEFAULT_TRAIN.oversampleRare), oversampleBoundary: num(o, "oversample-boundary", DEFAULT_TRAIN.oversampleBoundary), validateEvery: num(o, "validate-every", DEFAULT_TRAIN.validateEvery), checkpointEvery: num(o, "checkpoint-every", DEFAULT_TRAIN.checkpointEvery) },
      validation: val.map((v) => toTrainingVolume(v, norm)),
      validationVolumes: valVolumes.map((v) => toTrainingVolume(v, norm)),
      bestDir: o.has("best") ? str(o, "best") : undefined,
      checkpointDir: o.has("checkpoint") ? str(o, "checkpoint") : undefined,
      resume: o.has("resume"),
      log: (l) => console.log(l),
    });
    res.model.record.training.command = sm.record.training.command;
    await saveSegmentModel(str(o, "out"), res.model);
    const l = res.state.losses;
    console.log(`saved ${str(o, "out")}: ${l.length} steps, loss ${l[0]?.loss.toFixed(4)} -> ${l[l.length - 1]?.loss.toFixed(4)}`);
  } else if (cmd === "segment") {
    const img = await OmeImage.open(str(o, "data"));
    const sm = await loadSegmentModel(str(o, "model"));
    const p = num(o, "patch", DEFAULT_INFER.patchZYX[0]);
    const stats = await segmentImage(img, sm, {
      labelName: str(o, "label", "unet"),
      engine: str(o, "engine", "onnx") as "onnx" | "tfjs",
      patchZYX: [p, p, p],
      writeProbabilities: o.has("probabilities"),
      writeEntropy: o.has("entropy"),
    });
    if (stats.replaced) console.error(`segment: replaced the earlier labels/${str(o, "label", "unet")}: ${stats.replaced}`);
    console.log(JSON.stringify(stats));
  } else if (cmd === "report") {
    const img = await OmeImage.open(str(o, "data"));
    const truthName = str(o, "truth", "segmentation");
    const t = num(o, "t", img.timePointsH.length - 1);
    const truthLab = await img.openLabels(truthName);
    truthLab.assertReadable(); // scores against an unfinished or stale truth would be wrong without a sign
    const truth = (await truthLab.readVolume(t)).data as Uint8Array;
    const names = ["electrolyte", "void", "lithium"];
    const results: MethodResult[] = [];
    const { vols } = await rawVolumes(str(o, "train-data").split(","), truthName, ["phase", "absorption"]);
    for (const ch of ["phase", "absorption"] as const) {
      // class means from the training data only
      const sums = [0, 0, 0];
      const w = [0, 0, 0];
      for (const v of vols) {
        const m = classMeans(v.channels[ch]!, v.labels, 3);
        const n = [0, 0, 0];
        for (const l of v.labels) n[l]!++;
        m.forEach((x, k) => {
          if (n[k]) {
            sums[k]! += x * n[k]!;
            w[k]! += n[k]!;
          }
        });
      }
      const vol = (await img.readVolume(t, ch)).data;
      results.push(evaluateLabels(`otsu-${ch}`, truth, otsuBaseline(vol, sums.map((s, k) => s / w[k]!)), names));
    }
    for (const dir of o.get("model") ?? []) {
      const sm = await loadSegmentModel(dir);
      const label = `report-${sm.record.unet.channels.join("-")}`;
      const p = num(o, "patch", DEFAULT_INFER.patchZYX[0]);
      await segmentImage(img, sm, { labelName: label, timePoints: [t], patchZYX: [p, p, p], resume: false });
      const predLabels = await img.openLabels(label);
      predLabels.assertReadable();
      const pred = (await predLabels.readVolume(t)).data;
      const res = evaluateLabels(`unet-${sm.record.unet.channels.join("+")}`, truth, pred, names);
      results.push(res);
      if (o.has("record-test")) {
        // the scores go into the model's record, so they travel with the weights
        sm.record.metrics = { ...sm.record.metrics, test: { volume: basename(img.path), t, timeH: img.timePointsH[t], truth: truthName, perClass: res.classes, confusion: res.confusion } };
        await saveSegmentModel(dir, sm);
      }
    }
    console.log(formatReport(results));
    console.log(JSON.stringify({ volume: str(o, "data"), t, results }));
  } else {
    console.error("usage: cli.ts train|segment|report [--options]; see the comment at the top of src/segment/cli.ts");
    process.exitCode = 2;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof SsbCtError)) throw e;
    process.stderr.write(`segment: ${e.message}\n`);
    process.exitCode = 2;
  }
}
