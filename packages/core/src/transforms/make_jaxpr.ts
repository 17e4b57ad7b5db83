/** `makeJaxpr(f)(...args)`: the jaxpr of `f` at the shapes and dtypes of `args`. */
import type { Jaxpr } from "../ir/jaxpr.js";
import { flattenArgs, normalizeArgnums, traceFlat } from "./api_util.js";

export interface MakeJaxprOptions {
  /**
   * Positional arguments passed to `f` as they are, untraced (as `static_argnums` in JAX):
   * JS control flow may depend on them, and they do not appear among the jaxpr's inputs.
   * JS booleans, strings and functions are always passed as they are.
   */
  staticArgnums?: number | readonly number[];
}

/**
 * `makeJaxpr(f)(...args)`: traces `f` at the shapes and dtypes of `args` (arrays and JS
 * numbers; other JS values reach `f` untraced) and returns its jaxpr.
 */
export const makeJaxpr =
  (f: (...args: any[]) => unknown, options: MakeJaxprOptions = {}) =>
  (...args: unknown[]): Jaxpr => {
    const op = "makeJaxpr";
    const statics = normalizeArgnums(op, options.staticArgnums ?? [], args.length, "staticArgnums");
    const [flat, inTree] = flattenArgs(op, args, false, statics);
    return traceFlat(op, f, inTree, flat).jaxpr;
  };
