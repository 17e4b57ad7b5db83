/**
 * `injectHyperparams`: moves an optimizer's numeric hyperparameters into its state, where
 * they can be read (to log the current learning rate) and changed between steps (to lower
 * it by hand), and where schedules are evaluated on the step count.
 */
import { ArrayBase, type DType, ValueError, np } from "@cotangent/core";
import { type GradientTransformation, transformation } from "../base.js";
import { increment, zeroCount } from "../numerics.js";
import { describe } from "../validate.js";

/** State of an injected optimizer. */
export interface InjectHyperparamsState<S = unknown> {
  /** Updates so far (int32): the step the schedules are evaluated at. */
  count: ArrayBase;
  /** The hyperparameters used by the last update (after init: those of the first), as scalar arrays. */
  hyperparams: Record<string, ArrayBase | number>;
  innerState: S;
}

export interface InjectHyperparamsOptions {
  /**
   * Options to pass through as they are: functions that are not schedules, and numbers the
   * factory needs as JS numbers (sizes, counts). As in Optax, they are not stored in the state.
   */
  staticArgs?: readonly string[];
  /** The dtype of the stored hyperparameters (default float64: JS numbers are kept exactly). */
  hyperparamDtype?: DType;
}

/**
 * Wraps an optimizer factory so that its numeric hyperparameters live in the state:
 *
 * ```ts
 * const opt = injectHyperparams(adam)({ learningRate: cosineDecay({ initValue: 1e-3, decaySteps: 1000 }) });
 * let state = opt.init(params);
 * [updates, state] = opt.update(grads, state, params);
 * state.hyperparams.learningRate;                  // the value the step used
 * state = { ...state, hyperparams: { ...state.hyperparams, b1: np.array(0.8) } };
 * ```
 *
 * Numbers and scalar arrays are stored in `state.hyperparams`; functions are schedules,
 * evaluated at the step count on each update; `staticArgs`, options whose name ends in
 * `mask`/`Mask`, and everything else (booleans, masks) are passed through unchanged.
 * The factory is called once here with the given values, which validates them, and again on
 * each update with the stored arrays.
 */
export const injectHyperparams =
  <O extends object, S>(factory: (options: O) => GradientTransformation<S>, options: InjectHyperparamsOptions = {}) =>
  (hyperparams: O): GradientTransformation<InjectHyperparamsState<S>> => {
    const op = "optim.injectHyperparams";
    if (typeof factory !== "function") {
      throw new ValueError(`expects an optimizer factory such as optim.adam, got ${describe(factory)}`, {
        op,
        hint: "write injectHyperparams(optim.adam)({ learningRate: 1e-3 })",
      });
    }
    factory(hyperparams); // validates the plain values once
    const dtype = options.hyperparamDtype ?? "float64";
    const isStatic = (k: string) => (options.staticArgs ?? []).includes(k) || /mask$/i.test(k);
    const entries = Object.entries(hyperparams as Record<string, unknown>);
    const scheduled = entries.filter(([k, v]) => typeof v === "function" && !isStatic(k)) as [string, (s: ArrayBase) => unknown][];
    const numeric = entries.filter(([k, v]) => (typeof v === "number" || v instanceof ArrayBase) && !isStatic(k)) as [string, number | ArrayBase][];
    const toArray = (v: unknown): ArrayBase => np.array(v as number | ArrayBase, { dtype });
    const evaluate = (count: ArrayBase) => Object.fromEntries(scheduled.map(([k, f]) => [k, toArray(f(count))]));
    const build = (values: Record<string, ArrayBase | number>) => factory({ ...hyperparams, ...values });
    return transformation(
      (params) => {
        const count = zeroCount();
        const values = { ...Object.fromEntries(numeric.map(([k, v]) => [k, toArray(v)])), ...evaluate(count) };
        return { count, hyperparams: values, innerState: build(values).init(params) };
      },
      (updates, state, params) => {
        const values = { ...state.hyperparams, ...evaluate(state.count) };
        const [u, innerState] = build(values).update(updates, state.innerState, params);
        return [u, { count: increment(state.count), hyperparams: values, innerState }];
      },
    );
  };
