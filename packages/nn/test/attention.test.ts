/**
 * dotProductAttention against a direct loop over (b, t, n, s, h) with jax.nn's semantics
 * (grouped heads, bias, boolean mask, causal, sequence lengths, fully masked rows), and the
 * multiHeadAttention layer against projections written out by hand; gradients against
 * finite differences (float64), vmap against a loop, jit against eager, and the errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, DTypeError, type NDArray, ShapeError, ValueError, jit, np, random, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { checkGrad, expectClose } from "../../core/test/harness.js";

const f64 = (shape: number[], seed: number, scale = 1) => np.multiply(random.normal(random.key(seed), shape, { dtype: "float64" }), scale);

interface RefOptions {
  bias?: number[][][][]; // [B, N, T, S], already broadcast
  mask?: boolean[][][][];
  isCausal?: boolean;
  scale?: number;
  qLens?: number[];
  kvLens?: number[];
  window?: [number, number];
}

/** jax.nn.dot_product_attention by loops: masked logits are -0.7 · float max, softmax over s. */
const refAttention = (q: number[][][][], k: number[][][][], v: number[][][][], o: RefOptions = {}) => {
  const [B, T, N, H] = [q.length, q[0]!.length, q[0]![0]!.length, q[0]![0]![0]!.length];
  const [S, K] = [k[0]!.length, k[0]![0]!.length];
  const G = N / K;
  const scale = o.scale ?? 1 / Math.sqrt(H);
  const out = q.map((qb) => qb.map((qt) => qt.map((qn) => qn.map(() => 0))));
  for (let b = 0; b < B; b++)
    for (let n = 0; n < N; n++)
      for (let t = 0; t < T; t++) {
        const kh = Math.floor(n / G);
        const logits = Array.from({ length: S }, (_, s) => {
          let l = 0;
          for (let h = 0; h < H; h++) l += q[b]![t]![n]![h]! * k[b]![s]![kh]![h]!;
          l = l * scale + (o.bias ? o.bias[b]![n]![t]![s]! : 0);
          const allowed = (!o.mask || o.mask[b]![n]![t]![s]!) && (!o.isCausal || s <= t) && (!o.qLens || t < o.qLens[b]!) && (!o.kvLens || s < o.kvLens[b]!) && (!o.window || (t - o.window[0] <= s && s <= t + o.window[1]));
          return allowed ? l : -0.7 * Number.MAX_VALUE;
        });
        const m = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let h = 0; h < H; h++) out[b]![t]![n]![h] = e.reduce((acc, w, s) => acc + (w / z) * v[b]![s]![kh]![h]!, 0);
      }
  return out;
};

const bcast4 = <X>(a: ArrayBase, shape: number[]): X => np.broadcastTo(a, shape).toArray() as X;

