/**
 * Derivatives and batching of np.linalg / lax.linalg: gradients and jvps against central
 * finite differences (float64), the transposition identity <vjp(u), v> = <u, jvp(v)> (for
 * triangularSolve also its transpose rule in b), vmap against a loop, typecheck of every
 * transformed jaxpr, and the documented behaviour at singular and degenerate inputs.
 */
import { describe, expect, it } from "vitest";
import { type ArrayBase, type NDArray, grad, jit, lax, np, vmap } from "@cotangent/core";
import { checkGrad, checkJvp, checkSecondOrder, checkTransposition, checkVmap, expectClose, typecheckTransforms } from "./harness.js";
import { rng } from "./reference_util.js";

const next = rng(7);
const randn = (shape: number[], shift = 0): NDArray => {
  const size = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: size }, () => 2 * next() - 1);
  let x = np.array(vals, { dtype: "float64", shape }) as NDArray;
  if (shift) x = np.add(x, np.multiply(np.eye(shape[shape.length - 1]!, { dtype: "float64" }), shift)) as NDArray;
  return x;
};
/** A symmetric matrix (float64) with well-separated eigenvalues. */
const symmetric = (n: number): NDArray => {
  const a = randn([n, n]);
  // + diag(0, 3, 6, ...) keeps the eigenvalues apart.
  return np.add(np.add(a, np.transpose(a)), np.multiply(np.eye(n, { dtype: "float64" }), np.multiply(np.arange(n, { dtype: "float64" }), 3))) as NDArray;
};
/** Flips each column of v by the sign of its first row: smooth in a wherever that entry is not 0. */
const fixSigns = (v: ArrayBase): ArrayBase => np.multiply(v, np.sign(np.index(v, [np.sl(0, 1)])));

const check = (f: (...xs: any[]) => any, args: NDArray[], tol = 1e-5): void => {
  checkGrad(f, args, { tol });
  checkJvp(f, args, { tol });
  checkTransposition(f, args, 1e-8);
  typecheckTransforms(f, args);
};

describe("triangularSolve", () => {
  const a = randn([4, 4], 3);
  const flags = [true, false].flatMap((leftSide) => [true, false].flatMap((lower) => [true, false].flatMap((transposeA) => [true, false].map((unitDiagonal) => ({ leftSide, lower, transposeA, unitDiagonal })))));
  it("gradients, jvp and the transposition identity for every flag combination", () => {
    for (const o of flags) {
      const b = o.leftSide ? randn([4, 2]) : randn([2, 4]);
      check((x: ArrayBase, y: ArrayBase) => lax.linalg.triangularSolve(x, y, o), [a, b]);
    }
  });
  it("is linear in b: <transpose(ct), v> = <ct, solve(v)> (transpose rule of the primitive)", () => {
    for (const o of flags) {
      const b = o.leftSide ? randn([4, 3]) : randn([3, 4]);
      checkTransposition((y: ArrayBase) => lax.linalg.triangularSolve(a, y, o), [b], 1e-12);
    }
  });
  it("vmap over a, b or both equals a loop", () => {
    const as = randn([3, 4, 4], 3);
    const bs = randn([3, 4, 2]);
    const f = (x: ArrayBase, y: ArrayBase) => lax.linalg.triangularSolve(x, y, { leftSide: true, lower: true });
    checkVmap(f, [as, bs]);
    checkVmap(f, [as, randn([4, 2])], 1e-12, [0, null]);
    checkVmap(f, [randn([4, 4], 3), randn([4, 3, 2])], 1e-12, [null, 1]);
  });
});

