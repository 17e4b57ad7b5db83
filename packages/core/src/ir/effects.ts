/**
 * Effects: an equation is effectful when its primitive is (`effectful: true`, e.g.
 * `debug_callback`) or when a sub-jaxpr it carries (a scan body, a cond branch, a
 * checkpointed function) holds an effectful equation. Dead-code elimination keeps effectful
 * equations even when nothing reads their outputs.
 */
import type { Eqn, Jaxpr } from "./jaxpr.js";

const jaxprEffects = new WeakMap<Jaxpr, boolean>();

/** True when some equation of `jaxpr` (at any depth) is effectful; computed once per jaxpr. */
export const jaxprIsEffectful = (jaxpr: Jaxpr): boolean => {
  let r = jaxprEffects.get(jaxpr);
  if (r === undefined) {
    r = jaxpr.eqns.some(isEffectful);
    jaxprEffects.set(jaxpr, r);
  }
  return r;
};

/** True when `eqn` must run even if nothing reads its outputs. */
export const isEffectful = (eqn: Eqn): boolean =>
  eqn.primitive.effectful === true || (eqn.primitive.subJaxprs !== undefined && eqn.primitive.subJaxprs(eqn.params).some(jaxprIsEffectful));
