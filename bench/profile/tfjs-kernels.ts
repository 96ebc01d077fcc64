/**
 * Diagnostic, not a benchmark: where one U-Net training step (trainSegmentModel: sampling, augmentation, forward,
 * loss, backward, Adam) spends its time on the TF.js cpu backend, per kernel, for each tier of our kernels: native
 * (if built), portable JS, and TF.js's stock kernels. Times are process CPU milliseconds per step (user + system),
 * which a busy shared machine disturbs less than wall time; the native tier's threads add up.
 *   npx tsx bench/profile/tfjs-kernels.ts [--base 8] [--patch 32] [--steps 4] [--threads 1] [--tiers native,js] [--shapes]
 * (add "stock" to --tiers for TF.js's own kernels: about 30 s per step at 32^3 base 8)
 */
import { tf, initTf } from "../../src/segment/tf.js";
import { kernelPath, setFastKernels, setNativeKernels, setNativeThreads } from "../../src/segment/fast-kernels.js";
import { DEFAULT_TRAIN, DEFAULT_UNET, createSegmentModel, normalisationFor, toTrainingVolume, trainSegmentModel } from "../../src/segment/index.js";
import { syntheticVolume } from "../../test/helpers/synthetic.js";

const args = process.argv.slice(2);
const opt = (name: string, d: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1]! : d);
process.env.SSB_CT_PROGRESS = "0";
await initTf();
const P = Number(opt("patch", "32"));
const steps = Number(opt("steps", "4"));
const shapes = args.includes("--shapes");
setNativeThreads(Number(opt("threads", "1")));
const unet = { ...DEFAULT_UNET, baseFilters: Number(opt("base", "8")) };
const edge = Math.max(64, 2 * P);
const syn = syntheticVolume({ shapeZYX: [edge, edge, edge], seed: 11 });
const raw = { shapeZYX: syn.shapeZYX, channels: syn.channels, labels: syn.labels, source: "synthetic seed 11" };
const norm = normalisationFor(unet.channels, [raw]);
const tv = toTrainingVolume(raw, norm);
const config = { ...DEFAULT_TRAIN, patchZYX: [P, P, P] as [number, number, number], steps: 1e6, checkpointEvery: 0, validateEvery: 1e6 };

// every cpu kernel wrapped once with a CPU-time counter (around whichever tier serves it)
const by = new Map<string, { ms: number; n: number }>();
let counting = false;
for (const kc of tf.getKernelsForBackend("cpu")) {
  const f = kc.kernelFunc;
  tf.unregisterKernel(kc.kernelName, "cpu");
  tf.registerKernel({
    ...kc,
    kernelFunc: (a) => {
      if (!counting) return f(a);
      const c = process.cpuUsage();
      const r = f(a);
      const d = process.cpuUsage(c);
      const key = shapes ? `${kc.kernelName} ${JSON.stringify(Object.values(a.inputs).map((t) => (t as tf.TensorInfo).shape))}` : kc.kernelName;
      const e = by.get(key) ?? { ms: 0, n: 0 };
      e.ms += (d.user + d.system) / 1e3;
      e.n++;
      by.set(key, e);
      return r;
    },
  });
}

for (const tier of opt("tiers", "native,js").split(",")) {
  setFastKernels(tier !== "stock");
  setNativeKernels(tier === "native");
  if (tier === "native" && !kernelPath().startsWith("native")) {
    console.log(`native: skipped (${kernelPath()})`);
    continue;
  }
  const sm = await createSegmentModel(unet, norm);
  by.clear();
  let c0 = process.cpuUsage();
  let t0 = 0;
  let cpuMs = 0;
  let wallMs = 0;
  // step 1 warms up; steps 2..1+steps are counted (setup of the training call excluded)
  const sink = (e: { done: number }) => {
    if (e.done === 1) {
      c0 = process.cpuUsage();
      t0 = performance.now();
      counting = true;
    } else if (e.done === 1 + steps) {
      const c = process.cpuUsage(c0);
      cpuMs = (c.user + c.system) / 1e3;
      wallMs = performance.now() - t0;
      counting = false;
    }
  };
  await trainSegmentModel(sm, [tv], { config, stopAfter: 1 + steps, progress: sink });
  counting = false;
  let inKernels = 0;
  for (const v of by.values()) inKernels += v.ms;
  console.log(`${tier}: ${(cpuMs / steps).toFixed(0)} cpu ms per step (${(wallMs / steps).toFixed(0)} wall), ${(inKernels / steps).toFixed(0)} in kernels, ${((cpuMs - inKernels) / steps).toFixed(0)} outside (data, engine, GC)`);
  for (const [k, v] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) console.log(`  ${(v.ms / steps).toFixed(1).padStart(8)} ms ${String(v.n / steps).padStart(5)}x ${k}`);
}
