/**
 * `hasAux` on vjp, jvp, linearize, jacfwd, jacrev and hessian, with JAX's return shapes:
 * vjp -> [out, vjpFn, aux], jvp -> [out, tangentOut, aux], linearize -> [out, fLin, aux],
 * jac*(f, { hasAux })(x) -> [jac, aux]. The derivative is the one of `out` alone (aux is not
 * differentiated even where it depends on the inputs), and aux is its value at the primals.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrayBase, TransformError, hessian, jacfwd, jacrev, jit, jvp, linearize, np, vjp, vmap } from "@cotangent/core";
import { expectClose } from "./harness.js";

const f64 = (x: any) => np.array(x, { dtype: "float64" });
const vec = fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 1, maxLength: 4 });

// out depends on x and w; aux depends on x too (and holds a number and a nested pytree).
const out = (x: ArrayBase, w: ArrayBase) => np.multiply(np.sin(x), np.sum(np.multiply(w, x)));
const auxOf = (x: ArrayBase, w: ArrayBase) => ({ norm: np.sum(np.square(x)), pair: [np.tanh(w), 3] });
const withAux = (x: ArrayBase, w: ArrayBase): [ArrayBase, unknown] => [out(x, w), auxOf(x, w)];
const expectAux = (got: any, x: ArrayBase, w: ArrayBase) => {
  const want = auxOf(x, w) as any;
  expectClose(got.norm, want.norm, 1e-12);
  expectClose(got.pair[0], want.pair[0], 1e-12);
  expect(np.asArray(got.pair[1]).item()).toBe(3);
};

describe("hasAux", () => {
  it("vjp returns [out, vjpFn, aux]; vjpFn is the vjp of out alone", () => {
    fc.assert(
      fc.property(vec, (xs) => {
        const x = f64(xs);
        const w = f64(xs.map((v) => v * 0.5 + 1));
        const [o, fn, aux] = vjp(withAux, x, w, { hasAux: true });
        const [o2, fn2] = vjp(out, x, w);
        expectClose(o, o2, 1e-12);
        const ct = f64(xs.map((_, i) => i + 1));
        const [gx, gw] = fn(ct);
        const [gx2, gw2] = fn2(ct);
        expectClose(gx, gx2, 1e-12);
        expectClose(gw, gw2, 1e-12);
        expectAux(aux, x, w);
      }),
      { numRuns: 15 },
    );
  });

  it("jvp returns [out, tangentOut, aux]; linearize returns [out, fLin, aux]", () => {
    fc.assert(
      fc.property(vec, (xs) => {
        const x = f64(xs);
        const w = f64(xs.map((v) => 1 - v));
        const t = [f64(xs.map((_, i) => (i % 2 ? 1 : -0.5))), f64(xs.map(() => 0.25))];
        const [o, tout, aux] = jvp(withAux, [x, w], t, { hasAux: true });
        const [o2, tout2] = jvp(out, [x, w], t);
        expectClose(o, o2, 1e-12);
        expectClose(tout, tout2, 1e-12);
        expectAux(aux, x, w);
        const [o3, fLin, aux3] = linearize(withAux, x, w, { hasAux: true });
        expectClose(o3, o2, 1e-12);
        expectClose(fLin(...t), tout2, 1e-12);
        expectAux(aux3, x, w);
      }),
      { numRuns: 15 },
    );
  });

  it("jacfwd, jacrev and hessian return [jac, aux], the Jacobian of out alone", () => {
    fc.assert(
      fc.property(vec, (xs) => {
        const x = f64(xs);
        const w = f64(xs.map((v) => v + 2));
        for (const jac of [jacfwd, jacrev]) {
          const [j, aux] = jac(withAux, { hasAux: true })(x, w);
          expectClose(j, jacrev(out)(x, w), 1e-12);
          expectAux(aux, x, w);
          const [j01, aux01] = jac(withAux, { hasAux: true, argnums: [0, 1] })(x, w);
          expectClose(j01[1], jacfwd(out, { argnums: 1 })(x, w), 1e-12);
          expectAux(aux01, x, w);
        }
        const scalarOut = (a: ArrayBase, b: ArrayBase): [ArrayBase, unknown] => [np.sum(out(a, b)), auxOf(a, b)];
        const [h, aux] = hessian(scalarOut, { hasAux: true })(x, w);
        expectClose(h, hessian((a: ArrayBase, b: ArrayBase) => np.sum(out(a, b)))(x, w), 1e-10);
        expectAux(aux, x, w);
      }),
      { numRuns: 8 },
    );
  });

  it("composes with vmap and jit (per-example Jacobians with their aux)", () => {
    const xs = f64([[0.1, 0.2], [0.3, -0.4], [1, 2]]);
    const w = f64([0.5, -1]);
    const per = vmap((x: ArrayBase) => jacrev(withAux, { hasAux: true })(x, w))(xs) as [ArrayBase, any];
    const jitted = jit((x: ArrayBase) => jacfwd(withAux, { hasAux: true })(x, w));
    for (let i = 0; i < 3; i++) {
      const x = np.take(xs, i, { axis: 0 });
      const [j, aux] = jitted(x) as [ArrayBase, any];
      expectClose(np.take(per[0], i, { axis: 0 }), j, 1e-12);
      expectClose(np.take(per[1].norm, i, { axis: 0 }), aux.norm, 1e-12);
    }
  });

  it("a function that does not return a pair is a TransformError naming the transform", () => {
    const x = f64([1, 2]);
    const bad = (v: ArrayBase) => np.sin(v);
    expect(() => vjp(bad, x, { hasAux: true })).toThrow(TransformError);
    expect(() => vjp(bad, x, { hasAux: true })).toThrow(/^vjp: with hasAux: true the function must return a pair/);
    expect(() => jvp(bad, [x], [x], { hasAux: true })).toThrow(/^jvp: with hasAux/);
    expect(() => linearize(bad, x, { hasAux: true })).toThrow(/^linearize: with hasAux/);
    expect(() => jacrev(bad, { hasAux: true })(x)).toThrow(/with hasAux/);
    expect(() => jacfwd(bad, { hasAux: true })(x)).toThrow(/with hasAux/);
    // The cotangent must match out, not the pair.
    const [, fn] = vjp(withAux, x, x, { hasAux: true });
    expect(() => fn([x, x])).toThrow(/cotangent/);
    expect(() => jvp(bad, [x], [x], { hasAux: 1 } as any)).toThrow(/options must be \{ hasAux\?: boolean \}/);
  });
});
