/**
 * Samplers that transform uniform draws (exponential, laplace, logistic), signs
 * (rademacher), and the gamma-based generalizedNormal and ball. Each follows JAX's recipe
 * over the same bits, so a key gives JAX's numbers.
 */
import type { ArrayBase } from "../array.js";
import { type PositionalOr, parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import { add, div, mul, pow, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { reduceSum } from "../primitives/reduce.js";
import { broadcastInDim, convertElementType, full } from "../primitives/structural.js";
import { abs, integerPow, log, log1p, neg, sign } from "../primitives/unary.js";
import { floatDType, uniformIn } from "./continuous.js";
import { type Key, type ShapeArg, checkKey, toShape } from "./keys.js";
import { bernoulli } from "./discrete.js";
import { gamma, splitList } from "./gamma.js";

/** Options of the parameterless samplers: the result's dtype (and shape). */
export interface SampleOptions {
  /** The result's shape. Default `[]`. */
  shape?: ShapeArg;
  /** float32 (default) or float64. */
  dtype?: DType | null;
}

/** `(shape, dtype)` positionally, or `{ shape, dtype }`. */
export type SampleArgs = PositionalOr<[shape: ShapeArg, dtype: DType | null], SampleOptions>;

type Parsed = { shape?: ShapeArg; dtype?: DType | null };

/** Parses `(key, shape?, dtype?)` and returns the checked key, shape and float dtype. */
const parseSample = (sig: ReturnType<typeof signature>, key: Key, args: readonly unknown[]): [ArrayBase, number[], DType] => {
  const o = parseArgs<Parsed>(sig, [key, ...args]);
  checkKey(sig.name, key);
  return [key, toShape(sig.name, o.shape ?? []), floatDType(sig.name, o.dtype ?? undefined)];
};

/** Machine epsilon (the gap above 1) of a float dtype. */
const epsOf = (dtype: DType): number => (dtype === "float32" ? 2 ** -23 : 2 ** -52);

const exponentialSig = signature("random.exponential", ["key:any!", "shape:shape", "dtype:dtype"]);
/**
 * `random.exponential(key, shape?, dtype?)`: standard exponential samples (density e^-x,
 * x >= 0), as JAX: `-log1p(-u)` with `u` uniform in [0, 1).
 */
export const exponential = withSignature(exponentialSig, (key: Key, ...args: SampleArgs): ArrayBase => {
  const [k, shape, dtype] = parseSample(exponentialSig, key, args);
  return exponentialIn(k, shape, dtype);
});

/** Exponential samples without argument checks. */
export const exponentialIn = (key: Key, shape: readonly number[], dtype: DType): ArrayBase =>
  neg(log1p(neg(uniformIn("random.exponential", key, shape, dtype, 0, 1))));

const laplaceSig = signature("random.laplace", ["key:any!", "shape:shape", "dtype:dtype"]);
/**
 * `random.laplace(key, shape?, dtype?)`: standard Laplace samples (density e^-|x| / 2), as
 * JAX: `sign(u) · log1p(-|u|)` with `u` uniform in [-1 + epsneg, 1) (epsneg: the gap below 1).
 */
export const laplace = withSignature(laplaceSig, (key: Key, ...args: SampleArgs): ArrayBase => {
  const [k, shape, dtype] = parseSample(laplaceSig, key, args);
  const u = uniformIn("random.laplace", k, shape, dtype, -1 + epsOf(dtype) / 2, 1);
  return mul(sign(u), log1p(neg(abs(u))));
});

const logisticSig = signature("random.logistic", ["key:any!", "shape:shape", "dtype:dtype"]);
/**
 * `random.logistic(key, shape?, dtype?)`: standard logistic samples (density
 * e^-x / (1 + e^-x)²), as JAX: `log(u / (1 - u))` with `u` uniform in [eps, 1).
 */
export const logistic = withSignature(logisticSig, (key: Key, ...args: SampleArgs): ArrayBase => {
  const [k, shape, dtype] = parseSample(logisticSig, key, args);
  const u = uniformIn("random.logistic", k, shape, dtype, epsOf(dtype), 1);
  return log(div(u, sub(scalar(1, dtype), u)));
});

/** Options of `random.rademacher`. */
export interface RademacherOptions {
  /** The result's shape. Default `[]`. */
  shape?: ShapeArg;
  /** The result's dtype: int32 (default), float32 or float64. */
  dtype?: DType | null;
}

const rademacherSig = signature("random.rademacher", ["key:any!", "shape:shape", "dtype:dtype"]);
/**
 * `random.rademacher(key, shape?, dtype?)`: random signs, -1 or 1 with probability 1/2 each
 * (int32 unless `dtype` says otherwise), as JAX: `2 · bernoulli(key, 0.5, shape) - 1`.
 */
export const rademacher = withSignature(rademacherSig, (key: Key, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null], RademacherOptions>): ArrayBase => {
  const op = "random.rademacher";
  const o = parseArgs<Parsed>(rademacherSig, [key, ...args]);
  checkKey(op, key);
  const dtype = o.dtype ?? "int32";
  if (dtype === "bool") throw new DTypeError("dtype must be int32, float32 or float64, got bool", { op, hint: "use random.bernoulli for booleans" });
  return rademacherIn(key, toShape(op, o.shape ?? []), dtype);
});

const rademacherIn = (key: Key, shape: readonly number[], dtype: DType): ArrayBase => {
  const b = convertElementType(bernoulli(key, 0.5, shape), dtype);
  return sub(mul(scalar(2, dtype), b), scalar(1, dtype));
};

/** A positive finite JS number for a shape parameter `p`, or a ValueError. */
const positiveNumber = (op: string, name: string, p: unknown): number => {
  if (typeof p !== "number" || !(p > 0) || !Number.isFinite(p)) {
    throw new ValueError(`${name} must be a positive finite number, got ${typeof p === "number" ? p : typeof p}`, { op });
  }
  return p;
};

const generalizedNormalSig = signature("random.generalizedNormal", ["key:any!", "p:number!", "shape:shape", "dtype:dtype"]);
/**
 * `random.generalizedNormal(key, p, shape?, dtype?)`: samples with density ∝ e^(-|x|^p)
 * (p = 2: a normal with variance 1/2; p = 1: Laplace), as JAX: a random sign times
 * `Gamma(1/p)^(1/p)`, the gamma and the signs drawn from the two halves of `split(key)`.
 */
export const generalizedNormal = withSignature(
  generalizedNormalSig,
  (key: Key, p: number, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null], SampleOptions>): ArrayBase => {
    const op = "random.generalizedNormal";
    const o = parseArgs<Parsed>(generalizedNormalSig, [key, p, ...args]);
    checkKey(op, key);
    return generalizedNormalIn(key, positiveNumber(op, "p", p), toShape(op, o.shape ?? []), floatDType(op, o.dtype ?? undefined));
  },
);

