/**
 * Partial evaluation: splits a jaxpr whose inputs are partly known into a known jaxpr
 * (computable now) and an unknown jaxpr (computable later), connected by residuals.
 * Linearize is jvp followed by this split with the tangents unknown.
 */
import { Eqn, Jaxpr, Var } from "../ir/jaxpr.js";
import { dce } from "./dce.js";
import { identityKey, maskKey, memoOnJaxpr } from "./memo.js";

/** What {@link partialEvalJaxpr} returns: the known and unknown halves, connected by residuals. */
export interface PartialEvalOutput {
  /** Known inputs -> (known outputs..., residuals...). */
  known: Jaxpr;
  /** (residuals..., unknown inputs...) -> unknown outputs. */
  unknown: Jaxpr;
  /** Which outputs of the original jaxpr the unknown jaxpr computes. */
  outUnknowns: boolean[];
  /** How many residuals `known` returns after the known outputs. */
  numResiduals: number;
}

const isVar = (a: unknown): a is Var => !("value" in (a as object));

const partialEvalUncached = (jaxpr: Jaxpr, unknowns: readonly boolean[], instantiate: readonly boolean[] | boolean = false): PartialEvalOutput => {
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
  return { known, unknown: unknownJaxpr, outUnknowns: Object.freeze(outUnknowns) as boolean[], numResiduals: residuals.length };
};

const instantiateKey = (instantiate: readonly boolean[] | boolean = false): string => (typeof instantiate === "boolean" ? String(instantiate) : maskKey(instantiate));

/**
 * Splits `jaxpr` given which inputs are unknown. Outputs listed in `instantiate` are made
 * outputs of the unknown jaxpr even when they are known (read there as residuals).
 * Once per jaxpr and signature (see memo.ts); the result is shared, so it is read-only.
 */
export const partialEvalJaxpr: (jaxpr: Jaxpr, unknowns: readonly boolean[], instantiate?: readonly boolean[] | boolean) => PartialEvalOutput = memoOnJaxpr(
  partialEvalUncached,
  (unknowns, instantiate) => `${maskKey(unknowns)}|${instantiateKey(instantiate)}`,
);

export interface RematPartialEvalOutput {
  /** Known inputs -> (known outputs..., saved residuals...). */
  known: Jaxpr;
  /** (known inputs it reads..., saved residuals..., unknown inputs...) -> unknown outputs. */
  unknown: Jaxpr;
  outUnknowns: boolean[];
  /** Indices (among all invars) of the known inputs the unknown side reads. */
  knownInputsRead: number[];
  /** Number of saved residuals (outputs of `known` after the known outputs). */
  numSaved: number;
}

/**
 * A recomputed equation with the outputs that are also saved renamed to fresh (unread)
 * variables: one equation can yield both a value the policy saves and one it recomputes
 * (a scan's stacked residuals), and the saved one is already bound as an input.
 */
const withoutSaved = (e: Eqn, saved: ReadonlySet<Var>): Eqn =>
  e.outputs.some((v) => saved.has(v))
    ? new Eqn(e.primitive, e.inputs, e.params, e.outputs.map((v) => (saved.has(v) ? new Var(v.aval) : v)), e.source, e.derivedFrom)
    : e;

/**
 * Partial evaluation for rematerialisation (checkpoint). Like {@link partialEvalJaxpr},
 * but a known value the unknown side needs is saved only when `saveable(eqn)` says so for
 * the equation producing it; otherwise that equation (and what it needs, recursively) is
 * copied into the unknown side and recomputed there from the known inputs.
 */
