/**
 * The convolution kernel: im2col followed by the matmul kernel.
 *
 * Operands arrive in the canonical layouts lhs [N, C, spatial...], rhs [O, I, window...]
 * and the result is produced as [N / batchGroups, O, outSpatial...]. For each output batch
 * element and group, a patch matrix P[position, (i, window...)] is gathered from the input
 * (padding, strides and both dilations are folded into one offset table computed once per
 * call), and the group's slice of the kernel, already contiguous as [Og, I * window] in OIHW
 * layout, is multiplied against it with `gemmNT`, writing rows of the output directly.
 *
 * On the Wasm path the patch matrix is never materialised: the GEMM's packing step gathers
 * patches straight from the image into its panels ({@link patchSource}).
 */
import type { DType, TypedArray } from "../dtype.js";
import { typedArrayFor } from "../dtype.js";
import { sizeOf } from "../shape.js";
import { gemmNT } from "./matmul.js";
import { type ConvMoves, convMoves } from "./wasm/conv_moves.js";
import { GEMM_BLOCKING, type PanelSource, gemmWasm, stridedSource, wasmGemmAvailable } from "./wasm/gemm.js";
import { arena, views } from "./wasm/runtime.js";

/** Everything the kernel needs to know about one convolution, in canonical order. */
export interface ConvGeometry {
  /** Input batch size N. */
  batch: number;
  /** Input features C. */
  inFeatures: number;
  /** Output features O. */
  outFeatures: number;
  /** Kernel input features I (= C / featureGroups). */
  kernelInFeatures: number;
  featureGroups: number;
  batchGroups: number;
  inSpatial: readonly number[];
  window: readonly number[];
  outSpatial: readonly number[];
  strides: readonly number[];
  /** Low padding per spatial axis (high padding only matters for the output size). */
  padLow: readonly number[];
  lhsDilation: readonly number[];
  rhsDilation: readonly number[];
}

/** Elements of one patch-matrix chunk: large enough for gemm blocking, small enough to stay cached. */
const CHUNK_ELEMENTS = 1 << 18;

/**
 * For every (output position, window position) pair, the offset of the input element it
 * reads within one input feature plane, or -1 where it reads padding or a hole left by
 * lhs dilation. Row-major over output positions, then window positions.
 */
export const patchOffsets = (g: ConvGeometry): Int32Array => {
  let table = Int32Array.of(0);
  let positions = 1;
  let windowSize = 1;
  let planeStride = sizeOf(g.inSpatial);
  for (let d = 0; d < g.inSpatial.length; d++) {
    const inSize = g.inSpatial[d]!;
    const outSize = g.outSpatial[d]!;
    const w = g.window[d]!;
    const ldil = g.lhsDilation[d]!;
    const dilatedIn = inSize === 0 ? 0 : (inSize - 1) * ldil + 1;
    planeStride /= inSize || 1;
    const stride = planeStride;
    // Per-axis table: input index read by output index o at window index k, or -1.
    const axis = new Int32Array(outSize * w);
    for (let o = 0; o < outSize; o++) {
      for (let k = 0; k < w; k++) {
        const p = o * g.strides[d]! + k * g.rhsDilation[d]! - g.padLow[d]!;
        axis[o * w + k] = p >= 0 && p < dilatedIn && p % ldil === 0 ? p / ldil : -1;
      }
    }
    const nextPositions = positions * outSize;
    const nextWindow = windowSize * w;
    const next = new Int32Array(nextPositions * nextWindow);
    for (let p = 0; p < positions; p++) {
      for (let o = 0; o < outSize; o++) {
        const row = (p * outSize + o) * nextWindow;
        for (let q = 0; q < windowSize; q++) {
          const base = table[p * windowSize + q]!;
          for (let k = 0; k < w; k++) {
            const v = axis[o * w + k]!;
            next[row + q * w + k] = base < 0 || v < 0 ? -1 : base + v * stride;
          }
        }
      }
    }
    table = next;
    positions = nextPositions;
    windowSize = nextWindow;
  }
  return table;
};

