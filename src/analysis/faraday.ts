/**
 * Faraday's law for lithium plating: the charge passed fixes the moles of Li, the molar volume of dense Li turns
 * them into a volume. 1 mAh/cm2 plates 4.85 um of dense Li.
 */
import { LI_UM_PER_MAH_CM2 } from "../numerics/constants.js";
import { checkRange } from "../util/errors.js";

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
