/**
 * `np` transcendental and rounding functions. Transcendental functions promote integers
 * and bools to float32 (as JAX does); rounding functions return integers unchanged.
 */
import type { PositionalOr } from "../api/arg_types.js";
import { arrayFn, parseArgs, signature, withSignature } from "../api/args.js";
import { type ArrayBase, NDArray } from "../array.js";
import * as b from "../primitives/binary.js";
import * as c from "../primitives/compare.js";
import { scalar } from "../primitives/common.js";
import { broadcastTo, convertElementType } from "../primitives/structural.js";
import { type CustomJvpFunction, customJvp } from "../higher/custom.js";
import { broadcastShapes } from "../shape.js";
import * as u from "../primitives/unary.js";
import { type ArrayLike, asArray, checkBroadcast, promoteToFloat } from "./coerce.js";

/** An elementwise function of one array. */
export type UnaryFunction = (x: ArrayLike) => ArrayBase;

/** Lifts a float-only primitive to the np API: ints and bools become float32 first. */
const floatFn = (name: string, op: (x: ArrayBase) => ArrayBase): UnaryFunction => arrayFn(name, ["x:array!"], (x: ArrayLike) => op(promoteToFloat(x)[0]!));

const isIntegral = (a: ArrayBase) => a.dtype === "int32" || a.dtype === "bool";

/** e^x. */
export const exp = floatFn("np.exp", u.exp);
/** 2^x. */
export const exp2 = floatFn("np.exp2", u.exp2);
/** e^x - 1, accurate for small x. */
export const expm1 = floatFn("np.expm1", u.expm1);
/** Natural logarithm. */
export const log = floatFn("np.log", u.log);
/** log(1 + x), accurate for small x. */
export const log1p = floatFn("np.log1p", u.log1p);
/** Base-2 logarithm (log(x) / log(2), as JAX computes it). */
export const log2 = floatFn("np.log2", (a) => b.div(u.log(a), scalar(Math.LN2, a.dtype)));
/** Base-10 logarithm. */
export const log10 = floatFn("np.log10", (a) => b.div(u.log(a), scalar(Math.LN10, a.dtype)));
/** Square root. */
export const sqrt = floatFn("np.sqrt", u.sqrt);
/** 1 / sqrt(x). */
export const rsqrt = floatFn("np.rsqrt", u.rsqrt);
/** Cube root. */
export const cbrt = floatFn("np.cbrt", u.cbrt);
/** 1 / x (integers become float32). */
export const reciprocal = floatFn("np.reciprocal", (a) => b.div(scalar(1, a.dtype), a));

/** The logistic sigmoid 1 / (1 + e^-x). */
export const sigmoid = floatFn("np.sigmoid", u.logistic);
/** The error function. */
export const erf = floatFn("np.erf", u.erf);

export const sin = floatFn("np.sin", u.sin);
export const cos = floatFn("np.cos", u.cos);
export const tan = floatFn("np.tan", u.tan);
export const arcsin = floatFn("np.arcsin", u.asin);
export const arccos = floatFn("np.arccos", u.acos);
export const arctan = floatFn("np.arctan", u.atan);
export const sinh = floatFn("np.sinh", u.sinh);
export const cosh = floatFn("np.cosh", u.cosh);
export const tanh = floatFn("np.tanh", u.tanh);
export const arcsinh = floatFn("np.arcsinh", u.asinh);
export const arccosh = floatFn("np.arccosh", u.acosh);
export const arctanh = floatFn("np.arctanh", u.atanh);

/** The angle of the point (x2, x1) from the positive x axis: atan(x1 / x2) in the right quadrant. */
export const arctan2 = arrayFn("np.arctan2", ["x1:array!", "x2:array!"], (x1: ArrayLike, x2: ArrayLike): ArrayBase => b.atan2(...checkBroadcast("np.arctan2", promoteToFloat(x1, x2) as [ArrayBase, ArrayBase])));

type Pair = [ArrayBase, ArrayBase];

