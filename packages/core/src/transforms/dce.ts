/** Dead-code elimination: drops equations whose outputs nothing reads. */
import { isEffectful } from "../ir/effects.js";
import { Jaxpr, type Var } from "../ir/jaxpr.js";

/**
 * A copy of `jaxpr` keeping only what its outputs need. Effectful equations always stay,
 * and so do the equations they read: a higher-order equation counts as effectful when
 * one of its sub-jaxprs is (a scan whose body prints).
 */
export const dce = (jaxpr: Jaxpr): Jaxpr => {
  const live = new Set<Var>();
  for (const a of jaxpr.outvars) if (!("value" in a)) live.add(a);
  const kept = [];
  for (let k = jaxpr.eqns.length - 1; k >= 0; k--) {
    const e = jaxpr.eqns[k]!;
    if (e.outputs.some((v) => live.has(v)) || isEffectful(e)) {
      kept.push(e);
      for (const a of e.inputs) if (!("value" in a)) live.add(a);
    }
  }
  kept.reverse();
  const constIdx = jaxpr.constvars.map((_, i) => i).filter((i) => live.has(jaxpr.constvars[i]!));
  return new Jaxpr(
    constIdx.map((i) => jaxpr.constvars[i]!),
    constIdx.map((i) => jaxpr.consts[i]!),
    jaxpr.invars,
    kept,
    jaxpr.outvars,
  );
};
