/**
 * conv_general_dilated: N-d convolution with strides, padding, lhs (transposed) and rhs
 * (atrous) dilation, feature and batch groups, and arbitrary dimension layouts, with JAX's
 * parameters and rules. The transpose rules are convolutions too (as in JAX's
 * `_conv_general_dilated_transpose_lhs/rhs`), so gradients of gradients stay convolutions.
 *
 * Layouts are given by `dimension_numbers = {lhs_spec, rhs_spec, out_spec}`: the axis
 * holding (batch, feature, spatial...) of lhs, (out feature, in feature, spatial...) of rhs
 * and (batch, feature, spatial...) of the output.
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray } from "../dtype.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { type Primitive, UndefinedPrimal, definePrimitive } from "../ir/primitive.js";
import { convKernel } from "../kernels/conv.js";
import { type PlaneStrides, convDirect, directKind } from "../kernels/conv_direct.js";
import { convKernelGrad } from "../kernels/conv_kgrad.js";
import { transposeKernel } from "../kernels/layout.js";
import { shapeStr, stridesOf } from "../shape.js";
import { bind1 } from "../trace.js";
import { add } from "./binary.js";
import { FLOATS, requireDType, sameDType } from "./common.js";
import { rev } from "./shape.js";
import { convertElementType, full, inversePermutation, reshape, transpose } from "./structural.js";

const OP = "conv_general_dilated";

export interface ConvDimensionNumbers {
  /** lhs axes of (batch, feature, spatial...). */
  lhs_spec: readonly number[];
  /** rhs axes of (output feature, input feature, spatial...). */
  rhs_spec: readonly number[];
  /** Output axes of (batch, feature, spatial...). */
  out_spec: readonly number[];
}

export interface ConvParams {
  window_strides: readonly number[];
  /** Explicit (low, high) padding per spatial axis; negative values crop. */
  padding: readonly (readonly [number, number])[];
  lhs_dilation: readonly number[];
  rhs_dilation: readonly number[];
  dimension_numbers: ConvDimensionNumbers;
  feature_group_count: number;
  batch_group_count: number;
  preferred_element_type: DType | null;
}

const range = (n: number, start = 0): number[] => Array.from({ length: n }, (_, i) => start + i);

/** `0` for an empty axis, else the extent of the axis with `d - 1` holes between elements. */
export const dilateDim = (size: number, dilation: number): number => (size === 0 ? 0 : 1 + dilation * (size - 1));

const isPermutation = (p: unknown, n: number): p is number[] =>
  Array.isArray(p) && p.length === n && new Set(p).size === n && p.every((a) => Number.isInteger(a) && a >= 0 && a < n);

const positiveInts = (name: string, xs: unknown, n: number): readonly number[] => {
  if (!Array.isArray(xs) || xs.length !== n || !xs.every((v) => Number.isInteger(v) && v > 0)) {
    throw new ValueError(`${name} must hold ${n} positive integers (one per spatial axis), got ${JSON.stringify(xs)}`, { op: OP });
  }
  return xs;
};

