/**
 * Linear-algebra primitives, part one: triangular_solve, cholesky and lu (the spectral ones,
 * qr, eigh and svd, are in `linalg_spectral.ts`). Each takes a stack of matrices in its last
 * two axes, batched over any leading axes; the impl runs the float64 kernels of
 * `kernels/linalg.ts` per matrix and rounds to the dtype (float32 or float64).
 *
 * The derivative rules follow JAX's `jax/_src/lax/linalg.py` (the formulas; the code here is
 * written from the math): triangular_solve is linear in `b` (its transpose solves with the
 * transposed matrix) and its derivative in `a` is -op(A)^-1 op(dA) X; Cholesky's is
 * L Φ(L^-1 dA L^-T) with Φ taking the lower triangle and half the diagonal (Murray, "Differentiation
 * of the Cholesky decomposition", 2016); LU's is L tril(L^-1 P dA U^-1, -1) + triu(L^-1 P dA U^-1) U.
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray, typedArrayFor } from "../dtype.js";
import { DTypeError, ShapeError, TransformError, ValueError } from "../errors.js";
import { type Primitive, UndefinedPrimal, definePrimitive } from "../ir/primitive.js";
import { type TriangularSolveFlags, choleskyKernel, luKernel, triangularSolveKernel } from "../kernels/linalg.js";
import { shapeStr, sizeOf } from "../shape.js";
import { bind, bind1 } from "../trace.js";
import { add, mul } from "./binary.js";
import { FLOATS } from "./common.js";
import { eq } from "./compare.js";
import { dotGeneral } from "./dot.js";
import { reduceSum } from "./reduce.js";
import { batchAxisAt, iota } from "./shape.js";
import { broadcastInDim, convertElementType, transpose } from "./structural.js";
import { neg } from "./unary.js";

// ---------------------------------------------------------------- helpers shared with linalg_spectral.ts

const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => start + i);

/** Swaps the last two axes. */
export const mT = (x: ArrayBase): ArrayBase => {
  const p = range(x.ndim);
  [p[x.ndim - 2], p[x.ndim - 1]] = [x.ndim - 1, x.ndim - 2];
  return transpose(x, p);
};

/** Batched matrix product of [..., m, k] and [..., k, n] with equal leading axes. */
export const mm = (a: ArrayBase, b: ArrayBase): ArrayBase => {
  const nb = a.ndim - 2;
  return dotGeneral(a, b, [[[nb + 1], [nb]], [range(nb), range(nb)]]);
};

/** A constant [rows, cols] matrix of `dtype` whose entry (i, j) is f(i, j). */
export const constMatrix = (rows: number, cols: number, dtype: DType, f: (i: number, j: number) => number): NDArray => {
  const buf = typedArrayFor(dtype, rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) buf[i * cols + j] = f(i, j);
  return fromBuffer(buf, [rows, cols], dtype);
};

/** Keeps the entries with j - i <= k (lower) or j - i >= k (upper) of the last two axes; zeros the rest. */
export const triangle = (x: ArrayBase, lower: boolean, k = 0): ArrayBase => {
  const [r, c] = x.shape.slice(-2) as [number, number];
  return mul(x, constMatrix(r, c, x.dtype, (i, j) => (lower ? j - i <= k : j - i >= k) ? 1 : 0));
};

/** The identity matrix of size n in `dtype`. */
export const eyeOf = (n: number, dtype: DType): NDArray => constMatrix(n, n, dtype, (i, j) => (i === j ? 1 : 0));

/** The diagonal of the last two (square) axes. */
export const diagonalOf = (x: ArrayBase): ArrayBase => reduceSum(mul(x, eyeOf(x.shape[x.ndim - 1]!, x.dtype)), [x.ndim - 1]);

/** A symmetric matrix from the lower triangle of x: what the factorizations that read one triangle see. */
export const symmetrizeLower = (x: ArrayBase): ArrayBase => add(triangle(x, true), mT(triangle(x, true, -1)));

