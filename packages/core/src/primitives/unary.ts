/**
 * Unary elementwise primitives: JAX's lax math set. Each is one `unaryPrimitive({...})`
 * call holding its kernel expression, accepted dtypes and jvp rule; batching is shared
 * (elementwise.ts). Kernels compute in float64 and round once when storing to float32.
 * Derivatives follow JAX: ops that are piecewise constant (floor, ceil, round, sign) have
 * a zero tangent, and abs has derivative 1 at x >= 0 and -1 below (so 1 at 0, as JAX's
 * `select(x >= 0, t, -t)`).
 */
import type { ArrayBase } from "../array.js";
import type { DType } from "../dtype.js";
import { ValueError } from "../errors.js";
import { erfInvKernel, erfKernel, erfcKernel } from "../kernels/special_math.js";
import type { UnaryKernel } from "../kernels/elementwise.js";
import { add, div, mul, sub } from "./binary.js";
import { FLOATS, NUMERIC, scalarLike } from "./common.js";
import { ge, selectN } from "./compare.js";
import { paramUnaryPrimitive, unaryPrimitive } from "./elementwise.js";

/** A scalar constant of `x`'s dtype (a Literal in a trace). */
const k = (x: ArrayBase, v: number) => scalarLike(x, v);

const LN2 = Math.LN2;
const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/sqrt(pi): erf'(0)
const HALF_SQRT_PI = 0.88622692545275801365; // sqrt(pi)/2

export const [negP, neg] = unaryPrimitive({
  name: "neg",
  expr: (d) => (d === "int32" ? "-x | 0" : "-x"),
  dtypes: NUMERIC,
  jvp: ([x], [t]) => [[neg(x!)], [t && neg(t)]],
  transpose: ([ct]) => [ct && neg(ct)],
});

// ---------------------------------------------------------------- exponentials and logarithms

export const [expP, exp] = unaryPrimitive({
  name: "exp",
  expr: "Math.exp(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = exp(x!);
    return [[y], [t && mul(t, y)]];
  },
});

export const [exp2P, exp2] = unaryPrimitive({
  name: "exp2",
  expr: "Math.pow(2, x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = exp2(x!);
    return [[y], [t && mul(t, mul(y, k(y, LN2)))]];
  },
});

export const [logP, log] = unaryPrimitive({
  name: "log",
  expr: "Math.log(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[log(x!)], [t && div(t, x!)]],
});

export const [log1pP, log1p] = unaryPrimitive({
  name: "log1p",
  expr: "Math.log1p(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[log1p(x!)], [t && div(t, add(x!, k(x!, 1)))]],
});

export const [expm1P, expm1] = unaryPrimitive({
  name: "expm1",
  expr: "Math.expm1(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = expm1(x!);
    return [[y], [t && mul(t, add(y, k(y, 1)))]];
  },
});

export const [logisticP, logistic] = unaryPrimitive({
  name: "logistic",
  expr: "1 / (1 + Math.exp(-x))",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = logistic(x!);
    return [[y], [t && mul(t, mul(y, sub(k(y, 1), y)))]];
  },
});

// ---------------------------------------------------------------- trigonometric and hyperbolic

export const [sinP, sin] = unaryPrimitive({
  name: "sin",
  expr: "Math.sin(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[sin(x!)], [t && mul(t, cos(x!))]],
});

export const [cosP, cos] = unaryPrimitive({
  name: "cos",
  expr: "Math.cos(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[cos(x!)], [t && neg(mul(t, sin(x!)))]],
});

export const [tanP, tan] = unaryPrimitive({
  name: "tan",
  expr: "Math.tan(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = tan(x!);
    return [[y], [t && mul(t, add(k(y, 1), mul(y, y)))]];
  },
});

/** 1 - x², written (1 - x)(1 + x) to keep accuracy near |x| = 1. */
const oneMinusSquare = (x: ArrayBase) => mul(sub(k(x, 1), x), add(k(x, 1), x));

export const [asinP, asin] = unaryPrimitive({
  name: "asin",
  expr: "Math.asin(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[asin(x!)], [t && mul(t, rsqrt(oneMinusSquare(x!)))]],
});

export const [acosP, acos] = unaryPrimitive({
  name: "acos",
  expr: "Math.acos(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[acos(x!)], [t && neg(mul(t, rsqrt(oneMinusSquare(x!))))]],
});

