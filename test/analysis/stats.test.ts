/**
 * Component statistics against closed forms: exact counts above 2^31 (and 2^32) voxels in the accumulator,
 * centroid of symmetric bodies, bounding boxes, voxel-face areas of boxes, surface area of a digital sphere, and
 * depth from an interface.
 */
import { describe, expect, it } from "vitest";
import { componentTable, labelArray, SURFACE_ISOTROPIC_FACTOR, StatsColumns, propertyFlags } from "../../src/analysis/index.js";
import { ParameterError } from "../../src/util/errors.js";

describe("statistics accumulator", () => {
  it("keeps voxel counts and coordinate sums exact above 2^31 and 2^32 voxels", () => {
    const s = new StatsColumns(propertyFlags(["centroid", "bbox"]));
    const a = s.push(0);
    const b = s.push(5);
    const X = 4096;
    const runs = 1_200_000; // 1.2e6 rows of 4096 voxels = 4.9e9 voxels > 2^32
    let bigCount = 0n;
    let bigZ = 0n;
    let bigX = 0n;
    for (let r = 0; r < runs; r++) {
      const z = 3000 + (r % 1000);
      s.addRun(r % 2 ? a : b, z, r % 4096, 0, X - 1);
      bigCount += BigInt(X);
      bigZ += BigInt(z) * BigInt(X);
      bigX += BigInt(((X - 1) * X) / 2);
    }
    s.mergeFrom(a, s, b);
    expect(bigCount > 2n ** 32n).toBe(true);
    expect(BigInt(s.count[a]!)).toBe(bigCount);
    expect(BigInt(s.sumZ[a]!)).toBe(bigZ);
    expect(BigInt(s.sumX[a]!)).toBe(bigX);
    // What an int32 accumulator (the field's failure) would have held: not the count.
    expect(s.count[a]! | 0).not.toBe(s.count[a]);
    expect(s.first[a]).toBe(0);
  });
});

function ball(shape: [number, number, number], c: [number, number, number], r: number): Uint8Array {
  const [Z, Y, X] = shape;
  const d = new Uint8Array(Z * Y * X);
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) if ((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2 <= r * r) d[(z * Y + y) * X + x] = 1;
  return d;
}

describe("component properties", () => {
  it("centroid, bounding box and volume of a ball crossing blocks, in um with anisotropic voxels", () => {
    const shape: [number, number, number] = [40, 40, 40];
    const c: [number, number, number] = [17, 21, 19];
    const r = 9;
    const data = ball(shape, c, r);
    const vox: [number, number, number] = [0.5, 0.4, 0.3];
    const res = labelArray({ data, shape }, { connectivity: 6, member: { value: 1 }, properties: ["centroid", "bbox"], blockShape: [8, 8, 8], compactSlack: 0 });
    expect(res.nComponents).toBe(1);
    const t = componentTable(res, vox);
    // Mirror symmetry about the centre voxel: the centroid is the centre's voxel centre.
    expect(t.columns.centroid_z_um![0]).toBeCloseTo((c[0] + 0.5) * vox[0], 10);
    expect(t.columns.centroid_y_um![0]).toBeCloseTo((c[1] + 0.5) * vox[1], 10);
    expect(t.columns.centroid_x_um![0]).toBeCloseTo((c[2] + 0.5) * vox[2], 10);
    expect(t.columns.bbox_z0_um![0]).toBeCloseTo((c[0] - r) * vox[0], 10);
    expect(t.columns.bbox_x1_um![0]).toBeCloseTo((c[2] + r + 1) * vox[2], 10);
    expect(t.columns.touches_border![0]).toBe(false);
    const v = t.columns.volume_voxels![0] as number;
    expect(Math.abs(v - (4 / 3) * Math.PI * r ** 3) / v).toBeLessThan(0.03);
  });

  it("voxel-face area of boxes is exact, inside, across blocks and on the volume border", () => {
    const shape: [number, number, number] = [20, 20, 20];
    const data = new Uint8Array(8000);
    const box = (z0: number, z1: number, y0: number, y1: number, x0: number, x1: number) => {
      for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) data[(z * 20 + y) * 20 + x] = 1;
    };
    box(3, 9, 5, 12, 2, 6); // 6 x 7 x 4, crosses block faces at 8 (blocks 8^3)
    box(0, 4, 15, 20, 14, 20); // 4 x 5 x 6, on the border
    const vox: [number, number, number] = [2, 3, 5];
    for (const [bs, compactSlack] of [
      [[8, 8, 8], undefined],
      [[3, 4, 5], undefined],
      [[3, 4, 5], 0],
      [[20, 20, 20], undefined],
    ] as Array<[number[], number | undefined]>) {
      const res = labelArray({ data, shape }, { connectivity: 26, member: { value: 1 }, properties: ["surface"], blockShape: bs, compactSlack });
      const t = componentTable(res, vox);
      const area = (a: number, b: number, c: number) => 2 * (b * c * vox[1] * vox[2] + a * c * vox[0] * vox[2] + a * b * vox[0] * vox[1]);
      expect(res.nComponents).toBe(2);
      const got = [...(t.columns.voxel_face_area_um2 as number[])].sort((p, q) => p - q);
      expect(got).toEqual([area(4, 5, 6), area(6, 7, 4)].sort((p, q) => p - q));
    }
  });

  it("surface area of a digital sphere is within 5 % of 4 pi r^2", () => {
    const shape: [number, number, number] = [36, 36, 36];
    const r = 14;
    const data = ball(shape, [17.5, 17.5, 17.5], r);
    const res = labelArray({ data, shape }, { connectivity: 6, member: { value: 1 }, properties: ["surface"], blockShape: [16, 16, 16] });
    const t = componentTable(res, [1, 1, 1]);
    const a = t.columns.surface_area_um2![0] as number;
    expect(Math.abs(a - 4 * Math.PI * r * r) / (4 * Math.PI * r * r)).toBeLessThan(0.05);
    expect(a).toBeCloseTo((t.columns.voxel_face_area_um2![0] as number) * SURFACE_ISOTROPIC_FACTOR, 8);
  });

  it("depth from an interface: minimum and mean over voxel centres", () => {
    const shape: [number, number, number] = [12, 4, 5];
    const data = new Uint8Array(12 * 20);
    for (let z = 6; z < 9; z++) data[(z * 4 + 2) * 5 + 3] = 1; // a 3-voxel column at z = 6..8
    const interfaceZ = new Float64Array(20).fill(2.5);
    for (const direction of [1, -1] as const) {
      const res = labelArray(
        { data, shape },
        { connectivity: 6, member: { value: 1 }, properties: ["depth"], depth: { interfaceZ, sizeX: 5, voxelZ_um: 0.5, direction }, blockShape: [4, 4, 4] },
      );
      const t = componentTable(res, [0.5, 1, 1]);
      const depths = [6, 7, 8].map((z) => direction * (z + 0.5 - 2.5) * 0.5);
      expect(t.columns.min_depth_um![0]).toBeCloseTo(Math.min(...depths), 12);
      expect(t.columns.mean_depth_um![0]).toBeCloseTo(depths.reduce((p, q) => p + q) / 3, 12);
    }
    expect(() => labelArray({ data, shape }, { connectivity: 6, member: { value: 1 }, properties: ["depth"] })).toThrow(ParameterError);
  });
});
