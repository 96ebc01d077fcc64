/**
 * Park et al.'s Fig. 2c as a measurement: can lithium be told from voids with phase + absorption contrast, and
 * with absorption alone? Both shipped U-Nets (and intensity-only multi-Otsu on each channel) segment twin columns
 * from several seeds never used in training or model selection, and are scored against the twin's truth: per-class
 * Dice, the two lithium/void confusion cells, and how the deposit lithium inside Li3PS4 is labelled, per seed and
 * as mean and sample standard deviation across seeds. The same for the twin variant whose deposits fill void-shaped
 * cavities (history.depositShape = "void-filling"), where shape alone cannot separate lithium from voids.
 *
 * Volumes are rendered in memory (renderBlock of the whole column: the same voxels generateTwin writes) and
 * segmented with the ONNX Runtime path of scoreOnVolumes (predictVolume with nnU-Net's sliding windows).
 */
import { basename } from "node:path";
import { buildCellModel, renderBlock, Material, presetParameters, DEPOSIT_SHAPES, type DepositShape } from "../twin/index.js";
import { createProgress, type ProgressSink } from "../util/progress.js";
import { ParameterError } from "../util/errors.js";
import { shippedModel } from "../datasets/index.js";
import { createOnnxEngine } from "./engines.js";
import { loadSegmentModel, modelFingerprint, type SegmentModel } from "./model-io.js";
import { predictVolume } from "./predict-volume.js";
import { toTrainingVolume, type RawVolume } from "./data.js";
import { classMeans, evaluateLabels, otsuBaseline, type MethodResult } from "./report.js";
import type { ChannelName } from "./plans.js";

/**
 * Default seeds: unseen by both shipped models (trained on twin `default` seeds 101, 103-106, selected on 102,
 * reported on 999 and 4242; data/models/README.md). Five, because five 96 x 96 columns in both twin variants with
 * both models and both baselines take 27 s wall (36 s CPU) on this 2-core machine, 52-76 s while other jobs loaded
 * it (load average 4-9; measured), inside the 1-2 minute budget with room to spare, and five give a sample standard
 * deviation worth quoting. Per column and variant: about 1 s to render, 1.4 s per model, 0.1 s per baseline.
 */
export const UNSEEN_SEEDS: readonly number[] = [201, 202, 203, 204, 205];

/**
 * Column size: 96 x 96 voxels of 2 um, the `default` physics (what datasets' "default-column" generates). Why
 * not the full 160 x 160: 2.8x the voxels for the same physics, and seeds, not size, are what a spread needs.
 */
export const COMPARE_NYX: readonly [number, number] = [96, 96];

/**
 * Time point: 3.2 h, the short, where Park et al. took Fig. 2c and the deposits are largest. Earlier time points
 * hold fewer deposit voxels, so the lithium/void question has fewer voxels to be scored on.
 */
export const COMPARE_TIME_H = 3.2;

/**
 * Training volume whose class means name the multi-Otsu classes (report.ts: never the volume being scored): seed
 * 101, the first training seed of the shipped models, same column and time.
 */
export const BASELINE_TRAINING_SEED = 101;

export interface CompareModel {
  /** Name in the result, e.g. "phase + absorption". */
  name: string;
  /** Model folder (model.json + weights.bin). */
  dir: string;
}

export interface CompareOptions {
  /** Twin seeds to score on; each must be unseen by every model (default UNSEEN_SEEDS). */
  seeds?: readonly number[];
  /** Twin variants (default: both, "needles" first). */
  variants?: readonly DepositShape[];
  /** The models to compare (default: the two shipped U-Nets of data/models). */
  models?: readonly CompareModel[];
  /** Project root holding data/models (default: the current directory or its parent, as datasets.shippedModel). */
  root?: string;
  /** Lateral voxels of the column (default COMPARE_NYX). */
  nyx?: readonly [number, number];
  /** Time point, h (default COMPARE_TIME_H). */
  time_h?: number;
  /** Also score 3-class multi-Otsu on each channel (default true). */
  baselines?: boolean;
  /** false: silent; a sink: custom progress; default: the terminal / log line sink. */
  progress?: false | ProgressSink;
}

/** Mean and sample standard deviation (n - 1) over seeds; sd is null with fewer than two values. */
export interface SeedStat {
  mean: number;
  sd: number | null;
  min: number;
  max: number;
  n: number;
}

