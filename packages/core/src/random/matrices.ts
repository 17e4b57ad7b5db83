/**
 * Samplers that factor a matrix: multivariateNormal (a factor of the covariance) and
 * orthogonal (the Q of a QR factorization). They draw JAX's normals; the factorizations are
 * private compositions written here by hand, because Cotangent's `np.linalg` had no
 * cholesky / qr / eigh when they were written:
 *
 * - Cholesky, column by column from primitives (traceable, differentiable, vmappable);
 *   like LAPACK's it gives NaN for a matrix that is not positive definite.
 * - QR by classical Gram–Schmidt applied twice per column (CGS2, orthogonal to working
 *   precision like Householder QR). Its R has a positive diagonal, which is exactly the
 *   normalization JAX applies (`q · sign(diag r)`), so the result is JAX's matrix up to
 *   rounding.
 * - The 'eigh' and 'svd' factors of a covariance come from a cyclic Jacobi eigensolver in
 *   float64 JS on concrete covariances only. Eigenvectors are defined up to sign (and order
 *   within repeated eigenvalues), so these factors — and so the samples — may differ from
 *   JAX's (LAPACK's) by column signs, while having the same distribution.
 */
import { type ArrayBase, NDArray } from "../array.js";
import { type PositionalOr, parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { ShapeError, ValueError } from "../errors.js";
import { type ArrayLike, asArray } from "../np/coerce.js";
import { add, div, mul, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { lt, select } from "../primitives/compare.js";
import { dotGeneral } from "../primitives/dot.js";
import { reduceSum } from "../primitives/reduce.js";
import { concatenate, iota, slice, squeeze } from "../primitives/shape.js";
import { broadcastInDim, broadcastTo, full, reshape, transpose } from "../primitives/structural.js";
import { sqrt } from "../primitives/unary.js";
import { isTracer } from "../trace.js";
import { vmap } from "../transforms/vmap.js";
import { broadcastShapes, shapeStr, sizeOf } from "../shape.js";
import { floatDType, normal } from "./continuous.js";
import { type Key, type ShapeArg, checkKey, checkShape, toShape } from "./keys.js";

/** Column `j` of a matrix `[m, n]` as a vector `[m]`. */
const column = (a: ArrayBase, j: number): ArrayBase => squeeze(slice(a, [0, j], [a.shape[0]!, j + 1]), [1]);
/** Matrix-vector product `[m, k] · [k] -> [m]`. */
const matvec = (a: ArrayBase, v: ArrayBase): ArrayBase => dotGeneral(a, v, [[[1], [0]], [[], []]], null);
/** `aᵀ · v`: `[m, k]ᵀ · [m] -> [k]`. */
const matTvec = (a: ArrayBase, v: ArrayBase): ArrayBase => dotGeneral(a, v, [[[0], [0]], [[], []]], null);
const asColumn = (v: ArrayBase): ArrayBase => reshape(v, [v.shape[0]!, 1]);

/** The lower Cholesky factor of one symmetric positive definite `[n, n]` matrix, from primitives. */
const choleskyOne = (a: ArrayBase): ArrayBase => {
  const n = a.shape[0]!;
  const cols: ArrayBase[] = [];
  for (let j = 0; j < n; j++) {
    let s = column(a, j);
    if (j > 0) {
      const l = concatenate(cols, 1); // [n, j]
      const rowJ = squeeze(slice(l, [j, 0], [j + 1, j]), [0]); // L[j, :j]
      s = sub(s, matvec(l, rowJ));
    }
    const pivot = sqrt(squeeze(slice(s, [j], [j + 1]), [0]));
    // Rows above the diagonal are zero; the diagonal entry is s[j] / sqrt(s[j]) = sqrt(s[j]).
    const below = lt(iota("int32", n), scalar(j, "int32"));
    cols.push(asColumn(select(below, full([n], 0, a.dtype), div(s, pivot))));
  }
  return concatenate(cols, 1);
};

/** The Q (`[m, k]`, k <= m) of the reduced QR of one `[m, k]` matrix with R's diagonal positive, by CGS2. */
const orthonormalColumns = (z: ArrayBase): ArrayBase => {
  const [m, k] = z.shape as [number, number];
  const cols: ArrayBase[] = [];
  for (let j = 0; j < k; j++) {
    let v = column(z, j);
    if (j > 0) {
      const q = concatenate(cols, 1);
      // Twice: the second pass removes what rounding left of the first (Kahan–Parlett "twice is enough").
      v = sub(v, matvec(q, matTvec(q, v)));
      v = sub(v, matvec(q, matTvec(q, v)));
    }
    cols.push(asColumn(div(v, sqrt(reduceSum(mul(v, v), [0])))));
  }
  return cols.length ? concatenate(cols, 1) : full([m, 0], 0, z.dtype);
};

/** Applies `one` to every matrix of a batch `[..., a, b]` (by vmap over the flattened batch). */
const perMatrix = (x: ArrayBase, one: (m: ArrayBase) => ArrayBase): ArrayBase => {
  const batch = x.shape.slice(0, -2);
  const mat = x.shape.slice(-2);
  const n = sizeOf(batch);
  if (batch.length === 0) return one(x);
  if (n === 0) return x;
  const out = vmap(one)(reshape(x, [n, ...mat]));
  return reshape(out, [...batch, ...out.shape.slice(1)]);
};

/**
 * Eigen-decomposition of a symmetric matrix (row-major, float64) by cyclic Jacobi rotations:
 * eigenvalues ascending and the eigenvectors as columns. Sweeps until the off-diagonal mass
 * is below 1e-30 of the total (at most 100 sweeps).
 */
const jacobiEigh = (a: Float64Array, n: number): { w: Float64Array; v: Float64Array } => {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const total = m.reduce((s, x) => s + x * x, 0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        // The rotation that zeroes m[p][q] (Golub and Van Loan, Algorithm 8.5.1).
        const theta = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p]!;
          const mkq = m[k * n + q]!;
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k]!;
          const mqk = m[q * n + k]!;
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[i * n + i]! - m[j * n + j]!);
  const w = Float64Array.from(order, (i) => m[i * n + i]!);
  const vs = new Float64Array(n * n);
  for (let r = 0; r < n; r++) order.forEach((i, c) => (vs[r * n + c] = v[r * n + i]!));
  return { w, v: vs };
};

