/**
 * Reduction kernels along one axis: cumulative scans (cumsum, cumprod, cummax, cummin) and
 * arg-reductions (argmax, argmin). The array is viewed as [outer, n, inner] around the axis.
 */
import { type DType, type TypedArray, typedArrayFor } from "../dtype.js";
import { type Shape, sizeOf } from "../shape.js";

export type ScanOp = "sum" | "prod" | "max" | "min";

const around = (shape: Shape, axis: number): [number, number, number] => [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];

/**
 * Inclusive scan of `op` along `axis` (from the end when `reverse`). Sums and products
 * accumulate in a JS number (float64) and round on store; max/min propagate NaN.
 */
export const cumulativeKernel = (src: TypedArray, shape: Shape, axis: number, op: ScanOp, reverse: boolean, dtype: DType): TypedArray => {
  const out = typedArrayFor(dtype, src.length);
  const [outer, n, inner] = around(shape, axis);
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      const base = o * n * inner + q;
      let acc = 0;
      for (let s = 0; s < n; s++) {
        const k = reverse ? n - 1 - s : s;
        const j = base + k * inner;
        const v = src[j]!;
        if (s === 0) acc = v;
        else if (op === "sum") acc += v;
        // int32 products wrap exactly, as XLA's (a float64 product loses low bits past 2^53).
        else if (op === "prod") acc = dtype === "int32" ? Math.imul(acc, v) : acc * v;
        // Once NaN, always NaN; otherwise a NaN or a better value replaces the running extreme.
        else if (op === "max") {
          if (acc === acc && (v > acc || v !== v)) acc = v;
        } else if (acc === acc && (v < acc || v !== v)) acc = v;
        out[j] = acc;
      }
    }
  }
  return out;
};

/**
 * Index of the first maximum (or minimum) along `axis`; a NaN counts as the extreme, so
 * the first NaN wins, as in NumPy and JAX.
 */
export const argReduceKernel = (src: TypedArray, shape: Shape, axis: number, which: "max" | "min"): Int32Array => {
  const [outer, n, inner] = around(shape, axis);
  const out = new Int32Array(outer * inner);
  const better = which === "max" ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      const base = o * n * inner + q;
      let best = src[base]!;
      let bi = 0;
      if (!Number.isNaN(best)) {
        for (let k = 1; k < n; k++) {
          const v = src[base + k * inner]!;
          if (Number.isNaN(v)) {
            bi = k;
            break;
          }
          if (better(v, best)) {
            best = v;
            bi = k;
          }
        }
      }
      out[o * inner + q] = bi;
    }
  }
  return out;
};
