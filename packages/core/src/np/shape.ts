/**
 * `np` shape functions: reshape, ravel, transpose, swapaxes, moveaxis, squeeze, expandDims,
 * broadcastTo, concatenate, stack, split, flip, pad, tile, repeat. Axes may be negative;
 * a bad axis is an AxisError naming the axis and the rank.
 */
import { ArrayBase } from "../array.js";
import { AxisError, ShapeError, ValueError } from "../errors.js";
import { normalizeAxes, normalizeAxis } from "../primitives/common.js";
import { gather } from "../primitives/indexing.js";
import * as S from "../primitives/shape.js";
import { broadcastInDim, broadcastTo as broadcastToOp, reshape as reshapeOp, transpose as transposeOp } from "../primitives/structural.js";
import { broadcastShapes, shapeStr, sizeOf } from "../shape.js";
import type { Axes, Axis, PositionalOr, SqueezeArgs, SqueezeOptions } from "../api/arg_types.js";
import { checkParam, describeValue, parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { type ArrayLike, array, asArray, promoteArgs } from "./coerce.js";
import { mod, subtract } from "./elementwise.js";

export type { SqueezeArgs, SqueezeOptions } from "../api/arg_types.js";

/** Reshapes `x`; one entry of `shape` may be -1 to infer it. */
const reshapeSig = signature("np.reshape", ["x:array!", "shape:newShape!"]);
export const reshape = withSignature(reshapeSig, (x: ArrayLike, shape: number | readonly number[], ...rest: []): ArrayBase => {
  const op = "np.reshape";
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(reshapeSig, [x, shape, ...rest]);
    shape = o.shape;
  }
  const a = asArray(x);
  const sh = typeof shape === "number" ? [shape] : shape.slice();
  const bad = () =>
    new ShapeError(`cannot reshape an array of shape ${shapeStr(a.shape)} (size ${a.size}) into shape ${shapeStr(sh)}`, {
      op,
      hint: "the sizes must multiply to the same total; one dimension may be -1 to infer it",
    });
  const unknown = sh.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError(`only one dimension may be -1, got ${shapeStr(sh)}`, { op });
  if (sh.some((d) => !Number.isInteger(d) || d < -1)) throw new ShapeError(`shape ${shapeStr(sh)} must hold non-negative integers (or one -1)`, { op });
  if (unknown === 1) {
    const known = sh.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
    if (known === 0 || a.size % known !== 0) throw bad();
    sh[sh.indexOf(-1)] = a.size / known;
  }
  if (sizeOf(sh) !== a.size) throw bad();
  return reshapeOp(a, sh);
});

/** The array as a vector (row-major order). */
const ravelSig = signature("np.ravel", ["x:array!"]);
export const ravel = (x: ArrayLike, ...rest: []): ArrayBase => {
  parseArgs(ravelSig, [x, ...rest]);
  const a = asArray(x);
  return reshapeOp(a, [a.size]);
};

/** Permutes the axes (reverses them when `axes` is absent). */
const transposeSig = signature("np.transpose", ["x:array!", { name: "axes", kind: "axisList", nullable: true }]);
export const transpose = (x: ArrayLike, axes?: readonly number[] | null, ...rest: []): ArrayBase => {
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(transposeSig, [x, axes, ...rest]);
    axes = o.axes;
  }
  const a = asArray(x);
  if (typeof axes === "number") axes = [axes];
  if (axes === undefined || axes === null) return transposeOp(a, a.shape.map((_, i) => a.ndim - 1 - i));
  if (axes.length !== a.ndim) {
    throw new AxisError(`axes (${axes.join(", ")}) must list each of the ${a.ndim} axes of an array of shape ${shapeStr(a.shape)} once`, { op: "np.transpose" });
  }
  return transposeOp(a, normalizeAxes("np.transpose", axes, a.ndim));
};

/** Swaps two axes. */
const swapaxesSig = signature("np.swapaxes", ["x:array!", "axis1:requiredAxis!", "axis2:requiredAxis!"]);
export const swapaxes = (x: ArrayLike, axis1: number, axis2: number, ...rest: []): ArrayBase => {
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(swapaxesSig, [x, axis1, axis2, ...rest]);
    axis1 = o.axis1; axis2 = o.axis2;
  }
  const a = asArray(x);
  const i = normalizeAxis("np.swapaxes", axis1, a.ndim);
  const j = normalizeAxis("np.swapaxes", axis2, a.ndim);
  const perm = a.shape.map((_, k) => (k === i ? j : k === j ? i : k));
  return transposeOp(a, perm);
};

