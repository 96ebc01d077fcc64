/**
 * Fig. 1a and Fig. 2b from the twin's `ci` dataset, checked against the twin's truth: the material map (void and
 * deposit voxels, the depth of every void), the manifest (interface position, layer thickness, the short at 3.2 h),
 * and the figure contract (mesh3d traces, true-to-um aspect ratio, unit-bearing axes, slider frames).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fig1a, fig1aInputs, fig2b, fig2bInputs, readLabelVolume, type Fig1aInput, type Fig2bInput } from "../../src/figures/fig-3d.js";
import { CLASS_COLOURS, FIGURE_IDS, type PlotlyTrace } from "../../src/figures/figure.js";
import { edgeReport, meshBounds, type SurfaceMesh } from "../../src/figures/mesh.js";
import { generateTwin, Material, presetParameters, type TwinManifest } from "../../src/twin/index.js";
import { ParameterError } from "../../src/util/errors.js";
import { buildPyramid, OmeImage } from "../../src/volume/index.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-fig3d-");
let img: OmeImage;
let manifest: TwinManifest;
let in1: Fig1aInput;
let in2: Fig2bInput;
const TIMES = [0, 1.5, 3.2];

beforeAll(async () => {
  const path = join(dir, "ci.ome.zarr");
  const r = await generateTwin(presetParameters("ci"), path, { progress: false });
  manifest = r.manifest;
  img = await OmeImage.open(path);
  in1 = await fig1aInputs(img, await img.openLabels("segmentation"));
  in2 = await fig2bInputs(img, { times_h: TIMES });
}, 120_000);

function expectClosed(m: SurfaceMesh): void {
  const e = edgeReport(m);
  expect([e.boundary, e.nonManifold, e.misoriented]).toEqual([0, 0, 0]);
}

/** Voxel count of material codes at time index t, and the z range (voxel indices) they occupy. */
async function materialVoxels(t: number, codes: number[]): Promise<{ count: number; zMin: number; zMax: number }> {
  const v = await readLabelVolume(await img.openLabels("material"), t);
  const [, ny, nx] = v.shapeZYX;
  let count = 0, zMin = Infinity, zMax = -Infinity;
  v.data.forEach((c, i) => {
    if (!codes.includes(c)) return;
    count++;
    const z = Math.floor(i / (ny * nx));
    zMin = Math.min(zMin, z);
    zMax = Math.max(zMax, z);
  });
  return { count, zMin, zMax };
}

const meshes = (f: { data: PlotlyTrace[] }) => f.data.filter((t) => t.type === "mesh3d");

