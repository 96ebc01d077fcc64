/**
 * Fig. 2c of Park et al.: the same region at the short (3.2 h) in Zernike phase contrast (i) and absorption
 * contrast (ii), side by side in grey levels; lithium is grey and voids black in phase, both black in absorption.
 * Here as plotly heatmaps of x-y planes with a depth slider (one animation frame per plane), a scale bar in um on
 * each image, and the truth's lithium and void outlines to switch on from the legend where the data has truth.
 * `fig2cScores` draws the segmentation comparison (segment/compare.ts) that puts numbers on the same question.
 */
import { quantileNearestSorted } from "../numerics/stats.js";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { OmeImage } from "../volume/index.js";
import type { ComparisonResult } from "../segment/compare.js";
import { ParameterError } from "../util/errors.js";
import { axis, baseLayout, CLASS_COLOURS, SERIES_COLOURS, type Figure, type PlotlyFrame, type PlotlyLayout, type PlotlyTrace } from "./figure.js";
import { fmt } from "./columns.js";

/** A box of voxel indices, half-open [start, stop) per axis. */
export interface Fig2cRegion {
  z: [number, number];
  y: [number, number];
  x: [number, number];
}

/** One channel of the region: planes along z, each row-major (y, x), values rounded for a small figure. */
export interface Fig2cChannel {
  /** Channel name in the store. */
  channel: string;
  /** Unit of the values as the store states it ("1/cm", "δ × 10⁶"). */
  unit: string;
  /** planes[k][j][i]: plane k of the region (z = region.z[0] + k * zStep), row j, column i. */
  planes: number[][][];
  /** Grey window [black, white], the same on every plane so the slider does not rescale. */
  window: [number, number];
}

export interface Fig2cInputs {
  /** Where the data came from (store name), for the provenance. */
  source: string;
  time_h: number;
  voxel_um: [number, number, number];
  region: Fig2cRegion;
  /** Depth planes are every zStep voxels of the region (so the figure stays small). */
  zStep: number;
  /** z (um, from the top of the volume) of the Li/Li3PS4 interface; depths are labelled from it when known. */
  interface_um: number | null;
  phase: Fig2cChannel;
  absorption: Fig2cChannel;
  /** The truth's lithium and void masks per plane (1 inside), when the store has a 3-class truth. */
  truth: { lithium: number[][][]; void: number[][][] } | null;
}

export interface Fig2cInputOptions {
  /** Channel names in the store (default "phase" and "absorption"). */
  channels?: { phase?: string; absorption?: string };
  /** Units where the store does not state them (default: read from the store's description; see channelUnit). */
  units?: { phase?: string; absorption?: string };
  /** Label image with the 3-class truth (0 electrolyte, 1 void, 2 lithium); null: none (default "segmentation" if present). */
  truthLabel?: string | null;
  /**
   * Most depth planes in the figure (default 20). Why 20: a 64 x 64 voxel region then makes about 1.5 MB of JSON
   * with outlines, under the 2 MB a notebook output should hold; planes are spread evenly over the region.
   */
  maxPlanes?: number;
  /** z (um) of the Li/Li3PS4 interface, to label depth from it (default: from the twin manifest if the store has one, else none). */
  interface_um?: number | null;
}

/**
 * Grey window: 0.1 and 99.9 percentiles of the region. Why not nnU-Net's 0.5 / 99.5: voids are about 0.1 % of the
 * voxels, so the 0.5 percentile lies above them, inside lithium's phase range (0.49 against lithium's median 1.29
 * around the twin's first nucleus), and lithium would print as black as the voids.
 */
function window(planes: number[][][]): [number, number] {
  const v: number[] = [];
  for (const p of planes) for (const r of p) for (const x of r) v.push(x);
  v.sort((a, b) => a - b);
  return [quantileNearestSorted(v, 0.001), quantileNearestSorted(v, 0.999)];
}

/**
 * Unit of a CT channel as the store states it: the OME-Zarr description written by the twin and by the importers
 * ("absorption: mu_total in 1/cm; phase: delta x 1e6 ..."). Returns null when the store does not say.
 */
