import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syntheticVolume } from "../helpers/synthetic.js";
import { classMeans, evaluateLabels, formatReport, multiOtsu3, otsuBaseline } from "../../src/segment/report.js";
import { hasPythonModules, runPython } from "../helpers/python.js";

const NAMES = ["electrolyte", "void", "lithium"];
const train = syntheticVolume({ shapeZYX: [24, 24, 24], seed: 1 });
const test = syntheticVolume({ shapeZYX: [32, 32, 32], seed: 99, lithium: 12, voids: 12 });

describe.skipIf(!hasPythonModules("skimage", "numpy"))("multi-Otsu", () => {
  it("finds the thresholds of scikit-image's threshold_multiotsu(classes=3)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ssbct-otsu-"));
    try {
      for (const ch of ["phase", "absorption"] as const) {
        const v = test.channels[ch];
        writeFileSync(join(dir, `${ch}.f32`), new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        const out = runPython(
          "import sys, json, numpy as np\nfrom skimage.filters import threshold_multiotsu\nv = np.fromfile(sys.argv[1], dtype=np.float32)\nprint(json.dumps([float(t) for t in threshold_multiotsu(v, classes=3)]))",
          [join(dir, `${ch}.f32`)],
        );
        const peer = JSON.parse(out.trim()) as number[];
        const ours = multiOtsu3(v);
        let lo = Infinity;
        let hi = -Infinity;
        for (const x of v) {
          lo = Math.min(lo, x);
          hi = Math.max(hi, x);
        }
        const bin = (hi - lo) / 256;
        expect(Math.abs(ours[0] - peer[0]!)).toBeLessThan(bin * 1e-3);
        expect(Math.abs(ours[1] - peer[1]!)).toBeLessThan(bin * 1e-3);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("baselines and report", () => {
  it("phase Otsu separates all three classes; absorption Otsu confuses lithium and void (Park et al. Fig. 2c)", () => {
    const phase = evaluateLabels("otsu-phase", test.labels, otsuBaseline(test.channels.phase, classMeans(train.channels.phase, train.labels, 3)), NAMES);
    const abs = evaluateLabels("otsu-absorption", test.labels, otsuBaseline(test.channels.absorption, classMeans(train.channels.absorption, train.labels, 3)), NAMES);
    for (const c of phase.classes) expect(c.dice, c.name).toBeGreaterThan(0.95);
    const li = abs.classes[2]!;
    const nLi = test.labels.filter((l) => l === 2).length;
    expect(nLi).toBeGreaterThan(500);
    // lithium voxels called void plus void voxels called lithium: a large share of the lithium
    expect(abs.confusion[2]![1]! + abs.confusion[1]![2]!).toBeGreaterThan(0.3 * nLi);
    expect(li.dice).toBeLessThan(0.75);
    if (process.env.SSB_CT_SHOW_REPORT) console.log(formatReport([phase, abs]));
    const md = formatReport([phase, abs]);
    expect(md).toContain("| otsu-absorption | lithium |");
    expect(md.split("\n").filter((l) => l.startsWith("| otsu-")).length).toBe(6);
  });
});
