/**
 * `ssbct xas`: Larch-style normalisation (pre-edge line, post-edge polynomial, edge step, flattening) of a sample
 * spectrum and, with standards, a linear combination fit of the normalised sample by the normalised standards
 * (non-negative weights, optionally summing to 1, optionally a common energy shift).
 */
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { FileFormatError } from "../util/errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { fileStamp, guardOutputFile, jsonReplacer, requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

/**
 * A two-column spectrum: energy (eV) and mu. Comma, tab or space separated; lines starting with # are comments; a
 * header names the columns (energy: "energy", "e", "ev"; mu: "mu", "xmu", "abs", "norm", "flat"), else the first
 * two columns are taken.
 */
export function readSpectrum(path: string): { energy_eV: Float64Array; mu: Float64Array } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new FileFormatError("cannot read spectrum file", { path, got: (e as Error).message });
  }
  const rows = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), line: i + 1 })).filter((r) => r.l !== "" && !r.l.startsWith("#"));
  const split = (l: string) => l.split(/[,\t;]|\s+/).map((x) => x.trim()).filter((x) => x !== "");
  let ie = 0;
  let im = 1;
  const first = rows[0] ? split(rows[0].l) : [];
  if (first.some((x) => !Number.isFinite(Number(x)))) {
    const names = first.map((x) => x.toLowerCase());
    const e = names.findIndex((n) => /^(energy|e|ev)\b|energy/.test(n));
    const m = names.findIndex((n, i) => i !== e && /mu|abs|norm|flat|fluo|trans/.test(n));
    ie = e >= 0 ? e : 0;
    im = m >= 0 ? m : ie === 0 ? 1 : 0;
    rows.shift();
  }
  const energy: number[] = [];
  const mu: number[] = [];
  for (const r of rows) {
    const c = split(r.l);
    const ev = Number(c[ie]);
    const mv = Number(c[im]);
    if (!Number.isFinite(ev) || !Number.isFinite(mv)) throw new FileFormatError("not a number in the spectrum", { path, location: `line ${r.line}`, expected: "energy (eV) and mu columns", got: r.l.slice(0, 60) });
    energy.push(ev);
    mu.push(mv);
  }
  if (energy.length < 5) throw new FileFormatError("too few points in the spectrum", { path, expected: ">= 5 rows of energy (eV) and mu", got: `${energy.length}` });
  return { energy_eV: Float64Array.from(energy), mu: Float64Array.from(mu) };
}

