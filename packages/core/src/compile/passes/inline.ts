/**
 * Inlining of nested calls: an equation of a call-like primitive (a nested `jit`, a
 * `checkpoint`, a custom-derivative call: at run time each just evaluates its jaxpr) is
 * replaced by its body's equations, so the later passes and fusion see across the call
 * boundary. Transforms have already run when a program is compiled, so nothing is lost.
 * Every inlined variable is fresh: one memoised body may be inlined several times.
 */
import type { ArrayBase } from "../../array.js";
import { type Atom, Eqn, Jaxpr, Var } from "../../ir/jaxpr.js";
import type { Primitive } from "../../ir/primitive.js";
import { checkpointP } from "../../higher/checkpoint.js";
import { customJvpCallP, customVjpCallP } from "../../higher/custom.js";
import { Renamer, mapEqnsSubJaxprs } from "./rewrite.js";

/** Primitives whose equation computes `params.jaxpr` on its inputs and nothing else. */
export const inlinablePrimitives = new Set<Primitive>([checkpointP, customJvpCallP, customVjpCallP]);

export const inlineCalls = (jaxpr: Jaxpr): Jaxpr => {
  const inner = mapEqnsSubJaxprs(jaxpr, inlineCalls);
  if (!inner.eqns.some((e) => inlinablePrimitives.has(e.primitive))) return inner;
  const ren = new Renamer();
  const constvars = inner.constvars.slice();
  const consts: ArrayBase[] = inner.consts.slice();
  const eqns: Eqn[] = [];
  const splice = (e: Eqn) => {
    const body = inlineCalls((e.params as { jaxpr: Jaxpr }).jaxpr);
    const local = new Renamer();
    body.constvars.forEach((v, i) => {
      const c = new Var(v.aval);
      constvars.push(c);
      consts.push(body.consts[i]!);
      local.set(v, c);
    });
    body.invars.forEach((v, i) => local.set(v, e.inputs[i]!));
    for (const be of body.eqns) {
      const outs = be.outputs.map((v) => {
        const n = new Var(v.aval);
        local.set(v, n);
        return n;
      });
      eqns.push(new Eqn(be.primitive, be.inputs.map(local.read), be.params, outs, be.source, be.derivedFrom));
    }
    body.outvars.forEach((a: Atom, i) => ren.set(e.outputs[i]!, local.read(a)));
  };
  for (const e0 of inner.eqns) {
    const e = ren.eqn(e0);
    if (inlinablePrimitives.has(e.primitive)) splice(e);
    else eqns.push(e);
  }
  return new Jaxpr(constvars, consts, inner.invars, eqns, inner.outvars.map(ren.read));
};
