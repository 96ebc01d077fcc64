/**
 * `npm run reproduce`: the main job on the embedded default data. Generates the digital twin's `default` dataset
 * (deterministic for its seed), adds a multiscale pyramid so viewers open it, then executes every notebook headless
 * so their outputs (the paper's figures) are regenerated in place. Steps that already ran on the same parameters are
 * skipped (the twin's manifest records them), so a rerun after an interruption continues.
 *
 * Options: --preset ci|default|paper (default: default)   --skip-notebooks   --force (regenerate the data)
 */
import { existsSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { generateTwin, presetParameters, MANIFEST_FILE } from "../twin/index.js";
import { OmeImage, buildPyramid } from "../volume/index.js";

const args = process.argv.slice(2);
const preset = args.includes("--preset") ? args[args.indexOf("--preset") + 1]! : "default";
const force = args.includes("--force");
const out = join("data", "generated", `twin-${preset}.ome.zarr`);

async function main(): Promise<void> {
  const params = presetParameters(preset);
  const manifestPath = join(out, MANIFEST_FILE);
  const same = existsSync(manifestPath) && JSON.stringify(JSON.parse(readFileSync(manifestPath, "utf8")).parameters) === JSON.stringify(params);
  if (same && !force) console.log(`[1/3] twin '${preset}' dataset is up to date: ${out}`);
  else {
    console.log(`[1/3] generating the digital twin ('${preset}' preset) -> ${out}`);
    const r = await generateTwin(params, out, { overwrite: true });
    console.log(`      ${r.blocks} blocks in ${r.seconds.toFixed(1)} s; short circuit at ${r.manifest.short_h.toFixed(2)} h`);
  }
  const img = await OmeImage.open(out);
  if (img.levels < 3 || force || !same) {
    console.log("[2/3] building the multiscale pyramid (image: mean, labels: mode)");
    await buildPyramid(img, { levels: 3, method: "mean" });
    for (const name of await img.labelNames()) await buildPyramid(await img.openLabels(name), { levels: 3, method: "mode" });
  } else console.log("[2/3] pyramid present");
  if (args.includes("--skip-notebooks")) return;
  console.log("[3/3] executing the notebooks headless (outputs written back to notebooks/)");
  const r = spawnSync("bash", ["scripts/run-notebooks.sh", "--in-place"], { stdio: "inherit", env: { ...process.env, SSB_CT_DATASET: out } });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
  process.exit(1);
});
