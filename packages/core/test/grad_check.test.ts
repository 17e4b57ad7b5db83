/** `gradCheck`, the `jax.test_util.check_grads` equivalent: passes on correct rules, names the wrong one. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrayBase, GradCheckError, ValueError, customJvp, customVjp, gradCheck, lax, np, stopGradient } from "@cotangent/core";

const f64 = (x: any) => np.array(x, { dtype: "float64" });
const caught = (f: () => void): GradCheckError => {
  try {
    f();
  } catch (e) {
    return e as GradCheckError;
  }
  throw new Error("expected a GradCheckError");
};

describe("gradCheck", () => {
  it("passes on smooth functions of pytrees, to order 2 (3 for one), both modes (float64, random points)", () => {
    const f = (p: { w: ArrayBase; b: ArrayBase }, x: ArrayBase) => ({ y: np.tanh(np.add(np.matmul(x, p.w), p.b)), s: np.sum(np.exp(np.multiply(x, 0.3))) });
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 6, maxLength: 6 }), (v) => {
        const p = { w: f64([[v[0], v[1]], [v[2], v[3]]]), b: f64([v[4], v[5]]) };
        gradCheck(f, [p, f64([[v[5], v[0]]])], { order: 2 });
        gradCheck(f, [p, f64([[0.5, -0.25]])], 1, ["rev"]);
      }),
      { numRuns: 3 },
    );
    gradCheck((x: ArrayBase) => np.sum(np.multiply(np.sin(x), x)), [f64([0.3, -1.2])], { order: 3 });
    // Through control flow, and in float32 with its default tolerances.
    gradCheck((x: ArrayBase) => lax.scan((c: ArrayBase, xi: ArrayBase) => [np.sin(np.multiply(c, xi)), c], x, np.ones([3]))[0], [np.array(0.7)], { order: 2 });
  });

  it("finds a wrong customJvp rule (fwd) and a wrong customVjp rule (rev) and names the check", () => {
    const badJvp = customJvp((x: ArrayBase) => np.sin(x));
    badJvp.defJvp(([x], [t]) => [np.sin(x), np.multiply(np.cos(x), np.multiply(t, 1.01))]);
    const x = [f64([0.3, -0.7])];
    const e = caught(() => gradCheck(badJvp, x, { modes: ["fwd"] }));
    expect(e).toBeInstanceOf(GradCheckError);
    expect(e.mode).toBe("fwd");
    expect(e.check).toBe("JVP");
    expect(e.message).toMatch(/^gradCheck: JVP does not match finite differences: the output at flat index \d is -?[\d.e-]+, the estimate is/);
    expect(Math.abs(e.actual - e.expected)).toBeCloseTo(e.maxError, 12);

    const badVjp = customVjp((x: ArrayBase) => np.exp(x));
    badVjp.defVjp(
      (x: ArrayBase) => [np.exp(x), np.exp(x)],
      (r: ArrayBase, g: ArrayBase) => [np.multiply(np.multiply(r, g), 2)],
    );
    const r = caught(() => gradCheck(badVjp, x, { modes: ["rev"] }));
    expect(r.mode).toBe("rev");
    expect(r.check).toBe("VJP");
    expect(r.message).toMatch(/the inner product <vjp\(u\), v>/);
  });

  it("a rule right at order 1 but wrong at order 2 fails only at order 2", () => {
    // The rule's tangent is right but built from a non-differentiable (stopped) cosine.
    const f = customJvp((x: ArrayBase) => np.sin(x));
    f.defJvp(([x], [t]) => [np.sin(x), np.multiply(stopGradient(np.cos(x)), t)]);
    const x = [f64([0.4, 1.1])];
    gradCheck(f, x, { order: 1 });
    const e = caught(() => gradCheck(f, x, { order: 2, modes: ["fwd"] }));
    expect(e.order).toBe(2);
    expect(e.check).toBe("JVP of JVP");
  });

  it("bad arguments are ValueErrors naming gradCheck", () => {
    const f = (x: ArrayBase) => np.sin(x);
    expect(() => gradCheck(f, f64([1]) as any)).toThrow(ValueError);
    expect(() => gradCheck(f, [f64([1])], { modes: ["sideways"] as any })).toThrow(/^gradCheck: modes must be/);
    expect(() => gradCheck(f, [f64([1])], { order: 0 })).toThrow(/^gradCheck: order must be at least 1/);
    expect(() => gradCheck(f, [f64([1])], { atoll: 1 } as any)).toThrow(/gradCheck/);
  });
});
