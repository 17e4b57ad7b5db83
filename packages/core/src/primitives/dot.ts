/**
 * dot_general: the one contraction primitive (matmul, dot, tensordot, einsum and outer are
 * all spelled with it), with JAX's parameters and rules.
 *
 * `dimension_numbers = [[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]]`; the output
 * holds the batch axes (in the order listed), then the remaining ("free") axes of lhs, then
 * those of rhs, each in increasing axis order.
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray } from "../dtype.js";
import { AxisError, DTypeError, ShapeError, ValueError } from "../errors.js";
import { type Primitive, UndefinedPrimal, definePrimitive } from "../ir/primitive.js";
import { batchedMatmul } from "../kernels/matmul.js";
import { shapeStr, sizeOf } from "../shape.js";
import { bind1 } from "../trace.js";
import { add } from "./binary.js";
import { NUMERIC, requireDType, sameDType } from "./common.js";
import { convertElementType, inversePermutation, moveAxis, transpose } from "./structural.js";

/** `[[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]]`, as in JAX. */
export type DotDimensionNumbers = readonly [readonly [readonly number[], readonly number[]], readonly [readonly number[], readonly number[]]];
type Axes = readonly number[];

export interface DotGeneralParams {
  dimension_numbers: DotDimensionNumbers;
  /** The result dtype (and accumulation type); null keeps the inputs' dtype. */
  preferred_element_type: DType | null;
}

const OP = "dot_general";

/** The axes of an operand of rank `ndim` that are neither contracted nor batched, in order. */
export const freeAxes = (ndim: number, contracting: Axes, batch: Axes): number[] => {
  const out: number[] = [];
  for (let i = 0; i < ndim; i++) if (!contracting.includes(i) && !batch.includes(i)) out.push(i);
  return out;
};

const isAxisList = (x: unknown): x is number[] => Array.isArray(x) && x.every((a) => Number.isInteger(a));

/** Checks the structure of dimension numbers and every axis against the operand ranks. */
const checkDimensionNumbers = (dn: unknown, lhs: ShapedArray, rhs: ShapedArray): DotDimensionNumbers => {
  const ok =
    Array.isArray(dn) &&
    dn.length === 2 &&
    dn.every((pair) => Array.isArray(pair) && pair.length === 2 && pair.every(isAxisList));
  if (!ok) {
    throw new ValueError(`dimension_numbers must be [[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]] (lists of axes), got ${JSON.stringify(dn)}`, {
      op: OP,
      hint: "for a matrix product of x:[m,k] and y:[k,n] use [[[1], [0]], [[], []]]",
    });
  }
  const [[lc, rc], [lb, rb]] = dn as unknown as DotDimensionNumbers;
  const pairs: [string, Axes, Axes][] = [
    ["contracting", lc, rc],
    ["batch", lb, rb],
  ];
  for (const [what, l, r] of pairs) {
    if (l.length !== r.length) {
      throw new ValueError(`lhs has ${l.length} ${what} axes (${l.join(", ")}) but rhs has ${r.length} (${r.join(", ")}); they pair up one to one`, { op: OP });
    }
  }
  const sides: [string, ShapedArray, Axes, Axes][] = [
    ["lhs", lhs, lc, lb],
    ["rhs", rhs, rc, rb],
  ];
  for (const [side, a, c, b] of sides) {
    for (const ax of [...c, ...b]) {
      if (ax < 0 || ax >= a.ndim) {
        throw new AxisError(`${side} axis ${ax} is out of range for ${side} ${a} of rank ${a.ndim} (contracting (${c.join(", ")}), batch (${b.join(", ")}))`, { op: OP });
      }
    }
    const all = [...c, ...b];
    if (new Set(all).size !== all.length) {
      throw new AxisError(`${side} axes repeat among contracting (${c.join(", ")}) and batch (${b.join(", ")}) for ${side} ${a}; each axis may appear once`, { op: OP });
    }
  }
  for (const [what, l, r] of pairs) {
    l.forEach((la, i) => {
      const ra = r[i]!;
      if (lhs.shape[la] !== rhs.shape[ra]) {
        throw new ShapeError(
          `${what} axes must have equal sizes, but lhs axis ${la} has size ${lhs.shape[la]} and rhs axis ${ra} has size ${rhs.shape[ra]} (lhs shape ${shapeStr(lhs.shape)}, rhs shape ${shapeStr(rhs.shape)}, ${what} axes lhs (${l.join(", ")}) rhs (${r.join(", ")}))`,
          { op: OP, hint: what === "contracting" ? "the summed axes must match, e.g. [m,k] x [k,n]; transpose an operand or pick other axes" : undefined },
        );
      }
    });
  }
  return dn as unknown as DotDimensionNumbers;
};

