import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { TransformError, TypeMismatchError, checkpoint, grad, jvp, lax, makeJaxpr, np, savedResiduals, typecheck, vmap, type NDArray } from "@cotangent/core";
import { checkGrad, checkTransposition, expectClose, typecheckTransforms } from "./harness.js";

const f64 = (x: any) => np.array(x, { dtype: "float64" }) as NDArray;

const step = (h: any, x: any, w: any) => np.tanh(np.add(np.multiply(h, w), x));

describe("scan", () => {
  it("equals the unrolled loop in values and gradients", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 6 * 2, maxLength: 6 * 2 }), fc.boolean(), (n, vals, reverse) => {
        const xs = np.reshape(f64(vals.slice(0, n * 2)), [n, 2]);
        const w = f64([0.7, -0.4]);
        const h0 = f64([0.1, 0.2]);
        const viaScan = (h0: any, xs: any, w: any) => {
          const [h, ys] = lax.scan((h: any, x: any) => { const hn = step(h, x, w); return [hn, np.sum(hn)]; }, h0, xs, { reverse });
          return np.add(np.sum(h), np.sum(np.multiply(ys, ys)));
        };
        const unrolled = (h0: any, xs: any, w: any) => {
          let h = h0;
          let total: any = 0;
          for (let k = 0; k < n; k++) {
            const i = reverse ? n - 1 - k : k;
            h = step(h, np.take(xs, np.array(i, { dtype: "int32" }), { axis: 0 }), w);
            total = np.add(total, np.square(np.sum(h)));
          }
          return np.add(np.sum(h), total);
        };
        expectClose(viaScan(h0, xs, w), unrolled(h0, xs, w), 1e-12);
        const g1 = grad(viaScan, { argnums: [0, 1, 2] })(h0, xs, w);
        const g2 = grad(unrolled, { argnums: [0, 1, 2] })(h0, xs, w);
        expectClose(g1, g2, 1e-10);
      }),
      { numRuns: 15 },
    );
  });
  it("passes the rule checks", () => {
    const f = (h0: any, xs: any) => lax.scan((h: any, x: any) => [np.sin(np.multiply(h, x)), np.cos(h)], h0, xs);
    const h0 = f64([0.3, -0.2]);
    const xs = f64([[1, 2], [0.5, -1], [2, 0.1]]);
    checkGrad(f, [h0, xs]);
    checkTransposition(f, [h0, xs]);
    typecheckTransforms(f, [h0, xs]);
    const [, t] = jvp(f, [h0, xs], [f64([1, 0]), np.zerosLike(xs)]);
    expect(t[0].shape).toEqual([2]);
  });
  it("vmaps", () => {
    const f = (h0: any, xs: any) => lax.scan((h: any, x: any) => [np.sin(np.add(h, x)), np.multiply(h, x)], h0, xs);
    const h0s = f64([[0.3], [0.1], [-0.5]]);
    const xs = f64([[1], [2]]);
    const [hb, ysb] = vmap(f, { inAxes: [0, null] })(h0s, xs);
    for (let b = 0; b < 3; b++) {
      const [h, ys] = f(np.take(h0s, np.array(b, { dtype: "int32" }), { axis: 0 }), xs);
      expectClose(np.take(hb, np.array(b, { dtype: "int32" }), { axis: 0 }), h, 1e-12);
      expectClose(np.take(ysb, np.array(b, { dtype: "int32" }), { axis: 0 }), ys, 1e-12);
    }
  });
  it("a 10,000-step scan is one equation and its gradient runs", () => {
    const loop = (n: number) => (x: any) => np.sum(lax.scan((h: any, _: any) => [np.add(np.multiply(h, 0.9999), np.sin(h)), null], x, null, { length: n })[0]);
    const small = makeJaxpr(loop(10))(f64([0.5]));
    const big = makeJaxpr(loop(10_000))(f64([0.5]));
    expect(big.eqns.length).toBe(small.eqns.length);
    expect(big.toString().length).toBe(small.toString().length + 3);
    const g = grad(loop(10_000))(f64([0.5]));
    expect(Number.isFinite((g as NDArray).item())).toBe(true);
    typecheck(makeJaxpr(grad(loop(10_000)))(f64([0.5])));
  });
  it("grad through a 1,000-step scan matches finite differences", () => {
    const f = (w: any) => np.sum(lax.scan((h: any, x: any) => [np.tanh(np.add(np.multiply(h, w), x)), null], f64([0.1, 0.3]), np.multiply(np.ones([1000, 2], { dtype: "float64" }), 0.01))[0]);
    checkGrad(f, [f64([0.5, 0.9])], { eps: 1e-6, tol: 1e-6 });
  });
  it("checkpointed body keeps only the carries per step", () => {
    const w = f64([[0.5, 0.1], [0.2, 0.3]]);
    const body = (h: any, x: any) => [np.sin(np.multiply(np.tanh(np.add(np.matmul(h, w), x)), h)), null] as [any, null];
    const xs = np.ones([50, 2], { dtype: "float64" });
    const f = (h0: any, b: any) => np.sum(lax.scan(b, h0, xs)[0]);
    const plain = savedResiduals((h: any) => f(h, body), f64([0.1, 0.2]));
    const ck = savedResiduals((h: any) => f(h, checkpoint(body)), f64([0.1, 0.2]));
    const stacked = (rs: typeof plain) => rs.filter((r) => r.shape[0] === 50);
    expect(stacked(ck).length).toBe(1); // the carry h of every step
    expect(stacked(ck)[0]!.shape).toEqual([50, 2]);
    expect(stacked(plain).length).toBeGreaterThan(1);
    expectClose(grad((h: any) => f(h, checkpoint(body)))(f64([0.1, 0.2])), grad((h: any) => f(h, body))(f64([0.1, 0.2])), 1e-12);
  });
  it("refuses a carry whose type changes", () => {
    expect(() => lax.scan((c: any, x: any) => [np.add(c, x), null], np.zeros([2]), np.ones([3, 2], { dtype: "float64" }))).toThrow(TypeMismatchError);
    expect(() => lax.scan((c: any, x: any) => [np.add(c, x), null], np.zeros([2]), np.ones([3, 2], { dtype: "float64" }))).toThrow(
      /lax.scan: scan step: the carry goes in as \(f32\[2\],\) but comes out as \(f64\[2\],\)\n  at packages\/core\/test\/control.test.ts:\d+/,
    );
  });
  it("a JS number in the initial carry is weakly typed and takes the step's dtype", () => {
    const [total, partials] = lax.scan((c: any, x: any) => [np.add(c, x), c], 0, f64([0.5, 1, 2]));
    expect([total.dtype, total.item()]).toEqual(["float64", 3.5]);
    expect(partials.toArray()).toEqual([0, 0.5, 1.5]);
    const [[n, s]] = lax.scan(([n, s]: any, x: any) => [[np.add(n, 1), np.add(s, x)], null], [0, 0], np.array([0.5, 0.25]));
    expect([n.dtype, n.item(), s.dtype, s.item()]).toEqual(["int32", 2, "float32", 0.75]);
    const v = lax.foriLoop(0, 3, (i: any, v: any) => np.add(v, 0.5), 0);
    expect([v.dtype, v.item()]).toEqual(["float32", 1.5]);
    const w = lax.whileLoop((c: any) => np.less(c, 3), (c: any) => np.add(c, f64(1.5)), 0);
    expect([w.dtype, w.item()]).toEqual(["float64", 3]);
    expect(grad((x: any) => lax.scan((c: any, xi: any) => [np.add(c, np.multiply(x, xi)), null], 0, f64([1, 2]))[0])(f64(1)).item()).toBe(3);
    // Only weak leaves move: a strongly typed int carry stays an error.
    expect(() => lax.scan((c: any, x: any) => [np.add(c, x), null], np.array(0, { dtype: "int32" }), f64([1]))).toThrow(TypeMismatchError);
  });
});