/** Moves axes `source` to positions `destination`; the other axes keep their order. */
const moveaxisSig = signature("np.moveaxis", ["x:array!", "source:axisList!", "destination:axisList!"]);
export const moveaxis = (x: ArrayLike, source: number | readonly number[], destination: number | readonly number[], ...extra: []): ArrayBase => {
  const op = "np.moveaxis";
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(moveaxisSig, [x, source, destination, ...extra]);
    source = o.source;
    destination = o.destination;
  }
  const a = asArray(x);
  const src = normalizeAxes(op, typeof source === "number" ? [source] : source, a.ndim);
  const dst = normalizeAxes(op, typeof destination === "number" ? [destination] : destination, a.ndim);
  if (src.length !== dst.length) {
    throw new ValueError(`source (${src.join(", ")}) and destination (${dst.join(", ")}) must have the same number of entries`, { op });
  }
  const rest = a.shape.map((_, k) => k).filter((k) => !src.includes(k));
  const perm = new Array<number>(a.ndim);
  dst.forEach((d, i) => (perm[d] = src[i]!));
  for (let k = 0, r = 0; k < a.ndim; k++) if (perm[k] === undefined) perm[k] = rest[r++]!;
  return transposeOp(a, perm);
};

/** Removes axes of size 1: those given, or all of them. */
const squeezeSig = signature("np.squeeze", ["x:array!", "axis:axes"]);
export const squeeze = (x: ArrayLike, ...args: SqueezeArgs): ArrayBase => {
  const op = "np.squeeze";
  const { axis } = parseArgs<{ axis?: Axes }>(squeezeSig, [x, ...args]);
  const a = asArray(x);
  const axes =
    axis === undefined || axis === null
      ? a.shape.flatMap((d, k) => (d === 1 ? [k] : []))
      : normalizeAxes(op, typeof axis === "number" ? [axis] : axis, a.ndim);
  for (const k of axes) {
    if (a.shape[k] !== 1) {
      throw new ValueError(`cannot select an axis to squeeze out which has size not equal to one: axis ${k} of shape ${shapeStr(a.shape)} has size ${a.shape[k]}`, { op });
    }
  }
  return S.squeeze(a, axes);
};

/** Inserts axes of size 1 at `axis` (positions in the result; negative counts from its end). */
const expandDimsSig = signature("np.expandDims", ["x:array!", "axis:axisList!"]);
export const expandDims = (x: ArrayLike, axis: number | readonly number[], ...rest: []): ArrayBase => {
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(expandDimsSig, [x, axis, ...rest]);
    axis = o.axis;
  }
  const a = asArray(x);
  const list = typeof axis === "number" ? [axis] : axis;
  return S.expandDims(a, normalizeAxes("np.expandDims", list, a.ndim + list.length));
};

/** NumPy broadcast of `x` to `shape`. */
const broadcastToSig = signature("np.broadcastTo", ["x:array!", "shape:shape!"]);
export const broadcastTo = (x: ArrayLike, shape: number | readonly number[], ...rest: []): ArrayBase => {
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(broadcastToSig, [x, shape, ...rest]);
    shape = o.shape;
  }
  return broadcastArrayTo("np.broadcastTo", asArray(x), shape);
};

/** `np.broadcastTo` for the np function `op` (whose name the errors carry). */
export const broadcastArrayTo = (op: string, a: ArrayBase, shape: number | readonly number[]): ArrayBase => {
  if (!(a instanceof ArrayBase)) throw new ValueError(`expects an array, got ${describeValue(a)}`, { op: "np.broadcastArrayTo" });
  checkParam(typeof op === "string" ? op : "np.broadcastArrayTo", { name: "shape", kind: "shape" }, shape);
  const sh = typeof shape === "number" ? [shape] : shape.slice();
  if (sh.some((d) => !Number.isInteger(d) || d < 0)) throw new ShapeError(`shape ${shapeStr(sh)} must hold non-negative integers`, { op });
  const b = broadcastShapes(a.shape, sh);
  if (a.ndim > sh.length || !b || b.some((d, k) => d !== sh[k])) {
    throw new ShapeError(`cannot broadcast an array of shape ${shapeStr(a.shape)} to shape ${shapeStr(sh)}`, {
      op,
      hint: "trailing axes are aligned; each input size must be 1 or equal to the target size",
    });
  }
  return broadcastToOp(a, sh);
};

