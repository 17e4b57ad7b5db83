import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrayBase, CotangentError, DTypeError, type NDArray, ShapeError, ValueError, grad, lax, makeJaxpr, np } from "@cotangent/core";
import { checkGrad } from "./harness.js";
import { type AnyDType, arbBroadcastShapes, arbValues, arr, expectRef, mapRef } from "./elementwise_ref.js";

const DTYPES: AnyDType[] = ["bool", "int32", "float32", "float64"];
const of = (d: AnyDType) => arr([1, 0], [2], d);

describe("dtype promotion (JAX's lattice with weak JS scalars)", () => {
  it("array with array: the larger dtype on bool < int32 < float32 < float64", () => {
    const table: Record<AnyDType, Record<AnyDType, AnyDType>> = {
      bool: { bool: "bool", int32: "int32", float32: "float32", float64: "float64" },
      int32: { bool: "int32", int32: "int32", float32: "float32", float64: "float64" },
      float32: { bool: "float32", int32: "float32", float32: "float32", float64: "float64" },
      float64: { bool: "float64", int32: "float64", float32: "float64", float64: "float64" },
    };
    for (const a of DTYPES) {
      for (const b of DTYPES) {
        expect([a, b, np.add(of(a), of(b)).dtype]).toEqual([a, b, table[a][b]]);
        expect([a, b, np.maximum(of(a), of(b)).dtype]).toEqual([a, b, table[a][b]]);
        expect(np.equal(of(a), of(b)).dtype).toBe("bool");
      }
    }
  });

  it("array with JS scalar: the array's dtype wins, except a float scalar lifts bool/int32 to float32", () => {
    const table: [AnyDType, number | boolean, AnyDType][] = [
      ["bool", true, "bool"],
      ["bool", 1, "int32"],
      ["bool", 1.5, "float32"],
      ["int32", true, "int32"],
      ["int32", 1, "int32"],
      ["int32", 1.5, "float32"],
      ["float32", 1, "float32"],
      ["float32", 1.5, "float32"],
      ["float64", 1, "float64"],
      ["float64", 1.5, "float64"],
    ];
    for (const [d, s, want] of table) {
      expect([d, s, np.add(of(d), s).dtype]).toEqual([d, s, want]);
      expect([d, s, np.add(s, of(d)).dtype]).toEqual([d, s, want]);
    }
    expect(np.add(1, 2).dtype).toBe("int32");
    expect(np.add(1, 2.5).dtype).toBe("float32");
    expect(np.add(np.array([1, 2], { dtype: "int32" }), 1.5).toArray()).toEqual([2.5, 3.5]);
    expect(np.multiply(np.array([1, 2], { dtype: "float64" }), 1 / 3).toArray()).toEqual([1 / 3, 2 / 3]);
  });

  it("transcendental functions and true division promote int and bool to float32", () => {
    for (const d of ["bool", "int32"] as const) {
      for (const f of [np.sin, np.exp, np.log1p, np.sqrt, np.tanh, np.erf, np.sigmoid, np.arctan]) expect(f(of(d)).dtype).toBe("float32");
      expect(np.divide(of(d), of(d)).dtype).toBe("float32");
      expect(np.arctan2(of(d), 1).dtype).toBe("float32");
    }
    expect(np.sin(of("float64")).dtype).toBe("float64");
    expect(np.exp(0).dtype).toBe("float32");
    expect(np.divide(np.array([7, -7], { dtype: "int32" }), 2).toArray()).toEqual([3.5, -3.5]);
    expect(np.divide(np.array([1], { dtype: "float64" }), np.array([3], { dtype: "int32" })).dtype).toBe("float64");
  });

  it("comparisons compare in the promoted dtype; where and clip promote their value arguments", () => {
    expect(np.less(np.array([1, 2], { dtype: "int32" }), 1.5).toArray()).toEqual([true, false]);
    const c = np.array([true, false]);
    expect(np.where(c, np.array([1, 2], { dtype: "int32" }), np.array([0.5, 0.5])).dtype).toBe("float32");
    expect(np.where(c, np.array([1, 2], { dtype: "int32" }), 1.5).toArray()).toEqual([1, 1.5]);
    expect(np.where(c, np.array([1, 2], { dtype: "float64" }), 0).dtype).toBe("float64");
    expect(np.where(c, 1, 0).dtype).toBe("int32");
    expect(np.clip(np.array([1, 5], { dtype: "int32" }), 0, 3).dtype).toBe("int32");
    expect(np.clip(np.array([1, 5], { dtype: "int32" }), 0.5, 3).toArray()).toEqual([1, 3]);
  });

  it("rounding functions and abs/sign keep integer dtypes; bool arithmetic is logical", () => {
    const i = np.array([-3, 2], { dtype: "int32" });
    for (const f of [np.floor, np.ceil, np.trunc, np.round, np.abs, np.sign, np.square]) expect(f(i).dtype).toBe("int32");
    expect(np.floor(i).toArray()).toEqual([-3, 2]);
    expect(np.abs(i).toArray()).toEqual([3, 2]);
    expect(np.power(i, 3).toArray()).toEqual([-27, 8]);
    expect(np.power(i, 3).dtype).toBe("int32");
    const t = np.array([true, true, false]);
    const f = np.array([true, false, false]);
    expect(np.add(t, f).toArray()).toEqual([true, true, false]);
    expect(np.multiply(t, f).toArray()).toEqual([true, false, false]);
    expect(np.abs(t).dtype).toBe("bool");
  });
});

