/**
 * Every parameter of the digital twin in one place (like nnU-Net's plans): geometry, history, instrument,
 * electrochemistry and XAS, with units in the names, three presets and one validator.
 *
 * The `default` numbers are the calibration to Park et al., Chem. Commun. 2023, 59, 7799 (and its ESI figures
 * cited in issue 3); each is a knob, not a fact the code depends on.
 */
import { ParameterError, checkRange } from "../util/errors.js";
import { tabulatedEnergyRange_keV } from "./optics.js";

export interface GeometryParameters {
  /** Voxel edge (isotropic), micrometres. */
  voxel_um: number;
  /** Lateral field of view along y and x, voxels. */
  nyx: [number, number];
  /** Thickness of the top (plating) Li electrode inside the field of view, um. */
  topLi_um: number;
  /** Thickness of the Li3PS4 layer, um. */
  electrolyte_um: number;
  /** Thickness of the bottom (counter) Li electrode inside the field of view, um. */
  bottomLi_um: number;
}

export interface VoidParameters {
  /** Depth bin width of the void profile (paper Fig. 1b), um. */
  binWidth_um: number;
  /** Centre of the void-rich band, um below the Li/Li3PS4 interface. */
  peakDepth_um: number;
  /** Gaussian width (sigma) of the void-rich band, um. */
  peakWidth_um: number;
  /** Void volume fraction of the electrolyte in the bin that holds peakDepth_um (0.005 = 0.5 %). */
  peakFraction: number;
  /** Void volume fraction far from the band. */
  baseFraction: number;
  /** No void centre shallower than this, um (keeps voids out of the interphase). */
  minDepth_um: number;
  /** Radius range of the spheres a void is built from, um. Voids are clusters of 2-4 spheres. */
  sphereRadius_um: [number, number];
}

export interface HistoryParameters {
  /** Plating current density, mA/cm2 (positive: Li plated on the top electrode). */
  current_mA_cm2: number;
  /** Time of the short circuit at the reference current density, h. */
  shortTimeRef_h: number;
  /** Current density at which shortTimeRef_h holds, mA/cm2. */
  currentRef_mA_cm2: number;
  /** Exponent n in t_short = shortTimeRef_h * (currentRef / current)^n (Sand-like). */
  shortTimeExponent: number;
  /** Fraction of the current consumed by reductive decomposition at t = 0. */
  decompositionInitialShare: number;
  /** Decay time of the decomposition share, h. */
  decompositionTau_h: number;
  /** Time at which Li nucleates at voids of the void-rich band, h (R_ct's steep drop in Fig. 3c). */
  nucleation_h: number;
  /** Share of the plated Li that goes to the void nuclei after nucleation (the rest thickens the electrode). */
  depositShare: number;
  /**
   * Number of deposits (nuclei) in the field of view; the first one connects the electrodes at the short. Used as
   * given only when depositsPer_mm2 is absent.
   */
  depositCount: number;
  /**
   * Deposits per mm2 of electrode, when present: the field of view holds max(1, round(density x area)) deposits and
   * each carries the Li of 1/density mm2, so a deposit's size does not depend on the field of view (a fixed count
   * from a footprint-proportional budget made a 64 x 64 column's needles 6.25x thinner than the full volume's). A
   * window smaller than the deposit spacing then holds more deposit Li than its own area's charge: the deposit is
   * fed through the electrodes from outside the window, as in a real cell; a window smaller than one deposit's area
   * still holds one (the scan is centred on a deposit, as a beamline user centres it). Optional so that presets that
   * fix the count (ci, paper) keep their parameters, manifest and volumes byte-for-byte.
   */
  depositsPer_mm2?: number;
  /** Needles per deposit: a trunk (which carries the short) and branches from the same nucleus. */
  strandsPerDeposit: number;
  /** Fraction of the Li budget in the deposits that the shorting deposit takes. */
  mainDepositShare: number;
  /** Exponent of the tip advance s(t) ~ ((t - t_nuc)/(t_short - t_nuc))^p. */
  tipExponent: number;
  /** Lateral wander of a deposit's path, um (random walk amplitude). */
  depositWander_um: number;
  /** Relative amplitude of the deposit's thickness modulation (irregular, needle-like). */
  depositRoughness: number;
  /**
   * Shape the deposit Li takes in Li3PS4 (see DEPOSIT_SHAPES). Absent means "needles": the key is optional so that
   * every preset's parameters, manifest and volumes stay byte-for-byte what they were before the option existed.
   */
  depositShape?: DepositShape;
}

