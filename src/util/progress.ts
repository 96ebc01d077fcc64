/**
 * Progress reporting for anything that takes more than a few seconds.
 *
 * A job creates a `Progress` with a total and ticks it; where the ticks go is a sink. The default sink draws a
 * one-line bar with rate and ETA on a terminal (stderr is a TTY) and otherwise (CI logs, Jupyter cells, whose
 * stderr is captured line by line) prints a plain line at most every `lineIntervalS` seconds, so logs stay short.
 * Set SSB_CT_PROGRESS=0 to silence the default sink, SSB_CT_PROGRESS_INTERVAL_S to change the line interval.
 */

export interface ProgressEvent {
  label: string;
  done: number;
  total: number;
  unit: string;
  elapsedS: number;
  /** Seconds to completion at the mean rate so far; null until there is a rate. */
  etaS: number | null;
  finished: boolean;
}

export type ProgressSink = (event: ProgressEvent) => void;

export interface ProgressOptions {
  unit?: string;
  /** false: report nothing; a function: custom sink (a notebook widget, a test recorder). */
  sink?: ProgressSink | false;
}

export interface Progress {
  tick(n?: number): void;
  set(done: number): void;
  finish(): void;
  readonly done: number;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

export function formatProgress(e: ProgressEvent, width = 24): string {
  const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 1;
  const filled = Math.round(frac * width);
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  const rate = e.elapsedS > 0 ? e.done / e.elapsedS : 0;
  const eta = e.finished ? `done in ${fmtSeconds(e.elapsedS)}` : `ETA ${e.etaS === null ? "?" : fmtSeconds(e.etaS)}`;
  return `${e.label} [${bar}] ${e.done}/${e.total} ${e.unit} ${(frac * 100).toFixed(0)}% ${rate.toFixed(1)} ${e.unit}/s ${eta}`;
}

export function defaultSink(
  stream: NodeJS.WriteStream = process.stderr,
  lineIntervalS = Number(process.env.SSB_CT_PROGRESS_INTERVAL_S) || 5,
): ProgressSink {
  if (process.env.SSB_CT_PROGRESS === "0") return () => {};
  const tty = Boolean(stream.isTTY);
  let lastLine = -Infinity;
  let lastDraw = -Infinity;
  return (e) => {
    if (tty) {
      if (!e.finished && e.elapsedS - lastDraw < 0.1) return;
      lastDraw = e.elapsedS;
      stream.write(`\r${formatProgress(e)}\x1b[K${e.finished ? "\n" : ""}`);
      return;
    }
    if (!e.finished && e.elapsedS - lastLine < lineIntervalS) return;
    lastLine = e.elapsedS;
    stream.write(formatProgress(e) + "\n");
  };
}

export function createProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const unit = options.unit ?? "items";
  const sink: ProgressSink = options.sink === false ? () => {} : options.sink ?? defaultSink();
  const t0 = performance.now();
  let done = 0;
  let finished = false;
  const emit = () => {
    const elapsedS = (performance.now() - t0) / 1000;
    const rate = elapsedS > 0 ? done / elapsedS : 0;
    const etaS = rate > 0 ? Math.max(0, (total - done) / rate) : null;
    sink({ label, done, total, unit, elapsedS, etaS, finished });
  };
  return {
    tick(n = 1) {
      done += n;
      emit();
    },
    set(value: number) {
      done = value;
      emit();
    },
    finish() {
      if (finished) return;
      finished = true;
      emit();
    },
    get done() {
      return done;
    },
  };
}
