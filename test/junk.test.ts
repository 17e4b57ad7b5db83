/**
 * Random junk at every exported function of core (np, lax, random, tree, debug, codecs, the
 * transforms, ...), optim and nn: null, undefined, strings, Symbols, NaN, infinities, negative
 * and huge sizes, objects, ragged and nested garbage, mixed with a few valid arrays so calls
 * get past their first argument. Every throw must be a CotangentError subclass (a typed
 * error naming the op), never a raw TypeError or RangeError. Functions a call returns (a
 * transformed function, an optimizer's init/update) get junk too.
 *
 * Excluded, with the reason: `save`/`saveE` write files at the junk path.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as core from "@cotangent/core";
import * as optim from "@cotangent/optim";
import * as nn from "@cotangent/nn";

const { np, CotangentError } = core;

const EXCLUDED = new Set(["core.save", "core.saveE"]);

const isClass = (f: Function): boolean => /^class[\s{]/.test(Function.prototype.toString.call(f));

/** Every exported function, one level into namespaces (np, lax, tree, nn.initializers, ...). */
const collect = (): [string, Function][] => {
  const out: [string, Function][] = [];
  const visit = (prefix: string, mod: Record<string, unknown>, depth: number) => {
    for (const k of Object.keys(mod).sort()) {
      const v = mod[k];
      const name = `${prefix}.${k}`;
      if (EXCLUDED.has(name)) continue;
      if (typeof v === "function") {
        if (!isClass(v)) out.push([name, v]);
      } else if (depth > 0 && typeof v === "object" && v !== null && !(v instanceof core.ArrayBase) && !Array.isArray(v)) {
        visit(name, v as Record<string, unknown>, depth - 1);
      }
    }
  };
  visit("core", core as unknown as Record<string, unknown>, 1);
  // Namespaces two levels down.
  visit("core.np.linalg", core.np.linalg as unknown as Record<string, unknown>, 0);
  visit("core.lax.linalg", core.lax.linalg as unknown as Record<string, unknown>, 0);
  visit("optim", optim as unknown as Record<string, unknown>, 1);
  visit("nn", nn as unknown as Record<string, unknown>, 1);
  return out;
};

const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;

/** Junk, and a few valid values so that calls reach their later arguments. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, undefined, "", "abc", "float16", NaN, Infinity, -Infinity, -1, -7, 0.5, -0, 1e15, 2 ** 31, 2 ** 53, true, false, 10n) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((s) => Symbol(s)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      {},
      { a: 1 },
      { axis: "0" },
      { keepDims: true },
      [],
      [null, "x"],
      [[1], [2, 3]],
      [1, [2]],
      { a: [null, { b: Symbol("deep") }] },
      new Map([[1, 2]]),
      new Date(0),
      Float32Array.of(1, 2),
      cyclic,
      [-1, 2],
      [2 ** 31, 2],
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom<unknown>(0, 1, 2, 3, [2, 3], "float32", "int32") },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      np.ones([2, 3]),
      np.array([1, 2], { dtype: "int32" }),
      np.array(1.5),
      np.array([true, false]),
      core.random.key(0),
    ),
  },
);

const args = fc.array(junk, { maxLength: 4 });

interface Escape {
  fn: string;
  args: string;
  error: string;
}

const show = (a: unknown[]): string => a.map((v) => core.describeValue(v)).join(", ");

describe("random junk at every exported function", () => {
  it("throws only CotangentError subclasses", async () => {
    const fns = collect();
    const samples = fc.sample(args, { numRuns: 24 }) // the global fast-check seed (test/setup.ts, FC_SEED);
    const escapes: Escape[] = [];
    let calls = 0;
    const pending: Promise<void>[] = [];
    const check = (name: string, a: unknown[], e: unknown): void => {
      if (!(e instanceof CotangentError)) {
        escapes.push({ fn: name, args: show(a), error: `${(e as Error)?.name}: ${String((e as Error)?.message).split("\n")[0]}` });
      }
    };
    const call = (name: string, f: Function, a: unknown[], thisArg: unknown, depth: number): void => {
      calls++;
      let result: unknown;
      try {
        result = f.apply(thisArg, a);
      } catch (e) {
        check(name, a, e);
        return;
      }
      if (result instanceof Promise) {
        // Async functions (load, ...) must reject with typed errors too.
        pending.push(result.then(() => undefined, (e) => check(name, a, e)));
        return;
      }
      if (depth > 0) {
        // A returned function (a transform's result) or an object of functions (an optimizer) gets junk too.
        if (typeof result === "function" && !isClass(result)) {
          for (const b of samples.slice(0, 3)) call(`${name}(...)`, result, b, undefined, depth - 1);
        } else if (typeof result === "object" && result !== null && !(result instanceof core.ArrayBase) && Object.getPrototypeOf(result) === Object.prototype) {
          for (const [k, v] of Object.entries(result)) {
            if (typeof v === "function") for (const b of samples.slice(0, 3)) call(`${name}(...).${k}`, v, b, result, depth - 1);
          }
        }
      }
    };
    const log = console.log;
    const info = console.info;
    console.log = console.info = () => {}; // debug.print and friends print junk: keep the test output readable
    try {
      for (const [name, f] of fns) for (const a of samples) call(name, f, a, undefined, 1);
      await Promise.all(pending);
    } finally {
      console.log = log;
      console.info = info;
    }
    const byFn = new Map<string, Escape>();
    for (const e of escapes) if (!byFn.has(e.fn)) byFn.set(e.fn, e);
    console.log(`junk test: ${fns.length} functions, ${calls} calls, ${escapes.length} non-CotangentError throws in ${byFn.size} functions`);
    expect([...byFn.values()]).toEqual([]);
  });
});
