/**
 * Random bits: the Threefry-2x32 block cipher as a primitive, and the few bit-level
 * primitives the samplers of `random` need because Cotangent has no unsigned dtype.
 *
 * Keys and bits are int32 arrays holding uint32 bit patterns. The kernels do the uint32
 * arithmetic themselves: `| 0` wraps additions, `>>> 0` reads a word as unsigned and
 * `Math.imul` multiplies modulo 2^32. None of these primitives is differentiable in its
 * integer inputs (integers carry no tangent), so grad through a function that draws
 * random numbers from a fixed key simply sees constants.
 */
import { type ArrayBase, type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type DType, ShapedArray, isFloat, typedArrayFor } from "../dtype.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { type Primitive, definePrimitive } from "../ir/primitive.js";
import { broadcastCopy } from "../kernels/elementwise.js";
import { type Shape, shapeStr, sizeOf } from "../shape.js";
import { bind, bind1 } from "../trace.js";
import { broadcastAll, requireDType } from "./common.js";
import { broadcastingBatch } from "./elementwise.js";
import { iota } from "./shape.js";
import { broadcastInDim, moveAxis } from "./structural.js";

// ---------------------------------------------------------------- helpers

/** The input buffer broadcast to `shape` (shared when it already has that size or is a scalar). */
const broadcastBuffer = (x: NDArray, shape: Shape): { buf: Int32Array; step: number } => {
  const n = sizeOf(shape);
  const buf = bufferOf(x) as Int32Array;
  if (buf.length === n) return { buf, step: 1 };
  if (buf.length === 1) return { buf, step: 0 };
  const out = new Int32Array(n);
  broadcastCopy(buf, x.shape, out, shape);
  return { buf: out, step: 1 };
};

const requireInt32 = (op: string, avals: readonly ShapedArray[], names: readonly string[]): void =>
  avals.forEach((a, i) => requireDType(op, a, ["int32"], names[i] ?? `input ${i}`));

// ---------------------------------------------------------------- threefry2x32

/**
 * Rotation constants R_32x2 of Threefry-2x32 (Salmon et al., "Parallel Random Numbers: As
 * Easy as 1, 2, 3", SC 2011, Table 4; the same table JAX's threefry2x32 uses).
 */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
/** The Skein key-schedule parity constant for 32-bit words. */
const KS_PARITY = 0x1bd11bda;

/**
 * Threefry-2x32 with 20 rounds over `n` elements: `(y0, y1)[i] = block(key (k0, k1)[i],
 * counter (x0, x1)[i])`. `s*` are 0 (broadcast scalar) or 1 (one value per element).
 */
export const threefry2x32Kernel = (
  k0: Int32Array, s0: number, k1: Int32Array, s1: number,
  x0: Int32Array, t0: number, x1: Int32Array, t1: number,
  y0: Int32Array, y1: Int32Array, n: number,
): void => {
  for (let i = 0; i < n; i++) {
    const ks0 = k0[i * s0]!;
    const ks1 = k1[i * s1]!;
    const ks2 = KS_PARITY ^ ks0 ^ ks1;
    let a = (x0[i * t0]! + ks0) | 0;
    let b = (x1[i * t1]! + ks1) | 0;
    // Five groups of four rounds; after group g the key is injected with s = g + 1.
    for (let g = 0; g < 5; g++) {
      const rot = (g & 1) * 4;
      for (let r = rot; r < rot + 4; r++) {
        const c = ROTATIONS[r]!;
        a = (a + b) | 0;
        b = ((b << c) | (b >>> (32 - c))) ^ a;
      }
      const s = g + 1;
      const m = s % 3;
      a = (a + (m === 0 ? ks0 : m === 1 ? ks1 : ks2)) | 0;
      b = (b + (m === 2 ? ks0 : m === 0 ? ks1 : ks2) + s) | 0;
    }
    y0[i] = a;
    y1[i] = b;
  }
};

const THREEFRY_INPUTS = ["key word 0", "key word 1", "counter word 0", "counter word 1"];

/**
 * `threefry2x32 k0 k1 x0 x1 -> (y0, y1)`: the Threefry-2x32 block (20 rounds) applied
 * elementwise, with NumPy broadcasting of its four int32 inputs (uint32 bit patterns).
 */