describe("cond and switch", () => {
  it("equals the chosen branch, in values and gradients", () => {
    const f = (p: any, x: any) => lax.cond(p, (x: any) => np.sin(x), (x: any) => np.multiply(x, x), x);
    const x = f64([0.3, 2]);
    expectClose(f(true, x), np.sin(x), 0);
    expectClose(f(f64(0), x), np.multiply(x, x), 0);
    expectClose(grad((x: any) => np.sum(f(true, x)))(x), np.cos(x), 1e-12);
    expectClose(grad((x: any) => np.sum(f(false, x)))(x), np.multiply(x, 2), 1e-12);
    checkTransposition((x: any) => f(np.greater(np.sum(x), 1), x), [x]);
    typecheckTransforms((x: any) => f(np.greater(np.sum(x), 1), x), [x]);
  });
  it("switch clamps its index", () => {
    const br = [(x: any) => np.multiply(x, 1), (x: any) => np.multiply(x, 2), (x: any) => np.multiply(x, 3)];
    expectClose(lax.switch(np.array(5, { dtype: "int32" }), br, f64(1)), f64(3), 0);
    expectClose(lax.switch(np.array(-2, { dtype: "int32" }), br, f64(1)), f64(1), 0);
  });
  it("vmap with a batched predicate selects per lane", () => {
    const f = (x: any) => lax.cond(np.greater(x, 0), (x: any) => np.sin(x), (x: any) => np.negative(x), x);
    const xs = f64([-1, 0.5, 2, -0.25]);
    const out = vmap(f)(xs);
    expectClose(out, f64([1, Math.sin(0.5), Math.sin(2), 0.25]), 1e-12);
    expectClose(vmap(grad(f))(xs), f64([-1, Math.cos(0.5), Math.cos(2), -1]), 1e-12);
  });
  it("branches with different types are an error naming both", () => {
    expect(() => lax.cond(true, (x: any) => x, (x: any) => np.astype(x, "float64"), np.ones([2]))).toThrow(
      /lax.cond: trueFn returns \* \(f32\[2\],\) but falseFn returns \* \(f64\[2\],\)/,
    );
  });
});

