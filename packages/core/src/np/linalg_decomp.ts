/**
 * `np.linalg` factorizations and the functions built on them, as `jnp.linalg` has them:
 * `cholesky`, `qr`, `eigh`, `eigvalsh`, `svd` bind the primitives of
 * `primitives/linalg*.ts`; `det`, `slogdet`, `solve` and `inv` compose the LU primitive with
 * triangular solves, and `lstsq` and `pinv` the SVD, so their derivatives come from the
 * primitives' rules (`pinv` has its own jvp, as JAX's does, so that repeated singular values
 * do not spoil it).
 *
 * Every function batches over leading axes. Integer and bool inputs are promoted to float32,
 * as JAX's `promote_dtypes_inexact` does; float64 stays float64.
 */
import type { ArrayBase } from "../array.js";
import { parseArgs, signature, withSignature } from "../api/args.js";
import { type DType, ShapedArray } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { customJvp } from "../higher/custom.js";
import { add, div, mul, rem, sub } from "../primitives/binary.js";
import { scalar, scalarLike } from "../primitives/common.js";
import { eq, gt, ne, ge } from "../primitives/compare.js";
import { diagonalOf, eyeOf, luRaw, matrixAval, mm, mT, permutationMatrix, triangularSolveRaw, choleskyRaw } from "../primitives/linalg.js";
import { eighRaw, qrRaw, svdRaw } from "../primitives/linalg_spectral.js";
import { argmin, reduceMax, reduceProd, reduceSum } from "../primitives/reduce.js";
import { iota, sliceInDim } from "../primitives/shape.js";
import { broadcastInDim, broadcastTo, convertElementType, reshape } from "../primitives/structural.js";
import { abs, log, sign } from "../primitives/unary.js";
import { broadcastShapes, shapeStr } from "../shape.js";
import { type ArrayLike, promoteToFloat } from "./coerce.js";
import { where } from "./elementwise.js";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The argument as a float array that is a stack of matrices (square when asked), checked under `op`'s name. */
const matrices = (op: string, x: ArrayLike, square: boolean, what = "a"): ArrayBase => {
  const [a] = promoteToFloat(x) as [ArrayBase];
  matrixAval(op, new ShapedArray(a.shape, a.dtype), square, what);
  return a;
};

/** (x + x^T) / 2: what JAX's `symmetrize_input` feeds the factorization. */
const symmetrize = (x: ArrayBase): ArrayBase => mul(add(x, mT(x)), scalarLike(x, 0.5));

/** A vector [..., k] as a row [..., 1, k], broadcasting against [..., m, k]. */
const asRow = (v: ArrayBase): ArrayBase => reshape(v, [...v.shape.slice(0, -1), 1, v.shape[v.ndim - 1]!]);

const eps = (d: DType): number => (d === "float64" ? 2 ** -52 : 2 ** -23);

// ---------------------------------------------------------------- cholesky

const choleskySig = signature("np.linalg.cholesky", ["a:array!", "upper:bool=", "symmetrizeInput:bool="]);

/**
 * The Cholesky factor of a symmetric positive-definite matrix: lower `L` with `a = L L^T`
 * (`upper: true` gives `L^T`). As in JAX the input is symmetrized first ((a + a^T) / 2,
 * unless `symmetrizeInput: false`, when only the lower triangle is read). Where `a` is not
 * positive definite the result is all NaN (JAX's behaviour; NumPy raises instead).
 */
export const cholesky = withSignature(choleskySig, (a: ArrayLike, options: { upper?: boolean; symmetrizeInput?: boolean } = {}): ArrayBase => {
  const o = parseArgs<{ upper?: boolean; symmetrizeInput?: boolean }>(choleskySig, [a, options]);
  const x = matrices(choleskySig.name, a, true);
  const l = choleskyRaw(o.symmetrizeInput === false ? x : symmetrize(x));
  return o.upper ? mT(l) : l;
});

// ---------------------------------------------------------------- LU-based: det, slogdet, solve, inv

/** (-1)^(number of row swaps) of an LU factorization's pivots, in `dtype`. */
const pivotSign = (pivots: ArrayBase, dtype: DType): ArrayBase => {
  const swapped = convertElementType(ne(pivots, iota("int32", pivots.shape, pivots.ndim - 1)), "int32");
  const parity = convertElementType(rem(reduceSum(swapped, [pivots.ndim - 1]), scalar(2, "int32")), dtype);
  return sub(scalarLike(parity, 1), mul(scalarLike(parity, 2), parity));
};

