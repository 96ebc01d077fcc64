/**
 * Deterministic randomness. Sequential draws (void and deposit placement) use a seeded generator; per-voxel
 * noise uses a counter-based hash of (seed, stream, voxel index), so a voxel's noise does not depend on how the
 * volume is cut into slabs, and any slab can be generated alone.
 */
import { mulberry32Step } from "../util/random.js";

/** 32-bit integer mix (the murmur3 finaliser). */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of up to four 32-bit words to a uniform 32-bit integer. */
export function hash4(a: number, b: number, c = 0, d = 0): number {
  let h = mix32((a ^ 0x9e3779b9) >>> 0);
  h = mix32((h ^ Math.imul(b >>> 0, 0x27d4eb2f)) >>> 0);
  h = mix32((h ^ Math.imul(c >>> 0, 0x165667b1)) >>> 0);
  h = mix32((h ^ Math.imul(d >>> 0, 0x9e3779b1)) >>> 0);
  return h;
}

/** Uniform in (0, 1) from a hash. */
export function unitFromHash(h: number): number {
  return (h + 0.5) / 4294967296;
}

/** Standard normal deviate for voxel `index` (may exceed 2^32) of noise stream `stream`. */
export function gaussianAt(seed: number, stream: number, index: number): number {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  const u1 = unitFromHash(hash4(seed, stream, lo, hi));
  const u2 = unitFromHash(hash4(seed ^ 0x5bd1e995, stream, lo, hi));
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * Two independent standard normal deviates for voxel `index` of stream `stream` (Box-Muller's cos and sin
 * branches), written to out[0] and out[1]: one hash pair serves both CT channels.
 */
export function gaussianPairAt(seed: number, stream: number, index: number, out: Float64Array): void {
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  const u1 = unitFromHash(hash4(seed, stream, lo, hi));
  const u2 = unitFromHash(hash4(seed ^ 0x5bd1e995, stream, lo, hi));
  const r = Math.sqrt(-2 * Math.log(u1));
  out[0] = r * Math.cos(2 * Math.PI * u2);
  out[1] = r * Math.sin(2 * Math.PI * u2);
}

/** Seeded sequential generator (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number, stream = 0) {
    this.s = hash4(seed, stream, 0x1234567) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    const [state, u] = mulberry32Step(this.s);
    this.s = state;
    return u;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  normal(): number {
    const u1 = 1 - this.next();
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

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
