/**
 * `np` linear algebra: matmul, dot, tensordot, inner, outer, vdot (and einsum, in einsum.ts),
 * all lowered to dot_general (plus transpose, reshape and reduce_sum), so every transform sees
 * one contraction primitive.
 */
import type { PositionalOr } from "../api/arg_types.js";
import { arrayFn, parseArgs, signature, withSignature } from "../api/args.js";
import type { ArrayBase } from "../array.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { normalizeAxis, scalar } from "../primitives/common.js";
import { dotGeneral } from "../primitives/dot.js";
import { reduceSum } from "../primitives/reduce.js";
import { broadcastTo, moveAxis, reshape, transpose } from "../primitives/structural.js";
import { broadcastShapes, shapeStr } from "../shape.js";
import { multiply } from "./elementwise.js";
import { type ArrayLike, asArray, promoteArgs, resultDType } from "./coerce.js";
import { ne } from "../primitives/compare.js";

const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => start + i);

/** Promotes both operands to their common dtype; contractions do not take bools. */
const operands = (op: string, ...xs: ArrayLike[]): ArrayBase[] => {
  const out = promoteArgs(...xs);
  if (out[0]!.dtype === "bool") {
    throw new DTypeError(`bool operands are not supported`, { op, hint: "convert first, e.g. np.astype(x, 'int32') or 'float32'" });
  }
  return out;
};

/**
 * Two bool operands contract as JAX's dot does for bools: a logical or of ands (the int32
 * count of true pairs, compared with zero), and the result is bool.
 */
const logicalForBools = (f: (x: ArrayLike, y: ArrayLike) => ArrayBase, x: ArrayLike, y: ArrayLike): ArrayBase => {
  if (resultDType(x, y) !== "bool") return f(x, y);
  return ne(f(asArray(x, "int32"), asArray(y, "int32")), scalar(0, "int32"));
};

/**
 * Matrix product with NumPy's rules (two bool operands give a bool result, as in JAX): the last axis of `x` contracts with the second to
 * last of `y`; leading (batch) axes broadcast; a 1-D operand is treated as a row
 * (for `x`) or a column (for `y`) vector and that axis is dropped from the result.
 */
export const matmul = arrayFn("np.matmul", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => logicalForBools(matmulNumeric, x, y));

const matmulNumeric = (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const op = "np.matmul";
  let [a, b] = operands(op, x, y) as [ArrayBase, ArrayBase];
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ValueError(`operands must have at least one axis, got shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`, {
      op,
      hint: "use np.multiply to scale by a scalar",
    });
  }
  const aVec = a.ndim === 1;
  const bVec = b.ndim === 1;
  if (aVec) a = reshape(a, [1, a.shape[0]!]);
  if (bVec) b = reshape(b, [b.shape[0]!, 1]);
  const k1 = a.shape[a.ndim - 1]!;
  const k2 = b.shape[b.ndim - 2]!;
  if (k1 !== k2) {
    throw new ShapeError(
      `contraction size mismatch: x of shape ${shapeStr(aVec ? [k1] : a.shape)} has ${k1} along its last axis but y of shape ${shapeStr(bVec ? [k2] : b.shape)} has ${k2} along axis ${bVec ? 0 : -2}`,
      { op, hint: "x's last axis is summed against y's second to last: [..., m, k] @ [..., k, n]" },
    );
  }
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  if (!batch) {
    throw new ShapeError(`batch axes ${shapeStr(aBatch)} of x (shape ${shapeStr(a.shape)}) and ${shapeStr(bBatch)} of y (shape ${shapeStr(b.shape)}) do not broadcast`, { op });
  }
  let out: ArrayBase;
  if (bBatch.length === 0) {
    // A plain matrix y: x's batch axes ride along as free axes, no copy of y is needed.
    out = dotGeneral(a, b, [[[a.ndim - 1], [0]], [[], []]]);
  } else if (aBatch.length === 0) {
    // A plain matrix x: result is [m, batch..., n]; move m next to n.
    out = moveAxis(dotGeneral(a, b, [[[1], [b.ndim - 2]], [[], []]]), 0, batch.length);
  } else {
    const nb = batch.length;
    a = broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
    b = broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
    out = dotGeneral(a, b, [[[nb + 1], [nb]], [range(nb), range(nb)]]);
  }
  if (aVec || bVec) {
    const shape = out.shape;
    if (bVec) shape.splice(shape.length - 1, 1);
    if (aVec) shape.splice(shape.length - (bVec ? 1 : 2), 1);
    out = reshape(out, shape);
  }
  return out;
};

/**
 * `np.dot`: scalars multiply; for 1-D `y` the last axis of `x` contracts with it;
 * otherwise the last axis of `x` contracts with the second to last axis of `y`, and the
 * result has shape `x.shape[:-1] + y.shape[:-2] + y.shape[-1:]` (no batch broadcasting).
 */
export const dot = arrayFn("np.dot", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => logicalForBools(dotNumeric, x, y));

