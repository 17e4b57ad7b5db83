/**
 * `closureConvert(f, ...exampleArgs)`: `f` with the arrays it closes over made explicit
 * arguments, as `jax.closure_convert`. A custom rule (`customJvp`/`customVjp`) cannot see the
 * derivative of a value its function closes over (it refuses, naming the problem); converted,
 * that value is an argument like any other, so the rule gets its tangent or returns its
 * cotangent.
 */
import { requireFunction } from "../api/args.js";
import type { ArrayBase } from "../array.js";
import { ValueError } from "../errors.js";
import { Jaxpr } from "../ir/jaxpr.js";
import { evalJaxpr } from "../interpreter.js";
import { treedefEquals, treedefToString, unflatten } from "../tree.js";
import { flattenArgs, leafToArray, traceFlat } from "./api_util.js";

/**
 * Traces `f` at `exampleArgs` and returns `[converted, consts]`: `converted(...args,
 * ...consts)` computes `f(...args)`, with `consts` the arrays `f` closes over (under a
 * transform, the tracers of the enclosing computation: exactly what must be differentiated).
 * `converted` is specialised to the shapes, dtypes and JS values of `exampleArgs`, as the
 * trace was.
 *
 * ```ts
 * const [fc, consts] = closureConvert((x) => np.multiply(np.sin(x), w), x); // closes over w
 * const g = customVjp(fc); // g(x, ...consts): w's cotangent comes from the rule
 * ```
 */
export const closureConvert = (f: (...args: any[]) => unknown, ...exampleArgs: unknown[]): [(...argsAndConsts: any[]) => any, ArrayBase[]] => {
  const op = "closureConvert";
  requireFunction(op, "f", f);
  const [flat, inTree] = flattenArgs(op, exampleArgs);
  const { jaxpr, outTree } = traceFlat(op, f, inTree, flat);
  const open = new Jaxpr([], [], [...jaxpr.invars, ...jaxpr.constvars], jaxpr.eqns, jaxpr.outvars);
  const consts = jaxpr.consts.slice();
  const n = exampleArgs.length;
  const converted = (...argsAndConsts: unknown[]): unknown => {
    if (argsAndConsts.length !== n + consts.length) {
      throw new ValueError(`the converted function takes ${n} argument${n === 1 ? "" : "s"} and then the ${consts.length} closed-over constant${consts.length === 1 ? "" : "s"}, got ${argsAndConsts.length} values`, {
        op,
        hint: "call it as converted(...args, ...consts) with the consts closureConvert returned",
      });
    }
    const [flatArgs, tree] = flattenArgs(op, argsAndConsts.slice(0, n));
    if (!treedefEquals(tree, inTree)) {
      throw new ValueError(`the arguments have structure ${treedefToString(tree)} but the function was converted at ${treedefToString(inTree)}`, { op });
    }
    const cs = argsAndConsts.slice(n).map((c, i) => {
      const a = leafToArray(c, op, "constant");
      const want = consts[i]!.aval;
      if (a.shape.join() !== want.shape.join() || a.dtype !== want.dtype) throw new ValueError(`constant ${i} is ${a.aval} but should be ${want}`, { op });
      return a;
    });
    const args = flatArgs.map((a, i) => {
      const want = jaxpr.invars[i]!.aval;
      if (a.shape.join() !== want.shape.join()) throw new ValueError(`argument leaf ${i} has shape [${a.shape.join(", ")}] but the function was converted at ${want}`, { op });
      return a;
    });
    return unflatten(outTree, evalJaxpr(open, [...args, ...cs]));
  };
  return [converted, consts];
};
