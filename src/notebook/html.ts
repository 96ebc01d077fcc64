/**
 * An executed notebook as one standalone HTML page: markdown rendered, code as source, outputs as Jupyter would pick
 * them. The only file beside it is plotly.min.js, once per folder and only when a figure needs it (copyPlotlyScript);
 * figures are never inlined with plotly.js, so a page stays as small as its notebook.
 */
import { basename, dirname } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { escapeHtml, jsonForScript } from "../util/html-escape.js";
import { FIGURE_MARKER, PLOTLY_MIME } from "./figure-bundle.js";
import { joinText, readNotebook, type Cell, type JsonObject, type MarkdownCell, type MimeBundle, type Notebook, type Output } from "./nbformat.js";
import { markdownHtml } from "./markdown.js";
import { copyPlotlyScript, PLOTLY_SCRIPT_NAME } from "../figures/plotly-asset.js";

export interface HtmlExportOptions {
  /** Page title; default the notebook's first heading, else "Notebook". */
  title?: string;
}

export interface HtmlExport {
  html: string;
  /** True when the page has a plotly figure and so needs plotly.min.js beside it. */
  needsPlotly: boolean;
}

const CSS = `
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", Arial, sans-serif; line-height: 1.5; color: #1f2328; background: #fff; margin: 0; }
main { max-width: 1000px; margin: 0 auto; padding: 1.5em 1.2em 4em; }
h1, h2, h3 { line-height: 1.25; }
.cell { margin: 0.9em 0; }
.cell.code > .source { margin: 0; border-left: 3px solid #8aa4d6; }
.prompt { font: 11px ui-monospace, monospace; color: #6e7781; margin-bottom: 2px; }
pre { background: #f6f8fa; padding: 0.6em 0.8em; overflow-x: auto; font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; border-radius: 4px; margin: 0.3em 0; white-space: pre-wrap; word-break: break-word; }
.outputs { margin-left: 0.9em; }
.output { margin: 0.4em 0; overflow-x: auto; }
.output pre { background: #fff; border: 1px solid #eaeef2; }
.output pre.stderr { background: #fff8e6; border-color: #f0d9a0; }
.output.error pre { background: #fdecea; border-color: #e6a5a0; color: #611a15; }
.output img { max-width: 100%; }
table { border-collapse: collapse; font-size: 13px; margin: 0.3em 0; }
th, td { padding: 3px 9px; border-bottom: 1px solid #d8dee4; vertical-align: top; }
th { border-bottom: 2px solid #8c959f; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { font-weight: 600; padding-bottom: 3px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 92%; }
.markdown code { background: #f2f4f7; padding: 0 3px; border-radius: 3px; }
.markdown pre code { background: none; padding: 0; }
`;

const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Jupyter's choice among a bundle's MIME types for a static page, richest first. */
const MIME_ORDER = ["text/html", "image/svg+xml", "image/png", "image/jpeg", "image/gif", "text/markdown", "text/latex", "application/json", "text/plain"];

function pre(text: string, cls = ""): string {
  return `<pre${cls ? ` class="${cls}"` : ""}>${escapeHtml(text.replace(ANSI, ""))}</pre>`;
}

let plotlyDivs = 0;

/** A plotly bundle that is not ours (no loader HTML): drawn from its JSON with the page's plotly.js. */
function plotlyFromJson(spec: JsonObject): string {
  const id = `nbfig-${++plotlyDivs}`;
  return (
    `<div id="${id}" style="min-height:${typeof (spec.layout as JsonObject | undefined)?.height === "number" ? (spec.layout as JsonObject).height : 450}px"></div>` +
    `<script>(function () { var s = ${jsonForScript(spec)}, el = document.getElementById(${JSON.stringify(id)});` +
    ` if (!window.Plotly) { el.textContent = "plotly.min.js is missing beside this page"; return; }` +
    ` Plotly.newPlot(el, s.data, s.layout || {}, { responsive: true, displaylogo: false }).then(function () { if (s.frames) return Plotly.addFrames(el, s.frames); }); })();</script>`
  );
}

function renderBundle(data: MimeBundle): string {
  const html = data["text/html"] !== undefined ? joinText(data["text/html"]) : null;
  if (data[PLOTLY_MIME] !== undefined && !(html && html.includes(FIGURE_MARKER))) return plotlyFromJson(data[PLOTLY_MIME] as JsonObject);
  const mime = MIME_ORDER.find((m) => data[m] !== undefined);
  if (!mime) return pre(`[output with ${Object.keys(data).join(", ") || "no data"}]`);
  const v = data[mime];
  switch (mime) {
    case "text/html":
    case "image/svg+xml":
      return joinText(v);
    case "image/png":
    case "image/jpeg":
    case "image/gif":
      return `<img src="data:${mime};base64,${joinText(v).replace(/\s+/g, "")}" alt="">`;
    case "text/markdown":
      return `<div class="markdown">${markdownHtml(joinText(v))}</div>`;
    case "application/json":
      return pre(JSON.stringify(v, null, 1));
    default:
      return pre(joinText(v));
  }
}

