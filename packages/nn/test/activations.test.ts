/**
 * Activations against reference loops in float64 (mathematical definitions evaluated with
 * Math), at extreme inputs, with their gradients (finite differences and known values at
 * kinks), vmap, and oneHot.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, AxisError, type NDArray, grad, makeJaxpr, np, typecheck, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { arbShapedArray, checkGrad, checkVmap, expectClose } from "../../core/test/harness.js";

const flat = (x: ArrayBase) => Array.from(x.toTypedArray() as Float64Array);
const ofFlat = (vals: number[], like: ArrayBase) => np.array(Float64Array.from(vals), { dtype: like.dtype as "float64", shape: like.shape });

// Reference definitions, one element at a time, in float64.
/** erfc in float64: the Taylor series of erf below 2 (little cancellation there), a continued fraction above. */
const erfc = (z: number): number => {
  if (z < 0) return 2 - erfc(-z);
  if (z < 2) {
    let sum = 0;
    let term = z;
    for (let n = 0; n < 100; n++) {
      sum += term / (2 * n + 1);
      term *= (-z * z) / (n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = exp(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), evaluated from the tail.
  let k = z;
  for (let n = 120; n >= 1; n--) k = z + n / 2 / k;
  return Math.exp(-z * z) / (Math.sqrt(Math.PI) * k);
};
const refs: Record<string, (x: number) => number> = {
  relu: (x) => (x > 0 ? x : 0),
  leakyRelu: (x) => (x >= 0 ? x : 0.01 * x),
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  geluTanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  geluExact: (x) => 0.5 * x * erfc(-x / Math.SQRT2),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  silu: (x) => x / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  softplus: (x) => Math.log1p(Math.exp(x)),
};
const fns: Record<string, (x: ArrayBase) => ArrayBase> = {
  relu: nn.relu,
  leakyRelu: (x) => nn.leakyRelu(x),
  elu: (x) => nn.elu(x),
  geluTanh: (x) => nn.gelu(x),
  geluExact: (x) => nn.gelu(x, { approximate: false }),
  sigmoid: nn.sigmoid,
  silu: nn.silu,
  tanh: nn.tanh,
  softplus: nn.softplus,
};

describe("elementwise activations", () => {
  it.each(Object.keys(fns))("%s matches its definition (float64 and float32)", (name) => {
    fc.assert(
      fc.property(arbShapedArray(3, 4, -8, 8), (x) => {
        const want = flat(x).map(refs[name]!);
        expectClose(fns[name]!(x), ofFlat(want, x), 1e-12);
        const x32 = np.astype(x, "float32");
        const y32 = fns[name]!(x32);
        expect(y32.dtype).toBe("float32");
        expectClose(y32, ofFlat(want, x), 2e-6);
      }),
      { numRuns: 20 },
    );
  });

  it.each(Object.keys(fns))("%s has the derivative of its definition", (name) => {
    fc.assert(
      // Away from the kinks at 0, where finite differences are not defined.
      fc.property(arbShapedArray(2, 4, 0.1, 3), fc.boolean(), (x, negate) => {
        checkGrad(fns[name]!, [(negate ? np.negative(x) : x) as NDArray], { tol: 1e-6 });
      }),
      { numRuns: 10 },
    );
  });

  it.each(Object.keys(fns))("%s batches under vmap, also its gradient", (name) => {
    const xs = np.array([[-2, -0.5, 0, 0.5], [1, 2, -3, 4], [0.25, -1, 3, -4]], { dtype: "float64" }) as NDArray;
    checkVmap(fns[name]!, [xs], 1e-15);
    checkVmap(grad((x: ArrayBase) => np.sum(fns[name]!(x))), [xs], 1e-15);
  });

  it("derivatives at the kinks are JAX's", () => {
    const d = (f: (x: ArrayBase) => ArrayBase, at: number) => grad((x: ArrayBase) => np.sum(f(x)))(np.array(at, { dtype: "float64" })).item();
    expect(d(nn.relu, 0)).toBe(0);
    expect(d(nn.relu, 1e-300)).toBe(1);
    expect(d((x) => nn.leakyRelu(x, 0.2), 0)).toBe(1);
    expect(d((x) => nn.leakyRelu(x, 0.2), -1)).toBeCloseTo(0.2, 15);
    expect(d(nn.elu, 0)).toBe(1);
    expect(d(nn.softplus, 0)).toBe(0.5);
  });

  it("stays finite at extreme inputs, values and gradients", () => {
    const x = np.array([-1e4, -800, -40, 0, 40, 800, 1e4], { dtype: "float64" });
    expect(nn.softplus(x).toArray()).toEqual([0, 0, Math.log1p(Math.exp(-40)), Math.LN2, 40 + Math.log1p(Math.exp(-40)), 800, 1e4]);
    expect(nn.softplus(np.astype(x, "float32")).toArray().every(Number.isFinite)).toBe(true);
    expect(nn.sigmoid(x).toArray()).toEqual([0, 0, 1 / (1 + Math.exp(40)), 0.5, 1 / (1 + Math.exp(-40)), 1, 1]);
    for (const f of [nn.softplus, nn.elu, nn.silu, nn.sigmoid, (z: ArrayBase) => nn.gelu(z), (z: ArrayBase) => nn.gelu(z, { approximate: false })]) {
      const y = f(x);
      expect(y.toArray().every((v: number) => !Number.isNaN(v))).toBe(true);
      const g = grad((z: ArrayBase) => np.sum(f(z)))(x);
      expect(g.toArray().every(Number.isFinite), String(g)).toBe(true);
    }
  });

  it("propagates NaN", () => {
    for (const f of Object.values(fns)) expect(Number.isNaN(f(np.array([NaN])).item())).toBe(true);
  });

  it("gelu's tanh approximation stays within 1e-3 of the exact form", () => {
    const x = np.linspace(-6, 6, 241, { dtype: "float64" });
    expect(np.max(np.abs(np.subtract(nn.gelu(x), nn.gelu(x, { approximate: false })))).item()).toBeLessThan(1e-3);
  });

  it("accepts integers as float32, like np", () => {
    expect(nn.relu(np.array([-2, 3], { dtype: "int32" })).dtype).toBe("float32");
    expect(nn.softplus(0).item()).toBeCloseTo(Math.LN2, 6);
  });
});

// ---------------------------------------------------------------- softmax family

const refLogSoftmax = (row: number[]): number[] => {
  const m = Math.max(...row);
  const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
  return row.map((v) => v - m - Math.log(s));
};
/** Applies `f` to every 1-D slice along the last axis of nested arrays. */
const alongLast = (x: any, f: (row: number[]) => number[]): any => (Array.isArray(x[0]) ? x.map((r: any) => alongLast(r, f)) : f(x));

describe("softmax, logSoftmax, logsumexp", () => {
  const arbMatrix = fc
    .tuple(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 200 }))
    .chain(([shape, scale]) => arbShapedArray(0, 0).map(() => shape).chain((s) => fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: s.reduce((a, b) => a * b, 1), maxLength: s.reduce((a, b) => a * b, 1) }).map((v) => np.array(Float64Array.from(v, (e) => e * scale), { dtype: "float64", shape: s }) as NDArray)));

  it("match the reference over the last axis, even for logits in the hundreds", () => {
    fc.assert(
      fc.property(arbMatrix, (x) => {
        const ls = alongLast(x.toArray(), refLogSoftmax);
        expectClose(nn.logSoftmax(x), np.array(ls, { dtype: "float64" }), 1e-12);
        expectClose(nn.softmax(x), np.exp(np.array(ls, { dtype: "float64" })), 1e-12);
        expectClose(np.sum(nn.softmax(x), { axis: -1 }), np.ones(x.shape.slice(0, -1), { dtype: "float64" }), 1e-12);
        expectClose(nn.logsumexp(x, { axis: -1 }), np.array(alongLast(x.toArray(), (r) => [Math.max(...r) + Math.log(r.reduce((a, v) => a + Math.exp(v - Math.max(...r)), 0))]), { dtype: "float64" }).reshape(x.shape.slice(0, -1)), 1e-12);
      }),
      { numRuns: 30 },
    );
  });

  it("normalize over another axis, or several", () => {
    const x = np.array([[1, 2, 3], [4, 5, 7]], { dtype: "float64" });
    expectClose(nn.softmax(x, { axis: 0 }), np.transpose(nn.softmax(np.transpose(x))), 1e-15);
    expectClose(np.sum(nn.softmax(x, { axis: [0, 1] })), np.array(1, { dtype: "float64" }), 1e-15);
  });

  it("handle -inf logits (masked entries) without NaN", () => {
    const x = np.array([[-Infinity, 0, 1], [2, -Infinity, -Infinity]], { dtype: "float64" });
    const p = nn.softmax(x).toArray();
    expect(p[0][0]).toBe(0);
    expect(p[1]).toEqual([1, 0, 0]);
    expect(nn.logSoftmax(x).toArray()[1]).toEqual([0, -Infinity, -Infinity]);
    const g = grad((z: ArrayBase) => np.sum(np.multiply(nn.softmax(z), np.array([[1, 2, 3], [4, 5, 6]], { dtype: "float64" }))))(x);
    expect(g.toArray().flat().every(Number.isFinite)).toBe(true);
  });

  it("have the right gradients and batch", () => {
    fc.assert(
      fc.property(arbShapedArray(2, 3, -3, 3).filter((x) => x.ndim > 0 && x.size > 0), (x) => {
        checkGrad(nn.softmax, [x], { tol: 1e-6 });
        checkGrad(nn.logSoftmax, [x], { tol: 1e-6 });
      }),
      { numRuns: 10 },
    );
    const xs = np.array([[[1, 2], [3, 0]], [[-1, 5], [2, 2]]], { dtype: "float64" }) as NDArray;
    checkVmap(nn.softmax, [xs], 1e-15);
    checkVmap(nn.logSoftmax, [xs], 1e-15);
    typecheck(makeJaxpr(nn.logSoftmax)(xs));
  });
});

