/** Array constructors: zeros, ones, full, arange, linspace, eye, meshgrid and the *ShapeAndDType variants. */
import { type ArrayBase, fromBuffer } from "../array.js";
import { type DType, castTo, isDType as isDTypeName, typedArrayFor } from "../dtype.js";
import { ValueError } from "../errors.js";
import { sizeOf } from "../shape.js";
import type { PositionalOr } from "../api/arg_types.js";
import { checkParam, describeValue, isPlainObject, parseArgs, signature, withSignature } from "../api/args.js";
import { broadcastTo as broadcastToOp, reshape as reshapeOp } from "../primitives/structural.js";
import { type ArrayLike, type DTypeOption, asArray, checkDType } from "./coerce.js";
import { broadcastArrayTo } from "./shape.js";

export type ShapeLike = number | readonly number[];

const toShape = (op: string, s: ShapeLike): number[] => {
  const shape = typeof s === "number" ? [s] : s.slice();
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ValueError(`shape [${shape.join(", ")}] must hold non-negative integers`, { op });
  }
  return shape;
};

const dtypeOf = (op: string, o: { dtype?: DType | null } | undefined, dflt: DType = "float32"): DType =>
  o?.dtype === undefined || o.dtype === null ? dflt : checkDType(op, o.dtype);

/** A dtype, positionally (as JAX's `np.zeros(shape, dtype)`) or in an options object. */
export type DTypeArgs = PositionalOr<[dtype: DType | null], DTypeOption>;

const fullSig = signature("np.full", ["shape:shape!", "value:array!", "dtype:dtype"]);

/**
 * An array of `value` everywhere. As in JAX, `value` may also be an array (or a traced
 * value) that broadcasts to `shape`; the result then has its dtype unless `dtype` is given.
 */
export const full = (shape: ShapeLike, value: ArrayLike, ...args: DTypeArgs): ArrayBase => {
  const options = parseArgs<{ dtype?: DType | null }>(fullSig, [shape, value, ...args]);
  return fullOf(shape, value, options);
};

const fullOf = (shape: ShapeLike, value: ArrayLike, options: { dtype?: DType | null }): ArrayBase => {
  const sh = toShape("np.full", shape);
  if (typeof value !== "number" && typeof value !== "boolean") {
    const a = asArray(value, options.dtype === undefined || options.dtype === null ? undefined : checkDType("np.full", options.dtype));
    return broadcastArrayTo("np.full", a, sh);
  }
  const d = dtypeOf("np.full", options, typeof value === "boolean" ? "bool" : "float32");
  const buf = typedArrayFor(d, sizeOf(sh));
  if (value !== 0 && value !== false) buf.fill(castTo(d)(Number(value)));
  return fromBuffer(buf, sh, d);
};

const constant = (name: string, value: number) => {
  const sig = signature(name, ["shape:shape!", "dtype:dtype"]);
  return withSignature(sig, (shape: ShapeLike, ...args: DTypeArgs): ArrayBase => fullOf(shape, value, parseArgs(sig, [shape, ...args])));
};
/** An array of zeros: `np.zeros(shape, dtype?)`. */
export const zeros = constant("np.zeros", 0);
/** An array of ones: `np.ones(shape, dtype?)`. */
export const ones = constant("np.ones", 1);

/** What the `*ShapeAndDType` constructors read from their first argument: an array, or anything with its shape and dtype. */
export type ShapeAndDType = { readonly shape: readonly number[]; readonly dtype: DType };
/** `np.fullLike(x, value, dtype?, shape?)` and its options form. */
export type LikeArgs = PositionalOr<[dtype: DType | null, shape: ShapeLike | null], { dtype?: DType | null; shape?: ShapeLike | null }>;

const fullLikeSig = signature("np.fullLike", ["x:any!", "value:array!", "dtype:dtype", { name: "shape", kind: "shape", nullable: true }]);
/** An array of `value` with `x`'s shape and dtype (or those given). `x` may be an array, a tracer or any `{shape, dtype}`. */
export const fullLike = (x: ShapeAndDType, value: ArrayLike, ...args: LikeArgs): ArrayBase => {
  const o = parseArgs<{ dtype?: DType | null; shape?: ShapeLike | null }>(fullLikeSig, [x, value, ...args]);
  return fullOf(o.shape ?? likeShape("np.fullLike", x), value, { dtype: o.dtype ?? x.dtype });
};