/** JAX's rule: the preferred type may widen (f32 -> f64) or turn integers into floats, never narrow. */
const checkPreferred = (input: DType, preferred: DType | null): DType => {
  if (preferred === null || preferred === undefined) return input;
  const ok = preferred === input || (input === "float32" && preferred === "float64") || (input === "int32" && (preferred === "float32" || preferred === "float64"));
  if (!ok) {
    throw new DTypeError(`preferred_element_type ${preferred} is not allowed for ${input} inputs (it may widen, or turn int32 into a float type, but not narrow)`, { op: OP });
  }
  return preferred;
};

/** dot_general's kernel, writing into `into` (a float result's length) when given. */
const dotImpl = ([lhs, rhs]: NDArray[], { dimension_numbers, preferred_element_type }: DotGeneralParams, into?: Float32Array | Float64Array): NDArray[] => {
  const [[lc, rc], [lb, rb]] = dimension_numbers;
  const lfree = freeAxes(lhs!.ndim, lc, lb);
  const rfree = freeAxes(rhs!.ndim, rc, rb);
  const size = (x: ArrayBase, axes: Axes) => sizeOf(axes.map((a) => x.shape[a]!));
  const outDType = preferred_element_type ?? lhs!.dtype;
  const shape = [...lb.map((a) => lhs!.shape[a]!), ...lfree.map((a) => lhs!.shape[a]!), ...rfree.map((a) => rhs!.shape[a]!)];
  // Both operands go to [batch, free, contract] order, contracting axes paired up.
  const out = batchedMatmul(
    { buf: bufferOf(lhs!), shape: lhs!.shape, perm: [...lb, ...lfree, ...lc] },
    { buf: bufferOf(rhs!), shape: rhs!.shape, perm: [...rb, ...rfree, ...rc] },
    size(lhs!, lb),
    size(lhs!, lfree),
    size(rhs!, rfree),
    size(lhs!, lc),
    outDType,
    into,
  );
  return [fromBuffer(out, shape, outDType)];
};

export const dotGeneralP: Primitive<DotGeneralParams> = definePrimitive<DotGeneralParams>({
  name: OP,
  abstractEval([lhs, rhs], { dimension_numbers, preferred_element_type }) {
    const dtype = sameDType(OP, [lhs!, rhs!]);
    requireDType(OP, lhs!, NUMERIC);
    const [[lc, rc], [lb, rb]] = checkDimensionNumbers(dimension_numbers, lhs!, rhs!);
    const shape = [
      ...lb.map((a) => lhs!.shape[a]!),
      ...freeAxes(lhs!.ndim, lc, lb).map((a) => lhs!.shape[a]!),
      ...freeAxes(rhs!.ndim, rc, rb).map((a) => rhs!.shape[a]!),
    ];
    return [new ShapedArray(shape, checkPreferred(dtype, preferred_element_type))];
  },
  freshResults: true,
  impl: (inputs, params) => dotImpl(inputs, params),
  // A float product writes every element of its result: given memory serves as well as new.
  implInto: (inputs, params, [out]) => {
    const d = params.preferred_element_type ?? inputs[0]!.dtype;
    if (d !== "float32" && d !== "float64") return null;
    return dotImpl(inputs, params, out as Float32Array | Float64Array);
  },
  // Bilinear: d(x.y) = dx.y + x.dy.
  jvp([x, y], [tx, ty], params) {
    const out = bind1(dotGeneralP, [x!, y!], params);
    const a = tx && bind1(dotGeneralP, [tx, y!], params);
    const b = ty && bind1(dotGeneralP, [x!, ty], params);
    return [[out], [a && b ? add(a, b) : (a ?? b)]];
  },
  transpose([ct], [x, y], { dimension_numbers }) {
    if (!ct) return [null, null];
    const xl = x instanceof UndefinedPrimal;
    const yl = y instanceof UndefinedPrimal;
    if (xl && yl) throw new ValueError("transpose needs one operand to be a known (non-linear) value; both are linear", { op: OP });
    return [
      xl ? transposeLhs(ct, x.aval, y as ArrayBase, dimension_numbers, false) : null,
      yl ? transposeRhs(ct, x as ArrayBase, y.aval, dimension_numbers) : null,
    ];
  },
  batch([x, y], [dx, dy], { dimension_numbers, preferred_element_type }) {
    const [[lc, rc], [lb, rb]] = dimension_numbers;
    const up = (axes: Axes) => axes.map((a) => a + 1);
    const dot = (a: ArrayBase, b: ArrayBase, dn: DotDimensionNumbers) => dotGeneral(a, b, dn, preferred_element_type);
    if (dx !== null && dy !== null) {
      // Both batched: the vmapped axis becomes a new leading batch axis of the dot.
      const out = dot(moveAxis(x!, dx!, 0), moveAxis(y!, dy!, 0), [[up(lc), up(rc)], [[0, ...up(lb)], [0, ...up(rb)]]]);
      return [[out], [0]];
    }
    if (dx !== null) {
      // Only lhs batched: its vmapped axis is the first lhs free axis, right after the batch axes.
      const out = dot(moveAxis(x!, dx!, 0), y!, [[up(lc), rc], [up(lb), rb]]);
      return [[out], [lb.length]];
    }
    // Only rhs batched: the first rhs free axis, after the batch axes and every lhs free axis.
    const out = dot(x!, moveAxis(y!, dy!, 0), [[lc, up(rc)], [lb, up(rb)]]);
    return [[out], [lb.length + freeAxes(x!.ndim, lc, lb).length]];
  },
});

