/**
 * Cumulative scans along one axis: cumsum, cumprod, cummax, cummin (params `axis`,
 * `reverse`), and `associativeScan`, the parallel prefix scan built from slices, pads and
 * an elementwise combine (JAX's lax.associative_scan).
 *
 * cumsum is linear (its transpose is the reverse cumsum). The jvp of the others is, as in
 * JAX, the jvp of an associative scan of their combine function over (value, tangent)
 * pairs: for cumprod that is the product rule applied along the scan tree, exact with
 * zeros in the input; for cummax/cummin the tangent follows the running extreme, split
 * evenly where two elements tie (as max's jvp does).
 */
import { type ArrayBase, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray } from "../dtype.js";
import { AxisError } from "../errors.js";
import { type JvpRule, type Primitive, definePrimitive } from "../ir/primitive.js";
import { type ScanOp, cumulativeKernel } from "../kernels/reduce.js";
import { bind1 } from "../trace.js";
import { add, div, max, min, mul } from "./binary.js";
import { ALL_DTYPES, NUMERIC, requireDType, scalarLike } from "./common.js";
import { eq } from "./compare.js";
import { concatenate, pad, rev, sliceInDim } from "./shape.js";
import { convertElementType, moveAxis } from "./structural.js";

export interface CumulativeParams {
  axis: number;
  reverse: boolean;
}

/** Interleaves `a` (even positions) and `b` (odd positions) along `axis` with zero-pads and an add. */
const interleave = (a: ArrayBase, b: ArrayBase, axis: number): ArrayBase => {
  const same = a.shape[axis] === b.shape[axis];
  const cfg = (lo: number, hi: number) => a.shape.map((_, k): [number, number, number] => (k === axis ? [lo, hi, 1] : [0, 0, 0]));
  const pa = pad(a, scalarLike(a, 0), cfg(0, same ? 1 : 0));
  const pb = pad(b, scalarLike(b, 0), cfg(1, same ? 0 : 1));
  if (a.dtype === "bool") return max(pa, pb);
  return add(pa, pb);
};

/**
 * Inclusive prefix scan of an associative `combine` over `elems` (arrays of one shape)
 * along `axis`, in O(log n) levels of slices and elementwise ops (the Blelloch-style
 * recursion of JAX's associative_scan). Differentiable and batchable through its ops.
 */
export const associativeScan = (combine: (a: ArrayBase[], b: ArrayBase[]) => ArrayBase[], elems: ArrayBase[], axis: number): ArrayBase[] => {
  const n = elems[0]!.shape[axis]!;
  if (n < 2) return elems;
  const sl = (e: ArrayBase, start: number, stop: number, stride = 1) => sliceInDim(e, start, Math.max(start, stop), stride, axis);
  // Combine adjacent pairs, scan the half-length result: these are the odd positions.
  const reduced = combine(
    elems.map((e) => sl(e, 0, n - 1, 2)),
    elems.map((e) => sl(e, 1, n, 2)),
  );
  const odd = associativeScan(combine, reduced, axis);
  // Even positions (after the first) combine the preceding odd result with the element.
  const evenRest =
    n % 2 === 0
      ? combine(
          odd.map((e) => sl(e, 0, e.shape[axis]! - 1)),
          elems.map((e) => sl(e, 2, n, 2)),
        )
      : combine(
          odd,
          elems.map((e) => sl(e, 2, n, 2)),
        );
  const even = elems.map((e, i) => concatenateAlong([sl(e, 0, 1), evenRest[i]!], axis));
  return even.map((e, i) => interleave(e, odd[i]!, axis));
};

const concatenateAlong = (xs: ArrayBase[], axis: number): ArrayBase => (xs[1]!.shape[axis] === 0 ? xs[0]! : concatenate(xs, axis));

/** Applies an associative scan from the end of the axis when `reverse`. */
const scanDirected = (combine: (a: ArrayBase[], b: ArrayBase[]) => ArrayBase[], elems: ArrayBase[], axis: number, reverse: boolean): ArrayBase[] => {
  if (!reverse) return associativeScan(combine, elems, axis);
  return associativeScan(combine, elems.map((e) => rev(e, [axis])), axis).map((e) => rev(e, [axis]));
};

