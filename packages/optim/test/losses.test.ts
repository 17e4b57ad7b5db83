/**
 * Losses against reference loops (the formulas of Optax's loss docs, restated per test),
 * on random shapes in float32 and float64, plus gradients against finite differences and
 * stability at extreme logits.
 */
import { type ArrayBase, AxisError, type NDArray, grad, np } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkGrad } from "../../core/test/harness.js";

type DT = "float32" | "float64";
const tolOf = (d: DT) => (d === "float32" ? 2e-5 : 1e-12);
const expectValues = (got: ArrayBase, want: number[], shape: number[], d: DT) => {
  expect(got.shape).toEqual(shape);
  expect(got.dtype).toBe(d);
  const g = Array.from(got.toTypedArray());
  g.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThanOrEqual(tolOf(d) * Math.max(1, Math.abs(want[i]!))));
};

const dims = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 5 }));
const vals = (n: number, lo = -4, hi = 4) => fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: n, maxLength: n });
/** [B, K] batches: values of two arrays and a dtype. */
const batch = (lo = -4, hi = 4) =>
  dims.chain(([b, k]) => fc.record({ b: fc.constant(b), k: fc.constant(k), x: vals(b * k, lo, hi), y: vals(b * k, lo, hi), d: fc.constantFrom<DT>("float32", "float64") }));
const mk = (v: number[], shape: number[], d: DT) => np.array(Float64Array.from(v), { dtype: d, shape });
const rows = (v: number[], k: number) => Array.from({ length: v.length / k }, (_, i) => v.slice(i * k, (i + 1) * k));
const f32 = (d: DT) => (v: number) => (d === "float32" ? Math.fround(v) : v);
const lse = (r: number[]) => {
  const m = Math.max(...r);
  return m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0));
};

describe("classification losses vs loops", () => {
  it("softmaxCrossEntropy = -sum(labels * log_softmax(logits)) along the last axis", () => {
    fc.assert(
      fc.property(batch(), ({ b, k, x, y, d }) => {
        const xs = x.map(f32(d));
        const probs = rows(y.map((v) => Math.abs(v)), k).map((r) => r.map((v) => v / (r.reduce((s, u) => s + u, 0) || 1)));
        const want = rows(xs, k).map((r, i) => -r.reduce((s, v, j) => s + probs[i]![j]! * (v - lse(r)), 0));
        expectValues(optim.softmaxCrossEntropy(mk(xs, [b, k], d), mk(probs.flat().map(f32(d)), [b, k], d)), want, [b], d);
      }),
      { numRuns: 30 },
    );
  });

  it("softmaxCrossEntropyWithIntegerLabels = logsumexp(logits) - logits[label]", () => {
    fc.assert(
      fc.property(batch().chain((r) => fc.record({ r: fc.constant(r), labels: fc.array(fc.integer({ min: 0, max: r.k - 1 }), { minLength: r.b, maxLength: r.b }) })), ({ r: { b, k, x, d }, labels }) => {
        const xs = x.map(f32(d));
        const want = rows(xs, k).map((r, i) => lse(r) - r[labels[i]!]!);
        const got = optim.softmaxCrossEntropyWithIntegerLabels(mk(xs, [b, k], d), np.array(labels, { dtype: "int32" }));
        expectValues(got, want, [b], d);
        // Same as the dense form with one-hot labels.
        const onehot = labels.flatMap((l) => Array.from({ length: k }, (_, j) => (j === l ? 1 : 0)));
        expectValues(optim.softmaxCrossEntropy(mk(xs, [b, k], d), mk(onehot, [b, k], d)), want, [b], d);
      }),
      { numRuns: 30 },
    );
  });

  it("sigmoidBinaryCrossEntropy = -y log sigmoid(x) - (1 - y) log(1 - sigmoid(x))", () => {
    fc.assert(
      fc.property(batch(), ({ b, k, x, y, d }) => {
        const xs = x.map(f32(d));
        const ys = y.map((v) => f32(d)(Math.abs(v) / 4));
        const sig = (v: number) => 1 / (1 + Math.exp(-v));
        const want = xs.map((v, i) => -ys[i]! * Math.log(sig(v)) - (1 - ys[i]!) * Math.log(1 - sig(v)));
        expectValues(optim.sigmoidBinaryCrossEntropy(mk(xs, [b, k], d), mk(ys, [b, k], d)), want, [b, k], d);
      }),
      { numRuns: 30 },
    );
  });

  it("hingeLoss = max(0, 1 - output * target)", () => {
    fc.assert(
      fc.property(batch(), ({ b, k, x, y, d }) => {
        const xs = x.map(f32(d));
        const t = y.map((v) => (v >= 0 ? 1 : -1));
        expectValues(optim.hingeLoss(mk(xs, [b, k], d), mk(t, [b, k], d)), xs.map((v, i) => Math.max(0, 1 - v * t[i]!)), [b, k], d);
      }),
      { numRuns: 30 },
    );
  });

  it("klDivergence = sum(t (log t - log p)), with 0 for zero targets", () => {
    fc.assert(
      fc.property(batch(0, 1), ({ b, k, x, y, d }) => {
        const norm = (v: number[]) => rows(v, k).flatMap((r) => r.map((u) => u / (r.reduce((s, w) => s + w, 0) || 1)));
        const p = norm(x.map((v) => v + 0.01)).map(f32(d));
        const t = norm(y.map((v, i) => (i % 3 === 0 ? 0 : v))).map(f32(d));
        const logp = p.map((v) => f32(d)(Math.log(v)));
        const want = rows(t, k).map((r, i) => r.reduce((s, v, j) => s + (v === 0 ? 0 : v * (Math.log(v) - logp[i * k + j]!)), 0));
        const got = optim.klDivergence(mk(logp, [b, k], d), mk(t, [b, k], d));
        expectValues(got, want, [b], d);
        expect(Array.from(got.toTypedArray()).every(Number.isFinite)).toBe(true);
      }),
      { numRuns: 30 },
    );
  });

  it("smoothLabels = (1 - alpha) labels + alpha / K", () => {
    const y = np.array([[0, 1, 0, 0], [1, 0, 0, 0]], { dtype: "float64" });
    expectValues(optim.smoothLabels(y, 0.2), [0.05, 0.85, 0.05, 0.05, 0.85, 0.05, 0.05, 0.05], [2, 4], "float64");
  });
});

