/**
 * `np` functions of sampled signals: `convolve` and `correlate` (1-D, through
 * conv_general_dilated, as JAX lowers them), `interp` (piecewise-linear interpolation) and
 * `histogram`. All but histogram's counting are compositions of differentiable primitives.
 */
import { type ArrayBase, NDArray, bufferOf, fromBuffer } from "../array.js";
import { describeValue, parseArgs, signature, withSignature } from "../api/args.js";
import type { PositionalOr } from "../api/arg_types.js";
import { type DType, type TypedArray, typedArrayFor } from "../dtype.js";
import { ShapeError, ValueError } from "../errors.js";
import { convGeneralDilatedRaw } from "../primitives/conv.js";
import { rev, sliceInDim } from "../primitives/shape.js";
import { reshape } from "../primitives/structural.js";
import { shapeStr } from "../shape.js";
import { type ArrayLike, asArray, promoteToFloat } from "./coerce.js";
import * as el from "./elementwise.js";
import { abs } from "./math.js";
import { scatterAdd, take } from "./indexing.js";
import { max, min, sum } from "./reductions.js";
import { concatenate } from "./shape.js";

// ---------------------------------------------------------------- convolve, correlate

/** The `mode` of `np.convolve` / `np.correlate`. */
export type ConvolveMode = "full" | "same" | "valid";
/** `np.convolve(a, v, mode)` and its options form. */
export type ConvolveArgs = PositionalOr<[mode: ConvolveMode], { mode?: ConvolveMode }>;

const conv1d = (op: "np.convolve" | "np.correlate", a: ArrayLike, v: ArrayLike, mode: ConvolveMode): ArrayBase => {
  let [x, y] = promoteToFloat(a, v) as [ArrayBase, ArrayBase];
  if (x.ndim !== 1 || y.ndim !== 1) throw new ShapeError(`only supports 1-D inputs, got shapes ${shapeStr(x.shape)} and ${shapeStr(y.shape)}`, { op });
  if (x.size === 0 || y.size === 0) throw new ValueError(`inputs cannot be empty, got shapes ${shapeStr(x.shape)} and ${shapeStr(y.shape)}`, { op });
  // conv_general_dilated correlates; the longer input slides under the shorter one (as JAX and NumPy arrange it).
  let reverse = false;
  if (x.size < y.size) {
    [x, y] = [y, x];
    reverse = op === "np.correlate";
  }
  if (op === "np.convolve") y = rev(y, [0]);
  const m = y.size;
  const padding: [number, number] = mode === "valid" ? [0, 0] : mode === "same" ? [Math.floor(m / 2), m - Math.floor(m / 2) - 1] : [m - 1, m - 1];
  const out = convGeneralDilatedRaw(reshape(x, [1, 1, x.size]), reshape(y, [1, 1, m]), {
    window_strides: [1],
    padding: [padding],
    lhs_dilation: [1],
    rhs_dilation: [1],
    dimension_numbers: { lhs_spec: [0, 1, 2], rhs_spec: [0, 1, 2], out_spec: [0, 1, 2] },
    feature_group_count: 1,
    batch_group_count: 1,
    preferred_element_type: null,
  });
  const r = reshape(out, [out.size]);
  return reverse ? rev(r, [0]) : r;
};

const convolveSig = signature("np.convolve", ["a:array!", "v:array!", { name: "mode", kind: "string", choices: ["full", "same", "valid"] }]);
/**
 * The discrete linear convolution of two 1-D arrays, `out[n] = sum_m a[m] v[n - m]`: `'full'`
 * (default, length `N + M - 1`), `'same'` (length `max(N, M)`, centred) or `'valid'` (length
 * `max(N, M) - min(N, M) + 1`). Integers promote to float32, as JAX. Differentiable in both.
 */
export const convolve = withSignature(convolveSig, (a: ArrayLike, v: ArrayLike, ...args: ConvolveArgs): ArrayBase => {
  const o = parseArgs<{ a: ArrayLike; v: ArrayLike; mode?: ConvolveMode }>(convolveSig, [a, v, ...args]);
  return conv1d("np.convolve", o.a, o.v, o.mode ?? "full");
});

const correlateSig = signature("np.correlate", ["a:array!", "v:array!", { name: "mode", kind: "string", choices: ["full", "same", "valid"] }]);
/**
 * The cross-correlation of two 1-D arrays, `out[k] = sum_n a[n + k] v[n]`, with the modes
 * of {@link convolve} (default `'valid'`, as NumPy and JAX).
 */
