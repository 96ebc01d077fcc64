/**
 * `ssbct fit-eis` and `ssbct xas` on the twin's spectra written out as a cycler export and text spectra would be:
 * the fitted circuit and the LCF weights recover the twin's true values, --out writes JSON once and refuses other
 * content, and bad input names the file or option.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.js";
import { expectOneLineError, ssbct } from "./ssbct.js";

const cwd = tempDir();
interface Spectrum { circuit: string; params: Record<string, number>; freq_Hz: number[]; re_ohm: number[]; im_ohm: number[] }
interface Xas { E_eV: number[]; mu: number[]; fractions: Record<string, number> }
let truth: Spectrum;
let mixture: Xas;

beforeAll(async () => {
  const t = await ssbct(["twin", "--preset", "ci", "--times", "0,3.2", "--out", "ci.ome.zarr"], { cwd });
  expect(t.status, t.stderr).toBe(0);
  const ec = JSON.parse(readFileSync(join(cwd, "ci.ome.zarr/twin-electrochem.json"), "utf8")) as { impedance: Spectrum[] };
  truth = ec.impedance[1]!;
  // a CSV with unit-bearing headers, kOhm for Re Z to exercise the unit conversion
  const rows = truth.freq_Hz.map((f, i) => `${f},${truth.re_ohm[i]! / 1000},${truth.im_ohm[i]}`);
  writeFileSync(join(cwd, "eis.csv"), ["freq/Hz,Re(Z) [kOhm],Im(Z) [Ohm]", ...rows].join("\n") + "\n");
  const xas = JSON.parse(readFileSync(join(cwd, "ci.ome.zarr/twin-xas.json"), "utf8")) as { references: Xas[]; measured: Xas[] };
  const write = (name: string, s: Xas) => writeFileSync(join(cwd, name), "# energy in eV, absorption\nenergy_eV\tmu\n" + s.E_eV.map((e, i) => `${e}\t${s.mu[i]}`).join("\n") + "\n");
  write("lps.txt", xas.references[0]!);
  write("li2s.txt", xas.references[1]!);
  mixture = xas.measured[1]!;
  write("sample.txt", mixture);
});

describe("ssbct fit-eis", () => {
  it("fits the circuit and recovers the twin's resistances within their errors", async () => {
    const r = await ssbct(["fit-eis", "eis.csv", "--circuit", truth.circuit, "--out", "fit.json", "--json"], { cwd });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { fits: Array<{ parameters: Record<string, { value: number; stdErr: number; unit: string }> }> };
    const p = j.fits[0]!.parameters;
    expect(p.R0!.unit).toBe("ohm");
    expect(p.CPE1_0!.unit).toBe("F s^(alpha-1)");
    // the twin's spectra carry measurement noise: R0 within 2 %, and the fitted values have finite errors
    expect(Math.abs(p.R0!.value - truth.params.R0!) / truth.params.R0!).toBeLessThan(0.02);
    for (const v of Object.values(p)) expect(Number.isFinite(v.stdErr)).toBe(true);
    const file = JSON.parse(readFileSync(join(cwd, "fit.json"), "utf8")) as { fits: Array<{ freq_Hz: number[] }> };
    expect(file.fits[0]!.freq_Hz.length).toBe(truth.freq_Hz.length);
    const text = await ssbct(["fit-eis", "eis.csv", "--circuit", truth.circuit, "--out", "fit.json"], { cwd });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^sweep 0 \(\d+ points, modulus weighting/);
    expect(text.stdout).toMatch(/R0 +[\d.]+ \+\/- [\d.e-]+ ohm/);
    // another circuit into the same file: refused unless --overwrite
    const other = await ssbct(["fit-eis", "eis.csv", "--circuit", "R0-p(R1,CPE1)", "--out", "fit.json"], { cwd });
    expect(other.status).toBe(2);
    expect(expectOneLineError(other, "fit-eis")).toMatch(/--out already exists with other content/);
  });

  it("names a bad circuit, a missing column and a missing sweep", async () => {
    writeFileSync(join(cwd, "nofreq.csv"), "time_s,Ewe_V\n0,1\n1,2\n");
    const [c, col, sw] = await Promise.all([
      ssbct(["fit-eis", "eis.csv", "--circuit", "R0-p(R1,CPE1"], { cwd }),
      ssbct(["fit-eis", "nofreq.csv", "--circuit", "R0"], { cwd }),
      ssbct(["fit-eis", "eis.csv", "--circuit", "R0", "--sweep", "3"], { cwd }),
    ]);
    expect(c.status).toBe(2);
    expect(expectOneLineError(c, "fit-eis")).toMatch(/--circuit: circuit string does not parse; at: column 13/);
    expect(col.status).toBe(2);
    expect(expectOneLineError(col, "fit-eis")).toMatch(/nofreq\.csv.*freq_Hz|freq_Hz.*nofreq\.csv/);
    expect(sw.status).toBe(2);
    expect(expectOneLineError(sw, "fit-eis")).toMatch(/--sweep 3: the file holds 1 sweep\(s\)/);
  });
});

describe("ssbct xas", () => {
  it("normalises the sample and the LCF recovers the twin's fractions", async () => {
    const r = await ssbct(["xas", "sample.txt", "--standard", "Li3PS4=lps.txt", "--standard", "Li2S=li2s.txt", "--sum-to-one", "--json"], { cwd });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { normalisation: { e0_eV: number; edgeStep: number }; lcf: { names: string[]; weights: number[] } };
    expect(j.lcf.names).toEqual(["Li3PS4", "Li2S"]);
    expect(j.lcf.weights[0]!).toBeCloseTo(mixture.fractions.Li3PS4!, 1);
    expect(j.lcf.weights[1]!).toBeCloseTo(mixture.fractions.Li2S!, 1);
    const text = await ssbct(["xas", "sample.txt", "--out", "norm.json"], { cwd });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^sample.txt: E0 [\d.]+ eV, edge step/);
    expect(JSON.parse(readFileSync(join(cwd, "norm.json"), "utf8")).norm.length).toBe(mixture.E_eV.length);
  });

  it("names a bad spectrum line and an E0 outside the scan", async () => {
    writeFileSync(join(cwd, "bad.txt"), "energy,mu\n1,2\n2,x\n3,4\n4,5\n5,6\n6,7\n");
    const [bad, e0] = await Promise.all([ssbct(["xas", "bad.txt"], { cwd }), ssbct(["xas", "sample.txt", "--e0", "100"], { cwd })]);
    expect(bad.status).toBe(2);
    expect(expectOneLineError(bad, "xas")).toMatch(/not a number in the spectrum; path: bad\.txt; at: line 3/);
    expect(e0.status).toBe(2);
    expect(expectOneLineError(e0, "xas")).toMatch(/E0/);
  });
});
