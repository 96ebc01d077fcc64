export * from "./errors.js";
export * from "./progress.js";
export * from "./atomic-write.js";
export * from "./identity.js";
export { acquireLock, lockPath, LockedError } from "./lock.js";
export * from "./shard.js";
