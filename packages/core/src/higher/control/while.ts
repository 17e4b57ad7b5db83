/**
 * `while`: repeats a body jaxpr while a predicate jaxpr holds. Inputs are
 * `[cond_consts..., body_consts..., carry...]`. Forward mode carries tangents along;
 * reverse mode is refused with the error JAX users know (the trip count is dynamic, so
 * nothing bounds what the backward pass would have to store).
 */
import type { ArrayBase, NDArray } from "../../array.js";
import { DTypeError, ShapeError, TransformError } from "../../errors.js";
import { isEffectful } from "../../ir/effects.js";
import { Eqn, Jaxpr, Var } from "../../ir/jaxpr.js";
import { dce } from "../../transforms/dce.js";
import { partialEvalJaxpr } from "../../transforms/partial_eval.js";
import { type MaybeZero, type Primitive, definePrimitive } from "../../ir/primitive.js";
import { evalJaxpr } from "../../interpreter.js";
import { selectN } from "../../primitives/compare.js";
import { reduceOr } from "../../primitives/reduce.js";
import { broadcastInDim, moveAxis, zerosOf } from "../../primitives/structural.js";
import { bind } from "../../trace.js";
import { jvpJaxpr, jvpOutNonzeros } from "../../transforms/jvp.js";
import { batchJaxpr, batchOutDims, moveBatchAxis } from "../../transforms/vmap.js";
import { jaxprOf, requireSameTypes, splitList } from "./util.js";

export interface WhileParams {
  cond_jaxpr: Jaxpr;
  body_jaxpr: Jaxpr;
  cond_nconsts: number;
  body_nconsts: number;
}

