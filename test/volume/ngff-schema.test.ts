/**
 * Every OME-Zarr 0.4 store we write validates against the OME-NGFF 0.4 JSON schemas (verbatim copies from ome/ngff
 * in test/fixtures/ngff-0.4, see SOURCE.md there): the image group (strict_image: omero windows, multiscale
 * version/name/type/metadata), the labels group, and each label image (strict_image + strict_label: non-empty
 * colors). Validation uses ajv (draft 2020-12), a devDependency.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { CLASS_COLOURS } from "../../src/figures/figure.js";
import { MATERIAL_CLASSES, SEGMENTATION_CLASSES, generateTwin } from "../../src/twin/generate.js";
import { presetParameters } from "../../src/twin/params.js";
import { LabelImage, OmeImage, buildPyramid } from "../../src/volume/index.js";
import { tempDir } from "../helpers/tmp.js";

const FIXTURES = join(__dirname, "..", "fixtures", "ngff-0.4");
const schema = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, name), "utf8"));

const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const f of ["image.schema", "label.schema"]) ajv.addSchema(schema(f));
const validators: Record<"strictImage" | "strictLabel" | "image" | "label" | "labelsGroup", ValidateFunction> = {
  strictImage: ajv.compile(schema("strict_image.schema")),
  strictLabel: ajv.compile(schema("strict_label.schema")),
  image: ajv.getSchema("https://ngff.openmicroscopy.org/0.4/schemas/image.schema")!,
  label: ajv.getSchema("https://ngff.openmicroscopy.org/0.4/schemas/label.schema")!,
  labelsGroup: ajv.compile(schema("ssb-ct-labels-group.schema")),
};

/** Schema errors of the group's .zattrs (0.4), as readable lines; [] when valid. */
function errorsOf(group: string, kinds: Array<keyof typeof validators>): string[] {
  const attrs = JSON.parse(readFileSync(join(group, ".zattrs"), "utf8"));
  const out: string[] = [];
  for (const k of kinds) {
    const v = validators[k];
    if (!v(attrs)) out.push(...(v.errors ?? []).map((e) => `${k}: ${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
  }
  return out;
}

/** Validates a whole 0.4 store: image, labels group, every label image it lists. */
function validateStore(store: string): { labels: string[]; errors: string[] } {
  const errors = errorsOf(store, ["image", "strictImage"]).map((e) => `.: ${e}`);
  const labelsGroup = join(store, "labels");
  errors.push(...errorsOf(labelsGroup, ["labelsGroup"]).map((e) => `labels: ${e}`));
  const labels = JSON.parse(readFileSync(join(labelsGroup, ".zattrs"), "utf8")).labels as string[];
  for (const name of labels)
    errors.push(...errorsOf(join(labelsGroup, name), ["image", "strictImage", "label", "strictLabel"]).map((e) => `labels/${name}: ${e}`));
  return { labels, errors };
}

const attrsOf = (group: string) => JSON.parse(readFileSync(join(group, ".zattrs"), "utf8"));

function hexToRgba(hex: string): [number, number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, 255];
}

describe("OME-NGFF 0.4 schema validation", () => {
  const dir = tempDir("ngff-schema-");

  it("the schemas are live: the metadata we wrote before (no omero window, empty colors) fails them", () => {
    const img = { multiscales: [{ version: "0.4", name: "x", type: "mean", metadata: {}, axes: [{ name: "y", type: "space" }, { name: "x", type: "space" }], datasets: [{ path: "0", coordinateTransformations: [{ type: "scale", scale: [1, 1] }] }] }] };
    expect(validators.strictImage(img)).toBe(true);
    expect(validators.strictImage({ ...img, omero: { channels: [{ label: "a", color: "FFFFFF", active: true }] } })).toBe(false);
    expect(validators.label({ "image-label": { colors: [], properties: [], version: "0.4" } })).toBe(false);
    expect(validators.strictLabel({ "image-label": { version: "0.4" } })).toBe(false);
    expect(validators.labelsGroup({ labels: [] })).toBe(false);
  });

  it("OmeImage.create + createLabels + buildPyramid: image, labels group and label images validate", async () => {
    const store = join(dir, "made.ome.zarr");
    const shapeZYX: [number, number, number] = [10, 9, 8];
    const img = await OmeImage.create(store, { channels: ["absorption", "phase"], timePointsH: [0, 0.5, 3.2], shapeZYX, voxelSizeUm: [1.5, 1.5, 1.5], dtype: "float32", chunksZYX: [4, 4, 4] });
    const n = shapeZYX[0] * shapeZYX[1] * shapeZYX[2];
    const data = Float32Array.from({ length: n }, (_, i) => 0.25 + (i % 97) * 0.01);
    await img.writeVolume(1, "absorption", [0, 0, 0], { data, shape: shapeZYX });
    const seg = await img.createLabels("segmentation", { classes: SEGMENTATION_CLASSES });
    await seg.writeVolume(0, [0, 0, 0], { data: new Uint8Array(n).fill(2), shape: shapeZYX });
    await img.createLabels("material", { classes: MATERIAL_CLASSES });
    await buildPyramid(img, { levels: 2, method: "mean", progress: { sink: false } });
    await buildPyramid(seg, { levels: 2, method: "mode", progress: { sink: false } });
    const { labels, errors } = validateStore(store);
    expect(errors).toEqual([]);
    expect(labels).toEqual(["segmentation", "material"]);
    // A label image without classes has no colors: valid NGFF 0.4 (label.schema), not strict_label.
    const bare = await img.createLabels("bare");
    expect(errorsOf(bare.path, ["image", "strictImage", "label"])).toEqual([]);
    expect(errorsOf(bare.path, ["strictLabel"])).not.toEqual([]);
  });

  it("omero windows: range of the written values (float), the dtype range before any write (integers), kept on reopen", async () => {
    const store = join(dir, "windows.ome.zarr");
    const img = await OmeImage.create(store, { channels: ["a", "b"], timePointsH: [0, 1], shapeZYX: [4, 4, 4], voxelSizeUm: [1, 1, 1], dtype: "float32" });
    const win = () => attrsOf(store).omero.channels.map((c: { window: unknown }) => c.window);
    expect(win()).toEqual([{ min: 0, max: 1, start: 0, end: 1 }, { min: 0, max: 1, start: 0, end: 1 }]);
    await img.writeVolume(0, "a", [0, 0, 0], { data: Float32Array.from([-2, 5, NaN, 3, 1, 1, 1, 1]), shape: [2, 2, 2] });
    expect(win()[0]).toEqual({ min: -2, max: 5, start: -2, end: 5 });
    expect(win()[1]).toEqual({ min: 0, max: 1, start: 0, end: 1 });
    const again = await OmeImage.open(store);
    expect(again.dataRanges).toEqual([[-2, 5], null]);
    await again.writeVolume(1, "a", [2, 2, 2], { data: Float32Array.from([7, 0, 0, 0, 0, 0, 0, 0]), shape: [2, 2, 2] });
    expect(win()[0]).toEqual({ min: -2, max: 7, start: -2, end: 7 });
    expect(attrsOf(store)["ssb-ct"].data_range).toEqual([[-2, 7], null]);

    const u16 = join(dir, "u16.ome.zarr");
    await OmeImage.create(u16, { channels: ["c"], timePointsH: [0], shapeZYX: [2, 2, 2], voxelSizeUm: [1, 1, 1], dtype: "uint16" });
    expect(attrsOf(u16).omero.channels[0].window).toEqual({ min: 0, max: 65535, start: 0, end: 65535 });
  });

  it("irregular time points are stated next to the mean OME time scale; uniform ones are not", async () => {
    const irregular = join(dir, "irregular.ome.zarr");
    const times = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.2];
    const img = await OmeImage.create(irregular, { channels: ["c"], timePointsH: times, shapeZYX: [2, 2, 2], voxelSizeUm: [1, 1, 1], dtype: "uint8" });
    await img.createLabels("seg", { classes: SEGMENTATION_CLASSES });
    const a = attrsOf(irregular);
    expect(a["ssb-ct"].time_points_h).toEqual(times);
    expect(a["ssb-ct"].time_axis).toMatch(/irregular time points/);
    expect(a.multiscales[0].metadata.time_axis).toBe(a["ssb-ct"].time_axis);
    expect(a.multiscales[0].datasets[0].coordinateTransformations[0].scale[0]).toBeCloseTo(3.2 / 7, 12);
    expect(attrsOf(join(irregular, "labels", "seg"))["ssb-ct"].time_axis).toMatch(/irregular/);
    expect((await OmeImage.open(irregular)).timePointsH).toEqual(times);
    expect((await LabelImage.openAt(join(irregular, "labels", "seg"))).timePointsH).toEqual(times);

    const uniform = join(dir, "uniform.ome.zarr");
    await OmeImage.create(uniform, { channels: ["c"], timePointsH: [0, 0.5, 1, 1.5], shapeZYX: [2, 2, 2], voxelSizeUm: [1, 1, 1], dtype: "uint8" });
    expect(attrsOf(uniform)["ssb-ct"].time_axis).toBeUndefined();
    expect(attrsOf(uniform).multiscales[0].metadata.time_axis).toBeUndefined();
  });

  it("label colours are the figures' CLASS_COLOURS", () => {
    expect(SEGMENTATION_CLASSES.map((c) => c.color)).toEqual([CLASS_COLOURS.electrolyte, CLASS_COLOURS.void, CLASS_COLOURS.lithium].map(hexToRgba));
    const byName = Object.fromEntries(MATERIAL_CLASSES.map((c) => [c.name, c.color]));
    expect(byName["void"]).toEqual(hexToRgba(CLASS_COLOURS.void));
    expect(byName["Li3PS4"]).toEqual(hexToRgba(CLASS_COLOURS.electrolyte));
    expect(byName["interphase (4 Li2S + Li3P)"]).toEqual(hexToRgba(CLASS_COLOURS.interphase));
    expect(byName["Li electrode"]).toEqual(hexToRgba(CLASS_COLOURS.electrode));
    expect(byName["Li counter electrode"]).toEqual(hexToRgba(CLASS_COLOURS.electrode));
    expect(byName["Li plated at interface"]).toEqual(hexToRgba(CLASS_COLOURS.lithium));
    expect(byName["Li deposit in Li3PS4"]).toEqual(hexToRgba(CLASS_COLOURS.deposit));
  });

  it("the digital twin's store (with a pyramid) validates: image, labels group, labels/segmentation, labels/material", async () => {
    const store = join(dir, "twin.ome.zarr");
    await generateTwin(presetParameters("ci"), store, { progress: false, pyramidLevels: 2 });
    const { labels, errors } = validateStore(store);
    expect(errors).toEqual([]);
    expect(labels.sort()).toEqual(["material", "segmentation"]);
    const a = attrsOf(store);
    for (const c of a.omero.channels) expect(c.window.max).toBeGreaterThan(c.window.min);
    const img = await OmeImage.open(store);
    expect(a["ssb-ct"].time_points_h).toEqual(img.timePointsH);
    const seg = attrsOf(join(store, "labels", "segmentation"))["image-label"];
    expect(seg.colors).toEqual(SEGMENTATION_CLASSES.map((c) => ({ "label-value": c.value, rgba: c.color })));
    expect(attrsOf(join(store, "labels", "material"))["image-label"].colors).toHaveLength(MATERIAL_CLASSES.length);
  }, 120_000);
});
