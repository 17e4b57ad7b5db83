/**
 * Fusion and code generation: elementwise chains (with broadcasting, broadcasts and
 * transposes of inputs) and the reductions consuming them run as one generated kernel,
 * equal to eager evaluation (bit for bit for elementwise chains: every intermediate is
 * rounded as storing it would; reductions to float tolerance).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type NDArray, grad, jit, lax, np, valueAndGrad } from "@cotangent/core";
import { expectClose } from "./harness.js";
import { wasmFusedStats } from "../src/compile/wasm_kernel.js";

type V = any;
const arr = (seed: number, shape: number[], dtype: "float32" | "float64" | "int32") =>
  np.array(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (dtype === "int32" ? ((seed * 7 + i * 13) % 11) - 5 : Math.sin(seed + i * 0.37) * 2)),
    { dtype, shape },
  ) as NDArray;

const unary: ((v: V) => V)[] = [
  np.sin,
  np.tanh,
  np.exp,
  (v) => np.log1p(np.abs(v)),
  np.square,
  (v) => np.power(v, 3),
  (v) => np.sqrt(np.abs(v)),
  (v) => np.negative(v),
  (v) => np.sigmoid(v),
  (v) => np.where(np.greater(v, 0.2), v, np.multiply(v, 0.1)),
  (v) => np.astype(np.astype(v, "int32"), v.dtype),
  (v) => np.maximum(v, 0),
];
const binary: ((a: V, b: V) => V)[] = [np.add, np.multiply, np.subtract, (a, b) => np.divide(a, np.add(np.square(b), 1)), np.maximum];

describe("fused kernels", () => {
  it("random elementwise chains over broadcast shapes equal eager evaluation exactly", () => {
    const shapes = [[3, 4], [1, 4], [3, 1], [4], []];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.nat(20), fc.nat(20), fc.nat(20)), { minLength: 2, maxLength: 8 }),
        fc.constantFrom("float32" as const, "float64" as const),
        fc.nat(100),
        (steps, dtype, seed) => {
          const f = (...xs: V[]) => {
            const vals = xs.slice();
            for (const [isUnary, op, a, b] of steps) {
              const x = vals[a % vals.length];
              vals.push(isUnary ? unary[op % unary.length]!(x) : binary[op % binary.length]!(x, vals[b % vals.length]));
            }
            return vals.slice(xs.length);
          };
          const xs = shapes.map((s, i) => arr(seed + i, s, dtype));
          const eager = f(...xs) as NDArray[];
          const jitted = jit(f)(...xs) as NDArray[];
          eager.forEach((e, i) => {
            expect(jitted[i]!.shape).toEqual(e.shape);
            expect(Array.from(jitted[i]!.toTypedArray())).toEqual(Array.from(e.toTypedArray()));
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("reductions over any axes consume the chain in the same kernel", () => {
    fc.assert(
      fc.property(fc.subarray([0, 1, 2]), fc.constantFrom("sum", "max", "min"), fc.nat(50), (axes, which, seed) => {
        const red = which === "sum" ? np.sum : which === "max" ? np.max : np.min;
        const f = (x: V, b: V) => {
          const y = np.tanh(np.add(np.multiply(x, 1.5), b));
          return [red(y, { axis: axes }), np.exp(y)];
        };
        const x = arr(seed, [2, 3, 5], "float32");
        const b = arr(seed + 1, [5], "float32");
        const [r, e] = jit(f)(x, b) as NDArray[];
        const [r0, e0] = f(x, b) as NDArray[];
        expectClose(r, r0, 1e-6);
        expect(Array.from(e!.toTypedArray())).toEqual(Array.from(e0!.toTypedArray()));
        const program = jit(f).lower(x, b).program;
        expect(program).toMatch(/1 steps for \d+ equations; 1 fused kernel/);
      }),
      { numRuns: 30 },
    );
  });

  it("a forward pass and its gradient become one kernel each (no intermediate arrays)", () => {
    const w2 = (x: V) => np.sum(np.tanh(np.add(np.multiply(x, 0.5), 0.1)));
    // float64: large float32 tanh stays out of fused loops (its Wasm SIMD kernel is faster).
    const x = arr(3, [1000], "float64");
    const vg = jit(valueAndGrad(w2));
    expect(vg.lower(x).program).toContain("1 steps for 8 equations; 1 fused kernel");
    const [v, g] = vg(x);
    const [v0, g0] = valueAndGrad(w2)(x);
    expectClose(v, v0, 1e-6);
    expectClose(g, g0, 1e-12);
    const f = (x: V) => np.sum(np.multiply(np.sin(x), np.power(x, 3)));
    const hvp = jit((x: V, v: V) => grad((y: V) => np.sum(np.multiply(grad(f)(y), v)))(x));
    expect(hvp.lower(x, x).program).toMatch(/1 steps for \d+ equations; 1 fused kernel/);
  });

  it("large float32 exp/log/tanh/logistic fuse into Wasm groups, or run their own SIMD kernel between JS-fused chains", () => {
    const f = (x: V) => np.sum(np.multiply(np.tanh(np.add(np.multiply(x, 0.5), 0.1)), 2));
    const x = arr(4, [4096], "float32");
    const before = wasmFusedStats.calls;
    expect(jit(f).lower(x).program).toMatch(/fused\[4096\] reduce\(0\) \{ mul add tanh mul reduce_sum \}/);
    expectClose(jit(f)(x), f(x), 1e-6);
    expect(wasmFusedStats.calls).toBe(before + 1);
    // floor has no Wasm member: the group runs in JS, and tanh (Math.tanh there) stays out of it.
    const g = (x: V) => np.sum(np.multiply(np.tanh(np.floor(np.multiply(x, 5))), 2));
    expect(jit(g).lower(x).program).toMatch(/= tanh /);
    expectClose(jit(g)(x), g(x), 1e-6);
  });

  it("transposed and broadcast inputs are read in place; int32 and bool chains keep their wrap-around", () => {
    const f = (x: V, y: V) => np.add(np.transpose(x), np.multiply(y, 3));
    const x = arr(1, [4, 3], "int32");
    const y = np.array(2147483000, { dtype: "int32" });
    expect((jit(f)(x, y) as NDArray).toArray()).toEqual((f(x, y) as NDArray).toArray());
    const g = (x: V) => np.logicalAnd(np.greater(x, 0), np.less(x, 3));
    expect((jit(g)(x) as NDArray).toArray()).toEqual((g(x) as NDArray).toArray());
  });

  it("scan bodies are compiled and fused too", () => {
    const f = (xs: V) => lax.scan((c: V, x: V) => [np.add(np.multiply(c, 0.9), np.sin(x)), np.tanh(c)], np.zeros([3]), xs);
    const xs = arr(2, [5, 3], "float32");
    const [c, ys] = jit(f)(xs) as [NDArray, NDArray];
    const [c0, ys0] = f(xs) as [NDArray, NDArray];
    expect(Array.from(c.toTypedArray())).toEqual(Array.from(c0.toTypedArray()));
    expect(Array.from(ys.toTypedArray())).toEqual(Array.from(ys0.toTypedArray()));
    expect(jit(f).lower(xs).program).toContain("scan-loop");
  });
});

describe("the memory plan", () => {
  it("writes results into dead buffers of the program and of donated arguments, with the same values", () => {
    const update = (p: V, m: V, g: V) => {
      const m2 = np.add(np.multiply(m, 0.9), np.multiply(g, 0.1));
      const p2 = np.subtract(p, np.multiply(np.tanh(m2), 0.01));
      return [p2, m2];
    };
    const mk = (s: number) => arr(s, [64], "float32");
    const step = jit(update, { donateArgnums: [0, 1] });
    const program = step.lower(mk(1), mk(2), mk(3)).program;
    expect(program).toContain("in place:");
    let p = mk(1);
    let m = mk(2);
    let pe = mk(1);
    let me = mk(2);
    for (let s = 0; s < 3; s++) {
      [p, m] = step(p, m, mk(3 + s)) as [NDArray, NDArray];
      [pe, me] = update(pe, me, mk(3 + s)) as [NDArray, NDArray];
    }
    expect(Array.from(p.toTypedArray())).toEqual(Array.from(pe.toTypedArray()));
    expect(Array.from(m.toTypedArray())).toEqual(Array.from(me.toTypedArray()));
  });
  it("keeps a convolution's result that stays inside the program, and returns fresh ones that leave it", () => {
    const conv = (x: V, w: V) => lax.convGeneralDilated(x, w, [1, 1], "SAME");
    const inside = jit((x: V, w: V, g: V) => np.sum(np.multiply(conv(x, w), g)));
    const leaves = jit((x: V, w: V) => np.tanh(conv(x, w)));
    const mk = (s: number, shape: number[]) => arr(s, shape, "float32");
    const [x, w, g] = [mk(1, [2, 3, 16, 16]), mk(2, [8, 3, 3, 3]), mk(3, [2, 8, 16, 16])];
    expect(inside.lower(x, w, g).program).toMatch(/conv_general_dilated .*\(kept: /);
    const returned = jit(conv);
    expect(returned.lower(x, w).program).not.toContain("kept");
    // Each call writes the kept memory again: the values follow the inputs, and equal eager's.
    for (let s = 0; s < 3; s++) {
      const xs = mk(10 + s, [2, 3, 16, 16]);
      expect((inside(xs, w, g) as NDArray).item()).toBe((np.sum(np.multiply(conv(xs, w), g)) as NDArray).item());
    }
    const first = returned(x, w) as NDArray;
    const kept = Array.from(first.toTypedArray());
    returned(mk(7, [2, 3, 16, 16]), w);
    expect(Array.from(first.toTypedArray())).toEqual(kept); // a returned result is never reused
    expect(Array.from((leaves(x, w) as NDArray).toTypedArray())).toEqual(Array.from((np.tanh(conv(x, w)) as NDArray).toTypedArray()));
  });
  it("never overwrites an argument that is not donated, nor a donated one passed twice", () => {
    const f = jit((a: V, b: V) => np.add(np.sin(a), b), { donateArgnums: [0] });
    const a = arr(1, [16], "float32");
    const before = Array.from(a.toTypedArray());
    const b = arr(2, [16], "float32");
    const r = f(b, b) as NDArray; // the same array twice: copied before reuse
    expect(Array.from(b.toTypedArray())).toEqual(Array.from(arr(2, [16], "float32").toTypedArray()));
    expect(Array.from(r.toTypedArray())).toEqual(Array.from((np.add(np.sin(b), b) as NDArray).toTypedArray()));
    jit((a: V) => np.sin(np.cos(a)))(a);
    expect(Array.from(a.toTypedArray())).toEqual(before);
  });
});
