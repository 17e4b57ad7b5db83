/**
 * Parameter initializers: functions `(key, shape, dtype?) -> array`, as in
 * `jax.nn.initializers`. The variance-scaling family follows JAX's `variance_scaling`
 * exactly (jax/_src/nn/initializers.py):
 *
 * - fans: with `inAxis` (default -2) and `outAxis` (default -1), the receptive field is
 *   the product of the other (non-batch) axes, `fanIn = shape[inAxis] * receptive` and
 *   `fanOut = shape[outAxis] * receptive` (so an HWIO conv kernel has fanIn = H·W·I);
 * - `variance = scale / n` with n = fanIn, fanOut or (fanIn + fanOut) / 2 by `mode`;
 * - "truncated_normal": a standard normal truncated to (-2, 2), times
 *   `sqrt(variance) / 0.87962566103423978` (the stddev of that truncated normal, so the
 *   samples have exactly `variance`); "normal": `normal * sqrt(variance)`; "uniform":
 *   `uniform(-1, 1) * sqrt(3 · variance)`.
 *
 * The named initializers are the published ones: Glorot & Bengio (2010), "Understanding
 * the difficulty of training deep feedforward neural networks" (scale 1, fan_avg); He et
 * al. (2015), "Delving Deep into Rectifiers" (scale 2, fan_in); LeCun et al. (1998),
 * "Efficient BackProp" (scale 1, fan_in); Saxe et al. (2014), "Exact solutions to the
 * nonlinear dynamics of learning in deep linear neural networks" (orthogonal).
 */
import { type ArrayBase, type DType, AxisError, DTypeError, ShapeError, ValueError, np, random, describeValue } from "@cotangent/core";

/** A PRNG key (see `random.key`). */
export type Key = ArrayBase;

/** `init(key, shape, dtype = "float32")`: a freshly initialized parameter array. */
export type Initializer = (key: Key, shape: readonly number[], dtype?: DType) => ArrayBase;

export type FanMode = "fan_in" | "fan_out" | "fan_avg";
export type Distribution = "truncated_normal" | "normal" | "uniform";

export interface FanAxes {
  /** Axis (or axes) of the inputs. Default -2. */
  inAxis?: number | readonly number[];
  /** Axis (or axes) of the outputs. Default -1. */
  outAxis?: number | readonly number[];
  /** Axes that index independent weight matrices (left out of both fans). Default none. */
  batchAxis?: number | readonly number[];
}

/** The stddev of a standard normal truncated to (-2, 2): JAX's constant. */
const TRUNCATED_STDDEV = 0.87962566103423978;

const floatDType = (op: string, dtype: DType): DType => {
  if (dtype !== "float32" && dtype !== "float64") {
    throw new DTypeError(`parameters must be float32 or float64, got ${String(dtype)}`, { op });
  }
  return dtype;
};

const checkShape = (op: string, shape: readonly number[]): number[] => {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ValueError(`shape must be a list of non-negative integers, got ${describeValue(shape)}`, { op, hint: "e.g. [784, 256]" });
  }
  return shape.slice();
};

const axesOf = (op: string, what: string, a: number | readonly number[], ndim: number): number[] =>
  (typeof a === "number" ? [a] : a.slice()).map((ax) => {
    const k = ax < 0 ? ax + ndim : ax;
    if (!Number.isInteger(k) || k < 0 || k >= ndim) {
      throw new AxisError(`${what} ${ax} is out of range for a ${ndim}-dimensional shape`, { op });
    }
    return k;
  });

/**
 * `[fanIn, fanOut]` of a weight shape, as JAX's `_compute_fans`: the in and out axes'
 * sizes, each times the receptive field (the product of the remaining non-batch axes).
 */
