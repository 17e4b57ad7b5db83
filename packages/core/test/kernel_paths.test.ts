/**
 * Every kernel path (relaxed SIMD, plain SIMD, JS) agrees with float64 references on the
 * same random cases: dot_general with batch axes and transposed (non-contiguous) operands,
 * and grouped/strided/padded convolutions, in float32 and float64, with odd and zero sizes.
 */
import v8 from "node:v8";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { type NDArray, lax, np } from "@cotangent/core";
import { type KernelPath, setKernelPath } from "../src/kernels/wasm/runtime.js";
import { GEMM_BLOCKING } from "../src/kernels/wasm/gemm.js";
import { rng, sizeOf } from "./reference_util.js";

// Node 20's V8 has relaxed SIMD behind a flag: turn it on so that path runs here too.
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

const PATHS: KernelPath[] = ["relaxed-simd", "simd", "js"];
afterAll(() => {
  // Other test files may share this process: leave the engine as it was.
  v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  setKernelPath("auto");
});

type DT = "float32" | "float64";
const randArray = (shape: number[], seed: number, dtype: DT): NDArray => {
  const r = rng(seed);
  return np.array(Float64Array.from({ length: sizeOf(shape) }, () => r() * 2 - 1), { dtype, shape }) as NDArray;
};

/** |got - want| <= tol * (sum over the contraction of |a||b|): the error bound of a sum of k products. */
const expectMatch = (got: NDArray, want: Float64Array, scale: Float64Array, dtype: DT) => {
  const g = got.toTypedArray();
  expect(g.length).toBe(want.length);
  const eps = dtype === "float32" ? 2 ** -23 : 2 ** -52;
  for (let i = 0; i < want.length; i++) {
    const tol = 4 * eps * (scale[i]! + 1e-30) * 8 + (dtype === "float32" ? 1e-30 : 0);
    if (!(Math.abs(g[i]! - want[i]!) <= tol)) expect.fail(`element ${i}: got ${g[i]}, want ${want[i]} (tol ${tol})`);
  }
};

