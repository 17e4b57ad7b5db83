/**
 * Continuous samplers: uniform, normal, truncatedNormal and gumbel, each JAX's recipe
 * over the threefry bit stream. They are compositions of primitives, so they trace
 * (grad, vmap over keys, makeJaxpr), and are differentiable in their float parameters
 * (minval, maxval, lower, upper) with the key held fixed.
 */
import type { ArrayBase } from "../array.js";
import type { DType } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { type PositionalOr, parseArgs, signature, withSignature } from "../api/args.js";
import { type ArrayLike, asArray } from "../np/coerce.js";
import { add, div, max, min, mul, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { bitsToUniform } from "../primitives/random_bits.js";
import { stopGradient } from "../primitives/special.js";
import { erf, erfInv, log, neg } from "../primitives/unary.js";
import { broadcastShapes, shapeStr } from "../shape.js";
import { type Key, type ShapeArg, checkKey, checkShape, randomBits, randomBits64, toShape } from "./keys.js";
import { nextAfter } from "./next_after.js";

/** The float dtype of a sampler (float32 unless given), or a DTypeError. */
export const floatDType = (op: string, dtype: DType | undefined): DType => {
  const d = dtype ?? "float32";
  if (d !== "float32" && d !== "float64") {
    throw new DTypeError(`dtype must be float32 or float64, got ${String(d)}`, {
      op,
      hint: d === "int32" ? "use random.randint for integers" : undefined,
    });
  }
  return d;
};

/** Uniform floats in [0, 1) of `shape`: the mantissa trick over 32 (float32) or 64 (float64) random bits. */
const unitUniform = (key: Key, shape: readonly number[], dtype: DType): ArrayBase =>
  bitsToUniform(dtype === "float32" ? [randomBits(key, shape)] : randomBits64(key, shape), dtype);

/** JAX's `_uniform`: `max(minval, u * (maxval - minval) + minval)`, in `dtype` arithmetic. */
export const uniformIn = (op: string, key: Key, shape: readonly number[], dtype: DType, minval: ArrayLike, maxval: ArrayLike): ArrayBase => {
  const lo = asArray(minval, dtype);
  const hi = asArray(maxval, dtype);
  checkShape(op, shape, lo.shape, hi.shape);
  const u = unitUniform(key, shape, dtype);
  // The max guards against rounding below minval when the span is large.
  return max(lo, add(mul(u, sub(hi, lo)), lo));
};

export interface UniformOptions {
  /** The result's shape. Default [] (one sample). */
  shape?: ShapeArg;
  /** float32 (default) or float64. */
  dtype?: DType | null;
  /** Lower bound (inclusive), broadcast to `shape`. Default 0. */
  minval?: ArrayLike;
  /** Upper bound (exclusive), broadcast to `shape`. Default 1. */
  maxval?: ArrayLike;
}

// JAX's positional orders: uniform(key, shape, dtype, minval, maxval), normal(key, shape, dtype),
// truncated_normal(key, lower, upper, shape, dtype), gumbel(key, shape, dtype).
const uniformSig = signature("random.uniform", ["key:any!", "shape:shape", "dtype:dtype", "minval:array", "maxval:array"]);
const normalSig = signature("random.normal", ["key:any!", "shape:shape", "dtype:dtype"]);
const truncatedNormalSig = signature("random.truncatedNormal", ["key:any!", "lower:array!", "upper:array!", "shape:shape?", "dtype:dtype"]);
const gumbelSig = signature("random.gumbel", ["key:any!", "shape:shape", "dtype:dtype"]);

/**
 * `random.uniform(key, shape, dtype, minval, maxval)` (or `{dtype, minval, maxval}`): floats uniformly distributed in
 * [minval, maxval). `minval` and `maxval` may be arrays that broadcast to `shape`; the
 * result is differentiable in them.
 */
export const uniform = withSignature(uniformSig, (key: Key, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null, minval: ArrayLike, maxval: ArrayLike], UniformOptions>): ArrayBase => {
  const op = "random.uniform";
  const o = parseArgs<{ shape?: ShapeArg; dtype?: DType | null; minval?: ArrayLike; maxval?: ArrayLike }>(uniformSig, [key, ...args]);
  checkKey(op, key);
  return uniformIn(op, key, toShape(op, o.shape ?? []), floatDType(op, o.dtype ?? undefined), o.minval ?? 0, o.maxval ?? 1);
});

