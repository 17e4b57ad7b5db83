/** Dead-code elimination: drops equations whose outputs nothing reads. */
import { Jaxpr, type Var } from "../ir/jaxpr.js";

/** A copy of `jaxpr` keeping only what its outputs need (effectful equations always stay). */
export const dce = (jaxpr: Jaxpr): Jaxpr => {
  const live = new Set<Var>();
  for (const a of jaxpr.outvars) if (!("value" in a)) live.add(a);
  const kept = [];
  for (let k = jaxpr.eqns.length - 1; k >= 0; k--) {
    const e = jaxpr.eqns[k]!;
    if (e.primitive.effectful || e.outputs.some((v) => live.has(v))) {
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
