/**
 * 3D U-Net segmentation of electrolyte, voids and lithium from phase + absorption CT (issue 4).
 * Build / train in TF.js, save as model.json + weights.bin, export to ONNX, and segment whole OME-Zarr volumes
 * chunk by chunk with either engine.
 */
export * from "./plans.js";
export { initTf } from "./tf.js";
export { setFastKernels, fastKernelCalls } from "./fast-kernels.js";
export { buildUNet, flopsPerVoxel, sizeMultiple, graphSteps, namedWeights, InstanceNorm3D, type NamedWeights, type GraphStep } from "./unet.js";
export { createSegmentModel, saveSegmentModel, loadSegmentModel, modelFingerprint, exportModelOnnx, onnxMetadata, writeModelOnnx, PORTABLE_ONNX_OPTIONS, type ModelRecord, type SegmentModel } from "./model-io.js";
export { exportOnnx, channelsFirstWeights, permuteAxes, type OnnxExportOptions } from "./onnx-export.js";
export { createEngine, createOnnxEngine, createTfjsEngine, type SegmentEngine, type EngineName, type OnnxEngineOptions } from "./engines.js";
export { windowStarts, windowGrid, gaussianImportance, accumulateWindow, finishAccumulator } from "./sliding-window.js";
export { predictVolume, volumeConfusion, scoreOnVolumes, type PredictVolumeOptions } from "./predict-volume.js";
export { segmentImage, checkCompatible, type SegmentOptions, type SegmentStats } from "./infer.js";
export { channelStatistics, normaliseInto } from "./normalise.js";
export { boundaryIndex, classIndex, samplePatchStart, extractPatch, augmentPatch, type Patch, type TrainingVolume, type BoundarySampling } from "./patches.js";
export { trainSegmentModel, diceCeLoss, learningRateAt, validationDice, type TrainOptions, type TrainResult, type TrainState } from "./train.js";
export { normalisationFor, toTrainingVolume, readRawVolume, type RawVolume } from "./data.js";
export { confusionMatrix, classMetrics, type ClassMetrics } from "./metrics.js";
export { multiOtsu3, otsuBaseline, classMeans, evaluateLabels, formatReport, type MethodResult } from "./report.js";
export { compareSegmenters, comparisonFindings, formatComparison, formatStat, methodSummary, renderColumn, seedStat, seedsSeenBy, thresholdSeparability, UNSEEN_SEEDS, COMPARE_NYX, COMPARE_TIME_H, BASELINE_TRAINING_SEED, type CompareOptions, type CompareModel, type ComparisonResult, type VariantComparison, type MethodComparison, type MethodSummary, type SeedScore, type SeedStat, type LiVoidCells, type DepositLabels, type IntensitySeparability } from "./compare.js";
export { twinColumnVolumes, TUTORIAL_COLUMN_NYX, type TwinColumnOptions } from "./tutorial-data.js";
export { engineAgreement, windowOnClass, type EngineAgreement } from "./engine-check.js";
export { trainingCurveFigure, type TrainingCurveFigure, type TrainingCurveOptions } from "./training-figure.js";
export { evaluateModel } from "./evaluate-model.js";
export { sparsifyLabels, sparsifyLabelImage, keptSlices, LABELS_JOB_ATTR, type SparsifyImageOptions, type SparsifyImageResult } from "./sparse-labels.js";
export { fineTuneModel, type FineTuneOptions, type FineTuneResult } from "./fine-tune.js";
export { mirrorEngine, mirrorChannels, mirrorCombinations } from "./tta.js";
export { harderScanOverrides, HARDER_SCAN_FACTOR, ADAPT_TRAIN_SEED, ADAPT_TEST_SEEDS } from "./adapt-data.js";
export { annotatedCount } from "./metrics.js";
export { trainingClassMeans, recordedClassMeans, recordedBaselines } from "./report.js";
export { predictVolumeProbabilities } from "./predict-volume.js";
export { annotatedIndex } from "./patches.js";
export type { ParentModel } from "./model-io.js";
export { resampleLinear, resampleNearest, resampledShape, voxelSizesDiffer, type ResampleOptions, type ResampleRecord } from "./resample.js";
export { suggestAnnotations, rankSlices, rankBoxes, entropyOf, annotatedSlices, type SuggestOptions, type SuggestResult, type SliceSuggestion, type BoxSuggestion } from "./suggest.js";
export { importLabelLayer, readLabelLayer, type ImportLabelsOptions, type ImportLabelsResult, type LabelLayer } from "../volume/import/labels.js";
