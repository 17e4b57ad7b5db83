/**
 * np.linalg.norm, multiDot, matrixPower and np.trace: against plain reference loops in
 * float64 (random inputs), gradients against finite differences, vmap against a loop, and
 * a typed error for each bad input.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AxisError, NDArray, ShapeError, ValueError, np } from "@cotangent/core";
import { arbArray, checkGrad, checkVmap, expectClose } from "./harness.js";

const f64 = (v: unknown) => np.array(v as number[], { dtype: "float64" }) as NDArray;
const rows = (m: NDArray): number[][] => m.toArray();

/** Reference vector norm of a plain list. */
const vnorm = (v: number[], ord: number | null): number => {
  const a = v.map(Math.abs);
  if (ord === null || ord === 2) return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  if (ord === Infinity) return Math.max(...a);
  if (ord === -Infinity) return Math.min(...a);
  if (ord === 0) return v.filter((x) => x !== 0).length;
  return a.reduce((s, x) => s + x ** ord, 0) ** (1 / ord);
};

/** Reference matrix norm. */
const mnorm = (m: number[][], ord: number | "fro" | null): number => {
  if (ord === null || ord === "fro") return Math.sqrt(m.flat().reduce((s, x) => s + x * x, 0));
  const colSums = m[0]!.map((_, j) => m.reduce((s, r) => s + Math.abs(r[j]!), 0));
  const rowSums = m.map((r) => r.reduce((s, x) => s + Math.abs(x), 0));
  if (ord === 1) return Math.max(...colSums);
  if (ord === -1) return Math.min(...colSums);
  if (ord === Infinity) return Math.max(...rowSums);
  return Math.min(...rowSums);
};

const arbMatrix = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([r, c]) => arbArray([r, c], -3, 3));

describe("np.linalg.norm", () => {
  it("vector norms of every order match the reference, along any axis", () => {
    fc.assert(
      fc.property(arbMatrix, fc.constantFrom(null, 1, 2, 3, 0.5, Infinity, -Infinity, 0), fc.constantFrom(0, 1, -1), (m, ord, axis) => {
        const got = np.linalg.norm(m, ord, axis);
        const data = rows(m);
        const lines = axis === 0 ? data[0]!.map((_, j) => data.map((r) => r[j]!)) : data;
        expectClose(got.toArray(), lines.map((l) => vnorm(l, ord)), 1e-12);
      }),
      { numRuns: 40 },
    );
  });

  it("matrix norms of every order match the reference; no axis and no ord is the 2-norm of all elements", () => {
    fc.assert(
      fc.property(arbMatrix, fc.constantFrom(null, "fro" as const, 1, -1, Infinity, -Infinity), (m, ord) => {
        expectClose(np.linalg.norm(m, ord).item(), mnorm(rows(m), ord), 1e-12);
        expectClose(np.linalg.norm(m, { ord, axis: [1, 0] }).item(), mnorm(rows(m)[0]!.map((_, j) => rows(m).map((r) => r[j]!)), ord), 1e-12);
      }),
      { numRuns: 40 },
    );
    const x = np.arange(24, { dtype: "float64" }).reshape([2, 3, 4]);
    expectClose(np.linalg.norm(x).item(), Math.sqrt(Array.from({ length: 24 }, (_, i) => i * i).reduce((a, b) => a + b)), 1e-12);
    expect(np.linalg.norm(x, { keepdims: true }).shape).toEqual([1, 1, 1]);
    expect(np.linalg.norm(x, null, [0, 2], true).shape).toEqual([1, 3, 1]);
    expect(np.linalg.norm(x, 1, [0, 2]).shape).toEqual([3]);
    expect(np.linalg.norm([3, 4]).item()).toBe(5);
    expect(np.linalg.norm([1, 0, 2], 0).item()).toBe(2);
  });

  it("gradients match finite differences (float64) for the smooth orders; vmap matches a loop", () => {
    const v = f64([0.5, -1.5, 2]);
    const m = f64([[1, -2], [0.5, 3]]);
    checkGrad((x) => np.linalg.norm(x), [v]);
    checkGrad((x) => np.linalg.norm(x, 3), [v]);
    checkGrad((x) => np.linalg.norm(x, 1), [v]);
    checkGrad((x) => np.linalg.norm(x, "fro"), [m]);
    checkGrad((x) => np.linalg.norm(x, { axis: 1 }), [m]);
    checkVmap((x) => np.linalg.norm(x, 2), [f64([[1, 2, 3], [4, 5, 6]])]);
    checkVmap((x) => np.linalg.norm(x, "fro"), [f64([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])]);
  });

  it("spectral (2, -2) and nuclear norms from the singular values, with gradients and keepdims", () => {
    const m = f64([[3, 0], [4, 5]]); // singular values 3 sqrt(5) and sqrt(5)
    expectClose(np.linalg.norm(m, 2).item(), 3 * Math.sqrt(5), 1e-14);
    expectClose(np.linalg.norm(m, -2).item(), Math.sqrt(5), 1e-14);
    expectClose(np.linalg.norm(m, "nuc").item(), 4 * Math.sqrt(5), 1e-14);
    const x = f64([[[1, 2, 0], [0, 1, 3]], [[2, 0, 1], [1, 1, 1]]]);
    expect(np.linalg.norm(x, { ord: 2, axis: [2, 1], keepdims: true }).shape).toEqual([2, 1, 1]);
    expectClose(np.linalg.norm(x, { ord: "nuc", axis: [1, 2] }).toArray(), [0, 1].map((i) => np.linalg.norm(np.index(x, [i]), "nuc").item()), 1e-14);
    checkGrad((y) => np.linalg.norm(y, 2), [f64([[1, 2], [0.5, -1], [3, 1]])]);
    checkGrad((y) => np.linalg.norm(y, "nuc"), [f64([[1, 2], [0.5, -1], [3, 1]])]);
  });

  it("refuses what it cannot compute, with typed errors", () => {
    const m = np.ones([2, 2]);
    expect(() => np.linalg.norm(m, 3)).toThrow(/not a matrix norm order/);
    expect(() => np.linalg.norm(np.ones([2, 2, 2]), 1)).toThrow(ShapeError);
    expect(() => np.linalg.norm(np.ones([3]), "fro")).toThrow(/matrix norm: it needs two axes/);
    expect(() => np.linalg.norm(m, null, [0, 0])).toThrow(AxisError);
    expect(() => np.linalg.norm(m, null, [0, 1, 1] as never)).toThrow(AxisError);
    expect(() => np.linalg.norm(m, { ord: "inf" as never })).toThrow(/ord must be a number, 'fro' or 'nuc' \(or null\), got "inf"/);
    expect(() => np.linalg.norm(m, { axes: 1 } as never)).toThrow(/unknown option 'axes'.*\n[\s\S]*did you mean 'axis'/);
  });
});