const generalizedNormalIn = (key: Key, p: number, shape: readonly number[], dtype: DType): ArrayBase => {
  const [kg, kr] = splitList(key, 2);
  const g = gamma(kg, full(shape, 1 / p, dtype), shape, dtype);
  const r = rademacherIn(kr, shape, dtype);
  return mul(r, pow(g, scalar(1 / p, dtype)));
};

/** Options of `random.ball`. */
export interface BallOptions {
  /** The p of the Lp norm whose unit ball is sampled. Default 2. */
  p?: number;
  /** Batch shape: the result has shape `[...shape, d]`. Default `[]`. */
  shape?: ShapeArg;
  /** float32 (default) or float64. */
  dtype?: DType | null;
}

const ballSig = signature("random.ball", ["key:any!", "d:count!", "p:number", "shape:shape", "dtype:dtype"]);
/**
 * `random.ball(key, d, p = 2, shape?, dtype?)`: points uniform in the unit Lp ball of
 * dimension `d`, of shape `[...shape, d]`. As JAX (Barthe, Guédon, Mendelson and Naor, 2005):
 * generalized-normal coordinates g and an exponential e (keys from `split(key)`), scaled by
 * `(Σ|g|^p + e)^(-1/p)`.
 */
export const ball = withSignature(
  ballSig,
  (key: Key, d: number, ...args: PositionalOr<[p: number, shape: ShapeArg, dtype: DType | null], BallOptions>): ArrayBase => {
    const op = "random.ball";
    const o = parseArgs<Parsed & { p?: number }>(ballSig, [key, d, ...args]);
    checkKey(op, key);
    const p = positiveNumber(op, "p", o.p ?? 2);
    const shape = toShape(op, o.shape ?? []);
    const dtype = floatDType(op, o.dtype ?? undefined);
    const [k1, k2] = splitList(key, 2);
    const g = generalizedNormalIn(k1, p, [...shape, d], dtype);
    const e = exponentialIn(k2, shape, dtype);
    // An integer p is an integer power, as JAX's `abs(g) ** p` with a Python int.
    const powered = Number.isInteger(p) ? integerPow(abs(g), p) : pow(abs(g), scalar(p, dtype));
    const radius = pow(add(reduceSum(powered, [shape.length]), e), scalar(1 / p, dtype));
    return div(g, broadcastInDim(radius, [...shape, d], shape.map((_, i) => i)));
  },
);
