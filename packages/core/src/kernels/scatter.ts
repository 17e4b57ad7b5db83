/**
 * The kernel of the scatter family other than scatter_add (set, mul, min, max), in the
 * "take along one axis, with leading batch axes" layout of kernels/gather.ts. Updates apply
 * in row-major order of `upd`, so with repeated indices `set` keeps the last one: the
 * primitive's jvp relies on that order being the same for values and for ids.
 */
import type { DType, TypedArray } from "../dtype.js";
import { type GatherLayout, normalizeIndex } from "./gather.js";

export type ScatterCombine = "set" | "mul" | "min" | "max";

const combiners: Record<ScatterCombine, (a: number, b: number) => number> = {
  set: (_a, b) => b,
  mul: (a, b) => a * b,
  // NaN propagates, as lax.max / lax.min do.
  min: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  max: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
};
const boolCombiners: Record<ScatterCombine, (a: number, b: number) => number> = {
  set: (_a, b) => b,
  mul: (a, b) => a & b,
  min: (a, b) => a & b,
  max: (a, b) => a | b,
};

/** A copy of `x` with out[b, p, idx[b, i], q] = combine(out[...], upd[b, p, i, q]), in order. */
export const scatterCombineKernel = (x: TypedArray, idx: TypedArray, upd: TypedArray, L: GatherLayout, dtype: DType, combine: ScatterCombine): TypedArray => {
  const out = x.slice();
  if (upd.length === 0) return out;
  const f = (dtype === "bool" ? boolCombiners : combiners)[combine];
  const { p: P, n, q: Q, i: I } = L;
  let o = 0;
  for (let b = 0; b < L.b; b++) {
    for (let p = 0; p < P; p++) {
      const rowBase = (b * P + p) * n;
      for (let i = 0; i < I; i++) {
        const s = (rowBase + normalizeIndex(idx[b * I + i]!, n)) * Q;
        for (let q = 0; q < Q; q++) out[s + q] = f(out[s + q]!, upd[o++]!);
      }
    }
  }
  return out;
};
