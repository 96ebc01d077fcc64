/**
 * The Node-only notebook runner end to end on fixture notebooks: outputs of every kind, execution counts, the real
 * message of a type error and of a thrown error, stopping at the failing cell, the exit status of the CLI, and a
 * small executed notebook. Each kernel start costs a few seconds, so all runs start at once and are shared.
 */
import { spawn } from "node:child_process";
import { copyFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { joinText, runNotebook, serializeNotebook, type CodeCell, type DisplayDataOutput, type ErrorOutput, type NotebookRunResult, type Output, type StreamOutput } from "../../src/notebook/index.js";
import { tempDir } from "../helpers/tmp.js";
import { buildNotebookLib } from "./lib-bundle.js";

const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
const repo = fileURLToPath(new URL("../../", import.meta.url));
const cli = fileURLToPath(new URL("../../src/notebook/cli.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const dir = tempDir("ssb-ct-nb-");

function code(r: NotebookRunResult): CodeCell[] {
  return r.notebook.cells.filter((c): c is CodeCell => c.cell_type === "code");
}
function streams(outs: Output[]): { name: string; text: string }[] {
  return outs.filter((o): o is StreamOutput => o.output_type === "stream").map((o) => ({ name: o.name, text: joinText(o.text) }));
}
function displays(outs: Output[]): DisplayDataOutput[] {
  return outs.filter((o): o is DisplayDataOutput => o.output_type === "display_data");
}

function runCli(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--import", tsx, cli, ...args], { cwd: repo, env: process.env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("close", (status) => resolve({ status, stderr }));
  });
}

const timeoutNb = {
  cells: [
    { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: 'console.log("started");' },
    { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: "while (true) {}" },
    { cell_type: "code", metadata: {}, execution_count: null, outputs: [], source: 'console.log("after");' },
  ],
  metadata: { kernelspec: { name: "tslab", language: "typescript", display_name: "TypeScript" } },
  nbformat: 4,
  nbformat_minor: 5,
};

let display: NotebookRunResult;
let displayLog: string[];
let throws: NotebookRunResult;
let inPlace: { result: NotebookRunResult; before: string; after: string };
let timeout: NotebookRunResult;
let typeErrorCli: { status: number | null; stderr: string };
const displayInput = readFileSync(join(fixtures, "display.ipynb"), "utf8");

beforeAll(async () => {
  const lib = await buildNotebookLib(dir);
  const env = { ...process.env, SSB_CT_NOTEBOOK_LIB: lib };
  displayLog = [];
  const inPlacePath = join(dir, "throws-in-place.ipynb");
  copyFileSync(join(fixtures, "throws.ipynb"), inPlacePath);
  const timeoutPath = join(dir, "timeout.ipynb");
  writeFileSync(timeoutPath, JSON.stringify(timeoutNb));
  const before = readFileSync(inPlacePath, "utf8");
  let inPlaceResult: NotebookRunResult;
  [display, throws, inPlaceResult, timeout, typeErrorCli] = await Promise.all([
    runNotebook(join(fixtures, "display.ipynb"), { outputPath: join(dir, "display.ipynb"), env, log: (l) => displayLog.push(l) }),
    runNotebook(join(fixtures, "throws.ipynb"), { outputPath: join(dir, "throws.ipynb"), log: null }),
    runNotebook(inPlacePath, { outputPath: inPlacePath, log: null }),
    runNotebook(timeoutPath, { cellTimeoutS: 3, log: null }),
    runCli(["run", "--out", join(dir, "cli-out"), join(fixtures, "type-error.ipynb")]),
  ]);
  inPlace = { result: inPlaceResult, before, after: readFileSync(inPlacePath, "utf8") };
}, 120_000);

describe("notebook runner: outputs", () => {
  it("runs every code cell with execution counts, skipping blank cells, and reports progress per cell", () => {
    expect(display.ok).toBe(true);
    expect(display.failure).toBeNull();
    expect(code(display).map((c) => c.execution_count)).toEqual([1, 2, null, 3, 4]);
    expect(display.codeCellsRun).toBe(4);
    expect(display.kernel?.typescript).toMatch(/^5\./);
    expect(displayLog).toContain("notebook display.ipynb: cell 3/7");
    expect(displayLog.some((l) => /4 code cells ran/.test(l))).toBe(true);
    const t = code(display)[1]!.metadata.execution as Record<string, string>;
    expect(Date.parse(t["shell.execute_reply"]!)).toBeGreaterThanOrEqual(Date.parse(t["iopub.execute_input"]!));
  });

  it("keeps stdout and stderr apart and in order, with the last expression printed as tslab does", () => {
    expect(streams(code(display)[1]!.outputs)).toEqual([
      { name: "stdout", text: "hello from stdout\n" },
      { name: "stderr", text: "a warning on stderr\n" },
      { name: "stdout", text: "second line\n42\n" },
    ]);
  });

  it("collects one multi-MIME bundle per display helper call", () => {
    const outs = displays(code(display)[3]!.outputs);
    expect(outs.map((o) => Object.keys(o.data).sort())).toEqual([
      ["application/vnd.plotly.v1+json", "text/html", "text/plain"],
      ["text/html", "text/plain"],
      ["text/html", "text/plain"],
      ["text/html", "text/markdown", "text/plain"],
    ]);
    const fig = outs[0]!.data["application/vnd.plotly.v1+json"] as { data: { y: number[] }[]; layout: { width: number } };
    // A Float32Array in the trace arrives as a plain array with float32's digits, not as {"0": ...}.
    expect(fig.data[0]!.y).toEqual([1.5, 3.25, 2.1, 0.4]);
    expect(fig.layout.width).toBe(640);
    const html = joinText(outs[0]!.data["text/html"]);
    expect(html).toContain("data-ssbct-figure");
    expect(html).toContain("Void fraction (%) of each 5 µm depth bin; fixture data.");
    // The loader's path to plotly.js was computed in the kernel, from the notebook's folder.
    expect(html).toContain('REL = "../../../node_modules/plotly.js-dist-min/plotly.min.js"');
    expect(html.length).toBeLessThan(20_000);
    expect(joinText(outs[0]!.data["text/plain"])).toBe("Void fraction against depth\nVoid fraction (%) of each 5 µm depth bin; fixture data.");
    const table = joinText(outs[1]!.data["text/html"]);
    expect(table).toContain("<caption");
    expect(table).toMatch(/<th title="void_volume_um3" class="num"[^>]*>void_volume<br><span[^>]*>µm³<\/span><\/th>/);
    expect(table).toContain(">1.23e-4<");
    expect(table).toContain(">b&lt;c<");
    expect(joinText(outs[2]!.data["text/plain"])).toContain("[2 rows × 2 columns]");
    expect(joinText(outs[3]!.data["text/markdown"])).toBe("**bold** from a helper");
    expect(joinText(outs[3]!.data["text/html"])).toContain("<strong>bold</strong> from a helper");
  });

  it("passes tslab.display calls through, and applies display updates to the output they replace", () => {
    const outs = displays(code(display)[4]!.outputs);
    expect(outs.map((o) => o.data)).toEqual([{ "text/html": "<b>raw tslab html</b>" }, { "text/plain": "updated version" }]);
  });

  it("writes a small nbformat 4 notebook in Jupyter's layout and leaves the input alone", () => {
    const path = join(dir, "display.ipynb");
    const text = readFileSync(path, "utf8");
    expect(statSync(path).size).toBeLessThan(200_000);
    expect(text).toBe(serializeNotebook(display.notebook));
    const nb = JSON.parse(text);
    expect(nb.nbformat).toBe(4);
    expect(nb.metadata.kernelspec.name).toBe("tslab");
    expect(nb.metadata.language_info.name).toBe("typescript");
    expect(nb.cells[2].source).toEqual(['console.log("hello from stdout");\n', 'console.error("a warning on stderr");\n', 'console.log("second line");\n', "const answer = 6 * 7;\n", "answer"]);
    expect(text).not.toContain("plotly.js v");
    expect(readFileSync(join(fixtures, "display.ipynb"), "utf8")).toBe(displayInput);
  });
});

describe("notebook runner: failures", () => {
  it("a type error fails the CLI with the cell, its source and TypeScript's message, and stops there", () => {
    expect(typeErrorCli.status).toBe(1);
    expect(typeErrorCli.stderr).toContain("notebook type-error.ipynb: cell 3/4 failed (In [2])");
    expect(typeErrorCli.stderr).toContain('| const n: number = "not a number";');
    expect(typeErrorCli.stderr).toContain("TypeScriptError: 1:7 - Type 'string' is not assignable to type 'number'.");
    const nb = JSON.parse(readFileSync(join(dir, "cli-out", "type-error.ipynb"), "utf8"));
    const cells = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
    expect(cells.map((c: { execution_count: number | null }) => c.execution_count)).toEqual([1, 2, null]);
    expect(joinText(cells[0].outputs[0].text)).toBe("first cell ran\n");
    const err = cells[1].outputs.at(-1) as ErrorOutput;
    expect(err.output_type).toBe("error");
    expect(err.ename).toBe("TypeScriptError");
    expect(err.evalue).toContain("Type 'string' is not assignable to type 'number'");
    expect(err.traceback.join("\n")).toContain('    const n: number = "not a number";\n          ^');
    expect(cells[2].outputs).toEqual([]);
    // The partial run is exported too, with the error highlighted.
    const html = readFileSync(join(dir, "cli-out", "type-error.html"), "utf8");
    expect(html).toMatch(/<div class="output error"><pre><strong>TypeScriptError: 1:7 - Type &#39;string&#39; is not assignable/);
  });

  it("a run-time error keeps its class name, message and cell frames, without the kernel's frames or machine paths", () => {
    expect(throws.ok).toBe(false);
    expect(throws.failure?.index).toBe(1);
    expect(throws.failure?.executionCount).toBe(2);
    expect(throws.failure?.sourceHead.split("\n")[0]).toBe("await new Promise((r) => setTimeout(r, 10));");
    const err = throws.failure!.error;
    expect(err.ename).toBe("VolumeError");
    expect(err.evalue).toBe("chunk 0.0.1 is truncated; path: store.zarr");
    expect(err.traceback[0]).toBe("VolumeError: chunk 0.0.1 is truncated; path: store.zarr");
    expect(err.traceback.some((l) => l.includes("evalmachine"))).toBe(true);
    expect(err.traceback.join("\n")).not.toContain("kernel.ts");
    expect(err.traceback.join("\n")).not.toContain(repo);
    const cells = code(throws);
    expect(streams(cells[0]!.outputs)).toEqual([{ name: "stdout", text: "before the throw\n" }]);
    expect(cells[1]!.outputs.at(-1)).toEqual(err);
    expect(cells[2]!.execution_count).toBeNull();
    expect(cells[2]!.outputs).toEqual([]);
    expect(throws.outputPath).toBe(join(dir, "throws.ipynb"));
  });

  it("does not overwrite a notebook in place when a cell fails", () => {
    expect(inPlace.result.ok).toBe(false);
    expect(inPlace.result.outputPath).toBeNull();
    expect(inPlace.after).toBe(inPlace.before);
  });

  it("stops a cell that runs past the timeout and the cells after it", () => {
    expect(timeout.ok).toBe(false);
    expect(timeout.failure?.error.ename).toBe("CellTimeoutError");
    expect(timeout.failure?.error.evalue).toMatch(/within 3 s/);
    expect(streams(code(timeout)[0]!.outputs)).toEqual([{ name: "stdout", text: "started\n" }]);
    expect(code(timeout)[2]!.execution_count).toBeNull();
  });
});
