/**
 * Activation functions, written to be stable at extreme inputs and to have the gradients
 * JAX's `jax.nn` gives (including at kinks: relu'(0) = 0). All accept any float array
 * (integers become float32, as np does) and work under every transform.
 */
import { type ArrayBase, AxisError, type DType, type PositionalOr, ValueError, arrayFn, customJvp, lax, np, parseArgs, signature, stopGradient, describeValue, withSignature } from "@cotangent/core";


const float = (x: np.ArrayLike): ArrayBase => np.promoteToFloat(x)[0]!;

/**
 * `max(x, 0)`. Its derivative at 0 is 0 (JAX's choice, through a custom JVP: the plain
 * derivative of max would split 1/2, 1/2 at the tie). NaN stays NaN.
 */
export const relu: (x: np.ArrayLike) => ArrayBase = (() => {
  const f = customJvp((x: ArrayBase) => np.maximum(x, 0));
  f.defJvp(([x], [t]) => [np.maximum(x, 0), np.where(np.greater(x, 0), t, np.zerosLike(t))]);
  return arrayFn("nn.relu", ["x:array!"], (x: np.ArrayLike) => f(float(x)));
})();

/** `x` for x ≥ 0, `negativeSlope · x` below (default slope 0.01, as JAX). */
const leakyReluSig = signature("nn.leakyRelu", ["x:array!", "negativeSlope:finite"]);
export const leakyRelu = withSignature(leakyReluSig, (x: np.ArrayLike, ...args: PositionalOr<[negativeSlope: number], { negativeSlope?: number }>): ArrayBase => {
  const { negativeSlope = 0.01 } = parseArgs<{ negativeSlope?: number }>(leakyReluSig, [x, ...args]);
  const a = float(x);
  return np.where(np.greaterEqual(a, 0), a, np.multiply(a, negativeSlope));
});

/**
 * `x` for x > 0, `alpha · (exp(x) - 1)` below (expm1 keeps precision near 0). The exp
 * only ever sees non-positive values, so a large x cannot overflow into a NaN gradient.
 */
const eluSig = signature("nn.elu", ["x:array!", "alpha:finite"]);
export const elu = withSignature(eluSig, (x: np.ArrayLike, ...args: PositionalOr<[alpha: number], { alpha?: number }>): ArrayBase => {
  const { alpha = 1 } = parseArgs<{ alpha?: number }>(eluSig, [x, ...args]);
  const a = float(x);
  const pos = np.greater(a, 0);
  const safe = np.where(pos, np.zerosLike(a), a);
  return np.where(pos, a, np.multiply(np.expm1(safe), alpha));
});

export interface GeluOptions {
  /** The tanh approximation (default, as JAX) or the exact form with erf. */
  approximate?: boolean;
}

/**
 * GELU (Hendrycks & Gimpel 2016): `x · Φ(x)`. Exact: `x/2 · erfc(-x/√2)` (= `x/2 · (1 + erf(x/√2))`);
 * approximate (default, as JAX): `x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³)))`.
 */
