/**
 * Linear-algebra primitives, part two: qr (Householder), eigh (symmetric eigendecomposition)
 * and svd, batched over leading axes like those of `linalg.ts`.
 *
 * Derivative rules, as JAX's `jax/_src/lax/linalg.py` has them (formulas, written here from
 * the math):
 *  - qr, m >= n and reduced (or square): with C = Q^T dA R^-1 and Ω = tril(C, -1) - tril(C, -1)^T,
 *    dQ = Q (Ω - C) + dA R^-1 and dR = (C - Ω) R (J. Townsend's note "Differentiating the QR
 *    decomposition", 2018). Wide or complete-mode derivatives are not defined there either.
 *  - eigh: dw = diag(V^T dA V), dV = V (F ∘ V^T dA V) with F_ij = 1 / (w_j - w_i) off the diagonal
 *    (M. Giles, "An extended collection of matrix derivative results for forward and reverse
 *    mode AD", 2008). Repeated eigenvalues make F infinite: the eigenvector derivative is then
 *    undefined (inf/NaN), while the eigenvalue derivative stays finite.
 *  - svd (reduced): ds = diag(U^T dA V); dU, dV with F_ij = 1 / (s_j^2 - s_i^2) plus the
 *    projections onto the complements for non-square A (J. Townsend, "Differentiating the
 *    singular value decomposition", 2016). Repeated or zero singular values make the vectors'
 *    derivatives undefined, as for eigh; the values' derivative is always defined.
 */
import { type ArrayBase } from "../array.js";
import { ShapedArray } from "../dtype.js";
import { TransformError, ValueError } from "../errors.js";
import { type Primitive, definePrimitive } from "../ir/primitive.js";
import { eighKernel, qrKernel, svdKernel } from "../kernels/linalg.js";
import { sizeOf } from "../shape.js";
import { bind } from "../trace.js";
import { add, div, mul, sub } from "./binary.js";
import { scalarLike } from "./common.js";
import { eq } from "./compare.js";
import {
  Blocks,
  diagonalOf,
  eachMatrix,
  eyeOf,
  leadingBatch,
  matrixAval,
  mm,
  mT,
  symmetrizeLower,
  triangle,
  triangularSolveRaw,
} from "./linalg.js";
import { broadcastInDim, convertElementType } from "./structural.js";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A vector [..., n] laid along the rows (axis -1) or the columns (axis -2) of [..., n, n]. */
const spread = (v: ArrayBase, alongColumns: boolean, rows = v.shape[v.ndim - 1]!): ArrayBase => {
  const nb = v.ndim - 1;
  const n = v.shape[nb]!;
  const shape = alongColumns ? [...v.shape.slice(0, nb), rows, n] : [...v.shape.slice(0, nb), n, rows];
  return broadcastInDim(v, shape, [...range(nb), alongColumns ? nb + 1 : nb]);
};

const requireBool = (op: string, p: Record<string, unknown>, keys: readonly string[]): void => {
  for (const k of keys) if (typeof p[k] !== "boolean") throw new ValueError(`parameter ${k} must be a boolean, got ${String(p[k])}`, { op });
};

// ---------------------------------------------------------------- qr

export interface QrParams {
  /** Q is m x m and R m x n (true), or Q m x k and R k x n with k = min(m, n) (false). */
  full_matrices: boolean;
}

const QR = "qr";

