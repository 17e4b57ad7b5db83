/**
 * Gamma and the samplers built on it: gamma, loggamma, beta, dirichlet. The stream is
 * JAX's: one key per element (`split(key, size)`), each element drawn by Marsaglia and
 * Tsang's method ("A simple method for generating gamma variables", ACM TOMS 2000) with
 * JAX's exact sequence of splits, normals and uniforms, and JAX's boost
 * Gamma(a) = Gamma(a + 1) · U^(1/a) for a < 1. The elements run as one vectorized while
 * loop (vmap over the per-element sampler, as JAX does on accelerators), which gives the
 * same numbers as JAX's element-by-element `lax.map`.
 *
 * Derivatives in the shape parameter are implicit reparameterization gradients, as in
 * JAX: the sampler is a custom_jvp function whose tangent is `ta · dx/da`, with dx/da from
 * the `random_gamma_grad` primitive (the CDF held fixed; see primitives/random_gamma.ts).
 * They are exact in expectation — mean(dx/da) estimates d E[x] / da — but are not the
 * pathwise derivative of Marsaglia–Tsang's transform for a fixed key.
 */
import { type ArrayBase, NDArray } from "../array.js";
import { type PositionalOr, parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { ShapeError, ValueError } from "../errors.js";
import { customJvp } from "../higher/custom.js";
import { whileLoop } from "../higher/control/api.js";
import { type ArrayLike, asArray } from "../np/coerce.js";
import { add, div, max, mul, pow, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { bitwiseAnd, bitwiseOr, eq, ge, le, select } from "../primitives/compare.js";
import { randomGammaGrad } from "../primitives/random_gamma.js";
import { reduceMax, reduceSum } from "../primitives/reduce.js";
import { slice, squeeze } from "../primitives/shape.js";
import { stopGradient } from "../primitives/special.js";
import { broadcastInDim, broadcastTo, reshape } from "../primitives/structural.js";
import { exp, log, log1p, neg, sqrt } from "../primitives/unary.js";
import { isTracer } from "../trace.js";
import { vmap } from "../transforms/vmap.js";
import { broadcastShapes, shapeStr, sizeOf } from "../shape.js";
import { floatDType, normal, uniformIn } from "./continuous.js";
import { type Key, type ShapeArg, checkKey, checkShape, split, toShape } from "./keys.js";

/** Row `i` of a batch of keys `[n, 2]`. */
export const keyAt = (keys: ArrayBase, i: number): ArrayBase => squeeze(slice(keys, [i, 0], [i + 1, 2]), [0]);

/** `split(key, n)` as a list of keys. */
export const splitList = (key: Key, n: number): ArrayBase[] => {
  const ks = split(key, n);
  return Array.from({ length: n }, (_, i) => keyAt(ks, i));
};

/** One Gamma(alpha) draw (alpha a float scalar) from one key: JAX's `_gamma_one`, step for step. */
const gammaOne = (key: ArrayBase, alpha: ArrayBase, logSpace: boolean): ArrayBase => {
  const dt = alpha.dtype;
  const k = (v: number) => scalar(v, dt);
  const [zero, one] = [k(0), k(1)];
  const boostMask = ge(alpha, one);
  const a = select(boostMask, alpha, add(alpha, one));
  const d = sub(a, k(1 / 3));
  const c = div(k(1 / 3), sqrt(d));
  type State = [ArrayBase, ArrayBase, ArrayBase, ArrayBase]; // key, X = x², V = v³, U
  // Keep going while the draw is rejected by both the squeeze and the full test.
  const rejected = ([, X, V, U]: State) =>
    bitwiseAnd(ge(U, sub(one, mul(k(0.0331), mul(X, X)))), ge(log(U), add(mul(X, k(0.5)), mul(d, add(sub(one, V), log(V))))));
  const draw = ([key0]: State): State => {
    const [next, xKey, uKey] = splitList(key0, 3);
    // Normals x until v = 1 + c·x is positive.
    const [, x, v] = whileLoop<[ArrayBase, ArrayBase, ArrayBase]>(
      ([, , v0]) => le(v0, zero),
      ([kk]) => {
        const [k2, sub2] = splitList(kk, 2);
        const xn = normal(sub2, [], { dtype: dt });
        return [k2, xn, add(one, mul(xn, c))];
      },
      [xKey, zero, k(-1)],
    );
    return [next, mul(x, x), mul(mul(v, v), v), uniformIn("random.gamma", uKey, [], dt, 0, 1)];
  };
  const [loopKey, boostKey] = splitList(key, 2);
  // The initial state is rejected (U = 2), so the body runs at least once.
  const V = whileLoop<State>(rejected, draw, [loopKey, zero, one, k(2)])[2];
  if (logSpace) {
    const logU = log1p(neg(uniformIn("random.loggamma", boostKey, [], dt, 0, 1))); // minus an exponential draw
    const logBoost = select(bitwiseOr(boostMask, eq(logU, zero)), zero, mul(logU, div(one, alpha)));
    return add(add(log(d), log(V)), logBoost);
  }
  const u = sub(one, uniformIn("random.gamma", boostKey, [], dt, 0, 1));
  const boost = select(boostMask, one, pow(u, div(one, alpha)));
  return mul(mul(d, V), boost);
};

/** Gamma (or log-Gamma) draws for `a` (already of the result's shape and dtype): one key per element. */
const gammaDraws = (key: ArrayBase, a: ArrayBase, logSpace: boolean): ArrayBase => {
  const n = sizeOf(a.shape);
  if (n === 0) return a;
  const keys = split(key, n);
  const draws = vmap((kk: ArrayBase, al: ArrayBase) => gammaOne(kk, al, logSpace))(keys, reshape(a, [n]));
  return reshape(draws, a.shape);
};

/** dx/da for samples x (log-samples when `logSpace`: d log x / da = (dx/da) / x, with x floored at tiny). */
const drawGrad = (a: ArrayBase, out: ArrayBase, logSpace: boolean): ArrayBase => {
  if (!logSpace) return randomGammaGrad(a, out);
  const tiny = scalar(a.dtype === "float32" ? 2 ** -126 : 2 ** -1022, a.dtype);
  const x = max(exp(out), tiny);
  return div(randomGammaGrad(a, x), x);
};

const differentiable = (logSpace: boolean) =>
  customJvp((key: ArrayBase, a: ArrayBase) => gammaDraws(key, a, logSpace)).defJvp(([key, a], [, ta]) => {
    const out = gammaDraws(key, a, logSpace);
    return [out, mul(ta, drawGrad(a, out, logSpace))];
  });
const gammaDiff = differentiable(false);
const loggammaDiff = differentiable(true);

/** Values of a concrete parameter (a JS number or an NDArray), or null under tracing. */
export const concreteValues = (x: ArrayBase | number): number[] | null => {
  if (typeof x === "number") return [x];
  if (isTracer(x) || !(x instanceof NDArray)) return null;
  return Array.from(x.toTypedArray(), Number);
};

/** A ValueError when a known parameter is not positive (NaN included). */
export const requirePositive = (op: string, name: string, x: ArrayBase): void => {
  const v = concreteValues(x);
  const bad = v?.find((e) => !(e > 0));
  if (bad !== undefined) throw new ValueError(`${name} must be positive, got ${bad}`, { op });
};

/** The result shape: `shape` if given (parameters must broadcast to it), else the parameters' broadcast shape. */
export const resultShape = (op: string, shape: ShapeArg | null | undefined, ...params: ArrayBase[]): number[] => {
  if (shape === undefined || shape === null) {
    let b: number[] | null = [];
    for (const p of params) b = b && broadcastShapes(b, p.shape);
    if (!b) throw new ShapeError(`parameter shapes ${params.map((p) => shapeStr(p.shape)).join(", ")} do not broadcast`, { op });
    return b;
  }
  const s = toShape(op, shape);
  checkShape(op, s, ...params.map((p) => p.shape));
  return s;
};

const gammaSample = (op: string, key: Key, a: ArrayLike, shape: ShapeArg | null | undefined, dtype: DType | null | undefined, logSpace: boolean): ArrayBase => {
  checkKey(op, key);
  const dt = floatDType(op, dtype ?? undefined);
  const aa = asArray(a, dt);
  requirePositive(op, "a", aa);
  const sh = resultShape(op, shape, aa);
  return (logSpace ? loggammaDiff : gammaDiff)(key, broadcastTo(aa, sh));
};

/** Options of the samplers with a parameter array: the result's shape and dtype. */
export interface ShapeDTypeOptions {
  /** The result's shape; by default the (broadcast) shape of the parameters. */
  shape?: ShapeArg | null;
  /** float32 (default) or float64. */
  dtype?: DType | null;
}

/** `(shape, dtype)` positionally, or `{ shape, dtype }`. */
export type ShapeDTypeArgs = PositionalOr<[shape: ShapeArg | null, dtype: DType | null], ShapeDTypeOptions>;

const gammaSig = signature("random.gamma", ["key:any!", "a:array!", "shape:shape?", "dtype:dtype"]);
/**
 * `random.gamma(key, a, shape?, dtype?)`: standard Gamma(a) samples (density ∝ x^(a-1) e^-x;
 * divide by a rate or multiply by a scale for other parameterizations). `a` broadcasts to
 * `shape` (default: a's shape) and must be positive. Differentiable in `a` (implicit
 * reparameterization, as JAX).
 */
export const gamma = withSignature(gammaSig, (key: Key, a: ArrayLike, ...args: ShapeDTypeArgs): ArrayBase => {
  const o = parseArgs<{ shape?: ShapeArg | null; dtype?: DType | null }>(gammaSig, [key, a, ...args]);
  return gammaSample("random.gamma", key, a, o.shape, o.dtype, false);
});

const loggammaSig = signature("random.loggamma", ["key:any!", "a:array!", "shape:shape?", "dtype:dtype"]);
/**
 * `random.loggamma(key, a, shape?, dtype?)`: the logarithms of Gamma(a) samples, computed in
 * log space so that small `a` (whose samples underflow) keeps its precision;
 * `exp(loggamma(k, a))` equals `gamma(k, a)` up to rounding.
 */
export const loggamma = withSignature(loggammaSig, (key: Key, a: ArrayLike, ...args: ShapeDTypeArgs): ArrayBase => {
  const o = parseArgs<{ shape?: ShapeArg | null; dtype?: DType | null }>(loggammaSig, [key, a, ...args]);
  return gammaSample("random.loggamma", key, a, o.shape, o.dtype, true);
});

const betaSig = signature("random.beta", ["key:any!", "a:array!", "b:array!", "shape:shape?", "dtype:dtype"]);
/**
 * `random.beta(key, a, b, shape?, dtype?)`: Beta(a, b) samples, as JAX: two log-gamma draws
 * (keys from `split(key)`) combined as `Ga / (Ga + Gb)` after subtracting their maximum.
 */
export const beta = withSignature(betaSig, (key: Key, a: ArrayLike, b: ArrayLike, ...args: ShapeDTypeArgs): ArrayBase => {
  const op = "random.beta";
  const o = parseArgs<{ shape?: ShapeArg | null; dtype?: DType | null }>(betaSig, [key, a, b, ...args]);
  checkKey(op, key);
  const dt = floatDType(op, o.dtype ?? undefined);
  const [aa, bb] = [asArray(a, dt), asArray(b, dt)];
  requirePositive(op, "a", aa);
  requirePositive(op, "b", bb);
  const sh = resultShape(op, o.shape, aa, bb);
  const [ka, kb] = splitList(key, 2);
  const la = loggammaDiff(ka, broadcastTo(aa, sh));
  const lb = loggammaDiff(kb, broadcastTo(bb, sh));
  const m = max(la, lb);
  const ga = exp(sub(la, m));
  const gb = exp(sub(lb, m));
  return div(ga, add(ga, gb));
});

const dirichletSig = signature("random.dirichlet", ["key:any!", "alpha:array!", "shape:shape?", "dtype:dtype"]);
/**
 * `random.dirichlet(key, alpha, shape?, dtype?)`: Dirichlet(alpha) samples over the last
 * axis of `alpha` (length k), of shape `[...shape, k]` (`shape` defaults to alpha's batch
 * shape). As JAX: log-gamma draws normalized by a softmax.
 */
export const dirichlet = withSignature(dirichletSig, (key: Key, alpha: ArrayLike, ...args: ShapeDTypeArgs): ArrayBase => {
  const op = "random.dirichlet";
  const o = parseArgs<{ shape?: ShapeArg | null; dtype?: DType | null }>(dirichletSig, [key, alpha, ...args]);
  checkKey(op, key);
  const dt = floatDType(op, o.dtype ?? undefined);
  const al = asArray(alpha, dt);
  if (al.ndim < 1) throw new ValueError(`alpha must have at least one axis (the categories), got ${al.aval}`, { op });
  requirePositive(op, "alpha", al);
  const batch = al.shape.slice(0, -1);
  const k = al.shape[al.ndim - 1]!;
  let sh: number[];
  if (o.shape === undefined || o.shape === null) sh = batch;
  else {
    sh = toShape(op, o.shape);
    checkShape(op, sh, batch);
  }
  const full_ = [...sh, k];
  const logs = loggammaDiff(key, broadcastTo(al, full_));
  // A softmax over the last axis (the max is a constant shift: no gradient through it).
  const last = full_.length - 1;
  const m = stopGradient(reduceMax(logs, [last]));
  const e = exp(sub(logs, broadcastInDim(m, full_, sh.map((_, i) => i))));
  return div(e, broadcastInDim(reduceSum(e, [last]), full_, sh.map((_, i) => i)));
});

