/**
 * The step runner: skip when inputs and outputs are unchanged, rerun when parameters, upstream outputs or files on
 * disk change, refuse partial or stale results by name, "does not apply" as the only skip, one writer at a time.
 */
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { acquireLock, freshRecord, LockedError, readRecord, runSteps, StaleResultError, StepFailedError, StepNotApplicable, type StepSpec } from "../../src/pipeline/index.js";
import { tempDir } from "../helpers/tmp.js";

function makeSteps(dir: string, counter: Record<string, number>, opts: { scale?: number; failB?: boolean; naA?: boolean } = {}): StepSpec[] {
  const a: StepSpec = {
    name: "a",
    describe: "writes a number",
    version: 1,
    after: [],
    params: { scale: opts.scale ?? 1 },
    outputs: { root: ".", paths: ["a.txt"] },
    async run() {
      counter.a = (counter.a ?? 0) + 1;
      if (opts.naA) throw new StepNotApplicable("no data of that kind");
      writeFileSync(join(dir, "a.txt"), String(21 * (opts.scale ?? 1)));
      return { summary: "a done" };
    },
  };
  const b: StepSpec = {
    name: "b",
    describe: "doubles a",
    version: 1,
    after: ["a"],
    params: {},
    outputs: { root: ".", paths: ["b.txt"] },
    async run() {
      counter.b = (counter.b ?? 0) + 1;
      if (opts.failB) throw new RangeError("b broke");
      writeFileSync(join(dir, "b.txt"), String(2 * Number(readFileSync(join(dir, "a.txt"), "utf8"))));
    },
  };
  return [a, b];
}

describe("pipeline steps", () => {
  it("runs, skips when nothing changed, reruns what a change touches", async () => {
    const dir = tempDir();
    const n: Record<string, number> = {};
    const log = () => {};
    let runs = await runSteps(makeSteps(dir, n), { resultsDir: dir, log });
    expect(runs.map((r) => r.outcome)).toEqual(["ran", "ran"]);
    expect(readFileSync(join(dir, "b.txt"), "utf8")).toBe("42");
    runs = await runSteps(makeSteps(dir, n), { resultsDir: dir, log });
    expect(runs.map((r) => r.outcome)).toEqual(["up to date", "up to date"]);
    expect(n).toEqual({ a: 1, b: 1 });
    // New parameters of a: a reruns, and b because a's output identity changed.
    runs = await runSteps(makeSteps(dir, n, { scale: 2 }), { resultsDir: dir, log });
    expect(runs.map((r) => r.outcome)).toEqual(["ran", "ran"]);
    expect(readFileSync(join(dir, "b.txt"), "utf8")).toBe("84");
    // An output edited on disk is noticed (listing: size changed) and recomputed.
    writeFileSync(join(dir, "b.txt"), "1234567");
    runs = await runSteps(makeSteps(dir, n, { scale: 2 }), { resultsDir: dir, log });
    expect(runs.map((r) => r.outcome)).toEqual(["up to date", "ran"]);
    expect(readFileSync(join(dir, "b.txt"), "utf8")).toBe("84");
  });

  it("an interrupted step leaves no record; its result and everything after it are refused by name", async () => {
    const dir = tempDir();
    const n: Record<string, number> = {};
    const steps = makeSteps(dir, n);
    await runSteps(steps, { resultsDir: dir, log: () => {} });
    // As a crash mid-rewrite of a: the record is removed first, so a is incomplete.
    unlinkSync(join(dir, "steps", "a.json"));
    expect(() => freshRecord(dir, steps[0]!)).toThrow(StaleResultError);
    expect(() => freshRecord(dir, steps[1]!)).toThrow(/step "b".*needs step "a", which has not completed/);
  });

  it("a failing step fails the run naming it; 'does not apply' is recorded and inherited", async () => {
    const dir = tempDir();
    await expect(runSteps(makeSteps(dir, {}, { failB: true }), { resultsDir: dir, log: () => {} })).rejects.toThrow(StepFailedError);
    await expect(runSteps(makeSteps(dir, {}, { failB: true }), { resultsDir: dir, log: () => {} })).rejects.toThrow(/step "b" failed.*RangeError: b broke/);
    expect(readRecord(dir, "b")).toBeNull();
    const dir2 = tempDir();
    const runs = await runSteps(makeSteps(dir2, {}, { naA: true }), { resultsDir: dir2, log: () => {} });
    expect(runs.map((r) => r.outcome)).toEqual(["not applicable", "not applicable"]);
    expect(readRecord(dir2, "b")!.reason).toMatch(/needs "a", which does not apply: no data of that kind/);
    expect(existsSync(join(dir2, "b.txt"))).toBe(false);
  });

  it("one writer at a time: a live holder is named, a dead one's lock is taken over", async () => {
    const dir = tempDir();
    const release = acquireLock(dir);
    expect(() => acquireLock(dir)).toThrow(LockedError);
    expect(() => acquireLock(dir)).toThrow(new RegExp(`pid ${process.pid}`));
    release();
    // A lock left by a process that is gone.
    const child = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => child.on("exit", r));
    mkdirSync(join(dir, "steps"), { recursive: true });
    writeFileSync(join(dir, "steps", "job.lock"), JSON.stringify({ pid: child.pid, host: (await import("node:os")).hostname(), startedAt: "then" }));
    const again = acquireLock(dir);
    again();
    expect(existsSync(join(dir, "steps", "job.lock"))).toBe(false);
  });
});
