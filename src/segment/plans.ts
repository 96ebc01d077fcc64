/**
 * Every default of the segmenter in one place (like nnU-Net's plans file): architecture, input normalisation,
 * training schedule, augmentation and sliding-window inference. A saved model stores the plan it was built and
 * trained with, so a result can always be traced back to its settings.
 */

import { classRgba } from "../util/class-colours.js";

/** Channel names as they appear in the OME-Zarr image (`OmeImage.channels`). */
export type ChannelName = "phase" | "absorption";

export const ALL_CHANNELS: readonly ChannelName[] = ["phase", "absorption"];

/** Class values in the label image and their names; value = index of the network's output channel. */
/** Colours are the project's (src/util/class-colours.ts), so the U-Net's labels look like the twin's truth in a viewer. */
export const DEFAULT_CLASSES = [
  { value: 0, name: "electrolyte", color: classRgba("electrolyte") },
  { value: 1, name: "void", color: classRgba("void") },
  { value: 2, name: "lithium", color: classRgba("lithium") },
];

export interface UNetConfig {
  /** Input channels in network order; either can be dropped for ablation. */
  channels: ChannelName[];
  /** Output classes in network order. */
  classes: string[];
  /** Resolution levels (depth 3 = two poolings); patch edges must be multiples of 2^(depth-1). */
  depth: number;
  /** Feature maps at the first level; doubled at every level below. */
  baseFilters: number;
  /**
   * Feature normalisation after each convolution. Default "none": instance normalisation (nnU-Net's choice) computes
   * its statistics per patch, so a small patch inside a homogeneous region (the lithium electrode, bulk electrolyte)
   * loses the absolute intensity that tells the classes apart. Measured on twin `ci` volumes (depth 3, base 4,
   * 16^3 patches, lr 1e-2, 150 steps): validation Dice lithium 0.00 with "instance", 0.87 with "none".
   */
  norm: "instance" | "none";
  /** Negative slope of the LeakyReLU after each normalisation (0 = ReLU). */
  leakySlope: number;
  /** Epsilon of instance normalisation (ONNX InstanceNormalization uses the same definition). */
  normEpsilon: number;
  /** Seed of the weight initialisers. */
  seed: number;
}

export const DEFAULT_UNET: UNetConfig = {
  channels: ["phase", "absorption"],
  classes: DEFAULT_CLASSES.map((c) => c.name),
  depth: 3,
  baseFilters: 8,
  norm: "none",
  leakySlope: 0.01,
  normEpsilon: 1e-5,
  seed: 1,
};

/**
 * Input normalisation per channel (nnU-Net's CT scheme): clip to the training data's foreground percentiles, then
 * z-score with the training data's mean and standard deviation. Numbers are in the image's intensity units.
 */
export interface ChannelNormalisation {
  channel: ChannelName;
  clipLow: number;
  clipHigh: number;
  mean: number;
  std: number;
}

export const NORMALISATION_PERCENTILES: readonly [number, number] = [0.5, 99.5];

export interface AugmentConfig {
  /** Probability of flipping along each axis independently. */
  flipProbability: number;
  /** Random multiples of 90 degrees in the y-x plane (the tomographic slice plane). */
  rotate90: boolean;
  /**
   * Per-channel intensity scale drawn from [lo, hi] (nnU-Net: 0.75-1.25; here 0.9-1.1: with +-25 % about the
   * physical zero and Adam at 1e-2 an exploratory training of a base-4 U-Net on twin volumes collapsed), applied
   * about the channel's physical zero
   * (raw 0: vacuum for both phase delta and absorption mu), so ratios such as lithium / electrolyte survive it.
   * nnU-Net scales about the normalised zero, which here is the volume mean, close to the electrolyte: lithium
   * (1.5) and void (0, with halo below) then swap places in phase under +-25 % and phase stops telling them apart
   * (exploratory U-Nets trained so called lithium-deposit voxels void while their phase read as lithium's).
   */
  intensityScale: [number, number];
  /** "raw-zero": scale about raw intensity 0 (default); "normalised-zero": nnU-Net's behaviour. */
  intensityScaleAbout: "raw-zero" | "normalised-zero";
  /**
   * Per-channel shift in units of the normalised intensity (standard deviations). +-0.1 rather than 0.2: in phase one
   * standard deviation of a twin volume is 1.6 (x 1e-6), and the lithium-void gap 1.5.
   */
  intensityShift: [number, number];
  noiseProbability: number;
  /** Standard deviation of added Gaussian noise, normalised units. */
  noiseStd: [number, number];
  blurProbability: number;
  /** Gaussian blur sigma in voxels (nnU-Net: 0.5-1). */
  blurSigma_vox: [number, number];
}

