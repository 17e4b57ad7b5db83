/**
 * Forward mode as a jaxpr rewrite: each equation is replaced by its primitive's jvp rule,
 * applied to dual numbers (primal, tangent). Tangents may be symbolic zeros (`null`), so
 * equations that no tangent reaches are copied unchanged.
 */
import { ArrayBase } from "../array.js";
import { describeValue } from "../api/args.js";
import { stopGradient } from "../primitives/special.js";
import * as tree from "../tree.js";
import { ShapedArray, isFloat } from "../dtype.js";
import type { Atom, Jaxpr, Var } from "../ir/jaxpr.js";
import { type MaybeZero, requireRule } from "../ir/primitive.js";
import { scalar } from "../primitives/common.js";
import { convertElementType, zerosOf } from "../primitives/structural.js";
import { TransformError, ValueError } from "../errors.js";
import { evalJaxpr } from "../interpreter.js";
import { type TreeDef, treedefToString, unflatten } from "../tree.js";
import { fitsPrimalStructure, flattenArgs, traceFlat } from "./api_util.js";
import { maskKey, memoOnJaxpr } from "./memo.js";
import { bind, derivedVia, relabelProducers, traceMark, traceToJaxpr, withOrigin } from "../trace.js";

/** The aval of a tangent of `a`, or null when `a` cannot carry one (integers, bools). */
export const tangentAval = (a: ShapedArray): ShapedArray | null => (isFloat(a.dtype) ? a : null);

/** Evaluates `jaxpr` on dual numbers; returns primal and tangent outputs. */
export const jvpEval = (jaxpr: Jaxpr, primals: ArrayBase[], tangents: MaybeZero[]): [ArrayBase[], MaybeZero[]] => {
  const env = new Map<Var, ArrayBase>();
  const tenv = new Map<Var, ArrayBase>();
  const read = (a: Atom): ArrayBase => ("value" in a ? scalar(a.value, a.aval.dtype) : env.get(a)!);
  const readT = (a: Atom): MaybeZero => ("value" in a ? null : (tenv.get(a) ?? null));
  jaxpr.constvars.forEach((v, i) => env.set(v, jaxpr.consts[i]!));
  jaxpr.invars.forEach((v, i) => {
    env.set(v, primals[i]!);
    const t = tangents[i];
    if (t) tenv.set(v, t);
  });
  for (const e of jaxpr.eqns) {
    const ins = e.inputs.map(read);
    const tins = e.inputs.map(readT);
    // An equation no tangent reaches is copied as it is; what its rule emits derives from it,
    // except the equations recomputing its primal outputs, which are the forward equation again.
    const mark = traceMark();
    const [outs, touts] = tins.every((t) => t === null)
      ? [withOrigin(e.source, e.derivedFrom, () => bind(e.primitive, ins, e.params)), []]
      : withOrigin(e.source, derivedVia(e, jaxpr, "jvp"), () => requireRule(e.primitive, "jvp", e.source)(ins, tins, e.params));
    if (touts.length) relabelProducers(mark, outs, e.derivedFrom);
    e.outputs.forEach((v, i) => {
      env.set(v, outs[i]!);
      const t = touts[i];
      if (t && isFloat(v.aval.dtype)) tenv.set(v, t);
    });
  }
  return [jaxpr.outvars.map(read), jaxpr.outvars.map(readT)];
};

interface JvpRewrite {
  jaxpr: Jaxpr;
  /** Which outputs got a non-zero tangent (before zeros were instantiated). */
  outNonzeros: readonly boolean[];
}

/** The jvp of a jaxpr, once per jaxpr and tangent mask (see memo.ts). */
const jvpRewrite = memoOnJaxpr((jaxpr: Jaxpr, nonzeros: readonly boolean[]): JvpRewrite => {
  const n = jaxpr.invars.length;
  const tanAvals = jaxpr.inAvals.filter((_, i) => nonzeros[i]);
  let outNonzeros: boolean[] = [];
  const jj = traceToJaxpr(
    (...args) => {
      let k = n;
      const tangents = nonzeros.map((nz) => (nz ? args[k++]! : null));
      const [outs, touts] = jvpEval(jaxpr, args.slice(0, n), tangents);
      outNonzeros = touts.map((t) => t !== null);
      return [...outs, ...touts.map((t, i) => t ?? zerosOf(tangentAval(outs[i]!.aval) ?? outs[i]!.aval))];
    },
    [...jaxpr.inAvals, ...tanAvals],
    "rewrite",
  );
  return { jaxpr: jj, outNonzeros: Object.freeze(outNonzeros) };
}, maskKey);

/**
 * `jvpJaxpr(j, nonzeros)`: a jaxpr taking `(primals..., tangents of the nonzero inputs...)`
 * and returning `(primal outs..., tangent outs...)`, zero tangents instantiated.
 */
