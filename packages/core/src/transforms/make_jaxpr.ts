/** `makeJaxpr(f)(...args)`: the jaxpr of `f` at the shapes and dtypes of `args`. */
import type { Jaxpr } from "../ir/jaxpr.js";
import { flattenArgs, traceFlat } from "./api_util.js";

export const makeJaxpr =
  (f: (...args: any[]) => unknown) =>
  (...args: unknown[]): Jaxpr => {
    const [flat, inTree] = flattenArgs("makeJaxpr", args);
    return traceFlat("makeJaxpr", f, inTree, flat).jaxpr;
  };