describe("Fig. 1a inputs (pristine voids)", () => {
  it("depth 0 is the twin's interface and the layer is the twin's electrolyte", () => {
    const h = manifest.voxel_um;
    expect(in1.interface_um).toBeCloseTo(manifest.interface_um, 6);
    expect(in1.layer.depth_um[0]).toBe(0);
    expect(in1.layer.depth_um[1]).toBeCloseTo(manifest.parameters.geometry.electrolyte_um, 6);
    expect(in1.layer.x_um).toEqual([0, manifest.shapeZYX[2] * h]);
    expect(in1.layer.y_um).toEqual([0, manifest.shapeZYX[1] * h]);
  });

  it("the void surface is closed and spans exactly the depths of the true void voxels", async () => {
    const h = manifest.voxel_um;
    expectClosed(in1.voids);
    const truth = await materialVoxels(0, [Material.void]);
    expect(truth.count).toBe(manifest.timePoints[0]!.materialVoxels[Material.void]);
    // At the mask's 1/2 level the extreme vertices lie on the outer voxel faces: z from zMin h to (zMax + 1) h.
    const b = meshBounds(in1.voids)!;
    expect(b.min[2]).toBeCloseTo(truth.zMin * h - manifest.interface_um, 4);
    expect(b.max[2]).toBeCloseTo((truth.zMax + 1) * h - manifest.interface_um, 4);
  });

  it("three magnified windows: near the interface, the 100-120 um band, the deepest voids; surfaces inside their boxes", () => {
    expect(in1.insets.map((i) => i.label)).toEqual(["near the interface", "void-rich band", "deep"]);
    expect(in1.insets[0]!.box.depth_um).toEqual([0, 20]);
    expect(in1.insets[1]!.box.depth_um).toEqual([100, 120]);
    for (const ins of in1.insets) {
      expect(ins.box.x_um[1] - ins.box.x_um[0]).toBe(40);
      expect(ins.box.depth_um[1]).toBeLessThanOrEqual(in1.layer.depth_um[1]);
      if (!ins.voids.positions.length) continue;
      expectClosed(ins.voids);
      const b = meshBounds(ins.voids)!;
      const lo = [ins.box.x_um[0], ins.box.y_um[0], ins.box.depth_um[0]], hi = [ins.box.x_um[1], ins.box.y_um[1], ins.box.depth_um[1]];
      for (const a of [0, 1, 2]) {
        expect(b.min[a]!).toBeGreaterThanOrEqual(lo[a]! - 1e-4);
        expect(b.max[a]!).toBeLessThanOrEqual(hi[a]! + 1e-4);
      }
    }
    // The band window is placed where the voids are: it holds some.
    expect(in1.insets[1]!.voids.positions.length).toBeGreaterThan(0);
  });
});

describe("Fig. 1a from a pyramid level", () => {
  it("level 1 draws the main view on 2-voxel cells; the magnified views stay at full resolution", async () => {
    const seg = await img.openLabels("segmentation");
    await buildPyramid(seg, { levels: 2, method: "mode", progress: { sink: false } });
    const coarse = await fig1aInputs(img, seg, { level: 1 });
    const h = manifest.voxel_um;
    expect(coarse.cellUm).toEqual([2 * h, 2 * h, 2 * h]);
    expect(coarse.voxelSizeUm).toEqual([2 * h, 2 * h, 2 * h]);
    expectClosed(coarse.voids);
    // The mode-downsampled electrode ends within one coarse voxel of the true interface.
    expect(Math.abs(coarse.interface_um - manifest.interface_um)).toBeLessThanOrEqual(2 * h);
    expect(coarse.insets[1]!.voids.positions.length).toBeGreaterThan(0);
    await expect(fig1aInputs(img, seg, { level: 2 })).rejects.toThrow(/field: level/);
  });
});

describe("Fig. 1a figure", () => {
  it("mesh3d in the void colour, four scenes with um axes, depth ticks reading down from 0, true aspect ratio", () => {
    const f = fig1a(in1);
    expect(FIGURE_IDS).toContain(f.id);
    expect(f.id).toBe("fig1a");
    const m = meshes(f);
    expect(m.filter((t) => String(t.name).startsWith("voids"))).toHaveLength(4);
    expect(new Set(m.map((t) => t.scene))).toEqual(new Set(["scene", "scene2", "scene3", "scene4"]));
    // The void colour is black, which takes no shading in plotly: voids are drawn in a dark grey, said so in the caption.
    for (const t of m.filter((t) => String(t.name).startsWith("voids"))) expect(t.color).toBe("#505050");
    expect(f.caption).toMatch(/void colour/);
    const scene = f.layout.scene as Record<string, any>;
    expect(scene.zaxis.title.text).toBe("Depth from Li/Li3PS4 interface (µm)");
    expect(scene.xaxis.title.text).toBe("x (µm)");
    expect(scene.yaxis.title.text).toBe("y (µm)");
    // Elevation is -depth in the scene: tick at -d is labelled d.
    scene.zaxis.tickvals.forEach((v: number, k: number) => expect(-v).toBeCloseTo(Number(scene.zaxis.ticktext[k]), 9));
    // Aspect ratio true to um: 192 x 192 x 192 um in ci.
    const span = [in1.layer.x_um[1] - in1.layer.x_um[0], in1.layer.y_um[1] - in1.layer.y_um[0], in1.layer.depth_um[1]];
    const mx = Math.max(...span);
    expect(scene.aspectratio).toEqual({ x: span[0]! / mx, y: span[1]! / mx, z: span[2]! / mx });
    // The plotted mesh is the input mesh: same vertex count, z = -depth.
    const main = m.find((t) => t.name === "voids")!;
    expect((main.z as number[]).length).toBe(in1.voids.positions.length / 3);
    expect(Math.max(...(main.z as number[]))).toBeCloseTo(-meshBounds(in1.voids)!.min[2], 2);
    expect(f.caption).toMatch(/µm/);
    expect(f.provenance.dataset).toBe(img.path);
    expect(f.provenance.meshes).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.stringify(f).length).toBeLessThan(3e6);
  });
});

