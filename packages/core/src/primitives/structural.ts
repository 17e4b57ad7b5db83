/**
 * The structural primitives every transform leans on: broadcast_in_dim, reshape,
 * transpose and convert_element_type, with their rules. (Slicing, padding, concatenation
 * and the like live in shape.ts.)
 */
import { type ArrayBase, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray, castTo, isFloat, typedArrayFor } from "../dtype.js";
import { AxisError, ShapeError, ValueError } from "../errors.js";
import { definePrimitive } from "../ir/primitive.js";
import { broadcastInDimKernel, transposeKernel } from "../kernels/layout.js";
import { type Shape, shapeStr, sizeOf } from "../shape.js";
import { bind1, producerOf } from "../trace.js";
import { scalar } from "./common.js";
import { reduceSum } from "./reduce.js";

// ---------------------------------------------------------------- broadcast_in_dim

export interface BroadcastInDimParams {
  shape: readonly number[];
  broadcast_dimensions: readonly number[];
}

export const broadcastInDimP = definePrimitive<BroadcastInDimParams>({
  name: "broadcast_in_dim",
  abstractEval([x], { shape, broadcast_dimensions: dims }) {
    const op = "broadcast_in_dim";
    if (dims.length !== x!.ndim) {
      throw new ShapeError(`broadcast_dimensions (${dims.join(", ")}) must have one entry per input axis; input is ${x}`, { op });
    }
    dims.forEach((d, k) => {
      if (d < 0 || d >= shape.length || (k > 0 && d <= dims[k - 1]!)) {
        throw new AxisError(`broadcast_dimensions (${dims.join(", ")}) must be increasing and within the output rank ${shape.length}`, { op });
      }
      const n = x!.shape[k]!;
      if (n !== 1 && n !== shape[d]) {
        throw new ShapeError(`input axis ${k} of size ${n} cannot broadcast to output axis ${d} of size ${shape[d]} (input ${x}, output shape ${shapeStr(shape)})`, { op });
      }
    });
    return [new ShapedArray(shape, x!.dtype)];
  },
  freshResults: true,
  impl([x], { shape, broadcast_dimensions }) {
    return [fromBuffer(broadcastInDimKernel(bufferOf(x!), x!.shape, shape, broadcast_dimensions, x!.dtype), shape, x!.dtype)];
  },
  jvp: ([x], [t], params) => [[broadcastInDim(x!, params.shape, params.broadcast_dimensions)], [t && broadcastInDim(t, params.shape, params.broadcast_dimensions)]],
  transpose: ([ct], [x], { shape, broadcast_dimensions: dims }) => {
    if (!ct) return [null];
    const inShape = x!.aval.shape;
    const summed = shape.map((_, i) => i).filter((i) => !dims.includes(i) || (inShape[dims.indexOf(i)] === 1 && shape[i] !== 1));
    const r = summed.length ? reduceSum(ct, summed) : ct;
    return [reshape(r, inShape)];
  },
  batch: ([x], [d], { shape, broadcast_dimensions }, size) => {
    const xb = moveAxis(x!, d!, 0);
    return [[broadcastInDim(xb, [size, ...shape], [0, ...broadcast_dimensions.map((k) => k + 1)])], [0]];
  },
});

export const broadcastInDim = (x: ArrayBase, shape: Shape, broadcastDimensions: readonly number[]): ArrayBase =>
  bind1(broadcastInDimP, [x], { shape: shape.slice(), broadcast_dimensions: broadcastDimensions.slice() });

/**
 * When the traced `x` is a broadcast_in_dim of an operand that NumPy broadcasting would
 * stretch to `x` the same way (its axes the trailing ones), that operand; else null. A
 * binary op may then take the small operand instead: the transpose of a sum seeds a
 * cotangent broadcast from a scalar, and multiplying by that scalar costs no array of ones.
 */
export const broadcastOperand = (x: ArrayBase): ArrayBase | null => {
  const p = producerOf(x);
  if (!p || p.eqn.primitive !== broadcastInDimP) return null;
  const src = p.inputs[0]!;
  const { broadcast_dimensions: dims } = p.eqn.params as unknown as BroadcastInDimParams;
  const lead = x.ndim - src.ndim;
  return dims.every((d, k) => d === lead + k) ? src : null;
};