/** The output shape in canonical order [batch, feature, spatial...], after validating everything. */
const canonicalOutShape = (lhs: ShapedArray, rhs: ShapedArray, p: ConvParams): number[] => {
  if (lhs.ndim !== rhs.ndim || lhs.ndim < 2) {
    throw new ShapeError(`lhs and rhs must have the same rank (at least 2: batch and feature axes), got lhs ${shapeStr(lhs.shape)} and rhs ${shapeStr(rhs.shape)}`, { op: OP });
  }
  const nd = lhs.ndim;
  const ns = nd - 2;
  const dn = p.dimension_numbers;
  if (!dn || !isPermutation(dn.lhs_spec, nd) || !isPermutation(dn.rhs_spec, nd) || !isPermutation(dn.out_spec, nd)) {
    throw new ValueError(`dimension_numbers must give lhs_spec, rhs_spec and out_spec as permutations of the ${nd} axes, got ${JSON.stringify(dn)}`, { op: OP });
  }
  const strides = positiveInts("window_strides", p.window_strides, ns);
  const ldil = positiveInts("lhs_dilation", p.lhs_dilation, ns);
  const rdil = positiveInts("rhs_dilation", p.rhs_dilation, ns);
  if (!Array.isArray(p.padding) || p.padding.length !== ns || !p.padding.every((q) => Array.isArray(q) && q.length === 2 && q.every(Number.isInteger))) {
    throw new ValueError(`padding must hold ${ns} (low, high) integer pairs, got ${JSON.stringify(p.padding)}`, { op: OP });
  }
  const fg = p.feature_group_count;
  const bg = p.batch_group_count;
  for (const [name, v] of [["feature_group_count", fg], ["batch_group_count", bg]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ValueError(`${name} must be a positive integer, got ${v}`, { op: OP });
  }
  if (fg > 1 && bg > 1) throw new ValueError(`at most one of feature_group_count (${fg}) and batch_group_count (${bg}) may exceed 1`, { op: OP });
  const [lb, lf, ...ls] = dn.lhs_spec;
  const [ro, ri, ...rs] = dn.rhs_spec;
  const n = lhs.shape[lb!]!;
  const c = lhs.shape[lf!]!;
  const o = rhs.shape[ro!]!;
  const i = rhs.shape[ri!]!;
  const where = `lhs ${shapeStr(lhs.shape)}, rhs ${shapeStr(rhs.shape)}`;
  if (c % fg !== 0 || c / fg !== i) {
    throw new ShapeError(
      fg === 1
        ? `channel mismatch: lhs has ${c} input features (axis ${lf}) but rhs expects ${i} (axis ${ri}) (${where})`
        : `channel mismatch: lhs has ${c} input features (axis ${lf}); with feature_group_count ${fg} rhs must have ${c % fg === 0 ? c / fg : `${c}/${fg}`} input features (axis ${ri}) but has ${i} (${where})`,
      { op: OP, hint: "the lhs feature axis size must equal the rhs input-feature axis size times feature_group_count; check dimension_numbers (e.g. ['NHWC', 'HWIO', 'NHWC'])" },
    );
  }
  if (o % fg !== 0) throw new ShapeError(`rhs output features ${o} (axis ${ro}) must be a multiple of feature_group_count ${fg} (${where})`, { op: OP });
  if (o % bg !== 0) throw new ShapeError(`rhs output features ${o} (axis ${ro}) must be a multiple of batch_group_count ${bg} (${where})`, { op: OP });
  if (n % bg !== 0) throw new ShapeError(`lhs batch ${n} (axis ${lb}) must be a multiple of batch_group_count ${bg} (${where})`, { op: OP });
  const spatial = ls.map((ax, d) => {
    const padded = dilateDim(lhs.shape[ax]!, ldil[d]!) + p.padding[d]![0] + p.padding[d]![1];
    if (padded < 0) {
      throw new ShapeError(`negative padding (${p.padding[d]!.join(", ")}) on spatial axis ${d} is larger than the (dilated) input size ${dilateDim(lhs.shape[ax]!, ldil[d]!)} (${where})`, { op: OP });
    }
    const window = dilateDim(rhs.shape[rs[d]!]!, rdil[d]!);
    return Math.max(0, Math.floor((padded - window) / strides[d]!) + 1);
  });
  return [n / bg, o, ...spatial];
};

/** The preferred type may widen float32 to float64 only. */
const outDTypeOf = (input: DType, preferred: DType | null): DType => {
  if (preferred === null || preferred === undefined || preferred === input) return input;
  if (input === "float32" && preferred === "float64") return preferred;
  throw new DTypeError(`preferred_element_type ${preferred} is not allowed for ${input} inputs (it may only widen float32 to float64)`, { op: OP });
};

export const convGeneralDilatedP: Primitive<ConvParams> = definePrimitive<ConvParams>({
  name: OP,
  abstractEval([lhs, rhs], params) {
    const dtype = sameDType(OP, [lhs!, rhs!]);
    requireDType(OP, lhs!, FLOATS);
    const canon = canonicalOutShape(lhs!, rhs!, params);
    const shape = new Array<number>(canon.length);
    params.dimension_numbers.out_spec.forEach((ax, j) => (shape[ax] = canon[j]!));
    return [new ShapedArray(shape, outDTypeOf(dtype, params.preferred_element_type))];
  },
  freshResults: true,
  // Given memory (kept by a compiled program, or recycled by the interpreter) is written by the
  // direct "rows" loop, the kernel `impl` picks for these geometries too (same bits); the
  // kernel-gradient loop and the GEMM path allocate their own, so they run as `impl`.
  implInto([lhs, rhs], params, [into]) {
    const { geometry, shape, outDType, planes } = convSetup(lhs!, rhs!, params);
    if (!planes || directKind(geometry, outDType) !== "rows" || (outDType !== "float32" && outDType !== "float64")) return null;
    const [ls, rs, os] = planes;
    const out = convDirect(bufferOf(lhs!), ls, bufferOf(rhs!), rs, os, geometry, outDType, into);
    return out ? [fromBuffer(out, shape, outDType)] : null;
  },
  impl([lhs, rhs], params) {
    const { lhs_spec, rhs_spec, out_spec } = params.dimension_numbers;
    const { geometry, canon, shape, outDType, planes } = convSetup(lhs!, rhs!, params);
    const perm = inversePermutation(out_spec);
    // The direct kernels read and write every layout whose spatial axes trail in order.
    if (planes && (outDType === "float32" || outDType === "float64")) {
      const [ls, rs, os] = planes;
      const direct = convKernelGrad(bufferOf(lhs!), ls, bufferOf(rhs!), rs, os, geometry, outDType) ?? convDirect(bufferOf(lhs!), ls, bufferOf(rhs!), rs, os, geometry, outDType);
      if (direct) return [fromBuffer(direct, shape, outDType)];
    }
    // Operands in canonical order ([N, C, ...] and [O, I, ...]), in their own dtype.
    const canonical = (x: NDArray, spec: readonly number[]) =>
      spec.every((a, i) => a === i) ? bufferOf(x) : transposeKernel(bufferOf(x), x.shape, spec, x.dtype);
    const result = convKernel(canonical(lhs!, lhs_spec), canonical(rhs!, rhs_spec), geometry, outDType);
    const isIdentity = perm.every((a, i) => a === i);
    return [fromBuffer(isIdentity ? result : transposeKernel(result, canon, perm, outDType), shape, outDType)];
  },
  // Bilinear: d(conv(l, r)) = conv(dl, r) + conv(l, dr).
  jvp([lhs, rhs], [tl, tr], params) {
    const out = bind1(convGeneralDilatedP, [lhs!, rhs!], params);
    const a = tl && bind1(convGeneralDilatedP, [tl, rhs!], params);
    const b = tr && bind1(convGeneralDilatedP, [lhs!, tr], params);
    return [[out], [a && b ? add(a, b) : (a ?? b)]];
  },
  transpose([ct], [lhs, rhs], params) {
    if (!ct) return [null, null];
    const ll = lhs instanceof UndefinedPrimal;
    const rl = rhs instanceof UndefinedPrimal;
    if (ll && rl) throw new ValueError("transpose needs one operand to be a known (non-linear) value; both are linear", { op: OP });
    return [ll ? transposeLhs(ct, lhs.aval, rhs as ArrayBase, params) : null, rl ? transposeRhs(ct, lhs as ArrayBase, rhs.aval, params) : null];
  },
  batch: (args, dims, params, size) => convBatch(args, dims, params, size),
});

/** The geometry of a convolution's operands, its output's shape and dtype, and the plane strides of its three layouts (null when the direct kernels cannot read them). */
const convSetup = (lhs: NDArray, rhs: NDArray, params: ConvParams) => {
  const { lhs_spec, rhs_spec, out_spec } = params.dimension_numbers;
  const canon = canonicalOutShape(lhs.aval, rhs.aval, params);
  const outDType = params.preferred_element_type ?? lhs.dtype;
  const lshape = lhs_spec.map((a) => lhs.shape[a]!);
  const rshape = rhs_spec.map((a) => rhs.shape[a]!);
  // Canonical axis j goes to output axis out_spec[j].
  const shape = inversePermutation(out_spec).map((a) => canon[a]!);
  const geometry = {
    batch: lshape[0]!,
    inFeatures: lshape[1]!,
    outFeatures: rshape[0]!,
    kernelInFeatures: rshape[1]!,
    featureGroups: params.feature_group_count,
    batchGroups: params.batch_group_count,
    inSpatial: lshape.slice(2),
    window: rshape.slice(2),
    outSpatial: canon.slice(2),
    strides: params.window_strides,
    padLow: params.padding.map((q) => q[0]),
    lhsDilation: params.lhs_dilation,
    rhsDilation: params.rhs_dilation,
  };
  const ls = planeStrides(lhs.shape, lhs_spec);
  const rs = planeStrides(rhs.shape, rhs_spec);
  const os = planeStrides(shape, out_spec);
  const planes: [PlaneStrides, PlaneStrides, PlaneStrides] | null = ls && rs && os ? [ls, rs, os] : null;
  return { geometry, canon, shape, outDType, planes };
};

/** Strides of the leading (batch/feature or out/in) axes when the spatial axes trail in order, else null. */
const planeStrides = (shape: readonly number[], spec: readonly number[]): PlaneStrides | null => {
  if (!spec.slice(2).every((a, i) => a === i + 2)) return null;
  const st = stridesOf(shape);
  return [st[spec[0]!]!, st[spec[1]!]!];
};

/** Binds the primitive with fully resolved params. */
export const convGeneralDilatedRaw = (lhs: ArrayBase, rhs: ArrayBase, params: ConvParams): ArrayBase => bind1(convGeneralDilatedP, [lhs, rhs], params);

// ---------------------------------------------------------------- reshape helpers (JAX's _reshape_axis_into / _out_of)

/** Merges axis `src` into axis `dst` (numbered after removing `src`), `src` becoming the major part. */
const reshapeAxisInto = (src: number, dst: number, x: ArrayBase): ArrayBase => {
  const perm = range(x.ndim).filter((i) => i !== src);
  perm.splice(dst, 0, src);
  const shape = x.shape.filter((_, i) => i !== src);
  shape[dst] = shape[dst]! * x.shape[src]!;
  return reshape(transpose(x, perm), shape);
};

/** Splits axis `src` into (size1, rest), major part first. */
const reshapeAxisOutOf = (src: number, size1: number, x: ArrayBase): ArrayBase => {
  const shape = x.shape;
  shape.splice(src, 1, size1, shape[src]! / size1);
  return reshape(x, shape);
};

/** Swaps the first two entries of a spec: (batch, feature) <-> (feature, batch), (O, I) <-> (I, O). */
const specTranspose = (spec: readonly number[]): number[] => [spec[1]!, spec[0]!, ...spec.slice(2)];

const take = (shape: readonly number[], axes: readonly number[]): number[] => axes.map((a) => shape[a]!);

// ---------------------------------------------------------------- transpose rules
// Ignoring spatial axes, the forward pass is [m, j] x [j, k] -> [m, k] (batch m, input
// features j, output features k); its transposes are [m, k] x [k, j] -> [m, j] for lhs and
// [j, m] x [m, k] -> [j, k] for rhs. Feature groups of the forward pass become batch groups
// of the rhs transpose and vice versa. Padding formulas are JAX's
// `_conv_general_vjp_lhs_padding` and `_conv_general_vjp_rhs_padding`.

const transposeLhs = (ct: ArrayBase, lhsAval: ShapedArray, rhs: ArrayBase, p: ConvParams): ArrayBase => {
  const { lhs_spec, rhs_spec, out_spec } = p.dimension_numbers;
  const ns = lhs_spec.length - 2;
  const windowShape = take(rhs.shape, rhs_spec.slice(2));
  let fg = p.feature_group_count;
  const bg = p.batch_group_count;
  let kernel = rhs;
  if (fg > 1 || bg > 1) {
    // Move the group factor from the kernel's output features into its input features.
    const groups = Math.max(fg, bg);
    kernel = reshapeAxisOutOf(rhs_spec[0]!, groups, kernel);
    kernel = reshapeAxisInto(rhs_spec[0]!, rhs_spec[1]!, kernel);
    fg = groups;
  }
  const inSpatial = take(lhsAval.shape, lhs_spec.slice(2));
  const outSpatial = take(ct.shape, out_spec.slice(2));
  const padding = range(ns).map((d): [number, number] => {
    const lhsD = dilateDim(inSpatial[d]!, p.lhs_dilation[d]!);
    const rhsD = dilateDim(windowShape[d]!, p.rhs_dilation[d]!);
    const outD = dilateDim(outSpatial[d]!, p.window_strides[d]!);
    const before = rhsD - p.padding[d]![0] - 1;
    return [before, lhsD + rhsD - 1 - outD - before];
  });
  const kernelDType = kernel.dtype === ct.dtype ? kernel : convertElementType(kernel, ct.dtype);
  let out = convGeneralDilatedRaw(ct, rev(kernelDType, rhs_spec.slice(2)), {
    window_strides: p.lhs_dilation,
    padding,
    lhs_dilation: p.window_strides,
    rhs_dilation: p.rhs_dilation,
    dimension_numbers: { lhs_spec: out_spec, rhs_spec: specTranspose(rhs_spec), out_spec: lhs_spec },
    feature_group_count: fg,
    batch_group_count: 1,
    preferred_element_type: null,
  });
  if (bg > 1) {
    out = reshapeAxisOutOf(lhs_spec[1]!, bg, out);
    out = reshapeAxisInto(lhs_spec[1]!, lhs_spec[0]!, out);
  }
  return convertElementType(out, lhsAval.dtype);
};

const transposeRhs = (ct: ArrayBase, lhs: ArrayBase, rhsAval: ShapedArray, p: ConvParams): ArrayBase | null => {
  if (ct.size === 0) return null; // avoids a degenerate convolution with an empty window
  const { lhs_spec, rhs_spec, out_spec } = p.dimension_numbers;
  const ns = lhs_spec.length - 2;
  const inSpatial = take(lhs.shape, lhs_spec.slice(2));
  const windowShape = take(rhsAval.shape, rhs_spec.slice(2));
  const outSpatial = take(ct.shape, out_spec.slice(2));
  const padding = range(ns).map((d): [number, number] => {
    const lhsD = dilateDim(inSpatial[d]!, p.lhs_dilation[d]!);
    const rhsD = dilateDim(windowShape[d]!, p.rhs_dilation[d]!);
    const outD = dilateDim(outSpatial[d]!, p.window_strides[d]!);
    const lo = p.padding[d]![0];
    return [lo, outD - lhsD + (rhsD - lo - 1)];
  });
  const lhsDType = lhs.dtype === ct.dtype ? lhs : convertElementType(lhs, ct.dtype);
  const out = convGeneralDilatedRaw(lhsDType, ct, {
    window_strides: p.rhs_dilation,
    padding,
    lhs_dilation: p.lhs_dilation,
    rhs_dilation: p.window_strides,
    dimension_numbers: { lhs_spec: specTranspose(lhs_spec), rhs_spec: specTranspose(out_spec), out_spec: specTranspose(rhs_spec) },
    feature_group_count: p.batch_group_count,
    batch_group_count: p.feature_group_count,
    preferred_element_type: null,
  });
  return convertElementType(out, rhsAval.dtype);
};

// ---------------------------------------------------------------- batching (JAX's _conv_general_dilated_batch_rule)

const convBatch = (
  [lhs, rhs]: ArrayBase[],
  [ld, rd]: (number | null)[],
  p: ConvParams,
  size: number,
): [ArrayBase[], (number | null)[]] => {
  const { lhs_spec, rhs_spec, out_spec } = p.dimension_numbers;
  const conv = (l: ArrayBase, r: ArrayBase, over: Partial<ConvParams> = {}) => convGeneralDilatedRaw(l, r, { ...p, ...over });
  if (size === 0) {
    // Reshaping a zero-size batch into feature axes is ill-defined; the result is empty anyway.
    const unbatched = (x: ArrayBase, d: number | null) => {
      const s = x.shape;
      if (d !== null) s.splice(d, 1);
      return new ShapedArray(s, x.dtype);
    };
    const [outAval] = convGeneralDilatedP.abstractEval([unbatched(lhs!, ld!), unbatched(rhs!, rd!)], p);
    return [[full([0, ...outAval!.shape], 0, outAval!.dtype)], [0]];
  }
  if (ld !== null && rd !== null) {
    // Both batched: each batch element is its own group.
    let newLhs: ArrayBase;
    let over: Partial<ConvParams>;
    if (p.batch_group_count > 1) {
      newLhs = reshapeAxisInto(ld!, lhs_spec[0]!, lhs!);
      over = { batch_group_count: p.batch_group_count * size };
    } else {
      newLhs = reshapeAxisInto(ld!, lhs_spec[1]!, lhs!);
      over = { feature_group_count: p.feature_group_count * size };
    }
    const out = conv(newLhs, reshapeAxisInto(rd!, rhs_spec[0]!, rhs!), over);
    return [[reshapeAxisOutOf(out_spec[1]!, size, out)], [out_spec[1]!]];
  }
  if (ld !== null) {
    if (p.batch_group_count === 1) {
      const out = conv(reshapeAxisInto(ld!, lhs_spec[0]!, lhs!), rhs!);
      return [[reshapeAxisOutOf(out_spec[0]!, size, out)], [out_spec[0]!]];
    }
    // Batch groups must stay outermost in the lhs batch axis: fold the vmapped axis inside them.
    const bg = p.batch_group_count;
    let newLhs = reshapeAxisOutOf(lhs_spec[0]! + (ld! <= lhs_spec[0]! ? 1 : 0), bg, lhs!);
    newLhs = reshapeAxisInto(ld! + (lhs_spec[0]! < ld! ? 1 : 0), lhs_spec[0]! + 1, newLhs);
    newLhs = reshapeAxisInto(lhs_spec[0]!, lhs_spec[0]!, newLhs);
    const out = conv(newLhs, rhs!);
    return [[reshapeAxisOutOf(out_spec[0]!, size, out)], [out_spec[0]!]];
  }
  if (p.feature_group_count === 1 && p.batch_group_count === 1) {
    const out = conv(lhs!, reshapeAxisInto(rd!, rhs_spec[0]!, rhs!));
    return [[reshapeAxisOutOf(out_spec[1]!, size, out)], [out_spec[1]!]];
  }
  // Groups must stay outermost in the kernel's output features: factor them out, fold the
  // vmapped axis into the rest, put them back; then undo the same on the output.
  const groups = Math.max(p.feature_group_count, p.batch_group_count);
  let newRhs = reshapeAxisOutOf(rhs_spec[0]! + (rd! <= rhs_spec[0]! ? 1 : 0), groups, rhs!);
  newRhs = reshapeAxisInto(rd! + (rhs_spec[0]! < rd! ? 1 : 0), rhs_spec[0]! + 1, newRhs);
  newRhs = reshapeAxisInto(rhs_spec[0]!, rhs_spec[0]!, newRhs);
  let out = conv(lhs!, newRhs);
  out = reshapeAxisOutOf(out_spec[1]!, groups, out);
  out = reshapeAxisOutOf(out_spec[1]! + 1, size, out);
  out = reshapeAxisInto(out_spec[1]!, out_spec[1]! + 1, out);
  return [[out], [out_spec[1]!]];
};

// ---------------------------------------------------------------- user-facing parameter resolution

/** Dimension numbers as JAX accepts them: null (NCHW/OIHW/NCHW), spec strings, or explicit specs. */
export type ConvDimensionNumbersLike = null | undefined | readonly [string, string, string] | ConvDimensionNumbers;

/**
 * JAX's `conv_dimension_numbers`: turns `["NHWC", "HWIO", "NHWC"]`-style strings into axis
 * specs. Spatial axes are matched by letter, and ordered as they appear in the rhs string.
 */
export const convDimensionNumbers = (ndim: number, dn: ConvDimensionNumbersLike, op = OP): ConvDimensionNumbers => {
  if (dn === null || dn === undefined) return { lhs_spec: range(ndim), rhs_spec: range(ndim), out_spec: range(ndim) };
  if (!Array.isArray(dn)) return dn as ConvDimensionNumbers;
  const specs = dn as readonly string[];
  if (specs.length !== 3 || !specs.every((s) => typeof s === "string")) {
    throw new ValueError(`dimension_numbers must be three strings like ["NCHW", "OIHW", "NCHW"], got ${JSON.stringify(dn)}`, { op });
  }
  const [lhsS, rhsS, outS] = specs as [string, string, string];
  const pairs: [string, string, string][] = [
    [lhsS, "N", "C"],
    [rhsS, "O", "I"],
    [outS, "N", "C"],
  ];
  for (const [s, a, b] of pairs) {
    if (s.length !== ndim) {
      throw new ValueError(`dimension_numbers string '${s}' has ${s.length} letters but the operands have rank ${ndim}`, { op });
    }
    if (s.split(a).length !== 2 || s.split(b).length !== 2 || new Set(s).size !== s.length) {
      throw new ValueError(`dimension_numbers string '${s}' must contain '${a}' and '${b}' once each and no repeated letters`, { op });
    }
  }
  const spatialOf = (s: string, a: string, b: string) => [...s].filter((ch) => ch !== a && ch !== b).sort().join("");
  if (spatialOf(lhsS, "N", "C") !== spatialOf(rhsS, "O", "I") || spatialOf(outS, "N", "C") !== spatialOf(rhsS, "O", "I")) {
    throw new ValueError(`dimension_numbers strings ${JSON.stringify(dn)} must name the same spatial letters in lhs, rhs and output`, { op });
  }
  const rhsSpatial = [...rhsS].filter((ch) => ch !== "O" && ch !== "I");
  const spec = (s: string, a: string, b: string) => [s.indexOf(a), s.indexOf(b), ...rhsSpatial.map((ch) => s.indexOf(ch))];
  return { lhs_spec: spec(lhsS, "N", "C"), rhs_spec: spec(rhsS, "O", "I"), out_spec: spec(outS, "N", "C") };
};

/** Padding as users give it: "SAME" / "SAME_LOWER" / "VALID", or explicit (low, high) pairs. */
export type PaddingLike = "SAME" | "SAME_LOWER" | "VALID" | readonly (readonly [number, number])[];

/** JAX's `padtype_to_pads`: explicit padding from a padding type for the given input and (dilated) window sizes. */
export const padtypeToPads = (inShape: readonly number[], window: readonly number[], strides: readonly number[], padding: string, op = OP): [number, number][] => {
  if (padding === "VALID") return inShape.map(() => [0, 0]);
  if (padding === "SAME" || padding === "SAME_LOWER") {
    return inShape.map((n, d) => {
      const out = Math.ceil(n / strides[d]!);
      const total = Math.max(0, (out - 1) * strides[d]! + window[d]! - n);
      const small = Math.floor(total / 2);
      return padding === "SAME" ? [small, total - small] : [total - small, small];
    });
  }
  throw new ValueError(`unknown padding '${padding}'`, { op, hint: "use 'SAME', 'SAME_LOWER', 'VALID' or explicit [[low, high], ...] pairs" });
};