/**
 * How deposit Li takes shape inside Li3PS4. "needles" (the presets): bundles of wandering needles from the nuclei,
 * the first one shorting the cell. "void-filling": Li fills the pristine voids its deposit reaches and grows on
 * into new cavities drawn with the voids' own shapes and sizes, so a Li region has a void's shape (Park et al.
 * see the Li region grow where the pristine voids were, and absorption cannot tell the two apart): the case in
 * which shape alone cannot separate Li from voids and only the phase contrast can.
 */
export const DEPOSIT_SHAPES = ["needles", "void-filling"] as const;
export type DepositShape = (typeof DEPOSIT_SHAPES)[number];

/** The deposit shape of a parameter set ("needles" where the optional key is absent). */
export function depositShapeOf(p: TwinParameters): DepositShape {
  return p.history.depositShape ?? "needles";
}

export interface CtParameters {
  /** X-ray energy, keV (must lie in the tabulated range of the optical constants). */
  energy_keV: number;
  /** CT time points, h. Empty: every timeStep_h from 0 plus the short time. */
  times_h: number[];
  /** Spacing of the default time points, h. */
  timeStep_h: number;
  /** Instrument blur (Gaussian sigma), um. */
  blurSigma_um: number;
  /** Noise (Gaussian sigma) of the absorption channel, 1/cm. */
  absorptionNoise_per_cm: number;
  /** Noise (Gaussian sigma) of the phase channel, in units of delta x 1e6. */
  phaseNoise_delta1e6: number;
  /** Zernike halo strength (unsharp-mask gain) and width (Gaussian sigma, um). */
  haloGain: number;
  haloSigma_um: number;
  /** Chunk edge of the written arrays, voxels. */
  chunk: number;
}

export interface CellParameters {
  /** Electrode area of the operando cell, cm2. */
  electrodeArea_cm2: number;
  /** Ionic conductivity of the Li3PS4 glass, S/cm (Fig. S1c). */
  ionicConductivity_S_cm: number;
  /** Electronic conductivity of the Li3PS4 glass, S/cm (Fig. S7b). */
  electronicConductivity_S_cm: number;
  /** Ionic conductivity of the decomposition interphase (Li2S + Li3P), S/cm. */
  interphaseConductivity_S_cm: number;
  /** Area-specific interface resistance of the pristine cell, ohm cm2. */
  interfaceASR0_ohm_cm2: number;
  /** Area-specific charge-transfer resistance of the pristine cell, ohm cm2. */
  chargeTransferASR0_ohm_cm2: number;
  /** Relative electrode-area gain per mAh/cm2 of Li plated at the interface (roughening). */
  roughnessGain_per_mAh_cm2: number;
  /** Surface area of deposits per unit of their volume, 1/um (about 2/r for needles of radius r). */
  depositSpecificArea_per_um: number;
  /** Effective capacitances of the two arcs, F, and the CPE exponents. */
  interfaceCapacitance_F: number;
  chargeTransferCapacitance_F: number;
  cpeAlpha: [number, number];
  /** Limiting current density of the polarisation model, mA/cm2 (the 1.0 mA/cm2 screening run's large polarisation). */
  limitingCurrent_mA_cm2: number;
  /** Current densities of the screening runs (Fig. S2), mA/cm2. */
  screeningCurrents_mA_cm2: number[];
  /** Sampling of the voltage curve, s. */
  voltageStep_s: number;
  /** Relative noise of the impedance spectra. */
  eisNoise: number;
  /** EIS frequency range and points per decade. */
  eisFreqMax_Hz: number;
  eisFreqMin_Hz: number;
  eisPointsPerDecade: number;
  /** Blocking-electrode cell: pellet thickness (um), area (cm2), geometric capacitance (F), double-layer CPE Q, alpha. */
  blockingThickness_um: number;
  blockingArea_cm2: number;
  blockingGeometricCapacitance_F: number;
  blockingQ: number;
  blockingAlpha: number;
  /** DC polarisation (Hebb-Wagner): applied voltage (V), duration (s), ionic decay time (s), relative noise. */
  dcVoltage_V: number;
  dcDuration_s: number;
  dcTau_s: number;
  dcNoise: number;
}

