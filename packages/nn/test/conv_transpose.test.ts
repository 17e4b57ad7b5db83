/**
 * convTranspose against a direct loop over its definition (dilate the input by the strides,
 * pad as JAX's lax.conv_transpose does, correlate), against the gradient of a forward
 * convolution (transposeKernel), the output-size closed forms, finite-difference gradients
 * (float64), vmap against a loop, jit against eager, and errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, DTypeError, type NDArray, ShapeError, jit, np, random, vjp, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { checkGrad, expectClose } from "../../core/test/harness.js";

const f64 = (shape: number[], seed: number) => random.normal(random.key(seed), shape, { dtype: "float64" });

/** Padding of one axis of lax.conv_transpose for a (dilated) kernel size k and stride s (JAX's `_conv_transpose_padding`). */
const transposePads = (k: number, s: number, padding: "SAME" | "VALID"): [number, number] => {
  if (padding === "SAME") {
    const total = k + s - 2;
    const before = s > k - 1 ? k - 1 : Math.ceil(total / 2);
    return [before, total - before];
  }
  const total = k + s - 2 + Math.max(k - s, 0);
  return [k - 1, total - (k - 1)];
};

/**
 * Direct 2-D reference: xd[i·s] = x[i] (zeros between), padded by [lo, hi], then
 * out[o] = b + Σ xd[o + a·d - lo] · w[a, ci, co] over the window a.
 */
const refConvTranspose = (x: number[][][][], w: number[][][][], b: number[], s: number[], d: number[], pads: [number, number][]) => {
  const [N, H, W, C] = [x.length, x[0]!.length, x[0]![0]!.length, x[0]![0]![0]!.length];
  const [KH, KW, , O] = [w.length, w[0]!.length, w[0]![0]!.length, w[0]![0]![0]!.length];
  const dil = [(H - 1) * s[0]! + 1, (W - 1) * s[1]! + 1];
  const ek = [(KH - 1) * d[0]! + 1, (KW - 1) * d[1]! + 1];
  const OH = dil[0]! + pads[0]![0] + pads[0]![1] - ek[0]! + 1;
  const OW = dil[1]! + pads[1]![0] + pads[1]![1] - ek[1]! + 1;
  const at = (n: number, p: number, q: number, c: number) => {
    if (p < 0 || q < 0 || p >= dil[0]! || q >= dil[1]! || p % s[0]! !== 0 || q % s[1]! !== 0) return 0;
    return x[n]![p / s[0]!]![q / s[1]!]![c]!;
  };
  return Array.from({ length: N }, (_, n) =>
    Array.from({ length: OH }, (_, i) =>
      Array.from({ length: OW }, (_, j) =>
        Array.from({ length: O }, (_, o) => {
          let acc = b[o]!;
          for (let a = 0; a < KH; a++)
            for (let c = 0; c < KW; c++)
              for (let ci = 0; ci < C; ci++) acc += at(n, i + a * d[0]! - pads[0]![0], j + c * d[1]! - pads[1]![0], ci) * w[a]![c]![ci]![o]!;
          return acc;
        }),
      ),
    ),
  );
};

