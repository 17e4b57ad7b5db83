/**
 * Shape primitives that move data: slice, pad, concatenate, rev, squeeze, iota,
 * dynamic_slice and dynamic_update_slice (plus `expandDims`, a reshape). Each record holds
 * its rules; the linear ones transpose into each other (slice <-> pad, concatenate ->
 * slices, dynamic_slice <-> dynamic_update_slice).
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray } from "../dtype.js";
import { AxisError, DTypeError, IndexError, ShapeError, ValueError } from "../errors.js";
import { type MaybeZero, UndefinedPrimal, definePrimitive } from "../ir/primitive.js";
import {
  clampStart,
  concatKernel,
  dynamicSliceKernel,
  dynamicUpdateSliceKernel,
  iotaKernel,
  padKernel,
  revKernel,
  sliceKernel,
} from "../kernels/shape.js";
import { type Shape, shapeStr } from "../shape.js";
import { bind1 } from "../trace.js";
import { add, mul, sub } from "./binary.js";
import { normalizeAxes, normalizeAxis, scalar } from "./common.js";
import { reduceSum } from "./reduce.js";
import { broadcastInDim, convertElementType, full, moveAxis, reshape, zerosOf } from "./structural.js";

const isUndef = (x: unknown): x is UndefinedPrimal => x instanceof UndefinedPrimal;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Moves the batch axis of `x` to `to`, or creates it there by broadcasting when `x` is unbatched. */
export const batchAxisAt = (x: ArrayBase, d: number | null | undefined, to: number, size: number): ArrayBase => {
  if (d !== null && d !== undefined) return moveAxis(x, d, to);
  const shape = x.shape;
  shape.splice(to, 0, size);
  return broadcastInDim(x, shape, x.shape.map((_, i) => (i < to ? i : i + 1)));
};

// ---------------------------------------------------------------- slice

export interface SliceParams {
  start_indices: readonly number[];
  limit_indices: readonly number[];
  /** Positive steps; null means all 1. */
  strides: readonly number[] | null;
}

const sliceAval = (x: ShapedArray, { start_indices: st, limit_indices: lim, strides }: SliceParams): ShapedArray => {
  const op = "slice";
  const n = x.ndim;
  if (st.length !== n || lim.length !== n || (strides && strides.length !== n)) {
    throw new ShapeError(`start_indices (${st.join(", ")}), limit_indices (${lim.join(", ")})${strides ? ` and strides (${strides.join(", ")})` : ""} need one entry per axis of ${x}`, { op });
  }
  const out = range(n).map((k) => {
    const s = st[k]!;
    const l = lim[k]!;
    const step = strides ? strides[k]! : 1;
    if (!Number.isInteger(step) || step < 1) throw new ValueError(`stride ${step} on axis ${k} must be a positive integer`, { op });
    if (!Number.isInteger(s) || !Number.isInteger(l) || s < 0 || l > x.shape[k]! || s > l) {
      throw new IndexError(`slice [${s}:${l}] on axis ${k} is out of range for ${x} (need 0 <= start <= limit <= ${x.shape[k]})`, { op });
    }
    return Math.ceil((l - s) / step);
  });
  return new ShapedArray(out, x.dtype);
};

export const sliceP = definePrimitive<SliceParams>({
  name: "slice",
  abstractEval: ([x], p) => [sliceAval(x!, p)],
  impl: ([x], p) => {
    const out = sliceAval(x!.aval, p);
    const strides = p.strides ?? x!.shape.map(() => 1);
    return [fromBuffer(sliceKernel(bufferOf(x!), x!.shape, p.start_indices, strides, out.shape, x!.dtype), out.shape, x!.dtype)];
  },
  jvp: ([x], [t], p) => [[sliceWith(x!, p)], [t && sliceWith(t, p)]],
  transpose: ([ct], [x], { start_indices: st, limit_indices: lim, strides }) => {
    if (!ct) return [null];
    const shape = (x as UndefinedPrimal).aval.shape;
    // Slicing's adjoint pads the cotangent back: zeros before, after and between the kept elements.
    const config = shape.map((n, k): [number, number, number] => {
      const step = strides ? strides[k]! : 1;
      const m = ct.shape[k]!;
      const realLimit = st[k]! + (m === 0 ? 0 : (m - 1) * step + 1);
      return [st[k]!, n - (step === 1 ? lim[k]! : realLimit), step - 1];
    });
    return [pad(ct, scalar(0, ct.dtype), config)];
  },
  batch: ([x], [d], p, size) => [
    [sliceWith(moveAxis(x!, d!, 0), {
      start_indices: [0, ...p.start_indices],
      limit_indices: [size, ...p.limit_indices],
      strides: p.strides ? [1, ...p.strides] : null,
    })],
    [0],
  ],
});

