/**
 * Seeded random numbers: the project's one home for them. Three streams, each a different algorithm with a reason,
 * and each frozen: the twin's volumes, the shipped models' training recipes and the tests' seeds depend on every
 * bit of them, so none may be swapped for another.
 *
 * - `Mulberry32`: a sequential 32-bit generator. `seededRandom` (fit multi-starts, tests) and the twin's placement
 *   draws (`Mulberry32.forStream`) use it; the two seed it differently, so they are different streams.
 * - `Xoshiro128StarStar`: 128 bits of state that can be saved in a checkpoint, so a resumed training run continues
 *   its patch sampling and augmentation exactly where it stopped.
 * - Counter-based hashes (`hash4`, `gaussianAt`): per-voxel noise as a pure function of (seed, stream, index), so a
 *   voxel's noise does not depend on how the volume is cut into slabs.
 */

/** One step of mulberry32: advances `state` and returns [new state, uniform in [0, 1)]. */
export function mulberry32Step(state: number): [number, number] {
  const s = (state + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [s, ((t ^ (t >>> 14)) >>> 0) / 4294967296];
}

/** Box-Muller (cos branch) from two uniforms, u1 in (0, 1]. */
function boxMuller(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Sequential mulberry32 generator from a 32-bit state. */
export class Mulberry32 {
  private s: number;

  constructor(state: number) {
    this.s = state >>> 0;
  }

  /** The twin's placement stream `stream` of seed `seed` (state = hash of both, so streams are independent). */
  static forStream(seed: number, stream = 0): Mulberry32 {
    return new Mulberry32(hash4(seed, stream, 0x1234567));
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

  /** Standard normal (Box-Muller on 1 - u, v: one value per call). */
  normal(): number {
    const u1 = 1 - this.next();
    const u2 = this.next();
    return boxMuller(u1, u2);
  }
}

/** A seeded uniform generator on [0, 1) as a function (mulberry32 from state `seed`). */
export function seededRandom(seed: number): () => number {
  const g = new Mulberry32(seed);
  return () => g.next();
}

/** Standard normal deviate from a uniform generator (Box-Muller; a zero draw is redrawn). */
export function gaussian(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return boxMuller(u, rand());
}

/**
 * xoshiro128** with a state that can be saved in a checkpoint; a number seed is expanded into four words by a
 * splitmix-style mix.
 */
export class Xoshiro128StarStar {
  private s: Uint32Array;

  constructor(seed: number | readonly number[]) {
    this.s = new Uint32Array(4);
    if (typeof seed === "number") {
      let x = seed >>> 0;
      for (let i = 0; i < 4; i++) {
        x = (x + 0x9e3779b9) >>> 0;
        let z = x;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        this.s[i] = (z ^ (z >>> 16)) >>> 0;
      }
      if (this.s.every((v) => v === 0)) this.s[0] = 1;
    } else this.s.set(seed);
  }

  get state(): number[] {
    return Array.from(this.s);
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    let s0 = s[0] ?? 0, s1 = s[1] ?? 0, s2 = s[2] ?? 0, s3 = s[3] ?? 0;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3 >>> 0, 11);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller on 1 - u, v: one value per call so the state stays simple). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return boxMuller(u, v);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

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
  // inlined hashing (no tuple): this runs once per voxel of the twin
  const lo = index >>> 0;
  const hi = Math.floor(index / 4294967296) >>> 0;
  const u1 = unitFromHash(hash4(seed, stream, lo, hi));
  const u2 = unitFromHash(hash4(seed ^ 0x5bd1e995, stream, lo, hi));
  return boxMuller(u1, u2);
}

/**
 * Two independent standard normal deviates for voxel `index` of stream `stream` (Box-Muller's cos and sin
 * branches of gaussianAt's uniforms), written to out[0] and out[1]: one hash pair serves both CT channels.
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
