/**
 * The array types users hold: the abstract {@link ArrayBase}, and its concrete form
 * {@link NDArray}. Tracers (trace.ts) are the other subclass. Fluent methods such as
 * `x.add(y)` are installed on `ArrayBase.prototype` by the `np` module (see np/fluent.ts),
 * since the user API sits above this layer.
 */
import { type DType, type TypedArray, ShapedArray, typedArrayFor } from "./dtype.js";
import type { ArgReduceArgs, MaxArgs, SortArgs, SqueezeArgs, SumArgs, TakeArgs } from "./api/arg_types.js";
import type { ArrayAt, AtIndexEntry } from "./api/at_types.js";
import { ValueError } from "./errors.js";
import { formatArray, inspectArray } from "./format.js";
import { sizeOf, type Shape } from "./shape.js";

/** What both concrete arrays and tracers are: something with a shape and a dtype. */
export abstract class ArrayBase {
  abstract get aval(): ShapedArray;
  get shape(): number[] {
    return this.aval.shape.slice();
  }
  get dtype(): DType {
    return this.aval.dtype;
  }
  get ndim(): number {
    return this.aval.shape.length;
  }
  get size(): number {
    return sizeOf(this.aval.shape);
  }
  /** Bytes the array's data takes. */
  get nbytes(): number {
    return this.aval.nbytes;
  }
  /** The single element as a number (throws ConcretizationError on a tracer). */
  abstract item(): number;
  /** Nested JS arrays (throws ConcretizationError on a tracer). */
  abstract toArray(): any;
  /** A copy of the data (throws ConcretizationError on a tracer). */
  abstract toTypedArray(): TypedArray;
  /**
   * The values as JSON-ready nested lists (what `JSON.stringify(x)` writes): numbers, or
   * booleans for a bool array. JSON numbers are doubles written to round-trip exactly, so
   * float64 (and float32, int32) values survive `JSON.parse` bit for bit; the values JSON
   * cannot hold become strings: `"NaN"`, `"Infinity"`, `"-Infinity"` and `"-0"`. The dtype is
   * not part of it: read it back with `np.fromJSON(json, { dtype })`. Throws
   * ConcretizationError on a tracer.
   */
  toJSON(): ArrayJSON {
    return encodeJSON(this.toArray());
  }
}

/** What {@link ArrayBase.toJSON} gives: nested lists of numbers (or booleans), with non-finite values and -0 as strings. */
export type ArrayJSON = number | boolean | "NaN" | "Infinity" | "-Infinity" | "-0" | ArrayJSON[];

const encodeJSON = (v: unknown): ArrayJSON => {
  if (Array.isArray(v)) return v.map(encodeJSON);
  if (typeof v !== "number") return v as boolean;
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return Object.is(v, -0) ? "-0" : v;
};

/**
 * The brand every array carries, registered with `Symbol.for` so that two copies of the
 * library in one process (the ESM and CommonJS builds; tslab loads the latter) recognise
 * each other's arrays, which `instanceof` cannot.
 */
export const ARRAY_BRAND: unique symbol = Symbol.for("cotangent.array") as never;
Object.defineProperty(ArrayBase.prototype, ARRAY_BRAND, { value: true });

/** True for an array or tracer of this or another copy of Cotangent. */
export const isCotangentArray = (x: unknown): x is ArrayBase =>
  x instanceof ArrayBase || (typeof x === "object" && x !== null && (x as Record<symbol, unknown>)[ARRAY_BRAND] === true);

/** True for an array made by another copy of Cotangent (see {@link ARRAY_BRAND}). */
export const isForeignArray = (x: unknown): x is ArrayBase => !(x instanceof ArrayBase) && isCotangentArray(x);

/**
 * This copy's array with the data of another copy's array (a copy of its buffer). A tracer
 * of another copy cannot be adopted: its trace belongs to that copy.
 */
export const adoptForeignArray = (x: ArrayBase, op: string): NDArray => {
  let data: TypedArray;
  try {
    data = x.toTypedArray();
  } catch {
    throw new ValueError(`got a traced value of another copy of Cotangent (${String(x.aval)})`, {
      op,
      hint: "import @cotangent/core one way only (all ESM or all CommonJS) inside a transformed function",
    });
  }
  return new NDArray(data, x.shape, x.dtype);
};

/** Nested JS arrays of numbers or booleans; arrays among them are stacked (`np.array([x, y])`). */
export type NestedArray = number | boolean | ArrayBase | readonly NestedArray[];

/** Anything an `np` function accepts as an array argument. */
export type ArrayLike = ArrayBase | number | boolean | readonly NestedArray[] | TypedArray;


/**
 * Fluent methods, sugar over `np.*` (which stays the reference). They are declared here,
 * with the class, and installed at run time by np/fluent.ts, so the array layer does not
 * depend on the user API.
 */