/** +inf replaced by 0 (JAX's `_replace_inf`), so the logaddexp derivatives stay finite at +inf. */
const replacePosInf = (x: ArrayBase): ArrayBase => c.select(c.eq(x, scalar(Infinity, x.dtype)), scalar(0, x.dtype), x);

/**
 * `log(base^a + base^z)` as JAX's lax.logaddexp / logaddexp2 compute it: max + log1p(base^-|a - z|)
 * (the sum where a - z is NaN: NaN inputs, or the same infinity twice), differentiated by
 * JAX's rule `d/da = base^(a - out)` with +inf read as 0. So at (-inf, -inf) the gradient
 * is NaN, at (-inf, y) it is (0, 1), and at a tie it splits evenly, as in JAX.
 */
const logAddExpBase = (op: string, base: "e" | "2") => {
  const ln2 = (a: ArrayBase) => scalar(Math.LN2, a.dtype);
  const expB = (v: ArrayBase) => (base === "e" ? u.exp(v) : u.exp2(v));
  const primal = (a: ArrayBase, z: ArrayBase): ArrayBase => {
    const delta = b.sub(a, z);
    const tail = u.log1p(expB(u.neg(u.abs(delta))));
    const smooth = b.add(b.max(a, z), base === "e" ? tail : b.div(tail, ln2(tail)));
    return c.select(c.ne(delta, delta), b.add(a, z), smooth);
  };
  const f: CustomJvpFunction<(a: ArrayBase, z: ArrayBase) => ArrayBase> = customJvp(primal);
  f.defJvp(([a, z]: Pair, [ta, tz]: Pair) => {
    const out = f(a, z);
    const weight = (x: ArrayBase) => expB(b.sub(replacePosInf(x), replacePosInf(out)));
    return [out, b.add(b.mul(ta, weight(a)), b.mul(tz, weight(z)))];
  });
  return (x1: ArrayLike, x2: ArrayLike): ArrayBase => {
    const [a, z] = checkBroadcast(op, promoteToFloat(x1, x2) as Pair);
    // Concrete operands are not being differentiated: skip tracing the custom rule (4x faster eagerly).
    if (a instanceof NDArray && z instanceof NDArray) return primal(a, z);
    const shape = broadcastShapes(a.shape, z.shape)!;
    return f(broadcastTo(a, shape), broadcastTo(z, shape));
  };
};

/** log(e^x1 + e^x2) without overflow (see {@link logAddExpBase} for infinities and the gradient). */
export const logaddexp = logAddExpBase("np.logaddexp", "e");
/** log2(2^x1 + 2^x2) without overflow; the base-2 twin of {@link logaddexp}. */
export const logaddexp2 = logAddExpBase("np.logaddexp2", "2");

/**
 * sqrt(x1^2 + x2^2) without overflow, as JAX computes it: max * sqrt(1 + (min/max)^2), with
 * 0 where both are 0 and inf where either is infinite (even if the other is NaN). Its gradient
 * at (0, 0) is JAX's: abs' is 1 at 0 and the tie of max splits, so (0.5, 0.5).
 */
export const hypot = arrayFn("np.hypot", ["x1:array!", "x2:array!"], (x1: ArrayLike, x2: ArrayLike): ArrayBase => {
  const [p, q] = checkBroadcast("np.hypot", promoteToFloat(x1, x2) as Pair);
  const [a, z] = [u.abs(p), u.abs(q)];
  const inf = scalar(Infinity, a.dtype);
  const anyInf = c.bitwiseOr(c.eq(a, inf), c.eq(z, inf));
  const [hi, lo] = [b.max(a, z), b.min(a, z)];
  const zero = c.eq(hi, scalar(0, hi.dtype));
  const ratio = b.div(lo, c.select(zero, scalar(1, hi.dtype), hi));
  const r = c.select(zero, hi, b.mul(hi, u.sqrt(b.add(scalar(1, hi.dtype), u.square(ratio)))));
  return c.select(anyInf, inf, r);
})

/**
 * The normalised sinc, sin(pi x) / (pi x), with sinc(0) = 1 and sinc(±inf) = 0. At 0 the value
 * comes from sin(y)/y's Maclaurin polynomial (through y^8), so derivatives there are exact
 * through the ninth: sinc'(0) = 0 and sinc''(0) = -pi^2/3, as JAX's series rule gives.
 */