describe("LU-based: det, slogdet, inv, solve", () => {
  const a = randn([4, 4], 1.5);
  it("gradients, jvp, transposition", () => {
    check((x: ArrayBase) => np.linalg.det(x), [a]);
    check((x: ArrayBase) => np.linalg.slogdet(x)[1], [a]);
    check((x: ArrayBase) => np.linalg.inv(x), [a]);
    check((x: ArrayBase, y: ArrayBase) => np.linalg.solve(x, y), [a, randn([4, 2])]);
    check((x: ArrayBase, y: ArrayBase) => np.linalg.solve(x, y), [a, randn([4])]);
  });
  it("grad det = det * inv(a)^T (Jacobi's formula)", () => {
    expectClose(grad((x: ArrayBase) => np.linalg.det(x))(a), np.multiply(np.linalg.det(a), np.transpose(np.linalg.inv(a))), 1e-12);
  });
  it("grad det at singular matrices of rank n - 1 is the finite adjugate transposed (as JAX's cofactor rule)", () => {
    const gd = grad((x: ArrayBase) => np.linalg.det(x));
    expectClose(gd(np.array([[1, 2], [2, 4]], { dtype: "float64" })), np.array([[4, -2], [-2, 1]], { dtype: "float64" }), 1e-14);
    // The zero pivot comes first here (column 0 is zero), not last.
    expectClose(gd(np.array([[0, 0], [0, 1]], { dtype: "float64" })), np.array([[1, 0], [0, 0]], { dtype: "float64" }), 1e-14);
    const s3 = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]], { dtype: "float64" }); // rank 2
    const adjT = np.array([[-3, 6, -3], [6, -12, 6], [-3, 6, -3]], { dtype: "float64" });
    expectClose(gd(s3), adjT, 1e-12);
    checkJvp((x: ArrayBase) => np.linalg.det(x), [s3 as NDArray]);
  });
  it("second order (Hessian-vector products of det, log|det| and inv)", () => {
    checkSecondOrder((x: ArrayBase) => np.linalg.det(x), [a]);
    checkSecondOrder((x: ArrayBase) => np.linalg.slogdet(x)[1], [a]);
    checkSecondOrder((x: ArrayBase) => np.linalg.inv(x), [a]);
  });
  it("vmap equals a loop; jit equals eager", () => {
    const as = randn([3, 4, 4], 1.5);
    checkVmap((x: ArrayBase) => np.linalg.det(x), [as]);
    checkVmap((x: ArrayBase) => np.linalg.slogdet(x), [as]);
    checkVmap((x: ArrayBase) => np.linalg.inv(x), [as]);
    checkVmap((x: ArrayBase, y: ArrayBase) => np.linalg.solve(x, y), [as, randn([3, 4])]);
    checkVmap(grad((x: ArrayBase) => np.linalg.det(x)), [as], 1e-10);
    expectClose(jit((x: ArrayBase) => np.linalg.inv(x))(a), np.linalg.inv(a), 1e-14);
  });
  it("singular matrices: det 0, slogdet [0, -inf], inv and solve inf/NaN (as JAX; NumPy raises)", () => {
    const s = np.array([[1, 2], [2, 4]], { dtype: "float64" });
    expect(Math.abs(np.linalg.det(s).item())).toBe(0);
    expect(np.linalg.slogdet(s).map((x) => x.item())).toEqual([0, -Infinity]);
    expect(np.linalg.inv(s).toArray().flat().some((v: number) => !Number.isFinite(v))).toBe(true);
    expect(np.linalg.solve(s, [1, 1]).toArray().some((v: number) => !Number.isFinite(v))).toBe(true);
  });
});

describe("cholesky and qr", () => {
  it("cholesky: gradients (through a a^T + n I), vmap, non-positive-definite gives NaN", () => {
    const spd = (x: ArrayBase) => np.add(np.matmul(x, np.transpose(x)), np.multiply(np.eye(3, { dtype: "float64" }), 3));
    check((x: ArrayBase) => np.linalg.cholesky(spd(x)), [randn([3, 3])]);
    check((x: ArrayBase) => lax.linalg.cholesky(spd(x), { symmetrizeInput: false }), [randn([3, 3])]);
    checkVmap((x: ArrayBase) => np.linalg.cholesky(spd(x)), [randn([2, 3, 3])]);
    const notPd = np.linalg.cholesky(np.array([[1, 2], [2, 1]], { dtype: "float64" }));
    expect(notPd.toArray().flat().every((v: number) => Number.isNaN(v))).toBe(true);
  });
  it("qr (reduced, tall and square): gradients, vmap; mode 'r'", () => {
    check((x: ArrayBase) => np.linalg.qr(x), [randn([5, 3])]);
    check((x: ArrayBase) => np.linalg.qr(x), [randn([3, 3])]);
    check((x: ArrayBase) => np.linalg.qr(x, "r"), [randn([4, 2])]);
    checkVmap((x: ArrayBase) => np.linalg.qr(x), [randn([2, 4, 3])]);
    checkVmap((x: ArrayBase) => np.linalg.qr(x, "complete"), [randn([2, 3, 4])]);
  });
});

