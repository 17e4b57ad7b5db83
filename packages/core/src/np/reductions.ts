/**
 * `np` reductions. `axis` is a number, a list of numbers, or `null`/absent for all axes;
 * `keepdims` keeps reduced axes as size 1. Booleans sum and multiply as int32, as in JAX;
 * means, variances and logsumexp work in floating point (integers become float32).
 */
import type { ArrayBase } from "../array.js";
import { ValueError } from "../errors.js";
import { div, mul, sub, add } from "../primitives/binary.js";
import { normalizeAxes, normalizeAxis, scalar } from "../primitives/common.js";
import { isFinite, selectN } from "../primitives/compare.js";
import * as C from "../primitives/cumulative.js";
import * as R from "../primitives/reduce.js";
import { stopGradient } from "../primitives/special.js";
import { broadcastInDim, convertElementType, reshape } from "../primitives/structural.js";
import { exp, log, sqrt } from "../primitives/unary.js";
import { type ArrayLike, asArray, promoteToFloat } from "./coerce.js";

export interface ReduceOptions {
  /** The axes to reduce: a number, a list, or `null`/absent for all of them. */
  axis?: number | readonly number[] | null;
  /** Keep the reduced axes as size 1, so the result broadcasts against the input. */
  keepdims?: boolean;
}

/** Normalised reduction axes for `x` (all axes when none are given); AxisError names the axis and rank. */
export const reductionAxes = (op: string, x: ArrayBase, axis: ReduceOptions["axis"]): number[] =>
  axis === undefined || axis === null ? x.shape.map((_, i) => i) : normalizeAxes(op, typeof axis === "number" ? [axis] : axis, x.ndim);

