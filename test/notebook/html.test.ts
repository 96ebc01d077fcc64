/**
 * HTML export of an executed notebook (built here from display bundles, no kernel): markdown rendered, outputs as
 * Jupyter picks them, one plotly.min.js beside the page and never inside it. Where a Chromium is installed, the page
 * is opened headless from file:// to check that the figure really draws offline.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type { Figure } from "../../src/figures/figure.js";
import { figureBundle, notebookToHtml, parseNotebook, plotlyScriptFile, tableBundle, writeNotebookHtml, type Notebook } from "../../src/notebook/index.js";
import { tempDir } from "../helpers/tmp.js";

const dir = tempDir("ssb-ct-html-");

const fig: Figure = {
  id: "fig2b",
  title: "Void fraction",
  caption: "Void fraction against depth (test figure).",
  data: [{ type: "scatter", mode: "lines+markers", x: [0, 10, 20], y: [3, 1, 2], name: "void" }],
  layout: { title: { text: "Void fraction" }, width: 600, height: 380 },
  provenance: {},
};

function executed(): Notebook {
  const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==";
  return parseNotebook(
    JSON.stringify({
      cells: [
        { cell_type: "markdown", metadata: {}, source: ["# Export test\n", "\n", "Some *emphasis* and `code`."] },
        {
          cell_type: "code", metadata: {}, execution_count: 1, source: "show()",
          outputs: [
            { output_type: "stream", name: "stdout", text: ["plain <text>\n"] },
            { output_type: "stream", name: "stderr", text: "\u001b[31ma warning\u001b[0m\n" },
            { output_type: "display_data", metadata: {}, data: figureBundle(fig, { plotlyPath: null, plotlyUrl: null }) },
            { output_type: "display_data", metadata: {}, data: tableBundle({ name: "t", columns: { depth_um: [1, 2], n: [3, 4] } }) },
            { output_type: "display_data", metadata: {}, data: { "image/png": png, "text/plain": "<img>" } },
            { output_type: "display_data", metadata: {}, data: { "text/markdown": "**rendered**", "text/plain": "**rendered**" } },
            { output_type: "display_data", metadata: {}, data: { "application/vnd.plotly.v1+json": { data: [{ type: "bar", x: [1], y: [2] }], layout: {} } } },
          ],
        },
        { cell_type: "code", metadata: {}, execution_count: 2, source: "fail()", outputs: [{ output_type: "error", ename: "ParameterError", evalue: "bad <value>", traceback: ["ParameterError: bad <value>", "    at evalmachine.<anonymous>:1:1"] }] },
      ],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5,
    }),
  );
}

describe("HTML export", () => {
  it("renders every kind of output and loads plotly.js from one file beside the page", () => {
    const { html, needsPlotly } = notebookToHtml(executed());
    expect(needsPlotly).toBe(true);
    expect(html).toContain("<title>Export test</title>");
    expect(html).toContain("<em>emphasis</em>");
    expect(html).toContain('<script src="plotly.min.js"></script>');
    expect(html).toContain("plain &lt;text&gt;");
    expect(html).toMatch(/<pre class="stderr">a warning\n<\/pre>/);
    expect(html).toContain("data-ssbct-figure");
    expect(html).toContain("Void fraction against depth (test figure).");
    expect(html).toMatch(/<table>[\s\S]*depth<br>[\s\S]*<\/table>/);
    expect(html).toContain('<img src="data:image/png;base64,iVBOR');
    expect(html).toContain("<strong>rendered</strong>");
    expect(html).toContain("Plotly.newPlot(el, s.data"); // a plotly bundle without our loader is drawn from its JSON
    expect(html).toContain('<div class="output error"><pre><strong>ParameterError: bad &lt;value&gt;</strong>\n    at evalmachine');
    expect(html.length).toBeLessThan(60_000);
    expect(html).not.toContain("plotly.js v"); // plotly.js itself is never inlined
  });

  it("writes the page and one plotly.min.js beside it; a page without figures needs none", () => {
    const r = writeNotebookHtml(executed(), join(dir, "page.html"));
    expect(r.plotlyScript).toBe(join(dir, "plotly.min.js"));
    expect(statSync(r.plotlyScript!).size).toBe(statSync(plotlyScriptFile()).size);
    expect(readFileSync(r.htmlPath, "utf8")).toContain("Export test");
    const plain = parseNotebook(JSON.stringify({ cells: [{ cell_type: "markdown", metadata: {}, source: "no figures" }], metadata: {}, nbformat: 4, nbformat_minor: 5 }));
    expect(writeNotebookHtml(plain, join(dir, "sub", "plain.html")).plotlyScript).toBeNull();
  });
});

function findChromium(): string | null {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}
const chromium = findChromium();

describe.skipIf(!chromium)("HTML export in a browser (headless Chromium)", () => {
  it("draws the figure offline from the page's folder, with no request leaving it", async () => {
    const out = join(dir, "browser");
    const { htmlPath } = writeNotebookHtml(executed(), join(out, "page.html"));
    const { chromium: pw } = await import("playwright-core");
    const browser = await pw.launch({ executablePath: chromium!, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(htmlPath).href);
      await page.waitForSelector("[data-ssbct-figure] .main-svg", { timeout: 20_000 });
      // A string: this project's TypeScript has no DOM types.
      const drawn = await page.evaluate(`({
        markers: document.querySelectorAll("[data-ssbct-figure] .scatterlayer .point").length,
        bars: document.querySelectorAll(".barlayer .point").length,
      })`);
      expect(drawn).toEqual({ markers: 3, bars: 1 });
      expect(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:"))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