export const DEFAULT_AUGMENT: AugmentConfig = {
  flipProbability: 0.5,
  rotate90: true,
  intensityScale: [0.9, 1.1],
  intensityScaleAbout: "raw-zero",
  intensityShift: [-0.1, 0.1],
  noiseProbability: 0.15,
  noiseStd: [0, 0.1],
  blurProbability: 0.2,
  blurSigma_vox: [0.5, 1],
};

export interface TrainConfig {
  /** Patch edge lengths in voxels, z y x. */
  patchZYX: [number, number, number];
  batchSize: number;
  steps: number;
  /** Adam learning rate at step 0; decays with the poly schedule lr0 * (1 - step/steps)^0.9. */
  learningRate: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  /** Fraction of patches centred on a voxel of a rare class (nnU-Net: 33 % foreground oversampling). */
  oversampleRare: number;
  /** Classes counted as rare for oversampling (default: every class except the first). */
  rareClasses: number[] | null;
  /**
   * Fraction of rare-class centres drawn from the class's curved surfaces (another class within
   * `boundaryRadius_vox` along at least two axes; see `boundaryIndex`) instead of from all its voxels. Not in
   * nnU-Net. Why: most lithium voxels are the electrode slabs; the deposits (thin needles that blur and the Zernike
   * halo make look like voids in phase contrast) are about a fifth of the class but two thirds of its curved
   * surface (twin default seed 101, 3.2 h). Drawn by volume they were rarely sampled (exploratory U-Nets called
   * deposit voxels of a held-out volume void).
   */
  oversampleBoundary: number;
  boundaryRadius_vox: number;
  /** Weight of soft Dice relative to cross-entropy (nnU-Net: 1:1). */
  diceWeight: number;
  /** Smoothing of soft Dice (nnU-Net: 1e-5). */
  diceSmooth: number;
  /** Validation every N steps on a fixed set of patches. */
  validateEvery: number;
  validationPatches: number;
  /** Checkpoint every N steps (0 = only at the end). */
  checkpointEvery: number;
  seed: number;
  augment: AugmentConfig;
}

export const DEFAULT_TRAIN: TrainConfig = {
  patchZYX: [32, 32, 32],
  batchSize: 2,
  steps: 2000,
  learningRate: 3e-3,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-7,
  oversampleRare: 0.33,
  rareClasses: null,
  oversampleBoundary: 0.5,
  boundaryRadius_vox: 2,
  diceWeight: 1,
  diceSmooth: 1e-5,
  validateEvery: 100,
  validationPatches: 12,
  checkpointEvery: 100,
  seed: 1,
  augment: DEFAULT_AUGMENT,
};

export interface InferConfig {
  /** Window edge lengths in voxels, z y x. */
  patchZYX: [number, number, number];
  /** Window overlap as a fraction of the patch (nnU-Net: 0.5). */
  overlap: number;
  /** Gaussian importance sigma as a fraction of the patch edge (nnU-Net: 1/8). */
  gaussianSigmaFraction: number;
  /** Memory budget for cached window predictions, MiB; windows shared by neighbouring chunks are reused from it. */
  cacheMiB: number;
  /** Memory budget for decoded input chunks, MiB; overlapping windows take their input from it. */
  inputCacheMiB: number;
  /** Relative tolerance when comparing the volume's voxel size with the model's training voxel size. */
  voxelSizeTolerance: number;
}