const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => start + i);
const argsort = (xs: Axes): number[] => range(xs.length).sort((a, b) => xs[a]! - xs[b]!);

/**
 * Cotangent of the lhs `x` (JAX's `_dot_general_transpose_lhs`): contract the cotangent with
 * `y` over y's free axes, batching over the batch axes, then permute the result (laid out as
 * [x batch, x free, x contracting ordered by y's axes]) back into x's axis order. `swapped`
 * says the cotangent holds y's free axes before x's (when called for the rhs).
 */
const transposeLhs = (ct: ArrayBase, xAval: ShapedArray, y: ArrayBase, dn: DotDimensionNumbers, swapped: boolean): ArrayBase => {
  const [[xc, yc], [xb, yb]] = dn;
  const xFree = freeAxes(xAval.ndim, xc, xb);
  const yFree = freeAxes(y.ndim, yc, yb);
  const nb = xb.length;
  const ctYAxes = swapped ? range(yFree.length, nb) : range(yFree.length, nb + xFree.length);
  // The cotangent may carry a wider preferred dtype; contract in it, then narrow to x's.
  const yc_ = y.dtype === ct.dtype ? y : convertElementType(y, ct.dtype);
  const xcByY = argsort(yc).map((i) => xc[i]!);
  const perm = inversePermutation([...xb, ...xFree, ...xcByY]);
  // The product is laid out [batch, ct's other axes, y's other axes]. When x wants exactly the
  // two free blocks swapped, multiply in the other order instead: the same sums in the same
  // order, without materialising a transpose (the weight gradients of a dense layer).
  const nA = ct.ndim - nb - ctYAxes.length;
  const nB = perm.length - nb - nA;
  if (nA > 0 && nB > 0 && perm.every((p, i) => (i < nb ? p === i : i < nb + nB ? p === nb + nA + (i - nb) : p === nb + (i - nb - nB)))) {
    return convertElementType(dotGeneral(yc_, ct, [[yFree, ctYAxes], [yb, range(nb)]]), xAval.dtype);
  }
  const prod = dotGeneral(ct, yc_, [[ctYAxes, yFree], [range(nb), yb]]);
  const out = transpose(prod, perm);
  return convertElementType(out, xAval.dtype);
};

/** Cotangent of the rhs: the lhs rule with the operands' roles swapped. */
const transposeRhs = (ct: ArrayBase, x: ArrayBase, yAval: ShapedArray, dn: DotDimensionNumbers): ArrayBase => {
  const [[xc, yc], [xb, yb]] = dn;
  return transposeLhs(ct, yAval, x, [[yc, xc], [yb, xb]], true);
};

/**
 * `lax.dot_general`: contracts `lhs` and `rhs` over paired axes, batching over others.
 * The output is [batch axes, lhs free axes, rhs free axes]. Both inputs share a dtype
 * (float32, float64 or int32); `preferredElementType` widens the result.
 */
export const dotGeneral = (lhs: ArrayBase, rhs: ArrayBase, dimensionNumbers: DotDimensionNumbers, preferredElementType: DType | null = null): ArrayBase =>
  bind1(dotGeneralP, [lhs, rhs], { dimension_numbers: copyNested(dimensionNumbers), preferred_element_type: preferredElementType });

/** A private copy of nested lists, so params never alias the caller's arrays (malformed input passes through for abstractEval to report). */
const copyNested = <T>(x: T): T => (Array.isArray(x) ? (x.map(copyNested) as T) : x);
