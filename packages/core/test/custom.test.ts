import { describe, expect, it } from "vitest";
import { TransformError, checkpoint, customJvp, customVjp, grad, jvp, makeJaxpr, np, typecheck, vjp, vmap } from "@cotangent/core";
import { expectClose } from "./harness.js";

const f64 = (x: any) => np.array(x, { dtype: "float64" });

describe("customJvp", () => {
  // log1p(exp(x)) overflows for large x; the rule uses the stable derivative sigmoid(x) = 1/(1+exp(-x)).
  const softplus = customJvp((x: any) => np.log(np.add(np.exp(x), 1)));
  softplus.defJvp(([x], [t]) => [softplus(x), np.multiply(t, np.divide(1, np.add(np.exp(np.negative(x)), 1)))]);

  it("uses the rule in forward and reverse mode", () => {
    const x = f64([0.5, -2, 1000]);
    const g = grad((x: any) => np.sum(softplus(x)))(x);
    expectClose(g, f64([1 / (1 + Math.exp(-0.5)), 1 / (1 + Math.exp(2)), 1]), 1e-12);
    const [, t] = jvp(softplus, [x], [f64([1, 1, 1])]);
    expectClose(t, g, 1e-12);
  });
  it("composes: second derivatives, vmap, grad of vmap", () => {
    const x = f64([0.5, -2]);
    const s = (x: number) => 1 / (1 + Math.exp(-x));
    const gg = vmap(grad(grad((x: any) => softplus(x))))(x);
    expectClose(gg, f64([s(0.5) * (1 - s(0.5)), s(-2) * (1 - s(-2))]), 1e-10);
    const gv = grad((x: any) => np.sum(vmap(softplus)(x)))(x);
    expectClose(gv, f64([s(0.5), s(-2)]), 1e-12);
    typecheck(makeJaxpr(grad((x: any) => np.sum(softplus(x))))(x));
  });
  it("errors clearly", () => {
    const h = customJvp((x: any) => np.sin(x));
    expect(() => h(f64(1))).toThrow(/customJvp: no jvp rule was defined/);
    h.defJvp(([x], [t]) => [h(x), np.reshape(t, [1])]);
    expect(() => grad(h)(f64(1))).toThrow(/jvp rule tangent 0 has shape \[1\]/);
  });
});

describe("customVjp", () => {
  // Gradient clipping in the backward pass: the classic custom_vjp example.
  const clipGrad = customVjp((x: any) => np.multiply(x, 1));
  clipGrad.defVjp(
    (x: any) => [np.multiply(x, 1), null],
    (_res: null, ct: any) => [np.multiply(ct, 0.5)],
  );
  const f = customVjp((x: any, y: any) => np.multiply(np.sin(x), y));
  f.defVjp(
    (x: any, y: any) => [np.multiply(np.sin(x), y), [np.cos(x), np.sin(x), y]],
    ([cx, sx, y]: any, ct: any) => [np.multiply(np.multiply(cx, y), ct), np.multiply(sx, ct)],
  );

  it("uses bwd in reverse mode", () => {
    expectClose(grad((x: any) => np.sum(clipGrad(x)))(f64([1, 2])), f64([0.5, 0.5]), 0);
    const x = f64([0.3, 1.1]);
    const y = f64([2, -1]);
    const [gx, gy] = grad((x: any, y: any) => np.sum(f(x, y)), { argnums: [0, 1] })(x, y);
    expectClose(gx, np.multiply(np.cos(x), y), 1e-12);
    expectClose(gy, np.sin(x), 1e-12);
  });
  it("works under vmap, in both orders", () => {
    const xs = f64([[0.3, 1.1], [0.2, -0.4]]);
    const y = f64([2, -1]);
    const per = vmap(grad((x: any) => np.sum(f(x, y))))(xs);
    expectClose(per, np.multiply(np.cos(xs), y), 1e-12);
    const gv = grad((xs: any) => np.sum(vmap((x: any) => f(x, y))(xs)))(xs);
    expectClose(gv, np.multiply(np.cos(xs), y), 1e-12);
    const gy = grad((y: any) => np.sum(vmap((x: any) => f(x, y))(xs)))(y);
    expectClose(gy, np.sum(np.sin(xs), { axis: 0 }), 1e-12);
  });
  it("refuses forward mode with a clear error", () => {
    expect(() => jvp((x: any) => f(x, f64(1)), [f64(0.5)], [f64(1)])).toThrow(TransformError);
    expect(() => jvp((x: any) => f(x, f64(1)), [f64(0.5)], [f64(1)])).toThrow(/forward-mode differentiation .* customVjp function is not supported/);
  });
  it("checks bwd's output", () => {
    const h = customVjp((x: any) => np.sin(x));
    h.defVjp((x: any) => [np.sin(x), x], (_r: any, ct: any) => [ct, ct]);
    expect(() => vjp(h, f64(1))[1](f64(1))).toThrow(/bwd must return a tuple with one cotangent per argument \(1\), got 2/);
  });
  it("null in bwd's output is a zero cotangent for a whole argument or subtree", () => {
    const scale = customVjp((x: any, n: any) => np.multiply(x, np.astype(n, "float64")));
    scale.defVjp((x: any, n: any) => [scale(x, n), n], (n: any, ct: any) => [np.multiply(ct, np.astype(n, "float64")), null]);
    const n = np.array([2, 3], { dtype: "int32" });
    expectClose(grad((x: any) => np.sum(scale(x, n)))(f64([1, 1])), f64([2, 3]), 0);
    expectClose(vmap(grad((x: any, n: any) => np.sum(scale(x, n))))(f64([[1, 1]]), np.array([[2, 3]], { dtype: "int32" })), f64([[2, 3]]), 0);
    const prod = customVjp((p: any) => np.multiply(p.a, p.b));
    prod.defVjp((p: any) => [prod(p), p], (p: any, ct: any) => [{ a: np.multiply(ct, p.b), b: undefined }]);
    const g = grad((p: any) => np.sum(prod(p)))({ a: f64([1, 1]), b: f64([2, 3]) });
    expectClose(g, { a: f64([2, 3]), b: f64([0, 0]) }, 0);
    // A leaf where the argument has a subtree is still a structure error.
    prod.defVjp((p: any) => [prod(p), p], (_p: any, ct: any) => [ct]);
    expect(() => grad((p: any) => np.sum(prod(p)))({ a: f64([1, 1]), b: f64([2, 3]) })).toThrow(/bwd returned cotangents of structure \[\*\] but the arguments have \[\{a: \*, b: \*\}\]/);
  });
});