describe("Fig. 2b inputs (electrode and deposits over time)", () => {
  it("a time that is not a CT time point is refused, naming the entry", async () => {
    await expect(fig2bInputs(img)).rejects.toThrow(ParameterError);
    await expect(fig2bInputs(img)).rejects.toThrow(/field: times_h\[1\]/);
  });

  it("deposited Li matches the twin's deposit voxels; none before nucleation", async () => {
    expect(in2.frames.map((f) => f.time_h)).toEqual(TIMES);
    const h3 = manifest.voxel_um ** 3;
    for (const [k, f] of in2.frames.entries()) {
      const truth = manifest.timePoints[k]!.materialVoxels[5]! * h3;
      if (truth === 0) {
        expect(f.depositVolume_um3).toBe(0);
        expect(f.deposit.positions.length).toBe(0);
        continue;
      }
      // Where a deposit touches plated Li, the voxel next to the interface is ambiguous: 0.5 % covers those.
      expect(Math.abs(f.depositVolume_um3 / truth - 1)).toBeLessThan(0.005);
      expectClosed(f.deposit);
    }
  });

  it("the electrode sits above depth 0, and at the short (3.2 h) the deposit reaches the counter electrode", () => {
    const h = manifest.voxel_um;
    for (const f of in2.frames) {
      expectClosed(f.electrode);
      const b = meshBounds(f.electrode)!;
      expect(b.min[2]).toBeCloseTo(-manifest.interface_um, 4);
      expect(b.max[2]).toBeLessThanOrEqual(2 * h);
    }
    expect(in2.layerDepth_um).toBeCloseTo(manifest.parameters.geometry.electrolyte_um, 6);
    const last = meshBounds(in2.frames[2]!.deposit)!;
    expect(last.max[2]).toBeGreaterThan(in2.layerDepth_um - h);
  });

  it("runs on another label image: the material map's Li classes give the same deposits", async () => {
    const mat = await fig2bInputs(img, { labelName: "material", times_h: TIMES });
    expect(mat.frames.map((f) => f.depositVolume_um3)).toEqual(in2.frames.map((f) => f.depositVolume_um3));
    expect(mat.provenance.labels).toMatch(/^material \(lithium classes 3,4,5,6\)/);
  });
});