/** x + 0: turns the -0 of a negative sign times a zero product into NumPy's 0. */
const plusZero = (x: ArrayBase): ArrayBase => add(x, scalarLike(x, 0));

const detSig = signature("np.linalg.det", ["a:array!"]);

/**
 * The determinant of each square matrix in the last two axes, from the LU factorization
 * (the product of U's diagonal and the sign of the row permutation). A singular matrix gives
 * 0 (or a tiny number from round-off). Its derivative is trace(adj(A) dA) with the adjugate
 * computed so that it stays finite at singular matrices of rank n - 1 (as JAX's cofactor rule
 * does; see {@link detTangent}).
 */
export const det = withSignature(detSig, (a: ArrayLike, ...rest: []): ArrayBase => {
  parseArgs(detSig, [a, ...rest]);
  const x = matrices(detSig.name, a, true);
  const f = customJvp((m: ArrayBase) => detByLu(m));
  f.defJvp(([m]: [ArrayBase], [dm]: [ArrayBase]) => [f(m), detTangent(m, dm)]);
  return f(x);
});

const detByLu = (x: ArrayBase): ArrayBase => {
  const [lu, pivots] = luRaw(x);
  return plusZero(mul(pivotSign(pivots, x.dtype), reduceProd(diagonalOf(lu), [lu.ndim - 2])));
};

/**
 * d det(A) = trace(adj(A) dA), with adj(A) from P A = L U as adj(U) L^-1 det(P) P. adj(U) is
 * finite even where U has one zero pivot: with k the pivot of least magnitude, δ = U_kk and U'
 * equal to U except U'_kk = 1, the rank-one update U = U' + (δ - 1) e_k e_k^T gives (by the
 * Sherman-Morrison formula multiplied through by det) the polynomial identity
 * adj(U) = det(U') [δ U'^-1 - (δ - 1) U'^-1 e_k e_k^T U'^-1], exact for any δ. So the tangent is
 * det(P) det(U') [δ tr(Z) - (δ - 1) (Z U'^-1)_kk] with Z = U'^-1 L^-1 P dA. (Rank n - 2 or
 * less, where adj(A) = 0, still gives NaN.)
 */
const detTangent = (x: ArrayBase, dx: ArrayBase): ArrayBase => {
  const [lu, pivots, perm] = luRaw(x);
  const n = x.shape[x.ndim - 1]!;
  const d = diagonalOf(lu);
  const last = d.ndim - 1;
  const k = argminAbs(d);
  const onehot = convertElementType(eq(iota("int32", d.shape, last), broadcastInDim(k, d.shape, range(last))), d.dtype);
  const delta = reduceSum(mul(onehot, d), [last]);
  const dPrime = add(d, mul(onehot, sub(scalarLike(d, 1), d)));
  // U' = U with U'_kk = 1.
  const uPrime = add(lu, mul(sub(spreadDiag(dPrime, n), spreadDiag(d, n)), eyeOf(n, x.dtype)));
  const y = triangularSolveRaw(lu, mm(permutationMatrix(perm, x.dtype), dx), { left_side: true, lower: true, transpose_a: false, unit_diagonal: true });
  const upper = { left_side: true, lower: false, transpose_a: false, unit_diagonal: false };
  const z = triangularSolveRaw(uPrime, y, upper);
  const zu = triangularSolveRaw(uPrime, z, { ...upper, left_side: false });
  const trZ = reduceSum(diagonalOf(z), [last]);
  const zuKk = reduceSum(mul(onehot, diagonalOf(zu)), [last]);
  const inner = sub(mul(delta, trZ), mul(sub(delta, scalarLike(delta, 1)), zuKk));
  return mul(mul(pivotSign(pivots, x.dtype), reduceProd(dPrime, [last])), inner);
};

/** The index of the entry of least magnitude along the last axis (int32). */
const argminAbs = (d: ArrayBase): ArrayBase => argmin(abs(d), d.ndim - 1);

/** A vector [..., n] as the rows of [..., n, n] (multiplied by the identity, its diagonal matrix). */
const spreadDiag = (v: ArrayBase, n: number): ArrayBase => broadcastInDim(v, [...v.shape, n], range(v.ndim));

const slogdetSig = signature("np.linalg.slogdet", ["a:array!"]);

/**
 * `[sign, logabsdet]` of each square matrix: `det = sign * exp(logabsdet)` without overflow.
 * A singular matrix gives sign 0 and logabsdet -Infinity, as in NumPy and JAX.
 */