describe("custom_lin under batching", () => {
  it("the linear part of a customVjp function batches, then transposes to a vmapped bwd", async () => {
    const { linearizeJaxpr, batchJaxpr, transposeJaxpr, evalJaxpr, makeJaxpr, typecheck: tc } = await import("@cotangent/core");
    const f = customVjp((x: any) => np.sin(x));
    f.defVjp((x: any) => [np.sin(x), np.cos(x)], (c: any, ct: any) => [np.multiply(np.multiply(c, ct), 2)]);
    const x = f64([0.3, 1.2]);
    const lin = linearizeJaxpr(makeJaxpr(f)(x));
    const [res] = evalJaxpr(lin.known, [x]).slice(1);
    // Batch the linear jaxpr over a batch of 3 tangents (residuals unbatched), then transpose it.
    const batched = batchJaxpr(lin.linear, [null, 0], 3, [0]);
    tc(batched);
    const back = transposeJaxpr(batched, [false, true]);
    tc(back);
    const cts = f64([[1, 0], [0, 1], [1, 1]]);
    const [g] = evalJaxpr(back, [res!, cts]);
    expectClose(g, np.multiply(np.multiply(np.cos(x), cts), 2), 1e-12);
    expect(() => jvp(f, [x], [x])).toThrow(/customVjp: forward-mode differentiation/);
  });
  it("takes an input whose tangent a rule instantiated as zeros (found by the transform fuzzer)", () => {
    // checkpoint's jvp gives an output that ignores its input a tangent of known zeros; in
    // linearize the customVjp's linear part then sees only known values and must give zeros.
    const f = customVjp((x: any) => np.sin(x));
    f.defVjp((x: any) => [np.sin(x), x], (x: any, ct: any) => [np.multiply(ct, np.cos(x))]);
    const K = f64([1, 2]);
    const x = f64([0.3, -0.4]);
    const viaCheckpoint = (a: any) => np.sum(np.add(f(checkpoint((_b: any) => K)(a)), a));
    expectClose(grad(viaCheckpoint)(x), f64([1, 1]), 0);
    const cj = customJvp((_b: any) => K);
    cj.defJvp(([b]: any, _t: any) => [cj(b), np.zerosLike(K)]);
    expectClose(grad((a: any) => np.sum(np.add(f(cj(a)), a)))(x), f64([1, 1]), 0);
    // Forward mode with a nonzero tangent is still refused.
    expect(() => jvp((a: any) => f(checkpoint((b: any) => np.sin(b))(a)), [x], [x])).toThrow(/customVjp: forward-mode differentiation/);
  });
});
