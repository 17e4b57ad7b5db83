/**
 * Eager grad/vjp/linearize reuse the linearization of a program traced before with the same
 * structure (transforms/vjp.ts, `linearizeLifted`; the key in transforms/structure_key.ts).
 * A reused linearization must behave exactly as a fresh one: the constants a function closes
 * over are inputs (new values are used), and programs that differ in a literal, a param, a
 * shape or a dtype never share one. NaN reports (which name source lines) bypass the cache.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FloatingPointError, type NDArray, grad, jvp, linearize, makeJaxpr, np, valueAndGrad, vjp, vmap, withDebugNans } from "@cotangent/core";
import { clearLinearizeCache as clearLinearizations } from "../src/transforms/vjp.js";
import { clearBatchCache } from "../src/transforms/vmap.js";
import { structureKey } from "../src/transforms/structure_key.js";
import { rng } from "./reference_util.js";

const arr = (n: number, seed: number, dtype: "float32" | "float64" = "float64", shape = [n]) => {
  const r = rng(seed);
  return np.array(Array.from({ length: n }, () => r() * 2 - 1), { dtype, shape }) as NDArray;
};
const clearLinearizeCache = () => {
  clearLinearizations();
  clearBatchCache();
};
const values = (x: unknown) => Array.from((x as NDArray).toTypedArray());

/** A small family of programs: each takes (x, c) with c closed over by the differentiated function. */
const programs: ((x: NDArray, c: NDArray, s: number) => NDArray)[] = [
  (x, c, s) => np.sum(np.multiply(np.tanh(np.multiply(x, s)), c)) as NDArray,
  (x, c, s) => np.sum(np.square(np.add(x, np.multiply(c, s)))) as NDArray,
  (x, c, s) => np.mean(np.maximum(np.multiply(x, c), s)) as NDArray,
  (x, c, s) => np.sum(np.exp(np.multiply(np.matmul(np.reshape(x, [2, -1]), np.reshape(c, [-1, 2])), s))) as NDArray,
];