function sliceWith(x: ArrayBase, p: SliceParams): ArrayBase {
  return bind1(sliceP, [x], { ...p });
}

/** lax.slice: `x[start:limit:stride]` on every axis, with static bounds (IndexError when out of range). */
export const slice = (x: ArrayBase, startIndices: readonly number[], limitIndices: readonly number[], strides?: readonly number[] | null): ArrayBase => {
  const s = strides && strides.some((v) => v !== 1) ? strides.slice() : null;
  if (x.shape.every((n, k) => startIndices[k] === 0 && limitIndices[k] === n) && !s && startIndices.length === x.ndim && limitIndices.length === x.ndim) return x;
  return bind1(sliceP, [x], { start_indices: startIndices.slice(), limit_indices: limitIndices.slice(), strides: s });
};

/**
 * Slice of one axis: `x[..., start:limit:stride, ...]`. As in JAX's slice_in_dim, `axis`
 * and negative `start`/`limit` count from the end, and null bounds mean the whole axis.
 */
export const sliceInDim = (x: ArrayBase, start: number | null, limit: number | null, stride = 1, axis = 0): ArrayBase => {
  axis = normalizeAxis("slice_in_dim", axis, x.ndim);
  const n = x.shape[axis]!;
  start = start === null ? 0 : start < 0 ? start + n : start;
  limit = limit === null ? n : limit < 0 ? limit + n : limit;
  const st = x.shape.map(() => 0);
  const lim = x.shape.slice();
  const strides = x.shape.map(() => 1);
  st[axis] = start;
  lim[axis] = limit;
  strides[axis] = stride;
  return slice(x, st, lim, strides);
};

// ---------------------------------------------------------------- pad

export interface PadParams {
  /** Per axis: [low, high, interior]. low/high may be negative (they crop); interior >= 0. */
  padding_config: readonly (readonly [number, number, number])[];
}

const padAval = (x: ShapedArray, v: ShapedArray, { padding_config: cfg }: PadParams): ShapedArray => {
  const op = "pad";
  if (v.ndim !== 0) throw new ShapeError(`padding_value must be a scalar, got ${v} (argument 1)`, { op });
  if (v.dtype !== x.dtype) throw new DTypeError(`padding_value ${v} must have the operand's dtype ${x.dtype}`, { op });
  if (cfg.length !== x.ndim) {
    throw new ShapeError(`padding_config has ${cfg.length} entries but the operand ${x} has ${x.ndim} axes`, { op });
  }
  const out = cfg.map(([lo, hi, interior], k) => {
    if (![lo, hi, interior].every(Number.isInteger) || interior < 0) {
      throw new ValueError(`padding_config entry ${k} (${lo}, ${hi}, ${interior}) must be integers with interior >= 0`, { op });
    }
    const n = x.shape[k]!;
    const size = lo + hi + n + Math.max(0, n - 1) * interior;
    if (size < 0) {
      throw new ShapeError(`padding (${lo}, ${hi}, ${interior}) on axis ${k} of size ${n} gives a negative size ${size}`, { op });
    }
    return size;
  });
  return new ShapedArray(out, x.dtype);
};