export const computeFans = (shape: readonly number[], axes: FanAxes = {}, op = "nn.computeFans"): [number, number] => {
  checkShape(typeof op === "string" ? op : "nn.computeFans", shape);
  if (axes === null || typeof axes !== "object") throw new ValueError(`axes must be an object {inAxis, outAxis, batchAxis}, got ${describeValue(axes)}`, { op: "nn.computeFans" });
  if (shape.length < 2) {
    throw new ShapeError(`can't compute input and output sizes of a ${shape.length}-dimensional weights tensor ${describeValue(shape)}; it must be at least 2D`, {
      op,
      hint: "initialize biases and other vectors with zeros, ones or normal(stddev)",
    });
  }
  const prod = (ax: number[]) => ax.reduce((p, k) => p * shape[k]!, 1);
  const inSize = prod(axesOf(op, "inAxis", axes.inAxis ?? -2, shape.length));
  const outSize = prod(axesOf(op, "outAxis", axes.outAxis ?? -1, shape.length));
  const batchSize = prod(axesOf(op, "batchAxis", axes.batchAxis ?? [], shape.length));
  const total = shape.reduce((p, d) => p * d, 1);
  const receptive = total / inSize / outSize / batchSize;
  return [inSize * receptive, outSize * receptive];
};

/**
 * JAX's `variance_scaling(scale, mode, distribution)`: samples with variance
 * `scale / n`, n the fan chosen by `mode` (see the module comment for the formulas).
 */
export const varianceScaling = (scale: number, mode: FanMode, distribution: Distribution, axes: FanAxes = {}): Initializer => {
  const op = "nn.varianceScaling";
  if (!(Number.isFinite(scale) && scale > 0)) throw new ValueError(`scale must be a positive number, got ${describeValue(scale)}`, { op });
  if (mode !== "fan_in" && mode !== "fan_out" && mode !== "fan_avg") {
    throw new ValueError(`mode must be "fan_in", "fan_out" or "fan_avg", got ${describeValue(mode)}`, { op });
  }
  if (distribution !== "truncated_normal" && distribution !== "normal" && distribution !== "uniform") {
    throw new ValueError(`distribution must be "truncated_normal", "normal" or "uniform", got ${describeValue(distribution)}`, { op });
  }
  return (key, shape, dtype = "float32") => {
    const s = checkShape(op, shape);
    const d = floatDType(op, dtype);
    const [fanIn, fanOut] = computeFans(s, axes, op);
    const n = mode === "fan_in" ? fanIn : mode === "fan_out" ? fanOut : (fanIn + fanOut) / 2;
    // A zero-size weight has a zero fan: there is nothing to sample, and no variance to keep.
    const variance = n > 0 ? scale / n : 0;
    if (distribution === "truncated_normal") {
      return np.multiply(random.truncatedNormal(key, -2, 2, s, { dtype: d }), Math.sqrt(variance) / TRUNCATED_STDDEV);
    }
    if (distribution === "normal") return np.multiply(random.normal(key, s, { dtype: d }), Math.sqrt(variance));
    return np.multiply(random.uniform(key, s, { dtype: d, minval: -1, maxval: 1 }), Math.sqrt(3 * variance));
  };
};

/** Glorot (Xavier) uniform: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)). */
export const glorotUniform = (axes: FanAxes = {}): Initializer => varianceScaling(1, "fan_avg", "uniform", axes);
/** Glorot (Xavier) normal: truncated normal with variance 2 / (fanIn + fanOut). */
export const glorotNormal = (axes: FanAxes = {}): Initializer => varianceScaling(1, "fan_avg", "truncated_normal", axes);
/** He (Kaiming) uniform: U(-a, a) with a = sqrt(6 / fanIn), for ReLU networks. */
export const heUniform = (axes: FanAxes = {}): Initializer => varianceScaling(2, "fan_in", "uniform", axes);
/** He (Kaiming) normal: truncated normal with variance 2 / fanIn, for ReLU networks. */
export const heNormal = (axes: FanAxes = {}): Initializer => varianceScaling(2, "fan_in", "truncated_normal", axes);
/** LeCun normal: truncated normal with variance 1 / fanIn (the default of `dense` and `conv2d`, as in Flax). */
export const lecunNormal = (axes: FanAxes = {}): Initializer => varianceScaling(1, "fan_in", "truncated_normal", axes);
/** LeCun uniform: U(-a, a) with a = sqrt(3 / fanIn). */
export const lecunUniform = (axes: FanAxes = {}): Initializer => varianceScaling(1, "fan_in", "uniform", axes);