/**
 * The patch matrix of images [0, bases.length) of one group as a GEMM operand: row =
 * (image, output position), depth = (input feature, window position); element = the input
 * value that window position reads, or 0 for padding. `bases[t]` is where image t's first
 * input feature of the group starts.
 */
const patchSource = (lhs: TypedArray, bases: readonly number[], inPlane: number, offsets: Int32Array, windowSize: number, positions: number): PanelSource => ({
  rows: bases.length * positions,
  pack(k0, kc, R, dst, dstOff) {
    const rows = bases.length * positions;
    const panels = Math.ceil(rows / R);
    const i0 = Math.floor(k0 / windowSize);
    const w0 = k0 - i0 * windowSize;
    // Per row of the current panel: where its image starts (-1 for padding rows) and its
    // offset-table row. Writes then run sequentially through the panel, depth by depth.
    const rowBase = new Int32Array(R);
    const rowOff = new Int32Array(R);
    for (let p = 0; p < panels; p++) {
      for (let r = 0; r < R; r++) {
        const row = p * R + r;
        if (row >= rows) {
          rowBase[r] = -1;
          continue;
        }
        const image = Math.floor(row / positions);
        rowBase[r] = bases[image]!;
        rowOff[r] = (row - image * positions) * windowSize;
      }
      let d = dstOff + p * kc * R;
      let plane = i0 * inPlane;
      let w = w0;
      for (let q = 0; q < kc; q++) {
        for (let r = 0; r < R; r++, d++) {
          const b = rowBase[r]!;
          const off = b < 0 ? -1 : offsets[rowOff[r]! + w]!;
          dst[d] = off < 0 ? 0 : lhs[b + plane + off]!;
        }
        if (++w === windowSize) {
          w = 0;
          plane += inPlane;
        }
      }
    }
  },
});

/** Patch-matrix elements per GEMM call: bounds the packed operand (and memory growth) for big batches. */
const PATCH_ELEMENTS = 1 << 22;

/**
 * Convolution of operands in canonical layout (lhs [N, C, ...], rhs [O, I, ...]), returned as
 * `outDType` in layout [N / batchGroups, O, ...]. Float outputs run on the Wasm GEMM when it
 * is available (accumulating in the output's precision, as XLA does); otherwise the JS kernel
 * accumulates in doubles.
 */
export const convKernel = (lhs: TypedArray, rhs: TypedArray, g: ConvGeometry, outDType: DType): TypedArray => {
  if ((outDType === "float32" || outDType === "float64") && wasmGemmAvailable()) {
    const out = convWasm(lhs, rhs, g, outDType);
    if (out) return out;
  }
  return convJs(toFloat64(lhs), toFloat64(rhs), g, outDType);
};

const toFloat64 = (a: TypedArray): Float64Array => (a instanceof Float64Array ? a : Float64Array.from(a as ArrayLike<number>));