/** The two lithium/void cells of a confusion matrix. */
export interface LiVoidCells {
  /** True lithium voxels (electrodes + deposits) labelled void. */
  liAsVoid_vox: number;
  /** The same, % of the true lithium voxels. */
  liAsVoid_pct: number;
  /** True void voxels labelled lithium. */
  voidAsLi_vox: number;
  /** The same, % of the true void voxels. */
  voidAsLi_pct: number;
}

/**
 * How the deposit lithium inside Li3PS4 (material 5, not the electrodes that dominate the lithium class) is
 * labelled, % of its voxels. This is the region Fig. 2c asks about.
 */
export interface DepositLabels {
  deposit_vox: number;
  asLithium_pct: number;
  asVoid_pct: number;
  asElectrolyte_pct: number;
}

export interface SeedScore extends LiVoidCells {
  seed: number;
  /** Dice per class name. */
  dice: Record<string, number>;
  /** confusion[truth][prediction], classes in ComparisonResult.classes order. */
  confusion: number[][];
  deposit: DepositLabels;
}

export interface MethodSummary {
  dice: Record<string, SeedStat>;
  liAsVoid_vox: SeedStat;
  liAsVoid_pct: SeedStat;
  voidAsLi_vox: SeedStat;
  voidAsLi_pct: SeedStat;
  depositAsVoid_pct: SeedStat;
  depositAsLithium_pct: SeedStat;
}

export interface MethodComparison {
  method: string;
  kind: "unet" | "multi-otsu";
  channels: ChannelName[];
  perSeed: SeedScore[];
  summary: MethodSummary;
}

/**
 * Can one intensity threshold tell deposit lithium from voids? Per channel, the best balanced accuracy
 * (mean of the two classes' recalls) of a single threshold between the deposit-lithium and void voxels of the
 * scored volume: 0.5 = indistinguishable by intensity, 1 = separable. The threshold is fitted on the volume it
 * scores, so this is an upper bound for any intensity-only rule: the paper's claim, measured without a model.
 */
export interface IntensitySeparability {
  seed: number;
  absorption: number;
  phase: number;
}

export interface VariantComparison {
  variant: DepositShape;
  /** True voxels per class and of deposit lithium, per seed (what the percentages are of). */
  truth: Array<{ seed: number; classes: Record<string, number>; deposit_vox: number }>;
  separability: IntensitySeparability[];
  separabilitySummary: Record<ChannelName, SeedStat>;
  methods: MethodComparison[];
}

export interface ComparisonResult {
  seeds: number[];
  /** Seeds the models were trained or selected on (read from their records): never scored on. */
  excludedSeeds: number[];
  time_h: number;
  shapeZYX: [number, number, number];
  voxel_um: number;
  classes: string[];
  models: Array<{ name: string; folder: string; channels: ChannelName[]; fingerprint: string }>;
  /** Class means (by class name) per channel of the baselines' training volume, which order the Otsu classes. */
  baselineClassMeans: Partial<Record<ChannelName, Record<string, number>>>;
  variants: VariantComparison[];
  /** Wall time of the whole comparison, s. */
  seconds: number;
}

const CLASSES = ["electrolyte", "void", "lithium"] as const;
const VOID = 1;
const LITHIUM = 2;

/** Seeds named in a model's training data and command (twin-<preset>-<seed>.ome.zarr): training and validation. */
export function seedsSeenBy(sm: SegmentModel): number[] {
  const text = [...sm.record.training.data, sm.record.training.command ?? ""].join(" ");
  const out = new Set<number>();
  for (const m of text.matchAll(/twin-[a-z]+(?:-[a-z]+)*-(\d+)\.ome\.zarr/g)) out.add(Number(m[1]));
  return [...out].sort((a, b) => a - b);
}

/** Mean, sample sd, min, max of the finite values. */
export function seedStat(values: readonly number[]): SeedStat {
  const v = values.filter(Number.isFinite);
  const n = v.length;
  if (!n) return { mean: NaN, sd: null, min: NaN, max: NaN, n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, sd, min: Math.min(...v), max: Math.max(...v), n };
}

function pct(a: number, b: number): number {
  return b > 0 ? (100 * a) / b : NaN;
}

