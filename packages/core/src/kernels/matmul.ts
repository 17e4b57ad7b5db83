/**
 * The matrix-multiply kernel every contraction lowers to (dot_general directly, convolution
 * through im2col).
 *
 * Layout: both operands are packed as [batch, free, contract] ("NT" form), so the innermost
 * loop walks two contiguous rows. A 4x4 register block of sixteen accumulators reuses each
 * loaded value four times, which is what makes the loop compute-bound instead of
 * load-bound in V8 (no auto-vectorisation). Blocking over k and j keeps the panel of B
 * that the block streams through resident in L1/L2 on machines with small caches.
 *
 * Float operands are packed into Float64Array: the kernel then sees one element kind
 * (monomorphic, so V8 optimises it once), and float32 products are accumulated in
 * doubles and rounded once on store. int32 has its own loop with wrap-around arithmetic,
 * as XLA's integer dot.
 */
import { type DType, type TypedArray, typedArrayFor, uninitializedFloatArray } from "../dtype.js";
import { type Shape, stridesOf } from "../shape.js";
import { forEachRun, transposeKernel } from "./layout.js";
import { type GemmStore, type PanelSource, gemmWasm, storeRows, stridedSource, wasmGemmAvailable } from "./wasm/gemm.js";

/** Depth of one k block: 4 rows of A and the B panel rows stay in L1 across a block. */
const KC = 256;
/** Width of one j block: KC x NC doubles of B (256 KiB) stay in L2 while i sweeps. */
const NC = 128;

/**
 * `c[cOff + i*ldc + j] += sum_k a[aOff + i*k + kk] * b[bOff + j*k + kk]` for an m x n block,
 * with A of shape [m, k] and B of shape [n, k], both row-major and contiguous.
 */
export const gemmNT = (
  a: Float64Array,
  aOff: number,
  b: Float64Array,
  bOff: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
  m: number,
  n: number,
  k: number,
): void => {
  for (let k0 = 0; k0 < k; k0 += KC) {
    const k1 = Math.min(k, k0 + KC);
    for (let j0 = 0; j0 < n; j0 += NC) {
      const j1 = Math.min(n, j0 + NC);
      let i = 0;
      for (; i + 4 <= m; i += 4) rows4(a, aOff + i * k, b, bOff, c, cOff + i * ldc, ldc, k, k0, k1, j0, j1);
      for (; i < m; i++) row1(a, aOff + i * k, b, bOff, c, cOff + i * ldc, k, k0, k1, j0, j1);
    }
  }
};

/** Four rows of A against columns j0..j1 of B: 4x4 register blocks, then 4x1 leftovers. */
const rows4 = (
  a: Float64Array,
  a0: number,
  b: Float64Array,
  bOff: number,
  c: Float64Array,
  c0: number,
  ldc: number,
  k: number,
  k0: number,
  k1: number,
  j0: number,
  j1: number,
): void => {
  const a1 = a0 + k;
  const a2 = a1 + k;
  const a3 = a2 + k;
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const b0 = bOff + j * k;
    const b1 = b0 + k;
    const b2 = b1 + k;
    const b3 = b2 + k;
    let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
    let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
    let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
    for (let kk = k0; kk < k1; kk++) {
      const x0 = a[a0 + kk]!, x1 = a[a1 + kk]!, x2 = a[a2 + kk]!, x3 = a[a3 + kk]!;
      const y0 = b[b0 + kk]!, y1 = b[b1 + kk]!, y2 = b[b2 + kk]!, y3 = b[b3 + kk]!;
      c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
      c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
      c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
      c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
    }
    let o = c0 + j;
    c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03;
    o += ldc;
    c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13;
    o += ldc;
    c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23;
    o += ldc;
    c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
  }
  for (; j < j1; j++) {
    const bj = bOff + j * k;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let kk = k0; kk < k1; kk++) {
      const y = b[bj + kk]!;
      s0 += a[a0 + kk]! * y;
      s1 += a[a1 + kk]! * y;
      s2 += a[a2 + kk]! * y;
      s3 += a[a3 + kk]! * y;
    }
    const o = c0 + j;
    c[o] += s0;
    c[o + ldc] += s1;
    c[o + 2 * ldc] += s2;
    c[o + 3 * ldc] += s3;
  }
};

