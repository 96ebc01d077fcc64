/**
 * Figures of Park et al., Chem. Commun. 2023, 59, 7799, one function per figure id, each taking result tables and
 * fitted values (never volumes to recompute) and returning a plotly figure with units on every axis; their export
 * as HTML / JSON / PNG / SVG; and slice images for quick looks.
 */
export { encodePng } from "./png.js";
export { extractSlice, labelSlicePng, percentileWindow, slicePng, type Window } from "./slice-image.js";
export * from "./figure.js";
export { numbers, fmt, atTime } from "./columns.js";
export { fig1b, fig2d, figS5, fig4, voidPeak, voidBand, firstNuclei, type VolumeTables, type MechanismInputs } from "./fig-volume.js";
export { volumeReportRows } from "./report-volume.js";
export { figureHtml, writeFigure, renderFigureImages, findChromium, type ImageExport } from "./export.js";
export { plotlyScriptFile, plotlyScriptRelative, copyPlotlyScript, PLOTLY_SCRIPT_NAME } from "./plotly-asset.js";
export { fig2a, fig3a, fig3b, fig3c, figS1c, figS2a, figS2b, figS6, figS7b, cellFigures, sciHtml, viridis, circuitDiagram } from "./fig-cell.js";
export { cellReportRows, spearman } from "./report-cell.js";
export { fig2c, fig2cInputs, fig2cScores, regionAround, regionIntensities, channelUnit, scaleBarLength_um, type RegionIntensities, type ClassIntensity, type Fig2cInputs, type Fig2cRegion, type Fig2cChannel, type Fig2cInputOptions } from "./fig2c.js";
export { labelSurface, marchingCubes, maskFraction, meshVolume_um3, meshArea_um2, edgeReport, meshBounds, translateMesh, emptyMesh, type LabelVolume, type ScalarGrid, type SurfaceMesh, type LabelSurface, type LabelMask, type SurfaceOptions, type EdgeReport } from "./mesh.js";
export { encodePly, encodeGlb, encodeGltf, gltfDocument, writeMesh, type MeshPart, type PlyOptions, type GltfJson } from "./mesh-export.js";
export { fig1a, fig1aInputs, fig2b, fig2bInputs, readLabelVolume, type DepthBox, type Fig1aInput, type Fig1aInset, type Fig1aOptions, type Fig2bInput, type Fig2bFrame, type Fig2bOptions } from "./fig-3d.js";
export { fig2cReportRows, ALIKE_SEPARABILITY } from "./report-fig2c.js";
