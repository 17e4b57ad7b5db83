/**
 * Transforms that wrap another one and decide, with array math on the state, whether its
 * update happens: `applyIfFinite` (skip steps with NaN or infinite gradients) and
 * `multiSteps` (accumulate gradients over k calls, then take one step). Both compute the
 * inner update on every call and select with `np.where`, so they trace without branching.
 */
import { type ArrayBase, ValueError, describeValue, np, tree } from "@cotangent/core";
import { type GradientTransformation, type PyTree, transformation } from "../base.js";
import { allFinite, cast, increment, treeSelect, treeZerosLike, zeroCount } from "../numerics.js";
import { bool, checkArg, nonNegativeInt, parseOptions, positiveInt, transform as transformCodec } from "../validate.js";

/** State of {@link applyIfFinite}. */
export interface ApplyIfFiniteState<S = unknown> {
  /** Consecutive steps with non-finite updates (int32). */
  notfiniteCount: ArrayBase;
  /** Whether the last updates were all finite (bool). */
  lastFinite: ArrayBase;
  /** Steps with non-finite updates so far (int32). */
  totalNotfinite: ArrayBase;
  innerState: S;
}

/**
 * Applies `inner` only when every update is finite; otherwise returns zero updates and keeps
 * the inner state. After more than `maxConsecutiveErrors` non-finite steps in a row, the
 * update is applied anyway (so that a run does not stall silently).
 */
export const applyIfFinite = <S>(inner: GradientTransformation<S>, maxConsecutiveErrors: number): GradientTransformation<ApplyIfFiniteState<S>> => {
  const op = "optim.applyIfFinite";
  checkArg(op, "inner", transformCodec, inner);
  checkArg(op, "maxConsecutiveErrors", nonNegativeInt, maxConsecutiveErrors);
  return transformation(
    (params) => ({
      notfiniteCount: zeroCount(),
      lastFinite: np.array(true),
      totalNotfinite: zeroCount(),
      innerState: inner.init(params),
    }),
    (updates, state, params) => {
      const finite = allFinite(updates);
      const notfiniteCount = np.where(finite, 0, increment(state.notfiniteCount));
      const apply = np.logicalOr(finite, np.greater(notfiniteCount, maxConsecutiveErrors));
      const [innerUpdates, innerState] = inner.update(updates, state.innerState, params);
      return [
        tree.map((u: ArrayBase) => np.where(apply, u, 0), innerUpdates),
        {
          notfiniteCount,
          lastFinite: finite,
          totalNotfinite: np.where(finite, state.totalNotfinite, increment(state.totalNotfinite)),
          innerState: treeSelect(apply, innerState, state.innerState),
        },
      ];
    },
  );
};

/** State of {@link multiSteps}. */
export interface MultiStepsState<S = unknown> {
  /** Calls since the last real step, 0..k-1 (int32). */
  miniStep: ArrayBase;
  /** Real steps taken (int32). */
  gradientStep: ArrayBase;
  innerState: S;
  /** Accumulated gradients (their running mean, by default). */
  accGrads: PyTree;
}

/**
 * Gradient accumulation: for `everyK - 1` calls, accumulate the gradients and return zero
 * updates; on the k-th, apply `inner` to the mean (or with `useGradMean: false`, the sum)
 * of the k gradients. Emulates a k-times larger batch.
 */
export const multiSteps = <S>(
  inner: GradientTransformation<S>,
  everyK: number,
  options: { useGradMean?: boolean } = {},
): GradientTransformation<MultiStepsState<S>> => {
  const op = "optim.multiSteps";
  checkArg(op, "inner", transformCodec, inner);
  checkArg(op, "everyK", positiveInt, everyK);
  const { useGradMean = true } = parseOptions(op, options, {}, { useGradMean: bool });
  return transformation(
    (params) => ({ miniStep: zeroCount(), gradientStep: zeroCount(), innerState: inner.init(params), accGrads: treeZerosLike(params) }),
    (grads, state, params) => {
      // A running mean, acc + (g - acc) / (n + 1), stays in range where a sum could overflow.
      const accGrads = tree.map(
        (g: ArrayBase, acc: ArrayBase) =>
          useGradMean ? np.add(acc, np.divide(np.subtract(g, acc), cast(np.add(state.miniStep, 1), acc.dtype))) : np.add(acc, g),
        grads,
        state.accGrads,
      );
      const final = np.greaterEqual(state.miniStep, everyK - 1);
      const [innerUpdates, innerState] = inner.update(accGrads, state.innerState, params);
      return [
        tree.map((u: ArrayBase) => np.where(final, u, 0), innerUpdates),
        {
          miniStep: np.where(final, 0, increment(state.miniStep)),
          gradientStep: np.where(final, increment(state.gradientStep), state.gradientStep),
          innerState: treeSelect(final, innerState, state.innerState),
          accGrads: tree.map((a: ArrayBase) => np.where(final, 0, a), accGrads),
        },
      ];
    },
  );
};

/** True (a bool array) when the last call to a multiSteps update took a real step. */
export const multiStepsHasUpdated = (state: MultiStepsState): ArrayBase => {
  if (state === null || typeof state !== "object" || !("miniStep" in state) || !("gradientStep" in state)) {
    throw new ValueError(`expects the state of optim.multiSteps (with miniStep and gradientStep), got ${describeValue(state)}`, { op: "optim.multiStepsHasUpdated" });
  }
  return np.logicalAnd(np.equal(state.miniStep, 0), np.greater(state.gradientStep, 0));
};
