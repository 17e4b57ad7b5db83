/**
 * `debug_callback`: calls a host function on concrete values while a program runs (the
 * primitive behind `debug.print` and `debug.callback`). It has no outputs and is marked
 * effectful, so dead-code elimination never removes it. Its rules, as in JAX:
 * - jvp: the callback sees the primal values only (a gradient prints what the forward pass
 *   computes, once); no tangent comes out.
 * - transpose: nothing (a backward pass has no primal values to show; the forward pass
 *   already ran the callback).
 * - batch: one call per batch element, in order, each on that element's slice (unbatched
 *   operands are passed whole), as JAX's vmap of a debug callback.
 * - partial evaluation: the default. Inside `linearize`/`grad` its operands are primal
 *   values, so it lands in the known (forward) jaxpr and runs once; a checkpoint's
 *   recomputation only replays equations whose outputs are needed, and this one has none.
 */
import type { ArrayBase, NDArray } from "../array.js";
import { definePrimitive } from "../ir/primitive.js";
import { bind } from "../trace.js";
import { sliceInDim, squeeze } from "./shape.js";

export interface DebugCallbackParams {
  /** Called with the operands' concrete values. Its `name` is what the jaxpr prints. */
  callback: (values: NDArray[]) => void;
}

export const debugCallbackP = definePrimitive<DebugCallbackParams>({
  name: "debug_callback",
  effectful: true,
  abstractEval: () => [],
  impl(inputs, { callback }) {
    callback(inputs);
    return [];
  },
  jvp(primals, _tangents, params) {
    bind(debugCallbackP, primals, params);
    return [[], []];
  },
  transpose: (_cts, inputs) => inputs.map(() => null),
  batch(args, dims, params, size) {
    const element = (x: ArrayBase, d: number | null, i: number) => (d === null ? x : squeeze(sliceInDim(x, i, i + 1, 1, d), [d]));
    for (let i = 0; i < size; i++) bind(debugCallbackP, args.map((x, j) => element(x, dims[j] ?? null, i)), params);
    return [[], []];
  },
});
