/**
 * `np` indexing: `take`, `takeAlongAxis`, `scatterAdd`, and NumPy-style basic indexing with
 * `index(x, [sl(1, null, 2), 0, newaxis])`.
 *
 * Out-of-range integer indices: when the indices are concrete (eager calls, or constants
 * inside a trace), `take`, `takeAlongAxis`, `scatterAdd` and `index` raise IndexError naming
 * the index and the axis size. Traced indices have no value to check, so, as in JAX, they
 * are clamped into range (after a negative index counts from the end once).
 */
import { ArrayBase, NDArray, bufferOf } from "../array.js";
import { DTypeError, IndexError, ValueError } from "../errors.js";
import { normalizeAxis } from "../primitives/common.js";
import { gather, scatterAdd as scatterAddOp } from "../primitives/indexing.js";
import { rev, slice as sliceOp } from "../primitives/shape.js";
import { broadcastTo, convertElementType, moveAxis, reshape, transpose } from "../primitives/structural.js";
import { broadcastShapes, shapeStr } from "../shape.js";
import type { Axis, PositionalOr, TakeArgs, TakeOptions } from "../api/arg_types.js";
import { describeValue, parseArgs, signature } from "../api/args.js";
import { indexAdvanced, needsAdvanced } from "./at.js";
import { type ArrayLike, array, asArray, promoteArgs } from "./coerce.js";

export type { TakeArgs, TakeOptions } from "../api/arg_types.js";

/** Integer indices as an int32 array; JS numbers must be integers, arrays must be int32. */
export const asIndices = (op: string, idx: ArrayLike): ArrayBase => {
  if (idx instanceof ArrayBase) {
    if (idx.dtype !== "int32") {
      throw new DTypeError(`indices must be integers, got an array of dtype ${idx.dtype}`, { op, hint: "convert with np.astype(indices, 'int32')" });
    }
    return idx;
  }
  if (typeof idx === "boolean") throw new ValueError("a boolean is not an index", { op, hint: "boolean masks have data-dependent shapes; use np.where" });
  // JS values become a concrete int32 array directly (no convert equation inside a trace).
  for (const v of array(idx, { dtype: "float64" }).toTypedArray()) {
    if (!Number.isInteger(v)) throw new ValueError(`indices must be integers, got ${v}`, { op });
  }
  return array(idx, { dtype: "int32" });
};

/** Raises IndexError when a concrete index is outside [-n, n). */
const checkInRange = (op: string, idx: ArrayBase, n: number, axis: number): void => {
  if (!(idx instanceof NDArray)) return; // traced: clamped by gather
  for (const v of bufferOf(idx)) {
    if (v < -n || v >= n) {
      throw new IndexError(`index ${v} is out of bounds for axis ${axis} with size ${n}`, {
        op,
        hint: n === 0 ? "the axis is empty" : `valid indices are ${-n} to ${n - 1}`,
      });
    }
  }
};

/** The options of `np.scatterAdd`. */
export type AxisOption = TakeOptions;

/**
 * `np.take(x, indices, {axis})`: the elements of `x` at integer `indices` along `axis`;
 * the result's shape is `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. Without an
 * axis, `x` is flattened. Negative indices count from the end. Concrete out-of-range
 * indices raise IndexError; traced ones are clamped (see the module comment).
 * Differentiable in `x` (its gradient is a scatter-add).
 */
const takeSig = signature("np.take", ["x:array!", "indices:array!", "axis:axis", "out:out"]);
export const take = (x: ArrayLike, indices: ArrayLike, ...args: TakeArgs): ArrayBase => {
  const op = "np.take";
  const options = parseArgs<{ axis?: Axis }>(takeSig, [x, indices, ...args]);
  let a = asArray(x);
  const idx = asIndices(op, indices);
  let axis: number;
  if (options.axis === undefined || options.axis === null) {
    a = reshape(a, [a.size]);
    axis = 0;
  } else axis = normalizeAxis(op, options.axis, a.ndim);
  checkInRange(op, idx, a.shape[axis]!, axis);
  return gather(a, idx, { axis, batch_dims: 0 });
};

