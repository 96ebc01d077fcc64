/**
 * `ssbct fit-eis`: weighted complex non-linear least squares fit of an equivalent circuit (impedance.py syntax) to
 * impedance spectra from a cycler export, multi-start, with 1-sigma errors. A file with several consecutive sweeps
 * (EC-Lab writes them one after another) gives one fit per sweep.
 */
import { resolve } from "node:path";
import type { Circuit } from "../electrochem/circuit.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { SsbCtError } from "../util/errors.js";
import { fileStamp, guardOutputFile, jsonReplacer, requireInput, UsageError, type CommandContext, type CommandSpec } from "./framework.js";

export const command: CommandSpec = {
  name: "fit-eis",
  summary: "Fits an equivalent circuit to the impedance spectra of a BioLogic .mpt, Gamry .DTA or CSV file (frequency in Hz, Re/Im Z in ohm, units read from the column names).",
  usage: "FILE --circuit CIRCUIT [options]",
  description:
    "Circuit syntax as impedance.py: elements R, C, L, CPE, W, Wo, Ws with a suffix, '-' in series, p(a,b) in parallel, e.g. R0-p(R1,CPE1)-p(R2,CPE2). Parameters: R in ohm, C in F, L in H, CPE Q in F s^(alpha-1) and alpha, W in ohm s^-1/2, Wo/Ws Z0 in ohm and tau in s. A fit that does not converge exits 1.",
  options: {
    circuit: { type: "string", value: "CIRCUIT", help: "equivalent circuit, e.g. R0-p(R1,CPE1)" },
    sweep: { type: "string", value: "N|all", default: "all", help: "which sweep of the file to fit (0-based) or all" },
    weighting: { type: "string", value: "W", default: "modulus", help: "residual weights: unit, modulus, proportional or boukamp" },
    starts: { type: "string", value: "N", default: "8", help: "multi-start count (the guessed start plus seeded perturbations)" },
    seed: { type: "string", value: "N", default: "1", help: "seed of the random starts" },
    "f-min": { type: "string", value: "Hz", help: "drop points below this frequency" },
    "f-max": { type: "string", value: "Hz", help: "drop points above this frequency" },
    out: { type: "string", value: "FILE.json", help: "write every fit (parameters, errors, correlation, fitted curve) as JSON" },
  },
  positionals: { name: "FILE", min: 1, max: 1 },
  examples: ["ssbct fit-eis cell_01.mpt --circuit 'R0-p(R1,CPE1)-p(R2,CPE2)' --out fits.json", "ssbct fit-eis spectrum.csv --circuit 'R0-p(R1,CPE1)-W1' --f-min 0.1 --json"],
  json: true,
  overwrite: true,
  async run(ctx: CommandContext) {
    const file = requireInput(ctx.positionals[0]!, "FILE");
    const circuitText = ctx.req("circuit");
    const weighting = ctx.choice("weighting", ["unit", "modulus", "proportional", "boukamp"] as const)!;
    const starts = ctx.num("starts", { integer: true, min: 1, max: 1000 })!;
    const seed = ctx.num("seed", { integer: true, min: 0 })!;
    const fMin = ctx.num("f-min", { min: 0, unit: "Hz" }) ?? 0;
    const fMax = ctx.num("f-max", { min: 0, unit: "Hz" }) ?? Infinity;
    const sweepOpt = ctx.req("sweep");
    const { parseCircuit, readTable, spectraFromTable, fitCircuit, ELEMENT_PARAMETERS } = await import("../electrochem/index.js");
    let circuit: Circuit;
    try {
      circuit = parseCircuit(circuitText);
    } catch (e) {
      if (e instanceof SsbCtError) throw new UsageError(`--circuit: ${e.summary}`, { ...e.details, field: "--circuit" });
      throw e;
    }
    const out = ctx.opt("out");
    const identity = { command: "fit-eis", inputs: { file: fileStamp(resolve(file)), circuit: circuitText, sweep: sweepOpt, weighting, starts, seed, fMin, fMax } };
    if (out) guardOutputFile(ctx, out, identity);
    const spectra = spectraFromTable(await readTable(file));
    let chosen = spectra.map((s, i) => ({ s, i }));
    if (sweepOpt !== "all") {
      const k = ctx.num("sweep", { integer: true, min: 0 })!;
      if (k >= spectra.length) throw new UsageError(`--sweep ${k}: the file holds ${spectra.length} sweep(s)`, { path: file, field: "--sweep", expected: `0..${spectra.length - 1} or all` });
      chosen = [chosen[k]!];
    }
    const unitOf = (name: string): string => {
      const el = circuit.elements.find((e) => e.paramNames.includes(name));
      return el ? (ELEMENT_PARAMETERS[el.type][el.paramNames.indexOf(name)]?.unit ?? "") : "";
    };
    const fits = chosen.map(({ s, i }) => {
      const keep = Array.from(s.freq_Hz, (f, j) => (f >= fMin && f <= fMax ? j : -1)).filter((j) => j >= 0);
      const spectrum = { freq_Hz: Float64Array.from(keep, (j) => s.freq_Hz[j]!), re_ohm: Float64Array.from(keep, (j) => s.re_ohm[j]!), im_ohm: Float64Array.from(keep, (j) => s.im_ohm[j]!), source: s.source };
      const r = fitCircuit(circuit, spectrum, { weighting, starts, seed });
      return { sweep: i, points: keep.length, r };
    });
    const data = {
      ssbct: identity,
      file,
      circuit: circuitText,
      fits: fits.map(({ sweep, points, r }) => ({
        sweep,
        points,
        parameters: Object.fromEntries(r.paramNames.map((n) => [n, { value: r.params[n], stdErr: r.stdErr[n], unit: unitOf(n) }])),
        reducedChiSquare: r.reducedChiSquare,
        aic: r.aic,
        weighting: r.weighting,
        startsAtBest: r.startsAtBest,
        parametersAtBounds: r.parametersAtBounds,
        warnings: r.warnings,
        correlation: r.correlation,
        freq_Hz: r.freq_Hz,
        fit: r.fit,
      })),
    };
    if (out) writeFileAtomic(out, JSON.stringify(data, jsonReplacer, 1));
    // The report leaves out the curves (they are in --out): one line of JSON a script can read.
    const summary = data.fits.map(({ freq_Hz, fit, correlation, ...rest }) => (void freq_Hz, void fit, void correlation, rest));
    ctx.report(
      () =>
        fits
          .map(({ sweep, points, r }) =>
            [
              `sweep ${sweep} (${points} points, ${r.weighting} weighting, reduced chi2 ${r.reducedChiSquare.toExponential(3)}, ${r.startsAtBest}/${starts} starts at the best minimum)`,
              ...r.paramNames.map((n) => `  ${n.padEnd(8)} ${r.params[n]!.toPrecision(5)} +/- ${r.stdErr[n]!.toPrecision(2)} ${unitOf(n)}`.trimEnd()),
              ...r.warnings.map((w) => `  warning: ${w}`),
            ].join("\n"),
          )
          .join("\n") + (out ? `\nwrote ${out}` : ""),
      { file, circuit: circuitText, fits: summary, ...(out ? { out } : {}) },
    );
    return 0;
  },
};