/** Promotes `arrays` to one dtype and checks that they are a non-empty list. */
const promoteList = (op: string, arrays: readonly ArrayLike[]): ArrayBase[] => {
  if (!Array.isArray(arrays) || arrays.length === 0) throw new ValueError("needs a non-empty list of arrays", { op });
  return promoteArgs(...arrays);
};

/** Options of `np.concatenate`. */
export interface ConcatenateOptions {
  /** The axis to join along (default 0); `null` flattens the arrays first. */
  axis?: Axis;
  /** The result dtype (default: the promoted dtype of the arrays). */
  dtype?: DType | null;
}
/** `np.concatenate(arrays, axis, dtype)` and its options form. */
export type ConcatenateArgs = PositionalOr<[axis: Axis, dtype: DType | null], ConcatenateOptions>;
const concatenateSig = signature("np.concatenate", ["arrays:arrays!", "axis:axis", "dtype:dtype"]);

/**
 * Joins arrays along an existing axis (default 0; `null` flattens them first). Dtypes are
 * promoted; the shapes must agree on every other axis.
 */
export const concatenate = (arrays: readonly ArrayLike[], ...args: ConcatenateArgs): ArrayBase => {
  const op = "np.concatenate";
  const options = parseArgs<{ axis?: Axis; dtype?: DType | null }>(concatenateSig, [arrays, ...args]);
  let xs = promoteList(op, arrays);
  if (options.dtype) xs = xs.map((x) => asArray(x, options.dtype!));
  if (options.axis === null) xs = xs.map((x) => reshapeOp(x, [x.size]));
  const first = xs[0]!;
  if (first.ndim === 0) throw new ValueError("zero-dimensional arrays cannot be concatenated", { op, hint: "use np.stack" });
  const axis = normalizeAxis(op, options.axis ?? 0, first.ndim);
  xs.forEach((x, i) => {
    if (x.ndim !== first.ndim || x.shape.some((d, k) => k !== axis && d !== first.shape[k])) {
      throw new ShapeError(
        `argument ${i} has shape ${shapeStr(x.shape)}, which does not match argument 0's shape ${shapeStr(first.shape)} except along axis ${axis}`,
        { op, hint: "all arrays must have the same rank and the same sizes on every axis but the one joined" },
      );
    }
  });
  return S.concatenate(xs, axis);
};

/** Options of `np.stack`. */
export interface StackOptions {
  /** The position of the new axis in the result (default 0). */
  axis?: number;
  /** The result dtype (default: the promoted dtype of the arrays). */
  dtype?: DType | null;
}
/** `np.stack(arrays, axis, out, dtype)` and its options form. */
export type StackArgs = PositionalOr<[axis: number, out: null, dtype: DType | null], StackOptions>;
const stackSig = signature("np.stack", ["arrays:arrays!", "axis:requiredAxis", "out:out", "dtype:dtype"]);

/** Joins arrays of one shape along a new axis (default 0). */
export const stack = (arrays: readonly ArrayLike[], ...args: StackArgs): ArrayBase => {
  const op = "np.stack";
  const options = parseArgs<{ axis?: number; dtype?: DType | null }>(stackSig, [arrays, ...args]);
  let xs = promoteList(op, arrays);
  if (options.dtype) xs = xs.map((x) => asArray(x, options.dtype!));
  const first = xs[0]!;
  const axis = normalizeAxis(op, options.axis ?? 0, first.ndim + 1);
  xs.forEach((x, i) => {
    if (x.ndim !== first.ndim || x.shape.some((d, k) => d !== first.shape[k])) {
      throw new ShapeError(`all input arrays must have the same shape: argument ${i} has shape ${shapeStr(x.shape)} but argument 0 has ${shapeStr(first.shape)}`, { op });
    }
  });
  return S.concatenate(xs.map((x) => S.expandDims(x, [axis])), axis);
};

const splitSig = signature("np.split", ["x:array!", "sections:ints!", "axis:requiredAxis"]);

/**
 * Splits `x` along `axis` (default 0) into `sections` equal parts, or at the given
 * increasing `indices` (as NumPy: `[2, 5]` gives `x[:2]`, `x[2:5]`, `x[5:]`).
 */
