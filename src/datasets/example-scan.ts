/**
 * A stand-in for a user's beamline scan: an operando series written as TIFF slice stacks, one folder per time point
 * and contrast, with the twin's `default` physics at 2 um voxels (what the shipped U-Net was trained on) in a
 * 96 x 96 voxel column. No beamline data of Park et al. is public; this lets notebooks/analyse-your-own-scan.ipynb
 * go through exactly the steps a user takes with real files (import with explicit voxel size, units and experiment
 * metadata, then the pipeline), in seconds.
 */
import { ParameterError } from "../util/errors.js";
import { buildCellModel, presetParameters, renderBlock, type TwinParameters } from "../twin/index.js";
import { writeTiffStack } from "../volume/import/tiff-write.js";
import { ZarrArray } from "../volume/array.js";

/** The contrasts of the operando scans, as the shipped model names its input channels. */
export type ScanChannel = "absorption" | "phase";

export interface ExampleScanOptions {
  /** Folder of the TIFF stack of one time point (index into times_h) and contrast: the layout of the user's files. */
  stackFolder: (timeIndex: number, channel: ScanChannel) => string;
  /** Acquisition times, hours since the start of plating (increasing, up to the twin's short). */
  times_h: number[];
  /** Voxel edge, micrometres: must be the twin `default` preset's 2 um, which the shipped model needs. */
  voxelSize_um: number;
  /** Plating current density, mA/cm2 (the twin's history.current_mA_cm2). */
  currentDensity_mA_cm2: number;
  /** Electrode area, cm2 (the twin's cell.electrodeArea_cm2). */
  electrodeArea_cm2: number;
  /** Side of the plating electrode along z: the twin plates on the top (low z) electrode only. */
  platingElectrode: "top" | "bottom";
  /** File name of a slice before its number (default "recon_"). */
  slicePrefix?: string;
  /** Twin seed (default 4242: no shipped model was trained, selected or reported on it except the `npm test` check). */
  seed?: number;
  /** Lateral size, voxels (y, x); default 96 x 96. */
  nyx?: [number, number];
}

export interface ExampleStack {
  timeIndex: number;
  time_h: number;
  channel: ScanChannel;
  folder: string;
  slices: number;
}

export interface ExampleScan {
  stacks: ExampleStack[];
  /** Volume size, voxels (z, y, x). */
  shapeZYX: [number, number, number];
  /** Twin parameters behind the files (for the record; a user's scan has none). */
  twin: TwinParameters;
  seconds: number;
}

/** Twin parameters of the stand-in scan; throws a ParameterError for what the twin cannot stand in for. */
function exampleParameters(o: ExampleScanOptions): TwinParameters {
  const p = presetParameters("default", {
    seed: o.seed ?? 4242,
    geometry: { nyx: [...(o.nyx ?? [96, 96])] as [number, number] },
    history: { current_mA_cm2: o.currentDensity_mA_cm2 },
    cell: { electrodeArea_cm2: o.electrodeArea_cm2 },
    ct: { times_h: [...o.times_h] },
  });
  if (Math.abs(o.voxelSize_um - p.geometry.voxel_um) > 1e-9)
    throw new ParameterError("the stand-in scan has the twin default preset's voxel size", { field: "voxelSize_um", expected: `${p.geometry.voxel_um} um`, got: `${o.voxelSize_um} um` });
  if (o.platingElectrode !== "top")
    throw new ParameterError("the twin plates lithium on the top electrode", { field: "platingElectrode", expected: '"top"', got: JSON.stringify(o.platingElectrode) });
  return p;
}

/** Writes the stand-in scan: one folder of float32 TIFF slices per time point and contrast, in physical units. */
export function writeExampleScan(options: ExampleScanOptions): ExampleScan {
  const t0 = performance.now();
  const p = exampleParameters(options);
  const m = buildCellModel(p);
  const [nz, ny, nx] = m.shapeZYX;
  const stacks: ExampleStack[] = [];
  options.times_h.forEach((time_h, ti) => {
    // the noise of time index ti, as generateTwin would write this time point
    const b = renderBlock(m, ti, time_h, [0, nz, 0, ny, 0, nx]);
    for (const channel of ["absorption", "phase"] as const) {
      const folder = options.stackFolder(ti, channel);
      const files = writeTiffStack(folder, { data: b[channel], shape: [nz, ny, nx] }, { prefix: options.slicePrefix ?? "recon_" });
      stacks.push({ timeIndex: ti, time_h, channel, folder, slices: files.length });
    }
  });
  return { stacks, shapeZYX: [nz, ny, nx], twin: p, seconds: (performance.now() - t0) / 1000 };
}

export interface ExampleAnnotationOptions {
  /** The stand-in scan's options (same seed, size, times): the annotations are drawn on that scan. */
  scan: ExampleScanOptions;
  /** Time index (into scan.times_h) the annotations belong to. */
  timeIndex: number;
  /** z-slices the stand-in annotator labels (e.g. the slices `suggestAnnotations` ranks first). */
  slices: readonly number[];
  /** Zarr array folder to write (napari's "save layer as zarr" layout: one (z, y, x) uint8 array). */
  path: string;
}

/**
 * Stands in for a user's annotations of a few slices: the twin's 3-class truth on `slices`, written as napari saves
 * a label layer (0 = not painted, 1, 2, 3 = electrolyte, void, lithium, the classes + 1) in a zarr array, so that
 * `importLabelLayer` takes it the way it takes a user's file. Returns the annotated voxel count.
 */
export async function writeExampleAnnotations(o: ExampleAnnotationOptions): Promise<{ path: string; annotatedVoxels: number; shapeZYX: [number, number, number] }> {
  const p = exampleParameters(o.scan);
  const time_h = o.scan.times_h[o.timeIndex];
  if (time_h === undefined) throw new ParameterError("time index out of range", { field: "timeIndex", expected: `0..${o.scan.times_h.length - 1}`, got: String(o.timeIndex) });
  const m = buildCellModel(p);
  const [nz, ny, nx] = m.shapeZYX;
  for (const z of o.slices) if (!(Number.isInteger(z) && z >= 0 && z < nz)) throw new ParameterError("slice out of range", { field: "slices", expected: `0..${nz - 1}`, got: String(z) });
  const truth = renderBlock(m, o.timeIndex, time_h, [0, nz, 0, ny, 0, nx]).segmentation;
  const painted = new Uint8Array(nz * ny * nx);
  const plane = ny * nx;
  for (const z of o.slices) for (let q = z * plane; q < (z + 1) * plane; q++) painted[q] = (truth[q] ?? 0) + 1;
  const arr = await ZarrArray.create(o.path, { shape: [nz, ny, nx], chunks: [Math.min(nz, 64), ny, nx], dtype: "uint8", overwrite: true });
  await arr.write([0, 0, 0], { data: painted, shape: [nz, ny, nx] });
  return { path: o.path, annotatedVoxels: o.slices.length * plane, shapeZYX: [nz, ny, nx] };
}
