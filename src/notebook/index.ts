/**
 * Notebooks: display helpers that cells call (`ssb.notebook.showFigure(fig)`, `showTable(table)`, `markdown(text)`),
 * a runner that executes .ipynb files with Node alone (tslab as a library, one fresh kernel process per notebook), and
 * a standalone HTML export of executed notebooks.
 */
export { showBundle, showFigure, showTable, markdown } from "./display.js";
export { figureBundle, figureJson, PLOTLY_MIME, type FigureBundle, type FigureOptions } from "./figure-bundle.js";
export { tableBundle, formatNumber, splitUnit, type DataFrameLike, type TableOptions } from "./table-bundle.js";
export { plotlyScriptFile, plotlyScriptRelative, copyPlotlyScript, PLOTLY_SCRIPT_NAME } from "../figures/plotly-asset.js";
export { notebookToHtml, writeNotebookHtml, type HtmlExportOptions, type HtmlExport } from "./html.js";
export { runNotebook, describeFailure, type RunNotebookOptions, type NotebookRunResult, type CellFailure } from "./run.js";
export {
  readNotebook,
  parseNotebook,
  serializeNotebook,
  joinText,
  type Notebook,
  type Cell,
  type CodeCell,
  type MarkdownCell,
  type RawCell,
  type Output,
  type StreamOutput,
  type DisplayDataOutput,
  type ExecuteResultOutput,
  type ErrorOutput,
  type MimeBundle,
  type JsonValue,
  type JsonObject,
  type MultilineString,
} from "./nbformat.js";
