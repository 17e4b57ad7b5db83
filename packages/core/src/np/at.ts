/**
 * `x.at(...index)`: JAX's functional updates (`x.at[index].set(v)`, `.add`, `.multiply`,
 * `.min`, `.max`, `.get`, ...) with NumPy's indexing: integers, slices, `newaxis`,
 * `ellipsis`, integer arrays (several broadcast together, placed as NumPy places advanced
 * indices) and boolean masks.
 *
 * Every index is lowered the same way: the index expression becomes one int32 array of
 * flat positions into `x` (the shape of `x[index]`), so `get` is one gather and each update
 * one scatter on the flattened array. Out-of-range handling (`mode`) works on those
 * positions: `'clip'` clamps each axis' index; `'drop'` sends dropped updates to one extra
 * slot past the end that is cut off afterwards; `'fill'` selects `fillValue` for `get`.
 *
 * Boolean masks have data-dependent shapes. A concrete mask becomes integer arrays (its
 * non-zero positions); an update of a traced mask with a value that broadcasts to the masked
 * trailing axes is `np.where(mask, op(x, v), x)`; anything else under a trace raises a
 * ConcretizationError.
 */
import { ArrayBase, NDArray, type ArrayLike } from "../array.js";
import type { ArrayAt, AtIndexEntry, AtMode, AtOptions } from "../api/at_types.js";
import { type Signature, describeValue, parseArgs } from "../api/args.js";
import type { DType } from "../dtype.js";
import { ConcretizationError, DTypeError, IndexError, ValueError } from "../errors.js";
import { add, div, max, min, mul, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { bitwiseAnd, ge, lt, select } from "../primitives/compare.js";
import { gather, scatterAdd } from "../primitives/indexing.js";
import { scatter, scatterMax, scatterMin, scatterMul } from "../primitives/scatter.js";
import { iota, pad, slice } from "../primitives/shape.js";
import { broadcastInDim, broadcastTo, convertElementType, reshape } from "../primitives/structural.js";
import { broadcastShapes, shapeStr } from "../shape.js";
import { array, asArray } from "./coerce.js";
import { Slice } from "./indexing.js";

export type { ArrayAt, AtIndexEntry, AtMode, AtOptions, SliceLike } from "../api/at_types.js";

const MODES: readonly AtMode[] = ["promise_in_bounds", "clip", "drop", "fill"];

/** True for a JS (nested) list holding booleans only. */
const isBoolList = (u: unknown): boolean => Array.isArray(u) && u.length > 0 && u.every((v) => typeof v === "boolean" || isBoolList(v));

/** One resolved entry: a static slice, a new axis, or an advanced (integer array) index. */
type Resolved = { t: "slice"; start: number; step: number; len: number } | { t: "new" } | { t: "adv"; idx: ArrayBase };

/** Python's slice.indices(n) for a step of either sign: start, step and length. */
const sliceOf = (op: string, s: Slice, n: number): { start: number; step: number; len: number } => {
  const step = s.step ?? 1;
  if (!Number.isInteger(step) || step === 0) throw new IndexError(`slice step must be a non-zero integer, got ${s}`, { op });
  const norm = (v: number | null, dflt: number, lo: number, hi: number): number => {
    if (v === null) return dflt;
    if (!Number.isInteger(v)) throw new IndexError(`slice bounds must be integers, got ${s}`, { op });
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, lo), hi);
  };
  const [start, stop] = step > 0 ? [norm(s.start, 0, 0, n), norm(s.stop, n, 0, n)] : [norm(s.start, n - 1, -1, n - 1), norm(s.stop, -1, -1, n - 1)];
  const len = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step));
  return { start, step, len };
};

/** The non-zero positions of a concrete boolean mask, one int32 array per axis (NumPy's nonzero). */
const nonzero = (mask: NDArray): ArrayBase[] => {
  const v = mask.toTypedArray();
  const shape = mask.shape;
  const hits: number[][] = shape.map(() => []);
  for (let flat = 0; flat < v.length; flat++) {
    if (!v[flat]) continue;
    let r = flat;
    for (let k = shape.length - 1; k >= 0; k--) {
      hits[k]!.push(r % shape[k]!);
      r = Math.floor(r / shape[k]!);
    }
  }
  return hits.map((h) => array(h, { dtype: "int32" }));
};

