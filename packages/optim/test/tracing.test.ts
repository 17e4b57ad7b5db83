/**
 * The optimizers as pure functions of pytrees: `update` traces into a well-typed jaxpr
 * (no concretization, so it will jit), its evaluation equals eager execution, it
 * differentiates (meta-gradients w.r.t. a learning rate) and vmaps (ensembles, learning-rate
 * sweeps); the state survives a JSON round trip; and optimizers minimise a quadratic.
 */
import { ArrayBase, type NDArray, evalJaxpr, grad, makeJaxpr, np, tree, typecheck, vmap } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import { describe, expect, it } from "vitest";
import { checkGrad } from "../../core/test/harness.js";
import { initParams } from "./reference.js";

const params = initParams();
const gradsOf = (p: any) => tree.map((x: ArrayBase) => np.add(np.sin(np.multiply(x, 3)), 0.2), p);
const flat = (t: unknown): number[] => tree.leaves<ArrayBase>(t).flatMap((x) => Array.from(x.toTypedArray()));

const ALL: [string, () => optim.GradientTransformation<any>][] = [
  ["sgd", () => optim.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true })],
  ["adam", () => optim.adam({ learningRate: optim.warmupCosineDecay({ initValue: 0, peakValue: 0.1, warmupSteps: 2, decaySteps: 10 }) })],
  ["adamw", () => optim.adamw({ learningRate: 0.1, mask: { w: true, b: false } })],
  ["adamax", () => optim.adamax({ learningRate: 0.1 })],
  ["nadam", () => optim.nadam({ learningRate: 0.1 })],
  ["amsgrad", () => optim.amsgrad({ learningRate: 0.1 })],
  ["radam", () => optim.radam({ learningRate: 0.1 })],
  ["rmsprop", () => optim.rmsprop({ learningRate: 0.1, centered: true, momentum: 0.5 })],
  ["adagrad", () => optim.adagrad({ learningRate: 0.1 })],
  ["adadelta", () => optim.adadelta({ weightDecay: 0.01 })],
  ["lion", () => optim.lion({ learningRate: 0.01 })],
  ["lamb", () => optim.lamb({ learningRate: 0.1 })],
  ["lars", () => optim.lars({ learningRate: 0.1, trustRatioMask: { w: true, b: false } })],
  ["yogi", () => optim.yogi({ learningRate: 0.1 })],
  ["adabelief", () => optim.adabelief({ learningRate: 0.1 })],
  ["clip + zeroNans + ema", () => optim.chain(optim.zeroNans(), optim.clip(1), optim.clipByGlobalNorm(2), optim.ema(0.9), optim.scale(-0.1))],
  ["partition", () => optim.partition({ a: optim.adam({ learningRate: 0.1 }), s: optim.sgd({ learningRate: 0.1 }) }, { w: "a", b: "s" })],
  ["applyIfFinite", () => optim.applyIfFinite(optim.adam({ learningRate: 0.1 }), 3)],
  ["multiSteps", () => optim.multiSteps(optim.adam({ learningRate: 0.1 }), 2)],
  ["injectHyperparams", () => optim.injectHyperparams(optim.adam)({ learningRate: optim.exponentialDecay({ initValue: 0.1, transitionSteps: 2, decayRate: 0.5 }) })],
];

/** A JSON round trip of a pytree of arrays, numbers and nulls (arrays as {dtype, shape, data}). */
const jsonRoundTrip = (t: unknown): any => {
  // Arrays have a toJSON (nested numbers), which JSON.stringify applies before the replacer
  // sees the value, so the replacer looks at the holder's original value.
  const text = JSON.stringify(t, function (this: Record<string, unknown>, k, v) {
    const a = k === "" ? t : this[k];
    return a instanceof ArrayBase ? { __array__: true, dtype: a.dtype, shape: a.shape, data: Array.from(a.toTypedArray()) } : v;
  });
  return JSON.parse(text, (_k, v) => (v && v.__array__ ? np.array(v.data, { dtype: v.dtype, shape: v.shape }) : v));
};

/** Only plain objects, plain arrays, nulls, numbers and arrays: nothing a serializer could not write. */
const isPlainData = (x: unknown): boolean =>
  x === null ||
  typeof x === "number" ||
  x instanceof ArrayBase ||
  (Array.isArray(x) && x.every(isPlainData)) ||
  (typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype && Object.values(x as object).every(isPlainData));

describe("every optimizer is a pure function of pytrees", () => {
  for (const [name, make] of ALL) {
    it(`${name}: update traces to a well-typed jaxpr that evaluates like eager; state is plain data`, () => {
      const opt = make();
      let state = opt.init(params);
      let p: any = params;
      for (let s = 0; s < 3; s++) {
        const g = gradsOf(p);
        const step = (gg: any, ss: any, pp: any) => opt.update(gg, ss, pp);
        const jaxpr = makeJaxpr(step)(g, state, p);
        typecheck(jaxpr);
        const traced = evalJaxpr(jaxpr, tree.leaves<ArrayBase>([g, state, p]));
        const [u, next] = opt.update(g, state, p);
        expect(traced.map((x) => Array.from(x.toTypedArray()))).toEqual(tree.leaves<ArrayBase>([u, next]).map((x) => Array.from(x.toTypedArray())));
        expect(isPlainData(next)).toBe(true);
        // Resuming from a JSON round trip of the state gives bit-identical updates.
        const [u2, next2] = opt.update(g, jsonRoundTrip(state), p);
        expect(flat([u2, next2])).toEqual(flat([u, next]));
        state = next;
        p = optim.applyUpdates(p, u);
      }
    });
  }

  it("a whole training step (grad, clip, adamw, applyUpdates) traces", () => {
    const opt = optim.chain(optim.clipByGlobalNorm(1), optim.adamw({ learningRate: 1e-2 }));
    const loss = (p: any, x: ArrayBase) => np.sum(np.square(np.add(np.matmul(x, p.w), p.b)));
    const trainStep = (p: any, s: any, x: ArrayBase) => {
      const [u, next] = opt.update(grad(loss)(p, x), s, p);
      return [optim.applyUpdates(p, u), next];
    };
    const x = np.ones([4, 3], { dtype: "float64" });
    const jaxpr = makeJaxpr(trainStep)(params, opt.init(params), x);
    typecheck(jaxpr);
    expect(jaxpr.toString()).toContain("dot_general");
  });
});