describe("whileLoop and foriLoop", () => {
  it("Newton's method for sqrt", () => {
    const sqrt = (a: any) => lax.whileLoop(([x, i]: any) => np.logicalAnd(np.greater(np.abs(np.subtract(np.multiply(x, x), a)), 1e-12), np.less(i, 100)), ([x, i]: any) => [np.multiply(0.5, np.add(x, np.divide(a, x))), np.add(i, 1)], [a, np.array(0, { dtype: "int32" })])[0];
    expectClose(sqrt(f64(2)), f64(Math.SQRT2), 1e-12);
    // Forward mode works through while.
    const [, t] = jvp(sqrt, [f64(4)], [f64(1)]);
    expectClose(t, f64(0.25), 1e-9);
  });
  it("vmap with a batched predicate runs until every lane is done", () => {
    const countdown = (n: any) => lax.whileLoop(([k]: any) => np.greater(k, 0), ([k, s]: any) => [np.subtract(k, 1), np.add(s, k)], [n, np.array(0, { dtype: "int32" })]);
    const ns = np.array([3, 0, 5, 1], { dtype: "int32" });
    const [k, s] = vmap(countdown)(ns);
    expect(k.toArray()).toEqual([0, 0, 0, 0]);
    expect(s.toArray()).toEqual([6, 0, 15, 1]);
  });
  it("reverse mode of whileLoop raises the error JAX users know", () => {
    const f = (x: any) => lax.whileLoop((c: any) => np.less(c, 10), (c: any) => np.multiply(c, 2), x);
    expect(() => grad(f)(f64(1))).toThrow(TransformError);
    expect(() => grad(f)(f64(1))).toThrow(/reverse-mode differentiation does not work for lax.whileLoop[\s\S]*hint: use lax.scan, or lax.foriLoop/);
  });
  it("foriLoop with static bounds is reverse-differentiable", () => {
    const f = (x: any) => lax.foriLoop(0, 5, (i: any, v: any) => np.add(np.multiply(v, x), np.astype(i, "float64")), f64(1));
    // v5 = x^5 + 0 x^4 + 1 x^3 + 2 x^2 + 3 x + 4
    const x = 1.3;
    expectClose(f(f64(x)), f64(x ** 5 + x ** 3 + 2 * x ** 2 + 3 * x + 4), 1e-12);
    expectClose(grad(f)(f64(x)), f64(5 * x ** 4 + 3 * x ** 2 + 4 * x + 3), 1e-12);
    const g = (x: any) => lax.foriLoop(np.array(0, { dtype: "int32" }), np.array(3, { dtype: "int32" }), (_i: any, v: any) => np.multiply(v, x), f64(1));
    expectClose(g(f64(2)), f64(8), 0);
  });
  it("lax.map", () => {
    expectClose(lax.map((x: any) => np.sum(x), f64([[1, 2], [3, 4]])), f64([3, 7]), 0);
  });
});

