/**
 * The scatter family beside scatter_add (primitives/indexing.ts), in the same "along one
 * axis, with leading batch axes" form and with the same index semantics (negative counts
 * from the end once, then clamped): `scatter` (set), `scatter_mul`, `scatter_min`,
 * `scatter_max`. The `.at[...]` updates lower to them (np/at.ts), which also handles
 * out-of-bounds modes.
 *
 * Derivatives hold with repeated indices too:
 *  - scatter (set): the last update of a slot wins (kernels/scatter.ts). The jvp scatters
 *    update ids to learn which update won each slot, then builds the tangent from selects
 *    and a scatter_add, which are linear and transpose (JAX's rule for non-unique indices).
 *  - scatter_mul: linear in the operand (its transpose is itself with the cotangent); the
 *    updates' tangent uses the product of the *other* updates of the slot, computed
 *    without dividing by zero.
 *  - scatter_min / scatter_max: the tangent of the winner, split evenly among ties (as the
 *    jvp of max does).
 */
import { type ArrayBase, bufferOf, fromBuffer } from "../array.js";
import { definePrimitive, type JvpRule, type Primitive, UndefinedPrimal } from "../ir/primitive.js";
import { gatherLayout } from "../kernels/gather.js";
import { type ScatterCombine, scatterCombineKernel } from "../kernels/scatter.js";
import { bind1 } from "../trace.js";
import { add, div, mul, sub } from "./binary.js";
import { scalar } from "./common.js";
import { eq, select } from "./compare.js";
import { type GatherParams, batchAt, checkScatter, gather, scatterAdd } from "./indexing.js";
import { iota } from "./shape.js";
import { broadcastInDim, convertElementType, moveAxis, reshape, zerosOf } from "./structural.js";

const filled = (like: ArrayBase, value: number, dtype = like.dtype): ArrayBase => broadcastInDim(scalar(value, dtype), like.shape, []);

const scatterFamily = (
  name: string,
  combine: ScatterCombine,
  rules: (op: (x: ArrayBase, idx: ArrayBase, upd: ArrayBase, p: GatherParams) => ArrayBase) => Pick<Primitive<GatherParams>, "jvp" | "transpose">,
): [Primitive<GatherParams>, (x: ArrayBase, idx: ArrayBase, upd: ArrayBase, p: GatherParams) => ArrayBase] => {
  const op = (x: ArrayBase, idx: ArrayBase, upd: ArrayBase, p: GatherParams): ArrayBase => bind1(prim, [x, idx, upd], { axis: p.axis, batch_dims: p.batch_dims });
  const prim: Primitive<GatherParams> = definePrimitive<GatherParams>({
    name,
    abstractEval: ([x, idx, upd], params) => [checkScatter(name, x!, idx!, upd!, params)],
    impl: ([x, idx, upd], params) => {
      checkScatter(name, x!.aval, idx!.aval, upd!.aval, params);
      const L = gatherLayout(x!.shape, idx!.shape, params.axis, params.batch_dims);
      return [fromBuffer(scatterCombineKernel(bufferOf(x!), bufferOf(idx!), bufferOf(upd!), L, x!.dtype, combine), x!.shape, x!.dtype)];
    },
    ...rules(op),
    // As scatter_add's rule: shared indices make the batch axis one more leading operand axis;
    // batched indices become one more batch axis.
    batch: ([x, idx, upd], [dx, di, du], { axis, batch_dims: nb }, size) => {
      if (di === null) {
        return [[op(batchAt(x!, dx!, nb, size), idx!, batchAt(upd!, du!, nb, size), { axis: axis + 1, batch_dims: nb })], [nb]];
      }
      return [[op(batchAt(x!, dx!, 0, size), moveAxis(idx!, di!, 0), batchAt(upd!, du!, 0, size), { axis: axis + 1, batch_dims: nb + 1 })], [0]];
    },
  });
  return [prim, op];
};