function seedScore(seed: number, r: MethodResult, pred: Uint8Array, material: Uint8Array): SeedScore {
  const c = r.confusion;
  const li = c[LITHIUM]!.reduce((a, b) => a + b, 0);
  const vd = c[VOID]!.reduce((a, b) => a + b, 0);
  const dep = [0, 0, 0];
  for (let i = 0; i < material.length; i++) if (material[i] === Material.liDeposit) dep[pred[i]!]!++;
  const nDep = dep[0]! + dep[1]! + dep[2]!;
  return {
    seed,
    dice: Object.fromEntries(r.classes.map((k) => [k.name, k.dice])),
    confusion: c,
    liAsVoid_vox: c[LITHIUM]![VOID]!,
    liAsVoid_pct: pct(c[LITHIUM]![VOID]!, li),
    voidAsLi_vox: c[VOID]![LITHIUM]!,
    voidAsLi_pct: pct(c[VOID]![LITHIUM]!, vd),
    deposit: { deposit_vox: nDep, asLithium_pct: pct(dep[LITHIUM]!, nDep), asVoid_pct: pct(dep[VOID]!, nDep), asElectrolyte_pct: pct(dep[0]!, nDep) },
  };
}

function summarise(perSeed: readonly SeedScore[]): MethodSummary {
  const of = (f: (s: SeedScore) => number) => seedStat(perSeed.map(f));
  return {
    dice: Object.fromEntries(CLASSES.map((k) => [k, of((s) => s.dice[k]!)])),
    liAsVoid_vox: of((s) => s.liAsVoid_vox),
    liAsVoid_pct: of((s) => s.liAsVoid_pct),
    voidAsLi_vox: of((s) => s.voidAsLi_vox),
    voidAsLi_pct: of((s) => s.voidAsLi_pct),
    depositAsVoid_pct: of((s) => s.deposit.asVoid_pct),
    depositAsLithium_pct: of((s) => s.deposit.asLithium_pct),
  };
}

/**
 * Best balanced accuracy of one threshold separating the values of class a from those of class b (either side);
 * 0.5 when either is empty. Ties are kept together: a threshold falls between distinct values only.
 */
export function thresholdSeparability(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = a.length, nb = b.length;
  if (!na || !nb) return 0.5;
  const all = new Float64Array(na + nb);
  const isA = new Uint8Array(na + nb);
  for (let i = 0; i < na; i++) (all[i] = a[i]!), (isA[i] = 1);
  for (let i = 0; i < nb; i++) all[na + i] = b[i]!;
  const order = Array.from({ length: na + nb }, (_, i) => i).sort((p, q) => all[p]! - all[q]!);
  let best = 0.5;
  let belowA = 0, belowB = 0;
  for (let r = 0; r < order.length; r++) {
    if (isA[order[r]!]) belowA++;
    else belowB++;
    if (r + 1 < order.length && all[order[r + 1]!] === all[order[r]!]) continue;
    // a below the threshold and b above, or the other way round
    const bal = 0.5 * (belowA / na + (nb - belowB) / nb);
    best = Math.max(best, bal, 1 - bal);
  }
  return best;
}

function separability(seed: number, raw: RawVolume & { material: Uint8Array }): IntensitySeparability {
  const of = (c: ChannelName) => {
    const v = raw.channels[c]!;
    const li: number[] = [], vd: number[] = [];
    for (let i = 0; i < raw.material.length; i++) {
      if (raw.material[i] === Material.liDeposit) li.push(Number(v[i]));
      else if (raw.material[i] === Material.void) vd.push(Number(v[i]));
    }
    return thresholdSeparability(li, vd);
  };
  return { seed, absorption: of("absorption"), phase: of("phase") };
}

/** One twin column at one time point, rendered in memory: both channels, the 3-class truth and the material map. */
export function renderColumn(seed: number, variant: DepositShape, nyx: readonly [number, number], time_h: number): RawVolume & { material: Uint8Array; voxel_um: number } {
  const p = presetParameters("default", { seed, geometry: { nyx: [nyx[0], nyx[1]] }, ct: { times_h: [time_h] }, history: variant === "needles" ? {} : { depositShape: variant } });
  const m = buildCellModel(p);
  const [nz, ny, nx] = m.shapeZYX;
  // time index 0: the noise stream generateTwin uses for the first (here the only) time point
  const b = renderBlock(m, 0, time_h, [0, nz, 0, ny, 0, nx]);
  return { shapeZYX: m.shapeZYX, channels: { absorption: b.absorption, phase: b.phase }, labels: b.segmentation, material: b.material, voxel_um: m.voxel_um, source: `twin default seed ${seed} ${variant} t=${time_h} h` };
}

