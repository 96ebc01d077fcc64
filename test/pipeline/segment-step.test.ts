/**
 * The main job's segmentation step: a model that does not apply to the image (another voxel size) is recorded as
 * "not applicable" with its reason; any other error (a broken model) fails the run naming the step, instead of
 * being printed as "skipped" while old results stay beside new ones.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readRecord, runSteps, StepFailedError } from "../../src/pipeline/index.js";
import { segmentStep, twinStep } from "../../src/pipeline/volume-steps.js";
import { presetParameters } from "../../src/twin/index.js";
import { tempDir } from "../helpers/tmp.js";

const shipped = fileURLToPath(new URL("../../data/models/unet-default", import.meta.url));

describe("segment step", () => {
  it("does not apply at another voxel size, and fails the job naming the step when the model is broken", async () => {
    const dir = tempDir();
    const store = join(dir, "twin-ci.ome.zarr");
    const results = join(dir, "results");
    const log = () => {};
    process.env.SSB_CT_PROGRESS = "0";
    const dataset = twinStep(store, presetParameters("ci"));
    const runs = await runSteps([dataset, segmentStep(store, shipped)], { resultsDir: results, log });
    expect(runs.map((r) => r.outcome)).toEqual(["ran", "not applicable"]);
    expect(readRecord(results, "segment")!.reason).toMatch(/does not apply to this image.*voxel/);

    const broken = join(dir, "broken-model");
    mkdirSync(broken);
    copyFileSync(join(shipped, "model.json"), join(broken, "model.json"));
    writeFileSync(join(broken, "weights.bin"), readFileSync(join(shipped, "weights.bin")).subarray(0, 100));
    const failing = runSteps([dataset, segmentStep(store, broken)], { resultsDir: results, log });
    await expect(failing).rejects.toThrow(StepFailedError);
    await expect(runSteps([dataset, segmentStep(store, broken)], { resultsDir: results, log })).rejects.toThrow(/step "segment" failed/);
    expect(readRecord(results, "segment")).toBeNull();
  });
});