const convWasm = (lhs: TypedArray, rhs: TypedArray, g: ConvGeometry, outDType: "float32" | "float64"): TypedArray | null => {
  if (g.strides.every((x) => x === 1) && g.lhsDilation.every((x) => x === 1) && g.inSpatial.length > 0 && shiftWaste(g) <= 1.5) {
    const moves = g.inSpatial.length <= 2 ? convMoves(outDType === "float32" ? 4 : 8) : null;
    if (moves && GEMM_BLOCKING[outDType].nr * (outDType === "float32" ? 4 : 8) === 32) return convWasmShiftedMoves(moves, lhs, rhs, g, outDType);
    return convWasmShifted(lhs, rhs, g, outDType);
  }
  const groups = Math.max(g.featureGroups, g.batchGroups);
  const outBatch = g.batch / g.batchGroups;
  const groupOut = g.outFeatures / groups;
  const inPlane = sizeOf(g.inSpatial);
  const positions = sizeOf(g.outSpatial);
  const windowSize = sizeOf(g.window);
  const I = g.kernelInFeatures;
  const K = I * windowSize;
  const out = typedArrayFor(outDType, outBatch * g.outFeatures * positions);
  if (out.length === 0 || K === 0) return out;
  const offsets = patchOffsets(g);
  const batchPerGroup = g.batch / g.batchGroups;
  const O = g.outFeatures;
  // Images per GEMM: all of them when the patch matrix is small, so one large GEMM per group
  // (which the threads split) replaces many small ones.
  const imagesPerCall = Math.max(1, Math.min(outBatch, Math.floor(PATCH_ELEMENTS / Math.max(1, positions * K))));
  const moves = convMoves(outDType === "float32" ? 4 : 8);
  if (moves && GEMM_BLOCKING[outDType].nr * (outDType === "float32" ? 4 : 8) === 32) {
    return convWasmGather(moves, lhs, rhs, g, outDType, out, offsets, imagesPerCall);
  }
  for (let grp = 0; grp < groups; grp++) {
    const kernel = stridedSource(rhs, grp * groupOut * K, groupOut, K, 1);
    const firstChannel = g.featureGroups > 1 ? grp * I : 0;
    for (let n0 = 0; n0 < outBatch; n0 += imagesPerCall) {
      const n1 = Math.min(outBatch, n0 + imagesPerCall);
      const bases: number[] = [];
      for (let n = n0; n < n1; n++) {
        const srcBatch = g.batchGroups > 1 ? grp * batchPerGroup + n : n;
        bases.push((srcBatch * g.inFeatures + firstChannel) * inPlane);
      }
      const ok = gemmWasm("conv_general_dilated", kernel, patchSource(lhs, bases, inPlane, offsets, windowSize, positions), K, outDType, (mem, c0, ldc) => {
        for (let o = 0; o < groupOut; o++) {
          for (let t = 0; t < n1 - n0; t++) {
            const from = c0 + o * ldc + t * positions;
            out.set(mem.subarray(from, from + positions), ((n0 + t) * O + grp * groupOut + o) * positions);
          }
        }
      });
      if (!ok) return null;
    }
  }
  return out;
};

/**
 * {@link convWasm}'s patch gather with the packing in Wasm (`pack_gather`): the input and the
 * offset table are copied into the kernel memory once; each GEMM call gets a row table
 * (image base, offset-table row) and the panels are gathered there.
 */
