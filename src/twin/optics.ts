/**
 * X-ray optical constants of the twin's materials (n = 1 - delta + i beta) and the material codes of its
 * ground-truth map. Numbers are the project's reference table (Chantler FFAST f1/f2, densities as listed there);
 * between tabulated energies they are interpolated log-log (no absorption edge of Li, P or S lies in 8-30 keV).
 */
import { MOLAR_VOLUME_CM3_PER_MOL } from "../numerics/constants.js";
import { ParameterError } from "../util/errors.js";

/**
 * Material codes of the ground-truth map (labels/material). 0 is no material: viewers (napari, OME-NGFF label
 * conventions) draw label value 0 as transparent background, so void has its own value (7) and stays visible; no
 * voxel of the map holds 0.
 */
export const Material = {
  void: 7,
  electrolyte: 1,
  interphase: 2,
  liElectrode: 3,
  liPlated: 4,
  liDeposit: 5,
  liCounter: 6,
} as const;
export type MaterialCode = (typeof Material)[keyof typeof Material];
export const MATERIAL_NAMES: readonly string[] = ["none (background)", "Li3PS4", "interphase (4 Li2S + Li3P)", "Li electrode", "Li plated at interface", "Li deposit in Li3PS4", "Li counter electrode", "void"];
/** Length of arrays indexed by material code (code 0, no material, included). */
export const MATERIAL_COUNT = 8;

/** 3-class segmentation truth (labels/segmentation): electrolyte incl. interphase, void, lithium. */
export const SegClass = { electrolyte: 0, void: 1, lithium: 2 } as const;
export const SEG_OF_MATERIAL: readonly number[] = [0, 0, 0, 2, 2, 2, 2, 1];

interface Row {
  delta: number;
  mu_total_per_cm: number;
}

/** Reference table rows: energy keV -> material -> (delta, mu_total 1/cm). */
const ENERGIES_keV = [8.0, 12.4, 20.0, 30.0];
const TABLE: Record<"Li" | "Li3PS4" | "Li2S" | "Li3P", Row[]> = {
  Li: [
    { delta: 1.497e-6, mu_total_per_cm: 0.2527 },
    { delta: 6.23e-7, mu_total_per_cm: 0.1324 },
    { delta: 2.394e-7, mu_total_per_cm: 0.09753 },
    { delta: 1.064e-7, mu_total_per_cm: 0.08755 },
  ],
  Li3PS4: [
    { delta: 6.064e-6, mu_total_per_cm: 148.5 },
    { delta: 2.507e-6, mu_total_per_cm: 41.92 },
    { delta: 9.578e-7, mu_total_per_cm: 10.44 },
    { delta: 4.244e-7, mu_total_per_cm: 3.367 },
  ],
  Li2S: [
    { delta: 5.229e-6, mu_total_per_cm: 107.7 },
    { delta: 2.164e-6, mu_total_per_cm: 30.51 },
    { delta: 8.279e-7, mu_total_per_cm: 7.637 },
    { delta: 3.671e-7, mu_total_per_cm: 2.495 },
  ],
  Li3P: [
    { delta: 4.347e-6, mu_total_per_cm: 64.21 },
    { delta: 1.801e-6, mu_total_per_cm: 17.94 },
    { delta: 6.894e-7, mu_total_per_cm: 4.537 },
    { delta: 3.058e-7, mu_total_per_cm: 1.529 },
  ],
};

/** Volume fraction of Li2S in the decomposition products 4 Li2S + Li3P. */
export const LI2S_VOLUME_FRACTION = (4 * MOLAR_VOLUME_CM3_PER_MOL.Li2S) / (4 * MOLAR_VOLUME_CM3_PER_MOL.Li2S + MOLAR_VOLUME_CM3_PER_MOL.Li3P);

export function tabulatedEnergyRange_keV(): [number, number] {
  return [ENERGIES_keV[0]!, ENERGIES_keV[ENERGIES_keV.length - 1]!];
}

function interp(rows: Row[], E_keV: number, key: keyof Row): number {
  const [lo, hi] = tabulatedEnergyRange_keV();
  if (!(E_keV >= lo && E_keV <= hi))
    throw new ParameterError("X-ray energy outside the tabulated range", { field: "energy_keV", expected: `[${lo}, ${hi}] keV`, got: String(E_keV) });
  let k = 0;
  while (k < ENERGIES_keV.length - 2 && E_keV > ENERGIES_keV[k + 1]!) k++;
  const e0 = ENERGIES_keV[k]!, e1 = ENERGIES_keV[k + 1]!;
  const y0 = rows[k]![key], y1 = rows[k + 1]![key];
  const f = Math.log(E_keV / e0) / Math.log(e1 / e0);
  return Math.exp(Math.log(y0) + f * (Math.log(y1) - Math.log(y0)));
}

export interface MaterialOptics {
  /** delta of each material code (index = code). */
  delta: Float64Array;
  /** Total linear attenuation (photo + coherent + Compton) of each material code, 1/cm. */
  mu_per_cm: Float64Array;
}

/** Optical constants of every material code at E_keV; the interphase is the volume-weighted 4 Li2S + Li3P mix. */
export function materialOptics(E_keV: number): MaterialOptics {
  const li = { d: interp(TABLE.Li, E_keV, "delta"), m: interp(TABLE.Li, E_keV, "mu_total_per_cm") };
  const lps = { d: interp(TABLE.Li3PS4, E_keV, "delta"), m: interp(TABLE.Li3PS4, E_keV, "mu_total_per_cm") };
  const fs = LI2S_VOLUME_FRACTION;
  const inter = {
    d: fs * interp(TABLE.Li2S, E_keV, "delta") + (1 - fs) * interp(TABLE.Li3P, E_keV, "delta"),
    m: fs * interp(TABLE.Li2S, E_keV, "mu_total_per_cm") + (1 - fs) * interp(TABLE.Li3P, E_keV, "mu_total_per_cm"),
  };
  const delta = new Float64Array(MATERIAL_COUNT);
  const mu = new Float64Array(MATERIAL_COUNT);
  const set = (code: number, v: { d: number; m: number }) => {
    delta[code] = v.d;
    mu[code] = v.m;
  };
  set(Material.void, { d: 0, m: 0 });
  set(Material.electrolyte, lps);
  set(Material.interphase, inter);
  for (const c of [Material.liElectrode, Material.liPlated, Material.liDeposit, Material.liCounter]) set(c, li);
  return { delta, mu_per_cm: mu };
}
