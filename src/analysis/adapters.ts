/**
 * Thin adapters from the volume store to the streaming labeller: a class of a LabelImage time point, or the values
 * of a plain 3D ZarrArray, labelled block by block (one chunk in memory at a time). And the check every reader of
 * a label image makes first: an unfinished or stale label image is refused by name (a missing chunk reads as
 * class 0, so an aborted segmentation would otherwise be measured as if it were whole).
 */
import { ParameterError, VolumeError } from "../util/errors.js";
import { assertLabelsReadable, type LabelStatus } from "../volume/completion.js";
import type { Block, NdArray, TypedArray } from "../volume/index.js";
import { labelBlocks, type ComponentResult, type Connectivity, type DepthSpec } from "./components.js";
import { checkVoxelSize } from "./interface.js";
import { componentTable } from "./measures.js";
import type { ComponentProperty } from "./stats.js";
import type { ResultTable } from "./table.js";

/** What the readiness check needs of a label source; `LabelImage` has it, an in-memory source need not. */
export interface LabelStatusSource {
  readonly path?: string;
  readonly name?: string;
  /** Complete, incomplete, stale or untracked (see volume/completion.ts); absent: nothing is known, nothing refused. */
  status?(): LabelStatus;
}

/**
 * Throws IncompleteLabelsError (unless `allowIncomplete`) or StaleLabelsError naming the label image; returns a
 * note for the results when an incomplete one is read on purpose, else null.
 */
export function checkLabelsReadable(src: LabelStatusSource, allowIncomplete = false): string | null {
  if (!src.status) return null;
  const st = src.status();
  const name = src.name || src.path || "label image";
  assertLabelsReadable(name, src.path ?? name, st, { allowIncomplete });
  return st.state === "incomplete" ? `label image "${name}" is incomplete (${st.reason}); read anyway as allowIncomplete was set` : null;
}

/** What component labelling needs of a LabelImage. */
export interface LabelBlocksSource extends LabelStatusSource {
  readonly shapeZYX: [number, number, number];
  readonly voxelSizeUm: [number, number, number];
  readonly classes: ReadonlyArray<{ value: number; name: string }>;
  blocks(t: number, options?: { halo?: number | number[] }): AsyncIterable<Block>;
}

export interface LabelImageComponentOptions {
  connectivity: Connectivity;
  /** Class name (as declared in the label image) whose voxels form components. */
  className: string;
  properties?: ComponentProperty[];
  depth?: DepthSpec;
  /** Read a label image whose writer has not finished (missing chunks read as class 0); default false: refused. */
  allowIncomplete?: boolean;
}

async function* asLabelBlocks(blocks: AsyncIterable<Block>): AsyncGenerator<{ core: Array<[number, number]>; read: Array<[number, number]>; data: NdArray<TypedArray> }> {
  for await (const b of blocks) yield { core: b.core, read: b.read, data: b.data as NdArray<TypedArray> };
}

/** Components of one class of a label image at time index t, with a table in physical units. */
export async function labelImageComponents(
  lab: LabelBlocksSource,
  t: number,
  options: LabelImageComponentOptions,
): Promise<{ result: ComponentResult; table: ResultTable }> {
  checkLabelsReadable(lab, options.allowIncomplete);
  checkVoxelSize(lab.voxelSizeUm);
  const cls = lab.classes.find((c) => c.name === options.className);
  if (!cls)
    throw new VolumeError("no such label class", {
      field: "className",
      expected: lab.classes.map((c) => `${c.value}:${c.name}`).join(", ") || "declared classes (the label image declares none)",
      got: options.className,
    });
  const result = await labelBlocks(lab.shapeZYX, asLabelBlocks(lab.blocks(t)), {
    connectivity: options.connectivity,
    member: { value: cls.value },
    properties: options.properties,
    depth: options.depth,
  });
  return { result, table: componentTable(result, lab.voxelSizeUm, options.className) };
}

/** What labelling needs of a plain zarr array. */
export interface ZarrBlocksSource {
  readonly shape: number[];
  blocks(options?: { halo?: number | number[] }): AsyncIterable<Block>;
}

/** Components of the voxels equal to `value` in a 3D ZarrArray (voxel units; no physical metadata there). */
export async function zarrArrayComponents(arr: ZarrBlocksSource, options: { value: number; connectivity: Connectivity; properties?: ComponentProperty[] }): Promise<ComponentResult> {
  if (arr.shape.length !== 3) throw new ParameterError("expected a 3D (z, y, x) array", { field: "shape", got: JSON.stringify(arr.shape) });
  return labelBlocks(arr.shape as [number, number, number], asLabelBlocks(arr.blocks()), {
    connectivity: options.connectivity,
    member: { value: options.value },
    properties: options.properties,
  });
}
