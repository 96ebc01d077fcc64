import { describe, expect, it } from "vitest";
import { circuitImpedance, compileCircuit, parseCircuit, toParamVector } from "../../src/electrochem/index.js";
import { ParameterError } from "../../src/util/errors.js";
import { hasPythonModules, runPython } from "../helpers/python.js";

// Independent complex arithmetic for closed forms (written from the textbook formulas, not from the module).
type Cx = [number, number];
const add = (a: Cx, b: Cx): Cx => [a[0] + b[0], a[1] + b[1]];
const mul = (a: Cx, b: Cx): Cx => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const div = (a: Cx, b: Cx): Cx => {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
};
const inv = (a: Cx): Cx => div([1, 0], a);
const par = (a: Cx, b: Cx): Cx => inv(add(inv(a), inv(b)));
const cosh = (z: Cx): Cx => [Math.cosh(z[0]) * Math.cos(z[1]), Math.sinh(z[0]) * Math.sin(z[1])];
const sinh = (z: Cx): Cx => [Math.sinh(z[0]) * Math.cos(z[1]), Math.cosh(z[0]) * Math.sin(z[1])];
const csqrt = (z: Cx): Cx => {
  const r = Math.hypot(z[0], z[1]);
  const t = Math.atan2(z[1], z[0]) / 2;
  return [Math.sqrt(r) * Math.cos(t), Math.sqrt(r) * Math.sin(t)];
};

const freqs = new Float64Array([1e6, 3.3e4, 1e3, 47, 1, 0.1, 0.013]);

function expectClose(got: { re_ohm: Float64Array; im_ohm: Float64Array }, want: (w: number) => Cx, rtol = 1e-10) {
  freqs.forEach((f, i) => {
    const z = want(2 * Math.PI * f);
    const scale = Math.hypot(z[0], z[1]);
    expect(Math.abs(got.re_ohm[i]! - z[0])).toBeLessThanOrEqual(rtol * scale);
    expect(Math.abs(got.im_ohm[i]! - z[1])).toBeLessThanOrEqual(rtol * scale);
  });
}

