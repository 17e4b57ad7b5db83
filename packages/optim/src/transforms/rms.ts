/**
 * Rescalings by accumulated squared gradients: RMSProp (plain and centered), AdaGrad's
 * root of the sum of squares, and AdaDelta.
 */
import { type ArrayBase, np, tree } from "@cotangent/core";
import { type GradientTransformation, type PyTree, type Scalar, transformation } from "../base.js";
import { like, treeFullLike, treeZerosLike, updateMoment } from "../numerics.js";
import { decayRate, nonNegative, parseOptions } from "../validate.js";

export interface ScaleByRmsOptions {
  /** Decay of the moving average of squared gradients (default 0.9). */
  decay?: Scalar;
  /** Added inside the square root (default 1e-8). */
  eps?: Scalar;
  /** Initial value of the accumulators (default 0). */
  initialScale?: Scalar;
}

export const RMS_OPTIONS = { decay: decayRate, eps: nonNegative, initialScale: nonNegative };

/** State of {@link scaleByRms}: the moving average of squared gradients. */
export interface ScaleByRmsState {
  nu: PyTree;
}

/**
 * RMSProp's rescaling (Tieleman & Hinton 2012, lecture 6.5; Optax's scale_by_rms):
 * `nu = decay nu + (1 - decay) g^2`, update `g / sqrt(nu + eps)`.
 */
export const scaleByRms = (options: ScaleByRmsOptions = {}): GradientTransformation<ScaleByRmsState> => {
  const { decay = 0.9, eps = 1e-8, initialScale = 0 } = parseOptions("optim.scaleByRms", options, {}, RMS_OPTIONS);
  return transformation(
    (params) => ({ nu: treeFullLike(params, initialScale) }),
    (g, state) => {
      const nu = updateMoment(g, state.nu, decay, 2);
      return [tree.map((gi: ArrayBase, n: ArrayBase) => np.multiply(gi, np.rsqrt(np.add(n, like(eps, n)))), g, nu), { nu }];
    },
  );
};

/** State of {@link scaleByStddev}: moving averages of the gradient and of its square. */
export interface ScaleByStddevState {
  mu: PyTree;
  nu: PyTree;
}

/**
 * Centered RMSProp (Graves 2013, "Generating Sequences With Recurrent Neural Networks",
 * eq. 38-40): divides by a running estimate of the standard deviation,
 * `g / sqrt(nu - mu^2 + eps)`.
 */
export const scaleByStddev = (options: ScaleByRmsOptions = {}): GradientTransformation<ScaleByStddevState> => {
  const { decay = 0.9, eps = 1e-8, initialScale = 0 } = parseOptions("optim.scaleByStddev", options, {}, RMS_OPTIONS);
  return transformation(
    (params) => ({ mu: treeZerosLike(params), nu: treeFullLike(params, initialScale) }),
    (g, state) => {
      const mu = updateMoment(g, state.mu, decay, 1);
      const nu = updateMoment(g, state.nu, decay, 2);
      const updates = tree.map(
        (gi: ArrayBase, m: ArrayBase, n: ArrayBase) => np.multiply(gi, np.rsqrt(np.add(np.subtract(n, np.square(m)), like(eps, n)))),
        g,
        mu,
        nu,
      );
      return [updates, { mu, nu }];
    },
  );
};

/** State of {@link scaleByRss}: the running sum of squared gradients. */
export interface ScaleByRssState {
  sumOfSquares: PyTree;
}

/**
 * AdaGrad's rescaling (Duchi et al. 2011; Optax's scale_by_rss): `s = s + g^2`, update
 * `g / sqrt(s + eps)`, and 0 where `s` is 0.
 */
export const scaleByRss = (options: { initialAccumulatorValue?: Scalar; eps?: Scalar } = {}): GradientTransformation<ScaleByRssState> => {
  const o = parseOptions("optim.scaleByRss", options, {}, { initialAccumulatorValue: nonNegative, eps: nonNegative });
  const { initialAccumulatorValue = 0.1, eps = 1e-7 } = o;
  return transformation(
    (params) => ({ sumOfSquares: treeFullLike(params, initialAccumulatorValue) }),
    (g, state) => {
      const sumOfSquares = tree.map((gi: ArrayBase, s: ArrayBase) => np.add(np.square(gi), s), g, state.sumOfSquares);
      const updates = tree.map(
        (gi: ArrayBase, s: ArrayBase) => np.multiply(np.where(np.greater(s, 0), np.rsqrt(np.add(s, like(eps, s))), 0), gi),
        g,
        sumOfSquares,
      );
      return [updates, { sumOfSquares }];
    },
  );
};

/** State of {@link scaleByAdadelta}: moving averages of squared gradients and squared updates. */
export interface ScaleByAdadeltaState {
  eG: PyTree;
  eX: PyTree;
}

/**
 * AdaDelta (Zeiler 2012, Algorithm 1): `E[g^2] = rho E[g^2] + (1 - rho) g^2`,
 * `dx = sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g`, `E[dx^2] = rho E[dx^2] + (1 - rho) dx^2`.
 */
export const scaleByAdadelta = (options: { rho?: Scalar; eps?: Scalar } = {}): GradientTransformation<ScaleByAdadeltaState> => {
  const { rho = 0.9, eps = 1e-6 } = parseOptions("optim.scaleByAdadelta", options, {}, { rho: decayRate, eps: nonNegative });
  return transformation(
    (params) => ({ eG: treeZerosLike(params), eX: treeZerosLike(params) }),
    (g, state) => {
      const eG = updateMoment(g, state.eG, rho, 2);
      const updates = tree.map(
        (gi: ArrayBase, x: ArrayBase, a: ArrayBase) =>
          np.multiply(np.divide(np.sqrt(np.add(x, like(eps, x))), np.sqrt(np.add(a, like(eps, a)))), gi),
        g,
        state.eX,
        eG,
      );
      return [updates, { eG, eX: updateMoment(updates, state.eX, rho, 2) }];
    },
  );
};