export const DEFAULT_INFER: InferConfig = {
  patchZYX: [64, 64, 64],
  overlap: 0.5,
  gaussianSigmaFraction: 1 / 8,
  cacheMiB: 256,
  inputCacheMiB: 256,
  voxelSizeTolerance: 0.02,
};

/**
 * Label value meaning "not annotated" in a sparse label image (issue 16). 255: the largest uint8 value, so it can
 * never collide with a class value (models have a handful of classes), and the value napari / ilastik users know
 * as an "ignore" label from nnU-Net's sparse-annotation mode (which uses the highest label value the same way).
 * The loss, the metrics, normalisation statistics and patch sampling skip voxels holding it.
 */
export const IGNORE_LABEL = 255;

/** `labels sparsify` (keep every K-th z-slice of a dense label image, mark the rest IGNORE_LABEL). */
export interface SparsifyConfig {
  /** Keep every K-th z-slice. */
  every: number;
  /** First kept slice (0 <= offset < every). */
  offset: number;
}

/**
 * Every 8th slice: the bar (annotating 1 slice in 8 is about what a user does in an afternoon in napari for
 * a 136-slice scan: 17 slices), offset 0.
 */
export const DEFAULT_SPARSIFY: SparsifyConfig = { every: 8, offset: 0 };

/**
 * Fine-tuning a saved model on a user's (sparse) labels: starts from its weights with fresh Adam moments, inherits the
 * parent's training recipe (patch, batch, oversampling, augmentation; `TrainConfig` of its record) except what is
 * set here, and keeps the parent's normalisation unless `renormalise` is set.
 */
export interface FineTuneConfig {
  /**
   * Steps. 600 at the shipped models' 16^3 patches and batch 2. Measured with `npm run bench -- adapt` (shipped
   * model, harder scan 2.5x, every 8th slice of one column, mean over three unseen columns): void Dice 0.814 before;
   * 300 steps at 1e-3 0.857; 600 at 3e-3 0.878 (4.3 min on 2 loaded cores); 1200 at 3e-3 0.880 (6.1 min). Twice the
   * steps buy 0.002, so 600.
   */
  steps: number;
  /**
   * Adam learning rate at step 0 (poly decay as in training). 3e-3, the shipped models' own: with 1e-3 the 300-step
   * run above reached 0.857, and starting from a good solution did not need a smaller step to stay stable here.
   */
  learningRate: number;
  /**
   * Re-estimate the input normalisation from the new scan (labels: annotated voxels only) instead of keeping the
   * parent's. Default false: the parent's weights expect its normalisation; a new scan with other units or an offset
   * needs it (the record then says so).
   */
  renormalise: boolean;
  /**
   * Validation every N steps (patch Dice on `validation` volumes, when given). 0 would be every step; the default
   * fine-tune passes none, so this only matters when the caller supplies validation volumes.
   */
  validateEvery: number;
  seed: number;
}

export const DEFAULT_FINE_TUNE: FineTuneConfig = { steps: 600, learningRate: 3e-3, renormalise: false, validateEvery: 100, seed: 1 };