/** An entry as an array when it is one (lists of integers become int32, lists of booleans a mask). */
const entryArray = (op: string, e: unknown): ArrayBase | null => {
  if (e instanceof ArrayBase) {
    if (e.dtype !== "int32" && e.dtype !== "bool") {
      throw new DTypeError(`index arrays must be int32 or bool, got ${e.dtype}`, { op, hint: "convert with np.astype(index, 'int32')" });
    }
    return e;
  }
  if (!Array.isArray(e)) return null;
  if (isBoolList(e)) return array(e as never, { dtype: "bool" });
  const a = array(e as never, { dtype: "float64" }) as NDArray;
  for (const v of a.toTypedArray()) if (!Number.isInteger(v)) throw new IndexError(`index lists must hold integers or booleans, got ${v}`, { op });
  return array(e as never, { dtype: "int32" });
};

interface FlatIndex {
  /** int32 flat positions into x, of the shape of x[index]. */
  lin: ArrayBase;
  /** Where every axis' index is in range (null: all are, or the mode clamps). */
  valid: ArrayBase | null;
}

/**
 * Lowers an index expression on `x` to flat positions (see the module comment). `strict`
 * raises IndexError for concrete out-of-range indices (NumPy's `x[i]`).
 */
export const flatIndex = (op: string, x: ArrayBase, entries: readonly unknown[], mode: AtMode, strict = false): FlatIndex => {
  // Booleans first: a concrete mask becomes one integer array per axis it covers.
  const expanded: unknown[] = [];
  for (const e of entries) {
    const a = e === null || e === "..." || typeof e === "number" || e instanceof Slice ? null : entryArray(op, e);
    if (a && a.dtype === "bool") {
      if (!(a instanceof NDArray)) {
        throw new ConcretizationError(`indexing with a traced boolean mask of shape ${shapeStr(a.shape)} has a data-dependent shape`, {
          op,
          hint: "use np.where(mask, x, y) or x.at(mask).set(value) with a value that broadcasts to x's trailing axes; or pass the mask concretely",
        });
      }
      if (a.ndim === 0) throw new IndexError("a 0-d boolean index is not supported", { op });
      expanded.push(...nonzero(a));
    } else if (a) expanded.push(a);
    else if (e === null || e === "..." || typeof e === "number" || e instanceof Slice) expanded.push(e);
    else throw new IndexError(`an index entry must be an integer, np.sl(...), np.newaxis, np.ellipsis, an int32 or bool array or a list, got ${describeValue(e)}`, { op });
  }
  const nEll = expanded.filter((e) => e === "...").length;
  if (nEll > 1) throw new IndexError("an index can only have a single ellipsis ('...')", { op });
  const used = expanded.filter((e) => e !== null && e !== "...").length;
  if (used > x.ndim) throw new IndexError(`too many indices: ${used} given for an array of rank ${x.ndim} (shape ${shapeStr(x.shape)})`, { op });
  const full: unknown[] = [];
  for (const e of expanded) {
    if (e === "...") for (let k = 0; k < x.ndim - used; k++) full.push(new Slice());
    else full.push(e);
  }
  if (nEll === 0) for (let k = used; k < x.ndim; k++) full.push(new Slice());
  // Resolve each entry against its axis.
  const resolved: Resolved[] = [];
  const axisOf: number[] = [];
  let axis = 0;
  for (const e of full) {
    if (e === null) {
      resolved.push({ t: "new" });
      axisOf.push(-1);
      continue;
    }
    const n = x.shape[axis]!;
    if (typeof e === "number") {
      if (!Number.isInteger(e)) throw new IndexError(`index ${e} on axis ${axis} is not an integer`, { op });
      resolved.push({ t: "adv", idx: scalar(e, "int32") });
    } else if (e instanceof Slice) resolved.push({ t: "slice", ...sliceOf(op, e, n) });
    else resolved.push({ t: "adv", idx: e as ArrayBase });
    axisOf.push(axis++);
  }
  // Advanced indices broadcast together; their axes go where the first one is when they are
  // adjacent, else first (NumPy's rule; integers count as advanced next to arrays).
  const advPos = resolved.flatMap((r, k) => (r.t === "adv" ? [k] : []));
  let bShape: number[] = [];
  for (const k of advPos) {
    const idx = (resolved[k] as { idx: ArrayBase }).idx;
    const b = broadcastShapes(bShape, idx.shape);
    if (!b) throw new IndexError(`index arrays of shapes ${advPos.map((j) => shapeStr((resolved[j] as { idx: ArrayBase }).idx.shape)).join(", ")} do not broadcast together`, { op });
    bShape = b;
  }
  const adjacent = advPos.length === 0 || advPos[advPos.length - 1]! - advPos[0]! + 1 === advPos.length;
  const outShape: number[] = [];
  const slot: number[] = [];
  let bStart = 0;
  if (!adjacent) outShape.push(...bShape);
  resolved.forEach((r, k) => {
    if (r.t === "slice") {
      slot[k] = outShape.length;
      outShape.push(r.len);
    } else if (r.t === "new") outShape.push(1);
    else if (adjacent && k === advPos[0]) {
      bStart = outShape.length;
      outShape.push(...bShape);
    }
  });
  // Flat position = sum over axes of (that axis' index) * stride, each broadcast to outShape.
  const strides: number[] = [];
  let st = 1;
  for (let k = x.ndim - 1; k >= 0; k--) (strides[k] = st), (st *= x.shape[k]!);
  const i32 = (v: number) => scalar(v, "int32");
  let lin: ArrayBase = broadcastInDim(i32(0), outShape, []);
  let valid: ArrayBase | null = null;
  const clampMode = mode === "clip" || mode === "promise_in_bounds";
  resolved.forEach((r, k) => {
    if (r.t === "new") return;
    const ax = axisOf[k]!;
    const n = x.shape[ax]!;
    let c: ArrayBase;
    if (r.t === "slice") {
      const pos = add(mul(iota("int32", [r.len], 0), i32(r.step)), i32(r.start));
      c = broadcastInDim(pos, outShape, [slot[k]!]);
    } else {
      if (strict && r.idx instanceof NDArray) {
        for (const v of r.idx.toTypedArray()) {
          if (v < -n || v >= n) throw new IndexError(`index ${v} is out of bounds for axis ${ax} with size ${n}`, { op, hint: n === 0 ? "the axis is empty" : `valid indices are ${-n} to ${n - 1}` });
        }
      }
      const b = broadcastTo(r.idx, bShape);
      let ci = broadcastInDim(b, outShape, bShape.map((_, i) => bStart + i));
      // A negative index counts from the end once; what is still outside [0, n) is out of range.
      ci = select(lt(ci, i32(0)), add(ci, i32(n)), ci);
      if (!clampMode) {
        const inRange = bitwiseAnd(ge(ci, i32(0)), lt(ci, i32(n)));
        valid = valid ? bitwiseAnd(valid, inRange) : inRange;
      }
      c = n === 0 ? ci : max(min(ci, i32(n - 1)), i32(0));
    }
    lin = add(lin, strides[ax] === 1 ? c : mul(c, i32(strides[ax]!)));
  });
  // A concrete all-true mask needs no special handling.
  const v = valid as ArrayBase | null;
  if (v instanceof NDArray && (v.toTypedArray() as Uint8Array).every((b) => b === 1)) valid = null;
  return { lin, valid };
};

