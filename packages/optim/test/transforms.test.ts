/**
 * The transforms one by one against plain loops, and the wrappers (masked, partition,
 * applyIfFinite, multiSteps, injectHyperparams) against the transforms they wrap.
 */
import { type ArrayBase, np, tree } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Leaves, fromLeaves, gradAt, initParams, toLeaves } from "./reference.js";

const flat = (t: unknown): number[] => toLeaves(t).flatMap((x) => Array.from(x));
const close = (a: unknown, b: unknown, tol = 1e-12) => {
  const [x, y] = [flat(a), flat(b)];
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => expect(Math.abs(v - y[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(y[i]!))));
};
const params = initParams();
const grads = (s: number) => fromLeaves(params, gradAt(s, toLeaves(params)));

/** Runs `opt` over the gradient sequence `gs`, returning each step's updates and the final state. */
const run = (opt: optim.GradientTransformation<any>, gs: any[], p: any = params) => {
  let state = opt.init(p);
  const out: any[] = [];
  for (const g of gs) {
    const [u, s] = opt.update(g, state, p);
    out.push(u);
    state = s;
  }
  return { updates: out, state };
};

const arbLeaves = (lo: number, hi: number) =>
  fc
    .tuple(fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: 2, maxLength: 2 }), fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: 6, maxLength: 6 }))
    .map(([b, w]) => [Float64Array.from(b), Float64Array.from(w)] as Leaves);

describe("elementwise transforms", () => {
  it("scale multiplies, setToZero zeroes", () => {
    const [u] = optim.scale(-0.5).update(grads(0), {});
    close(u, tree.map((g: ArrayBase) => np.multiply(g, -0.5), grads(0)));
    const [z] = optim.setToZero().update(grads(0), {});
    expect(flat(z).every((v) => v === 0)).toBe(true);
  });

  it("clip bounds every element (property, against a loop)", () => {
    fc.assert(
      fc.property(arbLeaves(-10, 10), fc.double({ min: 0, max: 5, noNaN: true }), (g, m) => {
        const [u] = optim.clip(m).update(fromLeaves(params, g), {});
        // `+ 0` folds -0 into 0: the sign of a clipped zero is not part of the contract.
        expect(flat(u).map((v) => v + 0)).toEqual(g.flatMap((x) => Array.from(x, (v) => Math.min(m, Math.max(-m, v)) + 0)));
      }),
      { numRuns: 30 },
    );
  });

  it("clipByGlobalNorm rescales by the norm over all leaves (property, against a loop)", () => {
    fc.assert(
      fc.property(arbLeaves(-10, 10), fc.double({ min: 0.01, max: 20, noNaN: true }), (g, m) => {
        const [u] = optim.clipByGlobalNorm(m).update(fromLeaves(params, g), {});
        const norm = Math.sqrt(g.flatMap((x) => Array.from(x)).reduce((s, v) => s + v * v, 0));
        const expected = g.flatMap((x) => Array.from(x, (v) => (norm < m ? v : (v / norm) * m)));
        close(u, fromLeaves(params, [Float64Array.from(expected.slice(0, 2)), Float64Array.from(expected.slice(2))]));
        expect(Math.sqrt(flat(u).reduce((s, v) => s + v * v, 0))).toBeLessThanOrEqual(m * (1 + 1e-12));
      }),
      { numRuns: 30 },
    );
  });

  it("clipByGlobalNorm keeps mixed dtypes", () => {
    const g = { a: np.array([3, 0], { dtype: "float32" }), b: np.array([4], { dtype: "float64" }) };
    const [u] = optim.clipByGlobalNorm(1).update(g, {});
    expect(u.a.dtype).toBe("float32");
    expect(u.b.dtype).toBe("float64");
    expect(u.a.toArray()[0]).toBeCloseTo(0.6, 6);
    expect(u.b.toArray()[0]).toBeCloseTo(0.8, 12);
  });

  it("zeroNans replaces NaNs and flags the leaves that had them", () => {
    const g = { b: np.array([1, NaN], { dtype: "float64" }), w: np.ones([3, 2], { dtype: "float64" }) };
    const t = optim.zeroNans();
    const [u, s] = t.update(g, t.init(g));
    expect(u.b.toArray()).toEqual([1, 0]);
    expect(s.foundNan.b.item()).toBe(1);
    expect(s.foundNan.w.item()).toBe(0);
  });

  it("ema is the (debiased) exponential moving average", () => {
    for (const debias of [true, false]) {
      const decay = 0.8;
      const { updates } = run(optim.ema(decay, { debias }), [0, 1, 2].map(grads));
      let e = toLeaves(params).map((x) => new Float64Array(x.length));
      [0, 1, 2].forEach((s) => {
        const g = gradAt(s, toLeaves(params));
        e = e.map((x, k) => x.map((v, i) => decay * v + (1 - decay) * g[k]![i]!));
        const expected = e.map((x) => x.map((v) => (debias ? v / (1 - decay ** (s + 1)) : v)));
        close(updates[s], fromLeaves(params, expected));
      });
    }
  });
});

