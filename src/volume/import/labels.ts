/**
 * Annotations drawn elsewhere (a napari or ilastik label layer saved as a TIFF or a zarr array) imported as a sparse
 * label image of an OME-Zarr (issue 16): file value 0, what both tools write where nothing was painted, becomes
 * IGNORE_LABEL (255, "not annotated"), and painted values become class values (default v -> v - 1, so label 1 is the
 * first class; `mapping` overrides it). The layer must have the image's shape (z, y, x); its voxel size, where the
 * file records one (ImageJ TIFF metadata, TIFF resolution tags in cm or inch, OME-Zarr scale), must be the image's
 * within a tolerance. What was checked is returned and recorded with the label image.
 *
 * The label image is tracked like the segmenter's (volume/completion.ts, job attribute `ssb-ct-labels`): written
 * under the store's writer lock, completion record last, stale if the image is regenerated.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { createHash } from "node:crypto";
import type { OmeImage, LabelClass } from "../ome.js";
import { LabelImage } from "../ome.js";
import { ZarrArray } from "../array.js";
import { chunkCount, imageIdentity, removeCompletion, writeCompletion } from "../completion.js";
import { lockDataset } from "../dataset-lock.js";
import { writeErrorOf } from "../output-folder.js";
import { FileFormatError, ParameterError, VolumeError } from "../../util/errors.js";
import type { TypedArray } from "../types.js";
import { readTiffPages, readTiffPixels } from "./tiff.js";
import { DEFAULT_CLASSES, DEFAULT_LABEL_IMPORT, IGNORE_LABEL, type LabelImportConfig } from "../../segment/plans.js";

/** Job attribute of annotation label images (sparsified or imported); volume/completion.ts tracks it. */
export const ANNOTATION_JOB_ATTR = "ssb-ct-labels";

export interface LabelLayer {
  /** Values (z, y, x), the file's integer type. */
  data: TypedArray;
  shapeZYX: [number, number, number];
  /** Voxel size the file records per axis (z, y, x), micrometres; null where it records none. */
  voxelSizeUm: [number | null, number | null, number | null];
  format: "tiff" | "zarr" | "ome-zarr";
}

const UM_PER_UNIT: Record<string, number> = { micron: 1, um: 1, "\u00b5m": 1, "\u03bcm": 1, microns: 1, micrometer: 1, nm: 1e-3, nanometer: 1e-3, mm: 1e3, millimeter: 1e3 };

/** Voxel size (z, y, x) from a TIFF page's ImageJ description and resolution tags; null per axis where absent. */
function tiffVoxelSize(desc: string | undefined, res: { x: number; y: number; unit: number } | undefined): [number | null, number | null, number | null] {
  const ij = desc?.startsWith("ImageJ=") ? Object.fromEntries(desc.split("\n").map((l) => l.split("=")).filter((kv) => kv.length === 2).map(([k, v]) => [k!.trim(), v!.trim()])) : null;
  const unitScale = ij?.unit !== undefined ? UM_PER_UNIT[ij.unit.toLowerCase()] : undefined;
  let xy: [number | null, number | null] = [null, null];
  if (res) {
    // ResolutionUnit 3 cm, 2 inch; 1 (none) carries a unit only in ImageJ's description
    const umPerUnit = res.unit === 3 ? 1e4 : res.unit === 2 ? 25400 : unitScale;
    if (umPerUnit !== undefined && !(res.unit === 1 && res.x === 1 && res.y === 1 && !ij)) xy = [umPerUnit / res.y, umPerUnit / res.x];
  }
  const spacing = ij?.spacing !== undefined ? Number(ij.spacing) : NaN;
  const z = Number.isFinite(spacing) && unitScale !== undefined ? spacing * unitScale : null;
  return [z, xy[0], xy[1]];
}

