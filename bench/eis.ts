/**
 * `npm run bench -- eis [--reps N]`: fits the 8 time-point series of two-arc spectra R0-p(R1,CPE1)-p(R2,CPE2)
 * (Park et al. Fig. 3c: R_int grows, R_ct falls over 3 h of plating) with our CNLS and with
 * scipy.optimize.least_squares (Debian python3-scipy) on the same data, model, weighting (Boukamp, 1/|Z|^2),
 * parametrisation (ln of scale parameters, CPE exponents bounded to [0, 1]) and starting values.
 * scipy runs with its defaults (trf, 2-point Jacobian, tolerances 1e-8). Timings are medians over repeats,
 * measured inside each process (no start-up or data transfer). ratio = peer time / our time (>= 1: we are faster).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { circuitImpedance, fitCircuit, guessParameters, parseCircuit, type ImpedanceSpectrum } from "../src/electrochem/index.js";
import { gaussian, seededRandom } from "../src/numerics/index.js";
import { median, printResult, runPythonJson } from "./lib.js";

const CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)";

function series(): { spectra: ImpedanceSpectrum[]; truth: Record<string, number>[] } {
  const circuit = parseCircuit(CIRCUIT);
  const freq = Float64Array.from({ length: 8 * 7 + 1 }, (_, i) => 3e6 * Math.pow(10, -i / 8));
  const spectra: ImpedanceSpectrum[] = [];
  const truth: Record<string, number>[] = [];
  for (let k = 0; k < 8; k++) {
    const t_h = k * 0.4;
    const p = {
      R0: 60,
      R1: 120 + 40 * t_h, // interface layer grows (Li2S, Li3P)
      CPE1_0: 1.5e-8,
      CPE1_1: 0.93,
      R2: t_h <= 1 ? 600 - 80 * t_h : 520 - 140 * (t_h - 1), // charge transfer falls, faster after 1 h
      CPE2_0: 1.4e-5,
      CPE2_1: 0.88,
    };
    const z = circuitImpedance(circuit, p, freq);
    const rand = seededRandom(100 + k);
    const re = Float64Array.from(z.re_ohm, (v, i) => v + 0.01 * Math.hypot(v, z.im_ohm[i]!) * gaussian(rand));
    const im = Float64Array.from(z.im_ohm, (v, i) => v + 0.01 * Math.hypot(z.re_ohm[i]!, v) * gaussian(rand));
    spectra.push({ freq_Hz: freq, re_ohm: re, im_ohm: im, source: `t = ${t_h.toFixed(1)} h` });
    truth.push(p);
  }
  return { spectra, truth };
}

const PEER = String.raw`
import json, sys, time
import numpy as np
from scipy.optimize import least_squares
d = json.load(open(sys.argv[1]))
reps = int(sys.argv[2])
names = d["names"]
logp = [not n.endswith("_1") for n in names]   # CPE exponents (CPEk_1) are linear, the rest log
def model(p, w):
    R0, R1, Q1, a1, R2, Q2, a2 = p
    z1 = 1.0 / (1.0 / R1 + Q1 * (1j * w) ** a1)
    z2 = 1.0 / (1.0 / R2 + Q2 * (1j * w) ** a2)
    return R0 + z1 + z2
def to_p(u):
    return np.array([np.exp(v) if lg else v for v, lg in zip(u, logp)])
results = []
times = []
for rep in range(reps):
    out = []
    t0 = time.perf_counter()
    for s in d["spectra"]:
        f = np.array(s["f"]); Z = np.array(s["re"]) + 1j * np.array(s["im"]); w = 2 * np.pi * f
        sw = 1.0 / np.abs(Z)
        def resid(u):
            zf = model(to_p(u), w)
            return np.concatenate([(zf.real - Z.real) * sw, (zf.imag - Z.imag) * sw])
        u0 = np.array([np.log(s["p0"][n]) if lg else s["p0"][n] for n, lg in zip(names, logp)])
        lo = np.array([-np.inf if lg else 1e-6 for lg in logp]); hi = np.array([np.inf if lg else 1.0 for lg in logp])
        r = least_squares(resid, u0, bounds=(lo, hi))
        out.append({"chi2": float(np.sum(r.fun ** 2)), "p": to_p(r.x).tolist(), "nfev": int(r.nfev), "ok": bool(r.success)})
    times.append(time.perf_counter() - t0)
    results = out
print(json.dumps({"times": times, "results": results}))
`;

export async function main(args: string[]): Promise<void> {
  const repsArg = args.indexOf("--reps");
  const reps = repsArg >= 0 ? Number(args[repsArg + 1]) : 7;
  const { spectra, truth } = series();
  const circuit = parseCircuit(CIRCUIT);
  const starts = spectra.map((s) => guessParameters(circuit, s));

  // Warm-up (JIT), then timed repeats of the 8 single-start fits.
  for (let i = 0; i < 2; i++) spectra.forEach((s, k) => fitCircuit(circuit, s, { initial: starts[k], starts: 1 }));
  const times: number[] = [];
  let ours = spectra.map((s, k) => fitCircuit(circuit, s, { initial: starts[k], starts: 1 }));
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    ours = spectra.map((s, k) => fitCircuit(circuit, s, { initial: starts[k], starts: 1 }));
    times.push((performance.now() - t0) / 1000);
  }
  const t0 = performance.now();
  const multi = spectra.map((s) => fitCircuit(circuit, s, { starts: 8, seed: 1 }));
  const multiS = (performance.now() - t0) / 1000;

  const dir = mkdtempSync(join(tmpdir(), "ssb-ct-bench-eis-"));
  let peer: { times: number[]; results: Array<{ chi2: number; p: number[]; nfev: number; ok: boolean }> };
  try {
    const file = join(dir, "spectra.json");
    writeFileSync(
      file,
      JSON.stringify({
        names: circuit.paramNames,
        spectra: spectra.map((s, k) => ({ f: Array.from(s.freq_Hz), re: Array.from(s.re_ohm), im: Array.from(s.im_ohm), p0: starts[k] })),
      }),
    );
    peer = runPythonJson(PEER, [file, String(reps)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const oursS = median(times);
  const peerS = median(peer.times);
  const chiOurs = ours.map((r) => r.chiSquare);
  const chiPeer = peer.results.map((r) => r.chi2);
  const worse = chiOurs.filter((c, k) => c > chiPeer[k]! * (1 + 1e-6)).length;
  for (let k = 0; k < spectra.length; k++) {
    console.log(
      `${spectra[k]!.source}: R1 true ${truth[k]!.R1!.toFixed(1)} ours ${ours[k]!.params.R1!.toFixed(2)} scipy ${peer.results[k]!.p[1]!.toFixed(2)} | ` +
        `R2 true ${truth[k]!.R2!.toFixed(1)} ours ${ours[k]!.params.R2!.toFixed(2)} scipy ${peer.results[k]!.p[4]!.toFixed(2)} | ` +
        `chi2 ours ${chiOurs[k]!.toExponential(6)} scipy ${chiPeer[k]!.toExponential(6)} (nfev ${peer.results[k]!.nfev})`,
    );
  }
  printResult({
    bench: "eis",
    ours: oursS,
    peer: peerS,
    ratio: peerS / oursS,
    unit: "s per 8 two-arc fits (median; ratio = scipy time / our time)",
    reps,
    chi2_sum_ours: chiOurs.reduce((a, b) => a + b, 0),
    chi2_sum_peer: chiPeer.reduce((a, b) => a + b, 0),
    spectra_where_ours_worse: worse,
    ours_multistart8_s: multiS,
    chi2_sum_ours_multistart8: multi.reduce((a, r) => a + r.chiSquare, 0),
    peer_all_success: peer.results.every((r) => r.ok),
  });
}
