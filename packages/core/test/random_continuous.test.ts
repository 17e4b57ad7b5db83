import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, type NDArray, DTypeError, ShapeError, grad, makeJaxpr, np, random, typecheck, vmap } from "@cotangent/core";
import { checkGrad, checkVmap, expectClose, typecheckTransforms } from "./harness.js";

const vals = (x: ArrayBase): number[] => Array.from(x.toTypedArray() as Float32Array, Number);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const variance = (v: number[]) => {
  const m = mean(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
};
/** Standard normal CDF and density, for reference values. */
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
const erfRef = (x: number) => {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-3 checks; integrate the density instead.
  const n = 2000;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const t = ((i + 0.5) / n) * x;
    s += Math.exp(-t * t);
  }
  return (2 / Math.sqrt(Math.PI)) * s * (x / n);
};
const Phi = (x: number) => 0.5 * (1 + erfRef(x / Math.SQRT2));

const DTYPES = ["float32", "float64"] as const;

describe("uniform", () => {
  it("is JAX's mantissa construction over the bit stream", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), fc.integer({ min: 0, max: 1000 }), fc.double({ min: -5, max: 5, noNaN: true }), fc.double({ min: 0.1, max: 5, noNaN: true }), (shape, seed, lo, width) => {
        const k = random.key(seed);
        const u = random.uniform(k, shape, { minval: lo, maxval: lo + width });
        expect(u.shape).toEqual(shape);
        expect(u.dtype).toBe("float32");
        const bits = Array.from(random.bits(k, shape).toTypedArray() as Int32Array);
        // Every op rounds to float32, as XLA computes in float32.
        const f = Math.fround;
        const l = f(lo);
        const span = f(f(lo + width) - l);
        const want = bits.map((b) => Math.max(l, f(f(f((b >>> 9) * 2 ** -23) * span) + l)));
        expect(vals(u)).toEqual(want);
      }),
      { numRuns: 30 },
    );
  });

  it("has the moments of U[0, 1) in float32 and float64", () => {
    for (const dtype of DTYPES) {
      const v = vals(random.uniform(random.key(1), [10000], { dtype }));
      expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...v)).toBeLessThan(1);
      expect(Math.abs(mean(v) - 0.5)).toBeLessThan(0.01);
      expect(Math.abs(variance(v) - 1 / 12)).toBeLessThan(0.004);
      // float64 uses 52 random mantissa bits: values are not all on the float32 grid.
      if (dtype === "float64") expect(v.some((x) => Math.fround(x) !== x)).toBe(true);
    }
  });

  it("broadcasts array bounds and stays inside them", () => {
    const lo = np.array([[0], [10], [-5]]);
    const hi = np.array([[1], [20], [-4]]);
    const u = random.uniform(random.key(2), [3, 50], { minval: lo, maxval: hi });
    const rows = u.toArray() as number[][];
    [[0, 1], [10, 20], [-5, -4]].forEach(([a, b], r) => {
      for (const x of rows[r]!) {
        expect(x).toBeGreaterThanOrEqual(a!);
        expect(x).toBeLessThan(b!);
      }
    });
  });

  it("is differentiable in minval and maxval with the key fixed", () => {
    const k = random.key(3);
    const f = (lo: ArrayBase, hi: ArrayBase) => random.uniform(k, [2, 3], { dtype: "float64", minval: lo, maxval: hi });
    checkGrad(f, [np.array([-1, 0.5, 2], { dtype: "float64" }) as NDArray, np.array([[3], [4]], { dtype: "float64" }) as NDArray]);
    const [glo, ghi] = grad((lo: ArrayBase, hi: ArrayBase) => np.sum(f(lo, hi)), { argnums: [0, 1] })(np.array(0, { dtype: "float64" }), np.array(1, { dtype: "float64" }));
    const u = vals(random.uniform(k, [2, 3], { dtype: "float64" }));
    expect(ghi.item()).toBeCloseTo(u.reduce((a, b) => a + b, 0), 12);
    expect(glo.item()).toBeCloseTo(u.reduce((a, b) => a + 1 - b, 0), 12);
  });
});

describe("normal", () => {
  it("has standard normal moments and tails, in float32 and float64", () => {
    for (const dtype of DTYPES) {
      const v = vals(random.normal(random.key(4), [10000], { dtype }));
      expect(v.every(Number.isFinite)).toBe(true);
      expect(Math.abs(mean(v))).toBeLessThan(0.03);
      expect(Math.abs(variance(v) - 1)).toBeLessThan(0.05);
      const within1 = v.filter((x) => Math.abs(x) < 1).length / v.length;
      expect(Math.abs(within1 - 0.6827)).toBeLessThan(0.015);
      const beyond2 = v.filter((x) => Math.abs(x) > 2).length / v.length;
      expect(Math.abs(beyond2 - 0.0455)).toBeLessThan(0.008);
    }
  });

  it("is sqrt(2) erfInv of a uniform on (-1, 1)", () => {
    const k = random.key(5);
    const z = random.normal(k, [7], { dtype: "float64" });
    const u = random.uniform(k, [7], { dtype: "float64", minval: -1 + 2 ** -53, maxval: 1 });
    // erf(z / sqrt 2) recovers u.
    expectClose(np.erf(np.divide(z, Math.SQRT2)), u, 1e-12);
  });

  it("lets grad flow through the samples' use with a fixed key", () => {
    const k = random.key(6);
    const x = np.array([1, 2, 3]);
    const g = grad((x: ArrayBase) => {
      const [k1] = random.split(k);
      return np.sum(np.multiply(x, random.normal(k1!, [3])));
    })(x);
    const [k1] = random.split(k);
    expectClose(g, random.normal(k1!, [3]), 1e-7);
  });
});

