/**
 * Every default of the segmenter in one place (like nnU-Net's plans file): architecture, input normalisation,
 * training schedule, augmentation and sliding-window inference. A saved model stores the plan it was built and
 * trained with, so a result can always be traced back to its settings.
 */

/** Channel names as they appear in the OME-Zarr image (`OmeImage.channels`). */
export type ChannelName = "phase" | "absorption";

export const ALL_CHANNELS: readonly ChannelName[] = ["phase", "absorption"];

/** Class values in the label image and their names; value = index of the network's output channel. */
export const DEFAULT_CLASSES = [
  { value: 0, name: "electrolyte", color: [160, 160, 160, 255] as [number, number, number, number] },
  { value: 1, name: "void", color: [30, 30, 200, 255] as [number, number, number, number] },
  { value: 2, name: "lithium", color: [230, 180, 30, 255] as [number, number, number, number] },
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