/** Python's float divmod (CPython's float_divmod), as a reference. */
const pyDivmod = (a: number, b: number): [number, number] => {
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0) {
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  }
  let fd = div === 0 ? 0 : Math.floor(div);
  if (div !== 0 && div - fd > 0.5) fd += 1;
  return [fd, mod];
};

describe("np arithmetic semantics", () => {
  it("floorDivide and mod follow Python (float and int32), with broadcasting", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("float64", "float32", "int32" as const).chain((d) =>
          arbBroadcastShapes(2).chain(([sx, sy]) =>
            fc.tuple(arbValues(sx!, d, -20, 20), arbValues(sy!, d, 1, 7), fc.boolean(), fc.constant(d)),
          ),
        ),
        ([x, y0, negate, d]) => {
          const y = negate ? np.negative(y0) : y0;
          expectRef(np.floorDivide(x, y), mapRef((a, b) => pyDivmod(a, b)[0], [x, y]), d);
          expectRef(np.mod(x, y), mapRef((a, b) => pyDivmod(a, b)[1], [x, y]), d, 4, d === "float32" ? 1e-5 : 1e-13);
        },
      ),
      { numRuns: 40 },
    );
    // Python: 1 // 0.1 == 9.0 and 1 % 0.1 == 0.09999999999999995 (floor(1 / 0.1) would say 10).
    const one = np.array(1, { dtype: "float64" });
    expect(np.floorDivide(one, 0.1).item()).toBe(9);
    expect(np.mod(one, 0.1).item()).toBe(0.09999999999999995);
    // NumPy gives 0 for integer division and remainder by zero.
    const i = np.array([7, -7], { dtype: "int32" });
    expect(np.floorDivide(i, 0).toArray()).toEqual([0, 0]);
    expect(np.mod(i, 0).toArray()).toEqual([0, 0]);
    expect(np.fmod(i, 3).toArray()).toEqual([1, -1]);
  });

  it("power: an integer JS exponent lowers to integer_pow (exact, differentiable at x < 0); others to pow", () => {
    const x = np.array([-2, 0.5, 3], { dtype: "float64" });
    expect(np.power(x, 3).toArray()).toEqual([-8, 0.125, 27]);
    expect(makeJaxpr((v: ArrayBase) => np.power(v, 3))(x).toString()).toContain("integer_pow[y=3]");
    expect(makeJaxpr((v: ArrayBase) => np.power(v, 0.5))(x).toString()).toContain("pow");
    expect(grad((v: ArrayBase) => np.sum(np.power(v, 3)))(x).toArray()).toEqual([12, 0.75, 27]);
    expect(np.power(np.array([2, 3], { dtype: "int32" }), np.array([10, 3], { dtype: "int32" })).toArray()).toEqual([1024, 27]);
    expect(np.power(np.array([4, 9], { dtype: "float64" }), 0.5).toArray()).toEqual([2, 3]);
    expect(() => np.power(np.array([2], { dtype: "int32" }), -1)).toThrow(/np.power: integers cannot be raised to the negative power -1/);
  });

  it("clip matches min(max(x, lo), hi); its gradient is 1 inside, 0 outside and 1/2 on a bound", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }).chain((s) => arbValues(s, "float64", -5, 5)),
        fc.double({ min: -3, max: 0, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        (x, lo, hi) => {
          expectRef(np.clip(x, lo, hi), mapRef((v) => Math.min(Math.max(v, lo), hi), [x]), "float64");
          expectRef(np.clip(x, null, hi), mapRef((v) => Math.min(v, hi), [x]), "float64");
          expectRef(np.clip(x, lo), mapRef((v) => Math.max(v, lo), [x]), "float64");
        },
      ),
      { numRuns: 30 },
    );
    const g = grad((v: ArrayBase) => np.sum(np.clip(v, -1, 1)))(np.array([-2, -1, 0, 1, 2], { dtype: "float64" }));
    expect(g.toArray()).toEqual([0, 0.5, 1, 0.5, 0]);
    checkGrad((v: ArrayBase) => np.clip(v, -1, 1), [np.array([-2.5, -0.3, 0.7, 1.9], { dtype: "float64" }) as NDArray]);
  });

  it("round: ties to even, decimals, and integers with negative decimals", () => {
    expect(np.round(np.array([0.5, 1.5, 2.5, -0.5, -2.5], { dtype: "float64" })).toArray()).toEqual([0, 2, 2, -0, -2]);
    expect(np.round(np.array([1.2345, -2.5678], { dtype: "float64" }), { decimals: 2 }).toArray()).toEqual([1.23, -2.57]);
    expect(np.round(np.array([1250, 1350, -1250, 1249], { dtype: "int32" }), { decimals: -2 }).toArray()).toEqual([1200, 1400, -1200, 1200]);
    expect(np.trunc(np.array([-1.7, 1.7], { dtype: "float64" })).toArray()).toEqual([-1, 1]);
  });

  it("classification and logic", () => {
    const x = np.array([NaN, Infinity, -Infinity, 0, -2.5], { dtype: "float64" });
    expect(np.isnan(x).toArray()).toEqual([true, false, false, false, false]);
    expect(np.isinf(x).toArray()).toEqual([false, true, true, false, false]);
    expect(np.isfinite(x).toArray()).toEqual([false, false, false, true, true]);
    const i = np.array([0, 3], { dtype: "int32" });
    expect([np.isnan(i).toArray(), np.isinf(i).toArray(), np.isfinite(i).toArray()]).toEqual([[false, false], [false, false], [true, true]]);
    expect(np.isfinite(i).dtype).toBe("bool");
    expect(np.logicalAnd(np.array([0, 1, NaN]), np.array([1, 1, 1])).toArray()).toEqual([false, true, true]);
    expect(np.logicalOr(np.array([0, 0]), np.array([0, 2])).toArray()).toEqual([false, true]);
    expect(np.logicalXor(np.array([true, true]), np.array([true, false])).toArray()).toEqual([false, true]);
    expect(np.logicalNot(np.array([0, 2], { dtype: "int32" })).toArray()).toEqual([true, false]);
    expect(np.bitwiseAnd(np.array([12], { dtype: "int32" }), 10).toArray()).toEqual([8]);
    expect(np.bitwiseNot(np.array([0], { dtype: "int32" })).toArray()).toEqual([-1]);
    expect(() => np.bitwiseNot(np.array([1.5]))).toThrow(/np.bitwiseNot: needs a bool or int32 input, got float32[\s\S]*hint: use np.logicalNot/);
  });

  it("astype truncates floats to int32, maps nonzero to true, and passes gradients between floats", () => {
    const x = np.array([-1.7, 0, 2.9, NaN], { dtype: "float64" });
    expect(np.astype(x, "int32").toArray()).toEqual([-1, 0, 2, 0]);
    expect(np.astype(x, "bool").toArray()).toEqual([true, false, true, true]);
    expect(np.astype(x, "float32").dtype).toBe("float32");
    expect(grad((v: ArrayBase) => np.sum(np.astype(np.multiply(v, 2), "float32")))(np.array([1, 2], { dtype: "float64" })).toArray()).toEqual([2, 2]);
    expect(() => np.astype(x, "int64" as never)).toThrow(/np.astype: unknown dtype "int64"/);
  });

  it("astype to int32 saturates out-of-range values and infinities, as XLA converts", () => {
    const big = np.array([Infinity, -Infinity, 3e9, -3e9, 2147483647.5, -2147483648.5, NaN], { dtype: "float64" });
    expect(np.astype(big, "int32").toArray()).toEqual([2147483647, -2147483648, 2147483647, -2147483648, 2147483647, -2147483648, 0]);
    expect(np.astype(np.array([1e10, -1e10]), "int32").toArray()).toEqual([2147483647, -2147483648]);
    // Building an int32 array from JS values converts the same way.
    expect(np.array([3e9, Infinity, NaN, -2.7], { dtype: "int32" }).toArray()).toEqual([2147483647, 2147483647, 0, -2]);
    expect(np.array(new Float64Array([-3e9, 2.7]), { dtype: "int32" }).toArray()).toEqual([-2147483648, 2]);
    expect(np.full([2], -Infinity, { dtype: "int32" }).toArray()).toEqual([-2147483648, -2147483648]);
  });

  it("a JS integer outside the int32 range meeting int32 is an error (JAX's OverflowError), not a wrapped value", () => {
    const i = np.array([1], { dtype: "int32" });
    expect(() => np.add(i, 3e9)).toThrow(ValueError);
    expect(() => np.add(i, 3e9)).toThrow(/the JS number 3000000000 is outside the int32 range/);
    expect(() => np.maximum(i, -2147483649)).toThrow(/-2147483649 is outside the int32 range/);
    expect(np.add(i, 2 ** 31 - 1).toArray()).toEqual([-2147483648]); // in range: int32 arithmetic wraps, as in XLA
    expect(np.add(np.array([1]), 3e9).toArray()).toEqual([3000000000]); // float32 takes it
  });

  it("logaddexp is stable for large inputs, handles infinities and has the softmax gradient", () => {
    fc.assert(
      fc.property(
        arbBroadcastShapes(2).chain(([sx, sy]) => fc.tuple(arbValues(sx!, "float64", -30, 30), arbValues(sy!, "float64", -30, 30))),
        ([x, y]) => expectRef(np.logaddexp(x, y), mapRef((a, b) => Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b))), [x, y]), "float64"),
      ),
      { numRuns: 30 },
    );
    const big = np.array([1000, -Infinity, -Infinity, Infinity], { dtype: "float64" });
    const other = np.array([1000, -Infinity, 0, Infinity], { dtype: "float64" });
    expect(np.logaddexp(big, other).toArray()).toEqual([1000 + Math.LN2, -Infinity, 0, Infinity]);
    const x = np.array([0.5, -1, 2], { dtype: "float64" });
    const y = np.array([0.5, 1, -3], { dtype: "float64" });
    const [gx] = grad((a: ArrayBase, b: ArrayBase) => np.sum(np.logaddexp(a, b)), { argnums: [0, 1] })(x, y) as ArrayBase[];
    expectRef(gx!, mapRef((a, b) => 1 / (1 + Math.exp(b - a)), [x, y]), "float64");
    checkGrad(np.logaddexp, [x as NDArray, np.array([0.7, 1, -3], { dtype: "float64" }) as NDArray]);
  });

  it("log2, log10, exp2, reciprocal, rsqrt, cbrt", () => {
    const x = np.array([1, 8, 1000, 0.25], { dtype: "float64" });
    expectRef(np.log2(x), mapRef(Math.log2, [x]), "float64", 4);
    expectRef(np.log10(x), mapRef(Math.log10, [x]), "float64", 4);
    expect(np.log2(np.array([8])).item()).toBe(3);
    expectRef(np.exp2(x), mapRef((v) => 2 ** v, [x]), "float64");
    expectRef(np.reciprocal(x), mapRef((v) => 1 / v, [x]), "float64");
    expectRef(np.rsqrt(x), mapRef((v) => 1 / Math.sqrt(v), [x]), "float64");
    expectRef(np.cbrt(x), mapRef(Math.cbrt, [x]), "float64");
  });
});

