/**
 * The conventions every `ssbct` command shares, checked on each command as a user meets them: --help (options,
 * defaults, units, an example) runs nothing, --version, exit 2 with one line naming the option for bad usage,
 * "did you mean", --debug for the stack, --shard/--threads validation, and the npm run aliases.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../helpers/run.js";
import { tempDir } from "../helpers/tmp.js";
import { expectOneLineError, REPO, ssbct } from "./ssbct.js";

const COMMANDS = ["twin", "import", "info", "train", "segment", "report", "quantify", "fit-eis", "xas", "figures", "reproduce", "notebooks", "labels", "suggest"];
const version = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

describe("ssbct conventions", () => {
  it("lists every command; no command is a usage error; an unknown one is named with a suggestion", async () => {
    const h = await ssbct(["--help"]);
    expect(h.status).toBe(0);
    for (const c of COMMANDS) expect(h.stdout).toMatch(new RegExp(`^  ${c} `, "m"));
    const none = await ssbct([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/Usage: ssbct <command>/);
    const typo = await ssbct(["segmnt"]);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/unknown command "segmnt" \(did you mean segment\?\)/);
    const v = await ssbct(["--version"]);
    expect(v.stdout.trim()).toBe(version);
  });

  it("--help of every command shows usage, options with defaults and units, an example, and writes nothing", async () => {
    const cwd = tempDir();
    const results = await Promise.all(COMMANDS.map((c) => ssbct([c, "--help"], { cwd })));
    results.forEach((r, i) => {
      const c = COMMANDS[i]!;
      expect(r.status, `${c}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: ssbct ${c}`));
      expect(r.stdout).toMatch(/^Options:$/m);
      expect(r.stdout).toMatch(/--help/);
      expect(r.stdout).toMatch(/^Examples?:\n  ssbct /m);
      expect(r.stderr).toBe("");
    });
    // units and defaults are spelled out where a value has them
    expect(results[0]!.stdout).toMatch(/--preset NAME .*\[default: default\]/);
    expect(results[6]!.stdout).toMatch(/--bin-width um .*micrometres.*\[default: 20\]/);
    expect(results[7]!.stdout).toMatch(/CPE Q in F s\^\(alpha-1\)/);
    // --help wins over a bad flag beside it, and nothing ran
    expect((await ssbct(["reproduce", "--nope", "--help"], { cwd })).status).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    // --version on a command
    expect((await ssbct(["info", "--version"])).stdout.trim()).toBe(version);
  });

  it("bad usage exits 2 with one line naming the option", async () => {
    const cwd = tempDir();
    const cases: Array<[string[], string, RegExp]> = [
      [["twin", "--presett", "ci"], "twin", /unknown option --presett \(did you mean --preset\?\)/],
      [["twin", "--preset", "huge"], "twin", /unknown preset.*field: --preset.*got: huge/],
      [["twin", "--levels", "0"], "twin", /--levels expects an integer in 1 \.\. 8/],
      [["twin", "--seed"], "twin", /option --seed needs a value/],
      [["twin", "--shard", "2/2"], "twin", /--shard expects i\/n with 0 <= i < n/],
      [["twin", "--threads", "zero"], "twin", /--threads expects an integer/],
      [["segment", "--model", "m"], "segment", /missing option --data/],
      [["segment", "--data", "nowhere.ome.zarr", "--model", "m"], "segment", /--data: no such file or folder; path: nowhere\.ome\.zarr/],
      [["info"], "info", /missing STORE/],
      [["info", "a", "b"], "info", /too many arguments/],
      [["quantify", "--data", ".", "--out", "q", "--connectivity", "8"], "quantify", /--connectivity expects one of 6, 18, 26.*got: 8/],
      [["fit-eis", "x.csv", "--circuit", "R0"], "fit-eis", /FILE: no such file or folder; path: x\.csv/],
      [["xas", "s.csv", "--standard", "nofile"], "xas", /SAMPLE: no such file|--standard expects NAME=FILE/],
      [["notebooks", "run"], "notebooks", /no notebook given/],
      [["reproduce", "--preset", "big"], "reproduce", /unknown preset "big"/],
      [["train", "--data", "a.ome.zarr"], "train", /--data: no such file or folder/],
    ];
    const rs = await Promise.all(cases.map(([args]) => ssbct(args, { cwd })));
    rs.forEach((r, i) => {
      const [args, cmd, re] = cases[i]!;
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(expectOneLineError(r, cmd)).toMatch(re);
    });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("--debug adds the stack trace", async () => {
    const r = await ssbct(["info", "missing.ome.zarr", "--debug"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^info: STORE: no such file or folder/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it("npm run twin|segment|reproduce|notebooks are aliases of ssbct", async () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const [twin, seg, rep, nb] = await Promise.all([
      run(npm, ["run", "--silent", "twin", "--", "--help"], { cwd: REPO }),
      run(npm, ["run", "--silent", "segment", "--", "segment", "--help"], { cwd: REPO }),
      run(npm, ["run", "--silent", "reproduce", "--", "--help"], { cwd: REPO }),
      run(npm, ["run", "--silent", "notebooks", "--", "--help"], { cwd: REPO }),
    ]);
    expect(twin.stdout).toMatch(/^Usage: ssbct twin/);
    expect(seg.stdout).toMatch(/^Usage: ssbct segment --data STORE --model DIR/);
    expect(rep.stdout).toMatch(/^Usage: ssbct reproduce/);
    expect(nb.stdout).toMatch(/^Usage: ssbct notebooks/);
    expect(existsSync(join(REPO, "bin", "ssbct.mjs"))).toBe(true);
  });
});
