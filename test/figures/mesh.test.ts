/**
 * Marching-cubes surfaces of label masks against closed-form truth: a voxelised sphere (volume and area), an
 * axis-aligned box (exact volume and area of the chamfered box marching cubes draws around it), a smooth distance
 * field, and the topology every surface must have: closed, every edge in exactly two triangles, wound outwards.
 * Then the PLY and glTF files, read back by parsers written here from the format specifications (no mesh library
 * is installed): PLY header and little-endian body, the GLB container (header, JSON and BIN chunks), accessor
 * counts, min/max and buffer contents.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  edgeReport,
  labelSurface,
  marchingCubes,
  maskFraction,
  meshArea_um2,
  meshBounds,
  meshVolume_um3,
  type LabelVolume,
  type SurfaceMesh,
} from "../../src/figures/mesh.js";
import { encodeGlb, encodeGltf, encodePly, writeMesh, type MeshPart } from "../../src/figures/mesh-export.js";
import { FileFormatError, ParameterError } from "../../src/util/errors.js";
import { rng, tempDir } from "../helpers/tmp.js";

function expectClosedManifold(m: SurfaceMesh): void {
  const e = edgeReport(m);
  expect(e.boundary).toBe(0);
  expect(e.nonManifold).toBe(0);
  expect(e.misoriented).toBe(0);
  expect(m.indices.length % 3).toBe(0);
}

/** A ball voxelised by its voxel centres: radius r_um around c_um (z, y, x). */
function ball(n: number, h: number, r_um: number, c_um: [number, number, number]): LabelVolume {
  const d = new Uint8Array(n * n * n);
  for (let z = 0; z < n; z++)
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) {
        const dz = (z + 0.5) * h - c_um[0], dy = (y + 0.5) * h - c_um[1], dx = (x + 0.5) * h - c_um[2];
        if (dz * dz + dy * dy + dx * dx <= r_um * r_um) d[(z * n + y) * n + x] = 1;
      }
  return { data: d, shapeZYX: [n, n, n], voxelSizeUm: [h, h, h] };
}

/** An a x b x c voxel box (z, y, x extents) of label `v` inside a volume of shape s, starting at o. */
function box(s: [number, number, number], o: [number, number, number], e: [number, number, number], h: [number, number, number], v = 1): LabelVolume {
  const d = new Uint8Array(s[0] * s[1] * s[2]);
  for (let z = o[0]; z < o[0] + e[0]; z++)
    for (let y = o[1]; y < o[1] + e[1]; y++) for (let x = o[2]; x < o[2] + e[2]; x++) d[(z * s[1] + y) * s[2] + x] = v;
  return { data: d, shapeZYX: s, voxelSizeUm: h };
}

/**
 * Marching cubes around a box of a x b x c voxels (unit voxels), contoured at 1/2 of the 0/1 mask: faces half a
 * voxel outside the outer voxel centres, edges chamfered by right triangles of legs 1/2, corners cut by
 * tetrahedra of legs 1/2. With A = a - 1 etc. (the span of voxel centres):
 *   V = ABC + (AB + BC + CA) + (A + B + C) / 2 + 1/6,
 *   S = 2 (AB + BC + CA) + 4 (A + B + C) / sqrt(2) + 8 * sqrt(3) / 8.
 * (Interior ABC; each face slab of thickness 1/2; each of the 12 edges loses a prism of section 1/8 of 1/4; each
 * of the 8 corner cells keeps a tetrahedron of 1/48. Edge strips have width sqrt(1/2); corner triangles are
 * equilateral with side sqrt(1/2).)
 */
function boxTruth(a: number, b: number, c: number): { volume: number; area: number } {
  const [A, B, C] = [a - 1, b - 1, c - 1];
  return {
    volume: A * B * C + (A * B + B * C + C * A) + (A + B + C) / 2 + 1 / 6,
    area: 2 * (A * B + B * C + C * A) + (4 * (A + B + C)) / Math.SQRT2 + Math.sqrt(3),
  };
}