/**
 * Scores every model (and the multi-Otsu baselines) on twin columns from unseen seeds, in both twin variants.
 * Throws a ParameterError if a seed is one a model was trained or selected on.
 */
export async function compareSegmenters(options: CompareOptions = {}): Promise<ComparisonResult> {
  const t0 = performance.now();
  const seeds = [...(options.seeds ?? UNSEEN_SEEDS)];
  const variants = [...(options.variants ?? DEPOSIT_SHAPES)];
  const nyx = options.nyx ?? COMPARE_NYX;
  const time_h = options.time_h ?? COMPARE_TIME_H;
  const root = options.root === undefined ? {} : { root: options.root };
  const specs = options.models ?? [
    { name: "phase + absorption", dir: shippedModel("unet-default", root) },
    { name: "absorption only", dir: shippedModel("unet-absorption-only", root) },
  ];
  if (!seeds.length) throw new ParameterError("no seeds to compare on", { field: "seeds", expected: "at least one twin seed" });
  const models = await Promise.all(specs.map(async (s) => ({ ...s, sm: await loadSegmentModel(s.dir) })));
  for (const m of models)
    if (m.sm.record.unet.classes.join() !== CLASSES.join())
      throw new ParameterError("a compared model does not segment the twin's three classes", { path: m.dir, field: "classes", expected: CLASSES.join(", "), got: m.sm.record.unet.classes.join(", ") });
  const excluded = [...new Set(models.flatMap((m) => seedsSeenBy(m.sm)))].sort((a, b) => a - b);
  const seen = seeds.filter((s) => excluded.includes(s));
  if (seen.length)
    throw new ParameterError("a comparison seed was used to train or select a model", { field: "seeds", expected: `none of ${excluded.join(", ")}`, got: seen.join(", ") });

  const baselines = options.baselines ?? true;
  const baselineClassMeans: ComparisonResult["baselineClassMeans"] = {};
  const otsuChannels: ChannelName[] = ["absorption", "phase"];
  if (baselines) {
    const train = renderColumn(BASELINE_TRAINING_SEED, "needles", nyx, time_h);
    for (const c of otsuChannels) baselineClassMeans[c] = Object.fromEntries(classMeans(train.channels[c]!, train.labels, CLASSES.length).map((v, k) => [CLASSES[k]!, v]));
  }

  const engines = await Promise.all(models.map((m) => createOnnxEngine(m.sm)));
  const progress = createProgress("compare segmenters", seeds.length * variants.length, { unit: "columns", sink: options.progress });
  const out: VariantComparison[] = [];
  let shapeZYX: [number, number, number] = [0, 0, 0];
  let voxel_um = NaN;
  try {
    for (const variant of variants) {
      const per = new Map<string, { kind: MethodComparison["kind"]; channels: ChannelName[]; scores: SeedScore[] }>();
      const add = (method: string, kind: MethodComparison["kind"], channels: ChannelName[], s: SeedScore) => {
        const e = per.get(method) ?? { kind, channels, scores: [] };
        e.scores.push(s);
        per.set(method, e);
      };
      const truth: VariantComparison["truth"] = [];
      const sep: IntensitySeparability[] = [];
      for (const seed of seeds) {
        const raw = renderColumn(seed, variant, nyx, time_h);
        shapeZYX = raw.shapeZYX;
        voxel_um = raw.voxel_um;
        const counts = [0, 0, 0];
        for (const l of raw.labels) counts[l]!++;
        let dep = 0;
        for (const c of raw.material) if (c === Material.liDeposit) dep++;
        truth.push({ seed, classes: Object.fromEntries(CLASSES.map((k, i) => [k, counts[i]!])), deposit_vox: dep });
        sep.push(separability(seed, raw));
        for (const [mi, m] of models.entries()) {
          const pred = await predictVolume(engines[mi]!, toTrainingVolume(raw, m.sm.record.normalisation));
          add(m.name, "unet", m.sm.record.unet.channels, seedScore(seed, evaluateLabels(m.name, raw.labels, pred, CLASSES), pred, raw.material));
        }
        if (baselines)
          for (const c of otsuChannels) {
            const means = CLASSES.map((k) => baselineClassMeans[c]![k]!);
            const pred = otsuBaseline(raw.channels[c]!, means);
            const name = `multi-Otsu ${c}`;
            add(name, "multi-otsu", [c], seedScore(seed, evaluateLabels(name, raw.labels, pred, CLASSES), pred, raw.material));
          }
        progress.tick();
      }
      out.push({
        variant,
        truth,
        separability: sep,
        separabilitySummary: { absorption: seedStat(sep.map((x) => x.absorption)), phase: seedStat(sep.map((x) => x.phase)) },
        methods: [...per.entries()].map(([method, e]) => ({ method, kind: e.kind, channels: e.channels, perSeed: e.scores, summary: summarise(e.scores) })),
      });
    }
  } finally {
    await Promise.all(engines.map((e) => e.dispose()));
  }
  progress.finish();
  return {
    seeds,
    excludedSeeds: excluded,
    time_h,
    shapeZYX,
    voxel_um,
    classes: [...CLASSES],
    models: models.map((m) => ({ name: m.name, folder: basename(m.dir), channels: m.sm.record.unet.channels, fingerprint: modelFingerprint(m.sm) })),
    baselineClassMeans,
    variants: out,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** "0.962 ± 0.011" (sd omitted with one seed). */
export function formatStat(s: SeedStat, digits = 3): string {
  return s.sd === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;
}

/**
 * Markdown table of a comparison: one row per variant and method, Dice per class, the lithium/void cells and how
 * deposit lithium is labelled, each as mean ± sample sd over the seeds.
 */
export function formatComparison(r: ComparisonResult): string {
  const lines = [
    `Twin \`default\` physics, ${r.shapeZYX.join(" x ")} voxels of ${r.voxel_um} um, t = ${r.time_h} h, seeds ${r.seeds.join(", ")} (mean ± sample sd over ${r.seeds.length} seeds).`,
    "",
    "| twin deposits | method | Dice electrolyte | Dice void | Dice lithium | lithium called void (voxels) | % of lithium | void called lithium (voxels) | % of void | deposit Li called void (%) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const v of r.variants)
    for (const m of v.methods) {
      const s = m.summary;
      lines.push(
        `| ${v.variant} | ${m.method} | ${formatStat(s.dice.electrolyte!, 4)} | ${formatStat(s.dice.void!)} | ${formatStat(s.dice.lithium!)} | ${formatStat(s.liAsVoid_vox, 0)} | ${formatStat(s.liAsVoid_pct, 2)} | ${formatStat(s.voidAsLi_vox, 0)} | ${formatStat(s.voidAsLi_pct, 1)} | ${formatStat(s.depositAsVoid_pct, 1)} |`,
      );
    }
  lines.push("", "Deposit lithium vs void by one intensity threshold (best balanced accuracy; 0.5 = indistinguishable, 1 = separable):", "");
  lines.push("| twin deposits | absorption | phase |", "| --- | --- | --- |");
  for (const v of r.variants) lines.push(`| ${v.variant} | ${formatStat(v.separabilitySummary.absorption)} | ${formatStat(v.separabilitySummary.phase)} |`);
  return lines.join("\n");
}

/** The summary of one method in one variant (throws a ParameterError naming what exists if absent). */
export function methodSummary(r: ComparisonResult, variant: DepositShape, method: string): MethodSummary {
  const v = r.variants.find((x) => x.variant === variant);
  const m = v?.methods.find((x) => x.method === method);
  if (!v || !m)
    throw new ParameterError("no such variant / method in the comparison", {
      field: "variant / method",
      expected: r.variants.map((x) => `${x.variant}: ${x.methods.map((y) => y.method).join(", ")}`).join("; "),
      got: `${variant} / ${method}`,
    });
  return m.summary;
}

/**
 * What the numbers of a comparison say, as Markdown paragraphs whose every number and every conclusion comes from
 * the result: the intensity separability per channel, the two U-Nets on needle-shaped deposits (and on how many
 * seeds the one with phase is better), and the deposit lithium they call void where it fills void-shaped cavities.
 * Expects the default method names ("phase + absorption", "absorption only", "multi-Otsu absorption").
 */
export function comparisonFindings(r: ComparisonResult): string[] {
  const PA = "phase + absorption", AB = "absorption only";
  const variant = (v: DepositShape) => r.variants.find((x) => x.variant === v);
  const perSeed = (v: DepositShape, method: string) => variant(v)?.methods.find((m) => m.method === method)?.perSeed ?? [];
  const out: string[] = [];
  const needles = variant("needles"), filling = variant("void-filling");
  const alike = (x: number) => (x < 0.6 ? "hardly better than chance (0.5)" : x < 0.8 ? "only partly" : "well");
  const sepText = (v: VariantComparison, name: string) =>
    `${formatStat(v.separabilitySummary.absorption, 2)} in absorption and ${formatStat(v.separabilitySummary.phase, 2)} in phase ${name}`;
  const parts = [needles && sepText(needles, "on the needle-shaped deposits"), filling && sepText(filling, "where lithium fills void-shaped cavities")].filter(Boolean);
  if (parts.length) {
    let p = `**By intensity.** One threshold separates deposit lithium from voids with a balanced accuracy of ${parts.join(", and ")}.`;
    const ref = filling ?? needles!;
    p += ` ${filling ? "With lithium of the voids' shapes, the" : "The"} absorption channel separates them ${alike(ref.separabilitySummary.absorption.mean)}, the phase channel ${alike(ref.separabilitySummary.phase.mean)}.`;
    if (needles && filling && needles.separabilitySummary.absorption.mean > filling.separabilitySummary.absorption.mean + 0.1)
      p += ` On needles absorption does better because needles are thicker than most voids and less electrolyte blurs into them; with lithium of the voids' own shapes and sizes it drops to ${formatStat(filling.separabilitySummary.absorption, 2)}: that was size (partial volume), not absorption.`;
    const otsu = (needles ?? filling)!.methods.find((m) => m.method === "multi-Otsu absorption");
    if (otsu) p += ` Multi-Otsu on absorption calls ${formatStat(otsu.summary.voidAsLi_pct, 1)} % of the voids lithium.`;
    out.push(p);
  }
  const pa = perSeed("needles", PA), ab = perSeed("needles", AB);
  if (pa.length && ab.length) {
    const nd = methodSummary(r, "needles", PA), na = methodSummary(r, "needles", AB);
    const n = pa.length;
    const better = pa.filter((s, i) => s.dice.void! > ab[i]!.dice.void! && s.liAsVoid_vox < ab[i]!.liAsVoid_vox).length;
    const worse = pa.filter((s, i) => s.dice.void! <= ab[i]!.dice.void! && s.liAsVoid_vox >= ab[i]!.liAsVoid_vox).length;
    const bar = pa.filter((s) => s.dice.void! >= 0.9).length;
    out.push(
      `**Segmentation, needle-shaped deposits** (what both shipped models were trained on). With phase: void Dice ${formatStat(nd.dice.void!)}, ${formatStat(nd.liAsVoid_vox, 0)} lithium voxels called void; ` +
        `absorption only: void Dice ${formatStat(na.dice.void!)}, ${formatStat(na.liAsVoid_vox, 0)}. ` +
        (better === n
          ? `The model with phase is better on both counts on every one of the ${n} seeds.`
          : worse === n
            ? `Absorption alone does as well or better on every seed: on this twin, shape carries what phase would.`
            : `The model with phase is better on both counts on ${better} of ${n} seeds, not on all.`) +
        ` The issue's void bar (Dice >= 0.90) is met on ${bar} of ${n} seeds.`,
    );
  }
  const vp = perSeed("void-filling", PA), va = perSeed("void-filling", AB);
  if (vp.length && va.length) {
    const sp = methodSummary(r, "void-filling", PA), sa = methodSummary(r, "void-filling", AB);
    const m = sp.depositAsVoid_pct.mean;
    out.push(
      `**Segmentation, void-shaped deposits.** The models call ${formatStat(sp.depositAsVoid_pct, 1)} % (with phase) and ${formatStat(sa.depositAsVoid_pct, 1)} % (absorption only) of the deposit lithium void. ` +
        (m > 30
          ? `Trained on needles only, both learned shape as much as intensity: where lithium has a void's shape, even the model with the phase channel calls ${m > 50 ? "most" : "much"} of it void` +
            (filling && filling.separabilitySummary.phase.mean > filling.separabilitySummary.absorption.mean + 0.1 ? ", although the phase channel still separates the two by intensity" : "") +
            `. Telling them apart there needs a model trained on such shapes.`
          : sa.depositAsVoid_pct.mean > m + 10
            ? `The model with phase keeps most of the deposit lithium where the absorption-only one does not.`
            : `Neither model is much confused by the void-like shapes.`),
    );
  }
  return out;
}
