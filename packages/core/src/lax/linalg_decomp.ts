/**
 * `lax.linalg`: the linear-algebra primitives themselves, as JAX's `jax.lax.linalg` has them
 * (float32/float64 only; no promotion). `np.linalg` builds on these.
 */
import type { ArrayBase } from "../array.js";
import { parseArgs, signature } from "../api/args.js";
import { choleskyRaw, luRaw, mT, triangularSolveRaw } from "../primitives/linalg.js";
import { eighRaw, qrRaw, svdRaw } from "../primitives/linalg_spectral.js";
import { add, mul } from "../primitives/binary.js";
import { scalarLike } from "../primitives/common.js";

/** Options of `lax.linalg.triangularSolve` (JAX's defaults: all false). */
export interface TriangularSolveOptions {
  /** Solve op(a) x = b (true) or x op(a) = b (false, the default). */
  leftSide?: boolean;
  /** Read a's lower triangle (true) or upper (false, the default). */
  lower?: boolean;
  /** op(a) = a^T (true) or a. */
  transposeA?: boolean;
  /** Complex conjugation: no effect on real matrices (accepted for JAX's signature). */
  conjugateA?: boolean;
  /** Take a's diagonal as ones (its stored diagonal is not read). */
  unitDiagonal?: boolean;
}

const tsSig = signature("lax.linalg.triangularSolve", ["a:arrayValue!", "b:arrayValue!", "leftSide:bool=", "lower:bool=", "transposeA:bool=", "conjugateA:bool=", "unitDiagonal:bool="]);

/**
 * `lax.linalg.triangular_solve`: solves op(a) x = b (`leftSide`) or x op(a) = b, reading one
 * triangle of a [..., m, m]; b is [..., m, n] (left) or [..., n, m], with a's leading axes.
 * Linear in b (its transpose solves with op(a)^T); differentiable in a.
 */
export const triangularSolve = (a: ArrayBase, b: ArrayBase, options: TriangularSolveOptions = {}): ArrayBase => {
  const o = parseArgs<TriangularSolveOptions>(tsSig, [a, b, options]);
  return triangularSolveRaw(a, b, { left_side: o.leftSide ?? false, lower: o.lower ?? false, transpose_a: o.transposeA ?? false, unit_diagonal: o.unitDiagonal ?? false });
};

const cholSig = signature("lax.linalg.cholesky", ["x:arrayValue!", "symmetrizeInput:bool="]);

/** `lax.linalg.cholesky`: the lower Cholesky factor (NaN where not positive definite); symmetrizes the input unless `symmetrizeInput: false`. */
export const cholesky = (x: ArrayBase, options: { symmetrizeInput?: boolean } = {}): ArrayBase => {
  const o = parseArgs<{ symmetrizeInput?: boolean }>(cholSig, [x, options]);
  return choleskyRaw(o.symmetrizeInput === false ? x : mul(add(x, mT(x)), scalarLike(x, 0.5)));
};

const luSig = signature("lax.linalg.lu", ["x:arrayValue!"]);

/** `lax.linalg.lu` (square matrices): `[lu, pivots, permutation]`, L (unit diagonal) below and U on and above the diagonal of `lu`; `P a = L U` with row i of `P a` = row `permutation[i]` of a. */
export const lu = (x: ArrayBase, ...rest: []): [ArrayBase, ArrayBase, ArrayBase] => {
  parseArgs(luSig, [x, ...rest]);
  return luRaw(x);
};

const qrSig = signature("lax.linalg.qr", ["x:arrayValue!", "fullMatrices:bool="]);

/** `lax.linalg.qr`: `[q, r]` by Householder reflections (`fullMatrices` default true, as JAX). */
export const qr = (x: ArrayBase, options: { fullMatrices?: boolean } = {}): [ArrayBase, ArrayBase] => {
  const o = parseArgs<{ fullMatrices?: boolean }>(qrSig, [x, options]);
  return qrRaw(x, o.fullMatrices ?? true);
};

const eighSig = signature("lax.linalg.eigh", ["x:arrayValue!", "lower:bool=", "symmetrizeInput:bool="]);

/** `lax.linalg.eigh`: `[v, w]`, eigenvectors as columns and eigenvalues ascending (symmetrizes unless `symmetrizeInput: false`; then reads the `lower` (default) or upper triangle). */
export const eigh = (x: ArrayBase, options: { lower?: boolean; symmetrizeInput?: boolean } = {}): [ArrayBase, ArrayBase] => {
  const o = parseArgs<{ lower?: boolean; symmetrizeInput?: boolean }>(eighSig, [x, options]);
  const input = o.symmetrizeInput === false ? (o.lower === false ? mT(x) : x) : mul(add(x, mT(x)), scalarLike(x, 0.5));
  return eighRaw(input);
};

const svdSig = signature("lax.linalg.svd", ["x:arrayValue!", "fullMatrices:bool=", "computeUv:bool="]);

/** `lax.linalg.svd`: `[s, u, vt]` (descending s), or `[s]` with `computeUv: false`; `fullMatrices` default true, as JAX. */
export const svd = (x: ArrayBase, options: { fullMatrices?: boolean; computeUv?: boolean } = {}): ArrayBase[] => {
  const o = parseArgs<{ fullMatrices?: boolean; computeUv?: boolean }>(svdSig, [x, options]);
  return svdRaw(x, o.fullMatrices ?? true, o.computeUv ?? true);
};
