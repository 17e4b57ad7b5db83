/** Lowerings of dot_general (MatMul or Einsum) and conv_general_dilated (Conv). */
import type { DType } from "@cotangent/core";
import { OnnxExportError } from "../errors.js";
import type { GraphBuilder } from "../builder.js";
import { cast } from "./elementwise.js";
import type { LoweringRule, LoweringTable } from "./rule.js";
import { padWith, reshapeTo } from "./shape.js";

type Axes = readonly number[];

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The Einsum equation of a dot_general; outputs are (batch, lhs free, rhs free), as in JAX. */
export const einsumEquation = (lhsRank: number, rhsRank: number, [[lc, rc], [lb, rb]]: readonly [readonly [Axes, Axes], readonly [Axes, Axes]]): string => {
  let next = 0;
  const l = Array.from({ length: lhsRank }, () => LETTERS[next++]!);
  const r: string[] = new Array(rhsRank).fill("");
  lc.forEach((a, i) => (r[rc[i]!] = l[a]!));
  lb.forEach((a, i) => (r[rb[i]!] = l[a]!));
  for (let i = 0; i < rhsRank; i++) if (!r[i]) r[i] = LETTERS[next++]!;
  const lFree = l.filter((_, i) => !lc.includes(i) && !lb.includes(i));
  const rFree = r.filter((_, i) => !rc.includes(i) && !rb.includes(i));
  return `${l.join("")},${r.join("")}->${[...lb.map((a) => l[a]!), ...lFree, ...rFree].join("")}`;
};

const dotGeneral: LoweringRule<{ dimension_numbers: [[Axes, Axes], [Axes, Axes]]; preferred_element_type: DType | null }> = ({ g, inputs, inAvals: [la, ra], outAvals: [o], params }) => {
  const [[lc, rc], [lb]] = params.dimension_numbers;
  const [l, r] = inputs.map((n, i) => (inputs && [la, ra][i]!.dtype !== o!.dtype ? cast(g, n, o!.dtype) : n)) as [string, string];
  // The plain matrix product (x @ w, the common case) is MatMul; everything else Einsum.
  if (lb.length === 0 && lc.length === 1 && lc[0] === la!.ndim - 1 && rc[0] === 0 && ra!.ndim <= 2 && la!.ndim >= 1 && !(la!.ndim === 1 && ra!.ndim === 1)) {
    return [g.op("MatMul", [l, r])];
  }
  return [g.op("Einsum", [l, r], { equation: { string: einsumEquation(la!.ndim, ra!.ndim, params.dimension_numbers) } })];
};

interface ConvParams {
  window_strides: number[];
  padding: [number, number][];
  lhs_dilation: number[];
  rhs_dilation: number[];
  dimension_numbers: { lhs_spec: number[]; rhs_spec: number[]; out_spec: number[] };
  feature_group_count: number;
  batch_group_count: number;
  preferred_element_type: DType | null;
}

const invert = (p: readonly number[]): number[] => {
  const q = new Array<number>(p.length);
  p.forEach((v, i) => (q[v] = i));
  return q;
};

/**
 * Conv in the canonical (N, C, spatial...) layout. Padding (which may be negative) and lhs
 * dilation become an explicit zero Pad, since ONNX Conv pads only non-negatively and has no
 * input dilation; a batch group count G moves the lhs batch groups into G feature groups.
 */
const conv: LoweringRule<ConvParams> = ({ g, inputs: [lhs, rhs], inAvals: [la, ra], outAvals: [o], params: p }) => {
  const d = o!.dtype;
  if (!["float32", "float64"].includes(d)) {
    throw new OnnxExportError(`ONNX Conv takes floating-point operands, got ${la} and ${ra}`, { op: "conv_general_dilated", source: null });
  }
  const dn = p.dimension_numbers;
  let x = g.op("Transpose", [la!.dtype !== d ? cast(g, lhs!, d) : lhs!], { perm: { ints: dn.lhs_spec } });
  const w = g.op("Transpose", [ra!.dtype !== d ? cast(g, rhs!, d) : rhs!], { perm: { ints: dn.rhs_spec } });
  let xShape = dn.lhs_spec.map((a) => la!.shape[a]!);
  const ns = xShape.length - 2;
  let groups = p.feature_group_count;
  if (p.batch_group_count > 1) {
    const G = p.batch_group_count;
    const [n, c, ...sp] = xShape as [number, number, ...number[]];
    const split = reshapeTo(g, x, [G, n / G, c, ...sp]);
    const moved = g.op("Transpose", [split], { perm: { ints: [1, 0, 2, ...sp.map((_, i) => 3 + i)] } });
    xShape = [n / G, G * c, ...sp];
    x = reshapeTo(g, moved, xShape);
    groups = G;
  }
  const cfg = xShape.map((_, i): [number, number, number] => (i < 2 ? [0, 0, 0] : [p.padding[i - 2]![0], p.padding[i - 2]![1], p.lhs_dilation[i - 2]! - 1]));
  const padded = cfg.every((c) => c.every((v) => v === 0)) ? x : padWith(g, x, xShape, g.scalar(0, d), cfg);
  const y = g.op("Conv", [padded, w], {
    strides: { ints: p.window_strides },
    dilations: { ints: p.rhs_dilation },
    group: { int: groups },
    pads: { ints: new Array(2 * ns).fill(0) },
  });
  return [g.op("Transpose", [y], { perm: { ints: invert(dn.out_spec) } })];
};

export const linalgLowerings: LoweringTable = {
  dot_general: dotGeneral,
  conv_general_dilated: conv,
};