const partialEvalRematUncached = (
  jaxpr: Jaxpr,
  unknowns: readonly boolean[],
  saveable: (e: Eqn) => boolean,
  instantiate: readonly boolean[] | boolean = false,
): RematPartialEvalOutput => {
  // Constants (concrete arrays) are available to both sides; neither saved nor recomputed.
  const constSet = new Set<Var>(jaxpr.constvars);
  const unknown = new Set<Var>(jaxpr.invars.filter((_, i) => unknowns[i]));
  const producer = new Map<Var, Eqn>();
  const unknownEqns = new Set<Eqn>();
  // Equations in order, with partly-known higher-order ones (scan, cond, while, a nested
  // checkpoint) replaced by their known and unknown halves, so their primal outputs stay
  // known; the known half is then saved or recomputed like any other equation.
  const eqns: Eqn[] = [];
  const ruleResiduals = new Set<Var>();
  const addKnown = (e: Eqn) => {
    eqns.push(e);
    e.outputs.forEach((v) => producer.set(v, e));
  };
  const addUnknown = (e: Eqn) => {
    eqns.push(e);
    unknownEqns.add(e);
    e.outputs.forEach((v) => unknown.add(v));
  };
  for (const e of jaxpr.eqns) {
    const unk = e.inputs.map((a) => isVar(a) && unknown.has(a));
    if (!unk.some(Boolean)) {
      addKnown(e);
      continue;
    }
    const split = e.primitive.partialEval?.(e, unk, saveable);
    if (split) {
      // Residuals the rule saved under this policy (e.g. a named value of every scan step) are kept.
      split.policySaved?.forEach((v) => ruleResiduals.add(v));
      split.known.forEach(addKnown);
      split.unknown.forEach(addUnknown);
    } else addUnknown(e);
  }
  const invarIndex = new Map(jaxpr.invars.map((v, i) => [v, i] as const));
  const knownInputsRead = new Set<number>();
  const saved: Var[] = [];
  const savedSet = new Set<Var>();
  const recompute = new Set<Eqn>();
  const need = (a: unknown): void => {
    if (!isVar(a) || unknown.has(a) || constSet.has(a)) return;
    const idx = invarIndex.get(a);
    if (idx !== undefined) {
      knownInputsRead.add(idx);
      return;
    }
    const e = producer.get(a)!;
    if (ruleResiduals.has(a) || saveable(e)) {
      if (!savedSet.has(a)) {
        savedSet.add(a);
        saved.push(a);
      }
    } else if (!recompute.has(e)) {
      recompute.add(e);
      e.inputs.forEach(need);
    }
  };
  const inst = jaxpr.outvars.map((_, i) => (typeof instantiate === "boolean" ? instantiate : instantiate[i]!));
  // An instantiated known output is read by the unknown side like any other known value.
  const outUnknowns = jaxpr.outvars.map((a, i) => (isVar(a) && unknown.has(a)) || inst[i]!);
  for (const e of eqns) if (unknownEqns.has(e)) e.inputs.forEach(need);
  jaxpr.outvars.forEach((a, i) => outUnknowns[i] && need(a));
  const read = [...knownInputsRead].sort((a, b) => a - b);
  const knownEqns = eqns.filter((e) => !unknownEqns.has(e));
  const known = dce(
    new Jaxpr(jaxpr.constvars, jaxpr.consts, jaxpr.invars.filter((_, i) => !unknowns[i]), knownEqns, [...jaxpr.outvars.filter((_, i) => !outUnknowns[i]), ...saved]),
  );
  const unknownJaxpr = dce(
    new Jaxpr(
      jaxpr.constvars,
      jaxpr.consts,
      [...read.map((i) => jaxpr.invars[i]!), ...saved, ...jaxpr.invars.filter((_, i) => unknowns[i])],
      eqns.filter((e) => unknownEqns.has(e) || recompute.has(e)).map((e) => (recompute.has(e) ? withoutSaved(e, savedSet) : e)),
      jaxpr.outvars.filter((_, i) => outUnknowns[i]),
    ),
  );
  return { known, unknown: unknownJaxpr, outUnknowns: Object.freeze(outUnknowns) as boolean[], knownInputsRead: read, numSaved: saved.length };
};

/**
 * Partial evaluation for rematerialisation, once per jaxpr and signature (`saveable` by
 * identity; see memo.ts). The result is shared, so it is read-only.
 */
export const partialEvalJaxprRemat: (
  jaxpr: Jaxpr,
  unknowns: readonly boolean[],
  saveable: (e: Eqn) => boolean,
  instantiate?: readonly boolean[] | boolean,
) => RematPartialEvalOutput = memoOnJaxpr(
  partialEvalRematUncached,
  (unknowns, saveable, instantiate) => `${maskKey(unknowns)}|${identityKey(saveable)}|${instantiateKey(instantiate)}`,
);

/** {@link splitSubJaxpr} inside a checkpoint, once per jaxpr and signature. */
const splitUnderPolicy = memoOnJaxpr(
  (jaxpr: Jaxpr, unknowns: readonly boolean[], instantiate: readonly boolean[] | boolean, saveable: (e: Eqn) => boolean): PartialEvalOutput => {
    const r = partialEvalJaxprRemat(jaxpr, unknowns, saveable, instantiate);
    const nKnownOut = r.outUnknowns.filter((u) => !u).length;
    const readVars = r.knownInputsRead.map((i) => jaxpr.invars[i]!);
    const known = new Jaxpr(r.known.constvars, r.known.consts, r.known.invars, r.known.eqns, [
      ...r.known.outvars.slice(0, nKnownOut),
      ...readVars,
      ...r.known.outvars.slice(nKnownOut),
    ]);
    return { known, unknown: r.unknown, outUnknowns: r.outUnknowns, numResiduals: readVars.length + r.numSaved };
  },
  (unknowns, instantiate, saveable) => `${maskKey(unknowns)}|${identityKey(saveable)}|${instantiateKey(instantiate)}`,
);

/**
 * Splits a sub-jaxpr of a higher-order equation: plain partial evaluation, or, inside a
 * checkpoint (`saveable` given), remat partial evaluation under its policy. Either way the
 * result has the shape of {@link partialEvalJaxpr}'s: the known jaxpr outputs every
 * residual (known inputs it passes on included), and the unknown jaxpr reads them first.
 */
export const splitSubJaxpr = (
  jaxpr: Jaxpr,
  unknowns: readonly boolean[],
  instantiate: readonly boolean[] | boolean = false,
  saveable?: (e: Eqn) => boolean,
): PartialEvalOutput => (saveable ? splitUnderPolicy(jaxpr, unknowns, instantiate, saveable) : partialEvalJaxpr(jaxpr, unknowns, instantiate));
