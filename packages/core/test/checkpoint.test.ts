import { describe, expect, it } from "vitest";
import { checkpoint, checkpointName, checkpointPolicies, grad, lax, linearizeJaxpr, makeJaxpr, memoryProfile, np, savedResiduals, typecheck, vmap, type NDArray } from "@cotangent/core";
import { checkGrad, expectClose } from "./harness.js";

const block = (x: any) => np.sin(np.multiply(np.cos(x), np.exp(np.multiply(x, 0.1))));

describe("checkpoint", () => {
  it("has the values and gradients of f", () => {
    const x = np.array([0.3, -1.2, 2.0], { dtype: "float64" }) as NDArray;
    const f = (x: any) => np.sum(block(block(x)));
    const fc = (x: any) => np.sum(checkpoint(block)(checkpoint(block)(x)));
    expectClose(fc(x), f(x), 1e-12);
    expectClose(grad(fc)(x), grad(f)(x), 1e-12);
    checkGrad(fc, [x]);
    expectClose(grad(grad((x: any) => fc(x)))(np.array(0.4, { dtype: "float64" })), grad(grad(f))(np.array(0.4, { dtype: "float64" })), 1e-10);
  });
  it("recomputes instead of saving", () => {
    const x = np.array([0.3, -1.2, 2.0], { dtype: "float64" });
    const f = (x: any) => np.sum(block(block(x)));
    const fc = (x: any) => np.sum(checkpoint(block)(checkpoint(block)(x)));
    const plain = savedResiduals(f, x);
    const ck = savedResiduals(fc, x);
    expect(plain.length).toBeGreaterThan(ck.length);
    // Only the block inputs: x itself and the first block's output.
    expect(ck.length).toBe(2);
    expect(ck.some((r) => r.origin.startsWith("argument"))).toBe(true);
    typecheck(makeJaxpr(grad(fc))(x));
  });
  it("policies: names", () => {
    const x = np.array([0.3, -1.2, 2.0], { dtype: "float64" });
    const g = (x: any) => np.sin(checkpointName(np.cos(x), "c"));
    const fc = (x: any) => np.sum(checkpoint(g, { policy: checkpointPolicies.saveOnlyTheseNames("c") })(x));
    const res = savedResiduals(fc, x);
    expect(res.some((r) => r.origin === "name")).toBe(true);
    expectClose(grad(fc)(x), grad((x: any) => np.sum(g(x)))(x), 1e-12);
  });
  it("works under vmap of grad", () => {
    const xs = np.array([[0.3, -1.2], [2.0, 0.5]], { dtype: "float64" });
    const fc = (x: any) => np.sum(checkpoint(block)(x));
    const f = (x: any) => np.sum(block(x));
    expectClose(vmap(grad(fc))(xs), vmap(grad(f))(xs), 1e-12);
    expectClose(grad((xs: any) => np.sum(vmap(fc)(xs)))(xs), vmap(grad(f))(xs), 1e-12);
  });
  it("lowers peak memory on a chain", () => {
    const x = np.ones([1000], { dtype: "float64" });
    const chain = (c: boolean) => (x: any) => {
      for (let i = 0; i < 8; i++) x = c ? checkpoint(block)(x) : block(x);
      return np.sum(x);
    };
    const p0 = memoryProfile(() => grad(chain(false))(x)).peakBytes;
    const p1 = memoryProfile(() => grad(chain(true))(x)).peakBytes;
    expect(p1).toBeLessThan(p0 * 0.6);
  });
  it("differentiates functions containing scan, cond and nested checkpoints", () => {
    const x = np.array([0.5, 1.0, 1.5], { dtype: "float64" }) as NDArray;
    const step = (c: any, xi: any): [any, any] => [lax.cond(np.greater(xi, 0.7), (a: any) => np.sin(a), (a: any) => np.multiply(a, xi), c), np.multiply(c, xi)];
    const f = (x: any) => np.sum(lax.scan(step, np.sum(x), x)[1]);
    const g = (x: any) => lax.cond(np.greater(np.sum(x), 0), (a: any) => np.sum(np.sin(a)), (a: any) => np.sum(a), x);
    for (const h of [f, g, (x: any) => f(np.cos(x))]) {
      const hc = checkpoint(h);
      expectClose(grad(hc)(x), grad(h)(x), 1e-12);
      checkGrad(hc, [x]);
      expectClose(grad(checkpoint((x: any) => hc(np.sin(x))))(x), grad((x: any) => h(np.sin(x)))(x), 1e-12);
      expectClose(vmap(grad(hc))(np.stack([x, np.negative(x)])), vmap(grad(h))(np.stack([x, np.negative(x)])), 1e-12);
      // Nothing inside is saved: only the checkpoint's input is kept for the backward pass.
      expect(savedResiduals(hc, x).length).toBe(1);
      typecheck(makeJaxpr(grad(hc))(x));
    }
  });
});

