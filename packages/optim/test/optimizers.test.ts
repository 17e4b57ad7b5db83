/**
 * Every optimizer against its published update rule, re-derived in float64 with plain loops
 * in ./reference.ts (each reference cites its paper): step for step on the pytree
 * { w: [3, 2], b: [2] }, in float64 (to ~1e-12) and float32 (dtypes kept, values to ~1e-5),
 * and with random hyperparameters and gradients (fast-check).
 */
import { ArrayBase, np, tree } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Leaves, type Stepper, fromLeaves, gradAt, initParams, ref, toLeaves } from "./reference.js";

type Factory = (p0: Leaves) => Stepper;
interface Case {
  name: string;
  opt: () => optim.GradientTransformation<any>;
  ref: Factory;
  steps?: number;
}

// A schedule and its closed form, to check that any learning rate may be a schedule.
const lrSchedule = optim.linear({ initValue: 0.1, endValue: 0.01, transitionSteps: 4 });
const lrClosed = (t: number) => 0.1 + ((0.01 - 0.1) * Math.min(t, 4)) / 4;

const cases: Case[] = [
  { name: "sgd", opt: () => optim.sgd({ learningRate: 0.1 }), ref: ref.sgd({ lr: 0.1 }) },
  { name: "sgd momentum", opt: () => optim.sgd({ learningRate: 0.1, momentum: 0.9 }), ref: ref.sgd({ lr: 0.1, momentum: 0.9 }) },
  {
    name: "sgd nesterov + schedule",
    opt: () => optim.sgd({ learningRate: lrSchedule, momentum: 0.8, nesterov: true }),
    ref: ref.sgd({ lr: lrClosed, momentum: 0.8, nesterov: true }),
  },
  { name: "adam", opt: () => optim.adam({ learningRate: 1e-2 }), ref: ref.adam({ lr: 1e-2 }) },
  {
    name: "adam custom + schedule",
    opt: () => optim.adam({ learningRate: lrSchedule, b1: 0.8, b2: 0.99, eps: 1e-3, epsRoot: 1e-4 }),
    ref: ref.adam({ lr: lrClosed, b1: 0.8, b2: 0.99, eps: 1e-3, epsRoot: 1e-4 }),
  },
  { name: "nadam", opt: () => optim.nadam({ learningRate: 1e-2 }), ref: ref.adam({ lr: 1e-2, nesterov: true }) },
  { name: "adam nesterov", opt: () => optim.adam({ learningRate: 1e-2, b1: 0.7, nesterov: true }), ref: ref.adam({ lr: 1e-2, b1: 0.7, nesterov: true }) },
  { name: "adamw", opt: () => optim.adamw({ learningRate: 1e-2, weightDecay: 0.1 }), ref: ref.adamw({ lr: 1e-2, weightDecay: 0.1 }) },
  {
    name: "adamw masked",
    opt: () => optim.adamw({ learningRate: 1e-2, weightDecay: 0.1, mask: { w: true, b: false } }),
    ref: ref.adamw({ lr: 1e-2, weightDecay: 0.1, maskB: true }),
  },
  { name: "adamax", opt: () => optim.adamax({ learningRate: 2e-2 }), ref: ref.adamax({ lr: 2e-2 }) },
  { name: "amsgrad", opt: () => optim.amsgrad({ learningRate: 1e-2, b2: 0.9 }), ref: ref.amsgrad({ lr: 1e-2, b2: 0.9 }) },
  { name: "radam", opt: () => optim.radam({ learningRate: 1e-2, b2: 0.9 }), ref: ref.radam({ lr: 1e-2, b2: 0.9 }), steps: 8 },
  { name: "radam default", opt: () => optim.radam({ learningRate: 1e-2 }), ref: ref.radam({ lr: 1e-2 }), steps: 8 },
  { name: "rmsprop", opt: () => optim.rmsprop({ learningRate: 1e-2 }), ref: ref.rmsprop({ lr: 1e-2 }) },
  {
    name: "rmsprop centered + momentum",
    opt: () => optim.rmsprop({ learningRate: 1e-2, centered: true, momentum: 0.9, nesterov: true, initialScale: 0.5, decay: 0.8, eps: 1e-4 }),
    ref: ref.rmsprop({ lr: 1e-2, centered: true, momentum: 0.9, nesterov: true, initialScale: 0.5, decay: 0.8, eps: 1e-4 }),
  },
  { name: "adagrad", opt: () => optim.adagrad({ learningRate: 0.1 }), ref: ref.adagrad({ lr: 0.1 }) },
  { name: "adadelta", opt: () => optim.adadelta(), ref: ref.adadelta({}) },
  {
    name: "adadelta weight decay",
    opt: () => optim.adadelta({ learningRate: 0.5, rho: 0.8, eps: 1e-4, weightDecay: 0.1 }),
    ref: ref.adadelta({ lr: 0.5, rho: 0.8, eps: 1e-4, weightDecay: 0.1 }),
  },
  { name: "lion", opt: () => optim.lion({ learningRate: 1e-3 }), ref: ref.lion({ lr: 1e-3 }) },
  { name: "lamb", opt: () => optim.lamb({ learningRate: 1e-2, weightDecay: 0.01 }), ref: ref.lamb({ lr: 1e-2, weightDecay: 0.01 }) },
  { name: "lars", opt: () => optim.lars({ learningRate: 0.5 }), ref: ref.lars({ lr: 0.5 }) },
  {
    name: "lars weight decay nesterov",
    opt: () => optim.lars({ learningRate: 0.5, weightDecay: 0.01, trustCoefficient: 0.01, eps: 1e-3, momentum: 0.8, nesterov: true }),
    ref: ref.lars({ lr: 0.5, weightDecay: 0.01, trustCoefficient: 0.01, eps: 1e-3, momentum: 0.8, nesterov: true }),
  },
  { name: "yogi", opt: () => optim.yogi({ learningRate: 1e-2 }), ref: ref.yogi({ lr: 1e-2 }) },
  { name: "adabelief", opt: () => optim.adabelief({ learningRate: 1e-2 }), ref: ref.adabelief({ lr: 1e-2 }) },
];

