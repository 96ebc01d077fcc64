/**
 * Whole operando analysis on an OME-Zarr label image built with known truth: a rough (stepped) plating interface,
 * a counter electrode, voids and lithium deposits placed at known depths over three time points. Every expected
 * number is computed from the placed objects, not from the analysis.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LI_UM_PER_MAH_CM2 } from "../../src/numerics/index.js";
import {
  analyseOperando,
  labelImageComponents,
  operandoTables,
  toCsv,
  toDataFrame,
  writeCsv,
  writeTables,
  type LabelSource,
} from "../../src/analysis/index.js";
import { OmeImage, type LabelImage } from "../../src/volume/index.js";
import { VolumeError } from "../../src/util/errors.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-operando-");
const Z = 40;
const Y = 16;
const X = 20;
const VOX: [number, number, number] = [0.5, 0.5, 0.5];
const COUNTER = 37; // counter electrode occupies z >= 37
const h = (y: number, x: number) => 4 + Math.floor(x / 7) + Math.floor(y / 8); // plating electrode: z < h
type Box = [number, number, number, number, number, number]; // z0, z1, y0, y1, x0, x1 (half-open)
const voids: Box[] = [
  [20, 23, 2, 5, 3, 6], // 27 voxels
  [12, 14, 10, 12, 12, 16], // 16 voxels
];
const deposit1: Box = [20, 23, 2, 5, 7, 10]; // t1: next to void 0 (gap of one voxel in x)
const deposit1b: Box = [20, 24, 2, 5, 7, 10]; // t2: grown by one z layer
const deposit2: Box = [28, 30, 12, 14, 2, 4]; // t2: new
const shortCol = { y: 14, x: 18 }; // t2: lithium from electrode to electrode
const boxVoxels = (b: Box) => (b[1] - b[0]) * (b[3] - b[2]) * (b[5] - b[4]);
const times = [0, 1.0, 2.0];
const J = 0.8;
const AREA = 0.0314;

function volumeAt(t: number, extra?: (d: Uint8Array) => void): Uint8Array {
  const d = new Uint8Array(Z * Y * X);
  const put = (b: Box, v: number) => {
    for (let z = b[0]; z < b[1]; z++) for (let y = b[2]; y < b[3]; y++) for (let x = b[4]; x < b[5]; x++) d[(z * Y + y) * X + x] = v;
  };
  for (let y = 0; y < Y; y++)
    for (let x = 0; x < X; x++) {
      for (let z = 0; z < h(y, x); z++) d[(z * Y + y) * X + x] = 2;
      for (let z = COUNTER; z < Z; z++) d[(z * Y + y) * X + x] = 2;
    }
  for (const v of voids) put(v, 1);
  if (t === 1) put(deposit1, 2);
  if (t === 2) {
    put(deposit1b, 2);
    put(deposit2, 2);
    for (let z = 0; z < Z; z++) d[(z * Y + shortCol.y) * X + shortCol.x] = 2;
  }
  extra?.(d);
  return d;
}

async function build(name: string, opts: { classes?: boolean; extra?: (d: Uint8Array) => void; experiment?: Record<string, unknown> } = {}): Promise<{ img: OmeImage; lab: LabelImage }> {
  const img = await OmeImage.create(join(dir, `${name}.ome.zarr`), {
    channels: ["absorption", "p_lithium"],
    timePointsH: times,
    shapeZYX: [Z, Y, X],
    voxelSizeUm: VOX,
    dtype: "float32",
    chunksZYX: [8, 8, 8],
    experiment: opts.experiment ?? { currentDensity_mA_cm2: J, electrodeArea_cm2: AREA, platingElectrode: "top" },
  });
  const classes =
    opts.classes === false
      ? []
      : [
          { value: 0, name: "electrolyte" },
          { value: 1, name: "void" },
          { value: 2, name: "lithium" },
        ];
  const lab = await img.createLabels("segmentation", { classes, chunksZYX: [8, 8, 8] });
  for (let t = 0; t < times.length; t++) await lab.writeVolume(t, [0, 0, 0], { data: volumeAt(t, opts.extra), shape: [Z, Y, X] });
  return { img, lab };
}

describe("operando analysis on a volume with known truth", () => {
  it("interface, void profile, porosity, lithium vs Faraday, nucleation and short circuit", async () => {
    const { img, lab } = await build("truth");
    const reopened = await (await OmeImage.open(img.path)).openLabels("segmentation");
    const res = await analyseOperando(reopened, {
      experiment: img.experiment,
      connectivity: 26,
      binWidth_um: 2,
      interfaceMedianRadius: 0,
      progress: false,
    });
    // Interface: exactly the electrode thickness of every column.
    for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) expect(res.referenceInterface.platingZ[y * X + x]).toBe(h(y, x));
    expect(res.referenceInterface.counterZ![5]).toBe(COUNTER);

    // Void profile: depth of a voxel centre = (z + 0.5 - h) * dz, binned by 2 um.
    const nb = res.voidProfile.columns.depth_start_um!.length;
    const layer = new Array(nb).fill(0);
    const voidCount = new Array(nb).fill(0);
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++)
        for (let z = h(y, x); z < COUNTER; z++) {
          const b = Math.floor(((z + 0.5 - h(y, x)) * VOX[0]) / 2);
          layer[b]++;
          if (voids.some((v) => z >= v[0] && z < v[1] && y >= v[2] && y < v[3] && x >= v[4] && x < v[5])) voidCount[b]++;
        }
    expect(res.voidProfile.columns.layer_voxels).toEqual(layer);
    expect(res.voidProfile.columns.void_voxels).toEqual(voidCount);
    const pct = res.voidProfile.columns.void_fraction_pct as number[];
    pct.forEach((p, b) => expect(p).toBeCloseTo((100 * voidCount[b]) / layer[b], 10));

    // Voids: two components in label order (first voxel in C order: the void at z = 12 first), sizes and depths.
    const vv = VOX[0] * VOX[1] * VOX[2];
    expect(res.voids.columns.volume_um3).toEqual([16 * vv, 27 * vv]);
    expect(res.voids.columns.min_depth_um![1]).toBeCloseTo((20 + 0.5 - h(2, 3)) * 0.5, 12);
    expect(res.voids.columns.min_depth_um![0]).toBeCloseTo((12 + 0.5 - h(10, 15)) * 0.5, 12);

    // Time series.
    const ts = res.timeSeries.columns;
    const layerVoxels = layer.reduce((a, b) => a + b, 0);
    const voidVoxels = voids.map(boxVoxels).reduce((a, b) => a + b);
    expect(ts.time_h).toEqual(times);
    const shortLi = COUNTER - h(shortCol.y, shortCol.x);
    const liVoxels = [0, boxVoxels(deposit1), boxVoxels(deposit1b) + boxVoxels(deposit2) + shortLi];
    ts.porosity_pct!.forEach((p) => expect(p).toBeCloseTo((100 * voidVoxels) / layerVoxels, 10));
    expect(ts.deposited_lithium_um3).toEqual(liVoxels.map((n) => n * vv));
    const fov = Y * VOX[1] * X * VOX[2];
    times.forEach((t, i) => {
      const theo = J * t * 4.85 * fov; // 4.85 um of dense Li per mAh/cm2 (to the 3 digits the field quotes)
      expect(Math.abs((ts.faraday_volume_fov_um3![i] as number) - theo)).toBeLessThanOrEqual(0.002 * theo);
      if (t > 0) expect(ts.deposited_to_faraday_ratio![i]).toBeCloseTo((liVoxels[i]! * vv) / (J * t * LI_UM_PER_MAH_CM2 * fov), 12);
    });
    expect(ts.charge_mAh![2]).toBeCloseTo(J * 2 * AREA, 12);
    expect(ts.new_lithium_components).toEqual([NaN, 1, 1]);
    expect(ts.short_circuit).toEqual([false, false, true]);

    // Nucleation: the deposit at t1 and the second deposit at t2, with depth and nearest void.
    const nu = res.nucleation.columns;
    expect(nu.time_h).toEqual([1, 2]);
    expect(nu.volume_um3).toEqual([boxVoxels(deposit1) * vv, boxVoxels(deposit2) * vv]);
    expect(nu.min_depth_um![0]).toBeCloseTo((deposit1[0] + 0.5 - h(2, 7)) * 0.5, 12);
    // Centroid of deposit 1 is the centre of voxel (21, 3, 8); nearest void voxel centre is (21, 3, 5): 3 voxels in x.
    expect(nu.nearest_void_distance_um![0]).toBeCloseTo(3 * VOX[2], 12);
    // Deposit 2's centroid (mean index + 0.5, voxel units) to the nearest void voxel centre, by brute force.
    const c2 = [29, 13, 3];
    let best = Infinity;
    for (const v of voids)
      for (let z = v[0]; z < v[1]; z++)
        for (let y = v[2]; y < v[3]; y++)
          for (let x = v[4]; x < v[5]; x++) best = Math.min(best, Math.hypot((z + 0.5 - c2[0]!) * 0.5, (y + 0.5 - c2[1]!) * 0.5, (x + 0.5 - c2[2]!) * 0.5));
    expect(nu.nearest_void_distance_um![1]).toBeCloseTo(best, 12);

    // Tables: CSV with unit-bearing headers, and a DataFrame with the same columns.
    const csvPath = join(dir, "time_series.csv");
    writeCsv(csvPath, res.timeSeries);
    const lines = readFileSync(csvPath, "utf8").trim().split("\n");
    expect(lines[0]).toContain("porosity_pct");
    expect(lines[0]).toContain("deposited_lithium_um3");
    expect(lines).toHaveLength(times.length + 1);
    expect(toCsv(res.voidProfile).split("\n")[0]).toBe(Object.keys(res.voidProfile.columns).join(","));
    const df = await toDataFrame(res.voids);
    expect(df.columns).toEqual(Object.keys(res.voids.columns));
    expect(df.shape).toEqual([2, Object.keys(res.voids.columns).length]);

    // Every table to CSV in one folder.
    const written = writeTables(join(dir, "tables"), operandoTables(res));
    expect(written.map((w) => w.split(/[\\/]/).pop())).toEqual([
      "interfaces.csv",
      "void_profile.csv",
      "voids.csv",
      "void_sizes.csv",
      "time_series.csv",
      "nucleation.csv",
      "lithium_sizes.csv",
    ]);
    expect(readFileSync(written[5]!, "utf8").trim().split("\n")).toHaveLength(3);

    // The LabelImage adapter gives the same void components.
    const { table } = await labelImageComponents(lab, 0, { connectivity: 6, className: "void" });
    expect(table.columns.volume_voxels).toEqual([16, 27]);
  });

  it("median filter removes a single-column electrode defect", async () => {
    // One non-lithium voxel inside the electrode puts that column's raw interface at z = 1.
    const { img, lab } = await build("defect", { extra: (d) => (d[(1 * Y + 4) * X + 4] = 0) });
    const res = await analyseOperando(lab, { experiment: img.experiment, connectivity: 6, binWidth_um: 2, progress: false });
    expect(res.referenceInterface.platingZ[4 * X + 4]).toBe(h(4, 4));
    const raw = await analyseOperando(lab, { experiment: img.experiment, connectivity: 6, binWidth_um: 2, interfaceMedianRadius: 0, progress: false });
    expect(raw.referenceInterface.platingZ[4 * X + 4]).toBe(1);
  });
});

describe("probability-weighted lithium volume", () => {
  it("sums lithium probabilities over the layer only", async () => {
    const { img, lab } = await build("prob");
    const p = new Float32Array(Z * Y * X);
    const at = (z: number, y: number, x: number) => (z * Y + y) * X + x;
    p.fill(0.9, 0, 3 * Y * X); // electrode voxels (z < 3 < h everywhere): outside the layer, must not count
    for (let z = deposit1[0]; z < deposit1[1]; z++) for (let y = deposit1[2]; y < deposit1[3]; y++) for (let x = deposit1[4]; x < deposit1[5]; x++) p[at(z, y, x)] = 0.75;
    for (const x of [0, 5, 10, 15]) p[at(30, 1, x)] = 0.5; // electrolyte voxels in the layer
    p[at(38, 1, 1)] = 0.9; // counter electrode: outside the layer
    for (let t = 0; t < times.length; t++) await img.writeVolume(t, "p_lithium", [0, 0, 0], { data: t === 1 ? p : new Float32Array(Z * Y * X), shape: [Z, Y, X] });
    const res = await analyseOperando(lab, {
      experiment: img.experiment,
      connectivity: 6,
      binWidth_um: 2,
      probabilities: (t) => img.blocks(t, "p_lithium"),
      progress: false,
    });
    const vv = VOX[0] * VOX[1] * VOX[2];
    const got = res.timeSeries.columns.lithium_probability_volume_um3 as number[];
    expect(got[0]).toBe(0);
    expect(got[1]!).toBeCloseTo((boxVoxels(deposit1) * 0.75 + 4 * 0.5) * vv, 5);
  });
});

describe("bad input gets a clear error", () => {
  it("labels outside the declared classes", async () => {
    const { img, lab } = await build("bad-value", { extra: (d) => (d[(30 * Y + 3) * X + 3] = 7) });
    await expect(analyseOperando(lab, { experiment: img.experiment, connectivity: 6, binWidth_um: 2, progress: false })).rejects.toThrow(
      /outside the declared classes.*\(30, 3, 3\).*got: 7/,
    );
  });

  it("no declared classes", async () => {
    const { img, lab } = await build("no-classes", { classes: false });
    await expect(analyseOperando(lab, { experiment: img.experiment, connectivity: 6, binWidth_um: 2, progress: false })).rejects.toThrow(VolumeError);
  });

  it("a depth axis that cannot be identified", async () => {
    const { img, lab } = await build("no-side", { experiment: { currentDensity_mA_cm2: J } });
    await expect(analyseOperando(lab, { experiment: img.experiment, connectivity: 6, binWidth_um: 2, progress: false })).rejects.toThrow(
      /depth axis cannot be identified.*platingElectrode/,
    );
    // No electrode on the plating face at all.
    const { img: img2, lab: lab2 } = await build("no-electrode", {
      extra: (d) => d.fill(0, 0, Z * Y * X),
    });
    await expect(analyseOperando(lab2, { experiment: img2.experiment, connectivity: 6, binWidth_um: 2, progress: false })).rejects.toThrow(
      /depth axis cannot be identified: no lithium electrode/,
    );
  });

  it("a label volume without voxel size", async () => {
    const { img, lab } = await build("no-voxel");
    const fake: LabelSource = {
      shapeZYX: lab.shapeZYX,
      voxelSizeUm: [NaN, 0.5, 0.5],
      timePointsH: lab.timePointsH,
      classes: lab.classes,
      blocks: (t) => lab.blocks(t),
      readVolume: (t, o) => lab.readVolume(t, o),
    };
    await expect(analyseOperando(fake, { experiment: img.experiment, connectivity: 6, binWidth_um: 2, progress: false })).rejects.toThrow(/voxel size/);
  });
});