describe("transforms of optimizers", () => {
  const loss = (p: any) => np.multiply(0.5, np.add(np.sum(np.square(p.w)), np.sum(np.square(p.b))));

  it("grad through an update: the meta-gradient w.r.t. the learning rate", () => {
    // One SGD step on L(p) = |p|^2 / 2: d/dlr L(p - lr g) = -g . (p - lr g).
    const g = gradsOf(params);
    const after = (lr: ArrayBase) => {
      const opt = optim.sgd({ learningRate: lr });
      const [u] = opt.update(g, opt.init(params), params);
      return loss(optim.applyUpdates(params, u));
    };
    const lr = 0.3;
    const d = grad(after)(np.array(lr, { dtype: "float64" })).item();
    const [pl, gl] = [flat(params), flat(g)];
    expect(d).toBeCloseTo(-gl.reduce((s, gi, i) => s + gi * (pl[i]! - lr * gi), 0), 12);
    // Adam, two steps, against finite differences.
    const adamAfter = (lr: ArrayBase) => {
      const opt = optim.adam({ learningRate: lr, b1: 0.5 });
      let s = opt.init(params);
      let p: any = params;
      for (let k = 0; k < 2; k++) {
        const [u, n] = opt.update(gradsOf(p), s, p);
        [p, s] = [optim.applyUpdates(p, u), n];
      }
      return loss(p);
    };
    checkGrad(adamAfter, [np.array(0.05, { dtype: "float64" }) as NDArray]);
  });

  it("vmap over an ensemble of params equals a loop", () => {
    const opt = optim.adam({ learningRate: 0.1 });
    const step = (p: any) => {
      const [u] = opt.update(gradsOf(p), opt.init(p), p);
      return optim.applyUpdates(p, u);
    };
    const scales = [1, -2, 0.5];
    const batched = tree.map((x: ArrayBase) => np.stack(scales.map((c) => np.multiply(x, c))), params);
    const out = vmap(step)(batched);
    scales.forEach((c, i) => {
      const one = step(tree.map((x: ArrayBase) => np.multiply(x, c), params));
      const slice = tree.map((x: ArrayBase) => np.take(x, np.array(i, { dtype: "int32" }), { axis: 0 }), out);
      expect(flat(slice)).toEqual(flat(one).map((v) => expect.closeTo(v, 12)));
    });
  });

  it("vmap over learning rates (a hyperparameter sweep in one call)", () => {
    const sweep = (lr: ArrayBase) => {
      const opt = optim.rmsprop({ learningRate: lr, momentum: 0.9 });
      const [u] = opt.update(gradsOf(params), opt.init(params), params);
      return u;
    };
    const lrs = [0.1, 0.01];
    const out = vmap(sweep)(np.array(lrs, { dtype: "float64" }));
    lrs.forEach((lr, i) => {
      const slice = tree.map((x: ArrayBase) => np.take(x, np.array(i, { dtype: "int32" }), { axis: 0 }), out);
      expect(flat(slice)).toEqual(flat(sweep(np.array(lr, { dtype: "float64" }))).map((v) => expect.closeTo(v, 12)));
    });
  });
});

describe("optimizers minimise a quadratic (gradients from core's grad)", () => {
  // f(p) = sum (A p_w - t)^2 + sum (p_b - c)^2 with a well-conditioned A: minimum 0.
  const A = np.array([[2, 0.5, 0], [0.5, 1, 0.2], [0, 0.2, 1.5]], { dtype: "float64" });
  const T = np.array([[1, -1], [0.5, 2], [-1, 0]], { dtype: "float64" });
  const C = np.array([3, -2], { dtype: "float64" });
  const f = (p: any) => np.add(np.sum(np.square(np.subtract(np.matmul(A, p.w), T))), np.sum(np.square(np.subtract(p.b, C))));
  const N = 60;
  const cases: [string, optim.GradientTransformation<any>, number][] = [
    ["sgd momentum", optim.sgd({ learningRate: 0.05, momentum: 0.8 }), 1e-4],
    ["adam + cosine", optim.adam({ learningRate: optim.cosineDecay({ initValue: 0.3, decaySteps: N }) }), 1e-2],
    ["adamw + clipping + warmup", optim.chain(optim.clipByGlobalNorm(5), optim.adamw({ learningRate: optim.warmupCosineDecay({ initValue: 0, peakValue: 0.3, warmupSteps: 5, decaySteps: N }), weightDecay: 0 })), 1e-2],
    ["lion", optim.lion({ learningRate: optim.linear({ initValue: 0.1, endValue: 0, transitionSteps: N }), weightDecay: 0 }), 5e-2],
  ];
  for (const [name, opt, tol] of cases) {
    it(name, () => {
      let p: any = initParams();
      let s = opt.init(p);
      const start = f(p).item();
      for (let k = 0; k < N; k++) {
        const [u, n] = opt.update(grad(f)(p), s, p);
        [p, s] = [optim.applyUpdates(p, u), n];
      }
      expect(f(p).item()).toBeLessThan(tol * start);
    });
  }
});