export const threefry2x32P: Primitive<object> = definePrimitive({
  name: "threefry2x32",
  abstractEval(avals) {
    if (avals.length !== 4) throw new ValueError(`takes 4 inputs (k0, k1, x0, x1), got ${avals.length}`, { op: "threefry2x32" });
    requireInt32("threefry2x32", avals, THREEFRY_INPUTS);
    const shape = broadcastAll("threefry2x32", avals);
    return [new ShapedArray(shape, "int32"), new ShapedArray(shape, "int32")];
  },
  impl(inputs) {
    const shape = broadcastAll("threefry2x32", inputs.map((x) => x.aval));
    const n = sizeOf(shape);
    const [k0, k1, x0, x1] = inputs.map((x) => broadcastBuffer(x, shape));
    const y0 = new Int32Array(n);
    const y1 = new Int32Array(n);
    threefry2x32Kernel(k0!.buf, k0!.step, k1!.buf, k1!.step, x0!.buf, x0!.step, x1!.buf, x1!.step, y0, y1, n);
    return [fromBuffer(y0, shape, "int32"), fromBuffer(y1, shape, "int32")];
  },
  // Integer in, integer out: there is never a tangent to carry.
  jvp: (primals) => [bind(threefry2x32P, primals), [null, null]],
  // Batched keys broadcast against the counts like any elementwise op.
  batch: (args, dims, params, size) => broadcastingBatch(threefry2x32P)(args, dims, params, size),
});

/** The Threefry-2x32 block (20 rounds) on broadcast int32 key and counter words. */
export const threefry2x32 = (k0: ArrayBase, k1: ArrayBase, x0: ArrayBase, x1: ArrayBase): [ArrayBase, ArrayBase] =>
  bind(threefry2x32P, [k0, k1, x0, x1]) as [ArrayBase, ArrayBase];

// ---------------------------------------------------------------- bits_to_uniform

export type BitsToUniformParams = { dtype: DType };

const TWO_M23 = 2 ** -23;
const TWO_M52 = 2 ** -52;
const TWO_20 = 2 ** 20;

/**
 * `bits_to_uniform[dtype]`: random words -> floats in [0, 1), by JAX's mantissa trick
 * (the top mantissa-width bits fill the mantissa of a float in [1, 2), then 1 is
 * subtracted), which is exactly `mantissa * 2^-nmant`. float32 takes one 32-bit word per
 * element; float64 takes two (high word, low word) forming the 64-bit value `hi << 32 | lo`.
 */
export const bitsToUniformP: Primitive<BitsToUniformParams> = definePrimitive<BitsToUniformParams>({
  name: "bits_to_uniform",
  abstractEval(avals, { dtype }) {
    const op = "bits_to_uniform";
    if (!isFloat(dtype)) throw new DTypeError(`dtype must be float32 or float64, got ${dtype}`, { op });
    const want = dtype === "float32" ? 1 : 2;
    if (avals.length !== want) {
      throw new ValueError(`${dtype} takes ${want} int32 word array${want > 1 ? "s (high, low)" : ""}, got ${avals.length}`, { op });
    }
    requireInt32(op, avals, ["high word", "low word"]);
    return [new ShapedArray(broadcastAll(op, avals), dtype)];
  },
  impl(inputs, { dtype }) {
    const shape = broadcastAll("bits_to_uniform", inputs.map((x) => x.aval));
    const n = sizeOf(shape);
    const out = typedArrayFor(dtype, n);
    const hi = broadcastBuffer(inputs[0]!, shape);
    if (dtype === "float32") {
      for (let i = 0; i < n; i++) out[i] = (hi.buf[i * hi.step]! >>> 9) * TWO_M23;
    } else {
      const lo = broadcastBuffer(inputs[1]!, shape);
      for (let i = 0; i < n; i++) out[i] = ((hi.buf[i * hi.step]! >>> 0) * TWO_20 + (lo.buf[i * lo.step]! >>> 12)) * TWO_M52;
    }
    return [fromBuffer(out, shape, dtype)];
  },
  jvp: (primals, _t, params) => [bind(bitsToUniformP, primals, params), [null]],
  batch: (args, dims, params, size) => broadcastingBatch(bitsToUniformP)(args, dims, params, size),
});

/** Floats in [0, 1) from random words: one int32 word (float32) or a high and a low word (float64). */
export const bitsToUniform = (words: readonly ArrayBase[], dtype: DType): ArrayBase => bind1(bitsToUniformP, words.slice(), { dtype });

// ---------------------------------------------------------------- bits_to_randint

/** `maxval_out_of_range`: maxval stood for 2^31, one past the int32 range (see below). */
export type BitsToRandintParams = { maxval_out_of_range: boolean };

/** uint32 remainder with XLA's convention `x rem 0 = x`. */
const urem = (x: number, m: number): number => (m === 0 ? x : x % m);