/** `x[index]` for the index forms `np.index` leaves to this module (masks, several index arrays). */
export const indexAdvanced = (op: string, x: ArrayBase, entries: readonly unknown[]): ArrayBase => {
  const { lin } = flatIndex(op, x, entries, "clip", true);
  if (x.size === 0) {
    if (lin.size === 0) return reshape(x, lin.shape);
    throw new IndexError(`cannot index into an empty array of shape ${shapeStr(x.shape)}`, { op });
  }
  return gather(reshape(x, [x.size]), lin, { axis: 0, batch_dims: 0 });
};

/** True when `np.index` needs the general lowering: a boolean mask or more than one index array. */
export const needsAdvanced = (entries: readonly unknown[]): boolean => {
  const arrays = entries.filter((e) => e instanceof ArrayBase || Array.isArray(e));
  return arrays.length > 1 || arrays.some((e) => (e instanceof ArrayBase ? e.dtype === "bool" : isBoolList(e)));
};

/**
 * The options of the `x.at(...)` methods. Not registered (`signature` registers functions
 * exported by name); each method parses against it under its own name.
 */
const atParams: Signature["params"] = [
  { name: "mode", kind: "string", nullable: true, choices: MODES, pass: "both" },
  { name: "fillValue", kind: "any", nullable: true, pass: "both" },
  { name: "indicesAreSorted", kind: "bool", pass: "both" },
  { name: "uniqueIndices", kind: "bool", pass: "both" },
];

