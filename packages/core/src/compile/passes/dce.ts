/**
 * Dead-code elimination for compilation: drops equations nothing reads (effectful ones
 * always stay), and goes into higher-order equations: a call (jit, checkpoint) loses the
 * outputs nobody reads and the inputs its body then no longer needs; a scan loses unused
 * stacked outputs and carries that feed nothing live; a cond loses unused outputs in every
 * branch. Rules live in a table keyed by primitive, as JAX's `dce_rules`: passes never
 * switch on primitive names. Extends `transforms/dce.ts`, which partial evaluation uses.
 */
import { isEffectful } from "../../ir/effects.js";
import { type Atom, Eqn, Jaxpr, type Var } from "../../ir/jaxpr.js";
import type { Primitive } from "../../ir/primitive.js";
import { checkpointP } from "../../higher/checkpoint.js";
import { condP } from "../../higher/control/cond.js";
import { scanP, type ScanParams } from "../../higher/control/scan.js";
import { isVar, mapSubJaxprs } from "./rewrite.js";

/** A DCE rule: given which outputs of `eqn` are read, the equation to keep (null: drop it) and which of `eqn`'s inputs it still reads. */
export type DceRule = (eqn: Eqn, usedOutputs: boolean[]) => { eqn: Eqn | null; usedInputs: boolean[] };

export const dceRules = new Map<Primitive, DceRule>();

/** DCE of `jaxpr` with only the outputs marked in `usedOutputs` (default all); returns the jaxpr and which invars it reads. */
export const dceJaxpr = (jaxpr: Jaxpr, usedOutputs?: readonly boolean[], pruneInvars = false): { jaxpr: Jaxpr; usedInputs: boolean[] } => {
  const outvars = usedOutputs ? jaxpr.outvars.filter((_, i) => usedOutputs[i]) : jaxpr.outvars;
  const live = new Set<Var>();
  for (const a of outvars) if (isVar(a)) live.add(a);
  const kept: Eqn[] = [];
  let changed = outvars.length !== jaxpr.outvars.length;
  for (let k = jaxpr.eqns.length - 1; k >= 0; k--) {
    const e = jaxpr.eqns[k]!;
    const used = e.outputs.map((v) => live.has(v));
    if (!used.some(Boolean) && !isEffectful(e)) {
      changed = true;
      continue;
    }
    const rule = dceRules.get(e.primitive);
    let ne: Eqn | null = e;
    let usedIn: boolean[];
    if (rule) {
      const r = rule(e, used);
      ne = r.eqn;
      usedIn = r.usedInputs;
    } else {
      const params = mapSubJaxprs(e.params, (j) => dce(j));
      if (params !== e.params) ne = new Eqn(e.primitive, e.inputs, params, e.outputs, e.source, e.derivedFrom);
      usedIn = e.inputs.map(() => true);
    }
    if (ne !== e) changed = true;
    if (!ne) continue;
    kept.push(ne);
    e.inputs.forEach((a, i) => usedIn[i] && isVar(a) && live.add(a));
  }
  kept.reverse();
  const usedInputs = jaxpr.invars.map((v) => live.has(v));
  const constIdx = jaxpr.constvars.map((_, i) => i).filter((i) => live.has(jaxpr.constvars[i]!));
  const invars = pruneInvars ? jaxpr.invars.filter((_, i) => usedInputs[i]) : jaxpr.invars;
  if (!changed && constIdx.length === jaxpr.constvars.length && invars.length === jaxpr.invars.length) return { jaxpr, usedInputs };
  return {
    jaxpr: new Jaxpr(
      constIdx.map((i) => jaxpr.constvars[i]!),
      constIdx.map((i) => jaxpr.consts[i]!),
      invars,
      kept,
      outvars,
    ),
    usedInputs,
  };
};

/** The DCE pass: a copy of `jaxpr` computing its outputs with no dead equation, sub-jaxprs included. */
export const dce = (jaxpr: Jaxpr): Jaxpr => dceJaxpr(jaxpr).jaxpr;

const pick = <T>(xs: readonly T[], mask: readonly boolean[]): T[] => xs.filter((_, i) => mask[i]);

