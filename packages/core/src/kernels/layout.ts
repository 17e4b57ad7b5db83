/** Kernels that move data: transpose, broadcast_in_dim, reductions over arbitrary axes. */
import { type DType, type TypedArray, typedArrayFor } from "../dtype.js";
import { type Shape, sizeOf, stridesOf } from "../shape.js";
import { WASM_REDUCE_MIN, reduceWasm } from "./wasm/reduce.js";
import { WASM_TRANSPOSE_MIN, transposeWasm } from "./wasm/transpose.js";

/**
 * Visits every element of an array of `shape` in row-major order, calling
 * `inner(srcOffset, dstOffset, n, srcStride, dstStride, src, dst)` once per run of the last
 * axis, where `srcStrides`/`dstStrides` give each axis's step in the two buffers. `src` and
 * `dst` are passed through, so `inner` can be a function defined once at module level
 * rather than a closure made per call: V8 holds a function's optimized code only as long as
 * a closure of it lives, so the optimized code of per-call closures is dropped at every full
 * collection and compiled again (measured: the reduction bodies were recompiled about once
 * every ten steps of W3 eager, on the background threads a two-core machine also needs).
 */
export const forEachRun = <S = undefined, D = undefined>(
  shape: Shape,
  srcStrides: readonly number[],
  dstStrides: readonly number[],
  inner: (so: number, doff: number, n: number, ss: number, ds: number, src: S, dst: D) => void,
  src?: S,
  dst?: D,
): void => {
  const nd = shape.length;
  if (sizeOf(shape) === 0) return;
  if (nd === 0) return inner(0, 0, 1, 0, 0, src as S, dst as D);
  const n = shape[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let so = 0;
  let doff = 0;
  const outer = sizeOf(shape) / n;
  for (let o = 0; o < outer; o++) {
    inner(so, doff, n, srcStrides[nd - 1]!, dstStrides[nd - 1]!, src as S, dst as D);
    for (let ax = nd - 2; ax >= 0; ax--) {
      idx[ax]!++;
      so += srcStrides[ax]!;
      doff += dstStrides[ax]!;
      if (idx[ax]! < shape[ax]!) break;
      so -= srcStrides[ax]! * shape[ax]!;
      doff -= dstStrides[ax]! * shape[ax]!;
      idx[ax] = 0;
    }
  }
};

/** `out[i_perm...] = src[i...]`: a transposed copy. */
export const transposeKernel = (src: TypedArray, shape: Shape, perm: readonly number[], dtype: DType): TypedArray => {
  const out = typedArrayFor(dtype, src.length);
  if (src.length >= WASM_TRANSPOSE_MIN && transposeWasm(src, shape, perm, out)) return out;
  const inStrides = stridesOf(shape);
  // Iterate over the output in order; read the input through permuted strides. Output axes
  // that are also adjacent and in order in the input merge (size-1 axes drop), so a block of
  // trailing axes that stays in place ([A, B, H, W] -> [B, A, H, W]) is one run per row.
  const dims: number[] = [];
  const srcStrides: number[] = [];
  for (const p of perm) {
    const size = shape[p]!;
    if (size === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && srcStrides[last] === inStrides[p]! * size) {
      dims[last]! *= size;
      srcStrides[last] = inStrides[p]!;
    } else {
      dims.push(size);
      srcStrides.push(inStrides[p]!);
    }
  }
  forEachRun(dims, srcStrides, stridesOf(dims), copyRun, src, out);
  return out;
};

/** One run of a strided copy (see {@link forEachRun} for why it is not a closure). */
const copyRun = (so: number, doff: number, n: number, ss: number, _ds: number, src: TypedArray, out: TypedArray): void => {
  if (ss === 1 && n >= 64) out.set(src.subarray(so, so + n), doff);
  else for (let i = 0; i < n; i++) out[doff + i] = src[so + i * ss]!;
};

/** One run of a broadcast: a fill where the source stays put, else a strided copy. */
const broadcastRun = (so: number, doff: number, n: number, ss: number, _ds: number, src: TypedArray, out: TypedArray): void => {
  if (ss === 0) out.fill(src[so]!, doff, doff + n);
  else for (let i = 0; i < n; i++) out[doff + i] = src[so + i * ss]!;
};

/** broadcast_in_dim: input axis k lands on output axis `dims[k]`. */
export const broadcastInDimKernel = (src: TypedArray, shape: Shape, outShape: Shape, dims: readonly number[], dtype: DType): TypedArray => {
  const out = typedArrayFor(dtype, sizeOf(outShape));
  // One value everywhere (a scalar's broadcast, e.g. the seed of a backward pass): one fill.
  if (src.length === 1) return out.fill(src[0]!);
  const inStrides = stridesOf(shape);
  const srcStrides = new Array<number>(outShape.length).fill(0);
  dims.forEach((d, k) => {
    if (shape[k] !== 1) srcStrides[d] = inStrides[k]!;
  });
  forEachRun(outShape, srcStrides, stridesOf(outShape), broadcastRun, src, out);
  return out;
};

export type Accumulate = "sum" | "prod" | "max" | "min" | "and" | "or";

/**
 * A reduction over every axis: one loop in the same order as the general kernel (so the
 * same result), without its per-call closures and stride tables, which dominate on small
 * arrays.
 */
const reduceAll = (src: TypedArray, op: "sum" | "max" | "min", dtype: DType): TypedArray => {
  const n = src.length;
  let a = dtype === "int32" && op === "max" ? -2147483648 : dtype === "int32" && op === "min" ? 2147483647 : INIT[op];
  if (op === "sum") for (let i = 0; i < n; i++) a += src[i]!;
  else if (op === "max") {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (v > a || Number.isNaN(v)) a = v;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (v < a || Number.isNaN(v)) a = v;
    }
  }
  const out = typedArrayFor(dtype, 1);
  out[0] = a;
  return out;
};