export const padP = definePrimitive<PadParams>({
  name: "pad",
  abstractEval: ([x, v], p) => [padAval(x!, v!, p)],
  impl: ([x, v], p) => {
    const out = padAval(x!.aval, v!.aval, p);
    const cfg = p.padding_config;
    const buf = padKernel(bufferOf(x!), x!.shape, bufferOf(v!)[0]!, cfg.map((c) => c[0]), cfg.map((c) => c[2]), out.shape, x!.dtype);
    return [fromBuffer(buf, out.shape, x!.dtype)];
  },
  jvp: ([x, v], [tx, tv], p) => {
    const out = pad(x!, v!, p.padding_config);
    if (!tx && !tv) return [[out], [null]];
    return [[out], [pad(tx ?? zerosOf(x!.aval), tv ?? scalar(0, x!.dtype), p.padding_config)]];
  },
  transpose: ([ct], [x, v], { padding_config: cfg }) => {
    if (!ct) return [null, null];
    // Undo low/high with the negated padding, then keep every (interior + 1)-th element.
    const unpadded = pad(ct, scalar(0, ct.dtype), cfg.map(([lo, hi]) => [-lo, -hi, 0]));
    const tx = slice(unpadded, cfg.map(() => 0), unpadded.shape, cfg.map((c) => c[2] + 1));
    const total = (y: ArrayBase) => reduceSum(y, range(y.ndim));
    return [isUndef(x) ? tx : null, isUndef(v) ? sub(total(ct), total(tx)) : null];
  },
  batch: ([x, v], [dx, dv], { padding_config: cfg }, size) => {
    const config = [[0, 0, 0] as const, ...cfg];
    const xb = batchAxisAt(x!, dx, 0, size);
    if (dv === null) return [[pad(xb, v!, config)], [0]];
    // A per-example padding value: pad with 0, then add value * (mask of padded positions).
    const numeric = x!.dtype === "bool" ? "int32" : x!.dtype;
    const xn = convertElementType(xb, numeric);
    const vn = convertElementType(v!, numeric);
    const base = pad(xn, scalar(0, numeric), config);
    const mask = pad(full(xn.shape, 0, numeric), scalar(1, numeric), config);
    const vb = broadcastInDim(vn, base.shape, [0]);
    return [[convertElementType(add(base, mul(mask, vb)), x!.dtype)], [0]];
  },
});

/**
 * lax.pad: `config[k] = [low, high, interior]` per axis; `interior` inserts that many
 * padding elements between neighbours, and negative low/high crop, as in lax. A JS number
 * as the padding value takes `x`'s dtype.
 */
export const pad = (x: ArrayBase, paddingValue: ArrayBase | number, config: readonly (readonly [number, number, number])[]): ArrayBase =>
  typeof paddingValue === "number"
    ? pad(x, scalar(paddingValue, x.dtype), config)
    : config.length === x.ndim && config.every((c) => c[0] === 0 && c[1] === 0 && c[2] === 0) && paddingValue.ndim === 0 && paddingValue.dtype === x.dtype
    ? x
    : bind1(padP, [x, paddingValue], { padding_config: config.map((c) => [c[0], c[1], c[2]] as const) });

// ---------------------------------------------------------------- concatenate

export interface ConcatenateParams {
  dimension: number;
}

const concatAval = (op: string, avals: readonly ShapedArray[], dimension: number): ShapedArray => {
  if (avals.length === 0) throw new ValueError("needs at least one array", { op });
  const first = avals[0]!;
  if (first.ndim === 0) throw new ShapeError("cannot concatenate scalars (arrays of rank 0)", { op, hint: "use np.stack, or reshape them to [1]" });
  if (!Number.isInteger(dimension) || dimension < 0 || dimension >= first.ndim) {
    throw new AxisError(`dimension ${dimension} is out of range for arrays of rank ${first.ndim}`, { op });
  }
  let total = 0;
  avals.forEach((a, i) => {
    if (a.dtype !== first.dtype) {
      throw new DTypeError(`argument ${i} has dtype ${a.dtype} but argument 0 has ${first.dtype}`, { op, hint: "np.concatenate promotes dtypes" });
    }
    if (a.ndim !== first.ndim || a.shape.some((d, k) => k !== dimension && d !== first.shape[k])) {
      throw new ShapeError(
        `argument ${i} has shape ${shapeStr(a.shape)}, which does not match argument 0's shape ${shapeStr(first.shape)} outside axis ${dimension}`,
        { op, hint: "all arrays must have the same rank and equal sizes on every axis but the one joined" },
      );
    }
    total += a.shape[dimension]!;
  });
  const shape = first.shape.slice();
  shape[dimension] = total;
  return new ShapedArray(shape, first.dtype);
};

