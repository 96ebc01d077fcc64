/**
 * Per-component statistics, stored column-wise in growable Float64Arrays.
 *
 * Every count and sum is a float64, exact for integers up to 2^53: a component of 2^40 voxels at z = 2^12 keeps an
 * exact voxel count and an exact coordinate sum. This is what the field's int32 accumulators get wrong above 2^31
 * voxels (PoreSpy#816). The same class serves a block's local components, the global union-find and the output.
 */

/** Which optional properties to accumulate; the voxel count and first-voxel index are always kept. */
export interface PropertyFlags {
  centroid: boolean;
  bbox: boolean;
  depth: boolean;
  surface: boolean;
  /** Voxels that also carry a given value in an auxiliary volume (e.g. lithium at the previous time point). */
  overlap: boolean;
}

export const NO_PROPERTIES: PropertyFlags = { centroid: false, bbox: false, depth: false, surface: false, overlap: false };

function grow(a: Float64Array, n: number): Float64Array {
  if (a.length >= n) return a;
  const b = new Float64Array(Math.max(n, Math.ceil(a.length * 1.5) + 16));
  b.set(a);
  return b;
}

/** Column store of component statistics; coordinates are global voxel indices (z, y, x). */
export class StatsColumns {
  size = 0;
  count: Float64Array;
  /** C-order linear index of the component's first voxel: orders components like scipy/skimage label numbers. */
  first: Float64Array;
  sumZ: Float64Array;
  sumY: Float64Array;
  sumX: Float64Array;
  /** Bounding box, inclusive voxel indices: [minZ, minY, minX, maxZ, maxY, maxX] per component (stride 6). */
  bbox: Float64Array;
  /** Sum and minimum of voxel-centre depths (um). */
  sumDepth: Float64Array;
  minDepth: Float64Array;
  /** Exposed voxel faces normal to z, y and x. */
  faceZ: Float64Array;
  faceY: Float64Array;
  faceX: Float64Array;
  overlap: Float64Array;

  constructor(
    readonly flags: PropertyFlags,
    capacity = 64,
  ) {
    this.count = new Float64Array(capacity);
    this.first = new Float64Array(capacity);
    const opt = (on: boolean, k = 1) => new Float64Array(on ? capacity * k : 0);
    this.sumZ = opt(flags.centroid);
    this.sumY = opt(flags.centroid);
    this.sumX = opt(flags.centroid);
    this.bbox = opt(flags.bbox, 6);
    this.sumDepth = opt(flags.depth);
    this.minDepth = opt(flags.depth);
    this.faceZ = opt(flags.surface);
    this.faceY = opt(flags.surface);
    this.faceX = opt(flags.surface);
    this.overlap = opt(flags.overlap);
  }

  /** Makes room for `n` components. */
  reserve(n: number): void {
    if (this.count.length >= n) return;
    const f = this.flags;
    this.count = grow(this.count, n);
    this.first = grow(this.first, n);
    const cap = this.count.length;
    if (f.centroid) {
      this.sumZ = grow(this.sumZ, cap);
      this.sumY = grow(this.sumY, cap);
      this.sumX = grow(this.sumX, cap);
    }
    if (f.bbox) this.bbox = grow(this.bbox, cap * 6);
    if (f.depth) {
      this.sumDepth = grow(this.sumDepth, cap);
      this.minDepth = grow(this.minDepth, cap);
    }
    if (f.surface) {
      this.faceZ = grow(this.faceZ, cap);
      this.faceY = grow(this.faceY, cap);
      this.faceX = grow(this.faceX, cap);
    }
    if (f.overlap) this.overlap = grow(this.overlap, cap);
  }

  /** Appends an empty component whose first voxel has C-order index `first`; returns its index. */
  push(first: number): number {
    const i = this.size++;
    this.reserve(this.size);
    this.count[i] = 0;
    this.first[i] = first;
    const f = this.flags;
    if (f.centroid) this.sumZ[i] = this.sumY[i] = this.sumX[i] = 0;
    if (f.bbox) {
      const b = i * 6;
      this.bbox[b] = this.bbox[b + 1] = this.bbox[b + 2] = Infinity;
      this.bbox[b + 3] = this.bbox[b + 4] = this.bbox[b + 5] = -Infinity;
    }
    if (f.depth) {
      this.sumDepth[i] = 0;
      this.minDepth[i] = Infinity;
    }
    if (f.surface) this.faceZ[i] = this.faceY[i] = this.faceX[i] = 0;
    if (f.overlap) this.overlap[i] = 0;
    return i;
  }

