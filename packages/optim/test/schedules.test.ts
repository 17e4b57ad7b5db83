/**
 * Schedules against their closed forms (Optax's definitions, restated in each test), at
 * number steps, at int32 array steps (what an optimizer's count is) and at vectors of steps.
 */
import { makeJaxpr, np, typecheck } from "@cotangent/core";
import * as optim from "@cotangent/optim";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const close = (a: number, b: number, tol = 1e-12) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));

/** Checks a schedule against `closed` at numbers, int32 scalar arrays and one vector of steps. */
const agree = (s: optim.ScheduleFn, closed: (t: number) => number, steps: number[]) => {
  for (const t of steps) {
    close(s(t), closed(t));
    close(s(np.array(t, { dtype: "int32" })).item(), closed(t));
  }
  const v = s(np.array(steps, { dtype: "int32" }));
  expect(v.dtype).toBe("float64");
  (v.toArray() as number[]).forEach((x, i) => close(x, closed(steps[i]!)));
};

const steps = fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 8 });
const value = fc.double({ min: -5, max: 5, noNaN: true });

describe("schedules vs closed forms", () => {
  it("constant", () => agree(optim.constant(0.3), () => 0.3, [0, 1, 1000]));

  it("polynomial and linear: (init - end) (1 - t/T)^p + end, t = clip(step - begin, 0, T)", () => {
    fc.assert(
      fc.property(value, value, fc.double({ min: 0.5, max: 3, noNaN: true }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 50 }), steps, (a, b, p, T, begin, ts) => {
        const closed = (q: number) => (t: number) => (a - b) * (1 - Math.min(Math.max(t - begin, 0), T) / T) ** q + b;
        agree(optim.polynomial({ initValue: a, endValue: b, power: p, transitionSteps: T, transitionBegin: begin }), closed(p), ts);
        agree(optim.linear({ initValue: a, endValue: b, transitionSteps: T, transitionBegin: begin }), closed(1), ts);
      }),
      { numRuns: 25 },
    );
    agree(optim.linear({ initValue: 2, endValue: 1, transitionSteps: 0 }), () => 2, [0, 5]);
  });

  it("cosineDecay: init ((1 - alpha) (0.5 (1 + cos(pi min(t, T) / T)))^e + alpha)", () => {
    fc.assert(
      fc.property(value, fc.integer({ min: 1, max: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0.5, max: 2, noNaN: true }), steps, (v, T, alpha, e, ts) => {
        const closed = (t: number) => v * ((1 - alpha) * (0.5 * (1 + Math.cos((Math.PI * Math.min(t, T)) / T))) ** e + alpha);
        agree(optim.cosineDecay({ initValue: v, decaySteps: T, alpha, exponent: e }), closed, ts);
      }),
      { numRuns: 25 },
    );
  });

  it("warmupCosineDecay: linear warmup to the peak, then cosine to endValue at decaySteps", () => {
    const [init, peak, end, W, T] = [0.01, 1, 0.1, 10, 110];
    const closed = (t: number) =>
      t < W ? init + ((peak - init) * t) / W : end + (peak - end) * 0.5 * (1 + Math.cos((Math.PI * Math.min(t - W, T - W)) / (T - W)));
    agree(optim.warmupCosineDecay({ initValue: init, peakValue: peak, warmupSteps: W, decaySteps: T, endValue: end }), closed, [0, 1, 5, 9, 10, 11, 60, 109, 110, 500]);
  });

  it("exponentialDecay: init rate^((t - begin) / T), floored with staircase, clipped at endValue", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        fc.double({ min: 0.05, max: 2, noNaN: true }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 30 }),
        fc.boolean(),
        steps,
        (v, rate, T, begin, staircase, ts) => {
          const closed = (t: number) => {
            const c = t - begin;
            return c <= 0 ? v : v * rate ** (staircase ? Math.floor(c / T) : c / T);
          };
          agree(optim.exponentialDecay({ initValue: v, transitionSteps: T, decayRate: rate, transitionBegin: begin, staircase }), closed, ts);
          const bound = v / 2;
          const clipped = (t: number) => (rate < 1 ? Math.max(closed(t), bound) : Math.min(closed(t), bound));
          agree(optim.exponentialDecay({ initValue: v, transitionSteps: T, decayRate: rate, transitionBegin: begin, staircase, endValue: bound }), clipped, ts);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("piecewiseConstant: init times every scale whose boundary the step has reached (t >= b, as Optax)", () => {
    const s = optim.piecewiseConstant({ initValue: 1, boundariesAndScales: { 200: 0.5, 100: 0.1 } });
    agree(s, (t) => (t >= 100 ? 0.1 : 1) * (t >= 200 ? 0.5 : 1), [0, 99, 100, 101, 199, 200, 201, 1000]);
    // Optax's docstring example: {100: 0.1, 200: 0.01}; the boundary step itself is scaled.
    const o = optim.piecewiseConstant({ initValue: 1, boundariesAndScales: { 100: 0.1, 200: 0.01 } });
    expect([o(99), o(100), o(200)]).toEqual([1, 0.1, 0.1 * 0.01]);
  });

  it("joinSchedules restarts each schedule's step at its boundary", () => {
    const a = optim.linear({ initValue: 0, endValue: 1, transitionSteps: 10 });
    const b = optim.constant(5);
    const c = optim.linear({ initValue: 1, endValue: 0, transitionSteps: 10 });
    const s = optim.joinSchedules([a, b, c], [10, 20]);
    agree(s, (t) => (t < 10 ? t / 10 : t < 20 ? 5 : 1 - Math.min(t - 20, 10) / 10), [0, 5, 9, 10, 15, 19, 20, 25, 40]);
  });

  it("sgdr: warmup-cosine cycles one after another", () => {
    const cycle = { initValue: 0, peakValue: 1, warmupSteps: 2, decaySteps: 10 };
    const one = optim.warmupCosineDecay(cycle);
    const s = optim.sgdr([cycle, { ...cycle, peakValue: 0.5 }]);
    const two = optim.warmupCosineDecay({ ...cycle, peakValue: 0.5 });
    agree(s, (t) => (t < 10 ? one(t) : two(t - 10)), [0, 1, 2, 5, 9, 10, 11, 12, 15, 19, 25]);
  });

  it("traces without branching on the step (an optimizer's count is a tracer under jit)", () => {
    const s = optim.warmupCosineDecay({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 100 });
    const j = makeJaxpr((t: any) => s(t))(np.array(3, { dtype: "int32" }));
    typecheck(j);
    expect(j.toString()).toContain("select_n");
  });

  it("rejects bad options with clear messages", () => {
    expect(() => optim.cosineDecay({ initValue: 1, decaySteps: 0 })).toThrow(/optim.cosineDecay: option decaySteps must be an integer >= 1, got 0/);
    expect(() => optim.warmupCosineDecay({ initValue: 0, peakValue: 1, warmupSteps: 10, decaySteps: 10 })).toThrow(
      /optim.warmupCosineDecay: decaySteps \(10\) must be greater than warmupSteps \(10\)/,
    );
    expect(() => optim.linear({ initValue: NaN, endValue: 0, transitionSteps: 3 })).toThrow(/optim.linear: option initValue must be a finite number, got NaN/);
    expect(() => optim.exponentialDecay({ initValue: 1, transitionSteps: 2.5, decayRate: 0.5 })).toThrow(/transitionSteps must be an integer >= 1, got 2.5/);
    expect(() => optim.piecewiseConstant({ initValue: 1, boundariesAndScales: { 10: -1 } })).toThrow(/boundariesAndScales\[10\] must be a finite number >= 0, got -1/);
    expect(() => optim.joinSchedules([optim.constant(1)], [5])).toThrow(/optim.joinSchedules: needs one more schedule than boundaries/);
    expect(() => optim.sgdr([])).toThrow(/optim.sgdr: expects a non-empty array/);
    expect(() => optim.constant(1)("3" as any)).toThrow(/optim.constant: the step must be a number or an array, got "3"/);
  });
});
