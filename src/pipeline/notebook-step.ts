/**
 * The notebooks, executed headless with Node alone (tslab as a library, no Jupyter), on the job's results: executed
 * copies (.ipynb with outputs + HTML) go to <figures>/notebooks; the committed notebooks stay without outputs.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { jsonIdentity, treeIdentity } from "../util/identity.js";
import { packageRoot, type JobPaths } from "./paths.js";
import type { StepSpec } from "./step.js";
import { StepFailedError } from "./record.js";

export function notebookFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort();
}

export function notebookStep(p: JobPaths): StepSpec {
  const out = join(p.figuresDir, "notebooks");
  return {
    name: "notebooks",
    describe: "execute every notebook headless (executed copies + HTML in figures/notebooks)",
    version: 1,
    after: ["figures", "report"],
    params: { env: jsonIdentity({ dataset: p.source === "user" ? p.store : null, preset: p.preset }) },
    // The notebooks' sources and the library they load are inputs: editing either reruns them.
    external: () => ({ notebooks: treeIdentity(p.notebooksDir, notebookFiles(p.notebooksDir)).content, library: treeIdentity(packageRoot(), ["src"]).listing }),
    outputs: { root: out, paths: ["."] },
    async run() {
      rmSync(out, { recursive: true, force: true });
      const nbs = notebookFiles(p.notebooksDir).map((f) => join(p.notebooksDir, f));
      const env = { ...process.env, SSB_CT_PRESET: p.preset, ...(p.source === "user" ? { SSB_CT_DATASET: p.store } : {}) };
      const r = spawnSync("bash", [join(packageRoot(), "scripts", "run-notebooks.sh"), "--out", out, ...nbs.map((n) => relative(packageRoot(), n))], { cwd: packageRoot(), stdio: "inherit", env });
      if (r.status !== 0) throw new StepFailedError("a notebook failed (its cell and message are printed above)", { path: out, got: `exit ${r.status ?? r.signal}` });
      return { summary: `${nbs.length} notebooks executed` };
    },
  };
}
