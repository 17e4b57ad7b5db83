/**
 * The direct convolution kernels (kernels/conv_direct.ts): stride-1 1-D and 2-D convolutions
 * with rhs dilation, asymmetric and negative padding, feature groups and the NCHW / CNHW /
 * OIHW / IOHW layouts the gradients use, in float32 and float64, on the relaxed-SIMD and
 * SIMD paths and across two threads, against a float64 loop; the gradients of a convolution
 * against the im2col + GEMM path.
 */
import v8 from "node:v8";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { type NDArray, lax, np, valueAndGrad } from "@cotangent/core";
import { setPoisonUninitialized } from "../src/dtype.js";
import { directKind, setConvDirect } from "../src/kernels/conv_direct.js";
import { type KernelPath, setKernelPath } from "../src/kernels/wasm/runtime.js";
import { setThreads, threadsReady } from "../src/kernels/wasm/threads.js";
import { rng, sizeOf } from "./reference_util.js";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
// Results are allocated unzeroed: poisoned with NaN, an element a kernel forgot to write shows.
setPoisonUninitialized(true);
afterAll(() => {
  setPoisonUninitialized(false);
  v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  setKernelPath("auto");
  setConvDirect(true);
  setThreads(2);
});

type DT = "float32" | "float64";
const SIMD_PATHS: KernelPath[] = ["relaxed-simd", "simd"];

const randArray = (shape: number[], seed: number, dtype: DT): NDArray => {
  const r = rng(seed);
  return np.array(Float64Array.from({ length: sizeOf(shape) }, () => r() * 2 - 1), { dtype, shape }) as NDArray;
};

interface Case {
  n: number;
  groups: number;
  inPer: number;
  outPer: number;
  /** Spatial sizes, windows, rhs dilations and (low, high) pads; one entry per spatial axis. */
  size: number[];
  win: number[];
  dil: number[];
  pad: [number, number][];
  /** Layouts: lhs CNHW instead of NCHW, rhs IOHW instead of OIHW, out CNHW instead of NCHW. */
  lhsT: boolean;
  rhsT: boolean;
  outT: boolean;
  dtype: DT;
  seed: number;
}

const outSizes = (c: Case): number[] => c.size.map((s, d) => Math.max(0, s + c.pad[d]![0] + c.pad[d]![1] - (c.win[d]! - 1) * c.dil[d]!));

/** Canonical [n, O, ...out] result and the sums of |products| (the error scale) in float64. */
const reference = (c: Case, x: Float64Array | Float32Array, k: Float64Array | Float32Array) => {
  const C = c.groups * c.inPer;
  const O = c.groups * c.outPer;
  const [H, W] = c.size.length === 2 ? c.size : [1, c.size[0]!];
  const [kh, kw] = c.win.length === 2 ? c.win : [1, c.win[0]!];
  const [dh, dw] = c.dil.length === 2 ? c.dil : [1, c.dil[0]!];
  const [ph, pw] = c.pad.length === 2 ? [c.pad[0]![0], c.pad[1]![0]] : [0, c.pad[0]![0]];
  const out = outSizes(c);
  const [oh, ow] = out.length === 2 ? out : [1, out[0]!];
  const want = new Float64Array(c.n * O * oh * ow);
  const scale = new Float64Array(want.length);
  for (let b = 0; b < c.n; b++)
    for (let o = 0; o < O; o++)
      for (let y = 0; y < oh; y++)
        for (let z = 0; z < ow; z++) {
          const g = Math.floor(o / c.outPer);
          let s = 0;
          let a = 0;
          for (let i = 0; i < c.inPer; i++)
            for (let p = 0; p < kh; p++)
              for (let q = 0; q < kw; q++) {
                const yy = y + p * dh - ph;
                const zz = z + q * dw - pw;
                if (yy < 0 || yy >= H || zz < 0 || zz >= W) continue;
                const v = x[((b * C + g * c.inPer + i) * H + yy) * W + zz]! * k[((o * c.inPer + i) * kh + p) * kw + q]!;
                s += v;
                a += Math.abs(v);
              }
          const at = ((b * O + o) * oh + y) * ow + z;
          want[at] = s;
          scale[at] = a;
        }
  return { want, scale };
};

/** Runs the convolution of `c` through lax with its layouts; returns the canonical result. */
const run = (c: Case, x: NDArray, k: NDArray): NDArray => {
  const sp = c.size.length === 2 ? "HW" : "H";
  const swap = (a: NDArray) => np.swapaxes(a, 0, 1) as NDArray;
  const got = lax.convGeneralDilated(c.lhsT ? swap(x) : x, c.rhsT ? swap(k) : k, c.size.map(() => 1), c.pad, {
    rhsDilation: c.dil,
    featureGroupCount: c.groups,
    dimensionNumbers: [c.lhsT ? `CN${sp}` : `NC${sp}`, c.rhsT ? `IO${sp}` : `OI${sp}`, c.outT ? `CN${sp}` : `NC${sp}`],
  }) as NDArray;
  return c.outT ? swap(got) : got;
};

