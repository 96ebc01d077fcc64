/** TableBuilder: rows checked by the compiler (the @ts-expect-error lines fail typecheck if a bad row compiles). */
import { describe, expect, it } from "vitest";
import { TableBuilder, toCsv, type Columns } from "../../src/analysis/index.js";

type R = { time_h: number; volume_um3: number; short_circuit: boolean | null };
const COLUMNS: Columns<R> = { time_h: true, volume_um3: true, short_circuit: true };

describe("TableBuilder", () => {
  it("keeps the columns' order, sorts rows by a number column (stable) and writes the same CSV as a column table", () => {
    const t = new TableBuilder<R>("series", COLUMNS);
    t.push({ time_h: 1.5, volume_um3: 10, short_circuit: false });
    t.push({ time_h: 0, volume_um3: 0, short_circuit: null });
    t.push({ time_h: 1.5, volume_um3: 11, short_circuit: true });
    expect(t.length).toBe(3);
    t.sortBy("time_h");
    expect(toCsv(t.build())).toBe("time_h,volume_um3,short_circuit\n0,0,\n1.5,10,false\n1.5,11,true\n");
    expect(toCsv(new TableBuilder<R>("empty", COLUMNS).build())).toBe("time_h,volume_um3,short_circuit\n");
  });

  it("refuses rows and column lists that do not match the row type (compile time)", () => {
    const t = new TableBuilder<R>("series", COLUMNS);
    // @ts-expect-error a column missing
    t.push({ time_h: 1, volume_um3: 2 });
    // @ts-expect-error a cell of the wrong type
    t.push({ time_h: "1", volume_um3: 2, short_circuit: null });
    // @ts-expect-error a column the table does not have
    t.push({ time_h: 1, volume_um3: 2, short_circuit: null, extra_um: 3 });
    // @ts-expect-error sorting by a column that is not a number
    t.sortBy("short_circuit");
    // @ts-expect-error the column list lacks one
    const partial: Columns<R> = { time_h: true, volume_um3: true };
    expect(partial).toBeDefined();
  });
});