export interface XasParameters {
  /** Depth probed by partial fluorescence yield below the interface, um. */
  probeDepth_um: number;
  /** Energy step of the spectra, eV. */
  step_eV: number;
  /** Relative noise (sigma, in units of the normalised edge step). */
  noise: number;
}

export interface TwinParameters {
  preset: string;
  seed: number;
  geometry: GeometryParameters;
  voids: VoidParameters;
  history: HistoryParameters;
  ct: CtParameters;
  cell: CellParameters;
  xas: XasParameters;
}

/** Nested partial for overrides. */
export type TwinOverrides = {
  [K in keyof TwinParameters]?: TwinParameters[K] extends object ? Partial<TwinParameters[K]> : TwinParameters[K];
};

const DEFAULT: TwinParameters = {
  preset: "default",
  seed: 20230522,
  geometry: { voxel_um: 2, nyx: [160, 160], topLi_um: 16, electrolyte_um: 240, bottomLi_um: 16 },
  voids: {
    binWidth_um: 20,
    peakDepth_um: 110,
    peakWidth_um: 15,
    peakFraction: 0.005,
    baseFraction: 0.0012,
    minDepth_um: 12,
    sphereRadius_um: [3, 8],
  },
  history: {
    current_mA_cm2: 0.8,
    shortTimeRef_h: 3.2,
    currentRef_mA_cm2: 0.8,
    shortTimeExponent: 2,
    decompositionInitialShare: 1.0,
    decompositionTau_h: 0.6,
    nucleation_h: 1.0,
    depositShare: 0.9,
    depositCount: 3,
    strandsPerDeposit: 4,
    mainDepositShare: 0.5,
    tipExponent: 1.5,
    depositWander_um: 12,
    depositRoughness: 0.35,
  },
  ct: {
    energy_keV: 8,
    times_h: [],
    timeStep_h: 0.5,
    blurSigma_um: 1.2,
    absorptionNoise_per_cm: 6,
    phaseNoise_delta1e6: 0.18,
    haloGain: 0.6,
    haloSigma_um: 4,
    chunk: 64,
  },
  cell: {
    electrodeArea_cm2: 0.0314,
    ionicConductivity_S_cm: 5.0e-4,
    electronicConductivity_S_cm: 3.2e-8,
    interphaseConductivity_S_cm: 5.0e-5,
    interfaceASR0_ohm_cm2: 8,
    chargeTransferASR0_ohm_cm2: 180,
    roughnessGain_per_mAh_cm2: 0.8,
    depositSpecificArea_per_um: 1.0,
    interfaceCapacitance_F: 1e-8,
    chargeTransferCapacitance_F: 1e-5,
    cpeAlpha: [0.9, 0.85],
    limitingCurrent_mA_cm2: 1.05,
    screeningCurrents_mA_cm2: [0.6, 0.8, 1.0],
    voltageStep_s: 60,
    eisNoise: 0.003,
    eisFreqMax_Hz: 3e6,
    eisFreqMin_Hz: 0.1,
    eisPointsPerDecade: 10,
    blockingThickness_um: 600,
    blockingArea_cm2: 0.785,
    blockingGeometricCapacitance_F: 2e-11,
    blockingQ: 2e-6,
    blockingAlpha: 0.85,
    dcVoltage_V: 0.5,
    dcDuration_s: 36000,
    dcTau_s: 1800,
    dcNoise: 0.002,
  },
  xas: { probeDepth_um: 8, step_eV: 0.1, noise: 0.01 },
};

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/**
 * Parameters that may be set although the presets leave them out (optional keys, absent = their documented
 * default), so adding an option does not change the bytes of any existing preset.
 */
const OPTIONAL_KEYS: Readonly<Record<string, readonly string[]>> = { history: ["depositShape", "depositsPer_mm2"] };

function merge(base: TwinParameters, o: TwinOverrides): TwinParameters {
  const out = clone(base);
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    const key = k as keyof TwinParameters;
    if (!(key in out)) throw new ParameterError("unknown twin parameter group", { field: k, expected: Object.keys(out).join(", ") });
    const cur = out[key] as unknown;
    if (cur !== null && typeof cur === "object" && !Array.isArray(cur)) {
      for (const [kk, vv] of Object.entries(v as Record<string, unknown>)) {
        if (!(kk in (cur as Record<string, unknown>)) && !OPTIONAL_KEYS[k]?.includes(kk))
          throw new ParameterError("unknown twin parameter", { field: `${k}.${kk}`, expected: [...Object.keys(cur as object), ...(OPTIONAL_KEYS[k] ?? [])].join(", ") });
        if (vv !== undefined) (cur as Record<string, unknown>)[kk] = clone(vv);
      }
    } else (out as unknown as Record<string, unknown>)[k] = clone(v);
  }
  return out;
}

