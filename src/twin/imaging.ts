/**
 * Image formation of the twin's CT volumes, block by block, from the material map.
 *
 * - Absorption channel: reconstructed linear attenuation mu_total(E) of each voxel's material (1/cm), blurred by
 *   the instrument (Gaussian, blurSigma_um) plus Gaussian noise. Li (0.25/cm at 8 keV) and void (0) differ by far
 *   less than the noise: near-indistinguishable, as in Fig. 2c-ii.
 * - Phase channel (Zernike): delta x 1e6 of each voxel's material (void 0 < Li 1.5 < Li3PS4 6.1 at 8 keV: voids
 *   black, Li grey, electrolyte bright, Fig. 2c-i), with the phase ring's halo modelled as an unsharp mask
 *   phi + g (phi - G_halo * phi) (bright/dark fringes at edges), then the instrument blur and noise.
 *
 * A block is rendered with a margin of the filters' reach, the volume's faces replicated, so every voxel's value
 * is the same whichever block it is computed in; noise is a hash of (seed, time, channel, voxel index).
 */
import { renderMaterial, type CellModel } from "./microstructure.js";
import { materialOptics, SEG_OF_MATERIAL } from "./optics.js";
import { gaussianPairAt } from "../numerics/random.js";

export type Box = [number, number, number, number, number, number];

function kernel(sigma_vox: number): Float32Array {
  if (sigma_vox <= 0) return Float32Array.of(1);
  const R = Math.ceil(3 * sigma_vox);
  const k = new Float32Array(2 * R + 1);
  let s = 0;
  for (let i = -R; i <= R; i++) s += k[i + R] = Math.exp(-0.5 * (i / sigma_vox) ** 2);
  for (let i = 0; i < k.length; i++) k[i]! /= s;
  return k;
}

/** Reach (voxels) of a Gaussian of sigma_vox as used here. */
export function kernelRadius(sigma_vox: number): number {
  return sigma_vox <= 0 ? 0 : Math.ceil(3 * sigma_vox);
}

/**
 * Separable Gaussian blur of a (nz, ny, nx) volume, edges clamped. Returns a new array. The y and z passes
 * accumulate whole rows (contiguous in x) so the inner loops stream through memory.
 */
export function gaussianBlur3(src: Float32Array, shape: [number, number, number], sigma_vox: number): Float32Array {
  const [nz, ny, nx] = shape;
  const k = kernel(sigma_vox);
  const R = (k.length - 1) / 2;
  if (R === 0) return Float32Array.from(src);
  const a = new Float32Array(src.length);
  // x pass through a padded line
  const line = new Float32Array(nx + 2 * R);
  for (let row = 0; row < nz * ny; row++) {
    const base = row * nx;
    for (let i = 0; i < R; i++) {
      line[i] = src[base]!;
      line[nx + R + i] = src[base + nx - 1]!;
    }
    for (let i = 0; i < nx; i++) line[R + i] = src[base + i]!;
    for (let i = 0; i < nx; i++) {
      let s = 0;
      for (let q = 0; q < k.length; q++) s += k[q]! * line[i + q]!;
      a[base + i] = s;
    }
  }
  // y pass: row accumulation
  const b = new Float32Array(src.length);
  for (let z = 0; z < nz; z++) {
    const plane = z * ny * nx;
    for (let y = 0; y < ny; y++) {
      const dst = plane + y * nx;
      for (let q = -R; q <= R; q++) {
        const yy = y + q < 0 ? 0 : y + q >= ny ? ny - 1 : y + q;
        const w = k[q + R]!;
        const srcRow = plane + yy * nx;
        for (let i = 0; i < nx; i++) b[dst + i]! += w * a[srcRow + i]!;
      }
    }
  }
  // z pass: plane accumulation
  a.fill(0);
  const P = ny * nx;
  for (let z = 0; z < nz; z++) {
    const dst = z * P;
    for (let q = -R; q <= R; q++) {
      const zz = z + q < 0 ? 0 : z + q >= nz ? nz - 1 : z + q;
      const w = k[q + R]!;
      const srcP = zz * P;
      for (let i = 0; i < P; i++) a[dst + i]! += w * b[srcP + i]!;
    }
  }
  return a;
}

export interface RenderedBlock {
  box: Box;
  shape: [number, number, number];
  material: Uint8Array;
  segmentation: Uint8Array;
  absorption: Float32Array;
  phase: Float32Array;
}

