import { describe, expect, it } from "vitest";
import { gaussian, levenbergMarquardt, seededRandom, type LeastSquaresProblem } from "../../src/numerics/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";

/** y = a exp(-b x) + c on x in [0, 4], with noise. */
function decay(noise: number) {
  const r = seededRandom(21);
  const x = Float64Array.from({ length: 40 }, (_, i) => (4 * i) / 39);
  const y = Float64Array.from(x, (xi) => 2.5 * Math.exp(-1.3 * xi) + 0.4 + noise * gaussian(r));
  const problem: LeastSquaresProblem = {
    k: 3,
    m: x.length,
    evaluate(u, res, J) {
      const [a = 0, b = 0, c = 0] = u;
      let cost = 0;
      x.forEach((xi, i) => {
        const e = Math.exp(-b * xi);
        const ri = a * e + c - (y[i] ?? 0);
        res[i] = ri;
        cost += ri * ri;
        J[i * 3] = e;
        J[i * 3 + 1] = -a * xi * e;
        J[i * 3 + 2] = 1;
      });
      return cost;
    },
  };
  return { x, y, problem };
}

describe("Levenberg-Marquardt", () => {
  it("recovers the parameters of noise-free data from a poor start", () => {
    const { problem } = decay(0);
    const out = levenbergMarquardt(problem, new Float64Array([1, 0.2, 0]), { maxIterations: 200 });
    expect(out.converged).toBe(true);
    expect(out.u[0]).toBeCloseTo(2.5, 8);
    expect(out.u[1]).toBeCloseTo(1.3, 8);
    expect(out.u[2]).toBeCloseTo(0.4, 8);
    expect(out.cost).toBeLessThan(1e-20);
  });

  it("keeps every iterate inside the projection's box (a held coordinate ends exactly on its bound)", () => {
    const { problem } = decay(0);
    const start = new Float64Array([1, 0.5, 0]);
    const startCost = problem.evaluate(start, new Float64Array(problem.m), new Float64Array(problem.m * problem.k));
    let outside = 0;
    const bounded: LeastSquaresProblem = {
      ...problem,
      project: (j, v) => (j === 2 ? Math.min(v, 0.1) : v),
      evaluate: (u, r, J) => {
        if ((u[2] ?? 0) > 0.1) outside++;
        return problem.evaluate(u, r, J);
      },
    };
    const out = levenbergMarquardt(bounded, start, { maxIterations: 100 });
    expect(outside).toBe(0);
    expect(out.u[2]).toBe(0.1);
    expect(out.cost).toBeLessThan(0.5 * startCost);
  });

  it.skipIf(!hasPythonModules("numpy", "scipy"))("noisy data: the same minimum as scipy.optimize.least_squares", () => {
    const { x, y, problem } = decay(0.02);
    const out = levenbergMarquardt(problem, new Float64Array([1, 0.5, 0]), { maxIterations: 300 });
    const ref = JSON.parse(
      runPython(
        "import json,sys,numpy as np; from scipy.optimize import least_squares as ls; d=json.load(sys.stdin); x=np.array(d['x']); y=np.array(d['y']);" +
          "r=ls(lambda p: p[0]*np.exp(-p[1]*x)+p[2]-y, [1,0.5,0], method='lm', xtol=1e-15, ftol=1e-15, gtol=1e-15); print(json.dumps({'p': r.x.tolist(), 'cost': float(2*r.cost)}))",
        [],
        { input: JSON.stringify({ x: Array.from(x), y: Array.from(y) }) },
      ),
    ) as { p: number[]; cost: number };
    ref.p.forEach((v, j) => expect(out.u[j]).toBeCloseTo(v, 7));
    expect(out.cost / ref.cost - 1).toBeLessThan(1e-9);
  });
});
