/** The reproduction report: every headline number of the paper against ours, as report.json and report.md. */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { NOT_FROM_DATA, type ReportRow } from "../figures/figure.js";

export interface ReportFigure {
  id: string;
  title: string;
  /** Files written for it (relative names), or why it could not be drawn. */
  files: string[];
  missing?: string;
}

export interface Report {
  format: "ssb-ct-report";
  version: 1;
  paper: string;
  dataset: string;
  rows: ReportRow[];
  figures: ReportFigure[];
  notFromData: ReadonlyArray<{ id: string; what: string }>;
  /** Identity of every step's output the report was made from. */
  inputs: Record<string, string>;
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function reportMarkdown(r: Report): string {
  const counts = { agrees: 0, differs: 0, "not comparable": 0 };
  for (const row of r.rows) counts[row.verdict]++;
  const lines = [
    `# Reproduction report: ${r.paper}`,
    "",
    `Dataset: \`${r.dataset}\`. ${r.rows.length} numbers: ${counts.agrees} agree, ${counts.differs} differ, ${counts["not comparable"]} not comparable.`,
    "",
    "| figure | quantity | unit | paper | ours | verdict | why |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...r.rows.map((x) => `| ${x.id} | ${cell(x.quantity)} | ${cell(x.unit)} | ${cell(x.paper)} | ${cell(x.ours)} | **${x.verdict}** | ${cell(x.reason)} |`),
    "",
    "## Figures",
    "",
    ...r.figures.map((f) => (f.missing ? `- ${f.id}: not drawn (${f.missing})` : `- ${f.id}: ${f.title} (${f.files.join(", ")})`)),
    "",
    "## Panels that are not from data",
    "",
    ...r.notFromData.map((n) => `- ${n.id}: ${n.what}`),
    "",
    "## Computed from",
    "",
    ...Object.entries(r.inputs).map(([k, v]) => `- ${k}: \`${v}\``),
    "",
  ];
  return lines.join("\n");
}

export function writeReport(dir: string, r: Omit<Report, "format" | "version" | "paper" | "notFromData">): string[] {
  const full: Report = { format: "ssb-ct-report", version: 1, paper: "Park et al., Chem. Commun. 2023, 59, 7799", notFromData: NOT_FROM_DATA, ...r };
  const json = join(dir, "report.json");
  const md = join(dir, "report.md");
  writeFileAtomic(json, JSON.stringify(full, null, 1) + "\n", { fsync: true });
  writeFileAtomic(md, reportMarkdown(full));
  return [json, md];
}

/** The report rows of some figures as a Markdown table (what notebooks show under "against the paper"). */
export function rowsMarkdown(rows: ReportRow[], ids?: string[]): string {
  const pick = ids ? rows.filter((r) => ids.includes(r.id)) : rows;
  if (!pick.length) return "_No number of the paper is compared for this figure._";
  return [
    "| quantity | paper | ours | verdict | why |",
    "| --- | --- | --- | --- | --- |",
    ...pick.map((x) => `| ${cell(x.quantity)} (${cell(x.unit)}) | ${cell(x.paper)} | ${cell(x.ours)} | **${x.verdict}** | ${cell(x.reason)} |`),
  ].join("\n");
}