describe("regression losses vs loops", () => {
  it("squaredError, l2Loss, huberLoss and logCosh, elementwise", () => {
    fc.assert(
      fc.property(batch(), fc.double({ min: 0.1, max: 3, noNaN: true }), ({ b, k, x, y, d }, delta) => {
        const [p, t] = [x.map(f32(d)), y.map(f32(d))];
        const e = p.map((v, i) => v - t[i]!);
        const [P, T] = [mk(p, [b, k], d), mk(t, [b, k], d)];
        expectValues(optim.squaredError(P, T), e.map((v) => v * v), [b, k], d);
        expectValues(optim.l2Loss(P, T), e.map((v) => 0.5 * v * v), [b, k], d);
        expectValues(optim.squaredError(P), p.map((v) => v * v), [b, k], d);
        const huber = e.map((v) => (Math.abs(v) <= delta ? 0.5 * v * v : delta * (Math.abs(v) - 0.5 * delta)));
        expectValues(optim.huberLoss(P, T, { delta }), huber, [b, k], d);
        expectValues(optim.logCosh(P, T), e.map((v) => Math.log(Math.cosh(v))), [b, k], d);
      }),
      { numRuns: 30 },
    );
  });

  it("cosineDistance = 1 - <p, t> / (|p| |t|) along the last axis", () => {
    fc.assert(
      fc.property(batch(), ({ b, k, x, y, d }) => {
        const [p, t] = [x.map((v) => f32(d)(v + 5)), y.map((v) => f32(d)(v + 5))];
        const want = rows(p, k).map((r, i) => {
          const s = rows(t, k)[i]!;
          const dot = r.reduce((a, v, j) => a + v * s[j]!, 0);
          return 1 - dot / (Math.hypot(...r) * Math.hypot(...s));
        });
        expectValues(optim.cosineDistance(mk(p, [b, k], d), mk(t, [b, k], d)), want, [b], d);
      }),
      { numRuns: 30 },
    );
  });
});