describe("dotProductAttention", () => {
  it("matches the loops (grouped heads, bias, mask, causal, sequence lengths, scale)", () => {
    fc.assert(
      fc.property(
        fc.record({
          B: fc.integer({ min: 1, max: 2 }),
          T: fc.integer({ min: 1, max: 4 }),
          S: fc.integer({ min: 1, max: 4 }),
          K: fc.integer({ min: 1, max: 2 }),
          G: fc.integer({ min: 1, max: 2 }),
          H: fc.integer({ min: 1, max: 3 }),
          useBias: fc.boolean(),
          useMask: fc.boolean(),
          isCausal: fc.boolean(),
          lens: fc.boolean(),
          window: fc.option(fc.tuple(fc.nat(2), fc.nat(2)), { nil: undefined }),
          scale: fc.option(fc.double({ min: 0.1, max: 2, noNaN: true }), { nil: undefined }),
          seed: fc.nat(1000),
        }),
        (c) => {
          const N = c.K * c.G;
          const q = f64([c.B, c.T, N, c.H], c.seed, 2);
          const k = f64([c.B, c.S, c.K, c.H], c.seed + 1, 2);
          const v = f64([c.B, c.S, c.K, c.H], c.seed + 2);
          const full = [c.B, N, c.T, c.S];
          const bias = c.useBias ? f64([1, N, c.T, c.S], c.seed + 3) : undefined;
          const mask = c.useMask ? np.greater(f64([c.B, 1, c.T, c.S], c.seed + 4), -0.5) : undefined;
          const qLens = c.lens ? Array.from({ length: c.B }, (_, b) => 1 + ((c.seed + b) % c.T)) : undefined;
          const kvLens = c.lens ? Array.from({ length: c.B }, (_, b) => 1 + ((c.seed + 2 * b) % c.S)) : undefined;
          const y = nn.dotProductAttention(q, k, v, bias, mask, {
            isCausal: c.isCausal,
            scale: c.scale,
            querySeqLengths: qLens && np.array(qLens, { dtype: "int32" }),
            keyValueSeqLengths: kvLens && np.array(kvLens, { dtype: "int32" }),
            localWindowSize: c.window,
          });
          const want = refAttention(q.toArray(), k.toArray(), v.toArray(), {
            bias: bias && bcast4(bias, full),
            mask: mask && (bcast4<number[][][][]>(mask, full).map((a) => a.map((b) => b.map((r) => r.map(Boolean))))),
            isCausal: c.isCausal,
            scale: c.scale,
            qLens,
            kvLens,
            window: c.window,
          });
          expect(y.shape).toEqual([c.B, c.T, N, c.H]);
          expectClose(y, np.array(want, { dtype: "float64" }), 1e-12);
          // float32 inputs: the same to float32 precision, and a float32 result.
          const y32 = nn.dotProductAttention(np.astype(q, "float32"), np.astype(k, "float32"), np.astype(v, "float32"), bias, mask, {
            isCausal: c.isCausal,
            scale: c.scale,
            querySeqLengths: qLens && np.array(qLens, { dtype: "int32" }),
            keyValueSeqLengths: kvLens && np.array(kvLens, { dtype: "int32" }),
            localWindowSize: c.window,
          });
          expect(y32.dtype).toBe("float32");
          expectClose(y32, np.array(want, { dtype: "float64" }), 1e-4);
        },
      ),
      { numRuns: 40 },
    );
  });
  it("closed forms: one key gives its value; a fully masked row attends uniformly (no NaN); rank 3 has no batch axis", () => {
    const q = f64([2, 3, 2], 1);
    const k = f64([1, 3, 2], 2);
    const v = f64([1, 3, 2], 3);
    const y = nn.dotProductAttention(q, k, v);
    expectClose(y, np.broadcastTo(v, [2, 3, 2]), 1e-15);
    const kk = f64([4, 3, 2], 4);
    const vv = f64([4, 3, 2], 5);
    const none = nn.dotProductAttention(q, kk, vv, null, np.zeros([2, 4], { dtype: "bool" }));
    expectClose(none, np.broadcastTo(np.mean(vv, 0, null, null, true), [2, 3, 2]), 1e-14);
    // Causal with T = S: the first query sees only the first key.
    const c = nn.dotProductAttention(f64([3, 1, 2], 6), f64([3, 1, 2], 7), f64([3, 1, 2], 8), { isCausal: true });
    expectClose(np.index(c, [0]), np.index(f64([3, 1, 2], 8), [0]), 1e-15);
  });
  it("gradients in query, key and value (float64 finite differences), with a mask and causal", () => {
    const mask = np.array([[true, true, false], [true, false, true]]);
    checkGrad(
      (q: ArrayBase, k: ArrayBase, v: ArrayBase) => nn.dotProductAttention(q, k, v, null, mask, { isCausal: true }),
      [f64([1, 2, 2, 2], 1) as NDArray, f64([1, 3, 1, 2], 2) as NDArray, f64([1, 3, 1, 2], 3) as NDArray],
    );
  });
  it("vmap over an outer axis equals a loop; jit equals eager", () => {
    const qs = f64([3, 2, 4, 2, 3], 1);
    const ks = f64([3, 2, 5, 1, 3], 2);
    const vs = f64([3, 2, 5, 1, 3], 3);
    const f = (q: ArrayBase, k: ArrayBase, v: ArrayBase) => nn.dotProductAttention(q, k, v, { isCausal: true });
    const ys = vmap(f)(qs, ks, vs);
    for (let i = 0; i < 3; i++) expectClose(np.index(ys, [i]), f(np.index(qs, [i]), np.index(ks, [i]), np.index(vs, [i])), 1e-14);
    const [q, k, v] = [qs, ks, vs].map((a) => np.index(a, [0]));
    expectClose(jit(f)(q!, k!, v!), f(q!, k!, v!), 1e-13);
  });
  it("errors", () => {
    const q = np.ones([1, 2, 4, 3]);
    const k = np.ones([1, 5, 2, 3]);
    expect(() => nn.dotProductAttention(q, np.ones([1, 5, 3, 3]), np.ones([1, 5, 3, 3]))).toThrow(/nn.dotProductAttention: the number of key\/value heads \(K = 3\) must divide the number of query heads \(N = 4\)/);
    expect(() => nn.dotProductAttention(q, np.ones([1, 5, 2, 2]), np.ones([1, 5, 2, 2]))).toThrow(/key \[1, 5, 2, 2\] must be \[B, S, K, H\] with query's B = 1 and H = 3/);
    expect(() => nn.dotProductAttention(q, k, np.ones([1, 4, 2, 3]))).toThrow(/value \[1, 4, 2, 3\] must have key's shape \[1, 5, 2, 3\]/);
    expect(() => nn.dotProductAttention(np.ones([2, 3]), k, k)).toThrow(ShapeError);
    expect(() => nn.dotProductAttention(q, k, k, np.ones([3, 1, 1]))).toThrow(/bias of shape \[3, 1, 1\] does not broadcast to the logits' shape \[1, 4, 2, 5\]/);
    expect(() => nn.dotProductAttention(q, k, k, null, np.ones([2, 5]))).toThrow(DTypeError);
    expect(() => nn.dotProductAttention(q, k, np.astype(k, "float64"))).toThrow(/must share a dtype/);
    expect(() => nn.dotProductAttention(q, k, k, { isCasual: true } as never)).toThrow(/unknown option 'isCasual'[^]*did you mean 'isCausal'/);
    expect(() => nn.dotProductAttention(q, k, k, { localWindowSize: [1, -1] })).toThrow(/localWindowSize must be a non-negative integer or a \[left, right\] pair/);
    // A symmetric window of 1 is the band |s - t| <= 1.
    const band = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 0, 0]].map((r) => r.map(Boolean)));
    const [qr, kr, vr] = [f64([1, 2, 4, 3], 1), f64([1, 5, 2, 3], 2), f64([1, 5, 2, 3], 3)];
    const banded = nn.dotProductAttention(qr, kr, vr, { localWindowSize: 1 });
    expectClose(banded, nn.dotProductAttention(qr, kr, vr, null, band), 1e-15);
    expect(np.max(np.abs(np.subtract(banded, nn.dotProductAttention(qr, kr, vr)))).item()).toBeGreaterThan(1e-3);
    expect(() => nn.dotProductAttention(q, k, k, { querySeqLengths: np.array([1, 2], { dtype: "int32" }) })).toThrow(/querySeqLengths must have shape \[1\]/);
  });
});

