/**
 * batchNorm (train and eval, running statistics as state, feature axes) and groupNorm
 * against loops over the flat data; gradients against finite differences (float64); vmap
 * against a loop; jit against eager; and their errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, AxisError, DTypeError, type NDArray, ShapeError, ValueError, grad, jit, np, random, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { checkGrad, expectClose } from "../../core/test/harness.js";

/** Row-major strides of a shape. */
const stridesOf = (shape: readonly number[]) => shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

/**
 * Per-group mean and biased variance of flat data: `groupOf(index)` names the group of each
 * element (a feature for batch norm, an (example, group) pair for group norm).
 */
const groupStats = (data: number[], groupOf: (i: number) => string) => {
  const sums = new Map<string, [number, number]>();
  data.forEach((v, i) => {
    const g = groupOf(i);
    const [s, n] = sums.get(g) ?? [0, 0];
    sums.set(g, [s + v, n + 1]);
  });
  const mean = new Map([...sums].map(([g, [s, n]]) => [g, s / n]));
  const sq = new Map<string, number>();
  data.forEach((v, i) => {
    const g = groupOf(i);
    sq.set(g, (sq.get(g) ?? 0) + (v - mean.get(g)!) ** 2);
  });
  const variance = new Map([...sq].map(([g, s]) => [g, s / sums.get(g)![1]]));
  return { mean, variance };
};

const f64 = (shape: number[], seed: number, scale = 1) => np.multiply(random.normal(random.key(seed), shape, { dtype: "float64" }), scale);
const flatOf = (x: ArrayBase) => Array.from((x as NDArray).toTypedArray() as Float64Array);

