/**
 * A Figure as a display bundle that draws offline everywhere a notebook is read:
 * - `application/vnd.plotly.v1+json`: front ends with a plotly renderer (JupyterLab's plotly extension, VS Code)
 *   draw it themselves;
 * - `text/html`: the figure JSON plus a small loader that uses `window.Plotly` when the page has it (our exported
 *   HTML puts one `<script src="plotly.min.js">` in its head) and otherwise loads plotly.min.js from, in order,
 *   SSB_CT_PLOTLY_URL, the project's node_modules through the Jupyter server's `/files/` endpoint, and a sibling
 *   `plotly.min.js`; if none loads, the div keeps a one-line note. plotly.js itself is never copied into an output, so
 *   a notebook stays small, and nothing depends on kernel state, so outputs still draw after a kernel restart.
 * - `text/plain`: title and caption.
 */
import { createHash } from "node:crypto";
import type { FigureLike } from "../figures/figure.js";
import { escapeHtml, jsonForScript } from "../util/html-escape.js";
import type { JsonObject } from "./nbformat.js";
import { plotlyScriptRelative } from "../figures/plotly-asset.js";

export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** Marks our loader's HTML so that the HTML export can tell it from other producers' plotly HTML. */
export const FIGURE_MARKER = "data-ssbct-figure";

export interface FigureOptions {
  /**
   * plotly.min.js relative to the notebook's folder, for the Jupyter `/files/` route. Default: resolved from the
   * kernel's working directory (the notebook's folder) at display time.
   */
  plotlyPath?: string | null;
  /** A URL tried first (also read from SSB_CT_PLOTLY_URL): for servers whose layout the loader cannot infer. */
  plotlyUrl?: string | null;
}

export interface FigureBundle {
  [PLOTLY_MIME]: JsonObject;
  "text/html": string;
  "text/plain": string;
}

/**
 * Figure data as JSON: typed arrays become plain arrays (JSON.stringify would write them as objects keyed by
 * index), float32 values keep the 7 digits they hold instead of 17, and non-finite numbers become null (gaps).
 */
export function figureJson(fig: Pick<FigureLike, "data" | "layout" | "frames">): JsonObject {
  const replacer = (_k: string, v: unknown): unknown => {
    if (v instanceof Float32Array) return Array.from(v, (x) => (Number.isFinite(x) ? Number(x.toPrecision(7)) : null));
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? Number(x) : x));
    return v;
  };
  const spec: Record<string, unknown> = { data: fig.data, layout: fig.layout };
  if (fig.frames && fig.frames.length > 0) spec.frames = fig.frames;
  return JSON.parse(JSON.stringify(spec, replacer)) as JsonObject;
}

// A per-process counter keeps ids unique when one figure is shown twice, yet stable from run to run (no random ids
// churning the saved notebook).
let shown = 0;

function figureId(json: string): string {
  shown += 1;
  return `ssbct-fig-${createHash("sha256").update(json).digest("hex").slice(0, 10)}-${shown}`;
}