/** Prepares `x` and `indices` for a batched gather along the last axis: `axis` moved last, others broadcast. */
const alongAxis = (op: string, a: ArrayBase, idx: ArrayBase, axis: number): [ArrayBase, ArrayBase] => {
  if (idx.ndim !== a.ndim) {
    throw new ValueError(`indices of shape ${shapeStr(idx.shape)} must have the same rank as the array of shape ${shapeStr(a.shape)}`, { op });
  }
  const xs = a.shape.filter((_, k) => k !== axis);
  const is = idx.shape.filter((_, k) => k !== axis);
  const common = broadcastShapes(xs, is);
  if (!common) {
    throw new ValueError(`indices of shape ${shapeStr(idx.shape)} do not broadcast with the array of shape ${shapeStr(a.shape)} outside axis ${axis}`, { op });
  }
  const last = a.ndim - 1;
  const am = moveAxis(a, axis, last);
  const im = moveAxis(idx, axis, last);
  return [broadcastTo(am, [...common, a.shape[axis]!]), broadcastTo(im, [...common, idx.shape[axis]!])];
};

/**
 * `np.takeAlongAxis(x, indices, axis)`: `out[..., j, ...] = x[..., indices[..., j, ...], ...]`
 * along `axis`, with the other axes of `x` and `indices` broadcast together (as the
 * indices from `argsort`/`argmax` with keepdims). `axis = null` works on the flattened arrays.
 */
const takeAlongAxisSig = signature("np.takeAlongAxis", ["x:array!", "indices:array!", "axis:axis!"]);
export const takeAlongAxis = (x: ArrayLike, indices: ArrayLike, axis: number | null, ...rest: []): ArrayBase => {
  const op = "np.takeAlongAxis";
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(takeAlongAxisSig, [x, indices, axis, ...rest]);
    indices = o.indices; axis = o.axis;
  }
  let a = asArray(x);
  let idx = asIndices(op, indices);
  if (axis === null) {
    a = reshape(a, [a.size]);
    idx = reshape(idx, [idx.size]);
    axis = 0;
  }
  const ax = normalizeAxis(op, axis, a.ndim);
  checkInRange(op, idx, a.shape[ax]!, ax);
  const [am, im] = alongAxis(op, a, idx, ax);
  const last = am.ndim - 1;
  return moveAxis(gather(am, im, { axis: last, batch_dims: last }), last, ax);
};

/**
 * `np.scatterAdd(x, indices, updates, {axis})`: a copy of `x` with `updates` added at
 * `indices` along `axis` (repeated indices accumulate) — JAX's `x.at[idx].add(updates)`
 * along one axis. `updates` is broadcast to the shape `np.take(x, indices, {axis})` would
 * have. Without an axis, `x` is flattened and the result keeps `x`'s shape. Index rules as
 * in {@link take}. This is the transpose of `take`.
 */
const scatterAddSig = signature("np.scatterAdd", ["x:array!", "indices:array!", "updates:array!", "axis:axis"]);
export const scatterAdd = (x: ArrayLike, indices: ArrayLike, updates: ArrayLike, ...args: PositionalOr<[axis: Axis], AxisOption>): ArrayBase => {
  const op = "np.scatterAdd";
  const options = parseArgs<{ axis?: Axis }>(scatterAddSig, [x, indices, updates, ...args]);
  const xDType = asArray(x).dtype;
  const [a0, u0] = promoteArgs(x, updates) as [ArrayBase, ArrayBase];
  const idx = asIndices(op, indices);
  const flat = options.axis === undefined || options.axis === null;
  const a = flat ? reshape(a0, [a0.size]) : a0;
  const axis = flat ? 0 : normalizeAxis(op, options.axis!, a.ndim);
  checkInRange(op, idx, a.shape[axis]!, axis);
  const outShape = [...a.shape.slice(0, axis), ...idx.shape, ...a.shape.slice(axis + 1)];
  if (!broadcastShapes(u0.shape, outShape) || broadcastShapes(u0.shape, outShape)!.some((d, k) => d !== outShape[k])) {
    throw new ValueError(`updates of shape ${shapeStr(u0.shape)} do not broadcast to ${shapeStr(outShape)}, the shape of np.take(x, indices, {axis: ${axis}})`, { op });
  }
  const r = scatterAddOp(a, idx, broadcastTo(u0, outShape), { axis, batch_dims: 0 });
  // x keeps its dtype, as JAX's x.at[i].add(u) (the sum is formed in the promoted dtype).
  const out = flat ? reshape(r, a0.shape) : r;
  return out.dtype === xDType ? out : convertElementType(out, xDType);
};