/** One row of A (the m % 4 leftovers, and matrix-vector products): 1x4 blocks, unrolled. */
const row1 = (
  a: Float64Array,
  a0: number,
  b: Float64Array,
  bOff: number,
  c: Float64Array,
  c0: number,
  k: number,
  k0: number,
  k1: number,
  j0: number,
  j1: number,
): void => {
  let j = j0;
  for (; j + 4 <= j1; j += 4) {
    const b0 = bOff + j * k;
    const b1 = b0 + k;
    const b2 = b1 + k;
    const b3 = b2 + k;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let kk = k0; kk < k1; kk++) {
      const x = a[a0 + kk]!;
      s0 += x * b[b0 + kk]!;
      s1 += x * b[b1 + kk]!;
      s2 += x * b[b2 + kk]!;
      s3 += x * b[b3 + kk]!;
    }
    const o = c0 + j;
    c[o] += s0;
    c[o + 1] += s1;
    c[o + 2] += s2;
    c[o + 3] += s3;
  }
  for (; j < j1; j++) {
    const bj = bOff + j * k;
    // Four partial sums break the add dependency chain of a single dot product.
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let kk = k0;
    for (; kk + 4 <= k1; kk += 4) {
      s0 += a[a0 + kk]! * b[bj + kk]!;
      s1 += a[a0 + kk + 1]! * b[bj + kk + 1]!;
      s2 += a[a0 + kk + 2]! * b[bj + kk + 2]!;
      s3 += a[a0 + kk + 3]! * b[bj + kk + 3]!;
    }
    for (; kk < k1; kk++) s0 += a[a0 + kk]! * b[bj + kk]!;
    c[c0 + j] += s0 + s1 + s2 + s3;
  }
};

/** Integer version of {@link gemmNT}: products and sums wrap modulo 2^32, as int32 does. */
const gemmNTInt32 = (a: Int32Array, aOff: number, b: Int32Array, bOff: number, c: Int32Array, cOff: number, m: number, n: number, k: number): void => {
  for (let i = 0; i < m; i++) {
    const ai = aOff + i * k;
    const ci = cOff + i * n;
    for (let j = 0; j < n; j++) {
      const bj = bOff + j * k;
      let s = 0;
      for (let kk = 0; kk < k; kk++) s = (s + Math.imul(a[ai + kk]!, b[bj + kk]!)) | 0;
      c[ci + j] = s;
    }
  }
};

/**
 * A transposed copy of `src` (of `shape`, axes permuted by `perm`) as float64: the packing
 * step of the float kernel. A float64 source already in order is returned as is (kernels
 * never write to their operands).
 */
export const packFloat64 = (src: TypedArray, shape: Shape, perm: readonly number[]): Float64Array => {
  const identity = perm.every((p, i) => p === i);
  if (identity && src instanceof Float64Array) return src;
  const out = new Float64Array(src.length);
  if (identity) {
    out.set(src);
    return out;
  }
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  forEachRun(outShape, perm.map((p) => inStrides[p]!), stridesOf(outShape), (so, doff, n, ss) => {
    for (let i = 0; i < n; i++) out[doff + i] = src[so + i * ss]!;
  });
  return out;
};

/** Like {@link packFloat64} for int32 operands. */
const packInt32 = (src: TypedArray, shape: Shape, perm: readonly number[]): Int32Array => {
  const identity = perm.every((p, i) => p === i);
  if (identity && src instanceof Int32Array) return src;
  const out = new Int32Array(src.length);
  const inStrides = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]!);
  forEachRun(outShape, perm.map((p) => inStrides[p]!), stridesOf(outShape), (so, doff, n, ss) => {
    for (let i = 0; i < n; i++) out[doff + i] = src[so + i * ss]!;
  });
  return out;
};

/** Below this many multiply-adds the JS kernel wins: packing and the call cost more than the loop. */
const WASM_MIN_FLOPS = 4096;

/**
 * Splits the axes of `op` (permuted to [batch, free, contract]) into three groups whose sizes
 * are `batch`, `rows` and `depth`, and collapses each group to one stride when the buffer's
 * layout allows (always for a row-major operand, and for a transposed one such as B in A·B).
 * Otherwise the operand is first copied into [batch, rows, depth] order.
 * Returns the panel source of batch element t.
 */