describe("oneHot", () => {
  it("matches a loop, for any shape, axis and dtype", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 6 }), fc.integer({ min: 0, max: 5 }), (ids, n) => {
        const y = nn.oneHot(np.array(Int32Array.from(ids)), n);
        expect(y.dtype).toBe("float32");
        expect(y.shape).toEqual([ids.length, n]);
        expect(y.toArray()).toEqual(ids.map((id) => Array.from({ length: n }, (_, c) => (c === id ? 1 : 0))));
      }),
      { numRuns: 30 },
    );
    const m = np.array([[0, 2], [1, 1]], { dtype: "int32" });
    expect(nn.oneHot(m, 3, { axis: 0, dtype: "int32" }).toArray()).toEqual([
      [[1, 0], [0, 0]],
      [[0, 0], [1, 1]],
      [[0, 1], [0, 0]],
    ]);
    expect(nn.oneHot(m, 3, { dtype: "bool" }).dtype).toBe("bool");
    expect(vmap((i: ArrayBase) => nn.oneHot(i, 4))(np.array([3, 0], { dtype: "int32" })).toArray()).toEqual([[0, 0, 0, 1], [1, 0, 0, 0]]);
  });
  it("errors", () => {
    expect(() => nn.oneHot(np.array([1], { dtype: "int32" }), -1)).toThrow(/nn.oneHot: numClasses must be a non-negative integer, got -1/);
    expect(() => nn.oneHot(np.array([1], { dtype: "int32" }), 3, { axis: 2 })).toThrow(/nn.oneHot: axis 2 is out of range for a result of rank 2/);
    expect(() => nn.oneHot(np.array([1], { dtype: "int32" }), 3, { axis: 2 })).toThrow(AxisError);
  });
  it("softmax and logSoftmax name themselves in axis errors (not the np.max inside them)", () => {
    const x = np.ones([2, 3]);
    expect(() => nn.softmax(x, { axis: 2 })).toThrow(AxisError);
    expect(() => nn.softmax(x, { axis: 2 })).toThrow(/^nn\.softmax: axis 2 is out of range for an input of shape \[2, 3\] \(valid: -2 to 1\)\n  at .*activations\.test\.ts:\d+/);
    expect(() => nn.logSoftmax(x, { axis: [0, -3] })).toThrow(/^nn\.logSoftmax: axis -3 is out of range for an input of shape \[2, 3\]/);
    expect(() => nn.logSoftmax(x, { axis: [1, -1] })).toThrow(/^nn\.logSoftmax: repeated axis in \(1, -1\)/);
    expect(() => nn.softmax(np.array(1), {})).toThrow(/^nn\.softmax: axis -1 is out of range for an input of shape \[\] \(a scalar has no axes\)/);
    expect(nn.softmax(x, { axis: [0, 1] }).toArray()).toEqual([[1 / 6, 1 / 6, 1 / 6], [1 / 6, 1 / 6, 1 / 6]].map((r) => r.map((v) => Math.fround(v))));
  });
});

describe("under tracing", () => {
  it("activations trace to well-formed jaxprs", () => {
    const f = (x: ArrayBase) => np.sum(nn.gelu(nn.softplus(nn.relu(x)), { approximate: false }));
    const x = np.array([-1, 0.5, 2], { dtype: "float64" });
    typecheck(makeJaxpr(f)(x));
    typecheck(makeJaxpr(grad(f))(x));
  });
});
