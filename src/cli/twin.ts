/**
 * `npm run twin -- --preset default --out data/generated/twin-default.ome.zarr`
 *
 * Generates the digital twin's dataset (OME-Zarr volumes + labels + twin-manifest.json, twin-electrochem.json,
 * twin-xas.json inside the store). Options:
 *   --preset ci|default|paper   parameter preset (default: default)
 *   --out PATH                  output store (default: data/generated/twin-<preset>.ome.zarr)
 *   --seed N                    random seed
 *   --set group.key=JSON        override one parameter, e.g. --set history.current_mA_cm2=0.6 (repeatable)
 *   --times 0,1.5,3.2           CT time points in h (default: every 0.5 h to the short, plus the short)
 *   --levels N                  resolution levels (2x pyramids for viewers; default 1)
 *   --no-overwrite              refuse to replace an existing store
 *   --print-params              print the resolved parameters as JSON and exit
 *
 * The output must be a new or empty folder or an earlier image (replaced whole, with every label image of it: labels
 * computed from the old volume never stay on the new one). One writer per store: a second run while one is writing
 * stops at once naming it (pid, host, start); a lock left by a killed run is taken over. Errors are one line naming
 * the file, with exit status 2.
 */
import { ParameterError, SsbCtError } from "../util/errors.js";
import { generateTwin, presetParameters, type TwinOverrides } from "../twin/index.js";

function parseArgs(argv: string[]): { preset: string; out?: string; overrides: TwinOverrides; overwrite: boolean; printParams: boolean; levels: number } {
  let preset = "default";
  let levels = 1;
  let out: string | undefined;
  let overwrite = true;
  let printParams = false;
  const overrides: Record<string, Record<string, unknown> | unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new ParameterError("option needs a value", { field: a });
      return v;
    };
    if (a === "--preset") preset = next();
    else if (a === "--out") out = next();
    else if (a === "--seed") overrides.seed = Number(next());
    else if (a === "--no-overwrite") overwrite = false;
    else if (a === "--levels") {
      levels = Number(next());
      if (!Number.isInteger(levels) || levels < 1 || levels > 8) throw new ParameterError("--levels expects an integer 1-8", { field: "--levels", got: String(levels) });
    }
    else if (a === "--print-params") printParams = true;
    else if (a === "--times") {
      const times_h = next().split(",").map(Number);
      overrides.ct = { ...((overrides.ct as object) ?? {}), times_h };
    } else if (a === "--set") {
      const kv = next();
      const m = /^([A-Za-z]+)\.([A-Za-z0-9_]+)=(.*)$/.exec(kv);
      if (!m) throw new ParameterError("--set expects group.key=JSON", { field: "--set", expected: "e.g. history.current_mA_cm2=0.6", got: kv });
      let value: unknown;
      try {
        value = JSON.parse(m[3]!);
      } catch {
        throw new ParameterError("--set value is not JSON", { field: `${m[1]}.${m[2]}`, got: m[3] });
      }
      overrides[m[1]!] = { ...((overrides[m[1]!] as object) ?? {}), [m[2]!]: value };
    } else if (a === "--help" || a === "-h") {
      process.stdout.write("usage: npm run twin -- [--preset ci|default|paper] [--out PATH] [--seed N] [--set group.key=JSON] [--times a,b,c] [--levels N] [--no-overwrite] [--print-params]\n");
      process.exit(0);
    } else throw new ParameterError("unknown option", { field: a, expected: "--preset, --out, --seed, --set, --times, --levels, --no-overwrite, --print-params" });
  }
  return { preset, out, overrides: overrides as TwinOverrides, overwrite, printParams, levels };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const p = presetParameters(args.preset, args.overrides);
  if (args.printParams) {
    process.stdout.write(JSON.stringify(p, null, 2) + "\n");
    return;
  }
  const out = args.out ?? `data/generated/twin-${p.preset}.ome.zarr`;
  const r = await generateTwin(p, out, { overwrite: args.overwrite, pyramidLevels: args.levels });
  const m = r.manifest;
  const last = m.timePoints[m.timePoints.length - 1]!;
  process.stdout.write(
    [
      `wrote ${out} (${m.shapeZYX.join(" x ")} voxels of ${m.voxel_um} um, ${m.times_h.length} time points, ${r.seconds.toFixed(1)} s)`,
      `short at ${m.short_h.toFixed(2)} h; Li at the short ${(last.lithium_um3 / 1e3).toFixed(1)} x 10^3 um3 of Faraday's ${(last.faradayLi_um3 / 1e3).toFixed(1)} x 10^3 um3`,
      `manifest: ${out}/twin-manifest.json`,
    ].join("\n") + "\n",
  );
}

main().catch((e: unknown) => {
  if (e instanceof SsbCtError) {
    process.stderr.write(`twin: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
});