describe("weight decay and masks", () => {
  const decayed = (mask: boolean[]) =>
    fromLeaves(params, toLeaves(grads(0)).map((g, k) => g.map((v, i) => v + (mask[k] ? 0.1 * toLeaves(params)[k]![i]! : 0))));

  it("addDecayedWeights adds weightDecay * params", () => {
    const [u] = optim.addDecayedWeights(0.1).update(grads(0), {}, params);
    close(u, decayed([true, true]));
  });

  it("a mask may be a pytree, a prefix or a function of the params", () => {
    const masks = [{ w: true, b: false }, (p: any) => tree.map((x: ArrayBase) => x.ndim > 1, p)];
    for (const mask of masks) {
      const t = optim.addDecayedWeights(0.1, { mask });
      const [u] = t.update(grads(0), t.init(params), params);
      close(u, decayed([false, true]));
    }
    const nested = { layer: { w: params.w, b: params.b }, head: [params.w] };
    const t = optim.masked(optim.scale(2), { layer: false, head: true });
    const g = tree.map((x: ArrayBase) => np.onesLike(x), nested);
    const [u] = t.update(g, t.init(nested));
    expect(flat(u.layer).every((v) => v === 1)).toBe(true);
    expect(flat(u.head).every((v) => v === 2)).toBe(true);
  });

  it("masked runs the inner transform on the masked leaves only, with null elsewhere in its state", () => {
    const t = optim.masked(optim.scaleByAdam(), { w: true, b: false });
    const state = t.init(params);
    expect(state.innerState.mu.b).toBeNull();
    const { updates } = run(t, [0, 1, 2].map(grads));
    const alone = run(optim.scaleByAdam(), [0, 1, 2].map((s) => ({ w: grads(s).w })), { w: params.w });
    updates.forEach((u, s) => {
      close(u.b, grads(s).b);
      close(u.w, alone.updates[s].w);
    });
  });

  it("partition applies one transform per label", () => {
    const t = optim.partition({ fast: optim.sgd({ learningRate: 0.5 }), slow: optim.adam({ learningRate: 1e-3 }) }, { w: "slow", b: "fast" });
    const { updates } = run(t, [0, 1, 2].map(grads));
    const adamAlone = run(optim.adam({ learningRate: 1e-3 }), [0, 1, 2].map((s) => ({ w: grads(s).w })), { w: params.w });
    updates.forEach((u, s) => {
      close(u.b, np.multiply(grads(s).b, -0.5));
      close(u.w, adamAlone.updates[s].w);
    });
    const frozen = optim.partition({ train: optim.sgd({ learningRate: 1 }), frozen: optim.setToZero() }, (p: any) => tree.map((x: ArrayBase) => (x.ndim > 1 ? "train" : "frozen"), p));
    const [u] = frozen.update(grads(0), frozen.init(params), params);
    expect(flat(u.b)).toEqual([0, 0]);
  });

  it("partition and masked reject labels and masks that do not fit", () => {
    expect(() => optim.partition({ a: optim.scale(1) }, { w: "a", b: "c" }).init(params)).toThrow(
      /optim.partition: the label "c" has no transform \(labels with transforms: a\)/,
    );
    expect(() => optim.masked(optim.scale(1), { w: true }).init(params)).toThrow(
      /optim.masked: the mask does not match the updates' structure at the root: the mask has keys \{w\}, the updates have keys \{b, w\}/,
    );
    expect(() => optim.masked(optim.scale(1), { w: true, b: 1 }).init(params)).toThrow(/optim.masked: mask leaves must be booleans, got 1/);
    expect(() => optim.addDecayedWeights(0.1).update(grads(0), {})).toThrow(/optim.addDecayedWeights: needs the params: call update\(grads, state, params\)/);
    expect(() => optim.lamb({ learningRate: 0.1 }).update(grads(0), optim.lamb({ learningRate: 0.1 }).init(params))).toThrow(/needs the params/);
  });
});