describe("stability and gradients", () => {
  it("stays finite at extreme logits", () => {
    const big = np.array([[1000, -1000, 0]], { dtype: "float32" });
    expect(optim.softmaxCrossEntropy(big, np.array([[0, 1, 0]], { dtype: "float32" })).item()).toBeCloseTo(2000, 2);
    expect(optim.softmaxCrossEntropyWithIntegerLabels(big, np.array([0], { dtype: "int32" })).item()).toBeCloseTo(0, 6);
    const bce = optim.sigmoidBinaryCrossEntropy(np.array([100, -100], { dtype: "float32" }), np.array([0, 0], { dtype: "float32" }));
    expect(bce.toArray()[0]).toBe(100);
    expect(bce.toArray()[1]).toBeLessThan(1e-40);
    expect(optim.logCosh(np.array([1000], { dtype: "float32" })).item()).toBeCloseTo(1000 - Math.LN2, 3);
  });

  it("gradients match finite differences (float64)", () => {
    const x = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]], { dtype: "float64" }) as NDArray;
    const y = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]], { dtype: "float64" }) as NDArray;
    const labels = np.array([2, 0], { dtype: "int32" });
    checkGrad((a: ArrayBase) => optim.softmaxCrossEntropy(a, y), [x]);
    checkGrad((a: ArrayBase) => optim.softmaxCrossEntropyWithIntegerLabels(a, labels), [x]);
    checkGrad((a: ArrayBase) => optim.sigmoidBinaryCrossEntropy(a, y), [x]);
    checkGrad((a: ArrayBase) => optim.huberLoss(a, y, { delta: 0.5 }), [x]);
    checkGrad((a: ArrayBase) => optim.logCosh(a, y), [x]);
    checkGrad((a: ArrayBase) => optim.cosineDistance(a, y), [x]);
    checkGrad((a: ArrayBase) => optim.klDivergence(a, y), [x]);
    // Zero targets give a zero (not NaN) gradient in the targets too.
    const t0 = np.array([0, 0.5, 0.5], { dtype: "float64" });
    const g = grad((t: ArrayBase) => np.sum(optim.klDivergence(np.log(np.array([0.2, 0.3, 0.5], { dtype: "float64" })), t)))(t0);
    expect(Array.from(g.toTypedArray()).every(Number.isFinite)).toBe(true);
  });
});

describe("bad inputs", () => {
  it("are typed errors naming the loss", () => {
    const x = np.zeros([2, 3]);
    expect(() => optim.softmaxCrossEntropy(x, np.zeros([2, 4]))).toThrow(/optim.softmaxCrossEntropy: logits \[2, 3\] and labels \[2, 4\] must have the same shape/);
    // Labels outside [-K, K) give NaN, negative ones count from the end (JAX's take_along_axis in Optax).
    const ce = optim.softmaxCrossEntropyWithIntegerLabels(np.array([[0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2]]), np.array([3, -4, -1, 2], { dtype: "int32" }));
    const vals = ce.toArray() as number[];
    expect(Number.isNaN(vals[0]!) && Number.isNaN(vals[1]!)).toBe(true);
    expect(vals[2]).toBe(vals[3]);
    expect(ce.dtype).toBe("float32");
    expect(() => optim.softmaxCrossEntropyWithIntegerLabels(x, np.zeros([2]))).toThrow(/optim.softmaxCrossEntropyWithIntegerLabels: labels must be int32 class indices, got float32/);
    expect(() => optim.softmaxCrossEntropyWithIntegerLabels(x, np.zeros([3], { dtype: "int32" }))).toThrow(
      /labels have shape \[3\], but logits of shape \[2, 3\] need labels of shape \[2\]/,
    );
    expect(() => optim.softmaxCrossEntropy(x, x, { axis: 2 })).toThrow(/optim.softmaxCrossEntropy: axis 2 is out of range for logits of shape \[2, 3\]/);
    // An axis out of range is an AxisError (as everywhere else), naming the argument it indexes.
    expect(() => optim.softmaxCrossEntropy(x, x, { axis: 2 })).toThrow(AxisError);
    expect(() => optim.softmaxCrossEntropyWithIntegerLabels(x, np.zeros([2], { dtype: "int32" }), { axis: -3 })).toThrow(AxisError);
    expect(() => optim.klDivergence(x, x, { axis: 2 })).toThrow(/optim.klDivergence: axis 2 is out of range for logPredictions of shape \[2, 3\]/);
    expect(() => optim.cosineDistance(x, x, { axis: 2 })).toThrow(/optim.cosineDistance: axis 2 is out of range for predictions of shape \[2, 3\]/);
    expect(() => optim.huberLoss(x, x, { delta: 0 })).toThrow(/optim.huberLoss: option delta must be a finite number > 0 \(or a scalar array\), got 0/);
    expect(() => optim.smoothLabels(x, 1.5)).toThrow(/optim.smoothLabels: argument alpha must be a number in \[0, 1\] \(or a scalar array\), got 1.5/);
    expect(() => optim.klDivergence(x, np.zeros([3]))).toThrow(/optim.klDivergence: logPredictions \[2, 3\] and targets \[3\] must have the same shape/);
  });
});
