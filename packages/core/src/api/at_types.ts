/**
 * Types of the `x.at(...index)` functional updates (np/at.ts). Types only, so the array
 * layer can declare the fluent `at` method with them.
 */
import type { ArrayBase, ArrayLike } from "../array.js";

/**
 * Out-of-bounds handling, as JAX's `mode`: `'clip'` clamps indices into range,
 * `'promise_in_bounds'` (the default of `get`) also clamps here, `'drop'` (the default of
 * the updates) ignores out-of-range updates, and `'fill'` makes `get` return `fillValue`
 * there (for updates it is `'drop'`). A negative index counts from the end once first.
 */
export type AtMode = "promise_in_bounds" | "clip" | "drop" | "fill";

/** Options of the `x.at(...)` operations. */
export interface AtOptions {
  mode?: AtMode | null;
  /** For `get` with `mode: 'fill'`: the value of out-of-range entries (NaN, int32's minimum or true by default). */
  fillValue?: number | boolean | null;
  /** Accepted for JAX parity; no effect. */
  indicesAreSorted?: boolean;
  /** Accepted for JAX parity; no effect. */
  uniqueIndices?: boolean;
}

/** A slice `start:stop:step` (made by `np.sl`). */
export interface SliceLike {
  readonly start: number | null;
  readonly stop: number | null;
  readonly step: number | null;
}

/**
 * One entry of an `x.at(...)` index, one per axis from the left: an integer, a slice
 * (`np.sl(1, null, 2)`), `np.newaxis` (`null`), `np.ellipsis` (`"..."`), an int32 array or
 * list of integers (advanced indexing, several broadcast together), or a boolean mask
 * (an array or nested list of booleans).
 */
export type AtIndexEntry = number | SliceLike | null | "..." | ArrayBase | readonly unknown[];

/** The helper `x.at(...index)` returns: JAX's `x.at[index]`. Each operation returns a new array. */
export interface ArrayAt {
  /** `x[index]`; out-of-range indices are clamped unless `mode: 'fill'`. */
  get(options?: AtOptions): ArrayBase;
  /** A copy with `x[index] = v` (with repeated indices, the last update wins). */
  set(v: ArrayLike, options?: AtOptions): ArrayBase;
  /** A copy with `x[index] += v` (repeated indices accumulate). */
  add(v: ArrayLike, options?: AtOptions): ArrayBase;
  /** A copy with `x[index] -= v`. */
  subtract(v: ArrayLike, options?: AtOptions): ArrayBase;
  /** A copy with `x[index] *= v` (repeated indices multiply). */
  multiply(v: ArrayLike, options?: AtOptions): ArrayBase;
  /** A copy with `x[index] /= v` (floating-point arrays). */
  divide(v: ArrayLike, options?: AtOptions): ArrayBase;
  /** A copy with `x[index] = minimum(x[index], v)`. */
  min(v: ArrayLike, options?: AtOptions): ArrayBase;
  /** A copy with `x[index] = maximum(x[index], v)`. */
  max(v: ArrayLike, options?: AtOptions): ArrayBase;
}