export interface FloatOptions {
  /** The result's shape. Default [] (one sample). */
  shape?: ShapeArg;
  /** float32 (default) or float64. */
  dtype?: DType | null;
}

/**
 * `random.normal(key, shape, dtype)` (or `{shape, dtype}`): standard normal samples, as JAX draws them:
 * `sqrt(2) * erfInv(u)` with `u` uniform in (-1, 1).
 */
export const normal = withSignature(normalSig, (key: Key, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null], FloatOptions>): ArrayBase => {
  const op = "random.normal";
  const o = parseArgs<{ shape?: ShapeArg; dtype?: DType | null }>(normalSig, [key, ...args]);
  checkKey(op, key);
  const dtype = floatDType(op, o.dtype ?? undefined);
  // The open interval's lower end: the float just above -1 (nextafter(-1, 0)).
  const u = uniformIn(op, key, toShape(op, o.shape ?? []), dtype, nextAfter(-1, 0, dtype), 1);
  return mul(scalar(Math.SQRT2, dtype), erfInv(u));
});

export interface TruncatedNormalOptions {
  /** The result's shape; by default the broadcast of `lower` and `upper`. */
  shape?: ShapeArg | null;
  /** float32 (default) or float64. */
  dtype?: DType | null;
}

/**
 * `random.truncatedNormal(key, lower, upper, shape?, {dtype})`: standard normal samples
 * conditioned on the open interval (lower, upper), by the inverse CDF as in JAX:
 * `sqrt(2) * erfInv(u)` with `u` uniform between `erf(lower / sqrt 2)` and
 * `erf(upper / sqrt 2)`, clamped to the floats just inside the bounds.
 */
export const truncatedNormal = withSignature(truncatedNormalSig, (
  key: Key,
  lower: ArrayLike,
  upper: ArrayLike,
  ...args: PositionalOr<[shape: ShapeArg | null, dtype: DType | null], TruncatedNormalOptions>
): ArrayBase => {
  const op = "random.truncatedNormal";
  const { shape, dtype: dt } = parseArgs<{ shape?: ShapeArg | null; dtype?: DType | null }>(truncatedNormalSig, [key, lower, upper, ...args]);
  checkKey(op, key);
  const dtype = floatDType(op, dt ?? undefined);
  const lo = asArray(lower, dtype);
  const hi = asArray(upper, dtype);
  let sh: number[];
  if (shape === undefined || shape === null) {
    const b = broadcastShapes(lo.shape, hi.shape);
    if (!b) throw new ShapeError(`lower of shape ${shapeStr(lo.shape)} and upper of shape ${shapeStr(hi.shape)} do not broadcast`, { op });
    sh = b;
  } else {
    sh = toShape(op, shape);
  }
  checkShape(op, sh, lo.shape, hi.shape);
  const sqrt2 = scalar(Math.SQRT2, dtype);
  const a = erf(div(lo, sqrt2));
  const b = erf(div(hi, sqrt2));
  const out = mul(sqrt2, erfInv(uniformIn(op, key, sh, dtype, a, b)));
  // Rounding (or u landing exactly on a) could reach a bound: clamp into the open interval.
  const floor = nextAfter(stopGradient(lo), Infinity, dtype);
  const ceil = nextAfter(stopGradient(hi), -Infinity, dtype);
  return min(max(out, floor), ceil);
});

/**
 * `random.gumbel(key, shape, dtype)` (or `{shape, dtype}`): standard Gumbel samples, `-log(-log(u))` with `u`
 * uniform in [tiny, 1), as JAX draws them (tiny: the smallest normal float of the dtype).
 */
export const gumbel = withSignature(gumbelSig, (key: Key, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null], FloatOptions>): ArrayBase => {
  const op = "random.gumbel";
  const o = parseArgs<{ shape?: ShapeArg; dtype?: DType | null }>(gumbelSig, [key, ...args]);
  checkKey(op, key);
  return gumbelIn(op, key, toShape(op, o.shape ?? []), floatDType(op, o.dtype ?? undefined));
});

/** Gumbel samples without argument checks (shared with categorical). */
export const gumbelIn = (op: string, key: Key, shape: readonly number[], dtype: DType): ArrayBase => {
  const tiny = dtype === "float32" ? 2 ** -126 : 2 ** -1022;
  return neg(log(neg(log(uniformIn(op, key, shape, dtype, tiny, 1)))));
};