describe("label surfaces (marching cubes)", () => {
  it("a voxelised sphere: closed, outward, volume within 2 % and area within +0..10 % of the sphere's", () => {
    // r = 10 voxels, centre off the grid so no symmetry hides an error.
    const h = 0.5, r = 5;
    const vol = ball(28, h, r, [7.13, 6.79, 7.07]);
    const m = labelSurface(vol, { mask: [1] });
    expectClosedManifold(m);
    const V = (4 / 3) * Math.PI * r ** 3;
    const A = 4 * Math.PI * r * r;
    // Volume: the voxelisation itself is within ~1 % at 10 voxels per radius, and the surface at the mask's 1/2
    // level neither gains nor loses volume on average: 2 % covers both.
    expect(Math.abs(meshVolume_um3(m) / V - 1)).toBeLessThan(0.02);
    // Area: marching cubes over a staircase (binary) mask over-estimates area by a bias that does not vanish with
    // resolution (about +8 % for a sphere, measured here at 4-20 voxels per radius, as reported for binary MC);
    // the bound is one-sided: 0 to +10 %.
    const ratio = meshArea_um2(m) / A;
    expect(ratio).toBeGreaterThan(1);
    expect(ratio).toBeLessThan(1.1);
  });

  it("an axis-aligned box: exact volume (anisotropic voxels, x y z order) and exact area", () => {
    const t = boxTruth(5, 4, 3);
    // Anisotropic voxels scale the iso-voxel mesh affinely: volume by hz * hy * hx exactly.
    const hz = 0.7, hy = 1.3, hx = 2.1;
    const m = labelSurface(box([9, 8, 7], [2, 2, 2], [5, 4, 3], [hz, hy, hx]), { mask: [1] });
    expectClosedManifold(m);
    expect(meshVolume_um3(m)).toBeCloseTo(t.volume * hz * hy * hx, 4);
    // Positions are (x, y, z): the box spans voxels 2..4 in x (x faces at 1.5 hx and 5.5 hx from the corner), etc.
    const b = meshBounds(m)!;
    expect(b.min[0]).toBeCloseTo(2 * hx, 5);
    expect(b.max[0]).toBeCloseTo(5 * hx, 5);
    expect(b.min[1]).toBeCloseTo(2 * hy, 5);
    expect(b.max[1]).toBeCloseTo(6 * hy, 5);
    expect(b.min[2]).toBeCloseTo(2 * hz, 5);
    expect(b.max[2]).toBeCloseTo(7 * hz, 5);
    const iso = labelSurface(box([9, 8, 7], [2, 2, 2], [5, 4, 3], [1, 1, 1]), { mask: [1] });
    expect(meshArea_um2(iso)).toBeCloseTo(t.area, 4);
  });

  it("a mask touching the volume border is closed on the volume's faces", () => {
    // The whole volume is mask: the surface is the volume's own box, faces exactly at 0 and n h.
    const h = 1.5;
    const full = box([4, 5, 6], [0, 0, 0], [4, 5, 6], [h, h, h]);
    const m = labelSurface({ ...full, originUm: [10, 20, 30] }, { mask: [1] });
    expectClosedManifold(m);
    const b = meshBounds(m)!;
    expect(b.min).toEqual([30, 20, 10]);
    expect(b.max.map((v) => Math.round(v * 1e4) / 1e4)).toEqual([30 + 6 * h, 20 + 5 * h, 10 + 4 * h]);
    expect(meshVolume_um3(m)).toBeCloseTo(boxTruth(4, 5, 6).volume * h ** 3, 4);
    // A ball cut by two faces of the volume is closed too.
    const cut = ball(12, 1, 7, [1, 11, 6]);
    expectClosedManifold(labelSurface(cut, { mask: [1] }));
  });

  it("empty mask gives an empty mesh; mask lists, predicates and 16-bit labels agree", () => {
    const vol = box([6, 6, 6], [1, 1, 1], [3, 3, 3], [1, 1, 1], 7);
    const empty = labelSurface(vol, { mask: [1] });
    expect(empty.positions.length).toBe(0);
    expect(empty.indices.length).toBe(0);
    expect(meshVolume_um3(empty)).toBe(0);
    const byList = labelSurface(vol, { mask: [7, 9] });
    const byFn = labelSurface(vol, { mask: (v) => v === 7 });
    const wide = labelSurface({ ...vol, data: Uint16Array.from(vol.data, (v) => (v ? 700 : 0)) }, { mask: [700] });
    expect(Array.from(byFn.positions)).toEqual(Array.from(byList.positions));
    expect(Array.from(wide.indices)).toEqual(Array.from(byList.indices));
    expect(meshVolume_um3(byList)).toBeCloseTo(boxTruth(3, 3, 3).volume, 5);
  });

  it("every one of the 256 cube cases, random masks and diagonal contacts give closed, outward 2-manifolds", () => {
    for (let cs = 1; cs < 256; cs++) {
      const d = new Uint8Array(8);
      for (let c = 0; c < 8; c++) d[((c >> 2) & 1) * 4 + ((c >> 1) & 1) * 2 + (c & 1)] = (cs >> c) & 1;
      const m = labelSurface({ data: d, shapeZYX: [2, 2, 2], voxelSizeUm: [1, 1, 1] }, { mask: [1] });
      expectClosedManifold(m);
      expect(meshVolume_um3(m)).toBeGreaterThan(0);
    }
    const rand = rng(7);
    for (const p of [0.1, 0.5, 0.9]) {
      const n = 14;
      const d = Uint8Array.from({ length: n * n * n }, () => (rand() < p ? 1 : 0));
      const m = labelSurface({ data: d, shapeZYX: [n, n, n], voxelSizeUm: [1, 1, 1] }, { mask: [1] });
      expectClosedManifold(m);
      expect(meshVolume_um3(m)).toBeGreaterThan(0);
    }
  });

  it("downsampling level: the mask's mean over 2^level cubes, contoured at 1/2", () => {
    // An 8^3 box aligned to 2-voxel cells is a 4^3 box of 2 h cells at level 1.
    const vol = box([12, 12, 12], [2, 2, 2], [8, 8, 8], [1, 1, 1]);
    const grid = maskFraction(vol, [1], 1);
    expect(grid.shapeZYX).toEqual([6, 6, 6]);
    expect(grid.spacingUm).toEqual([2, 2, 2]);
    expect(grid.originUm).toEqual([1, 1, 1]);
    const m = labelSurface(vol, { mask: [1], level: 1 });
    expect(m.level).toBe(1);
    expect(m.cellUm).toEqual([2, 2, 2]);
    expectClosedManifold(m);
    expect(meshVolume_um3(m)).toBeCloseTo(boxTruth(4, 4, 4).volume * 8, 4);
  });

  it("a vertex budget coarsens until the surface fits", () => {
    const vol = ball(40, 1, 17, [20, 20, 20]);
    const fine = labelSurface(vol, { mask: [1] });
    const budget = Math.floor(fine.positions.length / 3 / 5);
    const m = labelSurface(vol, { mask: [1], maxVertices: budget });
    expect(m.level).toBeGreaterThan(0);
    expect(m.positions.length / 3).toBeLessThanOrEqual(budget);
    expectClosedManifold(m);
    // Coarser, but the same ball: volume within 5 % of 4/3 pi r^3 at 17 / 2^level voxels per radius.
    expect(Math.abs(meshVolume_um3(m) / ((4 / 3) * Math.PI * 17 ** 3) - 1)).toBeLessThan(0.05);
  });

  it("a smooth field: linear interpolation puts the surface where the field crosses the iso value", () => {
    // f = R - |p| sampled on a 1 um grid: the surface at 0 is the sphere of radius R to second order.
    const n = 30, R = 11.3;
    const values = new Float32Array(n * n * n);
    for (let z = 0; z < n; z++)
      for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) values[(z * n + y) * n + x] = R - Math.hypot(z - 14.6, y - 15.2, x - 14.9);
    const m = marchingCubes({ values, shapeZYX: [n, n, n], spacingUm: [1, 1, 1], originUm: [0, 0, 0] }, 0);
    expectClosedManifold(m);
    // Chords of a sphere of 11 samples per radius lose under 0.5 % of volume and area.
    expect(Math.abs(meshVolume_um3(m) / ((4 / 3) * Math.PI * R ** 3) - 1)).toBeLessThan(0.005);
    expect(Math.abs(meshArea_um2(m) / (4 * Math.PI * R * R) - 1)).toBeLessThan(0.005);
  });

  it("bad input names the field", () => {
    const bad = { data: new Uint8Array(5), shapeZYX: [2, 2, 2] as [number, number, number], voxelSizeUm: [1, 1, 1] as [number, number, number] };
    expect(() => labelSurface(bad, { mask: [1] })).toThrow(ParameterError);
    expect(() => labelSurface(bad, { mask: [1] })).toThrow(/field: data.length/);
    const ok = { ...bad, data: new Uint8Array(8) };
    expect(() => labelSurface({ ...ok, voxelSizeUm: [1, 0, 1] }, { mask: [1] })).toThrow(/field: voxelSizeUm/);
    expect(() => labelSurface(ok, { mask: [1], level: -1 })).toThrow(/field: level/);
    expect(() => labelSurface(ok, { mask: [1], maxVertices: 0 })).toThrow(/field: maxVertices/);
  });
});

