/**
 * One class, one colour (issue: "label colours consistent between store and notebooks"): the figures, the twin's
 * label metadata, the segmenter's default classes and the shipped models' records (which a segmentation copies into
 * its label image, and napari shows) all use src/util/class-colours.ts.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CLASS_RGBA, classHex } from "../../src/util/class-colours.js";
import { CLASS_COLOURS } from "../../src/figures/figure.js";
import { SEGMENTATION_CLASSES } from "../../src/twin/generate.js";
import { DEFAULT_CLASSES } from "../../src/segment/plans.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
type Cls = { name: string; color?: number[] };

describe("class colours", () => {
  it("are the same in figures, twin labels, the segmenter's defaults and every shipped model", () => {
    const expected = (c: Cls) => [...CLASS_RGBA[c.name as keyof typeof CLASS_RGBA]];
    for (const c of [...SEGMENTATION_CLASSES, ...DEFAULT_CLASSES]) expect(c.color).toEqual(expected(c));
    for (const dir of ["unet-default", "unet-absorption-only"]) {
      const rec = JSON.parse(readFileSync(join(root, "data", "models", dir, "model.json"), "utf8")).ssbCt as { classes: Cls[] };
      const onnx = JSON.parse(readFileSync(join(root, "data", "models", dir, "model.onnx.json"), "utf8")).metadata as { classes: string };
      for (const c of rec.classes) expect(c.color).toEqual(expected(c));
      expect(JSON.parse(onnx.classes)).toEqual(rec.classes);
    }
    expect(CLASS_COLOURS.void).toBe("#000000");
    expect(CLASS_COLOURS.lithium).toBe(classHex("lithium"));
    expect(classHex("electrolyte")).toBe("#c8c8c8");
  });
});
