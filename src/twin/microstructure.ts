/**
 * The cell's geometry: layers along z, voids in the Li3PS4 layer, and Li deposits growing from nuclei at voids.
 *
 * Frame: z = 0 at the top of the field of view; voxel k spans [k h, (k+1) h). From the top: Li electrode,
 * (from t > 0) Li plated at the interface, the decomposition interphase, Li3PS4 (with voids and deposits), the
 * Li counter electrode. Depth is measured from the pristine Li/Li3PS4 interface.
 *
 * Layer boundaries are continuous (um) and voxelised per column with a low-discrepancy offset (columnOffset), so
 * the voxel count of a sub-voxel layer equals its continuous volume on average over the field of view.
 *
 * Voids: clusters of 2-4 overlapping spheres (irregular, the gaps between 10-50 um secondary particles), placed
 * bin by bin along depth until each bin's counted void voxels reach the target fraction
 * base + (peak - base) exp(-(d - d_peak)^2 / 2 w^2).
 *
 * Deposits: each is a bundle of steep, wandering strands (a trunk and branches) from its nucleus (a void of the
 * void-rich band) towards both electrodes; a strand point is reached at time tau (tips advance as
 * ((t - t_nuc)/(t_short - t_nuc))^p, and the first deposit's trunk reaches the interphase and the counter
 * electrode exactly at the short). A voxel of Li3PS4 or void belongs to deposit k at time t when
 * d(x) / m(x) <= r_k(t), with d the distance to the parts of its strands reached by t and m a smooth random
 * modulation (irregular thickness). r_k(t) is solved by ranking voxels so that the deposit holds exactly the Li
 * volume the charge history assigns it (to half a voxel): the truth conserves charge. Keys are computed on the
 * fly from the strands, so memory depends on neither the field of view nor the voxel size.
 *
 * With history.depositShape = "void-filling" the deposits keep nuclei and strands but their Li fills void-shaped
 * cavities instead of needles (the section at the end of this file); absent, as in every preset, nothing changes.
 */
import { ParameterError } from "../util/errors.js";
import { LI_UM_PER_MAH_CM2 } from "../numerics/constants.js";
import { chargeState } from "./history.js";
import { Material } from "./optics.js";
import { depositShapeOf, shortTime_h, type TwinParameters } from "./params.js";
import { Mulberry32 } from "../numerics/random.js";
import { columnOffset, valueNoise3 } from "./random.js";

export interface Sphere {
  z_um: number;
  y_um: number;
  x_um: number;
  r_um: number;
}

export interface VoidBody {
  spheres: Sphere[];
  /** Depth of the main sphere's centre below the pristine interface, um. */
  depth_um: number;
  /** Voxels of the void (union of its spheres). */
  voxels: number;
}

export interface Strand {
  z: Float64Array;
  y: Float64Array;
  x: Float64Array;
  tau: Float64Array;
}

export interface Deposit {
  /** Nucleus position (um) and the void it nucleated at (-1: none in the band). */
  nucleus: { z_um: number; y_um: number; x_um: number };
  voidIndex: number;
  /** Share of the deposit Li budget. */
  share: number;
  /** True for the deposit that connects the electrodes at the short. */
  shorting: boolean;
  /** Voxel box [z0, z1, y0, y1, x0, x1) outside which the deposit never reaches (void-filling: its cavities' bounds). */
  box: [number, number, number, number, number, number];
  /** Strands: path samples (um), every `step_um` along z, and the time each is reached (h). */
  strands: Strand[];
  step_um: number;
  /** Seed of the thickness modulation and its thickness amplitude. */
  noiseSeed: number;
  roughness: number;
  /**
   * "void-filling" deposits only: the void-shaped cavities the deposit's Li fills, in filling order (see
   * addCavities). Absent for needles.
   */
  cavities?: Cavity[];
  /** "void-filling" only: the reference radius of the growth key, um (the pristine voids' mean main-sphere radius). */
  cavityRef_um?: number;
}

/** A void-shaped body that the Li of a "void-filling" deposit fills: a pristine void, or a new cavity of the voids' recipe. */
export interface Cavity {
  spheres: Sphere[];
  /**
   * Per sphere, the factor turning a distance from its centre into the growth key (um): ref_um / (r_um x inflation),
   * with ref_um the mean main-sphere radius of the pristine voids. A voxel is Li when its key <= the deposit's
   * threshold, so at threshold ref_um every cavity has exactly its drawn shape, and every threshold scales all of
   * them alike: the Li bodies keep the voids' shapes at every time.
   */
  keyScale: Float64Array;
  /** Index of the pristine void (CellModel.voids) this cavity is, or -1 for a new one. */
  voidIndex: number;
  /** Time the Li reaches the cavity and starts to fill it, h (Infinity: not before the short). */
  tau_h: number;
  /** Voxels of the cavity as drawn (union of its spheres, clipped to the volume). */
  voxels: number;
}

export interface CellModel {
  params: TwinParameters;
  shapeZYX: [number, number, number];
  voxel_um: number;
  /** Pristine interface and counter-electrode surface, um from the top. */
  interface_um: number;
  bottom_um: number;
  /** Lateral area of the field of view, um2. */
  footprint_um2: number;
  /** Deposits in the field of view (history.depositCount, or from history.depositsPer_mm2). */
  depositCount: number;
  /**
   * Electrode area whose deposit charge the deposits in view carry, um2: the footprint for a fixed count, count /
   * density with an areal density (more than the footprint when the window is smaller than the deposit spacing).
   */
  depositFootprint_um2: number;
  short_h: number;
  voids: VoidBody[];
  deposits: Deposit[];
  /** Solved deposit radii per time (key: time_h). */
  radiusCache: Map<number, Float64Array>;
}

export interface LayerBoundaries {
  /** Continuous boundaries, voxel units from the top: plated-Li top, interphase top, electrolyte top, counter top. */
  li: number;
  prod: number;
  glass: number;
  bottom: number;
}

export function layerBoundaries(m: CellModel, time_h: number): LayerBoundaries {
  const s = chargeState(m.params, time_h);
  const h = m.voxel_um;
  const glass = m.interface_um + s.glassConsumed_um;
  const prod = glass - s.interphase_um;
  const li = prod - s.interfaceLi_um;
  return { li: li / h, prod: prod / h, glass: glass / h, bottom: m.bottom_um / h };
}

/** Voxel boundaries of column (y, x): voxels k < b are above boundary b. */
export function columnBoundaries(m: CellModel, b: LayerBoundaries, y: number, x: number): [number, number, number, number] {
  const u = columnOffset(y, x, m.shapeZYX[2]);
  return [Math.floor(b.li + u), Math.floor(b.prod + u), Math.floor(b.glass + u), Math.floor(b.bottom + u)];
}

/** Target void fraction at depth d (um). */
export function targetVoidFraction(p: TwinParameters, depth_um: number): number {
  const v = p.voids;
  return v.baseFraction + (v.peakFraction - v.baseFraction) * Math.exp(-0.5 * ((depth_um - v.peakDepth_um) / v.peakWidth_um) ** 2);
}

/** Depth (um below the pristine interface) of the centre of voxel layer k. */
export function depthOfLayer(m: CellModel, k: number): number {
  return (k + 0.5) * m.voxel_um - m.interface_um;
}

