/**
 * Higher-order primitives carry sub-jaxprs in their params, and params must hold no
 * values: a sub-jaxpr's constants (concrete arrays, or tracers of an enclosing trace) are
 * hoisted into explicit inputs of the equation. That also makes closed-over values
 * differentiable like any other input.
 */
import type { ArrayBase } from "../array.js";
import { ValueError } from "../errors.js";
import { Jaxpr } from "../ir/jaxpr.js";
import type { Primitive } from "../ir/primitive.js";
import { bind } from "../trace.js";

/** The same jaxpr with its constvars turned into leading invars. */
export const hoistConsts = (j: Jaxpr): Jaxpr =>
  j.constvars.length === 0 ? j : new Jaxpr([], [], [...j.constvars, ...j.invars], j.eqns, j.outvars);

/** Binds `prim` on `args` with `jaxpr` (consts hoisted to leading inputs) in its params. */
export const bindWithJaxpr = (prim: Primitive, jaxpr: Jaxpr, args: readonly ArrayBase[], params: Record<string, unknown> = {}): ArrayBase[] =>
  bind(prim, [...jaxpr.consts, ...args], { jaxpr: hoistConsts(jaxpr), ...params });

/** abstractEval of a primitive that runs its `jaxpr` param on its inputs. */
export const callAbstractEval = (op: string, avals: readonly { equals(o: any): boolean; toString(): string }[], jaxpr: Jaxpr) => {
  if (avals.length !== jaxpr.invars.length) {
    throw new ValueError(`takes ${jaxpr.invars.length} inputs but got ${avals.length}`, { op });
  }
  avals.forEach((a, i) => {
    if (!a.equals(jaxpr.invars[i]!.aval)) {
      throw new ValueError(`input ${i} has type ${a} but the sub-jaxpr expects ${jaxpr.invars[i]!.aval}`, { op });
    }
  });
  return jaxpr.outAvals;
};