export const correlate = withSignature(correlateSig, (a: ArrayLike, v: ArrayLike, ...args: ConvolveArgs): ArrayBase => {
  const o = parseArgs<{ a: ArrayLike; v: ArrayLike; mode?: ConvolveMode }>(correlateSig, [a, v, ...args]);
  return conv1d("np.correlate", o.a, o.v, o.mode ?? "valid");
});

// ---------------------------------------------------------------- interp

/** Options of `np.interp`. */
export interface InterpOptions {
  /** The value below `xp[0]` (default `fp[0]`), or `'extrapolate'` to continue the first segment. */
  left?: ArrayLike | "extrapolate" | null;
  /** The value above `xp[-1]` (default `fp[-1]`), or `'extrapolate'` to continue the last segment. */
  right?: ArrayLike | "extrapolate" | null;
  /** The period of periodic `xp` (angles, say); left and right are then ignored. */
  period?: number | null;
}
/** `np.interp(x, xp, fp, left, right, period)` and its options form. */
export type InterpArgs = PositionalOr<[left: ArrayLike | "extrapolate" | null, right: ArrayLike | "extrapolate" | null, period: number | null], InterpOptions>;

const interpSig = signature("np.interp", ["x:array!", "xp:array!", "fp:array!", "left:arrayOrString?", "right:arrayOrString?", { name: "period", kind: "finite", nullable: true }]);

const checkEnd = (op: string, name: string, v: unknown): void => {
  if (v === undefined || v === null || v === "extrapolate" || typeof v === "number") return;
  if (typeof v !== "string" && asArray(v as ArrayLike).ndim === 0) return;
  throw new ValueError(`${name} must be a number, a scalar array, 'extrapolate' or null, got ${describeValue(v)}`, { op, hint: typeof v === "string" ? "the only string accepted is 'extrapolate'" : undefined });
};

/** How many of the sorted `edges` are <= each element of `x` (NumPy's searchsorted side='right'), as int32. */
const countAtOrBelow = (x: ArrayBase, edges: ArrayBase): ArrayBase =>
  sum(el.lessEqual(reshape(edges, [...x.shape.map(() => 1), edges.size]), reshape(x, [...x.shape, 1])), { axis: -1 });

/** `xp` and `fp` sorted by `xp` (stable), as a permutation built from comparisons (differentiable in both). */
const sortByKey = (xp: ArrayBase, fp: ArrayBase): [ArrayBase, ArrayBase] => {
  const n = xp.size;
  const col = reshape(xp, [n, 1]);
  const row = reshape(xp, [1, n]);
  // rank[i] = #{j : xp[j] < xp[i]} + #{j < i : xp[j] == xp[i]}.
  const earlier = fromBuffer(Uint8Array.from({ length: n * n }, (_, k) => (k % n < Math.floor(k / n) ? 1 : 0)), [n, n], "bool");
  const rank = sum(el.logicalOr(el.less(row, col), el.logicalAnd(el.equal(row, col), earlier)), { axis: 1 });
  const place = (v: ArrayBase) => scatterAdd(el.multiply(v, 0), rank, v);
  return [place(xp), place(fp)];
};

/**
 * Piecewise-linear interpolation of the points `(xp, fp)` at `x`, as JAX's `jnp.interp`:
 * `xp` must be increasing (unless `period` is given: then it is reduced modulo the period and
 * sorted). Outside `[xp[0], xp[-1]]` the result is `left` / `right` (default the end values),
 * or the end segments continued with `'extrapolate'`. Differentiable in `x`, `xp` and `fp`;
 * where two `xp` coincide the gradient avoids the 0/0 (JAX's guard).
 */