export const jvpJaxpr = (jaxpr: Jaxpr, nonzeros: readonly boolean[]): Jaxpr => jvpRewrite(jaxpr, nonzeros).jaxpr;

/**
 * Flattens user tangents and checks them against the flat primals: same structure and
 * shapes; each tangent takes its primal's dtype (JS numbers count as floats).
 */
export const matchTangents = (op: string, tangents: unknown, inTree: TreeDef, flatIn: readonly ArrayBase[]): ArrayBase[] => {
  const [flatT, tTree] = flattenArgs(op, tangents as unknown[], true);
  if (!fitsPrimalStructure(inTree, tTree)) {
    throw new ValueError(`tangents have structure ${treedefToString(tTree)} but primals have ${treedefToString(inTree)}`, { op });
  }
  return flatT.map((t, i) => {
    const p = flatIn[i]!;
    if (t.shape.join() !== p.shape.join()) {
      throw new ValueError(`tangent ${i} has shape [${t.shape.join(", ")}] but its primal has shape [${p.shape.join(", ")}]`, { op });
    }
    return t.dtype === p.dtype ? t : convertElementType(t, p.dtype);
  });
};

/**
 * `jvp(f, primals, tangents)` -> `[out, tangentOut]`: forward-mode derivative of `f` at
 * `primals` along `tangents` (pytrees of the same structure). With `{ hasAux: true }`, `f`
 * returns `[out, aux]` and `jvp` returns `[out, tangentOut, aux]`, as
 * `jax.jvp(f, primals, tangents, has_aux=True)`.
 */
export function jvp<Out = any>(f: (...args: any[]) => Out, primals: readonly unknown[], tangents: readonly unknown[], options?: { hasAux?: false }): [Out, Out];
export function jvp(f: (...args: any[]) => unknown, primals: readonly unknown[], tangents: readonly unknown[], options: { hasAux: boolean }): [any, any, any];
export function jvp(f: (...args: any[]) => unknown, primals: readonly unknown[], tangents: readonly unknown[], options: { hasAux?: boolean } = {}): [unknown, unknown, unknown?] {
  const op = "jvp";
  if (!Array.isArray(primals) || !Array.isArray(tangents)) {
    throw new ValueError("primals and tangents must be arrays (tuples) of arguments", { op, hint: "jvp(f, [x], [t])" });
  }
  if (options === null || typeof options !== "object" || Object.keys(options).some((k) => k !== "hasAux") || (options.hasAux !== undefined && typeof options.hasAux !== "boolean")) {
    throw new ValueError(`options must be { hasAux?: boolean }, got ${describeValue(options)}`, { op, hint: "jvp(f, [x], [t], { hasAux: true })" });
  }
  if (!options.hasAux) return jvpPlain(op, f, primals, tangents);
  const g = (...args: unknown[]) => {
    const out = f(...args);
    if (!Array.isArray(out) || out.length !== 2) {
      throw new TransformError(`with hasAux: true the function must return a pair [value, aux], but it returned ${Array.isArray(out) ? `an array of length ${out.length}` : typeof out}`, { op, hint: "return [out, aux], or drop hasAux" });
    }
    // aux is not differentiated: behind stopGradient its tangent is a symbolic zero.
    return [out[0], tree.map((l: unknown) => (l instanceof ArrayBase ? stopGradient(l) : l), out[1])];
  };
  const [[out, aux], [tangentOut]] = jvpPlain(op, g, primals, tangents) as [[unknown, unknown], [unknown, unknown]];
  return [out, tangentOut, aux];
}

const jvpPlain = <Out>(op: string, f: (...args: any[]) => Out, primals: readonly unknown[], tangents: readonly unknown[]): [Out, Out] => {
  const [flatIn, inTree] = flattenArgs(op, primals, true);
  const { jaxpr, outTree } = traceFlat(op, f, inTree, flatIn);
  const nonzeros = jaxpr.inAvals.map((a) => tangentAval(a) !== null);
  const jj = jvpJaxpr(jaxpr, nonzeros);
  const ts = matchTangents(op, tangents, inTree, flatIn).filter((_, i) => nonzeros[i]);
  const outs = evalJaxpr(jj, [...flatIn, ...ts]);
  const m = jaxpr.outvars.length;
  return [unflatten<Out>(outTree, outs.slice(0, m)), unflatten<Out>(outTree, outs.slice(m))];
};

/**
 * Which outputs of `jaxpr` get a non-zero tangent when the inputs marked in `nonzeros` have
 * one. It comes with the jvp itself, which a rule asks for next (one rewrite serves both).
 */
export const jvpOutNonzeros = (jaxpr: Jaxpr, nonzeros: readonly boolean[]): boolean[] => jvpRewrite(jaxpr, nonzeros).outNonzeros.slice();