/** The DCE rule of a call-like primitive whose `jaxpr` param maps its inputs to its outputs. */
export const callDceRule: DceRule = (eqn, used) => {
  const sub = (eqn.params as { jaxpr: Jaxpr }).jaxpr;
  const r = dceJaxpr(sub, used, true);
  if (!used.some(Boolean) && !r.jaxpr.eqns.some(isEffectful)) return { eqn: null, usedInputs: eqn.inputs.map(() => false) };
  if (r.jaxpr === sub && used.every(Boolean) && r.usedInputs.every(Boolean)) return { eqn, usedInputs: r.usedInputs };
  const ne = new Eqn(eqn.primitive, pick(eqn.inputs, r.usedInputs), { ...eqn.params, jaxpr: r.jaxpr }, pick(eqn.outputs, used), eqn.source, eqn.derivedFrom);
  return { eqn: ne, usedInputs: r.usedInputs };
};
dceRules.set(checkpointP, callDceRule);

dceRules.set(condP, (eqn, used) => {
  const { branches } = eqn.params as unknown as { branches: readonly Jaxpr[] };
  let usedOps = new Array<boolean>(eqn.inputs.length - 1).fill(false);
  for (const b of branches) dceJaxpr(b, used).usedInputs.forEach((u, i) => (usedOps[i] = usedOps[i] || u));
  const ds = branches.map((b) => dceJaxpr(b, used).jaxpr);
  if (ds.every((d, k) => d === branches[k]) && usedOps.every(Boolean)) return { eqn, usedInputs: [true, ...usedOps] };
  const nb = ds.map((d) => new Jaxpr(d.constvars, d.consts, pick(d.invars, usedOps), d.eqns, d.outvars));
  const ne = new Eqn(condP, [eqn.inputs[0]!, ...pick(eqn.inputs.slice(1), usedOps)], { ...eqn.params, branches: nb }, pick(eqn.outputs, used), eqn.source, eqn.derivedFrom);
  return { eqn: ne, usedInputs: [true, ...usedOps] };
});

dceRules.set(scanP, (eqn, used) => {
  const p = eqn.params as unknown as ScanParams;
  const { jaxpr, num_consts: nc, num_carry: ncar } = p;
  const carryUsed = used.slice(0, ncar);
  const ysUsed = used.slice(ncar);
  let r: { jaxpr: Jaxpr; usedInputs: boolean[] };
  // A carry stays when it is read after the loop or feeds something live inside it (fixpoint).
  for (;;) {
    r = dceJaxpr(jaxpr, [...carryUsed, ...ysUsed]);
    let grew = false;
    for (let i = 0; i < ncar; i++) {
      if (r.usedInputs[nc + i] && !carryUsed[i]) {
        carryUsed[i] = true;
        grew = true;
      }
    }
    if (!grew) break;
  }
  const body = r.jaxpr;
  const keepIn = jaxpr.invars.map((_, i) => (i < nc ? r.usedInputs[i]! : i < nc + ncar ? carryUsed[i - nc]! : r.usedInputs[i]!));
  if (body === jaxpr && carryUsed.every(Boolean) && ysUsed.every(Boolean) && keepIn.every(Boolean)) return { eqn, usedInputs: keepIn };
  const keepOutVars: Atom[] = body.outvars; // already filtered to [used carries..., used ys...]
  const nb = new Jaxpr(body.constvars, body.consts, pick(jaxpr.invars, keepIn), body.eqns, keepOutVars);
  const effectful = nb.eqns.some(isEffectful);
  if (!carryUsed.some(Boolean) && !ysUsed.some(Boolean) && !effectful) return { eqn: null, usedInputs: eqn.inputs.map(() => false) };
  const ne = new Eqn(
    scanP,
    pick(eqn.inputs, keepIn),
    { ...p, jaxpr: nb, num_consts: keepIn.slice(0, nc).filter(Boolean).length, num_carry: carryUsed.filter(Boolean).length },
    [...pick(eqn.outputs.slice(0, ncar), carryUsed), ...pick(eqn.outputs.slice(ncar), ysUsed)],
    eqn.source,
    eqn.derivedFrom,
  );
  return { eqn: ne, usedInputs: keepIn };
});
