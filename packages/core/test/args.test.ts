/**
 * The shared argument validator: JAX's positional arguments give the same results as the
 * options object (each case here returned the all-axes or default result before), and bad
 * arguments are typed errors naming the function and the parameter.
 */
import { describe, expect, it } from "vitest";
import { type ArrayBase, AxisError, closestName, CotangentError, DTypeError, ValueError, np, signatureOf, signatures } from "@cotangent/core";

const a = np.array([[1, 5, 2], [7, 3, 4]], { dtype: "float64" });
const list = (x: ArrayBase) => x.toArray();
const same = (positional: ArrayBase, options: ArrayBase, expected?: unknown) => {
  expect(positional.shape).toEqual(options.shape);
  expect(list(positional)).toEqual(list(options));
  if (expected !== undefined) expect(list(positional)).toEqual(expected);
};
const close = (x: ArrayBase, expected: number[]) => {
  const v = x.toArray() as number[];
  expect(v.length).toBe(expected.length);
  v.forEach((e, i) => expect(e).toBeCloseTo(expected[i]!, 10));
};

describe("positional arguments as in JAX", () => {
  it("reductions take axis (and keepdims) positionally", () => {
    same(np.sum(a, 1), np.sum(a, { axis: 1 }), [8, 14]);
    same(np.mean(a, 1), np.mean(a, { axis: 1 }));
    close(np.mean(a, 1), [8 / 3, 14 / 3]);
    same(np.max(a, 1), np.max(a, { axis: 1 }), [5, 7]);
    same(np.min(a, 0), np.min(a, { axis: 0 }), [1, 3, 2]);
    same(np.prod(a, 1), np.prod(a, { axis: 1 }), [10, 84]);
    same(np.argmax(a, 1), np.argmax(a, { axis: 1 }), [1, 0]);
    same(np.argmin(a, 0), np.argmin(a, { axis: 0 }), [0, 1, 0]);
    same(np.std(a, 1), np.std(a, { axis: 1 }));
    same(np.var(a, 1), np.var(a, { axis: 1 }));
    close(np.var(a, 1), [(1 + 5 + 2) ** 2 / 9 * 0 + ((1 - 8 / 3) ** 2 + (5 - 8 / 3) ** 2 + (2 - 8 / 3) ** 2) / 3, ((7 - 14 / 3) ** 2 + (3 - 14 / 3) ** 2 + (4 - 14 / 3) ** 2) / 3]);
    same(np.logsumexp(a, 1), np.logsumexp(a, { axis: 1 }));
    close(np.logsumexp(a, 1), [Math.log(Math.exp(1) + Math.exp(5) + Math.exp(2)), Math.log(Math.exp(7) + Math.exp(3) + Math.exp(4))]);
    const b = np.array([[true, false], [true, true]]);
    same(np.all(b, 1), np.all(b, { axis: 1 }), [false, true]);
    same(np.any(np.logicalNot(b), 0), np.any(np.logicalNot(b), { axis: 0 }), [false, true]);
    same(np.cumsum(a, 1), np.cumsum(a, { axis: 1 }), [[1, 6, 8], [7, 10, 14]]);
    same(np.cumprod(a, 0), np.cumprod(a, { axis: 0 }), [[1, 5, 2], [7, 15, 8]]);
  });

  it("keepdims, dtype and ddof in JAX's positions", () => {
    expect(np.sum(a, 1, null, null, true).shape).toEqual([2, 1]);
    expect(np.max(a, 0, null, true).shape).toEqual([1, 3]);
    expect(np.argmax(a, 1, null, true).shape).toEqual([2, 1]);
    expect(np.sum(a, 1, "int32").dtype).toBe("int32");
    expect(np.cumsum(a, 1, "float32").dtype).toBe("float32");
    expect(np.var(a, 1, null, null, 1).toArray()).toEqual(np.var(a, { axis: 1, ddof: 1 }).toArray());
    expect(np.std(a, null, null, null, 0, true).shape).toEqual([1, 1]);
    // Positional and options mix: the options object comes last.
    expect(np.sum(a, 1, { keepdims: true }).shape).toEqual([2, 1]);
  });

  it("shape functions and take take axis positionally", () => {
    same(np.concatenate([a, a], 1), np.concatenate([a, a], { axis: 1 }));
    expect(np.concatenate([a, a], 1).shape).toEqual([2, 6]);
    same(np.stack([a, a], 1), np.stack([a, a], { axis: 1 }));
    expect(np.stack([a, a], 1).shape).toEqual([2, 2, 3]);
    same(np.flip(a, 1), np.flip(a, { axis: 1 }), [[2, 5, 1], [4, 3, 7]]);
    same(np.take(a, [2, 0], 1), np.take(a, [2, 0], { axis: 1 }), [[2, 1], [4, 7]]);
    same(np.repeat(a, 2, 0), np.repeat(a, 2, { axis: 0 }), [[1, 5, 2], [1, 5, 2], [7, 3, 4], [7, 3, 4]]);
    expect(np.repeat(a, 2, 1, 6).shape).toEqual([2, 6]);
    expect(() => np.repeat(a, 2, 1, 5)).toThrow(/np.repeat: totalRepeatLength is 5 but the repeats give 6/);
    same(np.squeeze(np.zeros([1, 2, 1]), 0), np.squeeze(np.zeros([1, 2, 1]), { axis: 0 }));
    expect(np.squeeze(np.zeros([1, 2, 1]), 0).shape).toEqual([2, 1]);
    expect(np.split(a, 3, 1).map((p) => p.shape)).toEqual([[2, 1], [2, 1], [2, 1]]);
    expect(np.concatenate([a, a], 0, "int32").dtype).toBe("int32");
  });

  it("elementwise, math and linalg functions take JAX's positionals or an options object", () => {
    same(np.clip(a, 2, 5), np.clip(a, { min: 2, max: 5 }), [[2, 5, 2], [5, 3, 4]]);
    same(np.clip(a, null, 3), np.clip(a, { max: 3 }));
    same(np.clip(a, 2), np.clip(a, 2, { max: null }));
    const h = np.array([1.25, 2.35, -0.5], { dtype: "float64" });
    same(np.round(h, 1), np.round(h, { decimals: 1 }));
    same(np.round(h, 1, null), np.round(h, { decimals: 1 }));
    same(np.where(np.greater(a, 3), a, 0), np.where(np.greater(a, 3), { x: a, y: 0 }));
    const m = np.reshape(np.arange(6, { dtype: "float64" }), [3, 2]);
    same(np.tensordot(a, m, 1), np.tensordot(a, m, { axes: 1 }));
    same(np.tensordot(a, a, [[0, 1], [0, 1]]), np.tensordot(a, a, { axes: [[0, 1], [0, 1]] }));
    same(np.linalg.matrixPower(np.eye(2), 3), np.linalg.matrixPower(np.eye(2), { n: 3 }));
  });

  it("functions of arrays only refuse extra arguments and options instead of ignoring them", () => {
    expect(() => (np.add as (...x: unknown[]) => unknown)(a, a, a)).toThrow(/np.add: takes at most 2 positional arguments \(x, y\), got 3/);
    expect(() => (np.exp as (...x: unknown[]) => unknown)(a, { out: null })).toThrow(/np.exp: unknown option 'out'/);
    expect(() => (np.matmul as (...x: unknown[]) => unknown)(a, np.ones([3, 2]), { precision: "highest" })).toThrow(/np.matmul: unknown option 'precision'/);
    expect(() => (np.einsum as (...x: unknown[]) => unknown)("ij->ji", a, { optimize: true })).toThrow(/np.einsum: unknown option 'optimize'/);
    expect(() => np.clip(a, { mn: 0 } as never)).toThrow(/np.clip: unknown option 'mn'[\s\S]*did you mean 'min'/);
    expect(() => np.round(a, 0.5)).toThrow(/np.round: decimals must be an integer, got 0.5/);
    expect(() => np.tensordot(a, a, "x" as never)).toThrow(/np.tensordot: axes must be/);
    expect(() => np.linalg.matrixPower(np.eye(2), { m: 3 } as never)).toThrow(/unknown option 'm'/);
  });

  it("fluent methods pass positional arguments through", () => {
    same(a.sum(1), np.sum(a, 1), [8, 14]);
    same(a.mean(0), np.mean(a, 0));
    same(a.max(1), np.max(a, 1));
    same(a.argmax(1), np.argmax(a, 1));
    same(a.take([1], 1), np.take(a, [1], 1));
    expect(a.sum(1, null, null, true).shape).toEqual([2, 1]);
  });
});