const dir = tempDir("ssb-ct-mesh-");

function cubeMesh(n: number, offset: number): SurfaceMesh {
  const d = new Uint8Array(n * n * n);
  for (let z = 1; z < n - 1; z++) for (let y = 1; y < n - 1; y++) for (let x = 1; x < n - 1; x++) d[(z * n + y) * n + x] = 1;
  return labelSurface({ data: d, shapeZYX: [n, n, n], voxelSizeUm: [0.5, 0.5, 0.5], originUm: [offset, offset + 1, offset + 2] }, { mask: [1] });
}

const partA: MeshPart = { name: "electrode", mesh: cubeMesh(4, 0), color: "#6b7b8c" };
const partB: MeshPart = { name: "deposit", mesh: cubeMesh(5, 10), color: "#00a0ff" };

/** Minimal PLY reader: header lines, then vertices (float x, y, z [uchar r, g, b]) and faces (uchar n, uint idx). */
function readPly(bytes: Uint8Array): { header: string[]; positions: number[]; colours: number[]; faces: number[][] } {
  const end = Buffer.from(bytes).indexOf("end_header\n");
  const headerText = Buffer.from(bytes.subarray(0, end)).toString("ascii");
  const header = headerText.split("\n").filter((l) => l.length);
  const nv = Number(header.find((l) => l.startsWith("element vertex"))!.split(" ")[2]);
  const nf = Number(header.find((l) => l.startsWith("element face"))!.split(" ")[2]);
  const coloured = header.includes("property uchar red");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = end + "end_header\n".length;
  const positions: number[] = [], colours: number[] = [], faces: number[][] = [];
  for (let i = 0; i < nv; i++) {
    positions.push(dv.getFloat32(o, true), dv.getFloat32(o + 4, true), dv.getFloat32(o + 8, true));
    o += 12;
    if (coloured) {
      colours.push(bytes[o]!, bytes[o + 1]!, bytes[o + 2]!);
      o += 3;
    }
  }
  for (let i = 0; i < nf; i++) {
    const k = bytes[o]!;
    const f: number[] = [];
    for (let j = 0; j < k; j++) f.push(dv.getUint32(o + 1 + 4 * j, true));
    faces.push(f);
    o += 1 + 4 * k;
  }
  expect(o).toBe(bytes.length);
  return { header, positions, colours, faces };
}

