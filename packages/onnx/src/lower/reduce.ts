/** Lowerings of reductions, argmax/argmin and the cumulative ops. */
import type { DType } from "@cotangent/core";
import type { GraphBuilder } from "../builder.js";
import { cast } from "./elementwise.js";
import type { LoweringRule, LoweringTable } from "./rule.js";
import { padWith } from "./shape.js";

/** ReduceSum takes axes as an input from opset 13, the other reductions from opset 18. */
const reduceOp = (g: GraphBuilder, opType: string, x: string, axes: readonly number[]): string => {
  const asInput = opType === "ReduceSum" || g.model.opset >= 18;
  return asInput
    ? g.op(opType, [x, g.int64s(axes)], { keepdims: { int: 0 } })
    : g.op(opType, [x], { axes: { ints: axes }, keepdims: { int: 0 } });
};

const reducer =
  (opType: string): LoweringRule<{ axes: number[] }> =>
  ({ g, inputs: [x], params }) => [reduceOp(g, opType, x!, params.axes)];

/** reduce_and / reduce_or over bools: min / max over 0/1 (ONNX reductions take numbers). */
const logicalReducer =
  (opType: string): LoweringRule<{ axes: number[] }> =>
  ({ g, inputs: [x], params }) => [cast(g, reduceOp(g, opType, cast(g, x!, "int32"), params.axes), "bool")];

const argReducer =
  (opType: string): LoweringRule<{ axes: [number] }> =>
  ({ g, inputs: [x], inAvals: [a], params }) => {
    // ONNX ArgMax/ArgMin take no bools; the first extreme index is kept (select_last_index = 0), as in JAX.
    const xs = a!.dtype === "bool" ? cast(g, x!, "int32") : x!;
    return [cast(g, g.op(opType, [xs], { axis: { int: params.axes[0] }, keepdims: { int: 0 }, select_last_index: { int: 0 } }), "int32")];
  };

// ---------------------------------------------------------------- cumulative ops

const identityOf = (combine: "Mul" | "Max" | "Min", d: DType): number =>
  combine === "Mul" ? 1 : d === "int32" ? (combine === "Max" ? -(2 ** 31) : 2 ** 31 - 1) : combine === "Max" ? -Infinity : Infinity;

/**
 * An inclusive scan with `combine` in log2(n) doubling steps (Hillis and Steele, "Data
 * parallel algorithms", 1986): x_k = combine(x_{k-1}, x_{k-1} shifted by 2^k along the axis,
 * filled with the identity). ONNX has CumSum only.
 */
const doublingScan = (g: GraphBuilder, x: string, shape: readonly number[], axis: number, combine: "Mul" | "Max" | "Min", d: DType): string => {
  const n = shape[axis]!;
  const fill = g.scalar(identityOf(combine, d), d);
  let cur = x;
  for (let k = 1; k < n; k *= 2) {
    const cfg = shape.map((_, i): [number, number, number] => (i === axis ? [k, -k, 0] : [0, 0, 0]));
    cur = g.op(combine, [cur, padWith(g, cur, shape, fill, cfg)]);
  }
  return cur;
};

const cumulative =
  (combine: "Mul" | "Max" | "Min"): LoweringRule<{ axis: number; reverse: boolean }> =>
  ({ g, inputs: [x], inAvals: [a], params: { axis, reverse } }) => {
    const d = a!.dtype;
    // bools scan as int32 0/1 (max = or, min = and).
    const xs = d === "bool" ? cast(g, x!, "int32") : x!;
    const dd: DType = d === "bool" ? "int32" : d;
    const flip = (v: string) => g.op("Slice", [v, g.int64s([-1]), g.int64s([-Number.MAX_SAFE_INTEGER]), g.int64s([axis]), g.int64s([-1])]);
    let r = doublingScan(g, reverse ? flip(xs) : xs, a!.shape, axis, combine, dd);
    if (reverse) r = flip(r);
    return [d === "bool" ? cast(g, r, "bool") : r];
  };

const cumsum: LoweringRule<{ axis: number; reverse: boolean }> = ({ g, inputs: [x], inAvals: [a], params: { axis, reverse } }) => {
  const xs = a!.dtype === "bool" ? cast(g, x!, "int32") : x!;
  const r = g.op("CumSum", [xs, g.scalar(axis, "int64")], { reverse: { int: reverse ? 1 : 0 } });
  return [a!.dtype === "bool" ? cast(g, r, "bool") : r];
};

export const reduceLowerings: LoweringTable = {
  reduce_sum: reducer("ReduceSum"),
  reduce_max: reducer("ReduceMax"),
  reduce_min: reducer("ReduceMin"),
  reduce_prod: reducer("ReduceProd"),
  reduce_and: logicalReducer("ReduceMin"),
  reduce_or: logicalReducer("ReduceMax"),
  argmax: argReducer("ArgMax"),
  argmin: argReducer("ArgMin"),
  cumsum,
  cumprod: cumulative("Mul"),
  cummax: cumulative("Max"),
  cummin: cumulative("Min"),
};