function renderOutput(o: Output): string {
  switch (o.output_type) {
    case "stream":
      return `<div class="output stream">${pre(joinText(o.text), o.name)}</div>`;
    case "error": {
      const head = `${o.ename}: ${o.evalue}`;
      const tb = o.traceback.map((l) => l.replace(ANSI, ""));
      // Node's stack (our runner's traceback) starts with the same "Name: message" line; don't show it twice.
      const rest = tb[0] === head.split("\n")[0] ? tb.slice(head.split("\n").length) : tb;
      return `<div class="output error"><pre><strong>${escapeHtml(head)}</strong>${rest.length ? "\n" + escapeHtml(rest.join("\n")) : ""}</pre></div>`;
    }
    default:
      return `<div class="output ${o.output_type}">${renderBundle(o.data)}</div>`;
  }
}

/** Markdown with its attachments (`![x](attachment:image.png)`) as data URLs. */
function renderMarkdown(cell: MarkdownCell): string {
  let src = joinText(cell.source);
  for (const [name, bundle] of Object.entries(cell.attachments ?? {})) {
    const mime = Object.keys(bundle).find((m) => m.startsWith("image/"));
    if (mime) src = src.split(`attachment:${name}`).join(`data:${mime};base64,${joinText(bundle[mime]).replace(/\s+/g, "")}`);
  }
  return `<div class="cell markdown">${markdownHtml(src)}</div>`;
}

function renderCell(cell: Cell): string {
  if (cell.cell_type === "markdown") return renderMarkdown(cell);
  if (cell.cell_type === "raw") return `<div class="cell raw">${pre(joinText(cell.source))}</div>`;
  if (joinText(cell.source).trim() === "" && cell.outputs.length === 0) return "";
  const prompt = `<div class="prompt">In [${cell.execution_count ?? " "}]:</div>`;
  const outputs = cell.outputs.map(renderOutput).join("\n");
  return `<div class="cell code">${prompt}<pre class="source"><code>${escapeHtml(joinText(cell.source))}</code></pre>${outputs ? `\n<div class="outputs">${outputs}</div>` : ""}</div>`;
}

function usesPlotly(nb: Notebook): boolean {
  return nb.cells.some(
    (c) => c.cell_type === "code" && c.outputs.some((o) => (o.output_type === "display_data" || o.output_type === "execute_result") && (o.data[PLOTLY_MIME] !== undefined || joinText(o.data["text/html"]).includes(FIGURE_MARKER))),
  );
}

function defaultTitle(nb: Notebook): string {
  for (const c of nb.cells) {
    if (c.cell_type !== "markdown") continue;
    const m = /^#\s+(.+)$/m.exec(joinText(c.source));
    if (m) return m[1]!.trim();
  }
  return "Notebook";
}

/** The page, and whether it needs plotly.min.js beside it. */
export function notebookToHtml(nb: Notebook, options: HtmlExportOptions = {}): HtmlExport {
  plotlyDivs = 0;
  const needsPlotly = usesPlotly(nb);
  const title = options.title ?? defaultTitle(nb);
  const body = nb.cells.map(renderCell).filter((h) => h !== "").join("\n");
  // A plain <script src> in the head: loaded before any figure's script runs, from file:// as from a web server.
  const head = needsPlotly ? `\n<script src="${PLOTLY_SCRIPT_NAME}"></script>` : "";
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>${head}
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
  return { html, needsPlotly };
}


/**
 * Writes the notebook (a path or a parsed notebook) as a standalone page at `htmlPath`, atomically, and
 * plotly.min.js beside it when a figure needs it.
 */
export function writeNotebookHtml(notebook: Notebook | string, htmlPath: string, options: HtmlExportOptions = {}): { htmlPath: string; plotlyScript: string | null } {
  const nb = typeof notebook === "string" ? readNotebook(notebook) : notebook;
  const title = options.title ?? (typeof notebook === "string" && defaultTitle(nb) === "Notebook" ? basename(notebook, ".ipynb") : undefined);
  const { html, needsPlotly } = notebookToHtml(nb, { ...options, title });
  writeFileAtomic(htmlPath, html);
  return { htmlPath, plotlyScript: needsPlotly ? copyPlotlyScript(dirname(htmlPath)) : null };
}
