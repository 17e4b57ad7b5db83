/**
 * Partial evaluation: splits a jaxpr whose inputs are partly known into a known jaxpr
 * (computable now) and an unknown jaxpr (computable later), connected by residuals.
 * Linearize is jvp followed by this split with the tangents unknown.
 */
import { type Eqn, Jaxpr, type Var } from "../ir/jaxpr.js";
import { dce } from "./dce.js";

export interface PartialEvalOutput {
  /** Known inputs -> (known outputs..., residuals...). */
  known: Jaxpr;
  /** (residuals..., unknown inputs...) -> unknown outputs. */
  unknown: Jaxpr;
  /** Which outputs of the original jaxpr the unknown jaxpr computes. */
  outUnknowns: boolean[];
  numResiduals: number;
}

const isVar = (a: unknown): a is Var => !("value" in (a as object));

/**
 * Splits `jaxpr` given which inputs are unknown. Outputs listed in `instantiate` are made
 * outputs of the unknown jaxpr even when they are known (read there as residuals).
 */
export const partialEvalJaxpr = (jaxpr: Jaxpr, unknowns: readonly boolean[], instantiate: readonly boolean[] | boolean = false): PartialEvalOutput => {
  const unknown = new Set<Var>(jaxpr.invars.filter((_, i) => unknowns[i]));
  const knownEqns: Eqn[] = [];
  const unknownEqns: Eqn[] = [];
  for (const e of jaxpr.eqns) {
    const unk = e.inputs.map((a) => isVar(a) && unknown.has(a));
    if (!unk.some(Boolean)) {
      knownEqns.push(e);
      continue;
    }
    const split = e.primitive.partialEval?.(e, unk);
    if (split) {
      knownEqns.push(...split.known);
      unknownEqns.push(...split.unknown);
      e.outputs.forEach((v, i) => split.outUnknowns[i] && unknown.add(v));
    } else {
      unknownEqns.push(e);
      e.outputs.forEach((v) => unknown.add(v));
    }
  }
  const inst = jaxpr.outvars.map((_, i) => (typeof instantiate === "boolean" ? instantiate : instantiate[i]!));
  const outUnknowns = jaxpr.outvars.map((a, i) => (isVar(a) && unknown.has(a)) || inst[i]!);

  // Residuals: known vars (not constants, which the unknown side can hold itself) read by the unknown side.
  const constSet = new Set(jaxpr.constvars);
  const residuals: Var[] = [];
  const seen = new Set<Var>();
  const needResidual = (a: unknown) => {
    if (isVar(a) && !unknown.has(a) && !constSet.has(a) && !seen.has(a)) {
      seen.add(a);
      residuals.push(a);
    }
  };
  unknownEqns.forEach((e) => e.inputs.forEach(needResidual));
  jaxpr.outvars.forEach((a, i) => outUnknowns[i] && needResidual(a));

  const knownOuts = jaxpr.outvars.filter((_, i) => !outUnknowns[i]);
  const known = dce(new Jaxpr(jaxpr.constvars, jaxpr.consts, jaxpr.invars.filter((_, i) => !unknowns[i]), knownEqns, [...knownOuts, ...residuals]));
  const unknownJaxpr = dce(
    new Jaxpr(jaxpr.constvars, jaxpr.consts, [...residuals, ...jaxpr.invars.filter((_, i) => unknowns[i])], unknownEqns, jaxpr.outvars.filter((_, i) => outUnknowns[i])),
  );
  return { known, unknown: unknownJaxpr, outUnknowns, numResiduals: residuals.length };
};
