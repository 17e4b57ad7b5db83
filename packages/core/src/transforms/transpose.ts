/**
 * Transposition of linear jaxprs (the backward pass). Equations that read no linear input
 * are evaluated forward first (they recompute or read residuals); then a loop over the
 * linear equations in reverse applies each primitive's transpose rule and accumulates
 * cotangents, as in Autodidax's backward_pass.
 */
import type { ArrayBase } from "../array.js";
import { TransformError } from "../errors.js";
import type { Atom, Eqn, Jaxpr, Var } from "../ir/jaxpr.js";
import { type MaybeZero, UndefinedPrimal, requireRule } from "../ir/primitive.js";
import { add } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { convertElementType, zerosOf } from "../primitives/structural.js";
import { bind, derivedVia, traceToJaxpr, withOrigin } from "../trace.js";
import { dce } from "./dce.js";
import { maskKey, memoOnJaxpr } from "./memo.js";

const isVar = (a: Atom): a is Var => !("value" in a);

/**
 * Runs the backward pass of `jaxpr`, linear in the invars marked in `linear`.
 * `nonlinear` gives the values of the other invars, `cts` the output cotangents.
 * Returns the cotangents of the linear invars (null = zero).
 */
export const backwardPass = (jaxpr: Jaxpr, linear: readonly boolean[], nonlinear: ArrayBase[], cts: MaybeZero[]): MaybeZero[] => {
  const primal = new Map<Var, ArrayBase>();
  const linearVars = new Set<Var>();
  jaxpr.constvars.forEach((v, i) => primal.set(v, jaxpr.consts[i]!));
  let k = 0;
  jaxpr.invars.forEach((v, i) => (linear[i] ? linearVars.add(v) : primal.set(v, nonlinear[k++]!)));
  const readPrimal = (a: Atom): ArrayBase => (isVar(a) ? primal.get(a)! : scalar(a.value, a.aval.dtype));

  // Forward sweep over the non-linear equations.
  const linearEqns: Eqn[] = [];
  for (const e of jaxpr.eqns) {
    if (e.inputs.some((a) => isVar(a) && linearVars.has(a))) {
      linearEqns.push(e);
      e.outputs.forEach((v) => linearVars.add(v));
    } else {
      const outs = withOrigin(e.source, e.derivedFrom, () => bind(e.primitive, e.inputs.map(readPrimal), e.params));
      e.outputs.forEach((v, i) => primal.set(v, outs[i]!));
    }
  }

  const ctEnv = new Map<Var, ArrayBase>();
  const accumulate = (v: Var, ct: MaybeZero) => {
    if (!ct) return;
    if (!ct.aval.equals(v.aval)) {
      if (ct.dtype !== v.aval.dtype && ct.aval.shape.join() === v.aval.shape.join()) ct = convertElementType(ct, v.aval.dtype);
      else throw new TransformError(`cotangent of type ${ct.aval} does not match its variable's type ${v.aval}`, { op: "transpose", source: null });
    }
    const prev = ctEnv.get(v);
    ctEnv.set(v, prev ? add(prev, ct) : ct);
  };
  jaxpr.outvars.forEach((a, i) => isVar(a) && linearVars.has(a) && accumulate(a, cts[i] ?? null));

  for (let j = linearEqns.length - 1; j >= 0; j--) {
    const e = linearEqns[j]!;
    const ctsOut = e.outputs.map((v) => {
      const c = ctEnv.get(v) ?? null;
      ctEnv.delete(v); // free each cotangent once consumed
      return c;
    });
    if (ctsOut.every((c) => c === null)) continue;
    const inputs = e.inputs.map((a) => (isVar(a) && linearVars.has(a) ? new UndefinedPrimal(a.aval) : readPrimal(a)));
    const rule = requireRule(e.primitive, "transpose", e.source);
    const ctsIn = withOrigin(e.source, derivedVia(e, jaxpr, "transpose"), () => rule(ctsOut, inputs, e.params));
    e.inputs.forEach((a, i) => {
      if (isVar(a) && linearVars.has(a)) accumulate(a, ctsIn[i] ?? null);
    });
  }
  return jaxpr.invars.filter((_, i) => linear[i]).map((v) => ctEnv.get(v) ?? null);
};

/**
 * `transposeJaxpr(j, linear)`: a jaxpr taking `(non-linear invars..., output cotangents...)`
 * and returning the cotangents of the linear invars (zeros instantiated). Once per jaxpr
 * and mask (see memo.ts).
 */
export const transposeJaxpr: (jaxpr: Jaxpr, linear: readonly boolean[]) => Jaxpr = memoOnJaxpr((jaxpr: Jaxpr, linear: readonly boolean[]): Jaxpr => {
  const nonlinAvals = jaxpr.inAvals.filter((_, i) => !linear[i]);
  const linAvals = jaxpr.inAvals.filter((_, i) => linear[i]);
  const nn = nonlinAvals.length;
  // DCE: a rule that read through a producer (mul by a broadcast's scalar) leaves it unread.
  return dce(
    traceToJaxpr(
      (...args) => {
        const cts = backwardPass(jaxpr, linear, args.slice(0, nn), args.slice(nn));
        return cts.map((c, i) => c ?? zerosOf(linAvals[i]!));
      },
      [...nonlinAvals, ...jaxpr.outAvals],
      "rewrite",
    ),
  );
}, maskKey);
