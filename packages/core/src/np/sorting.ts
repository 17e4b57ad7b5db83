/**
 * `np` sorting and searching: `sort`, `argsort`, `partition`, `argpartition`,
 * `searchsorted`. All lower to the `sort` primitive (primitives/sort.ts) or to gathers and
 * comparisons, so they trace, differentiate (sort's values; the indices are integers) and
 * batch. Order is NumPy's: NaNs last; every sort is stable.
 */
import type { ArrayBase } from "../array.js";
import type { Axis, PositionalOr, SortArgs } from "../api/arg_types.js";

export type { SortArgs, SortKind, SortOptions } from "../api/arg_types.js";
import { parseArgs, signature, withSignature } from "../api/args.js";
import { ValueError } from "../errors.js";
import { add, div } from "../primitives/binary.js";
import { normalizeAxis, scalar } from "../primitives/common.js";
import { bitwiseAnd, bitwiseNot, bitwiseOr, eq, le, lt, ne, select } from "../primitives/compare.js";
import { gather } from "../primitives/indexing.js";
import { rev } from "../primitives/shape.js";
import { argsortAlong, sortMulti } from "../primitives/sort.js";
import { broadcastInDim, reshape } from "../primitives/structural.js";
import { type ArrayLike, asArray, promoteArgs } from "./coerce.js";
import { asIndices } from "./indexing.js";

const KINDS = ["quicksort", "mergesort", "heapsort", "stable"];

interface ParsedSort {
  axis?: Axis;
  stable?: boolean;
  descending?: boolean;
}

const sortParams = (name: string) =>
  signature(name, ["x:array!", "axis:axis", { name: "kind", kind: "string", nullable: true, choices: KINDS }, "stable:bool=", "descending:bool="]);

/** The array and axis a sort works on: flattened for `axis: null`; a scalar sorts as a single element. */
const sortTarget = (op: string, x: ArrayLike, axis: Axis | undefined): [ArrayBase, number, boolean] => {
  const a = asArray(x);
  if (axis === null) return [reshape(a, [a.size]), 0, false];
  if (a.ndim === 0) throw new ValueError("cannot sort a 0-d array along an axis", { op, hint: "pass axis: null to sort it flattened" });
  return [a, normalizeAxis(op, axis ?? -1, a.ndim), true];
};

const sortSig = sortParams("np.sort");
/**
 * `np.sort(x, axis = -1)`: a sorted copy along `axis` (`null`: of the flattened array).
 * NaNs sort last; `{ descending: true }` reverses the order (NaNs first). Differentiable:
 * each output's gradient flows to the input element that landed there.
 */
export const sort = withSignature(sortSig, (x: ArrayLike, ...args: SortArgs): ArrayBase => {
  const o = parseArgs<ParsedSort>(sortSig, [x, ...args]);
  const [a, axis] = sortTarget("np.sort", x, o.axis);
  // Descending sorts the reversed array and reverses back, so ties (-0 and 0) keep their
  // input order exactly as argsort's descending permutation does.
  if (!o.descending) return sortMulti([a], { dimension: axis, is_stable: true, num_keys: 1 })[0]!;
  return rev(sortMulti([rev(a, [axis])], { dimension: axis, is_stable: true, num_keys: 1 })[0]!, [axis]);
});

const argsortSig = sortParams("np.argsort");
/**
 * `np.argsort(x, axis = -1)`: the int32 indices that sort `x` along `axis` (`null`: of the
 * flattened array). Stable: equal elements keep their input order, also with
 * `{ descending: true }` (as JAX's).
 */
export const argsort = withSignature(argsortSig, (x: ArrayLike, ...args: SortArgs): ArrayBase => {
  const o = parseArgs<ParsedSort>(argsortSig, [x, ...args]);
  const [a, axis] = sortTarget("np.argsort", x, o.axis);
  return argsortAlong(a, axis, o.descending ?? false);
});

/** `np.partition(x, kth, axis)`'s options form. */
export interface PartitionOptions {
  /** The axis (-1 by default). */
  axis?: number;
}
/** `np.partition(x, kth, axis)` and its options form. */
export type PartitionArgs = PositionalOr<[axis: number], PartitionOptions>;

const kthOf = (op: string, a: ArrayBase, kth: number, axis: number): void => {
  const n = a.shape[axis]!;
  if (kth < -n || kth >= n) throw new ValueError(`kth ${kth} is out of bounds for axis ${axis} of size ${n}`, { op, hint: n > 0 ? `valid: ${-n} to ${n - 1}` : "the axis is empty" });
};

const partitionSig = signature("np.partition", ["x:array!", "kth:int!", "axis:requiredAxis"]);
/**
 * `np.partition(x, kth, axis = -1)`: a copy where the element at `kth` is the one a sort
 * would put there, smaller-or-equal ones before it and larger-or-equal ones after. The order
 * inside each side is unspecified by NumPy; here it is sorted (a full stable sort satisfies
 * the contract, at O(n log n) instead of O(n)).
 */