describe("kernel paths", () => {
  it("relaxed SIMD, SIMD and JS are all available here (the flag above enables relaxed SIMD)", () => {
    for (const p of PATHS) expect(setKernelPath(p)).toBe(p);
  });

  it("batched matmul with transposed operands matches a float64 triple loop on every path", () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 0, max: 3 }),
          m: fc.integer({ min: 0, max: 37 }),
          n: fc.integer({ min: 0, max: 37 }),
          k: fc.integer({ min: 0, max: 70 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          dtype: fc.constantFrom<DT>("float32", "float64"),
          seed: fc.integer(),
        }),
        ({ batch, m, n, k, transA, transB, dtype, seed }) => {
          // Stored as [batch, k, m] when transA (then swapped), so the kernel reads a non-contiguous view.
          const a0 = randArray(transA ? [batch, k, m] : [batch, m, k], seed, dtype);
          const b0 = randArray(transB ? [batch, n, k] : [batch, k, n], seed + 1, dtype);
          const a = transA ? np.swapaxes(a0, 1, 2) : a0;
          const b = transB ? np.swapaxes(b0, 1, 2) : b0;
          const av = a.toTypedArray();
          const bv = b.toTypedArray();
          const want = new Float64Array(batch * m * n);
          const scale = new Float64Array(batch * m * n);
          for (let t = 0; t < batch; t++)
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let s = 0;
                let z = 0;
                for (let p = 0; p < k; p++) {
                  const x = av[t * m * k + i * k + p]! * bv[t * k * n + p * n + j]!;
                  s += x;
                  z += Math.abs(x);
                }
                want[t * m * n + i * n + j] = s;
                scale[t * m * n + i * n + j] = z;
              }
          for (const p of PATHS) {
            setKernelPath(p);
            const got = np.matmul(a, b) as NDArray;
            expect(got.shape).toEqual([batch, m, n]);
            expect(got.dtype).toBe(dtype);
            expectMatch(got, want, scale, dtype);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("sizes around the register and cache blocks (k across KC, m across MC) agree with the JS path", () => {
    const { kc, mc, mr, nr } = GEMM_BLOCKING.float32;
    for (const [m, n, k] of [
      [mc + 1, nr + 1, kc + 1],
      [mr - 1, 3 * nr - 1, 2 * kc - 1],
      [1, 300, 40],
      [300, 1, 40],
    ] as const) {
      for (const dtype of ["float32", "float64"] as const) {
        const a = randArray([m, k], m * k, dtype);
        const b = randArray([k, n], n + k, dtype);
        setKernelPath("js");
        const ref = (np.matmul(a.astype("float64"), b.astype("float64")) as NDArray).toTypedArray();
        const absRef = (np.matmul(np.abs(a).astype("float64"), np.abs(b).astype("float64")) as NDArray).toTypedArray() as Float64Array;
        for (const p of PATHS) {
          setKernelPath(p);
          expectMatch(np.matmul(a, b) as NDArray, ref as Float64Array, absRef, dtype);
        }
      }
    }
  });

  it("2-D convolutions (strides, padding, feature groups incl. depthwise) match a direct float64 loop on every path", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 0, max: 2 }),
          groups: fc.integer({ min: 1, max: 3 }),
          inPer: fc.integer({ min: 1, max: 3 }),
          outPer: fc.integer({ min: 1, max: 5 }),
          h: fc.integer({ min: 1, max: 9 }),
          w: fc.integer({ min: 1, max: 9 }),
          kh: fc.integer({ min: 1, max: 3 }),
          kw: fc.integer({ min: 1, max: 3 }),
          stride: fc.integer({ min: 1, max: 2 }),
          pad: fc.integer({ min: 0, max: 2 }),
          dtype: fc.constantFrom<DT>("float32", "float64"),
          seed: fc.integer(),
        }),
        ({ n, groups, inPer, outPer, h, w, kh, kw, stride, pad, dtype, seed }) => {
          const C = groups * inPer;
          const O = groups * outPer;
          const x = randArray([n, C, h, w], seed, dtype);
          const k = randArray([O, inPer, kh, kw], seed + 7, dtype);
          const oh = Math.max(0, Math.floor((h + 2 * pad - kh) / stride) + 1);
          const ow = Math.max(0, Math.floor((w + 2 * pad - kw) / stride) + 1);
          const xv = x.toTypedArray();
          const kv = k.toTypedArray();
          const want = new Float64Array(n * O * oh * ow);
          const scale = new Float64Array(want.length);
          for (let b = 0; b < n; b++)
            for (let o = 0; o < O; o++)
              for (let y = 0; y < oh; y++)
                for (let z = 0; z < ow; z++) {
                  const g = Math.floor(o / outPer);
                  let s = 0;
                  let a = 0;
                  for (let i = 0; i < inPer; i++)
                    for (let p = 0; p < kh; p++)
                      for (let q = 0; q < kw; q++) {
                        const yy = y * stride + p - pad;
                        const zz = z * stride + q - pad;
                        if (yy < 0 || yy >= h || zz < 0 || zz >= w) continue;
                        const v = xv[((b * C + g * inPer + i) * h + yy) * w + zz]! * kv[((o * inPer + i) * kh + p) * kw + q]!;
                        s += v;
                        a += Math.abs(v);
                      }
                  const at = ((b * O + o) * oh + y) * ow + z;
                  want[at] = s;
                  scale[at] = a;
                }
          for (const path of PATHS) {
            setKernelPath(path);
            const got = lax.convGeneralDilated(x, k, [stride, stride], [[pad, pad], [pad, pad]], { featureGroupCount: groups }) as NDArray;
            expect(got.shape).toEqual([n, O, oh, ow]);
            expectMatch(got, want, scale, dtype);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("kernel fallback", () => {
  it("a Wasm module the engine refuses falls back to the JS path with one warning, and the answer is right", async () => {
    const { vi } = await import("vitest");
    const { clearGemmCache } = await import("../src/kernels/wasm/gemm.js");
    const { resetWarnings } = await import("../src/kernels/wasm/runtime.js");
    const a = randArray([20, 30], 1, "float32");
    const b = randArray([30, 40], 2, "float32");
    setKernelPath("js");
    const want = (np.matmul(a, b) as NDArray).toTypedArray();
    setKernelPath("relaxed-simd");
    clearGemmCache();
    resetWarnings();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const real = WebAssembly.Module;
    (WebAssembly as any).Module = function () {
      throw new WebAssembly.CompileError("no SIMD here (simulated)");
    };
    try {
      const got = (np.matmul(a, b) as NDArray).toTypedArray();
      const again = (np.matmul(b.T, a.T) as NDArray).toTypedArray();
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(again.length).toBe(want.length);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/gemm kernel could not be compiled \(relaxed-simd: no SIMD here \(simulated\); simd: no SIMD here \(simulated\)\); using the js path/);
    } finally {
      (WebAssembly as any).Module = real;
      warn.mockRestore();
      clearGemmCache();
      setKernelPath("auto");
    }
  });
});