export const slogdet = withSignature(slogdetSig, (a: ArrayLike, ...rest: []): [ArrayBase, ArrayBase] => {
  parseArgs(slogdetSig, [a, ...rest]);
  const x = matrices(slogdetSig.name, a, true);
  const [lu, pivots] = luRaw(x);
  const d = diagonalOf(lu);
  const ax = [d.ndim - 1];
  return [plusZero(mul(pivotSign(pivots, x.dtype), reduceProd(sign(d), ax))), reduceSum(log(abs(d)), ax)];
});

/** Solves a x = b for b [..., n, k] (batch axes already equal to a's) through a's LU factors. */
const luSolve = (a: ArrayBase, b: ArrayBase): ArrayBase => {
  const [lu, , perm] = luRaw(a);
  const pb = mm(permutationMatrix(perm, a.dtype), b);
  const y = triangularSolveRaw(lu, pb, { left_side: true, lower: true, transpose_a: false, unit_diagonal: true });
  return triangularSolveRaw(lu, y, { left_side: true, lower: false, transpose_a: false, unit_diagonal: false });
};

const solveSig = signature("np.linalg.solve", ["a:array!", "b:array!"]);

/**
 * Solves `a x = b` for square `a` [..., n, n]: `b` is a vector [n] or a stack of matrices
 * [..., n, k] whose leading axes broadcast with a's (NumPy 2's rule, which JAX follows). By LU
 * with partial pivoting; a singular `a` gives inf/NaN entries (JAX's behaviour; NumPy raises).
 */
export const solve = withSignature(solveSig, (a: ArrayLike, b: ArrayLike, ...rest: []): ArrayBase => {
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(solveSig, [a, b, ...rest]);
    b = o.b;
  }
  const op = solveSig.name;
  const [x0, y0] = promoteToFloat(a, b) as [ArrayBase, ArrayBase];
  const x = matrices(op, x0, true);
  const n = x.shape[x.ndim - 1]!;
  const vector = y0.ndim === 1;
  if (y0.ndim === 0) throw new ShapeError(`b must be a vector [n] or a stack of matrices [..., n, k], got a scalar`, { op });
  const y = vector ? reshape(y0, [y0.shape[0]!, 1]) : y0;
  if (y.shape[y.ndim - 2] !== n) {
    throw new ShapeError(`b's ${vector ? "length" : "second to last axis"} must be a's size ${n}, got a ${shapeStr(x.shape)} and b ${shapeStr(y0.shape)}`, {
      op,
      hint: vector ? undefined : "for a stack of vectors [..., n] use b[..., None] (np.expandDims(b, -1)) and take [..., 0] of the result",
    });
  }
  const batch = broadcastShapes(x.shape.slice(0, -2), y.shape.slice(0, -2));
  if (!batch) throw new ShapeError(`the leading axes of a ${shapeStr(x.shape)} and b ${shapeStr(y0.shape)} do not broadcast`, { op });
  const out = luSolve(broadcastTo(x, [...batch, n, n]), broadcastTo(y, [...batch, ...y.shape.slice(-2)]));
  return vector ? reshape(out, [...batch, n]) : out;
});

const invSig = signature("np.linalg.inv", ["a:array!"]);

/** The inverse of each square matrix (by LU solves against the identity); singular: inf/NaN entries, as JAX. */
export const inv = withSignature(invSig, (a: ArrayLike, ...rest: []): ArrayBase => {
  parseArgs(invSig, [a, ...rest]);
  const x = matrices(invSig.name, a, true);
  return luSolve(x, broadcastTo(eyeOf(x.shape[x.ndim - 1]!, x.dtype), x.shape));
});

// ---------------------------------------------------------------- qr, eigh, eigvalsh

/** What `np.linalg.qr` computes: both factors (reduced or complete) or R only. */
export type QrMode = "reduced" | "complete" | "r";

const qrSig = signature("np.linalg.qr", ["a:array!", { name: "mode", kind: "string", choices: ["reduced", "complete", "r"] }]);

/**
 * The QR decomposition of each matrix [..., m, n] by Householder reflections: `[q, r]` with
 * `q` orthonormal columns and `r` upper triangular. `mode`: 'reduced' (default; q [m, k],
 * r [k, n], k = min(m, n)), 'complete' (q [m, m], r [m, n]) or 'r' (r [k, n] only). Signs
 * follow LAPACK's (R's diagonal may be negative). Derivatives: 'reduced' (and 'r') with m >= n.
 */
