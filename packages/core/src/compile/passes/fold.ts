/**
 * Constant folding: an equation whose inputs are all known (literals, or constants that
 * are concrete arrays) is evaluated once at compile time. A scalar result becomes a
 * literal, a larger one a new constant. Results bigger than their inputs (a broadcast of a
 * scalar to a large shape, an iota) are left to run, so folding never bloats the program;
 * effectful and higher-order equations are never folded.
 */
import { NDArray, bufferOf } from "../../array.js";
import { type Atom, type Eqn, Jaxpr, Literal, Var } from "../../ir/jaxpr.js";
import type { ArrayBase } from "../../array.js";
import { scalar } from "../../primitives/common.js";
import { Renamer, hasSubJaxprs, isVar, mapEqnsSubJaxprs } from "./rewrite.js";

/** Results up to this many elements are always folded; larger ones only when no bigger than an input. */
const SMALL = 64;

export const foldConstants = (jaxpr: Jaxpr): Jaxpr => {
  const inner = mapEqnsSubJaxprs(jaxpr, foldConstants);
  const known = new Map<Var, NDArray>();
  inner.constvars.forEach((v, i) => {
    const c = inner.consts[i];
    if (c instanceof NDArray) known.set(v, c);
  });
  const valueOf = (a: Atom): NDArray | undefined => (isVar(a) ? known.get(a) : scalar(a.value, a.aval.dtype));
  const ren = new Renamer();
  const constvars = inner.constvars.slice();
  const consts: ArrayBase[] = inner.consts.slice();
  const eqns: Eqn[] = [];
  let folded = false;
  for (const e0 of inner.eqns) {
    const e = ren.eqn(e0);
    const vals = e.inputs.map(valueOf);
    const maxIn = Math.max(1, ...e.inputs.map((a) => a.aval.size));
    const foldable =
      !e.primitive.effectful &&
      !hasSubJaxprs(e) &&
      vals.every((v) => v !== undefined) &&
      e.outputs.every((v) => v.aval.size <= SMALL || v.aval.size <= maxIn);
    if (!foldable) {
      eqns.push(e);
      continue;
    }
    let outs: NDArray[];
    try {
      outs = e.primitive.impl(vals as NDArray[], e.params);
    } catch {
      eqns.push(e); // an op that fails on these values fails at run time, with its own error
      continue;
    }
    folded = true;
    e.outputs.forEach((v, i) => {
      const x = outs[i]!;
      if (v.aval.ndim === 0) {
        ren.set(v, new Literal(bufferOf(x)[0]!, v.aval));
      } else {
        const c = new Var(v.aval);
        constvars.push(c);
        consts.push(x);
        known.set(c, x);
        ren.set(v, c);
      }
    });
  }
  if (!folded && inner === jaxpr) return jaxpr;
  // Folding may leave constants unread; DCE (run after) drops them.
  return new Jaxpr(constvars, consts, inner.invars, eqns, inner.outvars.map(ren.read));
};
