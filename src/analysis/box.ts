/** The 3D regions a block covers, checked once so the voxel loops index plain numbers. */
import { VolumeError } from "../util/errors.js";
import type { Selection } from "../volume/index.js";

export type Range = [number, number];
export type Box3 = [Range, Range, Range];

/** `sel` as three (z, y, x) ranges; a selection of another rank is a VolumeError naming `field`. */
export function box3(sel: Selection, field: string): Box3 {
  const [z, y, x] = sel;
  if (sel.length !== 3 || !z || !y || !x) throw new VolumeError("a 3D (z, y, x) region is needed", { field, expected: "3 ranges", got: JSON.stringify(sel) });
  return [z, y, x];
}
