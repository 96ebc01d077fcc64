/**
 * Faraday's law for lithium plating: the charge passed fixes the moles of Li, the molar volume of dense Li turns
 * them into a volume. 1 mAh/cm2 plates 4.85 um of dense Li.
 */
import { checkRange } from "../util/errors.js";

/** Faraday constant, C/mol (CODATA 2018, exact). */
export const FARADAY_C_PER_MOL = 96485.33212;
/** Molar mass of Li, g/mol (IUPAC standard atomic weight, conventional value). */
export const LI_MOLAR_MASS_G_PER_MOL = 6.94;
/** Density of Li metal at room temperature, g/cm3. */
export const LI_DENSITY_G_PER_CM3 = 0.534;

/** Thickness of dense Li plated per mAh/cm2, um: 3.6 C / F * (M / rho) cm3, over 1 cm2, in um. */
export const LI_UM_PER_MAH_CM2 = (3.6 / FARADAY_C_PER_MOL) * (LI_MOLAR_MASS_G_PER_MOL / LI_DENSITY_G_PER_CM3) * 1e4;

/** Areal capacity passed at constant current, mAh/cm2. */
export function arealCapacity_mAh_cm2(current_mA_cm2: number, time_h: number): number {
  checkRange("current_mA_cm2", current_mA_cm2, 0, 1e4, "mA/cm2");
  checkRange("time_h", time_h, 0, 1e6, "h");
  return current_mA_cm2 * time_h;
}

/** Thickness of dense Li plated at constant current, um. */
export function faradayThickness_um(current_mA_cm2: number, time_h: number): number {
  return arealCapacity_mAh_cm2(current_mA_cm2, time_h) * LI_UM_PER_MAH_CM2;
}

/** Volume of dense Li plated over `area_um2` (e.g. the imaged field of view, or the electrode area * 1e8), um3. */
export function faradayVolume_um3(current_mA_cm2: number, time_h: number, area_um2: number): number {
  checkRange("area_um2", area_um2, 0, Infinity, "um2");
  return faradayThickness_um(current_mA_cm2, time_h) * area_um2;
}

/** um2 per cm2. */
export const UM2_PER_CM2 = 1e8;