describe("multiHeadAttention", () => {
  /** The layer written out: per-head projections, attention, output projection. */
  const refLayer = (p: nn.MultiHeadAttentionParams, x: ArrayBase, kv: ArrayBase, o: { mask?: ArrayBase; isCausal?: boolean }) => {
    const proj = (pp: nn.ProjectionParams, a: ArrayBase) => np.add(np.einsum("btf,fnh->btnh", a, pp.w), pp.b!);
    const att = nn.dotProductAttention(proj(p.query, x), proj(p.key, kv), proj(p.value, kv), null, o.mask ?? null, { isCausal: o.isCausal ?? false });
    return np.add(np.einsum("btnh,nho->bto", att, p.out.w), p.out.b!);
  };
  it("is projections around dotProductAttention (self and cross attention, masks, causal)", () => {
    const layer = nn.multiHeadAttention(2, 6, { qkvFeatures: 4, outFeatures: 5, kvFeatures: 3, dtype: "float64", biasInit: nn.normal(0.5) });
    const p = layer.init(random.key(0));
    expect([p.query.w.shape, p.query.b!.shape, p.key.w.shape, p.value.w.shape, p.out.w.shape, p.out.b!.shape]).toEqual([[6, 2, 2], [2, 2], [3, 2, 2], [3, 2, 2], [2, 2, 5], [5]]);
    const x = f64([2, 4, 6], 1);
    const kv = f64([2, 3, 3], 2);
    const mask = np.greater(f64([2, 1, 4, 3], 3), -0.3);
    expectClose(layer.apply(p, x, { kv, mask }), refLayer(p, x, kv, { mask }), 1e-13);
    const self = nn.multiHeadAttention(3, 6, { dtype: "float64", isCausal: true });
    const ps = self.init(random.key(1));
    expectClose(self.apply(ps, x), refLayer(ps, x, x, { isCausal: true }), 1e-13);
    // isCausal is the lower-triangular mask; apply's isCausal overrides the layer's.
    const tril = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]].map((r) => r.map(Boolean)));
    expectClose(self.apply(ps, x, { isCausal: false, mask: tril }), self.apply(ps, x), 1e-14);
    // Causal: changing the last position does not change the earlier outputs.
    const x2 = np.concatenate([np.index(x, [np.sl(), np.sl(0, 3)]), f64([2, 1, 6], 9)], 1);
    expectClose(np.index(self.apply(ps, x2), [np.sl(), np.sl(0, 3)]), np.index(self.apply(ps, x), [np.sl(), np.sl(0, 3)]), 1e-14);
  });
  it("takes any number of leading batch axes, and a mask per batch entry", () => {
    const layer = nn.multiHeadAttention(2, 4, { dtype: "float64" });
    const p = layer.init(random.key(2));
    const x = f64([2, 3, 5, 4], 4);
    const mask = np.greater(f64([2, 3, 1, 5, 5], 5), 0);
    const y = layer.apply(p, x, { mask });
    expect(y.shape).toEqual([2, 3, 5, 4]);
    expectClose(np.index(y, [1, 2]), layer.apply(p, np.index(x, [1, 2]), { mask: np.index(mask, [1, 2]) }), 1e-14);
    expectClose(np.index(y, [1]), layer.apply(p, np.index(x, [1]), { mask: np.index(mask, [1]) }), 1e-14);
  });
  it("dropout on the attention weights in training only, with the key's mask", () => {
    const layer = nn.multiHeadAttention(2, 4, { dtype: "float64", dropoutRate: 0.3, isCausal: true });
    const plain = nn.multiHeadAttention(2, 4, { dtype: "float64", isCausal: true });
    const p = layer.init(random.key(6));
    const x = f64([2, 3, 4], 7);
    expectClose(layer.apply(p, x), plain.apply(p, x), 0);
    const key = random.key(8);
    const y = layer.apply(p, x, { train: true, key });
    expectClose(layer.apply(p, x, { train: true, key }), y, 0);
    // The reference: softmax weights by hand, the mask random.bernoulli(key, 0.7, [B, N, T, S]), scaled by 1/0.7.
    const proj = (pp: nn.ProjectionParams) => np.add(np.einsum("btf,fnh->btnh", x, pp.w), pp.b!);
    const [q, k, v] = [proj(p.query), proj(p.key), proj(p.value)];
    const tril = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]].map((r) => r.map(Boolean)));
    const logits = np.where(tril, np.divide(np.einsum("btnh,bsnh->bnts", q, k), Math.sqrt(2)), -1e300);
    const weights = np.multiply(nn.softmax(logits), np.divide(np.astype(random.bernoulli(key, 0.7, [2, 2, 3, 3]), "float64"), 0.7));
    const want = np.add(np.einsum("bnts,bsnh,nho->bto", weights, v, p.out.w), p.out.b!);
    expectClose(y, want, 1e-13);
    expect(() => layer.apply(p, x, { train: true })).toThrow(/nn.multiHeadAttention: needs a PRNG key in training mode \(dropoutRate > 0\)/);
    expect(() => nn.multiHeadAttention(2, 4, { dropoutRate: 1 })).toThrow(/dropoutRate must be in \[0, 1\), got 1/);
  });
  it("initializes each projection as a [fanIn, fanOut] matrix (Flax's DenseGeneral)", () => {
    const layer = nn.multiHeadAttention(2, 8, { qkvFeatures: 6, useBias: false });
    const p = layer.init(random.key(3));
    const [kq] = random.split(random.key(3), 4);
    const [kw] = random.split(kq!);
    expect(p.query.w.toArray()).toEqual(np.reshape(nn.lecunNormal()(kw!, [8, 6]), [8, 2, 3]).toArray());
    expect(p.query.b).toBeUndefined();
  });
  it("gradients (float64), vmap against a loop, jit against eager", () => {
    const layer = nn.multiHeadAttention(2, 2, { dtype: "float64", isCausal: true });
    const p = layer.init(random.key(4));
    checkGrad((x: ArrayBase, wq: ArrayBase) => layer.apply({ ...p, query: { w: wq, b: p.query.b } }, x), [f64([3, 2], 5) as NDArray, p.query.w as NDArray]);
    const xs = f64([3, 4, 2], 6);
    const ys = vmap((x: ArrayBase) => layer.apply(p, x))(xs);
    for (let i = 0; i < 3; i++) expectClose(np.index(ys, [i]), layer.apply(p, np.index(xs, [i])), 1e-14);
    expectClose(jit((pp: nn.MultiHeadAttentionParams, x: ArrayBase) => layer.apply(pp, x))(p, xs), layer.apply(p, xs), 1e-13);
  });
  it("errors", () => {
    expect(() => nn.multiHeadAttention(3, 8)).toThrow(/nn.multiHeadAttention: qkvFeatures \(8\) must be divisible by numHeads \(3\)/);
    expect(() => nn.multiHeadAttention(0, 8)).toThrow(/numHeads must be a positive integer, got 0/);
    expect(() => nn.multiHeadAttention(2, 8, { heads: 2 } as never)).toThrow(/unknown option 'heads'/);
    const layer = nn.multiHeadAttention(2, 4);
    const p = layer.init(random.key(0));
    expect(() => layer.apply(p, np.ones([3, 5]))).toThrow(/nn.multiHeadAttention: the query input must be \[..., length, 4\], got \[3, 5\]/);
    expect(() => layer.apply(p, np.ones([2, 3, 4]), { kv: np.ones([1, 3, 4]) })).toThrow(/the key\/value input must be \[2, S, 4\]/);
    expect(() => layer.apply(p, np.ones([3, 4]), { mask: np.ones([3, 3, 3], { dtype: "bool" }) })).toThrow(/mask of shape \[3, 3, 3\] does not broadcast/);
    expect(() => layer.apply({ ...p, out: { w: np.ones([4, 4]) } }, np.ones([3, 4]))).toThrow(/params.out.w has shape \[4, 4\], but the layer expects \[2, 2, 4\]/);
    expect(() => layer.apply(p, np.ones([3, 4]), { causal: true } as never)).toThrow(ValueError);
  });
});
