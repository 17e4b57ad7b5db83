/** Decoupled weight decay and trust-ratio scaling: the transforms that read the params. */
import { type ArrayBase, ValueError, np, tree } from "@cotangent/core";
import { type EmptyState, type GradientTransformation, type PyTree, type Scalar, emptyState, transformation } from "../base.js";
import { cast, like, safeNorm } from "../numerics.js";
import { checkArg, mask as maskCodec, nonNegative, parseOptions } from "../validate.js";
import { type Mask, type MaskedState, masked } from "./masking.js";

const needParams = (op: string, params: PyTree): void => {
  if (params === undefined) {
    throw new ValueError("needs the params: call update(grads, state, params)", {
      op,
      hint: "optimizers with weight decay or trust ratios (adamw, lamb, lars, lion, ...) read the current params",
    });
  }
};

/**
 * Adds `weightDecay * params` to the updates (decoupled weight decay, Loshchilov & Hutter
 * 2019): placed before the learning rate in a chain, it decays the params by
 * `learningRate * weightDecay` per step. With a `mask`, only the leaves where the mask is
 * true are decayed (e.g. weights but not biases).
 */
export const addDecayedWeights = (
  weightDecay: Scalar,
  options: { mask?: Mask } = {},
): GradientTransformation<EmptyState | MaskedState> => {
  const op = "optim.addDecayedWeights";
  checkArg(op, "weightDecay", nonNegative, weightDecay);
  const { mask } = parseOptions(op, options, {}, { mask: maskCodec });
  const inner = transformation(emptyState, (updates, state, params) => {
    needParams(op, params);
    return [tree.map((g: ArrayBase, p: ArrayBase) => np.add(g, np.multiply(like(weightDecay, g), cast(p, g.dtype))), updates, params), state];
  });
  return mask === undefined ? inner : masked(inner, mask as Mask);
};

export interface ScaleByTrustRatioOptions {
  /** Norms are at least this (default 0). */
  minNorm?: Scalar;
  /** Multiplies the ratio (default 1; LARS uses 0.001). */
  trustCoefficient?: Scalar;
  /** Added to the update norm (default 0). */
  eps?: Scalar;
}

/**
 * Scales each leaf's update by the trust ratio `trustCoefficient * ||param|| / (||update|| + eps)`
 * (You et al. 2017 for LARS, You et al. 2020 for LAMB), or by 1 when either norm is 0.
 */
export const scaleByTrustRatio = (options: ScaleByTrustRatioOptions = {}): GradientTransformation<EmptyState> => {
  const op = "optim.scaleByTrustRatio";
  const o = parseOptions(op, options, {}, { minNorm: nonNegative, trustCoefficient: nonNegative, eps: nonNegative });
  const { minNorm = 0, trustCoefficient = 1, eps = 0 } = o;
  return transformation(emptyState, (updates, state, params) => {
    needParams(op, params);
    const scaled = tree.map(
      (u: ArrayBase, p: ArrayBase) => {
        const pn = safeNorm(cast(p, u.dtype), minNorm);
        const un = safeNorm(u, minNorm);
        const ratio = np.divide(np.multiply(like(trustCoefficient, u), pn), np.add(un, like(eps, u)));
        const zero = np.logicalOr(np.equal(pn, 0), np.equal(un, 0));
        return np.multiply(u, np.where(zero, 1, ratio));
      },
      updates,
      params,
    );
    return [scaled, state];
  });
};
