/**
 * `npm run bench -- train [--steps N] [--steps64 N] [--threads T] [--no64] [--no-recipe]`
 * U-Net training throughput: our TF.js training loop (`trainSegmentModel`: patch sampling, augmentation, forward,
 * Dice + cross-entropy, backward, Adam, on the cpu backend with our kernels) against PyTorch (Debian python3-torch,
 * T threads, default 2) training the same U-Net (same config and initial weights, built by the PyTorch twin of
 * test/segment/torch-peer.ts) with the same patch, batch, Adam settings and loss on a fixed random batch, in one run.
 * Depth-3 base-8 U-Net at 32^3 (the headline) and depth-3 base-16 at 64^3 (extra fields), batch 2.
 * Besides wall-clock steps/s, each side's process CPU seconds per step are reported: on a shared machine CPU time
 * is less disturbed by neighbours than wall time (both sides run T threads).
 * Also (not against the peer) the shipped models' recipe, depth 3 base 4 at 16^3, with our native and our portable
 * kernels, and from it an estimate of that recipe's 7200 training steps (validation excluded).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_TRAIN, DEFAULT_UNET, createSegmentModel, initTf, namedWeights, normalisationFor, toTrainingVolume, trainSegmentModel, type UNetConfig } from "../src/segment/index.js";
import { kernelPath, setNativeKernels, setNativeThreads } from "../src/segment/fast-kernels.js";
import { printResult, runPythonJson } from "./lib.js";
import { ParameterError } from "../src/util/errors.js";
import { hasPythonModules } from "../test/helpers/python.js";
import { syntheticVolume } from "../test/helpers/synthetic.js";
import { TORCH_UNET_PY, writePeerModel } from "../test/segment/torch-peer.js";

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

// The peer's network class is the one the engine cross-check uses; only its training loop is written here.
const MARKER = "net = Net().eval()";
if (!TORCH_UNET_PY.includes(MARKER)) throw new Error("test/segment/torch-peer.ts changed: its Net definition no longer ends where bench/train.ts expects");
const TORCH_TRAIN_PY =
  TORCH_UNET_PY.slice(0, TORCH_UNET_PY.indexOf(MARKER)) +
  String.raw`
b = json.load(open(os.path.join(d, "train.json")))
net = Net().train()
K = len(cfg["classes"]); tb, tp = b["batch"], b["patch"]
opt = torch.optim.Adam(net.parameters(), lr=b["lr"], betas=(b["beta1"], b["beta2"]), eps=b["eps"])
g = torch.Generator().manual_seed(0)
xs = torch.randn(tb, len(cfg["channels"]), *tp, generator=g); ys = torch.randint(0, K, (tb, *tp), generator=g)
def step():
    opt.zero_grad()
    logits = net(xs)
    ce = F.cross_entropy(logits, ys)
    p = torch.softmax(logits, 1); oh = F.one_hot(ys, K).permute(0, 4, 1, 2, 3).float()
    inter = (p * oh).sum((0, 2, 3, 4)); den = p.sum((0, 2, 3, 4)) + oh.sum((0, 2, 3, 4))
    loss = ce + b["dice_weight"] * (1 - ((2 * inter + b["smooth"]) / (den + b["smooth"])).mean())
    loss.backward(); opt.step()
    return float(loss)
step(); step()
c0 = time.process_time(); t0 = time.perf_counter()
for _ in range(b["steps"]): step()
wall = time.perf_counter() - t0; cpu = time.process_time() - c0
print(json.dumps({"steps_per_s": b["steps"] / wall, "cpu_s_per_step": cpu / b["steps"], "threads": torch.get_num_threads(), "torch": torch.__version__}))
`;

interface Side {
  steps_per_s: number;
  cpu_s_per_step: number;
}

async function measure(P: number, base: number, steps: number, threads: number, torchOk: boolean): Promise<{ ours: Side; peer: Side | null }> {
  if (!Number.isInteger(steps) || steps < 1) throw new ParameterError("bench train: steps must be a positive integer", { field: "steps", got: String(steps) });
  const unet: UNetConfig = { ...DEFAULT_UNET, depth: 3, baseFilters: base };
  const edge = Math.max(64, 2 * P);
  const syn = syntheticVolume({ shapeZYX: [edge, edge, edge], seed: 11 });
  const raw = { shapeZYX: syn.shapeZYX, channels: syn.channels, labels: syn.labels, source: "synthetic seed 11" };
  const norm = normalisationFor(unet.channels, [raw]);
  const tv = toTrainingVolume(raw, norm);
  const sm = await createSegmentModel(unet, norm);
  const config = { ...DEFAULT_TRAIN, patchZYX: [P, P, P] as [number, number, number], batchSize: 2, steps: 1_000_000, checkpointEvery: 0, validateEvery: 1_000_000 };

  let peer: Side | null = null;
  if (torchOk) {
    const dir = mkdtempSync(join(tmpdir(), "ssbct-bench-train-"));
    try {
      writePeerModel(dir, unet, namedWeights(sm.model));
      writeFileSync(
        join(dir, "train.json"),
        JSON.stringify({ batch: 2, patch: [P, P, P], steps, lr: config.learningRate, beta1: config.adamBeta1, beta2: config.adamBeta2, eps: config.adamEpsilon, dice_weight: config.diceWeight, smooth: config.diceSmooth }),
      );
      peer = runPythonJson<Side>(TORCH_TRAIN_PY, [dir, "train"], { TORCH_THREADS: String(threads), OMP_NUM_THREADS: String(threads) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  setNativeThreads(threads);
  // Timed from the end of step 2 to the end of step 2 + steps, through the progress events trainSegmentModel emits
  // after each step: its setup (class and boundary indices of the volume, done once per training) and the first
  // steps (JIT, first allocations) stay out, as PyTorch's two warm-up steps do.
  let t0 = 0;
  let t1 = 0;
  let c0: NodeJS.CpuUsage = process.cpuUsage();
  let c1: NodeJS.CpuUsage = c0;
  const sink = (e: { done: number }) => {
    if (e.done === 2) {
      t0 = performance.now();
      c0 = process.cpuUsage();
    } else if (e.done === 2 + steps) {
      t1 = performance.now();
      c1 = process.cpuUsage(c0);
    }
  };
  await trainSegmentModel(sm, [tv], { config, stopAfter: 2 + steps, progress: sink });
  const wall = (t1 - t0) / 1000;
  return { ours: { steps_per_s: steps / wall, cpu_s_per_step: (c1.user + c1.system) / 1e6 / steps }, peer };
}

export async function main(args: string[]): Promise<void> {
  process.env.SSB_CT_PROGRESS ??= "0";
  const threads = arg(args, "threads", 2);
  const backend = await initTf();
  const torchOk = hasPythonModules("torch", "numpy");
  const load0 = loadavg()[0]!;
  const r32 = await measure(32, 8, arg(args, "steps", 10), threads, torchOk);
  const r64 = args.includes("--no64") ? null : await measure(64, 16, arg(args, "steps64", 3), threads, torchOk);
  // the shipped recipe (data/models/README.md): ours only, native and portable kernels
  let recipe: { native: number | null; portable: number } | null = null;
  if (!args.includes("--no-recipe")) {
    const native = kernelPath().startsWith("native") ? (await measure(16, 4, arg(args, "steps16", 10), threads, false)).ours.steps_per_s : null;
    setNativeKernels(false);
    const portable = (await measure(16, 4, 2, threads, false)).ours.steps_per_s;
    setNativeKernels(true);
    recipe = { native, portable };
  }
  const ratio = (r: typeof r32 | null) => (r?.peer ? r.ours.steps_per_s / r.peer.steps_per_s : null);
  const cpuRatio = (r: typeof r32 | null) => (r?.peer ? r.peer.cpu_s_per_step / r.ours.cpu_s_per_step : null);
  const summary = {
    backend,
    kernels: kernelPath(),
    threads,
    cpus: cpus().length,
    load_before: load0,
    load_after: loadavg()[0],
    "32": r32,
    "64": r64,
    shipped_recipe_16_base4_steps_s: recipe,
  };
  console.log(JSON.stringify(summary, null, 1));
  printResult({
    bench: "train",
    ours: r32.ours.steps_per_s,
    peer: r32.peer?.steps_per_s ?? NaN,
    ratio: ratio(r32) ?? NaN,
    unit: "steps/s (depth-3 base-8 U-Net, 32^3 patches, batch 2, Adam, Dice+CE; ours: trainSegmentModel on TF.js incl. patch sampling; peer: PyTorch, fixed batch)",
    threads,
    kernels: kernelPath(),
    cpu_ratio: cpuRatio(r32),
    ours_64: r64?.ours.steps_per_s ?? null,
    peer_64: r64?.peer?.steps_per_s ?? null,
    ratio_64: ratio(r64),
    cpu_ratio_64: cpuRatio(r64),
    unit_64: "steps/s, depth-3 base-16 U-Net, 64^3 patches, batch 2",
    recipe_steps_s: recipe?.native ?? null,
    recipe_steps_s_portable: recipe?.portable ?? null,
    recipe_estimate_min: recipe ? 7200 / (recipe.native ?? recipe.portable) / 60 : null,
    unit_recipe: "shipped recipe (depth 3, base 4, 16^3, batch 2): ours only; estimate = 7200 steps / steps/s, validation excluded",
    load: [load0, loadavg()[0]],
    // above one runnable process per core PyTorch's spinning OpenMP threads lose most (seen: 0.23 steps/s at load
    // 11 on 2 cores); compare cpu_ratio, --threads 1, or rerun quietly
    busy: Math.max(load0, loadavg()[0]!) > cpus().length,
  });
}