describe("np.linalg.multiDot, matrixPower and np.trace", () => {
  it("multiDot equals the chained products; matrixPower equals repeated products", () => {
    const [a, b, c] = [f64([[1, 2], [3, 4], [5, 6]]), f64([[1, 0, 2], [0, 1, 1]]), f64([1, -1, 2])];
    expectClose(np.linalg.multiDot([a, b, c]).toArray(), np.matmul(np.matmul(a, b), c).toArray(), 1e-12);
    const s = f64([[0.5, 1], [-1, 0.25]]);
    let want = np.eye(2, { dtype: "float64" });
    for (let n = 0; n <= 6; n++) {
      expectClose(np.linalg.matrixPower(s, n).toArray(), want.toArray(), 1e-12);
      want = np.matmul(want, s);
    }
    checkGrad((x) => np.sum(np.linalg.matrixPower(x, 5)), [s]);
    expect(() => np.linalg.matrixPower(a, 2)).toThrow(ShapeError);
    expectClose(np.linalg.matrixPower(s, -3).toArray(), np.linalg.inv(np.linalg.matrixPower(s, 3)).toArray(), 1e-12);
    expect(() => np.linalg.multiDot([a])).toThrow(/at least two arrays/);
    expect(() => np.linalg.multiDot([a, np.ones([2, 2, 2]), c])).toThrow(/array 1 must be 2-D/);
  });

  it("trace sums a diagonal, with offset and axes, and differentiates to the diagonal mask", () => {
    const x = np.arange(24, { dtype: "float64" }).reshape([2, 3, 4]) as NDArray;
    const ref = (off: number, a1: number, a2: number): number[] => {
      const d = x.toArray() as number[][][];
      const out: number[] = [];
      const other = [0, 1, 2].find((k) => k !== a1 && k !== a2)!;
      for (let o = 0; o < x.shape[other]!; o++) {
        let s = 0;
        for (let i = 0; i < x.shape[a1]!; i++) {
          const j = i + off;
          if (j < 0 || j >= x.shape[a2]!) continue;
          const idx = [0, 0, 0];
          idx[other] = o;
          idx[a1] = i;
          idx[a2] = j;
          s += d[idx[0]!]![idx[1]!]![idx[2]!]!;
        }
        out.push(s);
      }
      return out;
    };
    for (const [off, a1, a2] of [[0, 1, 2], [1, 1, 2], [-1, 2, 1], [0, 0, 2], [2, 2, 0]] as const) {
      expect(np.trace(x, off, a1, a2).toArray()).toEqual(ref(off, a1, a2));
    }
    expect(np.trace(np.eye(3)).item()).toBe(3);
    checkGrad((m) => np.trace(m, 1), [f64([[1, 2, 3], [4, 5, 6]])]);
    expect(() => np.trace(np.ones([3]))).toThrow(ShapeError);
    expect(() => np.trace(np.ones([2, 2]), 0, 1, 1)).toThrow(AxisError);
  });
});