export function qr(a: ArrayLike, mode?: "reduced" | "complete" | { mode?: "reduced" | "complete" }): [ArrayBase, ArrayBase];
export function qr(a: ArrayLike, mode: "r" | { mode: "r" }): ArrayBase;
export function qr(a: ArrayLike, mode?: QrMode | { mode?: QrMode }): [ArrayBase, ArrayBase] | ArrayBase {
  const o = parseArgs<{ mode?: QrMode }>(qrSig, [a, mode]);
  const x = matrices(qrSig.name, a, false);
  const m = o.mode ?? "reduced";
  const [q, r] = qrRaw(x, m === "complete");
  return m === "r" ? r : [q, r];
}
Object.defineProperty(qr, "signature", { value: qrSig, enumerable: false });

/** Options of `eigh` and `eigvalsh`. */
export interface EighOptions {
  /** Which triangle to read when `symmetrizeInput` is false: 'L' (default) or 'U'. */
  UPLO?: "L" | "U";
  /** Use (a + a^T) / 2 (default true, as JAX). */
  symmetrizeInput?: boolean;
}

const eighSig = signature("np.linalg.eigh", ["a:array!", { name: "UPLO", kind: "string", choices: ["L", "U"], nullable: true }, "symmetrizeInput:bool="]);
const eigvalshSig = signature("np.linalg.eigvalsh", ["a:array!", { name: "UPLO", kind: "string", choices: ["L", "U"], nullable: true }, "symmetrizeInput:bool="]);

const eighInput = (op: string, a: ArrayLike, o: EighOptions): ArrayBase => {
  const x = matrices(op, a, true);
  if (o.symmetrizeInput !== false) return symmetrize(x);
  return o.UPLO === "U" ? mT(x) : x;
};

/**
 * Eigenvalues (ascending) and eigenvectors (the columns of the second result) of each
 * symmetric matrix, `[w, v]` with `a v = v diag(w)`. By the cyclic Jacobi method. The sign of
 * each eigenvector is arbitrary (may differ from LAPACK's). The eigenvectors' gradient is
 * undefined (inf/NaN) where eigenvalues repeat; the eigenvalues' is always defined.
 */
export const eigh = withSignature(eighSig, (a: ArrayLike, ...args: [UPLO?: "L" | "U" | null | EighOptions, options?: EighOptions]): [ArrayBase, ArrayBase] => {
  const o = parseArgs<EighOptions>(eighSig, [a, ...args]);
  const [v, w] = eighRaw(eighInput(eighSig.name, a, o));
  return [w, v];
});

/** The eigenvalues (ascending) of each symmetric matrix; see {@link eigh}. */
export const eigvalsh = withSignature(eigvalshSig, (a: ArrayLike, ...args: [UPLO?: "L" | "U" | null | EighOptions, options?: EighOptions]): ArrayBase => {
  const o = parseArgs<EighOptions>(eigvalshSig, [a, ...args]);
  return eighRaw(eighInput(eigvalshSig.name, a, o))[1];
});

// ---------------------------------------------------------------- svd, pinv, lstsq

/** Options of `np.linalg.svd`. */
export interface SvdOptions {
  /** U [m, m] and V^T [n, n] (default true, as NumPy and JAX), or U [m, k] and V^T [k, n]. */
  fullMatrices?: boolean;
  /** Return `[u, s, vh]` (default) or the singular values only. */
  computeUv?: boolean;
  /** Accepted for JAX's signature; the general algorithm is used either way. */
  hermitian?: boolean;
}

const svdSig = signature("np.linalg.svd", ["a:array!", "fullMatrices:bool", "computeUv:bool", "hermitian:bool"]);

/**
 * The singular value decomposition of each matrix [..., m, n]: `[u, s, vh]` with
 * `a = u diag(s) vh`, `s` descending (one-sided Jacobi), or `s` alone with `computeUv: false`.
 * Gradients: of `s` always; of `u` and `vh` with `fullMatrices: false` (or square a), undefined
 * (inf/NaN) where singular values repeat or, for the vectors of a non-square matrix, vanish.
 */
