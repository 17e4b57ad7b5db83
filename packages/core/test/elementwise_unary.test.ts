import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrayBase, type NDArray, grad, lax, np } from "@cotangent/core";
import { checkGrad, checkSecondOrder, checkTransposition, checkVmap, typecheckTransforms } from "./harness.js";
import { type FloatDType, arbShape, arbValues, expectRef, mapRef } from "./elementwise_ref.js";
import { elementwiseExpr } from "../src/primitives/elementwise.js";
import * as u from "../src/primitives/unary.js";
import * as b from "../src/primitives/binary.js";
import type { Primitive } from "../src/ir/primitive.js";

/** Applies a primitive through its impl. */
const applyImpl = (p: Primitive, x: ArrayBase) => p.impl([x as NDArray], {})[0]!;

/** erf by A&S 7.1.6 (a series of positive terms) below 3 and the Laplace continued fraction above: independent of Cody's rational functions. */
export const erfRef = (x: number): number => {
  const a = Math.abs(x);
  if (Number.isNaN(x)) return NaN;
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200 && term > 1e-18 * sum; n++) {
      term *= (2 * a * a) / (2 * n + 1);
      sum += term;
    }
    r = (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
  } else {
    // erfc(a) = exp(-a²)/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), evaluated bottom-up.
    let f = a;
    for (let n = 60; n >= 1; n--) f = a + n / 2 / f;
    r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? -r : r;
};

/** erf⁻¹ by bisection on {@link erfRef}. */
const erfInvRef = (y: number): number => {
  let lo = -7;
  let hi = 7;
  for (let i = 0; i < 200 && lo < hi; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (erfRef(mid) < y) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
};

interface UnaryCase {
  name: string;
  op: (x: ArrayBase) => ArrayBase;
  ref: (v: number) => number;
  /** Domain of the property test. */
  lo: number;
  hi: number;
  /** Domain of the derivative checks, away from kinks and singularities (defaults to lo..hi). */
  glo?: number;
  ghi?: number;
  /** Allowed error in ulps of the result (float kernels are Math.* in float64, rounded once). */
  ulps?: number;
  /** Derivative is zero (skip transposition, which needs a nonzero linear map to be informative). */
  zeroGrad?: boolean;
  /** Moves derivative-check points off the op's jumps (finite differences straddle them). */
  offJumps?: (v: number) => number;
  /** Absolute error allowed in float64 on top of ulps (ill-conditioned references). */
  absTol?: number;
}

const offIntegers = (v: number) => Math.floor(v) + 0.3;
const offZero = (v: number) => (v >= 0 ? v + 0.1 : v - 0.1);

const halfEven = (v: number): number => {
  const f = Math.floor(v);
  const d = v - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
};
const halfAway = (v: number): number => (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));

