/** Runs one case of one system: check first, then time (or measure). */
import { CheckError } from "./reference.js";
import type { CaseSpec } from "./workloads.js";
import type { Runner } from "./systems/system.js";

export interface CaseResult {
  case: string;
  system: string;
  /** ok: timed; unsupported: the system says it cannot; failed: it threw; wrong: the check failed. */
  status: "ok" | "unsupported" | "failed" | "wrong";
  /** Milliseconds per run (time cases), in the order taken. */
  samples: number[];
  /** Value cases (W6): the figure, in bytes. */
  value?: number;
  note?: string;
}

/** How many runs and how long: a full run aims at steady figures, --quick at a smoke test. */
export interface Budget {
  /** Warm-up runs: at least `warmup`, then more until `warmupMs` have been spent (at most `maxWarmup`). */
  warmup: number;
  warmupMs: number;
  maxWarmup: number;
  maxSamples: number;
  minSamples: number;
  /** Stop taking samples once this many ms have been spent (after minSamples). */
  budgetMs: number;
}
/**
 * A full run measures the steady state, as a training loop sees it after its first steps:
 * every system warms up for about a second. The first calls in a process are slower for
 * reasons that have nothing to do with the kernels (V8 tiering up; and on this VM kind,
 * first-touch page faults of fresh result memory at ~13 us per 4 KiB page, until the first
 * garbage collection hands freed results back to the C allocator: docs/performance.md,
 * "Fresh arrays and the C allocator").
 */
export const FULL: Budget = { warmup: 2, warmupMs: 1000, maxWarmup: 100, maxSamples: 100, minSamples: 3, budgetMs: 3000 };
export const QUICK: Budget = { warmup: 1, warmupMs: 0, maxWarmup: 1, maxSamples: 3, minSamples: 1, budgetMs: 300 };

/** One run's wall time in ms (awaiting it when it returns a promise). */
export const once = async (r: Runner): Promise<number> => {
  const t0 = performance.now();
  const out = r.run();
  if (out && typeof (out as Promise<unknown>).then === "function") await out;
  return performance.now() - t0;
};

export const timeRunner = async (spec: CaseSpec, r: Runner, quick: boolean, b: Budget = quick ? QUICK : FULL): Promise<{ samples: number[]; value?: number; warmupRuns?: number }> => {
  const t = spec.timing;
  if (t.kind === "value") return { samples: [], value: r.measure!() };
  if (t.kind === "steps") {
    for (let i = 0; i < (quick ? t.quickWarmup : t.warmup); i++) await once(r);
    const samples: number[] = [];
    for (let i = 0; i < (quick ? t.quickSteps : t.steps); i++) samples.push(await once(r));
    return { samples };
  }
  // Slow cases (seconds per run) warm up once: the budget goes to samples.
  let warm = 0;
  let warmupRuns = 0;
  for (; (warmupRuns < b.warmup || (warm < b.warmupMs && warmupRuns < b.maxWarmup)) && warm < b.budgetMs / 2; warmupRuns++) warm += await once(r);
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < b.maxSamples && (samples.length < b.minSamples || performance.now() - start < b.budgetMs)) samples.push(await once(r));
  return { samples, warmupRuns };
};

const message = (e: unknown) => (e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)).split("\n")[0]!.slice(0, 300);

/** Builds the runner, checks its outputs against the reference, then times it. Never throws. */
export const runCase = async (system: string, spec: CaseSpec, impl: ((d: unknown, quick: boolean) => Runner | Promise<Runner>) | string | undefined, quick: boolean): Promise<CaseResult> => {
  const base = { case: spec.id, system, samples: [] as number[] };
  if (impl === undefined) return { ...base, status: "unsupported", note: "not implemented for this system" };
  if (typeof impl === "string") return { ...base, status: "unsupported", note: impl };
  const data = spec.data(quick);
  let runner: Runner;
  try {
    runner = await impl(data, quick);
    const outputs = await runner.outputs();
    try {
      spec.verify(outputs, data);
    } catch (e) {
      if (e instanceof CheckError) return { ...base, status: "wrong", note: message(e) };
      throw e;
    }
    return { ...base, status: "ok", ...(await timeRunner(spec, runner, quick)) };
  } catch (e) {
    return { ...base, status: "failed", note: message(e) };
  }
};
