/** Electrochemistry: equivalent circuits, impedance fitting, Lin-KK, conductivities, cycler files, galvanostatic analysis. */
export * from "./circuit.js";
export * from "./spectrum.js";
export * from "./fit.js";
export * from "./linkk.js";
export * from "./conductivity.js";
export * from "./readers.js";
export * from "./galvanostatic.js";
