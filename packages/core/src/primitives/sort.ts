/**
 * `sort`: JAX's lax.sort. It sorts any number of operands of one shape along `dimension`,
 * ordering by the first `num_keys` of them lexicographically, and carries the others along
 * (so `sort([x, iota])` gives the values and the permutation, as `lax.sort_key_val`).
 *
 * Order: NumPy's. Floats ascend with NaNs last (all NaNs equal), -0 equals 0; bools sort
 * false first. Ties keep their input order: the kernel breaks them by position, so every
 * sort is stable and `is_stable` (kept for JAX parity and shown in the IR) never changes
 * a result.
 *
 * jvp (as JAX's): sort once more with an iota along `dimension` as an extra operand; the
 * tangents are the input tangents gathered by that permutation. The gather is linear, so
 * reverse mode needs no transpose rule here.
 */
import { type ArrayBase, bufferOf, fromBuffer } from "../array.js";
import { type DType, type ShapedArray, typedArrayFor } from "../dtype.js";
import { AxisError, ShapeError, ValueError } from "../errors.js";
import { definePrimitive } from "../ir/primitive.js";
import { shapeStr } from "../shape.js";
import { bind } from "../trace.js";
import { sub } from "./binary.js";
import { scalar } from "./common.js";
import { gather } from "./indexing.js";
import { iota, rev } from "./shape.js";
import { broadcastInDim, moveAxis } from "./structural.js";

export interface SortParams {
  /** The axis sorted along (non-negative). */
  dimension: number;
  /** JAX's flag; every sort here is stable (see the module comment). */
  is_stable: boolean;
  /** How many leading operands are keys, compared lexicographically. */
  num_keys: number;
}

const checkSort = (avals: readonly ShapedArray[], { dimension, num_keys }: SortParams): ShapedArray[] => {
  const op = "sort";
  if (avals.length === 0) throw new ValueError("needs at least one operand", { op });
  const first = avals[0]!;
  for (let i = 1; i < avals.length; i++) {
    if (avals[i]!.shape.join() !== first.shape.join()) {
      throw new ShapeError(`all operands must have one shape: operand 0 is ${first}, operand ${i} is ${avals[i]}`, { op });
    }
  }
  if (first.ndim === 0) throw new AxisError("cannot sort a scalar (rank 0): there is no axis", { op, hint: "reshape to rank 1 first" });
  if (!Number.isInteger(dimension) || dimension < 0 || dimension >= first.ndim) {
    throw new AxisError(`dimension ${dimension} is out of range for operands of shape ${shapeStr(first.shape)} (valid: 0 to ${first.ndim - 1})`, { op });
  }
  if (!Number.isInteger(num_keys) || num_keys < 1 || num_keys > avals.length) {
    throw new ValueError(`num_keys must be between 1 and the number of operands (${avals.length}), got ${num_keys}`, { op });
  }
  return avals.slice();
};

