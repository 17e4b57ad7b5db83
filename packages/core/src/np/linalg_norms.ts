/**
 * `np.linalg` functions that are compositions of existing ops (so every transform already
 * has their rules): `norm`, `multiDot`, `matrixPower`, and `np.trace`; the spectral and
 * nuclear norms and negative matrix powers use the factorizations of `linalg_decomp.ts`.
 * The `np.linalg` namespace object (both modules' functions) is defined here.
 */
import type { ArrayBase } from "../array.js";
import type { Axes, PositionalOr } from "../api/arg_types.js";
import { arrayFn, parseArgs, signature, withSignature } from "../api/args.js";
import { AxisError, ShapeError, ValueError } from "../errors.js";
import { normalizeAxis } from "../primitives/common.js";
import { type ArrayLike, asArray } from "./coerce.js";
import { eye } from "./creation.js";
import { astype, divide, multiply, notEqual, power } from "./elementwise.js";
import { matmul } from "./linalg.js";
import * as decomp from "./linalg_decomp.js";
import { abs, sqrt } from "./math.js";
import { max, min, sum } from "./reductions.js";
import { broadcastTo, moveaxis, reshape } from "./shape.js";

/** The identity matrix broadcast to the shape (and dtype) of a stack of square matrices. */
const eyeLike = (a: ArrayBase): ArrayBase => broadcastTo(eye(a.shape[a.ndim - 1]!, { dtype: a.dtype }), a.shape);

/** The `ord` of a norm: a number (incl. ±Infinity), `"fro"`, `"nuc"`, or null for the default. */
export type NormOrd = number | "fro" | "nuc" | null;

/** Options of `np.linalg.norm`. */
export interface NormOptions {
  /** The order (see {@link norm}); null or absent for the 2-norm / Frobenius norm. */
  ord?: NormOrd;
  /** One axis (vector norms), two axes (matrix norms), or null/absent (see {@link norm}). */
  axis?: Axes;
  /** Keep the reduced axes as size 1. */
  keepdims?: boolean;
}

/** `np.linalg.norm(x, ord, axis, keepdims)` and its options form. */
export type NormArgs = PositionalOr<[ord: NormOrd, axis: Axes, keepdims: boolean], NormOptions>;

const normSig = signature("np.linalg.norm", ["x:array!", "ord:normOrd?", "axis:axes", "keepdims:bool"]);

const float = (x: ArrayBase): ArrayBase => (x.dtype === "float32" || x.dtype === "float64" ? x : astype(x, "float32"));
const squared = (x: ArrayBase): ArrayBase => { const f = float(x); return multiply(f, f); };

const vectorNorm = (x: ArrayBase, ord: number | null, axis: number, keepdims: boolean): ArrayBase => {
  const o = { axis, keepdims };
  if (ord === null || ord === 2) return sqrt(sum(squared(x), o));
  if (ord === Infinity) return max(abs(x), o);
  if (ord === -Infinity) return min(abs(x), o);
  if (ord === 0) return sum(astype(notEqual(x, 0), x.dtype === "float64" ? "float64" : "float32"), o);
  if (Number.isNaN(ord)) throw new ValueError("ord is NaN", { op: "np.linalg.norm" });
  if (ord === 1) return sum(abs(x), o);
  return power(sum(power(abs(x), ord), o), 1 / ord);
};

const matrixNorm = (x: ArrayBase, ord: NormOrd, rows: number, cols: number, keepdims: boolean): ArrayBase => {
  const op = "np.linalg.norm";
  if (ord === null || ord === "fro") return sqrt(sum(squared(x), { axis: [rows, cols], keepdims }));
  if (ord === "nuc" || ord === 2 || ord === -2) {
    // The spectral norms from the singular values of the [rows, cols] matrices moved last.
    const sv = decomp.svd(moveaxis(float(x), [rows, cols], [-2, -1]), { computeUv: false });
    const r = ord === "nuc" ? sum(sv, -1) : ord === 2 ? max(sv, -1) : min(sv, -1);
    if (!keepdims) return r;
    return reshape(r, x.shape.map((d, i) => (i === rows || i === cols ? 1 : d)));
  }
  // ord 1 / -1: the largest / smallest absolute column sum; ±Infinity: the same over rows.
  const [summed, over] = ord === 1 || ord === -1 ? [rows, cols] : ord === Infinity || ord === -Infinity ? [cols, rows] : [-1, -1];
  if (summed < 0) throw new ValueError(`ord ${String(ord)} is not a matrix norm order`, { op, hint: "matrix orders are 'fro', 'nuc', 1, -1, 2, -2, Infinity, -Infinity" });
  const s = sum(abs(x), { axis: summed, keepdims: true });
  const pick = ord === 1 || ord === Infinity ? max : min;
  const r = pick(s, { axis: over, keepdims: true });
  return keepdims ? r : reshape(r, x.shape.filter((_, i) => i !== rows && i !== cols));
};

