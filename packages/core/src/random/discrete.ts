/**
 * Discrete samplers: bernoulli, categorical, randint and permutation, each JAX's recipe
 * over the threefry bit stream, built from primitives so they trace and vmap over keys.
 */
import { ArrayBase, NDArray } from "../array.js";
import { type PositionalOr, parseArgs, signature, withSignature } from "../api/args.js";
import { type DType, isFloat } from "../dtype.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { type ArrayLike, asArray } from "../np/coerce.js";
import { add, mul, sub } from "../primitives/binary.js";
import { normalizeAxis, scalar } from "../primitives/common.js";
import { gt, lt, select } from "../primitives/compare.js";
import { cumsum } from "../primitives/cumulative.js";
import { log, neg } from "../primitives/unary.js";
import { take } from "../np/indexing.js";
import { argsort } from "../np/sorting.js";
import { shapeStr } from "../shape.js";
import { bitsToRandint, sortByU32Keys } from "../primitives/random_bits.js";
import { argmax, reduceSum } from "../primitives/reduce.js";
import { iota, slice } from "../primitives/shape.js";
import { broadcastInDim, convertElementType, full, moveAxis, reshape } from "../primitives/structural.js";
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
const bernoulliSig = signature("random.bernoulli", ["key:any!", "p:array", "shape:shape?"]);
/** Options of `random.bernoulli`. */
export interface BernoulliOptions {
  /** The probability of true (an array broadcasting to `shape`). Default 0.5. */
  p?: ArrayLike;
  /** The result's shape; by default p's shape. */
  shape?: ShapeArg | null;
}
export const bernoulli = withSignature(bernoulliSig, (key: Key, ...args: PositionalOr<[p: ArrayLike, shape: ShapeArg | null], BernoulliOptions>): ArrayBase => {
  const op = "random.bernoulli";
  const { p = 0.5, shape } = parseArgs<BernoulliOptions>(bernoulliSig, [key, ...args]);
  checkKey(op, key);
  const pa = asFloat(p);
  const sh = shape === undefined || shape === null ? pa.shape : toShape(op, shape);
  checkShape(op, sh, pa.shape);
  return lt(uniformIn(op, key, sh, pa.dtype, 0, 1), pa);
});

export interface CategoricalOptions {
  /** The axis of `logits` that indexes the categories. Default -1. */
  axis?: number;
  /** The result's shape: batch shape of logits (logits' shape without `axis`) with optional leading axes. */
  shape?: ShapeArg | null;
}

/**
 * `random.categorical(key, logits, axis, shape)` (or `{axis, shape}`): int32 category indices drawn with
 * probabilities `softmax(logits, axis)`, by the Gumbel-max trick as in JAX: the argmax
 * over `axis` of `logits + gumbel noise`.
 */
const categoricalSig = signature("random.categorical", ["key:any!", "logits:array!", "axis:requiredAxis", "shape:shape?"]);
export const categorical = withSignature(categoricalSig, (key: Key, logits: ArrayLike, ...args: PositionalOr<[axis: number, shape: ShapeArg | null], CategoricalOptions>): ArrayBase => {
  const op = "random.categorical";
  const options = parseArgs<CategoricalOptions>(categoricalSig, [key, logits, ...args]);
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
});

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
  dtype?: DType | null;
}

/** Options of `random.randint` when everything after the key is passed by name. */
export interface RandintAllOptions extends RandintOptions {
  shape: ShapeArg;
  minval: ArrayLike;
  maxval: ArrayLike;
}

/**
 * `random.randint(key, shape, minval, maxval, dtype)`, with the trailing ones optionally in an
 * options object: `randint(key, [3], 0, 10)`, `randint(key, [3], 0, 10, { dtype: "int32" })`,
 * `randint(key, { shape: [3], minval: 0, maxval: 10 })`.
 */
export type RandintArgs =
  | [shape: ShapeArg, minval: ArrayLike, maxval: ArrayLike, dtype?: DType | null]
  | [shape: ShapeArg, minval: ArrayLike, maxval: ArrayLike, options: RandintOptions]
  | [shape: ShapeArg, minval: ArrayLike, options: RandintOptions & { maxval: ArrayLike }]
  | [shape: ShapeArg, options: RandintOptions & { minval: ArrayLike; maxval: ArrayLike }]
  | [options: RandintAllOptions];