describe("parseCircuit", () => {
  it("parses the paper's two-arc circuit with impedance.py parameter names", () => {
    const c = parseCircuit("R0-p(R1,CPE1)-p(R2,CPE2)");
    expect(c.paramNames).toEqual(["R0", "R1", "CPE1_0", "CPE1_1", "R2", "CPE2_0", "CPE2_1"]);
    expect(c.elements.map((e) => e.type)).toEqual(["R", "R", "CPE", "R", "CPE"]);
    expect(c.root.kind).toBe("series");
  });

  it("names types with multi-letter prefixes and suffixes", () => {
    const c = parseCircuit("L0-R_s-p(R1,C1)-Wo1-Ws2-W3");
    expect(c.elements.map((e) => e.type)).toEqual(["L", "R", "R", "C", "Wo", "Ws", "W"]);
    expect(c.paramNames).toEqual(["L0", "R_s", "R1", "C1", "Wo1_0", "Wo1_1", "Ws2_0", "Ws2_1", "W3"]);
  });

  it.each([
    ["R0-p(R1,CPE1", "')'"],
    ["R0--R1", '"-"'],
    ["R0-X1", '"X1"'],
    ["R0-p(R1)", '")"'],
    ["R0-R0", '"R0"'],
    ["R0-p(R1,C1))", '")"'],
    ["R0+R1", '"+"'],
  ])("rejects %s naming the token", (text, token) => {
    let err: unknown;
    try {
      parseCircuit(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParameterError);
    expect((err as Error).message).toContain("column");
    expect((err as Error).message).toContain(token.replace(/'/g, ""));
  });
});

describe("element impedances against closed form", () => {
  it("R, C, L", () => {
    expectClose(circuitImpedance(parseCircuit("R1"), { R1: 12.5 }, freqs), () => [12.5, 0]);
    expectClose(circuitImpedance(parseCircuit("C1"), { C1: 2e-6 }, freqs), (w) => inv([0, w * 2e-6]));
    expectClose(circuitImpedance(parseCircuit("L1"), { L1: 3e-7 }, freqs), (w) => [0, w * 3e-7]);
  });

  it("CPE = 1/(Q (j w)^alpha)", () => {
    const Q = 3e-6;
    const a = 0.83;
    expectClose(circuitImpedance(parseCircuit("CPE1"), { CPE1_0: Q, CPE1_1: a }, freqs), (w) => {
      // (j w)^a = w^a (cos(a pi/2) + j sin(a pi/2))
      const jwA: Cx = [Math.pow(w, a) * Math.cos((a * Math.PI) / 2), Math.pow(w, a) * Math.sin((a * Math.PI) / 2)];
      return inv(mul([Q, 0], jwA));
    });
  });

  it("W = A (1 - j)/sqrt(w)", () => {
    expectClose(circuitImpedance(parseCircuit("W1"), { W1: 40 }, freqs), (w) => [40 / Math.sqrt(w), -40 / Math.sqrt(w)]);
  });

  it("Wo = Z0 coth(x)/x and Ws = Z0 tanh(x)/x with x = sqrt(j w tau)", () => {
    const Z0 = 25;
    const tau = 0.4;
    // Only frequencies where cosh/sinh of x do not overflow in the closed form.
    const zo = circuitImpedance(parseCircuit("Wo1"), { Wo1_0: Z0, Wo1_1: tau }, freqs);
    const zs = circuitImpedance(parseCircuit("Ws1"), { Ws1_0: Z0, Ws1_1: tau }, freqs);
    freqs.forEach((f, i) => {
      const w = 2 * Math.PI * f;
      const x = csqrt([0, w * tau]);
      if (x[0] > 300) {
        // coth, tanh -> 1: Z -> Z0 / x
        const lim = div([Z0, 0], x);
        expect(zo.re_ohm[i]).toBeCloseTo(lim[0], 12);
        expect(zs.im_ohm[i]).toBeCloseTo(lim[1], 12);
        return;
      }
      const coth = div(cosh(x), sinh(x));
      const tanh = div(sinh(x), cosh(x));
      const wo = mul([Z0, 0], div(coth, x));
      const ws = mul([Z0, 0], div(tanh, x));
      const s = Math.hypot(wo[0], wo[1]);
      expect(Math.abs(zo.re_ohm[i]! - wo[0])).toBeLessThan(1e-9 * s);
      expect(Math.abs(zo.im_ohm[i]! - wo[1])).toBeLessThan(1e-9 * s);
      expect(Math.abs(zs.re_ohm[i]! - ws[0])).toBeLessThan(1e-9 * Math.hypot(ws[0], ws[1]));
      expect(Math.abs(zs.im_ohm[i]! - ws[1])).toBeLessThan(1e-9 * Math.hypot(ws[0], ws[1]));
    });
    // Low-frequency limits: Ws -> Z0 (real), Wo -> capacitive.
    const zl = circuitImpedance(parseCircuit("Ws1"), { Ws1_0: Z0, Ws1_1: tau }, [1e-6]);
    expect(zl.re_ohm[0]).toBeCloseTo(Z0, 6);
  });

  it("series and nested parallel combine as 1/sum(1/Z)", () => {
    const c = parseCircuit("R0-p(R1,CPE1)-p(R2,C2,L2)-p(R3-W3,C3)");
    const prm = { R0: 5, R1: 100, CPE1_0: 1e-8, CPE1_1: 0.9, R2: 300, C2: 1e-5, L2: 1e-3, R3: 50, W3: 20, C3: 1e-4 };
    expectClose(circuitImpedance(c, prm, freqs), (w) => {
      const cpe = inv(mul([1e-8, 0], [Math.pow(w, 0.9) * Math.cos(0.45 * Math.PI), Math.pow(w, 0.9) * Math.sin(0.45 * Math.PI)]));
      const a = par([100, 0], cpe);
      const b = inv(add(add(inv([300, 0]), [0, w * 1e-5]), inv([0, w * 1e-3])));
      const c3 = par(add([50, 0], [20 / Math.sqrt(w), -20 / Math.sqrt(w)]), inv([0, w * 1e-4]));
      return add(add(add([5, 0], a), b), c3);
    });
  });

  it("names a missing parameter", () => {
    expect(() => circuitImpedance(parseCircuit("R0-p(R1,C1)"), { R0: 1, R1: 2 }, freqs)).toThrow(/C1/);
  });

  it("rejects non-positive frequencies", () => {
    expect(() => circuitImpedance(parseCircuit("R0"), { R0: 1 }, [10, 0])).toThrow(ParameterError);
  });
});

describe("analytic Jacobian", () => {
  it("matches central finite differences for every element type", () => {
    const c = parseCircuit("R0-L0-p(R1,CPE1)-p(R2,C2)-p(R3,Wo3)-Ws4-W5");
    const prm = {
      R0: 5, L0: 2e-7, R1: 100, CPE1_0: 1e-8, CPE1_1: 0.87, R2: 400, C2: 1e-6, R3: 30, Wo3_0: 20, Wo3_1: 0.5,
      Ws4_0: 12, Ws4_1: 3, W5: 7,
    };
    const p = toParamVector(c, prm);
    const ev = compileCircuit(c, freqs);
    const n = freqs.length;
    const k = p.length;
    const zr = new Float64Array(n), zi = new Float64Array(n), jr = new Float64Array(n * k), ji = new Float64Array(n * k);
    ev.evaluate(p, zr, zi, jr, ji);
    const pr = new Float64Array(n), pi = new Float64Array(n), mr = new Float64Array(n), mi = new Float64Array(n);
    for (let j = 0; j < k; j++) {
      const h = Math.abs(p[j]!) * 1e-6;
      const pp = Float64Array.from(p);
      pp[j] = (pp[j] ?? 0) + h;
      ev.evaluate(pp, pr, pi);
      pp[j] = (pp[j] ?? 0) - (2 * h);
      ev.evaluate(pp, mr, mi);
      for (let i = 0; i < n; i++) {
        const fdr = (pr[i]! - mr[i]!) / (2 * h);
        const fdi = (pi[i]! - mi[i]!) / (2 * h);
        const scale = Math.hypot(zr[i]!, zi[i]!) / Math.abs(p[j]!) + 1e-30;
        expect(Math.abs(jr[j * n + i]! - fdr)).toBeLessThan(1e-5 * scale);
        expect(Math.abs(ji[j * n + i]! - fdi)).toBeLessThan(1e-5 * scale);
      }
    }
  });
});

describe.skipIf(!hasPythonModules("numpy"))("cross-check with numpy (impedance.py's formulas)", () => {
  it("two-arc circuit with Warburg tails agrees with numpy complex arithmetic", () => {
    const c = parseCircuit("R0-p(R1,CPE1)-p(R2-Wo2,CPE2)-Ws3");
    const prm = { R0: 18, R1: 120, CPE1_0: 2e-8, CPE1_1: 0.92, R2: 650, Wo2_0: 80, Wo2_1: 2, CPE2_0: 1.2e-5, CPE2_1: 0.8, Ws3_0: 15, Ws3_1: 0.05 };
    const f = Array.from({ length: 25 }, (_, i) => 10 ** (6 - i * 0.3));
    const ours = circuitImpedance(c, prm, f);
    const script = `
import json, sys, numpy as np
f = np.array(json.loads(sys.argv[1])); p = json.loads(sys.argv[2]); w = 2*np.pi*f
cpe = lambda Q, a: 1/(Q*(1j*w)**a)
par = lambda a, b: 1/(1/a + 1/b)
def wo(Z0, tau):
    x = np.sqrt(1j*w*tau); return Z0/(np.sqrt(1j*w*tau)*np.tanh(x))
def ws(Z0, tau):
    x = np.sqrt(1j*w*tau); return Z0*np.tanh(x)/x
Z = p['R0'] + par(p['R1'], cpe(p['CPE1_0'], p['CPE1_1'])) + par(p['R2'] + wo(p['Wo2_0'], p['Wo2_1']), cpe(p['CPE2_0'], p['CPE2_1'])) + ws(p['Ws3_0'], p['Ws3_1'])
print(json.dumps([Z.real.tolist(), Z.imag.tolist()]))`;
    const [re, im] = JSON.parse(runPython(script, [JSON.stringify(f), JSON.stringify(prm)]).trim()) as [number[], number[]];
    re.forEach((r, i) => {
      const s = Math.hypot(r, im[i]!);
      expect(Math.abs(ours.re_ohm[i]! - r)).toBeLessThan(1e-10 * s);
      expect(Math.abs(ours.im_ohm[i]! - im[i]!)).toBeLessThan(1e-10 * s);
    });
  });
});
