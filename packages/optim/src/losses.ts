/**
 * Losses as in Optax: per example and unreduced (reduce with np.mean or np.sum yourself),
 * numerically stable for large logits, and differentiable everywhere a gradient is defined
 * (the `np.where` guards keep NaNs out of unselected branches' gradients too).
 */
import { ArrayBase, AxisError, DTypeError, ShapeError, np } from "@cotangent/core";
import type { Scalar } from "./base.js";
import { safeNorm } from "./numerics.js";
import { axis as axisCodec, checkArg, nonNegative, parseOptions, positive, unitInterval } from "./validate.js";

/** An array argument: arrays, JS numbers and nested JS arrays. */
export type ArrayInput = np.ArrayLike;

const arr = (x: ArrayInput): ArrayBase => (x instanceof ArrayBase ? x : np.array(x));

const shapeStr = (s: readonly number[]) => `[${s.join(", ")}]`;

const normAxis = (op: string, axis: number, x: ArrayBase, name = "logits"): number => {
  if (axis < -x.ndim || axis >= x.ndim) {
    throw new AxisError(`axis ${axis} is out of range for ${name} of shape ${shapeStr(x.shape)}`, { op });
  }
  return axis < 0 ? axis + x.ndim : axis;
};

const requireSameShape = (op: string, a: ArrayBase, b: ArrayBase, names: [string, string]): void => {
  if (a.shape.join() !== b.shape.join()) {
    throw new ShapeError(`${names[0]} ${shapeStr(a.shape)} and ${names[1]} ${shapeStr(b.shape)} must have the same shape`, { op });
  }
};

/** `log(1 + exp(x))` without overflow: `max(x, 0) + log1p(exp(-|x|))`. */
// -|x| as min(x, -x): its derivative at 0 is 0 (abs'(0) is 1, as in JAX), so softplus'(0) = 1/2.
const softplus = (x: ArrayBase): ArrayBase => np.add(np.maximum(x, 0), np.log1p(np.exp(np.minimum(x, np.negative(x)))));

/** `x - logsumexp(x)` along `axis`. */
const logSoftmax = (x: ArrayBase, axis: number): ArrayBase => np.subtract(x, np.logsumexp(x, { axis, keepdims: true }));

/** `predictions - targets`, or `predictions` when no targets are given. */
const errors = (predictions: ArrayInput, targets?: ArrayInput): ArrayBase =>
  targets === undefined ? arr(predictions) : np.subtract(predictions, targets);

/**
 * Cross entropy between `labels` (probabilities, e.g. one-hot) and the softmax of `logits`,
 * along `axis` (default -1): `-sum(labels * logSoftmax(logits))`. Shape: logits' minus `axis`.
 */
export const softmaxCrossEntropy = (logits: ArrayInput, labels: ArrayInput, options: { axis?: number } = {}): ArrayBase => {
  const op = "optim.softmaxCrossEntropy";
  const { axis = -1 } = parseOptions(op, options, {}, { axis: axisCodec });
  const [x, y] = [arr(logits), arr(labels)];
  requireSameShape(op, x, y, ["logits", "labels"]);
  const ax = normAxis(op, axis, x);
  return np.negative(np.sum(np.multiply(y, logSoftmax(x, ax)), { axis: ax }));
};

/**
 * Cross entropy with integer class labels: `logsumexp(logits) - logits[label]` along `axis`.
 * `labels` is int32 with the shape of `logits` without `axis`. As JAX's take_along_axis in
 * Optax, a label in [-K, 0) counts from the end and a label outside [-K, K) gives NaN (a
 * visible error, where a silent 0 logit would give a plausible wrong loss).
 */
export const softmaxCrossEntropyWithIntegerLabels = (logits: ArrayInput, labels: ArrayInput, options: { axis?: number } = {}): ArrayBase => {
  const op = "optim.softmaxCrossEntropyWithIntegerLabels";
  const { axis = -1 } = parseOptions(op, options, {}, { axis: axisCodec });
  const x = arr(logits);
  const y = labels instanceof ArrayBase ? labels : np.array(labels, { dtype: "int32" });
  if (y.dtype !== "int32") {
    throw new DTypeError(`labels must be int32 class indices, got ${y.dtype}`, { op, hint: "use softmaxCrossEntropy for probabilities, or np.astype(labels, 'int32')" });
  }
  const ax = normAxis(op, axis, x);
  const expected = x.shape.filter((_, i) => i !== ax);
  if (y.shape.join() !== expected.join()) {
    throw new ShapeError(`labels have shape ${shapeStr(y.shape)}, but logits of shape ${shapeStr(x.shape)} need labels of shape ${shapeStr(expected)} (the logits' shape without axis ${ax})`, { op });
  }
  // The label's logit, picked with a one-hot comparison against the class indices.
  const k = x.shape[ax]!;
  const label = np.where(np.less(y, 0), np.add(y, k), y);
  const classes = np.reshape(np.arange(k), x.shape.map((d, i) => (i === ax ? d : 1)));
  const picked = np.sum(np.where(np.equal(np.expandDims(label, ax), classes), x, 0), { axis: ax });
  const inRange = np.logicalAnd(np.greaterEqual(label, 0), np.less(label, k));
  return np.where(inRange, np.subtract(np.logsumexp(x, { axis: ax }), picked), NaN);
};