describe("checkpoint policies", () => {
  const w = np.array([[0.5, -0.2], [0.1, 0.3]], { dtype: "float64" });
  const body = (x: any) => np.sin(np.matmul(np.tanh(np.matmul(x, w)), w));
  const x = np.array([[0.3, -1.2], [2.0, 0.1]], { dtype: "float64" });
  const f = (policy?: any) => (x: any) => np.sum(checkpoint(body, policy ? { policy } : {})(x));
  it("a user policy decides per primitive", () => {
    const saveTanh = (p: any) => p.name === "tanh";
    const res = savedResiduals(f(saveTanh), x);
    expect(res.some((r) => r.origin === "tanh")).toBe(true);
    expect(res.some((r) => r.origin === "dot_general")).toBe(false);
    expectClose(grad(f(saveTanh))(x), grad(f())(x), 1e-12);
  });
  it("dotsWithNoBatchDimsSaveable keeps unbatched matmuls only", () => {
    const res = savedResiduals(f(checkpointPolicies.dotsWithNoBatchDimsSaveable), x);
    expect(res.filter((r) => r.origin === "dot_general").length).toBe(2);
    const batched = (xs: any) => np.sum(checkpoint((a: any) => np.sin(np.matmul(a, a)), { policy: checkpointPolicies.dotsWithNoBatchDimsSaveable })(xs));
    const xs = np.ones([3, 2, 2], { dtype: "float64" });
    expect(savedResiduals(batched, xs).some((r) => r.origin === "dot_general")).toBe(false);
    expect(savedResiduals((xs: any) => np.sum(checkpoint((a: any) => np.sin(np.matmul(a, a)), { policy: checkpointPolicies.dotsSaveable })(xs)), xs).some((r) => r.origin === "dot_general")).toBe(true);
  });
  it("residuals name the source line that produced them", () => {
    const res = savedResiduals(f(checkpointPolicies.dotsSaveable), x);
    const dots = res.filter((r) => r.origin === "dot_general");
    expect(dots.length).toBe(2);
    for (const r of dots) expect(r.source).toMatch(/^packages\/core\/test\/checkpoint.test.ts:\d+$/);
  });
});

