/** Plumbing shared by the user-facing transform wrappers: pytrees in, pytrees out. */
import { ArrayBase } from "../array.js";
import { weakDTypeOf } from "../dtype.js";
import { TransformError, ValueError } from "../errors.js";
import type { Jaxpr } from "../ir/jaxpr.js";
import { scalar } from "../primitives/common.js";
import { traceToJaxpr } from "../trace.js";
import { type TreeDef, flatten, unflatten } from "../tree.js";

/** A pytree leaf as an array: JS numbers and booleans become weakly typed scalars. */
export const leafToArray = (x: unknown, op: string, what = "argument", numbersAsFloat = false): ArrayBase => {
  if (x instanceof ArrayBase) return x;
  // Differentiation treats a JS number as a float: JS cannot tell 2 from 2.0.
  if (typeof x === "number" && numbersAsFloat) return scalar(x, "float32");
  if (typeof x === "number" || typeof x === "boolean") return scalar(Number(x), weakDTypeOf(x));
  throw new ValueError(`${what} has a leaf of type ${x === null ? "null" : typeof x}, which is not an array or number`, {
    op,
    hint: "pytree leaves must be arrays or numbers; register custom classes with tree.register",
  });
};

export interface Traced {
  jaxpr: Jaxpr;
  outTree: TreeDef;
}

/** Traces `f` applied to a pytree of arguments with the flat avals of `flatArgs`. */
export const traceFlat = (op: string, f: (...args: any[]) => unknown, inTree: TreeDef, flatArgs: readonly ArrayBase[]): Traced => {
  let outTree: TreeDef | undefined;
  const jaxpr = traceToJaxpr(
    (...tracers) => {
      const args = unflatten<unknown[]>(inTree, tracers);
      const out = f(...args);
      const [leaves, def] = flatten(out);
      outTree = def;
      return leaves.map((l) => leafToArray(l, op, "the function's output"));
    },
    flatArgs.map((a) => a.aval),
  );
  return { jaxpr, outTree: outTree! };
};

/** Flattens an argument list into array leaves. */
export const flattenArgs = (op: string, args: readonly unknown[], numbersAsFloat = false): [ArrayBase[], TreeDef] => {
  const [leaves, def] = flatten(args);
  return [leaves.map((l) => leafToArray(l, op, "argument", numbersAsFloat)), def];
};

/** Normalises `argnums` (number | number[]) against the argument count. */
export const normalizeArgnums = (op: string, argnums: number | readonly number[], nargs: number): number[] => {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  return list.map((a) => {
    if (!Number.isInteger(a) || a < -nargs || a >= nargs) {
      throw new TransformError(`argnums ${a} is out of range: the function was called with ${nargs} argument${nargs === 1 ? "" : "s"}`, {
        op,
        hint: `argnums counts positional arguments from 0 (here 0 to ${nargs - 1})`,
      });
    }
    return a < 0 ? a + nargs : a;
  });
};