describe("truncatedNormal", () => {
  it("stays strictly inside (lower, upper) and has the truncated mean", () => {
    const cases: [number, number][] = [[-0.5, 0.3], [2, 3], [-1, 1], [0, 2], [-8, -7.5]];
    for (const dtype of DTYPES) {
      for (const [a, b] of cases) {
        const v = vals(random.truncatedNormal(random.key(7), a, b, [5000], { dtype }));
        expect(Math.min(...v)).toBeGreaterThan(a);
        expect(Math.max(...v)).toBeLessThan(b);
        const Z = Phi(b) - Phi(a);
        if (Z > 1e-6) {
          const m = (phi(a) - phi(b)) / Z;
          expect(Math.abs(mean(v) - m)).toBeLessThan(0.03 * (b - a) + 0.01);
        }
      }
    }
  });

  it("takes its shape from array bounds and keeps every element inside its own bounds", () => {
    const lo = np.array([[-1], [0.5]]);
    const hi = np.array([0, 1, 2]);
    const t = random.truncatedNormal(random.key(8), lo, hi);
    expect(t.shape).toEqual([2, 3]);
    const rows = t.toArray() as number[][];
    rows.forEach((row, r) =>
      row.forEach((x, c) => {
        const a = r === 0 ? -1 : 0.5;
        if (a < c) {
          expect(x).toBeGreaterThan(a);
          expect(x).toBeLessThan(c);
        }
      }),
    );
    // An explicit shape broadcasts the bounds' shapes.
    expect(random.truncatedNormal(random.key(8), lo, hi, [4, 2, 3]).shape).toEqual([4, 2, 3]);
  });

  it("is differentiable in its bounds", () => {
    const k = random.key(9);
    checkGrad((lo: ArrayBase, hi: ArrayBase) => random.truncatedNormal(k, lo, hi, [3], { dtype: "float64" }), [
      np.array([-0.5, 0, 1], { dtype: "float64" }) as NDArray,
      np.array([0.5, 1, 2.5], { dtype: "float64" }) as NDArray,
    ], { tol: 1e-4 });
  });
});

describe("gumbel", () => {
  it("has the Gumbel mean and variance", () => {
    const v = vals(random.gumbel(random.key(10), [10000]));
    expect(Math.abs(mean(v) - 0.5772156649)).toBeLessThan(0.04);
    expect(Math.abs(variance(v) - Math.PI ** 2 / 6)).toBeLessThan(0.1);
  });
});

describe("continuous samplers under transforms", () => {
  const keys = random.split(random.key(12), 4) as unknown as NDArray;

  it("vmap over keys equals a loop", () => {
    checkVmap((k: ArrayBase) => random.uniform(k, [3]), [keys], 0);
    checkVmap((k: ArrayBase) => random.normal(k, [2, 2], { dtype: "float64" }), [keys], 0);
    checkVmap((k: ArrayBase) => random.truncatedNormal(k, -1, 2, [3]), [keys], 0);
    checkVmap((k: ArrayBase) => random.gumbel(k, [3]), [keys], 0);
    // Keys and bounds mapped together.
    const lows = np.array([0, 1, 2, 3]) as NDArray;
    checkVmap((k: ArrayBase, lo: ArrayBase) => random.uniform(k, [2], { minval: lo, maxval: 5 }), [keys, lows], 0);
  });

  it("traces to a well-typed jaxpr through every transform", () => {
    const k = random.key(13);
    const f = (lo: ArrayBase) => random.truncatedNormal(k, lo, np.add(lo, 1), [3]);
    const j = makeJaxpr(f)(np.array([0, 1, 2]));
    typecheck(j);
    expect(j.toString()).toMatch(/threefry2x32[\s\S]*bits_to_uniform[\s\S]*erf_inv/);
    typecheckTransforms(f, [np.array([0, 1, 2])]);
    typecheckTransforms((key: ArrayBase) => random.normal(key, [2]), [k]);
  });

  it("names the op and the bad argument in errors", () => {
    const k = random.key(0);
    expect(() => random.uniform(k, [2], { dtype: "int32" })).toThrow(DTypeError);
    expect(() => random.uniform(k, [2], { dtype: "int32" })).toThrow(/random.uniform: dtype must be float32 or float64, got int32[\s\S]*hint: use random.randint/);
    expect(() => random.normal(k, [2], { dtype: "bool" })).toThrow(/random.normal: dtype must be float32 or float64, got bool/);
    expect(() => random.uniform(k, [2], { minval: np.zeros([3]) })).toThrow(ShapeError);
    expect(() => random.uniform(k, [2], { minval: np.zeros([3]) })).toThrow(/random.uniform: parameter shapes \[3\], \[\] must broadcast to the shape argument \[2\]/);
    expect(() => random.uniform(k, [3], { maxval: np.ones([2, 3]) })).toThrow(/broadcasting gives \[2, 3\]/);
    expect(() => random.normal(k, [-2])).toThrow(/random.normal: shape must be a shape \(a non-negative integer or a list of them\), got \[-2\]/);
    expect(() => random.truncatedNormal(k, np.zeros([2]), np.ones([3]))).toThrow(/random.truncatedNormal: lower of shape \[2\] and upper of shape \[3\] do not broadcast/);
    expect(() => random.normal(np.zeros([2]), [2])).toThrow(/random.normal: key must be an int32 array/);
  });
});
