/**
 * Content identities of files and folders: what a step's record stores about its inputs and outputs, so that a
 * changed, partial or replaced input is detected by name before work is skipped or results are read.
 *
 * Two strengths: `listing` (relative path + size of every file, stat only: cheap enough to check on every run) and
 * `content` (sha256 of every byte, taken once when a step commits). In-flight temp files and step bookkeeping are
 * never part of an identity.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { TEMP_MARKER } from "./atomic-write.js";

export interface TreeIdentity {
  files: number;
  bytes: number;
  /** sha256 over the sorted (relative path, size) pairs. */
  listing: string;
  /** sha256 over the sorted (relative path, sha256 of content) pairs; "" when only the listing was taken. */
  content: string;
}

/** Names that are bookkeeping, never data: temp files of atomic writes, locks, job files. */
function ignored(name: string): boolean {
  return name.includes(TEMP_MARKER) || name.endsWith(".lock") || name === ".DS_Store";
}

/** Every file under `path` (or `path` itself when it is a file), as sorted paths relative to `base`. */
export function listFiles(path: string, base: string = path): string[] {
  if (!existsSync(path)) return [];
  const st = statSync(path);
  if (st.isFile()) return [relative(base, path) || "."];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (ignored(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(base, p).split(sep).join("/"));
    }
  };
  walk(path);
  return out.sort();
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of a JSON value with sorted keys (so the same parameters always hash the same). */
export function jsonIdentity(value: unknown): string {
  return sha256(stableJson(value));
}

export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v))
      return Object.fromEntries(Object.keys(v as Record<string, unknown>).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    return v;
  });
}

/**
 * Identity of several paths under one root (files or folders; a missing path counts as empty and is named in the
 * listing so that "absent" and "empty" differ). `content: false` takes the listing only.
 */
export function treeIdentity(root: string, paths: string[], options: { content?: boolean; exclude?: (rel: string) => boolean } = {}): TreeIdentity {
  const listing = createHash("sha256");
  const content = createHash("sha256");
  let files = 0;
  let bytes = 0;
  for (const p of [...paths].sort()) {
    const abs = join(root, p);
    if (!existsSync(abs)) {
      listing.update(`missing:${p}\n`);
      content.update(`missing:${p}\n`);
      continue;
    }
    for (const rel of listFiles(abs, root)) {
      if (options.exclude?.(rel)) continue;
      const size = statSync(join(root, rel)).size;
      files++;
      bytes += size;
      listing.update(`${rel}\0${size}\n`);
      if (options.content !== false) content.update(`${rel}\0${sha256(readFileSync(join(root, rel)))}\n`);
    }
  }
  return { files, bytes, listing: listing.digest("hex"), content: options.content === false ? "" : content.digest("hex") };
}
