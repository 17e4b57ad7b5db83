/** Guards on the size and finiteness of updates: clip, clipByGlobalNorm, zeroNans. */
import { type ArrayBase, np, tree } from "@cotangent/core";
import { type EmptyState, type GradientTransformation, type PyTree, type Scalar, emptyState, transformation } from "../base.js";
import { cast, globalNorm, like } from "../numerics.js";
import { checkArg, nonNegative, positive } from "../validate.js";

/** Clips every element of the updates to `[-maxDelta, maxDelta]`. */
export const clip = (maxDelta: Scalar): GradientTransformation<EmptyState> => {
  checkArg("optim.clip", "maxDelta", nonNegative, maxDelta);
  return transformation(emptyState, (updates, state) => [
    tree.map((g: ArrayBase) => {
      const m = like(maxDelta, g);
      return np.clip(g, typeof m === "number" ? -m : np.negative(m), m);
    }, updates),
    state,
  ]);
};

/**
 * Rescales all updates together so that their global L2 norm (over every leaf) is at most
 * `maxNorm` (Pascanu et al. 2013): `g * maxNorm / ||g||` when `||g|| >= maxNorm`, else `g`.
 */
export const clipByGlobalNorm = (maxNorm: Scalar): GradientTransformation<EmptyState> => {
  checkArg("optim.clipByGlobalNorm", "maxNorm", positive, maxNorm);
  return transformation(emptyState, (updates, state) => {
    const norm = globalNorm(updates);
    const small = np.less(norm, like(maxNorm, norm));
    const clipped = tree.map(
      (g: ArrayBase) => np.where(small, g, np.multiply(np.divide(g, cast(norm, g.dtype)), like(maxNorm, g))),
      updates,
    );
    return [clipped, state];
  });
};

/** State of {@link zeroNans}: per leaf, whether the last updates held a NaN. */
export interface ZeroNansState {
  foundNan: PyTree;
}

/** Replaces NaNs in the updates by 0, and records per leaf whether any were found. */
export const zeroNans = (): GradientTransformation<ZeroNansState> =>
  transformation(
    (params) => ({ foundNan: tree.map(() => np.array(false), params) }),
    (updates, _state) => {
      const foundNan = tree.map((g: ArrayBase) => np.any(np.isnan(g)), updates);
      return [tree.map((g: ArrayBase) => np.where(np.isnan(g), 0, g), updates), { foundNan }];
    },
  );