export function svd(a: ArrayLike, options: SvdOptions & { computeUv: false }): ArrayBase;
export function svd(a: ArrayLike, fullMatrices: boolean | null | undefined, computeUv: false, options?: SvdOptions): ArrayBase;
export function svd(a: ArrayLike, fullMatrices?: boolean | SvdOptions, computeUv?: true | SvdOptions, options?: SvdOptions): [ArrayBase, ArrayBase, ArrayBase];
export function svd(a: ArrayLike, ...args: unknown[]): [ArrayBase, ArrayBase, ArrayBase] | ArrayBase {
  const o = parseArgs<SvdOptions>(svdSig, [a, ...args]);
  const x = matrices(svdSig.name, a, false);
  if (o.computeUv === false) return svdRaw(x, false, false)[0]!;
  const [s, u, vt] = svdRaw(x, o.fullMatrices ?? true, true) as [ArrayBase, ArrayBase, ArrayBase];
  return [u, s, vt];
}
Object.defineProperty(svd, "signature", { value: svdSig, enumerable: false });

/**
 * V diag(1/s) U^T with the singular values at or below `cutoff * s_max` dropped (their
 * reciprocal taken as 0). `inclusive`: keep s >= cutoff (lstsq) rather than s > cutoff (pinv).
 */
const pinvBySvd = (x: ArrayBase, rtol: number, inclusive: boolean): ArrayBase => {
  const [s, u, vt] = svdRaw(x, false, true) as [ArrayBase, ArrayBase, ArrayBase];
  const k = s.shape[s.ndim - 1]!;
  const [m, n] = x.shape.slice(-2) as [number, number];
  if (k === 0) return broadcastTo(scalarLike(x, 0), [...x.shape.slice(0, -2), n, m]);
  const smax = reduceMax(s, [s.ndim - 1]);
  const cut = mul(broadcastInDim(smax, s.shape, range(s.ndim - 1)), scalarLike(s, rtol));
  const keep = inclusive ? ge(s, cut) : gt(s, cut);
  const safe = where(keep, s, 1);
  const sInv = where(keep, div(scalarLike(s, 1), safe), 0);
  return mm(mul(mT(vt), asRow(sInv)), mT(u));
};

const pinvSig = signature("np.linalg.pinv", ["a:array!", "rtol:finite?", "hermitian:bool"]);

/**
 * The Moore-Penrose pseudo-inverse of each matrix [..., m, n] (shape [..., n, m]) from the
 * SVD, dropping singular values at or below `rtol * s_max` (default `10 * max(m, n) * eps`,
 * JAX's). Its jvp is the closed form of Golub & Pereyra (1973), as JAX uses, so the
 * derivative is defined wherever the rank does not change (repeated singular values included).
 */
export const pinv = withSignature(pinvSig, (a: ArrayLike, ...args: [rtol?: number | null | { rtol?: number | null; hermitian?: boolean }, hermitian?: boolean | { hermitian?: boolean }]): ArrayBase => {
  const o = parseArgs<{ rtol?: number | null; hermitian?: boolean }>(pinvSig, [a, ...args]);
  const x = matrices(pinvSig.name, a, false);
  const [m, n] = x.shape.slice(-2) as [number, number];
  const rtol = o.rtol ?? 10 * Math.max(m, n) * eps(x.dtype);
  return pinvWithJvp(x, rtol, false);
});

/**
 * pinv with the cutoff applied by {@link pinvBySvd} and the Golub-Pereyra derivative
 * dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P (exact where the rank is constant).
 */
const pinvWithJvp = (x: ArrayBase, rtol: number, inclusive: boolean): ArrayBase => {
  const f = customJvp((a: ArrayBase) => pinvBySvd(a, rtol, inclusive));
  f.defJvp(([a]: [ArrayBase], [da]: [ArrayBase]) => {
    const p = f(a);
    const [m, n] = a.shape.slice(-2) as [number, number];
    const batch = a.shape.slice(0, -2);
    const [dat, pt] = [mT(da), mT(p)];
    const im = broadcastTo(eyeOf(m, a.dtype), [...batch, m, m]);
    const inn = broadcastTo(eyeOf(n, a.dtype), [...batch, n, n]);
    const t1 = mul(mm(mm(p, da), p), scalarLike(p, -1));
    const t2 = mm(mm(mm(p, pt), dat), sub(im, mm(a, p)));
    const t3 = mm(mm(sub(inn, mm(p, a)), dat), mm(pt, p));
    return [p, add(add(t1, t2), t3)];
  });
  return f(x);
};

const lstsqSig = signature("np.linalg.lstsq", ["a:array!", "b:array!", "rcond:finite?"]);

