/**
 * Batch normalization (Ioffe & Szegedy 2015), with its running statistics as explicit state:
 * `apply(params, state, x, { train })` returns `[y, nextState]`, as Haiku's
 * `transform_with_state` and Flax's mutable `batch_stats` collection do.
 */
import { type ArrayBase, AxisError, type DType, ShapeError, type Signature, np, parseArgs, signature, stopGradient } from "@cotangent/core";
import type { Initializer } from "../initializers.js";
import { type ApplyOptions, type StatefulLayer, checkFloatInput, checkParam, checkParamDType, checkParamsObject, checkRange, checkSize } from "./layer.js";
import { type NormParams, scaleBiasInit } from "./norm.js";

export interface BatchNormOptions {
  /** Running statistics decay: `running = momentum · running + (1 - momentum) · batch`. Default 0.99, as Flax. */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-5, as Flax. */
  epsilon?: number;
  /** The feature axis (or axes) of the input, which keep their own statistics. Default -1 (channels last). */
  axis?: number | readonly number[];
  /** Learn a per-feature scale (initialized to ones). Default true. */
  useScale?: boolean;
  /** Learn a per-feature bias (initialized to zeros). Default true. */
  useBias?: boolean;
  scaleInit?: Initializer;
  biasInit?: Initializer;
  /** Parameter and state dtype. Default float32. */
  dtype?: DType;
}

/** The running statistics: per-feature mean (starts at 0) and biased variance (starts at 1). */
export interface BatchNormState {
  mean: ArrayBase;
  var: ArrayBase;
}

const batchNormSig: Signature = signature("nn.batchNorm", [
  "features:ints!",
  "momentum:finite=",
  "epsilon:finite=",
  "axis:axisList=",
  "useScale:bool=",
  "useBias:bool=",
  "scaleInit:function=",
  "biasInit:function=",
  "dtype:dtype=",
]);

/** The input axes of the features, made non-negative and checked against the input's rank. */
const featureAxes = (op: string, x: ArrayBase, axis: readonly number[]): number[] => {
  const out = axis.map((a) => {
    if (a < -x.ndim || a >= x.ndim) {
      throw new AxisError(`axis ${a} is out of range for an input of shape [${x.shape.join(", ")}] (${x.ndim === 0 ? "a scalar has no axes" : `valid: ${-x.ndim} to ${x.ndim - 1}`})`, { op });
    }
    return a < 0 ? a + x.ndim : a;
  });
  if (new Set(out).size !== out.length) throw new AxisError(`repeated feature axis in (${axis.join(", ")})`, { op });
  return out;
};

/**
 * `batchNorm(features, { momentum, epsilon, axis })`: normalizes each feature by statistics
 * over every other axis (the batch and, for images, the spatial axes), then scales and
 * shifts. `features` is the size of the feature axis (or the sizes of the `axis` list).
 *
 * - Training (`apply(params, state, x, { train: true })`): uses the batch's mean and biased
 *   variance, and returns the state moved toward them by `1 - momentum`. The statistics in
 *   the new state are held constant for differentiation (they are data, not a function of
 *   the loss).
 * - Evaluation (the default, `train` absent or false): uses the running statistics and
 *   returns the state unchanged.
 *
 * Params `{ scale, bias }` of shape `features`; state `{ mean, var }` from `initState()`.
 * Under `vmap`, statistics are per mapped example (there is no cross-device `axis_name`).
 */
export const batchNorm = (features: number | readonly number[], options: BatchNormOptions = {}): StatefulLayer<NormParams, BatchNormState> => {
  const op = "nn.batchNorm";
  parseArgs(batchNormSig, [features, options]);
  const shape = typeof features === "number" ? [features] : features.slice();
  shape.forEach((n, i) => checkSize(op, typeof features === "number" ? "features" : `features[${i}]`, n));
  const axis = options.axis === undefined ? [-1] : typeof options.axis === "number" ? [options.axis] : options.axis.slice();
  if (axis.length !== shape.length) {
    throw new ShapeError(`features [${shape.join(", ")}] must give one size per feature axis (${axis.join(", ")})`, { op, hint: "e.g. batchNorm([c, h], { axis: [1, 2] })" });
  }
  const momentum = checkRange(op, "momentum", options.momentum ?? 0.99, 0, 1);
  const epsilon = checkRange(op, "epsilon", options.epsilon ?? 1e-5, 0, Infinity);
  const dtype = checkParamDType(op, options.dtype);
  const useScale = options.useScale ?? true;
  const useBias = options.useBias ?? true;
  return {
    name: "batchNorm",
    init: scaleBiasInit(options, useScale, useBias, shape, dtype),
    initState: () => ({ mean: np.zeros(shape, { dtype }), var: np.ones(shape, { dtype }) }),
    apply: (params, state, x, applyOptions: ApplyOptions = {}) => {
      checkParamsObject(op, "params", params);
      checkParamsObject(op, "state", state);
      checkFloatInput(op, x);
      const axes = featureAxes(op, x, axis);
      const got = axes.map((a) => x.shape[a]!);
      if (got.join() !== shape.join()) {
        throw new ShapeError(`input of shape [${x.shape.join(", ")}] has [${got.join(", ")}] on its feature axes (${axis.join(", ")}), but the layer expects [${shape.join(", ")}]`, { op });
      }
      const runMean = checkParam(op, "state.mean", state.mean, shape);
      const runVar = checkParam(op, "state.var", state.var, shape);
      // Per-feature arrays of `shape`, laid out to broadcast against x (1 on every other axis).
      const order = axes.map((a, i) => [a, i] as const).sort((p, q) => p[0] - q[0]);
      const broadcastShape = x.shape.map((_, d) => (axes.includes(d) ? x.shape[d]! : 1));
      const bcast = (v: ArrayBase) => np.reshape(order.every(([, i], k) => i === k) ? v : np.transpose(v, order.map(([, i]) => i)), broadcastShape);
      const reduce = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
      let mean: ArrayBase;
      let variance: ArrayBase;
      let next: BatchNormState;
      if (applyOptions.train) {
        mean = np.mean(x, { axis: reduce, keepdims: true });
        variance = np.mean(np.square(np.subtract(x, mean)), { axis: reduce, keepdims: true });
        // Back to the features' own layout for the state (the inverse of bcast).
        const unb = (v: ArrayBase) => {
          const r = np.reshape(v, order.map(([a]) => x.shape[a]!));
          return order.every(([, i], k) => i === k) ? r : np.transpose(r, axes.map((a) => order.findIndex(([b]) => b === a)));
        };
        const blend = (run: ArrayBase, batch: ArrayBase) => np.astype(np.add(np.multiply(run, momentum), np.multiply(stopGradient(unb(batch)), 1 - momentum)), run.dtype);
        next = { mean: blend(runMean, mean), var: blend(runVar, variance) };
      } else {
        mean = bcast(runMean);
        variance = bcast(runVar);
        next = state;
      }
      let y = np.multiply(np.subtract(x, mean), np.rsqrt(np.add(variance, epsilon)));
      if (params.scale !== undefined) y = np.multiply(y, bcast(checkParam(op, "params.scale", params.scale, shape)));
      if (params.bias !== undefined) y = np.add(y, bcast(checkParam(op, "params.bias", params.bias, shape)));
      return [y, next];
    },
  };
};