/** Voxel count of a union of spheres, per voxel layer k (sparse map), clipped to the volume. */
function rasterizeCount(m: CellModel, spheres: Sphere[]): Map<number, number> {
  const h = m.voxel_um;
  const [nz, ny, nx] = m.shapeZYX;
  let z0 = Infinity, z1 = -Infinity, y0 = Infinity, y1 = -Infinity, x0 = Infinity, x1 = -Infinity;
  for (const s of spheres) {
    z0 = Math.min(z0, s.z_um - s.r_um); z1 = Math.max(z1, s.z_um + s.r_um);
    y0 = Math.min(y0, s.y_um - s.r_um); y1 = Math.max(y1, s.y_um + s.r_um);
    x0 = Math.min(x0, s.x_um - s.r_um); x1 = Math.max(x1, s.x_um + s.r_um);
  }
  const out = new Map<number, number>();
  const kz0 = Math.max(0, Math.floor(z0 / h)), kz1 = Math.min(nz, Math.ceil(z1 / h));
  const ky0 = Math.max(0, Math.floor(y0 / h)), ky1 = Math.min(ny, Math.ceil(y1 / h));
  const kx0 = Math.max(0, Math.floor(x0 / h)), kx1 = Math.min(nx, Math.ceil(x1 / h));
  for (let k = kz0; k < kz1; k++) {
    let n = 0;
    const zc = (k + 0.5) * h;
    for (let j = ky0; j < ky1; j++) {
      const yc = (j + 0.5) * h;
      for (let i = kx0; i < kx1; i++) {
        const xc = (i + 0.5) * h;
        for (const s of spheres) {
          const dz = zc - s.z_um, dy = yc - s.y_um, dx = xc - s.x_um;
          if (dz * dz + dy * dy + dx * dx <= s.r_um * s.r_um) {
            n++;
            break;
          }
        }
      }
    }
    if (n) out.set(k, n);
  }
  return out;
}

/** Is voxel (k, j, i) inside any sphere of the list? */
export function insideSpheres(spheres: Sphere[], h: number, k: number, j: number, i: number): boolean {
  const zc = (k + 0.5) * h, yc = (j + 0.5) * h, xc = (i + 0.5) * h;
  for (const s of spheres) {
    const dz = zc - s.z_um, dy = yc - s.y_um, dx = xc - s.x_um;
    if (dz * dz + dy * dy + dx * dx <= s.r_um * s.r_um) return true;
  }
  return false;
}

/** Radius of the sphere that bounds a void cluster, in units of its main sphere's radius (placement spacing). */
const VOID_BOUND_FACTOR = 1.8;

/**
 * The voids' shape recipe: a main sphere of radius r0 at (cz, cy, cx) and 1-3 smaller ones (0.45-0.8 r0) whose
 * centres lie 0.5-0.9 r0 away in random directions. Shared by the pristine voids and the cavities of
 * "void-filling" deposits, so both have the same shapes.
 */
function voidCluster(rng: Mulberry32, cz: number, cy: number, cx: number, r0: number): Sphere[] {
  const spheres: Sphere[] = [{ z_um: cz, y_um: cy, x_um: cx, r_um: r0 }];
  const extra = 1 + Math.floor(rng.next() * 3);
  for (let e = 0; e < extra; e++) {
    const r = r0 * rng.uniform(0.45, 0.8);
    const dist = r0 * rng.uniform(0.5, 0.9);
    const u = rng.uniform(-1, 1), phi = rng.uniform(0, 2 * Math.PI);
    const st = Math.sqrt(1 - u * u);
    spheres.push({ z_um: cz + dist * u, y_um: cy + dist * st * Math.cos(phi), x_um: cx + dist * st * Math.sin(phi), r_um: r });
  }
  return spheres;
}

function placeVoids(m: CellModel): VoidBody[] {
  const p = m.params;
  const v = p.voids;
  const h = m.voxel_um;
  const [nz, ny, nx] = m.shapeZYX;
  const rng = Mulberry32.forStream(p.seed, 1);
  const layerCount = new Float64Array(nz);
  const nb = Math.ceil(p.geometry.electrolyte_um / v.binWidth_um);
  const binOfLayer = (k: number) => {
    const d = depthOfLayer(m, k);
    return d >= 0 && d < p.geometry.electrolyte_um ? Math.floor(d / v.binWidth_um) : -1;
  };
  const binLayers: number[][] = Array.from({ length: nb }, () => []);
  for (let k = 0; k < nz; k++) {
    const b = binOfLayer(k);
    if (b >= 0) binLayers[b]!.push(k);
  }
  const binCount = (b: number) => binLayers[b]!.reduce((a, k) => a + layerCount[k]!, 0);
  const voids: VoidBody[] = [];
  const bounds: Array<{ z: number; y: number; x: number; R: number }> = [];
  const [rMin, rMax] = v.sphereRadius_um;
  const Ly = ny * h, Lx = nx * h;
  const targets = Array.from({ length: nb }, (_, b) => targetVoidFraction(p, (b + 0.5) * v.binWidth_um) * binLayers[b]!.length * ny * nx);
  // Fill the void-rich bins first, and judge each candidate by the error summed over all bins, so voids that
  // straddle a bin edge count where they land.
  const order = Array.from({ length: nb }, (_, b) => b).sort((a, b) => targets[b]! / Math.max(1, binLayers[b]!.length) - targets[a]! / Math.max(1, binLayers[a]!.length));
  for (const b of order) {
    if (!binLayers[b]!.length) continue;
    const dLo = Math.max(b * v.binWidth_um, v.minDepth_um);
    const dHi = Math.min((b + 1) * v.binWidth_um, p.geometry.electrolyte_um - 2 * rMax);
    if (dHi <= dLo) continue;
    const target = targets[b]!;
    let scale = 1;
    for (let tries = 0; tries < 400 && binCount(b) < target; tries++) {
      const remaining_um3 = (target - binCount(b)) * h ** 3;
      const r0 = Math.min(rMax, Math.max(rMin, scale * Math.cbrt((3 * remaining_um3) / (4 * Math.PI) / 1.6)));
      const cz = m.interface_um + rng.uniform(dLo, dHi);
      const cy = rng.uniform(Math.min(r0, Ly / 2), Math.max(Ly - r0, Ly / 2));
      const cx = rng.uniform(Math.min(r0, Lx / 2), Math.max(Lx - r0, Lx / 2));
      const spheres = voidCluster(rng, cz, cy, cx, r0);
      const R = r0 * VOID_BOUND_FACTOR;
      if (bounds.some((o) => (o.z - cz) ** 2 + (o.y - cy) ** 2 + (o.x - cx) ** 2 < (o.R + R + h) ** 2)) continue;
      const counts = rasterizeCount(m, spheres);
      const add = new Map<number, number>();
      let total = 0;
      for (const [k, n] of counts) {
        total += n;
        const bk = binOfLayer(k);
        if (bk >= 0) add.set(bk, (add.get(bk) ?? 0) + n);
      }
      if (!total) continue;
      let gain = 0;
      for (const [bk, n] of add) {
        const cur = binCount(bk);
        gain += Math.abs(cur - targets[bk]!) - Math.abs(cur + n - targets[bk]!);
      }
      if (gain > 0) {
        for (const [k, n] of counts) layerCount[k]! += n;
        voids.push({ spheres, depth_um: cz - m.interface_um, voxels: total });
        bounds.push({ z: cz, y: cy, x: cx, R });
      } else if (r0 <= rMin) break;
      else scale *= 0.8;
    }
  }
  return voids;
}