export const partition = withSignature(partitionSig, (x: ArrayLike, kth: number, ...args: PartitionArgs): ArrayBase => {
  const o = parseArgs<{ axis?: number }>(partitionSig, [x, kth, ...args]);
  const [a, axis] = sortTarget("np.partition", x, o.axis ?? -1);
  kthOf("np.partition", a, kth, axis);
  return sortMulti([a], { dimension: axis, is_stable: true, num_keys: 1 })[0]!;
});

const argpartitionSig = signature("np.argpartition", ["x:array!", "kth:int!", "axis:requiredAxis"]);
/** `np.argpartition(x, kth, axis = -1)`: indices that partition `x` as {@link partition} does (a stable argsort). */
export const argpartition = withSignature(argpartitionSig, (x: ArrayLike, kth: number, ...args: PartitionArgs): ArrayBase => {
  const o = parseArgs<{ axis?: number }>(argpartitionSig, [x, kth, ...args]);
  const [a, axis] = sortTarget("np.argpartition", x, o.axis ?? -1);
  kthOf("np.argpartition", a, kth, axis);
  return argsortAlong(a, axis, false);
});

/** Options of `np.searchsorted`. */
export interface SearchsortedOptions {
  /** `'left'` (default): the first index where `v` fits; `'right'`: the last. */
  side?: "left" | "right";
  /** int32 indices that sort `a` (as from `np.argsort`), when `a` itself is not sorted. */
  sorter?: ArrayLike | null;
}
/** `np.searchsorted(a, v, side, sorter)` and its options form. */
export type SearchsortedArgs = PositionalOr<[side: "left" | "right", sorter: ArrayLike | null], SearchsortedOptions>;

const searchsortedSig = signature("np.searchsorted", [
  "a:array!",
  "v:array!",
  { name: "side", kind: "string", choices: ["left", "right"] },
  { name: "sorter", kind: "array", nullable: true },
]);
/**
 * `np.searchsorted(a, v, side = 'left', sorter = null)`: for each element of `v`, the int32
 * index where inserting it into the sorted 1-D `a` keeps `a` sorted (`'left'`: before equal
 * elements, `'right'`: after them). NaN sorts last, as in {@link sort}. The result has
 * `v`'s shape. A binary search unrolled into ⌈log2(n + 1)⌉ rounds of gathers and
 * comparisons, vectorised over `v`: O(size(v) log n), traceable.
 */
export const searchsorted = withSignature(searchsortedSig, (a: ArrayLike, v: ArrayLike, ...args: SearchsortedArgs): ArrayBase => {
  const op = "np.searchsorted";
  const o = parseArgs<{ side?: "left" | "right"; sorter?: ArrayLike | null }>(searchsortedSig, [a, v, ...args]);
  let [arr, vals] = promoteArgs(a, v) as [ArrayBase, ArrayBase];
  if (arr.ndim !== 1) throw new ValueError(`a must be 1-D, got shape [${arr.shape.join(", ")}]`, { op });
  if (o.sorter !== undefined && o.sorter !== null) {
    const s = asIndices(op, o.sorter);
    if (s.ndim !== 1 || s.shape[0] !== arr.shape[0]) throw new ValueError(`sorter must be 1-D with the length of a (${arr.shape[0]}), got shape [${s.shape.join(", ")}]`, { op });
    arr = gather(arr, s, { axis: 0, batch_dims: 0 });
  }
  const right = o.side === "right";
  const n = arr.shape[0]!;
  const shape = vals.shape;
  let lo = broadcastInDim(scalar(0, "int32"), shape, []);
  let hi = broadcastInDim(scalar(n, "int32"), shape, []);
  if (n === 0) return lo;
  // NumPy's total order: x < NaN for every non-NaN x; NaN <= NaN.
  const isFloat = arr.dtype.startsWith("float");
  const vNan = isFloat ? ne(vals, vals) : null;
  const before = (x: ArrayBase): ArrayBase => {
    // 'left': x < v; 'right': x <= v (in NumPy's total order).
    if (!isFloat) return right ? le(x, vals) : lt(x, vals);
    const xNan = ne(x, x);
    return right ? bitwiseOr(le(x, vals), vNan!) : bitwiseOr(lt(x, vals), bitwiseAnd(vNan!, bitwiseNot(xNan)));
  };
  const one = scalar(1, "int32");
  const two = scalar(2, "int32");
  // The answer lies in [lo, hi]; each round leaves at most floor((hi - lo) / 2), so as many
  // rounds as n has bits close the interval. (int32 division truncates: floor for lo + hi >= 0.)
  for (let span = n; span > 0; span >>= 1) {
    const m = div(add(lo, hi), two);
    const active = lt(lo, hi);
    const go = bitwiseAnd(active, before(gather(arr, m, { axis: 0, batch_dims: 0 })));
    const stay = bitwiseAnd(active, bitwiseNot(go));
    lo = select(go, add(m, one), lo);
    hi = select(stay, m, hi);
  }
  return lo;
});