/** Minimal GLB reader: 12-byte header, then chunks of (length, type, data). */
function readGlb(bytes: Uint8Array): { json: Record<string, any>; bin: Uint8Array | null; version: number; length: number } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(dv.getUint32(0, true)).toBe(0x46546c67);
  const version = dv.getUint32(4, true);
  const length = dv.getUint32(8, true);
  let o = 12;
  let json: Record<string, any> = {};
  let bin: Uint8Array | null = null;
  while (o < length) {
    const n = dv.getUint32(o, true);
    const type = dv.getUint32(o + 4, true);
    expect(n % 4).toBe(0);
    const data = bytes.subarray(o + 8, o + 8 + n);
    if (type === 0x4e4f534a) json = JSON.parse(Buffer.from(data).toString("utf8"));
    else if (type === 0x004e4942) bin = data;
    o += 8 + n;
  }
  expect(o).toBe(length);
  return { json, bin, version, length };
}

function accessorData(json: Record<string, any>, bin: Uint8Array, k: number): number[] {
  const acc = json.accessors[k];
  const view = json.bufferViews[acc.bufferView];
  const comps = acc.type === "VEC3" ? 3 : 1;
  const dv = new DataView(bin.buffer, bin.byteOffset + view.byteOffset + (acc.byteOffset ?? 0), acc.count * comps * 4);
  return Array.from({ length: acc.count * comps }, (_, i) => (acc.componentType === 5126 ? dv.getFloat32(4 * i, true) : dv.getUint32(4 * i, true)));
}