describe("bad arguments are typed errors naming the function and parameter", () => {
  it("unknown option keys, with did you mean", () => {
    const e1 = (() => {
      try {
        np.sum(a, { keepDims: true } as never);
      } catch (e) {
        return e;
      }
    })() as ValueError;
    expect(e1).toBeInstanceOf(ValueError);
    expect(e1.message).toMatch(/np.sum: unknown option 'keepDims'/);
    expect(e1.hint).toBe("did you mean 'keepdims'?");
    expect(() => np.mean(a, { axes: 1 } as never)).toThrow(/np.mean: unknown option 'axes'[\s\S]*did you mean 'axis'\?/);
    expect(() => np.concatenate([a], { axsi: 1 } as never)).toThrow(/did you mean 'axis'/);
  });

  it("one did-you-mean helper for options, settings and choices", () => {
    expect(closestName("keepDims", ["axis", "keepdims"])).toBe("keepdims");
    expect(closestName("keep_dims", ["axis", "keepdims"])).toBe("keepdims");
    expect(closestName("jax_debug_nans", ["debugNans", "debugInfs"])).toBe("debugNans");
    expect(closestName("axsi", ["axis", "dtype"])).toBe("axis");
    expect(closestName("zzzzzz", ["axis", "dtype"])).toBeUndefined();
    expect(closestName(Symbol("x"), ["axis"])).toBeUndefined();
  });

  it("axes of the wrong kind, non-integer or out of range", () => {
    expect(() => np.sum(a, { axis: "0" } as never)).toThrow(AxisError);
    expect(() => np.sum(a, { axis: "0" } as never)).toThrow(/np.sum: axis must be an integer axis, a list of integer axes or null, got "0"/);
    expect(() => np.sum(a, 1.5)).toThrow(AxisError);
    expect(() => np.sum(a, 5)).toThrow(/np.sum: axis 5 is out of range for an array of rank 2/);
    expect(() => np.argmax(a, [0] as never)).toThrow(AxisError);
    expect(() => np.sum(a, Symbol("k") as never)).toThrow(/np.sum: axis must be .* got Symbol\(k\)/);
    expect(() => np.cumsum(a, NaN)).toThrow(AxisError);
    expect(() => np.concatenate([a, a], 2)).toThrow(AxisError);
    expect(() => np.take(a, [0], -3)).toThrow(AxisError);
  });

  it("a parameter given twice, too many arguments, out, dtype", () => {
    expect(() => np.sum(a, 1, { axis: 0 })).toThrow(/np.sum: axis is given twice/);
    expect(() => (np.max as unknown as (...x: unknown[]) => unknown)(a, 0, null, true, 1)).toThrow(/np.max: takes at most 4 positional arguments \(x, axis, out, keepdims\), got 5/);
    expect(() => np.sum(a, 0, null, np.zeros([3]) as never)).toThrow(/np.sum: out must be null \(arrays are immutable/);
    expect(() => np.sum(a, 0, "float16" as never)).toThrow(DTypeError);
    expect(() => np.sum(a, 0, null, null, 1 as never)).toThrow(/np.sum: keepdims must be true or false, got 1/);
    expect(() => np.reshape(a, undefined as never)).toThrow(/np.reshape: shape is required/);
    expect(() => np.ones(null as never)).toThrow(CotangentError);
  });

  it("signatures are data that can be enumerated", () => {
    const sum = signatureOf("np.sum")!;
    expect(sum.params.map((p) => `${p.name}:${p.kind}`)).toEqual(["x:array", "axis:axes", "dtype:dtype", "out:out", "keepdims:bool"]);
    expect((np.sum as unknown as { signature: unknown }).signature).toBe(sum);
    const names = signatures().map((s) => s.name);
    for (const n of ["np.sum", "np.mean", "np.max", "np.argmax", "np.std", "np.var", "np.logsumexp", "np.all", "np.cumsum", "np.concatenate", "np.stack", "np.flip", "np.take", "np.repeat"]) {
      expect(names).toContain(n);
    }
  });
});

describe("semantics of the creation functions", () => {
  it("linspace with an int dtype floors, as JAX (not truncation towards zero)", () => {
    expect(np.linspace(-2, 1, 4, true, null, "int32").toArray()).toEqual([-2, -1, 0, 1]);
    expect(np.linspace(-1, 0, 5, { dtype: "int32" }).toArray()).toEqual([-1, -1, -1, -1, 0]);
  });
  it("dtype positionally, as np.zeros(shape, dtype)", () => {
    expect(np.zeros([2], "int32").dtype).toBe("int32");
    expect(np.full([2], 3, "float64").dtype).toBe("float64");
    expect(np.eye(2, 3, 1, "int32").toArray()).toEqual([[0, 1, 0], [0, 0, 1]]);
    expect(np.zerosLike(a, "int32").dtype).toBe("int32");
  });
});