const cumAval = (op: string, x: ShapedArray, { axis }: CumulativeParams, dtypes: readonly DType[]): ShapedArray => {
  requireDType(op, x, dtypes);
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.ndim) {
    throw new AxisError(`axis ${axis} is out of range for an array of rank ${x.ndim} (valid: 0 to ${x.ndim - 1})`, { op });
  }
  return x;
};

const cumulative = (
  name: string,
  kernelOp: ScanOp,
  dtypes: readonly DType[],
  rules: (op: (x: ArrayBase, axis: number, reverse: boolean) => ArrayBase) => Pick<Primitive<CumulativeParams>, "jvp" | "transpose">,
): [Primitive<CumulativeParams>, (x: ArrayBase, axis?: number, reverse?: boolean) => ArrayBase] => {
  const op = (x: ArrayBase, axis = 0, reverse = false): ArrayBase => bind1(prim, [x], { axis, reverse });
  const prim: Primitive<CumulativeParams> = definePrimitive<CumulativeParams>({
    name,
    abstractEval: ([x], p) => [cumAval(name, x!, p, dtypes)],
    impl: ([x], { axis, reverse }) => [fromBuffer(cumulativeKernel(bufferOf(x!), x!.shape, axis, kernelOp, reverse, x!.dtype), x!.shape, x!.dtype)],
    ...rules(op),
    batch: ([x], [d], { axis, reverse }) => [[op(moveAxis(x!, d!, 0), axis + 1, reverse)], [0]],
  });
  return [prim, op];
};

/** jvp of a scan as the scan of (value, tangent) pairs under `dual`, the combine's jvp. */
const scanJvp =
  (op: (x: ArrayBase, axis: number, reverse: boolean) => ArrayBase, dual: (a: ArrayBase[], b: ArrayBase[]) => ArrayBase[]): JvpRule<CumulativeParams> =>
  ([x], [t], { axis, reverse }) => {
    if (!t) return [[op(x!, axis, reverse)], [null]];
    const [, ty] = scanDirected(dual, [x!, t], axis, reverse);
    return [[op(x!, axis, reverse)], [ty!]];
  };

/** lax.cumsum(x, axis = 0, reverse = false): inclusive running sum (linear; its transpose is the reversed cumsum). */
export const [cumsumP, cumsum] = cumulative("cumsum", "sum", NUMERIC, (op) => ({
  jvp: ([x], [t], { axis, reverse }) => [[op(x!, axis, reverse)], [t && op(t, axis, reverse)]],
  transpose: ([ct], _x, { axis, reverse }) => [ct && op(ct, axis, !reverse)],
}));

/** lax.cumprod(x, axis = 0, reverse = false): inclusive running product; its jvp is exact with zeros. */
export const [cumprodP, cumprod] = cumulative("cumprod", "prod", NUMERIC, (op) => ({
  jvp: scanJvp(op, ([x1, t1], [x2, t2]) => [mul(x1!, x2!), add(mul(t1!, x2!), mul(x1!, t2!))]),
}));

/** (x1, t1) ∘ (x2, t2) for max/min: the winner's tangent, the mean of both on a tie. */
const chooserDual =
  (pick: (a: ArrayBase, b: ArrayBase) => ArrayBase) =>
  ([x1, t1]: ArrayBase[], [x2, t2]: ArrayBase[]): ArrayBase[] => {
    const out = pick(x1!, x2!);
    const w1 = convertElementType(eq(x1!, out), t1!.dtype);
    const w2 = convertElementType(eq(x2!, out), t1!.dtype);
    return [out, div(add(mul(t1!, w1), mul(t2!, w2)), add(w1, w2))];
  };

/** lax.cummax / lax.cummin(x, axis = 0, reverse = false): running maximum / minimum (NaN propagates). */
export const [cummaxP, cummax] = cumulative("cummax", "max", ALL_DTYPES, (op) => ({ jvp: scanJvp(op, chooserDual(max)) }));
export const [cumminP, cummin] = cumulative("cummin", "min", ALL_DTYPES, (op) => ({ jvp: scanJvp(op, chooserDual(min)) }));
