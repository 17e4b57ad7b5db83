/**
 * Layers as pure {init, apply} pairs: outputs against reference loops, parameter shapes
 * and initializers, gradients, keys, composition, and one test per bad input.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, DTypeError, type NDArray, ShapeError, ValueError, grad, makeJaxpr, np, random, tree, typecheck, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { checkGrad, expectClose } from "../../core/test/harness.js";

const f64 = (x: unknown) => np.array(x as number[], { dtype: "float64" });
const arbMatrix = (rows: number, cols: number) =>
  fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: rows * cols, maxLength: rows * cols }).map((v) => np.array(Float64Array.from(v), { dtype: "float64", shape: [rows, cols] }) as NDArray);

describe("dense", () => {
  it("is x·w + b, by loops, with any leading axes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 3 }), fc.nat(1000), (nin, nout, batch, seed) => {
        const layer = nn.dense(nin, nout, { dtype: "float64" });
        const p = layer.init(random.key(seed));
        expect(p.w.shape).toEqual([nin, nout]);
        expect(p.b!.toArray()).toEqual(new Array(nout).fill(0));
        const b = random.normal(random.key(seed + 1), [nout], { dtype: "float64" });
        const x = random.normal(random.key(seed + 2), [2, batch, nin], { dtype: "float64" });
        const w = p.w.toArray() as number[][];
        const bv = b.toArray() as number[];
        const want = (x.toArray() as number[][][]).map((m) => m.map((row) => bv.map((bj, j) => row.reduce((s, xi, i) => s + xi * w[i]![j]!, bj))));
        const y = layer.apply({ w: p.w, b }, x);
        expect(y.shape).toEqual([2, batch, nout]);
        expectClose(y, np.array(want, { dtype: "float64", shape: [2, batch, nout] }), 1e-14);
        const y32 = nn.dense(nin, nout).apply({ w: np.astype(p.w, "float32"), b: np.astype(b, "float32") }, np.astype(x, "float32"));
        expect(y32.dtype).toBe("float32");
        expectClose(y32, np.array(want, { dtype: "float64", shape: [2, batch, nout] }), 1e-5);
      }),
      { numRuns: 25 },
    );
  });
  it("uses LeCun normal by default and the given initializers otherwise, deterministically by key", () => {
    const key = random.key(3);
    const [kw] = random.split(key);
    expect(nn.dense(4, 3).init(key).w.toArray()).toEqual(nn.lecunNormal()(kw!, [4, 3]).toArray());
    expect(nn.dense(4, 3, { kernelInit: nn.heUniform() }).init(key).w.toArray()).toEqual(nn.heUniform()(kw!, [4, 3]).toArray());
    expect(nn.dense(4, 3).init(key).w.toArray()).toEqual(nn.dense(4, 3).init(key).w.toArray());
    expect(nn.dense(4, 3, { biasInit: nn.ones }).init(key).b!.toArray()).toEqual([1, 1, 1]);
    const nb = nn.dense(4, 3, { useBias: false });
    expect(Object.keys(nb.init(key))).toEqual(["w"]);
    expect(nb.apply(nb.init(key), np.ones([1, 4])).shape).toEqual([1, 3]);
  });
  it("differentiates in params and input", () => {
    const layer = nn.dense(3, 2, { dtype: "float64" });
    const p = layer.init(random.key(0));
    const x = random.normal(random.key(1), [4, 3], { dtype: "float64" }) as NDArray;
    checkGrad((w: ArrayBase, b: ArrayBase, xx: ArrayBase) => layer.apply({ w, b }, xx), [p.w as NDArray, np.ones([2], { dtype: "float64" }) as NDArray, x]);
  });
  it("errors", () => {
    expect(() => nn.dense(0, 3)).toThrow(/nn.dense: inFeatures must be a positive integer, got 0/);
    expect(() => nn.dense(2, 2.5)).toThrow(/nn.dense: outFeatures must be a positive integer, got 2.5/);
    expect(() => nn.dense(2, 2, { dtype: "int32" })).toThrow(/nn.dense: parameter dtype must be float32 or float64, got int32/);
    const layer = nn.dense(4, 2);
    const p = layer.init(random.key(0));
    expect(() => layer.apply(p, np.ones([3, 5]))).toThrow(ShapeError);
    expect(() => layer.apply(p, np.ones([3, 5]))).toThrow(/nn.dense: input of shape \[3, 5\] has 5 features on its last axis, but the layer expects 4/);
    expect(() => layer.apply(p, np.ones([]))).toThrow(/input of shape \[\] has no axes, but the layer expects 4[^]*hint: pass an array whose last axis/);
    expect(() => layer.apply(p, np.ones([4], { dtype: "int32" }))).toThrow(DTypeError);
    expect(() => layer.apply(p, np.ones([4], { dtype: "int32" }))).toThrow(/nn.dense: expects a float input, got i32\[4\][^]*hint: convert with np.astype/);
  });
});

describe("mlp", () => {
  it("is dense layers with the activation between them", () => {
    const m = nn.mlp([3, 5, 4, 2], { dtype: "float64" });
    const p = m.init(random.key(0));
    expect(p.map((l) => l.w.shape)).toEqual([[3, 5], [5, 4], [4, 2]]);
    const x = random.normal(random.key(1), [6, 3], { dtype: "float64" });
    const d = (l: nn.DenseParams, h: ArrayBase) => np.add(np.matmul(h, l.w), l.b!);
    const want = d(p[2]!, nn.relu(d(p[1]!, nn.relu(d(p[0]!, x)))));
    expectClose(m.apply(p, x), want, 1e-15);
    const t = nn.mlp([3, 2], { activation: nn.tanh, activateFinal: true, dtype: "float64" });
    const pt = t.init(random.key(2));
    expectClose(t.apply(pt, x), nn.tanh(d(pt[0]!, x)), 1e-15);
  });
  it("errors", () => {
    expect(() => nn.mlp([3])).toThrow(/nn.mlp: sizes must list at least the input and output sizes, got \[3\][^]*hint: e.g. mlp\(\[784, 256, 10\]\)/);
    expect(() => nn.mlp([3, -1])).toThrow(/nn.mlp: sizes\[1\] must be a positive integer, got -1/);
    const m = nn.mlp([2, 2, 2]);
    expect(() => m.apply([m.init(random.key(0))[0]!], np.ones([2]))).toThrow(/nn.mlp: params must be a list of 2 dense layers' params, got a list of 1/);
  });
});

describe("layerNorm and rmsNorm", () => {
  const refNorm = (row: number[], center: boolean, eps: number) => {
    const mean = center ? row.reduce((a, b) => a + b, 0) / row.length : 0;
    const ms = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
    return row.map((v) => (v - mean) / Math.sqrt(ms + eps));
  };
  it("normalize each row like the reference, then scale and shift", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.nat(100), (rows, cols, seed) => {
        const x = np.multiply(random.normal(random.key(seed), [rows, cols], { dtype: "float64" }), 3);
        const scale = random.normal(random.key(seed + 1), [cols], { dtype: "float64" });
        const bias = random.normal(random.key(seed + 2), [cols], { dtype: "float64" });
        const s = scale.toArray() as number[];
        const b = bias.toArray() as number[];
        for (const center of [true, false]) {
          const layer = center ? nn.layerNorm(cols, { dtype: "float64" }) : nn.rmsNorm(cols, { dtype: "float64" });
          const p = layer.init(random.key(0));
          expect(p.scale!.toArray()).toEqual(new Array(cols).fill(1));
          expect(p.bias === undefined).toBe(!center);
          const params = center ? { scale, bias } : { scale };
          const want = (x.toArray() as number[][]).map((row) => refNorm(row, center, 1e-6).map((v, j) => v * s[j]! + (center ? b[j]! : 0)));
          expectClose(layer.apply(params, x), np.array(want, { dtype: "float64" }), 1e-12);
        }
      }),
      { numRuns: 20 },
    );
  });
  it("normalize over several trailing axes; options; gradients", () => {
    const x = random.normal(random.key(4), [2, 3, 4], { dtype: "float64" });
    const ln = nn.layerNorm([3, 4], { useScale: false, useBias: false, epsilon: 0 });
    expect(ln.init(random.key(0))).toEqual({});
    const y = ln.apply({}, x);
    expectClose(np.mean(y, { axis: [1, 2] }), np.zeros([2], { dtype: "float64" }), 1e-14);
    expectClose(np.var(y, { axis: [1, 2] }), np.ones([2], { dtype: "float64" }), 1e-12);
    const full = nn.layerNorm(4, { dtype: "float64" });
    const p = full.init(random.key(0));
    checkGrad((xx: ArrayBase, scale: ArrayBase, bias: ArrayBase) => full.apply({ scale, bias }, xx), [x as NDArray, np.add(p.scale!, 0.5) as NDArray, p.bias as NDArray]);
    const rms = nn.rmsNorm(4, { dtype: "float64" });
    checkGrad((xx: ArrayBase) => rms.apply(rms.init(random.key(0)), xx), [x as NDArray]);
  });
  it("errors", () => {
    const ln = nn.layerNorm(4);
    expect(() => ln.apply(ln.init(random.key(0)), np.ones([2, 5]))).toThrow(/nn.layerNorm: input of shape \[2, 5\] must end with the normalized shape \[4\]/);
    expect(() => nn.rmsNorm([])).toThrow(/nn.rmsNorm: features must be a size or a non-empty list of sizes, got \[\]/);
    expect(() => nn.layerNorm(3, { epsilon: -1 })).toThrow(/nn.layerNorm: epsilon must be a non-negative number, got -1/);
  });
});

describe("embedding", () => {
  it("gathers rows, and its gradient reaches only the rows used", () => {
    const e = nn.embedding(5, 3, { dtype: "float64" });
    const p = e.init(random.key(0));
    expect(p.table.shape).toEqual([5, 3]);
    const ids = np.array([[4, 0], [4, 2]], { dtype: "int32" });
    const t = p.table.toArray() as number[][];
    expect(e.apply(p, ids).toArray()).toEqual([[t[4], t[0]], [t[4], t[2]]]);
    const g = grad((table: ArrayBase) => np.sum(e.apply({ table }, ids)))(p.table).toArray();
    expect(g).toEqual([[1, 1, 1], [0, 0, 0], [1, 1, 1], [0, 0, 0], [2, 2, 2]]);
  });
  it("initializes with stddev 1/sqrt(features)", () => {
    const t = nn.embedding(4000, 16, { dtype: "float64" }).init(random.key(1)).table;
    expect(Math.sqrt(np.var(t).item())).toBeCloseTo(0.25, 2);
  });
  it("errors", () => {
    const e = nn.embedding(5, 3);
    expect(() => e.apply(e.init(random.key(0)), np.array([1.0]))).toThrow(/nn.embedding: ids must be int32, got f32\[1\]/);
    expect(() => e.apply(e.init(random.key(0)), np.array([7], { dtype: "int32" }))).toThrow(/np.take/);
    expect(() => nn.embedding(0, 3)).toThrow(/nn.embedding: numEmbeddings must be a positive integer, got 0/);
  });
});

describe("dropout", () => {
  const x = np.add(np.arange(1, 2001, 1, { dtype: "float64" }), 0);
  it("is the identity at evaluation, and without a rate", () => {
    const d = nn.dropout(0.5);
    expect(d.init(random.key(0))).toBe(null);
    expect(d.apply(null, x)).toBe(x);
    expect(d.apply(null, x, { train: false, key: random.key(0) })).toBe(x);
    expect(nn.dropout(0).apply(null, x, { train: true })).toBe(x);
  });
  it("in training zeroes about `rate` of the entries and scales the rest by 1/(1 - rate)", () => {
    const y = nn.dropout(0.25).apply(null, x, { train: true, key: random.key(1) }).toArray() as number[];
    const xv = x.toArray() as number[];
    let dropped = 0;
    y.forEach((v, i) => {
      if (v === 0) dropped++;
      else expect(v).toBeCloseTo(xv[i]! / 0.75, 10);
    });
    expect(dropped / y.length).toBeGreaterThan(0.2);
    expect(dropped / y.length).toBeLessThan(0.3);
    // The mask is the bernoulli draw of the key.
    const keep = random.bernoulli(random.key(1), 0.75, [2000]).toArray() as boolean[];
    expect(y.map((v) => v !== 0)).toEqual(keep);
    expect(nn.dropout(1).apply(null, x, { train: true, key: random.key(1) }).toArray()).toEqual(new Array(2000).fill(0));
  });
  it("errors", () => {
    expect(() => nn.dropout(1.5)).toThrow(/nn.dropout: rate must be a probability in \[0, 1\], got 1.5/);
    expect(() => nn.dropout(0.1).apply(null, x, { train: true })).toThrow(/nn.dropout: needs a PRNG key in training mode[^]*hint: pass apply\(params, x, \{ train: true, key \}\)/);
  });
});

describe("sequential, residual, flatten", () => {
  it("composes layers and plain functions; params are a list", () => {
    const model = nn.sequential(nn.dense(3, 4, { dtype: "float64" }), nn.relu, nn.dense(4, 2, { dtype: "float64" }));
    const key = random.key(0);
    const p = model.init(key);
    expect(p.length).toBe(3);
    expect(p[1]).toBe(null);
    const keys = [...random.split(key, 3)];
    expect((p[0] as nn.DenseParams).w.toArray()).toEqual(nn.dense(3, 4, { dtype: "float64" }).init(keys[0]!).w.toArray());
    const x = random.normal(random.key(1), [5, 3], { dtype: "float64" });
    const d = (l: any, h: ArrayBase) => np.add(np.matmul(h, l.w), l.b);
    expectClose(model.apply(p, x), d(p[2], nn.relu(d(p[0], x))), 1e-15);
    expect(nn.sequential().apply(nn.sequential().init(key), x)).toBe(x);
  });
  it("gives each layer its own key in training", () => {
    const model = nn.sequential(nn.dropout(0.5), nn.dropout(0.5));
    const x = np.ones([1000], { dtype: "float64" });
    const key = random.key(9);
    const y = model.apply([null, null], x, { train: true, key });
    const once = nn.dropout(0.5).apply(null, x, { train: true, key: random.foldIn(key, 0) });
    const want = nn.dropout(0.5).apply(null, once, { train: true, key: random.foldIn(key, 1) });
    expect(y.toArray()).toEqual(want.toArray());
  });
  it("differentiates end to end, vmaps and traces", () => {
    const model = nn.sequential(nn.dense(3, 4, { dtype: "float64" }), nn.tanh, nn.layerNorm(4, { dtype: "float64" }), nn.residual(nn.dense(4, 4, { dtype: "float64" })), nn.dense(4, 1, { dtype: "float64" }));
    const p = model.init(random.key(2));
    const x = random.normal(random.key(3), [2, 3], { dtype: "float64" });
    const [l0, , l2, l3, l4] = p as any[];
    checkGrad((w0: ArrayBase, w3: ArrayBase, xx: ArrayBase) => model.apply([{ ...l0, w: w0 }, null, l2, { ...l3, w: w3 }, l4], xx), [l0.w, l3.w, x as NDArray]);
    // Per-example gradients: vmap over the batch of a grad.
    const loss = (params: unknown, xi: ArrayBase) => np.sum(model.apply(params as unknown[], np.expandDims(xi, 0)));
    const per = vmap(grad(loss), { inAxes: [null, 0] })(p, x);
    const first = grad(loss)(p, np.index(x, [0]));
    expectClose(tree.map((g: ArrayBase) => np.index(g, [0]), per), first, 1e-12);
    typecheck(makeJaxpr((xx: ArrayBase) => model.apply(p, xx))(x));
  });
  it("residual adds the input; flatten keeps the batch axis", () => {
    const inner = nn.dense(3, 3, { dtype: "float64" });
    const r = nn.residual<nn.DenseParams>(inner);
    const p = r.init(random.key(0));
    const x = random.normal(random.key(1), [2, 3], { dtype: "float64" });
    expectClose(r.apply(p, x), np.add(x, inner.apply(p, x)), 1e-15);
    expect(r.name).toBe("residual(dense)");
    expect(nn.flatten().apply(null, np.zeros([2, 3, 4, 5])).shape).toEqual([2, 60]);
    expect(nn.activation(nn.gelu).apply(null, x).toArray()).toEqual(nn.gelu(x).toArray());
  });
  it("errors", () => {
    const model = nn.sequential(nn.dense(2, 2), nn.relu);
    expect(() => model.apply([], np.ones([2]))).toThrow(/nn.sequential: params must be a list of 2 entries \(one per layer: dense, relu\), got a list of 0/);
    expect(() => nn.sequential(nn.dense(2, 2), 3 as any)).toThrow(/nn.sequential: argument 1 is not a layer \(an object with init and apply\) or a function/);
    const r = nn.residual(nn.dense(3, 2));
    expect(() => r.apply(r.init(random.key(0)), np.ones([1, 3]))).toThrow(ShapeError);
    expect(() => r.apply(r.init(random.key(0)), np.ones([1, 3]))).toThrow(/nn.residual: the inner dense maps shape \[1, 3\] to \[1, 2\]; a residual block must keep the shape/);
    expect(() => nn.flatten().apply(null, np.ones([]))).toThrow(/nn.flatten: needs a batch axis, got a scalar/);
    expect(() => nn.residual({} as any)).toThrow(ValueError);
  });
});

describe("params are plain data", () => {
  it("survive tree.map, and a JSON-free save through serialize", async () => {
    const { serialize, deserialize } = await import("@cotangent/core");
    const model = nn.sequential(nn.conv2d(1, 2, 3), nn.relu, nn.flatten(), nn.dense(2 * 4 * 4, 3), nn.layerNorm(3));
    const p = model.init(random.key(0));
    const back = deserialize(serialize(p), { like: p });
    const x = random.normal(random.key(1), [2, 4, 4, 1]);
    expect(model.apply(back, x).toArray()).toEqual(model.apply(p, x).toArray());
    expect(tree.leaves(p).length).toBe(6);
  });
});
