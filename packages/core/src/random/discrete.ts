/**
 * Discrete samplers: bernoulli, categorical, randint and permutation, each JAX's recipe
 * over the threefry bit stream, built from primitives so they trace and vmap over keys.
 */
import { ArrayBase, NDArray } from "../array.js";
import { type DType, isFloat } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import { type ArrayLike, asArray } from "../np/coerce.js";
import { add } from "../primitives/binary.js";
import { normalizeAxis, scalar } from "../primitives/common.js";
import { gt, lt, select } from "../primitives/compare.js";
import { bitsToRandint, sortByU32Keys } from "../primitives/random_bits.js";
import { argmax } from "../primitives/reduce.js";
import { iota } from "../primitives/shape.js";
import { broadcastInDim, convertElementType, moveAxis, reshape } from "../primitives/structural.js";
import { isTracer } from "../trace.js";
import { gumbelIn, uniformIn } from "./continuous.js";
import { type Key, type ShapeArg, checkKey, checkShape, randomBits, split, toShape } from "./keys.js";

/** A float array for a probability-like argument (JS numbers are float32, integers promote to float32). */
const asFloat = (x: ArrayLike): ArrayBase => {
  const a = typeof x === "number" ? scalar(x, "float32") : asArray(x);
  return isFloat(a.dtype) ? a : convertElementType(a, "float32");
};

/**
 * `random.bernoulli(key, p = 0.5, shape?)`: booleans that are true with probability `p`
 * (an array broadcasting to `shape`; `shape` defaults to p's shape). As JAX:
 * `uniform(key, shape) < p`, in p's float dtype.
 */
export const bernoulli = (key: Key, p: ArrayLike = 0.5, shape?: ShapeArg | null): ArrayBase => {
  const op = "random.bernoulli";
  checkKey(op, key);
  const pa = asFloat(p);
  const sh = shape === undefined || shape === null ? pa.shape : toShape(op, shape);
  checkShape(op, sh, pa.shape);
  return lt(uniformIn(op, key, sh, pa.dtype, 0, 1), pa);
};

export interface CategoricalOptions {
  /** The axis of `logits` that indexes the categories. Default -1. */
  axis?: number;
  /** The result's shape: batch shape of logits (logits' shape without `axis`) with optional leading axes. */
  shape?: ShapeArg | null;
}

/**
 * `random.categorical(key, logits, {axis, shape})`: int32 category indices drawn with
 * probabilities `softmax(logits, axis)`, by the Gumbel-max trick as in JAX: the argmax
 * over `axis` of `logits + gumbel noise`.
 */
export const categorical = (key: Key, logits: ArrayLike, options: CategoricalOptions = {}): ArrayBase => {
  const op = "random.categorical";
  checkKey(op, key);
  const lg = asFloat(logits);
  if (lg.ndim === 0) throw new ValueError(`logits must have an axis of categories, got a scalar ${lg.aval}`, { op });
  const axis = normalizeAxis(op, options.axis ?? -1, lg.ndim);
  const batchShape = lg.shape.filter((_, i) => i !== axis);
  const sh = options.shape === undefined || options.shape === null ? batchShape : toShape(op, options.shape);
  checkShape(op, sh, batchShape);
  const prefix = sh.slice(0, sh.length - batchShape.length);
  const noiseShape = sh.slice(sh.length - batchShape.length);
  noiseShape.splice(axis, 0, lg.shape[axis]!);
  const noise = gumbelIn(op, key, [...prefix, ...noiseShape], lg.dtype);
  const expanded = reshape(lg, [...prefix.map(() => 1), ...lg.shape]);
  return argmax(add(noise, expanded), prefix.length + axis);
};

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** A randint bound as an int32 array, and whether it was a JS number above the int32 range (clipped). */
const intBound = (op: string, what: string, x: ArrayLike): [ArrayBase, boolean] => {
  if (typeof x === "number") {
    if (!Number.isInteger(x)) throw new ValueError(`${what} must be an integer, got ${x}`, { op });
    return [scalar(Math.min(Math.max(x, INT32_MIN), INT32_MAX), "int32"), x > INT32_MAX];
  }
  const a = asArray(x);
  return [a.dtype === "int32" ? a : convertElementType(a, "int32"), false];
};

/** Values of a concrete bound (a JS number or an NDArray), or null for a tracer. */
const concreteValues = (x: ArrayLike): number[] | null => {
  if (typeof x === "number") return [x];
  if (isTracer(x)) return null;
  if (x instanceof NDArray) return Array.from(x.toTypedArray(), Number);
  return null;
};

/** Checks minval < maxval when both are known now; reports the first offending pair. */
const checkBounds = (op: string, minval: ArrayLike, maxval: ArrayLike): void => {
  const lo = concreteValues(minval);
  const hi = concreteValues(maxval);
  if (!lo || !hi || lo.length === 0 || hi.length === 0) return;
  const n = Math.max(lo.length, hi.length);
  for (let i = 0; i < n; i++) {
    const a = lo[lo.length === 1 ? 0 : i % lo.length]!;
    const b = hi[hi.length === 1 ? 0 : i % hi.length]!;
    if (a >= b) {
      throw new ValueError(`minval (${a}) must be less than maxval (${b}): the range [minval, maxval) is empty`, {
        op,
        hint: "maxval is exclusive: randint(key, shape, 0, n) draws from 0 .. n - 1",
      });
    }
  }
};