const CASES: UnaryCase[] = [
  { name: "neg", op: lax.neg, ref: (v) => -v, lo: -5, hi: 5 },
  { name: "exp", op: lax.exp, ref: Math.exp, lo: -5, hi: 5 },
  { name: "exp2", op: lax.exp2, ref: (v) => 2 ** v, lo: -5, hi: 5 },
  { name: "log", op: lax.log, ref: Math.log, lo: 0.01, hi: 10 },
  { name: "log1p", op: lax.log1p, ref: Math.log1p, lo: -0.9, hi: 10 },
  { name: "expm1", op: lax.expm1, ref: Math.expm1, lo: -5, hi: 5 },
  { name: "logistic", op: lax.logistic, ref: (v) => 1 / (1 + Math.exp(-v)), lo: -10, hi: 10 },
  { name: "sin", op: lax.sin, ref: Math.sin, lo: -6, hi: 6 },
  { name: "cos", op: lax.cos, ref: Math.cos, lo: -6, hi: 6 },
  { name: "tan", op: lax.tan, ref: Math.tan, lo: -1.4, hi: 1.4 },
  { name: "asin", op: lax.asin, ref: Math.asin, lo: -1, hi: 1, glo: -0.9, ghi: 0.9 },
  { name: "acos", op: lax.acos, ref: Math.acos, lo: -1, hi: 1, glo: -0.9, ghi: 0.9 },
  { name: "atan", op: lax.atan, ref: Math.atan, lo: -5, hi: 5 },
  { name: "sinh", op: lax.sinh, ref: Math.sinh, lo: -4, hi: 4 },
  { name: "cosh", op: lax.cosh, ref: Math.cosh, lo: -4, hi: 4 },
  { name: "tanh", op: lax.tanh, ref: Math.tanh, lo: -5, hi: 5 },
  { name: "asinh", op: lax.asinh, ref: Math.asinh, lo: -5, hi: 5 },
  { name: "acosh", op: lax.acosh, ref: Math.acosh, lo: 1, hi: 10, glo: 1.1 },
  { name: "atanh", op: lax.atanh, ref: Math.atanh, lo: -0.99, hi: 0.99, glo: -0.9, ghi: 0.9 },
  { name: "sqrt", op: lax.sqrt, ref: Math.sqrt, lo: 0, hi: 10, glo: 0.1 },
  { name: "rsqrt", op: lax.rsqrt, ref: (v) => 1 / Math.sqrt(v), lo: 0.01, hi: 10, glo: 0.1 },
  { name: "cbrt", op: lax.cbrt, ref: Math.cbrt, lo: -10, hi: 10, glo: 0.1 },
  { name: "square", op: lax.square, ref: (v) => v * v, lo: -5, hi: 5 },
  { name: "integer_pow 3", op: (x) => lax.integerPow(x, 3), ref: (v) => v * v * v, lo: -3, hi: 3 },
  { name: "integer_pow -2", op: (x) => lax.integerPow(x, -2), ref: (v) => 1 / (v * v), lo: 0.2, hi: 3 },
  { name: "integer_pow 0", op: (x) => lax.integerPow(x, 0), ref: () => 1, lo: -3, hi: 3, zeroGrad: true },
  { name: "integer_pow 1", op: (x) => lax.integerPow(x, 1), ref: (v) => v, lo: -3, hi: 3 },
  { name: "abs", op: lax.abs, ref: Math.abs, lo: -5, hi: 5, glo: 0.1 },
  { name: "sign", op: lax.sign, ref: (v) => (v > 0 ? 1 : v < 0 ? -1 : v), lo: -5, hi: 5, zeroGrad: true, offJumps: offZero },
  { name: "floor", op: lax.floor, ref: Math.floor, lo: -5, hi: 5, zeroGrad: true, offJumps: offIntegers },
  { name: "ceil", op: lax.ceil, ref: Math.ceil, lo: -5, hi: 5, zeroGrad: true, offJumps: offIntegers },
  { name: "round (away from zero)", op: (x) => lax.round(x), ref: halfAway, lo: -5, hi: 5, zeroGrad: true, offJumps: offIntegers },
  { name: "round (to even)", op: (x) => lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN), ref: halfEven, lo: -5, hi: 5, zeroGrad: true, offJumps: offIntegers },
  { name: "erf", op: lax.erf, ref: erfRef, lo: -6, hi: 6, ulps: 8 },
  { name: "erfc", op: lax.erfc, ref: (v) => 1 - erfRef(v), lo: -6, hi: 0.4, ulps: 8 },
  { name: "erf_inv", op: lax.erfInv, ref: (v) => erfInvRef(v), lo: -0.999, hi: 0.999, glo: -0.9, ghi: 0.9, absTol: 1e-13 },
];

const sized = (lo: number, hi: number, dtype: FloatDType) => arbShape().chain((s) => arbValues(s, dtype, lo, hi));

describe("unary primitives match a reference loop", () => {
  for (const c of CASES) {
    for (const dtype of ["float32", "float64"] as const) {
      it(`${c.name} ${dtype}`, () => {
        fc.assert(
          fc.property(sized(c.lo, c.hi, dtype), (x) => {
            expectRef(c.op(x), mapRef(c.ref, [x]), dtype, c.ulps ?? 4, dtype === "float64" ? (c.absTol ?? (c.ulps ? 1e-15 : 0)) : 0);
          }),
          { numRuns: 25 },
        );
      });
    }
  }

  it("round breaks exact ties as documented (lax: away from zero, np: to even) and keeps -0", () => {
    const x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -0.4, 1e300], { dtype: "float64" });
    expect(lax.round(x).toArray()).toEqual([-3, -2, -1, 1, 2, 3, -0, 1e300]);
    expect(np.round(x).toArray()).toEqual([-2, -2, -0, 0, 2, 2, -0, 1e300]);
    expect(Object.is(np.round(x).toArray()[2], -0)).toBe(true);
  });

  it("sign keeps NaN and the sign of zero; is exact on int32", () => {
    const s = lax.sign(np.array([NaN, -0, 0, -3, 2], { dtype: "float64" })).toArray();
    expect(Number.isNaN(s[0])).toBe(true);
    expect(Object.is(s[1], -0) && Object.is(s[2], 0)).toBe(true);
    expect(lax.sign(np.array([-7, 0, 9], { dtype: "int32" })).toArray()).toEqual([-1, 0, 1]);
  });

  it("int32 ops wrap like int32 arithmetic", () => {
    const big = np.array([2147483647, -2147483648, 46341, -5], { dtype: "int32" });
    expect(lax.neg(big).toArray()).toEqual([-2147483647, -2147483648, -46341, 5]);
    expect(lax.square(big).toArray()).toEqual([1, 0, Math.imul(46341, 46341), 25]);
    expect(lax.abs(big).toArray()).toEqual([2147483647, -2147483648, 46341, 5]);
    expect(lax.integerPow(np.array([3, -2, 7], { dtype: "int32" }), 5).toArray()).toEqual([243, -32, 16807]);
    expect(lax.integerPow(np.array([3], { dtype: "int32" }), 40).toArray()).toEqual([Number(BigInt.asIntN(32, 3n ** 40n))]);
  });

  it("special values: log(0) = -inf, sqrt(-1) = NaN, logistic saturates, exp overflows to inf in float32", () => {
    expect(lax.log(np.array([0, -1], { dtype: "float64" })).toArray()).toEqual([-Infinity, NaN]);
    expect(lax.sqrt(np.array(-1, { dtype: "float64" })).item()).toBeNaN();
    expect(lax.logistic(np.array([-800, 800], { dtype: "float64" })).toArray()).toEqual([0, 1]);
    expect(lax.exp(np.array([100])).item()).toBe(Infinity);
    expect(lax.erf(np.array([-Infinity, Infinity, NaN], { dtype: "float64" })).toArray()).toEqual([-1, 1, NaN]);
    expect(lax.erfInv(np.array([-1, 1, 1.5, NaN, -0], { dtype: "float64" })).toArray()).toEqual([-Infinity, Infinity, NaN, NaN, -0]);
  });
});