/**
 * The factor `V · sqrt(w)` of each concrete symmetric matrix of `cov` (`[..., n, n]`), from its
 * eigendecomposition; `descending` orders the columns as an SVD would. Negative rounding
 * noise in w is clipped to 0 (a PSD covariance's eigenvalues are >= 0).
 */
const spectralFactor = (op: string, method: string, cov: ArrayBase, descending: boolean): ArrayBase => {
  if (isTracer(cov) || !(cov instanceof NDArray)) {
    throw new ValueError(`method '${method}' needs a concrete covariance (its factorization runs outside the trace), got a traced ${cov.aval}`, {
      op,
      hint: "use method 'cholesky' (traceable) for a positive definite covariance, or compute the factor outside the traced function",
    });
  }
  const n = cov.shape[cov.ndim - 1]!;
  const data = Float64Array.from(cov.toTypedArray() as globalThis.ArrayLike<number>);
  const out = new Float64Array(data.length);
  for (let b = 0; b < data.length / (n * n || 1); b++) {
    const { w, v } = jacobiEigh(data.subarray(b * n * n, (b + 1) * n * n), n);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const src = descending ? n - 1 - c : c;
        out[b * n * n + r * n + c] = v[r * n + src]! * Math.sqrt(Math.max(w[src]!, 0));
      }
    }
  }
  return reshape(asArray(cov.dtype === "float32" ? Float32Array.from(out) : out), cov.shape);
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
    const factor = method === "cholesky" ? perMatrix(sigma, choleskyOne) : spectralFactor(op, method, sigma, method === "svd");
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
    const q = perMatrix(z, orthonormalColumns);
    if (n >= m) return q;
    const r = q.ndim;
    return transpose(q, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
  },
);