export const concatenateP = definePrimitive<ConcatenateParams>({
  name: "concatenate",
  abstractEval: (avals, { dimension }) => [concatAval("concatenate", avals, dimension)],
  impl: (xs, { dimension }) => {
    const out = concatAval("concatenate", xs.map((x) => x.aval), dimension);
    const parts = xs.map((x) => ({ buf: bufferOf(x), shape: x.shape }));
    return [fromBuffer(concatKernel(parts, dimension, out.shape, out.dtype), out.shape, out.dtype)];
  },
  jvp: (xs, ts, { dimension }) => {
    const out = concatenate(xs, dimension);
    if (ts.every((t) => !t)) return [[out], [null]];
    return [[out], [concatenate(ts.map((t, i) => t ?? zerosOf(xs[i]!.aval)), dimension)]];
  },
  transpose: ([ct], xs, { dimension }) => {
    let offset = 0;
    return xs.map((x) => {
      const n = (x as { aval: ShapedArray }).aval.shape[dimension]!;
      const part = ct && isUndef(x) ? sliceInDim(ct, offset, offset + n, 1, dimension) : null;
      offset += n;
      return part;
    });
  },
  batch: (xs, dims, { dimension }, size) => [[concatenate(xs.map((x, i) => batchAxisAt(x, dims[i], 0, size)), dimension + 1)], [0]],
});

/** lax.concatenate: joins arrays of one dtype along `dimension` (a non-negative axis). */
export const concatenate = (xs: readonly ArrayBase[], dimension: number): ArrayBase =>
  xs.length === 1 ? xs[0]! : bind1(concatenateP, xs.slice(), { dimension });

// ---------------------------------------------------------------- rev

export interface RevParams {
  dimensions: readonly number[];
}

export const revP = definePrimitive<RevParams>({
  name: "rev",
  abstractEval: ([x], { dimensions }) => {
    normalizeAxes("rev", dimensions, x!.ndim);
    if (dimensions.some((d) => d < 0)) throw new AxisError(`dimensions (${dimensions.join(", ")}) must be non-negative`, { op: "rev" });
    return [x!];
  },
  impl: ([x], { dimensions }) => [fromBuffer(revKernel(bufferOf(x!), x!.shape, dimensions, x!.dtype), x!.shape, x!.dtype)],
  jvp: ([x], [t], { dimensions }) => [[rev(x!, dimensions)], [t && rev(t, dimensions)]],
  transpose: ([ct], _x, { dimensions }) => [ct && rev(ct, dimensions)],
  batch: ([x], [d], { dimensions }) => [[rev(moveAxis(x!, d!, 0), dimensions.map((k) => k + 1))], [0]],
});

/** lax.rev: reverses the order of elements along `dimensions`. */
export const rev = (x: ArrayBase, dimensions: readonly number[]): ArrayBase =>
  dimensions.length === 0 ? x : bind1(revP, [x], { dimensions: dimensions.slice() });

// ---------------------------------------------------------------- squeeze / expandDims

export interface SqueezeParams {
  dimensions: readonly number[];
}

export const squeezeP = definePrimitive<SqueezeParams>({
  name: "squeeze",
  abstractEval: ([x], { dimensions }) => {
    const dims = normalizeAxes("squeeze", dimensions, x!.ndim);
    for (const d of dims) {
      if (x!.shape[d] !== 1) {
        throw new ShapeError(`cannot squeeze axis ${d} of size ${x!.shape[d]} (input ${x}); only axes of size 1 can be removed`, { op: "squeeze" });
      }
    }
    return [new ShapedArray(x!.shape.filter((_, k) => !dims.includes(k)), x!.dtype)];
  },
  impl: ([x], { dimensions }) => [fromBuffer(bufferOf(x!), x!.shape.filter((_, k) => !dimensions.includes(k)), x!.dtype)],
  jvp: ([x], [t], { dimensions }) => [[squeeze(x!, dimensions)], [t && squeeze(t, dimensions)]],
  transpose: ([ct], [x]) => [ct && reshape(ct, (x as UndefinedPrimal).aval.shape)],
  batch: ([x], [d], { dimensions }) => [[squeeze(moveAxis(x!, d!, 0), dimensions.map((k) => k + 1))], [0]],
});

