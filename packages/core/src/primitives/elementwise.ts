/**
 * Building blocks of the elementwise families (unary.ts, binary.ts, compare.ts): a
 * primitive maker per arity, the shared broadcasting batch rule and `unbroadcast`, which
 * transpose rules use to sum a cotangent back to an input's shape.
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray, type TypedArray, typedArrayFor, uninitializedFloatArray } from "../dtype.js";
import { type BatchRule, type JvpRule, type Params, type Primitive, type TransposeRule, definePrimitive } from "../ir/primitive.js";
import { type BinaryKernel, type UnaryKernel, binaryKernel, broadcastCopy, unaryKernel } from "../kernels/elementwise.js";
import { withSimdBinary } from "../kernels/wasm/binary.js";
import { withSimdUnary } from "../kernels/wasm/unary.js";
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

/**
 * A binary kernel from a scalar function, for ops whose loop does not fit in one expression:
 * inputs that are not already of the output's size are broadcast into a temporary first.
 */
export const scalarBinaryKernel =
  (f: (a: number, b: number) => number): BinaryKernel =>
  (a, aShape, b, bShape, out, outShape) => {
    const n = out.length;
    const full = (x: TypedArray, shape: Shape): TypedArray => {
      if (x.length === n || x.length === 1) return x;
      const t = new Float64Array(n);
      broadcastCopy(x, shape, t, outShape);
      return t;
    };
    const A = full(a, aShape);
    const B = full(b, bShape);
    const sa = A.length === 1 ? 0 : 1;
    const sb = B.length === 1 ? 0 : 1;
    for (let i = 0; i < n; i++) out[i] = f(A[i * sa]!, B[i * sb]!);
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

/** The params of an op that has none. */
export type NoParams = Record<never, never>;

export interface UnarySpec<P extends object = NoParams> {
  name: string;
  /** The kernel's expression in `x`, per input dtype (and params, for parameterised ops). */
  expr?: string | ((dtype: DType, params: P) => string);
  /** A hand-written loop, for ops that do not fit in one expression (erf, integer_pow). */
  kernel?: (dtype: DType, params: P) => UnaryKernel;
  dtypes: readonly DType[];
  /** Output dtype (defaults to the input's). */
  outDType?: (d: DType) => DType;
  /** Validates params in abstract evaluation (throws a typed error). */
  checkParams?: (x: ShapedArray, params: P) => void;
  jvp?: JvpRule<P>;
  transpose?: TransposeRule<P>;
  /** The derivative is zero everywhere it exists (floor, sign, comparisons): the jvp gives a zero tangent. */
  zeroDerivative?: boolean;
}

/** Kernels compiled per (dtype, params), since parameterised ops inline their params. */
const kernelCache = <P extends object, K>(make: (d: DType, p: P) => K) => {
  const cache = new Map<string, K>();
  return (d: DType, p: P): K => {
    const key = Object.keys(p).length ? `${d}|${JSON.stringify(p)}` : d;
    let k = cache.get(key);
    if (!k) {
      k = make(d, p);
      cache.set(key, k);
    }
    return k;
  };
};

const exprOf = <P extends object>(name: string, expr: string | ((d: DType, p: P) => string) | undefined, d: DType, p: P): string => {
  if (expr === undefined) throw new Error(`${name}: neither expr nor kernel is given`);
  return typeof expr === "string" ? expr : expr(d, p);
};

const exprs = new WeakMap<Primitive, (dtype: DType, params: object) => string | null>();

/**
 * The scalar expression an elementwise primitive's kernel inlines (in `x`, or in `a` and
 * `b`), or null for ops with hand-written loops: lets a compiler fuse chains into one loop.
 */
export const elementwiseExpr = (prim: Primitive, dtype: DType, params: object = {}): string | null => exprs.get(prim)?.(dtype, params) ?? null;

/** The jvp rule of an op whose derivative is zero: the primal, and a symbolic zero tangent. */
const zeroJvp =
  (prim: () => Primitive): JvpRule =>
  (primals, _tangents, params) => {
    const outs = bind(prim(), primals, params);
    return [outs, outs.map(() => null)];
  };

/** Defines a unary elementwise primitive and returns it with its op function. */
export const unaryPrimitive = (spec: UnarySpec): [Primitive, (x: ArrayBase) => ArrayBase] => {
  const [prim, op] = paramUnaryPrimitive<NoParams>(spec);
  return [prim, (x) => op(x, {})];
};

/**
 * {@link unaryPrimitive} for ops with params (integer_pow's exponent, round's method).
 * Give `P` explicitly: the rules mention the op being defined, which defeats inference.
 */
export const paramUnaryPrimitive = <P extends object>(spec: UnarySpec<P>): [Primitive<P>, (x: ArrayBase, params: P) => ArrayBase] => {
  const kernelFor = kernelCache<P, UnaryKernel>((d, p) => {
    const js = spec.kernel?.(d, p) ?? unaryKernel(exprOf(spec.name, spec.expr, d, p));
    // float32 exp/log/tanh/logistic have Wasm SIMD kernels, faster on all but small arrays.
    return d === "float32" ? (withSimdUnary(spec.name, js) ?? js) : js;
  });
  const outDType = spec.outDType ?? ((d: DType) => d);
  const prim: Primitive<P> = definePrimitive<P>({
    name: spec.name,
    abstractEval: ([x], params) => {
      requireDType(spec.name, x!, spec.dtypes);
      spec.checkParams?.(x!, params);
      return [new ShapedArray(x!.shape, outDType(x!.dtype))];
    },
    impl: ([x], params) => {
      const od = outDType(x!.dtype);
      // Every unary kernel writes each element: a float result need not be zeroed first.
      const out = od === "float32" || od === "float64" ? uninitializedFloatArray(od, x!.size) : typedArrayFor(od, x!.size);
      kernelFor(x!.dtype, params)(bufferOf(x!), out);
      return [fromBuffer(out, x!.shape, od)];
    },
    freshResults: true,
    implInto: ([x], params, [out]) => {
      kernelFor(x!.dtype, params)(bufferOf(x!), out!);
      return [fromBuffer(out!, x!.shape, outDType(x!.dtype))];
    },
    // Each element is read before it is written, at the same index.
    implInPlace: (inputs, params) => (outDType(inputs[0]!.dtype) === inputs[0]!.dtype ? prim.implInto!(inputs, params, [bufferOf(inputs[0]!)]) : null),
    jvp: spec.zeroDerivative ? zeroJvp(() => prim) : spec.jvp,
    transpose: spec.transpose,
    batch: (args, dims, params) => [bind(prim, args, params as Params), [dims[0]!]],
  });
  exprs.set(prim, (d, p) => (spec.kernel ? null : exprOf(spec.name, spec.expr, d, p as P)));
  return [prim, (x, params) => bind(prim, [x], params as Params)[0]!];
};

export interface BinarySpec {
  name: string;
  /** The kernel's expression in `a` and `b`, per input dtype. */
  expr: string | ((dtype: DType) => string);
  /** A hand-written kernel for dtypes whose op does not fit in one expression (null: use expr). */
  kernel?: (dtype: DType) => BinaryKernel | null;
  dtypes: readonly DType[];
  outDType?: (d: DType) => DType;
  jvp?: JvpRule;
  transpose?: TransposeRule;
  /** The derivative is zero everywhere it exists (comparisons): the jvp gives a zero tangent. */
  zeroDerivative?: boolean;
  /**
   * A value `u` with `op(u, a) = op(a, u) = a` exactly for every `a` (1 for mul): a one-element
   * operand holding it leaves the other operand as it is, when that has the output's shape.
   */
  unit?: number;
}

/** The operand an op with `unit` returns unchanged, or null (see {@link BinarySpec.unit}). */
const unitOperand = (x: NDArray, y: NDArray, shape: Shape, unit: number): NDArray | null => {
  const full = (a: NDArray) => a.ndim === shape.length && a.shape.every((d, i) => d === shape[i]);
  const isUnit = (a: NDArray) => a.size === 1 && bufferOf(a)[0] === unit;
  if (isUnit(x) && full(y)) return y;
  if (isUnit(y) && full(x)) return x;
  return null;
};

/** Defines a binary elementwise primitive with NumPy broadcasting; inputs share a dtype. */
export const binaryPrimitive = (spec: BinarySpec): [Primitive, (x: ArrayBase, y: ArrayBase) => ArrayBase] => {
  const kernelFor = kernelCache<object, BinaryKernel>((d) => {
    const js = spec.kernel?.(d) ?? binaryKernel(exprOf(spec.name, spec.expr, d, {}));
    // float add/sub/mul/div/max/min have Wasm SIMD kernels, faster on all but small arrays.
    return withSimdBinary(spec.name, d, js) ?? js;
  });
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
      const same = spec.unit === undefined ? null : unitOperand(x!, y!, shape, spec.unit);
      if (same) return [same];
      const od = outDType(x!.dtype);
      // Every binary kernel writes each element: a float result need not be zeroed first.
      const out = od === "float32" || od === "float64" ? uninitializedFloatArray(od, sizeOf(shape)) : typedArrayFor(od, sizeOf(shape));
      kernelFor(x!.dtype, {})(bufferOf(x!), x!.shape, bufferOf(y!), y!.shape, out, shape);
      return [fromBuffer(out, shape, od)];
    },
    freshResults: true,
    // A pass-through (multiplying by one) needs no memory: impl returns the operand.
    implInto: ([x, y], _params, [out]) => {
      const shape = broadcastAll(spec.name, [x!.aval, y!.aval]);
      if (spec.unit !== undefined && unitOperand(x!, y!, shape, spec.unit)) return null;
      kernelFor(x!.dtype, {})(bufferOf(x!), x!.shape, bufferOf(y!), y!.shape, out!, shape);
      return [fromBuffer(out!, shape, outDType(x!.dtype))];
    },
    // The operand written into has the output's shape, so each of its elements is read
    // before it is written, at the same index (the other may broadcast: it is not written).
    implInPlace: (inputs, params, into) => {
      const target = inputs[into]!;
      const shape = broadcastAll(spec.name, [inputs[0]!.aval, inputs[1]!.aval]);
      if (outDType(target.dtype) !== target.dtype || target.ndim !== shape.length || target.shape.some((d, i) => d !== shape[i])) return null;
      return prim.implInto!(inputs, params, [bufferOf(target)]);
    },
    jvp: spec.zeroDerivative ? zeroJvp(() => prim) : spec.jvp,
    transpose: spec.transpose,
  });
  // The rule re-binds the primitive itself, so it is attached once the record exists.
  prim.batch = broadcastingBatch(prim);
  exprs.set(prim, (d) => (spec.kernel?.(d) ? null : exprOf(spec.name, spec.expr, d, {})));
  return [prim, (x, y) => bind(prim, [x, y])[0]!];
};

