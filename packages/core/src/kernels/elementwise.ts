/** Elementwise kernels: unary maps and binary ops with NumPy broadcasting. */
import type { TypedArray } from "../dtype.js";
import type { Shape } from "../shape.js";
import { compile } from "./codegen.js";

export type UnaryKernel = (src: TypedArray, out: TypedArray) => void;
export type BinaryKernel = (
  a: TypedArray,
  aShape: Shape,
  b: TypedArray,
  bShape: Shape,
  out: TypedArray,
  outShape: Shape,
) => void;

/** A loop computing `out[i] = expr(x = src[i])`. */
export const unaryKernel = (expr: string): UnaryKernel => {
  const f = compile<UnaryKernel>(["src", "out"], `const n = out.length; for (let i = 0; i < n; i++) { const x = src[i]; out[i] = ${expr}; }`);
  if (f) return f;
  const g = new Function("x", `return ${expr};`) as (x: number) => number;
  return (src, out) => {
    for (let i = 0; i < out.length; i++) out[i] = g(src[i]!);
  };
};

/** Strides of `shape` aligned to `outShape` (0 along broadcast axes). */
const broadcastStrides = (shape: Shape, outShape: Shape): number[] => {
  const n = outShape.length;
  const st = new Array<number>(n).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const j = n - shape.length + i;
    st[j] = shape[i] === 1 && outShape[j] !== 1 ? 0 : s;
    s *= shape[i]!;
  }
  return st;
};

/**
 * A loop computing `out = expr(a, b)` with broadcasting. Fast paths: equal shapes, and a
 * scalar on either side; otherwise the innermost axis runs as a strided loop.
 */
export const binaryKernel = (expr: string): BinaryKernel => {
  const same = compile<(a: TypedArray, b: TypedArray, out: TypedArray) => void>(
    ["A", "B", "out"],
    `const n = out.length; for (let i = 0; i < n; i++) { const a = A[i], b = B[i]; out[i] = ${expr}; }`,
  );
  const scalarB = compile<(a: TypedArray, b: number, out: TypedArray) => void>(
    ["A", "b", "out"],
    `const n = out.length; for (let i = 0; i < n; i++) { const a = A[i]; out[i] = ${expr}; }`,
  );
  const scalarA = compile<(a: number, b: TypedArray, out: TypedArray) => void>(
    ["a", "B", "out"],
    `const n = out.length; for (let i = 0; i < n; i++) { const b = B[i]; out[i] = ${expr}; }`,
  );
  const strided = compile<(A: TypedArray, sa: number, oa: number, B: TypedArray, sb: number, ob: number, out: TypedArray, oo: number, n: number) => void>(
    ["A", "sa", "oa", "B", "sb", "ob", "out", "oo", "n"],
    `for (let i = 0; i < n; i++) { const a = A[oa + i * sa], b = B[ob + i * sb]; out[oo + i] = ${expr}; }`,
  );
  const g = new Function("a", "b", `return ${expr};`) as (a: number, b: number) => number;
  const sameF = same ?? ((A, B, out) => { for (let i = 0; i < out.length; i++) out[i] = g(A[i]!, B[i]!); });
  const scalarBF = scalarB ?? ((A, b, out) => { for (let i = 0; i < out.length; i++) out[i] = g(A[i]!, b); });
  const scalarAF = scalarA ?? ((a, B, out) => { for (let i = 0; i < out.length; i++) out[i] = g(a, B[i]!); });
  const stridedF = strided ?? ((A, sa, oa, B, sb, ob, out, oo, n) => { for (let i = 0; i < n; i++) out[oo + i] = g(A[oa + i * sa]!, B[ob + i * sb]!); });

  return (a, aShape, b, bShape, out, outShape) => {
    const size = out.length;
    if (size === 0) return;
    if (a.length === size && b.length === size) return sameF(a, b, out);
    if (b.length === 1 && a.length === size) return scalarBF(a, b[0]!, out);
    if (a.length === 1 && b.length === size) return scalarAF(a[0]!, b, out);
    const nd = outShape.length;
    const sa = broadcastStrides(aShape, outShape);
    const sb = broadcastStrides(bShape, outShape);
    const inner = outShape[nd - 1]!;
    const outer = size / inner;
    const idx = new Array<number>(nd - 1).fill(0);
    let oa = 0;
    let ob = 0;
    for (let o = 0; o < outer; o++) {
      stridedF(a, sa[nd - 1]!, oa, b, sb[nd - 1]!, ob, out, o * inner, inner);
      // Advance the multi-index over the outer axes (odometer), updating offsets.
      for (let ax = nd - 2; ax >= 0; ax--) {
        idx[ax]!++;
        oa += sa[ax]!;
        ob += sb[ax]!;
        if (idx[ax]! < outShape[ax]!) break;
        oa -= sa[ax]! * outShape[ax]!;
        ob -= sb[ax]! * outShape[ax]!;
        idx[ax] = 0;
      }
    }
  };
};

/** Copies `src` of `shape` into `out` broadcast to `outShape` (NumPy rules). */
export const broadcastCopy = (src: TypedArray, shape: Shape, out: TypedArray, outShape: Shape): void => {
  copyKernel(src, shape, UNIT, [], out, outShape);
};
const copyKernel = binaryKernel("a");
const UNIT = new Float64Array(1);
