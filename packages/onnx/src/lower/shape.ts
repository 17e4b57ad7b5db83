/**
 * Lowerings of the shape primitives: broadcast_in_dim, reshape, transpose, squeeze, rev,
 * slice, pad (with interior padding), concatenate, iota, dynamic_slice and
 * dynamic_update_slice, gather and scatter_add.
 */
import type { DType } from "@cotangent/core";
import type { GraphBuilder } from "../builder.js";
import { cast } from "./elementwise.js";
import type { LoweringRule, LoweringTable } from "./rule.js";

const INT64_MAX = Number.MAX_SAFE_INTEGER; // any end past the axis is clamped by Slice

export const reshapeTo = (g: GraphBuilder, x: string, shape: readonly number[]): string => g.op("Reshape", [x, g.int64s(shape)]);

export const broadcastTo = (g: GraphBuilder, x: string, inShape: readonly number[], shape: readonly number[], dims: readonly number[]): string => {
  const expanded = shape.map(() => 1);
  dims.forEach((d, i) => (expanded[d] = inShape[i]!));
  const r = expanded.length === inShape.length && dims.every((d, i) => d === i) ? x : reshapeTo(g, x, expanded);
  return expanded.every((d, i) => d === shape[i]) ? (r === x ? g.op("Identity", [x]) : r) : g.op("Expand", [r, g.int64s(shape)]);
};

const sliceOp = (g: GraphBuilder, x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[], steps?: readonly number[]): string =>
  g.op("Slice", [x, g.int64s(starts), g.int64s(ends), g.int64s(axes), ...(steps ? [g.int64s(steps)] : [])]);

/** Reverses `axes` with a negative-step Slice. */
export const reverse = (g: GraphBuilder, x: string, axes: readonly number[]): string =>
  axes.length === 0 ? g.op("Identity", [x]) : sliceOp(g, x, axes.map(() => -1), axes.map(() => -INT64_MAX), axes, axes.map(() => -1));

const slice: LoweringRule<{ start_indices: number[]; limit_indices: number[]; strides: number[] | null }> = ({ g, inputs: [x], params }) => {
  const axes = params.start_indices.map((_, i) => i);
  return [sliceOp(g, x!, params.start_indices, params.limit_indices, axes, params.strides ?? undefined)];
};

/** Interior padding of one axis: n elements become n + (n - 1) * k, with `v` in the holes. */
const interiorPad = (g: GraphBuilder, x: string, shape: readonly number[], axis: number, k: number, v: string): [string, number[]] => {
  const n = shape[axis]!;
  if (n === 0 || k === 0) return [x, [...shape]];
  const split = [...shape.slice(0, axis + 1), 1, ...shape.slice(axis + 1)];
  const pads = split.map(() => 0).concat(split.map((_, i) => (i === axis + 1 ? k : 0)));
  const padded = g.op("Pad", [reshapeTo(g, x, split), g.int64s(pads), v]);
  const merged = [...shape];
  merged[axis] = n * (k + 1);
  const flat = reshapeTo(g, padded, merged);
  merged[axis] = n + (n - 1) * k;
  return [sliceOp(g, flat, [0], [merged[axis]!], [axis]), merged];
};

export const padWith = (g: GraphBuilder, x: string, shape: readonly number[], v: string, config: readonly (readonly [number, number, number])[]): string => {
  let cur = x;
  let curShape = [...shape];
  config.forEach(([, , interior], axis) => ([cur, curShape] = interiorPad(g, cur, curShape, axis, interior, v)));
  // Pad takes negative amounts as cropping; an axis cropped past empty needs a Slice first.
  const lows = config.map((c) => c[0]);
  const highs = config.map((c) => c[1]);
  if (lows.every((p) => p === 0) && highs.every((p) => p === 0)) return cur === x ? g.op("Identity", [x]) : cur;
  return g.op("Pad", [cur, g.int64s([...lows, ...highs]), v]);
};

const pad: LoweringRule<{ padding_config: [number, number, number][] }> = ({ g, inputs: [x, v], inAvals: [a], params }) => [
  padWith(g, x!, a!.shape, v!, params.padding_config),
];

const iota: LoweringRule<{ dtype: DType; shape: number[]; dimension: number }> = ({ g, params: { dtype, shape, dimension } }) => {
  const n = shape.reduce((p, d) => p * d, 1);
  const inner = shape.slice(dimension + 1).reduce((p, d) => p * d, 1);
  const data = Array.from({ length: n }, (_, i) => Math.floor(i / inner) % shape[dimension]!);
  return [g.op("Identity", [g.constant(data, shape, dtype, "iota")])];
};

/**
 * Start indices as one int64 tensor `[..., k]`: each start counts from the end when
 * negative and is clamped so the window fits (Cotangent's and JAX's rule).
 */
