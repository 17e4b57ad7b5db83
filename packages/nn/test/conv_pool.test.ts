/**
 * conv2d, maxPool and avgPool against direct NHWC loops (strides, padding, dilation,
 * groups), their gradients, and their errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, DTypeError, type NDArray, ShapeError, grad, np, random, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { checkGrad, expectClose } from "../../core/test/harness.js";

type Pads = [[number, number], [number, number]];

/** "SAME" padding as JAX computes it, for the reference loops. */
const samePads = (n: number, k: number, s: number): [number, number] => {
  const out = Math.ceil(n / s);
  const total = Math.max(0, (out - 1) * s + k - n);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
};
const padsOf = (padding: nn.Padding2d, h: number, w: number, kh: number, kw: number, s: [number, number]): Pads =>
  padding === "VALID" ? [[0, 0], [0, 0]] : padding === "SAME" ? [samePads(h, kh, s[0]), samePads(w, kw, s[1])] : (padding as Pads);

/** Direct convolution: out[n,i,j,o] = b[o] + Σ x[n, i·s + a·d - pad, j·s + c·d - pad, g·cin + ci] · w[a, c, ci, o]. */
const refConv = (x: number[][][][], w: number[][][][], b: number[], s: [number, number], d: [number, number], padding: nn.Padding2d, groups: number) => {
  const [N, H, W] = [x.length, x[0]!.length, x[0]![0]!.length];
  const [KH, KW, CIg, O] = [w.length, w[0]!.length, w[0]![0]!.length, w[0]![0]![0]!.length];
  const ekh = (KH - 1) * d[0] + 1;
  const ekw = (KW - 1) * d[1] + 1;
  const [[pt, pb], [pl, pr]] = padsOf(padding, H, W, ekh, ekw, s);
  const OH = Math.floor((H + pt + pb - ekh) / s[0]) + 1;
  const OW = Math.floor((W + pl + pr - ekw) / s[1]) + 1;
  const og = O / groups;
  const out: number[][][][] = [];
  for (let n = 0; n < N; n++) {
    out.push([]);
    for (let i = 0; i < OH; i++) {
      out[n]!.push([]);
      for (let j = 0; j < OW; j++) {
        const row: number[] = [];
        for (let o = 0; o < O; o++) {
          const g = Math.floor(o / og);
          let acc = b[o]!;
          for (let a = 0; a < KH; a++)
            for (let c = 0; c < KW; c++) {
              const y = i * s[0] + a * d[0] - pt;
              const z = j * s[1] + c * d[1] - pl;
              if (y < 0 || y >= H || z < 0 || z >= W) continue;
              for (let ci = 0; ci < CIg; ci++) acc += x[n]![y]![z]![g * CIg + ci]! * w[a]![c]![ci]![o]!;
            }
          row.push(acc);
        }
        out[n]![i]!.push(row);
      }
    }
  }
  return out;
};

const arbPadding: fc.Arbitrary<nn.Padding2d> = fc.oneof(
  fc.constantFrom<nn.Padding2d>("SAME", "VALID"),
  fc.tuple(fc.tuple(fc.nat(2), fc.nat(2)), fc.tuple(fc.nat(2), fc.nat(2))) as fc.Arbitrary<nn.Padding2d>,
);