export const PRESET_NAMES = ["ci", "default", "paper"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * `ci`: 4 um voxels, 192 um x 192 um x 216 um, a second or two. `default`: the embedded demo, 2 um voxels,
 * 320 um x 320 um x 272 um, every time point. `paper`: 0.5 um voxels over a 1 mm field of view (BL20XU nano-CT
 * projection geometry); it only streams (about 3 G voxels per time point and channel).
 */
export function presetParameters(name: string, overrides: TwinOverrides = {}): TwinParameters {
  let p: TwinParameters;
  switch (name) {
    case "default":
      // 3 deposits in the 320 x 320 um field of view (0.1024 mm2): 29.296875 per mm2, exact in binary.
      p = merge(DEFAULT, { history: { depositsPer_mm2: 3 / 0.1024 } });
      break;
    case "ci":
      p = merge(DEFAULT, {
        preset: "ci",
        geometry: { voxel_um: 4, nyx: [48, 48], topLi_um: 12, electrolyte_um: 192, bottomLi_um: 12 },
        voids: { sphereRadius_um: [6, 12] },
        history: { depositCount: 1, strandsPerDeposit: 2, mainDepositShare: 1, depositWander_um: 6 },
        ct: { chunk: 32, blurSigma_um: 2, haloSigma_um: 8, times_h: [0, 1.5, 3.2] },
      });
      break;
    case "paper":
      p = merge(DEFAULT, {
        preset: "paper",
        geometry: { voxel_um: 0.5, nyx: [2048, 2048], topLi_um: 20, electrolyte_um: 300, bottomLi_um: 20 },
        history: { depositCount: 8, mainDepositShare: 0.3 },
        ct: { blurSigma_um: 0.3, haloSigma_um: 2, chunk: 128 },
      });
      break;
    default:
      throw new ParameterError("unknown twin preset", { field: "preset", expected: PRESET_NAMES.join(", "), got: name });
  }
  return validateParameters(merge(p, overrides));
}

/** Time of the short circuit at the parameters' current density, h. */
export function shortTime_h(p: TwinParameters): number {
  const h = p.history;
  return h.shortTimeRef_h * Math.pow(h.currentRef_mA_cm2 / h.current_mA_cm2, h.shortTimeExponent);
}

/** The CT time points: explicit ones, or every timeStep_h from 0 to the short plus the short itself. */
export function ctTimes_h(p: TwinParameters): number[] {
  if (p.ct.times_h.length) return [...p.ct.times_h];
  const ts = shortTime_h(p);
  const out: number[] = [];
  for (let k = 0; k * p.ct.timeStep_h < ts - 1e-9; k++) out.push(Math.round(k * p.ct.timeStep_h * 1e9) / 1e9);
  out.push(ts);
  return out;
}

/** Throws a ParameterError naming the first unphysical parameter and its allowed range; returns p. */
export function validateParameters(p: TwinParameters): TwinParameters {
  const g = p.geometry;
  checkRange("seed", p.seed, 0, 2 ** 32 - 1);
  if (!Number.isInteger(p.seed)) throw new ParameterError("seed must be an integer", { field: "seed", got: String(p.seed) });
  checkRange("geometry.voxel_um", g.voxel_um, 0.05, 50, "um");
  for (const [i, n] of g.nyx.entries()) {
    checkRange(`geometry.nyx[${i}]`, n, 4, 65536, "voxels");
    if (!Number.isInteger(n)) throw new ParameterError("voxel counts must be integers", { field: `geometry.nyx[${i}]`, got: String(n) });
  }
  checkRange("geometry.topLi_um", g.topLi_um, 2 * g.voxel_um, 1e4, "um");
  checkRange("geometry.electrolyte_um", g.electrolyte_um, 20 * g.voxel_um, 1e4, "um");
  checkRange("geometry.bottomLi_um", g.bottomLi_um, 2 * g.voxel_um, 1e4, "um");

  const v = p.voids;
  checkRange("voids.peakFraction", v.peakFraction, 0, 1);
  checkRange("voids.baseFraction", v.baseFraction, 0, 1);
  checkRange("voids.binWidth_um", v.binWidth_um, g.voxel_um, g.electrolyte_um, "um");
  checkRange("voids.peakDepth_um", v.peakDepth_um, 0, g.electrolyte_um, "um");
  checkRange("voids.peakWidth_um", v.peakWidth_um, 0, 1e4, "um", { lo: true });
  checkRange("voids.minDepth_um", v.minDepth_um, 0, g.electrolyte_um, "um");
  checkRange("voids.sphereRadius_um[0]", v.sphereRadius_um[0], g.voxel_um, 1e3, "um");
  checkRange("voids.sphereRadius_um[1]", v.sphereRadius_um[1], v.sphereRadius_um[0], 1e3, "um");

  const h = p.history;
  checkRange("history.current_mA_cm2", h.current_mA_cm2, 0, 100, "mA/cm2", { lo: true });
  checkRange("history.currentRef_mA_cm2", h.currentRef_mA_cm2, 0, 100, "mA/cm2", { lo: true });
  checkRange("history.shortTimeRef_h", h.shortTimeRef_h, 0, 1e4, "h", { lo: true });
  checkRange("history.shortTimeExponent", h.shortTimeExponent, 0, 10);
  checkRange("history.decompositionInitialShare", h.decompositionInitialShare, 0, 1);
  checkRange("history.decompositionTau_h", h.decompositionTau_h, 0, 1e4, "h", { lo: true });
  const ts = shortTime_h(p);
  checkRange("history.nucleation_h", h.nucleation_h, 0, ts, "h", { hi: true });
  checkRange("history.depositShare", h.depositShare, 0, 1);
  checkRange("history.depositCount", h.depositCount, 1, 64);
  checkRange("history.strandsPerDeposit", h.strandsPerDeposit, 1, 16);
  if (!Number.isInteger(h.strandsPerDeposit) || !Number.isInteger(h.depositCount))
    throw new ParameterError("deposit and strand counts must be integers", { field: "history.depositCount / strandsPerDeposit", got: `${h.depositCount} / ${h.strandsPerDeposit}` });
  if (h.depositsPer_mm2 !== undefined) checkRange("history.depositsPer_mm2", h.depositsPer_mm2, 0, 1e4, "1/mm2", { lo: true });
  checkRange("history.mainDepositShare", h.mainDepositShare, 0, 1, "", { lo: true });
  if (h.depositCount === 1 && h.mainDepositShare !== 1)
    throw new ParameterError("with one deposit it takes all the deposit budget", { field: "history.mainDepositShare", expected: "1", got: String(h.mainDepositShare) });
  checkRange("history.tipExponent", h.tipExponent, 0.2, 5);
  checkRange("history.depositWander_um", h.depositWander_um, 0, g.electrolyte_um, "um");
  checkRange("history.depositRoughness", h.depositRoughness, 0, 0.9);
  if (h.depositShape !== undefined && !(DEPOSIT_SHAPES as readonly string[]).includes(h.depositShape))
    throw new ParameterError("unknown deposit shape", { field: "history.depositShape", expected: DEPOSIT_SHAPES.join(", "), got: String(h.depositShape) });

  const c = p.ct;
  const [eLo, eHi] = tabulatedEnergyRange_keV();
  checkRange("ct.energy_keV", c.energy_keV, eLo, eHi, "keV");
  checkRange("ct.timeStep_h", c.timeStep_h, 0, 1e4, "h", { lo: true });
  c.times_h.forEach((t, i) => {
    checkRange(`ct.times_h[${i}]`, t, 0, ts, "h (0 to the short)");
    if (i > 0 && !(t > c.times_h[i - 1]!))
      throw new ParameterError("CT times must increase", { field: `ct.times_h[${i}]`, expected: `> ${c.times_h[i - 1]}`, got: String(t) });
  });
  checkRange("ct.blurSigma_um", c.blurSigma_um, 0, 100, "um");
  checkRange("ct.absorptionNoise_per_cm", c.absorptionNoise_per_cm, 0, 1e4, "1/cm");
  checkRange("ct.phaseNoise_delta1e6", c.phaseNoise_delta1e6, 0, 100);
  checkRange("ct.haloGain", c.haloGain, 0, 5);
  checkRange("ct.haloSigma_um", c.haloSigma_um, 0, 200, "um");
  checkRange("ct.chunk", c.chunk, 8, 512, "voxels");

  const e = p.cell;
  checkRange("cell.electrodeArea_cm2", e.electrodeArea_cm2, 0, 100, "cm2", { lo: true });
  checkRange("cell.ionicConductivity_S_cm", e.ionicConductivity_S_cm, 0, 10, "S/cm", { lo: true });
  checkRange("cell.electronicConductivity_S_cm", e.electronicConductivity_S_cm, 0, 10, "S/cm", { lo: true });
  checkRange("cell.interphaseConductivity_S_cm", e.interphaseConductivity_S_cm, 0, 10, "S/cm", { lo: true });
  checkRange("cell.interfaceASR0_ohm_cm2", e.interfaceASR0_ohm_cm2, 0, 1e6, "ohm cm2", { lo: true });
  checkRange("cell.chargeTransferASR0_ohm_cm2", e.chargeTransferASR0_ohm_cm2, 0, 1e6, "ohm cm2", { lo: true });
  checkRange("cell.roughnessGain_per_mAh_cm2", e.roughnessGain_per_mAh_cm2, 0, 100);
  checkRange("cell.depositSpecificArea_per_um", e.depositSpecificArea_per_um, 0, 100, "1/um");
  checkRange("cell.interfaceCapacitance_F", e.interfaceCapacitance_F, 0, 1, "F", { lo: true });
  checkRange("cell.chargeTransferCapacitance_F", e.chargeTransferCapacitance_F, 0, 1, "F", { lo: true });
  checkRange("cell.cpeAlpha[0]", e.cpeAlpha[0], 0.5, 1);
  checkRange("cell.cpeAlpha[1]", e.cpeAlpha[1], 0.5, 1);
  checkRange("cell.limitingCurrent_mA_cm2", e.limitingCurrent_mA_cm2, h.current_mA_cm2, 1e3, "mA/cm2 (above the plating current)", { lo: true });
  e.screeningCurrents_mA_cm2.forEach((j, i) =>
    checkRange(`cell.screeningCurrents_mA_cm2[${i}]`, j, 0, e.limitingCurrent_mA_cm2, "mA/cm2 (below the limiting current)", { lo: true, hi: true }),
  );
  checkRange("cell.voltageStep_s", e.voltageStep_s, 0.01, 3600, "s");
  checkRange("cell.eisNoise", e.eisNoise, 0, 0.2);
  checkRange("cell.eisFreqMin_Hz", e.eisFreqMin_Hz, 1e-4, e.eisFreqMax_Hz, "Hz", { hi: true });
  checkRange("cell.eisFreqMax_Hz", e.eisFreqMax_Hz, e.eisFreqMin_Hz, 1e8, "Hz");
  checkRange("cell.eisPointsPerDecade", e.eisPointsPerDecade, 1, 100);
  checkRange("cell.blockingThickness_um", e.blockingThickness_um, 1, 1e5, "um");
  checkRange("cell.blockingArea_cm2", e.blockingArea_cm2, 0, 100, "cm2", { lo: true });
  checkRange("cell.blockingGeometricCapacitance_F", e.blockingGeometricCapacitance_F, 0, 1, "F", { lo: true });
  checkRange("cell.blockingQ", e.blockingQ, 0, 1, "F s^(alpha-1)", { lo: true });
  checkRange("cell.blockingAlpha", e.blockingAlpha, 0.5, 1);
  checkRange("cell.dcVoltage_V", e.dcVoltage_V, 0, 5, "V", { lo: true });
  checkRange("cell.dcTau_s", e.dcTau_s, 0, 1e6, "s", { lo: true });
  checkRange("cell.dcDuration_s", e.dcDuration_s, 5 * e.dcTau_s, 1e7, "s (at least 5 decay times)");
  checkRange("cell.dcNoise", e.dcNoise, 0, 0.2);

  checkRange("xas.probeDepth_um", p.xas.probeDepth_um, 0, g.electrolyte_um, "um", { lo: true });
  checkRange("xas.step_eV", p.xas.step_eV, 0.01, 5, "eV");
  checkRange("xas.noise", p.xas.noise, 0, 0.5);
  return p;
}
