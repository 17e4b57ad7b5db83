/**
 * `np` functions of matrices and vectors built from the structural primitives (so every
 * transform handles them): `diag`, `diagonal`, `triu`, `tril`, `kron`, `cross`.
 */
import { type ArrayBase, fromBuffer } from "../array.js";
import type { PositionalOr } from "../api/arg_types.js";
import { parseArgs, signature, withSignature } from "../api/args.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { normalizeAxis, scalar } from "../primitives/common.js";
import { select } from "../primitives/compare.js";
import { gather } from "../primitives/indexing.js";
import { expandDims, pad, slice } from "../primitives/shape.js";
import { broadcastTo, moveAxis, reshape, transpose } from "../primitives/structural.js";
import { shapeStr } from "../shape.js";
import { type ArrayLike, asArray, promoteArgs } from "./coerce.js";
import { multiply, subtract } from "./elementwise.js";
import { stack } from "./shape.js";

/** A concrete bool mask of shape [n, m], true where `keep(i, j)`. */
const mask = (n: number, m: number, keep: (i: number, j: number) => boolean): ArrayBase => {
  const buf = new Uint8Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) buf[i * m + j] = keep(i, j) ? 1 : 0;
  return fromBuffer(buf, [n, m], "bool");
};

/** `x` where `keep` holds on its last two axes, zero (false for bools) elsewhere. */
const masked = (x: ArrayBase, keep: (i: number, j: number) => boolean): ArrayBase => {
  const [n, m] = x.shape.slice(-2) as [number, number];
  return select(mask(n, m, keep), x, scalar(0, x.dtype));
};

/** Options of `np.diagonal`. */
export interface DiagonalOptions {
  /** Which diagonal: 0 the main one, > 0 above it, < 0 below it. */
  offset?: number;
  /** The first axis of the 2-D planes the diagonals are taken from (default 0). */
  axis1?: number;
  /** The second axis (default 1). */
  axis2?: number;
}
/** `np.diagonal(x, offset, axis1, axis2)` and its options form. */
export type DiagonalArgs = PositionalOr<[offset: number, axis1: number, axis2: number], DiagonalOptions>;

const diagonalSig = signature("np.diagonal", ["x:array!", "offset:int", "axis1:requiredAxis", "axis2:requiredAxis"]);

const diagonalOf = (op: string, a: ArrayBase, offset: number, axis1: number, axis2: number): ArrayBase => {
  if (a.ndim < 2) throw new ValueError(`needs an array of at least 2 dimensions, got shape ${shapeStr(a.shape)}`, { op });
  const i1 = normalizeAxis(op, axis1, a.ndim, "axis1");
  const i2 = normalizeAxis(op, axis2, a.ndim, "axis2");
  if (i1 === i2) throw new ValueError(`axis1 and axis2 cannot be the same (both are axis ${i1})`, { op });
  // The two axes go last (axis1 then axis2) and merge into one; the diagonal is a gather along it.
  const rest = a.shape.map((_, k) => k).filter((k) => k !== i1 && k !== i2);
  const perm = [...rest, i1, i2];
  const n = a.shape[i1]!;
  const m = a.shape[i2]!;
  const len = Math.max(0, offset >= 0 ? Math.min(n, m - offset) : Math.min(n + offset, m));
  const flat = reshape(transpose(a, perm), [...rest.map((k) => a.shape[k]!), n * m]);
  const idx = new Int32Array(len);
  for (let i = 0; i < len; i++) idx[i] = offset >= 0 ? i * m + i + offset : (i - offset) * m + i;
  return gather(flat, fromBuffer(idx, [len], "int32"), { axis: rest.length, batch_dims: 0 });
};

/**
 * The diagonal of the planes spanned by `axis1` and `axis2`: those axes are removed and the
 * diagonal becomes the last axis (NumPy's and JAX's layout). `offset` picks a diagonal above
 * (> 0) or below (< 0) the main one; one past the edge gives an empty last axis.
 */
