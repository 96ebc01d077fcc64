import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodePng, labelSlicePng, slicePng } from "../../src/figures/index.js";
import { hasPythonModules, runPython } from "../helpers/python.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir();

describe.skipIf(!hasPythonModules("skimage", "numpy"))("PNG encoder", () => {
  it("writes greyscale and RGB PNGs that scikit-image decodes to the same pixels", () => {
    const w = 37, h = 23;
    const grey = new Uint8Array(w * h).map((_, i) => (i * 7) % 256);
    const rgb = new Uint8Array(w * h * 3).map((_, i) => (i * 13) % 256);
    writeFileSync(join(dir, "g.png"), encodePng(grey, w, h, 1));
    writeFileSync(join(dir, "c.png"), encodePng(rgb, w, h, 3));
    const out = runPython(
      `import sys, json, numpy as np, skimage.io as io
g = io.imread(sys.argv[1] + "/g.png"); c = io.imread(sys.argv[1] + "/c.png")
print(json.dumps({"g": g.shape, "c": c.shape, "gs": int(g.astype(np.int64).sum()), "g5": int(g[1, 5]), "c5": c[2, 3].tolist()}))`,
      [dir],
    );
    const r = JSON.parse(out.trim());
    expect(r.g).toEqual([h, w]);
    expect(r.c).toEqual([h, w, 3]);
    expect(r.gs).toBe(grey.reduce((a, b) => a + b, 0));
    expect(r.g5).toBe(grey[1 * w + 5]);
    expect(r.c5).toEqual(Array.from(rgb.subarray((2 * w + 3) * 3, (2 * w + 3) * 3 + 3)));
  });

  it("maps a slice's window to black and white", () => {
    const vol = { data: new Float32Array(2 * 3 * 4).map((_, i) => i), shape: [2, 3, 4] };
    writeFileSync(join(dir, "s.png"), slicePng(vol, 0, 1, { window: { min: 12, max: 23 } }));
    const out = runPython(`import sys, json, skimage.io as io\ng = io.imread(sys.argv[1])\nprint(json.dumps(g.tolist()))`, [join(dir, "s.png")]);
    const px = JSON.parse(out.trim()) as number[][];
    expect(px[0]![0]).toBe(0);
    expect(px[2]![3]).toBe(255);
    expect(px[1]![1]).toBe(Math.round((17 - 12) * (255 / 11)));
    writeFileSync(join(dir, "z.png"), slicePng(vol, 0, 1, { window: { min: 12, max: 23 }, zoom: 3 }));
    const zoomed = JSON.parse(runPython(`import sys, json, skimage.io as io\nprint(json.dumps(io.imread(sys.argv[1]).tolist()))`, [join(dir, "z.png")]).trim()) as number[][];
    expect(zoomed.length).toBe(9);
    expect(zoomed[0]!.length).toBe(12);
    expect(zoomed[5]![4]).toBe(px[1]![1]);
  });

  it("draws a label slice in the class colours", () => {
    const vol = { data: Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i % 3), shape: [2, 3, 4] };
    const colors = [
      { value: 0, color: [160, 160, 160, 255] },
      { value: 1, color: [30, 30, 200, 255] },
    ];
    writeFileSync(join(dir, "l.png"), labelSlicePng(vol, 1, 2, colors, { zoom: 2 }));
    const img = JSON.parse(runPython(`import sys, json, skimage.io as io\nprint(json.dumps(io.imread(sys.argv[1]).tolist()))`, [join(dir, "l.png")]).trim()) as number[][][];
    expect([img.length, img[0]!.length]).toEqual([4, 8]); // (z, x) slice at y = 2, zoomed twice
    for (let z = 0; z < 2; z++)
      for (let x = 0; x < 4; x++) {
        const v = (z * 12 + 8 + x) % 3;
        expect(img[2 * z + 1]![2 * x]).toEqual(v === 0 ? [160, 160, 160] : v === 1 ? [30, 30, 200] : [0, 0, 0]);
      }
  });
});