function minOf(a: Float64Array): number {
  let v = Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! < v) v = a[i]!;
  return v;
}
function maxOf(a: Float64Array): number {
  let v = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > v) v = a[i]!;
  return v;
}

/**
 * How many deposits the field of view holds and whose charge they carry. With an areal density the count is
 * max(1, round(density x area)); when the window holds exactly its expected count (a preset's own window) the
 * footprint is kept as it is, so its charge bookkeeping stays exact rather than off by a rounding of count / density.
 */
export function depositsInView(hp: TwinParameters["history"], footprint_um2: number): { depositCount: number; depositFootprint_um2: number } {
  if (hp.depositsPer_mm2 === undefined) return { depositCount: hp.depositCount, depositFootprint_um2: footprint_um2 };
  const expected = hp.depositsPer_mm2 * footprint_um2 * 1e-6;
  const depositCount = Math.max(1, Math.round(expected));
  const exact = Math.abs(expected - depositCount) <= 1e-9 * depositCount;
  return { depositCount, depositFootprint_um2: exact ? footprint_um2 : (depositCount / hp.depositsPer_mm2) * 1e6 };
}

function buildDeposits(m: CellModel): Deposit[] {
  const p = m.params;
  const hp = p.history;
  const h = m.voxel_um;
  const [nz, ny, nx] = m.shapeZYX;
  const rng = Mulberry32.forStream(p.seed, 2);
  const v = p.voids;
  const bandLo = Math.floor(v.peakDepth_um / v.binWidth_um) * v.binWidth_um;
  const band = m.voids
    .map((vd, i) => ({ vd, i }))
    .filter(({ vd }) => vd.depth_um >= bandLo && vd.depth_um < bandLo + v.binWidth_um)
    // Prefer large voids away from the lateral faces, so the deposits grow inside the field of view.
    .map((e) => {
      const s0 = e.vd.spheres[0]!;
      const inner = [s0.y_um / (ny * h), s0.x_um / (nx * h)].every((f) => f > 0.2 && f < 0.8);
      return { ...e, score: e.vd.voxels * (inner ? 4 : 1) };
    })
    .sort((a, b) => b.score - a.score);
  const endState = chargeState(p, m.short_h);
  const depositBudget_um3 = endState.depositLi_mAh_cm2 * LI_UM_PER_MAH_CM2 * m.depositFootprint_um2;
  const bTop = layerBoundaries(m, m.short_h).glass * h - h; // inside the interphase at the short
  const bBot = m.bottom_um + h;
  const out: Deposit[] = [];
  for (let k = 0; k < m.depositCount; k++) {
    let nucleus: Deposit["nucleus"];
    let voidIndex = -1;
    if (k < band.length) {
      const s0 = band[k]!.vd.spheres[0]!;
      nucleus = { z_um: s0.z_um, y_um: s0.y_um, x_um: s0.x_um };
      voidIndex = band[k]!.i;
    } else {
      nucleus = {
        z_um: m.interface_um + rng.uniform(bandLo, bandLo + v.binWidth_um),
        y_um: rng.uniform(0.1, 0.9) * ny * h,
        x_um: rng.uniform(0.1, 0.9) * nx * h,
      };
    }
    const shorting = k === 0;
    const n = m.depositCount;
    const share = n === 1 ? 1 : shorting ? hp.mainDepositShare : (1 - hp.mainDepositShare) / (n - 1);
    const reach = shorting ? 1 : rng.uniform(0.25, 0.6);
    const Sup = nucleus.z_um - bTop, Sdn = bBot - nucleus.z_um;
    const W = hp.depositWander_um;
    const ds = h;
    const dt = m.short_h - hp.nucleation_h;
    const strands: Strand[] = [];
    let totalLength = 0;
    for (let st = 0; st < hp.strandsPerDeposit; st++) {
      // Strand 0 is the trunk (it carries the short); the others branch from the nucleus, reach less far and
      // drift sideways, so a deposit is a bundle of irregular needles rather than one column.
      const up = st === 0 ? reach : reach * rng.uniform(0.3, 0.9);
      const dn = st === 0 ? reach : reach * rng.uniform(0.3, 0.9);
      const amp = st === 0 ? W : 1.5 * W;
      const drift = st === 0 ? [0, 0] : [rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2)];
      const waves = [0, 1, 2].map(() => ({ lambda: rng.uniform(40, 120), phy: rng.uniform(0, 2 * Math.PI), phx: rng.uniform(0, 2 * Math.PI), a: rng.uniform(0.5, 1) }));
      const aSum = waves.reduce((acc, w) => acc + w.a, 0);
      const zs: number[] = [], ys: number[] = [], xs: number[] = [], taus: number[] = [];
      for (let s = -Sup * up; s <= Sdn * dn + 1e-9; s += ds) {
        let dy = drift[0]! * Math.abs(s), dx = drift[1]! * Math.abs(s);
        for (const w of waves) {
          dy += (w.a / aSum) * amp * (Math.sin((2 * Math.PI * s) / w.lambda + w.phy) - Math.sin(w.phy));
          dx += (w.a / aSum) * amp * (Math.sin((2 * Math.PI * s) / w.lambda + w.phx) - Math.sin(w.phx));
        }
        const S = s < 0 ? Sup : Sdn;
        zs.push(nucleus.z_um + s);
        ys.push(Math.min(ny * h - h / 2, Math.max(h / 2, nucleus.y_um + dy)));
        xs.push(Math.min(nx * h - h / 2, Math.max(h / 2, nucleus.x_um + dx)));
        taus.push(hp.nucleation_h + dt * Math.pow(Math.min(1, Math.abs(s) / S), 1 / hp.tipExponent));
      }
      totalLength += zs[zs.length - 1]! - zs[0]!;
      strands.push({ z: Float64Array.from(zs), y: Float64Array.from(ys), x: Float64Array.from(xs), tau: Float64Array.from(taus) });
    }
    const rEst = Math.sqrt((share * depositBudget_um3) / (Math.PI * Math.max(totalLength, h)));
    const pad = 2.5 * rEst * (1 + hp.depositRoughness) + 2 * h;
    const ext = (f: (a: Float64Array) => number, key: "z" | "y" | "x") => strands.map((st) => f(st[key])).reduce((a, b) => (f === minOf ? Math.min(a, b) : Math.max(a, b)));
    const box: Deposit["box"] = [
      Math.max(0, Math.floor((ext(minOf, "z") - pad) / h)),
      Math.min(nz, Math.ceil((ext(maxOf, "z") + pad) / h)),
      Math.max(0, Math.floor((ext(minOf, "y") - pad) / h)),
      Math.min(ny, Math.ceil((ext(maxOf, "y") + pad) / h)),
      Math.max(0, Math.floor((ext(minOf, "x") - pad) / h)),
      Math.min(nx, Math.ceil((ext(maxOf, "x") + pad) / h)),
    ];
    out.push({
      nucleus,
      voidIndex,
      share,
      shorting,
      box,
      strands,
      step_um: ds,
      noiseSeed: (p.seed ^ (0x51ed27 + 7919 * k)) >>> 0,
      roughness: hp.depositRoughness,
    });
  }
  if (depositShapeOf(p) === "void-filling") addCavities(m, out);
  return out;
}

