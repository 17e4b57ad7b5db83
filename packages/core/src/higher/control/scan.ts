/**
 * `scan`: a loop over the leading axis of `xs` carrying state, as one equation whatever
 * the trip count. Inputs are `[consts..., carry..., xs...]`; outputs `[carry..., ys...]`.
 * Reverse mode splits the body into a known scan (which also stacks the per-step
 * residuals) and an unknown scan, whose transpose runs the other way round.
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../../array.js";
import { ShapedArray, typedArrayFor } from "../../dtype.js";
import { ShapeError } from "../../errors.js";
import { Eqn, type Jaxpr, Var } from "../../ir/jaxpr.js";
import { type MaybeZero, type Primitive, UndefinedPrimal, definePrimitive } from "../../ir/primitive.js";
import { evalJaxpr } from "../../interpreter.js";
import { add } from "../../primitives/binary.js";
import { moveAxis, zerosOf } from "../../primitives/structural.js";
import { bind } from "../../trace.js";
import { jvpJaxpr, jvpOutNonzeros } from "../../transforms/jvp.js";
import { splitSubJaxpr } from "../../transforms/partial_eval.js";
import { transposeJaxpr } from "../../transforms/transpose.js";
import { batchJaxpr, batchOutDims, moveBatchAxis } from "../../transforms/vmap.js";
import { fromHigherOrder, packResiduals, planPacking, unpackResiduals } from "./residual_pack.js";
import { jaxprOf, requireSameTypes, splitList } from "./util.js";

export interface ScanParams {
  jaxpr: Jaxpr;
  num_consts: number;
  num_carry: number;
  length: number;
  reverse: boolean;
}

const stacked = (a: ShapedArray, length: number) => new ShapedArray([length, ...a.shape], a.dtype);
const unstacked = (a: ShapedArray) => new ShapedArray(a.shape.slice(1), a.dtype);
const isLinear = (x: unknown): x is UndefinedPrimal => x instanceof UndefinedPrimal;

export const scanP: Primitive<ScanParams> = definePrimitive<ScanParams>({
  name: "scan",
  subJaxprs: ({ jaxpr }) => [jaxpr],
  abstractEval(avals, { jaxpr, num_consts: nc, num_carry: ncar, length }) {
    const op = "scan";
    if (avals.length !== jaxpr.invars.length) throw new ShapeError(`takes ${jaxpr.invars.length} inputs but got ${avals.length}`, { op });
    const [consts, carry, xs] = splitList(avals, [nc, ncar]);
    const [bc, bcar, bx] = splitList(jaxpr.inAvals, [nc, ncar]);
    requireSameTypes(op, "constants differ from the body's inputs", consts!, bc!);
    requireSameTypes(op, "the carry differs from the body's carry input", carry!, bcar!);
    xs!.forEach((x, i) => {
      if (x.ndim === 0 || x.shape[0] !== length) {
        throw new ShapeError(`xs leaf ${i} has shape [${x.shape.join(", ")}] but the scan length is ${length}`, { op, hint: "every xs leaf needs the scanned axis first" });
      }
    });
    requireSameTypes(op, "xs slices differ from the body's x input", xs!.map(unstacked), bx!);
    const outs = jaxpr.outAvals;
    requireSameTypes(op, "the body's carry output differs from its carry input", outs.slice(0, ncar), carry!);
    return [...outs.slice(0, ncar), ...outs.slice(ncar).map((a) => stacked(a, length))];
  },
  impl(args, { jaxpr, num_consts: nc, num_carry: ncar, length, reverse }) {
    const [consts, init, xs] = splitList(args as NDArray[], [nc, ncar]);
    let carry: ArrayBase[] = init!;
    const yAvals = jaxpr.outAvals.slice(ncar);
    const ysBufs = yAvals.map((a) => typedArrayFor(a.dtype, a.size * length));
    const xSizes = xs!.map((x) => x.size / Math.max(length, 1));
    for (let k = 0; k < length; k++) {
      const i = reverse ? length - 1 - k : k;
      // Slices share the stacked buffer: arrays are immutable, so no copy is needed.
      const x = xs!.map((a, j) => fromBuffer(bufferOf(a).subarray(i * xSizes[j]!, (i + 1) * xSizes[j]!), a.shape.slice(1), a.dtype));
      const outs = evalJaxpr(jaxpr, [...consts!, ...carry, ...x]);
      carry = outs.slice(0, ncar);
      outs.slice(ncar).forEach((y, j) => ysBufs[j]!.set(bufferOf(y as NDArray), i * yAvals[j]!.size));
    }
    return [...(carry as NDArray[]), ...ysBufs.map((b, j) => fromBuffer(b, [length, ...yAvals[j]!.shape], yAvals[j]!.dtype))];
  },

  jvp(primals, tangents, { jaxpr, num_consts: nc, num_carry: ncar, length, reverse }) {
    const [cP, carryP, xsP] = splitList(primals, [nc, ncar]);
    const [cT, carryT, xsT] = splitList(tangents, [nc, ncar]);
    const constNz = cT!.map((t) => t !== null);
    const xsNz = xsT!.map((t) => t !== null);
    let carryNz = carryT!.map((t) => t !== null);
    // Fixpoint: a carry whose tangent the body makes non-zero needs a tangent from the start.
    for (;;) {
      const outNz = jvpOutNonzeros(jaxpr, [...constNz, ...carryNz, ...xsNz]).slice(0, ncar);
      const next = carryNz.map((nz, i) => nz || outNz[i]!);
      if (next.every((v, i) => v === carryNz[i])) break;
      carryNz = next;
    }
    const nz = [...constNz, ...carryNz, ...xsNz];
    const jj = jvpJaxpr(jaxpr, nz);
    const nOut = jaxpr.outvars.length;
    const pick = <T>(xs: readonly T[], mask: readonly boolean[]) => xs.filter((_, i) => mask[i]);
    const [bc, bcar, bx] = splitList(jaxpr.inAvals, [nc, ncar]);
    const nCnz = constNz.filter(Boolean).length;
    const nCarNz = carryNz.filter(Boolean).length;
    const body = jaxprOf([...bc!, ...pick(bc!, constNz), ...bcar!, ...pick(bcar!, carryNz), ...bx!, ...pick(bx!, xsNz)], (...a) => {
      const [c, ct, car, cart, x, xt] = splitList(a, [nc, nCnz, ncar, nCarNz, bx!.length]);
      const outs = evalJaxpr(jj, [...c!, ...car!, ...x!, ...ct!, ...cart!, ...xt!]);
      const prim = outs.slice(0, nOut);
      const tan = outs.slice(nOut);
      return [...prim.slice(0, ncar), ...pick(tan.slice(0, ncar), carryNz), ...prim.slice(ncar), ...tan.slice(ncar)];
    });
    const carryTIn = carryT!.map((t, i) => (carryNz[i] ? (t ?? zerosOf(carryP![i]!.aval)) : null)).filter((t): t is ArrayBase => t !== null);
    const outs = bind(scanP, [...cP!, ...(pick(cT!, constNz) as ArrayBase[]), ...carryP!, ...carryTIn, ...xsP!, ...(pick(xsT!, xsNz) as ArrayBase[])], {
      jaxpr: body,
      num_consts: nc + nCnz,
      num_carry: ncar + carryTIn.length,
      length,
      reverse,
    });
    const [carryOut, carryTOut, rest] = splitList(outs, [ncar, carryTIn.length]);
    const ny = nOut - ncar;
    let k = 0;
    const carryTangents: MaybeZero[] = carryNz.map((z) => (z ? carryTOut![k++]! : null));
    return [
      [...carryOut!, ...rest!.slice(0, ny)],
      [...carryTangents, ...rest!.slice(ny)],
    ];
  },

  partialEval(eqn, unknowns, saveable) {
    const { jaxpr, num_consts: nc, num_carry: ncar, length, reverse } = eqn.params as unknown as ScanParams;
    const nOut = jaxpr.outvars.length;
    const [cUk, carryUk0, xsUk] = splitList(unknowns, [nc, ncar]);
    let carryUk = carryUk0!;
    let pe;
    for (;;) {
      // Inside a checkpoint the body is split under its policy, so only saveable values are stacked per step.
      pe = splitSubJaxpr(jaxpr, [...cUk!, ...carryUk, ...xsUk!], [...carryUk, ...new Array<boolean>(nOut - ncar).fill(false)], saveable);
      const outUk = pe.outUnknowns.slice(0, ncar);
      const next = carryUk.map((u, i) => u || outUk[i]!);
      if (next.every((v, i) => v === carryUk[i])) break;
      carryUk = next;
    }
    const ysUk = pe.outUnknowns.slice(ncar);
    const residuals = pe.unknown.invars.slice(0, pe.numResiduals);
    const invarIndex = new Map(jaxpr.invars.map((v, i) => [v, i] as const));
    // Residuals that are known constants or known xs are passed through; the rest are stacked per step.
    type Res = { kind: "const" | "xs" | "iter"; idx: number };
    let nIter = 0;
    const kinds: Res[] = residuals.map((r) => {
      const i = invarIndex.get(r);
      if (i !== undefined && i < nc) return { kind: "const", idx: i };
      if (i !== undefined && i >= nc + ncar) return { kind: "xs", idx: i };
      return { kind: "iter", idx: nIter++ };
    });
    const iterRes = residuals.filter((_, k) => kinds[k]!.kind === "iter");
    const constRes = kinds.filter((k) => k.kind === "const");
    const xsRes = kinds.filter((k) => k.kind === "xs");

    // Known scan: known inputs -> known carry, known ys, stacked per-step residuals.
    const fullUk = [...cUk!, ...carryUk, ...xsUk!];
    const knownIn = jaxpr.invars.filter((_, i) => !fullUk[i]);
    const nKnownOut = pe.known.outvars.length - pe.numResiduals;
    const knownCarryMask = carryUk.map((u) => !u);
    const nKnownCarry = knownCarryMask.filter(Boolean).length;
    const nKnownConsts = cUk!.filter((u) => !u).length;
    // Per-step residuals that inner loops and conds hand on travel packed when there are many (residual_pack.ts).
    const packing = planPacking(
      iterRes.map((r) => r.aval),
      fromHigherOrder(pe.known, iterRes),
    );
    const knownBody = jaxprOf(
      knownIn.map((v) => v.aval),
      (...a) => {
        const outs = evalJaxpr(pe.known, a);
        const iterVals = outs.slice(nKnownOut).filter((_, r) => kinds[r]!.kind === "iter");
        return [...outs.slice(0, nKnownOut), ...packResiduals(packing, iterVals, eqn.source)];
      },
      eqn.source,
    );
    const stackedRes = packing.slotAvals.map((a) => new Var(stacked(a, length)));
    const knownOuts = eqn.outputs.filter((_, i) => (i < ncar ? knownCarryMask[i]! : !ysUk[i - ncar]));
    const knownInputs = eqn.inputs.filter((_, i) => !fullUk[i]);
    const knownEqn = new Eqn(
      scanP,
      knownInputs,
      { jaxpr: knownBody, num_consts: nKnownConsts, num_carry: nKnownCarry, length, reverse },
      [...knownOuts, ...stackedRes],
      eqn.source,
      eqn.derivedFrom,
    );

    // Unknown scan: consts [const residuals, unknown consts], carry [unknown carries], xs [stacked residuals, xs residuals, unknown xs].
    const [bc, bcar, bx] = splitList(jaxpr.inAvals, [nc, ncar]);
    const ukConstAvals = bc!.filter((_, i) => cUk![i]);
    const ukCarryAvals = bcar!.filter((_, i) => carryUk[i]);
    const ukXsAvals = bx!.filter((_, i) => xsUk![i]);
    const unknownBody = jaxprOf(
      [...constRes.map((r) => jaxpr.invars[r.idx]!.aval), ...ukConstAvals, ...ukCarryAvals, ...packing.slotAvals, ...xsRes.map((r) => jaxpr.invars[r.idx]!.aval), ...ukXsAvals],
      (...a) => {
        const [cr, uc, ucar, slotVals, xr, ux] = splitList(a, [constRes.length, ukConstAvals.length, ukCarryAvals.length, packing.slotAvals.length, xsRes.length]);
        const ir = unpackResiduals(packing, slotVals!, eqn.source);
        let ci = 0;
        let ii = 0;
        let xi = 0;
        const resVals = kinds.map((k) => (k.kind === "const" ? cr![ci++]! : k.kind === "iter" ? ir![ii++]! : xr![xi++]!));
        return evalJaxpr(pe.unknown, [...resVals, ...uc!, ...ucar!, ...ux!]);
      },
      eqn.source,
    );
    const unknownEqn = new Eqn(
      scanP,
      [
        ...constRes.map((r) => eqn.inputs[r.idx]!),
        ...eqn.inputs.slice(0, nc).filter((_, i) => cUk![i]),
        ...eqn.inputs.slice(nc, nc + ncar).filter((_, i) => carryUk[i]),
        ...stackedRes,
        ...xsRes.map((r) => eqn.inputs[r.idx]!),
        ...eqn.inputs.slice(nc + ncar).filter((_, i) => xsUk![i]),
      ],
      { jaxpr: unknownBody, num_consts: constRes.length + ukConstAvals.length, num_carry: ukCarryAvals.length, length, reverse },
      eqn.outputs.filter((_, i) => (i < ncar ? carryUk[i]! : ysUk[i - ncar]!)),
      eqn.source,
      eqn.derivedFrom,
    );
    // Stacked values computed by the body (not its carry inputs) were chosen by the policy, when there is one.
    const policySaved = saveable ? stackedRes.filter((_, j) => packing.slots[j]!.some((k) => !invarIndex.has(iterRes[k]!))) : [];
    return { known: [knownEqn], unknown: [unknownEqn], outUnknowns: [...carryUk, ...ysUk], residuals: stackedRes, policySaved };
  },

  transpose(cts, inputs, { jaxpr, num_consts: nc, num_carry: ncar, length, reverse }) {
    const [consts, carry, xs] = splitList(inputs, [nc, ncar]);
    // Every carry is treated as linear: a carry that is not (a known zero tangent seeded by
    // jvp) only receives a cotangent that is then dropped.
    const constLin = consts!.map(isLinear);
    const xsLin = xs!.map(isLinear);
    const resConsts = consts!.filter((c) => !isLinear(c)) as ArrayBase[];
    const resXs = xs!.filter((x) => !isLinear(x)) as ArrayBase[];
    const outAvals = jaxpr.outAvals;
    const ctCarry = cts.slice(0, ncar).map((c, i) => c ?? zerosOf(outAvals[i]!));
    const ctYs = cts.slice(ncar).map((c, i) => c ?? zerosOf(stacked(outAvals[ncar + i]!, length)));
    const bt = transposeJaxpr(jaxpr, [...constLin, ...carry!.map(() => true), ...xsLin]);
    const linConstAvals = jaxpr.inAvals.slice(0, nc).filter((_, i) => constLin[i]);
    const nLinConsts = linConstAvals.length;
    const body = jaxprOf(
      [...resConsts.map((c) => c.aval), ...linConstAvals, ...outAvals.slice(0, ncar), ...resXs.map((x) => unstacked(x.aval)), ...outAvals.slice(ncar)],
      (...a) => {
        const [rc, acc, cc, rx, cy] = splitList(a, [resConsts.length, nLinConsts, ncar, resXs.length]);
        const outs = evalJaxpr(bt, [...rc!, ...rx!, ...cc!, ...cy!]);
        const [ctc, ctcar, ctx] = splitList(outs, [nLinConsts, ncar]);
        return [...acc!.map((x, i) => add(x, ctc![i]!)), ...ctcar!, ...ctx!];
      },
    );
    const outs = bind(scanP, [...resConsts, ...linConstAvals.map(zerosOf), ...ctCarry, ...resXs, ...ctYs], {
      jaxpr: body,
      num_consts: resConsts.length,
      num_carry: nLinConsts + ncar,
      length,
      reverse: !reverse,
    });
    const [ctConsts, ctInit, ctXs] = splitList(outs, [nLinConsts, ncar]);
    let a = 0;
    let b = 0;
    return [...constLin.map((l) => (l ? ctConsts![a++]! : null)), ...ctInit!.map((c, i) => (isLinear(carry![i]) ? c : null)), ...xsLin.map((l) => (l ? ctXs![b++]! : null))];
  },

  batch(args, dims, { jaxpr, num_consts: nc, num_carry: ncar, length, reverse }, size) {
    const [consts, carry, xs] = splitList(args, [nc, ncar]);
    const [cD, carryD, xsD] = splitList(dims, [nc, ncar]);
    const constsB = consts!.map((c, i) => (cD![i] === null ? c : moveAxis(c, cD![i]!, 0)));
    // The scanned axis stays first; a batched xs leaf carries its batch axis second.
    const xsB = xs!.map((x, i) => (xsD![i] === null ? x : moveAxis(x, xsD![i]!, 1)));
    const constDims = cD!.map((d) => (d === null ? null : 0));
    const xDims = xsD!.map((d) => (d === null ? null : 0));
    let carryB = carryD!.map((d) => d !== null);
    for (;;) {
      const od = batchOutDims(jaxpr, [...constDims, ...carryB.map((b) => (b ? 0 : null)), ...xDims], size).slice(0, ncar);
      const next = carryB.map((b, i) => b || od[i] !== null);
      if (next.every((v, i) => v === carryB[i])) break;
      carryB = next;
    }
    const carryIn = carry!.map((c, i) => (carryB[i] ? moveBatchAxis(c, carryD![i] ?? null, 0, size) : c));
    const nY = jaxpr.outvars.length - ncar;
    const body = batchJaxpr(jaxpr, [...constDims, ...carryB.map((b) => (b ? 0 : null)), ...xDims], size, [...carryB.map((b) => (b ? 0 : null)), ...new Array<number>(nY).fill(0)]);
    const outs = bind(scanP, [...constsB, ...carryIn, ...xsB], { jaxpr: body, num_consts: nc, num_carry: ncar, length, reverse });
    return [outs, [...carryB.map((b) => (b ? 0 : null)), ...new Array<number>(nY).fill(1)]];
  },
});
