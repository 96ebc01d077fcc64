/**
 * Reading what the job computed, for notebooks and the figure step: every read goes through the step's record and
 * is refused (StaleResultError, naming the step and why) when the result is missing, partial or stale.
 */
import { join } from "node:path";
import { OmeImage } from "../volume/index.js";
import type { VolumeTables } from "../figures/fig-volume.js";
import { loadTwinDataset, type TwinDataset } from "../twin/index.js";
import { readRecord, type StepRecord } from "./record.js";
import { freshRecord, StepNotApplicable, type StepSpec } from "./step.js";
import { readJsonResult, readTableSet } from "./tables.js";
import type { JobPaths } from "./paths.js";

export class JobResults {
  private readonly byName: Map<string, StepSpec>;
  constructor(
    readonly paths: JobPaths,
    steps: StepSpec[],
  ) {
    this.byName = new Map(steps.map((s) => [s.name, s]));
  }

  /** The fresh record of a step (or a StaleResultError / StepNotApplicable naming why it cannot be read). */
  record(step: string): StepRecord {
    const spec = this.byName.get(step);
    if (!spec) throw new StepNotApplicable(`this job has no step "${step}"`, { expected: [...this.byName.keys()].join(", ") });
    return freshRecord(this.paths.resultsDir, spec);
  }

  /** Whether a step's result can be read; otherwise the reason (not applicable, stale, never run). */
  available(step: string): true | string {
    try {
      this.record(step);
      return true;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  /** Provenance for a figure: each step's output identity (short), by step name. */
  provenance(...steps: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of steps) {
      const r = readRecord(this.paths.resultsDir, s);
      out[s] = r ? `${r.outputId.slice(0, 16)} (${r.status}, ${r.startedAt})` : "missing";
    }
    return out;
  }

  /** Quantification tables of a label image: "truth" (twin ground truth) or "unet". */
  volume(source: "truth" | "unet"): VolumeTables {
    this.record(`quantify-${source}`);
    const t = readTableSet(join(this.paths.resultsDir, source));
    const need = (n: string) => {
      const x = t[n];
      if (!x) throw new StepNotApplicable(`table ${n} missing in ${source} results`);
      return x;
    };
    return { source, voidProfile: need("void_profile"), timeSeries: need("time_series"), nucleation: need("nucleation"), interfaces: need("interfaces") };
  }

  /** A JSON result a step wrote, after checking the step is fresh. */
  json<T>(step: string, file: string): T {
    this.record(step);
    return readJsonResult<T>(join(this.paths.resultsDir, file));
  }

  /** The dataset's image (after checking the dataset step is fresh). */
  async image(): Promise<OmeImage> {
    this.record("dataset");
    return OmeImage.open(this.paths.store);
  }

  /** The twin's side files (truth, electrochemistry, XAS); only for twin datasets. */
  twin(): TwinDataset {
    this.record("dataset");
    return loadTwinDataset(this.paths.store);
  }
}