describe("convTranspose", () => {
  it("matches the direct definition (strides, SAME/VALID/explicit padding, dilation), with JAX's output sizes", () => {
    fc.assert(
      fc.property(
        fc.record({
          h: fc.integer({ min: 1, max: 4 }),
          w: fc.integer({ min: 1, max: 4 }),
          cin: fc.integer({ min: 1, max: 2 }),
          cout: fc.integer({ min: 1, max: 2 }),
          k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
          padding: fc.oneof(fc.constantFrom<"SAME" | "VALID">("SAME", "VALID"), fc.tuple(fc.tuple(fc.nat(3), fc.nat(3)), fc.tuple(fc.nat(3), fc.nat(3)))),
          seed: fc.nat(1000),
        }),
        (c) => {
          const layer = nn.convTranspose(c.cin, c.cout, c.k, { strides: c.s, kernelDilation: c.d, padding: c.padding as nn.ConvTransposePadding, dtype: "float64", biasInit: nn.normal(1) });
          const p = layer.init(random.key(c.seed));
          expect(p.w.shape).toEqual([c.k[0], c.k[1], c.cin, c.cout]);
          const ek = [(c.k[0] - 1) * c.d[0] + 1, (c.k[1] - 1) * c.d[1] + 1];
          const pads: [number, number][] = typeof c.padding === "string" ? [transposePads(ek[0]!, c.s[0], c.padding), transposePads(ek[1]!, c.s[1], c.padding)] : c.padding;
          fc.pre((c.h - 1) * c.s[0] + 1 + pads[0]![0] + pads[0]![1] >= ek[0]! && (c.w - 1) * c.s[1] + 1 + pads[1]![0] + pads[1]![1] >= ek[1]!);
          const x = f64([2, c.h, c.w, c.cin], c.seed + 1);
          const y = layer.apply(p, x);
          expectClose(y, np.array(refConvTranspose(x.toArray(), p.w.toArray(), p.b!.toArray(), c.s, c.d, pads), { dtype: "float64" }), 1e-13);
          // Output sizes: SAME multiplies by the stride; VALID gives in·s + max(k - s, 0).
          if (c.padding === "SAME") expect(y.shape.slice(1, 3)).toEqual([c.h * c.s[0], c.w * c.s[1]]);
          if (c.padding === "VALID") expect(y.shape.slice(1, 3)).toEqual([c.h * c.s[0] + Math.max(ek[0]! - c.s[0], 0), c.w * c.s[1] + Math.max(ek[1]! - c.s[1], 0)]);
        },
      ),
      { numRuns: 40 },
    );
  });
  it("with transposeKernel, is the gradient of the forward strided convolution with the same kernel", () => {
    for (const [n, k, s] of [[7, 3, 2], [5, 2, 1], [9, 3, 3]] as const) {
      const conv = nn.conv2d(2, 3, k, { stride: s, padding: "VALID", useBias: false, dtype: "float64" });
      const pc = conv.init(random.key(n));
      const x = f64([1, n, n, 2], n + 1);
      const [y, back] = vjp((xx: ArrayBase) => conv.apply(pc, xx), x);
      const ct = f64(y.shape, n + 2);
      const [gx] = back(ct) as [ArrayBase];
      // The transposed layer maps the conv's output channels (3) back to its input channels (2).
      const up = nn.convTranspose(3, 2, k, { strides: s, padding: "VALID", transposeKernel: true, useBias: false, dtype: "float64" });
      expect(up.init(random.key(0)).w.shape).toEqual([k, k, 2, 3]);
      expectClose(up.apply({ w: pc.w }, ct), gx, 1e-13);
    }
  });
  it("1-D and 3-D kernels", () => {
    const l1 = nn.convTranspose(2, 3, [3], { strides: 2, dtype: "float64" });
    const p1 = l1.init(random.key(0));
    const x1 = f64([2, 5, 2], 1);
    const y1 = l1.apply(p1, x1);
    expect(y1.shape).toEqual([2, 10, 3]);
    // The 1-D layer is the 2-D one on a width-1 image.
    const p2 = { w: np.expandDims(p1.w, 1), b: p1.b };
    const y2 = nn.convTranspose(2, 3, [3, 1], { strides: [2, 1], dtype: "float64" }).apply(p2, np.expandDims(x1, 2));
    expectClose(y1, np.squeeze(y2, 2), 1e-14);
    const l3 = nn.convTranspose(1, 2, [2, 2, 2], { strides: 2 });
    expect(l3.apply(l3.init(random.key(0)), np.ones([1, 2, 3, 2, 1])).shape).toEqual([1, 4, 6, 4, 2]);
  });
  it("gradients (float64), vmap against a loop, jit against eager", () => {
    const layer = nn.convTranspose(2, 1, 2, { strides: 2, dtype: "float64" });
    const p = layer.init(random.key(3));
    checkGrad((x: ArrayBase, w: ArrayBase) => layer.apply({ w, b: p.b }, x), [f64([1, 2, 2, 2], 4) as NDArray, p.w as NDArray]);
    const xs = f64([3, 2, 3, 3, 2], 5);
    const ys = vmap((x: ArrayBase) => layer.apply(p, x))(xs);
    for (let i = 0; i < 3; i++) expectClose(np.index(ys, [i]), layer.apply(p, np.index(xs, [i])), 1e-14);
    expectClose(jit((pp: nn.ConvTransposeParams, x: ArrayBase) => layer.apply(pp, x))(p, np.index(xs, [0])), layer.apply(p, np.index(xs, [0])), 1e-13);
    // float32 params and input give the float64 answer to float32 precision.
    const y32 = layer.apply({ w: np.astype(p.w, "float32"), b: np.astype(p.b!, "float32") }, np.astype(np.index(xs, [0]), "float32"));
    expect(y32.dtype).toBe("float32");
    expectClose(y32, layer.apply(p, np.index(xs, [0])), 1e-5);
  });
  it("errors", () => {
    expect(() => nn.convTranspose(0, 2, 3)).toThrow(/nn.convTranspose: inChannels must be a positive integer, got 0/);
    expect(() => nn.convTranspose(2, 2, [3, 0])).toThrow(/kernelSize must be a positive integer or a list of 2/);
    expect(() => nn.convTranspose(2, 2, [1, 1, 1, 1])).toThrow(/kernelSize must have 1 to 3 entries/);
    expect(() => nn.convTranspose(2, 2, 3, { strides: [2, 2, 2] })).toThrow(/strides must be a positive integer or a list of 2/);
    expect(() => nn.convTranspose(2, 2, 3, { padding: "FULL" as never })).toThrow(/padding must be "SAME", "VALID" or 2 \[lo, hi\] pairs/);
    expect(() => nn.convTranspose(2, 2, 3, { stride: 2 } as never)).toThrow(/unknown option 'stride'[^]*did you mean 'strides'/);
    const layer = nn.convTranspose(2, 3, 3);
    const p = layer.init(random.key(0));
    expect(() => layer.apply(p, np.ones([4, 4, 2]))).toThrow(ShapeError);
    expect(() => layer.apply(p, np.ones([4, 4, 2]))).toThrow(/expects channels-last input \[batch, size, size, 2\] \(rank 4\), got shape \[4, 4, 2\][^]*add a batch axis/);
    expect(() => layer.apply(p, np.ones([1, 4, 4, 3]))).toThrow(ShapeError);
    expect(() => layer.apply({ w: np.ones([3, 3, 3, 2]) }, np.ones([1, 4, 4, 2]))).toThrow(/params.w has shape \[3, 3, 3, 2\], but the layer expects \[3, 3, 2, 3\]/);
    expect(() => layer.apply(p, np.ones([1, 4, 4, 2], { dtype: "int32" }))).toThrow(DTypeError);
  });
});