describe("wrappers", () => {
  const nanAt = (s: number) => tree.map((x: ArrayBase) => np.multiply(x, NaN), grads(s));

  it("applyIfFinite skips non-finite steps and keeps the inner state", () => {
    const inner = () => optim.adam({ learningRate: 0.1 });
    const gs = [grads(0), nanAt(1), grads(2)];
    const { updates, state } = run(optim.applyIfFinite(inner(), 2), gs);
    const clean = run(inner(), [grads(0), grads(2)]);
    close(updates[0], clean.updates[0]);
    expect(flat(updates[1]).every((v) => v === 0)).toBe(true);
    close(updates[2], clean.updates[1]);
    close(state.innerState, clean.state);
    expect(state.totalNotfinite.item()).toBe(1);
    expect(state.notfiniteCount.item()).toBe(0);
    expect(state.lastFinite.item()).toBe(1);
  });

  it("applyIfFinite applies the update after more than maxConsecutiveErrors bad steps", () => {
    const { updates, state } = run(optim.applyIfFinite(optim.sgd({ learningRate: 1 }), 1), [nanAt(0), nanAt(1)]);
    expect(flat(updates[0]).every((v) => v === 0)).toBe(true);
    expect(flat(updates[1]).every(Number.isNaN)).toBe(true);
    expect(state.notfiniteCount.item()).toBe(2);
    expect(state.lastFinite.item()).toBe(0);
  });

  it("multiSteps takes one inner step on the mean (or sum) of every k gradients", () => {
    for (const useGradMean of [true, false]) {
      const k = 3;
      const gs = [0, 1, 2, 3, 4, 5].map(grads);
      const { updates, state } = run(optim.multiSteps(optim.adam({ learningRate: 0.1 }), k, { useGradMean }), gs);
      const reduce = (xs: any[]) => tree.map((...ls: ArrayBase[]) => np.divide(ls.reduce((a, b) => np.add(a, b)), useGradMean ? k : 1), xs[0], ...xs.slice(1));
      const direct = run(optim.adam({ learningRate: 0.1 }), [reduce(gs.slice(0, 3)), reduce(gs.slice(3))]);
      [0, 1, 3, 4].forEach((s) => expect(flat(updates[s]).every((v) => v === 0)).toBe(true));
      close(updates[2], direct.updates[0], 1e-10);
      close(updates[5], direct.updates[1], 1e-10);
      expect(state.gradientStep.item()).toBe(2);
      expect(state.miniStep.item()).toBe(0);
      expect(optim.multiStepsHasUpdated(state).item()).toBe(1);
    }
  });

  it("injectHyperparams matches the plain optimizer, and its hyperparameters can be read and changed", () => {
    const schedule = optim.exponentialDecay({ initValue: 0.1, transitionSteps: 1, decayRate: 0.5 });
    const injected = optim.injectHyperparams(optim.adam)({ learningRate: schedule, b1: 0.8 });
    const plain = optim.adam({ learningRate: schedule, b1: 0.8 });
    const a = run(injected, [0, 1, 2].map(grads));
    const b = run(plain, [0, 1, 2].map(grads));
    a.updates.forEach((u, s) => close(u, b.updates[s]));
    expect(a.state.hyperparams.learningRate.item()).toBeCloseTo(0.1 * 0.5 ** 2, 15);
    expect(a.state.hyperparams.b1.item()).toBe(0.8);
    expect(a.state.count.item()).toBe(3);

    // Changing b1 between steps is the same as an optimizer built with the new value from then on.
    const fixed = optim.injectHyperparams(optim.sgd)({ learningRate: 0.1, momentum: 0.9 });
    let state = fixed.init(params);
    [, state] = fixed.update(grads(0), state, params);
    state = { ...state, hyperparams: { ...state.hyperparams, learningRate: np.array(0.01, { dtype: "float64" }) } };
    const [u] = fixed.update(grads(1), state, params);
    const trace = tree.map((g0: ArrayBase, g1: ArrayBase) => np.add(g1, np.multiply(0.9, g0)), grads(0), grads(1));
    close(u, tree.map((t: ArrayBase) => np.multiply(t, -0.01), trace));
  });

  it("injectHyperparams keeps float32 updates float32 and masks static", () => {
    const p32 = initParams("float32");
    const opt = optim.injectHyperparams(optim.adamw)({ learningRate: 1e-2, weightDecay: 0.1, mask: { w: true, b: false } });
    const state = opt.init(p32);
    expect(Object.keys(state.hyperparams).sort()).toEqual(["learningRate", "weightDecay"]);
    const [u] = opt.update(tree.map((x: ArrayBase) => np.onesLike(x), p32), state, p32);
    expect(u.w.dtype).toBe("float32");
    expect(u.b.dtype).toBe("float32");
    expect(() => optim.injectHyperparams(optim.adam)({ learningRate: -1 })).toThrow(/optim.adam: option learningRate must be/);
  });

  it("injectHyperparams passes staticArgs through as given, numbers too (as Optax): a factory may need a JS number", () => {
    // A factory whose everyK must be a JS integer: injected as an array, it would be refused.
    const factory = (o: { learningRate: number; everyK: number }) => optim.multiSteps(optim.sgd({ learningRate: o.learningRate }), o.everyK);
    const opt = optim.injectHyperparams(factory, { staticArgs: ["everyK"] })({ learningRate: 0.1, everyK: 2 });
    let state = opt.init(params);
    expect(Object.keys(state.hyperparams)).toEqual(["learningRate"]);
    let u: unknown;
    [u, state] = opt.update(grads(0), state, params);
    close(u, tree.map((g: ArrayBase) => np.zerosLike(g), grads(0)));
    [u, state] = opt.update(grads(1), state, params);
    close(u, tree.map((a: ArrayBase, b: ArrayBase) => np.multiply(np.add(a, b), -0.05), grads(0), grads(1)));
  });
});

describe("chain", () => {
  it("feeds each transform's updates to the next and keeps a tuple of states", () => {
    const opt = optim.chain(optim.clipByGlobalNorm(1), optim.scaleByAdam(), optim.scaleByLearningRate(0.1));
    const { updates, state } = run(opt, [0, 1].map(grads));
    expect(Array.isArray(state) && state.length).toBe(3);
    const clipped = [0, 1].map((s) => optim.clipByGlobalNorm(1).update(grads(s), {})[0]);
    const adam = run(optim.adam({ learningRate: 0.1 }), clipped);
    updates.forEach((u, s) => close(u, adam.updates[s]));
  });

  it("scaleByLearningRate with flipSign: false ascends", () => {
    const [u] = optim.scaleByLearningRate(0.5, { flipSign: false }).update(grads(0), {});
    close(u, tree.map((g: ArrayBase) => np.multiply(g, 0.5), grads(0)));
  });

  it("rejects things that are not transformations", () => {
    expect(() => optim.chain(optim.scaleByAdam() as any, optim.adam as any)).toThrow(/optim.chain: argument 1 is not a gradient transformation/);
  });
});
