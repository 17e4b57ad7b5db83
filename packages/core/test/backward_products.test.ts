/**
 * The backward pass of a product with a broadcast cotangent: `sum(x * y)` seeds a cotangent
 * broadcast from a scalar, and mul's transpose multiplies by the scalar instead of by an
 * array of ones (and an eager multiply by one returns the other operand). Gradients against
 * plain loops, with y broadcasting against x or not, in f32 and f64, and the jaxprs.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, grad, makeJaxpr, np } from "@cotangent/core";
import { expectClose } from "./harness.js";

type DT = "float32" | "float64";
const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => 0.5 + ((i * 7 + seed * 13) % 11) / 8);
const arr = (s: readonly number[], seed: number, dtype: DT) => np.array(values(size(s), seed), { dtype }).reshape(s.slice());

/** For each element of `outShape` (row-major), the index it reads in an operand of shape `s` under NumPy broadcasting. */
const broadcastIndex = (s: readonly number[], outShape: readonly number[]): number[] => {
  const lead = outShape.length - s.length;
  const idx: number[] = [];
  for (let k = 0; k < size(outShape); k++) {
    let rem = k;
    let at = 0;
    let stride = 1;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const i = rem % outShape[d]!;
      rem = Math.floor(rem / outShape[d]!);
      if (d >= lead) {
        const n = s[d - lead]!;
        at += (n === 1 ? 0 : i) * stride;
        stride *= n;
      }
    }
    idx.push(at);
  }
  return idx;
};

/** x's shape (rank 0..3, sizes 0..4) and y's: a suffix of it with some axes made 1. */
const shapes = fc
  .array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 })
  .chain((xs) =>
    fc.tuple(
      fc.constant(xs),
      fc.integer({ min: 0, max: xs.length }).chain((drop) => fc.array(fc.boolean(), { minLength: xs.length - drop, maxLength: xs.length - drop }).map((ones) => xs.slice(drop).map((n, i) => (ones[i] ? 1 : n)))),
    ),
  );
const dtypes = fc.constantFrom<DT>("float32", "float64");

describe("backward pass of products", () => {
  it("sum(x * y) and sum(y * x): gradients against plain loops, y broadcasting or not", () => {
    fc.assert(
      fc.property(shapes, dtypes, fc.boolean(), ([xs, ys], dtype, swap) => {
        const x = arr(xs, 1, dtype);
        const y = arr(ys, 2, dtype);
        const f = (a: ArrayBase, b: ArrayBase) => np.sum(swap ? np.multiply(b, a) : np.multiply(a, b));
        const [gx, gy] = grad(f, { argnums: [0, 1] })(x, y) as [ArrayBase, ArrayBase];
        const idx = broadcastIndex(ys, xs);
        const xv = values(size(xs), 1);
        const yv = values(size(ys), 2);
        const refGy = new Array<number>(size(ys)).fill(0);
        idx.forEach((j, i) => (refGy[j]! += xv[i]!));
        expect(gx.shape).toEqual(xs);
        expect(gy.shape).toEqual(ys);
        expect(gx.dtype).toBe(dtype);
        expectClose(gx, np.array(idx.map((j) => yv[j]!), { dtype }).reshape(xs.slice()), dtype === "float32" ? 1e-6 : 1e-12);
        expectClose(gy, np.array(refGy, { dtype }).reshape(ys.slice()), dtype === "float32" ? 1e-5 : 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it("sum(x / y): gradients against plain loops", () => {
    fc.assert(
      fc.property(shapes, dtypes, ([xs, ys], dtype) => {
        const [gx, gy] = grad((a: ArrayBase, b: ArrayBase) => np.sum(np.divide(a, b)), { argnums: [0, 1] })(arr(xs, 3, dtype), arr(ys, 4, dtype)) as [ArrayBase, ArrayBase];
        const idx = broadcastIndex(ys, xs);
        const xv = values(size(xs), 3);
        const yv = values(size(ys), 4);
        const refGy = new Array<number>(size(ys)).fill(0);
        idx.forEach((j, i) => (refGy[j]! -= xv[i]! / (yv[j]! * yv[j]!)));
        const tol = dtype === "float32" ? 1e-5 : 1e-12;
        expectClose(gx, np.array(idx.map((j) => 1 / yv[j]!), { dtype }).reshape(xs.slice()), tol);
        expectClose(gy, np.array(refGy, { dtype }).reshape(ys.slice()), tol);
      }),
      { numRuns: 40 },
    );
  });

  it("a cotangent broadcast along leading axes only is not mistaken for a NumPy broadcast", () => {
    // The transpose of sum(h, axis 1) broadcasts a [3] cotangent along axis 1 of [3, 4]:
    // not NumPy's trailing alignment, so mul's transpose must keep the broadcast.
    const x = arr([3, 4], 5, "float64");
    const y = arr([3, 4], 6, "float64");
    const v = np.array([1, -2, 3], { dtype: "float64" });
    const gx = grad((a: ArrayBase) => np.sum(np.multiply(np.sum(np.multiply(a, y), 1), v)))(x) as ArrayBase;
    const yv = values(12, 6);
    expectClose(gx, np.array(yv.map((t, k) => t * [1, -2, 3][Math.floor(k / 4)]!), { dtype: "float64" }).reshape([3, 4]), 1e-12);
  });

  it("the backward pass of sum(x * g) multiplies g by the seed, without a broadcast of it", () => {
    const g = arr([2, 3], 7, "float32");
    const text = makeJaxpr(grad((x: ArrayBase) => np.sum(np.multiply(x, g))))(np.ones([2, 3])).toString();
    expect(text).not.toContain("broadcast_in_dim");
    expect(text).toContain("mul 1.0:f32[]");
  });

  it("multiplying by a one-element one returns the other operand's values, any order and dtype", () => {
    for (const dtype of ["float32", "float64", "int32"] as const) {
      const a = np.array([[1.5, -2], [3, 4]], { dtype });
      for (const one of [np.array(1, { dtype }), np.array([[1]], { dtype })]) {
        expect(np.multiply(a, one).toArray()).toEqual(a.toArray());
        expect(np.multiply(one, a).toArray()).toEqual(a.toArray());
        expect(np.multiply(one, a).dtype).toBe(dtype);
      }
      // Broadcasting the one to a larger shape still builds the larger array.
      expect(np.multiply(np.array([2], { dtype }), np.array([[1], [1]], { dtype })).shape).toEqual([2, 1]);
    }
  });
});