export function channelUnit(image: OmeImage, channel: string): string | null {
  const d = String(image.experiment.description ?? "");
  const m = new RegExp(`${channel}\\s*:\\s*([^;]*)`, "i").exec(d);
  if (!m) return null;
  const text = m[1]!;
  if (/delta\s*x\s*1e6/i.test(text)) return "δ × 10⁶";
  const unit = /\bin\s+([^\s;,.]+(?:\/[^\s;,.]+)?)/i.exec(text);
  return unit ? unit[1]! : null;
}

/** A region of `half` voxels either side of a centre (um), clipped to the volume. */
export function regionAround(shapeZYX: readonly [number, number, number], voxel_um: readonly [number, number, number], centre_um: { z: number; y: number; x: number }, half: { z: number; yx: number }): Fig2cRegion {
  const span = (c_um: number, h_um: number, n: number, w: number): [number, number] => {
    const c = Math.floor(c_um / h_um);
    const lo = Math.max(0, Math.min(n - 2 * w, c - w));
    return [lo, Math.min(n, lo + 2 * w)];
  };
  return {
    z: span(centre_um.z, voxel_um[0], shapeZYX[0], half.z),
    y: span(centre_um.y, voxel_um[1], shapeZYX[1], half.yx),
    x: span(centre_um.x, voxel_um[2], shapeZYX[2], half.yx),
  };
}

function checkRegion(r: Fig2cRegion, shape: readonly number[]): void {
  (["z", "y", "x"] as const).forEach((a, i) => {
    const [lo, hi] = r[a];
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 0 && hi <= shape[i]! && hi > lo))
      throw new ParameterError("region outside the volume", { field: `region.${a}`, expected: `integers 0 <= start < stop <= ${shape[i]}`, got: `[${lo}, ${hi})` });
  });
}

/** Reads the region of time index t from an OME-Zarr image (both channels and, if present, the truth). */
export async function fig2cInputs(image: OmeImage, t: number, region: Fig2cRegion, options: Fig2cInputOptions = {}): Promise<Fig2cInputs> {
  checkRegion(region, image.shapeZYX);
  if (!(Number.isInteger(t) && t >= 0 && t < image.timePointsH.length))
    throw new ParameterError("no such time point", { field: "t", expected: `0-${image.timePointsH.length - 1}`, got: String(t) });
  const nz = region.z[1] - region.z[0], ny = region.y[1] - region.y[0], nx = region.x[1] - region.x[0];
  const zStep = Math.max(1, Math.ceil(nz / (options.maxPlanes ?? 20)));
  const sel: Array<[number, number]> = [region.z, region.y, region.x];
  const planesOf = (data: ArrayLike<number>, round: (v: number) => number) => {
    const out: number[][][] = [];
    for (let k = 0; k < nz; k += zStep) {
      const plane: number[][] = [];
      for (let j = 0; j < ny; j++) {
        const row = new Array<number>(nx);
        for (let i = 0; i < nx; i++) row[i] = round(Number(data[(k * ny + j) * nx + i]));
        plane.push(row);
      }
      out.push(plane);
    }
    return out;
  };
  // Rounded to about half the twin's noise or less (phase 0.1 against 0.18, absorption 1 /cm against 6 /cm): no
  // visible change at 85 and 170 grey levels over the windows, and half the JSON of two more digits.
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const r0 = (v: number) => Math.round(v);
  const channel = async (kind: "phase" | "absorption", round: (v: number) => number): Promise<Fig2cChannel> => {
    const name = options.channels?.[kind] ?? kind;
    if (!image.channels.includes(name)) throw new ParameterError("image lacks a channel Fig. 2c needs", { path: image.path, field: kind, expected: name, got: image.channels.join(", ") });
    const unit = options.units?.[kind] ?? channelUnit(image, name);
    if (!unit) throw new ParameterError("the store does not state the channel's unit", { path: image.path, field: `units.${kind}`, expected: "a unit in the store's description or options.units" });
    const planes = planesOf((await image.readVolume(t, name, { selection: sel })).data, round);
    return { channel: name, unit, planes, window: window(planes) };
  };
  const phase = await channel("phase", r1);
  const absorption = await channel("absorption", r0);
  const labels = await image.labelNames();
  const truthName = options.truthLabel === undefined ? (labels.includes("segmentation") ? "segmentation" : null) : options.truthLabel;
  let truth: Fig2cInputs["truth"] = null;
  if (truthName) {
    const lab = (await (await image.openLabels(truthName)).readVolume(t, { selection: sel })).data;
    truth = { lithium: planesOf(lab, (v) => (v === 2 ? 1 : 0)), void: planesOf(lab, (v) => (v === 1 ? 1 : 0)) };
  }
  let interface_um = options.interface_um ?? null;
  if (options.interface_um === undefined) {
    const twin = image.experiment.twin as { manifest?: unknown } | undefined;
    if (twin && typeof twin.manifest === "string") {
      try {
        const m = JSON.parse(readFileSync(join(image.path, twin.manifest), "utf8")) as { interface_um?: number };
        if (typeof m.interface_um === "number") interface_um = m.interface_um;
      } catch {
        interface_um = null; // no manifest beside the image: depths are then labelled from the top of the volume
      }
    }
  }
  return { source: basename(image.path), time_h: image.timePointsH[t]!, voxel_um: image.voxelSizeUm, region, zStep, interface_um, phase, absorption, truth };
}

