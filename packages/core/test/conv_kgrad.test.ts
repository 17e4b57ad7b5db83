/**
 * The kernel-gradient convolution kernel (kernels/conv_kgrad.ts): convolutions whose window
 * is as large as the input and whose output is small (the kernel gradient's shape), 1-D and
 * 2-D, odd sizes, masked window tails, remainder channel and output blocks, the NCHW / CNHW /
 * OIHW / IOHW layouts, float32 and float64, relaxed-SIMD and SIMD, against a float64 loop and
 * against the other paths; split across threads with the same bits as one thread.
 */
import v8 from "node:v8";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type NDArray, lax, np, valueAndGrad } from "@cotangent/core";
import { directKind } from "../src/kernels/conv_direct.js";
import { setConvKernelGrad } from "../src/kernels/conv_kgrad.js";
import { type KernelPath, setKernelPath } from "../src/kernels/wasm/runtime.js";
import { setThreads, threadsReady } from "../src/kernels/wasm/threads.js";
import { rng, sizeOf } from "./reference_util.js";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
afterAll(() => {
  v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  setKernelPath("auto");
  setConvKernelGrad(true);
  setThreads(2);
});

type DT = "float32" | "float64";
const SIMD_PATHS: KernelPath[] = ["relaxed-simd", "simd"];

const randArray = (shape: number[], seed: number, dtype: DT): NDArray => {
  const r = rng(seed);
  return np.array(Float64Array.from({ length: sizeOf(shape) }, () => r() * 2 - 1), { dtype, shape }) as NDArray;
};

/** A convolution of x [n, c, ...size] with w [o, c, ...win], padded so the output is `out`. */
interface Case {
  n: number;
  c: number;
  o: number;
  size: number[];
  win: number[];
  pad: [number, number][];
  lhsT: boolean;
  rhsT: boolean;
  outT: boolean;
  dtype: DT;
  seed: number;
}

const outOf = (k: Case) => k.size.map((s, d) => s + k.pad[d]![0] + k.pad[d]![1] - k.win[d]! + 1);

/** Canonical [n, o, ...out] in float64 and the sums of |products| (the error scale). */
const reference = (k: Case, x: ArrayLike<number>, w: ArrayLike<number>) => {
  const two = (xs: number[], one: number) => (xs.length === 2 ? xs : [one, xs[0]!]);
  const [H, W] = two(k.size, 1);
  const [kh, kw] = two(k.win, 1);
  const [ph, pw] = k.pad.length === 2 ? [k.pad[0]![0], k.pad[1]![0]] : [0, k.pad[0]![0]];
  const [oh, ow] = two(outOf(k), 1);
  const want = new Float64Array(k.n * k.o * oh * ow);
  const scale = new Float64Array(want.length);
  for (let b = 0; b < k.n; b++)
    for (let o = 0; o < k.o; o++)
      for (let y = 0; y < oh; y++)
        for (let z = 0; z < ow; z++) {
          let s = 0;
          let a = 0;
          for (let i = 0; i < k.c; i++)
            for (let p = 0; p < kh; p++)
              for (let q = 0; q < kw; q++) {
                const yy = y + p - ph;
                const zz = z + q - pw;
                if (yy < 0 || yy >= H || zz < 0 || zz >= W) continue;
                const v = x[((b * k.c + i) * H + yy) * W + zz]! * w[((o * k.c + i) * kh + p) * kw + q]!;
                s += v;
                a += Math.abs(v);
              }
          const at = ((b * k.o + o) * oh + y) * ow + z;
          want[at] = s;
          scale[at] = a;
        }
  return { want, scale };
};

const run = (k: Case, x: NDArray, w: NDArray): NDArray => {
  const sp = k.size.length === 2 ? "HW" : "H";
  const swap = (a: NDArray) => np.swapaxes(a, 0, 1) as NDArray;
  const got = lax.convGeneralDilated(k.lhsT ? swap(x) : x, k.rhsT ? swap(w) : w, k.size.map(() => 1), k.pad, {
    dimensionNumbers: [k.lhsT ? `CN${sp}` : `NC${sp}`, k.rhsT ? `IO${sp}` : `OI${sp}`, k.outT ? `CN${sp}` : `NC${sp}`],
  }) as NDArray;
  return k.outT ? swap(got) : got;
};

const geometryOf = (k: Case) => ({
  batch: k.n,
  inFeatures: k.c,
  outFeatures: k.o,
  kernelInFeatures: k.c,
  featureGroups: 1,
  batchGroups: 1,
  inSpatial: k.size,
  window: k.win,
  outSpatial: outOf(k),
  strides: k.size.map(() => 1),
  padLow: k.pad.map((p) => p[0]),
  lhsDilation: k.size.map(() => 1),
  rhsDilation: k.size.map(() => 1),
});

const expectWithin = (got: NDArray, want: Float64Array, scale: Float64Array, dtype: DT) => {
  const g = got.toTypedArray();
  expect(g.length).toBe(want.length);
  const eps = dtype === "float32" ? 2 ** -23 : 2 ** -52;
  for (let i = 0; i < want.length; i++) {
    const tol = 64 * eps * (scale[i]! + 1e-30);
    if (!(Math.abs(g[i]! - want[i]!) <= tol)) expect.fail(`element ${i}: got ${g[i]}, want ${want[i]} (tol ${tol})`);
  }
};

