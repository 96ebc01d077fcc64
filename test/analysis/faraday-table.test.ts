/**
 * Faraday's law against the field's figure (4.85 um of dense Li per mAh/cm2; the paper's run, 0.8 mA/cm2 for
 * 3.2 h, is 12.4 um) and result tables against an independent CSV parse.
 */
import { describe, expect, it } from "vitest";
import { faradayThickness_um, faradayVolume_um3, sizeDistribution, toCsv, tableRows } from "../../src/analysis/index.js";
import { LI_UM_PER_MAH_CM2 } from "../../src/numerics/index.js";
import { ParameterError } from "../../src/util/errors.js";

describe("Faraday's law", () => {
  it("1 mAh/cm2 is 4.85 um of dense Li; 0.8 mA/cm2 x 3.2 h is 12.4 um", () => {
    expect(Math.abs(LI_UM_PER_MAH_CM2 - 4.85)).toBeLessThan(0.005);
    expect(Math.abs(faradayThickness_um(0.8, 3.2) - 12.4)).toBeLessThan(0.05);
    // Volume over an area: thickness times area.
    expect(faradayVolume_um3(0.8, 3.2, 100 * 100)).toBeCloseTo(faradayThickness_um(0.8, 3.2) * 1e4, 9);
  });
  it("rejects negative current or time", () => {
    expect(() => faradayThickness_um(-1, 1)).toThrow(ParameterError);
    expect(() => faradayThickness_um(1, -1)).toThrow(/time_h/);
  });
});

/** Minimal RFC 4180 reader, independent of the writer. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (q) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') q = false;
      else cell += ch;
    } else if (ch === '"') q = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  return rows;
}

describe("result tables", () => {
  it("CSV round-trips names, quotes, commas, NaN and booleans", () => {
    const t = { name: "t", columns: { "depth_um": [0, 1.5, NaN], note: ['a "b"', "c,d", "e\nf"], ok: [true, false, null] } };
    const rows = parseCsv(toCsv(t));
    expect(rows[0]).toEqual(["depth_um", "note", "ok"]);
    expect(rows.slice(1)).toEqual([
      ["0", 'a "b"', "true"],
      ["1.5", "c,d", "false"],
      ["NaN", "e\nf", ""],
    ]);
    expect(() => tableRows({ name: "bad", columns: { a: [1], b: [1, 2] } })).toThrow(ParameterError);
  });
  it("size distribution counts every component once, in log bins", () => {
    const v = [1, 2, 9, 10, 11, 100, 950];
    const d = sizeDistribution(v, 1);
    expect(d.columns.count).toEqual([3, 2, 2]);
    expect((d.columns.total_volume_um3 as number[]).reduce((a, b) => a + b)).toBe(v.reduce((a, b) => a + b));
    expect(d.columns.volume_lo_um3).toEqual([1, 10, 100]);
  });
});
