import { describe, expect, it } from "vitest";
import { gaussian, lstsq, nnls, seededRandom, spdInverse, symmetricEigen } from "../../src/numerics/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";

function randomProblem(m: number, n: number, seed: number) {
  const r = seededRandom(seed);
  const a = Float64Array.from({ length: m * n }, () => gaussian(r));
  const b = Float64Array.from({ length: m }, () => gaussian(r));
  return { a, b };
}

describe("small dense linear algebra", () => {
  it("spdInverse inverts and symmetricEigen reconstructs", () => {
    const a = new Float64Array([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2]);
    const inv = spdInverse(a, 3)!;
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * inv[k * 3 + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    const { values, vectors } = symmetricEigen(a, 3);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let e = 0; e < 3; e++) s += vectors[i * 3 + e]! * values[e]! * vectors[j * 3 + e]!;
        expect(s).toBeCloseTo(a[i * 3 + j]!, 10);
      }
    expect(spdInverse(new Float64Array([1, 1, 1, 1]), 2)).toBeNull();
  });
});

describe.skipIf(!hasPythonModules("numpy", "scipy"))("against numpy / scipy", () => {
  it("lstsq matches numpy.linalg.lstsq and nnls matches scipy.optimize.nnls", () => {
    const problems = [randomProblem(30, 5, 1), randomProblem(50, 8, 2), randomProblem(12, 4, 3)];
    const script = `
import json, sys, numpy as np
from scipy.optimize import nnls
out = []
for p in json.loads(sys.stdin.read()):
    a = np.array(p["a"]).reshape(p["m"], p["n"]); b = np.array(p["b"])
    out.append({"ls": np.linalg.lstsq(a, b, rcond=None)[0].tolist(), "nnls": nnls(a, b)[0].tolist()})
print(json.dumps(out))`;
    const input = JSON.stringify(problems.map((p) => ({ a: Array.from(p.a), b: Array.from(p.b), m: p.b.length, n: p.a.length / p.b.length })));
    const peer = JSON.parse(runPython(script, [], { input }).trim()) as Array<{ ls: number[]; nnls: number[] }>;
    problems.forEach((p, k) => {
      const m = p.b.length;
      const n = p.a.length / m;
      const ls = lstsq(p.a, m, n, p.b);
      const nn = nnls(p.a, m, n, p.b);
      peer[k]!.ls.forEach((v, j) => expect(ls[j]).toBeCloseTo(v, 10));
      peer[k]!.nnls.forEach((v, j) => expect(nn[j]).toBeCloseTo(v, 10));
      expect(nn.some((v) => v === 0)).toBe(true); // random problems have active constraints
    });
  });
});
