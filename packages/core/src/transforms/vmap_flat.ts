/** vmap of a function over flat array lists, for rules that must batch user callbacks. */
import type { ArrayBase } from "../array.js";
import { ShapedArray } from "../dtype.js";
import { evalJaxpr } from "../interpreter.js";
import { traceToJaxpr } from "../trace.js";
import { type BatchDim, batchJaxpr } from "./vmap.js";

/**
 * Applies `fn` (flat arrays -> flat arrays) to `args` whose batch axes are `dims`;
 * every output comes back batched at axis 0.
 */
export const vmapFlat = (fn: (...xs: ArrayBase[]) => ArrayBase[], args: readonly ArrayBase[], dims: readonly BatchDim[], size: number): ArrayBase[] => {
  const avals = args.map((x, i) => {
    const d = dims[i];
    if (d === null || d === undefined) return x.aval;
    const s = x.shape;
    s.splice(d, 1);
    return new ShapedArray(s, x.dtype);
  });
  const j = traceToJaxpr((...xs) => fn(...xs), avals);
  return evalJaxpr(batchJaxpr(j, dims, size, j.outvars.map(() => 0)), args);
};
