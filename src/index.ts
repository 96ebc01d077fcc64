/**
 * ssb-ct: operando X-ray CT of lithium deposition in sulfide solid electrolytes.
 * Each capability is a namespace; notebooks load the CommonJS bundle of this file (npm run build).
 */
export * as volume from "./volume/index.js";
export * as util from "./util/index.js";
export * as numerics from "./numerics/index.js";
export * as figures from "./figures/index.js";
export * as twin from "./twin/index.js";
export * as datasets from "./datasets/index.js";
export * as electrochem from "./electrochem/index.js";
export * as xas from "./xas/index.js";
export * as analysis from "./analysis/index.js";
export * as segment from "./segment/index.js";
export * as pipeline from "./pipeline/index.js";
export * as notebook from "./notebook/index.js";