export const sinc = arrayFn("np.sinc", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = promoteToFloat(x)[0]!;
  const k = (v: number) => scalar(v, a.dtype);
  const isZero = c.eq(a, k(0));
  const isInf = c.eq(u.abs(a), k(Infinity));
  const y = b.mul(k(Math.PI), a);
  const safe = c.select(c.bitwiseOr(isZero, isInf), k(1), y);
  const y2 = u.square(y);
  // 1 - y²/3! + y⁴/5! - y⁶/7! + y⁸/9!, in Horner form.
  let series: ArrayBase = k(1 / 362880);
  for (const coef of [-1 / 5040, 1 / 120, -1 / 6, 1]) series = b.add(b.mul(series, y2), k(coef));
  const r = c.select(isZero, series, b.div(u.sin(safe), safe));
  return c.select(isInf, k(0), r);
})

/**
 * The Heaviside step: 0 where x1 < 0, 1 where x1 > 0, x2 where x1 == 0 (NaN where x1 is NaN).
 * Integers and bools become float32, as in JAX. Its gradient is 0 in x1, and flows to x2 where x1 == 0.
 */
export const heaviside = arrayFn("np.heaviside", ["x1:array!", "x2:array!"], (x1: ArrayLike, x2: ArrayLike): ArrayBase => {
  const [a, z] = checkBroadcast("np.heaviside", promoteToFloat(x1, x2) as Pair);
  const shape = broadcastShapes(a.shape, z.shape)!;
  const [x, h] = [broadcastTo(a, shape), broadcastTo(z, shape)];
  const zero = scalar(0, x.dtype);
  return c.select(c.lt(x, zero), zero, c.select(c.gt(x, zero), scalar(1, x.dtype), c.select(c.ne(x, x), x, h)));
})

/** `x * x` (keeps the dtype; bools become int32, as JAX's promote_dtypes_numeric). */
export const square = arrayFn("np.square", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return u.square(a.dtype === "bool" ? convertElementType(a, "int32") : a);
})

/** |x| (keeps the dtype; bools are returned unchanged). Its gradient at 0 is 0. */
export const abs = arrayFn("np.abs", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return a.dtype === "bool" ? a : u.abs(a);
})
export const absolute = abs;

/** -1, 0 or 1 by the sign of x (NaN stays NaN, -0 stays -0); zero gradient. */
export const sign = arrayFn("np.sign", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return a.dtype === "bool" ? a : u.sign(a);
})

/** Largest integer <= x (integers are returned unchanged); zero gradient. */
export const floor = arrayFn("np.floor", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return isIntegral(a) ? a : u.floor(a);
})

/** Smallest integer >= x (integers are returned unchanged); zero gradient. */
export const ceil = arrayFn("np.ceil", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return isIntegral(a) ? a : u.ceil(a);
})

/** Rounds toward zero (integers are returned unchanged); zero gradient. */
export const trunc = arrayFn("np.trunc", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return isIntegral(a) ? a : c.select(c.lt(a, scalar(0, a.dtype)), u.ceil(a), u.floor(a));
})

/** `np.round(x, decimals, out)` and its options form. */
export type RoundArgs = PositionalOr<[decimals: number, out: null], RoundOptions>;

export interface RoundOptions {
  /** Decimal places to keep (negative: round to tens, hundreds, ...). Default 0. */
  decimals?: number;
}

/**
 * Rounds to `decimals` places, ties to even as NumPy does (`np.round(2.5)` is 2; lax.round
 * breaks ties away from zero instead). Integers are unchanged unless decimals < 0. Zero gradient.
 */
const roundSig = signature("np.round", ["x:array!", "decimals:int", "out:out"]);
export const round = withSignature(roundSig, (x: ArrayLike, ...args: RoundArgs): ArrayBase => {
  const { decimals = 0 } = parseArgs<{ decimals?: number }>(roundSig, [x, ...args]);
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
});
export const around = round;
