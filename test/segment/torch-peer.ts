/**
 * The PyTorch peer: the same U-Net built with torch.nn from the same config and the same weights, for the
 * engine cross-check test and the benchmark. It interprets the layer list of graphSteps() with PyTorch's own
 * Conv3d / InstanceNorm3d / LeakyReLU / MaxPool3d / ConvTranspose3d, so it shares no numerics with TF.js or the
 * ONNX exporter, only the weight layout (channels first).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { UNetConfig } from "../../src/segment/plans.js";
import { graphSteps, type NamedWeights } from "../../src/segment/unet.js";
import { channelsFirstWeights } from "../../src/segment/onnx-export.js";

export const TORCH_UNET_PY = String.raw`
import json, sys, time, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

d = sys.argv[1]
mode = sys.argv[2]
threads = int(os.environ.get("TORCH_THREADS", "2"))
torch.set_num_threads(threads)
man = json.load(open(os.path.join(d, "manifest.json")))
cfg, steps = man["config"], man["steps"]
raw = np.fromfile(os.path.join(d, "weights.f32"), dtype=np.float32)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.m = nn.ModuleDict()
        cin = len(cfg["channels"]); ch = [cin]; skips_c = {}
        c = cin
        for s in steps:
            op = s["op"]
            if op == "conv":
                w = man["weights"][s["name"] + ".weight"]
                self.m[s["name"]] = nn.Conv3d(w["shape"][1], w["shape"][0], s["kernel"], padding=s["kernel"] // 2)
            elif op == "norm":
                w = man["weights"][s["name"] + ".weight"]
                self.m[s["name"]] = nn.InstanceNorm3d(w["shape"][0], eps=cfg["normEpsilon"], affine=True)
            elif op == "up":
                w = man["weights"][s["name"] + ".weight"]
                self.m[s["name"]] = nn.ConvTranspose3d(w["shape"][0], w["shape"][1], 2, stride=2)
        sd = {}
        for name, w in man["weights"].items():
            sd["m." + name] = torch.from_numpy(raw[w["offset"]:w["offset"] + int(np.prod(w["shape"]))].reshape(w["shape"]).copy())
        self.load_state_dict(sd)
    def forward(self, x):
        skips = {}
        for s in steps:
            op = s["op"]
            if op in ("conv", "norm", "up"): x = self.m[s["name"]](x)
            elif op == "act": x = F.leaky_relu(x, cfg["leakySlope"])
            elif op == "pool": x = F.max_pool3d(x, 2, 2)
            elif op == "push": skips[s["level"]] = x
            elif op == "cat": x = torch.cat([skips[s["level"]], x], 1)
        return x  # logits

net = Net().eval()
if mode == "predict":
    shape = json.load(open(os.path.join(d, "input.json")))
    x = torch.from_numpy(np.fromfile(os.path.join(d, "input.f32"), dtype=np.float32).reshape(shape))
    with torch.no_grad():
        p = torch.softmax(net(x), 1)
    p.numpy().astype(np.float32).tofile(os.path.join(d, "output.f32"))
    print(json.dumps({"ok": True}))
elif mode == "bench":
    b = json.load(open(os.path.join(d, "bench.json")))
    out = {}
    # SGEMM peak (float32) on this machine with these threads
    n = b.get("sgemm_n", 2048)
    A = torch.randn(n, n); B = torch.randn(n, n)
    torch.mm(A, B)
    ts = []
    for _ in range(3):
        t0 = time.perf_counter(); torch.mm(A, B); ts.append(time.perf_counter() - t0)
    out["sgemm_gflops"] = 2 * n ** 3 / min(ts) / 1e9
    # whole-volume sliding window with the same windows, Gaussian weighting and per-window softmax
    vol = np.fromfile(os.path.join(d, "volume.f32"), dtype=np.float32).reshape(b["volume_shape"])
    P = b["patch"]; starts = b["starts"]; g = torch.from_numpy(np.fromfile(os.path.join(d, "gauss.f32"), dtype=np.float32).reshape(P))
    K = len(cfg["classes"]); Z, Y, X = b["volume_shape"][1:]
    with torch.no_grad():  # warm-up: first call initialises oneDNN primitives
        net(torch.from_numpy(vol[None, :, :P[0], :P[1], :P[2]].copy()))
    reps = []
    for rep in range(b.get("repeats", 1)):
        acc = torch.zeros((K, Z, Y, X)); wsum = torch.zeros((Z, Y, X))
        t0 = time.perf_counter()
        with torch.no_grad():
            for (z, y, x) in starts:
                inp = torch.from_numpy(vol[None, :, z:z+P[0], y:y+P[1], x:x+P[2]].copy())
                p = torch.softmax(net(inp), 1)[0]
                acc[:, z:z+P[0], y:y+P[1], x:x+P[2]] += p * g
                wsum[z:z+P[0], y:y+P[1], x:x+P[2]] += g
            lab = torch.argmax(acc / wsum, 0)
        reps.append(time.perf_counter() - t0)
    out["infer_s"] = reps
    lab.numpy().astype(np.uint8).tofile(os.path.join(d, "labels_torch.u8"))
    # training steps: Adam, CE + soft Dice, batch and patch as ours
    tb, tp, tn = b["train_batch"], b["train_patch"], b["train_steps"]
    if tn > 0:
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        xs = torch.randn(tb, len(cfg["channels"]), *tp); ys = torch.randint(0, K, (tb, *tp))
        def step():
            opt.zero_grad()
            logits = net(xs)
            ce = F.cross_entropy(logits, ys)
            p = torch.softmax(logits, 1); oh = F.one_hot(ys, K).permute(0, 4, 1, 2, 3).float()
            inter = (p * oh).sum((0, 2, 3, 4)); den = p.sum((0, 2, 3, 4)) + oh.sum((0, 2, 3, 4))
            loss = ce + 1 - ((2 * inter + 1e-5) / (den + 1e-5)).mean()
            loss.backward(); opt.step()
        step()
        t0 = time.perf_counter()
        for _ in range(tn): step()
        out["train_steps_per_s"] = tn / (time.perf_counter() - t0)
    print(json.dumps(out))
`;

/** Writes manifest.json + weights.f32 (channels-first weights) for the peer into dir. */
export function writePeerModel(dir: string, config: UNetConfig, weights: NamedWeights): void {
  const cf = channelsFirstWeights(config, weights);
  const manifest: { config: UNetConfig; steps: unknown; weights: Record<string, { shape: number[]; offset: number }> } = {
    config,
    steps: graphSteps(config),
    weights: {},
  };
  let total = 0;
  for (const [, t] of cf) total += t.values.length;
  const all = new Float32Array(total);
  let off = 0;
  for (const [name, t] of cf) {
    manifest.weights[name] = { shape: t.shape, offset: off };
    all.set(t.values, off);
    off += t.values.length;
  }
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  writeFileSync(join(dir, "weights.f32"), new Uint8Array(all.buffer));
}