describe("conv2d", () => {
  it("matches the direct loops (strides, padding, dilation, groups)", () => {
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 1, max: 2 }),
          h: fc.integer({ min: 3, max: 6 }),
          w: fc.integer({ min: 3, max: 6 }),
          groups: fc.integer({ min: 1, max: 2 }),
          cinPer: fc.integer({ min: 1, max: 2 }),
          coutPer: fc.integer({ min: 1, max: 2 }),
          k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
          dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
          padding: arbPadding,
          seed: fc.nat(1000),
        }),
        (c) => {
          const cin = c.cinPer * c.groups;
          const cout = c.coutPer * c.groups;
          const ek = [(c.k[0] - 1) * c.dilation[0] + 1, (c.k[1] - 1) * c.dilation[1] + 1];
          const pads = padsOf(c.padding, c.h, c.w, ek[0]!, ek[1]!, c.stride);
          fc.pre(c.h + pads[0][0] + pads[0][1] >= ek[0]! && c.w + pads[1][0] + pads[1][1] >= ek[1]!);
          const layer = nn.conv2d(cin, cout, c.k, { stride: c.stride, dilation: c.dilation, padding: c.padding, groups: c.groups, dtype: "float64", biasInit: nn.normal(1) });
          const p = layer.init(random.key(c.seed));
          expect(p.w.shape).toEqual([c.k[0], c.k[1], c.cinPer, cout]);
          const x = random.normal(random.key(c.seed + 1), [c.n, c.h, c.w, cin], { dtype: "float64" });
          const want = refConv(x.toArray(), p.w.toArray(), p.b!.toArray(), c.stride, c.dilation, c.padding, c.groups);
          expectClose(layer.apply(p, x), np.array(want, { dtype: "float64" }), 1e-13);
          // float32 params and input: the same numbers to float32 precision.
          const y32 = layer.apply({ w: np.astype(p.w, "float32"), b: np.astype(p.b!, "float32") }, np.astype(x, "float32"));
          expect(y32.dtype).toBe("float32");
          expectClose(y32, np.array(want, { dtype: "float64" }), 2e-5);
        },
      ),
      { numRuns: 30 },
    );
  });
  it("has fanIn = kh·kw·in/groups for its default LeCun init, and gradients", () => {
    const layer = nn.conv2d(4, 6, 3, { groups: 2, dtype: "float64" });
    const key = random.key(0);
    const [kk] = random.split(key);
    expect(layer.init(key).w.toArray()).toEqual(nn.varianceScaling(1, "fan_in", "truncated_normal")(kk!, [3, 3, 2, 6], "float64").toArray());
    const small = nn.conv2d(2, 2, 2, { stride: 2, padding: "SAME", dtype: "float64" });
    const p = small.init(key);
    const x = random.normal(random.key(1), [1, 3, 3, 2], { dtype: "float64" }) as NDArray;
    checkGrad((w: ArrayBase, b: ArrayBase, xx: ArrayBase) => small.apply({ w, b }, xx), [p.w as NDArray, np.ones([2], { dtype: "float64" }) as NDArray, x]);
  });
  it("errors", () => {
    expect(() => nn.conv2d(3, 4, 3, { groups: 2 })).toThrow(/nn.conv2d: groups \(2\) must divide both inChannels \(3\) and outChannels \(4\)/);
    expect(() => nn.conv2d(3, 4, [3, 0])).toThrow(/nn.conv2d: kernelSize must be a positive integer or a pair of them, got \[3, 0\]/);
    expect(() => nn.conv2d(3, 4, 3, { padding: "FULL" as any })).toThrow(/nn.conv2d: padding must be "SAME", "VALID" or \[\[top, bottom\], \[left, right\]\], got "FULL"/);
    const layer = nn.conv2d(3, 4, 3);
    const p = layer.init(random.key(0));
    expect(() => layer.apply(p, np.ones([5, 5, 3]))).toThrow(ShapeError);
    expect(() => layer.apply(p, np.ones([5, 5, 3]))).toThrow(/nn.conv2d: expects NHWC images of rank 4, got shape \[5, 5, 3\][^]*hint: add a batch axis: np.expandDims\(x, 0\)/);
    expect(() => layer.apply(p, np.ones([1, 5, 5, 2]))).toThrow(/nn.conv2d: input of shape \[1, 5, 5, 2\] has 2 channels \(last axis, NHWC\), but the layer expects 3/);
    expect(() => layer.apply(p, np.ones([1, 5, 5, 3], { dtype: "int32" }))).toThrow(DTypeError);
  });
});

// ---------------------------------------------------------------- pooling

const refPool = (x: number[][][][], k: [number, number], s: [number, number], padding: nn.Padding2d, kind: "max" | "avg", includePad = true) => {
  const [H, W] = [x[0]!.length, x[0]![0]!.length];
  const [[pt, pb], [pl, pr]] = padsOf(padding, H, W, k[0], k[1], s);
  const OH = Math.floor((H + pt + pb - k[0]) / s[0]) + 1;
  const OW = Math.floor((W + pl + pr - k[1]) / s[1]) + 1;
  return x.map((img) =>
    Array.from({ length: OH }, (_, i) =>
      Array.from({ length: OW }, (_, j) =>
        img[0]![0]!.map((_, ch) => {
          let acc = kind === "max" ? -Infinity : 0;
          let real = 0;
          for (let a = 0; a < k[0]; a++)
            for (let c = 0; c < k[1]; c++) {
              const y = i * s[0] + a - pt;
              const z = j * s[1] + c - pl;
              if (y < 0 || y >= H || z < 0 || z >= W) continue;
              const v = img[y]![z]![ch]!;
              acc = kind === "max" ? Math.max(acc, v) : acc + v;
              real++;
            }
          return kind === "max" ? acc : acc / (includePad ? k[0] * k[1] : real);
        }),
      ),
    ),
  );
};

