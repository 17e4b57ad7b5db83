/**
 * gather and scatter_add, in a form simpler than XLA's GatherDimensionNumbers but closed
 * under every transform: "take along one axis, with leading batch axes".
 *
 *   operand: [B..., P..., n, Q...]   (B = the first `batch_dims` axes, n = axis `axis`)
 *   indices: [B..., I...]            (int32)
 *   gather:  out[b, p, i, q] = operand[b, p, indices[b, i], q]   shape [B..., P..., I..., Q...]
 *
 * `np.take` is the case `batch_dims = 0`; `np.takeAlongAxis` and the batching rules use
 * batch axes. scatter_add(operand, indices, updates) adds `updates` (gather's output shape)
 * into a copy of `operand` at the same places; it is gather's transpose, and gather is its
 * transpose with respect to `updates`.
 *
 * Index semantics (identical in both, so they stay exact adjoints): a negative index counts
 * from the end once, then any index still out of range is clamped into [0, n - 1], as JAX's
 * gather clamps. `np.take` raises IndexError for out-of-range concrete indices instead.
 */
import { type ArrayBase, bufferOf, fromBuffer } from "../array.js";
import { ShapedArray } from "../dtype.js";
import { AxisError, DTypeError, IndexError, ShapeError } from "../errors.js";
import { definePrimitive, UndefinedPrimal } from "../ir/primitive.js";
import { gatherKernel, gatherLayout, scatterAddKernel } from "../kernels/gather.js";
import { shapeStr } from "../shape.js";
import { bind1 } from "../trace.js";
import { broadcastInDim, moveAxis, zerosOf } from "./structural.js";

export interface GatherParams {
  /** The operand axis indexed (at or after the batch axes). */
  axis: number;
  /** Number of leading axes shared by operand and indices (and output). */
  batch_dims: number;
}

const checkGather = (op: string, x: ShapedArray, idx: ShapedArray, { axis, batch_dims: nb }: GatherParams): ShapedArray => {
  if (idx.dtype !== "int32") {
    throw new DTypeError(`indices must be int32, got ${idx}`, { op, hint: "convert with np.astype(indices, 'int32')" });
  }
  if (!Number.isInteger(nb) || nb < 0 || nb > idx.ndim || nb >= x.ndim) {
    throw new AxisError(`batch_dims ${nb} does not fit operand ${x} and indices ${idx} (the operand needs an indexed axis after them)`, { op });
  }
  if (!Number.isInteger(axis) || axis < nb || axis >= x.ndim) {
    throw new AxisError(`axis ${axis} is out of range for an operand of rank ${x.ndim} with ${nb} batch axes (valid: ${nb} to ${x.ndim - 1})`, { op });
  }
  for (let k = 0; k < nb; k++) {
    if (x.shape[k] !== idx.shape[k]) {
      throw new ShapeError(`batch axis ${k} differs: operand ${x} vs indices ${idx}`, { op });
    }
  }
  if (x.shape[axis] === 0 && idx.size > 0) {
    throw new IndexError(`cannot take indices from axis ${axis} of size 0 (operand ${x})`, { op });
  }
  return new ShapedArray([...x.shape.slice(0, axis), ...idx.shape.slice(nb), ...x.shape.slice(axis + 1)], x.dtype);
};

/** Moves the batch axis of `x` to `to`, or creates it there by broadcasting when `x` is unbatched. */
export const batchAt = (x: ArrayBase, d: number | null, to: number, size: number): ArrayBase => {
  if (d !== null) return moveAxis(x, d, to);
  const shape = x.shape;
  shape.splice(to, 0, size);
  return broadcastInDim(x, shape, x.shape.map((_, i) => (i < to ? i : i + 1)));
};

