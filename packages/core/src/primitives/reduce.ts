/**
 * Reductions over a set of axes: reduce_sum, reduce_max, reduce_min, reduce_prod,
 * reduce_and, reduce_or, and the arg-reductions argmax and argmin (one axis, int32
 * indices). Cumulative scans (cumsum, cumprod, ...) live in cumulative.ts.
 */
import { type ArrayBase, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import { type JvpRule, type Primitive, definePrimitive } from "../ir/primitive.js";
import { argReduceKernel } from "../kernels/reduce.js";
import { type Accumulate, reduceKernel } from "../kernels/layout.js";
import { bind1 } from "../trace.js";
import { div, mul } from "./binary.js";
import { ALL_DTYPES, NUMERIC, normalizeAxes, normalizeAxis, requireDType, scalar } from "./common.js";
import { eq } from "./compare.js";
import { cumprod } from "./cumulative.js";
import { pad } from "./shape.js";
import { broadcastInDim, convertElementType, moveAxis, reshape, transpose } from "./structural.js";

export interface ReduceParams {
  axes: readonly number[];
}

const reducedAval = (op: string, x: ShapedArray, axes: readonly number[]): ShapedArray => {
  const ax = normalizeAxes(op, axes, x.ndim);
  return new ShapedArray(
    x.shape.filter((_, i) => !ax.includes(i)),
    x.dtype,
  );
};

/** Output axes kept by a reduction: where each surviving input axis lands. */
export const keptAxes = (ndim: number, axes: readonly number[]): number[] =>
  Array.from({ length: ndim }, (_, i) => i).filter((i) => !axes.includes(i));

/** `r` (reduced over `axes`) broadcast back to the shape of `x`. */
const expandBack = (r: ArrayBase, x: ArrayBase, axes: readonly number[]): ArrayBase => broadcastInDim(r, x.shape, keptAxes(x.ndim, axes));

interface ReducerSpec {
  name: string;
  acc: (d: DType) => Accumulate;
  dtypes: readonly DType[];
  jvp?: JvpRule<ReduceParams>;
  transpose?: Primitive<ReduceParams>["transpose"];
}

/** A reduction primitive over `axes` with the shared abstract evaluation, kernel and batching rule. */
const reducer = (spec: ReducerSpec): [Primitive<ReduceParams>, (x: ArrayBase, axes: readonly number[]) => ArrayBase] => {
  const prim: Primitive<ReduceParams> = definePrimitive<ReduceParams>({
    name: spec.name,
    abstractEval: ([x], { axes }) => {
      requireDType(spec.name, x!, spec.dtypes);
      return [reducedAval(spec.name, x!, axes)];
    },
    impl: ([x], { axes }) => {
      const out = reducedAval(spec.name, x!.aval, axes);
      return [fromBuffer(reduceKernel(bufferOf(x!), x!.shape, axes, spec.acc(x!.dtype), x!.dtype), out.shape, x!.dtype)];
    },
    freshResults: true,
    jvp: spec.jvp,
    transpose: spec.transpose,
    batch: ([x], [d], { axes }) => [[op(moveAxis(x!, d!, 0), axes.map((a) => a + 1))], [0]],
  });
  const op = (x: ArrayBase, axes: readonly number[]): ArrayBase => (axes.length === 0 ? x : bind1(prim, [x], { axes: axes.slice() }));
  return [prim, op];
};

/** lax.reduceSum: sum over `axes` (non-negative, distinct); bools reduce with `or`. */
export const [reduceSumP, reduceSum] = reducer({
  name: "reduce_sum",
  acc: (d) => (d === "bool" ? "or" : "sum"),
  dtypes: ALL_DTYPES,
  jvp: ([x], [t], { axes }) => [[reduceSum(x!, axes)], [t && reduceSum(t, axes)]],
  transpose: ([ct], [x], { axes }) => [ct && broadcastInDim(ct, x!.aval.shape, keptAxes(x!.aval.ndim, axes))],
});

/**
 * jvp of max/min reductions (JAX's `_reduce_chooser_jvp_rule`): the tangent at the
 * location(s) of the extreme, averaged over ties.
 */
const chooserJvp =
  (op: () => (x: ArrayBase, axes: readonly number[]) => ArrayBase): JvpRule<ReduceParams> =>
  ([x], [t], { axes }) => {
    const out = op()(x!, axes);
    if (!t) return [[out], [null]];
    const at = convertElementType(eq(x!, expandBack(out, x!, axes)), t.dtype);
    return [[out], [div(reduceSum(mul(t, at), axes), reduceSum(at, axes))]];
  };

/** lax.reduceMax: maximum over `axes` (NaN propagates; -inf, or the int32 minimum, over no elements). */
export const [reduceMaxP, reduceMax] = reducer({
  name: "reduce_max",
  acc: (d) => (d === "bool" ? "or" : "max"),
  dtypes: ALL_DTYPES,
  jvp: chooserJvp(() => reduceMax),
});

/** lax.reduceMin: minimum over `axes` (NaN propagates; +inf, or the int32 maximum, over no elements). */
export const [reduceMinP, reduceMin] = reducer({
  name: "reduce_min",
  acc: (d) => (d === "bool" ? "and" : "min"),
  dtypes: ALL_DTYPES,
  jvp: chooserJvp(() => reduceMin),
});

/** lax.reduceProd: product over `axes`; its jvp is exact when the input holds zeros. */
export const [reduceProdP, reduceProd] = reducer({
  name: "reduce_prod",
  acc: () => "prod",
  dtypes: NUMERIC,
  jvp: ([x], [t], { axes }) => {
    const out = reduceProd(x!, axes);
    if (!t) return [[out], [null]];
    // d prod = sum_i t_i prod_{j != i} x_j. The product of the others is the exclusive
    // prefix product times the exclusive suffix product: no division, so zeros are fine.
    const ax = [...axes].sort((a, b) => a - b);
    const rest = keptAxes(x!.ndim, ax);
    const lead = rest.map((k) => x!.shape[k]!);
    const flat = (y: ArrayBase) => reshape(transpose(y, [...rest, ...ax]), [...lead, ax.reduce((p, k) => p * x!.shape[k]!, 1)]);
    const xf = flat(x!);
    const last = xf.ndim - 1;
    const one = scalar(1, x!.dtype);
    const shifted = (lo: number, hi: number, y: ArrayBase) => pad(y, one, xf.shape.map((_, k) => (k === last ? [lo, hi, 0] : [0, 0, 0])));
    const before = shifted(1, -1, cumprod(xf, last, false));
    const after = shifted(-1, 1, cumprod(xf, last, true));
    return [[out], [reduceSum(mul(flat(t), mul(before, after)), [last])]];
  },
});

/** lax.reduceAnd / lax.reduceOr: logical and / or of a bool array over `axes`. */
// Logical reductions have bool outputs, which carry no tangent.
export const [reduceAndP, reduceAnd] = reducer({ name: "reduce_and", acc: () => "and", dtypes: ["bool"], jvp: ([x], _t, { axes }) => [[reduceAnd(x!, axes)], [null]] });
export const [reduceOrP, reduceOr] = reducer({ name: "reduce_or", acc: () => "or", dtypes: ["bool"], jvp: ([x], _t, { axes }) => [[reduceOr(x!, axes)], [null]] });

// ---------------------------------------------------------------- argmax / argmin

export interface ArgReduceParams {
  axes: readonly [number];
  index_dtype: DType;
}

const argAval = (op: string, x: ShapedArray, { axes, index_dtype }: ArgReduceParams): ShapedArray => {
  if (axes.length !== 1) throw new ValueError(`reduces exactly one axis, got axes (${axes.join(", ")})`, { op });
  const axis = normalizeAxis(op, axes[0], x.ndim);
  if (index_dtype !== "int32") throw new DTypeError(`index_dtype must be int32, got ${index_dtype}`, { op });
  if (x.shape[axis] === 0) throw new ValueError(`attempt to get ${op} of an empty sequence: axis ${axis} of ${x} has size 0`, { op });
  return new ShapedArray(x.shape.filter((_, i) => i !== axis), index_dtype);
};

const argReducer = (name: "argmax" | "argmin"): [Primitive<ArgReduceParams>, (x: ArrayBase, axis: number, indexDtype?: DType) => ArrayBase] => {
  const which = name === "argmax" ? "max" : "min";
  const prim: Primitive<ArgReduceParams> = definePrimitive<ArgReduceParams>({
    name,
    abstractEval: ([x], p) => [argAval(name, x!, p)],
    impl: ([x], p) => {
      const out = argAval(name, x!.aval, p);
      return [fromBuffer(argReduceKernel(bufferOf(x!), x!.shape, p.axes[0], which), out.shape, "int32")];
    },
    jvp: ([x], _t, p) => [[op(x!, p.axes[0])], [null]],
    batch: ([x], [d], p) => [[op(moveAxis(x!, d!, 0), p.axes[0] + 1)], [0]],
  });
  const op = (x: ArrayBase, axis: number, indexDtype: DType = "int32"): ArrayBase => bind1(prim, [x], { axes: [axis], index_dtype: indexDtype });
  return [prim, op];
};

/** lax.argmax(x, axis, indexDtype = 'int32'): index of the first maximum along `axis` (the first NaN, if any). */
export const [argmaxP, argmax] = argReducer("argmax");
/** lax.argmin(x, axis, indexDtype = 'int32'): index of the first minimum along `axis` (the first NaN, if any). */
export const [argminP, argmin] = argReducer("argmin");