describe("eigh and svd", () => {
  it("eigh: gradients of eigenvalues and (sign-fixed) eigenvectors, vmap", () => {
    const s = symmetric(4);
    check((x: ArrayBase) => np.linalg.eigvalsh(x), [s]);
    check((x: ArrayBase) => {
      const [w, v] = np.linalg.eigh(x);
      return [w, fixSigns(v)];
    }, [s]);
    checkVmap((x: ArrayBase) => np.linalg.eigvalsh(x), [randn([3, 4, 4])]);
    checkVmap((x: ArrayBase) => fixSigns(np.linalg.eigh(x)[1]), [np.stack([symmetric(3), symmetric(3)]) as NDArray], 1e-10);
  });
  it("without symmetrization one triangle is read (lower, or upper with UPLO 'U'), and the derivative is of that map", () => {
    const a = randn([3, 3], 2); // not symmetric
    const lowerMirrored = np.add(np.tril(a), np.transpose(np.tril(a, -1)));
    const upperMirrored = np.add(np.triu(a), np.transpose(np.triu(a, 1)));
    expectClose(np.linalg.eigvalsh(a, { symmetrizeInput: false }), np.linalg.eigvalsh(lowerMirrored), 1e-13);
    expectClose(np.linalg.eigvalsh(a, "U", { symmetrizeInput: false }), np.linalg.eigvalsh(upperMirrored), 1e-13);
    check((x: ArrayBase) => lax.linalg.eigh(x, { symmetrizeInput: false })[1], [a]);
    check((x: ArrayBase) => np.linalg.eigvalsh(x, "U", { symmetrizeInput: false }), [a]);
  });
  it("jit and vmap of gradients through eigh, svd, lstsq", () => {
    const s = symmetric(3);
    const f = (x: ArrayBase) => np.sum(np.linalg.eigvalsh(x));
    expectClose(jit(grad(f))(s), grad(f)(s), 1e-14);
    checkVmap((x: ArrayBase, y: ArrayBase) => np.linalg.lstsq(x, y)[0], [randn([3, 4, 2]), randn([3, 4])], 1e-10);
    checkVmap(grad((x: ArrayBase) => np.sum(np.linalg.svdvals(x))), [randn([2, 3, 4])], 1e-10);
  });
  it("eigh with repeated eigenvalues: eigenvalue gradients stay finite, eigenvector gradients are not (documented)", () => {
    const eye = np.eye(3, { dtype: "float64" });
    expectClose(grad((x: ArrayBase) => np.sum(np.linalg.eigvalsh(x)))(eye), eye, 1e-14);
    const g = grad((x: ArrayBase) => np.sum(np.linalg.eigh(x)[1]))(eye);
    expect(g.toArray().flat().some((v: number) => !Number.isFinite(v))).toBe(true);
  });
  it("svd: gradients of values (any shape) and of reduced vectors (tall, wide, square), vmap", () => {
    for (const shape of [[4, 3], [3, 4], [3, 3]]) {
      check((x: ArrayBase) => np.linalg.svd(x, { computeUv: false }), [randn(shape)]);
      check((x: ArrayBase) => {
        const [u, s, vt] = np.linalg.svd(x, false);
        const signs = np.sign(np.index(u, [np.sl(0, 1)]));
        return [np.multiply(u, signs), s, np.multiply(vt, np.transpose(signs))];
      }, [randn(shape)]);
    }
    checkVmap((x: ArrayBase) => np.linalg.svd(x, { computeUv: false }), [randn([3, 4, 2])]);
    checkVmap((x: ArrayBase) => np.linalg.svd(x, false)[1], [randn([3, 2, 4])]);
  });
  it("singular values of a matrix with repeated values: finite value gradient", () => {
    const q = np.linalg.qr(randn([3, 3]))[0];
    expectClose(grad((x: ArrayBase) => np.sum(np.linalg.svd(x, { computeUv: false })))(q), q, 1e-12);
  });
});

describe("pinv and lstsq", () => {
  it("gradients (full rank, tall and wide), vmap", () => {
    check((x: ArrayBase) => np.linalg.pinv(x), [randn([4, 3])]);
    check((x: ArrayBase) => np.linalg.pinv(x), [randn([2, 4])]);
    check((x: ArrayBase, y: ArrayBase) => np.linalg.lstsq(x, y)[0], [randn([5, 3]), randn([5, 2])]);
    check((x: ArrayBase, y: ArrayBase) => np.linalg.lstsq(x, y)[1], [randn([5, 3]), randn([5])]);
    checkVmap((x: ArrayBase) => np.linalg.pinv(x), [randn([3, 4, 2])]);
  });
  it("pinv's gradient is finite with repeated singular values (its own jvp rule)", () => {
    // At a = I, pinv = inv and d sum(a^-1) = -sum(a^-1 da a^-1): every entry of the gradient is -1.
    const g = grad((x: ArrayBase) => np.sum(np.linalg.pinv(x)))(np.eye(3, { dtype: "float64" }));
    expectClose(g, np.multiply(np.ones([3, 3], { dtype: "float64" }), -1), 1e-12);
  });
});