const convWasmGather = (
  moves: ConvMoves,
  lhs: TypedArray,
  rhs: TypedArray,
  g: ConvGeometry,
  outDType: "float32" | "float64",
  out: TypedArray,
  offsets: Int32Array,
  imagesPerCall: number,
): TypedArray | null => {
  const es = outDType === "float32" ? 4 : 8;
  const R = 32 / es;
  const groups = Math.max(g.featureGroups, g.batchGroups);
  const outBatch = g.batch / g.batchGroups;
  const groupOut = g.outFeatures / groups;
  const inPlane = sizeOf(g.inSpatial);
  const positions = sizeOf(g.outSpatial);
  const windowSize = sizeOf(g.window);
  const I = g.kernelInFeatures;
  const K = I * windowSize;
  const O = g.outFeatures;
  const batchPerGroup = g.batch / g.batchGroups;
  arena.reset();
  const lhsAt = arena.alloc(lhs.length * es);
  const offsetsAt = arena.alloc(offsets.length * 4);
  const zeroAt = arena.alloc(16);
  const maxRows = Math.ceil((imagesPerCall * positions) / R) * R;
  const rowsAt = arena.alloc(maxRows * 8);
  if (lhsAt < 0 || offsetsAt < 0 || zeroAt < 0 || rowsAt < 0) return null;
  const mark = arena.mark();
  const v = views();
  (es === 4 ? v.f32 : v.f64).set(lhs as Float32Array, lhsAt / es);
  v.i32.set(offsets, offsetsAt / 4);
  v.u8.fill(0, zeroAt, zeroAt + 16);
  for (let grp = 0; grp < groups; grp++) {
    const kernel = stridedSource(rhs, grp * groupOut * K, groupOut, K, 1);
    const firstChannel = g.featureGroups > 1 ? grp * I : 0;
    for (let n0 = 0; n0 < outBatch; n0 += imagesPerCall) {
      const n1 = Math.min(outBatch, n0 + imagesPerCall);
      const rows = (n1 - n0) * positions;
      const panels = Math.ceil(rows / R);
      // Row table: (image base in bytes, or -1 past the last row; offset-table row).
      const table = views().i32.subarray(rowsAt / 4, rowsAt / 4 + panels * R * 2);
      for (let row = 0; row < panels * R; row++) {
        if (row >= rows) {
          table[2 * row] = -1;
          table[2 * row + 1] = 0;
          continue;
        }
        const t = Math.floor(row / positions);
        const srcBatch = g.batchGroups > 1 ? grp * batchPerGroup + n0 + t : n0 + t;
        table[2 * row] = (srcBatch * g.inFeatures + firstChannel) * inPlane * es;
        table[2 * row + 1] = (row - t * positions) * windowSize;
      }
      const source: PanelSource = {
        rows,
        pack(k0, kc, RR, _dst, dstOff) {
          if (RR !== R) throw new Error(`conv: panel width ${RR}, expected ${R}`);
          const i0 = Math.floor(k0 / windowSize);
          moves.pack_gather(lhsAt, dstOff * es, panels, kc, k0 - i0 * windowSize, i0 * inPlane * es, windowSize, inPlane * es, offsetsAt, rowsAt, zeroAt);
        },
      };
      const ok = gemmWasm("conv_general_dilated", kernel, source, K, outDType, (mem, c0, ldc) => {
        for (let o = 0; o < groupOut; o++) {
          for (let t = 0; t < n1 - n0; t++) {
            const from = c0 + o * ldc + t * positions;
            out.set(mem.subarray(from, from + positions), ((n0 + t) * O + grp * groupOut + o) * positions);
          }
        }
      }, mark);
      if (!ok) return null;
    }
  }
  return out;
};

/**
 * Rows the shifted form computes per output position: the padded width over the output
 * width on the last axis, roughly. Near 1 for ordinary convolutions; large for a kernel
 * gradient (a window nearly as large as the input, few outputs), where the gather wins.
 */
const shiftWaste = (g: ConvGeometry): number => {
  const D = g.outSpatial.length;
  let stride = 1;
  let rows = 1;
  for (let d = D - 1; d >= 0; d--) {
    rows += (g.outSpatial[d]! - 1) * stride;
    stride *= g.outSpatial[d]! + (g.window[d]! - 1) * g.rhsDilation[d]!;
  }
  return rows / Math.max(1, sizeOf(g.outSpatial));
};

/**
 * Stride-1 convolutions without input dilation, by shifts: the input is copied once into a
 * zero-padded buffer whose planes cover every position a window reads. Then output position
 * o reads padded element rho(o) + shift(w) for window position w, where rho is o's linear
 * index in the padded plane and shift(w) a constant: the patch matrix's rows are contiguous
 * runs of the padded plane, packed by plain copies (no offset table, no padding tests). The
 * GEMM runs over the "extended" rows rho = 0..rho(last o), a few more than the outputs (the
 * padded width instead of the output width on the last axis); the extra rows are dropped
 * when C is copied out. This matters most for the input gradient of a convolution, whose
 * patch matrix is the window size times larger than the output.
 */
