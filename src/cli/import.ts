/**
 * `ssbct import`: copies a beamline volume (a folder of TIFF slices, a multi-page TIFF, or an HDF5 dataset such as
 * DXchange's /exchange/data) into one (time point, channel) slot of an OME-Zarr image, one z slab at a time with
 * bounded memory. An interrupted import of the same source resumes from its job file; Ctrl-C stops between slabs.
 */
import { statSync } from "node:fs";
import { requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "import",
  summary: "Imports a TIFF stack (folder of slices or multi-page file) or an HDF5 volume (DXchange/NeXus) into an OME-Zarr image, one time point and channel per call.",
  usage: "SOURCE --out STORE [options]",
  description:
    "The first call creates the image (--channels and --times declare all its slots); later calls with --mode add fill further slots. The voxel size must be known: from --voxel-size, from the HDF5 file (with units), or from the existing image. Units are never assumed.",
  options: {
    out: { type: "string", value: "STORE", help: "OME-Zarr image to create or fill" },
    "voxel-size": { type: "string", value: "um|dz,dy,dx", help: "voxel size in micrometres (one number: isotropic)" },
    channel: { type: "string", value: "NAME", default: "absorption", help: "channel this volume fills" },
    t: { type: "string", value: "INDEX", default: "0", help: "time point index this volume fills" },
    mode: { type: "string", value: "create|add|auto", default: "auto", help: "create a new image, add to an existing one, or add if one exists" },
    channels: { type: "string", value: "c,...", help: "new image: all its channels   [default: --channel]" },
    times: { type: "string", value: "h,...", help: "new image: acquisition times of all its time points, hours   [default: 0]" },
    chunks: { type: "string", value: "z,y,x", help: "new image: chunk shape, voxels   [default: 64,64,64]" },
    dataset: { type: "string", value: "PATH", help: "HDF5: path of the 3D volume dataset   [default: /exchange/data]" },
    pattern: { type: "string", value: "REGEX", help: "TIFF folder: only slice files whose names match (skips darks, flats)" },
    restart: { type: "boolean", help: "discard an earlier import of the same source and copy everything again" },
  },
  positionals: { name: "SOURCE", min: 1, max: 1 },
  examples: ["ssbct import scan_0001/ --out cell.ome.zarr --voxel-size 0.5 --channel phase --times 0,1.5,3", "ssbct import tomo_t1.h5 --out cell.ome.zarr --mode add --t 1 --channel phase"],
  json: true,
  overwrite: true,
  parallel: true,
  async run(ctx: CommandContext) {
    const source = requireInput(ctx.positionals[0]!, "SOURCE");
    const out = ctx.req("out");
    const vs = ctx.nums("voxel-size", { min: 0, unit: "um" });
    if (vs && vs.length !== 1 && vs.length !== 3) throw new UsageError("--voxel-size expects one number or dz,dy,dx", { field: "--voxel-size", got: ctx.opt("voxel-size") });
    if (vs && vs.some((v) => v <= 0)) throw new UsageError("--voxel-size must be positive (micrometres)", { field: "--voxel-size", got: ctx.opt("voxel-size") });
    const chunks = ctx.nums("chunks", { integer: true, min: 1, count: 3, unit: "voxels" });
    let pattern: RegExp | undefined;
    const pat = ctx.opt("pattern");
    if (pat !== undefined) {
      try {
        pattern = new RegExp(pat);
      } catch (e) {
        throw new UsageError("--pattern is not a regular expression", { field: "--pattern", got: `${pat} (${(e as Error).message})` });
      }
    }
    const { shard, threads } = ctx.parallel();
    const channel = ctx.req("channel");
    const options = {
      ...(vs ? { voxelSizeUm: vs.length === 1 ? vs[0]! : ([vs[0]!, vs[1]!, vs[2]!] as [number, number, number]) } : {}),
      channel,
      timePoint: ctx.num("t", { integer: true, min: 0 })!,
      mode: ctx.choice("mode", ["create", "add", "auto"] as const)!,
      ...(ctx.has("channels") ? { channels: ctx.req("channels").split(",") } : {}),
      ...(ctx.has("times") ? { timePointsH: ctx.nums("times", { min: 0, unit: "h" })! } : {}),
      ...(chunks ? { chunksZYX: [chunks[0]!, chunks[1]!, chunks[2]!] as [number, number, number] } : {}),
      overwrite: ctx.overwrite,
      restart: ctx.flag("restart"),
      signal: ctx.signal,
      ...(threads !== undefined ? { threads } : {}),
      // a shard writes slabs k with k mod n = i and is rerun whole, so restart and Ctrl-C resume do not apply to it
      ...(shard ? { shard } : {}),
    };
    const { importHdf5, importTiffStack } = await import("../volume/import/index.js");
    const isHdf5 = /\.(h5|hdf5|hdf|nxs)$/i.test(source) && statSync(source).isFile();
    const r = isHdf5
      ? await importHdf5(source, out, { ...options, ...(ctx.has("dataset") ? { datasetPath: ctx.req("dataset") } : {}) })
      : await importTiffStack(source, out, { ...options, ...(pattern ? { pattern } : {}) });
    if (ctx.signal.aborted) return 130;
    const img = r.image;
    ctx.report(
      `imported ${source} into ${out} (t ${options.timePoint}, channel ${channel}): ${img.shapeZYX.join(" x ")} voxels of ${r.voxelSizeUm.join(" x ")} um (voxel size from ${r.voxelSizeOrigin}); ${r.slabsWritten} slabs written, ${r.slabsSkipped} already done of ${r.slabCount}`,
      { source, out, t: options.timePoint, channel, shapeZYX: img.shapeZYX, voxelSizeUm: r.voxelSizeUm, voxelSizeOrigin: r.voxelSizeOrigin, slabsWritten: r.slabsWritten, slabsSkipped: r.slabsSkipped, slabCount: r.slabCount, jobFile: r.jobFile },
    );
    return 0;
  },
};