/** Noise stream of time index ti: 100 + ti (cos branch: absorption, sin branch: phase). */
const NOISE_STREAM = 100;

/** Margin (voxels) a block needs so its core is exact. */
export function imagingMargin(m: CellModel): number {
  const c = m.params.ct;
  const h = m.voxel_um;
  return kernelRadius(c.blurSigma_um / h) + (c.haloGain > 0 ? kernelRadius(c.haloSigma_um / h) : 0);
}

/** Renders material, 3-class truth, absorption and phase of the core box at time index ti. */
export function renderBlock(m: CellModel, ti: number, time_h: number, core: Box): RenderedBlock {
  const [nz, ny, nx] = m.shapeZYX;
  const M = imagingMargin(m);
  const ext: Box = [core[0] - M, core[1] + M, core[2] - M, core[3] + M, core[4] - M, core[5] + M];
  const inVol: Box = [Math.max(0, ext[0]), Math.min(nz, ext[1]), Math.max(0, ext[2]), Math.min(ny, ext[3]), Math.max(0, ext[4]), Math.min(nx, ext[5])];
  const matIn = renderMaterial(m, time_h, inVol);
  const eShape: [number, number, number] = [ext[1] - ext[0], ext[3] - ext[2], ext[5] - ext[4]];
  const iNY = inVol[3] - inVol[2], iNX = inVol[5] - inVol[4];
  const opt = materialOptics(m.params.ct.energy_keV);
  const mu = new Float32Array(eShape[0] * eShape[1] * eShape[2]);
  const phi = new Float32Array(mu.length);
  const matExt = new Uint8Array(mu.length);
  let o = 0;
  for (let k = ext[0]; k < ext[1]; k++) {
    const kk = Math.min(inVol[1] - 1, Math.max(inVol[0], k)) - inVol[0];
    for (let j = ext[2]; j < ext[3]; j++) {
      const jj = Math.min(inVol[3] - 1, Math.max(inVol[2], j)) - inVol[2];
      for (let i = ext[4]; i < ext[5]; i++, o++) {
        const ii = Math.min(inVol[5] - 1, Math.max(inVol[4], i)) - inVol[4];
        const c = matIn[(kk * iNY + jj) * iNX + ii]!;
        matExt[o] = c;
        mu[o] = opt.mu_per_cm[c]!;
        phi[o] = opt.delta[c]! * 1e6;
      }
    }
  }
  const c = m.params.ct;
  const h = m.voxel_um;
  let ph = phi;
  if (c.haloGain > 0) {
    const low = gaussianBlur3(phi, eShape, c.haloSigma_um / h);
    ph = new Float32Array(phi.length);
    for (let q = 0; q < phi.length; q++) ph[q] = phi[q]! + c.haloGain * (phi[q]! - low[q]!);
  }
  const absB = gaussianBlur3(mu, eShape, c.blurSigma_um / h);
  const phB = gaussianBlur3(ph, eShape, c.blurSigma_um / h);
  const shape: [number, number, number] = [core[1] - core[0], core[3] - core[2], core[5] - core[4]];
  const n = shape[0] * shape[1] * shape[2];
  const material = new Uint8Array(n);
  const segmentation = new Uint8Array(n);
  const absorption = new Float32Array(n);
  const phase = new Float32Array(n);
  const seed = m.params.seed;
  const nrm = new Float64Array(2);
  let q = 0;
  for (let k = core[0]; k < core[1]; k++)
    for (let j = core[2]; j < core[3]; j++) {
      const eBase = ((k - ext[0]) * eShape[1] + (j - ext[2])) * eShape[2] - ext[4];
      const gBase = (k * ny + j) * nx;
      for (let i = core[4]; i < core[5]; i++, q++) {
        const e = eBase + i;
        const g = gBase + i;
        const mat = matExt[e]!;
        material[q] = mat;
        segmentation[q] = SEG_OF_MATERIAL[mat]!;
        gaussianPairAt(seed, NOISE_STREAM + ti, g, nrm);
        absorption[q] = absB[e]! + c.absorptionNoise_per_cm * nrm[0]!;
        phase[q] = phB[e]! + c.phaseNoise_delta1e6 * nrm[1]!;
      }
    }
  return { box: core, shape, material, segmentation, absorption, phase };
}