export const command: CommandSpec = {
  name: "xas",
  summary: "Normalises an XAS spectrum (energy in eV, mu) as Larch's pre_edge does and, with --standard, fits it as a linear combination of normalised standards.",
  usage: "SAMPLE [--standard NAME=FILE ...] [options]",
  description:
    "Spectra are text files with an energy column in eV and a mu column (comma, tab or space separated; # comments; a header naming the columns is optional). Energies of --pre, --norm and --window are relative to E0, in eV. Every normalisation parameter used, default or not, is reported.",
  options: {
    standard: { type: "string", multiple: true, value: "NAME=FILE", help: "a reference spectrum for the linear combination fit (repeatable)" },
    e0: { type: "string", value: "eV", help: "edge energy   [default: the largest dmu/dE]" },
    pre: { type: "string", value: "eV,eV", help: "pre-edge range relative to E0   [default: Larch's rule]" },
    norm: { type: "string", value: "eV,eV", help: "post-edge range relative to E0   [default: Larch's rule]" },
    window: { type: "string", value: "eV,eV", default: "-20,30", help: "fit window relative to E0" },
    "sum-to-one": { type: "boolean", help: "force the weights to sum to 1" },
    "max-shift": { type: "string", value: "eV", default: "0", help: "fit a common energy shift of the sample within +/- this" },
    out: { type: "string", value: "FILE.json", help: "write normalisation and fit (with curves) as JSON" },
  },
  positionals: { name: "SAMPLE", min: 1, max: 1 },
  examples: ["ssbct xas sample_S.csv --standard Li3PS4=ref_lps.csv --standard Li2S=ref_li2s.csv --sum-to-one --out lcf.json"],
  json: true,
  overwrite: true,
  async run(ctx: CommandContext) {
    const samplePath = requireInput(ctx.positionals[0]!, "SAMPLE");
    const standards = ctx.all("standard").map((s) => {
      const m = /^([^=]+)=(.+)$/.exec(s);
      if (!m) throw new UsageError("--standard expects NAME=FILE", { field: "--standard", got: s });
      return { name: m[1]!, path: requireInput(m[2]!, `--standard ${m[1]}`) };
    });
    const e0 = ctx.num("e0", { min: 0, unit: "eV" });
    const pre = ctx.nums("pre", { count: 2, unit: "eV" });
    const norm = ctx.nums("norm", { count: 2, unit: "eV" });
    const window = ctx.nums("window", { count: 2, unit: "eV" })!;
    const maxShift = ctx.num("max-shift", { min: 0, unit: "eV" })!;
    const out = ctx.opt("out");
    const identity = { command: "xas", inputs: { sample: fileStamp(resolve(samplePath)), standards: standards.map((s) => ({ name: s.name, ...fileStamp(resolve(s.path)) })), e0, pre, norm, window, maxShift, sumToOne: ctx.flag("sum-to-one") } };
    if (out) guardOutputFile(ctx, out, identity);
    const { preEdge, linearCombinationFit } = await import("../xas/index.js");
    const edgeOptions = { ...(e0 !== undefined ? { e0_eV: e0 } : {}), ...(pre ? { pre1_eV: pre[0]!, pre2_eV: pre[1]! } : {}), ...(norm ? { norm1_eV: norm[0]!, norm2_eV: norm[1]! } : {}) };
    const sample = readSpectrum(samplePath);
    const n = preEdge(sample.energy_eV, sample.mu, edgeOptions);
    const normalisation = { e0_eV: n.e0_eV, edgeStep: n.edgeStep, pre1_eV: n.pre1_eV, pre2_eV: n.pre2_eV, norm1_eV: n.norm1_eV, norm2_eV: n.norm2_eV, nnorm: n.nnorm, nvict: n.nvict };
    let lcf = null;
    if (standards.length) {
      const refs = standards.map((s) => {
        const sp = readSpectrum(s.path);
        return { name: s.name, energy_eV: sp.energy_eV, mu: preEdge(sp.energy_eV, sp.mu).norm };
      });
      lcf = linearCombinationFit(n.energy_eV, n.norm, refs, { e0_eV: n.e0_eV, window_eV: [window[0]!, window[1]!], sumToOne: ctx.flag("sum-to-one"), maxE0Shift_eV: maxShift });
    }
    const fit = lcf ? { names: lcf.names, weights: lcf.weights, weightErrors: lcf.weightErrors, weightSum: lcf.weightSum, e0Shift_eV: lcf.e0Shift_eV, rFactor: lcf.rFactor, reducedChiSquare: lcf.reducedChiSquare, nPoints: lcf.nPoints, window_eV: lcf.window_eV } : null;
    if (out) writeFileAtomic(out, JSON.stringify({ ssbct: identity, sample: samplePath, normalisation, energy_eV: n.energy_eV, norm: n.norm, flat: n.flat, lcf: lcf ? { ...fit, energy_eV: lcf.energy_eV, data: lcf.data, fit: lcf.fit, residual: lcf.residual } : null }, jsonReplacer, 1));
    ctx.report(
      () =>
        [
          `${basename(samplePath)}: E0 ${n.e0_eV.toFixed(2)} eV, edge step ${n.edgeStep.toPrecision(4)}, pre-edge [${n.pre1_eV}, ${n.pre2_eV}] eV, post-edge [${n.norm1_eV}, ${n.norm2_eV}] eV (polynomial degree ${n.nnorm})`,
          ...(fit ? [`linear combination fit over [${fit.window_eV.join(", ")}] eV from E0, R-factor ${fit.rFactor.toExponential(3)}:`, ...fit.names.map((nm, i) => `  ${nm.padEnd(12)} ${fit.weights[i]!.toFixed(4)} +/- ${fit.weightErrors[i]!.toFixed(4)}`)] : []),
          ...(out ? [`wrote ${out}`] : []),
        ].join("\n"),
      { sample: samplePath, normalisation, lcf: fit, ...(out ? { out } : {}) },
    );
    return 0;
  },
};
