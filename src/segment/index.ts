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
export { channelStatistics, normaliseInto, percentile } from "./normalise.js";
export { boundaryIndex, classIndex, samplePatchStart, extractPatch, augmentPatch, type Patch, type TrainingVolume, type BoundarySampling } from "./patches.js";
export { trainSegmentModel, diceCeLoss, learningRateAt, validationDice, type TrainOptions, type TrainResult, type TrainState } from "./train.js";
export { normalisationFor, toTrainingVolume, readRawVolume, type RawVolume } from "./data.js";
export { confusionMatrix, classMetrics, type ClassMetrics } from "./metrics.js";
export { syntheticVolume, SYNTHETIC_CONTRAST, type SyntheticVolume, type SyntheticOptions } from "./synthetic.js";
export { Rng } from "./rng.js";
export { multiOtsu3, otsuBaseline, classMeans, evaluateLabels, formatReport, type MethodResult } from "./report.js";
export { compareSegmenters, comparisonFindings, formatComparison, formatStat, methodSummary, renderColumn, seedStat, seedsSeenBy, thresholdSeparability, UNSEEN_SEEDS, COMPARE_NYX, COMPARE_TIME_H, BASELINE_TRAINING_SEED, type CompareOptions, type CompareModel, type ComparisonResult, type VariantComparison, type MethodComparison, type MethodSummary, type SeedScore, type SeedStat, type LiVoidCells, type DepositLabels, type IntensitySeparability } from "./compare.js";
export { twinColumnVolumes, TUTORIAL_COLUMN_NYX, type TwinColumnOptions } from "./tutorial-data.js";
export { engineAgreement, windowOnClass, type EngineAgreement } from "./engine-check.js";
export { trainingCurveFigure, type TrainingCurveFigure, type TrainingCurveOptions } from "./training-figure.js";
export { evaluateModel } from "./evaluate-model.js";
