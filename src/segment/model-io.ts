/**
 * Saving and loading a segmentation model as model.json + weights.bin (the TF.js layers format) without
 * tfjs-node. model.json also carries the record users need to trust a model: input channels, normalisation,
 * classes, training voxel size, training data and metrics, and the SHA-256 of weights.bin so a truncated or
 * corrupt weights file is caught at load time instead of producing garbage labels.
 *
 * Beside them goes model.onnx, the same network for users outside Node (Python, napari, any ONNX runtime), with
 * that record as its metadata_props, and model.onnx.json (the same metadata plus the file's SHA-256) for readers
 * without an ONNX library. It is a pure function of the saved model (`exportModelOnnx`), so a test can check
 * that the shipped file is what the shipped weights give.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FileFormatError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { tf, initTf } from "./tf.js";
import type { ChannelName, ChannelNormalisation, TrainConfig, UNetConfig } from "./plans.js";
import { DEFAULT_CLASSES, DEFAULT_INFER } from "./plans.js";
import { buildUNet, namedWeights, sizeMultiple } from "./unet.js";
import { exportOnnx, type OnnxExportOptions } from "./onnx-export.js";

export interface ModelRecord {
  format: "ssb-ct-unet3d";
  version: 1;
  unet: UNetConfig;
  /** One entry per input channel, in network order. */
  normalisation: ChannelNormalisation[];
  classes: { value: number; name: string; color?: [number, number, number, number] }[];
  /** Voxel size of the training data, micrometres (z, y, x); null when unknown. */
  voxelSizeUm: [number, number, number] | null;
  training: {
    /** Where the training volumes came from (store names, twin presets and seeds). */
    data: string[];
    config: TrainConfig | null;
    stepsDone: number;
    /** The command that trained it, for the shipped model. */
    command?: string;
    /** A fine-tuned model: the model it started from (`fineTuneModel`). */
    parent?: ParentModel;
    /** Fine-tuned: whether the normalisation is the parent's or was re-estimated from the new data. */
    normalisationFrom?: "parent" | "re-estimated";
    /** Annotated voxels of the training labels (sparse labels: the rest were IGNORE_LABEL). */
    annotated?: { voxels: number; fraction: number };
  };
  /**
   * Mean raw intensity of each class (by class value; NaN stored as null) per input channel over the training labels
   * (annotated voxels only): what names the multi-Otsu baseline classes in `report` without the training data.
   */
  classMeans?: Partial<Record<ChannelName, (number | null)[]>>;
  /** Validation / test metrics, e.g. per-class Dice. */
  metrics: Record<string, unknown>;
  createdAt: string;
}

/** The saved model a fine-tuned model started from: enough to find it again and to tell it from any other. */
export interface ParentModel {
  /** Folder name (never a machine path) or another label the caller gave. */
  name: string;
  /** `modelFingerprint` of the parent (weights, architecture, normalisation). */
  fingerprint: string;
  /** SHA-256 of the parent's weights.bin, when it was loaded from a folder. */
  weightsSha256: string | null;
  stepsDone: number;
  /** The parent's training data (its record's `training.data`). */
  data: string[];
}

export interface SegmentModel {
  model: tf.LayersModel;
  record: ModelRecord;
}

interface StoredJson {
  format: "layers-model";
  generatedBy: string;
  convertedBy: null;
  modelTopology: tf.io.ModelArtifacts["modelTopology"];
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  ssbCt: ModelRecord & { weightsSha256: string; weightsBytes: number };
}

export function defaultRecord(unet: UNetConfig, normalisation: ChannelNormalisation[]): ModelRecord {
  return {
    format: "ssb-ct-unet3d",
    version: 1,
    unet,
    normalisation,
    classes: unet.classes.map((name, value) => ({ value, name, ...(DEFAULT_CLASSES[value]?.name === name ? { color: DEFAULT_CLASSES[value]!.color } : {}) })),
    voxelSizeUm: null,
    training: { data: [], config: null, stepsDone: 0 },
    metrics: {},
    createdAt: new Date().toISOString(),
  };
}