export const [atanP, atan] = unaryPrimitive({
  name: "atan",
  expr: "Math.atan(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[atan(x!)], [t && div(t, add(k(x!, 1), mul(x!, x!)))]],
});

export const [sinhP, sinh] = unaryPrimitive({
  name: "sinh",
  expr: "Math.sinh(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[sinh(x!)], [t && mul(t, cosh(x!))]],
});

export const [coshP, cosh] = unaryPrimitive({
  name: "cosh",
  expr: "Math.cosh(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[cosh(x!)], [t && mul(t, sinh(x!))]],
});

export const [tanhP, tanh] = unaryPrimitive({
  name: "tanh",
  expr: "Math.tanh(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = tanh(x!);
    return [[y], [t && mul(t, oneMinusSquare(y))]];
  },
});

export const [asinhP, asinh] = unaryPrimitive({
  name: "asinh",
  expr: "Math.asinh(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[asinh(x!)], [t && mul(t, rsqrt(add(mul(x!, x!), k(x!, 1))))]],
});

export const [acoshP, acosh] = unaryPrimitive({
  name: "acosh",
  expr: "Math.acosh(x)",
  dtypes: FLOATS,
  // 1/sqrt(x² - 1), with x² - 1 as (x - 1)(x + 1) for accuracy near 1.
  jvp: ([x], [t]) => [[acosh(x!)], [t && mul(t, rsqrt(mul(sub(x!, k(x!, 1)), add(x!, k(x!, 1)))))]],
});

export const [atanhP, atanh] = unaryPrimitive({
  name: "atanh",
  expr: "Math.atanh(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[atanh(x!)], [t && div(t, oneMinusSquare(x!))]],
});

// ---------------------------------------------------------------- roots and powers

export const [sqrtP, sqrt] = unaryPrimitive({
  name: "sqrt",
  expr: "Math.sqrt(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = sqrt(x!);
    return [[y], [t && div(t, mul(y, k(y, 2)))]];
  },
});

export const [rsqrtP, rsqrt] = unaryPrimitive({
  name: "rsqrt",
  expr: "1 / Math.sqrt(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = rsqrt(x!);
    return [[y], [t && mul(t, mul(div(y, x!), k(y, -0.5)))]];
  },
});

export const [cbrtP, cbrt] = unaryPrimitive({
  name: "cbrt",
  expr: "Math.cbrt(x)",
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = cbrt(x!);
    return [[y], [t && div(t, mul(k(y, 3), mul(y, y)))]];
  },
});

export const [squareP, square] = unaryPrimitive({
  name: "square",
  expr: (d) => (d === "int32" ? "Math.imul(x, x)" : "x * x"),
  dtypes: NUMERIC,
  jvp: ([x], [t]) => [[square(x!)], [t && mul(t, mul(x!, k(x!, 2)))]],
});

export interface IntegerPowParams {
  /** The integer exponent. */
  y: number;
}

/** x^y by repeated squaring: exact for int32 (wrapping, as XLA does), y+1 roundings at most for floats. */
const integerPowKernel = (dtype: DType, { y }: IntegerPowParams): UnaryKernel => {
  const n0 = Math.abs(y);
  const inv = y < 0;
  if (dtype === "int32") {
    return (src, out) => {
      for (let i = 0; i < out.length; i++) {
        let base = src[i]!;
        let acc = 1;
        for (let n = n0; n > 0; n >>>= 1) {
          if (n & 1) acc = Math.imul(acc, base);
          base = Math.imul(base, base);
        }
        out[i] = acc;
      }
    };
  }
  return (src, out) => {
    for (let i = 0; i < out.length; i++) {
      let base = src[i]!;
      let acc = 1;
      for (let n = n0; n > 0; n >>>= 1) {
        if (n & 1) acc *= base;
        base *= base;
      }
      out[i] = inv ? 1 / acc : acc;
    }
  };
};

export const [integerPowP, integerPowOp] = paramUnaryPrimitive<IntegerPowParams>({
  name: "integer_pow",
  kernel: integerPowKernel,
  dtypes: NUMERIC,
  checkParams: (x, { y }) => {
    if (!Number.isInteger(y) || Math.abs(y) > 2 ** 31 - 1) {
      throw new ValueError(`the exponent y must be an integer in the int32 range, got ${y}`, { op: "integer_pow", hint: "use lax.pow for a non-integer exponent" });
    }
    if (y < 0 && x.dtype === "int32") {
      throw new ValueError(`an int32 input cannot be raised to the negative power ${y}`, {
        op: "integer_pow",
        hint: "convert to a float dtype first, e.g. np.astype(x, 'float32')",
      });
    }
  },
  jvp: ([x], [t], { y }) => {
    const out = integerPow(x!, y);
    if (!t || y === 0) return [[out], [null]];
    const d = y === 1 ? k(x!, 1) : mul(k(x!, y), integerPow(x!, y - 1));
    return [[out], [mul(t, d)]];
  },
});