describe("Fig. 2b figure", () => {
  it("one animation frame per CT time with a plotly slider; electrode and lithium colours", () => {
    const f = fig2b(in2);
    expect(f.id).toBe("fig2b");
    expect(f.frames!.map((fr) => fr.name)).toEqual(["0.0 h", "1.5 h", "3.2 h"]);
    for (const fr of f.frames!) {
      expect(fr.traces).toEqual([0, 1]);
      expect(fr.data.map((t) => [t.type, t.color])).toEqual([
        ["mesh3d", CLASS_COLOURS.electrode],
        ["mesh3d", CLASS_COLOURS.lithium],
      ]);
    }
    expect(f.data[0]!.color).toBe(CLASS_COLOURS.electrode);
    const slider = (f.layout.sliders as Array<{ steps: Array<{ label: string; method: string; args: unknown[] }> }>)[0]!;
    expect(slider.steps.map((s) => s.label)).toEqual(["0.0 h", "1.5 h", "3.2 h"]);
    expect(slider.steps.every((s) => s.method === "animate")).toBe(true);
    const scene = f.layout.scene as Record<string, any>;
    expect(scene.zaxis.title.text).toBe("Depth from Li/Li3PS4 interface (µm)");
    const span = [in2.scene.x_um[1] - in2.scene.x_um[0], in2.scene.y_um[1] - in2.scene.y_um[0], in2.scene.depth_um[1] - in2.scene.depth_um[0]];
    const mx = Math.max(...span);
    expect(scene.aspectratio.z).toBeCloseTo(span[2]! / mx, 12);
    // The deposit at 3.2 h is drawn: its vertex count is the mesh's.
    expect((f.frames![2]!.data[1]!.x as number[]).length).toBe(in2.frames[2]!.deposit.positions.length / 3);
    expect(f.caption).toMatch(/voids of the pristine state and the counter electrode not drawn/);
    expect(JSON.stringify(f).length).toBeLessThan(3e6);
  });
});

describe("plating on the bottom face", () => {
  it("depth runs upwards from the bottom electrode; voids, deposits and electrode land at their known depths", async () => {
    // 40 x 16 x 16 voxels of 2 um: counter Li in z 0-3, plating Li in z 36-39 (interface at 72 um below the top
    // face), a 2^3 void in z 26-27 (depth 16-20 um), at t = 1 a 4 x 4 x 4 deposit in z 20-23 (depth 24-32 um).
    const path = join(dir, "bottom.ome.zarr");
    const shape: [number, number, number] = [40, 16, 16];
    const im = await OmeImage.create(path, { channels: ["absorption"], timePointsH: [0, 1], shapeZYX: shape, voxelSizeUm: [2, 2, 2], dtype: "float32", experiment: { platingElectrode: "bottom" } });
    const lab = await im.createLabels("segmentation", { classes: [{ value: 0, name: "electrolyte" }, { value: 1, name: "void" }, { value: 2, name: "lithium" }] });
    for (const t of [0, 1]) {
      const d = new Uint8Array(40 * 16 * 16);
      const set = (z0: number, z1: number, y0: number, y1: number, x0: number, x1: number, v: number) => {
        for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) d[(z * 16 + y) * 16 + x] = v;
      };
      set(0, 4, 0, 16, 0, 16, 2);
      set(36, 40, 0, 16, 0, 16, 2);
      set(26, 28, 6, 8, 6, 8, 1);
      if (t === 1) set(20, 24, 2, 6, 9, 13, 2);
      await lab.writeVolume(t, [0, 0, 0], { data: d, shape: [...shape] });
    }
    const a = await fig1aInputs(im, lab, { insetDepths_um: [[10, 30]], insetWidth_um: 8 });
    expect(a.interface_um).toBe(72);
    expect(a.layer.depth_um).toEqual([0, 64]);
    expectClosed(a.voids);
    const vb = meshBounds(a.voids)!;
    expect([vb.min[2], vb.max[2]]).toEqual([16, 20]);
    expect(a.insets[0]!.box.depth_um).toEqual([10, 30]);
    expect(meshBounds(a.insets[0]!.voids)).toEqual(vb);
    const b = await fig2bInputs(im, { times_h: [0, 1] });
    expect(b.frames.map((f) => f.depositVolume_um3)).toEqual([0, 64 * 8]);
    const db = meshBounds(b.frames[1]!.deposit)!;
    expect([db.min[2], db.max[2]]).toEqual([24, 32]);
    expectClosed(b.frames[1]!.deposit);
    const eb = meshBounds(b.frames[0]!.electrode)!;
    expect([eb.min[2], eb.max[2]]).toEqual([-8, 0]);
    expect(b.scene.depth_um).toEqual([-8, 64]);
  });
});