describe("maxPool and avgPool", () => {
  it("match the direct loops", () => {
    fc.assert(
      fc.property(
        fc.record({
          h: fc.integer({ min: 1, max: 6 }),
          w: fc.integer({ min: 1, max: 6 }),
          k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
          stride: fc.option(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })), { nil: undefined }),
          padding: arbPadding,
          includePad: fc.boolean(),
          seed: fc.nat(1000),
        }),
        (c) => {
          const s = c.stride ?? c.k;
          const pads = padsOf(c.padding, c.h, c.w, c.k[0], c.k[1], s);
          // Explicit padding of a whole window or more leaves windows with no real element.
          fc.pre(c.padding === "SAME" || c.padding === "VALID" || pads.every(([a, b], i) => a < c.k[i]! && b < c.k[i]!));
          fc.pre(c.h + pads[0][0] + pads[0][1] >= c.k[0] && c.w + pads[1][0] + pads[1][1] >= c.k[1]);
          const x = random.normal(random.key(c.seed), [2, c.h, c.w, 3], { dtype: "float64" });
          const opts = { strides: c.stride, padding: c.padding };
          expectClose(nn.maxPool(c.k, opts).apply(null, x), np.array(refPool(x.toArray(), c.k, s, c.padding, "max"), { dtype: "float64" }), 1e-15);
          expect(nn.maxPool(c.k, opts).apply(null, np.astype(x, "float32")).toArray()).toEqual(np.astype(np.array(refPool(x.toArray(), c.k, s, c.padding, "max"), { dtype: "float64" }), "float32").toArray());
          expectClose(
            nn.avgPool(c.k, { ...opts, countIncludePad: c.includePad }).apply(null, x),
            np.array(refPool(x.toArray(), c.k, s, c.padding, "avg", c.includePad), { dtype: "float64" }),
            1e-14,
          );
        },
      ),
      { numRuns: 40 },
    );
  });
  it("maxPool's gradient goes to each window's maximum; avgPool's spreads evenly", () => {
    const x = np.array([[[[1], [5]], [[3], [2]]]], { dtype: "float64" });
    const g = grad((z: ArrayBase) => np.sum(nn.maxPool(2).apply(null, z)))(x);
    expect(g.toArray()).toEqual([[[[0], [1]], [[0], [0]]]]);
    const ga = grad((z: ArrayBase) => np.sum(nn.avgPool(2).apply(null, z)))(x);
    expect(ga.toArray()).toEqual([[[[0.25], [0.25]], [[0.25], [0.25]]]]);
    // Ties share the gradient, summing to one.
    const tie = grad((z: ArrayBase) => np.sum(nn.maxPool(2).apply(null, z)))(np.ones([1, 2, 2, 1], { dtype: "float64" }));
    expect(np.sum(tie).item()).toBeCloseTo(1, 15);
    const xs = random.normal(random.key(2), [1, 4, 5, 2], { dtype: "float64" }) as NDArray;
    checkGrad((z: ArrayBase) => nn.maxPool(2, { strides: 1, padding: "SAME" }).apply(null, z), [xs]);
    checkGrad((z: ArrayBase) => nn.avgPool([2, 3], { padding: "SAME", countIncludePad: false }).apply(null, z), [xs]);
  });
  it("vmap over an extra batch axis", () => {
    const xs = random.normal(random.key(3), [3, 1, 4, 4, 2]);
    const batched = vmap((z: ArrayBase) => nn.maxPool(2).apply(null, z))(xs);
    expect(batched.shape).toEqual([3, 1, 2, 2, 2]);
    expect(np.index(batched, [1]).toArray()).toEqual(nn.maxPool(2).apply(null, np.index(xs, [1])).toArray());
  });
  it("errors", () => {
    expect(() => nn.maxPool(2).apply(null, np.ones([1, 1, 1, 1]))).toThrow(ShapeError);
    expect(() => nn.maxPool(2).apply(null, np.ones([1, 1, 1, 1]))).toThrow(/nn.maxPool: window \[2, 2\] is larger than the \(padded\) input's spatial size \[1, 1\][^]*hint: use a smaller window or padding "SAME"/);
    expect(() => nn.avgPool(2).apply(null, np.ones([4, 4]))).toThrow(/nn.avgPool: expects NHWC images of rank 4, got shape \[4, 4\]/);
    expect(() => nn.avgPool(2, { strides: 0 })).toThrow(/nn.avgPool: strides must be a positive integer or a pair of them, got 0/);
    expect(() => nn.avgPool(2, { countIncludePad: "yes" as any })).toThrow(/nn.avgPool: countIncludePad must be a boolean, got "yes"/);
  });
});