const convWasmShifted = (lhs: TypedArray, rhs: TypedArray, g: ConvGeometry, outDType: "float32" | "float64"): TypedArray | null => {
  const D = g.inSpatial.length;
  const groups = Math.max(g.featureGroups, g.batchGroups);
  const outBatch = g.batch / g.batchGroups;
  const groupOut = g.outFeatures / groups;
  const O = g.outFeatures;
  const C = g.inFeatures;
  const I = g.kernelInFeatures;
  const positions = sizeOf(g.outSpatial);
  const windowSize = sizeOf(g.window);
  const K = I * windowSize;
  const out = typedArrayFor(outDType, outBatch * O * positions);
  if (out.length === 0 || K === 0) return out;
  // Padded extent per axis and its row-major strides.
  const P = g.outSpatial.map((o, d) => o + (g.window[d]! - 1) * g.rhsDilation[d]!);
  const ps = new Array<number>(D);
  let pPlane = 1;
  for (let d = D - 1; d >= 0; d--) {
    ps[d] = pPlane;
    pPlane *= P[d]!;
  }
  const inPlane = sizeOf(g.inSpatial);
  const padded = typedArrayFor(outDType, g.batch * C * pPlane);
  // Copy each input row of the last axis into place (negative padding crops).
  const last = D - 1;
  const inLast = g.inSpatial[last]!;
  const lo = Math.max(0, g.padLow[last]!);
  const from = Math.max(0, -g.padLow[last]!);
  const count = Math.min(inLast - from, P[last]! - lo);
  const outerIn = inPlane / inLast;
  const idx = new Array<number>(D).fill(0);
  for (let plane = 0; plane < g.batch * C; plane++) {
    for (let r = 0; r < outerIn; r++) {
      // idx holds the input index of this row on axes 0..D-2.
      let rem = r;
      let dst = plane * pPlane;
      let inside = count > 0;
      for (let d = D - 2; d >= 0; d--) {
        idx[d] = rem % g.inSpatial[d]!;
        rem = Math.floor(rem / g.inSpatial[d]!);
        const pd = idx[d]! + g.padLow[d]!;
        if (pd < 0 || pd >= P[d]!) inside = false;
        dst += pd * ps[d]!;
      }
      if (!inside) continue;
      const src = plane * inPlane + r * inLast + from;
      for (let x = 0; x < count; x++) padded[dst + lo + x] = lhs[src + x]!;
    }
  }
  // Depth q = (input feature i, window position w) reads padded[row + i * pPlane + shift(w)].
  const depthOff = new Int32Array(K);
  for (let w = 0; w < windowSize; w++) {
    let rem = w;
    let shift = 0;
    for (let d = D - 1; d >= 0; d--) {
      const k = rem % g.window[d]!;
      rem = Math.floor(rem / g.window[d]!);
      shift += k * g.rhsDilation[d]! * ps[d]!;
    }
    for (let i = 0; i < I; i++) depthOff[i * windowSize + w] = i * pPlane + shift;
  }
  let rowsPerImage = 1;
  for (let d = 0; d < D; d++) rowsPerImage += (g.outSpatial[d]! - 1) * ps[d]!;
  const imagesPerCall = Math.max(1, Math.min(outBatch, Math.floor(PATCH_ELEMENTS / Math.max(1, rowsPerImage * K))));
  const batchPerGroup = g.batch / g.batchGroups;
  for (let grp = 0; grp < groups; grp++) {
    const kernel = stridedSource(rhs, grp * groupOut * K, groupOut, K, 1);
    const firstChannel = g.featureGroups > 1 ? grp * I : 0;
    for (let n0 = 0; n0 < outBatch; n0 += imagesPerCall) {
      const n1 = Math.min(outBatch, n0 + imagesPerCall);
      const bases: number[] = [];
      for (let n = n0; n < n1; n++) bases.push(((g.batchGroups > 1 ? grp * batchPerGroup + n : n) * C + firstChannel) * pPlane);
      const ok = gemmWasm("conv_general_dilated", kernel, shiftedSource(padded, bases, rowsPerImage, depthOff), K, outDType, (mem, c0, ldc) => {
        const outLast = g.outSpatial[last]!;
        const runs = positions / outLast;
        for (let o = 0; o < groupOut; o++) {
          for (let t = 0; t < n1 - n0; t++) {
            const cRow = c0 + o * ldc + t * rowsPerImage;
            const oRow = ((n0 + t) * O + grp * groupOut + o) * positions;
            for (let run = 0; run < runs; run++) {
              let rem = run;
              let rho = 0;
              for (let d = D - 2; d >= 0; d--) {
                rho += (rem % g.outSpatial[d]!) * ps[d]!;
                rem = Math.floor(rem / g.outSpatial[d]!);
              }
              out.set(mem.subarray(cRow + rho, cRow + rho + outLast), oRow + run * outLast);
            }
          }
        }
      });
      if (!ok) return null;
    }
  }
  return out;
};