describe("control flow properties", () => {
  const branchT = (x: any, y: any) => np.multiply(np.sin(x), y);
  const branchF = (x: any, y: any) => np.subtract(np.square(x), y);
  it("cond equals the chosen branch, in values and gradients", () => {
    fc.assert(
      fc.property(fc.double({ min: -2, max: 2, noNaN: true }), fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 3, maxLength: 3 }), (p, v) => {
        const x = f64(v);
        const y = f64([0.5, -1, 2]);
        const viaCond = (x: any) => np.sum(lax.cond(np.greater(np.sum(x), p), branchT, branchF, x, y));
        const chosen = v.reduce((a, b) => a + b, 0) > p ? branchT : branchF;
        const direct = (x: any) => np.sum(chosen(x, y));
        expectClose(viaCond(x), direct(x), 0);
        expectClose(grad(viaCond)(x), grad(direct)(x), 1e-12);
      }),
      { numRuns: 30 },
    );
  });
  it("vmap of cond equals a loop over the batch", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 2, maxLength: 12 }), (v) => {
        const xs = np.reshape(f64(v.slice(0, v.length - (v.length % 2))), [-1, 2]);
        const f = (x: any) => lax.cond(np.greater(np.sum(x), 0), (x: any) => np.sin(x), (x: any) => np.multiply(x, 3), x);
        const out = vmap(f)(xs);
        for (let b = 0; b < xs.shape[0]!; b++) expectClose(np.take(out, np.array(b, { dtype: "int32" }), { axis: 0 }), f(np.take(xs, np.array(b, { dtype: "int32" }), { axis: 0 })), 0);
      }),
      { numRuns: 30 },
    );
  });
  it("vmap of whileLoop equals a loop over the batch", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.1, max: 50, noNaN: true }), { minLength: 1, maxLength: 8 }), (v) => {
        // Halve until below 1, counting the steps: lanes need different trip counts.
        const f = (x: any) => lax.whileLoop(([y]: any) => np.greaterEqual(y, 1), ([y, n]: any) => [np.multiply(y, 0.5), np.add(n, 1)], [x, np.array(0, { dtype: "int32" })]);
        const xs = f64(v);
        const [ys, ns] = vmap(f)(xs);
        v.forEach((x, b) => {
          const [y, n] = f(f64(x));
          expectClose(np.take(ys, np.array(b, { dtype: "int32" }), { axis: 0 }), y, 0);
          expect((np.take(ns, np.array(b, { dtype: "int32" }), { axis: 0 }) as NDArray).item()).toBe((n as NDArray).item());
        });
      }),
      { numRuns: 30 },
    );
  });
  it("a whileLoop carry whose type changes is an error naming both types", () => {
    expect(() => lax.whileLoop((c: any) => np.less(np.sum(c), 3), (c: any) => np.reshape(c, [2, 1]), np.zeros([2]))).toThrow(
      /lax.whileLoop: bodyFn: the carry goes in as \(f32\[2\],\) but comes out as \(f32\[2,1\],\)\n  at packages\/core\/test\/control.test.ts:\d+/,
    );
  });
});

describe("foriLoop errors", () => {
  it("name lax.foriLoop, not the scan underneath", () => {
    expect(() => lax.foriLoop(0, 3, (_i: any, c: any) => np.sum(c), np.zeros([2]))).toThrow(
      /^lax.foriLoop: body \(carry: \[i, value\]\): the carry goes in as \(i32\[\], f32\[2\]\) but comes out as \(i32\[\], f32\[\]\)/,
    );
  });
});
