/**
 * train -> segment -> info -> quantify -> report on the ci twin, as a user runs them: a tiny model (seconds), its
 * labels in the store, labels of another model refused unless --overwrite, the shipped model refused at another
 * voxel size with the reason, and the scores as text and JSON.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/tmp.js";
import { expectOneLineError, REPO, ssbct } from "./ssbct.js";

const cwd = tempDir();
const TINY = ["--steps", "2", "--depth", "2", "--base", "2", "--patch", "8", "--batch", "1", "--validate-every", "1", "--checkpoint-every", "100"];

beforeAll(async () => {
  const t = await ssbct(["twin", "--preset", "ci", "--times", "0,3.2", "--out", "ci.ome.zarr"], { cwd });
  expect(t.status, t.stderr).toBe(0);
});

describe("ssbct train, segment, report", () => {
  it("trains a model that records its command line, segments with it, and the labels feed info and quantify", async () => {
    const tr = await ssbct(["train", "--data", "ci.ome.zarr", "--out", "m1", "--seed", "3", ...TINY, "--json"], { cwd });
    expect(tr.status, tr.stderr).toBe(0);
    expect(JSON.parse(tr.stdout)).toMatchObject({ out: "m1", steps: 2 });
    const record = JSON.parse(readFileSync(join(cwd, "m1/model.json"), "utf8")) as Record<string, unknown>;
    expect(JSON.stringify(record)).toContain("ssbct train --data ci.ome.zarr --out m1 --seed 3");
    // a finished model is not overwritten by another training run
    const again = await ssbct(["train", "--data", "ci.ome.zarr", "--out", "m1", ...TINY], { cwd });
    expect(again.status).toBe(2);
    expect(expectOneLineError(again, "train")).toMatch(/--out already holds a model/);

    const seg = await ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m1", "--patch", "16", "--json"], { cwd });
    expect(seg.status, seg.stderr).toBe(0);
    expect(JSON.parse(seg.stdout)).toMatchObject({ label: "unet", complete: true, chunksSkipped: 0 });
    // the same model and settings again: a resume with nothing left to do
    const resume = await ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m1", "--patch", "16", "--json"], { cwd });
    expect(resume.status, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout)).toMatchObject({ chunksWritten: 0, complete: true });

    const info = await ssbct(["info", "ci.ome.zarr"], { cwd });
    expect(info.stdout).toMatch(/unet: complete; 0=electrolyte, 1=void, 2=lithium; segmenter \(model [0-9a-f]+, channels phase\+absorption\)/);
    // A two-step model's labels: quantify either measures them or, where they show no electrode on the plating
    // face, refuses them as bad input naming why (never a wrong table).
    const q = await ssbct(["quantify", "--data", "ci.ome.zarr", "--out", "unet-tables"], { cwd });
    if (q.status === 0) expect(existsSync(join(cwd, "unet-tables/time_series.csv"))).toBe(true);
    else {
      expect(q.status).toBe(2);
      expect(expectOneLineError(q, "quantify")).toMatch(/depth axis cannot be identified.*field: platingElectrode/);
      expect(existsSync(join(cwd, "unet-tables"))).toBe(false);
    }
    // the truth labels of the same store quantify as they should
    const qt = await ssbct(["quantify", "--data", "ci.ome.zarr", "--labels", "segmentation", "--out", "truth-tables"], { cwd });
    expect(qt.status, qt.stderr).toBe(0);
  });

  it("refuses labels of another model without --overwrite, and the shipped 2 um model on 4 um voxels", async () => {
    const tr = await ssbct(["train", "--data", "ci.ome.zarr", "--out", "m2", "--seed", "4", ...TINY], { cwd });
    expect(tr.status, tr.stderr).toBe(0);
    await ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m2", "--label", "other", "--patch", "16"], { cwd });
    const r = await ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m1", "--label", "other", "--patch", "16"], { cwd });
    expect(r.status).toBe(2);
    expect(expectOneLineError(r, "segment")).toMatch(/labels\/other already holds labels of another model, image or settings \(pass --overwrite/);
    const o = await ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m1", "--label", "other", "--patch", "16", "--overwrite"], { cwd });
    expect(o.status, o.stderr).toBe(0);
    expect(o.stderr).toMatch(/replaced the earlier labels\/other/);
    // ground truth is never replaced by accident
    const truth = await ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m1", "--label", "segmentation", "--patch", "16"], { cwd });
    expect(truth.status).toBe(2);
    expect(truth.stderr).toMatch(/labels\/segmentation already holds labels the segmenter did not write/);
    const shipped = await ssbct(["segment", "--data", "ci.ome.zarr", "--model", join(REPO, "data/models/unet-default"), "--voxel-size-policy", "refuse", "--label", "shipped"], { cwd });
    expect(shipped.status).toBe(2);
    expect(expectOneLineError(shipped, "segment")).toMatch(/voxel/);
  });

  it("--shard i/n: two shards at once write the same labels as one run; --tta is recorded", async () => {
    const [a, b] = await Promise.all([0, 1].map((i) => ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m1", "--patch", "16", "--label", "sharded", "--shard", `${i}/2`, "--threads", "1"], { cwd })));
    expect(a!.status, a!.stderr).toBe(0);
    expect(b!.status, b!.stderr).toBe(0);
    const chunks = (label: string) => {
      const root = join(cwd, "ci.ome.zarr/labels", label, "0");
      const out: Record<string, string> = {};
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (!e.name.startsWith(".") && !e.name.endsWith(".json")) out[relative(root, p)] = readFileSync(p).toString("base64");
        }
      };
      walk(root);
      return out;
    };
    const one = chunks("unet");
    expect(Object.keys(one).length).toBeGreaterThan(0);
    expect(chunks("sharded")).toEqual(one);
    const info = JSON.parse((await ssbct(["info", "ci.ome.zarr", "--json"], { cwd })).stdout) as { labels: Array<{ name: string; state: string }> };
    expect(info.labels.find((l) => l.name === "sharded")?.state).toBe("complete");
    const tta = await ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m1", "--patch", "16", "--label", "tta", "--tta", "zyx", "--json"], { cwd });
    expect(tta.status, tta.stderr).toBe(0);
    expect(JSON.parse(tta.stdout)).toMatchObject({ tta: ["z", "y", "x"], complete: true });
    const bad = await ssbct(["segment", "--data", "ci.ome.zarr", "--model", "m1", "--tta", "zz"], { cwd });
    expect(bad.status).toBe(2);
    expect(expectOneLineError(bad, "segment")).toMatch(/--tta expects mirror axes/);
  });

  it("report scores the model and the baselines against the truth, as a table and as JSON", async () => {
    const r = await ssbct(["report", "--data", "ci.ome.zarr", "--train-data", "ci.ome.zarr", "--model", "m1", "--patch", "16", "--json"], { cwd });
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { t: number; results: Array<{ method: string }> };
    expect(j.t).toBe(1);
    expect(j.results.length).toBe(3);
    const text = await ssbct(["report", "--data", "ci.ome.zarr", "--train-data", "ci.ome.zarr", "--model", "m1", "--patch", "16", "--t", "0"], { cwd });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/otsu-phase/);
    expect(text.stdout).toMatch(/unet-phase\+absorption/);
    const bad = await ssbct(["report", "--data", "ci.ome.zarr", "--train-data", "ci.ome.zarr", "--model", "m1", "--t", "7"], { cwd });
    expect(bad.status).toBe(2);
    expect(expectOneLineError(bad, "report")).toMatch(/--t expects an integer in 0 \.\. 1/);
  });

  it("sparse labels: labels sparsify, labels import (a napari-style layer), train --init (fine-tuning), suggest, and report without --train-data", async () => {
    const sp = await ssbct(["labels", "sparsify", "--data", "ci.ome.zarr", "--from", "segmentation", "--to", "sparse", "--every", "4", "--json"], { cwd });
    expect(sp.status, sp.stderr).toBe(0);
    const spj = JSON.parse(sp.stdout) as { keptSlices: number[]; annotatedFraction: number };
    expect(spj.keptSlices.slice(0, 3)).toEqual([0, 4, 8]);
    const again = await ssbct(["labels", "sparsify", "--data", "ci.ome.zarr", "--to", "sparse"], { cwd });
    expect(again.status).toBe(2);
    expect(expectOneLineError(again, "labels")).toMatch(/labels\/sparse already exists \(pass --overwrite/);

    // a napari-style layer (0 = not painted, class + 1) on two slices of time point 1, as a zarr array
    const { ZarrArray, OmeImage } = await import("../../src/volume/index.js");
    const img = await OmeImage.open(join(cwd, "ci.ome.zarr"));
    const [nz, ny, nx] = img.shapeZYX;
    const truth = (await (await img.openLabels("segmentation")).readVolume(1)).data;
    const painted = new Uint8Array(nz * ny * nx);
    for (const z of [3, 9]) for (let q = z * ny * nx; q < (z + 1) * ny * nx; q++) painted[q] = Number(truth[q]) + 1;
    const layer = await ZarrArray.create(join(cwd, "painted.zarr"), { shape: [nz, ny, nx], chunks: [nz, ny, nx], dtype: "uint8" });
    await layer.write([0, 0, 0], { data: painted, shape: [nz, ny, nx] });
    const imp = await ssbct(["labels", "import", "--data", "ci.ome.zarr", "--file", "painted.zarr", "--to", "painted", "--t", "1", "--json"], { cwd });
    expect(imp.status, imp.stderr).toBe(0);
    const impj = JSON.parse(imp.stdout) as { name: string; t: number; annotatedFraction: number };
    expect(impj).toMatchObject({ name: "painted", t: 1 });
    expect(impj.annotatedFraction).toBeCloseTo(2 / nz, 9);
    const back = (await (await OmeImage.open(join(cwd, "ci.ome.zarr"))).openLabels("painted")).readVolume(1);
    const stored = (await back).data;
    for (let q = 0; q < stored.length; q++) {
      const z = Math.floor(q / (ny * nx));
      expect(stored[q]).toBe(z === 3 || z === 9 ? Number(truth[q]) : 255);
      if (z > 10) break;
    }
    const small = await ZarrArray.create(join(cwd, "small.zarr"), { shape: [nz - 1, ny, nx], chunks: [nz - 1, ny, nx], dtype: "uint8" });
    expect(small.shape[0]).toBe(nz - 1);
    const wrong = await ssbct(["labels", "import", "--data", "ci.ome.zarr", "--file", "small.zarr", "--to", "wrong", "--t", "1"], { cwd });
    expect(wrong.status).toBe(2);
    expect(expectOneLineError(wrong, "labels")).toMatch(/shape/);

    const ft = await ssbct(["train", "--init", "m1", "--data", "ci.ome.zarr", "--truth", "sparse", "--out", "m1-ft", "--steps", "2", "--patch", "8", "--batch", "1", "--json"], { cwd });
    expect(ft.status, ft.stderr).toBe(0);
    expect(JSON.parse(ft.stdout)).toMatchObject({ out: "m1-ft", init: "m1", steps: 2 });
    const fixed = await ssbct(["train", "--init", "m1", "--data", "ci.ome.zarr", "--out", "x", "--depth", "3"], { cwd });
    expect(fixed.status).toBe(2);
    expect(expectOneLineError(fixed, "train")).toMatch(/--depth comes from the parent model with --init/);

    const sg = await ssbct(["suggest", "--data", "ci.ome.zarr", "--model", "m1-ft", "--annotations", "sparse", "--label", "suggest", "--top", "3", "--box", "16,16,16", "--patch", "16", "--json"], { cwd });
    expect(sg.status, sg.stderr).toBe(0);
    const sgj = JSON.parse(sg.stdout) as { t: number; boxes: unknown[]; annotatedSlices: number[] };
    expect(sgj.t).toBe(1);
    expect(sgj.annotatedSlices).toEqual(spj.keptSlices);
    expect(sgj.boxes.length).toBeGreaterThan(0);

    const rep = await ssbct(["report", "--data", "ci.ome.zarr", "--model", "m1-ft", "--patch", "16", "--json"], { cwd });
    expect(rep.status, rep.stderr).toBe(0);
    expect((JSON.parse(rep.stdout) as { results: Array<{ method: string }> }).results.map((r) => r.method)).toEqual(["otsu-phase", "otsu-absorption", "unet-phase+absorption"]);
    const none = await ssbct(["report", "--data", "ci.ome.zarr"], { cwd });
    expect(none.status).toBe(2);
    expect(expectOneLineError(none, "report")).toMatch(/nothing to score/);
  });
});
