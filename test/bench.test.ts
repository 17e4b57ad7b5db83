/**
 * The bench harness cannot silently break: a tiny `pnpm bench --quick` run through real
 * child processes (Cotangent and the TF.js wasm peer), the argument parsing, the ratio
 * arithmetic, and a wrong result caught by the check.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseArgs, poolResult, selectCases } from "../packages/bench/src/main.js";
import { rows } from "../packages/bench/src/table.js";
import { type Budget, type CaseResult, runCase, timeRunner } from "../packages/bench/src/timing.js";
import { caseById } from "../packages/bench/src/workloads.js";

describe("pnpm bench", () => {
  it("runs a tiny subset in Cotangent and a peer, each in its own process, and prints the table and the JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "cotangent-bench-test-"));
    try {
      const json = join(dir, "out.json");
      const r = spawnSync(
        process.execPath,
        ["--conditions=@cotangent/source", "--import", "tsx", "packages/bench/src/main.ts", "--quick", "--only", "W8.add-small,W4.grad", "--systems", "cotangent,jax-js", "--rounds", "2", "--json", json],
        { encoding: "utf8" },
      );
      expect(r.stderr).toContain("cotangent W4.grad ... ok");
      // Two rounds, the second starting with the other system; each case's samples pooled.
      expect(r.stderr).toMatch(/jax-js W4 \(round 2 of 2\):\n[^]*cotangent W4 \(round 2 of 2\):/);
      expect(r.stdout).toContain("(2 rounds: each figure pools 2 processes per system)");
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/\| W4\.grad grad of sum\(sin\(x\)·x³\), n=1000 \(ms\) \| cotangent \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+× jax-js \|/);
      expect(r.stdout).toMatch(/\| W8\.add-small np\.add 100 f32 \(ms\) \| cotangent \|/);
      expect(r.stdout).toContain("jax-js 0.1.25 wasm device");
      const out = JSON.parse(readFileSync(json, "utf8"));
      expect(out.reports.map((x: { system: string }) => x.system)).toEqual(["cotangent", "jax-js"]);
      for (const rep of out.reports) for (const res of rep.results) expect(res.status).toBe("ok");
      for (const rep of out.reports) expect(rep.results.map((x: { case: string }) => x.case)).toEqual(["W4.grad", "W8.add-small"]);
      for (const rep of out.reports) for (const res of rep.results) expect(res.samples.length).toBeGreaterThanOrEqual(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("`calls` prints each call's time and page faults, after checking the case", () => {
    const r = spawnSync(process.execPath, ["--conditions=@cotangent/source", "--import", "tsx", "packages/bench/src/calls.ts", "--case", "W8.add-small", "--calls", "4", "--jit"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("cotangent-jit W8.add-small, ms/faults per call:");
    expect(r.stdout).toMatch(/^([\d.]+\/\d+ ){3}[\d.]+\/\d+$/m);
    expect(r.stdout).toMatch(/median [\d.]+ ms \(all 4 calls\); second half: median [\d.]+ ms, \d+ faults; first half: \d+ faults/);
    const bad = spawnSync(process.execPath, ["--conditions=@cotangent/source", "--import", "tsx", "packages/bench/src/calls.ts", "--case", "W9.none"], { encoding: "utf8" });
    expect(bad.stderr).toMatch(/W9.none/);
    expect(bad.status).not.toBe(0);
  });

  it("parses its options and refuses unknown workloads, systems and flags", () => {
    expect(parseArgs(["--quick", "--only", "W1,W3", "--json", "x.json"])).toEqual({ quick: true, only: ["W1", "W3"], systems: undefined, json: "x.json" });
    expect(selectCases(["W1"])).toEqual(["W1.f32-512", "W1.f32-1024", "W1.f64-512"]);
    expect(selectCases(["W8.sum", "W6"])).toEqual(["W6.plain", "W6.checkpoint", "W8.sum"]);
    expect(() => selectCases(["W9"])).toThrow(/no workload or case W9/);
    expect(() => parseArgs(["--fast"])).toThrow(/unknown option --fast/);
    expect(() => parseArgs(["--only"])).toThrow(/--only needs a value/);
    expect(parseArgs(["--rounds", "3"]).rounds).toBe(3);
    for (const bad of ["0", "1.5", "x"]) expect(() => parseArgs(["--rounds", bad])).toThrow(/--rounds takes a positive integer/);
  });

  it("pools a case's rounds: samples joined, the worst status kept with its note", () => {
    const first: CaseResult = { case: "W4.grad", system: "cotangent", status: "ok", samples: [1, 2] };
    poolResult(first, { case: "W4.grad", system: "cotangent", status: "ok", samples: [3] });
    expect(first).toEqual({ case: "W4.grad", system: "cotangent", status: "ok", samples: [1, 2, 3] });
    poolResult(first, { case: "W4.grad", system: "cotangent", status: "wrong", samples: [], note: "off by one" });
    poolResult(first, { case: "W4.grad", system: "cotangent", status: "failed", samples: [], note: "later" });
    expect(first.status).toBe("wrong");
    expect(first.note).toBe("off by one");
  });

  it("gives Cotangent's median as a multiple of the fastest peer's, and GFLOP/s from times", () => {
    const r = rows(
      [
        { case: "W1.f32-512", system: "cotangent", status: "ok", samples: [30, 10, 20] },
        { case: "W1.f32-512", system: "tfjs-wasm", status: "ok", samples: [5, 5, 5] },
        { case: "W1.f32-512", system: "jax-js", status: "ok", samples: [4, 4, 100] },
        { case: "W1.f32-512", system: "jax-js-jit", status: "unsupported", samples: [], note: "one op" },
      ],
      new Set(["tfjs-wasm", "jax-js", "jax-js-jit"]),
    );
    expect(r[0]!.ratio).toBe(5);
    expect(r[0]!.ratioTo).toBe("jax-js");
    const flops = 2 * 512 ** 3;
    expect(r[0]!.median).toBeCloseTo(flops / 20e6);
    expect(r[0]!.min).toBeCloseTo(flops / 30e6);
    expect(r[0]!.max).toBeCloseTo(flops / 10e6);
    expect(r[3]!.status).toBe("unsupported");
  });

  it("a result that disagrees with the reference is reported as wrong, and is not timed", async () => {
    const spec = caseById("W8.add-small");
    const res = await runCase("broken", spec, () => ({ run: () => undefined, outputs: () => [new Float32Array(100)] }), true);
    expect(res.status).toBe("wrong");
    expect(res.note).toMatch(/x \+ y: element 0 is 0, the reference is/);
    expect(res.samples).toEqual([]);
  });

  it("warms up for a time (steady state), within the case's budget, before taking samples", async () => {
    const spec = caseById("W8.add-small");
    // Each run records how long it spun: on a loaded machine a 5 ms spin can take longer.
    const spinner = (ms: number, took: number[] = []) => ({
      run: () => {
        const t0 = performance.now();
        while (performance.now() - t0 < ms);
        took.push(performance.now() - t0);
      },
      outputs: () => [],
    });
    const budget: Budget = { warmup: 2, warmupMs: 60, maxWarmup: 100, maxSamples: 3, minSamples: 3, budgetMs: 1000 };
    const took: number[] = [];
    const fast = await timeRunner(spec, spinner(5, took), false, budget);
    const n = fast.warmupRuns!;
    const spent = (k: number) => took.slice(0, k).reduce((a, b) => a + b, 0);
    // Warm-up stops at the first run that brings the time spent to 60 ms (each run's wall time is a little over its spin).
    expect(n).toBeGreaterThanOrEqual(2);
    expect(spent(n - 1)).toBeLessThan(60);
    expect(spent(n) + 0.5 * n).toBeGreaterThanOrEqual(60);
    expect(took).toHaveLength(n + 3);
    expect(fast.samples).toHaveLength(3);
    expect((await timeRunner(spec, spinner(1), false, { ...budget, maxWarmup: 7 })).warmupRuns).toBe(7);
    // A slow case spends at most half its budget warming up, and always the minimum.
    expect((await timeRunner(spec, spinner(40), false, { ...budget, budgetMs: 100 })).warmupRuns).toBe(2);
  });
});
