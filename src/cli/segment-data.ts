/** Reading the training, validation and test volumes the segmenter commands name (train, report). */
import { OmeImage } from "../volume/index.js";
import { UsageError } from "./framework.js";
import type { ChannelName } from "../segment/plans.js";
import type { RawVolume } from "../segment/data.js";

/** Time points of every image (default all; negative counts from the end, -1 = last). */
export async function rawVolumes(paths: string[], truth: string, channels: ChannelName[], option: string, times?: number[]): Promise<{ vols: RawVolume[]; voxel: [number, number, number] }> {
  const { readRawVolume } = await import("../segment/data.js");
  const vols: RawVolume[] = [];
  let voxel: [number, number, number] = [1, 1, 1];
  for (const p of paths) {
    const img = await OmeImage.open(p);
    voxel = img.voxelSizeUm;
    const T = img.timePointsH.length;
    const ts = times ? times.map((t) => (t < 0 ? T + t : t)) : Array.from({ length: T }, (_, i) => i);
    for (const t of ts) {
      if (!(Number.isInteger(t) && t >= 0 && t < T)) throw new UsageError("time point out of range", { path: p, field: option === "--val-volumes" ? "--val-t" : "--t", expected: `-${T}..${T - 1}`, got: String(t) });
      vols.push(await readRawVolume(img, t, truth, channels));
    }
  }
  return { vols, voxel };
}

/** Command line as recorded in a model: file names, not this machine's paths (the record ships with the model). */
export function portableCommand(name: string, args: string[]): string {
  const strip = (x: string) => (x.startsWith("/") || /^[A-Za-z]:[\\/]/.test(x) ? x.split(/[\\/]/).pop()! : x);
  return `ssbct ${name} ${args.map((a) => a.split(",").map(strip).join(",")).join(" ")}`;
}