export const split = (x: ArrayLike, sections: number | readonly number[], ...args: PositionalOr<[axis: number], { axis?: number }>): ArrayBase[] => {
  const op = "np.split";
  const options = parseArgs<{ axis?: number }>(splitSig, [x, sections, ...args]);
  const a = asArray(x);
  if (a.ndim === 0) throw new ValueError("cannot split a scalar (rank-0 array)", { op });
  const axis = normalizeAxis(op, options.axis ?? 0, a.ndim);
  const n = a.shape[axis]!;
  let bounds: number[];
  if (typeof sections === "number") {
    if (!Number.isInteger(sections) || sections <= 0) throw new ValueError(`the number of sections must be a positive integer, got ${sections}`, { op });
    if (n % sections !== 0) {
      throw new ValueError(`array split does not result in an equal division: axis ${axis} of size ${n} into ${sections} sections`, {
        op,
        hint: `use a number of sections that divides ${n}, or pass split indices`,
      });
    }
    bounds = Array.from({ length: sections - 1 }, (_, i) => ((i + 1) * n) / sections);
  } else {
    bounds = sections.map((i) => {
      if (!Number.isInteger(i)) throw new ValueError(`split indices must be integers, got ${i}`, { op });
      return Math.min(Math.max(i < 0 ? i + n : i, 0), n);
    });
  }
  const edges = [0, ...bounds, n];
  return edges.slice(0, -1).map((s, i) => {
    const e = Math.max(s, edges[i + 1]!);
    return S.sliceInDim(a, s, e, 1, axis);
  });
};

/** Reverses the order of elements along `axis` (all axes when absent). */
const flipSig = signature("np.flip", ["x:array!", "axis:axes"]);
export const flip = (x: ArrayLike, ...args: PositionalOr<[axis: Axes], { axis?: Axes }>): ArrayBase => {
  const { axis } = parseArgs<{ axis?: Axes }>(flipSig, [x, ...args]);
  const a = asArray(x);
  const axes = axis === undefined || axis === null ? a.shape.map((_, k) => k) : normalizeAxes("np.flip", typeof axis === "number" ? [axis] : axis, a.ndim);
  return S.rev(a, axes);
};

/** Pad widths: one number for all sides, a `[before, after]` pair, or one number or pair per axis. */
export type PadWidth = number | readonly (number | readonly [number, number])[];

const padPairs = (op: string, w: PadWidth, ndim: number): [number, number][] => {
  const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === "number" ? [v, v] : [v[0], v[1]]);
  let pairs: [number, number][];
  if (typeof w === "number") pairs = Array.from({ length: ndim }, () => [w, w]);
  else if (w.length === 1) pairs = Array.from({ length: ndim }, () => pair(w[0]!));
  // A flat pair of numbers is (before, after) for every axis, as NumPy reads it (even for rank 2).
  else if (w.length === 2 && w.every((v) => typeof v === "number")) pairs = Array.from({ length: ndim }, () => [w[0] as number, w[1] as number]);
  else if (w.length === ndim) pairs = w.map(pair);
  else throw new ValueError(`pad widths ${JSON.stringify(w)} must give one entry (a number or a [before, after] pair) per axis of the ${ndim} axes`, { op });
  for (const [b, e] of pairs) {
    if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0) {
      throw new ValueError(`pad widths must be non-negative integers, got ${JSON.stringify(w)}`, { op, hint: "lax.pad accepts negative padding (cropping)" });
    }
  }
  return pairs;
};

/** The padding modes of `np.pad`. */
export type PadMode = "constant" | "edge" | "reflect" | "wrap";

export interface PadOptions {
  /** `constant` (default) fills with `constantValues`; `edge` repeats the edge; `reflect` mirrors without the edge; `wrap` wraps around. */
  mode?: PadMode;
  /** The fill value of `constant` mode (default 0), converted to the array's dtype. */
  constantValues?: number;
}

/**
 * Pads `x` with `widths` (see {@link PadWidth}; a flat `[a, b]` is a before/after pair for
 * every axis, as in NumPy). Modes: constant, edge, reflect, wrap.
 */
