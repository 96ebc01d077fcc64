/**
 * Digital twin of the operando Li/Li3PS4/Li experiment (Park et al., Chem. Commun. 2023): one consistent cell
 * state gives CT volumes (absorption, Zernike phase), ground-truth labels, voltage curves, impedance spectra,
 * conductivity measurements and XAS, plus a manifest of every true value.
 */
export * from "./params.js";
export * from "./optics.js";
export * from "./history.js";
export * from "./microstructure.js";
export * from "./imaging.js";
export * from "./cell.js";
export * from "./xas.js";
export * from "./generate.js";
export { valueNoise3, columnOffset } from "./random.js";
export * from "./load.js";
