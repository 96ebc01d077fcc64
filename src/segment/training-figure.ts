/**
 * The training curve of a U-Net run as a plotly figure: the loss at every step (raw and a running mean, because the
 * loss of one batch of two 16^3 patches jumps with what the patches hold) and the per-class Dice on whole validation
 * volumes at every validation step. Not a paper figure, so it has no FigureId; it has the same fields as one
 * otherwise, for the notebook display.
 */
import { axis, baseLayout, CLASS_COLOURS, SERIES_COLOURS, type PlotlyLayout, type PlotlyTrace } from "../figures/figure.js";
import { ParameterError } from "../util/errors.js";
import type { TrainState } from "./train.js";

export interface TrainingCurveFigure {
  title: string;
  caption: string;
  data: PlotlyTrace[];
  layout: PlotlyLayout;
}

export interface TrainingCurveOptions {
  /** Steps in the running mean of the loss (default 20). */
  smoothSteps?: number;
  /** What the validation volumes were, for the caption (e.g. "twin seed 102, 3.2 h"). */
  validation?: string;
}

/** Trailing running mean over `n` values (fewer at the start). */
function runningMean(v: readonly number[], n: number): number[] {
  const out: number[] = [];
  let sum = 0;
  v.forEach((x, i) => {
    sum += x;
    if (i >= n) sum -= v[i - n]!;
    out.push(sum / Math.min(i + 1, n));
  });
  return out;
}

/** Per-class colour: the project's class colours where the class has one. */
function classColour(name: string): string {
  return (CLASS_COLOURS as Record<string, string>)[name] ?? SERIES_COLOURS.secondary;
}

/** Loss (top) and whole-volume validation Dice per class (bottom) against the training step. */
export function trainingCurveFigure(state: TrainState, options: TrainingCurveOptions = {}): TrainingCurveFigure {
  if (!state.losses.length) throw new ParameterError("the training state holds no steps", { field: "state.losses", expected: "at least one training step" });
  const smooth = options.smoothSteps ?? 20;
  const steps = state.losses.map((l) => l.step);
  const loss = state.losses.map((l) => l.loss);
  const data: PlotlyTrace[] = [
    { type: "scatter", mode: "lines", name: "loss, per step", x: steps, y: loss, line: { color: SERIES_COLOURS.data, width: 1 }, opacity: 0.3, hovertemplate: "step %{x}: %{y:.3f}<extra></extra>" },
    { type: "scatter", mode: "lines", name: `loss, mean of ${smooth} steps`, x: steps, y: runningMean(loss, smooth), line: { color: SERIES_COLOURS.data, width: 2.5 }, hovertemplate: "step %{x}: %{y:.3f}<extra></extra>" },
  ];
  const val = state.volumeValidation ?? [];
  const classes = val.length ? Object.keys(val[0]!.dice) : [];
  for (const c of classes)
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: `Dice ${c}`,
      x: val.map((e) => e.step),
      y: val.map((e) => e.dice[c] ?? null),
      xaxis: "x2",
      yaxis: "y2",
      // electrolyte is light grey in the class palette: a thicker line keeps it visible on white
      line: { color: classColour(c), width: c === "electrolyte" ? 3 : 2 },
      marker: { color: classColour(c), size: 7, line: { color: "#333333", width: 0.5 } },
      hovertemplate: `${c} at step %{x}: %{y:.4f}<extra></extra>`,
    });
  const lastStep = steps[steps.length - 1]!;
  const title = "U-Net training curve";
  return {
    title,
    caption:
      `Soft Dice + cross-entropy loss of each training batch (faint) and its running mean over ${smooth} steps (top); per-class Dice of the whole ` +
      `validation volume${options.validation ? ` (${options.validation})` : ""} at each validation step, by sliding-window inference through ONNX Runtime (bottom).`,
    data,
    layout: baseLayout(title, {
      height: 600,
      xaxis: axis("Training step", null, { domain: [0, 1], anchor: "y", range: [0, lastStep * 1.02], showticklabels: false, title: { text: "" } }),
      yaxis: axis("Loss", null, { domain: [0.56, 1], rangemode: "tozero" }),
      xaxis2: axis("Training step", null, { domain: [0, 1], anchor: "y2", range: [0, lastStep * 1.02] }),
      yaxis2: axis("Validation Dice", null, { domain: [0, 0.46], range: [0, 1.03] }),
      legend: { orientation: "h", x: 0, y: -0.16, yanchor: "top" },
      margin: { l: 70, r: 30, t: 60, b: 110 },
    }),
  };
}
