/**
 * `np` arithmetic, comparison and logic: JAX's dtype promotion (weak JS scalars keep the
 * array's dtype), then one or a few primitives each. Transcendental functions live in
 * math.ts.
 */
import type { ArrayBase } from "../array.js";
import type { DType } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import * as b from "../primitives/binary.js";
import * as c from "../primitives/compare.js";
import { broadcastAll, scalar } from "../primitives/common.js";
import { convertElementType, full } from "../primitives/structural.js";
import * as u from "../primitives/unary.js";
import { reduceAnd } from "../primitives/reduce.js";
import type { PositionalOr } from "../api/arg_types.js";
import { arrayFn, parseArgs, signature, withSignature } from "../api/args.js";
import { type ArrayLike, asArray, checkBroadcast, checkDType, promoteArgs, promoteToFloat, resultDType } from "./coerce.js";

/** Two arrays, e.g. `np.divmod`'s quotient and remainder. */
export type ArrayPair = [ArrayBase, ArrayBase];
const zeroOf = (x: ArrayBase) => scalar(0, x.dtype);

/** Arguments promoted to their common dtype; bool is refused where NumPy/JAX refuse it. */
const numericPair = (op: string, x: ArrayLike, y: ArrayLike): ArrayPair => {
  const p = checkBroadcast(op, promoteArgs(x, y) as ArrayPair);
  if (p[0].dtype === "bool") {
    throw new DTypeError(`${op} does not accept bool inputs`, { op, hint: "convert first, e.g. np.astype(x, 'int32')" });
  }
  return p;
};

/** Arguments promoted to their common numeric dtype: two bools become int32 (JAX's promote_args_numeric). */
const numericPromoted = (op: string, x: ArrayLike, y: ArrayLike): ArrayPair => {
  const p = checkBroadcast(op, promoteArgs(x, y) as ArrayPair);
  return p[0].dtype === "bool" ? [convertElementType(p[0], "int32"), convertElementType(p[1], "int32")] : p;
};

// ---------------------------------------------------------------- arithmetic

/** `x + y` elementwise, with broadcasting (bool + bool is logical or, as in NumPy). */
export const add = arrayFn("np.add", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const [a, z] = checkBroadcast("np.add", promoteArgs(x, y) as ArrayPair);
  return a.dtype === "bool" ? c.bitwiseOr(a, z) : b.add(a, z);
})

/** `x - y` elementwise, with broadcasting. */
export const subtract = arrayFn("np.subtract", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => b.sub(...numericPair("np.subtract", x, y)));

/** `x * y` elementwise, with broadcasting (bool * bool is logical and). */
export const multiply = arrayFn("np.multiply", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const [a, z] = checkBroadcast("np.multiply", promoteArgs(x, y) as ArrayPair);
  return a.dtype === "bool" ? c.bitwiseAnd(a, z) : b.mul(a, z);
})

/** True division: integers and bools become float32. */
export const divide = arrayFn("np.divide", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => b.div(...checkBroadcast("np.divide", promoteToFloat(x, y) as ArrayPair)));
export const trueDivide = divide;

/** `-x`. */
export const negative = arrayFn("np.negative", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  if (a.dtype === "bool") throw new DTypeError("np.negative does not accept bool inputs", { op: "np.negative", hint: "use np.logicalNot" });
  return u.neg(a);
})

/** `+x` (a no-op, for symmetry with NumPy). */
export const positive = arrayFn("np.positive", ["x:array!"], (x: ArrayLike): ArrayBase => asArray(x));

/**
 * Python's `divmod` for floats, as JAX computes it: the quotient is derived from the
 * remainder so that `x == q*y + r` holds as closely as possible (`floor(x/y)` can be off by
 * one when x/y rounds up to an integer).
 */
const floatDivmod = (x: ArrayBase, y: ArrayBase): ArrayPair => {
  let r = b.rem(x, y);
  // Dividing by zero divides x itself (not x - NaN), so x // 0 is ±inf as in JAX (0 // 0 is NaN).
  let q = b.div(c.select(c.eq(y, zeroOf(y)), x, b.sub(x, r)), y);
  const fix = c.bitwiseAnd(c.ne(r, zeroOf(r)), c.ne(u.sign(y), u.sign(r)));
  r = c.select(fix, b.add(r, y), r);
  q = c.select(fix, b.sub(q, scalar(1, q.dtype)), q);
  return [u.round(q, u.RoundingMethod.TO_NEAREST_EVEN), r];
};

