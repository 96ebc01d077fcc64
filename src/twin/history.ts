/**
 * The cell's history: where the charge passed at 0.8 mA/cm2 goes, as closed-form functions of time.
 *
 * Model (every number a parameter, see params.ts):
 * - Charge passed q(t) = j t (mAh/cm2). Charge is split, at every instant, between reductive decomposition
 *   (Li3PS4 + 8 Li+ + 8 e- -> 4 Li2S + Li3P at the Li/Li3PS4 interface) and Li metal:
 *   q_dec(t) = j f0 tau (1 - exp(-t/tau))  (the decomposition share f0 exp(-t/tau) decays as the interphase
 *   passivates), q_Li = q - q_dec. So q = q_Li + q_dec holds exactly.
 * - Before nucleation all Li plates at the interface (thickening the electrode, Fig. 2b shows no change there).
 *   From t_nuc, a share s of the new Li goes to nuclei at voids of the void-rich band (electronic conduction at
 *   the void/electrolyte interface), the rest still to the interface.
 * - Decomposition consumes glass of thickness q_dec V_m(Li3PS4)/(8F) below the interface and forms products of
 *   1.53x that volume; the twin puts the product layer where the glass was and lets the 0.53x excess push the
 *   electrode up (under stack pressure the Li creeps). The counter electrode is stripped uniformly and creeps
 *   back, so its surface stays put in the frame. These are assumptions of the twin, not measurements.
 * - The cell shorts when the first deposit connects the electrodes, at t_short = t_ref (j_ref/j)^n (Sand-like).
 */
import { checkRange } from "../util/errors.js";
import { LI_UM_PER_MAH_CM2, MOL_E_PER_MAH, MOLAR_VOLUME_CM3_PER_MOL as MOLAR_VOLUME } from "../numerics/constants.js";
import { shortTime_h, type TwinParameters } from "./params.js";

/** Thickness of Li3PS4 glass consumed per mAh/cm2 of decomposition charge, um (8 e- per formula unit). */
export const GLASS_UM_PER_mAh_cm2 = (MOL_E_PER_MAH / 8) * MOLAR_VOLUME.Li3PS4 * 1e4;
/** Thickness of products (4 Li2S + Li3P) formed per mAh/cm2 of decomposition charge, um. */
export const PRODUCT_UM_PER_mAh_cm2 = (MOL_E_PER_MAH / 8) * (4 * MOLAR_VOLUME.Li2S + MOLAR_VOLUME.Li3P) * 1e4;
/** mol of Li3PS4 per cm2 per um of glass. */
export const GLASS_MOL_PER_cm2_um = 1e-4 / MOLAR_VOLUME.Li3PS4;

export interface ChargeState {
  time_h: number;
  /** Charge passed, mAh/cm2. */
  passed_mAh_cm2: number;
  /** Charge consumed by reductive decomposition, mAh/cm2. */
  decomposition_mAh_cm2: number;
  /** Charge in Li metal (interface + deposits), mAh/cm2. */
  lithium_mAh_cm2: number;
  /** Charge in Li plated at the interface, mAh/cm2. */
  interfaceLi_mAh_cm2: number;
  /** Charge in Li deposited at the void nuclei inside Li3PS4, mAh/cm2. */
  depositLi_mAh_cm2: number;
  /** Thickness of Li plated at the interface, um. */
  interfaceLi_um: number;
  /** Thickness of glass consumed, um, and of the product layer, um. */
  glassConsumed_um: number;
  interphase_um: number;
  /** Faraday's-law thickness of all charge as dense Li, um (4.85 um per mAh/cm2). */
  faradayLi_um: number;
}

/** Charge bookkeeping at time_h (0 to the short). */
export function chargeState(p: TwinParameters, time_h: number, current_mA_cm2 = p.history.current_mA_cm2): ChargeState {
  const h = p.history;
  const ts = shortTime_h({ ...p, history: { ...h, current_mA_cm2 } });
  checkRange("time_h", time_h, 0, ts + 1e-9, "h (0 to the short)");
  const j = current_mA_cm2;
  const qdec = (t: number) => j * h.decompositionInitialShare * h.decompositionTau_h * (1 - Math.exp(-t / h.decompositionTau_h));
  const passed = j * time_h;
  const dec = qdec(time_h);
  const li = passed - dec;
  const tn = Math.min(h.nucleation_h, ts);
  const liAtNuc = j * tn - qdec(tn);
  const dep = time_h > tn ? h.depositShare * (li - liAtNuc) : 0;
  const iface = li - dep;
  return {
    time_h,
    passed_mAh_cm2: passed,
    decomposition_mAh_cm2: dec,
    lithium_mAh_cm2: li,
    interfaceLi_mAh_cm2: iface,
    depositLi_mAh_cm2: dep,
    interfaceLi_um: iface * LI_UM_PER_MAH_CM2,
    glassConsumed_um: dec * GLASS_UM_PER_mAh_cm2,
    interphase_um: dec * PRODUCT_UM_PER_mAh_cm2,
    faradayLi_um: passed * LI_UM_PER_MAH_CM2,
  };
}
