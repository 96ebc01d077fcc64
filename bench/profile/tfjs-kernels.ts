/**
 * Diagnostic, not a benchmark: TF.js kernel times of one U-Net training step on the cpu backend, with our fast
 * kernels and with TF.js's stock ones.
 *   npx tsx bench/profile/tfjs-kernels.ts [--base 4] [--patch 16]
 */
import { tf, initTf } from "../../src/segment/tf.js";
import { DEFAULT_UNET, createSegmentModel, diceCeLoss, setFastKernels } from "../../src/segment/index.js";

const args = process.argv.slice(2);
const opt = (name: string, d: string) => Number(args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : d);
await initTf();
const P = opt("patch", "16");
const sm = await createSegmentModel({ ...DEFAULT_UNET, baseFilters: opt("base", "4") });
const x = tf.randomNormal([2, P, P, P, 2], 0, 1, "float32", 1);
const y = tf.randomUniform([2, P, P, P], 0, 3, "int32", 2);
const step = () => {
  const { value, grads } = tf.variableGrads(() => diceCeLoss(sm.model.apply(x, { training: true }) as tf.Tensor, y, 3, 1, 1e-5));
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
for (const fast of [false, true]) {
  setFastKernels(fast);
  step();
  const info = await tf.profile(() => step());
  const by = new Map<string, number>();
  for (const k of info.kernels) by.set(k.name, (by.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) step();
  console.log(`${fast ? "ours" : "stock"} kernels: ${((performance.now() - t0) / 5).toFixed(0)} ms per step (mean of 5)`);
  for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${k.padEnd(24)} ${v.toFixed(1)} ms`);
}
