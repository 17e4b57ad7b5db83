/**
 * NumPy/JAX semantics that Cotangent got wrong without an error (each test failed before
 * its fix): mixed integer/slice/array indexing, floor division by zero, pow(-1, ±inf),
 * int32 products, scatterAdd's dtype, bool promotion, and abs's derivative at 0.
 */
import { describe, expect, it } from "vitest";
import { grad, np, vmap } from "@cotangent/core";

const x = np.reshape(np.arange(24), [2, 3, 4]);
const at = (i: number, j: number, k: number) => i * 12 + j * 4 + k;

describe("indexing", () => {
  it("an integer and an index array separated by a slice put the array's axes first (x[1, :, [0, 2]])", () => {
    const y = np.index(x, [1, np.sl(), [0, 2]]);
    expect(y.shape).toEqual([2, 3]);
    expect(y.toArray()).toEqual([0, 2].map((k) => [0, 1, 2].map((j) => at(1, j, k))));
    // Adjacent advanced indices keep the array's axes in place (x[:, 1, [0, 2]]).
    const z = np.index(x, [np.sl(), 1, [0, 2]]);
    expect(z.shape).toEqual([2, 2]);
    expect(z.toArray()).toEqual([0, 1].map((i) => [0, 2].map((k) => at(i, 1, k))));
    // A 2-D index array separated by a slice: its two axes lead.
    const w = np.index(x, [0, np.sl(1), np.array([[0], [3]], { dtype: "int32" })]);
    expect(w.shape).toEqual([2, 1, 2]);
    expect(w.toArray()).toEqual([[[at(0, 1, 0), at(0, 2, 0)]], [[at(0, 1, 3), at(0, 2, 3)]]]);
  });

  it("the reordered result differentiates", () => {
    const xf = np.astype(x, "float64");
    const g = grad((v) => np.sum(np.multiply(np.index(v, [1, np.sl(), [0, 2]]), np.array([[1], [10]], { dtype: "float64" }))))(xf);
    const expected = np.zeros([2, 3, 4], "float64").toArray() as number[][][];
    for (const j of [0, 1, 2]) [expected[1]![j]![0], expected[1]![j]![2]] = [1, 10];
    expect(g.toArray()).toEqual(expected);
  });
});

describe("elementwise semantics", () => {
  it("floorDivide by zero is ±inf for floats (0 // 0 is NaN), as JAX", () => {
    expect(np.floorDivide(np.array([1, -1, 0, 2.5]), 0).toArray()).toEqual([Infinity, -Infinity, NaN, Infinity]);
    expect(np.floorDivide(np.array([7, -7], { dtype: "float64" }), np.array([2, 2], { dtype: "float64" })).toArray()).toEqual([3, -4]);
  });

  it("power(-1, ±inf) is 1, as XLA and NumPy", () => {
    expect(np.power(np.array([-1, -1, 1, 2]), np.array([Infinity, -Infinity, NaN, Infinity])).toArray()).toEqual([1, 1, 1, Infinity]);
  });

  it("bools promote to int32 in floorDivide, mod and square, and matmul of bools is bool", () => {
    const t = np.array([true, true]);
    expect(np.floorDivide(t, t).dtype).toBe("int32");
    expect(np.floorDivide(t, t).toArray()).toEqual([1, 1]);
    expect(np.mod(t, t).dtype).toBe("int32");
    expect(np.mod(t, t).toArray()).toEqual([0, 0]);
    expect(np.square(np.array([true, false])).dtype).toBe("int32");
    expect(np.square(np.array([true, false])).toArray()).toEqual([1, 0]);
    const m = np.matmul(np.array([[true, false], [false, false]]), np.array([[false, true], [true, false]]));
    expect(m.dtype).toBe("bool");
    expect(m.toArray()).toEqual([[false, true], [false, false]]);
    expect(np.dot(np.array([true, false]), np.array([true, true])).toArray()).toBe(true);
  });

  it("grad of abs at 0 is 1, as JAX", () => {
    expect(grad((v) => np.abs(v))(np.array(0, { dtype: "float64" })).item()).toBe(1);
    expect(grad((v) => np.sum(np.abs(v)))(np.array([-1, 0, 2, -0], { dtype: "float64" })).toArray()).toEqual([-1, 1, 1, 1]);
    expect(vmap(grad((v) => np.abs(v)))(np.array([0, -3])).toArray()).toEqual([1, -1]);
  });
});

describe("integer arithmetic and dtypes", () => {
  it("int32 prod and cumprod wrap exactly, as XLA's int32 multiply", () => {
    const v = [65537, 65537, 65537, 65537, 3];
    let acc = 1;
    const running = v.map((e) => (acc = Math.imul(acc, e)));
    const a = np.array(v, { dtype: "int32" });
    expect(np.prod(a).item()).toBe(running[running.length - 1]);
    expect(np.cumprod(a).toArray()).toEqual(running);
    expect(np.cumprod(a, 0, null, null, { reverse: true }).toArray()[0]).toBe(running[running.length - 1]);
  });

  it("scatterAdd keeps x's dtype, as x.at[i].add(u)", () => {
    const y = np.scatterAdd(np.zeros([3], "int32"), [1], np.array([1.7]));
    expect(y.dtype).toBe("int32");
    expect(y.toArray()).toEqual([0, 1, 0]);
    expect(np.scatterAdd(np.zeros([2], "float32"), [0], np.array([1], { dtype: "float64" })).dtype).toBe("float32");
  });
});
