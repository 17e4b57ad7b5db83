/** `closureConvert`: custom rules over closures (jax.closure_convert). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrayBase, TransformError, ValueError, closureConvert, customVjp, grad, jit, np, vjp, vmap } from "@cotangent/core";
import { expectClose } from "./harness.js";

const f64 = (x: any) => np.array(x, { dtype: "float64" });

/** A function with a custom vjp whose body closes over `w`: converted, w's cotangent comes from the rule. */
const withCustomRule = (w: ArrayBase, x: ArrayBase) => {
  const body = (v: ArrayBase) => np.multiply(np.sin(v), w);
  const [converted, consts] = closureConvert(body, x);
  const g = customVjp(converted);
  g.defVjp(
    (...a: ArrayBase[]) => [converted(...a), a],
    // The rule differentiates the converted function itself: cotangents for x and for every constant.
    (a: ArrayBase[], ct: ArrayBase) => vjp(converted, ...a)[1](ct),
  );
  return np.sum(g(x, ...consts));
};
const plain = (w: ArrayBase, x: ArrayBase) => np.sum(np.multiply(np.sin(x), w));

describe("closureConvert", () => {
  it("makes closed-over arrays explicit: same values, and the constants are what it closes over", () => {
    const w = f64([2, 3]);
    const [fc1, consts] = closureConvert((v: ArrayBase) => np.multiply(v, w), f64([1, 1]));
    expect(consts).toHaveLength(1);
    expectClose(consts[0], w, 0);
    expectClose(fc1(f64([4, 5]), ...consts), f64([8, 15]), 0);
    // Another value for the constant is used: it is an argument now.
    expectClose(fc1(f64([4, 5]), f64([1, -1])), f64([4, -5]), 0);
  });

  it("a customVjp over a converted closure gets the gradient of the closed-over (traced) value right", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 2, maxLength: 2 }), ([a, b]) => {
        const w = f64([a!, b!]);
        const x = f64([b!, 0.5]);
        const [gw, gx] = grad(withCustomRule, { argnums: [0, 1] })(w, x);
        const [pw, px] = grad(plain, { argnums: [0, 1] })(w, x);
        expectClose(gw, pw, 1e-12);
        expectClose(gx, px, 1e-12);
      }),
      { numRuns: 10 },
    );
    // Under vmap and jit too.
    const ws = f64([[1, 2], [3, 4]]);
    const x = f64([0.3, 0.6]);
    expectClose(vmap((w: ArrayBase) => grad(withCustomRule)(w, x))(ws), vmap((w: ArrayBase) => grad(plain)(w, x))(ws), 1e-12);
    expectClose(jit(grad(withCustomRule))(f64([1, 2]), x), grad(plain)(f64([1, 2]), x), 1e-12);
  });

  it("without conversion the custom rule refuses the closed-over derivative (the problem it solves)", () => {
    const bad = (w: ArrayBase, x: ArrayBase) => {
      const g = customVjp((v: ArrayBase) => np.multiply(np.sin(v), w));
      g.defVjp((v: ArrayBase) => [np.multiply(np.sin(v), w), v], (v: ArrayBase, ct: ArrayBase) => [np.multiply(np.multiply(np.cos(v), w), ct)]);
      return np.sum(g(x));
    };
    expect(() => grad(bad)(f64([1, 2]), f64([0.1, 0.2]))).toThrow(TransformError);
  });

  it("wrong calls of the converted function are ValueErrors naming closureConvert", () => {
    const w = f64([2, 3]);
    const [fc1] = closureConvert((v: ArrayBase) => np.multiply(v, w), f64([1, 1]));
    expect(() => fc1(f64([1, 1]))).toThrow(/^closureConvert: the converted function takes 1 argument and then the 1 closed-over constant/);
    expect(() => fc1(f64([1, 1, 1]), w)).toThrow(ValueError);
    expect(() => fc1(f64([1, 1]), f64([1]))).toThrow(/constant 0 is/);
  });
});