/** Scale bar length (um): 1, 2 or 5 x 10^n, about a quarter of the image width. */
export function scaleBarLength_um(width_um: number): number {
  const target = width_um / 4;
  const p = 10 ** Math.floor(Math.log10(target));
  return [5, 2, 1].map((m) => m * p).find((l) => l <= target) ?? p;
}

/**
 * Voxel-exact outline of a binary mask (rows y, columns x) as line segments separated by nulls, in um: every edge
 * between a voxel inside and one outside (or the region's border), consecutive edges along a row or column merged.
 * A few kB per plane where the mask itself as a contour trace would cost one number per voxel.
 */
export function maskOutline(mask: number[][], x0_um: number, y0_um: number, dx_um: number, dy_um: number): { x: Array<number | null>; y: Array<number | null> } {
  const ny = mask.length, nx = mask[0]?.length ?? 0;
  const inside = (j: number, i: number) => j >= 0 && j < ny && i >= 0 && i < nx && mask[j]![i] === 1;
  const x: Array<number | null> = [], y: Array<number | null> = [];
  const seg = (xa: number, ya: number, xb: number, yb: number) => {
    x.push(x0_um + xa * dx_um, x0_um + xb * dx_um, null);
    y.push(y0_um + ya * dy_um, y0_um + yb * dy_um, null);
  };
  // horizontal edges: between rows j - 1 and j, runs along i
  for (let j = 0; j <= ny; j++) {
    let run = -1;
    for (let i = 0; i <= nx; i++) {
      const edge = i < nx && inside(j, i) !== inside(j - 1, i);
      if (edge && run < 0) run = i;
      if (!edge && run >= 0) (seg(run, j, i, j), (run = -1));
    }
  }
  // vertical edges: between columns i - 1 and i, runs along j
  for (let i = 0; i <= nx; i++) {
    let run = -1;
    for (let j = 0; j <= ny; j++) {
      const edge = j < ny && inside(j, i) !== inside(j, i - 1);
      if (edge && run < 0) run = j;
      if (!edge && run >= 0) (seg(i, run, i, j), (run = -1));
    }
  }
  return { x, y };
}

/**
 * The plane the figure opens at: with truth, the one holding the most of both lithium and voids (the larger of
 * the smaller count), as the paper's panel shows both; without, the middle plane.
 */
function startPlane(input: Fig2cInputs): number {
  const n = input.phase.planes.length;
  if (!input.truth) return Math.floor(n / 2);
  const count = (p: number[][]) => p.reduce((a, r) => a + r.reduce((b, v) => b + v, 0), 0);
  let best = Math.floor(n / 2), bestScore = -1;
  for (let k = 0; k < n; k++) {
    const score = Math.min(count(input.truth.lithium[k]!), count(input.truth.void[k]!));
    if (score > bestScore) (best = k), (bestScore = score);
  }
  return best;
}