describe("error messages", () => {
  const f32 = np.array([1, 2]);
  const f64 = np.array([1, 2], { dtype: "float64" });
  const i32 = np.array([1, 2], { dtype: "int32" });

  it("a dtype mismatch at the lax level names both types and points to np", () => {
    expect(() => lax.add(f32, f64)).toThrow(DTypeError);
    expect(() => lax.add(f32, f64)).toThrow(/add: inputs must share a dtype, got f32\[2\] and f64\[2\] \(argument 1\)/);
    // A JS value where a primitive needs an array is a typed error naming the op, not a crash in a rule.
    expect(() => lax.add(f32, 1 as never)).toThrow(ValueError);
    expect(() => lax.add(f32, 1 as never)).toThrow(/add: argument 1 is a number, not an array/);
    expect(() => lax.exp([1, 2] as never)).toThrow(/exp: argument 0 is a JS array, not an array/);
    expect(() => lax.mul(f32, i32)).toThrow(/hint: convert with np.astype, or use the np.\* function, which promotes dtypes/);
  });

  it("shapes that do not broadcast are named, at the lax and np levels, eagerly and under tracing", () => {
    const a = np.ones([2, 3]);
    const b = np.ones([4]);
    expect(() => np.add(a, b)).toThrow(ShapeError);
    expect(() => np.add(a, b)).toThrow(/add: shapes \[2, 3\], \[4\] do not broadcast/);
    expect(() => lax.max(a, b)).toThrow(/max: shapes \[2, 3\], \[4\] do not broadcast/);
    expect(() => makeJaxpr((u: ArrayBase) => np.where(np.greater(u, 0), u, b))(a)).toThrow(/np.where: shapes \[2, 3\], \[2, 3\], \[4\] do not broadcast \(argument 2 of shape \[4\]/);
  });

  it("a broadcast error from an np function names the np function, not the primitive it binds", () => {
    const a = np.ones([2, 3]);
    const b = np.ones([4]);
    const cases: [string, () => unknown][] = [
      ["np.add", () => np.add(a, b)],
      ["np.subtract", () => np.subtract(a, b)],
      ["np.multiply", () => np.multiply(a, b)],
      ["np.divide", () => np.divide(a, b)],
      ["np.floorDivide", () => np.floorDivide(a, b)],
      ["np.mod", () => np.mod(a, b)],
      ["np.power", () => np.power(a, b)],
      ["np.maximum", () => np.maximum(a, b)],
      ["np.minimum", () => np.minimum(a, b)],
      ["np.clip", () => np.clip(a, b)],
      ["np.less", () => np.less(a, b)],
      ["np.equal", () => np.equal(a, b)],
      ["np.logicalAnd", () => np.logicalAnd(a, b)],
      ["np.bitwiseOr", () => np.bitwiseOr(np.astype(a, "int32"), np.astype(b, "int32"))],
      ["np.arctan2", () => np.arctan2(a, b)],
      ["np.logaddexp", () => np.logaddexp(a, b)],
    ];
    for (const [name, f] of cases) {
      expect(f).toThrow(ShapeError);
      expect(f).toThrow(new RegExp(`^${name}: shapes \\[2, 3\\], \\[4\\] do not broadcast \\(argument 1 of shape \\[4\\] does not fit \\[2, 3\\]\\)\n  at .*elementwise_np\\.test\\.ts:\\d+\n  hint: NumPy broadcasting`));
    }
    // The same message while tracing, before anything runs.
    expect(() => makeJaxpr((u: ArrayBase) => np.multiply(u, b))(a)).toThrow(/^np\.multiply: shapes \[2, 3\], \[4\] do not broadcast/);
    // Promotion first: an int32 argument of the wrong shape is reported with its shape, as the others.
    expect(() => np.add(a, np.ones([4], { dtype: "int32" }))).toThrow(/^np\.add: shapes \[2, 3\], \[4\] do not broadcast/);
  });

  it("a float-only op on int32 at the lax level says which dtypes it accepts and how to convert", () => {
    expect(() => lax.sin(i32)).toThrow(DTypeError);
    expect(() => lax.sin(i32)).toThrow(/sin: input has dtype int32, but sin accepts float32, float64/);
    expect(() => lax.erfInv(i32)).toThrow(/hint: convert integers first, e\.g\. np\.astype\(x, 'float32'\)/);
    expect(() => lax.atan2(i32, i32)).toThrow(/atan2: input has dtype int32, but atan2 accepts float32, float64/);
  });

  it("bad params and arguments", () => {
    expect(() => lax.integerPow(i32, -2)).toThrow(ValueError);
    expect(() => lax.integerPow(i32, -2)).toThrow(/integer_pow: an int32 input cannot be raised to the negative power -2/);
    expect(() => lax.integerPow(f32, 1.5)).toThrow(/lax.integerPow: y must be an integer, got 1.5/);
    expect(() => lax.round(f32, 7 as never)).toThrow(/round: rounding_method must be 0 \(AWAY_FROM_ZERO\) or 1 \(TO_NEAREST_EVEN\), got 7/);
    expect(() => np.where(np.array([true]))).toThrow(/np.where: needs three arguments/);
    expect(() => np.subtract(np.array([true]), np.array([false]))).toThrow(/np.subtract does not accept bool inputs/);
    expect(() => np.negative(np.array([true]))).toThrow(/np.negative does not accept bool inputs/);
  });

  it("errors carry the user's source line", () => {
    try {
      lax.sin(i32);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CotangentError);
      expect((e as CotangentError).source).toMatch(/elementwise_np\.test\.ts:\d+/);
    }
  });
});
