/**
 * Types of the argument lists the public API accepts: JAX's positional arguments, any prefix
 * of them, optionally followed by one options object. Types only (no run-time code), so the
 * array layer can declare its fluent methods with them.
 */
import type { DType } from "../dtype.js";

/** Every prefix of the tuple `P`, from `[]` to `P` itself. */
export type Prefixes<P extends readonly unknown[]> = P extends readonly [...infer I, unknown] ? P | Prefixes<I> : P;

/**
 * The arguments after the leading arrays: a prefix of the positional list `P` (as JAX takes
 * them), optionally followed by the options object `O`: `np.sum(x, 1)`, `np.sum(x, 1, null,
 * null, true)` and `np.sum(x, { axis: 1, keepdims: true })` all fit `[x, ...PositionalOr<...>]`.
 */
export type PositionalOr<P extends readonly unknown[], O> = Prefixes<Skippable<P>> extends infer Q ? (Q extends readonly unknown[] ? Q | [...Q, O] : never) : never;

/** `undefined` skips a positional argument (it means "absent", as an omitted one). */
export type Skippable<P extends readonly unknown[]> = { [K in keyof P]: P[K] | undefined };

/** One axis, or `null` for "all axes" / "the flattened array". */
export type Axis = number | null;
/** One axis, a list of axes, or `null` for all of them. */
export type Axes = number | readonly number[] | null;

/** Options of the reductions (`np.sum`, `np.max`, `np.all`, ...). */
export interface ReduceOptions {
  /** The axes to reduce: a number, a list, or `null`/absent for all of them. */
  axis?: Axes;
  /** Keep the reduced axes as size 1, so the result broadcasts against the input. */
  keepdims?: boolean;
}

/** Options of the reductions that take a dtype (`np.sum`, `np.prod`, `np.mean`). */
export interface DTypeReduceOptions extends ReduceOptions {
  /** The dtype to accumulate in and return (the input is converted first). */
  dtype?: DType | null;
}

/** `np.sum(x, axis, dtype, out, keepdims)` and its options form. */
export type SumArgs = PositionalOr<[axis: Axes, dtype: DType | null, out: null, keepdims: boolean], DTypeReduceOptions>;
/** `np.max(x, axis, out, keepdims)` and its options form. */
export type MaxArgs = PositionalOr<[axis: Axes, out: null, keepdims: boolean], ReduceOptions>;

/** Options of `np.argmax` / `np.argmin`. */
export interface ArgOptions {
  /** One axis, or `null`/absent for the index into the flattened array. */
  axis?: Axis;
  keepdims?: boolean;
}
/** `np.argmax(x, axis, out, keepdims)` and its options form. */
export type ArgReduceArgs = PositionalOr<[axis: Axis, out: null, keepdims: boolean], ArgOptions>;

/** Options of `np.squeeze`. */
export interface SqueezeOptions {
  axis?: Axes;
}
/** `np.squeeze(x, axis)` and its options form. */
export type SqueezeArgs = PositionalOr<[axis: Axes], SqueezeOptions>;

/** Options of `np.take`. */
export interface TakeOptions {
  /** The axis; `null`/absent flattens the array first (NumPy's default). */
  axis?: Axis;
}
/** `np.take(x, indices, axis)` and its options form. */
export type TakeArgs = PositionalOr<[axis: Axis], TakeOptions>;

/** NumPy's `kind` names; accepted for compatibility (every sort here is stable). */
export type SortKind = "quicksort" | "mergesort" | "heapsort" | "stable";

/** Options of `np.sort` and `np.argsort`. */
export interface SortOptions {
  /** The axis to sort along (-1 by default); `null` sorts the flattened array. */
  axis?: Axis;
  /** NumPy's algorithm name; accepted and ignored (every sort is stable). */
  kind?: SortKind | null;
  /** JAX's flag; every sort is stable, so `false` changes nothing. */
  stable?: boolean;
  /** Sort from largest to smallest (ties keep their input order; NaNs come first). */
  descending?: boolean;
}
/** `np.sort(x, axis, kind)` and its options form. */
export type SortArgs = PositionalOr<[axis: Axis, kind: SortKind | null], SortOptions>;
