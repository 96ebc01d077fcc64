/**
 * The "harder scan" of issue 16: twin `default` physics imaged with more noise and blur than the shipped models'
 * training data, as a beamline user's own scan would be (another detector, another magnification, another
 * reconstruction). Named here so the benchmark, the tests and the notebooks agree on it.
 */
import { presetParameters, type TwinOverrides } from "../twin/index.js";

/**
 * How much noisier and blurrier: 2.5x the `default` preset's noise (both channels) and instrument blur. Why 2.5 and
 * not the "about 2x": measured with the shipped model on 96 x 96 columns at 3.2 h (seeds 301-306), 2x
 * leaves void Dice at 0.90-0.93 and lithium 0.972-0.974, so the bar (0.92 / 0.97) is nearly met before any
 * fine-tuning and tests nothing; 2.5x gives void 0.81-0.83 and lithium 0.967-0.968, the drop the issue reports
 * (0.81 / 0.95); 3x gives void 0.66-0.72. The Zernike halo and the voxel size stay the training data's.
 * Fine-tuned on every 8th slice of seed 301 (`npm run bench -- adapt`, 600 steps; mean of seeds 302-304, void /
 * lithium): 2.5x 0.814 / 0.967 -> 0.878 / 0.978 (0.907 / 0.979 with 1200 steps and mirroring TTA); 2x (`--factor 2`)
 * 0.908 / 0.973 -> 0.927 / 0.982 on the portable kernels, 0.912 / 0.980 in a rerun on the native ones (float
 * rounding moves a 600-step fine-tuning by about 0.02): the bar (0.92 / 0.97) is at the edge at 2x and not
 * met at 2.5x (bench/README.md, `adapt`).
 */
export const HARDER_SCAN_FACTOR = 2.5;

/** Twin overrides for the harder scan: `factor` times the `default` preset's blur and noise of both channels. */
export function harderScanOverrides(factor = HARDER_SCAN_FACTOR): TwinOverrides {
  const ct = presetParameters("default").ct;
  return {
    ct: {
      blurSigma_um: ct.blurSigma_um * factor,
      absorptionNoise_per_cm: ct.absorptionNoise_per_cm * factor,
      phaseNoise_delta1e6: ct.phaseNoise_delta1e6 * factor,
    },
  };
}

/**
 * Seeds of the adapt benchmark: fine-tune on one, score on another, both unseen by the shipped models (trained on
 * 101, 103-106, selected on 102, tested on 999, 4242 and 201-205; data/models/README.md).
 */
export const ADAPT_TRAIN_SEED = 301;
/** Scored on three seeds (mean and each): one column's void Dice varies by +-0.02 between seeds at the same settings. */
export const ADAPT_TEST_SEEDS: readonly number[] = [302, 303, 304];
