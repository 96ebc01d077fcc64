import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/** Whether this process can mount a small tmpfs under `dir` (root on Linux): to fill a disk or make it read-only. */
export function canMount(dir: string): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  const probe = join(dir, "mount-probe");
  mkdirSync(probe, { recursive: true });
  const ok = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe]).status === 0;
  if (ok) spawnSync("umount", [probe]);
  return ok;
}