export const whileP: Primitive<WhileParams> = definePrimitive<WhileParams>({
  name: "while",
  subJaxprs: (p) => [p.cond_jaxpr, p.body_jaxpr],
  abstractEval(avals, { cond_jaxpr, body_jaxpr, cond_nconsts: cn, body_nconsts: bn }) {
    const op = "while";
    const [cc, bc, carry] = splitList(avals, [cn, bn]);
    if (cond_jaxpr.invars.length !== cn + carry!.length || body_jaxpr.invars.length !== bn + carry!.length) {
      throw new ShapeError("the predicate and body must each take their constants and the carry", { op });
    }
    requireSameTypes(op, "the carry differs from the predicate's input", [...cc!, ...carry!], cond_jaxpr.inAvals);
    requireSameTypes(op, "the carry differs from the body's input", [...bc!, ...carry!], body_jaxpr.inAvals);
    const p = cond_jaxpr.outAvals;
    if (p.length !== 1 || p[0]!.dtype !== "bool" || p[0]!.ndim !== 0) {
      throw new DTypeError(`the predicate must return one bool scalar, got (${p.map(String).join(", ")})`, { op });
    }
    requireSameTypes(op, "the body's output differs from its carry input", body_jaxpr.outAvals, carry!);
    return carry!;
  },
  impl(args, { cond_jaxpr, body_jaxpr, cond_nconsts: cn, body_nconsts: bn }) {
    const [cc, bc, init] = splitList(args, [cn, bn]);
    let carry: ArrayBase[] = init!;
    while ((evalJaxpr(cond_jaxpr, [...cc!, ...carry])[0] as NDArray).item()) carry = evalJaxpr(body_jaxpr, [...bc!, ...carry]);
    return carry as NDArray[];
  },
  jvp(primals, tangents, { cond_jaxpr, body_jaxpr, cond_nconsts: cn, body_nconsts: bn }) {
    const [cc, bc, carry] = splitList(primals, [cn, bn]);
    const [, bcT, carryT] = splitList(tangents, [cn, bn]);
    const bcNz = bcT!.map((t) => t !== null);
    let carryNz = carryT!.map((t) => t !== null);
    for (;;) {
      const out = jvpOutNonzeros(body_jaxpr, [...bcNz, ...carryNz]);
      const next = carryNz.map((z, i) => z || out[i]!);
      if (next.every((v, i) => v === carryNz[i])) break;
      carryNz = next;
    }
    const n = carry!.length;
    const nBcNz = bcNz.filter(Boolean).length;
    const nCarNz = carryNz.filter(Boolean).length;
    const jj = jvpJaxpr(body_jaxpr, [...bcNz, ...carryNz]);
    const carryAvals = body_jaxpr.outAvals;
    const bcAvals = body_jaxpr.inAvals.slice(0, bn);
    const tanCarryAvals = carryAvals.filter((_, i) => carryNz[i]);
    // Body over [body consts, their tangents, carry, carry tangents].
    const body = jaxprOf([...bcAvals, ...bcAvals.filter((_, i) => bcNz[i]), ...carryAvals, ...tanCarryAvals], (...a) => {
      const [b, bt, c, ct] = splitList(a, [bn, nBcNz, n]);
      const outs = evalJaxpr(jj, [...b!, ...c!, ...bt!, ...ct!]);
      return [...outs.slice(0, n), ...outs.slice(n).filter((_, i) => carryNz[i])];
    });
    const ccAvals = cond_jaxpr.inAvals.slice(0, cn);
    const cond = jaxprOf([...ccAvals, ...carryAvals, ...tanCarryAvals], (...a) => evalJaxpr(cond_jaxpr, a.slice(0, cn + n)));
    const carryTIn = carryT!.map((t, i) => (carryNz[i] ? (t ?? zerosOf(carry![i]!.aval)) : null)).filter((t): t is ArrayBase => t !== null);
    const outs = bind(whileP, [...cc!, ...bc!, ...(bcT!.filter((t) => t !== null) as ArrayBase[]), ...carry!, ...carryTIn], {
      cond_jaxpr: cond,
      body_jaxpr: body,
      cond_nconsts: cn,
      body_nconsts: bn + nBcNz,
    });
    let k = n;
    return [outs.slice(0, n), carryNz.map((z): MaybeZero => (z ? outs[k++]! : null))];
  },
  partialEval(eqn, unknowns) {
    // The known carries run in a loop of their own; the unknown ones (tangents) in the whole
    // loop, whose transpose then reports that reverse mode is unsupported.
    const { cond_jaxpr, body_jaxpr, cond_nconsts: cn, body_nconsts: bn } = eqn.params as unknown as WhileParams;
    const [ccUk, bcUk, carryUk0] = splitList(unknowns, [cn, bn]);
    if (ccUk!.some(Boolean)) return null;
    let carryUk = carryUk0!;
    for (;;) {
      const out = partialEvalJaxpr(body_jaxpr, [...bcUk!, ...carryUk]).outUnknowns;
      const next = carryUk.map((u, i) => u || out[i]!);
      if (next.every((v, i) => v === carryUk[i])) break;
      carryUk = next;
    }
    const condUk = partialEvalJaxpr(cond_jaxpr, [...ccUk!, ...carryUk]).outUnknowns[0];
    if (condUk || carryUk.every(Boolean)) return null;
    const keep = (xs: readonly Var[], mask: readonly boolean[]) => xs.filter((_, i) => !mask[i]);
    const knownCond = dce(new Jaxpr(cond_jaxpr.constvars, cond_jaxpr.consts, [...cond_jaxpr.invars.slice(0, cn), ...keep(cond_jaxpr.invars.slice(cn), carryUk)], cond_jaxpr.eqns, cond_jaxpr.outvars));
    const pe = partialEvalJaxpr(body_jaxpr, [...bcUk!, ...carryUk]);
    const nKnown = carryUk.filter((u) => !u).length;
    const knownBody = dce(new Jaxpr(pe.known.constvars, pe.known.consts, pe.known.invars, pe.known.eqns, pe.known.outvars.slice(0, nKnown)));
    const [cc, bc, carry] = splitList(eqn.inputs, [cn, bn]);
    const knownEqn = new Eqn(
      whileP,
      [...cc!, ...bc!.filter((_, i) => !bcUk![i]), ...carry!.filter((_, i) => !carryUk[i])],
      { cond_jaxpr: knownCond, body_jaxpr: knownBody, cond_nconsts: cn, body_nconsts: bcUk!.filter((u) => !u).length },
      eqn.outputs.filter((_, i) => !carryUk[i]),
      eqn.source,
      eqn.derivedFrom,
    );
    // The unknown loop reruns the whole body; the effects of its known part (debug prints) already ran in the known loop.
    const knownEffects = new Set(pe.known.eqns.filter(isEffectful));
    const rerunBody = knownEffects.size ? new Jaxpr(body_jaxpr.constvars, body_jaxpr.consts, body_jaxpr.invars, body_jaxpr.eqns.filter((e) => !knownEffects.has(e)), body_jaxpr.outvars) : body_jaxpr;
    const unknownEqn = new Eqn(whileP, eqn.inputs, { ...eqn.params, body_jaxpr: rerunBody }, eqn.outputs.map((v, i) => (carryUk[i] ? v : new Var(v.aval))), eqn.source, eqn.derivedFrom);
    return { known: [knownEqn], unknown: [unknownEqn], outUnknowns: carryUk, residuals: [] };
  },
  transpose() {
    throw new TransformError(
      "reverse-mode differentiation does not work for lax.whileLoop: its trip count is only known at run time, so the backward pass cannot be built",
      { op: "lax.whileLoop", hint: "use lax.scan, or lax.foriLoop with bounds given as JS numbers (it lowers to scan); forward mode (jvp, jacfwd) does work" },
    );
  },
  batch(args, dims, { cond_jaxpr, body_jaxpr, cond_nconsts: cn, body_nconsts: bn }, size) {
    const [cc, bc, carry] = splitList(args, [cn, bn]);
    const [ccD, bcD, carryD] = splitList(dims, [cn, bn]);
    const at0 = (xs: ArrayBase[], ds: (number | null)[]) => xs.map((x, i) => (ds[i] === null ? x : moveAxis(x, ds[i]!, 0)));
    const d0 = (ds: (number | null)[]) => ds.map((d) => (d === null ? null : 0));
    let carryB = carryD!.map((d) => d !== null);
    for (;;) {
      const od = batchOutDims(body_jaxpr, [...d0(bcD!), ...carryB.map((b) => (b ? 0 : null))], size);
      const next = carryB.map((b, i) => b || od[i] !== null);
      if (next.every((v, i) => v === carryB[i])) break;
      carryB = next;
    }
    const predBatched = batchOutDims(cond_jaxpr, [...d0(ccD!), ...carryB.map((b) => (b ? 0 : null))], size)[0] !== null;
    // A batched predicate: every lane is carried batched and finished lanes stay frozen.
    if (predBatched) carryB = carryB.map(() => true);
    const carryDims = carryB.map((b) => (b ? 0 : null));
    const carryIn = carry!.map((c, i) => (carryB[i] ? moveBatchAxis(c, carryD![i] ?? null, 0, size) : c));
    const condB = batchJaxpr(cond_jaxpr, [...d0(ccD!), ...carryDims], size, [predBatched ? 0 : null]);
    const bodyB = batchJaxpr(body_jaxpr, [...d0(bcD!), ...carryDims], size, carryDims);
    let cond = condB;
    let body = bodyB;
    let condConsts = at0(cc!, ccD!);
    let bodyConsts = at0(bc!, bcD!);
    if (predBatched) {
      const carryAvals = bodyB.outAvals;
      const ccAvals = condB.inAvals.slice(0, cn);
      const bcAvals = bodyB.inAvals.slice(0, bn);
      cond = jaxprOf([...ccAvals, ...carryAvals], (...a) => [reduceOr(evalJaxpr(condB, a)[0]!, [0])]);
      // The body re-evaluates each lane's predicate and keeps finished lanes unchanged.
      body = jaxprOf([...ccAvals, ...bcAvals, ...carryAvals], (...a) => {
        const [c, b, x] = splitList(a, [cn, bn]);
        const pred = evalJaxpr(condB, [...c!, ...x!])[0]!;
        const next = evalJaxpr(bodyB, [...b!, ...x!]);
        return next.map((v, i) => selectN(broadcastInDim(pred, v.shape, [0]), x![i]!, v));
      });
      bodyConsts = [...condConsts, ...bodyConsts];
      condConsts = condConsts.slice();
    }
    const outs = bind(whileP, [...condConsts, ...bodyConsts, ...carryIn], {
      cond_jaxpr: cond,
      body_jaxpr: body,
      cond_nconsts: condConsts.length,
      body_nconsts: bodyConsts.length,
    });
    return [outs, carryDims];
  },
});