/** Builds the cell model (voids, deposit tables) for validated parameters. Deterministic for a seed. */
export function buildCellModel(p: TwinParameters): CellModel {
  const g = p.geometry;
  const h = g.voxel_um;
  const nz = Math.round((g.topLi_um + g.electrolyte_um + g.bottomLi_um) / h);
  const m: CellModel = {
    params: p,
    shapeZYX: [nz, g.nyx[0], g.nyx[1]],
    voxel_um: h,
    interface_um: g.topLi_um,
    bottom_um: g.topLi_um + g.electrolyte_um,
    footprint_um2: g.nyx[0] * g.nyx[1] * h * h,
    ...depositsInView(p.history, g.nyx[0] * g.nyx[1] * h * h),
    short_h: shortTime_h(p),
    voids: [],
    deposits: [],
    radiusCache: new Map(),
  };
  // The electrode is pushed up by the plated Li and the products' excess volume: it must stay in view, or
  // voxels of plated Li would fall outside the volume and the truth would lose charge.
  const end = chargeState(p, m.short_h);
  const rise_um = end.interfaceLi_um + end.interphase_um - end.glassConsumed_um;
  if (g.topLi_um < rise_um + 2 * h)
    throw new ParameterError("the top Li electrode in the field of view is thinner than the growth it must absorb", {
      field: "geometry.topLi_um",
      expected: `>= ${(rise_um + 2 * h).toFixed(2)} um (interface Li + interphase excess at the short + 2 voxels)`,
      got: String(g.topLi_um),
    });
  m.voids = placeVoids(m);
  m.deposits = buildDeposits(m);
  return m;
}

/** Correlation length of the deposits' thickness modulation, um. */
const MOD_LENGTH_um = 8;

/**
 * Reached part of each strand at time_h: sample index range [lo, hi] (inclusive) with tau <= time_h, as pairs.
 * tau grows away from the nucleus, so the range is contiguous; lo > hi when nothing is reached yet.
 */
export function reachedRanges(dep: Deposit, time_h: number): Int32Array {
  const out = new Int32Array(2 * dep.strands.length);
  dep.strands.forEach((st, s) => {
    let lo = -1, hi = -2;
    for (let q = 0; q < st.tau.length; q++)
      if (st.tau[q]! <= time_h) {
        if (lo < 0) lo = q;
        hi = q;
      }
    out[2 * s] = lo < 0 ? 1 : lo;
    out[2 * s + 1] = lo < 0 ? 0 : hi;
  });
  return out;
}

/**
 * Growth key of voxel (k, j, i) for a deposit at the time whose reached ranges are given: d/m (um), with d the
 * distance to the reached part of the nearest strand (lateral at the voxel's height, where the strand passes it:
 * the strands are steep; 3D to the growing tips beyond, so tips are rounded) and m a smooth modulation.
 * Computed on the fly in O(strands): memory does not grow with the field of view, and solve and render get
 * bit-identical keys. Infinity when farther than cutoff_um (1 + roughness), where no key can be <= cutoff_um.
 */
export function depositKey(dep: Deposit, ranges: Int32Array, h: number, k: number, j: number, i: number, cutoff_um = Infinity): number {
  const zc = (k + 0.5) * h, yc = (j + 0.5) * h, xc = (i + 0.5) * h;
  const far = cutoff_um * (1 + dep.roughness);
  let best = far * far;
  let found = false;
  for (let s = 0; s < dep.strands.length; s++) {
    const lo = ranges[2 * s]!, hi = ranges[2 * s + 1]!;
    if (lo > hi) continue;
    const st = dep.strands[s]!;
    const q = Math.round((zc - st.z[0]!) / dep.step_um);
    const qq = q < lo ? lo : q > hi ? hi : q;
    const dy = yc - st.y[qq]!, dx = xc - st.x[qq]!;
    let d2 = dy * dy + dx * dx;
    if (q !== qq) d2 += (zc - st.z[qq]!) ** 2;
    if (d2 < best) (best = d2), (found = true);
  }
  if (!found) return Infinity;
  const mod = Math.max(0.1, 1 + dep.roughness * valueNoise3(dep.noiseSeed, xc / MOD_LENGTH_um, yc / MOD_LENGTH_um, zc / MOD_LENGTH_um));
  return Math.sqrt(best) / mod;
}

/**
 * Lateral voxel window [j0, j1, i0, i1) of layer k outside which no voxel is within `far_um` of a reached strand
 * (the strands' positions at that height, widened by far_um), clipped to the deposit's box.
 */
function layerWindow(dep: Deposit, ranges: Int32Array, h: number, k: number, far_um: number): [number, number, number, number] {
  const zc = (k + 0.5) * h;
  let ylo = Infinity, yhi = -Infinity, xlo = Infinity, xhi = -Infinity;
  for (let s = 0; s < dep.strands.length; s++) {
    const lo = ranges[2 * s]!, hi = ranges[2 * s + 1]!;
    if (lo > hi) continue;
    const st = dep.strands[s]!;
    const q = Math.round((zc - st.z[0]!) / dep.step_um);
    const qq = q < lo ? lo : q > hi ? hi : q;
    if (q !== qq && Math.abs(zc - st.z[qq]!) > far_um) continue;
    const y = st.y[qq]!, x = st.x[qq]!;
    if (y < ylo) ylo = y;
    if (y > yhi) yhi = y;
    if (x < xlo) xlo = x;
    if (x > xhi) xhi = x;
  }
  const [, , y0, y1, x0, x1] = dep.box;
  if (ylo > yhi) return [0, 0, 0, 0];
  return [
    Math.max(y0, Math.floor((ylo - far_um) / h)),
    Math.min(y1, Math.ceil((yhi + far_um) / h)),
    Math.max(x0, Math.floor((xlo - far_um) / h)),
    Math.min(x1, Math.ceil((xhi + far_um) / h)),
  ];
}

/**
 * Is voxel (k, j, i) of the Li3PS4 layer (column boundaries kg <= k < kb) face-adjacent to the interphase or an
 * electrode? Deposits stay out of this contact zone until the short, when the shorting deposit may enter it: a
 * deposit touches an electrode exactly when the history says the cell shorts, not when a rounded tip gets close.
 */
export function inContactZone(m: CellModel, bnd: LayerBoundaries, k: number, j: number, i: number, kg: number, kb: number): boolean {
  // Dithered boundaries of neighbouring columns differ by at most one voxel.
  if (k > kg + 1 && k < kb - 2) return false;
  if (k === kg || k === kb - 1) return true;
  const [, ny, nx] = m.shapeZYX;
  const nb: Array<[number, number]> = [[j - 1, i], [j + 1, i], [j, i - 1], [j, i + 1]];
  for (const [jj, ii] of nb) {
    if (jj < 0 || jj >= ny || ii < 0 || ii >= nx) continue;
    const [, , kg2, kb2] = columnBoundaries(m, bnd, jj, ii);
    if (k < kg2 || k >= kb2) return true;
  }
  return false;
}