describe("batchNorm", () => {
  it("in training normalizes each feature by the batch's statistics and moves the state toward them", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<[number[], number[]]>([[5, 3], [-1]], [[2, 3, 4], [1]], [[2, 3, 2, 4], [-1]], [[3, 2, 4], [2, 1]], [[4, 2, 3], [0, 2]]),
        fc.nat(100),
        fc.double({ min: 0, max: 1, noNaN: true }),
        ([shape, axis], seed, momentum) => {
          const x = np.add(f64(shape, seed, 2), 1.5);
          const feat = axis.map((a) => shape[a < 0 ? a + shape.length : a]!);
          const layer = nn.batchNorm(feat, { axis, momentum, dtype: "float64" });
          const params = { scale: f64(feat, seed + 1), bias: f64(feat, seed + 2) };
          const state = { mean: f64(feat, seed + 3), var: np.exp(f64(feat, seed + 4)) };
          const [y, next] = layer.apply(params, state, x, { train: true });
          // The reference: group the flat data by its feature index.
          const st = stridesOf(shape);
          const featStrides = stridesOf(feat);
          const featureIndex = (i: number) => axis.reduce((acc, a, k) => acc + (Math.floor(i / st[a < 0 ? a + shape.length : a]!) % feat[k]!) * featStrides[k]!, 0);
          const data = flatOf(x);
          const { mean, variance } = groupStats(data, (i) => String(featureIndex(i)));
          const [sc, bi, m0, v0] = [params.scale, params.bias, state.mean, state.var].map(flatOf);
          const want = data.map((v, i) => {
            const f = featureIndex(i);
            return ((v - mean.get(String(f))!) / Math.sqrt(variance.get(String(f))! + 1e-5)) * sc![f]! + bi![f]!;
          });
          expectClose(y, np.array(want, { dtype: "float64", shape }), 1e-12);
          const nf = feat.reduce((a, b) => a * b, 1);
          const wantMean = Array.from({ length: nf }, (_, f) => momentum * m0![f]! + (1 - momentum) * mean.get(String(f))!);
          const wantVar = Array.from({ length: nf }, (_, f) => momentum * v0![f]! + (1 - momentum) * variance.get(String(f))!);
          expect(next.mean.shape).toEqual(feat);
          expectClose(next.mean, np.array(wantMean, { dtype: "float64", shape: feat }), 1e-13);
          expectClose(next.var, np.array(wantVar, { dtype: "float64", shape: feat }), 1e-13);
          // Evaluation uses the running statistics, and leaves the state as it was.
          const [ye, same] = layer.apply(params, state, x);
          expect(same).toBe(state);
          const wantEval = data.map((v, i) => {
            const f = featureIndex(i);
            return ((v - m0![f]!) / Math.sqrt(v0![f]! + 1e-5)) * sc![f]! + bi![f]!;
          });
          expectClose(ye, np.array(wantEval, { dtype: "float64", shape }), 1e-12);
        },
      ),
      { numRuns: 20 },
    );
  });
  it("starts from mean 0 and variance 1 with scale 1 and bias 0; defaults as Flax", () => {
    const layer = nn.batchNorm(3);
    expect(layer.initState().mean.toArray()).toEqual([0, 0, 0]);
    expect(layer.initState().var.toArray()).toEqual([1, 1, 1]);
    const p = layer.init(random.key(0));
    expect([p.scale!.toArray(), p.bias!.toArray()]).toEqual([[1, 1, 1], [0, 0, 0]]);
    expect(Object.keys(nn.batchNorm(3, { useScale: false }).init(random.key(0)))).toEqual(["bias"]);
    // Default momentum 0.99: one step moves the running mean 1% of the way to the batch mean.
    const x = np.array([[1, 2, 3], [3, 4, 5]]);
    const [, s] = layer.apply(p, layer.initState(), x, { train: true });
    expectClose(s.mean, np.array([0.02, 0.03, 0.04]), 1e-6);
    expectClose(s.var, np.array([0.99 + 0.01, 0.99 + 0.01, 0.99 + 0.01]), 1e-6);
    // Default epsilon 1e-5: a constant feature normalizes to 0 and no NaN appears.
    const [y] = layer.apply(p, layer.initState(), np.ones([4, 3]), { train: true });
    expect(y.toArray()).toEqual(np.zeros([4, 3]).toArray());
  });
  it("differentiates through the batch statistics (float64, finite differences); the state carries no gradient", () => {
    const layer = nn.batchNorm(3, { dtype: "float64" });
    const state = layer.initState();
    const x = f64([4, 3], 7, 2) as NDArray;
    checkGrad((xx: ArrayBase, scale: ArrayBase, bias: ArrayBase) => layer.apply({ scale, bias }, state, xx, { train: true })[0], [x, np.add(f64([3], 8), 1) as NDArray, f64([3], 9) as NDArray]);
    checkGrad((xx: ArrayBase, mean: ArrayBase) => layer.apply({}, { mean, var: state.var }, xx)[0], [x, f64([3], 10) as NDArray]);
    // d(next state)/dx is zero: the new statistics are data.
    const g = grad((xx: ArrayBase) => np.sum(layer.apply({}, state, xx, { train: true })[1].mean))(x);
    expect(g.toArray()).toEqual(np.zeros([4, 3]).toArray());
  });
  it("vmap over an outer axis equals a loop (each slice its own batch), and jit equals eager", () => {
    const layer = nn.batchNorm(2, { dtype: "float64" });
    const p = { scale: f64([2], 1), bias: f64([2], 2) };
    const s = { mean: f64([2], 3), var: np.exp(f64([2], 4)) };
    const xs = f64([3, 5, 2], 5);
    const f = (x: ArrayBase) => layer.apply(p, s, x, { train: true });
    const [ys, states] = vmap(f)(xs) as [ArrayBase, nn.BatchNormState];
    for (let i = 0; i < 3; i++) {
      const [y, st] = f(np.index(xs, [i]));
      expectClose(np.index(ys, [i]), y, 1e-14);
      expectClose(np.index(states.mean, [i]), st.mean, 1e-14);
    }
    for (const train of [true, false]) {
      const apply = (pp: nn.NormParams, ss: nn.BatchNormState, x: ArrayBase) => layer.apply(pp, ss, x, { train });
      expectClose(jit(apply)(p, s, np.index(xs, [0])), apply(p, s, np.index(xs, [0])), 1e-13);
    }
  });
  it("errors", () => {
    expect(() => nn.batchNorm(0)).toThrow(/nn.batchNorm: features must be a positive integer, got 0/);
    expect(() => nn.batchNorm(3, { momentun: 0.9 } as never)).toThrow(/nn.batchNorm: unknown option 'momentun'[^]*did you mean 'momentum'/);
    expect(() => nn.batchNorm(3, { momentum: 1.5 })).toThrow(/nn.batchNorm: momentum must be a number in \[0, 1\], got 1.5/);
    expect(() => nn.batchNorm([3, 4], { axis: 1 })).toThrow(ShapeError);
    expect(() => nn.batchNorm(3, { dtype: "int32" })).toThrow(DTypeError);
    const layer = nn.batchNorm(3);
    const p = layer.init(random.key(0));
    const s = layer.initState();
    expect(() => layer.apply(p, s, np.ones([2, 4]))).toThrow(/nn.batchNorm: input of shape \[2, 4\] has \[4\] on its feature axes \(-1\), but the layer expects \[3\]/);
    expect(() => nn.batchNorm(3, { axis: 2 }).apply(p, s, np.ones([2, 3]))).toThrow(AxisError);
    expect(() => layer.apply(p, { mean: np.zeros([4]), var: s.var }, np.ones([2, 3]))).toThrow(/nn.batchNorm: state.mean has shape \[4\], but the layer expects \[3\]/);
    expect(() => layer.apply(p, null as never, np.ones([2, 3]))).toThrow(/nn.batchNorm: state must be an object, got null/);
    expect(() => layer.apply({ scale: "x" } as never, s, np.ones([2, 3]))).toThrow(ValueError);
    expect(() => layer.apply(p, s, np.ones([2, 3], { dtype: "int32" }))).toThrow(DTypeError);
  });
});

