/** Momentum and moving averages of the updates: `trace` (heavy ball, Nesterov) and `ema`. */
import { type ArrayBase, np, tree } from "@cotangent/core";
import { type GradientTransformation, type PyTree, type Scalar, transformation } from "../base.js";
import { biasCorrection, increment, like, treeZerosLike, updateMoment, zeroCount } from "../numerics.js";
import { bool, checkArg, decayRate, nonNegative, parseOptions } from "../validate.js";

/** State of {@link trace}: the momentum buffer. */
export interface TraceState {
  trace: PyTree;
}

/**
 * Momentum (Polyak 1964; Sutskever et al. 2013 for Nesterov, in Optax's form):
 * `t = g + decay t`, and the update is `t`, or `g + decay t` with `nesterov`.
 */
export const trace = (decay: Scalar, options: { nesterov?: boolean } = {}): GradientTransformation<TraceState> => {
  const op = "optim.trace";
  checkArg(op, "decay", nonNegative, decay);
  const { nesterov = false } = parseOptions(op, options, {}, { nesterov: bool });
  const step = (g: ArrayBase, t: ArrayBase) => np.add(g, np.multiply(like(decay, t), t));
  return transformation(
    (params) => ({ trace: treeZerosLike(params) }),
    (g, state) => {
      const t = tree.map(step, g, state.trace);
      return [nesterov ? tree.map(step, g, t) : t, { trace: t }];
    },
  );
};

/** State of {@link ema}: the step count and the (uncorrected) moving average. */
export interface EmaState {
  count: ArrayBase;
  ema: PyTree;
}

/**
 * The exponential moving average of the updates, `e = decay e + (1 - decay) g`, divided by
 * `1 - decay^t` when `debias` (the default) so that early steps are not biased to zero.
 */
export const ema = (decay: Scalar, options: { debias?: boolean } = {}): GradientTransformation<EmaState> => {
  const op = "optim.ema";
  checkArg(op, "decay", decayRate, decay);
  const { debias = true } = parseOptions(op, options, {}, { debias: bool });
  return transformation(
    (params) => ({ count: zeroCount(), ema: treeZerosLike(params) }),
    (g, state) => {
      const e = updateMoment(g, state.ema, decay, 1);
      const count = increment(state.count);
      return [debias ? biasCorrection(e, decay, count) : e, { count, ema: e }];
    },
  );
};