  /** Adds the run of voxels x0..x1 (inclusive) at (z, y) to component i (count, centroid sums, bbox). */
  addRun(i: number, z: number, y: number, x0: number, x1: number): void {
    const n = x1 - x0 + 1;
    this.count[i] = (this.count[i] ?? 0) + n;
    const f = this.flags;
    if (f.centroid) {
      this.sumZ[i] = (this.sumZ[i] ?? 0) + (z * n);
      this.sumY[i] = (this.sumY[i] ?? 0) + (y * n);
      // Arithmetic series: exact in float64 while (x0 + x1) * n < 2^53.
      this.sumX[i] = (this.sumX[i] ?? 0) + (((x0 + x1) * n) / 2);
    }
    if (f.bbox) {
      const b = i * 6;
      const bb = this.bbox;
      if (z < bb[b]!) bb[b] = z;
      if (y < bb[b + 1]!) bb[b + 1] = y;
      if (x0 < bb[b + 2]!) bb[b + 2] = x0;
      if (z > bb[b + 3]!) bb[b + 3] = z;
      if (y > bb[b + 4]!) bb[b + 4] = y;
      if (x1 > bb[b + 5]!) bb[b + 5] = x1;
    }
  }

  /** Adds component j of `src` into component i of this store. */
  mergeFrom(i: number, src: StatsColumns, j: number): void {
    this.count[i] = (this.count[i] ?? 0) + src.count[j]!;
    if (src.first[j]! < this.first[i]!) this.first[i] = src.first[j]!;
    const f = this.flags;
    if (f.centroid) {
      this.sumZ[i] = (this.sumZ[i] ?? 0) + src.sumZ[j]!;
      this.sumY[i] = (this.sumY[i] ?? 0) + src.sumY[j]!;
      this.sumX[i] = (this.sumX[i] ?? 0) + src.sumX[j]!;
    }
    if (f.bbox) {
      const a = i * 6;
      const b = j * 6;
      for (let k = 0; k < 3; k++) {
        if (src.bbox[b + k]! < this.bbox[a + k]!) this.bbox[a + k] = src.bbox[b + k]!;
        if (src.bbox[b + 3 + k]! > this.bbox[a + 3 + k]!) this.bbox[a + 3 + k] = src.bbox[b + 3 + k]!;
      }
    }
    if (f.depth) {
      this.sumDepth[i] = (this.sumDepth[i] ?? 0) + src.sumDepth[j]!;
      if (src.minDepth[j]! < this.minDepth[i]!) this.minDepth[i] = src.minDepth[j]!;
    }
    if (f.surface) {
      this.faceZ[i] = (this.faceZ[i] ?? 0) + src.faceZ[j]!;
      this.faceY[i] = (this.faceY[i] ?? 0) + src.faceY[j]!;
      this.faceX[i] = (this.faceX[i] ?? 0) + src.faceX[j]!;
    }
    if (f.overlap) this.overlap[i] = (this.overlap[i] ?? 0) + src.overlap[j]!;
  }

  /** Appends a copy of component j of `src`; returns the new index. */
  append(src: StatsColumns, j: number): number {
    const i = this.push(src.first[j]!);
    this.mergeFrom(i, src, j);
    return i;
  }

  /** Reorders components by first-voxel index (the numbering scipy.ndimage.label and skimage.measure.label use). */
  sortByFirstVoxel(): void {
    const n = this.size;
    const order = Array.from({ length: n }, (_, i) => i);
    const first = this.first;
    order.sort((a, b) => first[a]! - first[b]!);
    const permute = (a: Float64Array, k = 1): Float64Array => {
      if (a.length === 0) return a;
      const out = new Float64Array(a.length);
      for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) out[i * k + c] = a[order[i]! * k + c]!;
      return out;
    };
    this.count = permute(this.count);
    this.first = permute(this.first);
    this.sumZ = permute(this.sumZ);
    this.sumY = permute(this.sumY);
    this.sumX = permute(this.sumX);
    this.bbox = permute(this.bbox, 6);
    this.sumDepth = permute(this.sumDepth);
    this.minDepth = permute(this.minDepth);
    this.faceZ = permute(this.faceZ);
    this.faceY = permute(this.faceY);
    this.faceX = permute(this.faceX);
    this.overlap = permute(this.overlap);
  }
}

/** Property names a caller may ask for. */
export type ComponentProperty = "centroid" | "bbox" | "depth" | "surface";

export function propertyFlags(props: readonly ComponentProperty[] = [], overlap = false): PropertyFlags {
  return {
    overlap,
    centroid: props.includes("centroid"),
    bbox: props.includes("bbox"),
    depth: props.includes("depth"),
    surface: props.includes("surface"),
  };
}
