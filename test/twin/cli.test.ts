import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "twin-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function twin(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli/twin.ts", ...args], {
    encoding: "utf8",
    env: { ...process.env, SSB_CT_PROGRESS: "0" },
  });
}

describe("npm run twin", () => {
  it("writes the dataset and its manifest", () => {
    const out = join(dir, "ci.ome.zarr");
    const r = twin(["--preset", "ci", "--out", out, "--times", "0,3.2"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/short at 3\.20 h/);
    for (const f of ["twin-manifest.json", "twin-electrochem.json", "twin-xas.json", "labels/segmentation", "0"]) expect(existsSync(join(out, f))).toBe(true);
  });

  it("stops with the parameter's name and range on bad input", () => {
    const r = twin(["--preset", "ci", "--out", join(dir, "bad.ome.zarr"), "--set", "history.current_mA_cm2=-0.8"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/history\.current_mA_cm2/);
    expect(r.stderr).toMatch(/\(0, 100\] mA\/cm2/);
    expect(existsSync(join(dir, "bad.ome.zarr"))).toBe(false);
  });
});
