import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrayBase, DTypeError, type NDArray, ShapeError, ValueError, grad, jvp, lax, makeJaxpr, np, vmap } from "@cotangent/core";
import { checkGrad, checkTransposition, checkVmap, typecheckTransforms } from "./harness.js";
import { type AnyDType, arbBroadcastShapes, arbValues, arr, expectRef, mapRef } from "./elementwise_ref.js";

/** Values of `dtype` that include NaN and ±Infinity for floats. */
const arbSpecial = (shape: number[], dtype: AnyDType) => {
  if (dtype === "int32" || dtype === "bool") return arbValues(shape, dtype, -3, 3);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1), fc.double({ min: -3, max: 3 }));
  return fc.array(v, { minLength: n, maxLength: n }).map((vals) => arr(vals, shape, dtype));
};

const DTYPES: AnyDType[] = ["float32", "float64", "int32", "bool"];

describe("comparisons, logic and is_finite match a reference loop", () => {
  const comparisons: [string, (x: ArrayBase, y: ArrayBase) => ArrayBase, (a: number, b: number) => boolean][] = [
    ["eq", lax.eq, (a, b) => a === b],
    ["ne", lax.ne, (a, b) => a !== b],
    ["lt", lax.lt, (a, b) => a < b],
    ["le", lax.le, (a, b) => a <= b],
    ["gt", lax.gt, (a, b) => a > b],
    ["ge", lax.ge, (a, b) => a >= b],
  ];
  for (const [name, op, ref] of comparisons) {
    it(`${name} on every dtype (NaN compares unequal), with broadcasting`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...DTYPES).chain((d) => arbBroadcastShapes(2).chain(([sx, sy]) => fc.tuple(arbSpecial(sx!, d), arbSpecial(sy!, d)))),
          ([x, y]) => expectRef(op(x, y), mapRef((a, b) => Number(ref(a, b)), [x, y]), "bool"),
        ),
        { numRuns: 40 },
      );
    });
  }

  const bitwise: [string, (x: ArrayBase, y: ArrayBase) => ArrayBase, (a: number, b: number) => number][] = [
    ["and", lax.bitwiseAnd, (a, b) => a & b],
    ["or", lax.bitwiseOr, (a, b) => a | b],
    ["xor", lax.bitwiseXor, (a, b) => a ^ b],
  ];
  for (const [name, op, ref] of bitwise) {
    for (const dtype of ["bool", "int32"] as const) {
      it(`${name} ${dtype}`, () => {
        fc.assert(
          fc.property(
            arbBroadcastShapes(2).chain(([sx, sy]) => fc.tuple(arbValues(sx!, dtype, -1000, 1000), arbValues(sy!, dtype, -1000, 1000))),
            ([x, y]) => expectRef(op(x, y), mapRef(ref, [x, y]), dtype),
          ),
          { numRuns: 30 },
        );
      });
    }
  }

  it("not: logical on bool, bitwise complement on int32", () => {
    expect(lax.bitwiseNot(np.array([true, false])).toArray()).toEqual([false, true]);
    expect(lax.bitwiseNot(np.array([0, -1, 5], { dtype: "int32" })).toArray()).toEqual([-1, 0, -6]);
  });

  it("is_finite", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("float32", "float64" as const).chain((d) => fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }).chain((s) => arbSpecial(s, d))),
        (x) => expectRef(lax.isFinite(x), mapRef((v) => Number(Number.isFinite(v)), [x]), "bool"),
      ),
      { numRuns: 40 },
    );
  });
});

