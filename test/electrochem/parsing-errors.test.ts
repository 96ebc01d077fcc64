/**
 * Cycler exports that would otherwise be read with shifted columns: a ',' separated CSV written with decimal
 * commas ("1000,5,12" is three cells, not 1000 and 5.12), and any data row with more cells than the header.
 * Each must be refused with a FileFormatError naming the file, the line and what was expected.
 */
import { describe, expect, it } from "vitest";
import { parseCsv, parseDta, parseMpt } from "../../src/electrochem/index.js";
import { FileFormatError } from "../../src/util/errors.js";

/** The error thrown by fn (fails the test when nothing is thrown). */
function thrown(fn: () => unknown): FileFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FileFormatError);
    return e as FileFormatError;
  }
  throw new Error("expected a FileFormatError, nothing was thrown");
}

describe("CSV rows longer than the header", () => {
  it("a ',' separated file with decimal commas is refused, not read with shifted columns", () => {
    // 1000 Hz, Re 5.12, -Im 4.5 written in a comma locale with ',' as the separator
    const text = "freq/Hz,Re(Z)/Ohm,-Im(Z)/Ohm\n1000,5,12,4,5\n100,7,25,9,75\n";
    const e = thrown(() => parseCsv(text, "comma-locale.csv"));
    expect(e.details.path).toBe("comma-locale.csv");
    expect(e.details.location).toBe("line 2");
    expect(e.message).toMatch(/more columns than the header/);
    expect(e.details.expected).toMatch(/3 columns/);
    expect(e.details.got).toMatch(/5 columns/);
    // the likely cause is named, so the user knows to re-export with ';' or decimal points
    expect(e.message).toMatch(/decimal comma/);
  });

  it("the first offending row is named even when earlier rows happen to fit", () => {
    // integers fit the header; the first value with a decimal comma spills over on line 4
    const text = "time/s,Ewe/V\n0,3\n10,3\n20,3,05\n";
    const e = thrown(() => parseCsv(text, "spill.csv"));
    expect(e.details.location).toBe("line 4");
  });

  it("a ';' separated file with an extra value in a row is refused", () => {
    const e = thrown(() => parseCsv("freq/Hz;Re/Ohm\n1;2\n3;4;5\n", "extra.csv"));
    expect(e.details.location).toBe("line 3");
    expect(e.details.got).toMatch(/3 columns/);
  });

  it("a trailing separator (an empty last cell) is not an extra column", () => {
    const t = parseCsv("time_s,Ewe_V\n0,0.1,\n10,0.2,\n", "trailing.csv");
    expect(Array.from(t.columns.Ewe_V!)).toEqual([0.1, 0.2]);
  });

  it("quoted cells may hold a decimal comma in a ',' separated file", () => {
    const t = parseCsv('"freq/Hz","Re(Z)/Ohm","-Im(Z)/Ohm"\n"1000","5,12","4,5"\n', "quoted.csv");
    expect(t.columns.freq_Hz![0]).toBe(1000);
    expect(t.columns.re_ohm![0]).toBeCloseTo(5.12, 14);
    expect(t.columns.im_ohm![0]).toBeCloseTo(-4.5, 14);
  });
});

describe("EC-Lab and Gamry rows longer than the header", () => {
  const mpt = (row: string) =>
    ["EC-Lab ASCII FILE", "Nb header lines : 4", "", "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm", "1,0E+003\t5,0E+000\t4,0E+000\t", row, ""].join("\r\n");

  it("EC-Lab's trailing tab is accepted; a row with an extra value is refused by line", () => {
    expect(parseMpt(mpt("1,0E+002\t6,0E+000\t5,0E+000\t"), "ok.mpt").columns.freq_Hz!.length).toBe(2);
    const e = thrown(() => parseMpt(mpt("1,0E+002\t6,0E+000\t5,0E+000\t7,0E+000"), "extra.mpt"));
    expect(e.details.path).toBe("extra.mpt");
    expect(e.details.location).toBe("line 6");
  });

  it("a Gamry ZCURVE row with an extra value is refused by line", () => {
    const lines = ["ZCURVE\tTABLE", "\tPt\tFreq\tZreal\tZimag", "\t#\tHz\tohm\tohm", "\t0\t1000\t5\t-4", "\t1\t100\t6\t-5\t99"];
    const e = thrown(() => parseDta(lines.join("\r\n"), "extra.DTA"));
    expect(e.details.location).toBe("line 5");
  });
});
