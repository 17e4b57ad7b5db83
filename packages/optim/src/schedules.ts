/**
 * Schedules: functions from the step count to a hyperparameter value (Optax's schedules).
 * Any learning rate may be one. Each schedule takes
 *  - a number, and returns a number (for plots, logs and tests), or
 *  - an array of steps (the int32 count of an optimizer state, possibly traced, or a vector
 *    of steps such as `np.arange(1000)`), and returns a float64 array of the same shape.
 * The array path is pure array math (np.where, never a JS branch on the step), so schedules
 * work inside `update` under grad, vmap and jit.
 */
import { ArrayBase, ValueError, np } from "@cotangent/core";
import type { Schedule } from "./base.js";
import { cast } from "./numerics.js";
import { bool, checkArg, describe, ensure, finiteNumber, nonNegativeInt, numberIn, parseOptions, plainObject, positiveInt, schedule as scheduleCodec } from "./validate.js";

/** A schedule: number in, number out; array in, float64 array out. */
export interface ScheduleFn {
  (step: number): number;
  (step: ArrayBase): ArrayBase;
}

/** Lifts array math on a float64 step to a {@link ScheduleFn}. */
const makeSchedule = (op: string, f: (step: ArrayBase) => ArrayBase | number): ScheduleFn =>
  ((step: number | ArrayBase) => {
    if (typeof step === "number") {
      const r = f(np.array(step, { dtype: "float64" }));
      return typeof r === "number" ? r : r.item();
    }
    if (!(step instanceof ArrayBase)) {
      throw new ValueError(`the step must be a number or an array, got ${describe(step)}`, { op });
    }
    const r = f(cast(step, "float64"));
    return typeof r === "number" ? np.full(step.shape, r, { dtype: "float64" }) : r;
  }) as ScheduleFn;

const nonNegativeNumber = numberIn("a finite number >= 0", (x) => Number.isFinite(x) && x >= 0);

/** The same value at every step. */
export const constant = (value: number): ScheduleFn => {
  checkArg("optim.constant", "value", finiteNumber, value);
  return makeSchedule("optim.constant", () => value);
};

export interface PolynomialOptions {
  initValue: number;
  endValue: number;
  power: number;
  /** Steps from `initValue` to `endValue`; 0 gives a constant `initValue`. */
  transitionSteps: number;
  /** Steps at `initValue` before the transition starts (default 0). */
  transitionBegin?: number;
}

const polynomialCodecs = { initValue: finiteNumber, endValue: finiteNumber, transitionSteps: nonNegativeInt };

const polynomialFrom = (op: string, o: PolynomialOptions): ScheduleFn => {
  const { initValue, endValue, power, transitionSteps, transitionBegin = 0 } = o;
  if (transitionSteps === 0) return constant(initValue);
  return makeSchedule(op, (step) => {
    const count = np.clip(np.subtract(step, transitionBegin), 0, transitionSteps);
    const frac = np.subtract(1, np.divide(count, transitionSteps));
    return np.add(np.multiply(initValue - endValue, np.power(frac, power)), endValue);
  });
};

/**
 * `(initValue - endValue) * (1 - t / transitionSteps)^power + endValue`, where
 * `t = clip(step - transitionBegin, 0, transitionSteps)`.
 */
export const polynomial = (options: PolynomialOptions): ScheduleFn => {
  const op = "optim.polynomial";
  const o = parseOptions(op, options, { ...polynomialCodecs, power: finiteNumber }, { transitionBegin: nonNegativeInt });
  return polynomialFrom(op, o);
};

/** Linear interpolation from `initValue` to `endValue` over `transitionSteps` steps. */
export const linear = (options: Omit<PolynomialOptions, "power">): ScheduleFn => {
  const op = "optim.linear";
  const o = parseOptions(op, options, polynomialCodecs, { transitionBegin: nonNegativeInt });
  return polynomialFrom(op, { ...o, power: 1 });
};

export interface CosineDecayOptions {
  initValue: number;
  decaySteps: number;
  /** The final value as a fraction of `initValue` (default 0). */
  alpha?: number;
  /** Power of the cosine factor (default 1). */
  exponent?: number;
}

/**
 * Cosine decay (Loshchilov & Hutter 2017, SGDR eq. 5 without restarts):
 * `initValue * ((1 - alpha) * (0.5 (1 + cos(pi t / decaySteps)))^exponent + alpha)`, with
 * `t = min(step, decaySteps)`.
 */
export const cosineDecay = (options: CosineDecayOptions): ScheduleFn => {
  const op = "optim.cosineDecay";
  const o = parseOptions(op, options, { initValue: finiteNumber, decaySteps: positiveInt }, { alpha: finiteNumber, exponent: finiteNumber });
  const { initValue, decaySteps, alpha = 0, exponent = 1 } = o;
  return makeSchedule(op, (step) => {
    const t = np.minimum(step, decaySteps);
    const cosine = np.multiply(0.5, np.add(1, np.cos(np.multiply(Math.PI / decaySteps, t))));
    return np.multiply(initValue, np.add(np.multiply(1 - alpha, np.power(cosine, exponent)), alpha));
  });
};

export interface WarmupCosineDecayOptions {
  initValue: number;
  peakValue: number;
  /** Steps of linear warmup from `initValue` to `peakValue`. */
  warmupSteps: number;
  /** Total steps, warmup included; then the value stays at `endValue`. */
  decaySteps: number;
  endValue?: number;
  exponent?: number;
}