type Combine = "set" | "add" | "multiply" | "min" | "max";

/** The default fill of `get` with mode 'fill' (JAX's): NaN, int32's minimum, or true. */
const defaultFill = (dtype: DType): number => (dtype === "bool" ? 1 : dtype === "int32" ? -2147483648 : NaN);

/** The helper behind `x.at(...index)` (see the module comment). */
export class AtIndexer implements ArrayAt {
  readonly #x: ArrayBase;
  readonly #index: readonly unknown[];
  constructor(x: ArrayBase, index: readonly AtIndexEntry[]) {
    this.#x = x;
    this.#index = index;
  }

  #options(name: string, options: unknown): AtOptions {
    return parseArgs<AtOptions>({ name: `x.at(...).${name}`, params: atParams }, options === undefined ? [] : [options]);
  }

  get(options?: AtOptions): ArrayBase {
    const o = this.#options("get", options);
    const x = this.#x;
    const mode = o.mode ?? "promise_in_bounds";
    const { lin, valid } = flatIndex("x.at(...).get", x, this.#index, mode === "drop" ? "clip" : mode);
    if (x.size === 0) {
      if (lin.size === 0) return reshape(x, lin.shape);
      throw new IndexError(`cannot index into an empty array of shape ${shapeStr(x.shape)}`, { op: "x.at(...).get" });
    }
    const g = gather(reshape(x, [x.size]), lin, { axis: 0, batch_dims: 0 });
    if (!valid) return g;
    const f = o.fillValue === undefined || o.fillValue === null ? defaultFill(x.dtype) : Number(o.fillValue);
    return select(valid, g, broadcastInDim(scalar(f, x.dtype), g.shape, []));
  }

  set(v: ArrayLike, options?: AtOptions): ArrayBase {
    return this.#update("set", v, options);
  }
  add(v: ArrayLike, options?: AtOptions): ArrayBase {
    return this.#update("add", v, options);
  }
  subtract(v: ArrayLike, options?: AtOptions): ArrayBase {
    return this.#update("add", neg(this.#value("subtract", v)), options, "subtract");
  }
  multiply(v: ArrayLike, options?: AtOptions): ArrayBase {
    return this.#update("multiply", v, options);
  }
  divide(v: ArrayLike, options?: AtOptions): ArrayBase {
    const val = this.#value("divide", v);
    if (!val.dtype.startsWith("float")) throw new DTypeError(`divide needs a floating-point array, got ${this.#x.dtype}`, { op: "x.at(...).divide", hint: "convert x with np.astype first" });
    return this.#update("multiply", div(scalar(1, val.dtype), val), options, "divide");
  }
  min(v: ArrayLike, options?: AtOptions): ArrayBase {
    return this.#update("min", v, options);
  }
  max(v: ArrayLike, options?: AtOptions): ArrayBase {
    return this.#update("max", v, options);
  }

  /** The value as an array of x's dtype (JAX casts updates to the array's dtype). */
  #value(name: string, v: ArrayLike): ArrayBase {
    const op = `x.at(...).${name}`;
    if (!(v instanceof ArrayBase) && typeof v !== "number" && typeof v !== "boolean" && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      throw new ValueError(`the value must be an array, a number, a boolean or a nested list, got ${describeValue(v)}`, { op });
    }
    const a = asArray(v);
    return a.dtype === this.#x.dtype ? a : convertElementType(a, this.#x.dtype);
  }

  #update(kind: Combine, v: ArrayLike | ArrayBase, options: unknown, name: string = kind): ArrayBase {
    const op = `x.at(...).${name}`;
    const o = this.#options(name, options);
    const x = this.#x;
    const val = v instanceof ArrayBase && v.dtype === x.dtype ? v : this.#value(name, v as ArrayLike);
    const masked = this.#maskUpdate(kind, val);
    if (masked) return masked;
    const mode = o.mode ?? "drop";
    const { lin, valid } = flatIndex(op, x, this.#index, mode === "fill" ? "drop" : mode);
    const b = broadcastShapes(val.shape, lin.shape);
    if (!b || b.length !== lin.ndim || b.some((d, k) => d !== lin.shape[k])) {
      throw new ValueError(`the value of shape ${shapeStr(val.shape)} does not broadcast to ${shapeStr(lin.shape)}, the shape of x[index]`, { op });
    }
    if (lin.size === 0) return x;
    const upd = broadcastTo(val, lin.shape);
    const n = x.size;
    const params = { axis: 0, batch_dims: 0 };
    const scat = { set: scatter, add: scatterAdd, multiply: scatterMul, min: scatterMin, max: scatterMax }[kind];
    const flat = reshape(x, [n]);
    if (!valid) return reshape(scat(flat, lin, upd, params), x.shape);
    // Dropped updates go to one extra slot past the end, cut off afterwards.
    const target = select(valid, lin, broadcastInDim(scalar(n, "int32"), lin.shape, []));
    const padded = pad(flat, scalar(0, x.dtype), [[0, 1, 0]]);
    return reshape(slice(scat(padded, target, upd, params), [0], [n]), x.shape);
  }

  /**
   * x.at(mask).op(v) for one boolean mask over x's leading axes and a value that broadcasts to
   * the remaining axes: `where(mask, op(x, v), x)`, which has a static shape even when the mask
   * is traced. Returns null when the index is not of that form.
   */
  #maskUpdate(kind: Combine, val: ArrayBase): ArrayBase | null {
    if (this.#index.length !== 1) return null;
    const e = this.#index[0];
    const mask = e instanceof ArrayBase ? (e.dtype === "bool" ? e : null) : isBoolList(e) ? array(e as never, { dtype: "bool" }) : null;
    if (!mask) return null;
    const x = this.#x;
    const lead = x.shape.slice(0, mask.ndim);
    if (mask.ndim > x.ndim || mask.shape.some((d, k) => d !== lead[k])) return null;
    const rest = x.shape.slice(mask.ndim);
    const b = broadcastShapes(val.shape, rest);
    if (!b || b.length !== rest.length || b.some((d, k) => d !== rest[k])) return null;
    const m = broadcastInDim(mask, x.shape, mask.shape.map((_, k) => k));
    const vb = broadcastTo(val, x.shape);
    const bool = x.dtype === "bool";
    const combined =
      kind === "set" ? vb
      : kind === "add" ? (bool ? max(x, vb) : add(x, vb))
      : kind === "multiply" ? (bool ? min(x, vb) : mul(x, vb))
      : kind === "min" ? min(x, vb)
      : max(x, vb);
    return select(m, combined, x);
  }
}

const neg = (a: ArrayBase): ArrayBase => sub(broadcastInDim(scalar(0, a.dtype), a.shape, []), a);

/** `x.at(...index)`: the functional-update helper (also installed as the fluent method `x.at`). */
export const at = (x: ArrayLike, ...index: AtIndexEntry[]): ArrayAt => new AtIndexer(asArray(x), index);
