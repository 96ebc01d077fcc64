/** Seeded pseudo-random numbers shared by the twin, fitting multi-starts, training and tests (reproducible runs). */

/** One step of mulberry32: advances `state` and returns [new state, uniform in [0, 1)]. */
export function mulberry32Step(state: number): [number, number] {
  const s = (state + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [s, ((t ^ (t >>> 14)) >>> 0) / 4294967296];
}

/** A seeded uniform generator on [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    const [next, u] = mulberry32Step(s);
    s = next;
    return u;
  };
}

/** Standard normal deviate from a uniform generator (Box-Muller). */
export function gaussian(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