const INIT: Record<Accumulate, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity, and: 1, or: 0 };

/** One run of a reduction into `acc`, per op (module-level: see {@link forEachRun}). */
type AccumulateRun = (so: number, d: number, n: number, ss: number, ds: number, src: TypedArray, acc: Float64Array) => void;
const ACCUMULATE_RUNS: Record<Accumulate, AccumulateRun> = {
  sum: (so, d, n, ss, ds, src, acc) => {
    if (ds === 0) {
      let s = 0;
      for (let i = 0; i < n; i++) s += src[so + i * ss]!;
      acc[d] += s;
    } else for (let i = 0; i < n; i++) acc[d + i * ds] += src[so + i * ss]!;
  },
  prod: (so, d, n, ss, ds, src, acc) => {
    for (let i = 0; i < n; i++) acc[d + i * ds] *= src[so + i * ss]!;
  },
  max: (so, d, n, ss, ds, src, acc) => {
    for (let i = 0; i < n; i++) {
      const v = src[so + i * ss]!;
      const j = d + i * ds;
      // NaN propagates, as in NumPy and XLA.
      if (v > acc[j]! || Number.isNaN(v)) acc[j] = v;
    }
  },
  min: (so, d, n, ss, ds, src, acc) => {
    for (let i = 0; i < n; i++) {
      const v = src[so + i * ss]!;
      const j = d + i * ds;
      if (v < acc[j]! || Number.isNaN(v)) acc[j] = v;
    }
  },
  and: (so, d, n, ss, ds, src, acc) => {
    for (let i = 0; i < n; i++) if (!src[so + i * ss]) acc[d + i * ds] = 0;
  },
  or: (so, d, n, ss, ds, src, acc) => {
    for (let i = 0; i < n; i++) if (src[so + i * ss]) acc[d + i * ds] = 1;
  },
};
// int32 products wrap exactly (as XLA's): a float64 product would lose the low bits past 2^53.
const prodInt32Run: AccumulateRun = (so, d, n, ss, ds, src, acc) => {
  for (let i = 0; i < n; i++) acc[d + i * ds] = Math.imul(acc[d + i * ds]!, src[so + i * ss]!);
};

/**
 * Reduces `axes` of `src`. Accumulates in float64 (a JS number) and rounds once on store,
 * so float32 sums are more accurate than a float32 accumulator.
 */
export const reduceKernel = (src: TypedArray, shape: Shape, axes: readonly number[], op: Accumulate, dtype: DType): TypedArray => {
  if ((op === "sum" || op === "max" || op === "min") && (dtype === "float32" || dtype === "float64") && src.length >= WASM_REDUCE_MIN) {
    const out = typedArrayFor(dtype, sizeOf(shape.filter((_, i) => !axes.includes(i))));
    if (reduceWasm(op, dtype, src, shape, axes, out)) return out;
  }
  if (axes.length === shape.length && (op === "sum" || op === "max" || op === "min")) return reduceAll(src, op, dtype);
  const outShape = shape.filter((_, i) => !axes.includes(i));
  const outSize = sizeOf(outShape);
  const acc = new Float64Array(outSize).fill(dtype === "int32" && op === "max" ? -2147483648 : dtype === "int32" && op === "min" ? 2147483647 : INIT[op]);
  const outStridesCompact = stridesOf(outShape);
  const dstStrides = new Array<number>(shape.length).fill(0);
  let k = 0;
  for (let i = 0; i < shape.length; i++) if (!axes.includes(i)) dstStrides[i] = outStridesCompact[k++]!;
  const srcStrides = stridesOf(shape);
  forEachRun(shape, srcStrides, dstStrides, op === "prod" && dtype === "int32" ? prodInt32Run : ACCUMULATE_RUNS[op], src, acc);
  const out = typedArrayFor(dtype, outSize);
  out.set(acc);
  return out;
};
