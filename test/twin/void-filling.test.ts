/**
 * The twin's "void-filling" deposit shape (history.depositShape): deposit Li fills the pristine voids its deposit
 * reaches and new cavities of the voids' shapes, so that shape alone cannot tell Li from voids. Checked against
 * the twin's own truth: the presets are untouched, charge is conserved voxel for voxel, and the Li sits where the
 * voids were, in void-sized bodies rather than needles.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { OmeImage } from "../../src/volume/index.js";
import { ParameterError } from "../../src/util/errors.js";
import {
  buildCellModel,
  depositShapeOf,
  generateTwin,
  insideSpheres,
  presetParameters,
  renderMaterial,
  PRESET_NAMES,
  type CellModel,
  type TwinManifest,
} from "../../src/twin/index.js";

// Independent constants: um of dense Li and of decomposition products per mAh/cm2 (derived in physics.test.ts).
const F = 96485.33212;
const LI_UM = (3.6 / F) * (6.941 / 0.534) * 1e4;
const PROD_UM = (3.6 / F / 8) * ((4 * (2 * 6.941 + 32.06)) / 1.66 + (3 * 6.941 + 30.974) / 1.43) * 1e4;
// material codes as documented in labels/material
const VOID = 7, INTER = 2, LI_PLATED = 4, LI_DEP = 5;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function count(m: Uint8Array, code: number): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) if (m[i] === code) n++;
  return n;
}

/** Sizes of the 6-connected components of deposit Li, largest first. */
function depositComponents(m: Uint8Array, [nz, ny, nx]: [number, number, number]): number[] {
  const seen = new Uint8Array(m.length);
  const sizes: number[] = [];
  const stack: number[] = [];
  for (let s = 0; s < m.length; s++) {
    if (m[s] !== LI_DEP || seen[s]) continue;
    let n = 0;
    seen[s] = 1;
    stack.push(s);
    while (stack.length) {
      const q = stack.pop()!;
      n++;
      const k = Math.floor(q / (ny * nx)), j = Math.floor(q / nx) % ny, i = q % nx;
      const nb = [k > 0 ? q - ny * nx : -1, k + 1 < nz ? q + ny * nx : -1, j > 0 ? q - nx : -1, j + 1 < ny ? q + nx : -1, i > 0 ? q - 1 : -1, i + 1 < nx ? q + 1 : -1];
      for (const r of nb) if (r >= 0 && !seen[r] && m[r] === LI_DEP) (seen[r] = 1), stack.push(r);
    }
    sizes.push(n);
  }
  return sizes.sort((a, b) => b - a);
}

/** Pristine void bodies of which at least half the voxels (void at t = 0) hold deposit Li at time t. */
function voidsTakenByLi(model: CellModel, m0: Uint8Array, mt: Uint8Array): number {
  const [, ny, nx] = model.shapeZYX;
  const h = model.voxel_um;
  let taken = 0;
  for (const vd of model.voids) {
    let n = 0, li = 0;
    let z0 = Infinity, z1 = -Infinity;
    for (const s of vd.spheres) (z0 = Math.min(z0, s.z_um - s.r_um)), (z1 = Math.max(z1, s.z_um + s.r_um));
    for (let k = Math.max(0, Math.floor(z0 / h)); k < Math.ceil(z1 / h); k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const q = (k * ny + j) * nx + i;
          if (m0[q] !== VOID || !insideSpheres(vd.spheres, h, k, j, i)) continue;
          n++;
          if (mt[q] === LI_DEP) li++;
        }
    if (n && li >= 0.5 * n) taken++;
  }
  return taken;
}