/**
 * Python's `x // y`: division rounded toward -infinity. Bools divide as int32; a float
 * divided by zero is ±inf (NaN for 0 // 0), as in JAX.
 */
export const floorDivide = arrayFn("np.floorDivide", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const [a, z] = numericPromoted("np.floorDivide", x, y);
  if (a.dtype !== "int32") return floatDivmod(a, z)[0];
  // Truncating division, one less where the signs differ and the division is inexact.
  const q = b.div(a, z);
  const fix = c.bitwiseAnd(c.ne(u.sign(a), u.sign(z)), c.ne(b.rem(a, z), zeroOf(a)));
  return c.select(fix, b.sub(q, scalar(1, "int32")), q);
})

/** Python's `x % y`: the remainder has the sign of the divisor (lax.rem keeps the dividend's). Bools as int32. */
export const mod = arrayFn("np.mod", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const [a, z] = numericPromoted("np.mod", x, y);
  const r = b.rem(a, z);
  const fix = c.bitwiseAnd(c.ne(r, zeroOf(r)), c.ne(c.lt(r, zeroOf(r)), c.lt(z, zeroOf(z))));
  return c.select(fix, b.add(r, z), r);
})
export const remainder = mod;

/** C's `fmod`: the remainder has the sign of the dividend (lax.rem). */
export const fmod = arrayFn("np.fmod", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => b.rem(...numericPair("np.fmod", x, y)));

/**
 * `x ** y`. An integer JS exponent uses integer_pow (exact repeated multiplication, and a
 * gradient that is defined for negative x); otherwise both promote and use pow.
 */
export const power = arrayFn("np.power", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const op = "np.power";
  if (typeof y === "number" && Number.isInteger(y)) {
    let a = asArray(x, resultDType(x, y));
    if (a.dtype === "bool") a = convertElementType(a, "int32");
    if (y < 0 && a.dtype === "int32") {
      throw new ValueError(`integers cannot be raised to the negative power ${y}`, { op, hint: "convert to float first, e.g. np.power(np.astype(x, 'float32'), y)" });
    }
    return u.integerPow(a, y);
  }
  let [a, z] = checkBroadcast(op, promoteArgs(x, y) as ArrayPair);
  if (a.dtype === "bool") [a, z] = [convertElementType(a, "int32"), convertElementType(z, "int32")];
  return b.pow(a, z);
})

/** Elementwise maximum (NaN propagates). */
export const maximum = arrayFn("np.maximum", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => b.max(...checkBroadcast("np.maximum", promoteArgs(x, y) as ArrayPair)));
/** Elementwise minimum (NaN propagates). */
export const minimum = arrayFn("np.minimum", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => b.min(...checkBroadcast("np.minimum", promoteArgs(x, y) as ArrayPair)));

/** Options of `np.clip`. */
export interface ClipOptions {
  /** The lower bound (an array broadcasts against x); null/absent for none. */
  min?: ArrayLike | null;
  /** The upper bound (an array broadcasts against x); null/absent for none. */
  max?: ArrayLike | null;
}
/** `np.clip(x, min, max)` and its options form. */
export type ClipArgs = PositionalOr<[min: ArrayLike | null, max: ArrayLike | null], ClipOptions>;

const clipSig = signature("np.clip", ["x:array!", "min:array?", "max:array?"]);

/**
 * Limits `x` to `[min, max]`, as JAX's `maximum(min, x)` then `minimum(max, x)`: either bound
 * may be null/absent, and either may be an array that broadcasts against `x` (the result has
 * the broadcast shape and the promoted dtype). Where a bound equals `x` the gradient splits
 * evenly between them, as in JAX; where min > max the result is max.
 */
export const clip = withSignature(clipSig, (x: ArrayLike, ...args: ClipArgs): ArrayBase => {
  const o = parseArgs<{ x: ArrayLike; min?: ArrayLike | null; max?: ArrayLike | null }>(clipSig, [x, ...args]);
  const bounds = [o.min, o.max].filter((v): v is ArrayLike => v !== null && v !== undefined);
  const d = resultDType(o.x, ...bounds);
  let out = asArray(o.x, d);
  checkBroadcast("np.clip", [out, ...bounds.map((v) => asArray(v, d))]);
  if (o.min !== null && o.min !== undefined) out = b.max(asArray(o.min, d), out);
  if (o.max !== null && o.max !== undefined) out = b.min(asArray(o.max, d), out);
  return out;
});

