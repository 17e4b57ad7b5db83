/**
 * Building blocks of the elementwise families (unary.ts, binary.ts, compare.ts): a
 * primitive maker per arity, the shared broadcasting batch rule and `unbroadcast`, which
 * transpose rules use to sum a cotangent back to an input's shape.
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray, typedArrayFor } from "../dtype.js";
import { type BatchRule, type JvpRule, type Primitive, type TransposeRule, definePrimitive } from "../ir/primitive.js";
import { type BinaryKernel, type UnaryKernel, binaryKernel, unaryKernel } from "../kernels/elementwise.js";
import { sizeOf, type Shape } from "../shape.js";
import { bind } from "../trace.js";
import { broadcastAll, requireDType, sameDType } from "./common.js";
import { reduceSum } from "./reduce.js";
import { broadcastTo, moveAxis, reshape } from "./structural.js";

/** vmap rule of every broadcasting elementwise primitive: batch axes to the front, ranks aligned. */
export const broadcastingBatch =
  (prim: Primitive): BatchRule =>
  (args, dims, params, size) => {
    const rank = Math.max(...args.map((x, i) => x.ndim - (dims[i] === null ? 0 : 1)));
    const moved = args.map((x, i) => {
      const d = dims[i];
      if (d === null || d === undefined) return x;
      const xb = moveAxis(x, d, 0);
      const k = xb.ndim - 1;
      return k < rank ? reshape(xb, [size, ...new Array<number>(rank - k).fill(1), ...xb.shape.slice(1)]) : xb;
    });
    const outs = bind(prim, moved, params);
    return [outs, outs.map(() => 0)];
  };

/** Sums `ct` (of a broadcast result's shape) back down to `shape`. */
export const unbroadcast = (ct: ArrayBase, shape: Shape): ArrayBase => {
  if (ct.ndim === shape.length && ct.shape.every((d, i) => d === shape[i])) return ct;
  const lead = ct.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < lead; i++) axes.push(i);
  shape.forEach((d, i) => {
    if (d === 1 && ct.shape[i + lead] !== 1) axes.push(i + lead);
  });
  return reshape(reduceSum(ct, axes), shape);
};

/** A tangent of `shape` from one that may be smaller (broadcast) or a symbolic zero. */
export const tangentTo = (t: ArrayBase | null, shape: Shape): ArrayBase | null => (t ? broadcastTo(t, shape) : null);

export interface UnarySpec {
  name: string;
  /** The kernel's expression in `x`, per input dtype. */
  expr: string | ((dtype: DType) => string);
  dtypes: readonly DType[];
  /** Output dtype (defaults to the input's). */
  outDType?: (d: DType) => DType;
  jvp?: JvpRule;
  transpose?: TransposeRule;
}

/** Defines a unary elementwise primitive and returns it with its op function. */
export const unaryPrimitive = (spec: UnarySpec): [Primitive, (x: ArrayBase) => ArrayBase] => {
  const kernels = new Map<DType, UnaryKernel>();
  const kernelFor = (d: DType) => {
    let k = kernels.get(d);
    if (!k) {
      k = unaryKernel(typeof spec.expr === "string" ? spec.expr : spec.expr(d));
      kernels.set(d, k);
    }
    return k;
  };
  const outDType = spec.outDType ?? ((d: DType) => d);
  const prim: Primitive = definePrimitive({
    name: spec.name,
    abstractEval: ([x]) => {
      requireDType(spec.name, x!, spec.dtypes);
      return [new ShapedArray(x!.shape, outDType(x!.dtype))];
    },
    impl: ([x]) => {
      const od = outDType(x!.dtype);
      const out = typedArrayFor(od, x!.size);
      kernelFor(x!.dtype)(bufferOf(x!), out);
      return [fromBuffer(out, x!.shape, od)];
    },
    jvp: spec.jvp,
    transpose: spec.transpose,
    batch: (args, dims, params) => [bind(prim, args, params), [dims[0]!]],
  });
  return [prim, (x) => bind(prim, [x])[0]!];
};

export interface BinarySpec {
  name: string;
  /** The kernel's expression in `a` and `b`, per input dtype. */
  expr: string | ((dtype: DType) => string);
  dtypes: readonly DType[];
  outDType?: (d: DType) => DType;
  jvp?: JvpRule;
  transpose?: TransposeRule;
}

/** Defines a binary elementwise primitive with NumPy broadcasting; inputs share a dtype. */
export const binaryPrimitive = (spec: BinarySpec): [Primitive, (x: ArrayBase, y: ArrayBase) => ArrayBase] => {
  const kernels = new Map<DType, BinaryKernel>();
  const kernelFor = (d: DType) => {
    let k = kernels.get(d);
    if (!k) {
      k = binaryKernel(typeof spec.expr === "string" ? spec.expr : spec.expr(d));
      kernels.set(d, k);
    }
    return k;
  };
  const outDType = spec.outDType ?? ((d: DType) => d);
  const prim: Primitive = definePrimitive({
    name: spec.name,
    abstractEval: (avals) => {
      const d = sameDType(spec.name, avals);
      requireDType(spec.name, avals[0]!, spec.dtypes);
      return [new ShapedArray(broadcastAll(spec.name, avals), outDType(d))];
    },
    impl: ([x, y]) => {
      const shape = broadcastAll(spec.name, [x!.aval, y!.aval]);
      const od = outDType(x!.dtype);
      const out = typedArrayFor(od, sizeOf(shape));
      kernelFor(x!.dtype)(bufferOf(x!), x!.shape, bufferOf(y!), y!.shape, out, shape);
      return [fromBuffer(out, shape, od)];
    },
    jvp: spec.jvp,
    transpose: spec.transpose,
    batch: undefined as unknown as BatchRule,
  });
  (prim as { batch: BatchRule }).batch = broadcastingBatch(prim);
  return [prim, (x, y) => bind(prim, [x, y])[0]!];
};

export type { NDArray };
