/**
 * Read-only zarr stores served over HTTP(S): an OME-Zarr or zarr array opened by URL instead of a folder. Keys are
 * fetched with Node's built-in fetch. A missing key (404) is a chunk that was never written, so it reads as the
 * fill value, exactly as a missing file does locally; any other answer (a 500, a timeout, a dropped connection) is a
 * VolumeError naming the URL and the status, and the read that needed it fails whole, never with some chunks left at
 * the fill value. S3 and other object stores work through their plain HTTPS endpoints (public or presigned URLs);
 * no signing client is included.
 */
import { join } from "node:path";
import { VolumeError } from "../util/errors.js";

/** True for an http:// or https:// URL (a remote store); everything else is a local path. */
export function isRemote(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/** `base` and the key segments joined as a URL (for a remote store) or a file path (for a local one). */
export function storeJoin(base: string, ...parts: string[]): string {
  if (!isRemote(base)) return join(base, ...parts);
  const u = new URL(base);
  const segs = [...u.pathname.split("/"), ...parts.flatMap((p) => p.split("/"))].filter((s) => s !== "" && s !== ".");
  u.pathname = "/" + segs.map((s) => encodeURIComponent(decodeURIComponent(s))).join("/");
  return u.toString();
}

/** Requests to one server at a time per read, at most this many (a browser's per-host limit is 6; servers cope). */
export const FETCH_CONCURRENCY = 16;

/** HTTP statuses that mean "no such key": the chunk was never written (S3 answers 403 without list rights: not this). */
const MISSING = new Set([404, 410]);

/**
 * Network failures worth one more try: a kept-alive connection the server closed just as we reused it shows up as
 * a reset. HTTP error statuses are never retried (the server answered).
 */
const RETRIES = 2;

/** One key's bytes, or null when the server says it does not exist. */
export async function fetchKey(url: string, what: { location?: string } = {}): Promise<Uint8Array | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(url, what);
    } catch (e) {
      if (!(e instanceof Transient) || attempt >= RETRIES) throw e instanceof Transient ? e.error : e;
    }
  }
}

class Transient {
  constructor(readonly error: VolumeError) {}
}

async function fetchOnce(url: string, what: { location?: string }): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? cause?.message ?? (e as Error).message;
    const err = new VolumeError("cannot reach the store's server", { path: url, ...what, got: code });
    throw code === "ECONNREFUSED" || code === "ENOTFOUND" ? err : new Transient(err);
  }
  if (MISSING.has(res.status)) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new VolumeError("the store's server answered with an error", { path: url, ...what, expected: "HTTP 200, or 404 for a chunk never written", got: `HTTP ${res.status} ${res.statusText}`.trim() });
  }
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Transient(new VolumeError("the connection broke while reading from the store's server", { path: url, ...what, got: cause?.code ?? cause?.message ?? (e as Error).message }));
  }
}

/** A JSON document of the store, or undefined when it does not exist. */
export async function fetchJsonIfExists(url: string): Promise<unknown> {
  const bytes = await fetchKey(url);
  if (!bytes) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new VolumeError("metadata file is not valid JSON", { path: url, got: (e as Error).message });
  }
}

/**
 * Fetches every URL (FETCH_CONCURRENCY at a time), in order; null for a missing key. The first failure stops the
 * requests not yet sent and is thrown once the ones under way have settled, so no request outlives the read.
 */
export async function fetchAll(items: ReadonlyArray<{ url: string; location?: string }>): Promise<(Uint8Array | null)[]> {
  const out = new Array<Uint8Array | null>(items.length).fill(null);
  let next = 0;
  let failure: unknown = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const i = next++;
      const it = items[i]!;
      try {
        out[i] = await fetchKey(it.url, { location: it.location });
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, items.length) }, worker));
  if (failure !== null) throw failure;
  return out;
}

/** A remote zarr group's attributes, whichever zarr version (as ome.ts reads a local group's). */
export async function fetchGroupAttrs(url: string): Promise<{ attrs: Record<string, unknown>; zarrFormat: 2 | 3; file: string }> {
  const [v3, zgroup, zattrs] = await Promise.all(["zarr.json", ".zgroup", ".zattrs"].map((k) => fetchJsonIfExists(storeJoin(url, k))));
  const file3 = storeJoin(url, "zarr.json");
  if (v3 !== undefined) {
    const j = v3 as Record<string, unknown>;
    if (j.node_type !== "group") throw new VolumeError("expected a zarr group", { path: file3, field: "node_type", expected: "group", got: String(j.node_type) });
    return { attrs: (j.attributes ?? {}) as Record<string, unknown>, zarrFormat: 3, file: file3 };
  }
  if (zgroup === undefined) throw new VolumeError("no OME-Zarr store at this URL", { path: url, expected: ".zgroup (zarr v2) or zarr.json (zarr v3)", got: "HTTP 404 for both" });
  return { attrs: (zattrs ?? {}) as Record<string, unknown>, zarrFormat: 2, file: storeJoin(url, ".zattrs") };
}
