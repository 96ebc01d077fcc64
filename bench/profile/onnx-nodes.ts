/**
 * Diagnostic, not a benchmark: ONNX Runtime's per-node profile of the exported U-Net on one window.
 *   npx tsx bench/profile/onnx-nodes.ts [--patch 64] [--base 8] [--upsample pointwise|convtranspose] [--softmax decomposed|operator]
 * Prints the mean kernel time per operator type and the slowest nodes (milliseconds per run, 4 runs after a warm-up).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as OrtTypes from "onnxruntime-node";
import { DEFAULT_UNET, createSegmentModel, exportOnnx, initTf, namedWeights, type OnnxExportOptions } from "../../src/segment/index.js";

const args = process.argv.slice(2);
const opt = (name: string, d: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : d);
const ort = createRequire(import.meta.url)("onnxruntime-node") as typeof OrtTypes;
await initTf({ quiet: true });
const P = Number(opt("patch", "64"));
const unet = { ...DEFAULT_UNET, depth: 3, baseFilters: Number(opt("base", "8")) };
const sm = await createSegmentModel(unet);
const forms = { upsample: opt("upsample", "pointwise"), softmax: opt("softmax", "decomposed") } as OnnxExportOptions;
const dir = mkdtempSync(join(tmpdir(), "ssbct-ortprof-"));
const runs = 4;
try {
  const s = await ort.InferenceSession.create(exportOnnx(unet, namedWeights(sm.model), forms), { graphOptimizationLevel: "all", executionMode: "sequential", enableProfiling: true, profileFilePrefix: join(dir, "prof") });
  const x = new ort.Tensor("float32", Float32Array.from({ length: 2 * P ** 3 }, (_, i) => Math.sin(i)), [1, 2, P, P, P]);
  await s.run({ input: x });
  const wall: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await s.run({ input: x });
    wall.push(performance.now() - t0);
  }
  s.endProfiling();
  const file = join(dir, readdirSync(dir).find((f) => f.startsWith("prof"))!);
  const events = JSON.parse(readFileSync(file, "utf8")) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
  const byOp = new Map<string, number>();
  const byNode = new Map<string, number>();
  // the warm-up run is in the profile too: divide by runs + 1
  for (const e of events)
    if (e.cat === "Node" && e.name.endsWith("_kernel_time")) {
      byOp.set(e.args!.op_name!, (byOp.get(e.args!.op_name!) ?? 0) + e.dur / 1000 / (runs + 1));
      byNode.set(e.name, (byNode.get(e.name) ?? 0) + e.dur / 1000 / (runs + 1));
    }
  console.log(`${JSON.stringify(forms)} patch ${P}^3, base ${unet.baseFilters}: wall ${Math.min(...wall).toFixed(0)} ms (best of ${runs})`);
  for (const [k, v] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(14)} ${v.toFixed(1)} ms`);
  console.log("slowest nodes:");
  for (const [k, v] of [...byNode].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${k.replace(/_kernel_time$/, "").padEnd(24)} ${v.toFixed(1)} ms`);
  await s.release();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
