/**
 * `ssbct <command> [options]`: the package's one command line (bin/ssbct.mjs starts it). Commands are loaded on
 * demand so that `ssbct info` or `--help` does not pay for TF.js and ONNX Runtime.
 */
import { closest, packageInfo, runCommand, type CommandSpec } from "./framework.js";

interface Entry {
  summary: string;
  load: () => Promise<{ command: CommandSpec }>;
}

export const COMMANDS: Record<string, Entry> = {
  twin: { summary: "generate the digital twin's operando dataset (OME-Zarr + manifest, electrochemistry, XAS)", load: () => import("./twin.js") },
  import: { summary: "copy a TIFF stack or HDF5 volume into an OME-Zarr image (one time point and channel per call)", load: () => import("./import.js") },
  info: { summary: "what a dataset holds: shape, voxel size, channels, time points, labels, what has been computed", load: () => import("./info.js") },
  train: { summary: "train the 3D U-Net segmenter on labelled OME-Zarr images", load: () => import("./train.js") },
  segment: { summary: "segment an OME-Zarr image with a trained model (writes labels/<name>)", load: () => import("./segment.js") },
  labels: { summary: "label-image tools: sparsify (every K-th slice kept, as sparse annotations)", load: () => import("./labels.js") },
  suggest: { summary: "the slices and boxes to annotate next: where the model is most uncertain", load: () => import("./suggest.js") },
  report: { summary: "score models and intensity baselines against ground-truth labels (Dice, IoU, confusion)", load: () => import("./report.js") },
  quantify: { summary: "voids vs depth, porosity, Li vs Faraday, nucleation from a label image (CSV tables)", load: () => import("./quantify.js") },
  "fit-eis": { summary: "fit an equivalent circuit to impedance spectra (BioLogic .mpt, Gamry .DTA, CSV)", load: () => import("./fit-eis.js") },
  xas: { summary: "normalise XAS spectra and fit linear combinations of standards", load: () => import("./xas.js") },
  figures: { summary: "the paper's figures (HTML/JSON, PNG/SVG with Chromium) and the report from the job's results", load: () => import("./figures.js") },
  reproduce: { summary: "the main job: every figure of the paper from the twin's data (or yours), end to end", load: () => import("./reproduce.js") },
  notebooks: { summary: "execute notebooks headless with Node alone, or export executed ones as HTML", load: () => import("./notebooks.js") },
};

function overview(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  return [
    "Usage: ssbct <command> [options]",
    "",
    "Operando X-ray CT of lithium deposition in sulfide solid electrolytes.",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([n, e]) => `  ${n.padEnd(w)}${e.summary}`),
    "",
    "Every command takes --help (options, defaults, units, an example), --version and --debug.",
    "Exit status: 0 success, 1 failure, 2 bad usage or bad input, 130 interrupted.",
    "Example:",
    "  ssbct twin --preset ci --out ci.ome.zarr && ssbct info ci.ome.zarr",
    "",
  ].join("\n");
}

/** Runs `ssbct` with these arguments (without node and the script); resolves to the exit status. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    if (name === "help" && rest[0] && COMMANDS[rest[0]]) return runCli([rest[0], "--help"]);
    // Without a command it is a usage error: the overview goes to stderr, as any error message.
    (name === undefined ? process.stderr : process.stdout).write(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    process.stdout.write(`${packageInfo().version}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    const guess = closest(name, Object.keys(COMMANDS));
    process.stderr.write(`ssbct: unknown command ${JSON.stringify(name)}${guess ? ` (did you mean ${guess}?)` : ""}; commands: ${Object.keys(COMMANDS).join(", ")}\n`);
    return 2;
  }
  const { command } = await entry.load();
  return runCommand(command, rest);
}