const GREYS: Array<[number, string]> = [
  [0, "#000000"],
  [1, "#ffffff"],
];

/**
 * Fig. 2c from its inputs: phase (i) and absorption (ii) heatmaps of one depth plane, a depth slider (frames), a
 * scale bar on each image, colour bars in the channels' units, and (legend-only) truth outlines.
 */
export function fig2c(input: Fig2cInputs, provenance: Record<string, string> = {}): Figure {
  const { region, voxel_um: [vz, vy, vx] } = input;
  const nPlanes = input.phase.planes.length;
  if (!nPlanes) throw new ParameterError("Fig. 2c needs at least one depth plane", { field: "phase.planes", expected: ">= 1 plane" });
  const xs = Array.from({ length: region.x[1] - region.x[0] }, (_, i) => (region.x[0] + i + 0.5) * vx);
  const ys = Array.from({ length: region.y[1] - region.y[0] }, (_, j) => (region.y[0] + j + 0.5) * vy);
  const zOf = (k: number) => (region.z[0] + k * input.zStep + 0.5) * vz;
  const depthLabel = (k: number) => (input.interface_um === null ? `z = ${fmt(zOf(k), 4)} µm` : `${fmt(zOf(k) - input.interface_um, 4)} µm below the Li/Li3PS4 interface`);
  const panels = [
    { ch: input.phase, title: "(i) phase contrast", xa: "x", ya: "y" },
    { ch: input.absorption, title: "(ii) absorption contrast", xa: "x2", ya: "y2" },
  ] as const;
  // image, colour bar, gap, image, colour bar
  const domains: Array<[number, number]> = [
    [0, 0.4],
    [0.53, 0.93],
  ];
  const tracesAt = (k: number): PlotlyTrace[] => {
    const out: PlotlyTrace[] = panels.map((p, pi) => ({
      type: "heatmap",
      name: p.title,
      x: xs,
      y: ys,
      z: p.ch.planes[k]!,
      xaxis: p.xa,
      yaxis: p.ya,
      colorscale: GREYS,
      zmin: p.ch.window[0],
      zmax: p.ch.window[1],
      zsmooth: false,
      showscale: true,
      colorbar: { title: { text: p.ch.unit, side: "right" }, x: domains[pi]![1] + 0.01, xanchor: "left", len: 0.75, thickness: 14 },
      hovertemplate: `x %{x:.0f} µm, y %{y:.0f} µm: %{z} ${p.ch.unit}<extra>${p.title}</extra>`,
    }));
    if (input.truth)
      for (const [pi, p] of panels.entries())
        for (const cls of ["lithium", "void"] as const) {
          // CLASS_COLOURS.void is black, which vanishes on a black void (and white on the bright electrolyte around
          // it): void outlines are drawn red and dotted instead
          const colour = cls === "lithium" ? CLASS_COLOURS.lithium : SERIES_COLOURS.fit;
          const o = maskOutline(input.truth[cls][k]!, region.x[0] * vx, region.y[0] * vy, vx, vy);
          out.push({
            type: "scatter",
            mode: "lines",
            name: `truth ${cls} outline`,
            legendgroup: `truth-${cls}`,
            showlegend: pi === 0,
            visible: "legendonly",
            x: o.x,
            y: o.y,
            xaxis: p.xa,
            yaxis: p.ya,
            line: { color: colour, width: 1.5, dash: cls === "void" ? "dot" : "solid" },
            connectgaps: false,
            hoverinfo: "skip",
          });
        }
    return out;
  };
  const start = startPlane(input);
  // Frames carry only what changes: the heatmaps' values and the outlines' points.
  const frames: PlotlyFrame[] = Array.from({ length: nPlanes }, (_, k) => ({
    name: `plane-${k}`,
    data: tracesAt(k).map((tr) => (tr.type === "heatmap" ? { type: tr.type, z: tr.z } : { type: tr.type, x: tr.x, y: tr.y })),
  }));
  frames.forEach((f) => (f.traces = f.data.map((_, i) => i)));
  // Scale bar: a white line with its length above it, bottom left of each image.
  const w_um = xs.length * vx;
  const h_um = ys.length * vy;
  const bar = scaleBarLength_um(w_um);
  const x0 = region.x[0] * vx + 0.06 * w_um;
  const yb = region.y[0] * vy + 0.08 * h_um;
  const shapes: PlotlyLayout[] = panels.map((p) => ({ type: "line", xref: p.xa, yref: p.ya, x0, x1: x0 + bar, y0: yb, y1: yb, line: { color: "#ffffff", width: 4 } }));
  const annotations: PlotlyLayout[] = [
    ...panels.map((p) => ({ xref: p.xa, yref: p.ya, x: x0 + bar / 2, y: yb, yanchor: "bottom", yshift: 5, text: `${fmt(bar)} µm`, showarrow: false, font: { color: "#ffffff", size: 13 }, bgcolor: "rgba(0,0,0,0.45)", borderpad: 1 })),
    ...panels.map((p, pi) => ({ xref: "paper", yref: "paper", x: (domains[pi]![0] + domains[pi]![1]) / 2, xanchor: "center", y: 1.0, yanchor: "bottom", text: `<b>${p.title}</b>`, showarrow: false, font: { size: 14 } })),
  ];
  const xAxis = (d: [number, number], anchor: string) => axis("x", "µm", { domain: d, anchor, range: [region.x[0] * vx, region.x[1] * vx], constrain: "domain", showgrid: false });
  const yAxis = (anchor: string, scaleanchor: string) => axis(anchor === "x" ? "y" : "", anchor === "x" ? "µm" : null, { anchor, scaleanchor, scaleratio: 1, range: [region.y[0] * vy, region.y[1] * vy], constrain: "domain", showgrid: false });
  const sliderSteps = Array.from({ length: nPlanes }, (_, k) => ({
    label: input.interface_um === null ? fmt(zOf(k), 4) : fmt(zOf(k) - input.interface_um, 4),
    method: "animate",
    args: [[`plane-${k}`], { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } }],
  }));
  const layout = baseLayout(`Fig. 2c: phase vs absorption contrast at t = ${fmt(input.time_h)} h <sup>${input.source}</sup>`, {
    width: 980,
    height: 560,
    margin: { l: 70, r: 40, t: 80, b: 130 },
    xaxis: xAxis(domains[0]!, "y"),
    yaxis: yAxis("x", "x"),
    xaxis2: xAxis(domains[1]!, "y2"),
    yaxis2: yAxis("x2", "x2"),
    shapes,
    annotations,
    legend: { orientation: "h", x: 0, y: -0.42, bgcolor: "rgba(255,255,255,0)" },
    sliders: [
      {
        active: start,
        pad: { t: 60 },
        len: 0.9,
        x: 0.05,
        currentvalue: { prefix: input.interface_um === null ? "z (µm): " : "depth below the Li/Li3PS4 interface (µm): ", visible: true },
        steps: sliderSteps,
      },
    ],
  });
  const truthNote = input.truth ? " Truth outlines (lithium blue, voids red dotted) can be switched on in the legend." : "";
  return {
    id: "fig2c",
    title: "Fig. 2c: phase (i) vs absorption (ii) contrast",
    caption:
      `The same ${fmt(xs.length * vx)} x ${fmt(ys.length * vy)} µm region at t = ${fmt(input.time_h)} h in Zernike phase contrast (${input.phase.unit}) and absorption contrast (${input.absorption.unit}), ` +
      `one x-y plane per slider step (${nPlanes} planes every ${fmt(input.zStep * vz)} µm); shown: ${depthLabel(start)}. Grey levels are fixed over the planes. ` +
      `Park et al. read lithium as the region that is grey in phase (δ of Li well above that of an empty pore) and black, like the voids, in absorption.${truthNote}`,
    data: tracesAt(start),
    layout,
    frames,
    provenance: {
      image: input.source,
      time_h: String(input.time_h),
      region_voxels_zyx: `${region.z.join("-")}, ${region.y.join("-")}, ${region.x.join("-")}`,
      channels: `${input.phase.channel} (${input.phase.unit}), ${input.absorption.channel} (${input.absorption.unit})`,
      ...provenance,
    },
  };
}

