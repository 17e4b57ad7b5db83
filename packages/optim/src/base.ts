/**
 * The contract every optimizer piece follows (Optax's): a {@link GradientTransformation}
 * is a pair of pure functions, `init(params) -> state` and
 * `update(updates, state, params?) -> [updates, state]`. Pieces compose with {@link chain};
 * {@link applyUpdates} adds the final updates to the params.
 *
 * State is plain data: pytrees of arrays (and numbers) in plain objects and arrays, with
 * `null` for empty nodes, so it survives a serialize/deserialize round trip and can be
 * traced, vmapped and (later) jitted like any other pytree.
 */
import { describeValue } from "@cotangent/core";
import { ArrayBase, ShapeError, ValueError, np, tree } from "@cotangent/core";

/** Any pytree: arrays and numbers nested in plain arrays and objects. */
export type PyTree = any;

/** A scalar hyperparameter: a JS number, or a scalar array (injected or traced). */
export type Scalar = number | ArrayBase;

/**
 * A schedule: a function of the step count (an int32 or float scalar array, or a vector of
 * steps) to a value. The schedules in this package also accept a plain number and then
 * return a number.
 */
export type Schedule = (step: ArrayBase) => ArrayBase | number;

/** A hyperparameter that may vary with the step, like a learning rate. */
export type ScalarOrSchedule = Scalar | Schedule;

/** The state of a stateless transformation. */
export type EmptyState = Record<string, never>;

/**
 * Optax's contract: pure functions of pytrees. `update` maps the incoming updates
 * (gradients, or the output of the previous transform in a chain) to new updates of the
 * same structure, and the old state to the new one. `params` is needed by a few transforms
 * (weight decay, trust ratios) and ignored by the rest.
 */
export interface GradientTransformation<S = unknown> {
  init(params: PyTree): S;
  update<U>(updates: U, state: S, params?: PyTree): [U, S];
}

/** The state type of a transformation. */
export type StateOf<T> = T extends GradientTransformation<infer S> ? S : never;

/**
 * Builds a transformation from untyped `init`/`update` functions; the one place where the
 * generic signature of `update` is asserted.
 */
export const transformation = <S>(
  init: (params: PyTree) => S,
  update: (updates: PyTree, state: S, params?: PyTree) => [PyTree, S],
): GradientTransformation<S> => {
  if (typeof init !== "function" || typeof update !== "function") {
    throw new ValueError(`expects init and update functions, got ${describeValue(init)} and ${describeValue(update)}`, { op: "optim.transformation" });
  }
  // The state's top-level shape, from the state of an empty tree of parameters: an update
  // with a state of another shape is a typed error, not a TypeError inside the arithmetic.
  let probe: unknown;
  try {
    probe = init({});
  } catch {
    probe = undefined;
  }
  const checked = (updates: PyTree, state: S, params?: PyTree): [PyTree, S] => {
    checkStateShape(probe, state);
    return update(updates, state, params);
  };
  return { init, update: checked as GradientTransformation<S>["update"] };
};

const checkStateShape = (probe: unknown, state: unknown): void => {
  if (probe === undefined || probe === null || typeof probe !== "object") return;
  const fail = (why: string): never => {
    throw new ValueError(`state ${why}; pass the state returned by init (or by the previous update)`, { op: "optim.update" });
  };
  if (state === null || typeof state !== "object") fail(`must be ${Array.isArray(probe) ? "a list" : "an object"}, got ${describeValue(state)}`);
  if (Array.isArray(probe)) {
    if (!Array.isArray(state) || state.length !== probe.length) fail(`must be a list of ${probe.length} states, got ${describeValue(state)}`);
    return;
  }
  for (const k of Object.keys(probe)) if (!(k in (state as object))) fail(`has no '${k}' entry`);
};

/** A fresh empty state (a new object each time, so no caller can share one by accident). */
export const emptyState = (): EmptyState => ({});

/** The transformation that leaves updates unchanged. */
export const identity = (): GradientTransformation<EmptyState> =>
  transformation(emptyState, (updates, state) => [updates, state]);

/**
 * Applies transformations in sequence: each one's output updates are the next one's input.
 * The state is the tuple of the inner states.
 *
 * @example
 * const opt = chain(clipByGlobalNorm(1), scaleByAdam(), scaleByLearningRate(1e-3));
 */
export const chain = <T extends readonly GradientTransformation<any>[]>(
  ...transforms: T
): GradientTransformation<{ -readonly [K in keyof T]: StateOf<T[K]> }> => {
  transforms.forEach((t, i) => {
    if (!t || typeof t.init !== "function" || typeof t.update !== "function") {
      throw new ValueError(`argument ${i} is not a gradient transformation (an object with init and update functions)`, {
        op: "optim.chain",
        hint: "pass transformations such as optim.scaleByAdam() or optim.clipByGlobalNorm(1), not their factories",
      });
    }
  });
  return transformation(
    (params) => transforms.map((t) => t.init(params)) as any,
    (updates, state, params) => {
      const states = state as unknown[];
      if (!Array.isArray(states) || states.length !== transforms.length) {
        throw new ValueError(
          `expected a state of ${transforms.length} inner states (from this chain's init), got ${Array.isArray(states) ? `${states.length}` : typeof states}`,
          { op: "optim.chain" },
        );
      }
      const next: unknown[] = [];
      transforms.forEach((t, i) => {
        const [u, s] = t.update(updates, states[i], params);
        updates = u;
        next.push(s);
      });
      return [updates, next as any];
    },
  );
};

/**
 * `params + updates`, leaf by leaf, keeping each param's dtype (a float64 update applied to
 * float32 params gives float32 params). The two trees must have the same structure.
 */
export const applyUpdates = <P>(params: P, updates: PyTree): P => {
  const [pl, pd] = tree.flatten(params);
  const [ul, ud] = tree.flatten(updates);
  if (pl.length !== ul.length || !tree.treedefEquals(pd, ud)) {
    throw new ValueError(
      `updates have structure ${tree.treedefToString(ud)} but params have ${tree.treedefToString(pd)}`,
      { op: "optim.applyUpdates", hint: "pass the updates returned by update(grads, state, params) for these params" },
    );
  }
  return tree.unflatten<P>(
    pd,
    pl.map((p: any, i) => {
      const u = ul[i] as ArrayBase;
      // A broadcasting update would silently change the parameter's shape: refuse it.
      const shapeOf = (v: unknown, what: string): number[] => {
        if (typeof v === "number") return [];
        if (v instanceof ArrayBase) return v.shape;
        throw new ValueError(`leaf ${i} of the ${what} is ${describeValue(v)}, not an array or a number`, { op: "optim.applyUpdates" });
      };
      const ps = shapeOf(p, "params");
      const us = shapeOf(u, "updates");
      if (ps.join() !== us.join()) {
        throw new ShapeError(`the update of leaf ${i} has shape [${us.join(", ")}] but the parameter has shape [${ps.join(", ")}]`, {
          op: "optim.applyUpdates",
          hint: "updates must match their parameters' shapes exactly",
        });
      }
      if (typeof p === "number") return np.add(p, u);
      const sum = np.add(p, u);
      return sum.dtype === p.dtype ? sum : np.astype(sum, p.dtype);
    }),
  );
};