/**
 * The least-squares solution of `a x = b` for a [m, n] and b [m] or [m, k], from the SVD:
 * `[x, resid, rank, s]`. Singular values below `rcond * s_max` (default `eps * max(m, n)`,
 * JAX's and NumPy's) are treated as zero, which gives the minimum-norm solution. As JAX's
 * default (`numpy_resid=False`), `resid` is always the squared residual norm per column
 * (shape [k], or [] for a vector b), where NumPy returns an empty array unless a has full
 * column rank and m > n. `rank` is an int32 scalar. Differentiable in a and b (through
 * {@link pinv}'s rule).
 */
export const lstsq = withSignature(lstsqSig, (a: ArrayLike, b: ArrayLike, ...args: [rcond?: number | null | { rcond?: number | null }]): [ArrayBase, ArrayBase, ArrayBase, ArrayBase] => {
  const o = parseArgs<{ rcond?: number | null }>(lstsqSig, [a, b, ...args]);
  const op = lstsqSig.name;
  const [x0, y0] = promoteToFloat(a, b) as [ArrayBase, ArrayBase];
  if (x0.ndim !== 2) throw new ShapeError(`a must be a matrix [m, n], got ${shapeStr(x0.shape)}`, { op, hint: "for stacks of matrices, use vmap(np.linalg.lstsq)" });
  const x = matrices(op, x0, false);
  const [m, n] = x.shape as [number, number];
  if (y0.ndim !== 1 && y0.ndim !== 2) throw new ShapeError(`b must be a vector [m] or a matrix [m, k], got ${shapeStr(y0.shape)}`, { op });
  if (y0.shape[0] !== m) throw new ShapeError(`b's first axis must be a's row count ${m}, got a ${shapeStr(x.shape)} and b ${shapeStr(y0.shape)}`, { op });
  const rcond = o.rcond ?? eps(x.dtype) * Math.max(m, n);
  const s = svdRaw(x, false, false)[0]!;
  const sol = mm(pinvWithJvp(x, rcond, true), y0.ndim === 1 ? reshape(y0, [m, 1]) : y0);
  const xs = y0.ndim === 1 ? reshape(sol, [n]) : sol;
  const r = sub(y0, y0.ndim === 1 ? reshape(mm(x, sol), [m]) : mm(x, sol));
  const resid = reduceSum(mul(r, r), [0]);
  const k = s.shape[0]!;
  const rank = k === 0 ? convertElementType(scalarLike(s, 0), "int32") : reduceSum(convertElementType(ge(s, mul(sliceInDim(s, 0, 1, 1, 0), scalarLike(s, rcond))), "int32"), [0]);
  return [xs, resid, rank, s];
});


// ---------------------------------------------------------------- svdvals, matrixRank

const svdvalsSig = signature("np.linalg.svdvals", ["x:array!"]);

/** The singular values of each matrix, descending (`svd(x, { computeUv: false })`). */
export const svdvals = withSignature(svdvalsSig, (x: ArrayLike, ...rest: []): ArrayBase => {
  parseArgs(svdvalsSig, [x, ...rest]);
  return svdRaw(matrices(svdvalsSig.name, x, false), false, false)[0]!;
});

const rankSig = signature("np.linalg.matrixRank", ["M:array!", "rtol:finite?"]);

/**
 * The numerical rank of each matrix: the number of singular values above
 * `rtol * s_max` (default `rtol = max(m, n) * eps`, as NumPy and JAX), as int32. A vector or
 * scalar has rank 1 unless it is all zeros.
 */
export const matrixRank = withSignature(rankSig, (M: ArrayLike, ...args: [rtol?: number | null | { rtol?: number | null }]): ArrayBase => {
  const o = parseArgs<{ rtol?: number | null }>(rankSig, [M, ...args]);
  const [a] = promoteToFloat(M) as [ArrayBase];
  if (a.ndim < 2) return convertElementType(reduceMax(convertElementType(ne(abs(a), scalarLike(a, 0)), "int32"), range(a.ndim)), "int32");
  const x = matrices(rankSig.name, a, false);
  const [m, n] = x.shape.slice(-2) as [number, number];
  const s = svdRaw(x, false, false)[0]!;
  if (Math.min(m, n) === 0) return broadcastTo(convertElementType(scalarLike(s, 0), "int32"), s.shape.slice(0, -1));
  const rtol = o.rtol ?? Math.max(m, n) * eps(x.dtype);
  const cut = mul(broadcastInDim(reduceMax(s, [s.ndim - 1]), s.shape, range(s.ndim - 1)), scalarLike(s, rtol));
  return reduceSum(convertElementType(gt(s, cut), "int32"), [s.ndim - 1]);
});