export const qrP: Primitive<QrParams> = definePrimitive<QrParams>({
  name: QR,
  abstractEval([a], p) {
    const [m, n] = matrixAval(QR, a!, false);
    requireBool(QR, p as unknown as Record<string, unknown>, ["full_matrices"]);
    const k = p.full_matrices ? m : Math.min(m, n);
    const batch = a!.shape.slice(0, -2);
    return [new ShapedArray([...batch, m, k], a!.dtype), new ShapedArray([...batch, k, n], a!.dtype)];
  },
  impl([a], p) {
    const [m, n] = a!.shape.slice(-2) as [number, number];
    const batch = a!.shape.slice(0, -2);
    const k = p.full_matrices ? m : Math.min(m, n);
    const count = sizeOf(batch);
    const q = new Blocks(a!.dtype, m * k, count);
    const r = new Blocks(a!.dtype, k * n, count);
    eachMatrix(a!, (mat, b) => {
      const out = qrKernel(mat, m, n, p.full_matrices);
      q.put(b, out.q);
      r.put(b, out.r);
    });
    return [q.array([...batch, m, k]), r.array([...batch, k, n])];
  },
  jvp([a], [ta], p) {
    const [q, r] = qrRaw(a!, p.full_matrices);
    if (!ta) return [[q, r], [null, null]];
    const [m, n] = a!.shape.slice(-2) as [number, number];
    if (m < n || (p.full_matrices && m !== n)) {
      throw new TransformError(`the derivative of a QR decomposition is defined here (as in JAX) for m >= n and reduced mode only, got a ${m} x ${n} matrix with full_matrices=${p.full_matrices}`, {
        op: QR,
        hint: "use mode 'reduced' with a tall or square matrix, or differentiate the QR of the transpose",
      });
    }
    const daRinv = triangularSolveRaw(r, ta, { left_side: false, lower: false, transpose_a: false, unit_diagonal: false }); // dA R^-1
    const c = mm(mT(q), daRinv);
    const low = triangle(c, true, -1);
    const omega = sub(low, mT(low)); // skew-symmetric
    const dq = add(mm(q, sub(omega, c)), daRinv);
    const dr = mm(sub(c, omega), r);
    return [[q, r], [dq, dr]];
  },
  batch: leadingBatch(() => qrP),
});

/** The qr primitive: [q, r]. */
export const qrRaw = (a: ArrayBase, fullMatrices: boolean): [ArrayBase, ArrayBase] => bind(qrP, [a], { full_matrices: fullMatrices }) as [ArrayBase, ArrayBase];

// ---------------------------------------------------------------- eigh

const EIGH = "eigh";

export const eighP: Primitive<Record<string, never>> = definePrimitive<Record<string, never>>({
  name: EIGH,
  abstractEval([a]) {
    const [n] = matrixAval(EIGH, a!, true);
    return [a!, new ShapedArray([...a!.shape.slice(0, -2), n], a!.dtype)];
  },
  impl([a]) {
    const n = a!.shape[a!.ndim - 1]!;
    const batch = a!.shape.slice(0, -2);
    const count = sizeOf(batch);
    const v = new Blocks(a!.dtype, n * n, count);
    const w = new Blocks(a!.dtype, n, count);
    eachMatrix(a!, (mat, b) => {
      const out = eighKernel(mat, n);
      v.put(b, out.v);
      w.put(b, out.w);
    });
    return [v.array(a!.shape), w.array([...batch, n])];
  },
  jvp([a], [ta]) {
    const [v, w] = eighRaw(a!);
    if (!ta) return [[v, w], [null, null]];
    const n = a!.shape[a!.ndim - 1]!;
    // The factorization reads the lower triangle: the tangent is that triangle, mirrored.
    const vdv = mm(mT(v), mm(symmetrizeLower(ta), v));
    const eye = eyeOf(n, a!.dtype);
    // F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it.
    const f = sub(div(scalarLike(w, 1), add(eye, sub(spread(w, true), spread(w, false)))), eye);
    return [[v, w], [mm(v, mul(f, vdv)), diagonalOf(vdv)]];
  },
  batch: leadingBatch(() => eighP),
});

/** The eigh primitive: [v (eigenvectors as columns), w (eigenvalues, ascending)], from the lower triangle of `a`. */
export const eighRaw = (a: ArrayBase): [ArrayBase, ArrayBase] => bind(eighP, [a], {}) as [ArrayBase, ArrayBase];

// ---------------------------------------------------------------- svd

export interface SvdParams {
  full_matrices: boolean;
  compute_uv: boolean;
}

const SVD = "svd";

