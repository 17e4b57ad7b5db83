/**
 * np.linalg / lax.linalg refuse bad input with typed errors naming the function (non-square,
 * too few axes, wrong dtypes, mismatched shapes, unknown options), promote integers as JAX does,
 * keep float32, and raise a TransformError for the derivatives that are not defined.
 */
import { describe, expect, it } from "vitest";
import { DTypeError, ShapeError, TransformError, ValueError, grad, jvp, lax, np } from "@cotangent/core";

const f64 = (x: number[][]) => np.array(x, { dtype: "float64" });

describe("np.linalg input checks", () => {
  it("non-square and rank < 2 inputs are ShapeErrors naming the function", () => {
    const wide = np.ones([2, 3]);
    for (const [name, f] of [["det", np.linalg.det], ["inv", np.linalg.inv], ["slogdet", np.linalg.slogdet], ["cholesky", np.linalg.cholesky], ["eigh", np.linalg.eigh], ["eigvalsh", np.linalg.eigvalsh]] as const) {
      expect(() => (f as (x: unknown) => unknown)(wide), name).toThrow(ShapeError);
      expect(() => (f as (x: unknown) => unknown)(wide), name).toThrow(new RegExp(`np\\.linalg\\.${name}`));
      expect(() => (f as (x: unknown) => unknown)(np.ones([3])), name).toThrow(/at least 2 axes/);
    }
    expect(() => np.linalg.svd(np.ones([3]))).toThrow(ShapeError);
    expect(() => np.linalg.qr(5)).toThrow(ShapeError);
    expect(() => np.linalg.solve(np.eye(3), np.ones([2]))).toThrow(/b's length must be a's size 3/);
    expect(() => np.linalg.solve(np.eye(3), np.ones([2, 4, 2]))).toThrow(ShapeError);
    expect(() => np.linalg.solve(np.ones([2, 3, 3]), np.ones([4, 3, 1]))).toThrow(/do not broadcast/);
    expect(() => np.linalg.lstsq(np.ones([2, 3, 3]), np.ones([3]))).toThrow(/a must be a matrix/);
    expect(() => np.linalg.lstsq(np.ones([3, 2]), np.ones([4]))).toThrow(/b's first axis/);
  });

  it("options are checked: unknown keys, wrong kinds, bad choices", () => {
    expect(() => np.linalg.qr(np.eye(2), "raw" as never)).toThrow(/mode must be one of 'reduced', 'complete', 'r'/);
    expect(() => np.linalg.cholesky(np.eye(2), { lower: true } as never)).toThrow(/unknown option 'lower'/);
    expect(() => np.linalg.svd(np.eye(2), { fullmatrices: false } as never)).toThrow(/did you mean 'fullMatrices'/);
    expect(() => np.linalg.eigh(np.eye(2), "X" as never)).toThrow(ValueError);
    expect(() => np.linalg.pinv(np.eye(2), NaN)).toThrow(/rtol must be a finite number/);
    expect(() => lax.linalg.triangularSolve(np.eye(2), np.eye(2), { left: true } as never)).toThrow(/unknown option 'left'/);
  });

  it("integers and bools are promoted to float32 (JAX's promote_dtypes_inexact); float32 stays float32; float64 stays float64", () => {
    expect(np.linalg.det([[1, 2], [3, 4]]).dtype).toBe("float32");
    expect(np.linalg.det(np.array([[1, 2], [3, 4]], { dtype: "int32" })).item()).toBeCloseTo(-2, 5);
    expect(np.linalg.inv(np.array([[true, false], [false, true]])).dtype).toBe("float32");
    expect(np.linalg.solve(np.eye(2), np.array([1, 2], { dtype: "float64" })).dtype).toBe("float64");
    const a32 = np.array([[2, 1], [1, 3]]);
    expect(np.linalg.eigh(a32).map((x) => x.dtype)).toEqual(["float32", "float32"]);
    expect(grad((x) => np.linalg.det(x))(a32).dtype).toBe("float32");
    expect(grad((x) => np.sum(np.linalg.svdvals(x)))(a32).dtype).toBe("float32");
  });

  it("lax.linalg takes floats only and checks shapes", () => {
    const i = np.array([[1, 0], [0, 1]], { dtype: "int32" });
    expect(() => lax.linalg.cholesky(i)).toThrow(DTypeError);
    expect(() => lax.linalg.lu(i)).toThrow(/accepts float32, float64/);
    expect(() => lax.linalg.triangularSolve(np.eye(2), np.ones([3, 1]), { leftSide: true })).toThrow(/b's second to last axis must have a's size 2/);
    expect(() => lax.linalg.triangularSolve(np.eye(2), np.ones([2, 3]))).toThrow(/b's last axis must have a's size 2/);
    expect(() => lax.linalg.triangularSolve(np.eye(2), np.ones([2, 2], { dtype: "float64" }))).toThrow(/must share a dtype/);
    expect(() => lax.linalg.triangularSolve(np.ones([3, 2, 2]), np.ones([2, 2]))).toThrow(/same leading \(batch\) axes/);
    expect(() => lax.linalg.lu(np.ones([2, 3]))).toThrow(ShapeError);
    expect(() => lax.linalg.triangularSolve([[1]] as never, np.ones([1, 1]))).toThrow(/a must be an array/);
  });

  it("derivatives JAX does not define either are TransformErrors", () => {
    const wide = f64([[1, 2, 3], [4, 5, 7]]);
    expect(() => grad((x) => np.sum(np.linalg.qr(x)[0]))(wide)).toThrow(TransformError);
    expect(() => grad((x) => np.sum(np.linalg.qr(x, "complete")[0]))(f64([[1, 2], [3, 4], [5, 7]]))).toThrow(/reduced mode only/);
    expect(() => jvp((x) => np.linalg.svd(x)[0], [wide], [wide])).toThrow(/full_matrices=true/);
    // Square full-mode SVD and values of any shape are fine.
    expect(() => grad((x) => np.sum(np.linalg.svd(x)[0]))(f64([[2, 1], [0, 1]]))).not.toThrow();
    expect(() => grad((x) => np.sum(np.linalg.svdvals(x)))(wide)).not.toThrow();
  });
});
