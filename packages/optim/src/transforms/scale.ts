/** Scaling by a constant or by a schedule of the step: the last link of most optimizers. */
import { type ArrayBase, np, tree } from "@cotangent/core";
import { type EmptyState, type GradientTransformation, type Scalar, type ScalarOrSchedule, type Schedule, emptyState, transformation } from "../base.js";
import { increment, like, negate, zeroCount } from "../numerics.js";
import { bool, checkArg, finite, learningRate, parseOptions, schedule as scheduleCodec } from "../validate.js";

/** `updates * stepSize`. */
export const scale = (stepSize: Scalar): GradientTransformation<EmptyState> => {
  checkArg("optim.scale", "stepSize", finite, stepSize);
  return transformation(emptyState, (updates, state) => [tree.map((g: ArrayBase) => np.multiply(g, like(stepSize, g)), updates), state]);
};

/** Replaces the updates by zeros: with `partition`, freezes a group of params. */
export const setToZero = (): GradientTransformation<EmptyState> =>
  transformation(emptyState, (updates, state) => [tree.map((g: ArrayBase) => np.zerosLike(g), updates), state]);

/** State of {@link scaleBySchedule}: the number of updates so far. */
export interface ScaleByScheduleState {
  count: ArrayBase;
}

/**
 * `updates * schedule(count)`, where `count` (an int32 array in the state) counts the
 * updates made so far: the first update uses `schedule(0)`.
 */
export const scaleBySchedule = (schedule: Schedule): GradientTransformation<ScaleByScheduleState> => {
  checkArg("optim.scaleBySchedule", "schedule", scheduleCodec, schedule);
  return transformation(
    () => ({ count: zeroCount() }),
    (updates, state) => {
      const step = schedule(state.count);
      return [tree.map((g: ArrayBase) => np.multiply(g, like(step, g)), updates), { count: increment(state.count) }];
    },
  );
};

export interface ScaleByLearningRateOptions {
  /** Multiply by `-learningRate` (descent), the default, rather than `+learningRate`. */
  flipSign?: boolean;
}

/**
 * `updates * -learningRate` (so that applyUpdates descends), where the learning rate is a
 * number, a scalar array or a schedule of the step.
 */
export const scaleByLearningRate = (
  lr: ScalarOrSchedule,
  options: ScaleByLearningRateOptions = {},
): GradientTransformation<EmptyState | ScaleByScheduleState> => {
  const op = "optim.scaleByLearningRate";
  checkArg(op, "learningRate", learningRate, lr);
  const { flipSign = true } = parseOptions(op, options, {}, { flipSign: bool });
  const sign = (v: Scalar): Scalar => (flipSign ? negate(v) : v);
  if (typeof lr === "function") return scaleBySchedule((step) => sign(lr(step)));
  return scale(sign(lr));
};