/**
 * `random.randint(key, shape, minval, maxval)`: int32 values uniform in [minval, maxval),
 * JAX's algorithm: two independent 32-bit words per value (from the two halves of
 * `split(key)`) are combined modulo the span, so the modulo bias is about span / 2^64.
 * Bounds may be arrays that broadcast to `shape`. An empty range (minval >= maxval) is
 * an error when the bounds are known; under tracing the result is minval there, as JAX
 * returns. A maxval above 2^31 - 1 (a JS number, or elements of a float array) is clipped
 * and makes 2^31 - 1 reachable.
 */
const randintSig = signature("random.randint", [
  "key:any!",
  "shape:shape!",
  { name: "minval", kind: "array", required: true },
  { name: "maxval", kind: "array", required: true },
  "dtype:dtype",
]);
export const randint = withSignature(randintSig, (key: Key, ...args: RandintArgs): ArrayBase => {
  const op = "random.randint";
  const o = parseArgs<{ shape: ShapeArg; minval: ArrayLike; maxval: ArrayLike; dtype?: DType | null }>(randintSig, [key, ...args]);
  const { minval, maxval } = o;
  checkKey(op, key);
  const sh = toShape(op, o.shape);
  if (o.dtype !== undefined && o.dtype !== null && o.dtype !== "int32") {
    throw new DTypeError(`dtype must be int32, got ${String(o.dtype)}`, { op, hint: isFloat(o.dtype) ? "use random.uniform for floats" : undefined });
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
});

const permutationSig = signature("random.permutation", ["key:any!", "x:array!", "axis:int", "independent:bool"]);

/** JAX's round count for shuffling n items by sorts on random 32-bit keys (3 ln n / ln(2^32 - 1), rounded up). */
const shuffleRounds = (n: number): number => Math.ceil((3 * Math.log(Math.max(1, n))) / Math.log(2 ** 32 - 1));

export interface PermutationOptions {
  /** The axis of `x` to permute. Default 0. */
  axis?: number;
  /** Permute each slice along `axis` independently (default false: one permutation for all of them). */
  independent?: boolean;
}

/**
 * `random.permutation(key, x, {axis})`: for an integer `n` (a JS integer or a concrete
 * int32 scalar array), a random permutation of 0 .. n-1 (int32); for an array, a copy with its slices along `axis` randomly permuted
 * (one permutation for all of them, or with `independent: true` one per slice). As JAX,
 * the permutation is a stable sort by random uint32 keys, repeated with fresh keys
 * (`ceil(3 ln n / ln(2^32 - 1))` rounds: one for n up to 1625) so that key collisions do
 * not bias it; independent shuffles draw one key per element of `x` (and count the rounds
 * from x's size). Differentiable in `x`.
 */
export const permutation = withSignature(permutationSig, (key: Key, x: number | ArrayLike, ...args: PositionalOr<[axis: number, independent: boolean], PermutationOptions>): ArrayBase => {
  const op = "random.permutation";
  const options = parseArgs<PermutationOptions>(permutationSig, [key, x, ...args]);
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
  const independent = options.independent === true && arr.ndim > 1;
  let moved = moveAxis(arr, axis, last);
  let k = key;
  for (let r = 0; r < shuffleRounds(independent ? arr.size : n); r++) {
    const [next, sub] = split(k);
    // Independent: a key per element (drawn in x's layout). Otherwise the same n keys sort
    // every slice, so all slices move alike (JAX's take of one permutation).
    const keys = independent ? moveAxis(randomBits(sub, arr.shape), axis, last) : broadcastInDim(randomBits(sub, [n]), moved.shape, [last]);
    moved = sortByU32Keys(keys, moved);
    k = next;
  }
  return moveAxis(moved, last, axis);
});

/** Options of `random.choice`. */
export interface ChoiceOptions {
  /** The shape of the draws (default `[]`: one draw). */
  shape?: ShapeArg;
  /** Draw with replacement (default true). */
  replace?: boolean;
  /** Probabilities of the candidates (a 1-D array of length n); default uniform. */
  p?: ArrayLike | null;
  /** The axis of `a` to choose along (default 0). */
  axis?: number;
}

const choiceSig = signature("random.choice", ["key:any!", "a:array!", "shape:shape", "replace:bool", "p:array?", "axis:int"]);

/**
 * `random.choice(key, a, shape = [], replace = true, p?, axis = 0)`: draws from `a` (an
 * integer n for 0 .. n-1, or an array's slices along `axis`), with or without replacement,
 * uniformly or with probabilities `p`. As JAX: with replacement, uniform draws are
 * `randint` indices and weighted ones invert the CDF (`searchsorted(cumsum(p), total · (1 - u))`);
 * without replacement, uniform draws are the first entries of a `permutation` and
 * weighted ones the smallest of `-gumbel - log p` (the Gumbel top-k trick). The result
 * has shape `shape` for an integer `a`, else a's shape with the axis replaced by `shape`.
 * Weighted draws with replacement compare every draw with every candidate's CDF entry
 * (n · draws memory).
 */
export const choice = withSignature(choiceSig, (key: Key, a: number | ArrayLike, ...args: PositionalOr<[shape: ShapeArg, replace: boolean, p: ArrayLike | null, axis: number], ChoiceOptions>): ArrayBase => {
  const op = "random.choice";
  const o = parseArgs<ChoiceOptions>(choiceSig, [key, a, ...args]);
  checkKey(op, key);
  const arr = asArray(a);
  const shape = toShape(op, o.shape ?? []);
  const replace = o.replace ?? true;
  let n: number;
  let axis = 0;
  if (arr.ndim === 0) {
    if (isTracer(arr)) throw new ValueError(`a must be known when tracing (it sets the number of candidates), got a traced ${arr.aval}`, { op, hint: "pass a JS integer" });
    n = Number((arr as NDArray).item());
    if (!Number.isInteger(n)) throw new ValueError(`a must be an integer or an array, got ${n}`, { op });
  } else {
    axis = normalizeAxis(op, o.axis ?? 0, arr.ndim);
    n = arr.shape[axis]!;
  }
  const draws = shape.reduce((x, y) => x * y, 1);
  const outShape = arr.ndim === 0 ? shape : [...arr.shape.slice(0, axis), ...shape, ...arr.shape.slice(axis + 1)];
  if (draws === 0) return full(outShape, 0, arr.dtype);
  if (n <= 0) throw new ValueError(`a must be greater than 0 unless no samples are taken, got ${n} candidates`, { op });
  if (!replace && draws > n) {
    throw new ValueError(`cannot take a larger sample (${draws}) than the population (${n}) when replace is false`, { op, hint: "pass replace: true, or draw fewer" });
  }
  let ind: ArrayBase;
  if (o.p === undefined || o.p === null) {
    if (replace) ind = randint(key, shape, 0, n);
    else {
      const perm = permutation(key, arr.ndim === 0 ? n : arr, { axis });
      const taken = slice(perm, perm.shape.map(() => 0), perm.shape.map((d, i) => (i === axis ? draws : d)));
      return reshape(taken, outShape);
    }
  } else {
    const pa = asFloat(o.p);
    if (pa.ndim !== 1 || pa.shape[0] !== n) {
      throw new ShapeError(`p must be a 1-D array of the ${n} candidates' probabilities, got shape ${shapeStr(pa.shape)}`, { op });
    }
    checkProbabilities(op, pa, replace, draws);
    if (replace) {
      const cdf = cumsum(pa, 0);
      const total = slice(cdf, [n - 1], [n]);
      const u = uniformIn(op, key, shape, pa.dtype, 0, 1);
      const r = mul(reshape(total, shape.map(() => 1)), sub(scalar(1, pa.dtype), u));
      // searchsorted (left): the number of CDF entries below r.
      const below = lt(broadcastInDim(cdf, [...shape, n], [shape.length]), broadcastInDim(r, [...shape, n], shape.map((_, i) => i)));
      ind = reduceSum(convertElementType(below, "int32"), [shape.length]);
    } else {
      // The `draws` smallest of -gumbel - log p, by a stable argsort (JAX's `argsort(g)[:n_draws]`).
      const g = sub(neg(gumbelIn(op, key, [n], pa.dtype)), log(pa));
      ind = reshape(slice(argsort(g), [0], [draws]), shape);
    }
  }
  return arr.ndim === 0 ? ind : reshape(take(arr, ind, { axis }), outShape);
});

/** Concrete probabilities must be non-negative with a positive total (and, without replacement, enough nonzero ones). */
const checkProbabilities = (op: string, p: ArrayBase, replace: boolean, draws: number): void => {
  if (isTracer(p) || !(p instanceof NDArray)) return;
  const v = Array.from(p.toTypedArray(), Number);
  const bad = v.find((x) => !(x >= 0) || !Number.isFinite(x));
  if (bad !== undefined) throw new ValueError(`p must hold finite non-negative probabilities, got ${bad}`, { op });
  const total = v.reduce((s, x) => s + x, 0);
  if (!(total > 0)) throw new ValueError("p must have a positive total", { op });
  const nonzero = v.filter((x) => x > 0).length;
  if (!replace && nonzero < draws) {
    throw new ValueError(`p has only ${nonzero} nonzero probabilities, fewer than the ${draws} draws without replacement`, { op, hint: "JAX leaves this ill-defined; draw fewer or with replacement" });
  }
};