export interface RandintOptions {
  /** Only int32 is supported. */
  dtype?: DType;
}

/**
 * `random.randint(key, shape, minval, maxval)`: int32 values uniform in [minval, maxval),
 * JAX's algorithm: two independent 32-bit words per value (from the two halves of
 * `split(key)`) are combined modulo the span, so the modulo bias is about span / 2^64.
 * Bounds may be arrays that broadcast to `shape`. An empty range (minval >= maxval) is
 * an error when the bounds are known; under tracing the result is minval there, as JAX
 * returns. A maxval above 2^31 - 1 (a JS number, or elements of a float array) is clipped
 * and makes 2^31 - 1 reachable.
 */
export const randint = (key: Key, shape: ShapeArg, minval: ArrayLike, maxval: ArrayLike, options: RandintOptions = {}): ArrayBase => {
  const op = "random.randint";
  checkKey(op, key);
  const sh = toShape(op, shape);
  if (options.dtype !== undefined && options.dtype !== "int32") {
    throw new DTypeError(`dtype must be int32, got ${String(options.dtype)}`, { op, hint: isFloat(options.dtype) ? "use random.uniform for floats" : undefined });
  }
  const [lo] = intBound(op, "minval", minval);
  const [hi, outOfRange] = intBound(op, "maxval", maxval);
  checkShape(op, sh, lo.shape, hi.shape);
  checkBounds(op, minval, maxval);
  const [k1, k2] = split(key);
  const [b1, b2] = [randomBits(k1, sh), randomBits(k2, sh)];
  if (typeof maxval !== "number") {
    const mx = asArray(maxval);
    if (isFloat(mx.dtype)) {
      // As JAX, element by element: a float maxval above the int32 range was clipped, which
      // makes 2^31 - 1 reachable there (its span is one larger than the clipped one).
      const above = gt(mx, scalar(INT32_MAX, mx.dtype));
      return select(above, bitsToRandint(b1, b2, lo, hi, true), bitsToRandint(b1, b2, lo, hi, false));
    }
  }
  return bitsToRandint(b1, b2, lo, hi, outOfRange);
};

/** JAX's round count for shuffling n items by sorts on random 32-bit keys (3 ln n / ln(2^32 - 1), rounded up). */
const shuffleRounds = (n: number): number => Math.ceil((3 * Math.log(Math.max(1, n))) / Math.log(2 ** 32 - 1));

export interface PermutationOptions {
  /** The axis of `x` to permute. Default 0. */
  axis?: number;
}

/**
 * `random.permutation(key, x, {axis})`: for an integer `n` (a JS integer or a concrete
 * int32 scalar array), a random permutation of 0 .. n-1 (int32); for an array, a copy with its slices along `axis` randomly permuted
 * (one permutation for all of them). As JAX, the permutation is a stable sort by random
 * uint32 keys, repeated with fresh keys (`ceil(3 ln n / ln(2^32 - 1))` rounds: one for
 * n up to 1625) so that key collisions do not bias it. Differentiable in `x`.
 */
export const permutation = (key: Key, x: number | ArrayLike, options: PermutationOptions = {}): ArrayBase => {
  const op = "random.permutation";
  checkKey(op, key);
  let arr: ArrayBase;
  // An int32 scalar array is n too, as in JAX, when its value is known (it sets the shape).
  const scalarN = x instanceof ArrayBase && x.ndim === 0 && x.dtype === "int32";
  if (scalarN && isTracer(x)) {
    throw new ValueError(`n must be known when tracing, got a traced ${x.aval}`, { op, hint: "pass a JS integer n (the result's shape depends on it)" });
  }
  const n0 = scalarN ? Number((x as NDArray).item()) : x;
  if (typeof n0 === "number") {
    if (!Number.isInteger(n0) || n0 < 0) throw new ValueError(`n must be a non-negative integer, got ${n0}`, { op });
    arr = iota("int32", n0);
  } else {
    arr = asArray(x);
    if (arr.ndim === 0) {
      throw new ValueError(`x must be an integer or an array with at least one axis, got ${arr.aval}`, {
        op,
        hint: "pass a JS integer n to permute 0 .. n-1",
      });
    }
  }
  const axis = normalizeAxis(op, options.axis ?? 0, arr.ndim);
  const n = arr.shape[axis]!;
  const last = arr.ndim - 1;
  let moved = moveAxis(arr, axis, last);
  let k = key;
  for (let r = 0; r < shuffleRounds(n); r++) {
    const [next, sub] = split(k);
    // The same n keys sort every slice, so all slices move alike (JAX's take of one permutation).
    const keys = broadcastInDim(randomBits(sub, [n]), moved.shape, [last]);
    moved = sortByU32Keys(keys, moved);
    k = next;
  }
  return moveAxis(moved, last, axis);
};
