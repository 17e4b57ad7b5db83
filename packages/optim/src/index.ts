/**
 * @packageDocumentation
 * Cotangent optim: Optax's gradient transformations, optimizers, schedules and losses.
 *
 * ```ts
 * import * as optim from "@cotangent/optim";
 * const opt = optim.chain(optim.clipByGlobalNorm(1), optim.adamw({ learningRate: 1e-3 }));
 * let state = opt.init(params);
 * const [updates, next] = opt.update(grads, state, params);
 * params = optim.applyUpdates(params, updates);
 * ```
 */
export {
  type EmptyState,
  type GradientTransformation,
  type PyTree,
  type Scalar,
  type ScalarOrSchedule,
  type Schedule,
  type StateOf,
  applyUpdates,
  chain,
  identity,
  transformation,
} from "./base.js";
export { globalNorm } from "./numerics.js";
export * from "./transforms/index.js";
export * from "./optimizers.js";
export * from "./schedules.js";
export * as schedules from "./schedules.js";
export * from "./losses.js";
export * as losses from "./losses.js";
export { asState } from "./state.js";
