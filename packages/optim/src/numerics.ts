/**
 * Array math shared by the transforms (Optax's `numerics` and `tree_utils`): step counts,
 * moment updates, bias correction, norms. Everything here is array math on traced-safe
 * values: no `.item()` and no JS branching on array values, so `update` functions built
 * from it trace, vmap and differentiate.
 */
import { ArrayBase, type DType, np, tree } from "@cotangent/core";
import type { PyTree, Scalar } from "./base.js";

const INT32_MAX = 2147483647;

/** The shape and dtype of a leaf; a JS number counts as a float32 scalar. */
const avalOf = (x: ArrayBase | number): { shape: number[]; dtype: DType } =>
  typeof x === "number" ? { shape: [], dtype: "float32" } : { shape: x.shape, dtype: x.dtype };

/**
 * A hyperparameter as a value of `x`'s dtype: JS numbers stay weakly typed numbers (which
 * adopt `x`'s dtype in np functions), arrays are cast. This is what keeps float32 updates
 * float32 when a hyperparameter is a float64 array (as injectHyperparams stores them).
 */
export const like = (h: Scalar, x: ArrayBase): Scalar =>
  typeof h === "number" || h.dtype === x.dtype ? h : np.astype(h, x.dtype);

/** `x` as `dtype` (no op when it already is). */
export const cast = (x: ArrayBase, dtype: DType): ArrayBase => (x.dtype === dtype ? x : np.astype(x, dtype));

/** `1 - h`, kept a JS number when `h` is one. */
export const oneMinus = (h: Scalar): Scalar => (typeof h === "number" ? 1 - h : np.subtract(1, h));

/** `-h`, kept a JS number when `h` is one. */
export const negate = (h: Scalar): Scalar => (typeof h === "number" ? -h : np.negative(h));

/** A new step count: an int32 zero. */
export const zeroCount = (): ArrayBase => np.zeros([], { dtype: "int32" });

/** `count + 1`, saturating at the int32 maximum instead of wrapping (Optax's safe_increment). */
export const increment = (count: ArrayBase): ArrayBase => np.add(np.minimum(count, INT32_MAX - 1), 1);

/** Zeros shaped like every leaf of `t`. */
export const treeZerosLike = (t: PyTree): PyTree => tree.map((x) => np.zerosLike(avalOf(x)), t);

/** `value` shaped like every leaf of `t` (arrays are cast and broadcast). */
export const treeFullLike = (t: PyTree, value: Scalar): PyTree =>
  tree.map((x) => {
    const a = avalOf(x);
    return typeof value === "number" ? np.fullLike(a, value) : np.broadcastTo(np.astype(value, a.dtype), a.shape);
  }, t);

/** `(1 - decay) * g^order + decay * m`, leaf by leaf: an exponential moving average of `g^order`. */
export const updateMoment = (g: PyTree, m: PyTree, decay: Scalar, order: 1 | 2): PyTree =>
  tree.map(
    (gi: ArrayBase, mi: ArrayBase) =>
      np.add(np.multiply(like(oneMinus(decay), gi), order === 1 ? gi : np.square(gi)), np.multiply(like(decay, gi), mi)),
    g,
    m,
  );

/** `max(decay * m, |g| + eps)`, leaf by leaf: the infinity-norm moment of Adamax. */
export const updateInfinityMoment = (g: PyTree, m: PyTree, decay: Scalar, eps: Scalar): PyTree =>
  tree.map(
    (gi: ArrayBase, mi: ArrayBase) => np.maximum(np.multiply(like(decay, gi), mi), np.add(np.abs(gi), like(eps, gi))),
    g,
    m,
  );

/** A hyperparameter as a float64 scalar array, for scalar math on the step count. */
export const f64 = (h: Scalar): ArrayBase => (typeof h === "number" ? np.array(h, { dtype: "float64" }) : cast(h, "float64"));

/**
 * `1 - decay^count` as a float64 scalar. Step-count math is done once, in float64, and cast
 * to each leaf's dtype only at the end: in float32, `1 - 0.999^t` loses about five digits.
 */
export const correction = (decay: Scalar, count: ArrayBase): ArrayBase => np.subtract(1, np.power(f64(decay), cast(count, "float64")));

/** `m / (1 - decay^count)`, leaf by leaf: undoes the zero initialisation of a moving average. */
export const biasCorrection = (m: PyTree, decay: Scalar, count: ArrayBase): PyTree => {
  const c = correction(decay, count);
  return tree.map((mi: ArrayBase) => np.divide(mi, cast(c, mi.dtype)), m);
};

/** Sum of `np.sum(x^2)` over the leaves of `t`, in the widest float dtype among them. */
export const sumOfSquares = (t: PyTree): ArrayBase =>
  tree.leaves<ArrayBase>(t).reduce<ArrayBase>((acc, x) => np.add(acc, np.sum(np.square(x))), np.zeros([], { dtype: "float32" }));

/** The L2 norm of all leaves of `t` taken together (what clipByGlobalNorm clips). */
export const globalNorm = (t: PyTree): ArrayBase => np.sqrt(sumOfSquares(t));

/**
 * `max(||x||, minNorm)` with a gradient that stays finite at x = 0 (Optax's safe_norm): the
 * square root only ever sees inputs above `minNorm^2`, or a harmless 1.
 */
export const safeNorm = (x: ArrayBase, minNorm: Scalar, options: { axis?: number; keepdims?: boolean } = {}): ArrayBase => {
  const sq = np.sum(np.square(x), options);
  const m = like(minNorm, x);
  const big = np.greater(sq, np.square(m));
  const norm = np.sqrt(np.where(big, sq, 1));
  return np.where(big, norm, m);
};

/** True (a bool scalar array) when every element of every leaf is finite. */
export const allFinite = (t: PyTree): ArrayBase =>
  tree.leaves<ArrayBase>(t).reduce<ArrayBase>((acc, x) => np.logicalAnd(acc, np.all(np.isfinite(x))), np.array(true));

/** `np.where(cond, a, b)` leaf by leaf over two trees of the same structure. */
export const treeSelect = (cond: ArrayBase, a: PyTree, b: PyTree): PyTree =>
  tree.map((x: ArrayBase | number, y: ArrayBase | number) => np.where(cond, x, y), a, b);
