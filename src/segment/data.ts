/**
 * Training volumes from OME-Zarr images (with a label image holding the truth) or from in-memory arrays, with the
 * model's normalisation applied. Training volumes are held in memory: they are patches of the twin or crops of
 * real data, far smaller than the operando series that inference streams chunk by chunk.
 */
import { basename } from "node:path";
import type { OmeImage, TypedArray } from "../volume/index.js";
import { VolumeError } from "../util/errors.js";
import type { ChannelName, ChannelNormalisation } from "./plans.js";
import { channelStatistics, normaliseInto } from "./normalise.js";
import type { TrainingVolume } from "./patches.js";

export interface RawVolume {
  shapeZYX: [number, number, number];
  channels: Partial<Record<ChannelName, TypedArray>>;
  labels: Uint8Array;
  source: string;
}

/** Normalisation statistics per channel over raw training volumes; the clip range covers every labelled class. */
export function normalisationFor(channels: readonly ChannelName[], vols: readonly RawVolume[]): ChannelNormalisation[] {
  return channels.map((c) =>
    channelStatistics(
      c,
      vols.map((v) => {
        const a = v.channels[c];
        if (!a) throw new VolumeError("training volume lacks a channel the model needs", { field: c, location: v.source, got: Object.keys(v.channels).join(", ") });
        return a;
      }),
      undefined,
      vols.map((v) => v.labels),
    ),
  );
}

export function toTrainingVolume(v: RawVolume, norm: readonly ChannelNormalisation[]): TrainingVolume {
  const n = v.labels.length;
  const channels = norm.map((nc) => {
    const src = v.channels[nc.channel];
    if (!src) throw new VolumeError("training volume lacks a channel the model needs", { field: nc.channel, location: v.source, got: Object.keys(v.channels).join(", ") });
    if (src.length !== n) throw new VolumeError("channel and labels differ in size", { field: nc.channel, location: v.source, expected: String(n), got: String(src.length) });
    const out = new Float32Array(n);
    normaliseInto(src, out, 0, nc, v.source);
    return out;
  });
  return { shapeZYX: v.shapeZYX, channels, labels: v.labels, source: v.source };
}

/** Reads one time point of an image and its label image (truth) into memory. */
export async function readRawVolume(img: OmeImage, t: number, labelName: string, channels: readonly ChannelName[]): Promise<RawVolume> {
  const out: RawVolume = { shapeZYX: img.shapeZYX, channels: {}, labels: new Uint8Array(0), source: `${basename(img.path)}#t=${t}/labels/${labelName}` }; // no machine paths in a shipped model
  for (const c of channels) {
    if (!img.channels.includes(c)) throw new VolumeError("image lacks a channel the model needs", { path: img.path, field: "channels", expected: channels.join(", "), got: img.channels.join(", ") });
    out.channels[c] = (await img.readVolume(t, c)).data;
  }
  const labels = await img.openLabels(labelName);
  // Training or scoring on half-written or stale truth would teach or grade against class 0 where chunks are missing.
  labels.assertReadable();
  const lab = await labels.readVolume(t);
  out.labels = lab.data instanceof Uint8Array ? lab.data : Uint8Array.from(lab.data as ArrayLike<number>);
  return out;
}
