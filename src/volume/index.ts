/**
 * Chunked volume store: zarr v2/v3 arrays and OME-Zarr 0.4/0.5 images with physical units, bounded-memory region
 * and block access, pyramids, and importers for beamline TIFF stacks and HDF5 files.
 */
export * from "./types.js";
export { ZarrArray, ChunkCache, type BlockOptions, type ReadOptions } from "./array.js";
export { OmeImage, LabelImage, type OmeImageSpec, type OmeVersion, type ExperimentMetadata, type LabelClass, type OpenOptions } from "./ome.js";
export { buildPyramid, downsampleMean, downsampleMode } from "./pyramid.js";
export { copyBox, fillBox } from "./ndcopy.js";
export { VolumeError } from "../util/errors.js";
export * from "./import/index.js";
export { DatasetLockedError, lockDataset, datasetLockPath } from "./dataset-lock.js";
export { checkDatasetFolder, writeErrorOf, type FolderState } from "./output-folder.js";
export { IncompleteLabelsError, StaleLabelsError, imageIdentity, labelStatus, type LabelStatus, type LabelState, type ImageIdentity } from "./completion.js";