const batchedSources = (op: MatmulOperand, batch: number, rows: number, depth: number): ((t: number) => PanelSource) => {
  const strides = stridesOf(op.shape);
  const ps = op.perm.map((a) => op.shape[a]!);
  const pst = op.perm.map((a) => strides[a]!);
  const cut = (from: number, size: number): number => {
    let p = 1;
    let i = from;
    while (p !== size && i < ps.length) p *= ps[i++]!;
    return i;
  };
  const b1 = cut(0, batch);
  const r1 = cut(b1, rows);
  // One stride for axes [lo, hi) when they are nested (size-1 axes never matter), else null.
  const collapse = (lo: number, hi: number): number | null => {
    let stride: number | null = 0;
    let prev = -1;
    for (let i = lo; i < hi; i++) {
      if (ps[i] === 1) continue;
      if (prev >= 0 && pst[prev] !== pst[i]! * ps[i]!) return null;
      prev = i;
      stride = pst[i]!;
    }
    return stride;
  };
  const bs = collapse(0, b1);
  const rs = collapse(b1, r1);
  const ds = collapse(r1, ps.length);
  if (bs !== null && rs !== null && ds !== null) return (t) => stridedSource(op.buf, t * bs, rows, rs, ds);
  const dense = transposeKernel(op.buf, op.shape, op.perm, op.buf instanceof Float32Array ? "float32" : "float64");
  return (t) => stridedSource(dense, t * rows * depth, rows, depth, 1);
};

/** One operand of {@link batchedMatmul}: its buffer, shape, and the permutation to [batch, free, contract]. */
export interface MatmulOperand {
  buf: TypedArray;
  shape: Shape;
  perm: readonly number[];
}

/**
 * One product (no batch) computed by the Wasm kernel exactly as {@link batchedMatmul} does it,
 * with C handed to `store` while it is still in the kernel memory (the jit runs a fused
 * epilogue on it there: compile/gemm_step.ts; `during` is the calling thread's work while
 * the product runs, see {@link gemmWasm}). False, having stored nothing, where
 * batchedMatmul would not take the Wasm path or it cannot run: the caller then calls that.
 */
export const matmulToStore = (lhs: MatmulOperand, rhs: MatmulOperand, m: number, n: number, k: number, outDType: "float32" | "float64", store: GemmStore, during?: () => void): boolean =>
  m * n * k >= WASM_MIN_FLOPS && wasmGemmAvailable() && gemmWasm("dot_general", batchedSources(lhs, 1, m, k)(0), batchedSources(rhs, 1, n, k)(0), k, outDType, store, undefined, during);

/**
 * `out[b, i, j] = sum_k lhs[b, i, k] * rhs[b, j, k]`, where each operand is first permuted
 * (by `perm`) into [batch..., free..., contract...] order and viewed as [B, M, K] / [B, N, K].
 * int32 inputs with an int32 result use wrapping integer arithmetic; everything else
 * accumulates in doubles and is stored as `outDType`.
 */
export const batchedMatmul = (
  lhs: MatmulOperand,
  rhs: MatmulOperand,
  batch: number,
  m: number,
  n: number,
  k: number,
  outDType: DType,
  /** Float memory of the result's length to write the result into (the interpreter's recycled memory). */
  into?: Float32Array | Float64Array,
): TypedArray => {
  if (outDType === "int32") {
    const out = new Int32Array(batch * m * n);
    if (k === 0) return out;
    const a = packInt32(lhs.buf, lhs.shape, lhs.perm);
    const b = packInt32(rhs.buf, rhs.shape, rhs.perm);
    for (let t = 0; t < batch; t++) gemmNTInt32(a, t * m * k, b, t * n * k, out, t * m * n, m, n, k);
    return out;
  }
  if ((outDType === "float32" || outDType === "float64") && m * n * k >= WASM_MIN_FLOPS && wasmGemmAvailable()) {
    // Each product's store writes its whole m x n block (k = 0 included): no zero fill needed.
    const out = into ?? uninitializedFloatArray(outDType, batch * m * n);
    const a = batchedSources(lhs, batch, m, k);
    const b = batchedSources(rhs, batch, n, k);
    let ok = true;
    for (let t = 0; t < batch && ok; t++) ok = gemmWasm("dot_general", a(t), b(t), k, outDType, storeRows(out, t * m * n, n, m, n));
    if (ok) return out;
  }
  const acc = new Float64Array(batch * m * n);
  if (k > 0 && m > 0 && n > 0) {
    const a = packFloat64(lhs.buf, lhs.shape, lhs.perm);
    const b = packFloat64(rhs.buf, rhs.shape, rhs.perm);
    for (let t = 0; t < batch; t++) gemmNT(a, t * m * k, b, t * n * k, acc, t * m * n, n, m, n, k);
  }
  if (outDType === "float64" && !into) return acc;
  const out = into ?? typedArrayFor(outDType, acc.length);
  out.set(acc);
  return out;
};