/** Colours of the compared methods (the U-Net with phase in the project's U-Net colour). */
function methodColour(method: string, i: number): string {
  if (method === "phase + absorption") return SERIES_COLOURS.unet;
  if (method === "absorption only") return SERIES_COLOURS.secondary;
  if (method === "multi-Otsu absorption") return SERIES_COLOURS.tertiary;
  if (method === "multi-Otsu phase") return SERIES_COLOURS.truth;
  return [SERIES_COLOURS.data, SERIES_COLOURS.fit][i % 2]!;
}

/** Baselines (intensity only, no model) hatched, so they read as references rather than contenders. */
function methodMarker(kind: string, colour: string): Record<string, unknown> {
  return kind === "unet" ? { color: colour } : { color: colour, pattern: { shape: "/", fillmode: "overlay", fgcolor: "#ffffff", size: 6, solidity: 0.3 } };
}

/**
 * The segmentation comparison as grouped bars: per twin variant (columns), Dice per class (top) and the
 * lithium/void confusions (bottom: voids called lithium, % of void; deposit lithium called void, % of deposit),
 * mean over the seeds with sample-sd error bars.
 */
export function fig2cScores(result: ComparisonResult, provenance: Record<string, string> = {}): Figure {
  const nv = result.variants.length;
  if (!nv) throw new ParameterError("the comparison holds no twin variant", { field: "variants", expected: ">= 1" });
  const data: PlotlyTrace[] = [];
  const methods = result.variants[0]!.methods.map((m) => m.method);
  const conf = [
    { label: "void called lithium<br>(% of void)", get: (s: ComparisonResult["variants"][number]["methods"][number]["summary"]) => s.voidAsLi_pct },
    { label: "deposit lithium called void<br>(% of deposit Li)", get: (s: ComparisonResult["variants"][number]["methods"][number]["summary"]) => s.depositAsVoid_pct },
  ];
  const axisName = (row: number, col: number) => {
    const n = row * nv + col + 1;
    return n === 1 ? "" : String(n);
  };
  result.variants.forEach((v, col) => {
    methods.forEach((name, mi) => {
      const m = v.methods.find((x) => x.method === name);
      if (!m) return;
      const colour = methodColour(name, mi);
      const sd = (s: { sd: number | null }) => s.sd ?? 0;
      data.push({
        type: "bar",
        name,
        legendgroup: name,
        showlegend: col === 0,
        x: result.classes,
        y: result.classes.map((c) => m.summary.dice[c]!.mean),
        error_y: { type: "data", array: result.classes.map((c) => sd(m.summary.dice[c]!)), visible: true, color: "#333333", thickness: 1.2, width: 3 },
        marker: methodMarker(m.kind, colour),
        xaxis: `x${axisName(0, col)}`,
        yaxis: `y${axisName(0, col)}`,
        hovertemplate: `${name}, %{x}: Dice %{y:.3f} ± %{error_y.array:.3f}<extra>${v.variant}</extra>`,
      });
      data.push({
        type: "bar",
        name,
        legendgroup: name,
        showlegend: false,
        x: conf.map((c) => c.label),
        y: conf.map((c) => c.get(m.summary).mean),
        error_y: { type: "data", array: conf.map((c) => sd(c.get(m.summary))), visible: true, color: "#333333", thickness: 1.2, width: 3 },
        marker: methodMarker(m.kind, colour),
        xaxis: `x${axisName(1, col)}`,
        yaxis: `y${axisName(1, col)}`,
        hovertemplate: `${name}: %{y:.1f} ± %{error_y.array:.1f} %<extra>${v.variant}</extra>`,
      });
    });
  });
  const layout: PlotlyLayout = baseLayout("Lithium or void? Segmenters scored against the twin's truth", {
    width: 1000,
    height: 720,
    barmode: "group",
    margin: { l: 70, r: 30, t: 90, b: 110 },
    legend: { orientation: "h", x: 0, y: -0.16 },
  });
  const colW = 1 / nv;
  const variantTitle = (v: string) => (v === "needles" ? "needle-shaped deposits (presets)" : v === "void-filling" ? "deposits in void-shaped cavities" : v);
  const annotations: PlotlyLayout[] = [];
  result.variants.forEach((v, col) => {
    const d: [number, number] = [col * colW + (col ? 0.06 : 0), (col + 1) * colW - (col < nv - 1 ? 0.06 : 0)];
    layout[`xaxis${axisName(0, col)}`] = axis("", null, { domain: d, anchor: `y${axisName(0, col)}` });
    layout[`yaxis${axisName(0, col)}`] = axis("Dice", null, { domain: [0.56, 1], anchor: `x${axisName(0, col)}`, range: [0, 1.05] });
    layout[`xaxis${axisName(1, col)}`] = axis("", null, { domain: d, anchor: `y${axisName(1, col)}` });
    layout[`yaxis${axisName(1, col)}`] = axis("Voxels", "%", { domain: [0, 0.4], anchor: `x${axisName(1, col)}`, range: [0, 105] });
    annotations.push({ xref: "paper", yref: "paper", x: (d[0] + d[1]) / 2, xanchor: "center", y: 1.02, yanchor: "bottom", text: `<b>${variantTitle(v.variant)}</b>`, showarrow: false, font: { size: 14 } });
  });
  layout.annotations = annotations;
  const n = result.seeds.length;
  return {
    id: "fig2c-scores",
    title: "Fig. 2c in numbers: lithium vs void by segmentation",
    caption:
      `Mean over ${n} twin seeds never used in training (${result.seeds.join(", ")}), error bars one sample standard deviation; ` +
      `${result.shapeZYX.join(" x ")} voxels of ${fmt(result.voxel_um)} µm at t = ${fmt(result.time_h)} h. U-Nets as shipped (trained on needle-shaped deposits only); multi-Otsu on one channel as the intensity-only baseline.`,
    data,
    layout,
    provenance: {
      seeds: result.seeds.join(","),
      models: result.models.map((m) => `${m.folder} ${m.fingerprint.slice(0, 12)}`).join("; "),
      ...provenance,
    },
  };
}

