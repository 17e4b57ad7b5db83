/**
 * Comparisons, logical/bitwise ops, is_finite and select_n. Comparisons and is_finite give
 * bool and have zero derivatives; select_n is linear in its cases (not in the selector),
 * broadcasts all its arguments as np.where does, and carries tangents and cotangents
 * through the same selection.
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray, type TypedArray, typedArrayFor } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import { type BatchRule, type Primitive, UndefinedPrimal, definePrimitive } from "../ir/primitive.js";
import { broadcastCopy } from "../kernels/elementwise.js";
import { sizeOf } from "../shape.js";
import { bind1 } from "../trace.js";
import { ALL_DTYPES, FLOATS, broadcastAll, sameDType, scalar } from "./common.js";
import { binaryPrimitive, broadcastingBatch, tangentTo, unaryPrimitive, unbroadcast } from "./elementwise.js";

const toBool = () => "bool" as DType;
const BITWISE: readonly DType[] = ["bool", "int32"];

// ---------------------------------------------------------------- comparisons

const comparison = (name: string, op: string) =>
  binaryPrimitive({ name, expr: `a ${op} b ? 1 : 0`, dtypes: ALL_DTYPES, outDType: toBool, zeroDerivative: true });

export const [eqP, eq] = comparison("eq", "===");
export const [neP, ne] = comparison("ne", "!==");
export const [ltP, lt] = comparison("lt", "<");
export const [leP, le] = comparison("le", "<=");
export const [gtP, gt] = comparison("gt", ">");
export const [geP, ge] = comparison("ge", ">=");

export const [isFiniteP, isFinite] = unaryPrimitive({
  name: "is_finite",
  // x - x is 0 for finite x and NaN for ±Infinity and NaN.
  expr: "x - x === 0 ? 1 : 0",
  dtypes: FLOATS,
  outDType: toBool,
  zeroDerivative: true,
});

// ---------------------------------------------------------------- logical and bitwise (bool and int32)

export const [andP, bitwiseAnd] = binaryPrimitive({ name: "and", expr: "a & b", dtypes: BITWISE, zeroDerivative: true });
export const [orP, bitwiseOr] = binaryPrimitive({ name: "or", expr: "a | b", dtypes: BITWISE, zeroDerivative: true });
export const [xorP, bitwiseXor] = binaryPrimitive({ name: "xor", expr: "a ^ b", dtypes: BITWISE, zeroDerivative: true });
export const [notP, bitwiseNot] = unaryPrimitive({
  name: "not",
  expr: (d) => (d === "bool" ? "x ? 0 : 1" : "~x"),
  dtypes: BITWISE,
  zeroDerivative: true,
});

// ---------------------------------------------------------------- select_n

const selectAval = (avals: readonly ShapedArray[]): ShapedArray => {
  const op = "select_n";
  const [which, ...cases] = avals;
  if (!which || cases.length === 0) {
    throw new ValueError("needs a selector and at least one case", { op, hint: "lax.selectN(which, case0, case1, ...)" });
  }
  if (which.dtype === "bool") {
    if (cases.length > 2) {
      throw new ValueError(`a bool selector picks between at most 2 cases, got ${cases.length}`, { op, hint: "use an int32 selector for more cases" });
    }
  } else if (which.dtype !== "int32") {
    throw new DTypeError(`the selector has dtype ${which.dtype}, but it must be bool or int32`, {
      op,
      hint: "compare first (e.g. lax.gt(x, 0)) or convert with np.astype",
    });
  }
  const dtype = sameDType(op, cases);
  return new ShapedArray(broadcastAll(op, avals), dtype);
};

/** Each input's buffer at the output's size, or of length 1 (read at index 0). */
const expanded = (x: NDArray, outShape: readonly number[], n: number): TypedArray => {
  const buf = bufferOf(x);
  if (buf.length === n || buf.length === 1) return buf;
  const t = typedArrayFor(x.dtype, n);
  broadcastCopy(buf, x.shape, t, outShape);
  return t;
};

const selectKernel = (which: TypedArray, cases: TypedArray[], out: TypedArray): void => {
  const n = out.length;
  const sw = which.length === 1 ? 0 : 1;
  if (cases.length === 2) {
    const [c0, c1] = cases as [TypedArray, TypedArray];
    const s0 = c0.length === 1 ? 0 : 1;
    const s1 = c1.length === 1 ? 0 : 1;
    for (let i = 0; i < n; i++) out[i] = which[i * sw] ? c1[i * s1]! : c0[i * s0]!;
    return;
  }
  const strides = cases.map((c) => (c.length === 1 ? 0 : 1));
  const last = cases.length - 1;
  for (let i = 0; i < n; i++) {
    const w = which[i * sw]!;
    // Out-of-range selectors clamp (lax.select_n leaves them undefined).
    const j = w < 0 ? 0 : w > last ? last : w;
    out[i] = cases[j]![i * strides[j]!]!;
  }
};

export const selectNP: Primitive = definePrimitive({
  name: "select_n",
  freshResults: true,
  abstractEval: (avals) => [selectAval(avals)],
  impl: (inputs) => {
    const a = selectAval(inputs.map((x) => x.aval));
    const n = sizeOf(a.shape);
    const out = typedArrayFor(a.dtype, n);
    const [which, ...cases] = inputs.map((x) => expanded(x, a.shape, n));
    selectKernel(which!, cases, out);
    return [fromBuffer(out, a.shape, a.dtype)];
  },
  jvp: ([which, ...cases], [, ...ts]) => {
    const out = selectN(which!, ...cases);
    if (ts.every((t) => t === null)) return [[out], [null]];
    // Zero tangents enter as scalar zeros: select_n broadcasts them.
    const zero = scalar(0, out.dtype);
    return [[out], [tangentTo(selectN(which!, ...ts.map((t) => t ?? zero)), out.shape)]];
  },
  transpose: ([ct], [which, ...cases]) => {
    if (which instanceof UndefinedPrimal) throw new Error("select_n: transpose is linear in the cases, not the selector");
    if (!ct) return [null, ...cases.map(() => null)];
    const zero = scalar(0, ct.dtype);
    return [
      null,
      ...cases.map((c, i) => (c instanceof UndefinedPrimal ? unbroadcast(selectN(which!, ...cases.map((_, j) => (j === i ? ct : zero))), c.aval.shape) : null)),
    ];
  },
  batch: undefined as unknown as BatchRule,
});
(selectNP as { batch: BatchRule }).batch = broadcastingBatch(selectNP);

/**
 * `select_n(which, ...cases)`: elementwise, case number `which` (bool: false -> cases[0],
 * true -> cases[1]; int32: an index). All arguments broadcast together, as in np.where.
 */
export const selectN = (which: ArrayBase, ...cases: ArrayBase[]): ArrayBase => bind1(selectNP, [which, ...cases]);

/** `select(pred, onTrue, onFalse)`: lax.select, i.e. `selectN(pred, onFalse, onTrue)`. */
export const select = (pred: ArrayBase, onTrue: ArrayBase, onFalse: ArrayBase): ArrayBase => selectN(pred, onFalse, onTrue);