const expectClose = (got: NDArray, want: Float64Array, scale: Float64Array, dtype: DT) => {
  const g = got.toTypedArray();
  expect(g.length).toBe(want.length);
  const eps = dtype === "float32" ? 2 ** -23 : 2 ** -52;
  for (let i = 0; i < want.length; i++) {
    const tol = 32 * eps * (scale[i]! + 1e-30);
    if (!(Math.abs(g[i]! - want[i]!) <= tol)) expect.fail(`element ${i}: got ${g[i]}, want ${want[i]} (tol ${tol})`);
  }
};

const geometryOf = (c: Case) => ({
  batch: c.n,
  inFeatures: c.groups * c.inPer,
  outFeatures: c.groups * c.outPer,
  kernelInFeatures: c.inPer,
  featureGroups: c.groups,
  batchGroups: 1,
  inSpatial: c.size,
  window: c.win,
  outSpatial: outSizes(c),
  strides: c.size.map(() => 1),
  padLow: c.pad.map((p) => p[0]),
  lhsDilation: c.size.map(() => 1),
  rhsDilation: c.dil,
});

const layoutArb = { lhsT: fc.boolean(), rhsT: fc.boolean(), outT: fc.boolean(), dtype: fc.constantFrom<DT>("float32", "float64"), seed: fc.integer() };

/** Small windows over wider outputs: the rows kernel (and its shifted last block, remainder channel blocks). */
const rowsCase = fc
  .record({
    n: fc.integer({ min: 0, max: 3 }),
    groups: fc.integer({ min: 1, max: 3 }),
    inPer: fc.integer({ min: 1, max: 4 }),
    outPer: fc.integer({ min: 1, max: 9 }),
    twoD: fc.boolean(),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 21 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    pads: fc.tuple(fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 })),
    ...layoutArb,
  })
  .map(({ twoD, h, w, kh, kw, dh, dw, pads, ...r }): Case => ({
    ...r,
    size: twoD ? [h, w] : [w],
    win: twoD ? [kh, kw] : [kw],
    dil: twoD ? [dh, dw] : [dw],
    pad: twoD ? [[pads[0], pads[1]], [pads[2], pads[3]]] : [[pads[2], pads[3]]],
  }))
  .filter((c) => outSizes(c).every((s) => s >= 0) && c.size.every((s, d) => s + c.pad[d]![0] + c.pad[d]![1] >= 0));

/** Windows as large as the input, few outputs: the window kernel (a kernel gradient's shape). */
const windowCase = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    inPer: fc.integer({ min: 1, max: 4 }),
    outPer: fc.integer({ min: 1, max: 9 }),
    twoD: fc.boolean(),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 2, max: 19 }),
    outH: fc.integer({ min: 1, max: 3 }),
    outW: fc.integer({ min: 1, max: 4 }),
    padL: fc.integer({ min: 0, max: 2 }),
    ...layoutArb,
  })
  .map(({ twoD, h, w, outH, outW, padL, ...r }): Case => {
    // Window = padded input - output + 1, with padL low and the rest high.
    const padW: [number, number] = [padL, outW - 1 - padL];
    const padH: [number, number] = [Math.min(padL, outH - 1), outH - 1 - Math.min(padL, outH - 1)];
    return { ...r, groups: 1, size: twoD ? [h, w] : [w], win: twoD ? [h, w] : [w], dil: twoD ? [1, 1] : [1], pad: twoD ? [padH, padW] : [padW] };
  });

/** Rows cases of at least 2^21 flops, which the kernel splits across threads (images pipelined through staging, computing and copying out). */
const threadedRowsCase = fc
  .record({
    n: fc.integer({ min: 2, max: 9 }),
    groups: fc.integer({ min: 1, max: 2 }),
    inPer: fc.integer({ min: 1, max: 4 }),
    outPer: fc.integer({ min: 1, max: 13 }),
    h: fc.integer({ min: 6, max: 24 }),
    w: fc.integer({ min: 4, max: 37 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    dh: fc.integer({ min: 1, max: 2 }),
    dw: fc.integer({ min: 1, max: 2 }),
    pads: fc.tuple(fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 }), fc.integer({ min: -1, max: 3 })),
    ...layoutArb,
  })
  .map(({ h, w, kh, kw, dh, dw, pads, ...r }): Case => ({ ...r, size: [h, w], win: [kh, kw], dil: [dh, dw], pad: [[pads[0], pads[1]], [pads[2], pads[3]]] }))
  .filter((c) => {
    const out = outSizes(c);
    return out.every((s) => s > 0) && 2 * c.n * c.groups * c.outPer * out[0]! * out[1]! * c.inPer * c.win[0]! * c.win[1]! >= 2 ** 21;
  });

