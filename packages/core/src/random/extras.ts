/**
 * More of JAX's samplers, each a short transform of draws defined elsewhere (uniform,
 * normal, exponential, gamma), with JAX's recipe so that a key gives JAX's numbers:
 * cauchy, lognormal, pareto, chisquare, t, weibullMin, rayleigh, geometric, maxwell.
 */
import type { ArrayBase } from "../array.js";
import { type PositionalOr, parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { DTypeError } from "../errors.js";
import { type ArrayLike, asArray, promoteToFloat } from "../np/coerce.js";
import { add, div, mul, pow, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { eq, select } from "../primitives/compare.js";
import { reduceSum } from "../primitives/reduce.js";
import { broadcastTo, convertElementType } from "../primitives/structural.js";
import { exp, floor, log, log1p, neg, sqrt, tan } from "../primitives/unary.js";
import { floatDType, normal, uniformIn } from "./continuous.js";
import { exponentialIn } from "./distributions.js";
import { gamma, loggamma, resultShape, splitList, type ShapeDTypeArgs, type ShapeDTypeOptions } from "./gamma.js";
import { type Key, type ShapeArg, checkKey, toShape } from "./keys.js";

type Parsed = { shape?: ShapeArg | null; dtype?: DType | null };

/** Parses `(key, param, shape?, dtype?)`: the parameter as a float array, the result shape (default the parameter's) and dtype. */
const withParam = (sig: ReturnType<typeof signature>, key: Key, param: ArrayLike, args: readonly unknown[]): [ArrayBase, number[], DType] => {
  const o = parseArgs<Parsed>(sig, [key, param, ...args]);
  checkKey(sig.name, key);
  const dtype = floatDType(sig.name, o.dtype ?? undefined);
  const p = asArray(param, dtype);
  return [p, resultShape(sig.name, o.shape, p), dtype];
};

const cauchySig = signature("random.cauchy", ["key:any!", "shape:shape", "dtype:dtype"]);
/** `random.cauchy(key, shape?, dtype?)`: standard Cauchy samples, `tan(π (u - 1/2))` with u uniform in [eps, 1), as JAX. */
export const cauchy = withSignature(cauchySig, (key: Key, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null], { shape?: ShapeArg; dtype?: DType | null }>): ArrayBase => {
  const op = "random.cauchy";
  const o = parseArgs<{ shape?: ShapeArg; dtype?: DType | null }>(cauchySig, [key, ...args]);
  checkKey(op, key);
  const dtype = floatDType(op, o.dtype ?? undefined);
  const u = uniformIn(op, key, toShape(op, o.shape ?? []), dtype, dtype === "float32" ? 2 ** -23 : 2 ** -52, 1);
  return tan(mul(scalar(Math.PI, dtype), sub(u, scalar(0.5, dtype))));
});

const lognormalSig = signature("random.lognormal", ["key:any!", "sigma:array", "shape:shape?", "dtype:dtype"]);
/** `random.lognormal(key, sigma = 1, shape?, dtype?)`: `exp(sigma · normal)`, as JAX. */
export const lognormal = withSignature(lognormalSig, (key: Key, ...args: PositionalOr<[sigma: ArrayLike, shape: ShapeArg | null, dtype: DType | null], ShapeDTypeOptions & { sigma?: ArrayLike }>): ArrayBase => {
  const o = parseArgs<Parsed & { sigma?: ArrayLike }>(lognormalSig, [key, ...args]);
  const [sigma, shape, dtype] = withParam(lognormalSig, key, o.sigma ?? 1, [o.shape ?? null, o.dtype ?? null]);
  return exp(mul(normal(key, shape, dtype), sigma));
});

const paretoSig = signature("random.pareto", ["key:any!", "b:array!", "shape:shape?", "dtype:dtype"]);
/** `random.pareto(key, b, shape?, dtype?)`: Pareto(b) samples on [1, inf), `exp(exponential / b)`, as JAX. */
export const pareto = withSignature(paretoSig, (key: Key, b: ArrayLike, ...args: ShapeDTypeArgs): ArrayBase => {
  const [bb, shape, dtype] = withParam(paretoSig, key, b, args);
  return exp(div(exponentialIn(key, shape, dtype), bb));
});

const chisquareSig = signature("random.chisquare", ["key:any!", "df:array!", "shape:shape?", "dtype:dtype"]);
/** `random.chisquare(key, df, shape?, dtype?)`: chi-squared samples, `2 · exp(loggamma(df / 2))`, as JAX. */
export const chisquare = withSignature(chisquareSig, (key: Key, df: ArrayLike, ...args: ShapeDTypeArgs): ArrayBase => {
  const [d, shape, dtype] = withParam(chisquareSig, key, df, args);
  return mul(exp(loggamma(key, div(d, scalar(2, dtype)), shape, dtype)), scalar(2, dtype));
});

const tSig = signature("random.t", ["key:any!", "df:array!", "shape:shape?", "dtype:dtype"]);
/** `random.t(key, df, shape?, dtype?)`: Student's t samples, `normal · sqrt((df / 2) / gamma(df / 2))` with keys from `split(key)`, as JAX. */
export const t = withSignature(tSig, (key: Key, df: ArrayLike, ...args: ShapeDTypeArgs): ArrayBase => {
  const [d, shape, dtype] = withParam(tSig, key, df, args);
  const [kn, kg] = splitList(key, 2);
  const half = div(d, scalar(2, dtype));
  const n = normal(kn, shape, dtype);
  const g = gamma(kg, half, shape, dtype);
  return mul(n, sqrt(div(half, g)));
});

const weibullSig = signature("random.weibullMin", ["key:any!", "scale:array!", "concentration:array!", "shape:shape", "dtype:dtype"]);
/** `random.weibullMin(key, scale, concentration, shape = [], dtype?)`: Weibull samples by the inverse CDF, `scale · (-log1p(-u))^(1/concentration)`, as JAX. */
export const weibullMin = withSignature(
  weibullSig,
  (key: Key, scale: ArrayLike, concentration: ArrayLike, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null], { shape?: ShapeArg; dtype?: DType | null }>): ArrayBase => {
    const op = "random.weibullMin";
    const o = parseArgs<{ shape?: ShapeArg; dtype?: DType | null }>(weibullSig, [key, scale, concentration, ...args]);
    checkKey(op, key);
    const dtype = floatDType(op, o.dtype ?? undefined);
    const u = uniformIn(op, key, toShape(op, o.shape ?? []), dtype, 0, 1);
    // A JS number's reciprocal is taken in float64 and rounded once, as JAX's Python `1.0 / concentration`.
    const inv = typeof concentration === "number" ? scalar(1 / concentration, dtype) : div(scalar(1, dtype), asArray(concentration, dtype));
    return mul(pow(neg(log1p(neg(u))), inv), asArray(scale, dtype));
  },
);

