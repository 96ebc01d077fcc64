/** The union-find the component labellers share: sets, roots and the earliest-id-is-root rule, against brute force. */
import { describe, expect, it } from "vitest";
import { DisjointSets, Mulberry32 } from "../../src/numerics/index.js";

describe("DisjointSets", () => {
  it("joins the same sets as a brute-force relabelling, and each set's root is its smallest id", () => {
    const rng = new Mulberry32(7);
    const n = 300;
    const sets = new DisjointSets(10);
    for (let i = 10; i < n; i++) expect(sets.add()).toBe(i);
    const label = Array.from({ length: n }, (_, i) => i); // brute force: every member carries the set's smallest id
    for (let k = 0; k < 400; k++) {
      const a = Math.floor(rng.next() * n);
      const b = Math.floor(rng.next() * n);
      const root = sets.union(a, b);
      const [la, lb] = [label[a]!, label[b]!];
      const lo = Math.min(la, lb);
      for (let i = 0; i < n; i++) if (label[i] === la || label[i] === lb) label[i] = lo;
      expect(root).toBe(lo);
    }
    for (let i = 0; i < n; i++) {
      expect(sets.find(i)).toBe(label[i]);
      expect(sets.isRoot(i)).toBe(label[i] === i);
    }
    expect(sets.size).toBe(n);
  });
});