describe("mesh files", () => {
  it("PLY: binary little endian with units in the header; parts concatenated with colours and offset indices", () => {
    const ply = readPly(encodePly([partA, partB], { comments: ["dataset twin-default\nsecond line"] }));
    expect(ply.header[0]).toBe("ply");
    expect(ply.header[1]).toBe("format binary_little_endian 1.0");
    expect(ply.header.some((l) => l.startsWith("comment units: um"))).toBe(true);
    expect(ply.header).toContain("comment dataset twin-default second line");
    expect(ply.header).toContain("property list uchar uint vertex_indices");
    const nA = partA.mesh.positions.length / 3;
    expect(ply.positions.length).toBe(partA.mesh.positions.length + partB.mesh.positions.length);
    expect(ply.positions.slice(0, 3 * nA)).toEqual(Array.from(partA.mesh.positions));
    expect(ply.positions.slice(3 * nA)).toEqual(Array.from(partB.mesh.positions));
    expect(ply.colours.slice(0, 3)).toEqual([0x6b, 0x7b, 0x8c]);
    expect(ply.colours.slice(-3)).toEqual([0x00, 0xa0, 0xff]);
    const fA = partA.mesh.indices.length / 3;
    expect(ply.faces.length).toBe(fA + partB.mesh.indices.length / 3);
    expect(ply.faces[0]).toEqual(Array.from(partA.mesh.indices.subarray(0, 3)));
    expect(ply.faces[fA]).toEqual(Array.from(partB.mesh.indices.subarray(0, 3), (i) => i + nA));
    // No colour on a part: no colour properties at all.
    const plain = readPly(encodePly([{ name: "x", mesh: partA.mesh }]));
    expect(plain.header).not.toContain("property uchar red");
    expect(plain.colours.length).toBe(0);
  });

  it("GLB: header, JSON chunk, accessor counts and min/max, buffer contents, root node in metres", () => {
    const empty: MeshPart = { name: "nothing", mesh: { positions: new Float32Array(0), indices: new Uint32Array(0) } };
    const glb = readGlb(encodeGlb([partA, empty, partB]));
    expect(glb.version).toBe(2);
    const { json, bin } = glb;
    expect(json.asset.version).toBe("2.0");
    expect(json.asset.extras.units).toBe("um");
    expect(json.asset.extras.emptyParts).toEqual(["nothing"]);
    expect(json.meshes.map((m: { name: string }) => m.name)).toEqual(["electrode", "deposit"]);
    expect(json.nodes[0].scale).toEqual([1e-6, 1e-6, 1e-6]);
    expect(json.scenes[0].nodes).toEqual([0]);
    expect(json.nodes[0].children).toEqual([1, 2]);
    expect(bin).not.toBeNull();
    expect(json.buffers[0].byteLength).toBeLessThanOrEqual(bin!.length);
    for (const [k, part] of [partA, partB].entries()) {
      const prim = json.meshes[k].primitives[0];
      const pos = json.accessors[prim.attributes.POSITION];
      const idx = json.accessors[prim.indices];
      expect(pos.count).toBe(part.mesh.positions.length / 3);
      expect(idx.count).toBe(part.mesh.indices.length);
      expect(pos.type).toBe("VEC3");
      expect(pos.componentType).toBe(5126);
      expect(idx.componentType).toBe(5125);
      for (const a of [0, 1, 2]) {
        const vals = Array.from(part.mesh.positions).filter((_, i) => i % 3 === a);
        expect(pos.min[a]).toBe(Math.min(...vals));
        expect(pos.max[a]).toBe(Math.max(...vals));
      }
      for (const view of [json.bufferViews[pos.bufferView], json.bufferViews[idx.bufferView]]) {
        expect(view.byteOffset % 4).toBe(0);
        expect(view.byteOffset + view.byteLength).toBeLessThanOrEqual(json.buffers[0].byteLength);
      }
      expect(accessorData(json, bin!, prim.attributes.POSITION)).toEqual(Array.from(part.mesh.positions));
      expect(accessorData(json, bin!, prim.indices)).toEqual(Array.from(part.mesh.indices));
      const colour = json.materials[prim.material].pbrMetallicRoughness.baseColorFactor;
      expect(colour).toHaveLength(4);
      expect(colour[3]).toBe(1);
    }
    // sRGB #00a0ff to linear: 0, (160/255 + 0.055)/1.055)^2.4, 1.
    const blue = json.materials[1].pbrMetallicRoughness.baseColorFactor;
    expect(blue[0]).toBe(0);
    expect(blue[1]).toBeCloseTo(((160 / 255 + 0.055) / 1.055) ** 2.4, 10);
    expect(blue[2]).toBe(1);
  });

  it(".gltf embeds the same buffer as a data URI; writeMesh picks the format by extension", () => {
    const gltf = JSON.parse(encodeGltf([partA]));
    const uri: string = gltf.buffers[0].uri;
    expect(uri.startsWith("data:application/octet-stream;base64,")).toBe(true);
    const bin = new Uint8Array(Buffer.from(uri.split(",")[1]!, "base64"));
    expect(bin.length).toBe(gltf.buffers[0].byteLength);
    expect(accessorData(gltf, bin, 0)).toEqual(Array.from(partA.mesh.positions));
    const glbPath = join(dir, "m.glb"), plyPath = join(dir, "m.ply"), gltfPath = join(dir, "m.gltf");
    expect(writeMesh(glbPath, [partA, partB])).toBe(readFileSync(glbPath).length);
    expect(readGlb(new Uint8Array(readFileSync(glbPath))).json.meshes).toHaveLength(2);
    writeMesh(plyPath, [partA]);
    expect(readPly(new Uint8Array(readFileSync(plyPath))).faces.length).toBe(partA.mesh.indices.length / 3);
    writeMesh(gltfPath, [partB]);
    expect(JSON.parse(readFileSync(gltfPath, "utf8")).accessors[0].count).toBe(partB.mesh.positions.length / 3);
    expect(() => writeMesh(join(dir, "m.obj"), [partA])).toThrow(FileFormatError);
    expect(() => encodePly([{ name: "bad", mesh: { positions: new Float32Array(3), indices: new Uint32Array([0, 1, 2]) } }])).toThrow(/field: parts\[0\]\.mesh\.indices/);
  });
});
