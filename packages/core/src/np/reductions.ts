/**
 * `np` reductions. Each takes JAX's positional arguments or an options object (see
 * api/args.ts): `np.sum(x, 1)`, `np.sum(x, 1, null, null, true)`, `np.sum(x, { axis: 1,
 * keepdims: true })`. `axis` is a number, a list of numbers, or `null`/absent for all axes;
 * `keepdims` keeps reduced axes as size 1. Booleans sum and multiply as int32, as in JAX;
 * means, variances and logsumexp work in floating point (integers become float32).
 */
import { ArrayBase } from "../array.js";
import type { ArgOptions, ArgReduceArgs, Axes, Axis, DTypeReduceOptions, MaxArgs, PositionalOr, ReduceOptions, SumArgs } from "../api/arg_types.js";
import { checkParam, describeValue, parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { ValueError } from "../errors.js";
import { div, mul, sub, add } from "../primitives/binary.js";
import { broadcastAll, normalizeAxes, normalizeAxis, scalar } from "../primitives/common.js";
import { isFinite, selectN } from "../primitives/compare.js";
import * as C from "../primitives/cumulative.js";
import * as R from "../primitives/reduce.js";
import { stopGradient } from "../primitives/special.js";
import { broadcastInDim, broadcastTo, convertElementType, reshape } from "../primitives/structural.js";
import { exp, log, sqrt } from "../primitives/unary.js";
import { type ArrayLike, asArray, promoteToFloat } from "./coerce.js";

export type { ArgOptions, DTypeReduceOptions, ReduceOptions, SumArgs, MaxArgs, ArgReduceArgs } from "../api/arg_types.js";

/** Normalised reduction axes for `x` (all axes when none are given); AxisError names the axis and rank. */
export const reductionAxes = (op: string, x: ArrayBase, axis: Axes | undefined): number[] => {
  if (!(x instanceof ArrayBase)) throw new ValueError(`expects an array, got ${describeValue(x)}`, { op: "np.reductionAxes" });
  if (axis !== undefined) checkParam(typeof op === "string" ? op : "np.reductionAxes", { name: "axis", kind: "axes" }, axis);
  return axis === undefined || axis === null ? x.shape.map((_, i) => i) : normalizeAxes(op, typeof axis === "number" ? [axis] : axis, x.ndim);
};

/** Re-inserts reduced axes as size 1 when `keepdims`. */
export const keepDims = (r: ArrayBase, x: ArrayBase, axes: readonly number[], keepdims: boolean | undefined): ArrayBase => {
  if (!keepdims) return r;
  if (!(r instanceof ArrayBase) || !(x instanceof ArrayBase) || !Array.isArray(axes)) throw new ValueError("expects the reduced array, the input array and the reduced axes", { op: "np.keepDims" });
  return reshape(r, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
};

/** The number of elements reduced over `axes`. */
const countOf = (x: ArrayBase, axes: readonly number[]): number => axes.reduce((p, k) => p * x.shape[k]!, 1);

const boolAsInt = (a: ArrayBase): ArrayBase => (a.dtype === "bool" ? convertElementType(a, "int32") : a);

interface Parsed {
  x: ArrayLike;
  axis?: Axes;
  dtype?: DType | null;
  keepdims?: boolean;
}

// JAX's positional orders: sum(a, axis, dtype, out, keepdims), max(a, axis, out, keepdims),
// argmax(a, axis, out, keepdims), var(a, axis, dtype, out, ddof, keepdims),
// logsumexp(a, axis, b, keepdims), cumsum(a, axis, dtype, out).
const sumSig = (name: string) => signature(name, ["x:array!", "axis:axes", "dtype:dtype", "out:out", "keepdims:bool"]);
const maxSig = (name: string) => signature(name, ["x:array!", "axis:axes", "out:out", "keepdims:bool"]);

/** Runs `reduce` over the normalised axes, honouring keepdims. */
const reduceWith = (op: string, o: Parsed, prep: (a: ArrayBase) => ArrayBase, reduce: (a: ArrayBase, axes: number[]) => ArrayBase): ArrayBase => {
  const a = prep(asArray(o.x));
  const axes = reductionAxes(op, a, o.axis);
  return keepDims(reduce(a, axes), a, axes, o.keepdims);
};

/** Converts to the requested accumulation dtype, or applies the default preparation. */
const inDType = (dtype: DType | null | undefined, prep: (a: ArrayBase) => ArrayBase) => (a: ArrayBase): ArrayBase =>
  dtype ? convertElementType(a, dtype) : prep(a);

const defineSum = (name: string, prep: (a: ArrayBase) => ArrayBase, reduce: (a: ArrayBase, axes: number[]) => ArrayBase) => {
  const sig = sumSig(name);
  return withSignature(sig, (x: ArrayLike, ...args: SumArgs): ArrayBase => {
    const o = parseArgs<Parsed>(sig, [x, ...args]);
    return reduceWith(name, o, inDType(o.dtype, prep), reduce);
  });
};

const defineMax = (name: string, prep: (a: ArrayBase) => ArrayBase, reduce: (a: ArrayBase, axes: number[]) => ArrayBase) => {
  const sig = maxSig(name);
  return withSignature(sig, (x: ArrayLike, ...args: MaxArgs): ArrayBase => reduceWith(name, parseArgs<Parsed>(sig, [x, ...args]), prep, reduce));
};

/** Sum over `axis` (bools count as int32): `np.sum(x, axis?, dtype?, out?, keepdims?)` or `np.sum(x, { axis, dtype, keepdims })`. */
export const sum = defineSum("np.sum", boolAsInt, R.reduceSum);

/** Product over `axis` (bools as int32). Its gradient is exact with zeros in the input. */
export const prod = defineSum("np.prod", boolAsInt, R.reduceProd);

const meanSig = sumSig("np.mean");
/** Arithmetic mean over `axis` (integers become float32; `dtype` picks the result dtype). A mean over no elements is NaN. */
export const mean = withSignature(meanSig, (x: ArrayLike, ...args: SumArgs): ArrayBase => {
  const o = parseArgs<Parsed>(meanSig, [x, ...args]);
  const floatDType = o.dtype === "float64" || o.dtype === "float32" ? o.dtype : undefined;
  const r = reduceWith("np.mean", o, inDType(floatDType, (a) => promoteToFloat(a)[0]!), (a, axes) => div(R.reduceSum(a, axes), scalar(countOf(a, axes), a.dtype)));
  return o.dtype && o.dtype !== r.dtype ? convertElementType(r, o.dtype) : r;
});

const noEmpty = (op: string, a: ArrayBase, axes: readonly number[]): void => {
  if (axes.some((k) => a.shape[k] === 0)) {
    throw new ValueError(`zero-size array to reduction operation ${op.slice(3)} which has no identity (shape [${a.shape.join(", ")}], axes (${axes.join(", ")}))`, { op });
  }
};

/**
 * Maximum over `axis` (NaN propagates): `np.max(x, axis?, out?, keepdims?)`. The gradient
 * goes to the location of the maximum, split evenly among ties, as in JAX. Reducing an
 * empty axis is a ValueError.
 */
export const max = defineMax("np.max", (a) => a, (a, axes) => (noEmpty("np.max", a, axes), R.reduceMax(a, axes)));

/** Minimum over `axis`; see {@link max}. */
export const min = defineMax("np.min", (a) => a, (a, axes) => (noEmpty("np.min", a, axes), R.reduceMin(a, axes)));

export const amax = max;
export const amin = min;

/** True where every element along `axis` is non-zero: `np.all(x, axis?, out?, keepdims?)`. */
export const all = defineMax("np.all", (a) => convertElementType(a, "bool"), R.reduceAnd);

/** True where some element along `axis` is non-zero. */
export const any = defineMax("np.any", (a) => convertElementType(a, "bool"), R.reduceOr);

const argReduce = (op: string, which: (x: ArrayBase, axis: number) => ArrayBase) => {
  const sig = signature(op, ["x:array!", "axis:axis", "out:out", "keepdims:bool"]);
  return withSignature(sig, (x: ArrayLike, ...args: ArgReduceArgs): ArrayBase => {
    const o = parseArgs<{ x: ArrayLike; axis?: Axis; keepdims?: boolean }>(sig, [x, ...args]);
    const a = asArray(o.x);
    if (o.axis === undefined || o.axis === null) {
      if (a.size === 0) throw new ValueError(`attempt to get ${op.slice(3)} of an empty sequence`, { op });
      const r = which(reshape(a, [a.size]), 0);
      return o.keepdims ? reshape(r, a.shape.map(() => 1)) : r;
    }
    const axis = normalizeAxis(op, o.axis, a.ndim);
    if (a.shape[axis] === 0) throw new ValueError(`attempt to get ${op.slice(3)} of an empty sequence (axis ${axis} of shape [${a.shape.join(", ")}])`, { op });
    return keepDims(which(a, axis), a, [axis], o.keepdims);
  });
};

/** int32 index of the first maximum along `axis` (of the flattened array when absent); NaN counts as the maximum. */
export const argmax = argReduce("np.argmax", R.argmax);

/** int32 index of the first minimum along `axis` (of the flattened array when absent); NaN counts as the minimum. */
export const argmin = argReduce("np.argmin", R.argmin);

export interface VarOptions extends DTypeReduceOptions {
  /** Delta degrees of freedom: the divisor is `n - ddof` (0 by default; 1 for the unbiased estimate). */
  ddof?: number;
}

/** `np.var(x, axis, dtype, out, ddof, keepdims)` and its options form. */
export type VarArgs = PositionalOr<[axis: Axes, dtype: DType | null, out: null, ddof: number, keepdims: boolean], VarOptions>;

const varSignature = (name: string) => signature(name, ["x:array!", "axis:axes", "dtype:dtype", "out:out", "ddof:finite", "keepdims:bool"]);

const varianceOf = (op: string, o: Parsed & { ddof?: number }): ArrayBase => {
  const floatDType = o.dtype === "float64" || o.dtype === "float32" ? o.dtype : undefined;
  const a = floatDType ? asArray(o.x, floatDType) : promoteToFloat(o.x)[0]!;
  const axes = reductionAxes(op, a, o.axis);
  const ddof = o.ddof ?? 0;
  if (ddof < 0) throw new ValueError(`ddof must be a non-negative number, got ${ddof}`, { op });
  const n = countOf(a, axes);
  const m = div(R.reduceSum(a, axes), scalar(n, a.dtype));
  const dev = sub(a, broadcastInDim(m, a.shape, R.keptAxes(a.ndim, axes)));
  // n - ddof <= 0 gives inf or NaN, as NumPy does (with a warning there).
  const v = div(R.reduceSum(mul(dev, dev), axes), scalar(Math.max(n - ddof, 0), a.dtype));
  return keepDims(v, a, axes, o.keepdims);
};

const varSig = varSignature("np.var");
/** Variance over `axis`: mean of squared deviations, divided by `n - ddof`. */
export const variance = withSignature(varSig, (x: ArrayLike, ...args: VarArgs): ArrayBase => varianceOf("np.var", parseArgs(varSig, [x, ...args])));
export { variance as var };

const stdSig = varSignature("np.std");
/** Standard deviation over `axis`: the square root of {@link variance} (same `ddof`). */
export const std = withSignature(stdSig, (x: ArrayLike, ...args: VarArgs): ArrayBase => sqrt(varianceOf("np.std", parseArgs(stdSig, [x, ...args]))));

export interface LogsumexpOptions extends ReduceOptions {
  /** Weights: the result is `log(sum(b * exp(x)))` (broadcast against x). */
  b?: ArrayLike | null;
}

/** `np.logsumexp(x, axis, b, keepdims)` (JAX's order) and its options form. */
export type LogsumexpArgs = PositionalOr<[axis: Axes, b: ArrayLike | null, keepdims: boolean], LogsumexpOptions>;

const lseSig = signature("np.logsumexp", ["x:array!", "axis:axes", { name: "b", kind: "array", nullable: true }, "keepdims:bool"]);

/**
 * `log(sum(b * exp(x)))` over `axis` (b = 1 when absent), computed stably as JAX does: the
 * maximum is subtracted first and added back, and it is held constant for differentiation
 * (stop_gradient), which does not change the gradient. A non-finite maximum (all -inf, or
 * +inf) is replaced by 0, so a slice of all -inf gives -inf and not NaN.
 */
export const logsumexp = withSignature(lseSig, (x: ArrayLike, ...args: LogsumexpArgs): ArrayBase => {
  const op = "np.logsumexp";
  const o = parseArgs<Parsed & { b?: ArrayLike | null }>(lseSig, [x, ...args]);
  let a: ArrayBase;
  let b: ArrayBase | null = null;
  if (o.b === undefined || o.b === null) a = promoteToFloat(o.x)[0]!;
  else {
    [a, b] = promoteToFloat(o.x, o.b) as [ArrayBase, ArrayBase];
    const shape = broadcastAll(op, [a.aval, b.aval]);
    [a, b] = [broadcastTo(a, shape), broadcastTo(b, shape)];
  }
  const axes = reductionAxes(op, a, o.axis);
  const weighted = (e: ArrayBase): ArrayBase => (b ? mul(e, b) : e);
  if (a.size === 0 && countOf(a, axes) === 0) {
    // Nothing to sum: log(0) = -inf, without a max over an empty axis.
    return keepDims(log(R.reduceSum(exp(a), axes)), a, axes, o.keepdims);
  }
  const mx = R.reduceMax(a, axes);
  const shift = stopGradient(selectN(isFinite(mx), scalar(0, a.dtype), mx));
  const kept = R.keptAxes(a.ndim, axes);
  const s = R.reduceSum(weighted(exp(sub(a, broadcastInDim(shift, a.shape, kept)))), axes);
  return keepDims(add(log(s), shift), a, axes, o.keepdims);
});

export interface CumulativeOptions {
  /** The axis to scan; `null`/absent scans the flattened array. */
  axis?: Axis;
  /** The dtype to accumulate in (the input is converted first). */
  dtype?: DType | null;
  /** Scan from the end of the axis. */
  reverse?: boolean;
}

/** `np.cumsum(x, axis, dtype, out)` and its options form. */
export type CumulativeArgs = PositionalOr<[axis: Axis, dtype: DType | null, out: null], CumulativeOptions>;

const cumulative = (op: string, scan: (x: ArrayBase, axis: number, reverse?: boolean) => ArrayBase) => {
  const sig = signature(op, ["x:array!", "axis:axis", "dtype:dtype", "out:out", "reverse:bool="]);
  return withSignature(sig, (x: ArrayLike, ...args: CumulativeArgs): ArrayBase => {
    const o = parseArgs<{ x: ArrayLike; axis?: Axis; dtype?: DType | null; reverse?: boolean }>(sig, [x, ...args]);
    let a = inDType(o.dtype, boolAsInt)(asArray(o.x));
    if (o.axis === undefined || o.axis === null) a = reshape(a, [a.size]);
    const axis = normalizeAxis(op, o.axis ?? 0, a.ndim);
    return scan(a, axis, o.reverse ?? false);
  });
};

/** Cumulative sum along `axis` (the flattened array when absent); bools count as int32. */
export const cumsum = cumulative("np.cumsum", C.cumsum);

/** Cumulative product along `axis` (the flattened array when absent). Its gradient is exact with zeros. */
export const cumprod = cumulative("np.cumprod", C.cumprod);