const clampedStarts = (g: GraphBuilder, starts: readonly string[], dims: readonly number[], sizes: readonly number[], batchShape: readonly number[]): string => {
  const cols = starts.map((s, k) => {
    const n = dims[k]!;
    const s64 = s;
    const wrapped = g.op("Where", [g.op("Less", [s64, g.scalar(0, "int32")]), g.op("Add", [s64, g.scalar(n, "int32")]), s64]);
    const clamped = g.op("Clip", [wrapped, g.scalar(0, "int32"), g.scalar(Math.max(0, n - sizes[k]!), "int32")]);
    return g.op("Unsqueeze", [cast(g, clamped, "int64"), g.int64s([batchShape.length])]);
  });
  return cols.length === 1 ? cols[0]! : g.op("Concat", cols, { axis: { int: -1 } });
};

/** The index grid `[...sizes, k]` of a window: grid[i, :] = i. */
const windowGrid = (g: GraphBuilder, sizes: readonly number[]): string => {
  const n = sizes.reduce((p, d) => p * d, 1);
  const data: number[] = [];
  for (let f = 0; f < n; f++) {
    let rem = f;
    const idx = new Array<number>(sizes.length);
    for (let k = sizes.length - 1; k >= 0; k--) {
      idx[k] = rem % sizes[k]!;
      rem = Math.floor(rem / sizes[k]!);
    }
    data.push(...idx);
  }
  return g.constant(data, [...sizes, sizes.length], "int64", "grid");
};

/** Full ScatterND/GatherND indices `[B..., S..., k]` of a window at `starts` (shape `[B..., k]`). */
const windowIndices = (g: GraphBuilder, starts: string, batchShape: readonly number[], sizes: readonly number[]): string => {
  const k = sizes.length;
  const st = reshapeTo(g, starts, [...batchShape, ...sizes.map(() => 1), k]);
  return g.op("Add", [st, windowGrid(g, sizes)]);
};

/** Prepends the batch coordinates to indices `[B..., S..., k]`, giving `[B..., S..., nb + k]`. */
const withBatchCoords = (g: GraphBuilder, idx: string, batchShape: readonly number[], sizes: readonly number[]): string => {
  if (batchShape.length === 0) return idx;
  const full = [...batchShape, ...sizes];
  const coords = batchShape.map((_, j) => {
    const n = full.reduce((p, d) => p * d, 1);
    const inner = full.slice(j + 1).reduce((p, d) => p * d, 1);
    return g.constant(Array.from({ length: n }, (_, f) => Math.floor(f / inner) % batchShape[j]!), [...full, 1], "int64", "bcoord");
  });
  return g.op("Concat", [...coords, idx], { axis: { int: -1 } });
};

const dynamicSlice: LoweringRule<{ slice_sizes: number[]; batch_dims?: number }> = ({ g, inputs: [x, ...starts], inAvals: [a], params }) => {
  const nb = params.batch_dims ?? 0;
  const batchShape = a!.shape.slice(0, nb);
  const dims = a!.shape.slice(nb);
  const st = clampedStarts(g, starts, dims, params.slice_sizes, batchShape);
  if (nb === 0) {
    const ends = g.op("Add", [st, g.int64s(params.slice_sizes)]);
    return [g.op("Slice", [x!, st, ends, g.int64s(dims.map((_, i) => i))])];
  }
  return [g.op("GatherND", [x!, windowIndices(g, st, batchShape, params.slice_sizes)], { batch_dims: { int: nb } })];
};

const dynamicUpdateSlice: LoweringRule<{ batch_dims?: number }> = ({ g, inputs: [x, u, ...starts], inAvals: [a, ua], params }) => {
  const nb = params.batch_dims ?? 0;
  const batchShape = a!.shape.slice(0, nb);
  const sizes = ua!.shape.slice(nb);
  const st = clampedStarts(g, starts, a!.shape.slice(nb), sizes, batchShape);
  const idx = withBatchCoords(g, windowIndices(g, st, batchShape, sizes), batchShape, sizes);
  return [g.op("ScatterND", [x!, idx, u!])];
};

/**
 * gather/scatter_add indices, normalised as Cotangent does (negative counts from the end
 * once, then clamped into range), as int64 broadcast to the shape of the gathered values.
 */
const normalizedIndices = (g: GraphBuilder, idx: string, n: number): string => {
  const wrapped = g.op("Where", [g.op("Less", [idx, g.scalar(0, "int32")]), g.op("Add", [idx, g.scalar(n, "int32")]), idx]);
  return cast(g, g.op("Clip", [wrapped, g.scalar(0, "int32"), g.scalar(Math.max(0, n - 1), "int32")]), "int64");
};

