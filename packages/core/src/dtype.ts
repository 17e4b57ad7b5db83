/**
 * Element types and abstract values (avals).
 *
 * The promotion lattice of JAX restricted to Cotangent's four dtypes is a chain:
 * bool < int32 < float32 < float64. JS numbers are *weakly typed*: they adopt the
 * dtype of the array they meet (see {@link resultDType}).
 */

import { ValueError } from "./errors.js";

/** The element types Cotangent supports. `float32` is the default, as in JAX. */
export type DType = "float32" | "float64" | "int32" | "bool";

export const DTYPES: readonly DType[] = ["bool", "int32", "float32", "float64"];

/** Storage of each dtype: bool is one byte per element. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

/** The most elements one array may hold (what engines allow for a typed array, within 4 GiB). */
const MAX_ELEMENTS = 2 ** 32 / 8;

export const typedArrayFor = (dtype: DType, size: number): TypedArray => {
  // A typed error instead of a RangeError from deep inside an engine.
  if (!(size <= MAX_ELEMENTS)) {
    throw new ValueError(`an array of ${size} elements is too large to allocate (at most ${MAX_ELEMENTS} elements)`, { op: "allocate" });
  }
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "int32":
      return new Int32Array(size);
    case "bool":
      return new Uint8Array(size);
  }
};

/** Bytes from which {@link uninitializedFloatArray} skips the zero fill; below, it costs little. */
const UNINITIALIZED_MIN_BYTES = 1 << 16;

/**
 * Node's `Buffer.allocUnsafeSlow`: an ArrayBuffer of its own whose memory is not zeroed
 * (malloc, not calloc). Absent in browsers.
 */
const allocUnsafeSlow: ((bytes: number) => Uint8Array) | undefined = (() => {
  const B = (globalThis as { Buffer?: { allocUnsafeSlow?: (n: number) => Uint8Array } }).Buffer;
  return typeof B?.allocUnsafeSlow === "function" ? (n: number) => B.allocUnsafeSlow!(n) : undefined;
})();

let poisonUninitialized = false;

/** Test hook: fill every array {@link uninitializedFloatArray} makes with NaN, so an element a kernel forgot to write shows. */
export const setPoisonUninitialized = (on: boolean): void => {
  poisonUninitialized = on;
};

/**
 * A float32 or float64 array whose contents are unspecified, for a kernel that writes every
 * element. A fresh `new Float32Array(n)` is zero-filled by the C allocator (calloc): for the
 * megabytes a GEMM or elementwise result can be, that memset is a pass over memory as long
 * as the kernel's own copy-out (12.8 MB per call in W5). In Node, large ones come from
 * `Buffer.allocUnsafeSlow` instead, without the fill; elsewhere, and for small ones, this is
 * {@link typedArrayFor}.
 */
export const uninitializedFloatArray = (dtype: "float32" | "float64", size: number): Float32Array | Float64Array => {
  const es = dtype === "float32" ? 4 : 8;
  const bytes = size * es;
  let out: Float32Array | Float64Array | undefined;
  if (allocUnsafeSlow && bytes >= UNINITIALIZED_MIN_BYTES && size <= MAX_ELEMENTS) {
    const raw = allocUnsafeSlow(bytes);
    if (raw.byteOffset % 8 === 0 && raw.byteLength === bytes) out = dtype === "float32" ? new Float32Array(raw.buffer, raw.byteOffset, size) : new Float64Array(raw.buffer, raw.byteOffset, size);
  }
  out ??= typedArrayFor(dtype, size) as Float32Array | Float64Array;
  if (poisonUninitialized) out.fill(Number.NaN);
  return out;
};

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * How a number becomes an element of `dtype`, as XLA converts: bool is `v != 0`; int32
 * truncates toward zero, maps NaN to 0 and saturates beyond its range (infinities
 * included). A plain store into an Int32Array would wrap instead: 3e9 would become
 * -1294967296 and inf 0.
 */
export const castTo = (dtype: DType): ((v: number) => number) =>
  dtype === "bool"
    ? (v) => (v !== 0 ? 1 : 0)
    : dtype === "int32"
      ? (v) => (v !== v ? 0 : v <= INT32_MIN ? INT32_MIN : v >= INT32_MAX ? INT32_MAX : Math.trunc(v))
      : (v) => v;

export const bytesPerElement = (dtype: DType): number =>
  dtype === "float64" ? 8 : dtype === "bool" ? 1 : 4;

export const isFloat = (d: DType): boolean => d === "float32" || d === "float64";
export const isInt = (d: DType): boolean => d === "int32";

const rank: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** Least upper bound of strongly typed dtypes on the chain bool < int32 < float32 < float64. */
export const promoteDTypes = (a: DType, b: DType): DType => (rank[a] >= rank[b] ? a : b);

/** Short names used by the IR printer, as in JAX (`f32[3]`). */
export const shortName: Record<DType, string> = {
  float32: "f32",
  float64: "f64",
  int32: "i32",
  bool: "bool",
};

export const isDType = (x: unknown): x is DType =>
  x === "float32" || x === "float64" || x === "int32" || x === "bool";

/** The weak dtype of a JS scalar: integers are weak int32, others weak float32, booleans bool. */
export const weakDTypeOf = (x: number | boolean): DType =>
  typeof x === "boolean" ? "bool" : Number.isInteger(x) ? "int32" : "float32";

/**
 * The dtype a weakly typed JS scalar takes when combined with a strongly typed array dtype:
 * the array's dtype wins unless the scalar is a float and the array is not (then float32).
 */
export const joinWeak = (strong: DType, weak: DType): DType =>
  rank[weak] > rank[strong] ? (weak === "float32" ? "float32" : weak) : strong;

/** An abstract value: what tracing knows of an array (its shape and dtype, not its data). */
export class ShapedArray {
  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {}
  get ndim(): number {
    return this.shape.length;
  }
  get size(): number {
    let s = 1;
    for (const d of this.shape) s *= d;
    return s;
  }
  get nbytes(): number {
    return this.size * bytesPerElement(this.dtype);
  }
  equals(o: ShapedArray): boolean {
    return this.dtype === o.dtype && sameShape(this.shape, o.shape);
  }
  /** `f32[2,3]`, JAX's notation. */
  toString(): string {
    return `${shortName[this.dtype]}[${this.shape.join(",")}]`;
  }
}

export const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);
