/**
 * Quantification of voids and deposited lithium in segmented operando CT volumes, out of core: exact streaming 3D
 * connected components (6/18/26, merged across block faces, edges and corners), interface detection, void
 * fraction vs depth, porosity, lithium volume vs Faraday's law, nucleation, and result tables (CSV, DataFrame).
 */
export {
  ComponentLabeller,
  labelBlocks,
  labelArray,
  arrayBlocks,
  type ComponentOptions,
  type ComponentResult,
  type LabelBlock,
  type Connectivity,
  type DepthSpec,
  type Membership,
} from "./components.js";
export { StatsColumns, propertyFlags, type ComponentProperty, type PropertyFlags } from "./stats.js";
export {
  createInterfaceAccumulator,
  accumulateInterface,
  finishInterface,
  depthSpec,
  interfaceSummary,
  checkVoxelSize,
  type InterfaceMap,
  type InterfaceOptions,
  type PlatingSide,
} from "./interface.js";
export { createCensus, accumulateCensus, classIndex, layerVoxels, type Census, type ClassSpec } from "./census.js";
export { voidProfile, layerComposition, componentTable, sizeDistribution, SURFACE_ISOTROPIC_FACTOR, type LayerComposition } from "./measures.js";
export { arealCapacity_mAh_cm2, faradayThickness_um, faradayVolume_um3 } from "./faraday.js";
export { analyseOperando, operandoTables, type LabelSource, type ExperimentInfo, type OperandoOptions, type OperandoResult } from "./operando.js";
export { labelImageComponents, zarrArrayComponents, checkLabelsReadable, type LabelImageComponentOptions, type LabelBlocksSource, type ZarrBlocksSource } from "./adapters.js";
export { toCsv, writeCsv, writeTables, toDataFrame, tableRows, selectColumns, TableBuilder, type ResultTable, type Cell, type Row, type Columns } from "./table.js";
export { quantify, quantifyAll, quantifyShard, quantifyMerge, quantifyShardFile, type QuantifyOptions, type QuantifyResult, type QuantifyShardResult } from "./shard-quantify.js";
