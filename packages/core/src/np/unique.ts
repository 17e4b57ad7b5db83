/**
 * `np.unique`: the sorted distinct values of an array, optionally with the first index of
 * each, the inverse map and the counts. The number of distinct values depends on the data,
 * so, as in JAX, a traced input needs a static `size` (the result is padded with
 * `fillValue`, or cut); concrete inputs without `size` get exactly the distinct values.
 * One implementation serves both: for a concrete input the count is read first and used as
 * `size`.
 */
import { ArrayBase, NDArray } from "../array.js";
import { parseArgs, signature, withSignature } from "../api/args.js";
import { ConcretizationError, ValueError } from "../errors.js";
import { add, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { bitwiseAnd, bitwiseNot, ge, lt, ne, select } from "../primitives/compare.js";
import { cumsum } from "../primitives/cumulative.js";
import { gather, scatterAdd } from "../primitives/indexing.js";
import { concatenate, iota, sliceInDim } from "../primitives/shape.js";
import { sortMulti } from "../primitives/sort.js";
import { broadcastInDim, convertElementType, reshape } from "../primitives/structural.js";
import { type ArrayLike, asArray } from "./coerce.js";

/** Options of `np.unique`. */
export interface UniqueOptions {
  /** Also return the index of each value's first occurrence in the flattened input. */
  returnIndex?: boolean;
  /** Also return, for each input element, the index of its value in the result. */
  returnInverse?: boolean;
  /** Also return how often each value occurs. */
  returnCounts?: boolean;
  /** Only `null` (the flattened array) is supported. */
  axis?: null;
  /** NaNs count as one value (default true, as NumPy and JAX). */
  equalNan?: boolean;
  /** A static result length: required under a trace; pads with `fillValue` or cuts. */
  size?: number | null;
  /** The padding value when `size` exceeds the number of distinct values (default: the smallest value). */
  fillValue?: number | null;
}

/** Options of `np.unique` that ask for more than the values: its result is then a tuple. */
export type UniqueFlags = { returnIndex: true } | { returnInverse: true } | { returnCounts: true };

const uniqueSig = signature("np.unique", [
  "x:array!",
  "returnIndex:bool",
  "returnInverse:bool",
  "returnCounts:bool",
  { name: "axis", kind: "out", nullable: true },
  "equalNan:bool=",
  { name: "size", kind: "count", nullable: true, pass: "keyword" },
  { name: "fillValue", kind: "number", nullable: true, pass: "keyword" },
]);

/**
 * `np.unique(x, returnIndex, returnInverse, returnCounts, axis)` or `np.unique(x, {...})`:
 * the sorted distinct values of the flattened `x` (NaNs last, one NaN when `equalNan`).
 * With any `return*` flag the result is a list `[values, index?, inverse?, counts?]` (int32
 * extras, in that order); `inverse` is 1-D (NumPy 1.x). Under `jit`/`grad`/`vmap` pass
 * `size` (a static length), as in JAX: missing entries are padded with `fillValue`
 * (default: the smallest value), their counts with 0 and their indices with 0.
 */
export function unique(x: ArrayLike, options?: UniqueOptions & { returnIndex?: false; returnInverse?: false; returnCounts?: false }): ArrayBase;
export function unique(x: ArrayLike, options: UniqueOptions & UniqueFlags): ArrayBase[];
export function unique(x: ArrayLike, options: UniqueOptions): ArrayBase | ArrayBase[];
export function unique(x: ArrayLike, returnIndex: boolean, returnInverse?: boolean, returnCounts?: boolean, axis?: null, options?: UniqueOptions): ArrayBase | ArrayBase[];
export function unique(x: ArrayLike, ...args: unknown[]): ArrayBase | ArrayBase[] {
  const op = "np.unique";
  const o = parseArgs<UniqueOptions>(uniqueSig, [x, ...args]);
  const a = asArray(x);
  const n = a.size;
  const flat = reshape(a, [n]);
  const equalNan = o.equalNan ?? true;
  const [s, perm] = n === 0 ? [flat, convertElementType(flat, "int32")] : sortMulti([flat, iota("int32", [n], 0)], { dimension: 0, is_stable: true, num_keys: 1 });
  // starts[i]: s[i] begins a new value (NaNs all equal each other when equalNan).
  let starts: ArrayBase;
  if (n === 0) starts = convertElementType(flat, "bool");
  else {
    const prev = sliceInDim(s!, 0, n - 1, 1, 0);
    const next = sliceInDim(s!, 1, n, 1, 0);
    let differs = ne(next, prev);
    if (equalNan && a.dtype.startsWith("float")) differs = bitwiseAnd(differs, bitwiseNot(bitwiseAnd(ne(next, next), ne(prev, prev))));
    starts = concatenate([broadcastInDim(scalar(1, "bool"), [1], []), differs], 0);
  }
  let size = o.size ?? null;
  if (size === null) {
    if (!(starts instanceof NDArray)) {
      throw new ConcretizationError("the number of distinct values depends on the data, so np.unique of a traced array needs a static size", {
        op,
        hint: "pass { size: k } (and optionally { fillValue }) as in JAX; the result is padded or cut to k",
      });
    }
    size = (starts.toTypedArray() as Uint8Array).reduce((c, v) => c + v, 0);
  }
  // group[i]: which distinct value s[i] is; entries of groups >= size are dropped.
  const group = sub(cumsum(convertElementType(starts, "int32"), 0, false), scalar(1, "int32"));
  const fits = lt(group, scalar(size, "int32"));
  const at = select(fits, group, scalar(0, "int32"));
  const place = (values: ArrayBase, mask: ArrayBase): ArrayBase => {
    const z = scalar(0, values.dtype);
    const kept = select(mask, values, broadcastInDim(z, values.shape, []));
    return scatterAdd(broadcastInDim(z, [size!], []), at, kept, { axis: 0, batch_dims: 0 });
  };
  const first = bitwiseAnd(starts, fits);
  const numDistinct = n === 0 ? scalar(0, "int32") : gather(add(group, scalar(1, "int32")), scalar(n - 1, "int32"), { axis: 0, batch_dims: 0 });
  const filled = ge(iota("int32", [size], 0), numDistinct);
  let values = place(s!, first);
  if (size > 0) {
    const fill = o.fillValue !== undefined && o.fillValue !== null ? scalar(o.fillValue, a.dtype) : n > 0 ? gather(s!, scalar(0, "int32"), { axis: 0, batch_dims: 0 }) : scalar(0, a.dtype);
    values = select(filled, broadcastInDim(fill, [size], []), values);
  }
  if (!o.returnIndex && !o.returnInverse && !o.returnCounts) return values;
  const out: ArrayBase[] = [values];
  if (o.returnIndex) out.push(place(perm!, first));
  if (o.returnInverse) {
    // inverse[perm[i]] = group[i]; perm is a permutation, so the scatter-add writes each once.
    out.push(n === 0 ? perm! : scatterAdd(broadcastInDim(scalar(0, "int32"), [n], []), perm!, group, { axis: 0, batch_dims: 0 }));
  }
  if (o.returnCounts) out.push(place(broadcastInDim(scalar(1, "int32"), [n], []), fits));
  return out;
}
withSignature(uniqueSig, unique);