/** lax.squeeze: removes the given axes (non-negative), each of size 1. */
export const squeeze = (x: ArrayBase, dimensions: readonly number[]): ArrayBase =>
  dimensions.length === 0 ? x : bind1(squeezeP, [x], { dimensions: dimensions.slice() });

/** lax.expand_dims: inserts size-1 axes at `dimensions` (positions in the result, non-negative). */
export const expandDims = (x: ArrayBase, dimensions: readonly number[]): ArrayBase => {
  const shape = x.shape;
  for (const d of [...dimensions].sort((a, b) => a - b)) shape.splice(d, 0, 1);
  return reshape(x, shape);
};

// ---------------------------------------------------------------- iota

export interface IotaParams {
  dtype: DType;
  shape: readonly number[];
  dimension: number;
}

export const iotaP = definePrimitive<IotaParams>({
  name: "iota",
  abstractEval: (_, { dtype, shape, dimension }) => {
    if (dtype === "bool") throw new DTypeError("iota needs a numeric dtype, got bool", { op: "iota" });
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeError(`shape ${shapeStr(shape)} must hold non-negative integers`, { op: "iota" });
    if (!Number.isInteger(dimension) || dimension < 0 || dimension >= shape.length) {
      throw new AxisError(`dimension ${dimension} is out of range for shape ${shapeStr(shape)} of rank ${shape.length}`, { op: "iota" });
    }
    return [new ShapedArray(shape, dtype)];
  },
  impl: (_, { dtype, shape, dimension }) => [fromBuffer(iotaKernel(shape, dimension, dtype), shape, dtype)],
  jvp: (_, __, p) => [[iota(p.dtype, p.shape, p.dimension)], [null]],
  batch: (_, __, p) => [[iota(p.dtype, p.shape, p.dimension)], [null]],
});

/**
 * lax.iota: `0, 1, 2, ...` along `dimension`, broadcast over `shape` (a number gives a
 * vector of that length).
 */
export const iota = (dtype: DType, shape: number | readonly number[], dimension = 0): ArrayBase =>
  bind1(iotaP, [], { dtype, shape: typeof shape === "number" ? [shape] : shape.slice(), dimension });

// ---------------------------------------------------------------- dynamic_slice / dynamic_update_slice
//
// Start indices are int32 arrays, one per (non-batch) axis, read at run time. As in JAX a
// negative start counts from the end, and the start is then clamped so that the window
// fits. `batch_dims` (absent = 0) is how vmap batches the start indices: the operand's first
// `batch_dims` axes are shared with the start indices, whose shape they are.

export interface DynamicSliceParams {
  slice_sizes: readonly number[];
  batch_dims?: number;
}

const startsAval = (op: string, x: ShapedArray, starts: readonly ShapedArray[], nb: number, argOffset: number): void => {
  const need = x.ndim - nb;
  if (starts.length !== need) {
    throw new ShapeError(`needs ${need} start indices for operand ${x}, got ${starts.length}`, { op, hint: "pass one int32 scalar per axis" });
  }
  const batch = x.shape.slice(0, nb);
  starts.forEach((s, k) => {
    if (s.dtype !== "int32") throw new DTypeError(`start index ${k} (argument ${k + argOffset}) must be int32, got ${s}`, { op });
    if (s.ndim !== nb || s.shape.some((d, i) => d !== batch[i])) {
      throw new ShapeError(`start index ${k} (argument ${k + argOffset}) must have shape ${shapeStr(batch)}, got ${s}`, { op, hint: "start indices are scalars" });
    }
  });
};

