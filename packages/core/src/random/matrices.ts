/**
 * Samplers that factor a matrix: multivariateNormal (a factor of the covariance) and
 * orthogonal (the Q of a QR factorization), with JAX's normals and `np.linalg`'s
 * factorizations, so both trace, vmap and differentiate. Cholesky and QR (with R's diagonal
 * made positive) are unique, so those results are JAX's up to rounding. Eigenvectors and
 * singular vectors are defined only up to sign (and, for repeated values, rotation), so the
 * 'eigh' and 'svd' factors — and the samples drawn with them — may differ from JAX's
 * (LAPACK's) by column signs, with the same distribution.
 */
import type { ArrayBase } from "../array.js";
import { type PositionalOr, parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { type ArrayLike, asArray } from "../np/coerce.js";
import { cholesky, eigh, qr, svd } from "../np/linalg_decomp.js";
import { add, max, mul } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { diagonalOf } from "../primitives/linalg.js";
import { reduceSum } from "../primitives/reduce.js";
import { broadcastInDim, broadcastTo, transpose } from "../primitives/structural.js";
import { sign, sqrt } from "../primitives/unary.js";
import { broadcastShapes, shapeStr } from "../shape.js";
import { floatDType, normal } from "./continuous.js";
import { type Key, type ShapeArg, checkKey, checkShape, toShape } from "./keys.js";

/** Each matrix's columns scaled by the square roots of `w` (`[..., k]`, clipped at 0: rounding can leave a PSD covariance's zero eigenvalue slightly negative). */
const scaleColumns = (v: ArrayBase, w: ArrayBase): ArrayBase => {
  const root = sqrt(max(w, scalar(0, w.dtype)));
  return mul(v, broadcastInDim(root, v.shape, [...w.shape.slice(0, -1).map((_, i) => i), v.ndim - 1]));
};

/** Options of `random.multivariateNormal`. */
export interface MultivariateNormalOptions {
  /** Batch shape of the result (`[...shape, n]`); default the broadcast of mean's and cov's batch shapes. */
  shape?: ShapeArg | null;
  /** float32 or float64; default the promoted dtype of mean and cov. */
  dtype?: DType | null;
  /** How to factor cov: 'cholesky' (default), 'eigh' or 'svd' (these two also take singular covariances). */
  method?: "cholesky" | "eigh" | "svd";
}

const mvnSig = signature("random.multivariateNormal", [
  "key:any!",
  "mean:array!",
  "cov:array!",
  "shape:shape?",
  "dtype:dtype",
  { name: "method", kind: "string", choices: ["cholesky", "eigh", "svd"] },
]);

/**
 * `random.multivariateNormal(key, mean, cov, shape?, dtype?, method = 'cholesky')`: samples of
 * N(mean, cov), `mean` of shape `[..., n]` and `cov` of shape `[..., n, n]` (batch axes
 * broadcast). As JAX: `mean + F · z` with `z = normal(key, [...shape, n])` and F a factor of
 * cov (F Fᵀ = cov): its Cholesky factor, or `V · sqrt(w)` from its eigendecomposition.
 * Differentiable in mean, and in cov with the Cholesky method.
 */
export const multivariateNormal = withSignature(
  mvnSig,
  (key: Key, mean: ArrayLike, cov: ArrayLike, ...args: PositionalOr<[shape: ShapeArg | null, dtype: DType | null, method: "cholesky" | "eigh" | "svd"], MultivariateNormalOptions>): ArrayBase => {
    const op = "random.multivariateNormal";
    const o = parseArgs<MultivariateNormalOptions>(mvnSig, [key, mean, cov, ...args]);
    checkKey(op, key);
    let mu = asArray(mean);
    let sigma = asArray(cov);
    const promoted = mu.dtype === "float64" || sigma.dtype === "float64" ? "float64" : "float32";
    const dtype = floatDType(op, o.dtype ?? promoted);
    if (mu.ndim < 1) throw new ShapeError(`mean must have at least one axis, got ${mu.aval}`, { op });
    if (sigma.ndim < 2) throw new ShapeError(`cov must have at least two axes, got ${sigma.aval}`, { op });
    const n = mu.shape[mu.ndim - 1]!;
    if (sigma.shape[sigma.ndim - 1] !== n || sigma.shape[sigma.ndim - 2] !== n) {
      throw new ShapeError(`cov must have shape [..., ${n}, ${n}] to match mean of shape ${shapeStr(mu.shape)}, got ${shapeStr(sigma.shape)}`, { op });
    }
    if (mu.dtype !== promoted) mu = asArray(mu, promoted);
    if (sigma.dtype !== promoted) sigma = asArray(sigma, promoted);
    const meanBatch = mu.shape.slice(0, -1);
    const covBatch = sigma.shape.slice(0, -2);
    let shape: number[];
    if (o.shape === undefined || o.shape === null) {
      const b = broadcastShapes(meanBatch, covBatch);
      if (!b) throw new ShapeError(`the batch shapes of mean ${shapeStr(meanBatch)} and cov ${shapeStr(covBatch)} do not broadcast`, { op });
      shape = b;
    } else {
      shape = toShape(op, o.shape);
      checkShape(op, shape, meanBatch, covBatch);
    }
    const method = o.method ?? "cholesky";
    let factor: ArrayBase;
    if (method === "cholesky") factor = cholesky(sigma);
    else if (method === "eigh") {
      const [w, v] = eigh(sigma);
      factor = scaleColumns(v, w);
    } else {
      const [u, sv] = svd(sigma);
      factor = scaleColumns(u, sv);
    }
    const z = normal(key, [...shape, n], { dtype });
    // mean + einsum('...ij,...j->...i', factor, z), with the factor's batch broadcast to the samples'.
    const f = broadcastTo(asArray(factor, dtype), [...shape, n, n]);
    const fz = reduceSum(mul(f, broadcastInDim(z, [...shape, n, n], [...shape.map((_, i) => i), shape.length + 1])), [shape.length + 1]);
    return add(asArray(mu, dtype), fz);
  },
);

/** Options of `random.orthogonal`. */
export interface OrthogonalOptions {
  /** Batch shape: the result has shape `[...shape, n, m]`. Default `[]`. */
  shape?: ShapeArg;
  /** float32 (default) or float64. */
  dtype?: DType | null;
  /** Number of columns (default n): a semi-orthogonal matrix when m differs from n. */
  m?: number | null;
}

const orthogonalSig = signature("random.orthogonal", ["key:any!", "n:count!", "shape:shape", "dtype:dtype", "m:count?"]);

/**
 * `random.orthogonal(key, n, shape?, dtype?, m?)`: matrices uniform (Haar) on the orthogonal
 * group O(n), of shape `[...shape, n, m]` (m defaults to n; otherwise the rows (n <= m) or
 * columns (m <= n) are orthonormal). As JAX (Mezzadri 2007): the Q of the QR factorization
 * of a normal matrix `[..., max(n, m), min(n, m)]` with R's diagonal made positive,
 * transposed when n < m.
 */
export const orthogonal = withSignature(
  orthogonalSig,
  (key: Key, n: number, ...args: PositionalOr<[shape: ShapeArg, dtype: DType | null, m: number | null], OrthogonalOptions>): ArrayBase => {
    const op = "random.orthogonal";
    const o = parseArgs<OrthogonalOptions>(orthogonalSig, [key, n, ...args]);
    checkKey(op, key);
    const dtype = floatDType(op, o.dtype ?? undefined);
    const m = o.m ?? n;
    const shape = toShape(op, o.shape ?? []);
    const z = normal(key, [...shape, Math.max(n, m), Math.min(n, m)], { dtype });
    const [q0, r] = qr(z) as [ArrayBase, ArrayBase];
    // Columns times the signs of R's diagonal: the unique Q whose R has a positive diagonal.
    const d = diagonalOf(r);
    const q = mul(q0, broadcastInDim(sign(d), q0.shape, [...d.shape.slice(0, -1).map((_, i) => i), q0.ndim - 1]));
    if (n >= m) return q;
    const rank = q.ndim;
    return transpose(q, [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2]);
  },
);