// ---------------------------------------------------------------- basic indexing

/** A slice `start:stop:step` of one axis; `null` bounds take NumPy's defaults. */
export class Slice {
  constructor(
    readonly start: number | null = null,
    readonly stop: number | null = null,
    readonly step: number | null = null,
  ) {}
  toString(): string {
    const f = (v: number | null) => (v === null ? "" : String(v));
    return `${f(this.start)}:${f(this.stop)}${this.step === null ? "" : `:${this.step}`}`;
  }
}

/** `sl(start, stop, step)` is Python's `start:stop:step`; `sl()` is `:`. */
export const sl = (start: number | null = null, stop: number | null = null, step: number | null = null): Slice => new Slice(start, stop, step);

/** Inserts a new axis of size 1 (Python's `None` / `np.newaxis`). */
export const newaxis = null;

/** Stands for as many full slices as needed (Python's `...`). */
export const ellipsis = "...";

/** One entry of an {@link index} expression. */
export type IndexEntry = number | Slice | null | "..." | ArrayBase | readonly number[];

/** Python's `slice.indices(n)`: normalised start, stop, step and the result length. */
const sliceIndices = (op: string, s: Slice, n: number): [number, number, number, number] => {
  const step = s.step ?? 1;
  if (!Number.isInteger(step) || step === 0) throw new ValueError(`slice step must be a non-zero integer, got ${step}`, { op });
  const norm = (v: number | null, dflt: number, lo: number, hi: number): number => {
    if (v === null) return dflt;
    if (!Number.isInteger(v)) throw new ValueError(`slice bounds must be integers, got ${s}`, { op });
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, lo), hi);
  };
  const [start, stop] = step > 0 ? [norm(s.start, 0, 0, n), norm(s.stop, n, 0, n)] : [norm(s.start, n - 1, -1, n - 1), norm(s.stop, -1, -1, n - 1)];
  const len = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
  return [start, stop, step, len];
};

/**
 * NumPy-style indexing: `index(x, [sl(1, null, 2), 0, newaxis])` is `x[1::2, 0, None]`.
 * Entries, one per axis from the left (missing trailing ones are full slices):
 *  - a number: picks one element and removes the axis (negative counts from the end;
 *    out of range raises IndexError);
 *  - `sl(start, stop, step)`: a slice, with Python's defaults, negative bounds and steps,
 *    and clamping of out-of-range bounds;
 *  - `newaxis` (`null`): inserts an axis of size 1;
 *  - `ellipsis` (`"..."`): as many full slices as needed;
 *  - an int32 array or a list of integers: `np.take` along that axis, its shape replacing
 *    the axis. A traced scalar int32 array indexes dynamically (clamped). Several index
 *    arrays broadcast together (NumPy's advanced indexing, lowered by np/at.ts);
 *  - a boolean mask (array or nested list of booleans): its true positions. Concrete masks
 *    only: under a trace the result's shape would depend on the data, a ConcretizationError.
 * Differentiable: it lowers to rev, slice, gather and reshape.
 */
