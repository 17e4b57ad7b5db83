/**
 * `np` transcendental and rounding functions. Transcendental functions promote integers
 * and bools to float32 (as JAX does); rounding functions return integers unchanged.
 */
import type { ArrayBase } from "../array.js";
import * as b from "../primitives/binary.js";
import * as c from "../primitives/compare.js";
import { scalar } from "../primitives/common.js";
import { convertElementType } from "../primitives/structural.js";
import * as u from "../primitives/unary.js";
import { type ArrayLike, asArray, checkBroadcast, promoteToFloat } from "./coerce.js";

/** An elementwise function of one array. */
export type UnaryFunction = (x: ArrayLike) => ArrayBase;

/** Lifts a float-only primitive to the np API: ints and bools become float32 first. */
const floatFn =
  (op: (x: ArrayBase) => ArrayBase): UnaryFunction =>
  (x) =>
    op(promoteToFloat(x)[0]!);

const isIntegral = (a: ArrayBase) => a.dtype === "int32" || a.dtype === "bool";

/** e^x. */
export const exp = floatFn(u.exp);
/** 2^x. */
export const exp2 = floatFn(u.exp2);
/** e^x - 1, accurate for small x. */
export const expm1 = floatFn(u.expm1);
/** Natural logarithm. */
export const log = floatFn(u.log);
/** log(1 + x), accurate for small x. */
export const log1p = floatFn(u.log1p);
/** Base-2 logarithm (log(x) / log(2), as JAX computes it). */
export const log2 = floatFn((a) => b.div(u.log(a), scalar(Math.LN2, a.dtype)));
/** Base-10 logarithm. */
export const log10 = floatFn((a) => b.div(u.log(a), scalar(Math.LN10, a.dtype)));
/** Square root. */
export const sqrt = floatFn(u.sqrt);
/** 1 / sqrt(x). */
export const rsqrt = floatFn(u.rsqrt);
/** Cube root. */
export const cbrt = floatFn(u.cbrt);
/** 1 / x (integers become float32). */
export const reciprocal = floatFn((a) => b.div(scalar(1, a.dtype), a));

/** The logistic sigmoid 1 / (1 + e^-x). */
export const sigmoid = floatFn(u.logistic);
/** The error function. */
export const erf = floatFn(u.erf);

export const sin = floatFn(u.sin);
export const cos = floatFn(u.cos);
export const tan = floatFn(u.tan);
export const arcsin = floatFn(u.asin);
export const arccos = floatFn(u.acos);
export const arctan = floatFn(u.atan);
export const sinh = floatFn(u.sinh);
export const cosh = floatFn(u.cosh);
export const tanh = floatFn(u.tanh);
export const arcsinh = floatFn(u.asinh);
export const arccosh = floatFn(u.acosh);
export const arctanh = floatFn(u.atanh);

/** The angle of the point (x2, x1) from the positive x axis: atan(x1 / x2) in the right quadrant. */
export const arctan2 = (x1: ArrayLike, x2: ArrayLike): ArrayBase => b.atan2(...checkBroadcast("np.arctan2", promoteToFloat(x1, x2) as [ArrayBase, ArrayBase]));

/**
 * log(e^x1 + e^x2) without overflow: max + log1p(e^-|x1 - x2|). Where both are the same
 * infinity (x1 - x2 is NaN) the sum is returned. At x1 = x2 the gradient splits evenly.
 */
export const logaddexp = (x1: ArrayLike, x2: ArrayLike): ArrayBase => {
  const [a, z] = checkBroadcast("np.logaddexp", promoteToFloat(x1, x2) as [ArrayBase, ArrayBase]);
  const delta = b.sub(a, z);
  // -|delta| as min(delta, -delta): at delta = 0 its derivative splits to 0 (abs' is 1 there,
  // as in JAX), so the gradient of logaddexp(x, x) is 1/2 per argument.
  const smooth = b.add(b.max(a, z), u.log1p(u.exp(b.min(delta, u.neg(delta)))));
  return c.select(c.ne(delta, delta), b.add(a, z), smooth);
};

/** `x * x` (keeps the dtype; bools become int32, as JAX's promote_dtypes_numeric). */
export const square = (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return u.square(a.dtype === "bool" ? convertElementType(a, "int32") : a);
};

/** |x| (keeps the dtype; bools are returned unchanged). Its gradient at 0 is 0. */
export const abs = (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return a.dtype === "bool" ? a : u.abs(a);
};
export const absolute = abs;

/** -1, 0 or 1 by the sign of x (NaN stays NaN, -0 stays -0); zero gradient. */
export const sign = (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return a.dtype === "bool" ? a : u.sign(a);
};

/** Largest integer <= x (integers are returned unchanged); zero gradient. */
export const floor = (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return isIntegral(a) ? a : u.floor(a);
};

/** Smallest integer >= x (integers are returned unchanged); zero gradient. */
export const ceil = (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return isIntegral(a) ? a : u.ceil(a);
};

/** Rounds toward zero (integers are returned unchanged); zero gradient. */
export const trunc = (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return isIntegral(a) ? a : c.select(c.lt(a, scalar(0, a.dtype)), u.ceil(a), u.floor(a));
};

export interface RoundOptions {
  /** Decimal places to keep (negative: round to tens, hundreds, ...). Default 0. */
  decimals?: number;
}

/**
 * Rounds to `decimals` places, ties to even as NumPy does (`np.round(2.5)` is 2; lax.round
 * breaks ties away from zero instead). Integers are unchanged unless decimals < 0. Zero gradient.
 */
export const round = (x: ArrayLike, options: RoundOptions = {}): ArrayBase => {
  const decimals = options.decimals ?? 0;
  const a = asArray(x);
  const even = (v: ArrayBase) => u.round(v, u.RoundingMethod.TO_NEAREST_EVEN);
  if (isIntegral(a)) {
    if (decimals >= 0) return a;
    // Round in float64, where every int32 is exact, then convert back.
    const f = scalar(10 ** -decimals, "float64");
    return convertElementType(b.mul(even(b.div(convertElementType(a, "float64"), f)), f), a.dtype);
  }
  if (decimals === 0) return even(a);
  const f = scalar(10 ** decimals, a.dtype);
  return b.div(even(b.mul(a, f)), f);
};
export const around = round;
