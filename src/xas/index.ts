/** XAS: Larch-style normalisation (every parameter returned), flattening, E0, and linear-combination fitting. */
export * from "./normalize.js";
export * from "./lcf.js";
