/**
 * Common-subexpression elimination: two pure equations applying one primitive with equal
 * params to the same inputs compute the same values, so the second is dropped and its
 * outputs read from the first. Effectful equations (debug callbacks) are never merged.
 * Runs inside sub-jaxprs too, each body on its own.
 */
import { isEffectful } from "../../ir/effects.js";
import { Jaxpr, type Var } from "../../ir/jaxpr.js";
import type { Eqn } from "../../ir/jaxpr.js";
import { Renamer, identityOf, isVar, mapEqnsSubJaxprs, paramsKey } from "./rewrite.js";

const atomKey = (a: Eqn["inputs"][number]): string => (isVar(a) ? `v${identityOf(a)}` : `l${a.value}:${a.aval}`);

export const cse = (jaxpr: Jaxpr): Jaxpr => {
  const inner = mapEqnsSubJaxprs(jaxpr, cse);
  const ren = new Renamer();
  const seen = new Map<string, Eqn>();
  const paramKeys = new WeakMap<object, string>();
  const eqns: Eqn[] = [];
  for (const e0 of inner.eqns) {
    const e = ren.eqn(e0);
    if (isEffectful(e)) {
      eqns.push(e);
      continue;
    }
    let pk = paramKeys.get(e.params);
    if (pk === undefined) {
      pk = paramsKey(e.params);
      paramKeys.set(e.params, pk);
    }
    const key = `${e.primitive.name}|${e.inputs.map(atomKey).join(",")}|${pk}`;
    const prev = seen.get(key);
    if (prev && prev.primitive === e.primitive && prev.outputs.every((v, i) => v.aval.equals(e.outputs[i]!.aval))) {
      e.outputs.forEach((v: Var, i) => ren.set(v, prev.outputs[i]!));
      continue;
    }
    seen.set(key, e);
    eqns.push(e);
  }
  if (ren.size === 0 && inner === jaxpr) return jaxpr;
  return new Jaxpr(inner.constvars, inner.consts, inner.invars, eqns, inner.outvars.map(ren.read));
};
