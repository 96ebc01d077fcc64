/**
 * The twin's spatial randomness on top of src/numerics/random.ts (whose generators and per-voxel hashes it uses):
 * smooth value noise for deposit shapes and low-discrepancy per-column offsets for layer boundaries.
 */
import { hash4 } from "../numerics/random.js";

/**
 * Smooth value noise in [-1, 1] at a point given in lattice units (a lattice cell = the noise's correlation
 * length): hashed lattice values, trilinear with a smoothstep weight.
 */
export function valueNoise3(seed: number, x: number, y: number, z: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y), z0 = Math.floor(z);
  const fx = x - x0, fy = y - y0, fz = z - z0;
  const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy), sz = fz * fz * (3 - 2 * fz);
  const X0 = x0 | 0, X1 = (x0 + 1) | 0, Y0 = y0 | 0, Y1 = (y0 + 1) | 0, Z0 = z0 | 0, Z1 = (z0 + 1) | 0;
  // lattice values in [0, 1) (inlined: this is an inner loop of the deposit geometry)
  const v000 = hash4(seed, X0, Y0, Z0), v100 = hash4(seed, X1, Y0, Z0), v010 = hash4(seed, X0, Y1, Z0), v110 = hash4(seed, X1, Y1, Z0);
  const v001 = hash4(seed, X0, Y0, Z1), v101 = hash4(seed, X1, Y0, Z1), v011 = hash4(seed, X0, Y1, Z1), v111 = hash4(seed, X1, Y1, Z1);
  const c00 = v000 + sx * (v100 - v000);
  const c10 = v010 + sx * (v110 - v010);
  const c01 = v001 + sx * (v101 - v001);
  const c11 = v011 + sx * (v111 - v011);
  const c0 = c00 + sy * (c10 - c00);
  const c1 = c01 + sy * (c11 - c01);
  return ((c0 + sz * (c1 - c0) + 0.5) / 4294967296) * 2 - 1;
}

/**
 * Low-discrepancy offset in [0, 1) of lateral column (y, x) (the golden-ratio sequence over the column's running index).
 * Layer boundaries are placed at floor(position + offset) per column: the mean layer thickness over many
 * columns then equals the continuous thickness to within the sequence's discrepancy, so voxel counts of thin
 * layers conserve charge instead of rounding it away.
 */
export function columnOffset(y: number, x: number, nx: number): number {
  const n = y * nx + x + 1;
  return (n * 0.6180339887498949) % 1;
}