const dynamicSliceAval = (x: ShapedArray, starts: readonly ShapedArray[], { slice_sizes: sizes, batch_dims: nb = 0 }: DynamicSliceParams): ShapedArray => {
  const op = "dynamic_slice";
  startsAval(op, x, starts, nb, 1);
  if (sizes.length !== x.ndim - nb) throw new ShapeError(`slice_sizes (${sizes.join(", ")}) need one entry per axis of ${x}`, { op });
  sizes.forEach((s, k) => {
    if (!Number.isInteger(s) || s < 0 || s > x.shape[k + nb]!) {
      throw new IndexError(`slice size ${s} on axis ${k} does not fit operand ${x} (size ${x.shape[k + nb]})`, { op });
    }
  });
  return new ShapedArray([...x.shape.slice(0, nb), ...sizes], x.dtype);
};

/** Clamped start positions per axis, per batch position. */
const readStarts = (starts: readonly NDArray[], inner: Shape, sizes: Shape): number[][] =>
  starts.map((s, k) => Array.from(bufferOf(s), (v) => clampStart(v, inner[k]!, sizes[k]!)));

const dsParams = (sizes: readonly number[], nb: number): DynamicSliceParams => (nb ? { slice_sizes: sizes.slice(), batch_dims: nb } : { slice_sizes: sizes.slice() });

/** Brings every operand to the batch layout when a start index is batched: batch axis 0, one more batch_dims. */
const batchStarts = (starts: ArrayBase[], dims: readonly (number | null)[], size: number): ArrayBase[] => starts.map((s, k) => batchAxisAt(s, dims[k], 0, size));

function dsWith(inputs: ArrayBase[], p: DynamicSliceParams): ArrayBase {
  return bind1(dynamicSliceP, inputs, { ...p });
}
function dusWith(inputs: ArrayBase[], p: DynamicUpdateSliceParams): ArrayBase {
  return bind1(dynamicUpdateSliceP, inputs, { ...p });
}

export const dynamicSliceP = definePrimitive<DynamicSliceParams>({
  name: "dynamic_slice",
  abstractEval: ([x, ...starts], p) => [dynamicSliceAval(x!, starts, p)],
  impl: ([x, ...starts], p) => {
    const out = dynamicSliceAval(x!.aval, starts.map((s) => s.aval), p);
    const nb = p.batch_dims ?? 0;
    const st = readStarts(starts, x!.shape.slice(nb), p.slice_sizes);
    return [fromBuffer(dynamicSliceKernel(bufferOf(x!), x!.shape, st, nb, p.slice_sizes, x!.dtype), out.shape, x!.dtype)];
  },
  jvp: ([x, ...starts], [t], p) => [[dsWith([x!, ...starts], p)], [t && dsWith([t, ...starts], p)]],
  transpose: ([ct], [x, ...starts], p) => {
    const nones = starts.map(() => null);
    if (!ct || !isUndef(x)) return [null, ...nones];
    return [dusWith([zerosOf(x.aval), ct, ...(starts as ArrayBase[])], { batch_dims: p.batch_dims }), ...nones];
  },
  batch: ([x, ...starts], [dx, ...ds], { slice_sizes, batch_dims: nb = 0 }, size) => {
    if (ds.every((d) => d === null)) {
      // Only the operand is batched: its batch axis is one more sliced axis, taken whole.
      const xb = moveAxis(x!, dx!, nb);
      const zero = full(x!.shape.slice(0, nb), 0, "int32");
      return [[dsWith([xb, zero, ...starts], dsParams([size, ...slice_sizes], nb))], [nb]];
    }
    const xb = batchAxisAt(x!, dx, 0, size);
    return [[dsWith([xb, ...batchStarts(starts, ds, size)], dsParams(slice_sizes, nb + 1))], [0]];
  },
});

/** Start indices may be JS integers (as Python ints in JAX): they become int32 scalars. */
const startArrays = (starts: readonly (ArrayBase | number)[]): ArrayBase[] => starts.map((s) => (typeof s === "number" ? scalar(s, "int32") : s));

