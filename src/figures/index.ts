/** Figures: slice images now; plotly figures that render offline as the figure notebooks arrive. */
export { encodePng } from "./png.js";
export { extractSlice, labelSlicePng, percentileWindow, slicePng, type Window } from "./slice-image.js";