/** Checks a float stack of matrices ([..., m, n], square when asked) and names the op in errors. */
export const matrixAval = (op: string, x: ShapedArray, square: boolean, what = "a"): [number, number] => {
  if (!FLOATS.includes(x.dtype)) {
    throw new DTypeError(`${what} has dtype ${x.dtype}, but ${op} accepts float32, float64`, { op, hint: "convert first, e.g. np.astype(a, 'float32'), or use the np.linalg function, which promotes integers" });
  }
  if (x.ndim < 2) throw new ShapeError(`${what} must have at least 2 axes (a stack of matrices [..., m, n]), got ${x}`, { op });
  const [m, n] = x.shape.slice(-2) as [number, number];
  if (square && m !== n) throw new ShapeError(`${what} must be square in its last two axes, got ${x} (${m} x ${n})`, { op, hint: "for a non-square matrix use np.linalg.lstsq or np.linalg.pinv" });
  return [m, n];
};

/** Runs `f` on each matrix of the stack `x` (last two axes) as a float64 copy. */
export const eachMatrix = (x: NDArray, f: (mat: Float64Array, b: number) => void): void => {
  const [m, n] = x.shape.slice(-2) as [number, number];
  const size = m * n;
  const count = sizeOf(x.shape.slice(0, -2));
  const src = bufferOf(x);
  for (let b = 0; b < count; b++) f(Float64Array.from(src.subarray(b * size, (b + 1) * size)), b);
};

/** An output buffer for `count` blocks of `size` elements, filled block by block from float64 results. */
export class Blocks {
  readonly buf;
  constructor(readonly dtype: DType, readonly size: number, count: number) {
    this.buf = typedArrayFor(dtype, size * count);
  }
  put(b: number, data: ArrayLike<number>): void {
    this.buf.set(data, b * this.size);
  }
  array(shape: readonly number[]): NDArray {
    return fromBuffer(this.buf, shape, this.dtype);
  }
}

/** vmap rule of a primitive that batches over leading axes: the vmapped axis moves to the front. */
export const leadingBatch =
  (prim: () => Primitive) =>
  (args: ArrayBase[], dims: (number | null)[], params: object, size: number): [ArrayBase[], (number | null)[]] => {
    const outs = bind(
      prim(),
      args.map((x, i) => batchAxisAt(x, dims[i], 0, size)),
      params,
    );
    return [outs, outs.map(() => 0)];
  };

// ---------------------------------------------------------------- triangular_solve

/** Parameters of triangular_solve, as JAX's (conjugate_a has no effect on real matrices and is not kept). */
export interface TriangularSolveParams {
  left_side: boolean;
  lower: boolean;
  transpose_a: boolean;
  unit_diagonal: boolean;
}

const TS = "triangular_solve";

const flags = (p: TriangularSolveParams): TriangularSolveFlags => ({ leftSide: p.left_side, lower: p.lower, transposeA: p.transpose_a, unitDiagonal: p.unit_diagonal });

