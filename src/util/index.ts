export * from "./errors.js";
export * from "./progress.js";
export * from "./atomic-write.js";
export * from "./random.js";