/** Options of `np.isclose` and `np.allclose`. */
export interface IsCloseOptions {
  /** Relative tolerance (default 1e-5), scaled by |b|. */
  rtol?: number;
  /** Absolute tolerance (default 1e-8). */
  atol?: number;
  /** Count NaN as equal to NaN (default false). */
  equal_nan?: boolean;
}
/** `np.isclose(a, b, rtol, atol, equal_nan)` and its options form. */
export type IsCloseArgs = PositionalOr<[rtol: number, atol: number, equal_nan: boolean], IsCloseOptions>;

const closeSig = (name: string) => signature(name, ["a:array!", "b:array!", "rtol:number", "atol:number", "equal_nan:bool"]);
const iscloseSig = closeSig("np.isclose");

const closeness = (op: string, o: { a: ArrayLike; b: ArrayLike; rtol?: number; atol?: number; equal_nan?: boolean }): ArrayBase => {
  const [a, z] = checkBroadcast(op, promoteToFloat(o.a, o.b) as ArrayPair);
  const k = (v: number) => scalar(v, a.dtype);
  // |a - b| <= atol + rtol * |b| (asymmetric in b, as NumPy); equal values (infinities too) are close.
  const inRange = c.le(u.abs(b.sub(a, z)), b.add(k(o.atol ?? 1e-8), b.mul(k(o.rtol ?? 1e-5), u.abs(z))));
  const out = c.bitwiseOr(c.eq(a, z), c.bitwiseAnd(c.isFinite(z), inRange));
  return o.equal_nan ? c.bitwiseOr(out, c.bitwiseAnd(c.ne(a, a), c.ne(z, z))) : out;
};

/**
 * Elementwise `|a - b| <= atol + rtol * |b|` (bool), as JAX: inputs promote to a float dtype,
 * equal infinities are close, NaN is close to nothing unless `equal_nan`.
 */
export const isclose = withSignature(iscloseSig, (a: ArrayLike, bArg: ArrayLike, ...args: IsCloseArgs): ArrayBase =>
  closeness("np.isclose", parseArgs(iscloseSig, [a, bArg, ...args])),
);

const allcloseSig = closeSig("np.allclose");
/** True (a bool scalar array) when every element pair is {@link isclose}; `.item()` gives the JS value. */
export const allclose = withSignature(allcloseSig, (a: ArrayLike, bArg: ArrayLike, ...args: IsCloseArgs): ArrayBase => {
  const close = closeness("np.allclose", parseArgs(allcloseSig, [a, bArg, ...args]));
  return reduceAnd(close, close.shape.map((_, i) => i));
});

// ---------------------------------------------------------------- comparisons

const comparison = (name: string, op: (x: ArrayBase, y: ArrayBase) => ArrayBase) =>
  arrayFn(name, ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => op(...checkBroadcast(name, promoteArgs(x, y) as ArrayPair)));

/** `x == y` elementwise (bool result). */
export const equal = comparison("np.equal", c.eq);
/** `x != y` elementwise (bool result). */
export const notEqual = comparison("np.notEqual", c.ne);
/** `x < y` elementwise (bool result). */
export const less = comparison("np.less", c.lt);
/** `x <= y` elementwise (bool result). */
export const lessEqual = comparison("np.lessEqual", c.le);
/** `x > y` elementwise (bool result). */
export const greater = comparison("np.greater", c.gt);
/** `x >= y` elementwise (bool result). */
export const greaterEqual = comparison("np.greaterEqual", c.ge);

/** Truthiness, as NumPy reads it: nonzero (NaN included) is true. */
const truthy = (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return a.dtype === "bool" ? a : c.ne(a, zeroOf(a));
};

/** Elementwise logical and of truth values (bool result). */
export const logicalAnd = arrayFn("np.logicalAnd", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => c.bitwiseAnd(...checkBroadcast("np.logicalAnd", [truthy(x), truthy(y)] as ArrayPair)));
/** Elementwise logical or of truth values (bool result). */
export const logicalOr = arrayFn("np.logicalOr", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => c.bitwiseOr(...checkBroadcast("np.logicalOr", [truthy(x), truthy(y)] as ArrayPair)));
/** Elementwise logical exclusive or of truth values (bool result). */
export const logicalXor = arrayFn("np.logicalXor", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => c.bitwiseXor(...checkBroadcast("np.logicalXor", [truthy(x), truthy(y)] as ArrayPair)));
/** Elementwise logical not (bool result). */
export const logicalNot = arrayFn("np.logicalNot", ["x:array!"], (x: ArrayLike): ArrayBase => c.bitwiseNot(truthy(x)));

