import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DTypeError, type NDArray, ShapeError, ValueError, grad, lax, makeJaxpr, np, vjp, vmap } from "@cotangent/core";
import { checkGrad, checkTransposition, checkVmap, expectClose, typecheckTransforms } from "./harness.js";
import { rng, sizeOf, unravel, offsetOf } from "./reference_util.js";

type DT = "float32" | "float64";

const randArray = (shape: number[], seed: number, dtype: DT = "float64"): NDArray => {
  const r = rng(seed);
  return np.array(Float64Array.from({ length: sizeOf(shape) }, () => r() * 2 - 1), { dtype, shape }) as NDArray;
};

interface Conv {
  strides: number[];
  padding: [number, number][];
  lhsDil: number[];
  rhsDil: number[];
  fg: number;
  bg: number;
}

/**
 * Direct convolution in NC.../OI.../NC... layout: every output element sums over its
 * input features and window, locating each tap in the padded, dilated input explicitly.
 */
const refConv = (lhs: NDArray, rhs: NDArray, c: Conv): { shape: number[]; data: Float64Array } => {
  const [N, C, ...inSp] = lhs.shape;
  const [O, I, ...win] = rhs.shape;
  const lv = lhs.toTypedArray();
  const rv = rhs.toTypedArray();
  const groups = Math.max(c.fg, c.bg);
  const outSp = inSp.map((n, d) => {
    const dil = n === 0 ? 0 : (n - 1) * c.lhsDil[d]! + 1;
    const w = win[d] === 0 ? 0 : (win[d]! - 1) * c.rhsDil[d]! + 1;
    return Math.max(0, Math.floor((dil + c.padding[d]![0] + c.padding[d]![1] - w) / c.strides[d]!) + 1);
  });
  const shape = [N! / c.bg, O!, ...outSp];
  const data = new Float64Array(sizeOf(shape));
  for (let f = 0; f < data.length; f++) {
    const [n, o, ...pos] = unravel(f, shape);
    const g = Math.floor(o! / (O! / groups));
    const srcN = c.bg > 1 ? g * (N! / c.bg) + n! : n!;
    let s = 0;
    for (let i = 0; i < I!; i++) {
      const ch = c.fg > 1 ? g * I! + i : i;
      for (let q = 0; q < sizeOf(win); q++) {
        const k = unravel(q, win);
        const src: number[] = [];
        let inside = true;
        for (let d = 0; d < inSp.length; d++) {
          const p = pos[d]! * c.strides[d]! + k[d]! * c.rhsDil[d]! - c.padding[d]![0];
          if (p < 0 || p % c.lhsDil[d]! !== 0 || p / c.lhsDil[d]! >= inSp[d]!) inside = false;
          src.push(p / c.lhsDil[d]!);
        }
        if (!inside) continue;
        s += lv[offsetOf(lhs.shape, [srcN, ch, ...src])]! * rv[offsetOf(rhs.shape, [o!, i, ...k])]!;
      }
    }
    data[f] = s;
  }
  return { shape, data };
};

const conv = (x: any, w: any, c: Conv, dimensionNumbers?: any) =>
  lax.convGeneralDilated(x, w, c.strides, c.padding, {
    lhsDilation: c.lhsDil,
    rhsDilation: c.rhsDil,
    featureGroupCount: c.fg,
    batchGroupCount: c.bg,
    dimensionNumbers,
  });

/** A random convolution problem with 1 or 2 spatial axes, groups of either kind, and any padding that leaves a valid shape. */
const arbConv = fc
  .record({
    ns: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 2 }),
    batchGroups: fc.boolean(),
    perGroupIn: fc.integer({ min: 1, max: 2 }),
    perGroupOut: fc.integer({ min: 1, max: 2 }),
    batch: fc.integer({ min: 1, max: 2 }),
    spatial: fc.array(fc.record({ n: fc.integer({ min: 1, max: 6 }), w: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), ld: fc.integer({ min: 1, max: 2 }), rd: fc.integer({ min: 1, max: 2 }), lo: fc.integer({ min: -1, max: 2 }), hi: fc.integer({ min: -1, max: 2 }) }), { minLength: 2, maxLength: 2 }),
    seed: fc.integer(),
  })
  .map(({ ns, groups, batchGroups, perGroupIn, perGroupOut, batch, spatial, seed }) => {
    const sp = spatial.slice(0, ns);
    const bg = batchGroups ? groups : 1;
    const fg = batchGroups ? 1 : groups;
    const c: Conv = {
      strides: sp.map((d) => d.s),
      padding: sp.map((d) => [d.lo, d.hi] as [number, number]),
      lhsDil: sp.map((d) => d.ld),
      rhsDil: sp.map((d) => d.rd),
      fg,
      bg,
    };
    const lshape = [batch * bg, perGroupIn * fg, ...sp.map((d) => d.n)];
    const rshape = [perGroupOut * groups, perGroupIn, ...sp.map((d) => d.w)];
    return { c, lshape, rshape, seed };
  });