/** Mean, sample standard deviation and count of one class's intensities in a channel of the region shown. */
export interface ClassIntensity {
  mean: number;
  sd: number;
  n: number;
}

/** Per channel: the truth's lithium, void and electrolyte intensities in the region, and where lithium sits between. */
export interface RegionIntensities {
  channel: string;
  unit: string;
  lithium: ClassIntensity;
  void: ClassIntensity;
  electrolyte: ClassIntensity;
  /** (lithium - void) / (electrolyte - void): 0 = as dark as voids, 1 = as bright as the electrolyte. */
  lithiumPosition: number;
}

function classIntensity(ch: Fig2cChannel, keep: (k: number, j: number, i: number) => boolean): ClassIntensity {
  const v: number[] = [];
  ch.planes.forEach((p, k) => p.forEach((row, j) => row.forEach((x, i) => (keep(k, j, i) ? v.push(x) : undefined))));
  const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
  return { mean: v.length ? mean : NaN, sd: v.length > 1 ? sd : NaN, n: v.length };
}

/**
 * How lithium and voids look in each contrast in the region of Fig. 2c, split by the truth's labels; null when the
 * store has no 3-class truth. This is the paper's panel read as numbers: lithium near 0 is "as black as the voids".
 */
export function regionIntensities(input: Fig2cInputs): RegionIntensities[] | null {
  const T = input.truth;
  if (!T) return null;
  const isLi = (k: number, j: number, i: number) => T.lithium[k]![j]![i] === 1;
  const isVoid = (k: number, j: number, i: number) => T.void[k]![j]![i] === 1;
  return [input.phase, input.absorption].map((ch) => {
    const lithium = classIntensity(ch, isLi);
    const voids = classIntensity(ch, isVoid);
    const electrolyte = classIntensity(ch, (k, j, i) => !isLi(k, j, i) && !isVoid(k, j, i));
    return { channel: ch.channel, unit: ch.unit, lithium, void: voids, electrolyte, lithiumPosition: (lithium.mean - voids.mean) / (electrolyte.mean - voids.mean) };
  });
}