const check = (c: Case) => {
  const C = c.groups * c.inPer;
  const x = randArray([c.n, C, ...c.size], c.seed, c.dtype);
  const k = randArray([c.groups * c.outPer, c.inPer, ...c.win], c.seed + 1, c.dtype);
  const { want, scale } = reference(c, x.toTypedArray() as Float64Array, k.toTypedArray() as Float64Array);
  for (const path of SIMD_PATHS) {
    setKernelPath(path);
    expectClose(run(c, x, k), want, scale, c.dtype);
  }
};

/** Runs `check` on one thread over `numRuns` random cases and asserts that more than ten of
 * them really took the `kind` kernel (so the property cannot pass on the GEMM fallback alone). */
const checkCases = (cases: typeof rowsCase, kind: "rows" | "window", numRuns: number): void => {
  setThreads(1);
  let direct = 0;
  fc.assert(
    fc.property(cases, (c) => {
      if (directKind(geometryOf(c), c.dtype) === kind) direct++;
      check(c);
    }),
    { numRuns },
  );
  expect(direct).toBeGreaterThan(10);
};

describe("direct convolution kernels", () => {
  it("the rows kernel (vectorised across output positions) matches a float64 loop: layouts, groups, dilation, negative padding, 1-D and 2-D", () => {
    checkCases(rowsCase, "rows", 60);
  });

  it("the window kernel (vectorised across window positions, masked tails) matches a float64 loop", () => {
    checkCases(windowCase, "window", 40);
  });

  it("splits across two threads with the same bits as one thread (forward, input and kernel gradient of a W7-like convolution)", async () => {
    setKernelPath("auto");
    for (const dtype of ["float32", "float64"] as const) {
      // Each convolution is over 2^21 flops, so it is split (the forward in image chunks).
      const x = randArray([8, 3, 24, 25], 1, dtype);
      const w = randArray([16, 3, 3, 3], 2, dtype);
      const g = randArray([8, 16, 24, 25], 3, dtype);
      const loss = (x: NDArray, w: NDArray) => np.sum(np.multiply(lax.convGeneralDilated(x, w, [1, 1], "SAME"), g));
      const all = () => {
        const [v, [gx, gw]] = valueAndGrad(loss, { argnums: [0, 1] })(x, w) as [NDArray, [NDArray, NDArray]];
        return [lax.convGeneralDilated(x, w, [1, 1], "SAME") as NDArray, v, gx, gw].map((a) => Array.from(a.toTypedArray()));
      };
      setThreads(1);
      const one = all();
      setThreads(2);
      expect(await threadsReady()).toBe(2);
      expect(all()).toEqual(one);
      // And the im2col + GEMM path agrees within rounding.
      setConvDirect(false);
      const gemm = all();
      setConvDirect(true);
      for (let t = 0; t < one.length; t++) {
        const tol = dtype === "float32" ? 2e-3 : 1e-10;
        one[t]!.forEach((v, i) => expect(Math.abs(v - gemm[t]![i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(v))));
      }
    }
  });

  it("the rows kernel split across two threads matches a float64 loop: layouts (pipelined by image or not), groups, odd sizes", async () => {
    setThreads(2);
    expect(await threadsReady()).toBe(2);
    let direct = 0;
    fc.assert(
      fc.property(threadedRowsCase, (c) => {
        if (directKind(geometryOf(c), c.dtype) === "rows") direct++;
        check(c);
      }),
      { numRuns: 16 },
    );
    expect(direct).toBeGreaterThan(8);
  });

  it("the window kernel's masked tail never multiplies a neighbouring infinity into a NaN", () => {
    // Image 1 holds an infinity; image 0's window (5 wide: one vector and a 1-wide tail) ends
    // just before it in the padded buffer, so its tail lanes read it unless masked.
    const x = np.array([[[1, 2, 3, 4, 5]], [[Infinity, 0, 0, 0, 0]]]);
    const w = np.array([[[1, 1, 1, 1, 1]]]);
    for (const path of SIMD_PATHS) {
      setKernelPath(path);
      expect(directKind(geometryOf({ n: 2, groups: 1, inPer: 1, outPer: 1, size: [5], win: [5], dil: [1], pad: [[0, 0]], lhsT: false, rhsT: false, outT: false, dtype: "float32", seed: 0 }), "float32")).toBe("window");
      expect((lax.convGeneralDilated(x, w, [1], "VALID") as NDArray).toArray()).toEqual([[[15]], [[Infinity]]]);
    }
  });

  it("empty batches and empty outputs give empty results", () => {
    setKernelPath("auto");
    expect((lax.convGeneralDilated(np.zeros([0, 3, 8, 8]), np.zeros([4, 3, 3, 3]), [1, 1], "SAME") as NDArray).shape).toEqual([0, 4, 8, 8]);
    expect((lax.convGeneralDilated(np.zeros([2, 3, 8, 8]), np.zeros([0, 3, 3, 3]), [1, 1], "SAME") as NDArray).shape).toEqual([2, 0, 8, 8]);
    expect((lax.convGeneralDilated(np.zeros([2, 3, 2, 8]), np.zeros([4, 3, 3, 3]), [1, 1], "VALID") as NDArray).shape).toEqual([2, 4, 0, 6]);
  });
});
