/**
 * NaN-ignoring reductions, as JAX's `jnp.nan*`: NaNs are replaced by the reduction's identity
 * (0 for sums, 1 for products, ∓inf for max/min) before reducing, so their gradient is 0.
 * Integer and bool inputs have no NaNs and reduce as the plain function. A slice that is all
 * NaN gives NaN for `nanMax`/`nanMin`/`nanMean`/`nanVar`/`nanStd`, 0 for `nanSum`, 1 for
 * `nanProd`, and -1 for `nanArgmax`/`nanArgmin` (JAX's sentinel; NumPy raises instead).
 */
import type { ArrayBase } from "../array.js";
import type { ArgReduceArgs, Axes, Axis, MaxArgs, SumArgs } from "../api/arg_types.js";
import { parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { div, sub, mul } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { bitwiseNot, ne, select } from "../primitives/compare.js";
import { convertElementType } from "../primitives/structural.js";
import { sqrt } from "../primitives/unary.js";
import { type ArrayLike, asArray, promoteToFloat } from "./coerce.js";
import { all, argmax, argmin, cumprod, cumsum, max, mean, min, prod, sum, type CumulativeArgs, type VarArgs } from "./reductions.js";
import { le } from "../primitives/compare.js";

const isFloat = (a: ArrayBase) => a.dtype === "float32" || a.dtype === "float64";
const isNan = (a: ArrayBase) => ne(a, a);
/** `a` with NaNs replaced by `fill`. */
const fillNan = (a: ArrayBase, fill: number) => select(isNan(a), scalar(fill, a.dtype), a);

interface Parsed {
  x: ArrayLike;
  axis?: Axes;
  dtype?: DType | null;
  keepdims?: boolean;
  ddof?: number;
  reverse?: boolean;
}

const sumLike = (name: string, plain: typeof sum, identity: number) => {
  const sig = signature(name, ["x:array!", "axis:axes", "dtype:dtype", "out:out", "keepdims:bool"]);
  return withSignature(sig, (x: ArrayLike, ...args: SumArgs): ArrayBase => {
    const o = parseArgs<Parsed>(sig, [x, ...args]);
    const a = asArray(o.x);
    return plain(isFloat(a) ? fillNan(a, identity) : a, { axis: o.axis, dtype: o.dtype, keepdims: o.keepdims });
  });
};

/** Sum over `axis` treating NaN as 0: `np.nanSum(x, axis?, dtype?, out?, keepdims?)`. */
export const nanSum = sumLike("np.nanSum", sum, 0);
/** Product over `axis` treating NaN as 1: `np.nanProd(x, axis?, dtype?, out?, keepdims?)`. */
export const nanProd = sumLike("np.nanProd", prod, 1);

const maxLike = (name: string, plain: typeof max, identity: number) => {
  const sig = signature(name, ["x:array!", "axis:axes", "out:out", "keepdims:bool"]);
  return withSignature(sig, (x: ArrayLike, ...args: MaxArgs): ArrayBase => {
    const o = parseArgs<Parsed>(sig, [x, ...args]);
    const a = asArray(o.x);
    if (!isFloat(a)) return plain(a, { axis: o.axis, keepdims: o.keepdims });
    const r = plain(fillNan(a, identity), { axis: o.axis, keepdims: o.keepdims });
    return select(all(isNan(a), { axis: o.axis, keepdims: o.keepdims }), scalar(NaN, a.dtype), r);
  });
};

/** Maximum over `axis` ignoring NaN (NaN where a slice is all NaN): `np.nanMax(x, axis?, out?, keepdims?)`. */
export const nanMax = maxLike("np.nanMax", max, -Infinity);
/** Minimum over `axis` ignoring NaN (NaN where a slice is all NaN): `np.nanMin(x, axis?, out?, keepdims?)`. */
export const nanMin = maxLike("np.nanMin", min, Infinity);

/** The count of non-NaN elements over `axis`, in `dtype`. */
const countNotNan = (a: ArrayBase, o: Parsed, dtype: DType): ArrayBase =>
  sum(bitwiseNot(isNan(a)), { axis: o.axis, dtype, keepdims: o.keepdims });

const nanMeanSig = signature("np.nanMean", ["x:array!", "axis:axes", "dtype:dtype", "out:out", "keepdims:bool"]);
/** Mean over `axis` of the non-NaN elements (NaN where there are none): `np.nanMean(x, axis?, dtype?, out?, keepdims?)`. */
export const nanMean = withSignature(nanMeanSig, (x: ArrayLike, ...args: SumArgs): ArrayBase => {
  const o = parseArgs<Parsed>(nanMeanSig, [x, ...args]);
  const a = asArray(o.x);
  if (!isFloat(a)) return mean(a, { axis: o.axis, dtype: o.dtype, keepdims: o.keepdims });
  const d = o.dtype ?? a.dtype;
  return div(nanSum(a, { axis: o.axis, dtype: d, keepdims: o.keepdims }), countNotNan(a, o, d));
});

/** JAX's nanvar: deviations from the NaN-ignoring mean, NaN entries contributing 0 (value and gradient). */
const nanVarianceOf = (o: Parsed): ArrayBase => {
  const floatDType = o.dtype === "float64" || o.dtype === "float32" ? o.dtype : undefined;
  const a = floatDType ? asArray(o.x, floatDType) : promoteToFloat(o.x)[0]!;
  const m = nanMean(a, { axis: o.axis, keepdims: true });
  // The double where: the NaN deviations are replaced, so no NaN reaches the gradient.
  const centered = select(isNan(a), scalar(0, a.dtype), sub(a, m));
  const n = sub(countNotNan(a, o, a.dtype), scalar(o.ddof ?? 0, a.dtype));
  const empty = le(n, scalar(0, a.dtype));
  const total = sum(mul(centered, centered), { axis: o.axis, keepdims: o.keepdims });
  const r = div(select(empty, scalar(NaN, a.dtype), total), select(empty, scalar(1, a.dtype), n));
  return o.dtype && o.dtype !== r.dtype ? convertElementType(r, o.dtype) : r;
};

const varSig = (name: string) => signature(name, ["x:array!", "axis:axes", "dtype:dtype", "out:out", "ddof:finite", "keepdims:bool"]);
const nanVarSig = varSig("np.nanVar");
/**
 * Variance over `axis` of the non-NaN elements, divided by `count - ddof` (NaN where that is
 * not positive): `np.nanVar(x, axis?, dtype?, out?, ddof?, keepdims?)`.
 */
export const nanVar = withSignature(nanVarSig, (x: ArrayLike, ...args: VarArgs): ArrayBase => nanVarianceOf(parseArgs(nanVarSig, [x, ...args])));
const nanStdSig = varSig("np.nanStd");
/** Standard deviation over `axis` of the non-NaN elements: the square root of {@link nanVar}. */
export const nanStd = withSignature(nanStdSig, (x: ArrayLike, ...args: VarArgs): ArrayBase => sqrt(nanVarianceOf(parseArgs(nanStdSig, [x, ...args]))));

const argLike = (name: string, plain: typeof argmax, fill: number) => {
  const sig = signature(name, ["x:array!", "axis:axis", "out:out", "keepdims:bool"]);
  return withSignature(sig, (x: ArrayLike, ...args: ArgReduceArgs): ArrayBase => {
    const o = parseArgs<{ x: ArrayLike; axis?: Axis; keepdims?: boolean }>(sig, [x, ...args]);
    const a = asArray(o.x);
    if (!isFloat(a)) return plain(a, { axis: o.axis, keepdims: o.keepdims });
    const r = plain(fillNan(a, fill), { axis: o.axis, keepdims: o.keepdims });
    return select(all(isNan(a), { axis: o.axis, keepdims: o.keepdims }), scalar(-1, "int32"), r);
  });
};

/** int32 index of the maximum along `axis` ignoring NaN; -1 where a slice is all NaN (as JAX). */
export const nanArgmax = argLike("np.nanArgmax", argmax, -Infinity);
/** int32 index of the minimum along `axis` ignoring NaN; -1 where a slice is all NaN (as JAX). */
export const nanArgmin = argLike("np.nanArgmin", argmin, Infinity);

const nanCumulative = (name: string, plain: typeof cumsum, identity: number) => {
  const sig = signature(name, ["x:array!", "axis:axis", "dtype:dtype", "out:out", "reverse:bool="]);
  return withSignature(sig, (x: ArrayLike, ...args: CumulativeArgs): ArrayBase => {
    const o = parseArgs<Parsed & { axis?: Axis }>(sig, [x, ...args]);
    const a = asArray(o.x);
    return plain(isFloat(a) ? fillNan(a, identity) : a, { axis: o.axis, dtype: o.dtype, reverse: o.reverse });
  });
};

/** Cumulative sum along `axis` treating NaN as 0 (the flattened array when absent). */
export const nanCumsum = nanCumulative("np.nanCumsum", cumsum, 0);
/** Cumulative product along `axis` treating NaN as 1 (the flattened array when absent). */
export const nanCumprod = nanCumulative("np.nanCumprod", cumprod, 1);
