/**
 * Figures as files: a standalone HTML page per figure (plotly.js loaded from one `plotly.min.js` beside it, so the
 * page works offline and stays small), the figure JSON, and PNG + SVG rendered by headless Chromium where one is
 * installed (Debian `chromium`, driven through playwright-core). Without Chromium the HTML and JSON are still
 * written and the caller is told what was skipped.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { escapeHtml, jsonForScript } from "../util/html-escape.js";
import type { Figure } from "./figure.js";
import { copyPlotlyScript, plotlyScriptFile, PLOTLY_SCRIPT_NAME } from "./plotly-asset.js";

/** A standalone page for one figure; `plotlySrc` is where plotly.min.js is (default: beside the page). */
export function figureHtml(fig: Figure, options: { plotlySrc?: string } = {}): string {
  const src = options.plotlySrc ?? PLOTLY_SCRIPT_NAME;
  const prov = Object.entries(fig.provenance)
    .map(([k, v]) => `<li><code>${escapeHtml(k)}</code>: <code>${escapeHtml(v)}</code></li>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(fig.id)}: ${escapeHtml(fig.title)}</title>
<style>body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:1100px;margin:1.5em auto;color:#222}
.caption{max-width:900px}.prov{font-size:12px;color:#555}</style>
<script src="${escapeHtml(src)}"></script></head>
<body><div id="plot"></div>
<p class="caption"><b>${escapeHtml(fig.id)}.</b> ${escapeHtml(fig.caption)}</p>
<details class="prov"><summary>computed from</summary><ul>${prov}</ul></details>
<script>
const fig = ${jsonForScript({ data: fig.data, layout: fig.layout, frames: fig.frames ?? [] })};
if (window.Plotly) Plotly.newPlot("plot", fig.data, fig.layout, {responsive: true, displaylogo: false}).then(() => fig.frames.length && Plotly.addFrames("plot", fig.frames));
else document.getElementById("plot").textContent = "plotly.min.js was not found beside this page (${escapeHtml(src)}).";
</script></body></html>
`;
}

/** Writes `<id>.html` and `<id>.json` into `dir` (and plotly.min.js once); returns the paths. */
export function writeFigure(fig: Figure, dir: string): string[] {
  copyPlotlyScript(dir);
  const html = join(dir, `${fig.id}.html`);
  const json = join(dir, `${fig.id}.json`);
  writeFileAtomic(html, figureHtml(fig));
  writeFileAtomic(json, JSON.stringify(fig));
  return [html, json];
}

/** Where a Chromium executable is (SSB_CT_CHROMIUM, then the usual Debian/Ubuntu paths), or null. */
export function findChromium(): string | null {
  const candidates = [process.env.SSB_CT_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

export interface ImageExport {
  written: string[];
  /** Why images were not rendered (no Chromium, no playwright-core), or null. */
  skipped: string | null;
}

/**
 * Renders each figure to `<id>.png` (2x pixel density) and `<id>.svg` with plotly's own exporter in headless
 * Chromium. 3D figures are rendered by WebGL in software (SwiftShader), which Chromium ships.
 */
export async function renderFigureImages(figs: Figure[], dir: string, options: { formats?: Array<"png" | "svg"> } = {}): Promise<ImageExport> {
  const exe = findChromium();
  if (!exe) return { written: [], skipped: "no Chromium found (install Debian's chromium or set SSB_CT_CHROMIUM): PNG/SVG not written, HTML is" };
  let pw: typeof import("playwright-core");
  try {
    pw = await import("playwright-core");
  } catch {
    return { written: [], skipped: "playwright-core is not installed: PNG/SVG not written" };
  }
  const formats = options.formats ?? ["png", "svg"];
  const browser = await pw.chromium.launch({ executablePath: exe, args: ["--no-sandbox", "--use-gl=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"] });
  const written: string[] = [];
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><body style="margin:0"><div id="plot"></div></body></html>');
    await page.addScriptTag({ path: plotlyScriptFile() });
    mkdirSync(dir, { recursive: true });
    for (const fig of figs) {
      for (const format of formats) {
        // A string expression: this module is compiled without DOM types, and the code runs in the page.
        const url = (await page.evaluate(`(async (f, format) => {
          const el = document.getElementById("plot");
          Plotly.purge(el);
          await Plotly.newPlot(el, f.data, f.layout, { staticPlot: true });
          if (f.staticFrame) {
            await Plotly.addFrames(el, f.frames);
            await Plotly.animate(el, [f.staticFrame], { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } });
          }
          const w = typeof f.layout.width === "number" ? f.layout.width : 760;
          const h = typeof f.layout.height === "number" ? f.layout.height : 480;
          return Plotly.toImage(el, { format, width: w, height: h, scale: format === "png" ? 2 : 1 });
        })(${jsonForScript({ data: fig.data, layout: fig.layout, frames: fig.frames ?? [], staticFrame: fig.staticFrame ?? null })}, ${JSON.stringify(format)})`)) as string;
        const path = join(dir, `${fig.id}.${format}`);
        const body = url.slice(url.indexOf(",") + 1);
        writeFileAtomic(path, format === "png" ? Buffer.from(body, "base64") : url.startsWith("data:image/svg+xml;base64") ? Buffer.from(body, "base64") : decodeURIComponent(body));
        written.push(path);
      }
    }
  } finally {
    await browser.close();
  }
  return { written, skipped: null };
}
