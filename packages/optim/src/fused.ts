/**
 * One compiled pass for an optimizer's update in eager code.
 *
 * Written as Optax writes it, Adam's update is some fifteen elementwise operations per
 * parameter leaf (two moving averages, two bias corrections, a square root, a division, the
 * learning rate). Run eagerly, each is a kernel call that reads and writes a whole leaf: on
 * the MLP of `pnpm bench` W3 that was a third of an eager training step. `jit` fuses the
 * chain into one kernel per leaf, so an optimizer whose hyperparameters are plain numbers
 * runs its update through a cached `jit` of itself when it is called on concrete arrays.
 *
 * Under a transform (grad, vmap, the user's own jit) the inputs are tracers and the update
 * is traced inline as before, so jaxprs of training steps are unchanged. The compiled update
 * is shared by every optimizer built from the same factory and options (a training loop that
 * builds `adam({...})` afresh on each step compiles once).
 */
import { NDArray, jit, tree } from "@cotangent/core";
import type { GradientTransformation, PyTree } from "./base.js";

type Update = (updates: PyTree, state: unknown, params?: PyTree) => [PyTree, unknown];

/** Compiled updates by factory and options; the oldest is dropped beyond this many. */
const MAX_SHARED = 32;
const shared = new Map<string, Update>();

/** Every leaf is a concrete array or a number: eager code, not a trace. */
const concrete = (x: unknown): boolean => {
  try {
    return tree.leaves<unknown>(x).every((l) => l instanceof NDArray || typeof l === "number");
  } catch {
    return false;
  }
};

/** The options as a cache key when every one is a number, boolean or absent; else undefined. */
const keyOf = (name: string, options: object): string | undefined => {
  const entries = Object.entries(options).filter(([, v]) => v !== undefined);
  if (!entries.every(([, v]) => typeof v === "number" || typeof v === "boolean")) return undefined;
  return `${name}:${JSON.stringify(entries.sort(([a], [b]) => (a < b ? -1 : 1)))}`;
};

/**
 * `t` with its update compiled (see the module comment) when every option of `name` is a
 * number or a boolean; `t` itself otherwise (an array or schedule hyperparameter, a mask).
 */
export const fusedUpdate = <S>(name: string, options: object, t: GradientTransformation<S>): GradientTransformation<S> => {
  const key = keyOf(name, options);
  if (key === undefined) return t;
  const compiled = (): Update => {
    let f = shared.get(key);
    if (f) {
      shared.delete(key);
    } else {
      // The update of the first optimizer with these options: all of them compute the same thing.
      f = jit((u: PyTree, s: unknown, p: PyTree) => t.update(u, s as S, p ?? undefined)) as unknown as Update;
      if (shared.size >= MAX_SHARED) shared.delete(shared.keys().next().value!);
    }
    shared.set(key, f);
    return f;
  };
  const update = (updates: PyTree, state: S, params?: PyTree): [PyTree, S] =>
    concrete([updates, state, params ?? null]) ? (compiled()(updates, state, params ?? null) as [PyTree, S]) : t.update(updates, state, params);
  return { init: t.init, update: update as GradientTransformation<S>["update"] };
};

/** How many compiled updates are cached now (tests). */
export const sharedUpdateCount = (): number => shared.size;
