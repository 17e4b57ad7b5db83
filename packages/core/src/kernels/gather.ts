/**
 * Kernels of gather and scatter_add in Cotangent's "take along one axis, with leading
 * batch axes" form (see primitives/indexing.ts). Index normalisation is shared so that
 * scatter_add is exactly gather's adjoint.
 */
import type { DType, TypedArray } from "../dtype.js";
import { type Shape, sizeOf } from "../shape.js";
import { typedArrayFor } from "../dtype.js";

/** A negative index counts from the end (once); the result is clamped into [0, n - 1]. */
export const normalizeIndex = (i: number, n: number): number => {
  const w = i < 0 ? i + n : i;
  return w < 0 ? 0 : w >= n ? n - 1 : w;
};

/**
 * The sizes that describe a gather: operand = [B, P, n, Q] and indices = [B, I], each
 * letter a group of axes flattened to one count.
 */
export interface GatherLayout {
  b: number;
  p: number;
  n: number;
  q: number;
  i: number;
}

export const gatherLayout = (xShape: Shape, idxShape: Shape, axis: number, nb: number): GatherLayout => ({
  b: sizeOf(xShape.slice(0, nb)),
  p: sizeOf(xShape.slice(nb, axis)),
  n: xShape[axis]!,
  q: sizeOf(xShape.slice(axis + 1)),
  i: sizeOf(idxShape.slice(nb)),
});

/** out[b, p, i, q] = x[b, p, idx[b, i], q]. */
export const gatherKernel = (x: TypedArray, idx: TypedArray, L: GatherLayout, dtype: DType): TypedArray => {
  const out = typedArrayFor(dtype, L.b * L.p * L.i * L.q);
  if (out.length === 0) return out;
  const { p: P, n, q: Q, i: I } = L;
  let o = 0;
  for (let b = 0; b < L.b; b++) {
    for (let p = 0; p < P; p++) {
      const rowBase = (b * P + p) * n;
      for (let i = 0; i < I; i++) {
        const k = normalizeIndex(idx[b * I + i]!, n);
        const s = (rowBase + k) * Q;
        for (let q = 0; q < Q; q++) out[o++] = x[s + q]!;
      }
    }
  }
  return out;
};

/** A copy of `x` with out[b, p, idx[b, i], q] += upd[b, p, i, q] (repeated indices accumulate). */
export const scatterAddKernel = (x: TypedArray, idx: TypedArray, upd: TypedArray, L: GatherLayout, dtype: DType): TypedArray => {
  const out = x.slice();
  if (upd.length === 0) return out;
  const { p: P, n, q: Q, i: I } = L;
  const isBool = dtype === "bool";
  let o = 0;
  for (let b = 0; b < L.b; b++) {
    for (let p = 0; p < P; p++) {
      const rowBase = (b * P + p) * n;
      for (let i = 0; i < I; i++) {
        const k = normalizeIndex(idx[b * I + i]!, n);
        const s = (rowBase + k) * Q;
        if (isBool) for (let q = 0; q < Q; q++) out[s + q] = out[s + q]! | upd[o++]!;
        else for (let q = 0; q < Q; q++) out[s + q] += upd[o++]!;
      }
    }
  }
  return out;
};
