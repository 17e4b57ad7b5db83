/** Reductions: reduce_sum (more are added beside it, one record each). */
import { type ArrayBase, bufferOf, fromBuffer } from "../array.js";
import { ShapedArray } from "../dtype.js";
import { definePrimitive } from "../ir/primitive.js";
import { reduceKernel } from "../kernels/layout.js";
import { bind1 } from "../trace.js";
import { normalizeAxes } from "./common.js";
import { broadcastInDim, moveAxis } from "./structural.js";

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

export const reduceSumP = definePrimitive<ReduceParams>({
  name: "reduce_sum",
  abstractEval: ([x], { axes }) => [reducedAval("reduce_sum", x!, axes)],
  impl: ([x], { axes }) => {
    const out = reducedAval("reduce_sum", x!.aval, axes);
    return [fromBuffer(reduceKernel(bufferOf(x!), x!.shape, axes, x!.dtype === "bool" ? "or" : "sum", x!.dtype), out.shape, x!.dtype)];
  },
  jvp: ([x], [t], { axes }) => [[reduceSum(x!, axes)], [t && reduceSum(t, axes)]],
  transpose: ([ct], [x], { axes }) => [ct && broadcastInDim(ct, x!.aval.shape, keptAxes(x!.aval.ndim, axes))],
  batch: ([x], [d], { axes }) => [[reduceSum(moveAxis(x!, d!, 0), axes.map((a) => a + 1))], [0]],
});

/** Sums over `axes` (non-negative, distinct). */
export const reduceSum = (x: ArrayBase, axes: readonly number[]): ArrayBase =>
  axes.length === 0 ? x : bind1(reduceSumP, [x], { axes: axes.slice() });
