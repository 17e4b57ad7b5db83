/**
 * Float results of elementwise ops and of Wasm GEMMs start as uninitialized memory
 * (dtype.ts, `uninitializedFloatArray`): their kernels must write every element. With the
 * test hook on, every such array starts as NaN, so an element a kernel skipped shows as a
 * NaN against the plain reference, on every path (Wasm SIMD and JS), broadcasting, odd sizes
 * and size 0, in float32 and float64.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NDArray, np } from "@cotangent/core";
import { setPoisonUninitialized, uninitializedFloatArray } from "../src/dtype.js";
import { setKernelPath } from "../src/kernels/wasm/runtime.js";
import { rng, sizeOf } from "./reference_util.js";

const randData = (n: number, seed: number): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => r() * 4 - 2);
};
const close = (got: ArrayLike<number>, want: ArrayLike<number>, dtype: "float32" | "float64") => {
  expect(got.length).toBe(want.length);
  const tol = dtype === "float32" ? 1e-4 : 1e-10;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(g) || Math.abs(g - w) > tol * (1 + Math.abs(w))) throw new Error(`element ${i}: got ${g}, want ${w}`);
  }
};

beforeAll(() => setPoisonUninitialized(true));
afterAll(() => {
  setPoisonUninitialized(false);
  setKernelPath("auto");
});

describe("uninitialized float results", () => {
  it("are the requested dtype and size, with the zero-fill skipped only for large arrays (their contents are then whatever the kernel writes)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      for (const n of [0, 1, 7, 1 << 14, (1 << 16) + 3]) {
        const a = uninitializedFloatArray(dtype, n);
        expect(a).toBeInstanceOf(dtype === "float32" ? Float32Array : Float64Array);
        expect(a.length).toBe(n);
        expect(a.byteOffset % 8).toBe(0);
        // The hook fills each one with NaN.
        expect(Array.from(a.subarray(0, 3)).every(Number.isNaN)).toBe(true);
      }
    }
  });

  it("elementwise binary (broadcasting) and unary ops write every element (f32, f64, both kernel paths)", () => {
    const binary: [string, (a: NDArray, b: NDArray) => NDArray, (a: number, b: number) => number][] = [
      ["add", (a, b) => np.add(a, b) as NDArray, (a, b) => a + b],
      ["multiply", (a, b) => np.multiply(a, b) as NDArray, (a, b) => a * b],
      ["subtract", (a, b) => np.subtract(a, b) as NDArray, (a, b) => a - b],
      ["maximum", (a, b) => np.maximum(a, b) as NDArray, (a, b) => Math.max(a, b)],
    ];
    const unary: [string, (a: NDArray) => NDArray, (a: number) => number][] = [
      ["exp", (a) => np.exp(a) as NDArray, Math.exp],
      ["tanh", (a) => np.tanh(a) as NDArray, Math.tanh],
      ["negative", (a) => np.negative(a) as NDArray, (a) => -a],
      ["square", (a) => np.square(a) as NDArray, (a) => a * a],
    ];
    fc.assert(
      fc.property(
        fc.constantFrom("float32" as const, "float64" as const),
        fc.constantFrom("simd" as const, "js" as const),
        fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 130 })),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        (dtype, path, shape, keep, seed) => {
          setKernelPath(path);
          const bShape = shape.map((d, i) => (keep[i] ? d : 1));
          const a = np.array(randData(sizeOf(shape), seed), { dtype, shape }) as NDArray;
          const b = np.array(randData(sizeOf(bShape), seed + 1), { dtype, shape: bShape }) as NDArray;
          const av = a.toTypedArray();
          const bv = b.toTypedArray();
          for (const [, f, ref] of binary) {
            const want: number[] = [];
            const [, n1, n2] = shape;
            const [b0, b1, b2] = bShape;
            for (let i = 0; i < shape[0]; i++)
              for (let j = 0; j < n1; j++)
                for (let l = 0; l < n2; l++) want.push(ref(av[(i * n1 + j) * n2 + l]!, bv[((b0 === 1 ? 0 : i) * b1 + (b1 === 1 ? 0 : j)) * b2 + (b2 === 1 ? 0 : l)]!));
            close(f(a, b).toTypedArray(), dtype === "float32" ? Float32Array.from(want) : want, dtype);
          }
          for (const [, f, ref] of unary) close(f(a).toTypedArray(), Array.from(av, ref), dtype);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("batched Wasm GEMMs write every element, k = 0 included (f32, f64, odd sizes)", () => {
    setKernelPath("simd");
    fc.assert(
      fc.property(
        fc.constantFrom("float32" as const, "float64" as const),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 33, max: 300 }),
        fc.integer({ min: 30, max: 97 }),
        fc.integer({ min: 0, max: 9 }),
        (dtype, batch, m, n, k) => {
          const a = np.array(randData(batch * m * k, m), { dtype, shape: [batch, m, k] }) as NDArray;
          const b = np.array(randData(batch * k * n, n), { dtype, shape: [batch, k, n] }) as NDArray;
          const got = (np.matmul(a, b) as NDArray).toTypedArray();
          const av = a.toTypedArray();
          const bv = b.toTypedArray();
          const want = new Float64Array(batch * m * n);
          for (let t = 0; t < batch; t++)
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let s = 0;
                for (let p = 0; p < k; p++) s += av[t * m * k + i * k + p]! * bv[t * k * n + p * n + j]!;
                want[t * m * n + i * n + j] = s;
              }
          close(got, want, dtype);
        },
      ),
      { numRuns: 25 },
    );
  });
});