/**
 * lax.dynamicSlice: the window of `sizes` starting at `starts` (int32 scalars, read at run
 * time, or JS integers). A negative start counts from the end; starts are then clamped so
 * the window fits, as in JAX, so an out-of-range start never fails.
 */
export const dynamicSlice = (x: ArrayBase, starts: readonly (ArrayBase | number)[], sizes: readonly number[]): ArrayBase =>
  dsWith([x, ...startArrays(starts)], { slice_sizes: sizes.slice() });

export interface DynamicUpdateSliceParams {
  batch_dims?: number;
}

const dusAval = (x: ShapedArray, u: ShapedArray, starts: readonly ShapedArray[], { batch_dims: nb = 0 }: DynamicUpdateSliceParams): ShapedArray => {
  const op = "dynamic_update_slice";
  if (u.dtype !== x.dtype) throw new DTypeError(`update ${u} (argument 1) must have the operand's dtype ${x.dtype}`, { op });
  if (u.ndim !== x.ndim || u.shape.some((d, k) => (k < nb ? d !== x.shape[k] : d > x.shape[k]!))) {
    throw new ShapeError(`update ${u} (argument 1) does not fit inside operand ${x}`, { op, hint: "the update needs the operand's rank and no larger sizes" });
  }
  startsAval(op, x, starts, nb, 2);
  return x;
};

export const dynamicUpdateSliceP = definePrimitive<DynamicUpdateSliceParams>({
  name: "dynamic_update_slice",
  abstractEval: ([x, u, ...starts], p) => [dusAval(x!, u!, starts, p)],
  impl: ([x, u, ...starts], p) => {
    dusAval(x!.aval, u!.aval, starts.map((s) => s.aval), p);
    const nb = p.batch_dims ?? 0;
    const st = readStarts(starts, x!.shape.slice(nb), u!.shape.slice(nb));
    return [fromBuffer(dynamicUpdateSliceKernel(bufferOf(x!), x!.shape, bufferOf(u!), u!.shape, st, nb), x!.shape, x!.dtype)];
  },
  jvp: ([x, u, ...starts], [tx, tu], p) => {
    const out = dusWith([x!, u!, ...starts], p);
    if (!tx && !tu) return [[out], [null]];
    return [[out], [dusWith([tx ?? zerosOf(x!.aval), tu ?? zerosOf(u!.aval), ...starts], p)]];
  },
  transpose: ([ct], [x, u, ...starts], p) => {
    const nones = starts.map(() => null);
    if (!ct) return [null, null, ...nones];
    const nb = p.batch_dims ?? 0;
    const uAval = (u as { aval: ShapedArray }).aval;
    const st = starts as ArrayBase[];
    return [
      isUndef(x) ? dusWith([ct, zerosOf(uAval), ...st], p) : null,
      isUndef(u) ? dsWith([ct, ...st], dsParams(uAval.shape.slice(nb), nb)) : null,
      ...nones,
    ];
  },
  batch: ([x, u, ...starts], [dx, du, ...ds], { batch_dims: nb = 0 }, size) => {
    if (ds.every((d) => d === null)) {
      const xb = batchAxisAt(x!, dx, nb, size);
      const ub = batchAxisAt(u!, du, nb, size);
      const zero = full(x!.shape.slice(0, nb), 0, "int32");
      return [[dusWith([xb, ub, zero, ...starts], nb ? { batch_dims: nb } : {})], [nb]];
    }
    const xb = batchAxisAt(x!, dx, 0, size);
    const ub = batchAxisAt(u!, du, 0, size);
    return [[dusWith([xb, ub, ...batchStarts(starts, ds, size)], { batch_dims: nb + 1 })], [0]];
  },
});

/**
 * lax.dynamicUpdateSlice: a copy of `x` with `update` written at `starts` (int32 scalars),
 * clamped as in {@link dynamicSlice} so that the update always fits.
 */
export const dynamicUpdateSlice = (x: ArrayBase, update: ArrayBase, starts: readonly (ArrayBase | number)[]): ArrayBase =>
  dusWith([x, update, ...startArrays(starts)], {});

export type { MaybeZero };
