/**
 * `npm run bench -- segment [--size N] [--patch P] [--train-steps S]`
 * Whole-volume sliding-window inference, ours (ONNX Runtime on the model exported from TF.js, reading and writing
 * OME-Zarr) against PyTorch (Debian python3-torch, CPU, 2 threads, same architecture, same weights, same windows
 * and Gaussian weighting, in-memory volume) in one run; the FLOP fraction uses an SGEMM measured in the same run
 * (the faster of ONNX Runtime's and PyTorch's). Also TF.js training steps/s against PyTorch at the training patch.
 * Timings on a shared machine are noisy: compare the ratio, not the absolute numbers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { onnx as OnnxNamespace } from "onnx-proto";
import type * as OrtTypes from "onnxruntime-node";
import { OmeImage } from "../src/volume/index.js";
import {
  DEFAULT_TRAIN,
  DEFAULT_UNET,
  createSegmentModel,
  flopsPerVoxel,
  gaussianImportance,
  initTf,
  setFastKernels,
  namedWeights,
  normalisationFor,
  segmentImage,
  toTrainingVolume,
  trainSegmentModel,
  windowGrid,
  type UNetConfig,
} from "../src/segment/index.js";
import { printResult, runPythonJson, median } from "./lib.js";
import { hasPythonModules } from "../test/helpers/python.js";
import { syntheticVolume } from "../test/helpers/synthetic.js";
import { TORCH_UNET_PY, writePeerModel } from "../test/segment/torch-peer.js";

const require = createRequire(import.meta.url);

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

/** float32 GEMM GFLOP/s through ONNX Runtime's MatMul (all cores). */
async function ortSgemm(n: number): Promise<number> {
  const { onnx } = require("onnx-proto") as { onnx: typeof OnnxNamespace };
  const ort = require("onnxruntime-node") as typeof OrtTypes;
  const vi = (name: string) => ({ name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } } });
  const bytes = onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: "", version: 17 }],
      graph: { name: "sgemm", node: [{ opType: "MatMul", input: ["A", "B"], output: ["C"] }], input: [vi("A"), vi("B")], output: [vi("C")] },
    }),
  ).finish();
  const s = await ort.InferenceSession.create(bytes);
  const a = new ort.Tensor("float32", Float32Array.from({ length: n * n }, (_, i) => Math.sin(i)), [n, n]);
  await s.run({ A: a, B: a });
  const ts: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    await s.run({ A: a, B: a });
    ts.push((performance.now() - t0) / 1000);
  }
  await s.release();
  return (2 * n ** 3) / Math.min(...ts) / 1e9;
}

