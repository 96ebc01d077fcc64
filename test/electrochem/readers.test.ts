import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  circuitImpedance,
  fitCircuit,
  parseCircuit,
  parseCsv,
  parseDta,
  parseMpt,
  readCsv,
  readDta,
  readMpt,
  readTable,
  spectraFromTable,
  spectrumFromTable,
} from "../../src/electrochem/index.js";
import { FileFormatError } from "../../src/util/errors.js";

const dir = mkdtempSync(join(tmpdir(), "ssb-ct-readers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRUTH = { R0: 60, R1: 180, CPE1_0: 1.5e-8, CPE1_1: 0.93, R2: 450, CPE2_0: 1.4e-5, CPE2_1: 0.88 };
const F = Array.from({ length: 41 }, (_, i) => 3e6 * Math.pow(10, -i / 6));
const Z = circuitImpedance(parseCircuit("R0-p(R1,CPE1)-p(R2,CPE2)"), TRUTH, F);

/** EC-Lab writes numbers like 1,2345670E+003 in comma locales. */
const ecNum = (x: number, comma: boolean) => {
  const s = x.toExponential(7).replace(/e([+-])(\d)$/, "E$10$2").replace(/e/, "E");
  return comma ? s.replace(".", ",") : s;
};

function mptText(comma: boolean, sweeps = 1): string {
  const header = [
    "EC-Lab ASCII FILE",
    "Nb header lines : 7",
    "",
    "Potentio Electrochemical Impedance Spectroscopy",
    "Électrode de travail : Li | Li3PS4 | Li", // Latin-1 accented text in the header
    "Temperature : 25 °C",
    ["freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "|Z|/Ohm", "time/s", "<Ewe>/V", "<I>/mA", "Température/°C"].join("\t"),
  ];
  const rows: string[] = [];
  for (let s = 0; s < sweeps; s++) {
    F.forEach((f, i) => {
      const re = Z.re_ohm[i]! * (1 + 0.1 * s);
      const im = Z.im_ohm[i]!;
      rows.push([f, re, -im, Math.hypot(re, im), 10 * i + 1000 * s, 0.001, 0, 25].map((x) => ecNum(x, comma)).join("\t") + "\t");
    });
  }
  return header.join("\r\n") + "\r\n" + rows.join("\r\n") + "\r\n";
}

describe("BioLogic .mpt", () => {
  it("reads a Latin-1 file with decimal commas and flips -Im(Z)", async () => {
    const path = join(dir, "eis_comma.mpt");
    writeFileSync(path, Buffer.from(mptText(true), "latin1"));
    const t = await readTable(path);
    expect(Object.keys(t.columns)).toEqual(["freq_Hz", "re_ohm", "im_ohm", "mod_ohm", "time_s", "Ewe_V", "I_mA", "Temp_rature_degC"]);
    const s = spectrumFromTable(t);
    F.forEach((f, i) => {
      expect(s.freq_Hz[i]! / f).toBeCloseTo(1, 6);
      expect(s.re_ohm[i]! / Z.re_ohm[i]!).toBeCloseTo(1, 6);
      expect(s.im_ohm[i]! / Z.im_ohm[i]!).toBeCloseTo(1, 6); // negative: capacitive
    });
    expect(s.im_ohm[20]!).toBeLessThan(0);
    expect(t.meta["Electrode de travail"] ?? t.meta["Électrode de travail"]).toBe("Li | Li3PS4 | Li");
    // The fit of the file recovers the truth it was written from
    const r = fitCircuit("R0-p(R1,CPE1)-p(R2,CPE2)", s);
    expect(r.params.R2! / TRUTH.R2).toBeCloseTo(1, 4);
  });

  it("returns a danfojs DataFrame", async () => {
    const path = join(dir, "eis_dot.mpt");
    writeFileSync(path, Buffer.from(mptText(false), "latin1"));
    const df = await readMpt(path);
    expect(df.shape).toEqual([F.length, 8]);
    const re = df.column("re_ohm").values as number[];
    expect(re[3]! / Z.re_ohm[3]!).toBeCloseTo(1, 6);
  });

  it("splits consecutive sweeps", () => {
    const t = parseMpt(Buffer.from(mptText(false, 3), "latin1"), "three.mpt");
    const sp = spectraFromTable(t);
    expect(sp.length).toBe(3);
    expect(sp[2]!.re_ohm[0]! / sp[0]!.re_ohm[0]!).toBeCloseTo(1.2, 6);
  });

  it("errors name the file, line and column", () => {
    const bad = mptText(false).split("\r\n");
    bad[10] = bad[10]!.replace(/^[^\t]+/, "abc");
    expect(() => parseMpt(bad.join("\n"), "bad.mpt")).toThrow(/bad\.mpt.*line 11.*freq\/Hz/);
    expect(() => parseMpt("hello\nworld", "x.mpt")).toThrow(/x\.mpt.*line 1/);
    const noIm = mptText(false).replace("-Im(Z)/Ohm", "foo/Ohm");
    expect(() => spectrumFromTable(parseMpt(noIm, "noim.mpt"))).toThrow(/noim\.mpt.*im_ohm/);
    const nan = mptText(false).split("\r\n");
    nan[9] = nan[9]!.replace(/\t[^\t]+/, "\tNaN");
    let err: unknown;
    try {
      spectrumFromTable(parseMpt(nan.join("\n"), "nan.mpt"));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileFormatError);
    expect(String(err)).toMatch(/nan\.mpt.*line 10.*re_ohm/);
  });
});

describe("Gamry .DTA", () => {
  function dta(): string {
    const lines = [
      "EXPLAIN",
      "TAG\tEISPOT",
      "TITLE\tLABEL\tPotentiostatic EIS\tTest &Identifier",
      "AREA\tQUANT\t0,785\tSample &Area (cm^2)",
      "ZCURVE\tTABLE",
      "\tPt\tTime\tFreq\tZreal\tZimag\tZsig\tZmod\tZphz\tIdc\tVdc\tIERange",
      "\t#\ts\tHz\tohm\tohm\tV\tohm\t°\tA\tV\t#",
    ];
    F.forEach((f, i) => {
      const re = Z.re_ohm[i]!;
      const im = Z.im_ohm[i]!;
      lines.push(["", i, 2 * i, f, re, im, 0.01, Math.hypot(re, im), (Math.atan2(im, re) * 180) / Math.PI, 1e-9, 0.001, 7].join("\t"));
    });
    lines.push("EXPERIMENTABORTED\tTOGGLE\tT\tExperiment Aborted");
    lines.push("\t999\t1\t1\t1\t1\t1\t1\t1\t1\t1\t1");
    return lines.join("\r\n");
  }
  it("reads the ZCURVE table up to EXPERIMENTABORTED", async () => {
    const path = join(dir, "eis.DTA");
    writeFileSync(path, Buffer.from(dta(), "latin1"));
    const t = parseDta(Buffer.from(dta(), "latin1"), path);
    expect(t.columns.freq_Hz!.length).toBe(F.length);
    const s = spectrumFromTable(t);
    expect(s.im_ohm[10]! / Z.im_ohm[10]!).toBeCloseTo(1, 12);
    expect(t.info.find((c) => c.name === "phase_deg")!.unit).toBe("deg");
    const df = await readDta(path);
    expect(df.shape[0]).toBe(F.length);
  });
  it("a file without a curve table is rejected naming the file", () => {
    expect(() => parseDta("EXPLAIN\nTAG\tEISPOT\n", "empty.DTA")).toThrow(/empty\.DTA/);
  });
});

describe("CSV with unit-bearing names", () => {
  it("converts kOhm and mHz, flips -Z'', reads ';' with decimal commas", async () => {
    const rows = F.map((f, i) =>
      [(f * 1e3).toString(), (Z.re_ohm[i]! / 1e3).toString(), (-Z.im_ohm[i]! / 1e3).toString()].map((x) => x.replace(".", ",")).join(";"),
    );
    const path = join(dir, "eis.csv");
    writeFileSync(path, ["Frequency (mHz);Z' [kOhm];-Z'' [kOhm]", ...rows].join("\n"));
    const t = parseCsv(Buffer.from(["Frequency (mHz);Z' [kOhm];-Z'' [kOhm]", ...rows].join("\n")), path);
    const s = spectrumFromTable(t);
    expect(s.freq_Hz[5]! / F[5]!).toBeCloseTo(1, 12);
    expect(s.re_ohm[5]! / Z.re_ohm[5]!).toBeCloseTo(1, 12);
    expect(s.im_ohm[5]! / Z.im_ohm[5]!).toBeCloseTo(1, 12);
    const df = await readCsv(path);
    expect(df.columns).toEqual(["freq_Hz", "re_ohm", "im_ohm"]);
  });
  it("reads canonical names and plain commas; a short row names its line", () => {
    const t = parseCsv("time_s,Ewe_V,I_mA\n0,0.1,0.6\n10,0.0912345678901234,0.6\n", "g.csv");
    expect(Array.from(t.columns.Ewe_V!)).toEqual([0.1, 0.0912345678901234]); // doubles, not float32
    expect(() => parseCsv("time/h,Ewe/mV\n1,2\n3\n", "short.csv")).toThrow(/short\.csv.*line 3/);
    const h = parseCsv("time/h,Ewe/mV\n1,2\n", "h.csv");
    expect(h.columns.time_s![0]).toBe(3600);
    expect(h.columns.Ewe_V![0]).toBeCloseTo(0.002, 15);
  });
});
