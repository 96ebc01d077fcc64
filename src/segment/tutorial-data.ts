/**
 * Training and test volumes for the retraining tutorial (notebooks/retrain-segmenter.ipynb): columns of the twin's
 * `default` physics at 2 um voxels, rendered in memory (the voxels `npm run twin` would write for the same seed and
 * time points) with their 3-class truth. No store is written: a tutorial that trains for a minute should not first
 * spend it writing and reading OME-Zarr.
 */
import { buildCellModel, presetParameters, renderBlock, type TwinOverrides } from "../twin/index.js";
import { ParameterError } from "../util/errors.js";
import type { RawVolume } from "./data.js";

export interface TwinColumnOptions {
  /** Twin seed (the microstructure: voids, deposits, noise). */
  seed: number;
  /** Plating times to render, h (0 to the short, increasing). */
  times_h: number[];
  /** Lateral size, voxels (y, x). Default 96 x 96: the column the shipped models are checked on in `npm test`. */
  nyx?: [number, number];
  /** Twin parameters overriding the `default` preset (e.g. `harderScanOverrides()`: noisier, blurrier scans). */
  overrides?: TwinOverrides;
}

/** Default lateral size of a tutorial column, voxels (y, x). */
export const TUTORIAL_COLUMN_NYX: readonly [number, number] = [96, 96];

/**
 * One raw volume per time point of a twin `default` column: both channels in their physical units (phase as
 * delta x 1e6, absorption in 1/cm) and the 3-class truth (electrolyte, void, lithium) as labels.
 */
export function twinColumnVolumes(options: TwinColumnOptions): RawVolume[] {
  const nyx = options.nyx ?? TUTORIAL_COLUMN_NYX;
  if (!options.times_h.length) throw new ParameterError("no time points to render", { field: "times_h", expected: "at least one plating time, h" });
  // presetParameters checks the times (range, increasing) and the column size
  const o = options.overrides ?? {};
  const p = presetParameters("default", { ...o, seed: options.seed, geometry: { ...o.geometry, nyx: [nyx[0], nyx[1]] }, ct: { ...o.ct, times_h: [...options.times_h] } });
  const m = buildCellModel(p);
  const [nz, ny, nx] = m.shapeZYX;
  return options.times_h.map((t_h, ti) => {
    // ti: the time index generateTwin gives this time point, so the noise is the one a written store would hold
    const b = renderBlock(m, ti, t_h, [0, nz, 0, ny, 0, nx]);
    return {
      shapeZYX: m.shapeZYX,
      channels: { phase: b.phase, absorption: b.absorption },
      labels: b.segmentation,
      source: `twin default seed ${options.seed} column ${ny}x${nx} at ${m.voxel_um} um, t=${t_h} h`,
    };
  });
}
