/** Display bundles without a kernel: number and unit formatting, tables (ResultTable and danfojs), figure JSON. */
import { describe, expect, it } from "vitest";
import type { Figure } from "../../src/figures/figure.js";
import { figureBundle, figureJson, formatNumber, splitUnit, tableBundle } from "../../src/notebook/index.js";

describe("table formatting", () => {
  it("formats numbers to significant digits, integers in full, exponents only at the extremes", () => {
    expect(formatNumber(2.5)).toBe("2.5");
    expect(formatNumber(1234.5678)).toBe("1235");
    expect(formatNumber(0.012345)).toBe("0.01235");
    expect(formatNumber(0.5)).toBe("0.5");
    expect(formatNumber(98765432)).toBe("98765432");
    expect(formatNumber(98765432.1)).toBe("98765432");
    expect(formatNumber(0.000123)).toBe("1.23e-4");
    expect(formatNumber(-3.0e12 + 0.5)).toBe("-3e+12");
    expect(formatNumber(NaN)).toBe("NaN");
    expect(formatNumber(-Infinity)).toBe("−∞");
    expect(formatNumber(Math.PI, 6)).toBe("3.14159");
  });

  it("reads the unit from a column name, longest suffix first", () => {
    expect(splitUnit("void_volume_um3")).toEqual({ quantity: "void_volume", unit: "µm³" });
    expect(splitUnit("depth_mid_um")).toEqual({ quantity: "depth_mid", unit: "µm" });
    expect(splitUnit("charge_mAh_cm2")).toEqual({ quantity: "charge", unit: "mAh/cm²" });
    expect(splitUnit("porosity_pct")).toEqual({ quantity: "porosity", unit: "%" });
    expect(splitUnit("label")).toEqual({ quantity: "label", unit: null });
    expect(splitUnit("_um")).toEqual({ quantity: "_um", unit: null });
  });

  it("shows the head and tail of a long table around a gap row", () => {
    const n = 100;
    const t = { name: "long", columns: { i: Array.from({ length: n }, (_, k) => k), x_um: Array.from({ length: n }, (_, k) => k / 3) } };
    const b = tableBundle(t, { maxRows: 6 });
    const rows = b["text/html"].match(/<tr>/g)!.length - 1; // minus the header row
    expect(rows).toBe(6);
    expect(b["text/html"]).toContain('<tr class="gap">');
    expect(b["text/html"]).toContain(">99<");
    expect(b["text/html"]).not.toContain(">50<");
    expect(b["text/plain"].split("\n").at(-1)).toBe("[100 rows × 2 columns]");
    expect(() => tableBundle({ name: "bad", columns: { a: [1, 2], b: [1] } })).toThrow(/differ in length/);
  });

  it("draws a danfojs DataFrame with its index", async () => {
    const dfd = await import("danfojs-node");
    const df = new dfd.DataFrame({ time_h: [0, 0.5], voltage_V: [0.0123, 0.0456] });
    const b = tableBundle(df);
    expect(b["text/html"]).toMatch(/<th><\/th><th title="time_h" class="num"[^>]*>time<br>/);
    expect(b["text/html"]).toContain(">0.0456<");
    expect(b["text/plain"]).toContain("[2 rows × 2 columns]");
  });
});

describe("figure bundle", () => {
  const fig: Figure = {
    id: "fig1b",
    title: "Voltage <against> time",
    caption: "Cell voltage; a </script> in a caption stays text.",
    data: [{ type: "heatmap", z: [new Float32Array([0.1, NaN]), new Uint8Array([1, 2])] }],
    layout: { width: 500, height: 300 },
    provenance: {},
  };

  it("keeps figure JSON plain: typed arrays as arrays, float32 digits trimmed, NaN as null", () => {
    expect(figureJson(fig)).toEqual({ data: [{ type: "heatmap", z: [[0.1, null], [1, 2]] }], layout: { width: 500, height: 300 } });
  });

  it("escapes text, never embeds plotly.js, and tries the configured, Jupyter and sibling locations", () => {
    const b = figureBundle(fig, { plotlyPath: "../node_modules/plotly.js-dist-min/plotly.min.js", plotlyUrl: null });
    const html = b["text/html"];
    expect(html).toContain("a &lt;/script&gt; in a caption");
    expect(html.match(/<\/script>/g)!.length).toBe(1);
    expect(html).toContain('"plotly.min.js"');
    expect(html).toContain('+ "files/" +'); // the Jupyter server's /files/ route
    expect(html.length).toBeLessThan(10_000);
    expect(b["text/plain"]).toBe("Voltage <against> time\nCell voltage; a </script> in a caption stays text.");
    const again = figureBundle(fig, { plotlyPath: null });
    expect(again["text/html"]).not.toBe(html); // a second display of the same figure gets its own element id
  });
});