export const diagonal = withSignature(diagonalSig, (x: ArrayLike, ...args: DiagonalArgs): ArrayBase => {
  const o = parseArgs<{ x: ArrayLike; offset?: number; axis1?: number; axis2?: number }>(diagonalSig, [x, ...args]);
  return diagonalOf("np.diagonal", asArray(o.x), o.offset ?? 0, o.axis1 ?? 0, o.axis2 ?? 1);
});

/** `np.diag(v, k)`, `np.triu(x, k)` and `np.tril(x, k)` and their options form. */
export type DiagonalIndexArgs = PositionalOr<[k: number], { k?: number }>;

const diagSig = signature("np.diag", ["v:array!", "k:int"]);
/**
 * For a vector `v`: the square matrix with `v` on diagonal `k` (size `len(v) + |k|`), zero
 * elsewhere. For a matrix: its diagonal `k` (as {@link diagonal}). Other ranks are a ValueError.
 */
export const diag = withSignature(diagSig, (v: ArrayLike, ...args: DiagonalIndexArgs): ArrayBase => {
  const op = "np.diag";
  const o = parseArgs<{ v: ArrayLike; k?: number }>(diagSig, [v, ...args]);
  const a = asArray(o.v);
  const k = o.k ?? 0;
  if (a.ndim === 2) return diagonalOf(op, a, k, 0, 1);
  if (a.ndim !== 1) throw new ValueError(`needs a 1-D or 2-D array, got shape ${shapeStr(a.shape)}`, { op, hint: "use np.diagonal for higher ranks" });
  const n = a.shape[0]! + Math.abs(k);
  // v padded to length n sits in column form (k >= 0: row i holds v[i]) or row form (k < 0: column j holds v[j]).
  const padded = pad(a, scalar(0, a.dtype), [[0, Math.abs(k), 0]]);
  const spread = k >= 0 ? broadcastTo(reshape(padded, [n, 1]), [n, n]) : broadcastTo(reshape(padded, [1, n]), [n, n]);
  return masked(spread, (i, j) => j - i === k);
});

const triSig = (name: string) => signature(name, ["x:array!", "k:int"]);
const triangle = (name: string, keep: (i: number, j: number, k: number) => boolean) => {
  const sig = triSig(name);
  return withSignature(sig, (x: ArrayLike, ...args: DiagonalIndexArgs): ArrayBase => {
    const o = parseArgs<{ x: ArrayLike; k?: number }>(sig, [x, ...args]);
    const a = asArray(o.x);
    if (a.ndim < 2) throw new ValueError(`needs an array of at least 2 dimensions, got shape ${shapeStr(a.shape)}`, { op: name, hint: "for a vector, build the matrix first, e.g. np.diag(v) or np.outer" });
    const k = o.k ?? 0;
    return masked(a, (i, j) => keep(i, j, k));
  });
};

/** The upper triangle of the last two axes: elements with `j - i >= k` kept, the rest zero. */
export const triu = triangle("np.triu", (i, j, k) => j - i >= k);
/** The lower triangle of the last two axes: elements with `j - i <= k` kept, the rest zero. */
export const tril = triangle("np.tril", (i, j, k) => j - i <= k);

/**
 * The Kronecker product: the block array whose block `(i, j, ...)` is `x[i, j, ...] * y`. The
 * lower-rank operand gets leading axes of size 1 first; the result's shape is the product of
 * the shapes. Dtypes promote as in `np.multiply`.
 */
const kronSig = signature("np.kron", ["x:array!", "y:array!"]);
export const kron = withSignature(kronSig, (x: ArrayLike, y: ArrayLike, ...rest: []): ArrayBase => {
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(kronSig, [x, y, ...rest]);
    y = o.y;
  }
  let [a, b] = promoteArgs(x, y) as [ArrayBase, ArrayBase];
  const nd = Math.max(a.ndim, b.ndim);
  a = reshape(a, [...Array<number>(nd - a.ndim).fill(1), ...a.shape]);
  b = reshape(b, [...Array<number>(nd - b.ndim).fill(1), ...b.shape]);
  // a's axes at even positions, b's at odd ones: the product interleaves them, then merges pairs.
  const ae = expandDims(a, Array.from({ length: nd }, (_, i) => 2 * i + 1));
  const be = expandDims(b, Array.from({ length: nd }, (_, i) => 2 * i));
  return reshape(multiply(ae, be), a.shape.map((d, i) => d * b.shape[i]!));
});