describe("twin deposit shape option", () => {
  it("leaves every preset as it was and names a bad shape", () => {
    for (const name of PRESET_NAMES) {
      const p = presetParameters(name);
      // absent key: the presets' parameters (and so their manifests) are byte-for-byte what they were
      expect("depositShape" in p.history).toBe(false);
      expect(depositShapeOf(p)).toBe("needles");
    }
    // "needles" set explicitly builds the very same cell as the preset
    const a = buildCellModel(presetParameters("ci"));
    const b = buildCellModel(presetParameters("ci", { history: { depositShape: "needles" } }));
    const [nz, ny, nx] = a.shapeZYX;
    const box: [number, number, number, number, number, number] = [0, nz, 0, ny, 0, nx];
    expect(Buffer.from(renderMaterial(a, 3.2, box)).equals(Buffer.from(renderMaterial(b, 3.2, box)))).toBe(true);
    let err: unknown;
    try {
      presetParameters("ci", { history: { depositShape: "blobs" as never } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParameterError);
    expect((err as ParameterError).details.field).toBe("history.depositShape");
    expect((err as ParameterError).message).toMatch(/needles, void-filling/);
  });

  it("conserves charge voxel for voxel and the manifest holds the truth (ci preset, generated)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twin-vf-"));
    dirs.push(dir);
    const store = join(dir, "ci-vf.ome.zarr");
    const p = presetParameters("ci", { history: { depositShape: "void-filling" } });
    await generateTwin(p, store, { progress: false });
    const img = await OmeImage.open(store);
    const manifest = JSON.parse(readFileSync(join(store, "twin-manifest.json"), "utf8")) as TwinManifest;
    expect(manifest.parameters.history.depositShape).toBe("void-filling");
    const lab = await img.openLabels("material");
    const h = p.geometry.voxel_um;
    for (const [ti, t] of img.timePointsH.entries()) {
      const m = (await lab.readVolume(ti)).data as Uint8Array;
      const foot = img.shapeZYX[1] * img.shapeZYX[2] * h * h;
      for (let c = 0; c < 8; c++) expect(manifest.timePoints[ti]!.materialVoxels[c]).toBe(count(m, c));
      if (t === 0) {
        expect(count(m, LI_DEP)).toBe(0);
        continue;
      }
      const qLi = ((count(m, LI_PLATED) + count(m, LI_DEP)) * h ** 3) / foot / LI_UM;
      const qDec = (count(m, INTER) * h ** 3) / foot / PROD_UM;
      expect(Math.abs((qLi + qDec) / (0.8 * t) - 1)).toBeLessThan(0.01);
      // the deposits hold the Li the charge history gives them, to half a voxel per deposit
      const want = (manifest.timePoints[ti]!.charge.depositLi_mAh_cm2 * LI_UM * foot) / h ** 3;
      expect(Math.abs(count(m, LI_DEP) - want)).toBeLessThanOrEqual(0.5 * manifest.deposits.length + 1e-6);
    }
  });

  it("puts deposit Li where the pristine voids were, in void-sized bodies instead of needles (default column, 3 seeds)", () => {
    for (const seed of [11, 12, 13]) {
      const base = { seed, geometry: { nyx: [96, 96] as [number, number] } };
      const needles = buildCellModel(presetParameters("default", base));
      const filling = buildCellModel(presetParameters("default", { ...base, history: { depositShape: "void-filling" } }));
      // same seed, same pristine voids: only where the Li goes differs
      expect(JSON.stringify(filling.voids)).toBe(JSON.stringify(needles.voids));
      const [nz, ny, nx] = needles.shapeZYX;
      const box: [number, number, number, number, number, number] = [0, nz, 0, ny, 0, nx];
      const m0 = renderMaterial(needles, 0, box);
      expect(Buffer.from(renderMaterial(filling, 0, box)).equals(Buffer.from(m0))).toBe(true);
      const mN = renderMaterial(needles, 3.2, box);
      const mF = renderMaterial(filling, 3.2, box);
      expect(count(mF, LI_DEP)).toBe(count(mN, LI_DEP)); // the same charge, to the voxel
      const takenN = voidsTakenByLi(needles, m0, mN);
      const takenF = voidsTakenByLi(filling, m0, mF);
      expect(takenF).toBeGreaterThanOrEqual(2 * takenN);
      expect(takenF).toBeGreaterThanOrEqual(8);
      const compN = depositComponents(mN, needles.shapeZYX);
      const compF = depositComponents(mF, filling.shapeZYX);
      const total = count(mF, LI_DEP);
      // needles: a few bundles, the shorting one half the deposit Li; void-filling: hundreds of void-sized bodies
      expect(compN[0]! / total).toBeGreaterThan(0.3);
      expect(compF[0]! / total).toBeLessThan(0.05);
      expect(compF.length).toBeGreaterThan(100);
      const voidVoxels = count(m0, VOID) / needles.voids.length;
      const median = compF[compF.length >> 1]!;
      expect(median).toBeLessThan(2 * voidVoxels);
    }
  });
});
