/**
 * Optimizers as fp-ts `State` computations. An optimizer's `update` is already a state
 * transition, `(grads, state, params) -> [updates, state]`; `asState` only fixes the
 * argument order fp-ts expects, so a training step can be written as a `pipe` of `State`
 * computations and run from an initial state.
 */
import type { State } from "fp-ts/lib/State.js";
import type { GradientTransformation, PyTree } from "./base.js";

/**
 * `asState(opt)(grads, params)` is the `State` computation that applies one `update`:
 * run from an optimizer state `s`, it yields `[updates, nextState]`, exactly
 * `opt.update(grads, s, params)`.
 *
 * ```ts
 * import * as S from "fp-ts/lib/State.js";
 * const step = (params, batch) =>
 *   pipe(optim.asState(opt)(grad(loss)(params, batch), params), S.map((u) => optim.applyUpdates(params, u)));
 * const [nextParams, nextOptState] = step(params, batch)(optState);
 * ```
 */
export const asState =
  <S>(opt: GradientTransformation<S>) =>
  <U extends PyTree>(grads: U, params?: PyTree): State<S, U> =>
  (state) =>
    opt.update(grads, state, params);