/** Options of `np.cross`. */
export interface CrossOptions {
  /** The axis of `x` holding the vectors (default -1). */
  axisa?: number;
  /** The axis of `y` holding the vectors (default -1). */
  axisb?: number;
  /** The axis of the result holding the vectors (default -1). */
  axisc?: number;
  /** If given, overrides axisa, axisb and axisc. */
  axis?: number | null;
}
/** `np.cross(x, y, axisa, axisb, axisc, axis)` and its options form. */
export type CrossArgs = PositionalOr<[axisa: number, axisb: number, axisc: number, axis: number | null], CrossOptions>;

const crossSig = signature("np.cross", ["x:array!", "y:array!", "axisa:requiredAxis", "axisb:requiredAxis", "axisc:requiredAxis", "axis:axis"]);

/**
 * The cross product of vectors of length 3 (or 2, read as z = 0) along `axisa` of `x` and
 * `axisb` of `y`; the other axes broadcast. Two 2-vectors give the z component alone (no
 * vector axis); otherwise the 3-vector result lies along `axisc`.
 */
export const cross = withSignature(crossSig, (x: ArrayLike, y: ArrayLike, ...args: CrossArgs): ArrayBase => {
  const op = "np.cross";
  const o = parseArgs<{ x: ArrayLike; y: ArrayLike; axisa?: number; axisb?: number; axisc?: number; axis?: number | null }>(crossSig, [x, y, ...args]);
  let [a, b] = promoteArgs(o.x, o.y) as [ArrayBase, ArrayBase];
  if (a.dtype === "bool") throw new DTypeError("does not accept bool inputs", { op, hint: "convert first, e.g. np.astype(x, 'int32')" });
  if (a.ndim === 0 || b.ndim === 0) throw new ValueError(`needs vectors, got shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`, { op });
  const given = o.axis !== undefined && o.axis !== null;
  const axisa = given ? o.axis! : o.axisa ?? -1;
  const axisb = given ? o.axis! : o.axisb ?? -1;
  const axisc = given ? o.axis! : o.axisc ?? -1;
  a = moveAxis(a, normalizeAxis(op, axisa, a.ndim, "axisa"), a.ndim - 1);
  b = moveAxis(b, normalizeAxis(op, axisb, b.ndim, "axisb"), b.ndim - 1);
  const [na, nb] = [a.shape[a.ndim - 1]!, b.shape[b.ndim - 1]!];
  if (![2, 3].includes(na) || ![2, 3].includes(nb)) {
    throw new ShapeError(`the vectors must have 2 or 3 components, got ${na} (x of shape ${shapeStr(a.shape)}) and ${nb} (y of shape ${shapeStr(b.shape)}) along the vector axes`, { op });
  }
  const part = (t: ArrayBase, i: number, n: number): ArrayBase | null => {
    if (i >= n) return null;
    const start = t.shape.map((_, k) => (k === t.ndim - 1 ? i : 0));
    const limit = t.shape.map((d, k) => (k === t.ndim - 1 ? i + 1 : d));
    return reshape(slice(t, start, limit), t.shape.slice(0, -1));
  };
  const [a0, a1, a2] = [0, 1, 2].map((i) => part(a, i, na));
  const [b0, b1, b2] = [0, 1, 2].map((i) => part(b, i, nb));
  // a × b with a missing third component read as zero.
  const term = (p: ArrayBase | null, q: ArrayBase | null, r: ArrayBase | null, s: ArrayBase | null): ArrayBase => {
    const left = p && q ? multiply(p, q) : null;
    const right = r && s ? multiply(r, s) : null;
    if (left && right) return subtract(left, right);
    if (left) return left;
    return multiply(right!, -1);
  };
  const z = term(a0, b1, a1, b0);
  if (na === 2 && nb === 2) return z;
  // Every term multiplies a part of x by a part of y, so all three have the broadcast shape.
  const c = stack([term(a1, b2, a2, b1), term(a2, b0, a0, b2), z], -1);
  return moveAxis(c, c.ndim - 1, normalizeAxis(op, axisc, c.ndim, "axisc"));
});