/** Indices `[B, I...]` laid out against gathered values `[B, P, I..., Q]`. */
const elementIndices = (g: GraphBuilder, idx: string, xShape: readonly number[], idxShape: readonly number[], axis: number, nb: number): string => {
  const p = xShape.slice(nb, axis);
  const q = xShape.slice(axis + 1);
  const i = idxShape.slice(nb);
  const outShape = [...xShape.slice(0, nb), ...p, ...i, ...q];
  const r = reshapeTo(g, idx, [...xShape.slice(0, nb), ...p.map(() => 1), ...i, ...q.map(() => 1)]);
  return g.op("Expand", [r, g.int64s(outShape)]);
};

/** With several index axes, the indexed axis of x is first split so GatherElements sees one axis per index axis. */
const gather: LoweringRule<{ axis: number; batch_dims: number }> = ({ g, inputs: [x, idx], inAvals: [a, ia], outAvals: [o], params: { axis, batch_dims: nb } }) => {
  const n = a!.shape[axis]!;
  const ix = normalizedIndices(g, idx!, n);
  if (nb === 0) return [g.op("Gather", [x!, ix], { axis: { int: axis } })];
  // out[b, p, i, q] = x[b, p, idx[b, i], q]: GatherElements over x with the indexed axis
  // made as long as the flattened index axes (|I| may differ from n).
  const ni = ia!.shape.slice(nb).reduce((s, d) => s * d, 1);
  const flatIdx = reshapeTo(g, ix, [...ia!.shape.slice(0, nb), ni]);
  const el = elementIndices(g, flatIdx, a!.shape, [...ia!.shape.slice(0, nb), ni], axis, nb);
  const flatOut = g.op("GatherElements", [x!, el], { axis: { int: axis } });
  // GatherElements needs data and indices of one rank, with index dims no larger than data's
  // except on `axis`: P and Q match exactly, so only the indexed axis changes.
  return [reshapeTo(g, flatOut, o!.shape)];
};

const scatterAdd: LoweringRule<{ axis: number; batch_dims: number }> = ({ g, inputs: [x, idx, upd], inAvals: [a, ia], params: { axis, batch_dims: nb } }) => {
  const n = a!.shape[axis]!;
  const ni = ia!.shape.slice(nb).reduce((s, d) => s * d, 1);
  const ix = normalizedIndices(g, idx!, n);
  const bshape = ia!.shape.slice(0, nb);
  const flatIdx = reshapeTo(g, ix, [...bshape, ni]);
  const updShape = [...a!.shape.slice(0, axis), ni, ...a!.shape.slice(axis + 1)];
  const flatUpd = reshapeTo(g, upd!, updShape);
  const el = elementIndices(g, flatIdx, a!.shape, [...bshape, ni], axis, nb);
  return [g.node("ScatterElements", [x!, el, flatUpd], { axis: { int: axis }, reduction: { string: "add" } }, { since: 16 })[0]!];
};

export const shapeLowerings: LoweringTable = {
  broadcast_in_dim: ({ g, inputs: [x], inAvals: [a], params, alt, shapeTensor }) => {
    if (!alt) return [broadcastTo(g, x!, a!.shape, params.shape, params.broadcast_dimensions)];
    // Dynamic axes: the same nodes with shapes read at run time where the traces differ.
    const expandedOf = (inShape: readonly number[], shape: readonly number[]) => {
      const e = shape.map(() => 1);
      params.broadcast_dimensions.forEach((d: number, i: number) => (e[d] = inShape[i]!));
      return e;
    };
    const altParams = alt.params as { shape: number[] };
    const r = g.op("Reshape", [x!, shapeTensor(expandedOf(a!.shape, params.shape), expandedOf(alt.inputs[0]!.aval.shape, altParams.shape))]);
    return [g.op("Expand", [r, shapeTensor(params.shape, altParams.shape)])];
  },
  reshape: ({ g, inputs: [x], params, alt, shapeTensor }) => [
    alt ? g.op("Reshape", [x!, shapeTensor(params.new_sizes, (alt.params as { new_sizes: number[] }).new_sizes)]) : reshapeTo(g, x!, params.new_sizes),
  ],
  squeeze: ({ g, inputs: [x], outAvals: [o] }) => [reshapeTo(g, x!, o!.shape)],
  transpose: ({ g, inputs: [x], params }) => [g.op("Transpose", [x!], { perm: { ints: params.permutation } })],
  rev: ({ g, inputs: [x], params }) => [reverse(g, x!, params.dimensions)],
  slice,
  pad,
  concatenate: ({ g, inputs, params }) => [g.op("Concat", inputs, { axis: { int: params.dimension } })],
  iota,
  dynamic_slice: dynamicSlice,
  dynamic_update_slice: dynamicUpdateSlice,
  gather,
  scatter_add: scatterAdd,
};
