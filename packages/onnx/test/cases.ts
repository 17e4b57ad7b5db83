/**
 * One random-input case (or more) per primitive with an ONNX lowering: a function that
 * binds the primitive, and example inputs drawn from a seeded generator in a range where
 * the op is well conditioned (so f32 1e-5 / f64 1e-12 relative measure the lowering, not
 * the conditioning of the op).
 */
import { type ArrayBase, type DType, checkpointName, lax, np, random, stopGradient } from "@cotangent/core";

export type Rng = () => number;
/** mulberry32: a small seeded generator (public-domain algorithm by Tommy Ettinger). */
export const rng = (seed: number): Rng => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const uniformArray = (r: Rng, shape: number[], lo: number, hi: number, dtype: DType = "float32"): ArrayBase => {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = Array.from({ length: n }, () => lo + (hi - lo) * r());
  return np.reshape(np.array(dtype === "int32" ? data.map(Math.floor) : data, { dtype }), shape);
};
export const intArray = (r: Rng, shape: number[], lo: number, hi: number): ArrayBase => uniformArray(r, shape, lo, hi + 1, "int32");
export const boolArray = (r: Rng, shape: number[]): ArrayBase => np.greater(uniformArray(r, shape, 0, 1), 0.5);

export interface Case {
  /** The primitive this case checks (its jaxpr must contain it). */
  prim: string;
  label?: string;
  fn: (...a: any[]) => unknown;
  args: (r: Rng, dtype: DType) => unknown[];
  /** Float dtypes to run at; absent = float32 and float64; `["int32"]` etc. for others. */
  dtypes?: DType[];
  rtol?: number;
}

const F = (lo: number, hi: number, shape = [3, 4]) => (r: Rng, d: DType) => [uniformArray(r, shape, lo, hi, d)];
const F2 = (lo: number, hi: number, shape = [3, 4]) => (r: Rng, d: DType) => [uniformArray(r, shape, lo, hi, d), uniformArray(r, shape, lo, hi, d)];
const unary = (prim: string, f: (x: ArrayBase) => ArrayBase, lo: number, hi: number, dtypes?: DType[]): Case => ({ prim, fn: f, args: F(lo, hi), ...(dtypes ? { dtypes } : {}) });
/** ORT's CPU kernels implement these only for float32. */
const F32: DType[] = ["float32"];

