/**
 * Test-only driver: one shard of a segmentation in its own process, as a scheduler would start it
 * (`node --import tsx shard-job.ts segment STORE i/n`). The command line (`ssbct segment`) loads a U-Net from a model
 * folder; here a pointwise engine (probabilities a function of the phase value) stands in for it, so the test is
 * about sharding segmentImage, in seconds. Twin, import and
 * quantify shards are tested through `ssbct` itself.
 * Prints one JSON line with what the library returned.
 */
import { segmentImage } from "../../src/segment/infer.js";
import { parseShard } from "../../src/util/shard.js";
import { OmeImage } from "../../src/volume/index.js";
import { segmentSetup } from "./setup.js";

const [job, store, shard] = process.argv.slice(2);
if (job === "segment" && store && shard) {
  const { sm, options } = await segmentSetup();
  const r = await segmentImage(await OmeImage.open(store), sm, { ...options, shard: parseShard(shard) });
  process.stdout.write(JSON.stringify({ written: r.chunksWritten, complete: r.complete }) + "\n");
} else throw new Error("usage: shard-job.ts segment STORE i/n");