/** All zeros (the default bias). */
export const zeros: Initializer = (_key, shape, dtype = "float32") => np.zeros(checkShape("nn.zeros", shape), { dtype: floatDType("nn.zeros", dtype) });
/** All ones (the default scale of normalization layers). */
export const ones: Initializer = (_key, shape, dtype = "float32") => np.ones(checkShape("nn.ones", shape), { dtype: floatDType("nn.ones", dtype) });

/** Normal samples with standard deviation `stddev` (JAX's default 1e-2). */
export const normal = (stddev = 1e-2): Initializer => {
  if (!(Number.isFinite(stddev) && stddev >= 0)) throw new ValueError(`stddev must be a non-negative number, got ${describeValue(stddev)}`, { op: "nn.normal" });
  return (key, shape, dtype = "float32") => np.multiply(random.normal(key, checkShape("nn.normal", shape), { dtype: floatDType("nn.normal", dtype) }), stddev);
};

/** Uniform samples in [0, scale) (JAX's `uniform`, default scale 1e-2). */
export const uniform = (scale = 1e-2): Initializer => {
  if (!(Number.isFinite(scale) && scale >= 0)) throw new ValueError(`scale must be a non-negative number, got ${describeValue(scale)}`, { op: "nn.uniform" });
  return (key, shape, dtype = "float32") => random.uniform(key, checkShape("nn.uniform", shape), { dtype: floatDType("nn.uniform", dtype), minval: 0, maxval: scale });
};

/**
 * Orthogonal matrices (Saxe et al. 2014), as JAX's `orthogonal(scale, column_axis)`: the
 * weight is viewed as a matrix with `shape[columnAxis]` columns and the product of the
 * other axes as rows; a normal matrix of the taller orientation is orthonormalized (its
 * QR factor Q with R's diagonal made positive, which is unique), transposed back if
 * wide, reshaped, and times `scale`. So columns (tall) or rows (wide) are orthonormal.
 * The QR step is Gram-Schmidt applied twice ("CGS2", which is as accurate as Householder
 * in practice), written with np ops so that it also works on traced keys (e.g. `vmap`).
 */
export const orthogonal = (scale = 1, columnAxis = -1): Initializer => {
  const op = "nn.orthogonal";
  if (!Number.isFinite(scale)) throw new ValueError(`scale must be a finite number, got ${describeValue(scale)}`, { op });
  return (key, shape, dtype = "float32") => {
    const s = checkShape(op, shape);
    const d = floatDType(op, dtype);
    if (s.length < 2) throw new ShapeError(`needs at least a 2-D shape, got ${describeValue(s)}`, { op, hint: "initialize vectors with zeros, ones or normal(stddev)" });
    const [col] = axesOf(op, "columnAxis", columnAxis, s.length);
    const nCols = s[col!]!;
    const nRows = s.reduce((p, v) => p * v, 1) / Math.max(nCols, 1);
    const wide = nRows < nCols;
    // Rows of `a` are the vectors to orthonormalize: min(nRows, nCols) of them.
    const [k, n] = wide ? [nRows, nCols] : [nCols, nRows];
    const a = np.transpose(random.normal(key, [n, k], { dtype: d }));
    const q = orthonormalRows(a, k);
    let m = wide ? q : np.transpose(q); // [nRows, nCols]
    const rest = s.filter((_, i) => i !== col);
    m = np.reshape(m, [...rest, nCols]);
    return np.multiply(np.moveaxis(m, -1, col!), scale);
  };
};

/** Gram-Schmidt, twice per vector, over the `k` rows of `a` ([k, n], k <= n). */
const orthonormalRows = (a: ArrayBase, k: number): ArrayBase => {
  if (k === 0) return a;
  const rows: ArrayBase[] = [];
  for (let j = 0; j < k; j++) {
    let v = np.index(a, [j]);
    if (rows.length > 0) {
      const q = np.stack(rows);
      for (let pass = 0; pass < 2; pass++) v = np.subtract(v, np.matmul(np.matmul(q, v), q));
    }
    rows.push(np.divide(v, np.sqrt(np.sum(np.square(v)))));
  }
  return np.stack(rows);
};
