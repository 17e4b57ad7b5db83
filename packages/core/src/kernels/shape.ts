/**
 * Kernels that move blocks of data: strided slices, padding (with negative edges and
 * interior padding), reversal, concatenation, dynamic slices and iota. Each walks the
 * region it copies with `forEachRun`, one tight loop per run of the last axis.
 */
import { type DType, type TypedArray, typedArrayFor } from "../dtype.js";
import { type Shape, sizeOf, stridesOf } from "../shape.js";
import { forEachRun } from "./layout.js";

/** Copies `region` elements from `src` (at `srcBase`, steps `srcSt`) to `dst` (at `dstBase`, steps `dstSt`). */
export const stridedCopy = (
  src: TypedArray,
  srcBase: number,
  srcSt: readonly number[],
  dst: TypedArray,
  dstBase: number,
  dstSt: readonly number[],
  region: Shape,
): void => {
  forEachRun(region, srcSt, dstSt, (so, doff, n, ss, ds) => {
    so += srcBase;
    doff += dstBase;
    if (ss === 1 && ds === 1) {
      for (let i = 0; i < n; i++) dst[doff + i] = src[so + i]!;
    } else {
      for (let i = 0; i < n; i++) dst[doff + i * ds] = src[so + i * ss]!;
    }
  });
};

/** `x[start:limit:stride]` per axis (bounds already validated, strides positive). */
export const sliceKernel = (
  src: TypedArray,
  shape: Shape,
  start: readonly number[],
  strides: readonly number[],
  outShape: Shape,
  dtype: DType,
): TypedArray => {
  const out = typedArrayFor(dtype, sizeOf(outShape));
  const st = stridesOf(shape);
  let base = 0;
  for (let i = 0; i < shape.length; i++) base += start[i]! * st[i]!;
  stridedCopy(src, base, st.map((s, i) => s * strides[i]!), out, 0, stridesOf(outShape), outShape);
  return out;
};

/** lax.pad: `low`/`high` may be negative (cropping); `interior` inserts gaps between elements. */
export const padKernel = (
  src: TypedArray,
  shape: Shape,
  value: number,
  low: readonly number[],
  interior: readonly number[],
  outShape: Shape,
  dtype: DType,
): TypedArray => {
  const out = typedArrayFor(dtype, sizeOf(outShape));
  if (!Object.is(value, 0)) out.fill(value); // -0 must be written too
  const inSt = stridesOf(shape);
  const outSt = stridesOf(outShape);
  // Per axis, the input indices [lo, hi) whose destination low + i * (interior + 1) lands in the output.
  const region: number[] = [];
  let srcBase = 0;
  let dstBase = 0;
  for (let k = 0; k < shape.length; k++) {
    const step = interior[k]! + 1;
    const lo = low[k]! >= 0 ? 0 : Math.ceil(-low[k]! / step);
    const hi = Math.min(shape[k]!, Math.floor((outShape[k]! - 1 - low[k]!) / step) + 1);
    region.push(Math.max(0, hi - lo));
    srcBase += lo * inSt[k]!;
    dstBase += (low[k]! + lo * step) * outSt[k]!;
  }
  if (sizeOf(region) > 0) {
    stridedCopy(src, srcBase, inSt, out, dstBase, outSt.map((s, k) => s * (interior[k]! + 1)), region);
  }
  return out;
};

/** Reverses the listed axes. */
export const revKernel = (src: TypedArray, shape: Shape, dims: readonly number[], dtype: DType): TypedArray => {
  const out = typedArrayFor(dtype, src.length);
  if (src.length === 0) return out;
  const st = stridesOf(shape);
  let base = 0;
  const srcSt = st.map((s, k) => {
    if (!dims.includes(k)) return s;
    base += (shape[k]! - 1) * s;
    return -s;
  });
  stridedCopy(src, base, srcSt, out, 0, st, shape);
  return out;
};

/** Concatenates `parts` (equal shapes except along `axis`) along `axis`. */
export const concatKernel = (parts: readonly { buf: TypedArray; shape: Shape }[], axis: number, outShape: Shape, dtype: DType): TypedArray => {
  const out = typedArrayFor(dtype, sizeOf(outShape));
  const outSt = stridesOf(outShape);
  let offset = 0;
  for (const p of parts) {
    if (p.buf.length > 0) stridedCopy(p.buf, 0, stridesOf(p.shape), out, offset * outSt[axis]!, outSt, p.shape);
    offset += p.shape[axis]!;
  }
  return out;
};

/**
 * Start of a dynamic window of `size` along an axis of length `n`, as JAX computes it:
 * a negative start counts from the end, then the start is clamped so the window fits.
 */
export const clampStart = (s: number, n: number, size: number): number => {
  const w = s < 0 ? s + n : s;
  return Math.max(0, Math.min(w, n - size));
};

/**
 * dynamic_slice over `nb` leading batch axes: for each batch position b, the window of
 * `sizes` at `starts[k][b]` (already clamped) of `src[b]`.
 */
export const dynamicSliceKernel = (
  src: TypedArray,
  shape: Shape,
  starts: readonly (readonly number[])[],
  nb: number,
  sizes: readonly number[],
  dtype: DType,
): TypedArray => {
  const batch = shape.slice(0, nb);
  const inner = shape.slice(nb);
  const outShape = [...batch, ...sizes];
  const out = typedArrayFor(dtype, sizeOf(outShape));
  const inSt = stridesOf(inner);
  const outSt = stridesOf(sizes);
  const inBlock = sizeOf(inner);
  const outBlock = sizeOf(sizes);
  if (outBlock === 0) return out;
  for (let b = 0; b < sizeOf(batch); b++) {
    let base = b * inBlock;
    for (let k = 0; k < inner.length; k++) base += starts[k]![b]! * inSt[k]!;
    stridedCopy(src, base, inSt, out, b * outBlock, outSt, sizes);
  }
  return out;
};

/** dynamic_update_slice over `nb` leading batch axes: a copy of `src` with `upd` written at the (clamped) starts. */
export const dynamicUpdateSliceKernel = (
  src: TypedArray,
  shape: Shape,
  upd: TypedArray,
  updShape: Shape,
  starts: readonly (readonly number[])[],
  nb: number,
): TypedArray => {
  const out = src.slice();
  const inner = shape.slice(nb);
  const sizes = updShape.slice(nb);
  const inSt = stridesOf(inner);
  const updSt = stridesOf(sizes);
  const inBlock = sizeOf(inner);
  const updBlock = sizeOf(sizes);
  if (updBlock === 0) return out;
  for (let b = 0; b < sizeOf(shape.slice(0, nb)); b++) {
    let base = b * inBlock;
    for (let k = 0; k < inner.length; k++) base += starts[k]![b]! * inSt[k]!;
    stridedCopy(upd, b * updBlock, updSt, out, base, inSt, sizes);
  }
  return out;
};

/** iota: the index along `dimension`, broadcast over `shape`. */
export const iotaKernel = (shape: Shape, dimension: number, dtype: DType): TypedArray => {
  const out = typedArrayFor(dtype, sizeOf(shape));
  const st = stridesOf(shape);
  const n = shape[dimension]!;
  const inner = st[dimension]!;
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(i / inner) % n;
  return out;
};
