/**
 * Mesh files for 3D viewers (MeshLab, ParaView, Blender, three.js, model-viewer): binary little-endian PLY and
 * glTF 2.0 (.glb, or .gltf with the buffer embedded as a data URI). Positions stay in um, as the figures draw them;
 * PLY states that in a header comment, glTF (whose unit is the metre) gets a root node that scales um to m and turns
 * the CT z axis (depth, pointing down into the cell) to -Y, so viewers show the cell upright and at true size.
 */
import { extname } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { FileFormatError, ParameterError } from "../util/errors.js";
import type { SurfaceMesh } from "./mesh.js";

/** One named mesh of a file, optionally coloured (#rrggbb). */
export interface MeshPart {
  name: string;
  mesh: SurfaceMesh;
  color?: string;
}

export interface PlyOptions {
  /** Extra header comments (one line each). */
  comments?: string[];
}

const UNITS_COMMENT = "units: um (micrometre); x, y lateral, z = depth into the cell (CT volume axes)";

function rgbOf(color: string, field: string): [number, number, number] {
  const m = /^#([0-9a-fA-F]{6})$/.exec(color);
  if (!m) throw new ParameterError("colour must be #rrggbb", { field, expected: "#rrggbb", got: color });
  const v = parseInt(m[1]!, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function checkMesh(mesh: SurfaceMesh, field: string): void {
  if (mesh.positions.length % 3 || mesh.indices.length % 3)
    throw new ParameterError("mesh arrays must hold whole vertices and triangles", {
      field,
      expected: "positions and indices lengths divisible by 3",
      got: `${mesh.positions.length}, ${mesh.indices.length}`,
    });
  const nv = mesh.positions.length / 3;
  for (const i of mesh.indices)
    if (i >= nv) throw new ParameterError("triangle index beyond the vertices", { field: `${field}.indices`, expected: `< ${nv}`, got: String(i) });
}

/** One header comment line: PLY has no escape for line breaks. */
function commentLine(s: string): string {
  return `comment ${s.replace(/[\r\n]+/g, " ")}\n`;
}

/**
 * Binary little-endian PLY of one or more parts (concatenated; a header comment gives each part's vertex and face
 * ranges). Per-vertex red/green/blue when every part has a colour.
 */
export function encodePly(parts: readonly MeshPart[], options: PlyOptions = {}): Uint8Array {
  parts.forEach((p, k) => checkMesh(p.mesh, `parts[${k}].mesh`));
  const coloured = parts.length > 0 && parts.every((p) => p.color !== undefined);
  const nv = parts.reduce((s, p) => s + p.mesh.positions.length / 3, 0);
  const nf = parts.reduce((s, p) => s + p.mesh.indices.length / 3, 0);
  let header = "ply\nformat binary_little_endian 1.0\n" + commentLine(UNITS_COMMENT) + commentLine("generator: ssb-ct src/figures/mesh-export.ts");
  let v0 = 0, f0 = 0;
  for (const p of parts) {
    const v = p.mesh.positions.length / 3, f = p.mesh.indices.length / 3;
    header += commentLine(`part ${p.name}: vertices ${v0}..${v0 + v - 1}, faces ${f0}..${f0 + f - 1}${p.color ? `, colour ${p.color}` : ""}`);
    v0 += v;
    f0 += f;
  }
  for (const c of options.comments ?? []) header += commentLine(c);
  header += `element vertex ${nv}\nproperty float x\nproperty float y\nproperty float z\n`;
  if (coloured) header += "property uchar red\nproperty uchar green\nproperty uchar blue\n";
  header += `element face ${nf}\nproperty list uchar uint vertex_indices\nend_header\n`;
  const head = new TextEncoder().encode(header);
  const vertexBytes = 12 + (coloured ? 3 : 0);
  const out = new Uint8Array(head.length + nv * vertexBytes + nf * 13);
  out.set(head);
  const dv = new DataView(out.buffer);
  let o = head.length;
  for (const p of parts) {
    const pos = p.mesh.positions;
    const rgb = coloured ? rgbOf(p.color!, `parts.${p.name}.color`) : null;
    for (let i = 0; i < pos.length; i += 3) {
      dv.setFloat32(o, pos[i]!, true);
      dv.setFloat32(o + 4, pos[i + 1]!, true);
      dv.setFloat32(o + 8, pos[i + 2]!, true);
      o += 12;
      if (rgb) {
        out[o++] = rgb[0];
        out[o++] = rgb[1];
        out[o++] = rgb[2];
      }
    }
  }
  let base = 0;
  for (const p of parts) {
    const t = p.mesh.indices;
    for (let i = 0; i < t.length; i += 3) {
      out[o] = 3;
      dv.setUint32(o + 1, t[i]! + base, true);
      dv.setUint32(o + 5, t[i + 1]! + base, true);
      dv.setUint32(o + 9, t[i + 2]! + base, true);
      o += 13;
    }
    base += p.mesh.positions.length / 3;
  }
  return out;
}

/** The glTF JSON document (only the fields this writer uses). */
export interface GltfJson {
  asset: { version: "2.0"; generator: string; extras: Record<string, unknown> };
  scene: number;
  scenes: Array<{ name: string; nodes: number[] }>;
  nodes: Array<{ name: string; mesh?: number; children?: number[]; scale?: number[]; rotation?: number[] }>;
  meshes: Array<{ name: string; primitives: Array<{ attributes: { POSITION: number }; indices: number; material: number; mode: 4 }> }>;
  materials: Array<{ name: string; pbrMetallicRoughness: { baseColorFactor: number[]; metallicFactor: number; roughnessFactor: number }; doubleSided: boolean }>;
  accessors: Array<{ bufferView: number; componentType: 5126 | 5125; count: number; type: "VEC3" | "SCALAR"; min?: number[]; max?: number[] }>;
  bufferViews: Array<{ buffer: 0; byteOffset: number; byteLength: number; target: 34962 | 34963 }>;
  buffers: Array<{ byteLength: number; uri?: string }>;
}

/** sRGB 0-255 to glTF's linear base colour factor. */
function srgbToLinear(c: number): number {
  const s = c / 255;
  return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
}

/**
 * The glTF document and its binary buffer. Parts without triangles are left out (an accessor must count at least
 * one element) and listed in asset.extras.emptyParts.
 */
export function gltfDocument(parts: readonly MeshPart[]): { json: GltfJson; bin: Uint8Array } {
  parts.forEach((p, k) => checkMesh(p.mesh, `parts[${k}].mesh`));
  const used = parts.filter((p) => p.mesh.indices.length > 0);
  const json: GltfJson = {
    asset: {
      version: "2.0",
      generator: "ssb-ct src/figures/mesh-export.ts",
      extras: {
        units: "um",
        axes: "mesh positions are CT volume (x, y, z) in um, z = depth into the cell; node 'ct-volume' scales um to m and turns z (down) to -Y",
        emptyParts: parts.filter((p) => p.mesh.indices.length === 0).map((p) => p.name),
      },
    },
    scene: 0,
    scenes: [{ name: "ssb-ct", nodes: [0] }],
    // Rotation by +90 degrees about x maps (x, y, z) to (x, -z, y): depth down becomes -Y (glTF's Y is up).
    nodes: [{ name: "ct-volume", children: used.map((_, k) => k + 1), scale: [1e-6, 1e-6, 1e-6], rotation: [Math.SQRT1_2, 0, 0, Math.SQRT1_2] }],
    meshes: [],
    materials: [],
    accessors: [],
    bufferViews: [],
    buffers: [{ byteLength: 0 }],
  };
  const size = used.reduce((s, p) => s + p.mesh.positions.byteLength + p.mesh.indices.byteLength, 0);
  const bin = new Uint8Array(size);
  let off = 0;
  used.forEach((p, k) => {
    const pos = p.mesh.positions;
    const min = [Infinity, Infinity, Infinity];
    const max = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < pos.length; i += 3)
      for (let a = 0; a < 3; a++) {
        const v = pos[i + a]!;
        if (v < min[a]!) min[a] = v;
        if (v > max[a]!) max[a] = v;
      }
    // Float32 and Uint32 views keep 4-byte alignment, which glTF requires of every accessor's offset.
    bin.set(new Uint8Array(pos.buffer, pos.byteOffset, pos.byteLength), off);
    json.bufferViews.push({ buffer: 0, byteOffset: off, byteLength: pos.byteLength, target: 34962 });
    off += pos.byteLength;
    const idx = p.mesh.indices;
    bin.set(new Uint8Array(idx.buffer, idx.byteOffset, idx.byteLength), off);
    json.bufferViews.push({ buffer: 0, byteOffset: off, byteLength: idx.byteLength, target: 34963 });
    off += idx.byteLength;
    json.accessors.push({ bufferView: 2 * k, componentType: 5126, count: pos.length / 3, type: "VEC3", min, max });
    json.accessors.push({ bufferView: 2 * k + 1, componentType: 5125, count: idx.length, type: "SCALAR" });
    const rgb = p.color ? rgbOf(p.color, `parts.${p.name}.color`) : [200, 200, 200];
    json.materials.push({
      name: p.name,
      pbrMetallicRoughness: { baseColorFactor: [...rgb.map(srgbToLinear), 1], metallicFactor: 0, roughnessFactor: 0.8 },
      // Closed, outward-wound surfaces: back faces are never seen.
      doubleSided: false,
    });
    json.meshes.push({ name: p.name, primitives: [{ attributes: { POSITION: 2 * k }, indices: 2 * k + 1, material: k, mode: 4 }] });
    json.nodes.push({ name: p.name, mesh: k });
  });
  json.buffers[0]!.byteLength = size;
  if (!used.length) json.buffers = [];
  return { json, bin };
}

function padTo4(bytes: Uint8Array, fill: number): Uint8Array {
  const n = Math.ceil(bytes.length / 4) * 4;
  if (n === bytes.length) return bytes;
  const out = new Uint8Array(n).fill(fill);
  out.set(bytes);
  return out;
}

/** Binary glTF (.glb): 12-byte header, JSON chunk (space-padded), BIN chunk (zero-padded). */
export function encodeGlb(parts: readonly MeshPart[]): Uint8Array {
  const { json, bin } = gltfDocument(parts);
  const jsonBytes = padTo4(new TextEncoder().encode(JSON.stringify(json)), 0x20);
  const binBytes = padTo4(bin, 0);
  const hasBin = json.buffers.length > 0;
  const total = 12 + 8 + jsonBytes.length + (hasBin ? 8 + binBytes.length : 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x46546c67, true); // "glTF"
  dv.setUint32(4, 2, true);
  dv.setUint32(8, total, true);
  dv.setUint32(12, jsonBytes.length, true);
  dv.setUint32(16, 0x4e4f534a, true); // "JSON"
  out.set(jsonBytes, 20);
  if (hasBin) {
    const o = 20 + jsonBytes.length;
    dv.setUint32(o, binBytes.length, true);
    dv.setUint32(o + 4, 0x004e4942, true); // "BIN\0"
    out.set(binBytes, o + 8);
  }
  return out;
}

/** glTF (.gltf) JSON text with the buffer embedded as a base64 data URI: one self-contained file. */
export function encodeGltf(parts: readonly MeshPart[]): string {
  const { json, bin } = gltfDocument(parts);
  if (json.buffers.length) json.buffers[0]!.uri = `data:application/octet-stream;base64,${Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength).toString("base64")}`;
  return JSON.stringify(json);
}

/** Writes parts as .ply, .glb or .gltf (chosen by the extension), atomically. Returns the bytes written. */
export function writeMesh(path: string, parts: readonly MeshPart[], options: PlyOptions = {}): number {
  const ext = extname(path).toLowerCase();
  let bytes: Uint8Array;
  if (ext === ".ply") bytes = encodePly(parts, options);
  else if (ext === ".glb") bytes = encodeGlb(parts);
  else if (ext === ".gltf") bytes = new TextEncoder().encode(encodeGltf(parts));
  else throw new FileFormatError("unknown mesh file type", { path, field: "extension", expected: ".ply, .glb or .gltf", got: ext || "(none)" });
  writeFileAtomic(path, bytes);
  return bytes.length;
}