/**
 * A vector or matrix norm, as `jnp.linalg.norm`. With `axis` one axis, a vector norm along
 * it (`ord`: 2 by default, 1, any p, Infinity, -Infinity, 0 for the count of non-zeros);
 * with two axes, a matrix norm over them (`ord`: 'fro' by default, 1, -1, Infinity,
 * -Infinity); with no axis, the vector norm of a 1-D array, the matrix norm of a 2-D one,
 * or (ord absent) the 2-norm of all elements of any array.
 *
 * ```ts
 * np.linalg.norm([3, 4]);                 // 5
 * np.linalg.norm(m, "fro");               // Frobenius norm
 * np.linalg.norm(x, { ord: 1, axis: 1 }); // row-wise L1 norms
 * ```
 */
export const norm = withSignature(normSig, (x: ArrayLike, ...args: NormArgs): ArrayBase => {
  const op = "np.linalg.norm";
  const o = parseArgs<{ x: ArrayLike; ord?: NormOrd; axis?: Axes; keepdims?: boolean }>(normSig, [x, ...args]);
  const a = asArray(x);
  const ord = o.ord ?? null;
  const keepdims = o.keepdims ?? false;
  let axes: number[];
  if (o.axis === undefined || o.axis === null) {
    if (ord === null) {
      const r = sqrt(sum(squared(a)));
      return keepdims ? reshape(r, a.shape.map(() => 1)) : r;
    }
    if (a.ndim !== 1 && a.ndim !== 2) {
      throw new ShapeError(`with ord=${JSON.stringify(ord)} and no axis, x must be 1-D or 2-D, got shape [${a.shape.join(", ")}]`, { op, hint: "give axis (one axis for a vector norm, two for a matrix norm)" });
    }
    axes = a.shape.map((_, i) => i);
  } else {
    axes = (typeof o.axis === "number" ? [o.axis] : [...o.axis]).map((ax) => normalizeAxis(op, ax, a.ndim));
  }
  if (axes.length === 1) {
    if (typeof ord === "string") throw new ValueError(`ord '${ord}' is a matrix norm: it needs two axes, got one`, { op });
    return vectorNorm(a, ord, axes[0]!, keepdims);
  }
  if (axes.length === 2) {
    if (axes[0] === axes[1]) throw new AxisError(`the two axes of a matrix norm must differ, got ${axes[0]} twice`, { op });
    return matrixNorm(a, ord, axes[0]!, axes[1]!, keepdims);
  }
  throw new AxisError(`axis must be one axis (a vector norm) or two (a matrix norm), got ${axes.length}`, { op });
});

/** The product of a chain of matrices, `multiDot([a, b, c])` = `a @ b @ c` (first and last may be vectors). */
export const multiDot = arrayFn("np.linalg.multiDot", ["arrays:any!"], (arrays: readonly ArrayLike[]): ArrayBase => {
  const op = "np.linalg.multiDot";
  if (!Array.isArray(arrays) || arrays.length < 2) {
    throw new ValueError(`needs a list of at least two arrays, got ${Array.isArray(arrays) ? `a list of ${arrays.length}` : typeof arrays}`, { op });
  }
  const xs = arrays.map((v) => asArray(v));
  xs.forEach((v, i) => {
    const vectorOk = (i === 0 || i === xs.length - 1) && v.ndim === 1;
    if (v.ndim !== 2 && !vectorOk) throw new ShapeError(`array ${i} must be 2-D (the first and last may be 1-D), got shape [${v.shape.join(", ")}]`, { op });
  });
  // Left to right; the optimal association (NumPy's chain order) would only change the cost.
  return xs.reduce((acc, v) => matmul(acc, v));
});

