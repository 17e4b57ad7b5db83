/** `np` reductions with `axis` (number | number[] | undefined = all) and `keepdims`. */
import type { ArrayBase } from "../array.js";
import { normalizeAxes } from "../primitives/common.js";
import { reduceSum } from "../primitives/reduce.js";
import { reshape } from "../primitives/structural.js";
import { type ArrayLike, asArray } from "./coerce.js";

export interface ReduceOptions {
  axis?: number | readonly number[] | null;
  keepdims?: boolean;
}

/** Normalised reduction axes for `x` (all axes when none are given). */
export const reductionAxes = (op: string, x: ArrayBase, axis: ReduceOptions["axis"]): number[] =>
  axis === undefined || axis === null ? x.shape.map((_, i) => i) : normalizeAxes(op, typeof axis === "number" ? [axis] : axis, x.ndim);

/** Re-inserts reduced axes as size 1 when `keepdims`. */
export const keepDims = (r: ArrayBase, x: ArrayBase, axes: readonly number[], keepdims: boolean | undefined): ArrayBase =>
  keepdims ? reshape(r, x.shape.map((d, i) => (axes.includes(i) ? 1 : d))) : r;

export const sum = (x: ArrayLike, options: ReduceOptions = {}): ArrayBase => {
  const a = asArray(x);
  const axes = reductionAxes("np.sum", a, options.axis);
  return keepDims(reduceSum(a, axes), a, axes, options.keepdims);
};
