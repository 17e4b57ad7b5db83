/**
 * `cond`: picks one of several branch jaxprs by an int32 index (a bool predicate is
 * converted by `lax.cond`). Inputs are `[index, ...operands]`; every branch takes the same
 * operands and returns the same types. Under vmap with a batched index it becomes a select
 * over all branches' results.
 */
import type { ArrayBase, NDArray } from "../../array.js";
import type { ShapedArray } from "../../dtype.js";
import { DTypeError, ShapeError } from "../../errors.js";
import { Eqn, type Jaxpr, Var } from "../../ir/jaxpr.js";
import { type Primitive, UndefinedPrimal, definePrimitive } from "../../ir/primitive.js";
import { evalJaxpr } from "../../interpreter.js";
import { selectN } from "../../primitives/compare.js";
import { broadcastTo, moveAxis, reshape, zerosOf } from "../../primitives/structural.js";
import { max, min } from "../../primitives/binary.js";
import { scalar } from "../../primitives/common.js";
import { bind, withSource } from "../../trace.js";
import { jvpJaxpr } from "../../transforms/jvp.js";
import { splitSubJaxpr } from "../../transforms/partial_eval.js";
import { transposeJaxpr } from "../../transforms/transpose.js";
import { batchJaxpr } from "../../transforms/vmap.js";
import { fromHigherOrder, packResiduals, planPacking, unpackResiduals } from "./residual_pack.js";
import { jaxprOf, requireSameTypes } from "./util.js";

export interface CondParams {
  branches: readonly Jaxpr[];
}

const isLinear = (x: unknown): x is UndefinedPrimal => x instanceof UndefinedPrimal;