export const svdP: Primitive<SvdParams> = definePrimitive<SvdParams>({
  name: SVD,
  abstractEval([a], p) {
    const [m, n] = matrixAval(SVD, a!, false);
    requireBool(SVD, p as unknown as Record<string, unknown>, ["full_matrices", "compute_uv"]);
    const k = Math.min(m, n);
    const batch = a!.shape.slice(0, -2);
    const s = new ShapedArray([...batch, k], a!.dtype);
    if (!p.compute_uv) return [s];
    const [uc, vr] = p.full_matrices ? [m, n] : [k, k];
    return [s, new ShapedArray([...batch, m, uc], a!.dtype), new ShapedArray([...batch, vr, n], a!.dtype)];
  },
  impl([a], p) {
    const [m, n] = a!.shape.slice(-2) as [number, number];
    const k = Math.min(m, n);
    const batch = a!.shape.slice(0, -2);
    const count = sizeOf(batch);
    const [uc, vr] = p.full_matrices ? [m, n] : [k, k];
    const s = new Blocks(a!.dtype, k, count);
    const u = new Blocks(a!.dtype, m * uc, count);
    const vt = new Blocks(a!.dtype, vr * n, count);
    eachMatrix(a!, (mat, b) => {
      const out = svdKernel(mat, m, n, p.full_matrices);
      s.put(b, out.s);
      if (!p.compute_uv) return;
      u.put(b, out.u);
      vt.put(b, out.vt);
    });
    const sv = s.array([...batch, k]);
    return p.compute_uv ? [sv, u.array([...batch, m, uc]), vt.array([...batch, vr, n])] : [sv];
  },
  jvp([a], [ta], p) {
    const [m, n] = a!.shape.slice(-2) as [number, number];
    const outs = svdRaw(a!, p.full_matrices, p.compute_uv);
    if (!ta) return [outs, outs.map(() => null)];
    if (p.compute_uv && p.full_matrices && m !== n) {
      throw new TransformError(`the derivative of the SVD with full_matrices=true is not defined for a non-square (${m} x ${n}) matrix (the completed singular vectors are arbitrary); JAX does not define it either`, {
        op: SVD,
        hint: "use full_matrices=false (np.linalg.svd(a, { fullMatrices: false }))",
      });
    }
    const [s, u, vt] = p.compute_uv ? outs : svdRaw(a!, false, true);
    const v = mT(vt!);
    const ds = mm(mT(u!), mm(ta, v)); // U^T dA V
    const dsv = diagonalOf(ds);
    if (!p.compute_uv) return [[s!], [dsv]];
    const k = s!.shape[s!.ndim - 1]!;
    const eye = eyeOf(k, a!.dtype);
    const sj = spread(s!, true); // s_j along the columns
    const si = spread(s!, false); // s_i along the rows
    // F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it.
    const f = sub(div(scalarLike(s!, 1), add(mul(add(sj, si), sub(sj, si)), eye)), eye);
    const dss = mul(ds, sj); // dS diag(s)
    const sds = mul(si, ds); // diag(s) dS
    let du = mm(u!, mul(f, add(dss, mT(dss))));
    let dv = mm(v, mul(f, add(sds, mT(sds))));
    // 1 / s, with 0 where s = 0 (the complement terms then vanish instead of giving NaN).
    const zero = convertElementType(eq(s!, scalarLike(s!, 0)), s!.dtype);
    const sInv = sub(div(scalarLike(s!, 1), add(s!, zero)), zero);
    if (m > n) {
      const dav = mm(ta, v);
      du = add(du, mul(sub(dav, mm(u!, mm(mT(u!), dav))), spread(sInv, true, m)));
    }
    if (n > m) {
      const dau = mm(mT(ta), u!);
      dv = add(dv, mul(sub(dau, mm(v, mm(vt!, dau))), spread(sInv, true, n)));
    }
    return [[s!, u!, vt!], [dsv, du, mT(dv)]];
  },
  batch: leadingBatch(() => svdP),
});

/** The svd primitive: [s (descending), u, vt] with `computeUv`, else [s]. */
export const svdRaw = (a: ArrayBase, fullMatrices: boolean, computeUv: boolean): ArrayBase[] => bind(svdP, [a], { full_matrices: fullMatrices, compute_uv: computeUv });

