/** `np` shape functions: reshape, transpose, squeeze, expandDims, concatenate, stack, ... */
import type { ArrayBase } from "../array.js";
import { ShapeError } from "../errors.js";
import { reshape as reshapeOp } from "../primitives/structural.js";
import { type ArrayLike, asArray } from "./coerce.js";

/** Reshapes `x`; one entry of `shape` may be -1 to infer it. */
export const reshape = (x: ArrayLike, shape: number | readonly number[]): ArrayBase => {
  const a = asArray(x);
  const sh = typeof shape === "number" ? [shape] : shape.slice();
  const unknown = sh.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError(`only one dimension may be -1, got [${sh.join(", ")}]`, { op: "np.reshape" });
  if (unknown === 1) {
    const known = sh.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (known === 0 || a.size % known !== 0) {
      throw new ShapeError(`cannot reshape an array of shape [${a.shape.join(", ")}] (size ${a.size}) to [${sh.join(", ")}]`, { op: "np.reshape" });
    }
    sh[sh.indexOf(-1)] = a.size / known;
  }
  return reshapeOp(a, sh);
};
