/**
 * Test-only synthetic volumes (small, fast, arbitrary units): an electrolyte matrix with spherical voids and
 * lithium deposits, for exercising training and inference code paths. Not a physical model: its contrasts are
 * chosen for separability, not taken from the twin (src/twin/optics.ts), whose volumes are what the shipped models
 * are trained and scored on. As in Park et al. (Fig. 2c), voids and lithium look alike in absorption (both weakly
 * absorbing) and differ in phase (lithium has a clear phase shift, a void almost none), so an absorption-only model
 * confuses them. Intensities are arbitrary units.
 */
import { Xoshiro128StarStar } from "../../src/numerics/index.js";

export interface SyntheticVolume {
  shapeZYX: [number, number, number];
  /** Channel name -> (z, y, x) intensities. */
  channels: { phase: Float32Array; absorption: Float32Array };
  /** 0 electrolyte, 1 void, 2 lithium. */
  labels: Uint8Array;
}

export interface SyntheticOptions {
  shapeZYX: [number, number, number];
  seed: number;
  /** Number of spheres of each kind. */
  voids?: number;
  lithium?: number;
  /** Sphere radius range, voxels. */
  radius_vox?: [number, number];
  /** Noise standard deviation relative to the electrolyte-void contrast. */
  noise?: number;
}

/** Mean intensities (arbitrary units) of electrolyte, void, lithium per channel. */
export const SYNTHETIC_CONTRAST = {
  absorption: [1.0, 0.1, 0.12],
  phase: [0.6, 0.0, 1.2],
} as const;

export function syntheticVolume(o: SyntheticOptions): SyntheticVolume {
  const rng = new Xoshiro128StarStar(o.seed);
  const [d, h, w] = o.shapeZYX;
  const n = d * h * w;
  const labels = new Uint8Array(n);
  const [rmin, rmax] = o.radius_vox ?? [2, 5];
  const place = (count: number, value: number) => {
    for (let s = 0; s < count; s++) {
      const r = rng.uniform(rmin, rmax);
      const cz = rng.uniform(0, d);
      const cy = rng.uniform(0, h);
      const cx = rng.uniform(0, w);
      for (let z = Math.max(0, Math.floor(cz - r)); z < Math.min(d, Math.ceil(cz + r + 1)); z++)
        for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(h, Math.ceil(cy + r + 1)); y++)
          for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(w, Math.ceil(cx + r + 1)); x++)
            if ((z + 0.5 - cz) ** 2 + (y + 0.5 - cy) ** 2 + (x + 0.5 - cx) ** 2 <= r * r) labels[(z * h + y) * w + x] = value;
    }
  };
  const vol = n / 1000;
  place(o.voids ?? Math.max(1, Math.round(vol / 6)), 1);
  place(o.lithium ?? Math.max(1, Math.round(vol / 10)), 2);
  const noise = o.noise ?? 0.1;
  const absorption = new Float32Array(n);
  const phase = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    absorption[i] = SYNTHETIC_CONTRAST.absorption[l]! + noise * rng.normal();
    phase[i] = SYNTHETIC_CONTRAST.phase[l]! + noise * rng.normal();
  }
  return { shapeZYX: [d, h, w], channels: { phase, absorption }, labels };
}