export const gatherP = definePrimitive<GatherParams>({
  name: "gather",
  abstractEval: ([x, idx], params) => [checkGather("gather", x!, idx!, params)],
  impl: ([x, idx], params) => {
    const out = checkGather("gather", x!.aval, idx!.aval, params);
    const L = gatherLayout(x!.shape, idx!.shape, params.axis, params.batch_dims);
    return [fromBuffer(gatherKernel(bufferOf(x!), bufferOf(idx!), L, x!.dtype), out.shape, x!.dtype)];
  },
  jvp: ([x, idx], [t], params) => [[gather(x!, idx!, params)], [t && gather(t, idx!, params)]],
  transpose: ([ct], [x, idx], params) => {
    if (!ct || !(x instanceof UndefinedPrimal)) return [null, null];
    return [scatterAdd(zerosOf(x.aval), idx as ArrayBase, ct, params), null];
  },
  batch: ([x, idx], [dx, di], { axis, batch_dims: nb }, size) => {
    if (di === null) {
      // The operand's batch axis becomes one more P axis, just after the shared batch axes.
      return [[gather(moveAxis(x!, dx!, nb), idx!, { axis: axis + 1, batch_dims: nb })], [nb]];
    }
    if (dx === null) {
      // The indices' batch axis becomes the first I axis, which lands where `axis` was.
      return [[gather(x!, moveAxis(idx!, di, nb), { axis, batch_dims: nb })], [axis]];
    }
    return [[gather(moveAxis(x!, dx!, 0), moveAxis(idx!, di, 0), { axis: axis + 1, batch_dims: nb + 1 })], [0]];
  },
});

/** lax-level gather (see the module comment for the semantics). */
export const gather = (x: ArrayBase, indices: ArrayBase, params: GatherParams): ArrayBase =>
  bind1(gatherP, [x, indices], { axis: params.axis, batch_dims: params.batch_dims });

export const checkScatter = (op: string, x: ShapedArray, idx: ShapedArray, upd: ShapedArray, params: GatherParams): ShapedArray => {
  const want = checkGather(op, x, idx, params);
  if (!want.equals(upd)) {
    throw new ShapeError(`updates must have type ${want} (operand ${x}, indices ${idx}, axis ${params.axis}), got ${upd} (argument 2)`, {
      op,
      hint: `updates have the shape of gather's output: operand axes before the axis, the index axes, then the remaining operand axes, e.g. ${shapeStr(want.shape)}`,
    });
  }
  return x;
};

export const scatterAddP = definePrimitive<GatherParams>({
  name: "scatter_add",
  abstractEval: ([x, idx, upd], params) => [checkScatter("scatter_add", x!, idx!, upd!, params)],
  impl: ([x, idx, upd], params) => {
    checkScatter("scatter_add", x!.aval, idx!.aval, upd!.aval, params);
    const L = gatherLayout(x!.shape, idx!.shape, params.axis, params.batch_dims);
    return [fromBuffer(scatterAddKernel(bufferOf(x!), bufferOf(idx!), bufferOf(upd!), L, x!.dtype), x!.shape, x!.dtype)];
  },
  jvp: ([x, idx, upd], [tx, , tu], params) => {
    const out = scatterAdd(x!, idx!, upd!, params);
    if (!tx && !tu) return [[out], [null]];
    const t = tu ? scatterAdd(tx ?? zerosOf(x!.aval), idx!, tu, params) : tx;
    return [[out], [t]];
  },
  transpose: ([ct], [x, idx, upd], params) => {
    if (!ct) return [null, null, null];
    return [
      x instanceof UndefinedPrimal ? ct : null,
      null,
      upd instanceof UndefinedPrimal ? gather(ct, idx as ArrayBase, params) : null,
    ];
  },
  batch: ([x, idx, upd], [dx, di, du], { axis, batch_dims: nb }, size) => {
    if (di === null) {
      // Indices shared by the batch: the batch axis is one more P axis of operand and updates.
      const xb = batchAt(x!, dx!, nb, size);
      const ub = batchAt(upd!, du!, nb, size);
      return [[scatterAdd(xb, idx!, ub, { axis: axis + 1, batch_dims: nb })], [nb]];
    }
    const xb = batchAt(x!, dx!, 0, size);
    const ub = batchAt(upd!, du!, 0, size);
    return [[scatterAdd(xb, moveAxis(idx!, di, 0), ub, { axis: axis + 1, batch_dims: nb + 1 })], [0]];
  },
});

/**
 * lax-level scatter_add: a copy of `x` with `updates` (shaped like gather's output) added at
 * `indices` along `axis`; repeated indices accumulate. Index semantics as in {@link gather}.
 */
export const scatterAdd = (x: ArrayBase, indices: ArrayBase, updates: ArrayBase, params: GatherParams): ArrayBase =>
  bind1(scatterAddP, [x, indices, updates], { axis: params.axis, batch_dims: params.batch_dims });