const geluSig = signature("nn.gelu", ["x:array!", "approximate:bool"]);
export const gelu = withSignature(geluSig, (x: np.ArrayLike, ...args: PositionalOr<[approximate: boolean], GeluOptions>): ArrayBase => {
  const options = parseArgs<GeluOptions>(geluSig, [x, ...args]);
  const a = float(x);
  if (options.approximate ?? true) {
    const inner = np.multiply(np.add(a, np.multiply(np.power(a, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return np.multiply(np.multiply(a, 0.5), np.add(np.tanh(inner), 1));
  }
  // erfc(-x/√2) rather than 1 + erf(x/√2): no cancellation for negative x, where the
  // result is tiny (x = -5 would otherwise lose five digits).
  return np.multiply(np.multiply(a, 0.5), lax.erfc(np.divide(a, -Math.SQRT2)));
});

/** Logistic sigmoid `1 / (1 + exp(-x))`, without overflow for large |x|. */
export const sigmoid = arrayFn("nn.sigmoid", ["x:array!"], (x: np.ArrayLike): ArrayBase => lax.logistic(float(x)));

/** SiLU / swish: `x · sigmoid(x)`. */
export const silu = arrayFn("nn.silu", ["x:array!"], (x: np.ArrayLike): ArrayBase => {
  const a = float(x);
  return np.multiply(a, lax.logistic(a));
});
/** Alias of {@link silu}. */
export const swish = silu;

/** Hyperbolic tangent. */
export const tanh = arrayFn("nn.tanh", ["x:array!"], (x: np.ArrayLike): ArrayBase => np.tanh(float(x)));

/**
 * `log(1 + exp(x))` computed as `logaddexp(x, 0) = max(x, 0) + log1p(exp(-|x|))`: exact
 * for large positive x (no overflow to inf) and for very negative x (no underflow to 0
 * before the log). Its derivative is sigmoid(x).
 */
export const softplus = arrayFn("nn.softplus", ["x:array!"], (x: np.ArrayLike): ArrayBase => {
  const a = float(x);
  // -|a| as min(a, -a), whose derivative at 0 is 0 (abs'(0) is 1, as in JAX): softplus'(0) = 1/2.
  return np.add(np.maximum(a, 0), np.log1p(np.exp(np.minimum(a, np.negative(a)))));
});

export interface AxisOptions {
  /** The axis (or axes) to normalize over. Default -1. */
  axis?: number | readonly number[];
}

/** `nn.softmax(x, axis)` (JAX's order) and its options form. */
export type AxisArgs = PositionalOr<[axis: number | readonly number[]], AxisOptions>;

/** `axis` (one or several) of `a`, checked so that a bad axis names the activation, not the np op inside it. */
const axesOption = (op: string, a: ArrayBase, options: AxisOptions): number | readonly number[] => {
  const axis = options.axis ?? -1;
  const axes = typeof axis === "number" ? [axis] : axis;
  const seen = new Set<number>();
  for (const ax of axes) {
    if (!Number.isInteger(ax) || ax < -a.ndim || ax >= a.ndim) {
      throw new AxisError(`axis ${ax} is out of range for an input of shape [${a.shape.join(", ")}] (${a.ndim === 0 ? "a scalar has no axes" : `valid: ${-a.ndim} to ${a.ndim - 1}`})`, { op });
    }
    const k = ax < 0 ? ax + a.ndim : ax;
    if (seen.has(k)) throw new AxisError(`repeated axis in (${axes.join(", ")})`, { op });
    seen.add(k);
  }
  return axis;
};

/** The max over `axis` (kept), held constant for differentiation, 0 where it is not finite. */
const shiftOf = (a: ArrayBase, axis: number | readonly number[]): ArrayBase => {
  const m = np.max(a, { axis, keepdims: true });
  return stopGradient(np.where(np.isfinite(m), m, np.zerosLike(m)));
};

/**
 * `exp(x) / sum(exp(x))` over `axis`, shifted by the maximum first so no exp overflows.
 * (The shift does not change the value or, held constant, the gradient.)
 */
const softmaxSig = signature("nn.softmax", ["x:array!", "axis:axisList"]);
export const softmax = (x: np.ArrayLike, ...args: AxisArgs): ArrayBase => {
  const options = parseArgs<AxisOptions>(softmaxSig, [x, ...args]);
  const a = float(x);
  const axis = axesOption("nn.softmax", a, options);
  const e = np.exp(np.subtract(a, shiftOf(a, axis)));
  return np.divide(e, np.sum(e, { axis, keepdims: true }));
};

/** `x - logsumexp(x)` over `axis`, computed from the shifted values (stable; exact zeros stay -inf). */
const logSoftmaxSig = signature("nn.logSoftmax", ["x:array!", "axis:axisList"]);
export const logSoftmax = (x: np.ArrayLike, ...args: AxisArgs): ArrayBase => {
  const options = parseArgs<AxisOptions>(logSoftmaxSig, [x, ...args]);
  const a = float(x);
  const axis = axesOption("nn.logSoftmax", a, options);
  const shifted = np.subtract(a, shiftOf(a, axis));
  return np.subtract(shifted, np.log(np.sum(np.exp(shifted), { axis, keepdims: true })));
};

/** `log(sum(exp(x)))` over `axis` (all axes when absent), stably: `np.logsumexp`. */
export const logsumexp = np.logsumexp;

export interface OneHotOptions {
  /** float32 (default), float64, int32 or bool. */
  dtype?: DType;
  /** Where the new class axis goes. Default -1 (last). */
  axis?: number;
}

/**
 * One-hot encoding: `x` (integer class ids, any shape) to an array with a new axis of
 * length `numClasses` that is 1 at the id and 0 elsewhere. Ids outside [0, numClasses)
 * give all zeros, as in JAX.
 */
const oneHotSig = signature("nn.oneHot", ["x:array!", "numClasses:count!", "dtype:dtype=", "axis:requiredAxis="]);
export const oneHot = (x: np.ArrayLike, numClasses: number, ...args: [] | [options: OneHotOptions]): ArrayBase => {
  const op = "nn.oneHot";
  const options = parseArgs<OneHotOptions & { numClasses: number }>(oneHotSig, [x, numClasses, ...args]);
  numClasses = options.numClasses;
  if (!Number.isInteger(numClasses) || numClasses < 0) {
    throw new ValueError(`numClasses must be a non-negative integer, got ${describeValue(numClasses)}`, { op });
  }
  const ids = np.asArray(x);
  const axis = options.axis ?? -1;
  const outNdim = ids.ndim + 1;
  const ax = axis < 0 ? axis + outNdim : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= outNdim) {
    throw new AxisError(`axis ${axis} is out of range for a result of rank ${outNdim}`, { op });
  }
  const classes = lax.iota(ids.dtype === "bool" ? "int32" : ids.dtype, [...ids.shape.slice(0, ax), numClasses, ...ids.shape.slice(ax)], ax);
  const hot = np.equal(np.expandDims(ids, ax), classes);
  return np.astype(hot, options.dtype ?? "float32");
};
