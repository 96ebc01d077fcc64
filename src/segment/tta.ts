/**
 * Test-time augmentation by mirroring (nnU-Net's default at inference): an engine wrapper that predicts each window
 * as given and mirrored along every combination of the chosen axes, un-mirrors the probabilities and averages them.
 * A wrapper, so whole-volume inference (`segmentImage`), in-memory prediction (`predictVolume`) and every engine get
 * it the same way. Costs 2^axes predictions per window.
 */
import { ParameterError } from "../util/errors.js";
import type { SegmentEngine } from "./engines.js";
import type { MirrorAxes } from "./plans.js";

/** Mirrors a (C, D, H, W) array along the flagged axes (z, y, x) into `out` (an involution: applying it twice is the identity). */
export function mirrorChannels(src: Float32Array, out: Float32Array, channels: number, shape: readonly [number, number, number], flip: readonly [boolean, boolean, boolean]): void {
  const [d, h, w] = shape;
  const v = d * h * w;
  for (let c = 0; c < channels; c++)
    for (let z = 0; z < d; z++) {
      const zz = flip[0] ? d - 1 - z : z;
      for (let y = 0; y < h; y++) {
        const yy = flip[1] ? h - 1 - y : y;
        const o = c * v + (z * h + y) * w;
        const s = c * v + (zz * h + yy) * w;
        if (flip[2]) for (let x = 0; x < w; x++) out[o + x] = src[s + w - 1 - x]!;
        else out.set(src.subarray(s, s + w), o);
      }
    }
}

/** Every combination of mirroring along `axes` (the identity first): 2^axes flags of (z, y, x). */
export function mirrorCombinations(axes: MirrorAxes): [boolean, boolean, boolean][] {
  const names = ["z", "y", "x"] as const;
  for (const a of axes) if (!names.includes(a)) throw new ParameterError("unknown mirror axis", { field: "tta", expected: "z, y, x", got: String(a) });
  const on = names.map((n) => axes.includes(n));
  const out: [boolean, boolean, boolean][] = [];
  for (let m = 0; m < 8; m++) {
    const f: [boolean, boolean, boolean] = [Boolean(m & 4), Boolean(m & 2), Boolean(m & 1)];
    if (f.every((x, i) => !x || on[i])) out.push(f);
  }
  return out;
}

/** `engine` with mirroring test-time augmentation along `axes`; disposing it disposes the inner engine. */
export function mirrorEngine(engine: SegmentEngine, axes: MirrorAxes): SegmentEngine {
  const combos = mirrorCombinations(axes);
  return {
    name: `${engine.name}+tta-mirror-${axes.join("")}`,
    channels: engine.channels,
    classes: engine.classes,
    async predict(input, shape) {
      const K = engine.classes;
      const v = shape[0] * shape[1] * shape[2];
      const sum = new Float32Array(K * v);
      const flippedIn = new Float32Array(input.length);
      const back = new Float32Array(K * v);
      for (const f of combos) {
        const mirrored = f.some(Boolean);
        if (mirrored) mirrorChannels(input, flippedIn, engine.channels, shape, f);
        const p = await engine.predict(mirrored ? flippedIn : input, shape);
        if (mirrored) mirrorChannels(p, back, K, shape, f);
        const q = mirrored ? back : p;
        for (let i = 0; i < sum.length; i++) sum[i]! += q[i]!;
      }
      const inv = 1 / combos.length;
      for (let i = 0; i < sum.length; i++) sum[i]! *= inv;
      return sum;
    },
    dispose: () => engine.dispose(),
  };
}