export interface ArrayBase {
  add(y: ArrayLike): ArrayBase;
  sub(y: ArrayLike): ArrayBase;
  mul(y: ArrayLike): ArrayBase;
  div(y: ArrayLike): ArrayBase;
  pow(y: ArrayLike): ArrayBase;
  neg(): ArrayBase;
  matmul(y: ArrayLike): ArrayBase;
  dot(y: ArrayLike): ArrayBase;
  maximum(y: ArrayLike): ArrayBase;
  minimum(y: ArrayLike): ArrayBase;
  eq(y: ArrayLike): ArrayBase;
  ne(y: ArrayLike): ArrayBase;
  lt(y: ArrayLike): ArrayBase;
  le(y: ArrayLike): ArrayBase;
  gt(y: ArrayLike): ArrayBase;
  ge(y: ArrayLike): ArrayBase;
  exp(): ArrayBase;
  log(): ArrayBase;
  sqrt(): ArrayBase;
  square(): ArrayBase;
  abs(): ArrayBase;
  sin(): ArrayBase;
  cos(): ArrayBase;
  tanh(): ArrayBase;
  sigmoid(): ArrayBase;
  sum(...args: SumArgs): ArrayBase;
  mean(...args: SumArgs): ArrayBase;
  prod(...args: SumArgs): ArrayBase;
  max(...args: MaxArgs): ArrayBase;
  min(...args: MaxArgs): ArrayBase;
  argmax(...args: ArgReduceArgs): ArrayBase;
  argmin(...args: ArgReduceArgs): ArrayBase;
  reshape(shape: number | readonly number[]): ArrayBase;
  transpose(axes?: readonly number[]): ArrayBase;
  /** The transpose (all axes reversed). */
  readonly T: ArrayBase;
  squeeze(...args: SqueezeArgs): ArrayBase;
  expandDims(axis: number | readonly number[]): ArrayBase;
  flatten(): ArrayBase;
  astype(dtype: DType): ArrayBase;
  clip(lo: ArrayLike | null, hi: ArrayLike | null): ArrayBase;
  take(indices: ArrayLike, ...args: TakeArgs): ArrayBase;
  /** `np.sort(x, ...)`. */
  sort(...args: SortArgs): ArrayBase;
  /** `np.argsort(x, ...)`. */
  argsort(...args: SortArgs): ArrayBase;
  /**
   * JAX's `x.at[index]`: `x.at(1, np.sl(0, 2)).set(0)`, `.add(v)`, `.multiply(v)`, `.min(v)`,
   * `.max(v)`, `.get()`; one index entry per argument (see np/at.ts).
   */
  at(...index: AtIndexEntry[]): ArrayAt;
  /** Iterates over the first axis, as NumPy and JAX arrays do: `const [k1, k2] = random.split(k)`. */
  [Symbol.iterator](): Iterator<ArrayBase>;
}

/** Gives kernels the live buffer of an NDArray; not exported from the package. */
export let bufferOf: (x: NDArray) => TypedArray;

/**
 * An immutable, contiguous, row-major array of one dtype. No method mutates it and no
 * caller can reach its buffer: `toTypedArray()` copies.
 */
export class NDArray extends ArrayBase {
  readonly #buf: TypedArray;
  readonly #aval: ShapedArray;

  static {
    bufferOf = (x) => x.#buf;
  }

  /** @internal Use `np.array` and friends; this wraps (does not copy) a buffer. */
  constructor(buf: TypedArray, shape: Shape, dtype: DType) {
    super();
    this.#buf = buf;
    this.#aval = new ShapedArray(shape.slice(), dtype);
  }

  get aval(): ShapedArray {
    return this.#aval;
  }

  /** A copy of the data as a typed array (Uint8Array for bool). */
  toTypedArray(): TypedArray {
    return this.#buf.slice();
  }

  /** Nested JS arrays; booleans for a bool array. */
  toArray(): any {
    const { shape, dtype } = this.#aval;
    const buf = this.#buf;
    const conv = dtype === "bool" ? (v: number) => v !== 0 : (v: number) => v;
    if (shape.length === 0) return conv(buf[0]!);
    const build = (axis: number, offset: number, stride: number): unknown[] => {
      const n = shape[axis]!;
      const inner = stride / Math.max(n, 1);
      const out = new Array(n);
      for (let i = 0; i < n; i++) {
        out[i] =
          axis === shape.length - 1 ? conv(buf[offset + i]!) : build(axis + 1, offset + i * inner, inner);
      }
      return out;
    };
    return build(0, 0, buf.length === 0 ? sizeOf(shape) : buf.length);
  }

  /** The single element of a size-1 array, as a number (bool gives 0 or 1). */
  item(): number {
    if (this.#buf.length !== 1) {
      throw new ValueError(`needs an array of size 1, got shape [${this.shape.join(", ")}]`, {
        op: "item",
        hint: this.size === 0 ? undefined : "reduce first (e.g. np.sum(x).item()) or use toArray()",
      });
    }
    return this.#buf[0]!;
  }

  override toString(): string {
    return formatArray(this.#buf, this.#aval.shape, this.#aval.dtype);
  }
  /**
   * Node's `util.inspect` (console.log, the REPL, tslab): `toString()`'s text, same numbers
   * and precision, wrapped as JAX's repr, `Array([1., 2.], dtype=float32)`.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return inspectArray(this.toString(), this.#aval.dtype);
  }
  [Symbol.toPrimitive](hint: string): number | string {
    if (hint === "string") return this.toString();
    return this.item();
  }
}

/** @internal Wraps a freshly computed buffer without copying. */
export const fromBuffer = (buf: TypedArray, shape: Shape, dtype: DType): NDArray =>
  new NDArray(buf, shape, dtype);

/** @internal A new zero-filled array. */
export const emptyArray = (shape: Shape, dtype: DType): NDArray =>
  new NDArray(typedArrayFor(dtype, sizeOf(shape)), shape, dtype);
