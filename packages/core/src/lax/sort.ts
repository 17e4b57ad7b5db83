/**
 * lax sorting: `sort` (one operand or several, ordered by the first `numKeys`),
 * `sortKeyVal` and `topK`. Order, stability and derivatives: see primitives/sort.ts.
 */
import { ArrayBase } from "../array.js";
import { parseArgs, signature } from "../api/args.js";
import { ValueError } from "../errors.js";
import { normalizeAxis } from "../primitives/common.js";
import { sliceInDim } from "../primitives/shape.js";
import { argsortAlong, gatherAlong, sortMulti } from "../primitives/sort.js";

export type { SortParams } from "../primitives/sort.js";

/** Options of {@link sort} and {@link sortKeyVal}. */
export interface SortOptions {
  /** The axis sorted along; -1 (the last) by default. */
  dimension?: number;
  /** JAX's flag; every sort here is stable, so it changes nothing. */
  isStable?: boolean;
  /** How many leading operands are keys (lexicographic order); 1 by default. */
  numKeys?: number;
}

interface ParsedSort {
  dimension?: number;
  isStable?: boolean;
  numKeys?: number;
}

const runSort = (op: string, operands: readonly ArrayBase[], o: ParsedSort): ArrayBase[] => {
  const ndim = operands[0]!.ndim;
  if (ndim === 0) throw new ValueError("cannot sort a scalar (rank 0)", { op, hint: "reshape to rank 1 first" });
  const dimension = normalizeAxis(op, o.dimension ?? -1, ndim, "dimension");
  return sortMulti(operands, { dimension, is_stable: o.isStable ?? true, num_keys: o.numKeys ?? 1 });
};

const sortSig = signature("lax.sort", [
  { name: "operand", kind: "any", required: true, pass: "positional" },
  "dimension:int",
  "isStable:bool",
  "numKeys:int",
]);
/**
 * `lax.sort(operand, dimension = -1, isStable = true, numKeys = 1)`: sorts one array, or a
 * list of arrays of one shape ordered lexicographically by the first `numKeys` (the rest
 * are carried along), and returns the same structure. NaNs sort last. Differentiable: the
 * tangents follow the sorting permutation.
 */
export function sort(operand: ArrayBase, ...args: [dimension?: number, isStable?: boolean, numKeys?: number] | [SortOptions]): ArrayBase;
export function sort(operand: readonly ArrayBase[], ...args: [dimension?: number, isStable?: boolean, numKeys?: number] | [SortOptions]): ArrayBase[];
export function sort(operand: ArrayBase | readonly ArrayBase[], ...args: unknown[]): ArrayBase | ArrayBase[] {
  const op = "lax.sort";
  const o = parseArgs<ParsedSort>(sortSig, [operand, ...args]);
  const many = Array.isArray(operand);
  const operands = (many ? operand : [operand]) as ArrayBase[];
  if (operands.length === 0 || !operands.every((x) => x instanceof ArrayBase)) {
    throw new ValueError("operand must be an array or a non-empty list of arrays", { op });
  }
  const out = runSort(op, operands, o);
  return many ? out : out[0]!;
}

const sortKeyValSig = signature("lax.sortKeyVal", ["keys:arrayValue!", "values:arrayValue!", "dimension:int", "isStable:bool"]);
/** `lax.sortKeyVal(keys, values, dimension = -1, isStable = true)`: `values` reordered as `keys` sort; returns `[sortedKeys, sortedValues]`. */
export const sortKeyVal = (
  keys: ArrayBase,
  values: ArrayBase,
  ...args: [dimension?: number, isStable?: boolean] | [Omit<SortOptions, "numKeys">]
): [ArrayBase, ArrayBase] => {
  const o = parseArgs<ParsedSort>(sortKeyValSig, [keys, values, ...args]);
  const [k, v] = runSort("lax.sortKeyVal", [keys, values], { ...o, numKeys: 1 });
  return [k!, v!];
};

const topKSig = signature("lax.topK", ["operand:arrayValue!", "k:count!"]);
/**
 * `lax.topK(operand, k)`: the `k` largest entries along the last axis and their int32
 * indices, largest first; equal values keep their input order, NaN counts as the largest.
 * Differentiable in `operand` (the tangents of the chosen entries).
 */
export const topK = (operand: ArrayBase, k: number, ...rest: []): [ArrayBase, ArrayBase] => {
  const op = "lax.topK";
  {
    // Values by name: a trailing options object may have given them.
    const o = parseArgs(topKSig, [operand, k, ...rest]);
    k = o.k;
  }
  if (operand.ndim === 0) throw new ValueError("operand must have rank >= 1", { op });
  const last = operand.ndim - 1;
  const n = operand.shape[last]!;
  if (k > n) throw new ValueError(`k = ${k} is larger than the last axis (size ${n}) of operand of shape [${operand.shape.join(", ")}]`, { op });
  const idx = sliceInDim(argsortAlong(operand, last, true), 0, k, 1, last);
  return [gatherAlong(operand, idx, last), idx];
};