/** Largest |a - b| over all elements, relative to the largest |b| of the step. */
const relDiff = (a: Leaves, b: Leaves): number => {
  const scale = Math.max(1e-30, ...b.flatMap((x) => Array.from(x, Math.abs)));
  let m = 0;
  a.forEach((x, k) => x.forEach((v, i) => (m = Math.max(m, Math.abs(v - b[k]![i]!) / scale))));
  return Number.isNaN(m) ? Infinity : m;
};

/**
 * Drives the optimizer and the reference side by side for `steps` steps; the gradients are
 * computed from the reference params, so both see the same inputs. Returns the worst
 * per-step relative difference of the updates.
 */
const drive = (c: Case, dtype: "float32" | "float64", grads?: (step: number, p: Leaves) => Leaves, init: (d: "float32" | "float64") => object = initParams): number => {
  const opt = c.opt();
  let params: any = init(dtype);
  let state = opt.init(params);
  let pRef = toLeaves(init("float64"));
  const step = c.ref(pRef.map((x) => x.slice()));
  let worst = 0;
  for (let s = 0; s < (c.steps ?? 5); s++) {
    const g = (grads ?? gradAt)(s, pRef);
    const [updates, next] = opt.update(fromLeaves(params, g, dtype), state, params);
    for (const u of tree.leaves<ArrayBase>(updates)) expect(u.dtype).toBe(dtype);
    const expected = step(g, pRef);
    worst = Math.max(worst, relDiff(toLeaves(updates), expected));
    params = optim.applyUpdates(params, updates);
    pRef = pRef.map((x, k) => x.map((v, i) => v + expected[k]![i]!));
    state = next;
  }
  return worst;
};

describe("optimizers match their published update rules", () => {
  for (const c of cases) {
    it(`${c.name} (float64, step for step)`, () => {
      expect(drive(c, "float64")).toBeLessThan(1e-12);
    });
    it(`${c.name} (float32 keeps dtypes)`, () => {
      expect(drive(c, "float32")).toBeLessThan(1e-6);
      const state = c.opt().init(initParams("float32"));
      for (const leaf of tree.leaves<ArrayBase>(state)) {
        expect(leaf).toBeInstanceOf(ArrayBase);
        expect(["float32", "int32", "bool"]).toContain(leaf.dtype);
      }
    });
  }
});

const unit = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
const gradSeq = fc.array(fc.array(unit(-5, 5), { minLength: 8, maxLength: 8 }), { minLength: 4, maxLength: 4 });
/** Random gradients for 4 steps, split into the two leaves (b: 2 values, w: 6). */
const asGrads = (vals: number[][]) => (s: number): Leaves => [Float64Array.from(vals[s]!.slice(0, 2)), Float64Array.from(vals[s]!.slice(2))];

/** A scalar leaf, a size-0 leaf and a vector (sorted keys: e, s, v). */
const oddParams = (dtype: "float32" | "float64" = "float64") => ({
  s: np.array(1.5, { dtype }),
  e: np.zeros([0, 3], { dtype }),
  v: np.array([0.25, -2], { dtype }),
});

describe("scalar and size-0 leaves", () => {
  for (const c of cases.filter((c) => c.name !== "adamw masked")) {
    it(c.name, () => {
      expect(drive(c, "float64", undefined, oddParams)).toBeLessThan(1e-12);
      const opt = c.opt();
      const p = oddParams("float32");
      const [u] = opt.update(p, opt.init(p), p);
      expect(u.e.shape).toEqual([0, 3]);
      expect(u.s.shape).toEqual([]);
    });
  }
});