const padSig = signature("np.pad", [
  "x:array!",
  "widths:padWidths!",
  { name: "mode", kind: "string", choices: ["constant", "edge", "reflect", "wrap"] },
  "constantValues:number=",
]);
export const pad = (x: ArrayLike, widths: PadWidth, ...args: PositionalOr<[mode: PadMode], PadOptions>): ArrayBase => {
  const op = "np.pad";
  const options = parseArgs<PadOptions>(padSig, [x, widths, ...args]);
  const mode = options.mode ?? "constant";
  const a = asArray(x);
  // The fill value takes the array's dtype, as in NumPy and JAX (an int32 array stays int32).
  const v = mode === "constant" ? asArray(options.constantValues ?? 0, a.dtype) : null;
  const pairs = padPairs(op, widths, a.ndim);
  if (mode === "constant") return S.pad(a, reshapeOp(v!, []), pairs.map(([b, e]) => [b, e, 0]));
  if (!["edge", "reflect", "wrap"].includes(mode)) throw new ValueError(`unknown mode '${mode}'`, { op, hint: "use constant, edge, reflect or wrap" });
  // The other modes gather each axis from computed source positions (static indices).
  let y = a;
  pairs.forEach(([b, e], k) => {
    if (b === 0 && e === 0) return;
    const n = y.shape[k]!;
    if (n === 0) throw new ValueError(`cannot pad an empty axis ${k} in mode '${mode}'`, { op });
    const src = (j: number): number => {
      if (mode === "edge") return Math.min(Math.max(j, 0), n - 1);
      if (mode === "wrap") return ((j % n) + n) % n;
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      const m = ((j % period) + period) % period;
      return m < n ? m : period - m;
    };
    const idx = Array.from({ length: b + n + e }, (_, j) => src(j - b));
    y = gather(y, array(idx, { dtype: "int32" }), { axis: k, batch_dims: 0 });
  });
  return y;
};

/** Repeats the whole array `reps` times along each axis (NumPy's tile). */
const tileSig = signature("np.tile", ["x:array!", "reps:ints!"]);
export const tile = (x: ArrayLike, reps: number | readonly number[], ...rest: []): ArrayBase => {
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(tileSig, [x, reps, ...rest]);
    reps = o.reps;
  }
  let a = asArray(x);
  let r = typeof reps === "number" ? [reps] : reps.slice();
  if (r.some((v) => !Number.isInteger(v) || v < 0)) throw new ValueError(`reps (${r.join(", ")}) must be non-negative integers`, { op: "np.tile" });
  if (r.length < a.ndim) r = [...new Array<number>(a.ndim - r.length).fill(1), ...r];
  if (a.ndim < r.length) a = reshapeOp(a, [...new Array<number>(r.length - a.ndim).fill(1), ...a.shape]);
  // Broadcast to [r0, n0, r1, n1, ...] then merge each pair.
  const inter = a.shape.flatMap((n, k) => [r[k]!, n]);
  const b = broadcastInDim(a, inter, a.shape.map((_, k) => 2 * k + 1));
  return reshapeOp(b, a.shape.map((n, k) => n * r[k]!));
};

/** Options of `np.repeat`. */
export interface RepeatOptions {
  /** The axis to repeat along; `null`/absent flattens the array first. */
  axis?: Axis;
  /** JAX's static output length along the axis: checked against the repeats when given. */
  totalRepeatLength?: number | null;
}
/** `np.repeat(x, repeats, axis, totalRepeatLength)` and its options form. */
export type RepeatArgs = PositionalOr<[axis: Axis, totalRepeatLength: number | null], RepeatOptions>;
const repeatSig = signature("np.repeat", ["x:array!", "repeats:ints!", "axis:axis", { name: "totalRepeatLength", kind: "count", nullable: true }]);

/**
 * Repeats each element `repeats` times along `axis` (flattened when absent). `repeats` is
 * a number, or one count per element of the axis.
 */
export const repeat = (x: ArrayLike, repeats: number | readonly number[], ...args: RepeatArgs): ArrayBase => {
  const op = "np.repeat";
  const options = parseArgs<RepeatOptions>(repeatSig, [x, repeats, ...args]);
  const out = repeatAlong(op, asArray(x), repeats, options.axis);
  const total = options.totalRepeatLength;
  const along = out.shape[options.axis === undefined || options.axis === null ? 0 : normalizeAxis(op, options.axis, out.ndim)];
  if (total !== undefined && total !== null && along !== total) {
    throw new ValueError(`totalRepeatLength is ${total} but the repeats give ${along} elements`, { op });
  }
  return out;
};

