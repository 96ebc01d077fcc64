/**
 * Union-find over dense integer ids (the connected-component labellers: blocks joined across faces, planes swept in
 * a slab, slabs joined at a shard border). Path halving in `find`; `link` makes the smaller root the parent, so a
 * component's root is its earliest id whatever order the unions come in, and labels stay reproducible.
 */
import { ParameterError } from "../util/errors.js";

/** Largest id an Int32Array parent table can hold. */
const MAX_ID = 2 ** 31 - 2;

export class DisjointSets {
  private parent: Int32Array;
  private n: number;

  /**
   * `count` ids 0 .. count-1, each its own set; `add` appends more (the table grows by `growth`).
   */
  constructor(count = 0, private readonly growth = 2) {
    this.parent = new Int32Array(Math.max(16, count));
    for (let i = 0; i < count; i++) this.parent[i] = i;
    this.n = count;
  }

  /** Number of ids. */
  get size(): number {
    return this.n;
  }

  /** A new id in a set of its own. */
  add(): number {
    const id = this.n;
    if (id > MAX_ID) throw new ParameterError("too many sets for int32 ids", { field: "ids", expected: `<= ${MAX_ID}`, got: String(id) });
    if (id >= this.parent.length) {
      const p = new Int32Array(Math.min(MAX_ID + 1, Math.max(id + 1, Math.ceil(this.parent.length * this.growth))));
      p.set(this.parent);
      this.parent = p;
    }
    this.parent[id] = id;
    this.n++;
    return id;
  }

  /** Whether i is the root of its set (each set has exactly one). */
  isRoot(i: number): boolean {
    return this.parent[i] === i;
  }

  /** Root of i's set. */
  find(i: number): number {
    const p = this.parent;
    let r = i;
    for (let up = p[r] ?? r; up !== r; up = p[r] ?? r) {
      const g = p[up] ?? up;
      p[r] = g;
      r = g;
    }
    return r;
  }

  /** Joins two roots (from `find`): the smaller becomes the parent. Returns the root of the joined set. */
  link(ra: number, rb: number): number {
    if (ra === rb) return ra;
    if (rb < ra) {
      this.parent[ra] = rb;
      return rb;
    }
    this.parent[rb] = ra;
    return ra;
  }

  /** Joins the sets of a and b; returns the root of the joined set. */
  union(a: number, b: number): number {
    return this.link(this.find(a), this.find(b));
  }
}