/** `x` to the integer power `n` by repeated squaring: `matrixPower(a, 0)` is the identity, a negative `n` powers the inverse. */
const matrixPowerSig = signature("np.linalg.matrixPower", ["x:array!", "n:int!"]);
export const matrixPower = withSignature(matrixPowerSig, (x: ArrayLike, ...args: [n: number] | [{ n: number }]): ArrayBase => {
  const op = "np.linalg.matrixPower";
  let { n } = parseArgs<{ n: number }>(matrixPowerSig, [x, ...args]);
  const a = asArray(x);
  if (a.ndim < 2 || a.shape[a.ndim - 1] !== a.shape[a.ndim - 2]) {
    throw new ShapeError(`needs square matrices in its last two axes, got shape [${a.shape.join(", ")}]`, { op });
  }
  if (!Number.isSafeInteger(n)) throw new ValueError(`n must be an integer, got ${String(n)}`, { op });
  let result: ArrayBase | null = null;
  let base = n < 0 ? decomp.inv(a) : a;
  n = Math.abs(n);
  for (let k = n; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) result = result === null ? base : matmul(result, base);
    if (k > 1) base = matmul(base, base);
  }
  return result ?? eyeLike(a);
});

const traceSig = signature("np.trace", ["x:array!", "offset:int", "axis1:int", "axis2:int"]);

/** The sum along a diagonal, as `jnp.trace(a, offset, axis1, axis2)`. */
export const trace = withSignature(traceSig, (x: ArrayLike, ...args: PositionalOr<[offset: number, axis1: number, axis2: number], { offset?: number; axis1?: number; axis2?: number }>): ArrayBase => {
  const o = parseArgs<{ x: ArrayLike; offset?: number; axis1?: number; axis2?: number }>(traceSig, [x, ...args]);
  const a = asArray(x);
  if (a.ndim < 2) throw new ShapeError(`needs an array of at least 2 dimensions, got shape [${a.shape.join(", ")}]`, { op: "np.trace" });
  const [i, j] = [normalizeAxis("np.trace", o.axis1 ?? 0, a.ndim), normalizeAxis("np.trace", o.axis2 ?? 1, a.ndim)];
  if (i === j) throw new AxisError(`axis1 and axis2 must differ, got ${i} twice`, { op: "np.trace" });
  // The diagonal is picked by a mask, so the gradient flows to exactly the diagonal entries.
  const m = moveaxis(a, [i, j], [-2, -1]);
  const [n, k] = [m.shape[m.ndim - 2]!, m.shape[m.ndim - 1]!];
  const mask = eye(n, k, o.offset ?? 0, { dtype: a.dtype === "bool" ? "int32" : a.dtype });
  return sum(multiply(a.dtype === "bool" ? astype(m, "int32") : m, mask), [-2, -1]);
});

const condSig = signature("np.linalg.cond", ["x:array!", "p:normOrd?"]);

/**
 * The condition number of each square matrix (any shape for p = null, 2, -2): with `p` null
 * (default) or 2, s_max / s_min from the singular values (-2: s_min / s_max); with 'fro',
 * 'nuc', 1, -1, Infinity or -Infinity, `norm(x, p) * norm(inv(x), p)`. A singular matrix gives
 * Infinity (or a huge number from round-off), as in NumPy.
 */
export const cond = withSignature(condSig, (x: ArrayLike, ...args: [p?: NormOrd | { p?: NormOrd }]): ArrayBase => {
  const o = parseArgs<{ x: ArrayLike; p?: NormOrd }>(condSig, [x, ...args]);
  const a = float(asArray(x));
  const p = o.p ?? null;
  if (a.ndim < 2) throw new ShapeError(`needs a stack of matrices [..., m, n], got shape [${a.shape.join(", ")}]`, { op: condSig.name });
  if (p === null || p === 2 || p === -2) {
    const s = decomp.svdvals(a);
    const [hi, lo] = [max(s, -1), min(s, -1)];
    return p === -2 ? divide(lo, hi) : divide(hi, lo);
  }
  const axis = [a.ndim - 2, a.ndim - 1];
  return multiply(norm(a, p, axis), norm(decomp.inv(a), p, axis));
});

/** The `np.linalg` namespace. */
export const linalg = { norm, multiDot, matrixPower, trace, cond, ...decomp };