/** May deposit `dep` occupy the contact zone at time_h? Only the shorting one, from the short on. */
function contactAllowed(m: CellModel, dep: Deposit, time_h: number): boolean {
  return dep.shorting && time_h >= m.short_h - 1e-9;
}

function inBox(dep: Deposit, k: number, j: number, i: number): boolean {
  const [z0, z1, y0, y1, x0, x1] = dep.box;
  return k >= z0 && k < z1 && j >= y0 && j < y1 && i >= x0 && i < x1;
}

/**
 * Radius threshold r_k(t) of every deposit (um; -1: empty) such that deposit k holds round(budget_k / h^3)
 * voxels of Li3PS4 or void not already taken by deposits 0..k-1. Two streaming passes per deposit: a histogram
 * of keys, then the keys of the bin holding the N-th one, sorted. Throws if the deposit's box cannot hold its
 * budget (the field of view is too small for the Li the history asks for).
 */
export function depositRadii(m: CellModel, time_h: number): Float64Array {
  const hit = m.radiusCache.get(time_h);
  if (hit) return hit;
  if (depositShapeOf(m.params) === "void-filling") {
    const r = cavityRadii(m, time_h);
    m.radiusCache.set(time_h, r);
    return r;
  }
  const h = m.voxel_um;
  const s = chargeState(m.params, time_h);
  const budget_um3 = s.depositLi_mAh_cm2 * LI_UM_PER_MAH_CM2 * m.depositFootprint_um2;
  const bnd = layerBoundaries(m, time_h);
  const radii = new Float64Array(m.deposits.length).fill(-1);
  const ranges = m.deposits.map((dep) => reachedRanges(dep, time_h));
  m.deposits.forEach((dep, d) => {
    const N = Math.round((dep.share * budget_um3) / h ** 3);
    if (N <= 0) return;
    const [z0, z1, y0, y1, x0, x1] = dep.box;
    // Only keys below a cutoff are needed: start from twice the radius of a cylinder holding the budget along
    // the path reached so far, and widen until the cutoff holds N voxels.
    const rg = ranges[d]!;
    const contact = contactAllowed(m, dep, time_h);
    let reached = 0;
    for (let q = 0; q < dep.strands.length; q++) reached += Math.max(0, rg[2 * q + 1]! - rg[2 * q]! + 1);
    let cutoff = 2 * Math.sqrt((N * h ** 3) / (Math.PI * Math.max(h, reached * dep.step_um))) + 2 * h;
    const NB = 1 << 14;
    const NYb = y1 - y0, NXb = x1 - x0;
    const kgs = new Int32Array(NYb * NXb), kbs = new Int32Array(NYb * NXb);
    for (let j = y0; j < y1; j++)
      for (let i = x0; i < x1; i++) {
        const [, , kg, kb] = columnBoundaries(m, bnd, j, i);
        kgs[(j - y0) * NXb + (i - x0)] = kg;
        kbs[(j - y0) * NXb + (i - x0)] = kb;
      }
    const eligible = (visit: (key: number) => void) => {
      const far = cutoff * (1 + dep.roughness);
      for (let kz = z0; kz < z1; kz++) {
        const [wj0, wj1, wi0, wi1] = layerWindow(dep, rg, h, kz, far);
        for (let j = wj0; j < wj1; j++)
          for (let i = wi0; i < wi1; i++) {
            const c = (j - y0) * NXb + (i - x0);
            if (kz < kgs[c]! || kz >= kbs[c]!) continue;
            if (!contact && inContactZone(m, bnd, kz, j, i, kgs[c]!, kbs[c]!)) continue;
            const key = depositKey(dep, rg, h, kz, j, i, cutoff);
            if (!(key < cutoff)) continue;
            let taken = false;
            for (let q = 0; q < d && !taken; q++) {
              const o = m.deposits[q]!;
              if (radii[q]! < 0 || !inBox(o, kz, j, i)) continue;
              taken = depositKey(o, ranges[q]!, h, kz, j, i, radii[q]!) <= radii[q]!;
            }
            if (!taken) visit(key);
          }
        }
    };
    const hist = new Float64Array(NB);
    let n = 0;
    let w = cutoff / NB;
    const maxCutoff = 4 * Math.hypot(z1 - z0, y1 - y0, x1 - x0) * h;
    for (;;) {
      hist.fill(0);
      n = 0;
      w = cutoff / NB;
      eligible((key) => {
        hist[Math.min(NB - 1, Math.floor(key / w))]! += 1;
        n++;
      });
      if (n >= N) break;
      if (cutoff > maxCutoff)
        throw new ParameterError("the field of view cannot hold the deposit Li the charge history asks for", {
          field: "geometry.nyx",
          expected: `room for ${N} deposit voxels around deposit ${d}`,
          got: `${n} candidate voxels at t = ${time_h} h`,
        });
      cutoff *= 1.6;
    }
    let below = 0, b = 0;
    while (below + hist[b]! < N) below += hist[b++]!;
    const inBin: number[] = [];
    eligible((key) => {
      if (Math.min(NB - 1, Math.floor(key / w)) === b) inBin.push(key);
    });
    inBin.sort((a, c) => a - c);
    radii[d] = inBin[N - below - 1]!;
  });
  m.radiusCache.set(time_h, radii);
  return radii;
}

/**
 * Fills `out` (C order, shape of the box) with the material codes of box [z0, z1) x [y0, y1) x [x0, x1) at time_h.
 * Pure: the same voxel gets the same code whatever box it is rendered in.
 */