/**
 * {@link convWasmShifted} for 1-D and 2-D convolutions with its data movement in Wasm: the
 * input is copied into the kernel memory once and padded there, the shifted panels are
 * packed by `pack_panels` (32-byte moves per depth), and each GEMM's extended rows are
 * copied into an output region in the kernel memory, which is copied out once at the end.
 */
const convWasmShiftedMoves = (moves: ConvMoves, lhs: TypedArray, rhs: TypedArray, g: ConvGeometry, outDType: "float32" | "float64"): TypedArray | null => {
  const D = g.inSpatial.length;
  const es = outDType === "float32" ? 4 : 8;
  const groups = Math.max(g.featureGroups, g.batchGroups);
  const outBatch = g.batch / g.batchGroups;
  const groupOut = g.outFeatures / groups;
  const O = g.outFeatures;
  const C = g.inFeatures;
  const I = g.kernelInFeatures;
  const positions = sizeOf(g.outSpatial);
  const windowSize = sizeOf(g.window);
  const K = I * windowSize;
  const out = typedArrayFor(outDType, outBatch * O * positions);
  if (out.length === 0 || K === 0) return out;
  // As 2-D: a 1-D convolution is one row high.
  const two = <T,>(xs: readonly T[], one: T): [T, T] => (D === 2 ? [xs[0]!, xs[1]!] : [one, xs[0]!]);
  const [inH, inW] = two(g.inSpatial, 1);
  const [outH, outW] = two(g.outSpatial, 1);
  const [winH, winW] = two(g.window, 1);
  const [dilH, dilW] = two(g.rhsDilation, 1);
  const [padH, padW] = two(g.padLow, 0);
  const P0 = outH + (winH - 1) * dilH;
  const P1 = outW + (winW - 1) * dilW;
  const pPlane = P0 * P1;
  const inPlane = inH * inW;
  arena.reset();
  const lhsAt = arena.alloc(lhs.length * es);
  const padAt = arena.alloc(g.batch * C * pPlane * es);
  const offsAt = arena.alloc(K * 4);
  const rowsPerImage = (outH - 1) * P1 + outW;
  const imagesPerCall = Math.max(1, Math.min(outBatch, Math.floor(PATCH_ELEMENTS / Math.max(1, rowsPerImage * K))));
  const R = 32 / es;
  const basesAt = arena.alloc(Math.ceil((imagesPerCall * rowsPerImage) / R) * 4);
  const outAt = arena.alloc(out.length * es);
  if (lhsAt < 0 || padAt < 0 || offsAt < 0 || basesAt < 0 || outAt < 0) return null;
  const mark = arena.mark();
  let v = views();
  let mem = es === 4 ? v.f32 : v.f64;
  mem.set(lhs as Float32Array, lhsAt / es);
  mem.fill(0, padAt / es, padAt / es + g.batch * C * pPlane);
  // Input rows into the padded planes (negative padding crops).
  const lo = Math.max(0, padW);
  const from = Math.max(0, -padW);
  const count = Math.min(inW - from, P1 - lo);
  const r0 = Math.max(0, -padH);
  const r1 = Math.min(inH, P0 - padH);
  if (count > 0 && r1 > r0) moves.pad_rows(lhsAt, padAt, g.batch * C, r0, r1, inPlane * es, inW * es, pPlane * es, P1 * es, from * es, (padH * P1 + lo) * es, count * es);
  // Depth q = (input feature i, window position (kh, kw)) reads padded[row + i * pPlane + shift].
  const offs = v.i32.subarray(offsAt / 4, offsAt / 4 + K);
  for (let i = 0; i < I; i++) for (let kh = 0; kh < winH; kh++) for (let kw = 0; kw < winW; kw++) offs[(i * winH + kh) * winW + kw] = i * pPlane + kh * dilH * P1 + kw * dilW;
  const batchPerGroup = g.batch / g.batchGroups;
  for (let grp = 0; grp < groups; grp++) {
    const kernel = stridedSource(rhs, grp * groupOut * K, groupOut, K, 1);
    const firstChannel = g.featureGroups > 1 ? grp * I : 0;
    for (let n0 = 0; n0 < outBatch; n0 += imagesPerCall) {
      const n1 = Math.min(outBatch, n0 + imagesPerCall);
      const bases: number[] = [];
      for (let n = n0; n < n1; n++) bases.push(((g.batchGroups > 1 ? grp * batchPerGroup + n : n) * C + firstChannel) * pPlane);
      const rows = bases.length * rowsPerImage;
      const panels = Math.ceil(rows / R);
      // Panels inside one image pack in Wasm (their base element); the others (-1) in JS.
      const panelBase = views().i32.subarray(basesAt / 4, basesAt / 4 + panels);
      for (let p = 0; p < panels; p++) {
        const first = p * R;
        const image = Math.floor(first / rowsPerImage);
        panelBase[p] = first + R <= rows && Math.floor((first + R - 1) / rowsPerImage) === image ? bases[image]! + first - image * rowsPerImage : -1;
      }
      const source: PanelSource = {
        rows,
        pack(k0, kc, RR, dst, dstOff) {
          if (RR !== R) throw new Error(`conv: panel width ${RR}, expected ${R}`);
          moves.pack_panels(padAt, dstOff * es, panels, basesAt, kc, offsAt + k0 * 4);
          // Views taken now: the GEMM's allocations may have grown (and replaced) the memory's buffer.
          const panelBase = views().i32.subarray(basesAt / 4, basesAt / 4 + panels);
          const pad = dst.subarray(padAt / es);
          const depth = views().i32.subarray(offsAt / 4 + k0, offsAt / 4 + k0 + kc);
          for (let p = 0; p < panels; p++) {
            if (panelBase[p]! >= 0) continue;
            let d = dstOff + p * kc * R;
            for (let q = 0; q < kc; q++) {
              for (let r = 0; r < R; r++, d++) {
                const row = p * R + r;
                const t = Math.floor(row / rowsPerImage);
                dst[d] = row < rows ? pad[bases[t]! + row - t * rowsPerImage + depth[q]!]! : 0;
              }
            }
          }
        },
      };
      const ok = gemmWasm("conv_general_dilated", kernel, source, K, outDType, (_mem, c0, ldc) => {
        moves.unshift(outAt + (n0 * O + grp * groupOut) * positions * es, c0 * es, groupOut, n1 - n0, outH, positions * es, O * positions * es, outW * es, ldc * es, rowsPerImage * es, P1 * es, outW * es);
      }, mark);
      if (!ok) return null;
    }
  }
  v = views();
  mem = es === 4 ? v.f32 : v.f64;
  out.set(mem.subarray(outAt / es, outAt / es + out.length));
  return out;
};