describe("checkpoint policies inside control flow", () => {
  const W = np.array([[0.5, -0.2], [0.1, 0.3]], { dtype: "float64" });
  const xs = np.array([[0.1, 0.2], [0.3, -0.1], [0.0, 0.5], [0.2, 0.2]], { dtype: "float64" });
  const body = (c: any, xi: any) => [np.tanh(checkpointName(np.add(np.matmul(c, W), xi), "pre")), null] as [any, null];
  const loss = (c0: any) => np.sum(lax.scan(body, c0, xs)[0]);
  const c0 = np.array([0.3, -0.4], { dtype: "float64" });
  it("reach into a scan: saveOnlyTheseNames keeps the named value of every step", () => {
    const ck = (policy: any) => (c0: any) => checkpoint(loss, { policy })(c0);
    const named = savedResiduals(ck(checkpointPolicies.saveOnlyTheseNames("pre")), c0);
    expect(named.some((r) => r.shape.join() === "4,2" && r.origin === "name")).toBe(true);
    const nothing = savedResiduals(ck(checkpointPolicies.nothingSaveable), c0);
    expect(nothing.some((r) => r.origin === "name")).toBe(false);
    for (const p of [checkpointPolicies.saveOnlyTheseNames("pre"), checkpointPolicies.nothingSaveable, checkpointPolicies.everythingSaveable, checkpointPolicies.dotsSaveable]) {
      expectClose(grad(ck(p))(c0), grad(loss)(c0), 1e-12);
      typecheck(makeJaxpr(grad(ck(p)))(c0));
    }
  });
  it("list residuals in program order, inputs by their argument names and paths", () => {
    const f64 = (shape: number[], s: number) => np.multiply(np.ones(shape, "float64"), s);
    function loss(params: { w1: any; w2: any }, x: any) {
      const h = np.tanh(np.matmul(x, params.w1));
      const o = np.sin(np.matmul(h, params.w2));
      return np.sum(np.multiply(o, o));
    }
    const params = { w2: f64([4, 2], 0.3), w1: f64([3, 4], 0.2) };
    const rs = savedResiduals(loss, params, f64([2, 3], 0.5));
    expect(rs.filter((r) => r.argument !== null).map((r) => r.origin)).toEqual(["argument params.w1", "argument params.w2", "argument x"]);
    // Inputs first, then computed values in the order the program computes them.
    const firstComputed = rs.findIndex((r) => r.argument === null);
    expect(rs.slice(firstComputed).every((r) => r.argument === null)).toBe(true);
    const lines = rs.slice(firstComputed).map((r) => Number(/:(\d+)$/.exec(r.source ?? "")?.[1]));
    expect(lines.length).toBeGreaterThan(1);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    // Destructured, rest and unreadable parameters fall back to their position; arrow functions with one parameter keep its name.
    expect(savedResiduals(({ a }: any, ...rest: any[]) => np.sum(np.multiply(a, rest[0])), { a: f64([2], 1) }, f64([2], 2)).filter((r) => r.argument).map((r) => r.argument)).toEqual(["args[0].a", "args[1]"]);
    expect(savedResiduals((z: any) => np.sum(np.multiply(z, np.sin(z))), f64([2], 1)).map((r) => r.argument)).toContain("z");
  });
  it("reach into a cond", () => {
    const f = (x: any) => np.sum(lax.cond(np.greater(np.sum(x), 0), (x: any) => np.sin(checkpointName(np.exp(x), "e")), (x: any) => np.cos(x), x));
    const x = np.array([0.3, 0.4], { dtype: "float64" });
    const ck = checkpoint(f, { policy: checkpointPolicies.saveOnlyTheseNames("e") });
    // The named value is saved, through the cond that produced it; with nothingSaveable only the input is kept.
    expect(savedResiduals(ck, x).map((r) => r.origin)).toEqual(["argument args[0]", "cond"]);
    expect(savedResiduals(checkpoint(f), x).map((r) => r.origin)).toEqual(["argument args[0]"]);
    expectClose(grad(ck)(x), grad(f)(x), 1e-12);
  });
  it("a scan that yields both a saved dot and a recomputed carry binds each variable once (found by the transform fuzzer)", () => {
    // The known half of the scan outputs the stacked dot (saved by dotsSaveable) and the stacked
    // carry (recomputed): recomputing the scan must not rebind the saved variable.
    const V = np.array([0.8, -0.7], { dtype: "float64", shape: [2, 1] });
    const f = (x: any) =>
      checkpoint((p: any) => lax.scan((c: any, _x: any) => [np.tanh(np.add(c, np.mean(lax.dotGeneral(c, V, [[[0], [0]], [[], []]])))), np.multiply(c, 2)], p, p)[1], {
        policy: checkpointPolicies.dotsSaveable,
      })(x);
    const x = np.array([-0.56, 0.3], { dtype: "float64" }) as NDArray;
    const lin = linearizeJaxpr(makeJaxpr(f)(x));
    typecheck(lin.known);
    typecheck(lin.linear);
    checkGrad(f, [x]);
  });
});
