/**
 * The physical constants of the project, in one table with sources and units. The twin, the analysis and the
 * electrochemistry read them from here, so the Faraday's-law comparison of CT against charge uses exactly the
 * numbers the twin generated its deposits with.
 */

/** Faraday constant, C/mol (CODATA 2018: e N_A, exact since the 2019 SI). */
export const FARADAY_C_PER_MOL = 96485.33212;
/** Molar gas constant, J/(mol K) (CODATA 2018: k_B N_A, exact). */
export const GAS_CONSTANT_J_PER_MOL_K = 8.314462618;
/** The temperature the twin's kinetics and the analysis assume, K (25 C). */
export const ROOM_TEMPERATURE_K = 298.15;

/**
 * Molar masses, g/mol. Li: IUPAC 1997 standard atomic weight 6.941(2). Why not the 2009+ conventional value 6.94:
 * both lie inside today's interval [6.938, 6.997] (lithium's isotope ratio varies with its source), and 6.941 is the
 * value the twin's shipped datasets and models were generated with; changing it moves every twin volume by
 * float rounding. P: 30.974 (30.973761998, IUPAC 2021, rounded); S: 32.06 (IUPAC conventional value).
 */
export const MOLAR_MASS_G_PER_MOL = { Li: 6.941, P: 30.974, S: 32.06 } as const;

/**
 * Densities at room temperature, g/cm3 (shared/reference/xray-optical-constants.txt, which computes the twin's
 * optical constants from the same numbers): Li metal 0.534; Li3PS4 glass 1.88 (an estimate between the
 * gamma-crystal's 1.93 and beta's 1.85); Li2S 1.66; Li3P 1.43.
 */
export const DENSITY_G_PER_CM3 = { Li: 0.534, Li3PS4: 1.88, Li2S: 1.66, Li3P: 1.43 } as const;

const M = MOLAR_MASS_G_PER_MOL;
const RHO = DENSITY_G_PER_CM3;

/** Molar volumes M / rho, cm3/mol: of dense Li (plating) and of the glass and its decomposition products (expansion). */
export const MOLAR_VOLUME_CM3_PER_MOL = {
  Li: M.Li / RHO.Li,
  Li3PS4: (3 * M.Li + M.P + 4 * M.S) / RHO.Li3PS4,
  Li2S: (2 * M.Li + M.S) / RHO.Li2S,
  Li3P: (3 * M.Li + M.P) / RHO.Li3P,
} as const;

/** Moles of electrons per mAh: 3.6 C / F. */
export const MOL_E_PER_MAH = 3.6 / FARADAY_C_PER_MOL;

/** Thickness of dense Li plated per mAh/cm2, um (4.85 um): mol e- per mAh x V_m(Li) cm3/mol over 1 cm2, in um. */
export const LI_UM_PER_MAH_CM2 = MOL_E_PER_MAH * MOLAR_VOLUME_CM3_PER_MOL.Li * 1e4;

/** RT/F at ROOM_TEMPERATURE_K, V. */
export const RT_F_V = (GAS_CONSTANT_J_PER_MOL_K * ROOM_TEMPERATURE_K) / FARADAY_C_PER_MOL;

/** um2 per cm2. */
export const UM2_PER_CM2 = 1e8;
