/**
 * Importers of beamline volumes into OME-Zarr: TIFF slice stacks (folders or multi-page files) and DXchange/NeXus
 * HDF5 datasets, copied slab by slab with bounded memory, progress and resume after an interruption.
 */
export { importTiffStack, importHdf5, importVolume, type ImportOptions, type ImportResult } from "./import.js";
export { TiffStackSource, listTiffSlices, naturalCompare, sliceNumber, type TiffStackOptions } from "./tiff-stack.js";
export { Hdf5Source, DEFAULT_VOXEL_SIZE_PATHS, type Hdf5SourceOptions } from "./hdf5.js";
export { readTiffPages, readTiffPixels, type TiffPage } from "./tiff.js";
export type { VolumeSource } from "./source.js";
export type { ImportJob } from "./job.js";
export { encodeTiffSlice, writeTiffStack, type TiffStackWriteOptions } from "./tiff-write.js";
export { importLabelLayer, readLabelLayer, writeAnnotationLabels, ANNOTATION_JOB_ATTR, type LabelLayer, type ImportLabelsOptions, type ImportLabelsResult } from "./labels.js";