export const triangularSolveP: Primitive<TriangularSolveParams> = definePrimitive<TriangularSolveParams>({
  name: TS,
  abstractEval([a, b], p) {
    const [m] = matrixAval(TS, a!, true, "a");
    matrixAval(TS, b!, false, "b");
    if (a!.dtype !== b!.dtype) throw new DTypeError(`a (${a}) and b (${b}) must share a dtype`, { op: TS, hint: "convert one with np.astype" });
    for (const k of ["left_side", "lower", "transpose_a", "unit_diagonal"] as const) {
      if (typeof p[k] !== "boolean") throw new ValueError(`parameter ${k} must be a boolean, got ${String(p[k])}`, { op: TS });
    }
    const batchA = a!.shape.slice(0, -2);
    const batchB = b!.shape.slice(0, -2);
    if (batchA.length !== batchB.length || batchA.some((d, i) => d !== batchB[i])) {
      throw new ShapeError(`a (${a}) and b (${b}) must have the same leading (batch) axes, got ${shapeStr(batchA)} and ${shapeStr(batchB)}`, { op: TS, hint: "broadcast them first (np.broadcastTo)" });
    }
    const along = p.left_side ? b!.shape[b!.ndim - 2]! : b!.shape[b!.ndim - 1]!;
    if (along !== m) {
      throw new ShapeError(
        `with left_side=${p.left_side}, b's ${p.left_side ? "second to last" : "last"} axis must have a's size ${m}, got b ${b} (a ${a})`,
        { op: TS, hint: p.left_side ? "left_side solves op(a) x = b with b of shape [..., m, n]" : "left_side=false solves x op(a) = b with b of shape [..., n, m]" },
      );
    }
    return [b!];
  },
  impl([a, b], p) {
    const m = a!.shape[a!.ndim - 1]!;
    const [rows, cols] = b!.shape.slice(-2) as [number, number];
    const out = new Blocks(b!.dtype, rows * cols, sizeOf(b!.shape.slice(0, -2)));
    const bs = bufferOf(b!);
    eachMatrix(a!, (am, k) => out.put(k, triangularSolveKernel(am, Float64Array.from(bs.subarray(k * rows * cols, (k + 1) * rows * cols)), m, rows, cols, flags(p))));
    return [out.array(b!.shape)];
  },
  jvp([a, b], [ta, tb], p) {
    const x = triangularSolveRaw(a!, b!, p);
    let t = tb && triangularSolveRaw(a!, tb, p);
    if (ta) {
      // X = op(A)^-1 B  =>  dX = -op(A)^-1 op(dA) X (left), and X = B op(A)^-1  =>  dX = -X op(dA) op(A)^-1.
      // Only the triangle the solve reads carries a tangent (not the unit diagonal).
      let da = triangle(ta, p.lower, p.unit_diagonal ? (p.lower ? -1 : 1) : 0);
      if (p.transpose_a) da = mT(da);
      const rhs = neg(p.left_side ? mm(da, x) : mm(x, da));
      const ta_ = triangularSolveRaw(a!, rhs, p);
      t = t ? add(t, ta_) : ta_;
    }
    return [[x], [t]];
  },
  transpose([ct], [a, b], p) {
    if (a instanceof UndefinedPrimal) throw new TransformError("transpose is linear in b only; a must be a known value", { op: TS });
    if (!(b instanceof UndefinedPrimal) || !ct) return [null, null];
    // The adjoint of B -> op(A)^-1 B is C -> op(A)^-T C (same side).
    return [null, triangularSolveRaw(a, ct, { ...p, transpose_a: !p.transpose_a })];
  },
  batch: leadingBatch(() => triangularSolveP),
});

/** The primitive with its params spelled out (lax.linalg.triangularSolve is the checked public form). */
export const triangularSolveRaw = (a: ArrayBase, b: ArrayBase, p: TriangularSolveParams): ArrayBase =>
  bind1(triangularSolveP, [a, b], { left_side: p.left_side, lower: p.lower, transpose_a: p.transpose_a, unit_diagonal: p.unit_diagonal });

// ---------------------------------------------------------------- cholesky

const CHOL = "cholesky";

