/** What the shard tests and their child processes (shard-job.ts, ssbct) share: the same job in every process. */
/** The twin every shard test uses (`ssbct twin --preset ci --set ct.chunk=16`): small, with several chunks per axis. */
export async function twinParameters() {
  const { presetParameters } = await import("../../src/twin/index.js");
  return presetParameters("ci", { ct: { chunk: 16 } });
}

/** The segmentation settings every segment shard and the whole run use. */
export async function segmentSetup(): Promise<{ sm: import("../../src/segment/model-io.js").SegmentModel; options: import("../../src/segment/infer.js").SegmentOptions }> {
  process.env.SSB_CT_QUIET_BACKEND = "1";
  const { createSegmentModel } = await import("../../src/segment/model-io.js");
  const { DEFAULT_UNET } = await import("../../src/segment/plans.js");
  const sm = await createSegmentModel({ ...DEFAULT_UNET, depth: 2, baseFilters: 4, seed: 7 });
  const engine = {
    name: "pointwise",
    channels: 2,
    classes: 3,
    async predict(input: Float32Array, [d, h, w]: readonly [number, number, number]) {
      const n = d * h * w;
      const out = new Float32Array(3 * n).fill(0.05);
      // Phase (delta x 1e6): void ~0, Li ~1.5, electrolyte ~6.
      for (let i = 0; i < n; i++) out[(input[i]! < 0.8 ? 1 : input[i]! < 3.5 ? 2 : 0) * n + i] = 0.9;
      return out;
    },
    async dispose() {},
  };
  return { sm, options: { engineInstance: engine, patchZYX: [16, 16, 16] as [number, number, number], overlap: 0.5, progress: false as const } };
}


/** Import settings of the import shard test: 8-slice slabs, so 3 shards get several each. */
export const IMPORT_OPTIONS = { voxelSizeUm: 1, chunksZYX: [8, 16, 16] as [number, number, number], channels: ["absorption", "phase"], timePointsH: [0, 1], progress: false as const, threads: 1 };