/**
 * Binary cross entropy of `labels` (in [0, 1]) against `sigmoid(logits)`, elementwise:
 * `labels * softplus(-logits) + (1 - labels) * softplus(logits)`, stable for any logit.
 */
export const sigmoidBinaryCrossEntropy = (logits: ArrayInput, labels: ArrayInput): ArrayBase => {
  const x = arr(logits);
  return np.add(np.multiply(labels, softplus(np.negative(x))), np.multiply(np.subtract(1, labels), softplus(x)));
};

/** `(predictions - targets)^2`, elementwise (targets default to 0). */
export const squaredError = (predictions: ArrayInput, targets?: ArrayInput): ArrayBase => np.square(errors(predictions, targets));

/** `0.5 * (predictions - targets)^2`, elementwise: the squared error without the factor 2 in its gradient. */
export const l2Loss = (predictions: ArrayInput, targets?: ArrayInput): ArrayBase => np.multiply(0.5, squaredError(predictions, targets));

/**
 * Huber loss (Huber 1964), elementwise: `0.5 e^2` for `|e| <= delta`, and
 * `delta * (|e| - 0.5 delta)` beyond, with `e = predictions - targets`.
 */
export const huberLoss = (predictions: ArrayInput, targets?: ArrayInput, options: { delta?: Scalar } = {}): ArrayBase => {
  const { delta = 1 } = parseOptions("optim.huberLoss", options, {}, { delta: positive });
  const abs = np.abs(errors(predictions, targets));
  const quadratic = np.minimum(abs, delta);
  return np.add(np.multiply(0.5, np.square(quadratic)), np.multiply(delta, np.subtract(abs, quadratic)));
};

/** `log(cosh(predictions - targets))`, elementwise, computed as `|e| + log1p(exp(-2|e|)) - log 2`. */
export const logCosh = (predictions: ArrayInput, targets?: ArrayInput): ArrayBase => {
  const abs = np.abs(errors(predictions, targets));
  return np.subtract(np.add(abs, np.log1p(np.exp(np.multiply(-2, abs)))), Math.LN2);
};

/**
 * Kullback-Leibler divergence `KL(targets || predictions) = sum(targets * (log targets - logPredictions))`
 * along `axis`, where the predictions are given as log-probabilities; terms with a zero
 * target count as 0.
 */
export const klDivergence = (logPredictions: ArrayInput, targets: ArrayInput, options: { axis?: number } = {}): ArrayBase => {
  const op = "optim.klDivergence";
  const { axis = -1 } = parseOptions(op, options, {}, { axis: axisCodec });
  const [lp, t] = [arr(logPredictions), arr(targets)];
  requireSameShape(op, lp, t, ["logPredictions", "targets"]);
  const zero = np.equal(t, 0);
  // log of 1 where the target is 0: keeps -inf (and its NaN gradient) out of the masked branch.
  const logT = np.where(zero, 0, np.log(np.where(zero, 1, t)));
  return np.sum(np.multiply(t, np.subtract(logT, lp)), { axis: normAxis(op, axis, lp, "logPredictions") });
};

/**
 * `1 - cos(angle)` between `predictions` and `targets` along `axis`; norms are at least
 * `epsilon` (default 0, so a zero vector gives NaN, as in Optax).
 */
export const cosineDistance = (
  predictions: ArrayInput,
  targets: ArrayInput,
  options: { epsilon?: Scalar; axis?: number } = {},
): ArrayBase => {
  const op = "optim.cosineDistance";
  const { epsilon = 0, axis = -1 } = parseOptions(op, options, {}, { epsilon: nonNegative, axis: axisCodec });
  const [p, t] = [arr(predictions), arr(targets)];
  requireSameShape(op, p, t, ["predictions", "targets"]);
  const ax = normAxis(op, axis, p, "predictions");
  const unit = (x: ArrayBase) => np.divide(x, safeNorm(x, epsilon, { axis: ax, keepdims: true }));
  return np.subtract(1, np.sum(np.multiply(unit(p), unit(t)), { axis: ax }));
};

/** Hinge loss `max(0, 1 - outputs * targets)`, elementwise, for targets in {-1, 1}. */
export const hingeLoss = (predictorOutputs: ArrayInput, targets: ArrayInput): ArrayBase =>
  np.maximum(0, np.subtract(1, np.multiply(predictorOutputs, targets)));

/**
 * Label smoothing (Szegedy et al. 2016, section 7): `(1 - alpha) * labels + alpha / K`,
 * with K the size of the last axis (the number of classes).
 */
export const smoothLabels = (labels: ArrayInput, alpha: Scalar): ArrayBase => {
  checkArg("optim.smoothLabels", "alpha", unitInterval, alpha);
  const y = arr(labels);
  const k = y.shape[y.ndim - 1] ?? 1;
  // JS numbers are combined in JS: np on two weak scalars would round them to float32.
  return typeof alpha === "number" ? np.add(np.multiply(1 - alpha, y), alpha / k) : np.add(np.multiply(np.subtract(1, alpha), y), np.divide(alpha, k));
};