/** `x.shape`, checked: a typed error rather than a TypeError on junk. */
const likeShape = (op: string, x: ShapeAndDType): readonly number[] => {
  if (typeof x !== "object" || x === null || !Array.isArray(x.shape) || !isDTypeName(x.dtype)) {
    throw new ValueError(`x must be an array (or an object with shape and dtype), got ${describeValue(x)}`, { op });
  }
  return x.shape;
};

const constantLike = (name: string, value: number) => {
  const sig = signature(name, ["x:any!", "dtype:dtype", { name: "shape", kind: "shape", nullable: true }]);
  return withSignature(sig, (x: ShapeAndDType, ...args: LikeArgs): ArrayBase => {
    const o = parseArgs<{ dtype?: DType | null; shape?: ShapeLike | null }>(sig, [x, ...args]);
    const sh = o.shape ?? likeShape(name, x);
    return fullOf(sh, value, { dtype: o.dtype ?? x.dtype });
  });
};
/** Zeros with `x`'s shape and dtype (or those given). */
export const zerosLike = constantLike("np.zerosLike", 0);
/** Ones with `x`'s shape and dtype (or those given). */
export const onesLike = constantLike("np.onesLike", 1);

/**
 * Evenly spaced values in [start, stop) with `step`. `arange(n)` counts from 0. The dtype
 * is int32 when all bounds are integers, else float32 (JAX's rule).
 */
const arangeSig = signature("np.arange", ["start:number!", { name: "stop", kind: "number", nullable: true }, { name: "step", kind: "number", nullable: true }, "dtype:dtype"]);
export const arange = (start: number, ...rest: PositionalOr<[stop: number | null, step: number | null, dtype: DType | null], DTypeOption>): ArrayBase => {
  const op = "np.arange";
  // The options object may follow any number of bounds: arange(9, {dtype}), arange(1, 9, 2, {dtype}).
  const options = parseArgs<{ start: number; stop?: number | null; step?: number | null; dtype?: DType | null }>(arangeSig, [start, ...rest]);
  let stop = options.stop ?? undefined;
  const step = options.step ?? 1;
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0 || !Number.isFinite(step)) throw new ValueError(`step must be a finite non-zero number, got ${step}`, { op });
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new ValueError(`bounds must be finite numbers, got start ${start} and stop ${stop}`, { op });
  const ints = [start, stop, step].every(Number.isInteger);
  const d = dtypeOf(op, options, ints ? "int32" : "float32");
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (d === "int32" && n > 0 && Math.max(Math.abs(start), Math.abs(start + (n - 1) * step)) > 2147483647) {
    throw new ValueError(`values from ${start} to ${start + (n - 1) * step} do not fit in int32`, { op, hint: "pass {dtype: 'float64'}" });
  }
  const buf = typedArrayFor(d, n);
  for (let i = 0; i < n; i++) buf[i] = start + i * step;
  return fromBuffer(buf, [n], d);
};

/** Options of `np.linspace`. */
export interface LinspaceOptions extends DTypeOption {
  /** Include `stop` (default true). */
  endpoint?: boolean;
  /** The number of values (default 50). */
  num?: number;
}
const linspaceSig = signature("np.linspace", ["start:finite!", "stop:finite!", "num:count", "endpoint:bool", "retstep:out", "dtype:dtype"]);
/**
 * `num` evenly spaced values from start to stop (inclusive unless `endpoint: false`):
 * `np.linspace(start, stop, num?, endpoint?, retstep?, dtype?)` as in JAX, or options. With
 * an integer dtype the values are floored, as JAX does (not truncated towards zero).
 */