const indexSig = signature("np.index", ["x:array!", { name: "entries", kind: "any", required: true, pass: "positional" }]);
export const index = (x: ArrayLike, entries: readonly IndexEntry[], ...rest: []): ArrayBase => {
  const op = "np.index";
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(indexSig, [x, entries, ...rest]);
    entries = o.entries;
  }
  if (!Array.isArray(entries)) throw new IndexError(`entries must be a list of index entries, got ${describeValue(entries)}`, { op, hint: "e.g. np.index(x, [0, np.sl(1, null)])" });
  const a = asArray(x);
  if (needsAdvanced(entries)) return indexAdvanced(op, a, entries);
  const nEll = entries.filter((e) => e === "...").length;
  if (nEll > 1) throw new IndexError("an index can only have a single ellipsis ('...')", { op });
  const consumes = (e: IndexEntry) => e !== null && e !== "...";
  const used = entries.filter(consumes).length;
  if (used > a.ndim) {
    throw new IndexError(`too many indices: ${used} given for an array of rank ${a.ndim} (shape ${shapeStr(a.shape)})`, { op });
  }
  const full: IndexEntry[] = [];
  for (const e of entries) {
    if (e === "...") for (let k = 0; k < a.ndim - used; k++) full.push(sl());
    else full.push(e);
  }
  if (nEll === 0) for (let k = used; k < a.ndim; k++) full.push(sl());
  // One pass over the axes: static slices (reversing negative steps), integer picks, one array index.
  const start: number[] = [];
  const limit: number[] = [];
  const strides: number[] = [];
  const revDims: number[] = [];
  const finalShape: (number | "array")[] = [];
  let arrayIdx: { axis: number; idx: ArrayBase } | null = null;
  let axis = 0;
  for (const e of full) {
    if (e === null) {
      finalShape.push(1);
      continue;
    }
    const n = a.shape[axis]!;
    if (typeof e === "number") {
      if (!Number.isInteger(e)) throw new IndexError(`index ${e} on axis ${axis} is not an integer`, { op });
      if (e < -n || e >= n) throw new IndexError(`index ${e} is out of bounds for axis ${axis} with size ${n}`, { op });
      const i = e < 0 ? e + n : e;
      start.push(i), limit.push(i + 1), strides.push(1);
    } else if (e instanceof Slice) {
      const [s, , step, len] = sliceIndices(op, e, n);
      if (step > 0) start.push(s), limit.push(s + (len === 0 ? 0 : (len - 1) * step + 1)), strides.push(step);
      else {
        // On the reversed axis, element i sits at n - 1 - i, and the step is positive.
        revDims.push(axis);
        const j = n - 1 - s;
        start.push(len === 0 ? 0 : j), limit.push(len === 0 ? 0 : j + (len - 1) * -step + 1), strides.push(-step);
      }
      finalShape.push(len);
    } else {
      const idx = asIndices(op, e as ArrayLike);
      checkInRange(op, idx, n, axis);
      arrayIdx = { axis, idx };
      start.push(0), limit.push(n), strides.push(1);
      finalShape.push("array");
    }
    axis++;
  }
  let y = rev(a, revDims);
  y = sliceOp(y, start, limit, strides);
  let order = finalShape;
  if (arrayIdx) {
    y = gather(y, arrayIdx.idx, { axis: arrayIdx.axis, batch_dims: 0 });
    // As in NumPy and JAX, integers count as advanced indices next to an index array: when a
    // slice or newaxis separates them (x[1, :, [0, 2]]), the array's axes go first.
    const advanced = full.flatMap((e, k) => (e === null || e instanceof Slice ? [] : [k]));
    if (advanced[advanced.length - 1]! - advanced[0]! + 1 !== advanced.length) {
      const { axis: ax, idx } = arrayIdx;
      const moved = Array.from({ length: idx.ndim }, (_, i) => ax + i);
      y = transpose(y, [...moved, ...y.shape.map((_, k) => k).filter((k) => k < ax || k >= ax + idx.ndim)]);
      order = ["array", ...finalShape.filter((d) => d !== "array")];
    }
  }
  const shape = order.flatMap((d) => (d === "array" ? arrayIdx!.idx.shape : [d]));
  return reshape(y, shape);
};
