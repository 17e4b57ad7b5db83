/**
 * `jit` as a higher-order primitive: an equation carrying the closed jaxpr of the jitted
 * function, like `checkpoint`, so every transform passes through it and prints it nested.
 * Its rules rewrite the carried jaxpr with the transform and bind a new `jit` equation, so
 * `grad(jit(f))` differentiates through a compiled call and stays compiled. The jaxprs a
 * rule derives are memoised per (jaxpr, rule arguments): a derived program is compiled once
 * and reused on every later call. Its `impl` runs the compiled program.
 */
import type { ArrayBase } from "../array.js";
import { Eqn, type Jaxpr, Var } from "../ir/jaxpr.js";
import { type Primitive, UndefinedPrimal, definePrimitive } from "../ir/primitive.js";
import { bindWithJaxpr, callAbstractEval } from "../higher/closed_call.js";
import { zerosOf } from "../primitives/structural.js";
import { jvpJaxpr } from "../transforms/jvp.js";
import { type PartialEvalOutput, partialEvalJaxpr, splitSubJaxpr } from "../transforms/partial_eval.js";
import { transposeJaxpr } from "../transforms/transpose.js";
import { batchJaxpr } from "../transforms/vmap.js";
import { compileJaxpr, runCompiled } from "./compile.js";
import { callDceRule, dceRules } from "./passes/dce.js";
import { inlinablePrimitives } from "./passes/inline.js";

export interface JitParams {
  jaxpr: Jaxpr;
  /** The jitted function's name, for printing and listings. */
  name: string;
}

/** Memoises `derive(jaxpr)` per jaxpr object and key. */
const memo = <T>() => {
  const table = new WeakMap<Jaxpr, Map<string, T>>();
  return (jaxpr: Jaxpr, key: string, derive: () => T): T => {
    let m = table.get(jaxpr);
    if (!m) table.set(jaxpr, (m = new Map()));
    let v = m.get(key);
    if (v === undefined) m.set(key, (v = derive()));
    return v;
  };
};
const maskKey = (m: readonly boolean[]) => m.map((b) => (b ? 1 : 0)).join("");
const jvpMemo = memo<Jaxpr>();
const transposeMemo = memo<Jaxpr>();
const batchMemo = memo<Jaxpr>();
const peMemo = memo<PartialEvalOutput>();

export const jitP: Primitive<JitParams> = definePrimitive<JitParams>({
  name: "jit",
  abstractEval: (avals, { jaxpr }) => callAbstractEval("jit", avals, jaxpr),
  impl: (args, { jaxpr }) => runCompiled(compileJaxpr(jaxpr), args),
  subJaxprs: ({ jaxpr }) => [jaxpr],
  jvp: (primals, tangents, { jaxpr, name }) => {
    const nonzeros = tangents.map((t) => t !== null);
    const jj = jvpMemo(jaxpr, maskKey(nonzeros), () => jvpJaxpr(jaxpr, nonzeros));
    const outs = bindWithJaxpr(jitP, jj, [...primals, ...(tangents.filter((t) => t !== null) as ArrayBase[])], { name: `jvp(${name})` });
    const m = jaxpr.outvars.length;
    return [outs.slice(0, m), outs.slice(m)];
  },
  transpose: (cts, inputs, { jaxpr, name }) => {
    const linear = inputs.map((x) => x instanceof UndefinedPrimal);
    const bwd = transposeMemo(jaxpr, maskKey(linear), () => transposeJaxpr(jaxpr, linear));
    const ctsIn = cts.map((c, i) => c ?? zerosOf(jaxpr.outvars[i]!.aval));
    const outs = bindWithJaxpr(jitP, bwd, [...(inputs.filter((x) => !(x instanceof UndefinedPrimal)) as ArrayBase[]), ...ctsIn], { name: `transpose(${name})` });
    let k = 0;
    return linear.map((l) => (l ? outs[k++]! : null));
  },
  batch: (args, dims, { jaxpr, name }, size) => {
    const key = `${dims.map((d) => (d === null ? "n" : d)).join(",")}|${size}`;
    const bj = batchMemo(jaxpr, key, () => batchJaxpr(jaxpr, dims, size, jaxpr.outvars.map(() => 0)));
    const outs = bindWithJaxpr(jitP, bj, args, { name: `vmap(${name})` });
    return [outs, outs.map(() => 0)];
  },
  partialEval: (eqn, unknowns, saveable) => {
    const { jaxpr, name } = eqn.params as unknown as JitParams;
    // Inside a checkpoint the policy decides what the known half may save.
    const pe = saveable ? splitSubJaxpr(jaxpr, unknowns, false, saveable) : peMemo(jaxpr, maskKey(unknowns), () => partialEvalJaxpr(jaxpr, unknowns));
    const resAvals = pe.unknown.invars.slice(0, pe.numResiduals).map((v) => v.aval);
    const residuals = resAvals.map((a) => new Var(a));
    const knownEqn = new Eqn(
      jitP,
      eqn.inputs.filter((_, i) => !unknowns[i]),
      { jaxpr: pe.known, name },
      [...eqn.outputs.filter((_, i) => !pe.outUnknowns[i]), ...residuals],
      eqn.source,
      eqn.derivedFrom,
    );
    const unknownEqn = new Eqn(
      jitP,
      [...residuals, ...eqn.inputs.filter((_, i) => unknowns[i])],
      { jaxpr: pe.unknown, name },
      eqn.outputs.filter((_, i) => pe.outUnknowns[i]),
      eqn.source,
      eqn.derivedFrom,
    );
    const computed = pe.unknown.invars.slice(0, pe.numResiduals).map((v) => !jaxpr.invars.includes(v));
    const policySaved = saveable ? residuals.filter((_, j) => computed[j]) : undefined;
    return { known: [knownEqn], unknown: [unknownEqn], outUnknowns: pe.outUnknowns, residuals, policySaved };
  },
});

dceRules.set(jitP, callDceRule);
inlinablePrimitives.add(jitP);