/** Rows (image t, rho) and depth q read `buf[bases[t] + rho + depthOff[q]]`; see {@link convWasmShifted}. */
const shiftedSource = (buf: TypedArray, bases: readonly number[], rowsPerImage: number, depthOff: Int32Array): PanelSource => ({
  rows: bases.length * rowsPerImage,
  pack(k0, kc, R, dst, dstOff) {
    const rows = bases.length * rowsPerImage;
    const panels = Math.ceil(rows / R);
    const rowBase = new Int32Array(R);
    for (let p = 0; p < panels; p++) {
      const first = p * R;
      const image = Math.floor(first / rowsPerImage);
      let d = dstOff + p * kc * R;
      // Common case: the panel's rows are consecutive rows of one image.
      if (first + R <= rows && Math.floor((first + R - 1) / rowsPerImage) === image) {
        const b = bases[image]! + first - image * rowsPerImage;
        for (let q = k0; q < k0 + kc; q++) {
          const s = b + depthOff[q]!;
          for (let r = 0; r < R; r++) dst[d++] = buf[s + r]!;
        }
        continue;
      }
      for (let r = 0; r < R; r++) {
        const row = first + r;
        const t = Math.floor(row / rowsPerImage);
        rowBase[r] = row < rows ? bases[t]! + row - t * rowsPerImage : -1;
      }
      for (let q = k0; q < k0 + kc; q++) {
        const off = depthOff[q]!;
        for (let r = 0; r < R; r++, d++) {
          const b = rowBase[r]!;
          dst[d] = b < 0 ? 0 : buf[b + off]!;
        }
      }
    }
  },
});

