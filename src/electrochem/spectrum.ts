/** An impedance spectrum and the checks every analysis runs on it before fitting. */
import { FileFormatError, ParameterError } from "../util/errors.js";

/** Z = re_ohm + j im_ohm at freq_Hz (capacitive arcs: im_ohm < 0, i.e. the negative of EC-Lab's -Im(Z)). */
export interface ImpedanceSpectrum {
  freq_Hz: Float64Array;
  re_ohm: Float64Array;
  im_ohm: Float64Array;
  /** File (and line) the data came from; error messages name it. */
  source?: string;
}

/**
 * Throws naming the source and index for: unequal lengths, NaN/inf, non-positive or repeated frequencies,
 * frequencies that are not monotonic (a sweep in one direction), and fewer real numbers than `minValues`
 * (2 per frequency). Returns the spectrum ordered by decreasing frequency.
 */
export function validateSpectrum(s: ImpedanceSpectrum, minValues = 1): ImpedanceSpectrum {
  const path = s.source;
  const n = s.freq_Hz.length;
  if (s.re_ohm.length !== n || s.im_ohm.length !== n) {
    throw new FileFormatError("impedance arrays differ in length", {
      path,
      expected: `freq_Hz, re_ohm, im_ohm of equal length (${n})`,
      got: `${s.re_ohm.length}, ${s.im_ohm.length}`,
    });
  }
  for (let i = 0; i < n; i++) {
    for (const [field, arr] of [
      ["freq_Hz", s.freq_Hz],
      ["re_ohm", s.re_ohm],
      ["im_ohm", s.im_ohm],
    ] as const) {
      if (!Number.isFinite(arr[i]!)) {
        throw new FileFormatError("non-finite value in impedance spectrum", {
          path,
          field,
          location: `point ${i}`,
          expected: "a finite number",
          got: String(arr[i]),
        });
      }
    }
    if (s.freq_Hz[i]! <= 0) {
      throw new FileFormatError("non-positive frequency", { path, field: "freq_Hz", location: `point ${i}`, expected: "> 0 Hz", got: String(s.freq_Hz[i]) });
    }
  }
  if (n >= 2) {
    const dir = Math.sign(s.freq_Hz[1]! - s.freq_Hz[0]!);
    for (let i = 1; i < n; i++) {
      const d = Math.sign(s.freq_Hz[i]! - s.freq_Hz[i - 1]!);
      if (d === 0 || d !== dir) {
        throw new FileFormatError("frequencies are not strictly monotonic", {
          path,
          field: "freq_Hz",
          location: `point ${i}`,
          expected: dir > 0 ? `> ${s.freq_Hz[i - 1]} Hz` : `< ${s.freq_Hz[i - 1]} Hz`,
          got: `${s.freq_Hz[i]} Hz`,
        });
      }
    }
  }
  if (2 * n < minValues) {
    throw new ParameterError("fewer data than parameters", {
      path,
      field: "freq_Hz",
      expected: `at least ${Math.ceil(minValues / 2)} frequencies (${minValues} real values)`,
      got: `${n} frequencies`,
    });
  }
  if (n >= 2 && s.freq_Hz[1]! > s.freq_Hz[0]!) {
    const rev = (a: Float64Array) => Float64Array.from(a).reverse();
    return { freq_Hz: rev(s.freq_Hz), re_ohm: rev(s.re_ohm), im_ohm: rev(s.im_ohm), source: s.source };
  }
  return s;
}

/** A model's impedance at the measured frequencies and its relative residuals (fit and Lin-KK results share these). */
export interface ModelImpedance {
  /** Frequencies in the order fitted (decreasing). */
  freq_Hz: Float64Array;
  fit: { re_ohm: Float64Array; im_ohm: Float64Array };
  /** (Z - Z_fit)/|Z| for real and imaginary parts (dimensionless): relativeResiduals. */
  residuals: { re: Float64Array; im: Float64Array };
}

/**
 * Relative residuals (Z - Z_model)/|Z| of the real and imaginary parts at each frequency: the one definition the
 * circuit fit and Lin-KK report (data minus model, as impedance.py's Lin-KK and Schoenleber et al. 2014).
 */
export function relativeResiduals(s: ImpedanceSpectrum, modelRe: ArrayLike<number>, modelIm: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const n = s.freq_Hz.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const zr = s.re_ohm[i] ?? NaN;
    const zi = s.im_ohm[i] ?? NaN;
    const mod = Math.hypot(zr, zi);
    re[i] = (zr - (modelRe[i] ?? NaN)) / mod;
    im[i] = (zi - (modelIm[i] ?? NaN)) / mod;
  }
  return { re, im };
}
