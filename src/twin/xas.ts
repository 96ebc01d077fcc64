/**
 * S and P K-edge XAS of the twin: reference spectra of Li3PS4, Li2S and Li3P, and "measured" spectra before and
 * after plating that are noisy mixtures with the decomposition fraction the twin's state implies.
 *
 * References are normalised model spectra (edge step 1): an arctan edge plus Gaussian peaks at positions in the
 * range reported for these compounds. They are shapes for testing analyses, not tabulated measurements.
 * Mixing is per absorbing atom: after decomposition a fraction x of the S atoms in the probed depth sit in Li2S
 * (4 S per reacted Li3PS4, all to Li2S) and the same fraction x of P atoms in Li3P (1 P per Li3PS4), so
 * mu_S = (1-x) mu_Li3PS4 + x mu_Li2S and mu_P = (1-x) mu_Li3PS4 + x mu_Li3P. Self-absorption is ignored.
 */
import { FARADAY_C_PER_MOL } from "../numerics/constants.js";
import { ParameterError } from "../util/errors.js";
import { chargeState, GLASS_MOL_PER_cm2_um } from "./history.js";
import { shortTime_h, type TwinParameters } from "./params.js";
import { gaussianAt } from "../numerics/random.js";

export type Edge = "S" | "P";

interface Peak {
  E_eV: number;
  height: number;
  sigma_eV: number;
}
interface ReferenceModel {
  E0_eV: number;
  width_eV: number;
  peaks: Peak[];
}

const REFERENCES: Record<Edge, Record<string, ReferenceModel>> = {
  S: {
    Li3PS4: { E0_eV: 2471.0, width_eV: 0.8, peaks: [{ E_eV: 2470.6, height: 1.9, sigma_eV: 0.7 }, { E_eV: 2478.5, height: 0.35, sigma_eV: 2.0 }] },
    Li2S: {
      E0_eV: 2472.6,
      width_eV: 1.0,
      peaks: [
        { E_eV: 2473.3, height: 1.1, sigma_eV: 0.9 },
        { E_eV: 2476.4, height: 0.8, sigma_eV: 1.2 },
        { E_eV: 2484.0, height: 0.25, sigma_eV: 2.5 },
      ],
    },
  },
  P: {
    Li3PS4: { E0_eV: 2149.3, width_eV: 0.8, peaks: [{ E_eV: 2149.6, height: 1.6, sigma_eV: 0.8 }, { E_eV: 2157.0, height: 0.3, sigma_eV: 2.5 }] },
    // Li3P differs from Li3PS4 mostly below the white line (2140-2147 eV, where Fig. 3b changes).
    Li3P: {
      E0_eV: 2145.0,
      width_eV: 1.2,
      peaks: [
        { E_eV: 2143.6, height: 0.45, sigma_eV: 1.0 },
        { E_eV: 2146.2, height: 0.35, sigma_eV: 1.2 },
        { E_eV: 2149.8, height: 1.2, sigma_eV: 1.0 },
        { E_eV: 2157.0, height: 0.25, sigma_eV: 2.5 },
      ],
    },
  },
};

export const EDGE_RANGE_eV: Record<Edge, [number, number]> = { S: [2455, 2505], P: [2130, 2180] };
/** The product compound of each edge's mixture. */
export const PRODUCT_OF_EDGE: Record<Edge, "Li2S" | "Li3P"> = { S: "Li2S", P: "Li3P" };

export function energyGrid(edge: Edge, step_eV: number): Float64Array {
  const [lo, hi] = EDGE_RANGE_eV[edge];
  const n = Math.floor((hi - lo) / step_eV + 1e-9) + 1;
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) e[i] = lo + i * step_eV;
  return e;
}

/** Normalised reference spectrum of `compound` at `edge` on the energy grid E_eV. */
export function referenceSpectrum(edge: Edge, compound: string, E_eV: Float64Array): Float64Array {
  const m = REFERENCES[edge][compound];
  if (!m) throw new ParameterError(`no ${edge} K-edge reference for this compound`, { field: "compound", expected: Object.keys(REFERENCES[edge]).join(", "), got: compound });
  const out = new Float64Array(E_eV.length);
  for (let i = 0; i < E_eV.length; i++) {
    const e = E_eV[i]!;
    let v = 0.5 + Math.atan((e - m.E0_eV) / m.width_eV) / Math.PI;
    for (const pk of m.peaks) v += pk.height * Math.exp(-0.5 * ((e - pk.E_eV) / pk.sigma_eV) ** 2);
    out[i] = v;
  }
  return out;
}

/**
 * Fraction of Li3PS4 formula units (hence of S atoms, and of P atoms) decomposed within the probed depth at
 * time_h: n_dec / (n_dec + n_intact), with n_dec = q_dec / (8F) and the intact glass filling the probe depth
 * below the product layer.
 */
export function decompositionFraction(p: TwinParameters, time_h: number): number {
  const s = chargeState(p, time_h);
  const nDec = (s.decomposition_mAh_cm2 * 3.6) / (8 * FARADAY_C_PER_MOL);
  const intact_um = Math.max(0, p.xas.probeDepth_um - s.interphase_um);
  const nIntact = intact_um * GLASS_MOL_PER_cm2_um;
  return nDec + nIntact > 0 ? nDec / (nDec + nIntact) : 0;
}

export interface XasSpectrum {
  edge: Edge;
  label: string;
  E_eV: Float64Array;
  mu: Float64Array;
  /** True weights of the references (sum to 1) for measured spectra; the single compound for references. */
  fractions: Record<string, number>;
}

export interface XasDataset {
  references: XasSpectrum[];
  measured: XasSpectrum[];
  /** Decomposition fraction after plating (time of the short). */
  decompositionFraction: number;
}

/** References and the before/after spectra at both edges; "after" is the state at the short. */
export function xasDataset(p: TwinParameters): XasDataset {
  const x = decompositionFraction(p, shortTime_h(p));
  const references: XasSpectrum[] = [];
  const measured: XasSpectrum[] = [];
  (["S", "P"] as const).forEach((edge, ei) => {
    const E = energyGrid(edge, p.xas.step_eV);
    const lps = referenceSpectrum(edge, "Li3PS4", E);
    const prodName = PRODUCT_OF_EDGE[edge];
    const prod = referenceSpectrum(edge, prodName, E);
    references.push({ edge, label: `${edge} K-edge Li3PS4`, E_eV: E, mu: lps, fractions: { Li3PS4: 1 } });
    references.push({ edge, label: `${edge} K-edge ${prodName}`, E_eV: E, mu: prod, fractions: { [prodName]: 1 } });
    ([["before", 0], ["after", x]] as const).forEach(([when, f], k) => {
      const mu = new Float64Array(E.length);
      for (let i = 0; i < E.length; i++) mu[i] = (1 - f) * lps[i]! + f * prod[i]! + p.xas.noise * gaussianAt(p.seed, 5000 + 10 * ei + k, i);
      measured.push({ edge, label: `${edge} K-edge ${when} plating`, E_eV: E, mu, fractions: { Li3PS4: 1 - f, [prodName]: f } });
    });
  });
  return { references, measured, decompositionFraction: x };
}