const rayleighSig = signature("random.rayleigh", ["key:any!", "scale:array!", "shape:shape?", "dtype:dtype"]);
/** `random.rayleigh(key, scale, shape?, dtype?)`: Rayleigh samples, `scale · sqrt(-2 log u)`, as JAX. */
export const rayleigh = withSignature(rayleighSig, (key: Key, scale: ArrayLike, ...args: ShapeDTypeArgs): ArrayBase => {
  const [s, shape, dtype] = withParam(rayleighSig, key, scale, args);
  const u = uniformIn("random.rayleigh", key, shape, dtype, 0, 1);
  return mul(broadcastTo(s, shape), sqrt(mul(log(u), scalar(-2, dtype))));
});

const geometricSig = signature("random.geometric", ["key:any!", "p:array!", "shape:shape?", "dtype:dtype"]);
/**
 * `random.geometric(key, p, shape?, dtype?)`: the int32 number of Bernoulli(p) trials up to
 * the first success, `floor(log u / log1p(-p)) + 1` (u = 0 read as 1), as JAX.
 */
export const geometric = withSignature(geometricSig, (key: Key, p: ArrayLike, ...args: PositionalOr<[shape: ShapeArg | null, dtype: DType | null], ShapeDTypeOptions>): ArrayBase => {
  const op = "random.geometric";
  const o = parseArgs<Parsed>(geometricSig, [key, p, ...args]);
  checkKey(op, key);
  if (o.dtype !== undefined && o.dtype !== null && o.dtype !== "int32") throw new DTypeError(`dtype must be int32, got ${o.dtype}`, { op });
  const [pa] = promoteToFloat(p) as [ArrayBase];
  const shape = resultShape(op, o.shape, pa);
  const u0 = uniformIn(op, key, shape, pa.dtype, 0, 1);
  const u = select(eq(u0, scalar(0, pa.dtype)), broadcastTo(scalar(1, pa.dtype), shape), u0);
  const g = add(floor(div(log(u), broadcastTo(log1p(neg(pa)), shape))), scalar(1, pa.dtype));
  return convertElementType(g, "int32");
});

const maxwellSig = signature("random.maxwell", ["key:any!", "shape:shape", "dtype:dtype"]);
/** `random.maxwell(key, shape?, dtype?)`: one-sided Maxwell samples, the norm of 3 normals (`normal(key, [...shape, 3])`), as JAX. */
export const maxwell = withSignature(maxwellSig, (key: Key, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null], { shape?: ShapeArg; dtype?: DType | null }>): ArrayBase => {
  const op = "random.maxwell";
  const o = parseArgs<{ shape?: ShapeArg; dtype?: DType | null }>(maxwellSig, [key, ...args]);
  checkKey(op, key);
  const shape = toShape(op, o.shape ?? []);
  const z = normal(key, [...shape, 3], floatDType(op, o.dtype ?? undefined));
  return sqrt(reduceSum(mul(z, z), [shape.length]));
});