/**
 * What happens when a scan's voxel size differs from the model's training voxel size by more than
 * `InferConfig.voxelSizeTolerance`: "resample" (default) resamples the scan to the model's grid (trilinear for the
 * intensities), segments there, and interpolates the class probabilities back to the scan's grid (trilinear; the
 * labels are their argmax, so label and probability outputs agree); "refuse" keeps the old behaviour (an error naming
 * both voxel sizes); "as-is" runs the model on the scan's own grid (recorded as such). Label images are resampled
 * with nearest neighbour (`resampleNearest`).
 * Measured with the shipped 2 um model on twin `default` columns of seed 207 at 3.2 h rendered at other voxel sizes
 * (Dice electrolyte / void / lithium against the truth at the scan's voxel size): 1 um: resample 0.991 / 0.767 /
 * 0.984, as-is 0.994 / 0.934 / 0.989 (the model at 2 um on the same microstructure: 0.995 / 0.870 / 0.991);
 * 1.5 um: resample 0.995 / 0.826 / 0.982, as-is 0.998 / 0.949 / 0.991; 3 um: resample 0.999 / 0.898 / 0.995,
 * as-is 0.996 / 0.909 / 0.983. So on the twin, whose blur is set in um, a finer scan is better segmented as it is
 * (labels made on the coarser model grid lose the voids' detail); "resample" stays the default because it is what
 * the model was trained for (the twin cannot show how a real scan's texture changes with voxel size), and "as-is"
 * is one option away.
 */
export type VoxelSizePolicy = "resample" | "refuse" | "as-is";
export const DEFAULT_VOXEL_SIZE_POLICY: VoxelSizePolicy = "resample";

/**
 * Test-time augmentation by mirroring (nnU-Net's default at inference): each window is also predicted mirrored along
 * these axes (every combination: 8 predictions for z, y, x) and the un-mirrored probabilities are averaged. Off by
 * default here: it costs about 7x the inference time (three 96 x 96 columns: 11 s -> 77 s on 2 loaded cores).
 * Measured by `npm run bench -- adapt --tta` (mean of three unseen harder-scan columns, Dice void / lithium): shipped
 * model 0.814 / 0.967 -> 0.819 / 0.967 with TTA; fine-tuned (1200 steps) 0.880 / 0.978 -> 0.907 / 0.979. Worth it
 * for a final segmentation of a noisy scan, not for every look.
 */
export type MirrorAxes = readonly ("z" | "y" | "x")[];
export const TTA_MIRROR_AXES: MirrorAxes = ["z", "y", "x"];

/** `suggest`: where new annotations would help most, from the per-voxel entropy of the class probabilities. */
export interface SuggestConfig {
  /** How many slices / boxes to list. */
  top: number;
  /**
   * Box edge (voxels, z y x) for box suggestions: 32, a napari user's comfortable 3D brush region and two of the
   * shipped models' training patches per axis.
   */
  boxZYX: [number, number, number];
  /**
   * Entropy (nats) above which a voxel counts as uncertain. 0.5: with 3 classes the maximum is ln 3 = 1.10, and a
   * voxel whose two leading classes share 0.8 / 0.2 has 0.50; the ranking uses the mean entropy, this threshold the
   * reported uncertain-voxel count.
   */
  uncertainEntropy: number;
  /** Leave out slices / boxes within this many slices of an already annotated one (an annotated slice is known). */
  minSeparation: number;
}

export const DEFAULT_SUGGEST: SuggestConfig = { top: 10, boxZYX: [32, 32, 32], uncertainEntropy: 0.5, minSeparation: 2 };

/**
 * Importing a label layer drawn elsewhere (napari, ilastik) into an OME-Zarr label image. Both tools use 0 for
 * "not painted" and 1, 2, 3 ... for the user's label colours in the order they were created, so the default maps
 * file value 0 to IGNORE_LABEL and file value v >= 1 to class v - 1 (label 1 = electrolyte, 2 = void, 3 = lithium);
 * `mapping` overrides it. The voxel size of a file that records one must agree within this relative tolerance.
 */
export interface LabelImportConfig {
  unannotatedValue: number;
  /** file value -> class value (or IGNORE_LABEL); null: v -> v - 1 for every v >= 1. */
  mapping: Record<number, number> | null;
  voxelSizeTolerance: number;
}

export const DEFAULT_LABEL_IMPORT: LabelImportConfig = { unannotatedValue: 0, mapping: null, voxelSizeTolerance: 0.02 };