export async function main(args: string[]): Promise<void> {
  process.env.SSB_CT_PROGRESS ??= "0";
  const backend = await initTf();
  const size = arg(args, "size", 128);
  const P = arg(args, "patch", 64);
  const trainSteps = arg(args, "train-steps", 3);
  const repeats = arg(args, "repeats", 3);
  const unet: UNetConfig = { ...DEFAULT_UNET, depth: 3, baseFilters: 8 };
  const shape: [number, number, number] = [size, size, size];
  const patch: [number, number, number] = [P, P, P];
  const dir = mkdtempSync(join(tmpdir(), "ssbct-bench-seg-"));
  try {
    const syn = syntheticVolume({ shapeZYX: shape, seed: 11 });
    const rawVol = { shapeZYX: shape, channels: syn.channels, labels: syn.labels, source: "synthetic seed 11" };
    const norm = normalisationFor(unet.channels, [rawVol]);
    const sm = await createSegmentModel(unet, norm);
    const img = await OmeImage.create(join(dir, "vol.ome.zarr"), { channels: ["absorption", "phase"], timePointsH: [0], shapeZYX: shape, voxelSizeUm: [1, 1, 1], dtype: "float32", chunksZYX: [64, 64, 64] });
    for (const c of ["absorption", "phase"] as const) await img.writeVolume(0, c, [0, 0, 0], { data: syn.channels[c], shape });

    const sgemmOrt = await ortSgemm(2048);
    // ours: end to end, zarr in, labels out; the first run also warms the page cache
    const oursS: number[] = [];
    let stats = null as Awaited<ReturnType<typeof segmentImage>> | null;
    for (let r = 0; r < repeats; r++) {
      stats = await segmentImage(img, sm, { patchZYX: patch, engine: "onnx", resume: false, progress: false });
      oursS.push(stats.seconds);
    }
    const voxels = size ** 3;
    const oursVps = voxels / median(oursS);
    const oursLabels = (await (await img.openLabels("unet")).readVolume(0)).data;

    let peer: { sgemm_gflops: number; infer_s: number[]; train_steps_per_s?: number } | null = null;
    const torchOk = hasPythonModules("torch", "numpy");
    const trainPatch = DEFAULT_TRAIN.patchZYX;
    const trainBatch = DEFAULT_TRAIN.batchSize;
    if (torchOk) {
      writePeerModel(dir, unet, namedWeights(sm.model));
      const tv = toTrainingVolume(rawVol, norm);
      const cf = new Float32Array(2 * voxels);
      tv.channels.forEach((c, i) => cf.set(c, i * voxels));
      writeFileSync(join(dir, "volume.f32"), new Uint8Array(cf.buffer));
      const g = gaussianImportance(patch, 1 / 8);
      writeFileSync(join(dir, "gauss.f32"), new Uint8Array(g.buffer));
      writeFileSync(
        join(dir, "bench.json"),
        JSON.stringify({ volume_shape: [2, ...shape], patch, starts: windowGrid(shape, patch, 0.5), repeats, train_batch: trainBatch, train_patch: trainPatch, train_steps: trainSteps, sgemm_n: 2048 }),
      );
      peer = runPythonJson(TORCH_UNET_PY, [dir, "bench"], { TORCH_THREADS: "2", OMP_NUM_THREADS: "2" });
    }
    let agree = NaN;
    if (peer) {
      const tl = readFileSync(join(dir, "labels_torch.u8"));
      let same = 0;
      for (let i = 0; i < voxels; i++) if (tl[i] === oursLabels[i]) same++;
      agree = same / voxels;
    }

    // TF.js training throughput at the training patch size, with our cpu kernels and with TF.js's stock ones
    let tfjsSteps = NaN;
    let tfjsStockSteps = NaN;
    if (trainSteps > 0) {
      const tv = toTrainingVolume({ ...rawVol }, norm);
      const measure = async (fast: boolean) => {
        setFastKernels(fast);
        const sm2 = await createSegmentModel(unet, norm);
        await trainSegmentModel(sm2, [tv], { config: { steps: 1000, checkpointEvery: 0 }, stopAfter: 1, progress: false });
        const t0 = performance.now();
        await trainSegmentModel(sm2, [tv], { config: { steps: 1000, checkpointEvery: 0 }, stopAfter: trainSteps, progress: false });
        return trainSteps / ((performance.now() - t0) / 1000);
      };
      if (backend === "cpu") tfjsStockSteps = await measure(false);
      tfjsSteps = await measure(true);
    }

    const fpv = flopsPerVoxel(unet);
    const peakGflops = Math.max(sgemmOrt, peer?.sgemm_gflops ?? 0);
    const netVoxelsPerS = (stats!.windowsPredicted * P ** 3) / median(oursS);
    const peerVps = peer ? voxels / median(peer.infer_s) : NaN;
    const peerNetVps = peer ? (windowGrid(shape, patch, 0.5).length * P ** 3) / median(peer.infer_s) : NaN;
    const summary = {
      volume: shape,
      patch,
      windows: stats!.windowsPredicted,
      cpus: cpus().length,
      tfjs_backend: backend,
      kflop_per_voxel: fpv / 1e3,
      sgemm_gflops_ort: sgemmOrt,
      sgemm_gflops_torch: peer?.sgemm_gflops ?? null,
      ours_network_mvox_s: netVoxelsPerS / 1e6,
      peer_network_mvox_s: peerNetVps / 1e6,
      ours_flop_fraction: (netVoxelsPerS * fpv) / (peakGflops * 1e9),
      peer_flop_fraction: (peerNetVps * fpv) / (peakGflops * 1e9),
      label_agreement_with_torch: agree,
      train_patch: trainPatch,
      train_batch: trainBatch,
      tfjs_train_steps_s: tfjsSteps,
      tfjs_train_steps_s_stock_kernels: tfjsStockSteps,
      torch_train_steps_s: peer?.train_steps_per_s ?? null,
      train_ratio_tfjs_over_torch: peer?.train_steps_per_s ? tfjsSteps / peer.train_steps_per_s : null,
      weights: "random (untrained) U-Net, depth 3, base 8: speed does not depend on the weights",
    };
    console.log(JSON.stringify(summary, null, 1));
    printResult({
      bench: "segment",
      ours: oursVps / 1e6,
      peer: peerVps / 1e6,
      ratio: oursVps / peerVps,
      unit: "Mvoxel/s (whole volume, sliding window 50 % overlap, ours: ONNX Runtime incl. OME-Zarr I/O; peer: PyTorch 2 threads, in memory)",
      flop_fraction_ours: summary.ours_flop_fraction,
      flop_fraction_peer: summary.peer_flop_fraction,
      sgemm_gflops: peakGflops,
      tfjs_train_steps_s: tfjsSteps,
      tfjs_train_steps_s_stock_kernels: tfjsStockSteps,
      torch_train_steps_s: summary.torch_train_steps_s,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
