/** lax linear algebra: dotGeneral, dot, and the convolutions. */
import type { ArrayBase } from "../array.js";
import { parseArgs, signature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { ValueError } from "../errors.js";
import {
  type ConvDimensionNumbersLike,
  type PaddingLike,
  convDimensionNumbers,
  convGeneralDilatedRaw,
  dilateDim,
  padtypeToPads,
} from "../primitives/conv.js";
import { type DotDimensionNumbers, dotGeneral as dotGeneralOp } from "../primitives/dot.js";
import { rev } from "../primitives/shape.js";
import { transpose } from "../primitives/structural.js";

export type { DotDimensionNumbers } from "../primitives/dot.js";
export type { ConvDimensionNumbers, ConvDimensionNumbersLike, PaddingLike } from "../primitives/conv.js";

export interface DotOptions {
  /** Result (and accumulation) dtype: may widen float32 to float64, or make int32 a float. */
  preferredElementType?: DType | null;
}

const normalize = (axes: readonly number[], ndim: number): number[] => axes.map((a) => (Number.isInteger(a) && a < 0 && a >= -ndim ? a + ndim : a));

/**
 * `lax.dot_general`: contracts `lhs` with `rhs` over paired axes and batches over others.
 * `dimensionNumbers = [[lhsContracting, rhsContracting], [lhsBatch, rhsBatch]]` (negative
 * axes count from the end). The result holds the batch axes, then lhs's remaining axes, then
 * rhs's. Both operands must share a dtype.
 */
const dotGeneralSig = signature("lax.dotGeneral", ["lhs:arrayValue!", "rhs:arrayValue!", { name: "dimensionNumbers", kind: "any", required: true, pass: "positional" }, "preferredElementType:dtype="]);
export const dotGeneral = (lhs: ArrayBase, rhs: ArrayBase, dimensionNumbers: DotDimensionNumbers, options: DotOptions = {}): ArrayBase => {
  parseArgs(dotGeneralSig, [lhs, rhs, dimensionNumbers, options]);
  const dn = dimensionNumbers;
  const ok = Array.isArray(dn) && dn.length === 2 && dn.every((p) => Array.isArray(p) && p.length === 2 && p.every(Array.isArray));
  const normalized: DotDimensionNumbers = ok
    ? [
        [normalize(dn[0][0], lhs.ndim), normalize(dn[0][1], rhs.ndim)],
        [normalize(dn[1][0], lhs.ndim), normalize(dn[1][1], rhs.ndim)],
      ]
    : dn;
  return dotGeneralOp(lhs, rhs, normalized, options.preferredElementType ?? null);
};

/**
 * `lax.dot`: vector-vector, matrix-vector and matrix-matrix products (the last axis of
 * `lhs` with the first of `rhs`).
 */
const dotSig = signature("lax.dot", ["lhs:arrayValue!", "rhs:arrayValue!", "preferredElementType:dtype="]);
export const dot = (lhs: ArrayBase, rhs: ArrayBase, options: DotOptions = {}): ArrayBase => {
  parseArgs(dotSig, [lhs, rhs, options]);
  return dotGeneralOp(lhs, rhs, [[[lhs.ndim - 1], [0]], [[], []]], options.preferredElementType ?? null);
};

// ---------------------------------------------------------------- convolutions

export interface ConvOptions {
  /** Dilation of the input ("transposed convolution"); one entry per spatial axis, default all 1. */
  lhsDilation?: readonly number[];
  /** Dilation of the kernel ("atrous convolution"); one entry per spatial axis, default all 1. */
  rhsDilation?: readonly number[];
  /**
   * Layouts: null for NCHW / OIHW / NCHW (any rank), strings such as
   * `["NHWC", "HWIO", "NHWC"]`, or explicit `{lhs_spec, rhs_spec, out_spec}` axis lists.
   */
  dimensionNumbers?: ConvDimensionNumbersLike;
  featureGroupCount?: number;
  batchGroupCount?: number;
  /** May widen float32 to float64. */
  preferredElementType?: DType | null;
}

const ones = (n: number): number[] => new Array<number>(n).fill(1);

/**
 * `lax.conv_general_dilated`: N-d convolution (cross-correlation, as in XLA) of `lhs` with
 * the kernel `rhs`. `padding` is "SAME", "SAME_LOWER", "VALID" or explicit
 * `[[low, high], ...]` pairs per spatial axis (negative values crop). Window strides,
 * dilations and explicit padding are listed in the order of the spatial axes of the rhs layout.
 */
const convSig = signature("lax.convGeneralDilated", [
  "lhs:arrayValue!",
  "rhs:arrayValue!",
  "windowStrides:countList!",
  { name: "padding", kind: "any", required: true, pass: "positional" },
  "lhsDilation:countList=",
  "rhsDilation:countList=",
  { name: "dimensionNumbers", kind: "any", pass: "keyword" },
  "featureGroupCount:count=",
  "batchGroupCount:count=",
  "preferredElementType:dtype=",
]);
export const convGeneralDilated = (lhs: ArrayBase, rhs: ArrayBase, windowStrides: readonly number[], padding: PaddingLike, options: ConvOptions = {}): ArrayBase => {
  parseArgs(convSig, [lhs, rhs, windowStrides, padding, options]);
  const op = "lax.convGeneralDilated";
  const ns = lhs.ndim - 2;
  const dn = convDimensionNumbers(lhs.ndim, options.dimensionNumbers, op);
  const lhsDilation = options.lhsDilation ?? ones(ns);
  const rhsDilation = options.rhsDilation ?? ones(ns);
  let pads: readonly (readonly [number, number])[];
  if (typeof padding === "string") {
    if (!lhsDilation.every((d) => d === 1)) {
      throw new ValueError(`string padding '${padding}' is not defined with lhsDilation (${lhsDilation.join(", ")})`, {
        op,
        hint: "give explicit [[low, high], ...] padding, or use lax.convTranspose",
      });
    }
    if (!Array.isArray(windowStrides) || windowStrides.length !== ns || rhsDilation.length !== ns) {
      throw new ValueError(`windowStrides (${String(windowStrides)}) and rhsDilation (${rhsDilation.join(", ")}) need ${ns} entries, one per spatial axis`, { op });
    }
    const window = dn.rhs_spec.slice(2).map((a, d) => dilateDim(rhs.shape[a]!, rhsDilation[d]!));
    pads = padtypeToPads(dn.lhs_spec.slice(2).map((a) => lhs.shape[a]!), window, windowStrides, padding, op);
  } else {
    // Copied so params never alias the caller's arrays; malformed input reaches abstractEval's check.
    pads = Array.isArray(padding) ? padding.map((q) => (Array.isArray(q) ? (q.slice() as unknown as readonly [number, number]) : q)) : padding;
  }
  return convGeneralDilatedRaw(lhs, rhs, {
    window_strides: windowStrides.slice(),
    padding: pads,
    lhs_dilation: lhsDilation.slice(),
    rhs_dilation: rhsDilation.slice(),
    dimension_numbers: dn,
    feature_group_count: options.featureGroupCount ?? 1,
    batch_group_count: options.batchGroupCount ?? 1,
    preferred_element_type: options.preferredElementType ?? null,
  });
};

/** `lax.conv`: NCHW / OIHW convolution with strides and "SAME" or "VALID" padding. */
export const conv = (lhs: ArrayBase, rhs: ArrayBase, windowStrides: readonly number[], padding: "SAME" | "VALID", options: { preferredElementType?: DType | null } = {}): ArrayBase =>
  convGeneralDilated(lhs, rhs, windowStrides, padding, options);

/** `lax.conv_with_general_padding`: NCHW / OIHW convolution with padding and both dilations. */
export const convWithGeneralPadding = (
  lhs: ArrayBase,
  rhs: ArrayBase,
  windowStrides: readonly number[],
  padding: PaddingLike,
  lhsDilation?: readonly number[] | null,
  rhsDilation?: readonly number[] | null,
): ArrayBase => convGeneralDilated(lhs, rhs, windowStrides, padding, { lhsDilation: lhsDilation ?? undefined, rhsDilation: rhsDilation ?? undefined });

/** Padding of one axis of a transposed convolution (JAX's `_conv_transpose_padding`). */
const convTransposePadding = (k: number, s: number, padding: "SAME" | "VALID"): [number, number] => {
  let total: number;
  let before: number;
  if (padding === "SAME") {
    total = k + s - 2;
    before = s > k - 1 ? k - 1 : Math.ceil(total / 2);
  } else {
    total = k + s - 2 + Math.max(k - s, 0);
    before = k - 1;
  }
  return [before, total - before];
};

export interface ConvTransposeOptions {
  rhsDilation?: readonly number[];
  /** Defaults to channels-last: NC/IO/NC, NHC/HIO/NHC, NHWC/HWIO/NHWC, NHWDC/HWDIO/NHWDC. */
  dimensionNumbers?: ConvDimensionNumbersLike;
  /** Flip the kernel's spatial axes and swap its I/O axes, matching the gradient of a forward conv. */
  transposeKernel?: boolean;
  preferredElementType?: DType | null;
}

/**
 * `lax.conv_transpose`: a fractionally strided convolution ("deconvolution"), computed
 * directly as a convolution with lhs dilation. "SAME" and "VALID" padding give the output
 * sizes of the matching forward convolution's input (Keras' Conv2DTranspose convention).
 */
const convTransposeSig = signature("lax.convTranspose", [
  "lhs:arrayValue!",
  "rhs:arrayValue!",
  "strides:countList!",
  { name: "padding", kind: "any", required: true, pass: "positional" },
  "rhsDilation:countList=",
  { name: "dimensionNumbers", kind: "any", pass: "keyword" },
  "transposeKernel:bool=",
  "preferredElementType:dtype=",
]);
export const convTranspose = (lhs: ArrayBase, rhs: ArrayBase, strides: readonly number[], padding: PaddingLike, options: ConvTransposeOptions = {}): ArrayBase => {
  const op = "lax.convTranspose";
  parseArgs(convTransposeSig, [lhs, rhs, strides, padding, options]);
  const nd = lhs.ndim;
  const defaults: Record<number, readonly [string, string, string]> = {
    2: ["NC", "IO", "NC"],
    3: ["NHC", "HIO", "NHC"],
    4: ["NHWC", "HWIO", "NHWC"],
    5: ["NHWDC", "HWDIO", "NHWDC"],
  };
  const dnLike = options.dimensionNumbers ?? defaults[nd];
  if (!dnLike) throw new ValueError(`no default dimensionNumbers for rank ${nd}; pass them explicitly`, { op });
  const dn = convDimensionNumbers(nd, dnLike, op);
  const ns = nd - 2;
  const rhsDilation = options.rhsDilation ?? ones(ns);
  let pads: PaddingLike = padding;
  if (padding === "SAME" || padding === "VALID") {
    pads = dn.rhs_spec.slice(2).map((a, d) => convTransposePadding(dilateDim(rhs.shape[a]!, rhsDilation[d]!), strides[d]!, padding));
  }
  let kernel = rhs;
  if (options.transposeKernel) {
    kernel = rev(kernel, dn.rhs_spec.slice(2));
    const perm = range(nd);
    perm[dn.rhs_spec[0]!] = dn.rhs_spec[1]!;
    perm[dn.rhs_spec[1]!] = dn.rhs_spec[0]!;
    kernel = transpose(kernel, perm);
  }
  return convGeneralDilated(lhs, kernel, ones(ns), pads, {
    lhsDilation: strides,
    rhsDilation,
    dimensionNumbers: dn,
    preferredElementType: options.preferredElementType,
  });
};

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