/** lax-level scatter (set): a copy of `x` with `updates` written at `indices` (the last of repeated indices wins). */
export const [scatterP, scatter] = scatterFamily("scatter", "set", (op) => ({
  jvp: (([x, idx, upd], [tx, , tu], params) => {
    const out = op(x!, idx!, upd!, params);
    if (!tx && !tu) return [[out], [null]];
    // ids 1..size(upd); the scattered ids say which update won each slot (0: none did).
    const ids = add(reshape(iota("int32", [upd!.size], 0), upd!.shape), scalar(1, "int32"));
    const won = op(filled(x!, 0, "int32"), idx!, ids, params);
    const updWins = eq(gather(won, idx!, params), ids);
    const xKept = eq(won, scalar(0, "int32"));
    const zx = filled(x!, 0);
    const fromX = tx ? select(xKept, tx, zx) : null;
    const fromU = tu ? scatterAdd(zx, idx!, select(updWins, tu, filled(upd!, 0)), params) : null;
    return [[out], [fromX && fromU ? add(fromX, fromU) : (fromX ?? fromU)]];
  }) as JvpRule<GatherParams>,
}));

/** lax-level scatter_mul: `x` with each slot multiplied by the updates aimed at it. */
export const [scatterMulP, scatterMul] = scatterFamily("scatter_mul", "mul", (op) => ({
  jvp: (([x, idx, upd], [tx, , tu], params) => {
    const out = op(x!, idx!, upd!, params);
    let t: ArrayBase | null = tx ? op(tx, idx!, upd!, params) : null;
    if (tu) {
      // d out[j] / d upd[k] = x[j] * (product of the other updates of slot j), without dividing by zero.
      const isZero = eq(upd!, scalar(0, upd!.dtype));
      const nonzero = select(isZero, filled(upd!, 1), upd!);
      const prodNonzero = op(filled(x!, 1), idx!, nonzero, params);
      const zerosAt = scatterAdd(filled(x!, 0, "int32"), idx!, convertElementType(isZero, "int32"), params);
      const otherZeros = sub(gather(zerosAt, idx!, params), convertElementType(isZero, "int32"));
      const others = select(eq(otherZeros, scalar(0, "int32")), div(gather(prodNonzero, idx!, params), nonzero), filled(upd!, 0));
      const fromU = mul(x!, scatterAdd(filled(x!, 0), idx!, mul(tu, others), params));
      t = t ? add(t, fromU) : fromU;
    }
    return [[out], [t]];
  }) as JvpRule<GatherParams>,
  // Linear in the operand when the updates are known: each slot is scaled by a fixed product.
  transpose: ([ct], [x, idx, upd], params) => {
    if (!ct || !(x instanceof UndefinedPrimal) || upd instanceof UndefinedPrimal) return [null, null, null];
    return [op(ct, idx as ArrayBase, upd as ArrayBase, params), null, null];
  },
}));

/** jvp of scatter_min / scatter_max: the winners' tangents, averaged over ties. */
const extremalJvp =
  (op: (x: ArrayBase, idx: ArrayBase, upd: ArrayBase, p: GatherParams) => ArrayBase): JvpRule<GatherParams> =>
  ([x, idx, upd], [tx, , tu], params) => {
    const out = op(x!, idx!, upd!, params);
    if (!tx && !tu) return [[out], [null]];
    const dt = out.dtype;
    const updHit = convertElementType(eq(upd!, gather(out, idx!, params)), dt);
    const xHit = convertElementType(eq(x!, out), dt);
    const zx = zerosOf(x!.aval);
    const count = add(xHit, scatterAdd(zx, idx!, updHit, params));
    let num: ArrayBase | null = tx ? mul(tx, xHit) : null;
    if (tu) {
      const fromU = scatterAdd(zx, idx!, mul(tu, updHit), params);
      num = num ? add(num, fromU) : fromU;
    }
    return [[out], [div(num!, count)]];
  };

/** lax-level scatter_min: each slot becomes the minimum of itself and its updates (NaN propagates). */
export const [scatterMinP, scatterMin] = scatterFamily("scatter_min", "min", (op) => ({ jvp: extremalJvp(op) }));
/** lax-level scatter_max: each slot becomes the maximum of itself and its updates (NaN propagates). */
export const [scatterMaxP, scatterMax] = scatterFamily("scatter_max", "max", (op) => ({ jvp: extremalJvp(op) }));