/** `x ** y` for an integer `y` known at trace time (lax.integer_pow). */
export const integerPow = (x: ArrayBase, y: number): ArrayBase => (y === 1 ? x : integerPowOp(x, { y }));

// ---------------------------------------------------------------- sign, magnitude, rounding

export const [signP, sign] = unaryPrimitive({
  name: "sign",
  // Floats keep NaN and the sign of zero, as lax.sign does.
  expr: (d) => (d === "int32" ? "x > 0 ? 1 : x < 0 ? -1 : 0" : "x > 0 ? 1 : x < 0 ? -1 : x"),
  dtypes: NUMERIC,
  zeroDerivative: true,
});

export const [absP, abs] = unaryPrimitive({
  name: "abs",
  expr: (d) => (d === "int32" ? "Math.abs(x) | 0" : "Math.abs(x)"),
  dtypes: NUMERIC,
  jvp: ([x], [t]) => [[abs(x!)], [t && selectN(ge(x!, k(x!, 0)), neg(t), t)]],
});

export const [floorP, floor] = unaryPrimitive({ name: "floor", expr: "Math.floor(x)", dtypes: FLOATS, zeroDerivative: true });
export const [ceilP, ceil] = unaryPrimitive({ name: "ceil", expr: "Math.ceil(x)", dtypes: FLOATS, zeroDerivative: true });

/** How `round` breaks ties, with JAX's values of `lax.RoundingMethod`. */
export const RoundingMethod = { AWAY_FROM_ZERO: 0, TO_NEAREST_EVEN: 1 } as const;
export type RoundingMethod = (typeof RoundingMethod)[keyof typeof RoundingMethod];

export interface RoundParams {
  rounding_method: RoundingMethod;
}

export const [roundP, roundOp] = paramUnaryPrimitive<RoundParams>({
  name: "round",
  // Math.round breaks ties upwards; the magnitude's tie then goes away from zero. For ties to
  // even, a tie (r - x = 0.5) that landed on an odd r steps down. Both keep -0.
  expr: (_d, { rounding_method }) =>
    rounding_method === RoundingMethod.TO_NEAREST_EVEN
      ? "(Math.round(x) - x === 0.5 && Math.round(x) % 2 !== 0) ? Math.round(x) - 1 : Math.round(x)"
      : "x < 0 ? -Math.round(-x) : Math.round(x)",
  dtypes: FLOATS,
  checkParams: (_x, { rounding_method }) => {
    if (rounding_method !== 0 && rounding_method !== 1) {
      throw new ValueError(`rounding_method must be 0 (AWAY_FROM_ZERO) or 1 (TO_NEAREST_EVEN), got ${String(rounding_method)}`, { op: "round" });
    }
  },
  zeroDerivative: true,
});

/** Rounds to the nearest integer; ties away from zero by default, as lax.round does. */
export const round = (x: ArrayBase, roundingMethod: RoundingMethod = RoundingMethod.AWAY_FROM_ZERO): ArrayBase =>
  roundOp(x, { rounding_method: roundingMethod });

// ---------------------------------------------------------------- special functions

export const [erfP, erf] = unaryPrimitive({
  name: "erf",
  kernel: () => erfKernel,
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[erf(x!)], [t && mul(t, mul(k(x!, TWO_OVER_SQRT_PI), exp(neg(mul(x!, x!)))))]],
});

export const [erfcP, erfc] = unaryPrimitive({
  name: "erfc",
  kernel: () => erfcKernel,
  dtypes: FLOATS,
  jvp: ([x], [t]) => [[erfc(x!)], [t && mul(t, mul(k(x!, -TWO_OVER_SQRT_PI), exp(neg(mul(x!, x!)))))]],
});

export const [erfInvP, erfInv] = unaryPrimitive({
  name: "erf_inv",
  kernel: () => erfInvKernel,
  dtypes: FLOATS,
  jvp: ([x], [t]) => {
    const y = erfInv(x!);
    return [[y], [t && mul(t, mul(k(y, HALF_SQRT_PI), exp(mul(y, y))))]];
  },
});
