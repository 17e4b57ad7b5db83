/**
 * `np.quantile`, `np.percentile` and `np.median`, as NumPy computes them: sort along the
 * reduced axes, then read (and for `linear`/`midpoint` blend) the order statistics around
 * position `q * (n - 1)`. A slice holding a NaN gives NaN. Differentiable in the data (the
 * gradient flows through the sort's permutation to the one or two elements read) and, for
 * `linear`, in `q`; traceable and batchable.
 */
import { ArrayBase, NDArray } from "../array.js";
import type { Axes, PositionalOr } from "../api/arg_types.js";
import { parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { ValueError } from "../errors.js";
import { add, div, mul, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { eq, ne, select } from "../primitives/compare.js";
import { reduceSum } from "../primitives/reduce.js";
import { gather } from "../primitives/indexing.js";
import { sortMulti } from "../primitives/sort.js";
import { broadcastInDim, broadcastTo, convertElementType, reshape, transpose } from "../primitives/structural.js";
import { RoundingMethod, ceil, floor, round } from "../primitives/unary.js";
import { type ArrayLike, promoteToFloat } from "./coerce.js";
import { reductionAxes } from "./reductions.js";

/** How a quantile between two order statistics is read (NumPy's `method`). */
export type QuantileMethod = "linear" | "lower" | "higher" | "nearest" | "midpoint";
const METHODS: readonly QuantileMethod[] = ["linear", "lower", "higher", "nearest", "midpoint"];

/** Options of `np.quantile` and `np.percentile`. */
export interface QuantileOptions {
  /** Axes to reduce (an axis, a list, or `null`/absent for all). */
  axis?: Axes;
  /** Accepted as NumPy takes it; arrays are immutable, so it changes nothing. */
  overwriteInput?: boolean;
  /** `'linear'` (default), `'lower'`, `'higher'`, `'nearest'` (ties to even) or `'midpoint'`. */
  method?: QuantileMethod;
  /** Keep the reduced axes as size 1. */
  keepdims?: boolean;
}
/** `np.quantile(a, q, axis, out, overwriteInput, method, keepdims)` and its options form. */
export type QuantileArgs = PositionalOr<[axis: Axes, out: null, overwriteInput: boolean, method: QuantileMethod, keepdims: boolean], QuantileOptions>;

interface Parsed {
  axis?: Axes;
  method?: QuantileMethod;
  keepdims?: boolean;
}

const quantileSig = (name: string) =>
  signature(name, ["a:array!", "q:array!", "axis:axes", "out:out", "overwriteInput:bool", { name: "method", kind: "string", choices: METHODS }, "keepdims:bool"]);

/** What both quantile readers share: `q` as fractions, the shapes, and the slices sorted (NaNs last). */
interface SortedSlices {
  a: ArrayBase;
  q: ArrayBase;
  keptShape: number[];
  outShape: number[];
  /** The slice axis of `flat` and `sorted` (after the kept axes). */
  last: number;
  /** `a` as [kept..., n]. */
  flat: ArrayBase;
  sorted: ArrayBase;
}

/** Validates `q` (in [0, scale]) and sorts `a`'s slices over `axis`; an empty slice gives the all-NaN result. */
const sortedSlices = (op: string, a0: ArrayLike, q0: ArrayLike, o: Parsed, scale: number): SortedSlices | ArrayBase => {
  const [a, qRaw] = promoteToFloat(a0, q0) as [ArrayBase, ArrayBase];
  const q = scale === 1 ? qRaw : div(qRaw, scalar(scale, qRaw.dtype));
  if (q instanceof NDArray) {
    for (const v of q.toTypedArray()) {
      if (!(v >= 0 && v <= 1)) throw new ValueError(`${scale === 1 ? "quantiles" : "percentiles"} must be in the range [0, ${scale}], got ${v * scale}`, { op });
    }
  }
  const axes = reductionAxes(op, a, o.axis);
  const kept = a.shape.map((_, k) => k).filter((k) => !axes.includes(k));
  const keptShape = kept.map((k) => a.shape[k]!);
  const n = axes.reduce((p, k) => p * a.shape[k]!, 1);
  const outKept = o.keepdims ? a.shape.map((d, k) => (axes.includes(k) ? 1 : d)) : keptShape;
  const outShape = [...q.shape, ...outKept];
  if (n === 0) return broadcastInDim(scalar(NaN, a.dtype), outShape, []);
  const flat = reshape(transpose(a, [...kept, ...axes]), [...keptShape, n]);
  const last = keptShape.length;
  const sorted = sortMulti([flat], { dimension: last, is_stable: true, num_keys: 1 })[0]!;
  return { a, q, keptShape, outShape, last, flat, sorted };
};

/**
 * The order statistic at float position `pos` by `method`: `read` gathers at integer
 * positions; `frac` shapes `pos - floor(pos)` like the reads (for 'linear').
 */
const atPosition = (method: string, pos: ArrayBase, read: (at: ArrayBase) => ArrayBase, frac: (f: ArrayBase) => ArrayBase, dtype: DType): ArrayBase => {
  const lo = floor(pos);
  const hi = ceil(pos);
  if (method === "lower") return read(lo);
  if (method === "higher") return read(hi);
  if (method === "nearest") return read(round(pos, RoundingMethod.TO_NEAREST_EVEN));
  const [vlo, vhi] = [read(lo), read(hi)];
  return method === "midpoint" ? mul(add(vlo, vhi), scalar(0.5, dtype)) : add(vlo, mul(sub(vhi, vlo), frac(sub(pos, lo))));
};

/** The quantiles `q` (fractions, any shape Q) of `a` over `axis`: shape Q + the kept axes. */
const quantileOf = (op: string, a0: ArrayLike, q0: ArrayLike, o: Parsed, scale: number): ArrayBase => {
  const s = sortedSlices(op, a0, q0, o, scale);
  if (s instanceof ArrayBase) return s;
  const { a, q, keptShape, outShape, last, sorted } = s;
  const pos = mul(q, scalar(sorted.shape[last]! - 1, q.dtype));
  // Reads the order statistics at (float) index array `at` of shape Q: result [Q..., kept...].
  const read = (at: ArrayBase): ArrayBase => {
    const g = gather(sorted, convertElementType(at, "int32"), { axis: last, batch_dims: 0 });
    const qAxes = q.shape.map((_, k) => last + k);
    return transpose(g, [...qAxes, ...keptShape.map((_, k) => k)]);
  };
  const asQ = (t: ArrayBase) => broadcastInDim(t, [...q.shape, ...keptShape], q.shape.map((_, k) => k));
  let r = atPosition(o.method ?? "linear", pos, read, asQ, a.dtype);
  // A slice holding a NaN has a NaN quantile (NumPy); the sort moved it to the end.
  const lastVal = reshape(gather(sorted, scalar(sorted.shape[last]! - 1, "int32"), { axis: last, batch_dims: 0 }), keptShape);
  const hasNan = broadcastTo(ne(lastVal, lastVal), [...q.shape, ...keptShape]);
  r = select(hasNan, broadcastInDim(scalar(NaN, a.dtype), r.shape, []), r);
  return reshape(r, outShape);
};

/**
 * The NaN-ignoring quantiles: each slice uses only its non-NaN values (sorted first, since
 * NaNs sort last), so the read position `q * (count - 1)` differs per slice and the reads
 * are a batched gather. An all-NaN slice gives NaN.
 */
const nanQuantileOf = (op: string, a0: ArrayLike, q0: ArrayLike, o: Parsed, scale: number): ArrayBase => {
  const s = sortedSlices(op, a0, q0, o, scale);
  if (s instanceof ArrayBase) return s;
  const { a, q, keptShape, outShape, last, flat, sorted } = s;
  // count[kept...]: the non-NaN values of each slice.
  const count = reduceSum(convertElementType(eq(flat, flat), a.dtype), [last]);
  const full = [...keptShape, ...q.shape];
  const qAt = broadcastInDim(q, full, q.shape.map((_, k) => last + k));
  const cAt = broadcastInDim(count, full, keptShape.map((_, k) => k));
  const pos = mul(qAt, sub(cAt, scalar(1, a.dtype)));
  const read = (at: ArrayBase): ArrayBase => {
    const idx = convertElementType(at, "int32");
    // One batch axis per kept axis: gather wants the index axes flat after them.
    const g = gather(sorted, reshape(idx, [...keptShape, q.size]), { axis: last, batch_dims: last });
    return reshape(g, full);
  };
  let r = atPosition(o.method ?? "linear", pos, read, (f) => f, a.dtype);
  r = select(eq(cAt, scalar(0, a.dtype)), broadcastInDim(scalar(NaN, a.dtype), full, []), r);
  // [kept..., Q...] -> [Q..., kept...]
  const qAxes = q.shape.map((_, k) => last + k);
  return reshape(transpose(r, [...qAxes, ...keptShape.map((_, k) => k)]), outShape);
};

const nanQuantileSig = quantileSig("np.nanQuantile");
/** `np.nanQuantile(a, q, ...)`: {@link quantile} ignoring NaNs (NaN only where a slice is all NaN). */
export const nanQuantile = withSignature(nanQuantileSig, (a: ArrayLike, q: ArrayLike, ...args: QuantileArgs): ArrayBase =>
  nanQuantileOf("np.nanQuantile", a, q, parseArgs<Parsed>(nanQuantileSig, [a, q, ...args]), 1),
);

const nanPercentileSig = quantileSig("np.nanPercentile");
/** `np.nanPercentile(a, q, ...)`: {@link percentile} ignoring NaNs. */
export const nanPercentile = withSignature(nanPercentileSig, (a: ArrayLike, q: ArrayLike, ...args: QuantileArgs): ArrayBase =>
  nanQuantileOf("np.nanPercentile", a, q, parseArgs<Parsed>(nanPercentileSig, [a, q, ...args]), 100),
);

const quantileSigNp = quantileSig("np.quantile");
/**
 * `np.quantile(a, q, axis = null, out = null, overwriteInput = false, method = 'linear',
 * keepdims = false)`: the `q`-th quantiles (`q` in [0, 1], a number or an array of any shape,
 * whose axes lead the result) of `a` over `axis`. Integers become float32.
 */
export const quantile = withSignature(quantileSigNp, (a: ArrayLike, q: ArrayLike, ...args: QuantileArgs): ArrayBase =>
  quantileOf("np.quantile", a, q, parseArgs<Parsed>(quantileSigNp, [a, q, ...args]), 1),
);

const percentileSig = quantileSig("np.percentile");
/** `np.percentile(a, q, ...)`: {@link quantile} with `q` in percent ([0, 100]). */
export const percentile = withSignature(percentileSig, (a: ArrayLike, q: ArrayLike, ...args: QuantileArgs): ArrayBase =>
  quantileOf("np.percentile", a, q, parseArgs<Parsed>(percentileSig, [a, q, ...args]), 100),
);

/** Options of `np.median`. */
export interface MedianOptions {
  axis?: Axes;
  overwriteInput?: boolean;
  keepdims?: boolean;
}
/** `np.median(a, axis, out, overwriteInput, keepdims)` and its options form. */
export type MedianArgs = PositionalOr<[axis: Axes, out: null, overwriteInput: boolean, keepdims: boolean], MedianOptions>;

const medianSig = signature("np.median", ["a:array!", "axis:axes", "out:out", "overwriteInput:bool", "keepdims:bool"]);
/**
 * `np.median(a, axis = null, out = null, overwriteInput = false, keepdims = false)`: the
 * middle value over `axis` (the mean of the two middle ones for an even count); NaN when the
 * slice holds a NaN. Its gradient goes to the middle element(s), half each for an even count.
 */
export const median = withSignature(medianSig, (a: ArrayLike, ...args: MedianArgs): ArrayBase => {
  const o = parseArgs<Parsed>(medianSig, [a, ...args]);
  return quantileOf("np.median", a, 0.5, { ...o, method: "midpoint" }, 1);
});

const nanMedianSig = signature("np.nanMedian", ["a:array!", "axis:axes", "out:out", "overwriteInput:bool", "keepdims:bool"]);
/** `np.nanMedian(a, axis, out, overwriteInput, keepdims)`: {@link median} ignoring NaNs (NaN only for an all-NaN slice). */
export const nanMedian = withSignature(nanMedianSig, (a: ArrayLike, ...args: MedianArgs): ArrayBase => {
  const o = parseArgs<Parsed>(nanMedianSig, [a, ...args]);
  return nanQuantileOf("np.nanMedian", a, 0.5, { ...o, method: "midpoint" }, 1);
});