/** The JS path: im2col into chunks of patch rows, then {@link gemmNT} in doubles. */
const convJs = (lhs: Float64Array, rhs: Float64Array, g: ConvGeometry, outDType: DType): TypedArray => {
  const groups = Math.max(g.featureGroups, g.batchGroups);
  const outBatch = g.batch / g.batchGroups;
  const groupOut = g.outFeatures / groups;
  const inPlane = sizeOf(g.inSpatial);
  const positions = sizeOf(g.outSpatial);
  const windowSize = sizeOf(g.window);
  const I = g.kernelInFeatures;
  const K = I * windowSize;
  const acc = new Float64Array(outBatch * g.outFeatures * positions);
  if (acc.length > 0 && K > 0) {
    const offsets = patchOffsets(g);
    const rowsPerChunk = Math.max(4, Math.min(positions, Math.floor(CHUNK_ELEMENTS / K)));
    const patches = new Float64Array(rowsPerChunk * K);
    const batchPerGroup = g.batch / g.batchGroups;
    for (let n = 0; n < outBatch; n++) {
      for (let grp = 0; grp < groups; grp++) {
        // Batch groups read their own slice of the input batch; feature groups their own channels.
        const srcBatch = g.batchGroups > 1 ? grp * batchPerGroup + n : n;
        const firstChannel = g.featureGroups > 1 ? grp * I : 0;
        const lhsBase = (srcBatch * g.inFeatures + firstChannel) * inPlane;
        const outBase = (n * g.outFeatures + grp * groupOut) * positions;
        for (let p0 = 0; p0 < positions; p0 += rowsPerChunk) {
          const rows = Math.min(rowsPerChunk, positions - p0);
          for (let r = 0; r < rows; r++) {
            const offRow = (p0 + r) * windowSize;
            const dst = r * K;
            for (let i = 0; i < I; i++) {
              const src = lhsBase + i * inPlane;
              const d = dst + i * windowSize;
              for (let q = 0; q < windowSize; q++) {
                const off = offsets[offRow + q]!;
                patches[d + q] = off < 0 ? 0 : lhs[src + off]!;
              }
            }
          }
          gemmNT(rhs, grp * groupOut * K, patches, 0, acc, outBase + p0, positions, groupOut, rows, K);
        }
      }
    }
  }
  if (outDType === "float64") return acc;
  const out = typedArrayFor(outDType, acc.length);
  out.set(acc);
  return out;
};