const dotNumeric = (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const op = "np.dot";
  const [a, b] = operands(op, x, y) as [ArrayBase, ArrayBase];
  if (a.ndim === 0 || b.ndim === 0) return multiply(a, b);
  const yAxis = b.ndim === 1 ? 0 : b.ndim - 2;
  if (a.shape[a.ndim - 1] !== b.shape[yAxis]) {
    throw new ShapeError(
      `contraction size mismatch: x of shape ${shapeStr(a.shape)} has ${a.shape[a.ndim - 1]} along its last axis but y of shape ${shapeStr(b.shape)} has ${b.shape[yAxis]} along axis ${yAxis}`,
      { op },
    );
  }
  return dotGeneral(a, b, [[[a.ndim - 1], [yAxis]], [[], []]]);
};

/** Axes of `tensordot`: a count of trailing/leading axes, or explicit axes of x and of y. */
export type TensordotAxes = number | readonly [number | readonly number[], number | readonly number[]];

/**
 * Sums products over the given axes: `axes = n` pairs the last n axes of `x` with the
 * first n of `y`; `[xAxes, yAxes]` pairs them explicitly. The result holds x's remaining
 * axes, then y's.
 */
const tensordotSig = signature("np.tensordot", ["x:array!", "y:array!", "axes:tensordotAxes"]);
export const tensordot = withSignature(tensordotSig, (x: ArrayLike, y: ArrayLike, ...args: PositionalOr<[axes: TensordotAxes], { axes?: TensordotAxes }>): ArrayBase => {
  const op = "np.tensordot";
  const { axes = 2 } = parseArgs<{ axes?: TensordotAxes }>(tensordotSig, [x, y, ...args]);
  const [a, b] = operands(op, x, y) as [ArrayBase, ArrayBase];
  let xa: number[];
  let ya: number[];
  if (typeof axes === "number") {
    if (!Number.isInteger(axes) || axes < 0 || axes > a.ndim || axes > b.ndim) {
      throw new ValueError(`axes=${axes} must be an integer from 0 to min(x.ndim, y.ndim) = ${Math.min(a.ndim, b.ndim)} (x shape ${shapeStr(a.shape)}, y shape ${shapeStr(b.shape)})`, { op });
    }
    xa = range(axes, a.ndim - axes);
    ya = range(axes);
  } else {
    if (!Array.isArray(axes) || axes.length !== 2) {
      throw new ValueError(`axes must be a number or a pair [xAxes, yAxes], got ${JSON.stringify(axes)}`, { op });
    }
    const list = (v: number | readonly number[]) => (typeof v === "number" ? [v] : v.slice());
    xa = list(axes[0]).map((ax) => normalizeAxis(op, ax, a.ndim, "x axis"));
    ya = list(axes[1]).map((ax) => normalizeAxis(op, ax, b.ndim, "y axis"));
    if (xa.length !== ya.length) {
      throw new ValueError(`x axes (${xa.join(", ")}) and y axes (${ya.join(", ")}) must pair up one to one`, { op });
    }
  }
  xa.forEach((ax, i) => {
    if (a.shape[ax] !== b.shape[ya[i]!]) {
      throw new ShapeError(
        `contraction size mismatch: x axis ${ax} has size ${a.shape[ax]} but y axis ${ya[i]} has size ${b.shape[ya[i]!]} (x shape ${shapeStr(a.shape)}, y shape ${shapeStr(b.shape)}, axes x (${xa.join(", ")}) y (${ya.join(", ")}))`,
        { op },
      );
    }
  });
  return dotGeneral(a, b, [[xa, ya], [[], []]]);
});

/** Sum of products over the last axes of `x` and `y`; scalars multiply. */
export const inner = arrayFn("np.inner", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const op = "np.inner";
  const [a, b] = operands(op, x, y) as [ArrayBase, ArrayBase];
  if (a.ndim === 0 || b.ndim === 0) return multiply(a, b);
  if (a.shape[a.ndim - 1] !== b.shape[b.ndim - 1]) {
    throw new ShapeError(
      `contraction size mismatch: the last axes differ, x of shape ${shapeStr(a.shape)} has ${a.shape[a.ndim - 1]} and y of shape ${shapeStr(b.shape)} has ${b.shape[b.ndim - 1]}`,
      { op },
    );
  }
  return dotGeneral(a, b, [[[a.ndim - 1], [b.ndim - 1]], [[], []]]);
});

/** Outer product of the flattened inputs: `out[i, j] = x.flat[i] * y.flat[j]`. */
export const outer = arrayFn("np.outer", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const [a, b] = operands("np.outer", x, y) as [ArrayBase, ArrayBase];
  return dotGeneral(reshape(a, [a.size]), reshape(b, [b.size]), [[[], []], [[], []]]);
});

/** Dot product of the flattened inputs (which must have the same size). */
export const vdot = arrayFn("np.vdot", ["x:array!", "y:array!"], (x: ArrayLike, y: ArrayLike): ArrayBase => {
  const op = "np.vdot";
  const [a, b] = operands(op, x, y) as [ArrayBase, ArrayBase];
  if (a.size !== b.size) {
    throw new ShapeError(`inputs must have the same size, got x of shape ${shapeStr(a.shape)} (size ${a.size}) and y of shape ${shapeStr(b.shape)} (size ${b.size})`, { op });
  }
  return dotGeneral(reshape(a, [a.size]), reshape(b, [b.size]), [[[0], [0]], [[], []]]);
});

export { einsum } from "./einsum.js";
