import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OmeImage } from "../../src/volume/index.js";
import {
  buildCellModel,
  generateTwin,
  loadTwinDataset,
  presetParameters,
  renderBlock,
  renderMaterial,
  type TwinManifest,
  type TwinParameters,
} from "../../src/twin/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";

// Independent constants: um of dense Li, and of products, per mAh/cm2 (see physics.test.ts for their derivation).
const F = 96485.33212;
const LI_UM = (3.6 / F) * (6.941 / 0.534) * 1e4;
const PROD_UM = (3.6 / F / 8) * ((4 * (2 * 6.941 + 32.06)) / 1.66 + (3 * 6.941 + 30.974) / 1.43) * 1e4;
// material codes as documented in labels/material
const VOID = 7, LPS = 1, INTER = 2, LI_PLATED = 4, LI_DEP = 5, LI_COUNTER = 6;

let dir: string;
let store: string;
let p: TwinParameters;
let img: OmeImage;
let manifest: TwinManifest;
const mats: Uint8Array[] = [];
let shape: number[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "twin-test-"));
  store = join(dir, "ci.ome.zarr");
  p = presetParameters("ci");
  await generateTwin(p, store, { progress: false });
  img = await OmeImage.open(store);
  manifest = JSON.parse(readFileSync(join(store, "twin-manifest.json"), "utf8")) as TwinManifest;
  const lab = await img.openLabels("material");
  for (let t = 0; t < img.timePointsH.length; t++) {
    const v = await lab.readVolume(t);
    shape = v.shape;
    mats.push(v.data as Uint8Array);
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function count(m: Uint8Array, code: number): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) if (m[i] === code) n++;
  return n;
}