export function renderMaterial(
  m: CellModel,
  time_h: number,
  box: [number, number, number, number, number, number],
  out: Uint8Array = new Uint8Array((box[1] - box[0]) * (box[3] - box[2]) * (box[5] - box[4])),
): Uint8Array {
  const [z0, z1, y0, y1, x0, x1] = box;
  const NY = y1 - y0, NX = x1 - x0;
  const h = m.voxel_um;
  const bnd = layerBoundaries(m, time_h);
  for (let j = y0; j < y1; j++)
    for (let i = x0; i < x1; i++) {
      const [kl, kp, kg, kb] = columnBoundaries(m, bnd, j, i);
      for (let k = z0; k < z1; k++) {
        const code =
          k < kl ? Material.liElectrode : k < kp ? Material.liPlated : k < kg ? Material.interphase : k < kb ? Material.electrolyte : Material.liCounter;
        out[((k - z0) * NY + (j - y0)) * NX + (i - x0)] = code;
      }
    }
  for (const vd of m.voids) {
    let bz0 = Infinity, bz1 = -Infinity, by0 = Infinity, by1 = -Infinity, bx0 = Infinity, bx1 = -Infinity;
    for (const s of vd.spheres) {
      bz0 = Math.min(bz0, s.z_um - s.r_um); bz1 = Math.max(bz1, s.z_um + s.r_um);
      by0 = Math.min(by0, s.y_um - s.r_um); by1 = Math.max(by1, s.y_um + s.r_um);
      bx0 = Math.min(bx0, s.x_um - s.r_um); bx1 = Math.max(bx1, s.x_um + s.r_um);
    }
    const kz0 = Math.max(z0, Math.floor(bz0 / h)), kz1 = Math.min(z1, Math.ceil(bz1 / h));
    const ky0 = Math.max(y0, Math.floor(by0 / h)), ky1 = Math.min(y1, Math.ceil(by1 / h));
    const kx0 = Math.max(x0, Math.floor(bx0 / h)), kx1 = Math.min(x1, Math.ceil(bx1 / h));
    for (let k = kz0; k < kz1; k++)
      for (let j = ky0; j < ky1; j++)
        for (let i = kx0; i < kx1; i++) {
          const o = ((k - z0) * NY + (j - y0)) * NX + (i - x0);
          if (out[o] === Material.electrolyte && insideSpheres(vd.spheres, h, k, j, i)) out[o] = Material.void;
        }
  }
  if (depositShapeOf(m.params) === "void-filling") {
    renderCavityDeposits(m, time_h, box, out);
    return out;
  }
  const radii = depositRadii(m, time_h);
  m.deposits.forEach((dep, d) => {
    const r = radii[d]!;
    if (r < 0) return;
    const [dz0, dz1, dy0, dy1, dx0, dx1] = dep.box;
    const kz0 = Math.max(z0, dz0), kz1 = Math.min(z1, dz1);
    const far = r * (1 + dep.roughness);
    const rg = reachedRanges(dep, time_h);
    const contact = contactAllowed(m, dep, time_h);
    for (let k = kz0; k < kz1; k++) {
      const [wj0, wj1, wi0, wi1] = layerWindow(dep, rg, h, k, far);
      const ky0 = Math.max(y0, dy0, wj0), ky1 = Math.min(y1, dy1, wj1);
      const kx0 = Math.max(x0, dx0, wi0), kx1 = Math.min(x1, dx1, wi1);
      for (let j = ky0; j < ky1; j++)
        for (let i = kx0; i < kx1; i++) {
          const o = ((k - z0) * NY + (j - y0)) * NX + (i - x0);
          const c = out[o];
          if (c !== Material.electrolyte && c !== Material.void) continue;
          if (depositKey(dep, rg, h, k, j, i, r) > r) continue;
          if (!contact) {
            const [, , kg, kb] = columnBoundaries(m, bnd, j, i);
            if (inContactZone(m, bnd, k, j, i, kg, kb)) continue;
          }
          out[o] = Material.liDeposit;
        }
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// "void-filling" deposits (history.depositShape): Li in void-shaped cavities.
//
// Each deposit keeps its nucleus and strands (drawn exactly as for needles, so the rest of the twin is unchanged),
// but its Li goes into cavities instead of needles: first the pristine void it nucleated at, then the pristine
// voids its cloud covers and new cavities drawn with the voids' shape recipe and their radii, scattered about the
// strands (Li infiltrating the pores of the pressed glass). Cavities fill in order of their distance along z from
// the nucleus, each one opening when the ones before hold FILL_FRACTION of their volume, so Li spreads from the
// nucleus towards both electrodes as the charge arrives. The threshold of the growth key is solved by ranking, as
// for needles: every deposit holds exactly the Li its charge share implies (to half a voxel), so charge
// bookkeeping and the manifest's truths hold unchanged. The short is then carried by a filament below the
// voxel size: no connected Li path is drawn (the cavities of the void-rich band are what the paper's Fig. 2c
// images, not the filament).
// ---------------------------------------------------------------------------------------------------------------

/**
 * A cavity opens when the cavities before it hold this share of their drawn volume. Why 0.9: Li bodies then stay
 * just under their drawn (void-like) linear size, at most 0.9^(1/3) = 0.97 of it and 0.91-0.96 in the default
 * column (less just after a cavity opens); 1.0 would let them outgrow the drawn shapes before the next one opens.
 */
const FILL_FRACTION = 0.9;
/**
 * Key radius of a pristine void relative to its drawn radius. Why 1.1: at the thresholds FILL_FRACTION gives
 * (0.93-0.97 of the reference) Li covers every voxel of the void, so a filled void reads as Li, not as a void
 * shell around a Li core; the excess (under half a voxel) is Li wetting the void's wall.
 */
const PRISTINE_INFLATION = 1.1;
/**
 * Drawn cavity volume per volume of a deposit's cloud (a cylinder of radius 2 sigma about each strand). Why 0.1:
 * the cloud then spreads about as far as the needles wander (sigma near 12 um in the default column), and the
 * cavities, kept a void's spacing apart, still find room; the spread widens where they do not.
 */
const CLOUD_PACKING = 0.1;
/** Placement attempts in a row that may fail before the cloud's spread widens by CLOUD_WIDEN. */
const CLOUD_PATIENCE = 60;
const CLOUD_WIDEN = 1.25;

/** Deposit voxels of share 1 at time_h (the ranking rounds each deposit's share of it). */
function depositVoxels(m: CellModel, time_h: number): number {
  return (chargeState(m.params, time_h).depositLi_mAh_cm2 * LI_UM_PER_MAH_CM2 * m.depositFootprint_um2) / m.voxel_um ** 3;
}

/** First time (h) at which `share` of the deposit Li holds `voxels` voxels; Infinity if not before the short. */
function timeOfDepositVolume(m: CellModel, share: number, voxels: number): number {
  const tn = Math.min(m.params.history.nucleation_h, m.short_h);
  if (voxels <= 0) return tn;
  if (share * depositVoxels(m, m.short_h) < voxels) return Infinity;
  let lo = tn, hi = m.short_h;
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (lo + hi);
    if (share * depositVoxels(m, mid) >= voxels) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Draws the cavities of every deposit (m.voids must be placed). Deterministic for a seed; its own random stream. */
function addCavities(m: CellModel, deposits: Deposit[]): void {
  const p = m.params;
  const h = m.voxel_um;
  const [, ny, nx] = m.shapeZYX;
  const Ly = ny * h, Lx = nx * h;
  const rng = Mulberry32.forStream(p.seed, 3);
  // Radii as the pristine voids have them, so a cavity is void-sized as well as void-shaped.
  const mains = m.voids.map((vd) => vd.spheres[0]!.r_um);
  const [rMin, rMax] = p.voids.sphereRadius_um;
  const ref_um = mains.length ? mains.reduce((a, b) => a + b, 0) / mains.length : 0.5 * (rMin + rMax);
  const drawRadius = () => (mains.length ? mains[Math.floor(rng.next() * mains.length)]! : rng.uniform(rMin, rMax));
  // Cavities stay inside the Li3PS4 left at the short, clear of the contact zone.
  const zTop = layerBoundaries(m, m.short_h).glass * h + 2 * h;
  const zBot = m.bottom_um - 2 * h;
  // Bodies already placed (pristine voids, then cavities): a new one keeps a voxel of electrolyte between its
  // spheres and theirs, so each cavity stays a separate, void-shaped body.
  const bounds: Array<{ z: number; y: number; x: number; R: number; spheres: Sphere[] }> = m.voids.map((vd) => {
    const s0 = vd.spheres[0]!;
    return { z: s0.z_um, y: s0.y_um, x: s0.x_um, R: s0.r_um * VOID_BOUND_FACTOR, spheres: vd.spheres };
  });
  const apart = (a: Sphere, b: Sphere) => (a.z_um - b.z_um) ** 2 + (a.y_um - b.y_um) ** 2 + (a.x_um - b.x_um) ** 2 >= (a.r_um + b.r_um + h) ** 2;
  const clear = (z: number, y: number, x: number, R: number, spheres: Sphere[]) =>
    bounds.every((o) => (o.z - z) ** 2 + (o.y - y) ** 2 + (o.x - x) ** 2 >= (o.R + R + h) ** 2 || o.spheres.every((a) => spheres.every((b) => apart(a, b))));
  const owner = new Int32Array(m.voids.length).fill(-1);
  const endVoxels = depositVoxels(m, m.short_h);
  deposits.forEach((dep, d) => {
    const target = (dep.share * endVoxels) / FILL_FRACTION;
    let length_um = 0;
    for (const st of dep.strands) length_um += st.z[st.z.length - 1]! - st.z[0]! + dep.step_um;
    let sigma = Math.max(2 * rMax, Math.sqrt((target * h ** 3) / (CLOUD_PACKING * Math.PI * 4 * Math.max(length_um, h))));
    const found: Array<{ spheres: Sphere[]; voidIndex: number; arc: number; voxels: number }> = [];
    let drawn = 0;
    const lateralToStrands = (z: number, y: number, x: number) => {
      let best = Infinity;
      for (const st of dep.strands) {
        const q = Math.round((z - st.z[0]!) / dep.step_um);
        if (q < 0 || q >= st.z.length) continue;
        best = Math.min(best, Math.hypot(y - st.y[q]!, x - st.x[q]!));
      }
      return best;
    };
    // New cavities about the strands (a sample chosen along their total length), a void's spacing apart.
    const cum: number[] = [];
    let total = 0;
    for (const st of dep.strands) cum.push((total += st.z.length));
    let misses = 0;
    for (let tries = 0; drawn < target; tries++) {
      if (tries > 200_000)
        throw new ParameterError("the field of view cannot hold the void-shaped cavities the deposit Li needs", {
          field: "geometry.nyx",
          expected: `room for ${Math.round(target)} cavity voxels around deposit ${d}`,
          got: `${Math.round(drawn)} placed`,
        });
      const u = rng.next() * total;
      const s = cum.findIndex((c) => u < c);
      const st = dep.strands[s]!;
      const q = Math.min(st.z.length - 1, Math.floor(u - (s ? cum[s - 1]! : 0)));
      const r0 = drawRadius();
      const R = r0 * VOID_BOUND_FACTOR;
      const cz = st.z[q]! + 0.5 * sigma * rng.normal();
      const cy = st.y[q]! + sigma * rng.normal();
      const cx = st.x[q]! + sigma * rng.normal();
      const spheres = voidCluster(rng, cz, cy, cx, r0);
      const ok = cz - R >= zTop && cz + R <= zBot && cy >= r0 && cy <= Ly - r0 && cx >= r0 && cx <= Lx - r0 && clear(cz, cy, cx, R, spheres);
      if (!ok) {
        if (++misses >= CLOUD_PATIENCE) (sigma = Math.min(sigma * CLOUD_WIDEN, Math.max(Ly, Lx))), (misses = 0);
        continue;
      }
      misses = 0;
      let voxels = 0;
      for (const n of rasterizeCount(m, spheres).values()) voxels += n;
      if (!voxels) continue;
      bounds.push({ z: cz, y: cy, x: cx, R, spheres });
      found.push({ spheres, voidIndex: -1, arc: Math.abs(cz - dep.nucleus.z_um), voxels });
      drawn += voxels;
    }
    // Pristine voids: the nucleus's own, then every void inside the cloud (as wide as it had to grow) that no earlier
    // deposit took. Li reaches them in order of distance like any cavity; the drawn volume then exceeds the target
    // and the farthest new cavities are never reached before the short (they stay electrolyte).
    m.voids.forEach((vd, vi) => {
      if (owner[vi]! >= 0) return;
      const s0 = vd.spheres[0]!;
      if (vi !== dep.voidIndex && !(lateralToStrands(s0.z_um, s0.y_um, s0.x_um) <= 2 * sigma)) return;
      owner[vi] = d;
      found.push({ spheres: vd.spheres, voidIndex: vi, arc: vi === dep.voidIndex ? -1 : Math.abs(s0.z_um - dep.nucleus.z_um), voxels: vd.voxels });
    });
    found.sort((a, b) => a.arc - b.arc);
    let before = 0;
    const cavities: Cavity[] = [];
    for (const f of found) {
      const tau_h = timeOfDepositVolume(m, dep.share, FILL_FRACTION * before);
      if (!Number.isFinite(tau_h)) break; // never reached: stays electrolyte (or a void)
      const infl = f.voidIndex >= 0 ? PRISTINE_INFLATION : 1;
      cavities.push({ spheres: f.spheres, keyScale: Float64Array.from(f.spheres, (sp) => ref_um / (sp.r_um * infl)), voidIndex: f.voidIndex, tau_h, voxels: f.voxels });
      before += f.voxels;
    }
    dep.cavities = cavities;
    dep.cavityRef_um = ref_um;
    // The box now bounds the cavities (at 1.5x their drawn radii, past any threshold the ranking reaches in practice).
    const [nz] = m.shapeZYX;
    const b = [Infinity, -Infinity, Infinity, -Infinity, Infinity, -Infinity];
    for (const c of cavities)
      for (const sp of c.spheres) {
        const R = 1.5 * sp.r_um * (c.voidIndex >= 0 ? PRISTINE_INFLATION : 1);
        (b[0] = Math.min(b[0]!, sp.z_um - R)), (b[1] = Math.max(b[1]!, sp.z_um + R));
        (b[2] = Math.min(b[2]!, sp.y_um - R)), (b[3] = Math.max(b[3]!, sp.y_um + R));
        (b[4] = Math.min(b[4]!, sp.x_um - R)), (b[5] = Math.max(b[5]!, sp.x_um + R));
      }
    if (cavities.length)
      dep.box = [
        Math.max(0, Math.floor(b[0]! / h)), Math.min(nz, Math.ceil(b[1]! / h)),
        Math.max(0, Math.floor(b[2]! / h)), Math.min(ny, Math.ceil(b[3]! / h)),
        Math.max(0, Math.floor(b[4]! / h)), Math.min(nx, Math.ceil(b[5]! / h)),
      ];
  });
}

/** Reached cavities of a deposit whose key can be below cutoff_um: per voxel layer the cavities, and their voxel boxes. */
interface CavityIndex {
  layers: Map<number, number[]>;
  /** Per cavity (index into dep.cavities): [z0, z1, y0, y1, x0, x1), clipped to the volume; empty if not listed. */
  box: Int32Array;
}

function cavityIndex(m: CellModel, dep: Deposit, time_h: number, cutoff_um: number): CavityIndex {
  const h = m.voxel_um;
  const [nz, ny, nx] = m.shapeZYX;
  const cav = dep.cavities ?? [];
  const layers = new Map<number, number[]>();
  const box = new Int32Array(6 * cav.length);
  cav.forEach((c, ci) => {
    if (c.tau_h > time_h) return;
    let z0 = Infinity, z1 = -Infinity, y0 = Infinity, y1 = -Infinity, x0 = Infinity, x1 = -Infinity;
    c.spheres.forEach((s, si) => {
      const R = cutoff_um / c.keyScale[si]!;
      z0 = Math.min(z0, s.z_um - R); z1 = Math.max(z1, s.z_um + R);
      y0 = Math.min(y0, s.y_um - R); y1 = Math.max(y1, s.y_um + R);
      x0 = Math.min(x0, s.x_um - R); x1 = Math.max(x1, s.x_um + R);
    });
    const b = [Math.max(0, Math.floor(z0 / h)), Math.min(nz, Math.ceil(z1 / h)), Math.max(0, Math.floor(y0 / h)), Math.min(ny, Math.ceil(y1 / h)), Math.max(0, Math.floor(x0 / h)), Math.min(nx, Math.ceil(x1 / h))];
    box.set(b, 6 * ci);
    for (let k = b[0]!; k < b[1]!; k++) {
      const l = layers.get(k);
      if (l) l.push(ci);
      else layers.set(k, [ci]);
    }
  });
  return { layers, box };
}

/** Growth key (um) of voxel (k, j, i) among the indexed cavities of layer k; Infinity outside them all. */
function cavityKey(dep: Deposit, idx: CavityIndex, h: number, k: number, j: number, i: number): number {
  const list = idx.layers.get(k);
  if (!list) return Infinity;
  const zc = (k + 0.5) * h, yc = (j + 0.5) * h, xc = (i + 0.5) * h;
  let best = Infinity;
  for (const ci of list) {
    const o = 6 * ci;
    if (j < idx.box[o + 2]! || j >= idx.box[o + 3]! || i < idx.box[o + 4]! || i >= idx.box[o + 5]!) continue;
    const c = dep.cavities![ci]!;
    for (let si = 0; si < c.spheres.length; si++) {
      const s = c.spheres[si]!;
      const f = c.keyScale[si]!;
      const d2 = ((zc - s.z_um) ** 2 + (yc - s.y_um) ** 2 + (xc - s.x_um) ** 2) * f * f;
      if (d2 < best) best = d2;
    }
  }
  return Math.sqrt(best);
}

/**
 * Visits every voxel (k, j, i) of the volume inside an indexed cavity box exactly once (a voxel in several boxes
 * goes to the first in its layer's list), within the z range [z0, z1) and lateral box [y0, y1) x [x0, x1).
 */
function forEachCavityVoxel(idx: CavityIndex, zr: [number, number], yr: [number, number], xr: [number, number], visit: (k: number, j: number, i: number) => void): void {
  for (const [k, list] of idx.layers) {
    if (k < zr[0] || k >= zr[1]) continue;
    for (let a = 0; a < list.length; a++) {
      const o = 6 * list[a]!;
      const j0 = Math.max(yr[0], idx.box[o + 2]!), j1 = Math.min(yr[1], idx.box[o + 3]!);
      const i0 = Math.max(xr[0], idx.box[o + 4]!), i1 = Math.min(xr[1], idx.box[o + 5]!);
      for (let j = j0; j < j1; j++)
        for (let i = i0; i < i1; i++) {
          let seen = false;
          for (let b = 0; b < a && !seen; b++) {
            const p = 6 * list[b]!;
            seen = j >= idx.box[p + 2]! && j < idx.box[p + 3]! && i >= idx.box[p + 4]! && i < idx.box[p + 5]!;
          }
          if (!seen) visit(k, j, i);
        }
    }
  }
}

/** depositRadii for "void-filling" deposits: the key threshold (um) at which each deposit holds its Li exactly. */
function cavityRadii(m: CellModel, time_h: number): Float64Array {
  const h = m.voxel_um;
  const [nz, ny, nx] = m.shapeZYX;
  const bnd = layerBoundaries(m, time_h);
  const radii = new Float64Array(m.deposits.length).fill(-1);
  const held: Array<CavityIndex | null> = m.deposits.map(() => null);
  const all: [number, number] = [0, nz];
  m.deposits.forEach((dep, d) => {
    const N = Math.round(dep.share * depositVoxels(m, time_h));
    if (N <= 0) return;
    const contact = contactAllowed(m, dep, time_h);
    const ref = dep.cavityRef_um ?? h;
    const eligible = (idx: CavityIndex, cutoff: number, visit: (key: number) => void) =>
      forEachCavityVoxel(idx, all, [0, ny], [0, nx], (k, j, i) => {
        const [, , kg, kb] = columnBoundaries(m, bnd, j, i);
        if (k < kg || k >= kb) return;
        if (!contact && inContactZone(m, bnd, k, j, i, kg, kb)) return;
        const key = cavityKey(dep, idx, h, k, j, i);
        if (!(key < cutoff)) return;
        for (let q = 0; q < d; q++) if (held[q] && cavityKey(m.deposits[q]!, held[q]!, h, k, j, i) <= radii[q]!) return;
        visit(key);
      });
    const NB = 1 << 14;
    const hist = new Float64Array(NB);
    let cutoff = 1.05 * ref;
    let idx = cavityIndex(m, dep, time_h, cutoff);
    for (;;) {
      hist.fill(0);
      let n = 0;
      const w = cutoff / NB;
      eligible(idx, cutoff, (key) => {
        hist[Math.min(NB - 1, Math.floor(key / w))]! += 1;
        n++;
      });
      if (n >= N) {
        let below = 0, b = 0;
        while (below + hist[b]! < N) below += hist[b++]!;
        const inBin: number[] = [];
        eligible(idx, cutoff, (key) => {
          if (Math.min(NB - 1, Math.floor(key / w)) === b) inBin.push(key);
        });
        inBin.sort((a, c) => a - c);
        radii[d] = inBin[N - below - 1]!;
        break;
      }
      if (cutoff > 4 * ref)
        throw new ParameterError("the cavities of a void-filling deposit cannot hold the Li the charge history asks for", {
          field: "geometry.nyx",
          expected: `room for ${N} deposit voxels in the cavities of deposit ${d}`,
          got: `${n} candidate voxels at t = ${time_h} h`,
        });
      cutoff *= 1.25;
      idx = cavityIndex(m, dep, time_h, cutoff);
    }
    held[d] = cavityIndex(m, dep, time_h, radii[d]!);
  });
  return radii;
}

/** renderMaterial's deposit pass for "void-filling" deposits: electrolyte or void voxels within a deposit's threshold become Li. */
function renderCavityDeposits(m: CellModel, time_h: number, box: [number, number, number, number, number, number], out: Uint8Array): void {
  const [z0, z1, y0, y1, x0, x1] = box;
  const NY = y1 - y0, NX = x1 - x0;
  const h = m.voxel_um;
  const bnd = layerBoundaries(m, time_h);
  const radii = depositRadii(m, time_h);
  m.deposits.forEach((dep, d) => {
    const r = radii[d]!;
    if (r < 0) return;
    const idx = cavityIndex(m, dep, time_h, r);
    const contact = contactAllowed(m, dep, time_h);
    forEachCavityVoxel(idx, [z0, z1], [y0, y1], [x0, x1], (k, j, i) => {
      const o = ((k - z0) * NY + (j - y0)) * NX + (i - x0);
      const c = out[o];
      if (c !== Material.electrolyte && c !== Material.void) return;
      if (cavityKey(dep, idx, h, k, j, i) > r) return;
      if (!contact) {
        const [, , kg, kb] = columnBoundaries(m, bnd, j, i);
        if (inContactZone(m, bnd, k, j, i, kg, kb)) return;
      }
      out[o] = Material.liDeposit;
    });
  });
}