describe("groupNorm", () => {
  it("normalizes each example's groups of channels over the channels and the inner axes", () => {
    fc.assert(
      fc.property(fc.constantFrom<number[]>([2, 6], [2, 3, 6], [1, 2, 3, 4], [3, 2, 2, 6]), fc.nat(100), (shape, seed) => {
        const c = shape[shape.length - 1]!;
        const divisors = [1, 2, 3, 4, 6].filter((g) => c % g === 0);
        const numGroups = divisors[seed % divisors.length]!;
        const layer = nn.groupNorm(numGroups, c, { dtype: "float64" });
        const params = { scale: f64([c], seed + 1), bias: f64([c], seed + 2) };
        const x = np.add(f64(shape, seed, 3), -2);
        const per = shape.slice(1).reduce((a, b) => a * b, 1);
        const gs = c / numGroups;
        const groupOf = (i: number) => `${Math.floor(i / per)},${Math.floor((i % c) / gs)}`;
        const data = flatOf(x);
        const { mean, variance } = groupStats(data, groupOf);
        const [sc, bi] = [params.scale, params.bias].map(flatOf);
        const want = data.map((v, i) => ((v - mean.get(groupOf(i))!) / Math.sqrt(variance.get(groupOf(i))! + 1e-6)) * sc![i % c]! + bi![i % c]!);
        expectClose(layer.apply(params, x), np.array(want, { dtype: "float64", shape }), 1e-12);
      }),
      { numRuns: 20 },
    );
  });
  it("one group is layer norm over every non-batch axis", () => {
    const x = f64([2, 3, 4], 3);
    const g = nn.groupNorm(1, 4, { dtype: "float64", epsilon: 1e-3 });
    const l = nn.layerNorm([3, 4], { dtype: "float64", epsilon: 1e-3, useScale: false, useBias: false });
    expectClose(g.apply({}, x), l.apply({}, x), 1e-13);
  });
  it("gradients (float64), vmap against a loop, jit against eager", () => {
    const layer = nn.groupNorm(2, 4, { dtype: "float64" });
    checkGrad((x: ArrayBase, scale: ArrayBase, bias: ArrayBase) => layer.apply({ scale, bias }, x), [f64([2, 3, 4], 1) as NDArray, np.add(f64([4], 2), 1) as NDArray, f64([4], 3) as NDArray]);
    const p = layer.init(random.key(0));
    const xs = f64([3, 2, 2, 4], 4);
    const ys = vmap((x: ArrayBase) => layer.apply(p, x))(xs);
    for (let i = 0; i < 3; i++) expectClose(np.index(ys, [i]), layer.apply(p, np.index(xs, [i])), 1e-14);
    expectClose(jit((pp: nn.NormParams, x: ArrayBase) => layer.apply(pp, x))(p, np.index(xs, [0])), layer.apply(p, np.index(xs, [0])), 1e-13);
  });
  it("errors", () => {
    expect(() => nn.groupNorm(3, 8)).toThrow(/nn.groupNorm: numGroups \(3\) must divide features \(8\)/);
    expect(() => nn.groupNorm(0, 8)).toThrow(/nn.groupNorm: numGroups must be a positive integer, got 0/);
    expect(() => nn.groupNorm(2, 8, { groups: 2 } as never)).toThrow(/unknown option 'groups'/);
    const layer = nn.groupNorm(2, 4);
    const p = layer.init(random.key(0));
    expect(() => layer.apply(p, np.ones([2, 3]))).toThrow(/nn.groupNorm: expects a channels-last input \[batch, \.\.\., 4\], got shape \[2, 3\]/);
    expect(() => layer.apply(p, np.ones([4]))).toThrow(/add a batch axis/);
    expect(() => layer.apply({ scale: np.ones([3]) }, np.ones([2, 4]))).toThrow(/nn.groupNorm: params.scale has shape \[3\], but the layer expects \[4\]/);
  });
});