/** Windows as large as the input, outputs 1..5 wide (remainder output blocks), 1..9 channels (remainder channel blocks). */
const cases = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 5 }),
    o: fc.integer({ min: 1, max: 9 }),
    twoD: fc.boolean(),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 2, max: 19 }),
    outH: fc.integer({ min: 1, max: 3 }),
    outW: fc.integer({ min: 1, max: 5 }),
    padL: fc.integer({ min: 0, max: 2 }),
    lhsT: fc.boolean(),
    rhsT: fc.boolean(),
    outT: fc.boolean(),
    dtype: fc.constantFrom<DT>("float32", "float64"),
    seed: fc.integer(),
  })
  .map(({ twoD, h, w, outH, outW, padL, ...r }): Case => {
    const padW: [number, number] = [Math.min(padL, outW - 1), outW - 1 - Math.min(padL, outW - 1)];
    const padH: [number, number] = [Math.min(padL, outH - 1), outH - 1 - Math.min(padL, outH - 1)];
    return { ...r, size: twoD ? [h, w] : [w], win: twoD ? [h, w] : [w], pad: twoD ? [padH, padW] : [padW] };
  });

describe("kernel-gradient convolution kernel", () => {
  it("matches a float64 loop and the window kernel it replaces: layouts, odd sizes, tails, remainder blocks, 1-D and 2-D", () => {
    setThreads(1);
    let taken = 0;
    fc.assert(
      fc.property(cases, (k) => {
        const x = randArray([k.n, k.c, ...k.size], k.seed, k.dtype);
        const w = randArray([k.o, k.c, ...k.win], k.seed + 1, k.dtype);
        const { want, scale } = reference(k, x.toTypedArray(), w.toTypedArray());
        for (const path of SIMD_PATHS) {
          setKernelPath(path);
          if (directKind(geometryOf(k), k.dtype) === "window") taken++;
          expectWithin(run(k, x, w), want, scale, k.dtype);
          setConvKernelGrad(false);
          expectWithin(run(k, x, w), want, scale, k.dtype);
          setConvKernelGrad(true);
        }
      }),
      { numRuns: 50 },
    );
    // Most cases really take this kernel (the others: windows narrower than a vector).
    expect(taken).toBeGreaterThan(40);
  });

  it("splits across threads (ranges of the contraction, staged channel blocks) with the same bits as one thread", async () => {
    setKernelPath("auto");
    for (const dtype of ["float32", "float64"] as const) {
      // The kernel gradient of a W7-like convolution: over 2^21 flops, so it is split.
      const k: Case = { n: 3, c: 9, o: 13, size: [24, 25], win: [24, 25], pad: [[1, 1], [1, 1]], lhsT: true, rhsT: true, outT: true, dtype, seed: 5 };
      expect(directKind(geometryOf(k), dtype)).toBe("window");
      const x = randArray([k.n, k.c, ...k.size], 7, dtype);
      const w = randArray([k.o, k.c, ...k.win], 8, dtype);
      setThreads(1);
      const one = run(k, x, w);
      setThreads(2);
      expect(await threadsReady()).toBe(2);
      const both = run(k, x, w);
      expect(Array.from(both.toTypedArray())).toEqual(Array.from(one.toTypedArray()));
      const { want, scale } = reference(k, x.toTypedArray(), w.toTypedArray());
      expectWithin(both, want, scale, dtype);
    }
  });

  it("the gradients of a convolution through it agree with the im2col + GEMM path", () => {
    setKernelPath("auto");
    for (const dtype of ["float32", "float64"] as const) {
      const x = randArray([5, 3, 11, 13], 1, dtype);
      const w = randArray([7, 3, 3, 3], 2, dtype);
      const g = randArray([5, 7, 11, 13], 3, dtype);
      const loss = (x: NDArray, w: NDArray) => np.sum(np.multiply(lax.convGeneralDilated(x, w, [1, 1], "SAME"), g));
      const grads = () => (valueAndGrad(loss, { argnums: [0, 1] })(x, w) as [NDArray, [NDArray, NDArray]])[1][1].toTypedArray();
      const ours = grads();
      setConvKernelGrad(false);
      const other = grads();
      setConvKernelGrad(true);
      const tol = dtype === "float32" ? 1e-4 : 1e-12;
      ours.forEach((v, i) => expect(Math.abs(v - other[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
    }
  });

  it("a masked window tail never multiplies a neighbouring infinity into a NaN", () => {
    // Image 1 holds an infinity right after image 0's 5-wide window (a vector and a 1-wide tail).
    const x = np.array([[[1, 2, 3, 4, 5]], [[Infinity, 0, 0, 0, 0]]]);
    const w = np.array([[[1, 1, 1, 1, 1]]]);
    for (const path of SIMD_PATHS) {
      setKernelPath(path);
      expect((lax.convGeneralDilated(x, w, [1], "VALID") as NDArray).toArray()).toEqual([[[15]], [[Infinity]]]);
    }
  });

  it("empty operands take the other paths and give empty or zero results", () => {
    setKernelPath("auto");
    expect((lax.convGeneralDilated(np.zeros([0, 3, 8, 8]), np.zeros([4, 3, 8, 8]), [1, 1], [[1, 1], [1, 1]]) as NDArray).shape).toEqual([0, 4, 3, 3]);
    expect((lax.convGeneralDilated(np.zeros([2, 0, 8, 8]), np.zeros([4, 0, 8, 8]), [1, 1], [[1, 1], [1, 1]]) as NDArray).toArray()).toEqual(np.zeros([2, 4, 3, 3]).toArray());
    expect((lax.convGeneralDilated(np.zeros([2, 3, 8, 8]), np.zeros([0, 3, 8, 8]), [1, 1], [[1, 1], [1, 1]]) as NDArray).shape).toEqual([2, 0, 3, 3]);
  });
});