describe("select_n", () => {
  it("bool selector, two cases, all broadcast together (float32/float64/int32/bool)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DTYPES).chain((d) =>
          arbBroadcastShapes(3).chain(([sw, s0, s1]) => fc.tuple(arbValues(sw!, "bool"), arbValues(s0!, d), arbValues(s1!, d), fc.constant(d))),
        ),
        ([w, a, b, d]) => expectRef(lax.selectN(w, a, b), mapRef((p, u, v) => (p ? v : u), [w, a, b]), d),
      ),
      { numRuns: 40 },
    );
  });

  it("int32 selector picks among n cases (out-of-range indices clamp)", () => {
    fc.assert(
      fc.property(
        arbBroadcastShapes(4).chain(([sw, s0, s1, s2]) =>
          fc.tuple(arbValues(sw!, "int32", -1, 3), arbValues(s0!, "float64"), arbValues(s1!, "float64"), arbValues(s2!, "float64")),
        ),
        ([w, a, b, c]) => expectRef(lax.selectN(w, a, b, c), mapRef((i, u, v, t) => [u, v, t][Math.min(2, Math.max(0, i))]!, [w, a, b, c]), "float64"),
      ),
      { numRuns: 40 },
    );
  });

  it("one case broadcasts it; lax.select(pred, onTrue, onFalse) is select_n(pred, onFalse, onTrue)", () => {
    expect(lax.selectN(np.array([true, false]), np.array(3)).toArray()).toEqual([3, 3]);
    expect(lax.select(np.array([true, false]), np.array([1, 2]), np.array([3, 4])).toArray()).toEqual([1, 4]);
  });

  const casesArb = (batch: number[]) =>
    arbBroadcastShapes(3, 2, 1).chain(([sw, s0, s1]) =>
      fc.tuple(
        arbValues(sw!, "bool"),
        arbValues(s0!, "float64"),
        arbValues(s1!, "float64"),
        arbValues([...batch, ...sw!], "bool"),
        arbValues([...batch, ...s0!], "float64"),
        arbValues([...batch, ...s1!], "float64"),
      ),
    );

  it("derivatives: grad flows to the chosen case, transposition is linear in the cases, vmap with any batched subset", () => {
    fc.assert(
      fc.property(casesArb([2]), ([w, a, b, ws, as, bs]) => {
        const f = (u: ArrayBase, v: ArrayBase) => lax.selectN(w, u, v);
        checkGrad(f, [a as NDArray, b as NDArray]);
        checkTransposition(f, [a as NDArray, b as NDArray]);
        typecheckTransforms(f, [a, b]);
        const g = (p: ArrayBase, u: ArrayBase, v: ArrayBase) => lax.selectN(p, lax.sin(u), v);
        checkVmap(g, [ws as NDArray, as as NDArray, bs as NDArray]);
        checkVmap(g, [w as NDArray, as as NDArray, b as NDArray], 1e-12, [null, 0, null]);
        checkVmap(g, [ws as NDArray, a as NDArray, b as NDArray], 1e-12, [0, null, null]);
        typecheckTransforms(g, [w, a, b]);
      }),
      { numRuns: 10 },
    );
  });

  it("a constant case contributes a zero tangent, broadcast to the output's shape", () => {
    const w = np.array(true);
    const [out, t] = jvp((u: ArrayBase) => lax.selectN(w, np.array([1, 2, 3], { dtype: "float64" }), u), [np.array(5, { dtype: "float64" })], [np.array(1, { dtype: "float64" })]);
    expect(out.toArray()).toEqual([5, 5, 5]);
    expect(t.toArray()).toEqual([1, 1, 1]);
    const [, t2] = jvp((u: ArrayBase) => lax.selectN(np.array([true, false]), u, np.array(7, { dtype: "float64" })), [np.array(5, { dtype: "float64" })], [np.array(1, { dtype: "float64" })]);
    expect(t2.toArray()).toEqual([0, 1]);
  });

  it("np.where broadcasts all three arguments and differentiates like a mask (relu)", () => {
    const x = np.array([[-1, 2, 0.5], [3, -0.5, 0]], { dtype: "float64" });
    const relu = (v: ArrayBase) => np.where(np.greater(v, 0), v, 0);
    expect(relu(x).toArray()).toEqual([[0, 2, 0.5], [3, 0, 0]]);
    expect(grad((v: ArrayBase) => np.sum(relu(v)))(x).toArray()).toEqual([[0, 1, 1], [1, 0, 0]]);
    const w = np.where(np.array([true, false, true]), np.array([[1], [2]]), 9);
    expect(w.shape).toEqual([2, 3]);
    expect(w.toArray()).toEqual([[1, 9, 1], [2, 9, 2]]);
    expect(vmap(relu)(x).toArray()).toEqual(relu(x).toArray());
    expect(makeJaxpr(relu)(x).toString()).toContain("select_n");
  });

  it("errors name the op and the arguments at fault", () => {
    const f = np.array([1, 2]);
    expect(() => lax.selectN(f, f, f)).toThrow(DTypeError);
    expect(() => lax.selectN(f, f, f)).toThrow(/select_n: the selector has dtype float32, but it must be bool or int32/);
    expect(() => lax.selectN(np.array([true]), f, f, f)).toThrow(ValueError);
    expect(() => lax.selectN(np.array([true]), f, f, f)).toThrow(/a bool selector picks between at most 2 cases, got 3/);
    expect(() => lax.selectN(np.array([true]), f, np.array([1, 2], { dtype: "float64" }))).toThrow(/select_n: inputs must share a dtype, got f32\[2\] and f64\[2\]/);
    expect(() => lax.selectN(np.array([true, false, true]), f, f)).toThrow(ShapeError);
    expect(() => lax.selectN(np.array([true, false, true]), f, f)).toThrow(/select_n: shapes \[3\], \[2\], \[2\] do not broadcast/);
    expect(() => lax.selectN(np.array([true]))).toThrow(/select_n: needs a selector and at least one case/);
    expect(() => lax.bitwiseAnd(f, f)).toThrow(/and: input has dtype float32, but and accepts bool, int32/);
  });
});