/** Creates a freshly initialised model with identity normalisation (mean 0, std 1, no clipping). */
export async function createSegmentModel(unet: UNetConfig, normalisation?: ChannelNormalisation[]): Promise<SegmentModel> {
  await initTf();
  const norm = normalisation ?? unet.channels.map((channel) => ({ channel, clipLow: -Infinity, clipHigh: Infinity, mean: 0, std: 1 }));
  return { model: buildUNet(unet), record: defaultRecord(unet, norm) };
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

// JSON has no Infinity: store open clip bounds as null.
function encodeNorm(n: ChannelNormalisation[]): unknown {
  return n.map((c) => ({ ...c, clipLow: Number.isFinite(c.clipLow) ? c.clipLow : null, clipHigh: Number.isFinite(c.clipHigh) ? c.clipHigh : null }));
}
function decodeNorm(n: Array<Omit<ChannelNormalisation, "clipLow" | "clipHigh"> & { clipLow: number | null; clipHigh: number | null }>): ChannelNormalisation[] {
  return n.map((c) => ({ ...c, clipLow: c.clipLow ?? -Infinity, clipHigh: c.clipHigh ?? Infinity }));
}

/**
 * Graph form of the shipped model.onnx: ConvTranspose and the Softmax operator, standard operators that every ONNX
 * runtime, onnx's own tools and Netron read as the U-Net they are. The engine's default form (pointwise upsampling,
 * decomposed softmax) computes the same function faster in ONNX Runtime on CPU but reads as reshapes and
 * depth-to-space; inference in ssb-ct keeps exporting that form from the weights.
 */
export const PORTABLE_ONNX_OPTIONS: Readonly<Required<Pick<OnnxExportOptions, "upsample" | "softmax">>> = { upsample: "convtranspose", softmax: "operator" };

/**
 * Physical meaning of each input channel's raw intensities: the normalisation numbers of a model are in these units
 * (those the digital twin writes, src/twin/generate.ts), so a user's volume must be in them too.
 */
const CHANNEL_UNITS: Record<ChannelName, string> = {
  phase: "refractive index decrement delta x 1e6 (Zernike phase contrast, with its halo)",
  absorption: "linear attenuation coefficient mu, 1/cm",
};

/**
 * The metadata stored in model.onnx (metadata_props) and model.onnx.json: everything needed to run the network
 * outside ssb-ct. Values are strings (ONNX's type for them); structured ones are JSON. Deterministic for a model,
 * so the shipped file can be compared byte for byte with a fresh export.
 */
export function onnxMetadata(sm: SegmentModel): Record<string, string> {
  const r = sm.record;
  const mult = sizeMultiple(r.unet);
  return {
    format: "ssb-ct-unet3d-onnx",
    format_version: "1",
    input: `input: float32 (N, C, D, H, W) = (batch, channel, z, y, x); C = ${r.unet.channels.length} channels in the order of "channels", each normalised as "normalisation" says; D, H, W multiples of ${mult}`,
    output: `probabilities: float32 (N, K, D, H, W); K = ${r.unet.classes.length} classes in the order of "classes" (softmax over axis 1); label = argmax over axis 1 = the class value`,
    channels: JSON.stringify(r.unet.channels),
    channel_units: JSON.stringify(Object.fromEntries(r.unet.channels.map((c) => [c, CHANNEL_UNITS[c]]))),
    normalisation: JSON.stringify(encodeNorm(r.normalisation)),
    normalisation_formula: "x = (clip(raw, clipLow, clipHigh) - mean) / std per channel, raw in channel_units (clipLow / clipHigh null: no clip on that side)",
    classes: JSON.stringify(r.classes),
    voxel_size_um: JSON.stringify(r.voxelSizeUm),
    size_multiple: String(mult),
    sliding_window: JSON.stringify({
      patchZYX: DEFAULT_INFER.patchZYX,
      overlap: DEFAULT_INFER.overlap,
      gaussianSigmaFraction: DEFAULT_INFER.gaussianSigmaFraction,
      note: "how ssb-ct runs the model over whole volumes (nnU-Net's scheme: windows overlapping by half, probabilities blended with a Gaussian of sigma = patch/8)",
    }),
    training_data: JSON.stringify(r.training.data),
    metrics: JSON.stringify(r.metrics),
    model_created_at: r.createdAt,
    model_fingerprint: modelFingerprint(sm),
    export: JSON.stringify({ opset: 17, ...PORTABLE_ONNX_OPTIONS, exporter: "ssb-ct src/segment/model-io.ts exportModelOnnx" }),
  };
}

/** model.onnx of a model: the portable graph form with the metadata of `onnxMetadata`. */
export function exportModelOnnx(sm: SegmentModel): Uint8Array {
  const r = sm.record;
  return exportOnnx(r.unet, namedWeights(sm.model), {
    ...PORTABLE_ONNX_OPTIONS,
    metadata: Object.entries(onnxMetadata(sm)),
    docString: `ssb-ct 3D U-Net: ${r.unet.channels.join(" + ")} CT -> ${r.unet.classes.join(" / ")} probabilities; inputs normalised as metadata "normalisation" says; see metadata_props.`,
  });
}

/** Writes dir/model.onnx and dir/model.onnx.json (the metadata, the file's size and SHA-256) for `sm`. */
export function writeModelOnnx(dir: string, sm: SegmentModel): void {
  const bytes = exportModelOnnx(sm);
  writeFileAtomic(join(dir, "model.onnx"), bytes);
  const beside = { file: "model.onnx", bytes: bytes.byteLength, sha256: sha256(bytes), metadata: onnxMetadata(sm) };
  writeFileAtomic(join(dir, "model.onnx.json"), JSON.stringify(beside, null, 1) + "\n");
}

/**
 * Writes dir/weights.bin, dir/model.onnx (+ model.onnx.json) and dir/model.json, in that order: a crash never pairs
 * a new model.json with old weights or an old ONNX file (model.onnx's metadata also names the model's fingerprint).
 */
export async function saveSegmentModel(dir: string, sm: SegmentModel): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await sm.model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  const a = artifacts as tf.io.ModelArtifacts | null;
  if (!a || !a.weightData || !a.weightSpecs) throw new Error("TF.js returned no weights to save");
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(a.weightData));
  writeFileAtomic(join(dir, "weights.bin"), weights);
  writeModelOnnx(dir, sm);
  const json: StoredJson = {
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs }],
    ssbCt: { ...sm.record, normalisation: encodeNorm(sm.record.normalisation) as ChannelNormalisation[], weightsSha256: sha256(weights), weightsBytes: weights.byteLength },
  };
  writeFileAtomic(join(dir, "model.json"), JSON.stringify(json, null, 1));
}