export const condP: Primitive<CondParams> = definePrimitive<CondParams>({
  name: "cond",
  subJaxprs: ({ branches }) => branches.slice(),
  abstractEval([index, ...ops], { branches }) {
    const op = "cond";
    if (index!.dtype !== "int32" || index!.ndim !== 0) {
      throw new DTypeError(`the branch index must be an int32 scalar, got ${index}`, { op, hint: "lax.cond takes a bool scalar predicate; lax.switch an int32 index" });
    }
    branches.forEach((b, k) => {
      if (b.invars.length !== ops.length) throw new ShapeError(`branch ${k} takes ${b.invars.length} operands but got ${ops.length}`, { op });
      requireSameTypes(op, `operands differ from branch ${k}'s inputs`, ops, b.inAvals);
      requireSameTypes(op, `branch ${k} returns other types than branch 0`, b.outAvals, branches[0]!.outAvals);
    });
    return branches[0]!.outAvals;
  },
  impl([index, ...ops], { branches }) {
    const i = Math.min(Math.max((index as NDArray).item(), 0), branches.length - 1);
    return evalJaxpr(branches[i]!, ops) as NDArray[];
  },
  jvp([index, ...ops], [, ...ts], { branches }) {
    const nz = ts.map((t) => t !== null);
    const outs = bind(condP, [index!, ...ops, ...(ts.filter((t) => t !== null) as ArrayBase[])], { branches: branches.map((b) => jvpJaxpr(b, nz)) });
    const m = branches[0]!.outvars.length;
    return [outs.slice(0, m), outs.slice(m)];
  },
  partialEval(eqn, unknowns, saveable) {
    if (unknowns[0]) return null; // an unknown index makes the whole cond unknown
    const { branches } = eqn.params as unknown as CondParams;
    const opsUk = unknowns.slice(1);
    const m = branches[0]!.outvars.length;
    let outUk = new Array<boolean>(m).fill(false);
    for (const b of branches) splitSubJaxpr(b, opsUk, false, saveable).outUnknowns.forEach((u, i) => (outUk[i] = outUk[i] || u));
    const pes = branches.map((b) => splitSubJaxpr(b, opsUk, outUk, saveable));
    outUk = pes[0]!.outUnknowns;
    // Each branch has its own residuals; all branches output every slot (zeros in others' slots).
    // Residuals that inner conds and loops hand on travel packed when there are many (residual_pack.ts).
    const resVars = pes.map((pe) => pe.unknown.invars.slice(0, pe.numResiduals));
    const packings = pes.map((pe, k) =>
      planPacking(
        resVars[k]!.map((v) => v.aval),
        fromHigherOrder(pe.known, resVars[k]!),
      ),
    );
    const resAvals = packings.map((p) => p.slotAvals);
    const slotAvals = resAvals.flat();
    const offsets = resAvals.map((_, k) => resAvals.slice(0, k).reduce((s, r) => s + r.length, 0));
    const nKnownOut = outUk.filter((u) => !u).length;
    const knownOpAvals = branches[0]!.inAvals.filter((_, i) => !opsUk[i]);
    const ukOpAvals = branches[0]!.inAvals.filter((_, i) => opsUk[i]);
    const knownBranches = pes.map((pe, k) =>
      jaxprOf(knownOpAvals, (...a) => {
        const outs = evalJaxpr(pe.known, a);
        const own = packResiduals(packings[k]!, outs.slice(nKnownOut), eqn.source);
        // Nested conds pass all their residuals up, so other branches' slots can be many: one
        // zeros per type fills them all, attributed to this cond (no call-site capture per slot).
        const zeros = new Map<string, ArrayBase>();
        const zerosFor = (s: ShapedArray) => {
          const key = String(s);
          let z = zeros.get(key);
          if (!z) zeros.set(key, (z = withSource(eqn.source, () => zerosOf(s))));
          return z;
        };
        return [...outs.slice(0, nKnownOut), ...slotAvals.map((s, j) => (j >= offsets[k]! && j < offsets[k]! + own.length ? own[j - offsets[k]!]! : zerosFor(s)))];
      }, eqn.source),
    );
    const unknownBranches = pes.map((pe, k) =>
      jaxprOf([...slotAvals, ...ukOpAvals], (...a) => {
        const own = unpackResiduals(packings[k]!, a.slice(offsets[k]!, offsets[k]! + resAvals[k]!.length), eqn.source);
        return evalJaxpr(pe.unknown, [...own, ...a.slice(slotAvals.length)]);
      }, eqn.source),
    );
    const slots = slotAvals.map((s) => new Var(s));
    const index = eqn.inputs[0]!;
    const ops = eqn.inputs.slice(1);
    const knownEqn = new Eqn(condP, [index, ...ops.filter((_, i) => !opsUk[i])], { branches: knownBranches }, [...eqn.outputs.filter((_, i) => !outUk[i]), ...slots], eqn.source, eqn.derivedFrom);
    const unknownEqn = new Eqn(condP, [index, ...slots, ...ops.filter((_, i) => opsUk[i])], { branches: unknownBranches }, eqn.outputs.filter((_, i) => outUk[i]), eqn.source, eqn.derivedFrom);
    // Slots holding values a branch computed (not operands it passes on) were chosen by the policy, when there is one.
    const computed = packings.flatMap((p, k) => p.slots.map((members) => members.some((i) => !branches[k]!.invars.includes(resVars[k]![i]!))));
    const policySaved = saveable ? slots.filter((_, j) => computed[j]) : [];
    return { known: [knownEqn], unknown: [unknownEqn], outUnknowns: outUk, residuals: slots, policySaved };
  },
  transpose(cts, [index, ...ops], { branches }) {
    if (isLinear(index)) throw new Error("cond transpose: the index cannot be linear");
    const linear = ops.map(isLinear);
    const outAvals = branches[0]!.outAvals;
    const ctsIn = cts.map((c, i) => c ?? zerosOf(outAvals[i]!));
    const outs = bind(condP, [index as ArrayBase, ...(ops.filter((o) => !isLinear(o)) as ArrayBase[]), ...ctsIn], {
      branches: branches.map((b) => transposeJaxpr(b, linear)),
    });
    let k = 0;
    return [null, ...linear.map((l) => (l ? outs[k++]! : null))];
  },
  batch([index, ...ops], [indexDim, ...opDims], { branches }, size) {
    const m = branches[0]!.outvars.length;
    const batched = branches.map((b) => batchJaxpr(b, opDims, size, new Array<number>(m).fill(0)));
    if (indexDim === null) {
      const outs = bind(condP, [index!, ...ops], { branches: batched });
      return [outs, outs.map(() => 0)];
    }
    // A batched index: every branch runs on the whole batch, then each lane selects its result.
    // The branches run inside one single-branch cond (a call), not inlined: inlined, a cond
    // nested d deep would re-trace every deeper level at each level (cost d^2).
    const all = jaxprOf(
      ops.map((o) => o.aval),
      (...a) => batched.flatMap((b) => evalJaxpr(b, a)),
    );
    const flat = bind(condP, [scalar(0, "int32"), ...ops], { branches: [all] });
    const results = batched.map((_, k) => flat.slice(k * m, (k + 1) * m));
    const idx = min(max(moveAxis(index!, indexDim!, 0), scalar(0, "int32")), scalar(branches.length - 1, "int32"));
    const outs = results[0]!.map((_, j) => {
      const shape = results[0]![j]!.shape;
      const which = broadcastTo(idx.ndim < shape.length ? reshapeTrailing(idx, shape.length) : idx, shape);
      return selectN(which, ...results.map((r) => r[j]!));
    });
    return [outs, outs.map(() => 0)];
  },
});

/** [B] -> [B, 1, ..., 1] so it broadcasts against [B, ...]. */
const reshapeTrailing = (x: ArrayBase, rank: number): ArrayBase => reshape(x, [x.shape[0]!, ...new Array<number>(rank - 1).fill(1)]);