export const choleskyP: Primitive<Record<string, never>> = definePrimitive<Record<string, never>>({
  name: CHOL,
  abstractEval([a]) {
    matrixAval(CHOL, a!, true);
    return [a!];
  },
  impl([a]) {
    const n = a!.shape[a!.ndim - 1]!;
    const out = new Blocks(a!.dtype, n * n, sizeOf(a!.shape.slice(0, -2)));
    eachMatrix(a!, (m, b) => out.put(b, choleskyKernel(m, n)));
    return [out.array(a!.shape)];
  },
  jvp([a], [ta]) {
    const l = choleskyRaw(a!);
    if (!ta) return [[l], [null]];
    // The factorization reads the lower triangle only: the tangent is that triangle, mirrored.
    const da = symmetrizeLower(ta);
    const left = { left_side: false, lower: true, transpose_a: true, unit_diagonal: false };
    const right = { left_side: true, lower: true, transpose_a: false, unit_diagonal: false };
    const inner = triangularSolveRaw(l, triangularSolveRaw(l, da, left), right); // L^-1 dA L^-T
    const n = l.shape[l.ndim - 1]!;
    const phi = mul(inner, constMatrix(n, n, l.dtype, (i, j) => (i > j ? 1 : i === j ? 0.5 : 0)));
    return [[l], [mm(l, phi)]];
  },
  batch: leadingBatch(() => choleskyP),
});

/** The cholesky primitive: the lower factor from the lower triangle of `a` (NaN where not positive definite). */
export const choleskyRaw = (a: ArrayBase): ArrayBase => bind1(choleskyP, [a], {});

// ---------------------------------------------------------------- lu

const LU = "lu";

export const luP: Primitive<Record<string, never>> = definePrimitive<Record<string, never>>({
  name: LU,
  abstractEval([a]) {
    const [n] = matrixAval(LU, a!, true);
    const batch = a!.shape.slice(0, -2);
    return [a!, new ShapedArray([...batch, n], "int32"), new ShapedArray([...batch, n], "int32")];
  },
  impl([a]) {
    const n = a!.shape[a!.ndim - 1]!;
    const count = sizeOf(a!.shape.slice(0, -2));
    const lu = new Blocks(a!.dtype, n * n, count);
    const piv = new Blocks("int32", n, count);
    const perm = new Blocks("int32", n, count);
    eachMatrix(a!, (m, b) => {
      const r = luKernel(m, n);
      lu.put(b, r.lu);
      piv.put(b, r.pivots);
      perm.put(b, r.perm);
    });
    const vec = [...a!.shape.slice(0, -1)];
    return [lu.array(a!.shape), piv.array(vec), perm.array(vec)];
  },
  jvp([a], [ta]) {
    const [lu, pivots, perm] = luRaw(a!);
    if (!ta) return [[lu, pivots, perm], [null, null, null]];
    const n = a!.shape[a!.ndim - 1]!;
    const l = add(triangle(lu, true, -1), eyeOf(n, lu.dtype));
    const u = triangle(lu, false);
    // L^-1 P dA U^-1, with P dA as the product with the permutation matrix (linear in dA).
    const pda = mm(permutationMatrix(perm, lu.dtype), ta);
    const la = triangularSolveRaw(l, pda, { left_side: true, lower: true, transpose_a: false, unit_diagonal: true });
    const lau = triangularSolveRaw(u, la, { left_side: false, lower: false, transpose_a: false, unit_diagonal: false });
    const dlu = add(mm(l, triangle(lau, true, -1)), mm(triangle(lau, false), u));
    return [[lu, pivots, perm], [dlu, null, null]];
  },
  batch: leadingBatch(() => luP),
});

/** The matrix P with P[..., i, j] = 1 where perm[..., i] = j: (P A) has row i = row perm[i] of A. */
export const permutationMatrix = (perm: ArrayBase, dtype: DType): ArrayBase => {
  const n = perm.shape[perm.ndim - 1]!;
  const shape = [...perm.shape, n];
  const rows = broadcastInDim(perm, shape, range(perm.ndim));
  return convertElementType(eq(rows, iota("int32", shape, perm.ndim)), dtype);
};

/** The lu primitive: [lu (L below the unit diagonal, U on and above), pivots, permutation]. */
export const luRaw = (a: ArrayBase): [ArrayBase, ArrayBase, ArrayBase] => bind(luP, [a], {}) as [ArrayBase, ArrayBase, ArrayBase];