/** The loader, as browser JavaScript. Kept ES5-plain: it runs in whatever page shows the output. */
function loaderScript(id: string, spec: string, rel: string | null, url: string | null): string {
  return `(function () {
var ID = ${JSON.stringify(id)}, REL = ${JSON.stringify(rel)}, URL0 = ${JSON.stringify(url)};
var spec = ${spec};
var me = document.currentScript;
function target() {
  var p = me && me.parentNode;
  return (p && p.querySelector && p.querySelector('[${FIGURE_MARKER}="' + ID + '"]')) || document.getElementById(ID);
}
function join(dir, rel) {
  var parts = dir ? dir.split("/") : [], r = rel.split("/");
  for (var i = 0; i < r.length; i++) {
    if (r[i] === "..") { if (!parts.length) return null; parts.pop(); }
    else if (r[i] && r[i] !== ".") parts.push(r[i]);
  }
  return parts.join("/");
}
function jupyterUrl() {
  if (!REL) return null;
  var base = null, nb = null, body = document.body, cfg = document.getElementById("jupyter-config-data");
  if (cfg) { try { base = JSON.parse(cfg.textContent).baseUrl || null; } catch (e) {} }
  if (body && body.getAttribute("data-base-url")) base = base || body.getAttribute("data-base-url");
  if (body && body.getAttribute("data-notebook-path")) nb = body.getAttribute("data-notebook-path");
  var m = /^(.*?\\/)(?:notebooks|(?:lab|doc)(?:\\/workspaces\\/[^\\/]+)?\\/tree)\\/(.+)$/.exec(location.pathname);
  if (m) { base = base || m[1]; nb = nb || decodeURIComponent(m[2]); }
  if (!base || !nb) return null;
  var p = join(nb.split("/").slice(0, -1).join("/"), REL);
  if (p === null) return null;
  return base.replace(/\\/?$/, "/") + "files/" + p.split("/").map(encodeURIComponent).join("/");
}
var urls = [URL0, jupyterUrl(), "plotly.min.js"].filter(function (u) { return !!u; });
function load() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (window.__ssbctPlotly) return window.__ssbctPlotly;
  var i = 0;
  var p = new Promise(function (resolve, reject) {
    (function next() {
      if (window.Plotly) return resolve(window.Plotly);
      if (i >= urls.length) return reject(new Error("plotly.js not found"));
      var s = document.createElement("script");
      s.src = urls[i++];
      s.onload = function () { if (window.Plotly) resolve(window.Plotly); else next(); };
      s.onerror = next;
      document.head.appendChild(s);
    })();
  });
  window.__ssbctPlotly = p;
  p.catch(function () { window.__ssbctPlotly = null; });
  return p;
}
function whenAttached(el, f, waited) {
  if (el.isConnected || waited > 10000) return f();
  setTimeout(function () { whenAttached(el, f, waited + 50); }, 50);
}
load().then(function (Plotly) {
  var el = target();
  if (!el) return;
  whenAttached(el, function () {
    el.textContent = "";
    Plotly.newPlot(el, spec.data, spec.layout, { responsive: true, displaylogo: false }).then(function () {
      if (spec.frames) return Plotly.addFrames(el, spec.frames);
    });
  }, 0);
}, function () {
  var el = target();
  if (el) el.textContent = "plotly.js could not be loaded offline (tried: " + urls.join(", ") + "). The figure's data is in this output's ${PLOTLY_MIME}.";
});
})();`;
}

function pixels(v: unknown, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback;
}

/** The display bundle of a figure (see the module comment for what each MIME type is for). */
export function figureBundle(fig: FigureLike, options: FigureOptions = {}): FigureBundle {
  const spec = figureJson(fig);
  const specText = jsonForScript(spec);
  const id = figureId(specText);
  const rel = options.plotlyPath === undefined ? plotlyScriptRelative() : options.plotlyPath;
  const url = options.plotlyUrl === undefined ? process.env.SSB_CT_PLOTLY_URL || null : options.plotlyUrl;
  const height = pixels(fig.layout.height, 450);
  const note = `Interactive figure "${fig.title}": run this cell or trust the notebook to draw it (plotly.js loads offline from the project's node_modules).`;
  const html =
    `<div class="ssbct-figure">\n` +
    `<div id="${id}" ${FIGURE_MARKER}="${id}" style="min-height:${height}px;color:#666;font-style:italic">${escapeHtml(note)}</div>\n` +
    `<p class="ssbct-caption" style="max-width:${pixels(fig.layout.width, 760)}px;margin:0.3em 0 1em 0;font-size:92%">${escapeHtml(fig.caption)}</p>\n` +
    `<script>${loaderScript(id, specText, rel, url)}</script>\n` +
    `</div>`;
  return { [PLOTLY_MIME]: spec, "text/html": html, "text/plain": `${fig.title}\n${fig.caption}` };
}