const repeatAlong = (op: string, a: ArrayBase, repeats: number | readonly number[], axisArg: Axis | undefined): ArrayBase => {
  const options = { axis: axisArg };
  if (options.axis === undefined || options.axis === null) a = reshapeOp(a, [a.size]);
  const axis = normalizeAxis(op, options.axis ?? 0, a.ndim);
  const n = a.shape[axis]!;
  // One count in a list applies to every element, as NumPy broadcasts it.
  if (typeof repeats !== "number" && repeats.length === 1 && n !== 1) repeats = repeats[0]!;
  if (typeof repeats === "number") {
    if (!Number.isInteger(repeats) || repeats < 0) throw new ValueError(`repeats must be a non-negative integer, got ${repeats}`, { op });
    const inter = [...a.shape.slice(0, axis + 1), repeats, ...a.shape.slice(axis + 1)];
    const b = broadcastInDim(a, inter, a.shape.map((_, k) => (k <= axis ? k : k + 1)));
    const out = a.shape.slice();
    out[axis] = n * repeats;
    return reshapeOp(b, out);
  }
  if (repeats.length !== n) {
    throw new ValueError(`repeats has ${repeats.length} entries but axis ${axis} has size ${n}`, { op, hint: "give one count per element, or a single number" });
  }
  const idx: number[] = [];
  repeats.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 0) throw new ValueError(`repeats must be non-negative integers, got ${c}`, { op });
    for (let j = 0; j < c; j++) idx.push(i);
  });
  if (n === 0) return a;
  return gather(a, array(idx, { dtype: "int32", shape: [idx.length] }), { axis, batch_dims: 0 });
};

/** `np.roll(x, shift, axis)` and its options form. */
export type RollArgs = PositionalOr<[axis: Axes], { axis?: Axes }>;
const rollSig = signature("np.roll", ["x:array!", "shift:any!", "axis:axes"]);

/** The int32 shift array, or the list of JS integer shifts. */
const rollShifts = (op: string, shift: unknown): number[] | ArrayBase => {
  if (Number.isSafeInteger(shift)) return [shift as number];
  if (Array.isArray(shift) && shift.every((s) => Number.isSafeInteger(s))) return shift as number[];
  if (shift instanceof ArrayBase && shift.dtype === "int32" && shift.ndim <= 1) return shift;
  throw new ValueError(`shift must be an integer, a list of integers or an int32 array of at most one axis, got ${describeValue(shift)}`, { op });
};

/**
 * Shifts elements along `axis` by `shift`, wrapping around (element i moves to i + shift);
 * `shift` and `axis` may be lists that pair up (one of them may be a single value that
 * repeats; an axis listed twice is rolled twice). Without an axis the flattened array rolls
 * and keeps its shape. A traced or array `shift` (int32) works too: the roll is then a
 * dynamic slice of the axis doubled, as JAX does it.
 */
export const roll = withSignature(rollSig, (x: ArrayLike, shift: number | readonly number[] | ArrayBase, ...args: RollArgs): ArrayBase => {
  const op = "np.roll";
  const o = parseArgs<{ x: ArrayLike; shift: unknown; axis?: Axes }>(rollSig, [x, shift, ...args]);
  const a = asArray(o.x);
  if (o.axis === undefined || o.axis === null) return reshapeOp(roll(reshapeOp(a, [a.size]), shift, 0), a.shape);
  const axes = (typeof o.axis === "number" ? [o.axis] : o.axis).map((ax) => normalizeAxis(op, ax, a.ndim));
  const shifts = rollShifts(op, o.shift);
  const count = shifts instanceof ArrayBase ? (shifts.ndim === 0 ? 1 : shifts.shape[0]!) : shifts.length;
  if (count !== axes.length && count !== 1 && axes.length !== 1) {
    throw new ValueError(`shift (${count} values) and axis (${axes.length} values) must pair up (or one of them be a single value)`, { op });
  }
  const n = Math.max(count, axes.length);
  let out = a;
  for (let i = 0; i < n; i++) {
    const ax = axes[axes.length === 1 ? 0 : i]!;
    const size = out.shape[ax]!;
    if (size === 0) continue;
    if (shifts instanceof ArrayBase) {
      // (size - shift mod size) is the start of the rolled window in [x, x] along the axis.
      const s = shifts.ndim === 0 ? shifts : reshapeOp(S.sliceInDim(shifts, count === 1 ? 0 : i, (count === 1 ? 0 : i) + 1, 1, 0), []);
      const m = mod(s, size);
      const start = subtract(size, m);
      const doubled = S.concatenate([out, out], ax);
      out = S.dynamicSlice(doubled, out.shape.map((_, k) => (k === ax ? start : 0)), out.shape);
    } else {
      const k = (((-shifts[count === 1 ? 0 : i]!) % size) + size) % size;
      if (k === 0) continue;
      out = S.concatenate([S.sliceInDim(out, k, size, 1, ax), S.sliceInDim(out, 0, k, 1, ax)], ax);
    }
  }
  return out;
});