/** Reads a label layer: a multi-page TIFF (one page per z-slice), a zarr array, or an OME-Zarr (label) image's level 0. */
export async function readLabelLayer(path: string): Promise<LabelLayer> {
  if (!existsSync(path)) throw new FileFormatError("label layer not found", { path, expected: "a TIFF file or a zarr array / OME-Zarr label image folder" });
  if (statSync(path).isFile()) {
    const pages = readTiffPages(path);
    const first = pages[0]!;
    const bad = pages.find((p) => p.width !== first.width || p.height !== first.height);
    if (bad) throw new FileFormatError("TIFF pages differ in size", { path, location: `page ${bad.index}`, expected: `${first.height} x ${first.width}`, got: `${bad.height} x ${bad.width}` });
    const plane = first.width * first.height;
    const first0 = readTiffPixels(first);
    const data = new (first0.constructor as { new (n: number): TypedArray })(plane * pages.length);
    data.set(first0 as never, 0);
    for (let z = 1; z < pages.length; z++) readTiffPixels(pages[z]!, data, z * plane);
    return { data, shapeZYX: [pages.length, first.height, first.width], voxelSizeUm: tiffVoxelSize(first.description, first.resolution), format: "tiff" };
  }
  const isArray = existsSync(join(path, ".zarray")) || (existsSync(join(path, "zarr.json")) && /"node_type"\s*:\s*"array"/.test(readFileSync(join(path, "zarr.json"), "utf8")));
  if (isArray) {
    const arr = await ZarrArray.open(path);
    const shape = squeezeTo3d(arr.shape, path);
    const nd = await arr.read();
    return { data: nd.data, shapeZYX: shape, voxelSizeUm: [null, null, null], format: "zarr" };
  }
  const lab = await LabelImage.openAt(path);
  if (lab.timePointsH.length !== 1) throw new FileFormatError("label layer has several time points", { path, field: "t", expected: "one (a layer drawn on one scan)", got: String(lab.timePointsH.length) });
  const nd = await lab.readVolume(0);
  return { data: nd.data, shapeZYX: [...lab.shapeZYX], voxelSizeUm: [...lab.voxelSizeUm], format: "ome-zarr" };
}

function squeezeTo3d(shape: readonly number[], path: string): [number, number, number] {
  const lead = shape.slice(0, -3);
  if (shape.length < 3 || lead.some((s) => s !== 1)) throw new FileFormatError("label array is not one 3D volume", { path, field: "shape", expected: "(z, y, x), optionally with leading axes of length 1", got: shape.join(" x ") });
  return shape.slice(-3) as [number, number, number];
}

export interface ImportLabelsOptions extends Partial<LabelImportConfig> {
  /** Time point the annotations belong to (required when the image has several); other time points are IGNORE_LABEL. */
  t?: number;
  /** Voxel size the annotations were drawn at, when the file records none (checked against the image's). */
  voxelSizeUm?: [number, number, number];
  /** Classes of the label image (default: electrolyte, void, lithium). */
  classes?: LabelClass[];
  overwrite?: boolean;
}

export interface ImportLabelsResult {
  name: string;
  t: number;
  format: LabelLayer["format"];
  /** Voxels per class value (index) and the annotated fraction of the time point. */
  classCounts: number[];
  annotatedFraction: number;
  /** Per axis (z, y, x): how the voxel size was checked. */
  voxelSizeCheck: string[];
}

/** Class value of each file value (IGNORE_LABEL for not annotated); throws naming the first value with none. */
function mapValues(src: TypedArray, cfg: LabelImportConfig, classes: number, path: string): Uint8Array {
  const out = new Uint8Array(src.length);
  const cache = new Map<number, number>();
  const classOf = (v: number): number => {
    let c = cache.get(v);
    if (c !== undefined) return c;
    if (v === cfg.unannotatedValue) c = IGNORE_LABEL;
    else if (cfg.mapping) c = cfg.mapping[v];
    else c = v >= 1 ? v - 1 : undefined;
    if (c === undefined || !(c === IGNORE_LABEL || (Number.isInteger(c) && c >= 0 && c < classes)))
      throw new FileFormatError("label value has no class", {
        path,
        field: "mapping",
        expected: cfg.mapping ? `one of ${Object.keys(cfg.mapping).join(", ")} or ${cfg.unannotatedValue} (not annotated)` : `${cfg.unannotatedValue} (not annotated) or 1..${classes} (class value + 1)`,
        got: String(v),
      });
    cache.set(v, c);
    return c;
  };
  for (let i = 0; i < src.length; i++) out[i] = classOf(Number(src[i]));
  return out;
}

/**
 * Imports a label layer (TIFF / zarr / OME-Zarr, see readLabelLayer) into labels/<name> of `img` as sparse labels.
 * Checks the shape (must equal the image's z, y, x) and the voxel size (where known) before writing anything.
 */
