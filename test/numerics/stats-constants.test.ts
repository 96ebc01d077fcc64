import { describe, expect, it } from "vitest";
import {
  FARADAY_C_PER_MOL,
  LI_UM_PER_MAH_CM2,
  median,
  medianInPlace,
  MOLAR_VOLUME_CM3_PER_MOL,
  percentileSorted,
  quantileNearestSorted,
  RT_F_V,
  seededRandom,
} from "../../src/numerics/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";

describe("constants", () => {
  it("Faraday's law: 4.85 um of dense Li per mAh/cm2; 0.8 mA/cm2 x 3.2 h = 12.4 um (the paper's numbers)", () => {
    expect(LI_UM_PER_MAH_CM2).toBeCloseTo(4.85, 2);
    expect(0.8 * 3.2 * LI_UM_PER_MAH_CM2).toBeCloseTo(12.4, 1);
    // e N_A with the exact SI values
    expect(FARADAY_C_PER_MOL).toBeCloseTo(1.602176634e-19 * 6.02214076e23, 5);
    expect(RT_F_V * 1000).toBeCloseTo(25.693, 3);
  });

  it("decomposition products take about 1.53x the volume of the glass (shared/reference: 146.9 cm3 per mol Li3PS4)", () => {
    const v = MOLAR_VOLUME_CM3_PER_MOL;
    const products = 4 * v.Li2S + v.Li3P;
    expect(products).toBeCloseTo(146.9, 1);
    expect(products / v.Li3PS4).toBeCloseTo(1.53, 2);
  });
});

describe("order statistics", () => {
  it("median of odd, even and empty samples, without changing the input", () => {
    const xs = [5, 1, 4, 2];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 4, 2]);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNaN();
    expect(medianInPlace(new Float64Array([9, 7, 8, 100]), 3)).toBe(8);
  });

  it("quantileNearestSorted picks the order statistic at round(f (n-1)), clamped; NaN when empty", () => {
    const s = [10, 20, 30, 40, 50];
    expect(quantileNearestSorted(s, 0)).toBe(10);
    expect(quantileNearestSorted(s, 0.5)).toBe(30);
    expect(quantileNearestSorted(s, 0.62)).toBe(30); // 2.48 -> 2
    expect(quantileNearestSorted(s, 0.63)).toBe(40); // 2.52 -> 3
    expect(quantileNearestSorted(s, 1.5)).toBe(50);
    expect(quantileNearestSorted([], 0.5)).toBeNaN();
  });

  it.skipIf(!hasPythonModules("numpy"))("percentileSorted matches numpy.percentile (linear) and median numpy.median", () => {
    const r = seededRandom(11);
    const xs = Array.from({ length: 101 }, () => r() * 10 - 3);
    const qs = [0, 0.5, 12.5, 50, 99.5, 100];
    const ref = JSON.parse(
      runPython("import json,sys,numpy as np; d=json.load(sys.stdin); x=np.array(d['x']); print(json.dumps([float(np.percentile(x, q)) for q in d['q']] + [float(np.median(x[:100]))]))", [], {
        input: JSON.stringify({ x: xs, q: qs }),
      }),
    ) as number[];
    const sorted = Float64Array.from(xs).sort();
    qs.forEach((q, i) => expect(percentileSorted(sorted, q)).toBeCloseTo(ref[i]!, 12));
    expect(median(xs.slice(0, 100))).toBeCloseTo(ref[qs.length]!, 12);
  });
});