export const linspace = (start: number, stop: number, ...args: PositionalOr<[num: number, endpoint: boolean, retstep: null, dtype: DType | null], LinspaceOptions>): ArrayBase => {
  const options = parseArgs<{ num?: number; endpoint?: boolean; dtype?: DType | null }>(linspaceSig, [start, stop, ...args]);
  const num = options.num ?? 50;
  const d = dtypeOf("np.linspace", options);
  const endpoint = options.endpoint ?? true;
  const div = endpoint ? num - 1 : num;
  const stepv = div > 0 ? (stop - start) / div : 0;
  const buf = typedArrayFor(d, num);
  const round = d === "int32" ? Math.floor : (v: number) => v;
  for (let i = 0; i < num; i++) buf[i] = round(start + i * stepv);
  if (endpoint && num > 1) buf[num - 1] = round(stop);
  return fromBuffer(buf, [num], d);
};

/** The identity matrix (or `n`×`m` with ones on diagonal `k`). */
const eyeSig = signature("np.eye", ["n:count!", { name: "m", kind: "count", nullable: true }, "k:int", "dtype:dtype"]);
export const eye = (n: number, ...args: PositionalOr<[m: number | null, k: number, dtype: DType | null], DTypeOption & { k?: number }>): ArrayBase => {
  const options = parseArgs<{ m?: number | null; k?: number; dtype?: DType | null }>(eyeSig, [n, ...args]);
  const cols = options.m ?? n;
  const sh = toShape("np.eye", [n, cols]);
  const d = dtypeOf("np.eye", options);
  const k = options.k ?? 0;
  const buf = typedArrayFor(d, n * cols);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < cols) buf[i * cols + j] = 1;
  }
  return fromBuffer(buf, sh, d);
};

/** Options of `np.meshgrid`. */
export interface MeshgridOptions {
  /** `'xy'` (default, Cartesian: the first two output axes swap) or `'ij'` (matrix indexing). */
  indexing?: "xy" | "ij";
  /** Return arrays of size 1 along every axis but their own (they broadcast to the full grid). */
  sparse?: boolean;
  /** Only `true` (arrays are immutable; JAX accepts only true too). */
  copy?: boolean;
}

const meshgridSig = signature("np.meshgrid", [
  { name: "copy", kind: "bool", pass: "keyword" },
  { name: "sparse", kind: "bool", pass: "keyword" },
  { name: "indexing", kind: "string", pass: "keyword", choices: ["xy", "ij"] },
]);

/**
 * Coordinate grids from coordinate vectors: `np.meshgrid(x, y, { indexing })`. Each input is
 * flattened; output k varies along its own axis. With `'xy'` indexing (the default) the
 * first two axes are swapped, so for `x` of length n and `y` of length m the outputs have
 * shape [m, n]; with `'ij'` they have shape [n, m]. `sparse` keeps size 1 on the other axes.
 */
export const meshgrid = (...args: readonly (ArrayLike | MeshgridOptions)[]): ArrayBase[] => {
  const op = "np.meshgrid";
  const last = args[args.length - 1];
  const hasOptions = isPlainObject(last);
  const xs = (hasOptions ? args.slice(0, -1) : args) as ArrayLike[];
  const o = parseArgs<MeshgridOptions>(meshgridSig, hasOptions ? [last] : []);
  if (o.copy === false) throw new ValueError("copy=false is not supported: arrays are immutable, so every result is its own array", { op });
  xs.forEach((x, i) => checkParam(op, { name: `xi[${i}]`, kind: "array" }, x));
  const vs = xs.map((x) => { const a = asArray(x); return reshapeOp(a, [a.size]); });
  const n = vs.length;
  const xy = (o.indexing ?? "xy") === "xy" && n >= 2;
  // Output axis of input k: with 'xy' inputs 0 and 1 trade places.
  const axisOf = (k: number) => (xy && k < 2 ? 1 - k : k);
  const shape = new Array<number>(n);
  vs.forEach((v, k) => (shape[axisOf(k)] = v.shape[0]!));
  return vs.map((v, k) => {
    const own = shape.map((d, ax) => (ax === axisOf(k) ? d : 1));
    const r = reshapeOp(v, own);
    return o.sparse ? r : broadcastToOp(r, shape);
  });
};