const bitwise = (name: string, op: (x: ArrayBase, y: ArrayBase) => ArrayBase) =>
  arrayFn(name, ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
    const p = promoteArgs(x, y) as ArrayPair;
    if (p[0].dtype !== "bool" && p[0].dtype !== "int32") {
      throw new DTypeError(`needs bool or int32 inputs, got ${p[0].dtype}`, { op: name });
    }
    return op(...checkBroadcast(name, p));
  });

/** Bitwise and of int32 or bool arrays. */
export const bitwiseAnd = bitwise("np.bitwiseAnd", c.bitwiseAnd);
/** Bitwise or of int32 or bool arrays. */
export const bitwiseOr = bitwise("np.bitwiseOr", c.bitwiseOr);
/** Bitwise exclusive or of int32 or bool arrays. */
export const bitwiseXor = bitwise("np.bitwiseXor", c.bitwiseXor);
/** Bitwise not of an int32 or bool array (`~x`). */
export const bitwiseNot = arrayFn("np.bitwiseNot", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  if (a.dtype !== "bool" && a.dtype !== "int32") throw new DTypeError(`needs a bool or int32 input, got ${a.dtype}`, { op: "np.bitwiseNot", hint: "use np.logicalNot for truth values" });
  return c.bitwiseNot(a);
})

// ---------------------------------------------------------------- selection and classification

/** Options of `np.where`. */
export interface WhereOptions {
  x?: ArrayLike;
  y?: ArrayLike;
}
/** `np.where(condition, x, y)` and its options form. */
export type WhereArgs = PositionalOr<[x: ArrayLike, y: ArrayLike], WhereOptions>;

/**
 * `where(cond, x, y)`: `x` where `cond` is true, else `y`, all three broadcast together.
 * The gradient flows to `x` where cond holds and to `y` elsewhere; use it (not a JS `if`)
 * for elementwise choices on traced values.
 */
const whereSig = signature("np.where", ["condition:array!", "x:array", "y:array"]);
export const where = withSignature(whereSig, (cond: ArrayLike, ...args: WhereArgs): ArrayBase => {
  const { x, y } = parseArgs<{ x?: ArrayLike; y?: ArrayLike }>(whereSig, [cond, ...args]);
  if (x === undefined || y === undefined) {
    throw new ValueError("needs three arguments: where(cond, x, y)", {
      op: "np.where",
      hint: "the one-argument form (indices of nonzero elements) has a data-dependent shape and is not supported",
    });
  }
  const [a, z] = promoteArgs(x, y) as ArrayPair;
  const p = truthy(cond);
  // Checked here so that the message uses where's argument order (select_n takes y before x).
  broadcastAll("np.where", [p.aval, a.aval, z.aval]);
  return c.selectN(p, z, a);
});

const constantLike = (x: ArrayBase, value: boolean): ArrayBase => full(x.shape, value ? 1 : 0, "bool");

/** True where `x` is neither infinite nor NaN (always true for integers and bools). */
export const isfinite = arrayFn("np.isfinite", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return a.dtype === "float32" || a.dtype === "float64" ? c.isFinite(a) : constantLike(a, true);
})

/** True where `x` is NaN. */
export const isnan = arrayFn("np.isnan", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return a.dtype === "float32" || a.dtype === "float64" ? c.ne(a, a) : constantLike(a, false);
})

/** True where `x` is +Infinity or -Infinity. */
export const isinf = arrayFn("np.isinf", ["x:array!"], (x: ArrayLike): ArrayBase => {
  const a = asArray(x);
  return a.dtype === "float32" || a.dtype === "float64" ? c.eq(u.abs(a), scalar(Infinity, a.dtype)) : constantLike(a, false);
})

/**
 * `x` converted to `dtype` (float to int truncates toward zero, NaN becomes 0 and values
 * beyond the int32 range, infinities included, saturate to its ends; anything to
 * bool is `x != 0`). The gradient passes between float dtypes and is zero otherwise.
 */
export const astype = (x: ArrayLike, dtype: DType): ArrayBase => convertElementType(asArray(x), checkDType("np.astype", dtype));