const warmupCosineFrom = (op: string, options: WarmupCosineDecayOptions): ScheduleFn => {
  const o = parseOptions(
    op,
    options,
    { initValue: finiteNumber, peakValue: finiteNumber, warmupSteps: nonNegativeInt, decaySteps: positiveInt },
    { endValue: finiteNumber, exponent: finiteNumber },
  );
  const { initValue, peakValue, warmupSteps, decaySteps, endValue = 0, exponent = 1 } = o;
  ensure(op, decaySteps > warmupSteps, `decaySteps (${decaySteps}) must be greater than warmupSteps (${warmupSteps})`, "decaySteps counts the warmup steps too");
  const alpha = peakValue === 0 ? 0 : endValue / peakValue;
  return joinSchedules(
    [linear({ initValue, endValue: peakValue, transitionSteps: warmupSteps }), cosineDecay({ initValue: peakValue, decaySteps: decaySteps - warmupSteps, alpha, exponent })],
    [warmupSteps],
  );
};

/** Linear warmup from `initValue` to `peakValue`, then cosine decay to `endValue` at `decaySteps`. */
export const warmupCosineDecay = (options: WarmupCosineDecayOptions): ScheduleFn => warmupCosineFrom("optim.warmupCosineDecay", options);

export interface ExponentialDecayOptions {
  initValue: number;
  transitionSteps: number;
  decayRate: number;
  transitionBegin?: number;
  /** Decay in whole intervals of `transitionSteps` (default false). */
  staircase?: boolean;
  /** A floor (decayRate < 1) or ceiling (decayRate > 1) on the value. */
  endValue?: number;
}

/**
 * `initValue * decayRate^((step - transitionBegin) / transitionSteps)` (the exponent floored
 * with `staircase`), and `initValue` before `transitionBegin`.
 */
export const exponentialDecay = (options: ExponentialDecayOptions): ScheduleFn => {
  const op = "optim.exponentialDecay";
  const o = parseOptions(
    op,
    options,
    { initValue: finiteNumber, transitionSteps: positiveInt, decayRate: nonNegativeNumber },
    { transitionBegin: nonNegativeInt, staircase: bool, endValue: finiteNumber },
  );
  const { initValue, transitionSteps, decayRate, transitionBegin = 0, staircase = false, endValue } = o;
  return makeSchedule(op, (step) => {
    const count = np.subtract(step, transitionBegin);
    const p = np.divide(count, transitionSteps);
    const decayed = np.where(np.lessEqual(count, 0), initValue, np.multiply(initValue, np.power(decayRate, staircase ? np.floor(p) : p)));
    if (endValue === undefined) return decayed;
    return decayRate < 1 ? np.maximum(decayed, endValue) : np.minimum(decayed, endValue);
  });
};

/**
 * `initValue` times the product of the scales of every boundary reached (`step >= boundary`,
 * as Optax): for `{ 100: 0.1, 200: 0.1 }`, the value is divided by 10 from step 100 on and
 * again from step 200 on.
 */
export const piecewiseConstant = (options: { initValue: number; boundariesAndScales?: Record<number, number> }): ScheduleFn => {
  const op = "optim.piecewiseConstant";
  const o = parseOptions(op, options, { initValue: finiteNumber }, { boundariesAndScales: plainObject });
  const pairs = Object.entries((o.boundariesAndScales ?? {}) as Record<string, unknown>).map(([b, s]) => {
    ensure(op, /^\d+$/.test(b), `boundary '${b}' must be an integer step >= 0`);
    checkArg(op, `boundariesAndScales[${b}]`, nonNegativeNumber, s);
    return [Number(b), s as number] as const;
  });
  pairs.sort((a, b) => a[0] - b[0]);
  return makeSchedule(op, (step) =>
    pairs.reduce<ArrayBase | number>((v, [b, s]) => np.where(np.greaterEqual(step, b), np.multiply(v, s), v), np.full(step.shape, o.initValue, { dtype: "float64" })),
  );
};

/**
 * Runs `schedules[0]` until `boundaries[0]`, then `schedules[1]` (with the step counted from
 * that boundary) until `boundaries[1]`, and so on.
 */
export const joinSchedules = (schedules: readonly Schedule[], boundaries: readonly number[]): ScheduleFn => {
  const op = "optim.joinSchedules";
  ensure(op, Array.isArray(schedules) && Array.isArray(boundaries), "schedules and boundaries must be lists");
  schedules.forEach((s, i) => checkArg(op, `schedules[${i}]`, scheduleCodec, s));
  boundaries.forEach((b, i) => checkArg(op, `boundaries[${i}]`, nonNegativeInt, b));
  ensure(op, schedules.length === boundaries.length + 1, `needs one more schedule than boundaries, got ${schedules.length} schedules and ${boundaries.length} boundaries`);
  ensure(op, boundaries.every((b, i) => i === 0 || b >= boundaries[i - 1]!), `boundaries must be non-decreasing, got [${boundaries.join(", ")}]`);
  return makeSchedule(op, (step) =>
    boundaries.reduce<ArrayBase | number>((out, b, i) => np.where(np.less(step, b), out, schedules[i + 1]!(np.subtract(step, b))), schedules[0]!(step)),
  );
};

/**
 * SGDR, warm restarts (Loshchilov & Hutter 2017): one warmup-cosine cycle after another,
 * each given by its own options; a cycle lasts its `decaySteps`.
 */
export const sgdr = (cycles: readonly WarmupCosineDecayOptions[]): ScheduleFn => {
  const op = "optim.sgdr";
  ensure(op, Array.isArray(cycles) && cycles.length > 0, `expects a non-empty array of warmupCosineDecay options, got ${describe(cycles)}`);
  const schedules = cycles.map((c) => warmupCosineFrom(op, c));
  const boundaries: number[] = [];
  let end = 0;
  for (const c of cycles.slice(0, -1)) boundaries.push((end += c.decaySteps));
  return joinSchedules(schedules, boundaries);
};