describe("random hyperparameters and gradients (fast-check)", () => {
  const props: [string, fc.Arbitrary<any>, (o: any) => Case][] = [
    [
      "adam",
      fc.record({ lr: unit(1e-4, 0.5), b1: unit(0, 0.99), b2: unit(0.5, 0.9999), eps: unit(1e-8, 1e-2), nesterov: fc.boolean() }),
      ({ lr, ...o }) => ({ name: "adam", opt: () => optim.adam({ learningRate: lr, ...o }), ref: ref.adam({ lr, ...o }) }),
    ],
    [
      "rmsprop",
      // decay near 0 with centered makes E[g²] − E[g]² cancel to rounding noise: keep away from it.
      fc.record({ lr: unit(1e-4, 0.5), decay: unit(0.05, 0.99), eps: unit(1e-6, 1e-1), centered: fc.boolean(), momentum: unit(0, 0.99) }),
      ({ lr, ...o }) => ({ name: "rmsprop", opt: () => optim.rmsprop({ learningRate: lr, ...o }), ref: ref.rmsprop({ lr, ...o }) }),
    ],
    [
      "radam",
      fc.record({ lr: unit(1e-4, 0.5), b1: unit(0, 0.99), b2: unit(0.7, 0.99), threshold: unit(4, 6) }),
      ({ lr, ...o }) => ({ name: "radam", opt: () => optim.radam({ learningRate: lr, ...o }), ref: ref.radam({ lr, ...o }) }),
    ],
    [
      "yogi",
      fc.record({ lr: unit(1e-4, 0.5), b1: unit(0, 0.99), b2: unit(0.5, 0.999), eps: unit(1e-4, 1e-1) }),
      ({ lr, ...o }) => ({ name: "yogi", opt: () => optim.yogi({ learningRate: lr, ...o }), ref: ref.yogi({ lr, ...o }) }),
    ],
    [
      "lamb",
      fc.record({ lr: unit(1e-4, 0.5), b1: unit(0, 0.99), weightDecay: unit(0, 0.5) }),
      ({ lr, ...o }) => ({ name: "lamb", opt: () => optim.lamb({ learningRate: lr, ...o }), ref: ref.lamb({ lr, ...o }) }),
    ],
    [
      "lars",
      fc.record({ lr: unit(1e-4, 0.5), weightDecay: unit(0, 0.5), trustCoefficient: unit(1e-3, 1), momentum: unit(0, 0.99), nesterov: fc.boolean() }),
      ({ lr, ...o }) => ({ name: "lars", opt: () => optim.lars({ learningRate: lr, ...o }), ref: ref.lars({ lr, ...o }) }),
    ],
    [
      "adamax / amsgrad / adabelief",
      fc.record({ lr: unit(1e-4, 0.5), b1: unit(0, 0.99), b2: unit(0.5, 0.999), which: fc.constantFrom("adamax", "amsgrad", "adabelief") }),
      ({ lr, which, ...o }) => ({
        name: which,
        opt: () => (optim as any)[which]({ learningRate: lr, ...o }),
        ref: (ref as any)[which]({ lr, ...o }),
      }),
    ],
    [
      "adagrad / adadelta / lion",
      fc.record({ lr: unit(1e-4, 0.5), a: unit(0.01, 0.99), which: fc.constantFrom("adagrad", "adadelta", "lion") }),
      ({ lr, a, which }) => {
        const o = which === "adagrad" ? { initialAccumulatorValue: a } : which === "adadelta" ? { rho: a } : { b1: a, weightDecay: a / 10 };
        return { name: which, opt: () => (optim as any)[which]({ learningRate: lr, ...o }), ref: (ref as any)[which]({ lr, ...o }) };
      },
    ],
  ];
  for (const [name, arb, mk] of props) {
    it(name, () => {
      fc.assert(
        fc.property(arb, gradSeq, (o, g) => {
          expect(drive({ ...mk(o), steps: 4 }, "float64", asGrads(g))).toBeLessThan(1e-10);
        }),
        { numRuns: 15 },
      );
    });
  }
});

describe("applyUpdates", () => {
  it("keeps each param's dtype", () => {
    const params = { a: np.array([1, 2], { dtype: "float32" }), b: np.array([1, 2], { dtype: "float64" }), c: [np.array(3, { dtype: "float32" })] };
    const updates = { a: np.array([0.5, 0.25], { dtype: "float64" }), b: np.array([0.5, 0.25], { dtype: "float32" }), c: [np.array(1, { dtype: "float64" })] };
    const out = optim.applyUpdates(params, updates);
    expect(out.a.dtype).toBe("float32");
    expect(out.b.dtype).toBe("float64");
    expect(out.c[0]!.dtype).toBe("float32");
    expect(out.a.toArray()).toEqual([1.5, 2.25]);
    expect(out.b.toArray()).toEqual([1.5, 2.25]);
    expect(out.c[0]!.item()).toBe(4);
  });
  it("rejects updates of another structure", () => {
    expect(() => optim.applyUpdates({ a: np.ones([2]) }, { b: np.ones([2]) })).toThrow(/optim.applyUpdates: updates have structure \{b: \*\} but params have \{a: \*\}/);
    // Broadcasting would silently change a parameter's shape (p + u with u of shape [3] and p of [3, 1]).
    expect(() => optim.applyUpdates({ w: np.ones([3, 1]) }, { w: np.ones([3]) })).toThrow(
      /optim.applyUpdates: the update of leaf 0 has shape \[3\] but the parameter has shape \[3, 1\]/,
    );
  });
});