export const interp = withSignature(interpSig, (x: ArrayLike, xp: ArrayLike, fp: ArrayLike, ...args: InterpArgs): ArrayBase => {
  const op = "np.interp";
  const o = parseArgs<{ x: ArrayLike; xp: ArrayLike; fp: ArrayLike; left?: unknown; right?: unknown; period?: number | null }>(interpSig, [x, xp, fp, ...args]);
  checkEnd(op, "left", o.left);
  checkEnd(op, "right", o.right);
  let [xs, xps] = promoteToFloat(o.x, o.xp) as [ArrayBase, ArrayBase];
  let fps = promoteToFloat(o.fp)[0]!;
  if (xps.ndim !== 1 || fps.ndim !== 1 || xps.size !== fps.size) {
    throw new ShapeError(`xp and fp must be 1-D arrays of equal size, got shapes ${shapeStr(xps.shape)} and ${shapeStr(fps.shape)}`, { op });
  }
  if (xps.size === 0) throw new ValueError("xp and fp must not be empty", { op });
  const period = o.period ?? null;
  if (period !== null) {
    if (period === 0) throw new ValueError("period must be non-zero", { op });
    const p = Math.abs(period);
    xs = el.mod(xs, p);
    [xps, fps] = sortByKey(el.mod(xps, p), fps);
    const n = xps.size;
    const first = (v: ArrayBase) => sliceInDim(v, 0, 1, 1, 0);
    const last = (v: ArrayBase) => sliceInDim(v, n - 1, n, 1, 0);
    xps = concatenate([el.subtract(last(xps), p), xps, el.add(first(xps), p)]);
    fps = concatenate([last(fps), fps, first(fps)]);
  }
  const n = xps.size;
  const i = el.clip(countAtOrBelow(xs, xps), 1, Math.max(n - 1, 1));
  const im1 = el.subtract(i, 1);
  const at = (v: ArrayBase, idx: ArrayBase) => take(v, idx, 0);
  const df = el.subtract(at(fps, i), at(fps, im1));
  const dx = el.subtract(at(xps, i), at(xps, im1));
  const delta = el.subtract(xs, at(xps, im1));
  // Spacing of the machine epsilon: below it dx is treated as 0 (JAX's guard against 0/0 in gradients).
  const eps = xps.dtype === "float64" ? 2 ** -104 : 2 ** -46;
  const dx0 = el.lessEqual(abs(dx), eps);
  let f = el.where(dx0, at(fps, im1), el.add(at(fps, im1), el.multiply(el.divide(delta, el.where(dx0, 1, dx)), df)));
  if (period === null) {
    const end = (k: number) => reshape(sliceInDim(fps, k, k + 1, 1, 0), []);
    const xEnd = (k: number) => reshape(sliceInDim(xps, k, k + 1, 1, 0), []);
    if (o.left !== "extrapolate") f = el.where(el.less(xs, xEnd(0)), o.left === undefined || o.left === null ? end(0) : (o.left as ArrayLike), f);
    if (o.right !== "extrapolate") f = el.where(el.greater(xs, xEnd(n - 1)), o.right === undefined || o.right === null ? end(n - 1) : (o.right as ArrayLike), f);
  }
  return f;
});

// ---------------------------------------------------------------- histogram

/** Options of `np.histogram`. */
export interface HistogramOptions {
  /** The number of equal-width bins (default 10), or the increasing bin edges. */
  bins?: number | ArrayLike;
  /** `[lo, hi]` for equal-width bins (default: the data's min and max). */
  range?: readonly [number, number] | null;
  /** A weight per element of `a` (same shape); counts become sums of weights. */
  weights?: ArrayLike | null;
  /** Normalise to a density: counts / bin width / total, so it integrates to 1. */
  density?: boolean | null;
}
/** `np.histogram(a, bins, range, weights, density)` and its options form. */
export type HistogramArgs = PositionalOr<[bins: number | ArrayLike, range: readonly [number, number] | null, weights: ArrayLike | null, density: boolean | null], HistogramOptions>;

const histogramSig = signature("np.histogram", ["a:array!", "bins:array", "range:array?", "weights:array?", "density:bool?"]);

/** The largest bin count histogram accepts (a guard against typos such as 1e9). */
const MAX_BINS = 1 << 24;

/** `lo`, `hi` widened by 0.5 each way when equal (NumPy's rule for constant data). */
const widen = (lo: number, hi: number): [number, number] => (lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi]);

/**
 * The histogram of `a` (flattened) as JAX's `jnp.histogram`: `[counts, edges]`, both in
 * `a`'s float dtype (integers become float32). Bins are half-open `[e_i, e_{i+1})` except the
 * last, which includes its right edge; values outside the edges are not counted. With
 * `density`, counts are divided by the bin widths and the total. Concrete inputs are counted
 * directly (O(n log bins)); traced inputs (under jit or vmap) compare every value with every
 * edge, O(n × bins) memory. The counts are not differentiable in `a` (piecewise constant);
 * they are in `weights`.
 */
