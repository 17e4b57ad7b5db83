/**
 * Helpers shared by the primitive families: abstract-evaluation checks, scalar constants
 * for rules, and the elementwise batching rule.
 */
import { type ArrayBase, NDArray, fromBuffer } from "../array.js";
import { type DType, ShapedArray, castTo, typedArrayFor } from "../dtype.js";
import { AxisError, DTypeError, ShapeError } from "../errors.js";
import { broadcastShapes, shapeStr } from "../shape.js";

/** A scalar array of `dtype` (a Literal once it meets a trace). */
export const scalar = (value: number, dtype: DType): NDArray => {
  const b = typedArrayFor(dtype, 1);
  b[0] = castTo(dtype)(value);
  return fromBuffer(b, [], dtype);
};

/** A scalar of `x`'s dtype. */
export const scalarLike = (x: ArrayBase | ShapedArray, value: number): NDArray => scalar(value, x instanceof ShapedArray ? x.dtype : x.dtype);

/** Checks that all inputs share a dtype (the np layer promotes before binding). */
export const sameDType = (op: string, avals: readonly ShapedArray[]): DType => {
  const d = avals[0]!.dtype;
  for (let i = 1; i < avals.length; i++) {
    if (avals[i]!.dtype !== d) {
      throw new DTypeError(
        `inputs must share a dtype, got ${avals.map((a) => a.toString()).join(" and ")} (argument ${i})`,
        { op, hint: "convert with np.astype, or use the np.* function, which promotes dtypes" },
      );
    }
  }
  return d;
};

/** The NumPy broadcast of the input shapes, or a ShapeError naming them. */
export const broadcastAll = (op: string, avals: readonly ShapedArray[]): number[] => {
  let out: number[] = [];
  for (let i = 0; i < avals.length; i++) {
    const next = broadcastShapes(out, avals[i]!.shape);
    if (!next) {
      throw new ShapeError(
        `shapes ${avals.map((a) => shapeStr(a.shape)).join(", ")} do not broadcast (argument ${i} of shape ${shapeStr(avals[i]!.shape)} does not fit ${shapeStr(out)})`,
        { op, hint: "NumPy broadcasting aligns trailing axes; each pair must be equal or 1 (np.expandDims / np.reshape can add axes)" },
      );
    }
    out = next;
  }
  return out;
};

export const requireDType = (op: string, aval: ShapedArray, allowed: readonly DType[], what = "input"): void => {
  if (!allowed.includes(aval.dtype)) {
    throw new DTypeError(`${what} has dtype ${aval.dtype}, but ${op} accepts ${allowed.join(", ")}`, {
      op,
      hint: allowed.every((d) => d.startsWith("float")) ? "convert integers first, e.g. np.astype(x, 'float32')" : undefined,
    });
  }
};

export const FLOATS: readonly DType[] = ["float32", "float64"];
export const NUMERIC: readonly DType[] = ["float32", "float64", "int32"];
export const ALL_DTYPES: readonly DType[] = ["float32", "float64", "int32", "bool"];

/** Normalises a possibly negative axis for rank `ndim`, or throws AxisError. */
export const normalizeAxis = (op: string, axis: number, ndim: number, what = "axis"): number => {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new AxisError(
      `${what} ${axis} is out of range for an array of rank ${ndim} (${ndim === 0 ? "a scalar has no axes" : `valid: ${-ndim} to ${ndim - 1}`})`,
      { op },
    );
  }
  return axis < 0 ? axis + ndim : axis;
};

/** Normalises and de-duplicates axes; throws AxisError on repeats. */
export const normalizeAxes = (op: string, axes: readonly number[], ndim: number): number[] => {
  const out = axes.map((a) => normalizeAxis(op, a, ndim));
  if (new Set(out).size !== out.length) throw new AxisError(`repeated axis in (${axes.join(", ")})`, { op });
  return out;
};

export const aval = (shape: readonly number[], dtype: DType): ShapedArray => new ShapedArray(shape, dtype);