describe("linearizations reused by structure", () => {
  it("give exactly what a fresh linearization gives, for any sequence of programs, constants, scalars and dtypes (grad, valueAndGrad, vjp, linearize)", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            p: fc.integer({ min: 0, max: programs.length - 1 }),
            n: fc.constantFrom(4, 6),
            s: fc.constantFrom(0.5, 2, -0, 0, 3),
            seed: fc.integer({ min: 0, max: 50 }),
            dtype: fc.constantFrom("float32" as const, "float64" as const),
            how: fc.constantFrom("grad", "valueAndGrad", "vjp", "linearize"),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (calls) => {
          const run = ({ p, n, s, seed, dtype, how }: (typeof calls)[number]) => {
            const x = arr(n, seed, dtype);
            const c = arr(n, seed + 100, dtype);
            const f = (x: NDArray) => programs[p]!(x, c, s);
            if (how === "grad") return values(grad(f)(x));
            if (how === "valueAndGrad") return valueAndGrad(f)(x).flatMap(values);
            if (how === "vjp") {
              const [out, fn] = vjp(f, x);
              return [...values(out), ...values(fn(np.array(1.5, { dtype }))[0])];
            }
            const [out, fl] = linearize(f, x);
            return [...values(out), ...values(fl(arr(n, seed + 7, dtype)))];
          };
          const cached = calls.map(run);
          const fresh = calls.map((call) => {
            clearLinearizeCache();
            return run(call);
          });
          expect(cached).toEqual(fresh);
          // And against the derivative itself (jvp does not use the cache), for grad.
          calls.forEach((call, i) => {
            if (call.how !== "grad") return;
            const x = arr(call.n, call.seed, call.dtype);
            const c = arr(call.n, call.seed + 100, call.dtype);
            const e0 = np.zeros([call.n], { dtype: call.dtype }) as NDArray;
            const tol = call.dtype === "float32" ? 1e-4 : 1e-10;
            for (let k = 0; k < call.n; k++) {
              const e = np.add(e0, np.equal(np.arange(call.n), k).astype(call.dtype)) as NDArray;
              const d = (jvp((x: NDArray) => programs[call.p]!(x, c, call.s), [x], [e])[1] as NDArray).item();
              expect(Math.abs(cached[i]![k]! - d)).toBeLessThanOrEqual(tol * (1 + Math.abs(d)));
            }
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("keys tell literals (0 and -0, NaN), params, shapes and dtypes apart; the same program at new values shares one", () => {
    const key = (f: (x: NDArray) => unknown, x: NDArray) => structureKey(makeJaxpr(f)(x) as never);
    const x = arr(6, 1);
    const k = key((x) => np.multiply(x, 2), x);
    expect(key((x) => np.multiply(x, 2), arr(6, 2))).toBe(k);
    expect(key((x) => np.multiply(x, 3), x)).not.toBe(k);
    expect(key((x) => np.multiply(x, 0), x)).not.toBe(key((x) => np.multiply(x, -0), x));
    expect(key((x) => np.multiply(x, Number.NaN), x)).not.toBe(key((x) => np.multiply(x, 0), x));
    expect(key((x) => np.sum(np.reshape(x, [2, 3]), 0), x)).not.toBe(key((x) => np.sum(np.reshape(x, [2, 3]), 1), x));
    expect(key((x) => np.multiply(x, 2), arr(7, 1))).not.toBe(k);
    expect(key((x) => np.multiply(x, 2), arr(6, 1, "float32"))).not.toBe(k);
  });

  it("a vmap of grad reuses it too, with each call's own values", () => {
    const w = arr(12, 3, "float32", [4, 3]);
    const loss = (w: NDArray, x: NDArray) => np.sum(np.tanh(np.matmul(x, w))) as NDArray;
    const perExample = vmap(grad(loss), { inAxes: [null, 0] });
    for (const seed of [1, 2, 3]) {
      const xs = arr(20, seed, "float32", [5, 4]);
      const got = perExample(w, xs) as NDArray;
      clearLinearizeCache();
      const want = perExample(w, xs) as NDArray;
      expect(values(got)).toEqual(values(want));
    }
  });

  it("vmap reuses batchings by structure: closed-over constants, inAxes and outAxes are each call's own", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ p: fc.integer({ min: 0, max: programs.length - 1 }), seed: fc.integer({ min: 0, max: 30 }), inAxis: fc.constantFrom(0, 1), outAxis: fc.constantFrom(0, -1), s: fc.constantFrom(2, 0.5) }), { minLength: 1, maxLength: 8 }),
        (calls) => {
          const run = ({ p, seed, inAxis, outAxis, s }: (typeof calls)[number]) => {
            const c = arr(4, seed + 1);
            const xs = arr(12, seed, "float64", inAxis === 0 ? [3, 4] : [4, 3]);
            const f = (x: NDArray) => np.multiply(grad((x: NDArray) => programs[p]!(x, c, s))(x), c);
            return values(vmap(f, { inAxes: inAxis, outAxes: outAxis })(xs));
          };
          const cached = calls.map(run);
          const fresh = calls.map((call) => {
            clearLinearizeCache();
            return run(call);
          });
          expect(cached).toEqual(fresh);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("under debugNans the report names the line of the function that produced the NaN, not of an earlier one of the same structure", () => {
    const lineHere = () => Number((new Error().stack ?? "").split("\n")[2]!.match(/:(\d+):\d+\)?$/)![1]);
    const x = np.array([1, 2, 3]);
    // prettier-ignore
    const first = (x: NDArray) => np.sum(np.log(np.subtract(x, 0.5))), firstLine = lineHere();
    // prettier-ignore
    const second = (x: NDArray) => np.sum(np.log(np.subtract(x, 0.5))), secondLine = lineHere();
    grad(first)(x);
    let err: unknown;
    try {
      withDebugNans(() => grad(second)(np.array([-1, 2, 3])));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FloatingPointError);
    expect((err as FloatingPointError).message).toContain(`linearize_cache.test.ts:${secondLine}`);
    expect((err as FloatingPointError).message).not.toContain(`linearize_cache.test.ts:${firstLine}`);
  });
});