export const cases: Case[] = [
  unary("neg", lax.neg, -3, 3),
  unary("exp", lax.exp, -3, 3),
  unary("exp2", lax.exp2, -3, 3),
  unary("log", lax.log, 0.1, 5),
  unary("log1p", lax.log1p, -0.5, 3),
  { prim: "log1p", label: "log1p tiny", fn: lax.log1p, args: F(-1e-6, 1e-6) },
  unary("expm1", lax.expm1, -2, 2),
  { prim: "expm1", label: "expm1 tiny", fn: lax.expm1, args: F(-1e-6, 1e-6) },
  unary("logistic", lax.logistic, -4, 4),
  unary("sin", lax.sin, -3, 3),
  unary("cos", lax.cos, -1.4, 1.4),
  unary("tan", lax.tan, -1, 1, F32),
  unary("asin", lax.asin, -0.9, 0.9, F32),
  unary("acos", lax.acos, -0.9, 0.9, F32),
  unary("atan", lax.atan, -3, 3, F32),
  unary("sinh", lax.sinh, -2, 2, F32),
  unary("cosh", lax.cosh, -2, 2, F32),
  unary("tanh", lax.tanh, -2, 2),
  unary("asinh", lax.asinh, -3, 3, F32),
  unary("acosh", lax.acosh, 1.5, 4, F32),
  unary("atanh", lax.atanh, -0.8, 0.8, F32),
  unary("sqrt", lax.sqrt, 0.1, 5),
  unary("rsqrt", lax.rsqrt, 0.1, 5),
  unary("cbrt", lax.cbrt, -5, 5),
  unary("square", lax.square, -3, 3),
  { prim: "integer_pow", fn: (x: ArrayBase) => [lax.integerPow(x, 3), lax.integerPow(x, -2), lax.integerPow(x, 0)], args: F(0.5, 2) },
  { prim: "integer_pow", label: "integer_pow int32", fn: (x: ArrayBase) => lax.integerPow(x, 5), args: (r) => [intArray(r, [3, 4], -9, 9)], dtypes: ["int32"] },
  unary("sign", lax.sign, -3, 3),
  unary("abs", lax.abs, -3, 3),
  unary("floor", lax.floor, -3, 3),
  unary("ceil", lax.ceil, -3, 3),
  { prim: "round", fn: (x: ArrayBase) => [lax.round(x), lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)], args: (r, d) => [np.add(np.floor(uniformArray(r, [3, 4], -5, 5, d)), np.array([0.5, 0.25, 0.75, 0.5], { dtype: d }))] },
  unary("erf", lax.erf, -2, 2, F32),
  unary("erfc", lax.erfc, -1, 0.5, F32),
  { prim: "add", fn: lax.add, args: F2(-3, 3) },
  { prim: "add", label: "add int32", fn: lax.add, args: (r) => [intArray(r, [3, 4], -100, 100), intArray(r, [3, 4], -100, 100)], dtypes: ["int32"] },
  { prim: "sub", fn: lax.sub, args: F2(-3, 3) },
  { prim: "mul", fn: lax.mul, args: F2(-3, 3) },
  { prim: "div", fn: lax.div, args: (r, d) => [uniformArray(r, [3, 4], -3, 3, d), uniformArray(r, [3, 4], 0.5, 3, d)] },
  { prim: "div", label: "div int32 (by zero too)", fn: lax.div, args: (r) => [intArray(r, [3, 4], -50, 50), intArray(r, [3, 4], -3, 3)], dtypes: ["int32"] },
  { prim: "rem", fn: lax.rem, args: (r, d) => [uniformArray(r, [3, 4], -5, 5, d), uniformArray(r, [3, 4], 0.5, 2, d)] },
  { prim: "rem", label: "rem int32", fn: lax.rem, args: (r) => [intArray(r, [3, 4], -50, 50), intArray(r, [3, 4], -4, 4)], dtypes: ["int32"] },
  { prim: "pow", fn: lax.pow, args: (r, d) => [uniformArray(r, [3, 4], 0.5, 2, d), uniformArray(r, [3, 4], -2, 2, d)] },
  { prim: "atan2", fn: lax.atan2, args: (r, d) => [np.concatenate([uniformArray(r, [12], -3, 3, d), np.array([0, 1, -1, 0], { dtype: d })]), np.concatenate([uniformArray(r, [12], -3, 3, d), np.array([-1, 0, 0, 1], { dtype: d })])], dtypes: F32 },
  { prim: "max", fn: lax.max, args: F2(-3, 3) },
  { prim: "min", fn: lax.min, args: F2(-3, 3) },
  ...(["eq", "ne", "lt", "le", "gt", "ge"] as const).map(
    (p): Case => ({ prim: p, fn: (a: ArrayBase, b: ArrayBase) => (lax as any)[p](a, b), args: (r, d) => { const a = np.round(uniformArray(r, [3, 4], -2, 2, d)); return [a, np.round(uniformArray(r, [3, 4], -2, 2, d))]; } }),
  ),
  { prim: "lt", label: "lt bool", fn: lax.lt, args: (r) => [boolArray(r, [3, 4]), boolArray(r, [3, 4])], dtypes: ["bool"] },
  { prim: "is_finite", fn: lax.isFinite, args: (_r, d) => [np.array([1, Infinity, -Infinity, NaN, 0, -2], { dtype: d })] },
  { prim: "and", fn: lax.bitwiseAnd, args: (r) => [boolArray(r, [3, 4]), boolArray(r, [3, 4])], dtypes: ["bool"] },
  { prim: "and", label: "and int32", fn: lax.bitwiseAnd, args: (r) => [intArray(r, [3, 4], -1000, 1000), intArray(r, [3, 4], -1000, 1000)], dtypes: ["int32"] },
  { prim: "or", fn: lax.bitwiseOr, args: (r) => [intArray(r, [3, 4], -1000, 1000), intArray(r, [3, 4], -1000, 1000)], dtypes: ["int32"] },
  { prim: "xor", fn: lax.bitwiseXor, args: (r) => [boolArray(r, [3, 4]), boolArray(r, [3, 4])], dtypes: ["bool"] },
  { prim: "not", fn: (a: ArrayBase, b: ArrayBase) => [lax.bitwiseNot(a), lax.bitwiseNot(b)], args: (r) => [boolArray(r, [3, 4]), intArray(r, [3, 4], -9, 9)], dtypes: ["bool"] },
  { prim: "select_n", fn: (p: ArrayBase, a: ArrayBase, b: ArrayBase) => lax.selectN(p, a, b), args: (r, d) => [boolArray(r, [3, 4]), uniformArray(r, [3, 4], -1, 1, d), uniformArray(r, [3, 4], -1, 1, d)] },
  { prim: "select_n", label: "select_n int32 index", fn: (p: ArrayBase, a: ArrayBase, b: ArrayBase, c: ArrayBase) => lax.selectN(p, a, b, c), args: (r, d) => [intArray(r, [3, 4], 0, 2), uniformArray(r, [3, 4], -1, 1, d), uniformArray(r, [3, 4], -1, 1, d), uniformArray(r, [3, 4], -1, 1, d)] },
  { prim: "convert_element_type", fn: (x: ArrayBase) => [lax.convertElementType(x, "int32"), lax.convertElementType(x, "bool"), lax.convertElementType(x, "float64"), lax.convertElementType(lax.convertElementType(x, "int32"), "float32")], args: F(-5, 5) },
  { prim: "stop_gradient", fn: (x: ArrayBase) => np.multiply(x, stopGradient(x)), args: F(-1, 1) },
  { prim: "name", fn: (x: ArrayBase) => np.sin(checkpointName(x, "h")), args: F(-1, 1) },
  // ---- reductions
  { prim: "reduce_sum", fn: (x: ArrayBase) => [lax.reduceSum(x, [1]), lax.reduceSum(x, [0, 1])], args: F(-1, 1) },
  { prim: "reduce_max", fn: (x: ArrayBase) => [lax.reduceMax(x, [1]), lax.reduceMax(x, [0, 1])], args: F(-1, 1) },
  { prim: "reduce_min", fn: (x: ArrayBase) => lax.reduceMin(x, [0]), args: F(-1, 1) },
  { prim: "reduce_prod", fn: (x: ArrayBase) => lax.reduceProd(x, [1]), args: F(0.5, 1.5) },
  { prim: "reduce_and", fn: (x: ArrayBase) => lax.reduceAnd(x, [1]), args: (r) => [boolArray(r, [3, 4])], dtypes: ["bool"] },
  { prim: "reduce_or", fn: (x: ArrayBase) => lax.reduceOr(x, [0]), args: (r) => [boolArray(r, [3, 4])], dtypes: ["bool"] },
  { prim: "argmax", fn: (x: ArrayBase) => [lax.argmax(x, 1), lax.argmax(x, 0)], args: F(-1, 1) },
  { prim: "argmin", fn: (x: ArrayBase) => lax.argmin(x, 1), args: F(-1, 1) },
  { prim: "cumsum", fn: (x: ArrayBase) => [lax.cumsum(x, 1), lax.cumsum(x, 0, true)], args: F(-1, 1) },
  { prim: "cumprod", fn: (x: ArrayBase) => [lax.cumprod(x, 1), lax.cumprod(x, 1, true)], args: F(0.5, 1.5, [3, 7]) },
  { prim: "cummax", fn: (x: ArrayBase) => [lax.cummax(x, 1), lax.cummax(x, 0, true)], args: F(-1, 1, [5, 6]) },
  { prim: "cummin", fn: (x: ArrayBase) => lax.cummin(x, 1), args: F(-1, 1, [2, 9]) },
  // ---- shapes
  { prim: "broadcast_in_dim", fn: (x: ArrayBase) => lax.broadcastInDim(x, [2, 3, 5, 4], [1, 3]), args: F(-1, 1) },
  { prim: "reshape", fn: (x: ArrayBase) => lax.reshape(x, [2, 6]), args: F(-1, 1) },
  { prim: "transpose", fn: (x: ArrayBase) => lax.transpose(x, [2, 0, 1]), args: F(-1, 1, [2, 3, 4]) },
  { prim: "squeeze", fn: (x: ArrayBase) => lax.squeeze(x, [1]), args: F(-1, 1, [3, 1, 4]) },
  { prim: "rev", fn: (x: ArrayBase) => lax.rev(x, [0, 1]), args: F(-1, 1) },
  { prim: "slice", fn: (x: ArrayBase) => [lax.slice(x, [1, 0], [3, 4], [1, 2]), lax.slice(x, [0, 1], [2, 3])], args: F(-1, 1) },
  { prim: "pad", fn: (x: ArrayBase) => [lax.pad(x, 0.5, [[1, 2, 0], [0, 1, 2]]), lax.pad(x, -1, [[-1, 1, 1], [2, -2, 0]])], args: F(-1, 1) },
  { prim: "concatenate", fn: (a: ArrayBase, b: ArrayBase) => lax.concatenate([a, b, a], 1), args: F2(-1, 1) },
  { prim: "iota", fn: (x: ArrayBase) => np.add(x, lax.convertElementType(lax.iota("int32", [3, 4], 1), x.dtype)), args: F(-1, 1) },
  { prim: "dynamic_slice", fn: (x: ArrayBase, i: ArrayBase, j: ArrayBase) => lax.dynamicSlice(x, [i, j], [2, 2]), args: (r, d) => [uniformArray(r, [4, 5], -1, 1, d), np.array(-1, { dtype: "int32" }), np.array(Math.floor(r() * 9) - 2, { dtype: "int32" })] },
  { prim: "dynamic_update_slice", fn: (x: ArrayBase, u: ArrayBase, i: ArrayBase) => lax.dynamicUpdateSlice(x, u, [i, 1]), args: (r, d) => [uniformArray(r, [4, 5], -1, 1, d), uniformArray(r, [2, 3], 5, 6, d), np.array(3, { dtype: "int32" })] },
  { prim: "gather", fn: (x: ArrayBase, i: ArrayBase) => [lax.gather(x, i, { axis: 1, batch_dims: 0 }), lax.gather(x, np.array([[0, -1], [2, 7]], { dtype: "int32" }), { axis: 0, batch_dims: 0 })], args: (r, d) => [uniformArray(r, [3, 4], -1, 1, d), intArray(r, [5], -4, 3)] },
  { prim: "gather", label: "gather batch_dims", fn: (x: ArrayBase, i: ArrayBase) => lax.gather(x, i, { axis: 2, batch_dims: 1 }), args: (r, d) => [uniformArray(r, [2, 3, 4, 2], -1, 1, d), intArray(r, [2, 5], -4, 3)] },
  { prim: "scatter_add", fn: (x: ArrayBase, i: ArrayBase, u: ArrayBase) => lax.scatterAdd(x, i, u, { axis: 1, batch_dims: 0 }), args: (r, d) => [uniformArray(r, [3, 4], -1, 1, d), intArray(r, [6], -4, 3), uniformArray(r, [3, 6], -1, 1, d)] },
  { prim: "scatter_add", label: "scatter_add batch_dims", fn: (x: ArrayBase, i: ArrayBase, u: ArrayBase) => lax.scatterAdd(x, i, u, { axis: 2, batch_dims: 1 }), args: (r, d) => [uniformArray(r, [2, 3, 4], -1, 1, d), intArray(r, [2, 5], -4, 3), uniformArray(r, [2, 3, 5], -1, 1, d)] },
  // ---- linear algebra
  { prim: "dot_general", label: "matmul", fn: (a: ArrayBase, b: ArrayBase) => lax.dot(a, b), args: (r, d) => [uniformArray(r, [3, 5], -1, 1, d), uniformArray(r, [5, 2], -1, 1, d)] },
  { prim: "dot_general", label: "batched einsum", fn: (a: ArrayBase, b: ArrayBase) => lax.dotGeneral(a, b, [[[1], [2]], [[0], [0]]]), args: (r, d) => [uniformArray(r, [2, 5, 3], -1, 1, d), uniformArray(r, [2, 4, 5], -1, 1, d)] },
  { prim: "dot_general", label: "int32 dot", fn: (a: ArrayBase, b: ArrayBase) => lax.dot(a, b), args: (r) => [intArray(r, [3, 5], -5, 5), intArray(r, [5, 2], -5, 5)], dtypes: ["int32"] },
  { prim: "conv_general_dilated", fn: (x: ArrayBase, w: ArrayBase) => lax.convGeneralDilated(x, w, [1, 2], [[1, 0], [2, 1]], { rhsDilation: [2, 1] }), args: (r, d) => [uniformArray(r, [2, 3, 7, 6], -1, 1, d), uniformArray(r, [4, 3, 2, 3], -1, 1, d)], dtypes: F32 },
  { prim: "conv_general_dilated", label: "grouped, lhs-dilated NHWC", fn: (x: ArrayBase, w: ArrayBase) => lax.convGeneralDilated(x, w, [1, 1], [[-1, 1], [0, 0]], { lhsDilation: [2, 1], featureGroupCount: 2, dimensionNumbers: ["NHWC", "HWIO", "NHWC"] }), args: (r, d) => [uniformArray(r, [1, 5, 6, 4], -1, 1, d), uniformArray(r, [2, 2, 2, 6], -1, 1, d)], dtypes: F32 },
  // ---- random bits
  { prim: "threefry2x32", fn: (k0: ArrayBase, k1: ArrayBase, x0: ArrayBase, x1: ArrayBase) => random.threefry2x32(k0, k1, x0, x1), args: (r) => [0, 1, 2, 3].map(() => intArray(r, [6], -(2 ** 31), 2 ** 31 - 1)), dtypes: ["int32"] },
  { prim: "bits_to_uniform", fn: (k: ArrayBase) => [random.uniform(k, [4, 3]), random.uniform(k, [5], { dtype: "float64" })], args: () => [random.key(7)], dtypes: ["int32"] },
  { prim: "sort_by_u32_keys", label: "sort_by_u32_keys (random.permutation)", fn: (k: ArrayBase, v: ArrayBase) => [random.permutation(k, 12), random.permutation(k, v)], args: (r) => [random.key(5), intArray(r, [9, 2], -50, 50)], dtypes: ["int32"] },
  { prim: "bits_to_randint", fn: (k: ArrayBase) => random.randint(k, [6], -5, 1000), args: () => [random.key(3)], dtypes: ["int32"] },
];