export const histogram = withSignature(histogramSig, (a: ArrayLike, ...args: HistogramArgs): [ArrayBase, ArrayBase] => {
  const op = "np.histogram";
  const o = parseArgs<{ a: ArrayLike; bins?: unknown; range?: unknown; weights?: ArrayLike | null; density?: boolean | null }>(histogramSig, [a, ...args]);
  const x = promoteToFloat(o.a)[0]!;
  const d = x.dtype;
  const flat = reshape(x, [x.size]);
  let w: ArrayBase | null = null;
  if (o.weights !== undefined && o.weights !== null) {
    w = promoteToFloat(o.weights, x)[0]!;
    if (w.shape.join() !== x.shape.join()) throw new ShapeError(`weights of shape ${shapeStr(w.shape)} must have the shape of a, ${shapeStr(x.shape)}`, { op });
    w = reshape(w, [w.size]);
  }
  const bins = o.bins ?? 10;
  const range = o.range ?? null;
  if (range !== null && !(Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === "number" && Number.isFinite(v)) && range[0] <= range[1])) {
    throw new ValueError(`range must be [lo, hi] with finite lo <= hi, or null, got ${describeValue(range)}`, { op });
  }
  // Edges: given, or equal-width over the range (linspace, with the last edge exactly hi).
  let edges: ArrayBase;
  if (typeof bins === "number") {
    if (!Number.isSafeInteger(bins) || bins < 1 || bins > MAX_BINS) throw new ValueError(`bins must be a positive integer (at most ${MAX_BINS}) or the bin edges, got ${describeValue(bins)}`, { op });
    if (range === null && x.size === 0) throw new ValueError("an empty array needs an explicit range", { op });
    if (range !== null || flat instanceof NDArray) {
      const r = (range as [number, number] | null) ?? concreteRange(op, flat as NDArray);
      const [lo, hi] = widen(r[0], r[1]);
      const e = typedArrayFor(d, bins + 1);
      for (let i = 0; i <= bins; i++) e[i] = i === bins ? hi : lo + ((hi - lo) / bins) * i;
      edges = fromBuffer(e, [bins + 1], d);
    } else {
      // Traced data without a range: the edges follow its (traced) min and max.
      let lo = min(flat);
      let hi = max(flat);
      const same = el.equal(lo, hi);
      [lo, hi] = [el.where(same, el.subtract(lo, 0.5), lo), el.where(same, el.add(hi, 0.5), hi)];
      const steps = fromBuffer(Float64Array.from({ length: bins + 1 }, (_, i) => i / bins), [bins + 1], "float64");
      const interior = el.add(lo, el.multiply(el.subtract(hi, lo), asArray(steps, d)));
      const isLast = fromBuffer(Uint8Array.from({ length: bins + 1 }, (_, i) => (i === bins ? 1 : 0)), [bins + 1], "bool");
      edges = el.where(isLast, hi, interior);
    }
  } else {
    edges = promoteToFloat(bins as ArrayLike, x)[0]!;
    if (edges.ndim !== 1 || edges.size < 2) throw new ValueError(`bins must be a positive integer or a 1-D array of at least 2 edges, got shape ${shapeStr(edges.shape)}`, { op });
    if (edges instanceof NDArray && bufferOf(edges).some((v, i, e) => i > 0 && !(v >= e[i - 1]!))) {
      throw new ValueError("bin edges must increase monotonically", { op });
    }
  }
  const nb = edges.size - 1;
  let counts: ArrayBase;
  if (flat instanceof NDArray && edges instanceof NDArray && (w === null || w instanceof NDArray)) {
    counts = fromBuffer(countConcrete(bufferOf(flat), bufferOf(edges), w ? bufferOf(w as NDArray) : null, d), [nb], d);
  } else {
    // Bin index = how many edges are <= the value; the right edge belongs to the last bin.
    let idx = countAtOrBelow(flat, edges);
    idx = el.where(el.equal(flat, reshape(sliceInDim(edges, nb, nb + 1, 1, 0), [])), nb, idx);
    // Slot 0 collects values below the first edge and slot nb + 1 those above the last: both dropped.
    const ones = w ?? el.add(el.multiply(flat, 0), 1);
    const slots = scatterAdd(fromBuffer(typedArrayFor(d, nb + 2), [nb + 2], d), idx, ones);
    counts = sliceInDim(slots, 1, nb + 1, 1, 0);
  }
  if (o.density) {
    const widths = el.subtract(sliceInDim(edges, 1, nb + 1, 1, 0), sliceInDim(edges, 0, nb, 1, 0));
    counts = el.divide(el.divide(counts, widths), sum(counts));
  }
  return [counts, edges];
});

const concreteRange = (op: string, x: NDArray): [number, number] => {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of bufferOf(x)) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (Number.isNaN(v)) [lo, hi] = [NaN, NaN];
    if (Number.isNaN(lo)) break;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new ValueError(`the range of the data, [${lo}, ${hi}], is not finite`, { op, hint: "pass range: [lo, hi], or drop the NaN and infinite values first" });
  return [lo, hi];
};

/** Counts (or weight sums) per bin by binary search over the edges. */
const countConcrete = (x: TypedArray, edges: TypedArray, w: TypedArray | null, d: DType): TypedArray => {
  const nb = edges.length - 1;
  const out = typedArrayFor(d, nb);
  const lastEdge = edges[nb]!;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    // The number of edges <= v (searchsorted side='right').
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    const bin = v === lastEdge ? nb : lo;
    if (bin >= 1 && bin <= nb) out[bin - 1]! += w ? w[i]! : 1;
  }
  return out;
};