/** NumPy-style broadcast of `x` to `shape` (trailing axes aligned). */
export const broadcastTo = (x: ArrayBase, shape: Shape): ArrayBase => {
  if (x.ndim === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const off = shape.length - x.ndim;
  return broadcastInDim(x, shape, x.shape.map((_, i) => i + off));
};

/** An array of `value` with the given shape and dtype, as a broadcast scalar. */
export const full = (shape: Shape, value: number, dtype: DType): ArrayBase => broadcastInDim(scalar(value, dtype), shape, []);

/** Zeros of an aval (materialises a symbolic zero). */
export const zerosOf = (a: ShapedArray): ArrayBase => full(a.shape, 0, a.dtype);

// ---------------------------------------------------------------- reshape

export interface ReshapeParams {
  new_sizes: readonly number[];
}

export const reshapeP = definePrimitive<ReshapeParams>({
  name: "reshape",
  abstractEval([x], { new_sizes }) {
    if (sizeOf(new_sizes) !== x!.size || new_sizes.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ShapeError(`cannot reshape ${x} (size ${x!.size}) to ${shapeStr(new_sizes)} (size ${sizeOf(new_sizes)})`, {
        op: "reshape",
        hint: "the total size must stay the same; one dimension may be -1 in np.reshape to infer it",
      });
    }
    return [new ShapedArray(new_sizes, x!.dtype)];
  },
  // Row-major data does not move: share the buffer (arrays are immutable).
  impl: ([x], { new_sizes }) => [fromBuffer(bufferOf(x!), new_sizes, x!.dtype)],
  jvp: ([x], [t], { new_sizes }) => [[reshape(x!, new_sizes)], [t && reshape(t, new_sizes)]],
  transpose: ([ct], [x]) => [ct && reshape(ct, x!.aval.shape)],
  batch: ([x], [d], { new_sizes }, size) => [[reshape(moveAxis(x!, d!, 0), [size, ...new_sizes])], [0]],
});

export const reshape = (x: ArrayBase, shape: Shape): ArrayBase =>
  x.ndim === shape.length && x.shape.every((d, i) => d === shape[i]) ? x : bind1(reshapeP, [x], { new_sizes: shape.slice() });

// ---------------------------------------------------------------- transpose

export interface TransposeParams {
  permutation: readonly number[];
}

export const transposeP = definePrimitive<TransposeParams>({
  name: "transpose",
  abstractEval([x], { permutation: p }) {
    const n = x!.ndim;
    if (p.length !== n || new Set(p).size !== n || p.some((a) => !Number.isInteger(a) || a < 0 || a >= n)) {
      throw new AxisError(`permutation (${p.join(", ")}) is not a permutation of the ${n} axes of ${x}`, { op: "transpose" });
    }
    return [new ShapedArray(p.map((a) => x!.shape[a]!), x!.dtype)];
  },
  freshResults: true,
  impl: ([x], { permutation }) => [fromBuffer(transposeKernel(bufferOf(x!), x!.shape, permutation, x!.dtype), permutation.map((a) => x!.shape[a]!), x!.dtype)],
  jvp: ([x], [t], { permutation }) => [[transpose(x!, permutation)], [t && transpose(t, permutation)]],
  transpose: ([ct], _x, { permutation }) => [ct && transpose(ct, inversePermutation(permutation))],
  batch: ([x], [d], { permutation }) => [[transpose(moveAxis(x!, d!, 0), [0, ...permutation.map((a) => a + 1)])], [0]],
});

export const inversePermutation = (p: readonly number[]): number[] => {
  const inv = new Array<number>(p.length);
  p.forEach((a, i) => (inv[a] = i));
  return inv;
};

export const transpose = (x: ArrayBase, permutation: readonly number[]): ArrayBase =>
  permutation.length === x.ndim && permutation.every((a, i) => a === i) ? x : bind1(transposeP, [x], { permutation: permutation.slice() });

/** Moves axis `from` to position `to` (both non-negative). */
export const moveAxis = (x: ArrayBase, from: number, to: number): ArrayBase => {
  if (from === to) return x;
  const perm = x.shape.map((_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return transpose(x, perm);
};

// ---------------------------------------------------------------- convert_element_type

export interface ConvertParams {
  new_dtype: DType;
}

export const convertElementTypeP = definePrimitive<ConvertParams>({
  name: "convert_element_type",
  abstractEval([x], { new_dtype }) {
    if (!["float32", "float64", "int32", "bool"].includes(new_dtype)) {
      throw new ValueError(`unknown dtype '${new_dtype}'`, { op: "convert_element_type", hint: "use float32, float64, int32 or bool" });
    }
    return [new ShapedArray(x!.shape, new_dtype)];
  },
  freshResults: true,
  impl([x], { new_dtype }) {
    const src = bufferOf(x!);
    const out = typedArrayFor(new_dtype, src.length);
    const f = castTo(new_dtype);
    if (new_dtype === "float32" || new_dtype === "float64") out.set(src);
    else for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
    return [fromBuffer(out, x!.shape, new_dtype)];
  },
  jvp: ([x], [t], { new_dtype }) => [
    [convertElementType(x!, new_dtype)],
    [t && isFloat(x!.dtype) && isFloat(new_dtype) ? convertElementType(t, new_dtype) : null],
  ],
  transpose: ([ct], [x]) => [ct && convertElementType(ct, x!.aval.dtype)],
  batch: ([x], [d], { new_dtype }) => [[convertElementType(x!, new_dtype)], [d!]],
});

export const convertElementType = (x: ArrayBase, dtype: DType): ArrayBase =>
  x.dtype === dtype ? x : bind1(convertElementTypeP, [x], { new_dtype: dtype });