/**
 * `bits_to_randint higher lower minval maxval`: integers in [minval, maxval) from two
 * random words per element, by JAX's `_randint` arithmetic in uint32: with
 * `span = maxval - minval` (1 when maxval <= minval, so minval is returned) and
 * `m = (2^16 mod span)^2 mod span`, the draw is
 * `minval + ((higher mod span) * m + lower mod span) mod span`, all mod 2^32. The
 * higher word counts 2^32 times the lower one, which keeps the modulo bias near 2^-32.
 * `maxval_out_of_range` says maxval stood for 2^31 (one past the int32 range), as when
 * JAX clips a too-large maxval: the span is then one larger.
 */
export const bitsToRandintP: Primitive<BitsToRandintParams> = definePrimitive<BitsToRandintParams>({
  name: "bits_to_randint",
  abstractEval(avals) {
    const op = "bits_to_randint";
    if (avals.length !== 4) throw new ValueError(`takes 4 inputs (higher, lower, minval, maxval), got ${avals.length}`, { op });
    requireInt32(op, avals, ["higher bits", "lower bits", "minval", "maxval"]);
    return [new ShapedArray(broadcastAll(op, avals), "int32")];
  },
  impl(inputs, { maxval_out_of_range: outOfRange }) {
    const shape = broadcastAll("bits_to_randint", inputs.map((x) => x.aval));
    const n = sizeOf(shape);
    const [hi, lo, mn, mx] = inputs.map((x) => broadcastBuffer(x, shape));
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const minval = mn!.buf[i * mn!.step]!;
      const maxval = mx!.buf[i * mx!.step]!;
      let span = (maxval - minval) >>> 0;
      if (maxval <= minval) span = 1;
      else if (outOfRange) span = (span + 1) >>> 0;
      let mult = urem(65536, span);
      mult = urem(Math.imul(mult, mult) >>> 0, span);
      const h = urem(hi!.buf[i * hi!.step]! >>> 0, span);
      const l = urem(lo!.buf[i * lo!.step]! >>> 0, span);
      const offset = urem(((Math.imul(h, mult) >>> 0) + l) >>> 0, span);
      out[i] = (minval + offset) | 0;
    }
    return [fromBuffer(out, shape, "int32")];
  },
  jvp: (primals, _t, params) => [bind(bitsToRandintP, primals, params), [null]],
  batch: (args, dims, params, size) => broadcastingBatch(bitsToRandintP)(args, dims, params, size),
});

/** Integers in [minval, maxval) from two random int32 words per element (see {@link bitsToRandintP}). */
export const bitsToRandint = (higher: ArrayBase, lower: ArrayBase, minval: ArrayBase, maxval: ArrayBase, maxvalOutOfRange = false): ArrayBase =>
  bind1(bitsToRandintP, [higher, lower, minval, maxval], { maxval_out_of_range: maxvalOutOfRange });

// ---------------------------------------------------------------- sort_by_u32_keys

/**
 * Stable ascending order of `keys[off .. off + n)` read as uint32, into `perm`. For rows
 * up to 2^21 long, key and index pack exactly into one float64 (key * 2^21 + index), so
 * the native typed-array sort does the work; longer rows use a comparator.
 */
const argsortRow = (keys: Int32Array, off: number, n: number, perm: Int32Array, packed: Float64Array): void => {
  if (n <= 1 << 21) {
    for (let i = 0; i < n; i++) packed[i] = (keys[off + i]! >>> 0) * 2097152 + i;
    const row = packed.subarray(0, n).sort();
    for (let i = 0; i < n; i++) perm[i] = row[i]! % 2097152;
    return;
  }
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => (keys[off + a]! >>> 0) - (keys[off + b]! >>> 0) || a - b);
  for (let i = 0; i < n; i++) perm[i] = idx[i]!;
};

/**
 * `sort_by_u32_keys keys values -> values'`: along the last axis, `values` reordered by a
 * stable ascending sort of `keys` read as uint32 (JAX's `sort_key_val` on random uint32
 * keys, which `random.permutation` uses). Both inputs have the same shape; the values may
 * have any dtype. Linear in the values: the tangent is sorted alike, and the transpose
 * undoes the reordering by sorting the cotangent by the forward permutation.
 */