export async function importLabelLayer(img: OmeImage, source: string, name: string, options: ImportLabelsOptions = {}): Promise<ImportLabelsResult> {
  const cfg: LabelImportConfig = { ...DEFAULT_LABEL_IMPORT, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => v !== undefined && k in DEFAULT_LABEL_IMPORT)) };
  const classes = options.classes ?? DEFAULT_CLASSES.map((c) => ({ ...c }));
  const T = img.timePointsH.length;
  const t = options.t ?? (T === 1 ? 0 : undefined);
  if (t === undefined || !(Number.isInteger(t) && t >= 0 && t < T))
    throw new ParameterError("time point of the annotations", { path: img.path, field: "t", expected: T === 1 ? "0" : `0..${T - 1} (the image has ${T} time points: say which one was annotated)`, got: String(options.t) });
  const layer = await readLabelLayer(source);
  const want = img.shapeZYX;
  if (layer.shapeZYX.some((s, a) => s !== want[a]))
    throw new VolumeError("label layer and image differ in shape", { path: source, field: "shape (z, y, x)", expected: `${want.join(" x ")} (the image)`, got: layer.shapeZYX.join(" x ") });
  const imgVs = img.voxelSizeUm;
  const check = (["z", "y", "x"] as const).map((axis, a) => {
    const fileVs = layer.voxelSizeUm[a] ?? null;
    const claimed = fileVs ?? options.voxelSizeUm?.[a] ?? null;
    const from = fileVs !== null ? "file" : "option voxelSizeUm";
    if (claimed === null) return `${axis}: not recorded in the file (assumed the image's ${imgVs[a]} um)`;
    if (Math.abs(claimed - imgVs[a]!) > cfg.voxelSizeTolerance * imgVs[a]!)
      throw new VolumeError("label layer and image differ in voxel size", {
        path: source,
        field: `voxel size ${axis} (${from})`,
        expected: `${imgVs[a]} um within ${(cfg.voxelSizeTolerance * 100).toFixed(0)} % (the image)`,
        got: `${claimed} um`,
      });
    return `${axis}: ${claimed} um (${from}) matches ${imgVs[a]} um`;
  });
  const mapped = mapValues(layer.data, cfg, classes.length, source);
  const counts = new Array<number>(classes.length).fill(0);
  let annotated = 0;
  for (let i = 0; i < mapped.length; i++)
    if (mapped[i] !== IGNORE_LABEL) {
      counts[mapped[i]!]!++;
      annotated++;
    }
  const fileHash = statSync(source).isFile() ? createHash("sha256").update(readFileSync(source)).digest("hex") : null;
  const job = { kind: "import", source: basename(source), format: layer.format, sha256: fileHash, t, mapping: cfg.mapping ?? "v -> v - 1", unannotatedValue: cfg.unannotatedValue, ignoreLabel: IGNORE_LABEL, voxelSizeCheck: check };
  await writeAnnotationLabels(img, name, (tt) => (tt === t ? mapped : null), job, classes, Boolean(options.overwrite));
  return { name, t, format: layer.format, classCounts: counts, annotatedFraction: mapped.length ? annotated / mapped.length : 0, voxelSizeCheck: check };
}

/**
 * Writes labels/<name> from per-time-point volumes (null: nothing annotated, all IGNORE_LABEL) as a tracked label
 * image with `job` as its `ssb-ct-labels` attribute; used by import and by segment/sparse-labels.ts.
 */
export async function writeAnnotationLabels(
  img: OmeImage,
  name: string,
  volumeAt: (t: number) => Uint8Array | null | Promise<Uint8Array | null>,
  job: Record<string, unknown>,
  classes: LabelClass[],
  overwrite: boolean,
): Promise<void> {
  if ((await img.labelNames()).includes(name) && !overwrite)
    throw new VolumeError("label image exists", { path: join(img.path, "labels", name), expected: "another name, or overwrite", got: name });
  let release: () => void = () => {};
  try {
    release = lockDataset(img.path, "labels");
    const lab = await img.createLabels(name, { dtype: "uint8", classes, overwrite: true, attributes: { [ANNOTATION_JOB_ATTR]: job } });
    removeCompletion(lab.path);
    const n = img.shapeZYX[0] * img.shapeZYX[1] * img.shapeZYX[2];
    let empty: Uint8Array | null = null;
    for (let t = 0; t < img.timePointsH.length; t++) {
      const v = (await volumeAt(t)) ?? (empty ??= new Uint8Array(n).fill(IGNORE_LABEL));
      if (v.length !== n) throw new VolumeError("labels do not match the image", { path: lab.path, location: `t=${t}`, expected: `${n} voxels`, got: String(v.length) });
      await lab.writeVolume(t, [0, 0, 0], { data: v, shape: [...img.shapeZYX] });
    }
    writeCompletion(lab.path, { job, image: imageIdentity(img), chunks: chunkCount(lab.array(0)).total });
  } catch (e) {
    throw writeErrorOf(e, img.path);
  } finally {
    release();
  }
}
