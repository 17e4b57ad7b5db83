/**
 * `@cotangent/core/fp`: the `np` and `lax` functions in data-last form, for fp-ts's `pipe`
 * and `flow`.
 *
 * ```ts
 * import { pipe } from "fp-ts/lib/function.js";
 * import * as fp from "@cotangent/core/fp";
 * const y = pipe(x, fp.multiply(2), fp.tanh, fp.sum({ axis: 1 }));
 * ```
 *
 * A function of one array is itself (`fp.tanh`); any other takes the arguments after its
 * first and returns the function of the first (`fp.sum({ axis: 1 })`, `fp.matmul(w)`,
 * `fp.reshape([2, 3])`). `fp.lax` holds the lax functions the same way.
 */
// By the package's own name, so the built fp entry shares the built main entry (see tsup.base.ts).
import { lax as laxModule, np } from "@cotangent/core";
import { type FunctionKeys, type Pipeable, type UnaryKeys, pipeable } from "./pipeable.js";

export { type AnyFunction, type DataLast, type FunctionKeys, type IsUnary, type Pipeable, type UnaryKeys, pipeable } from "./pipeable.js";


/** np's exports that are helpers of its own implementation or constructors, not array functions. */
const NP_INTERNAL = ["Slice", "asIndices", "broadcastArrayTo", "checkBroadcast", "checkDType", "keepDims", "promoteArgs", "promoteToFloat", "reductionAxes", "resultDType", "sl"] as const;
/** lax's higher-order functions take functions first: data-last does not fit them. */
const LAX_HIGHER = ["associativeScan", "cond", "foriLoop", "map", "scan", "switch", "whileLoop"] as const;

/** The names of np's array functions, each of which has a data-last form here. */
export type NpNames = Exclude<FunctionKeys<typeof np>, (typeof NP_INTERNAL)[number]>;
/** The names of lax's functions that have a data-last form in {@link lax} (all but the higher-order ones). */
export type LaxNames = Exclude<FunctionKeys<typeof laxModule>, (typeof LAX_HIGHER)[number]>;

const namesOf = <M>(m: M, exclude: readonly string[]): string[] =>
  Object.keys(m as object).filter((k) => typeof (m as Record<string, unknown>)[k] === "function" && !exclude.includes(k)).sort();

/**
 * Which functions are unary is read from their types: `UnaryKeys` at compile time, and at
 * run time a list that the compiler checks against it (both directions) just below.
 */
const NP_UNARY = [
  "abs", "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "bitwiseNot", "cbrt", "ceil", "cos", "cosh", "erf", "exp", "exp2", "expm1",
  "floor", "isfinite", "isinf", "isnan", "log", "log10", "log1p", "log2", "logicalNot", "negative", "positive", "ravel", "reciprocal", "rsqrt", "sigmoid", "sign",
  "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc",
] as const;
const LAX_UNARY = [
  "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "bitwiseNot", "cbrt", "ceil", "cos", "cosh", "erf", "erfInv",
  "erfc", "exp", "exp2", "expm1", "floor", "isFinite", "log", "log1p", "logistic", "neg", "rsqrt", "sign", "sin", "sinh", "sqrt", "square", "tan", "tanh",
] as const;

// Compile-time: each list is exactly the unary functions of its module. If `true` is not
// assignable here, a function was added to np or lax: put its name in the list above when it
// takes exactly one argument, and in the `export const { ... }` list below (test/fp.test.ts
// also asks for a sample call of every function that takes more).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const npUnaryIsExact: Same<(typeof NP_UNARY)[number], UnaryKeys<Pick<typeof np, NpNames>>> = true;
const laxUnaryIsExact: Same<(typeof LAX_UNARY)[number], UnaryKeys<Pick<typeof laxModule, LaxNames>>> = true;
void npUnaryIsExact;
void laxUnaryIsExact;

const npForms = pipeable(np, namesOf(np, NP_INTERNAL) as NpNames[], new Set(NP_UNARY));

/** The type of `np.linalg`, whose functions `fp.linalg` turns data-last. */
export type Linalg = typeof np.linalg;
/** The names of `np.linalg`'s functions. */
export type LinalgNames = FunctionKeys<Linalg>;
/** np.linalg's functions of one array (checked against their types like NP_UNARY). */
const LINALG_UNARY = ["det", "inv", "multiDot", "slogdet", "svdvals"] as const;
const linalgUnaryIsExact: Same<(typeof LINALG_UNARY)[number], UnaryKeys<Pick<Linalg, LinalgNames>>> = true;
void linalgUnaryIsExact;

/** The np.linalg functions in data-last form: `pipe(a, fp.linalg.solve(b))`, `pipe(a, fp.linalg.det)`. */
export const linalg: Pipeable<Linalg, LinalgNames> = pipeable(np.linalg, namesOf(np.linalg, []) as LinalgNames[], new Set(LINALG_UNARY));

/** The lax functions in data-last form (the control-flow ones, which take functions first, are left out). */
export const lax: Pipeable<typeof laxModule, LaxNames> = pipeable(laxModule, namesOf(laxModule, LAX_HIGHER) as LaxNames[], new Set(LAX_UNARY));

/** The np functions in data-last form (every np array function; `test/fp.test.ts` checks none is missing). */
export const {
  abs, absolute, add, all, amax, amin, any, arange, arccos, arccosh, arcsin, arcsinh, arctan, arctan2,
  arctanh, argmax, argmin, around, array, asArray, astype, bitwiseAnd, bitwiseNot, bitwiseOr, bitwiseXor,
  broadcastTo, cbrt, ceil, clip, concatenate, cos, cosh, cumprod, cumsum, divide, dot, einsum, equal, erf,
  exp, exp2, expandDims, expm1, eye, flip, floor, floorDivide, fmod, full, fullLike, greater, greaterEqual,
  index, inner, isfinite, isinf, isnan, less, lessEqual, linspace, log, log10, log1p, log2, logaddexp,
  logicalAnd, logicalNot, logicalOr, logicalXor, logsumexp, matmul, max, maximum, mean, min, minimum, mod,
  moveaxis, multiply, negative, notEqual, ones, onesLike, outer, pad, positive, power, prod, ravel,
  reciprocal, remainder, repeat, reshape, round, rsqrt, scatterAdd, sigmoid, sign, sin, sinh, split, sqrt,
  square, squeeze, stack, std, subtract, sum, swapaxes, take, takeAlongAxis, tan, tanh, tensordot, tile, trace,
  transpose, trueDivide, trunc, variance, vdot, where, zeros, zerosLike,
  // More of jax.numpy (issue 11): matrices, nan-reductions, special functions.
  allclose, convolve, correlate, cross, diag, diagonal, fromJSON, heaviside, histogram, hypot, interp, isclose, kron, logaddexp2, meshgrid, nanArgmax, nanArgmin,
  nanCumprod, nanCumsum, nanMax, nanMean, nanMin, nanProd, nanStd, nanSum, nanVar, roll, sinc, tril, triu,
  // sorting and selection
  argpartition, argsort, median, nanMedian, nanPercentile, nanQuantile, partition, percentile, quantile, searchsorted, sort, unique,
} = npForms;
// `var` is a reserved word: it can be exported under that name, but not declared.
const { var: variance_ } = npForms;
export { variance_ as var };