describe("twin CT volumes (ci preset)", () => {
  it("writes an OME-Zarr image with the paper's time points, channels and labels", async () => {
    expect(img.channels).toEqual(["absorption", "phase"]);
    expect(img.timePointsH).toEqual([0, 1.5, 3.2]);
    expect(img.voxelSizeUm).toEqual([4, 4, 4]);
    expect((await img.labelNames()).sort()).toEqual(["material", "segmentation"]);
    expect(img.experiment.currentDensity_mA_cm2).toBe(0.8);
  });

  it("conserves charge in the voxels: Li + decomposition products = charge passed, within 1 %", () => {
    const h = p.geometry.voxel_um;
    const foot = shape[1]! * shape[2]! * h * h;
    img.timePointsH.forEach((t, ti) => {
      if (t === 0) return;
      const m = mats[ti]!;
      const qLi = ((count(m, LI_PLATED) + count(m, LI_DEP)) * h ** 3) / foot / LI_UM;
      const qDec = (count(m, INTER) * h ** 3) / foot / PROD_UM;
      expect(Math.abs((qLi + qDec) / (0.8 * t) - 1)).toBeLessThan(0.01);
    });
  });

  it("Li seen in the volume lags Faraday's law at 1.5 h and approaches it at 3.2 h", () => {
    const h = p.geometry.voxel_um;
    const foot = shape[1]! * shape[2]! * h * h;
    const ratio = (ti: number) => {
      const t = img.timePointsH[ti]!;
      const liVol = (count(mats[ti]!, LI_PLATED) + count(mats[ti]!, LI_DEP)) * h ** 3;
      return liVol / (0.8 * t * LI_UM * foot);
    };
    expect(ratio(1)).toBeLessThan(0.7);
    expect(ratio(2)).toBeGreaterThan(0.75);
    expect(ratio(2)).toBeGreaterThan(ratio(1) + 0.1);
    // Li inside the electrolyte only after nucleation
    expect(count(mats[0]!, LI_DEP)).toBe(0);
    expect(count(mats[1]!, LI_DEP)).toBeGreaterThan(0);
  });

  it("void fraction peaks in the 100-120 um bin at about 0.5 %", () => {
    const m = mats[0]!;
    const [nz, ny, nx] = shape as [number, number, number];
    const h = p.geometry.voxel_um;
    const bins = new Map<number, { v: number; n: number }>();
    for (let k = 0; k < nz; k++) {
      const depth = (k + 0.5) * h - p.geometry.topLi_um;
      if (depth < 0 || depth >= p.geometry.electrolyte_um) continue;
      const b = Math.floor(depth / 20);
      const e = bins.get(b) ?? { v: 0, n: 0 };
      for (let q = k * ny * nx; q < (k + 1) * ny * nx; q++) if (m[q] === VOID) e.v++;
      e.n += ny * nx;
      bins.set(b, e);
    }
    const frac = [...bins.entries()].map(([b, e]) => [b, e.v / e.n] as const);
    const peak = frac.reduce((a, b) => (b[1] > a[1] ? b : a));
    expect(peak[0]).toBe(5); // 100-120 um
    expect(peak[1]).toBeGreaterThan(0.0035);
    expect(peak[1]).toBeLessThan(0.0065);
    // and the manifest's true profile is the one in the labels
    const mb = manifest.timePoints[0]!.voidByDepth.find((b) => b.depthLo_um === 100)!;
    expect(mb.fraction).toBeCloseTo(peak[1], 12);
  });

  it("the void peak holds for other seeds (material map rendered without I/O)", () => {
    for (const seed of [11, 12, 13]) {
      const model = buildCellModel(presetParameters("ci", { seed }));
      const [nz, ny, nx] = model.shapeZYX;
      const m = renderMaterial(model, 0, [0, nz, 0, ny, 0, nx]);
      const h = model.voxel_um;
      const fr = new Map<number, [number, number]>();
      for (let k = 0; k < nz; k++) {
        const depth = (k + 0.5) * h - model.interface_um;
        if (depth < 0 || depth >= p.geometry.electrolyte_um) continue;
        const b = Math.floor(depth / 20);
        const e = fr.get(b) ?? [0, 0];
        for (let q = k * ny * nx; q < (k + 1) * ny * nx; q++) if (m[q] === VOID) e[0]++;
        e[1] += ny * nx;
        fr.set(b, e);
      }
      const f = [...fr.entries()].map(([b, [v, n]]) => [b, v / n] as const);
      const peak = f.reduce((a, b) => (b[1] > a[1] ? b : a));
      expect(peak[0]).toBe(5);
      expect(peak[1]).toBeGreaterThan(0.0035);
      expect(peak[1]).toBeLessThan(0.0065);
    }
  });

  it("Li and voids are near-indistinguishable in absorption but clearly separated in phase", async () => {
    const ti = 2;
    const m = mats[ti]!;
    const abs = (await img.readVolume(ti, "absorption")).data as Float32Array;
    const ph = (await img.readVolume(ti, "phase")).data as Float32Array;
    const voidAt0 = mats[0]!;
    const [nz, ny, nx] = shape as [number, number, number];
    // interior voxels: the voxel and its 6 face neighbours share the material
    const interior = (mm: Uint8Array, code: number) => {
      const out: number[] = [];
      for (let k = 1; k < nz - 1; k++)
        for (let j = 1; j < ny - 1; j++)
          for (let i = 1; i < nx - 1; i++) {
            const q = (k * ny + j) * nx + i;
            if (mm[q] !== code) continue;
            if (mm[q - 1] === code && mm[q + 1] === code && mm[q - nx] === code && mm[q + nx] === code && mm[q - nx * ny] === code && mm[q + nx * ny] === code) out.push(q);
          }
      return out;
    };
    const li = interior(m, LI_DEP);
    const lps = interior(m, LPS);
    // voids at the last time point that were voids from the start and are still voids
    const vd = interior(m, VOID).filter((q) => voidAt0[q] === VOID);
    expect(li.length).toBeGreaterThan(50);
    expect(vd.length).toBeGreaterThan(3);
    const mean = (a: Float32Array, idx: number[]) => idx.reduce((s, q) => s + a[q]!, 0) / idx.length;
    const std = (a: Float32Array, idx: number[]) => {
      const mu = mean(a, idx);
      return Math.sqrt(idx.reduce((s, q) => s + (a[q]! - mu) ** 2, 0) / idx.length);
    };
    const cnrAbs = Math.abs(mean(abs, li) - mean(abs, vd)) / std(abs, lps);
    const cnrPh = Math.abs(mean(ph, li) - mean(ph, vd)) / std(ph, lps);
    // With the instrument's blur, small voids take some electrolyte signal (partial volume) in both channels;
    // phase still separates Li from voids many times better than absorption does.
    expect(cnrPh).toBeGreaterThan(5);
    expect(cnrPh).toBeGreaterThan(5 * cnrAbs);
    // Zernike phase: voids black, Li grey, electrolyte bright
    expect(mean(ph, vd)).toBeLessThan(mean(ph, li));
    expect(mean(ph, li)).toBeLessThan(mean(ph, lps));
    // absorption: electrolyte far above both
    expect(mean(abs, lps) - mean(abs, li)).toBeGreaterThan(20 * std(abs, lps));
  });

  it("without blur and halo, Li and void differ by less than the noise in absorption and by > 5 sigma in phase", () => {
    const q = presetParameters("ci", { ct: { blurSigma_um: 0, haloGain: 0 } });
    const model = buildCellModel(q);
    const [nz, ny, nx] = model.shapeZYX;
    const b = renderBlock(model, 2, 3.2, [0, nz, 0, ny, 0, nx]);
    const stats = (a: Float32Array, code: number) => {
      let n = 0, s = 0, s2 = 0;
      for (let i = 0; i < a.length; i++) if (b.material[i] === code) (n++, (s += a[i]!), (s2 += a[i]! * a[i]!));
      return { n, mean: s / n, sd: Math.sqrt(s2 / n - (s / n) ** 2) };
    };
    const [liA, vA, eA] = [LI_DEP, VOID, LPS].map((c) => stats(b.absorption, c));
    const [liP, vP, eP] = [LI_DEP, VOID, LPS].map((c) => stats(b.phase, c));
    expect(liA!.n).toBeGreaterThan(100);
    expect(vA!.n).toBeGreaterThan(100);
    expect(Math.abs(liA!.mean - vA!.mean) / eA!.sd).toBeLessThan(0.25);
    expect((liP!.mean - vP!.mean) / eP!.sd).toBeGreaterThan(5);
    // the noise is what the parameters say
    expect(Math.abs(eA!.sd / q.ct.absorptionNoise_per_cm - 1)).toBeLessThan(0.02);
    expect(Math.abs(eP!.sd / q.ct.phaseNoise_delta1e6 - 1)).toBeLessThan(0.02);
  });

  it("a deposit connects the electrodes at the short and not before", () => {
    const [nz, ny, nx] = shape as [number, number, number];
    const connects = (m: Uint8Array) => {
      // 6-connected flood fill through deposit voxels from those touching the interphase or plated Li
      const seen = new Uint8Array(m.length);
      const stack: number[] = [];
      for (let q = 0; q < m.length; q++) {
        if (m[q] !== LI_DEP) continue;
        const k = Math.floor(q / (ny * nx));
        if (k > 0 && (m[q - ny * nx] === INTER || m[q - ny * nx] === LI_PLATED)) (seen[q] = 1), stack.push(q);
      }
      while (stack.length) {
        const q = stack.pop()!;
        const k = Math.floor(q / (ny * nx)), j = Math.floor(q / nx) % ny, i = q % nx;
        if (k + 1 < nz && m[q + ny * nx] === LI_COUNTER) return true;
        const nb: number[] = [];
        if (k > 0) nb.push(q - ny * nx);
        if (k + 1 < nz) nb.push(q + ny * nx);
        if (j > 0) nb.push(q - nx);
        if (j + 1 < ny) nb.push(q + nx);
        if (i > 0) nb.push(q - 1);
        if (i + 1 < nx) nb.push(q + 1);
        for (const r of nb) if (!seen[r] && m[r] === LI_DEP) (seen[r] = 1), stack.push(r);
      }
      return false;
    };
    expect(connects(mats[1]!)).toBe(false);
    expect(connects(mats[2]!)).toBe(true);
    // 0.2 h before the short the tips are close but not touching
    const model = buildCellModel(p);
    expect(connects(renderMaterial(model, 3.0, [0, nz, 0, ny, 0, nx]))).toBe(false);
  });

  it("the 3-class truth is electrolyte incl. interphase / void / lithium of the material map", async () => {
    const seg = await img.openLabels("segmentation");
    expect(seg.classes.map((c) => c.name)).toEqual(["electrolyte", "void", "lithium"]);
    const s = (await seg.readVolume(2)).data as Uint8Array;
    const m = mats[2]!;
    const want = [-1, 0, 0, 2, 2, 2, 2, 1]; // by material code; 0 (background) is never held
    for (let q = 0; q < m.length; q++) if (s[q] !== want[m[q]!]) throw new Error(`voxel ${q}: material ${m[q]} has class ${s[q]}`);
  });

  it("any block renders to the same values as the stored chunks (slab-independent, deterministic)", async () => {
    const model = buildCellModel(p);
    const box: [number, number, number, number, number, number] = [17, 41, 5, 29, 3, 30];
    const b = renderBlock(model, 2, 3.2, box);
    const sel: Array<[number, number]> = [[17, 41], [5, 29], [3, 30]];
    const abs = (await img.readVolume(2, "absorption", { selection: sel })).data as Float32Array;
    const ph = (await img.readVolume(2, "phase", { selection: sel })).data as Float32Array;
    const mat = (await (await img.openLabels("material")).readVolume(2, { selection: sel })).data as Uint8Array;
    expect(Buffer.from(b.material).equals(Buffer.from(mat))).toBe(true);
    expect(Buffer.from(b.absorption.buffer).equals(Buffer.from(abs.buffer, abs.byteOffset, abs.byteLength))).toBe(true);
    expect(Buffer.from(b.phase.buffer).equals(Buffer.from(ph.buffer, ph.byteOffset, ph.byteLength))).toBe(true);
    // another seed gives another cell
    const other = buildCellModel(presetParameters("ci", { seed: 7 }));
    expect(JSON.stringify(other.voids)).not.toBe(JSON.stringify(model.voids));
  });

  it("the manifest and the side files carry the truth for every time point", () => {
    expect(manifest.timePoints.map((t) => t.time_h)).toEqual([0, 1.5, 3.2]);
    manifest.timePoints.forEach((tp, ti) => {
      for (let c = 0; c < 8; c++) expect(tp.materialVoxels[c]).toBe(count(mats[ti]!, c));
      expect(count(mats[ti]!, 0)).toBe(0); // 0 is background: no voxel holds it
    });
    const ec = JSON.parse(readFileSync(join(store, "twin-electrochem.json"), "utf8")) as { impedance: Array<{ time_h: number; re_ohm: number[] }>; screening: unknown[] };
    expect(ec.impedance.map((s) => s.time_h)).toEqual([0, 1.5, 3.2]);
    expect(ec.impedance[0]!.re_ohm.length).toBeGreaterThan(60);
    expect(ec.screening.length).toBe(3);
    const xas = JSON.parse(readFileSync(join(store, "twin-xas.json"), "utf8")) as { decompositionFraction: number };
    expect(xas.decompositionFraction).toBe(manifest.xas.decompositionFraction);
    const ds = loadTwinDataset(store);
    expect(ds.electrochem.impedance[2]!.params.R1).toBeCloseTo(manifest.timePoints[2]!.circuit.R_int_ohm, 9);
    expect(ds.xas.measured.length).toBe(4);
    expect(() => loadTwinDataset(dir)).toThrow(/twin-manifest.json/);
  });

  it.skipIf(!hasPythonModules("zarr", "numpy"))("zarr-python reads the same labels and image", () => {
    const out = runPython(
      `import sys, zarr, numpy as np, json
g = zarr.open(sys.argv[1], "r")
m = g["labels/material/0"][2, 0]
a = g["0"][2, 0]
print(json.dumps({"shape": list(g["0"].shape), "dep": int((m == 5).sum()), "void": int((m == 7).sum()), "absSum": float(a.astype(np.float64).sum())}))`,
      [store],
    );
    const r = JSON.parse(out.trim().split("\n").pop()!) as { shape: number[]; dep: number; void: number; absSum: number };
    expect(r.shape).toEqual([3, 2, ...shape]);
    expect(r.dep).toBe(count(mats[2]!, LI_DEP));
    expect(r.void).toBe(count(mats[2]!, VOID));
  });
});