/** NumPy's order on numbers: NaN after everything, NaNs equal among themselves. */
const compareNumbers = (a: number, b: number): number => {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const an = a !== a;
  const bn = b !== b;
  return an === bn ? 0 : an ? 1 : -1;
};

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const F64 = new Float64Array(1);
const U64 = new Uint32Array(F64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // the high word of a float64 (little endian: index 1)

/**
 * An unsigned 32-bit key whose order is NumPy's order of the values (NaN last, -0 = 0): exact
 * for int32, bool and float32; for float64 it is the high word of the order-preserving bit
 * pattern, so equal keys may still differ in their low word.
 */
const orderKey = (dtype: DType): ((v: number) => number) => {
  if (dtype === "int32") return (v) => v + 2147483648;
  if (dtype === "bool") return (v) => v;
  if (dtype === "float32") {
    return (v) => {
      if (v !== v) return 0xffffffff;
      F32[0] = v === 0 ? 0 : v;
      const b = U32[0]!;
      return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    };
  }
  return (v) => {
    if (v !== v) return 0xffffffff;
    F64[0] = v === 0 ? 0 : v;
    const b = U64[HI]!;
    return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  };
};

const PACK = 2097152; // 2^21: a 32-bit key times this plus an index below it is exact in a float64

/**
 * Sorts every lane of the operands (a lane: all positions that differ only along `dimension`).
 * Hand-written. With one key and lanes up to 2^21 long, key and position pack into one
 * float64 that the native typed-array sort orders (ties by position, so stably); float64
 * keys then re-sort the few runs whose high words tie with the full comparator. Otherwise
 * an index sort with a comparator over the key lanes.
 */
const sortKernel = (inputs: ArrayBase[], { dimension, num_keys }: SortParams): ArrayBase[] => {
  const shape = inputs[0]!.shape;
  const n = shape[dimension]!;
  const post = shape.slice(dimension + 1).reduce((p, d) => p * d, 1);
  const pre = shape.slice(0, dimension).reduce((p, d) => p * d, 1);
  const bufs = inputs.map((x) => bufferOf(x as never));
  const outs = inputs.map((x, i) => typedArrayFor(x.dtype, bufs[i]!.length));
  const keyLanes = Array.from({ length: num_keys }, () => new Float64Array(n));
  const perm = new Int32Array(n);
  const compare =
    num_keys === 1
      ? (i: number, j: number) => compareNumbers(keyLanes[0]![i]!, keyLanes[0]![j]!) || i - j
      : (i: number, j: number) => {
          for (let k = 0; k < num_keys; k++) {
            const c = compareNumbers(keyLanes[k]![i]!, keyLanes[k]![j]!);
            if (c !== 0) return c;
          }
          return i - j;
        };
  const keyDType = inputs[0]!.dtype;
  const packedPath = num_keys === 1 && n <= PACK;
  const packed = packedPath ? new Float64Array(n) : null;
  const toKey = orderKey(keyDType);
  const exact = keyDType !== "float64";
  for (let p = 0; p < pre; p++) {
    for (let q = 0; q < post; q++) {
      const base = p * n * post + q;
      for (let k = 0; k < num_keys; k++) {
        const src = bufs[k]!;
        const lane = keyLanes[k]!;
        for (let i = 0; i < n; i++) lane[i] = src[base + i * post]!;
      }
      if (packed) {
        const lane = keyLanes[0]!;
        for (let i = 0; i < n; i++) packed[i] = toKey(lane[i]!) * PACK + i;
        packed.sort();
        for (let i = 0; i < n; i++) perm[i] = packed[i]! % PACK;
        if (!exact) {
          // Runs of equal high words: order them by the full value (then position).
          for (let s = 0; s < n; ) {
            const hi = Math.floor(packed[s]! / PACK);
            let e = s + 1;
            while (e < n && Math.floor(packed[e]! / PACK) === hi) e++;
            if (e - s > 16) perm.subarray(s, e).sort(compare);
            else {
              // Short runs (the common case): insertion sort, no subarray.
              for (let i = s + 1; i < e; i++) {
                const v = perm[i]!;
                let j = i - 1;
                while (j >= s && compare(perm[j]!, v) > 0) (perm[j + 1] = perm[j]!), j--;
                perm[j + 1] = v;
              }
            }
            s = e;
          }
        }
      } else {
        for (let i = 0; i < n; i++) perm[i] = i;
        perm.sort(compare);
      }
      for (let o = 0; o < bufs.length; o++) {
        const src = bufs[o]!;
        const dst = outs[o]!;
        for (let i = 0; i < n; i++) dst[base + i * post] = src[base + perm[i]! * post]!;
      }
    }
  }
  return outs.map((b, i) => fromBuffer(b, shape, inputs[i]!.dtype));
};

/** `out[..., i, ...] = t[..., perm[..., i, ...], ...]` along `dimension` (perm of t's shape). */
export const gatherAlong = (t: ArrayBase, perm: ArrayBase, dimension: number): ArrayBase => {
  const last = t.ndim - 1;
  const g = gather(moveAxis(t, dimension, last), moveAxis(perm, dimension, last), { axis: last, batch_dims: last });
  return moveAxis(g, last, dimension);
};

export const sortP = definePrimitive<SortParams>({
  name: "sort",
  abstractEval: (avals, params) => checkSort(avals, params),
  impl: (inputs, params) => {
    checkSort(inputs.map((x) => x.aval), params);
    return sortKernel(inputs, params) as never;
  },
  jvp: (primals, tangents, params) => {
    if (tangents.every((t) => !t)) return [sortMulti(primals, params), tangents.map(() => null)];
    const x = primals[0]!;
    const outs = sortMulti([...primals, iota("int32", x.shape, params.dimension)], params);
    const perm = outs.pop()!;
    return [outs, tangents.map((t) => t && gatherAlong(t, perm, params.dimension))];
  },
  batch: (args, dims, { dimension, is_stable, num_keys }, size) => {
    const front = args.map((x, i) => {
      const d = dims[i];
      return d === null || d === undefined ? broadcastInDim(x, [size, ...x.shape], x.shape.map((_, k) => k + 1)) : moveAxis(x, d, 0);
    });
    return [sortMulti(front, { dimension: dimension + 1, is_stable, num_keys }), args.map(() => 0)];
  },
});

/** lax-level sort of several operands (see the module comment); returns them all, sorted. */
export const sortMulti = (operands: readonly ArrayBase[], params: SortParams): ArrayBase[] =>
  bind(sortP, operands.slice(), { dimension: params.dimension, is_stable: params.is_stable, num_keys: params.num_keys });

/**
 * The stable permutation that sorts `x` along `axis` (non-negative), ascending or
 * descending. Descending reverses the order of distinct values but keeps ties in input
 * order (as `np.argsort(..., descending=True)` in JAX); NaNs then come first.
 */
export const argsortAlong = (x: ArrayBase, axis: number, descending: boolean): ArrayBase => {
  const n = x.shape[axis]!;
  const idx = iota("int32", x.shape, axis);
  if (!descending) return sortMulti([x, idx], { dimension: axis, is_stable: true, num_keys: 1 })[1]!;
  // Sorting the reversed array stably puts ties in reversed input order; reversing the result
  // gives descending values with ties in input order. Positions map back as n - 1 - i.
  const [, p] = sortMulti([rev(x, [axis]), idx], { dimension: axis, is_stable: true, num_keys: 1 });
  return sub(scalar(n - 1, "int32"), rev(p!, [axis]));
};