export const sortByU32KeysP: Primitive<object> = definePrimitive({
  name: "sort_by_u32_keys",
  abstractEval([keys, values]) {
    const op = "sort_by_u32_keys";
    requireDType(op, keys!, ["int32"], "keys");
    if (keys!.shape.length === 0 || keys!.shape.join() !== values!.shape.join()) {
      throw new ShapeError(`keys ${keys} and values ${values} must have the same shape, of rank >= 1`, { op });
    }
    return [values!];
  },
  impl([keys, values]) {
    const shape = values!.shape;
    const n = shape[shape.length - 1]!;
    const rows = n === 0 ? 0 : sizeOf(shape) / n;
    const kb = bufferOf(keys!) as Int32Array;
    const vb = bufferOf(values!);
    const out = typedArrayFor(values!.dtype, vb.length);
    const perm = new Int32Array(n);
    const packed = new Float64Array(Math.min(n, 1 << 21));
    for (let r = 0; r < rows; r++) {
      const off = r * n;
      argsortRow(kb, off, n, perm, packed);
      for (let i = 0; i < n; i++) out[off + i] = vb[off + perm[i]!]!;
    }
    return [fromBuffer(out, shape, values!.dtype)];
  },
  jvp: ([keys, values], [, t]) => [[sortByU32Keys(keys!, values!)], [t ? sortByU32Keys(keys!, t) : null]],
  transpose: ([ct], [keys]) => {
    if (!ct) return [null, null];
    // out[i] = v[p[i]] with p the sorting permutation, so ct_v[p[i]] = ct[i]: sorting the
    // pairs (p[i], ct[i]) by p puts every cotangent back at its source position.
    const k = keys as ArrayBase;
    const p = sortByU32Keys(k, iota("int32", k.shape, k.ndim - 1));
    return [null, sortByU32Keys(p, ct)];
  },
  batch: ([keys, values], [dk, dv], _params, size) => {
    const front = (x: ArrayBase, d: number | null | undefined): ArrayBase =>
      d === null || d === undefined ? broadcastInDim(x, [size, ...x.shape], x.shape.map((_, i) => i + 1)) : moveAxis(x, d, 0);
    return [[sortByU32Keys(front(keys!, dk), front(values!, dv))], [0]];
  },
});

/** `values` reordered along the last axis by a stable sort of `keys` as uint32. */
export const sortByU32Keys = (keys: ArrayBase, values: ArrayBase): ArrayBase => {
  if (keys.shape.join() !== values.shape.join()) {
    throw new ShapeError(`keys of shape ${shapeStr(keys.shape)} and values of shape ${shapeStr(values.shape)} must have the same shape`, { op: "sort_by_u32_keys" });
  }
  return bind1(sortByU32KeysP, [keys, values]);
};

// ---------------------------------------------------------------- next_float

const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);
const F64 = new Float64Array(1);
const I64 = new BigInt64Array(F64.buffer);

/**
 * The float of `dtype` adjacent to `x` in the direction of `up` (toward +inf) or not
 * (toward -inf): `nextafter(x, ±inf)`, by stepping the bit pattern. NaN and the infinity
 * in the direction of travel stay put.
 */
export const nextFloat = (x: number, up: boolean, dtype: DType): number => {
  if (Number.isNaN(x) || x === (up ? Infinity : -Infinity)) return x;
  const tiny = dtype === "float32" ? 2 ** -149 : Number.MIN_VALUE;
  if (x === 0) return up ? tiny : -tiny;
  const away = x > 0 === up; // moving away from zero grows the magnitude's bit pattern
  if (dtype === "float32") {
    F32[0] = x;
    I32[0]! += away ? 1 : -1;
    return F32[0]!;
  }
  F64[0] = x;
  I64[0]! += away ? 1n : -1n;
  return F64[0]!;
};

export type NextFloatParams = { up: boolean };

/**
 * `next_float[up]`: elementwise {@link nextFloat}, `nextafter(x, +inf)` or
 * `nextafter(x, -inf)` (truncatedNormal clamps into its open interval with it). The
 * derivative is 1 almost everywhere, so the tangent passes through.
 */
export const nextFloatP: Primitive<NextFloatParams> = definePrimitive<NextFloatParams>({
  name: "next_float",
  abstractEval([x]) {
    requireDType("next_float", x!, ["float32", "float64"]);
    return [x!];
  },
  impl([x], { up }) {
    const src = bufferOf(x!);
    const out = typedArrayFor(x!.dtype, src.length);
    for (let i = 0; i < src.length; i++) out[i] = nextFloat(src[i]!, up, x!.dtype);
    return [fromBuffer(out, x!.shape, x!.dtype)];
  },
  jvp: ([x], [t], params) => [[bind1(nextFloatP, [x!], params)], [t]],
  batch: ([x], [d], params) => [[bind1(nextFloatP, [x!], params)], [d!]],
});

/** The adjacent float toward +inf (`up`) or -inf, elementwise. */
export const nextFloatArray = (x: ArrayBase, up: boolean): ArrayBase => bind1(nextFloatP, [x], { up });