/** Loads a model saved by saveSegmentModel; every failure names the file and what was wrong with it. */
export async function loadSegmentModel(dir: string): Promise<SegmentModel> {
  await initTf();
  const jsonPath = join(dir, "model.json");
  const binPath = join(dir, "weights.bin");
  if (!existsSync(jsonPath)) throw new FileFormatError("model file missing", { path: jsonPath, expected: "model.json written by saveSegmentModel" });
  let json: StoredJson;
  try {
    json = JSON.parse(readFileSync(jsonPath, "utf8")) as StoredJson;
  } catch (e) {
    throw new FileFormatError("model file is not valid JSON (truncated or corrupt?)", { path: jsonPath, got: (e as Error).message });
  }
  const rec = json?.ssbCt;
  if (!json || json.format !== "layers-model" || !json.modelTopology || !Array.isArray(json.weightsManifest) || !rec || rec.format !== "ssb-ct-unet3d")
    throw new FileFormatError("not an ssb-ct segmentation model", { path: jsonPath, field: "format / ssbCt", expected: 'layers-model with an "ssbCt" record of format ssb-ct-unet3d' });
  if (!existsSync(binPath)) throw new FileFormatError("model weights missing", { path: binPath, expected: `${rec.weightsBytes} bytes referenced by model.json` });
  const bin = new Uint8Array(readFileSync(binPath));
  if (bin.byteLength !== rec.weightsBytes)
    throw new FileFormatError("model weights have the wrong size (truncated?)", { path: binPath, expected: `${rec.weightsBytes} bytes`, got: `${bin.byteLength} bytes` });
  const digest = sha256(bin);
  if (digest !== rec.weightsSha256)
    throw new FileFormatError("model weights are corrupt (checksum mismatch)", { path: binPath, field: "sha256", expected: rec.weightsSha256, got: digest });
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel({
      load: async () =>
        tf.io.getModelArtifactsForJSON(json as unknown as tf.io.ModelJSON, async () => [specs, bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength)]),
    });
  } catch (e) {
    throw new FileFormatError("model.json does not describe a loadable TF.js model", { path: jsonPath, got: (e as Error).message });
  }
  const { weightsSha256: _h, weightsBytes: _b, ...record } = rec;
  return { model, record: { ...record, normalisation: decodeNorm(record.normalisation as never) } };
}

/** SHA-256 of a saved model's weights (identifies the model in label metadata and restart checks). */
export function modelFingerprint(sm: SegmentModel): string {
  const h = createHash("sha256");
  for (const w of sm.model.getWeights()) {
    const d = w.dataSync() as Float32Array;
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  h.update(JSON.stringify(sm.record.unet));
  h.update(JSON.stringify(encodeNorm(sm.record.normalisation)));
  return h.digest("hex");
}