const valid = (c: Conv, lshape: number[]) => lshape.slice(2).every((n, d) => (n - 1) * c.lhsDil[d]! + 1 + c.padding[d]![0] + c.padding[d]![1] >= 0);

describe("conv_general_dilated", () => {
  it("matches a direct convolution on random problems (strides, padding, dilations, groups)", () => {
    fc.assert(
      fc.property(arbConv, fc.constantFrom<DT>("float32", "float64"), ({ c, lshape, rshape, seed }, dtype) => {
        fc.pre(valid(c, lshape));
        const x = randArray(lshape, seed, dtype);
        const w = randArray(rshape, seed + 1, dtype);
        const out = conv(x, w, c) as NDArray;
        const ref = refConv(x, w, c);
        expect(out.shape).toEqual(ref.shape);
        expect(out.dtype).toBe(dtype);
        expectClose(out, np.array(ref.data, { dtype: "float64", shape: ref.shape }), dtype === "float32" ? 1e-5 : 1e-12);
      }),
      { numRuns: 80 },
    );
  });

  it("3-D convolution and a 0-D (pure feature) convolution", () => {
    const c3: Conv = { strides: [1, 2, 1], padding: [[1, 0], [0, 1], [1, 1]], lhsDil: [1, 1, 2], rhsDil: [2, 1, 1], fg: 1, bg: 1 };
    const x = randArray([1, 2, 4, 3, 3], 1);
    const w = randArray([3, 2, 2, 2, 2], 2);
    const ref = refConv(x, w, c3);
    expectClose(conv(x, w, c3), np.array(ref.data, { dtype: "float64", shape: ref.shape }), 1e-12);
    const c0: Conv = { strides: [], padding: [], lhsDil: [], rhsDil: [], fg: 1, bg: 1 };
    const x0 = randArray([2, 3], 3);
    const w0 = randArray([4, 3], 4);
    expectClose(conv(x0, w0, c0), np.matmul(x0, np.transpose(w0)), 1e-12);
  });

  it("size-0 batch, features and outputs", () => {
    const f = (a: any, b: any) => lax.conv(a, b, [1], "VALID");
    expect(f(np.ones([0, 2, 4]), np.ones([3, 2, 2])).shape).toEqual([0, 3, 3]);
    // No input features: every output is an empty sum.
    const z = f(randArray([2, 0, 4], 1), randArray([3, 0, 2], 2));
    expect(z.shape).toEqual([2, 3, 3]);
    expect(Array.from(z.toTypedArray()).every((v) => v === 0)).toBe(true);
    // The window is longer than the input: an empty output, and zero gradients.
    const x = randArray([1, 2, 2], 3);
    const w = randArray([3, 2, 4], 4);
    expect(f(x, w).shape).toEqual([1, 3, 0]);
    const [gx, gw] = grad((a: any, b: any) => np.sum(f(a, b)), { argnums: [0, 1] })(x, w) as NDArray[];
    expect(gx!.shape).toEqual([1, 2, 2]);
    expect(Array.from(gw!.toTypedArray()).every((v) => v === 0)).toBe(true);
  });

  it("chunks large patch matrices", () => {
    // 40x40 outputs x 27 taps crosses the kernel's patch-chunk boundary.
    const c: Conv = { strides: [1, 1], padding: [[1, 1], [1, 1]], lhsDil: [1, 1], rhsDil: [1, 1], fg: 1, bg: 1 };
    const x = randArray([1, 3, 40, 40], 5);
    const w = randArray([5, 3, 3, 3], 6);
    const ref = refConv(x, w, c);
    expectClose(conv(x, w, c), np.array(ref.data, { dtype: "float64", shape: ref.shape }), 1e-12);
  });

  it("accepts JAX's layout strings and explicit specs", () => {
    const c: Conv = { strides: [2, 1], padding: [[1, 0], [0, 2]], lhsDil: [1, 1], rhsDil: [1, 2], fg: 1, bg: 1 };
    const x = randArray([2, 3, 5, 4], 7); // NCHW
    const w = randArray([4, 3, 2, 3], 8); // OIHW
    const want = conv(x, w, c);
    const xh = np.transpose(x, [0, 2, 3, 1]); // NHWC
    const wh = np.transpose(w, [2, 3, 1, 0]); // HWIO
    const got = conv(xh, wh, c, ["NHWC", "HWIO", "NHWC"]);
    expectClose(got, np.transpose(want, [0, 2, 3, 1]), 1e-12);
    // Spatial order follows the rhs string: "WH" in the kernel swaps the strides' meaning.
    const ww = np.transpose(w, [3, 2, 1, 0]); // WHIO
    const swapped: Conv = { ...c, strides: [1, 2], padding: [[0, 2], [1, 0]], rhsDil: [2, 1] };
    expectClose(conv(xh, ww, swapped, ["NHWC", "WHIO", "NCHW"]), want, 1e-12);
    const spec = { lhs_spec: [0, 3, 1, 2], rhs_spec: [3, 2, 0, 1], out_spec: [0, 3, 1, 2] };
    expectClose(conv(xh, wh, c, spec), np.transpose(want, [0, 2, 3, 1]), 1e-12);
  });

  it("SAME and VALID padding", () => {
    const x = randArray([1, 2, 7, 6], 9);
    const w = randArray([3, 2, 3, 2], 10);
    const same = lax.conv(x, w, [2, 2], "SAME");
    expect(same.shape).toEqual([1, 3, 4, 3]);
    // JAX's rule: total = (ceil(n/s) - 1) * s + k - n, split low = total // 2.
    expectClose(same, lax.convGeneralDilated(x, w, [2, 2], [[1, 1], [0, 0]]), 1e-12);
    const valid_ = lax.conv(x, w, [1, 1], "VALID");
    expect(valid_.shape).toEqual([1, 3, 5, 5]);
    const lower = lax.convGeneralDilated(x, w, [1, 1], "SAME_LOWER");
    expectClose(lower, lax.convGeneralDilated(x, w, [1, 1], [[1, 1], [1, 0]]), 1e-12);
    const dil = lax.convGeneralDilated(x, w, [1, 1], "SAME", { rhsDilation: [2, 2] });
    expect(dil.shape).toEqual([1, 3, 7, 6]);
  });

  it("convTranspose is the gradient of a strided convolution", () => {
    const x = randArray([1, 5, 5, 2], 11); // NHWC
    const w = randArray([3, 3, 2, 4], 12); // HWIO
    const fwd = (a: any) => lax.convGeneralDilated(a, w, [2, 2], "SAME", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] });
    const y = fwd(x) as NDArray;
    const ct = randArray(y.shape, 13);
    const [, back] = vjp(fwd, x);
    const [g] = back(ct);
    const t = lax.convTranspose(ct, w, [2, 2], "SAME", { transposeKernel: true });
    expect(t.shape).toEqual([1, 6, 6, 2]);
    // The transposed conv pads by one more on each side (Keras' convention): the gradient is its inner 5x5 part.
    expectClose(g, lax.slice(t, [0, 1, 1, 0], [1, 6, 6, 2]), 1e-12);
  });

  it("preferred_element_type widens float32", () => {
    const x = randArray([1, 1, 3], 14, "float32");
    const w = randArray([1, 1, 2], 15, "float32");
    const out = lax.convGeneralDilated(x, w, [1], "VALID", { preferredElementType: "float64" });
    expect(out.dtype).toBe("float64");
    const g = grad((a: any) => np.sum(lax.convGeneralDilated(a, w, [1], "VALID", { preferredElementType: "float64" })))(x);
    expect(g.dtype).toBe("float32");
  });

  it("prints its params", () => {
    const j = makeJaxpr((a: any, b: any) => lax.conv(a, b, [1], "VALID"))(np.ones([1, 2, 4]), np.ones([3, 2, 2]));
    expect(j.toString()).toContain(
      "c:f32[1,3,3] = conv_general_dilated[window_strides=(1,) padding=((0, 0),) lhs_dilation=(1,) rhs_dilation=(1,) dimension_numbers={lhs_spec=(0, 1, 2), rhs_spec=(0, 1, 2), out_spec=(0, 1, 2)} feature_group_count=1 batch_group_count=1 preferred_element_type=None] a b",
    );
  });

  describe("rules", () => {
    const cases: [string, Conv, number[], number[], any?][] = [
      ["1-D plain", { strides: [1], padding: [[0, 0]], lhsDil: [1], rhsDil: [1], fg: 1, bg: 1 }, [2, 2, 5], [3, 2, 2]],
      ["1-D strided, padded", { strides: [2], padding: [[1, 2]], lhsDil: [1], rhsDil: [1], fg: 1, bg: 1 }, [2, 1, 6], [2, 1, 3]],
      ["2-D dilated both ways", { strides: [1, 2], padding: [[1, 0], [2, 1]], lhsDil: [2, 1], rhsDil: [1, 2], fg: 1, bg: 1 }, [1, 2, 3, 4], [2, 2, 2, 2]],
      ["2-D feature groups", { strides: [1, 1], padding: [[1, 1], [0, 1]], lhsDil: [1, 1], rhsDil: [1, 1], fg: 2, bg: 1 }, [2, 4, 3, 3], [4, 2, 2, 2]],
      ["2-D depthwise, strided", { strides: [2, 1], padding: [[0, 1], [1, 0]], lhsDil: [1, 1], rhsDil: [1, 1], fg: 3, bg: 1 }, [1, 3, 4, 3], [3, 1, 2, 2]],
      ["1-D batch groups", { strides: [1], padding: [[1, 0]], lhsDil: [1], rhsDil: [2], fg: 1, bg: 2 }, [4, 2, 5], [4, 2, 2]],
      ["2-D NHWC/HWIO, negative padding", { strides: [1, 2], padding: [[-1, 1], [1, 0]], lhsDil: [1, 1], rhsDil: [1, 1], fg: 1, bg: 1 }, [2, 4, 3, 2], [2, 2, 2, 3], ["NHWC", "HWIO", "NHWC"]],
    ];
    for (const [name, c, ls, rs, dn] of cases) {
      it(`${name}: grad, transposition, vmap and typecheck`, () => {
        const x = randArray(ls, ls.length * 3 + rs[0]!);
        const w = randArray(rs, rs.length * 5 + ls[1]!);
        const f = (a: any, b: any) => conv(a, b, c, dn);
        checkGrad(f, [x, w]);
        checkTransposition((a: any) => f(a, w), [x]);
        checkTransposition((b: any) => f(x, b), [w]);
        typecheckTransforms(f, [x, w]);
        const X = randArray([2, ...ls], 21);
        const W = randArray([2, ...rs], 22);
        checkVmap(f, [X, W]);
        checkVmap(f, [X, w], 1e-12, [0, null]);
        checkVmap(f, [x, W], 1e-12, [null, 0]);
        const Xl = randArray([...ls, 2], 23);
        const Wl = randArray([...rs.slice(0, 1), 2, ...rs.slice(1)], 24);
        checkVmap(f, [Xl, Wl], 1e-12, [ls.length, 1]);
      });
    }

    it("second derivatives and per-example gradients of a grouped convolution", () => {
      const c: Conv = { strides: [2], padding: [[1, 1]], lhsDil: [1], rhsDil: [1], fg: 2, bg: 1 };
      const x = randArray([1, 4, 5], 31);
      const w = randArray([2, 2, 3], 32);
      const loss = (a: any, b: any) => np.sum(np.sin(conv(a, b, c)));
      // Gradients are convolutions again (batch-grouped for the kernel), so they differentiate too.
      checkGrad((a: any, b: any) => grad(loss, { argnums: [0, 1] })(a, b), [x, w]);
      const X = randArray([3, 1, 4, 5], 33);
      checkVmap((a: any) => grad(loss, { argnums: 1 })(a, w), [X]);
      checkVmap((a: any, b: any) => grad(loss, { argnums: [0, 1] })(a, b), [X, randArray([3, 2, 2, 3], 34)]);
      typecheckTransforms((a: any, b: any) => grad(loss, { argnums: 1 })(a, b), [x, w]);
    });

    it("vmaps over a zero-size batch", () => {
      const c: Conv = { strides: [1], padding: [[0, 0]], lhsDil: [1], rhsDil: [1], fg: 1, bg: 1 };
      const out = vmap((a: any, b: any) => conv(a, b, c))(np.ones([0, 1, 2, 4], { dtype: "float64" }), np.ones([0, 3, 2, 2], { dtype: "float64" }));
      expect(out.shape).toEqual([0, 1, 3, 3]);
    });
  });

  describe("errors", () => {
    it("channel mismatch names both shapes and axes", () => {
      expect(() => lax.conv(np.ones([1, 3, 5, 5]), np.ones([4, 2, 3, 3]), [1, 1], "VALID")).toThrow(ShapeError);
      expect(() => lax.conv(np.ones([1, 3, 5, 5]), np.ones([4, 2, 3, 3]), [1, 1], "VALID")).toThrow(
        /conv_general_dilated: channel mismatch: lhs has 3 input features \(axis 1\) but rhs expects 2 \(axis 1\) \(lhs \[1, 3, 5, 5\], rhs \[4, 2, 3, 3\]\)/,
      );
      expect(() =>
        lax.convGeneralDilated(np.ones([1, 4, 5]), np.ones([4, 3, 3]), [1], "VALID", { featureGroupCount: 2 }),
      ).toThrow(/with feature_group_count 2 rhs must have 2 input features \(axis 1\) but has 3/);
      expect(() =>
        lax.convGeneralDilated(np.ones([1, 4, 5]), np.ones([3, 2, 3]), [1], "VALID", { featureGroupCount: 2 }),
      ).toThrow(/rhs output features 3 \(axis 0\) must be a multiple of feature_group_count 2/);
      expect(() => lax.convGeneralDilated(np.ones([3, 2, 5]), np.ones([4, 2, 3]), [1], "VALID", { batchGroupCount: 2 })).toThrow(/lhs batch 3 \(axis 0\) must be a multiple of batch_group_count 2/);
    });
    it("bad dimension numbers and params", () => {
      const x = np.ones([1, 5, 5, 3]);
      const w = np.ones([3, 3, 3, 2]);
      expect(() => lax.convGeneralDilated(x, w, [1, 1], "VALID", { dimensionNumbers: ["NHWC", "HWIO", "NHW"] as any })).toThrow(ValueError);
      expect(() => lax.convGeneralDilated(x, w, [1, 1], "VALID", { dimensionNumbers: ["NHWC", "HWIO", "NHW"] as any })).toThrow(
        /lax.convGeneralDilated: dimension_numbers string 'NHW' has 3 letters but the operands have rank 4/,
      );
      expect(() => lax.convGeneralDilated(x, w, [1, 1], "VALID", { dimensionNumbers: ["NHWC", "HWIX", "NHWC"] })).toThrow(/'HWIX' must contain 'O' and 'I' once each/);
      expect(() => lax.convGeneralDilated(x, w, [1, 1], "VALID", { dimensionNumbers: ["NHWC", "HDIO", "NHWC"] })).toThrow(/must name the same spatial letters/);
      expect(() => lax.convGeneralDilated(x, w, [1, 1], "VALID", { dimensionNumbers: { lhs_spec: [0, 0, 1, 2], rhs_spec: [0, 1, 2, 3], out_spec: [0, 1, 2, 3] } })).toThrow(
        /lhs_spec, rhs_spec and out_spec as permutations of the 4 axes/,
      );
      expect(() => lax.conv(np.ones([1, 1, 5]), np.ones([1, 1, 2, 2]), [1], "VALID")).toThrow(/lhs and rhs must have the same rank .* lhs \[1, 1, 5\] and rhs \[1, 1, 2, 2\]/);
      expect(() => lax.convGeneralDilated(np.ones([1, 1, 5]), np.ones([1, 1, 2]), [0], "VALID")).toThrow(/window_strides must hold 1 positive integers/);
      expect(() => lax.convGeneralDilated(np.ones([1, 1, 5]), np.ones([1, 1, 2]), [1], [[1, 2, 3]] as any)).toThrow(/padding must hold 1 \(low, high\) integer pairs/);
      expect(() => lax.convGeneralDilated(np.ones([1, 1, 5]), np.ones([1, 1, 2]), [1], [[-4, -3]])).toThrow(/negative padding \(-4, -3\) on spatial axis 0 is larger than/);
      expect(() => lax.convGeneralDilated(np.ones([1, 1, 5]), np.ones([1, 1, 2]), [1], "FULL" as any)).toThrow(/unknown padding 'FULL'/);
      expect(() => lax.convGeneralDilated(np.ones([1, 1, 5]), np.ones([1, 1, 2]), [1], "SAME", { lhsDilation: [2] })).toThrow(/string padding 'SAME' is not defined with lhsDilation/);
      expect(() => lax.convGeneralDilated(np.ones([2, 2, 5]), np.ones([2, 1, 2]), [1], "VALID", { featureGroupCount: 2, batchGroupCount: 2 })).toThrow(/at most one of feature_group_count/);
    });
    it("dtypes", () => {
      expect(() => lax.conv(np.ones([1, 1, 3], { dtype: "int32" }), np.ones([1, 1, 2], { dtype: "int32" }), [1], "VALID")).toThrow(DTypeError);
      expect(() => lax.conv(np.ones([1, 1, 3]), np.ones([1, 1, 2], { dtype: "float64" }), [1], "VALID")).toThrow(/conv_general_dilated: inputs must share a dtype/);
    });
  });
});
