/**
 * Peer tools for cross-checks (zarr-python, scipy, scikit-image, h5py, tifffile, PyTorch) come from Debian's
 * python3-* packages under /usr/bin/python3. They are never runtime dependencies of the library.
 * In CI (CI=true) a missing peer fails the test run; elsewhere the tests that need it are skipped with the reason.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const candidates = [process.env.SSB_CT_PEER_PYTHON, "/usr/bin/python3", "python3"].filter(
  (p): p is string => typeof p === "string" && p.length > 0,
);

const cache = new Map<string, boolean>();

export function peerPython(): string | null {
  for (const c of candidates) {
    if (c.startsWith("/") && !existsSync(c)) continue;
    return c;
  }
  return null;
}

/** True when the peer interpreter can import every module named. */
export function hasPythonModules(...modules: string[]): boolean {
  const key = modules.join(",");
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const py = peerPython();
  let ok = false;
  if (py) {
    const r = spawnSync(py, ["-c", modules.map((m) => `import ${m}`).join("; ")], { encoding: "utf8" });
    ok = r.status === 0;
  }
  if (!ok && process.env.CI === "true") {
    throw new Error(`CI needs the Python peer modules ${key} (Debian python3-* packages; .ci/run installs them)`);
  }
  cache.set(key, ok);
  return ok;
}

/** Runs a Python snippet; throws with stderr on failure; returns stdout. */
export function runPython(script: string, args: string[] = [], options: { input?: string } = {}): string {
  const py = peerPython();
  if (!py) throw new Error("no peer Python found");
  const r = spawnSync(py, ["-c", script, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
    input: options.input,
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}
