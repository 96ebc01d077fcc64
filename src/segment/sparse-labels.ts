/**
 * Sparse labels (issue 16): a label image in which IGNORE_LABEL (255) marks voxels nobody annotated. `sparsifyLabels`
 * keeps every K-th z-slice of a dense label image and marks the rest, so a user (and the tests and the adapt
 * benchmark) can measure how many annotated slices a scan needs; `sparsifyLabelImage` does it inside an OME-Zarr.
 */
import { basename } from "node:path";
import type { OmeImage } from "../volume/index.js";
import { ANNOTATION_JOB_ATTR, writeAnnotationLabels } from "../volume/import/labels.js";
import { ParameterError, VolumeError } from "../util/errors.js";
import { DEFAULT_SPARSIFY, IGNORE_LABEL, type SparsifyConfig } from "./plans.js";

/** Job attribute of a label image written by `sparsifyLabelImage` or `importLabelLayer` (volume/completion.ts tracks it). */
export const LABELS_JOB_ATTR = ANNOTATION_JOB_ATTR;

function checkSparsify(c: SparsifyConfig): void {
  if (!(Number.isInteger(c.every) && c.every >= 1)) throw new ParameterError("every must be a positive integer", { field: "every", expected: ">= 1", got: String(c.every) });
  if (!(Number.isInteger(c.offset) && c.offset >= 0 && c.offset < c.every))
    throw new ParameterError("offset must lie in 0..every-1", { field: "offset", expected: `0..${c.every - 1}`, got: String(c.offset) });
}

/** The z-slices kept by `sparsifyLabels` for a volume of `nz` slices. */
export function keptSlices(nz: number, options: Partial<SparsifyConfig> = {}): number[] {
  const c = { ...DEFAULT_SPARSIFY, ...options };
  checkSparsify(c);
  const out: number[] = [];
  for (let z = c.offset; z < nz; z += c.every) out.push(z);
  return out;
}

/** A copy of dense labels (z, y, x) keeping z-slices offset, offset + every, ... and IGNORE_LABEL elsewhere. */
export function sparsifyLabels(labels: Uint8Array, shapeZYX: readonly [number, number, number], options: Partial<SparsifyConfig> = {}): Uint8Array {
  const [d, h, w] = shapeZYX;
  if (labels.length !== d * h * w) throw new ParameterError("labels do not match the shape", { field: "labels", expected: `${d} x ${h} x ${w} = ${d * h * w} voxels`, got: String(labels.length) });
  const out = new Uint8Array(labels.length).fill(IGNORE_LABEL);
  const plane = h * w;
  for (const z of keptSlices(d, options)) out.set(labels.subarray(z * plane, (z + 1) * plane), z * plane);
  return out;
}

export interface SparsifyImageOptions extends Partial<SparsifyConfig> {
  /** Replace an existing label image named `to` (default false). */
  overwrite?: boolean;
}

export interface SparsifyImageResult {
  to: string;
  keptSlices: number[];
  annotatedFraction: number;
}

/**
 * Writes labels/<to>: labels/<from> with only every K-th z-slice kept (the rest IGNORE_LABEL), every time point.
 * The new label image records what it was made from (its job attribute) and is tracked: it is written under the
 * store's writer lock, its completion record is written last, and it goes stale if the image changes.
 */
export async function sparsifyLabelImage(img: OmeImage, from: string, to: string, options: SparsifyImageOptions = {}): Promise<SparsifyImageResult> {
  const c: SparsifyConfig = { ...DEFAULT_SPARSIFY, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k in DEFAULT_SPARSIFY)) };
  checkSparsify(c);
  if (from === to) throw new ParameterError("source and target label images must differ", { field: "to", got: to });
  const src = await img.openLabels(from);
  src.assertReadable(); // a half-written or stale truth would be sparsified into wrong annotations
  if ((await img.labelNames()).includes(to) && !options.overwrite)
    throw new VolumeError("label image exists", { path: img.path, field: "to", expected: "another name, or overwrite: true", got: to });
  const kept = keptSlices(img.shapeZYX[0], c);
  const job = { kind: "sparsify", from, every: c.every, offset: c.offset, ignoreLabel: IGNORE_LABEL, image: basename(img.path) };
  let annotated = 0;
  let total = 0;
  await writeAnnotationLabels(
    img,
    to,
    async (t) => {
      const dense = await src.readVolume(t);
      const data = dense.data instanceof Uint8Array ? dense.data : Uint8Array.from(dense.data as ArrayLike<number>);
      const sparse = sparsifyLabels(data, img.shapeZYX, c);
      for (let i = 0; i < sparse.length; i++) if (sparse[i] !== IGNORE_LABEL) annotated++;
      total += sparse.length;
      return sparse;
    },
    job,
    src.classes,
    Boolean(options.overwrite),
  );
  return { to, keptSlices: kept, annotatedFraction: total ? annotated / total : 0 };
}