/** Re-inserts reduced axes as size 1 when `keepdims`. */
export const keepDims = (r: ArrayBase, x: ArrayBase, axes: readonly number[], keepdims: boolean | undefined): ArrayBase =>
  keepdims ? reshape(r, x.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : r;

/** The number of elements reduced over `axes`. */
const countOf = (x: ArrayBase, axes: readonly number[]): number => axes.reduce((p, k) => p * x.shape[k]!, 1);

const boolAsInt = (a: ArrayBase): ArrayBase => (a.dtype === "bool" ? convertElementType(a, "int32") : a);

/** Runs `reduce` over the normalised axes, honouring keepdims. */
const reduceWith = (op: string, x: ArrayLike, options: ReduceOptions, prep: (a: ArrayBase) => ArrayBase, reduce: (a: ArrayBase, axes: number[]) => ArrayBase): ArrayBase => {
  const a = prep(asArray(x));
  const axes = reductionAxes(op, a, options.axis);
  return keepDims(reduce(a, axes), a, axes, options.keepdims);
};

/** Sum over `axis` (bools count as int32). */
export const sum = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase => reduceWith("np.sum", x, options, boolAsInt, R.reduceSum);

/** Product over `axis` (bools as int32). Its gradient is exact with zeros in the input. */
export const prod = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase => reduceWith("np.prod", x, options, boolAsInt, R.reduceProd);

/** Arithmetic mean over `axis` (integers become float32). A mean over no elements is NaN. */
export const mean = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase =>
  reduceWith("np.mean", x, options, (a) => promoteToFloat(a)[0]!, (a, axes) => div(R.reduceSum(a, axes), scalar(countOf(a, axes), a.dtype)));

const noEmpty = (op: string, a: ArrayBase, axes: readonly number[]): void => {
  if (axes.some((k) => a.shape[k] === 0)) {
    throw new ValueError(`zero-size array to reduction operation ${op.slice(3)} which has no identity (shape [${a.shape.join(", ")}], axes (${axes.join(", ")}))`, { op });
  }
};

/**
 * Maximum over `axis` (NaN propagates). The gradient goes to the location of the maximum,
 * split evenly among ties, as in JAX. Reducing an empty axis is a ValueError.
 */
export const max = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase =>
  reduceWith("np.max", x, options, (a) => a, (a, axes) => (noEmpty("np.max", a, axes), R.reduceMax(a, axes)));

/** Minimum over `axis`; see {@link max}. */
export const min = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase =>
  reduceWith("np.min", x, options, (a) => a, (a, axes) => (noEmpty("np.min", a, axes), R.reduceMin(a, axes)));

export const amax = max;
export const amin = min;

/** True where every element along `axis` is non-zero. */
export const all = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase =>
  reduceWith("np.all", x, options, (a) => convertElementType(a, "bool"), R.reduceAnd);

/** True where some element along `axis` is non-zero. */
export const any = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase =>
  reduceWith("np.any", x, options, (a) => convertElementType(a, "bool"), R.reduceOr);

export interface ArgOptions {
  /** One axis, or `null`/absent for the index into the flattened array. */
  axis?: number | null;
  keepdims?: boolean;
}

const argReduce = (op: string, which: (x: ArrayBase, axis: number) => ArrayBase, x: ArrayLike, options: ArgOptions): ArrayBase => {
  const a = asArray(x);
  if (options.axis === undefined || options.axis === null) {
    if (a.size === 0) throw new ValueError(`attempt to get ${op.slice(3)} of an empty sequence`, { op });
    const r = which(reshape(a, [a.size]), 0);
    return options.keepdims ? reshape(r, a.shape.map(() => 1)) : r;
  }
  const axis = normalizeAxis(op, options.axis, a.ndim);
  if (a.shape[axis] === 0) throw new ValueError(`attempt to get ${op.slice(3)} of an empty sequence (axis ${axis} of shape [${a.shape.join(", ")}])`, { op });
  return keepDims(which(a, axis), a, [axis], options.keepdims);
};

/** int32 index of the first maximum along `axis` (of the flattened array when absent); NaN counts as the maximum. */
export const argmax = (x: ArrayLike, options: ArgOptions = {}): ArrayBase => argReduce("np.argmax", R.argmax, x, options);

/** int32 index of the first minimum along `axis` (of the flattened array when absent); NaN counts as the minimum. */
export const argmin = (x: ArrayLike, options: ArgOptions = {}): ArrayBase => argReduce("np.argmin", R.argmin, x, options);

export interface VarOptions extends ReduceOptions {
  /** Delta degrees of freedom: the divisor is `n - ddof` (0 by default; 1 for the unbiased estimate). */
  ddof?: number;
}

/** Variance over `axis`: mean of squared deviations, divided by `n - ddof`. */
export const variance = (x: ArrayLike, options: VarOptions = {}): ArrayBase => {
  const op = "np.var";
  const a = promoteToFloat(x)[0]!;
  const axes = reductionAxes(op, a, options.axis);
  const ddof = options.ddof ?? 0;
  if (!Number.isFinite(ddof) || ddof < 0) throw new ValueError(`ddof must be a non-negative number, got ${ddof}`, { op });
  const n = countOf(a, axes);
  const m = div(R.reduceSum(a, axes), scalar(n, a.dtype));
  const dev = sub(a, broadcastInDim(m, a.shape, R.keptAxes(a.ndim, axes)));
  // n - ddof <= 0 gives inf or NaN, as NumPy does (with a warning there).
  const v = div(R.reduceSum(mul(dev, dev), axes), scalar(Math.max(n - ddof, 0), a.dtype));
  return keepDims(v, a, axes, options.keepdims);
};
export { variance as var };

/** Standard deviation over `axis`: the square root of {@link variance} (same `ddof`). */
export const std = (x: ArrayLike, options: VarOptions = {}): ArrayBase => sqrt(variance(x, options));

/**
 * `log(sum(exp(x)))` over `axis`, computed stably as JAX does: the maximum is subtracted
 * first and added back, and it is held constant for differentiation (stop_gradient), which
 * does not change the gradient. A non-finite maximum (all -inf, or +inf) is replaced by 0,
 * so a slice of all -inf gives -inf and not NaN.
 */
export const logsumexp = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase => {
  const op = "np.logsumexp";
  const a = promoteToFloat(x)[0]!;
  const axes = reductionAxes(op, a, options.axis);
  if (a.size === 0 && countOf(a, axes) === 0) {
    // Nothing to sum: log(0) = -inf, without a max over an empty axis.
    return keepDims(log(R.reduceSum(exp(a), axes)), a, axes, options.keepdims);
  }
  const mx = R.reduceMax(a, axes);
  const shift = stopGradient(selectN(isFinite(mx), scalar(0, a.dtype), mx));
  const kept = R.keptAxes(a.ndim, axes);
  const s = R.reduceSum(exp(sub(a, broadcastInDim(shift, a.shape, kept))), axes);
  return keepDims(add(log(s), shift), a, axes, options.keepdims);
};

export interface CumulativeOptions {
  /** The axis to scan; `null`/absent scans the flattened array. */
  axis?: number | null;
  /** Scan from the end of the axis. */
  reverse?: boolean;
}

const cumulative = (op: string, scan: (x: ArrayBase, axis: number, reverse?: boolean) => ArrayBase, x: ArrayLike, options: CumulativeOptions): ArrayBase => {
  let a = boolAsInt(asArray(x));
  if (options.axis === undefined || options.axis === null) a = reshape(a, [a.size]);
  const axis = normalizeAxis(op, options.axis ?? 0, a.ndim);
  return scan(a, axis, options.reverse ?? false);
};

/** Cumulative sum along `axis` (the flattened array when absent); bools count as int32. */
export const cumsum = (x: ArrayLike, options: CumulativeOptions = {}): ArrayBase => cumulative("np.cumsum", C.cumsum, x, options);

/** Cumulative product along `axis` (the flattened array when absent). Its gradient is exact with zeros. */
export const cumprod = (x: ArrayLike, options: CumulativeOptions = {}): ArrayBase => cumulative("np.cumprod", C.cumprod, x, options);
