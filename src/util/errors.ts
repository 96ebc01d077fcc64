/**
 * Errors that tell a user what to fix: which file, which field or chunk, what was expected and what was found.
 * Every module throws one of these for bad input instead of a bare Error, so callers can test `instanceof`
 * and a notebook shows a message that names the culprit.
 */

export interface ErrorDetails {
  /** File or store path the problem was found in. */
  path?: string;
  /** Field, column, parameter or attribute name. */
  field?: string;
  /** Zarr chunk key, line number or token, where one applies. */
  location?: string;
  /** What a valid value looks like. */
  expected?: string;
  /** What was found instead. */
  got?: string;
}

function compose(summary: string, d: ErrorDetails): string {
  const parts = [summary];
  if (d.path !== undefined) parts.push(`path: ${d.path}`);
  if (d.location !== undefined) parts.push(`at: ${d.location}`);
  if (d.field !== undefined) parts.push(`field: ${d.field}`);
  if (d.expected !== undefined) parts.push(`expected: ${d.expected}`);
  if (d.got !== undefined) parts.push(`got: ${d.got}`);
  return parts.join("; ");
}

export class SsbCtError extends Error {
  readonly details: ErrorDetails;
  /** The message without the details (so an error can cross a worker boundary and be rebuilt whole). */
  readonly summary: string;
  constructor(summary: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(compose(summary, details), options);
    this.summary = summary;
    this.name = new.target.name;
    this.details = details;
  }
}

/** A store, array, chunk or OME-Zarr metadata problem. */
export class VolumeError extends SsbCtError {}

/** A physical or numerical parameter outside its allowed range. `field` names the parameter. */
export class ParameterError extends SsbCtError {}

/** A data file (cycler export, spectrum, TIFF, HDF5) that does not have the expected content. */
export class FileFormatError extends SsbCtError {}

/** A fit or iterative solve that did not converge; callers get this instead of numbers. */
export class ConvergenceError extends SsbCtError {}

/** Throws a ParameterError unless lo <= value <= hi (either bound may be open with `exclusive`). */
export function checkRange(
  field: string,
  value: number,
  lo: number,
  hi: number,
  unit = "",
  exclusive: { lo?: boolean; hi?: boolean } = {},
): void {
  const okLo = exclusive.lo ? value > lo : value >= lo;
  const okHi = exclusive.hi ? value < hi : value <= hi;
  if (!Number.isFinite(value) || !okLo || !okHi) {
    const l = exclusive.lo ? "(" : "[";
    const r = exclusive.hi ? ")" : "]";
    throw new ParameterError(`parameter out of range`, {
      field,
      expected: `${l}${lo}, ${hi}${r}${unit ? " " + unit : ""}`,
      got: String(value),
    });
  }
}
