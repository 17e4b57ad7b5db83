/** `nextafter` toward a JS number, for JS numbers and arrays alike. */
import { ArrayBase } from "../array.js";
import type { DType } from "../dtype.js";
import { nextFloat, nextFloatArray } from "../primitives/random_bits.js";

/**
 * The float of `dtype` next to `x` in the direction of `toward` (JAX's `nextafter`, for
 * directions given as JS numbers): a JS number for a JS number, an array for an array
 * (which steps toward `toward`'s infinity: arrays only move toward +inf or -inf).
 */
export function nextAfter(x: number, toward: number, dtype: DType): number;
export function nextAfter(x: ArrayBase, toward: number, dtype: DType): ArrayBase;
export function nextAfter(x: number | ArrayBase, toward: number, dtype: DType): number | ArrayBase {
  if (x instanceof ArrayBase) return nextFloatArray(x, toward > 0);
  const v = dtype === "float32" ? Math.fround(x) : x;
  return v === toward ? v : nextFloat(v, toward > v, dtype);
}