describe("unary primitive derivatives", () => {
  const gradCases = CASES.map((c) => ({ ...c, glo: c.glo ?? c.lo, ghi: c.ghi ?? c.hi }));
  const values = (shape: number[], c: UnaryCase & { glo: number; ghi: number }) =>
    fc
      .array(fc.double({ min: c.glo, max: c.ghi, noNaN: true }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })
      .map((v) => np.array(Float64Array.from(v.map(c.offJumps ?? ((x) => x))), { dtype: "float64", shape }) as NDArray);
  const small = (c: UnaryCase & { glo: number; ghi: number }) => arbShape(2, 1, 3).chain((s) => values(s, c));
  const batched = (c: UnaryCase & { glo: number; ghi: number }) => arbShape(2, 1, 3).chain((s) => values([2, ...s], c));

  for (const c of gradCases) {
    it(`${c.name}: grad, transposition`, () => {
      fc.assert(
        fc.property(small(c), (x) => {
          checkGrad(c.op, [x], { tol: 1e-5 });
          if (!c.zeroGrad) checkTransposition(c.op, [x]);
        }),
        { numRuns: 25 },
      );
    });

    it(`${c.name}: second derivative, vmap, typecheck of every transform`, () => {
      fc.assert(
        fc.property(small(c), batched(c), (x, xs) => {
          // The jvp rules must themselves be differentiable: check Hessian-vector products.
          checkSecondOrder(c.op, [x], { tol: 1e-4 });
          checkVmap(c.op, [xs]);
          typecheckTransforms(c.op, [x]);
        }),
        { numRuns: 4 },
      );
    });
  }

  it("derivatives at the kinks follow JAX: abs'(0) = 1, floor/round/sign' = 0, sqrt'(0) = inf", () => {
    const at = (f: (x: ArrayBase) => ArrayBase, v: number) => grad((x: ArrayBase) => np.sum(f(x)))(np.array([v], { dtype: "float64" })).toArray()[0];
    expect(at(lax.abs, 0)).toBe(1);
    expect(at(lax.abs, -2)).toBe(-1);
    expect(at(lax.floor, 1)).toBe(0);
    expect(at((x) => lax.round(x), 0.5)).toBe(0);
    expect(at(lax.sign, 0)).toBe(0);
    expect(at(lax.sqrt, 0)).toBe(Infinity);
    expect(at((x) => lax.integerPow(x, 2), 0)).toBe(0);
    expect(at((x) => lax.integerPow(x, 0), 0)).toBe(0);
  });
});

describe("elementwiseExpr (the expressions a fusing compiler inlines)", () => {
  it("evaluates to what the primitive computes; ops with hand-written loops have none", () => {
    const x = np.array([0.3, -1.7, 2.5], { dtype: "float64" });
    for (const p of [u.expP, u.logisticP, u.tanhP, u.signP, u.absP, u.squareP]) {
      const expr = elementwiseExpr(p, "float64")!;
      const f = new Function("x", `return ${expr};`) as (v: number) => number;
      const want = applyImpl(p, x).toArray() as number[];
      expect((x.toArray() as number[]).map(f)).toEqual(want);
    }
    const even = new Function("x", `return ${elementwiseExpr(u.roundP, "float64", { rounding_method: 1 })};`) as (v: number) => number;
    expect([0.5, 1.5, 2.5].map(even)).toEqual([0, 2, 2]);
    expect(elementwiseExpr(u.erfP, "float64")).toBeNull();
    expect(elementwiseExpr(u.integerPowP, "float64", { y: 2 })).toBeNull();
    expect(elementwiseExpr(b.powP, "int32")).toBeNull();
    expect(elementwiseExpr(b.powP, "float64")).toContain("Math.pow");
  });
});
