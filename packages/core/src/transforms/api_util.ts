/** Plumbing shared by the user-facing transform wrappers: pytrees in, pytrees out. */
import { requireFunction } from "../api/args.js";
import { ArrayBase, adoptForeignArray, isForeignArray } from "../array.js";
import { weakDTypeOf } from "../dtype.js";
import { TransformError, ValueError } from "../errors.js";
import type { Jaxpr } from "../ir/jaxpr.js";
import { scalar } from "../primitives/common.js";
import { traceToJaxpr } from "../trace.js";
import { type TreeDef, flatten, treedefEquals, unflatten } from "../tree.js";

/** A pytree leaf as an array: JS numbers and booleans become weakly typed scalars. */
export const leafToArray = (x: unknown, op: string, what = "argument", numbersAsFloat = false): ArrayBase => {
  if (x instanceof ArrayBase) return x;
  if (isForeignArray(x)) return adoptForeignArray(x, op);
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

/**
 * Traces `f` applied to a pytree of arguments with the flat avals of `flatArgs` (static
 * values in `inTree` reach `f` as they are). Outputs are all traced, unless `outStatics`
 * says which of their leaves stay JS values (a loop body's carry).
 */
export const traceFlat = (op: string, f: (...args: any[]) => unknown, inTree: TreeDef, flatArgs: readonly ArrayBase[], outStatics?: StaticLeaves): Traced => {
  requireFunction(op, "f", f);
  let outTree: TreeDef | undefined;
  const jaxpr = traceToJaxpr(
    (...tracers) => {
      const args = unflatten<unknown[]>(inTree, tracers);
      const out = f(...args);
      if (outStatics) {
        const [leaves, def] = flattenTraced(op, out, "the function's output", outStatics);
        outTree = def;
        return leaves;
      }
      const [leaves, def] = flatten(out);
      outTree = def;
      return leaves.map((l) => leafToArray(l, op, "the function's output"));
    },
    flatArgs.map((a) => a.aval),
  );
  return { jaxpr, outTree: outTree! };
};

/**
 * Which JS leaves a transform passes through untraced, as the JS values they are:
 * - `"js"` (arguments of transforms, operands of cond/switch, scan's xs): booleans,
 *   strings, functions, symbols and bigints, so `if (flag)` takes the branch the caller
 *   chose; only arrays and numbers are traced.
 * - `"untraceable"` (loop carries, which change from step to step): only values that
 *   cannot be arrays (strings, functions, symbols, bigints); a boolean is traced.
 */
export type StaticLeaves = "js" | "untraceable";

/** Whether `x` is a leaf that stays a JS value under `mode` (see {@link StaticLeaves}). */
export const isStaticLeaf = (x: unknown, mode: StaticLeaves = "js"): boolean => {
  const t = typeof x;
  return t === "string" || t === "function" || t === "symbol" || t === "bigint" || (mode === "js" && t === "boolean");
};

/**
 * Flattens a pytree into its traced leaves (as arrays); static leaves (see
 * {@link StaticLeaves}) are folded into the structure as `static` nodes, so `unflatten`
 * puts them back as they were.
 */
export const flattenTraced = (op: string, tree: unknown, what: string, mode: StaticLeaves = "js", numbersAsFloat = false): [ArrayBase[], TreeDef] => {
  const [leaves, def] = flatten(tree);
  const out: ArrayBase[] = [];
  let i = 0;
  const go = (d: TreeDef): TreeDef => {
    switch (d.kind) {
      case "leaf": {
        const x = leaves[i++];
        if (isStaticLeaf(x, mode)) return { kind: "static", value: x };
        out.push(leafToArray(x, op, what, numbersAsFloat));
        return d;
      }
      case "none":
      case "static":
        return d;
      default:
        return { ...d, children: d.children.map(go) };
    }
  };
  return [out, go(def)];
};

/**
 * Flattens an argument list into its traced leaves: arrays and numbers. JS booleans,
 * strings and functions, and whole arguments listed in `staticArgnums` (normalised), stay
 * in the structure as static values.
 */
export const flattenArgs = (op: string, args: readonly unknown[], numbersAsFloat = false, staticArgnums: readonly number[] = []): [ArrayBase[], TreeDef] => {
  const leaves: ArrayBase[] = [];
  const children = args.map((a, i): TreeDef => {
    if (staticArgnums.includes(i)) return { kind: "static", value: a };
    const [ls, def] = flattenTraced(op, a, "argument", "js", numbersAsFloat);
    leaves.push(...ls);
    return def;
  });
  return [leaves, { kind: "array", children }];
};

/** The structure with every static value replaced by `null`: what stands for its tangent or cotangent. */
export const staticsAsNull = (def: TreeDef): TreeDef => {
  switch (def.kind) {
    case "static":
      return { kind: "none", value: null };
    case "leaf":
    case "none":
      return def;
    default:
      return { ...def, children: def.children.map(staticsAsNull) };
  }
};

/**
 * Whether a tangent (or cotangent) structure fits its primals' structure: equal, except
 * that where the primals hold a static value the tangent may hold null, undefined or any
 * static value (a static value has no tangent).
 */
export const fitsPrimalStructure = (primal: TreeDef, tangent: TreeDef): boolean => {
  if (primal.kind === "static") return tangent.kind === "static" || tangent.kind === "none";
  if (primal.kind === "leaf" || primal.kind === "none" || primal.kind !== tangent.kind) return treedefEquals(primal, tangent);
  const t = tangent as typeof primal;
  if (primal.children.length !== t.children.length) return false;
  if (primal.kind === "object" && primal.keys.join("\0") !== (t as typeof primal).keys.join("\0")) return false;
  if (primal.kind === "custom" && !treedefEquals({ ...primal, children: [] }, { ...(t as typeof primal), children: [] })) return false;
  return primal.children.every((c, i) => fitsPrimalStructure(c, t.children[i]!));
};

/** Normalises `argnums` (number | number[]) against the argument count. */
export const normalizeArgnums = (op: string, argnums: number | readonly number[], nargs: number, what = "argnums"): number[] => {
  if (typeof argnums !== "number" && !Array.isArray(argnums)) {
    throw new TransformError(`${what} must be an integer or an array of integers, got ${argnums === null ? "null" : typeof argnums}`, { op });
  }
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  return list.map((a) => {
    if (!Number.isInteger(a) || a < -nargs || a >= nargs) {
      throw new TransformError(`${what} ${String(a)} is out of range: the function was called with ${nargs} argument${nargs === 1 ? "" : "s"}`, {
        op,
        hint: `${what} counts positional arguments from 0 (here 0 to ${nargs - 1})`,
      });
    }
    return a < 0 ? a + nargs : a;
  });
};
