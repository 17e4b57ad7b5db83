/**
 * PRNG keys and raw random bits, following JAX's threefry2x32 scheme (the original,
 * non-"partitionable" layout): a key is a legacy `uint32[2]` array, held as int32 bit
 * patterns; `split` and the bit streams are the Threefry-2x32 block over iota counters.
 * Everything here is a composition of primitives, so it works on traced keys (inside
 * grad, vmap, makeJaxpr) and vmap over a batch of keys goes through the threefry2x32
 * batching rule.
 */
import { ArrayBase } from "../array.js";
import { DTypeError, ShapeError, ValueError } from "../errors.js";
import { randomFlags } from "../config.js";
import { add, rem } from "../primitives/binary.js";
import { bitwiseXor } from "../primitives/compare.js";
import { scalar } from "../primitives/common.js";
import { concatenate, iota, slice, squeeze } from "../primitives/shape.js";
import { threefry2x32 } from "../primitives/random_bits.js";
import { reshape } from "../primitives/structural.js";
import { array } from "../np/coerce.js";
import { broadcastShapes, shapeStr, sizeOf } from "../shape.js";
import { type PositionalOr, fixedArgs, parseArgs, signature, withSignature } from "../api/args.js";

/** A PRNG key: an int32 array of shape [2] holding the two uint32 words of a threefry2x32 key. */
export type Key = ArrayBase;

/**
 * Keys from {@link split}: an int32 array of shape `[...shape, 2]` that is also iterable
 * over its first axis, so `const [k1, k2] = random.split(key)` destructures it while
 * `vmap(f)(random.split(key, 8))` maps over the 8 keys.
 */
/** A batch of keys: an int32 array `[..., 2]`; like every array it iterates over its first axis. */
export type KeyArray = ArrayBase;

/** Anything accepted as a shape: a length or a list of lengths. */
export type ShapeArg = number | readonly number[];

const KEY_HINT = "make a key with random.key(seed) and new ones with random.split(key); to use a batch of keys, vmap over it";

/** Checks that `key` is a single legacy key: an int32 array of shape [2]. */
export const checkKey = (op: string, key: unknown): ArrayBase => {
  if (!(key instanceof ArrayBase)) {
    throw new ValueError(`key must be an array made by random.key, got ${key === null ? "null" : typeof key}`, { op, hint: KEY_HINT });
  }
  if (key.dtype !== "int32") {
    throw new DTypeError(`key must be an int32 array of shape [2] (uint32 words), got ${key.aval}`, { op, hint: KEY_HINT });
  }
  if (key.ndim !== 1 || key.shape[0] !== 2) {
    throw new ShapeError(`key must have shape [2], got shape ${shapeStr(key.shape)}`, {
      op,
      hint: key.ndim === 2 && key.shape[1] === 2 ? `this looks like ${key.shape[0]} keys from random.split: pick one (const [k1, k2] = random.split(key)) or vmap over them` : KEY_HINT,
    });
  }
  return key;
};

/** A shape argument as a list of non-negative integers, or a ValueError naming the op. */
export const toShape = (op: string, shape: ShapeArg): number[] => {
  const s = typeof shape === "number" ? [shape] : Array.isArray(shape) ? shape.slice() : null;
  if (!s || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ValueError(`shape ${Array.isArray(shape) ? shapeStr(shape as number[]) : String(shape)} must be a length or a list of non-negative integers`, {
      op,
      hint: "e.g. [3, 4]; use [] for a scalar",
    });
  }
  return s;
};

/**
 * JAX's `_check_shape`: parameter shapes must broadcast to the requested `shape` without
 * changing it.
 */
export const checkShape = (op: string, shape: readonly number[], ...paramShapes: (readonly number[])[]): void => {
  let b: number[] | null = shape.slice();
  for (const p of paramShapes) b = b && broadcastShapes(b, p);
  if (!b || shapeStr(b) !== shapeStr(shape)) {
    throw new ShapeError(
      `parameter shapes ${paramShapes.map(shapeStr).join(", ")} must broadcast to the shape argument ${shapeStr(shape)}${b ? `, but broadcasting gives ${shapeStr(b)}` : ""}`,
      { op, hint: "pass a shape whose trailing axes match the parameters' shapes, or leave it out to use theirs" },
    );
  }
};

/** The two uint32 words of a JS integer as int32 bit patterns: [high, low]. */
const words64 = (n: number): [number, number] => {
  // 32-bit values get [0, n] (JAX without x64); larger ones their 64-bit two's-complement words.
  if (n >= -(2 ** 31) && n < 2 ** 32) return [0, n | 0];
  const lo = n % 2 ** 32;
  return [Math.floor(n / 2 ** 32) | 0, lo | 0];
};

const wordsOf = (op: string, what: string, x: number | ArrayBase): ArrayBase => {
  if (typeof x === "number") {
    if (!Number.isSafeInteger(x)) throw new ValueError(`${what} must be an integer, got ${x}`, { op, hint: "seeds and fold-in data are integers (at most 2^53 in size)" });
    return array(Int32Array.from(words64(x)));
  }
  if (!(x instanceof ArrayBase) || x.ndim !== 0 || x.dtype !== "int32") {
    throw new ValueError(`${what} must be a JS integer or an int32 scalar array, got ${x instanceof ArrayBase ? x.aval : typeof x}`, { op });
  }
  // An int32 scalar s gives the words [0, s], as JAX's threefry_seed does for 32-bit seeds.
  return concatenate([array(Int32Array.of(0)), reshape(x, [1])], 0);
};

/**
 * `random.key(seed)`: a PRNG key from an integer seed, as JAX's `PRNGKey`: `[0, seed]`
 * (uint32 words) for a seed in [-2^31, 2^32), the high and low words of its 64-bit two's
 * complement for larger safe integers. The seed may also be an int32 scalar array (traced
 * too, so `vmap(random.key)(seeds)` works).
 */
export const key = fixedArgs(signature("random.key", ["seed:any!"]), (seed: number | ArrayBase): Key => wordsOf("random.key", "seed", seed));

/** Alias of {@link key}, JAX's legacy name. */
export const PRNGKey = key;

/** The key's two words as int32 scalars. */
export const keyHalves = (key: ArrayBase): [ArrayBase, ArrayBase] => [squeeze(slice(key, [0], [1]), [0]), squeeze(slice(key, [1], [2]), [0])];

/**
 * The int32 counts `start, start + 1, ..., start + n - 1` (by iota, so a traced function
 * carries no constant buffer), each taken modulo `wrap` when given.
 */
const counts = (start: number, n: number, wrap?: number): ArrayBase => {
  const i = iota("int32", n);
  const shifted = start === 0 ? i : add(i, scalar(start, "int32"));
  return wrap === undefined ? shifted : rem(shifted, scalar(wrap, "int32"));
};

/**
 * JAX's `threefry_2x32(key, iota(n))` as a flat int32 [n]: the counts 0..n-1 (padded with
 * one 0 when n is odd) are cut in halves that form the two counter words, and the two
 * output words are concatenated back.
 */
const threefryIota = (key: ArrayBase, n: number): ArrayBase => {
  const odd = n % 2;
  const h = (n + odd) / 2;
  const [k0, k1] = keyHalves(key);
  // For odd n the padding 0 ends the second half: h + (h - 1) = n wraps to 0 modulo n.
  const [y0, y1] = threefry2x32(k0, k1, counts(0, h), counts(h, h, odd ? n : undefined));
  const out = concatenate([y0, y1], 0);
  return odd ? slice(out, [0], [n]) : out;
};


/**
 * JAX's partitionable layout (`jax_threefry_partitionable`): element i of an array of
 * `n` draws is the threefry block of the counter words (i >> 32, i & 0xffffffff), so each
 * element's bits depend only on its own index. Sizes here stay below 2^32, so the high
 * counter word is 0.
 */
const threefryIndexed = (key: ArrayBase, n: number): [ArrayBase, ArrayBase] => {
  const [k0, k1] = keyHalves(key);
  return threefry2x32(k0, k1, scalar(0, "int32"), iota("int32", n));
};

/** The key layout in force: JAX's partitionable one when `config.threefryPartitionable` is on. */
export const isPartitionable = (): boolean => randomFlags.partitionable;

/**
 * `random.split(key, num = 2)`: `num` new keys (or a shape of them) as an int32 array of
 * shape `[num, 2]` (`[...shape, 2]`), which also destructures:
 * `const [k1, k2] = random.split(key)`. As JAX: threefry2x32 of the key over the counts
 * 0 .. 2·num - 1.
 */
const splitSig = signature("random.split", ["key:any!", "num:shape"]);
export const split = withSignature(splitSig, (key: Key, ...args: PositionalOr<[num: ShapeArg], { num?: ShapeArg }>): KeyArray => {
  const op = "random.split";
  const { num = 2 } = parseArgs<{ num?: ShapeArg }>(splitSig, [key, ...args]);
  checkKey(op, key);
  const shape = toShape(op, num);
  const n = sizeOf(shape);
  if (n === 0) return reshape(array(new Int32Array(0)), [...shape, 2]);
  if (isPartitionable()) {
    // Key i is the block of counter i, its two output words side by side (JAX's _threefry_split_foldlike).
    const [y0, y1] = threefryIndexed(key, n);
    return reshape(concatenate([reshape(y0, [n, 1]), reshape(y1, [n, 1])], 1), [...shape, 2]);
  }
  return reshape(threefryIota(key, 2 * n), [...shape, 2]);
});

/**
 * `random.foldIn(key, data)`: a new key that mixes the integer `data` (a JS integer or an
 * int32 scalar array, traced or not) into `key`: threefry2x32 of the key over the counter
 * `[0, data]`, as JAX's `fold_in`.
 */
export const foldIn = fixedArgs(signature("random.foldIn", ["key:any!", "data:any!"]), (key: Key, data: number | ArrayBase): Key => {
  const op = "random.foldIn";
  checkKey(op, key);
  const [c0, c1] = keyHalves(wordsOf(op, "data", data));
  const [k0, k1] = keyHalves(key);
  const [y0, y1] = threefry2x32(k0, k1, c0, c1);
  return concatenate([reshape(y0, [1]), reshape(y1, [1])], 0);
});

/**
 * Random 32-bit words of `shape` (int32 holding uint32 bits): JAX's
 * `_random_bits(key, 32, shape)`, the threefry stream over the counts 0 .. size - 1.
 */
export const randomBits = (key: Key, shape: readonly number[]): ArrayBase => {
  const n = sizeOf(shape);
  if (n === 0) return array(new Int32Array(0), { shape });
  if (isPartitionable()) {
    // 32-bit draws xor the block's two words (JAX's _threefry_random_bits_partitionable).
    const [y0, y1] = threefryIndexed(key, n);
    return reshape(bitwiseXor(y0, y1), shape);
  }
  return reshape(threefryIota(key, n), shape);
};

/**
 * Random 64-bit words of `shape` as [high, low] int32 arrays: JAX's
 * `_random_bits(key, 64, shape)`, whose stream over the counts 0 .. 2·size - 1 has its
 * first half as the high words and its second half as the low words, which are exactly
 * the two outputs of one threefry2x32 call.
 */
export const randomBits64 = (key: Key, shape: readonly number[]): [ArrayBase, ArrayBase] => {
  const n = sizeOf(shape);
  if (n === 0) return [array(new Int32Array(0), { shape }), array(new Int32Array(0), { shape })];
  const [k0, k1] = keyHalves(key);
  // Partitionable: the block's two words of counter i are element i's high and low words.
  const [hi, lo] = isPartitionable() ? threefryIndexed(key, n) : threefry2x32(k0, k1, counts(0, n), counts(n, n));
  return [reshape(hi, shape), reshape(lo, shape)];
};

/**
 * `random.bits(key, shape)`: uniformly random 32-bit words of `shape`, as an int32 array
 * holding uint32 bit patterns (read one as unsigned with `x >>> 0`).
 */
const bitsSig = signature("random.bits", ["key:any!", "shape:shape"]);
export const bits = withSignature(bitsSig, (key: Key, ...args: PositionalOr<[shape: ShapeArg], { shape?: ShapeArg }>): ArrayBase => {
  const op = "random.bits";
  const { shape = [] } = parseArgs<{ shape?: ShapeArg }>(bitsSig, [key, ...args]);
  checkKey(op, key);
  return randomBits(key, toShape(op, shape));
});

/**
 * `random.keyData(keys)`: the raw uint32 words of a key or a batch of keys (as int32 bit
 * patterns, shape `[..., 2]`). Cotangent's keys are JAX's legacy raw keys, so this is the
 * identity after checking that `keys` is one; it exists so code written against JAX's
 * typed keys (`jax.random.key_data`) ports unchanged.
 */
export const keyData = fixedArgs(signature("random.keyData", ["keys:any!"]), (keys: KeyArray): ArrayBase => checkKeys("random.keyData", keys));

export interface WrapKeyDataOptions {
  /** The PRNG implementation; only JAX's default, "threefry2x32", exists here. */
  impl?: string | null;
}

/**
 * `random.wrapKeyData(data, {impl})`: keys from raw key words: an int32 array of shape
 * `[..., 2]` (a JS list of uint32 words is accepted too and wrapped as int32 bit
 * patterns), as JAX's `wrap_key_data`. The inverse of {@link keyData}.
 */
const wrapKeyDataSig = signature("random.wrapKeyData", ["data:any!", "impl:string?"]);
export const wrapKeyData = withSignature(wrapKeyDataSig, (data: ArrayBase | readonly number[] | readonly (readonly number[])[], ...args: PositionalOr<[impl: string | null], WrapKeyDataOptions>): KeyArray => {
  const op = "random.wrapKeyData";
  const { impl } = parseArgs<WrapKeyDataOptions>(wrapKeyDataSig, [data, ...args]);
  if (impl !== undefined && impl !== null && impl !== "threefry2x32") {
    throw new ValueError(`impl must be "threefry2x32" (the only PRNG implemented), got ${typeof impl === "string" ? `"${impl}"` : typeof impl}`, {
      op,
      hint: "JAX's rbg and unsafe_rbg implementations are not available",
    });
  }
  if (Array.isArray(data)) {
    const flat = (data as unknown[]).flat();
    if (!flat.every((w) => typeof w === "number" && Number.isInteger(w) && w >= -(2 ** 31) && w < 2 ** 32)) {
      throw new ValueError("data must hold 32-bit integer words (uint32 or int32 values)", { op });
    }
    const shape = Array.isArray(data[0]) ? [data.length, (data[0] as readonly number[]).length] : [data.length];
    if (flat.length !== sizeOf(shape)) throw new ShapeError("data must be a rectangular list of key words", { op });
    return checkKeys(op, array(Int32Array.from(flat as number[], (w) => w | 0), { shape }));
  }
  return checkKeys(op, data);
});

/** Checks that `keys` is a key or a batch of keys: an int32 array of shape `[..., 2]`. */
const checkKeys = (op: string, keys: unknown): ArrayBase => {
  if (!(keys instanceof ArrayBase)) throw new ValueError(`keys must be an array of key words, got ${keys === null ? "null" : typeof keys}`, { op, hint: KEY_HINT });
  if (keys.dtype !== "int32") throw new DTypeError(`key data must be int32 (uint32 bit patterns), got ${keys.aval}`, { op, hint: KEY_HINT });
  if (keys.ndim < 1 || keys.shape[keys.ndim - 1] !== 2) {
    throw new ShapeError(`key data must have a last axis of length 2 (the two threefry2x32 words), got shape ${shapeStr(keys.shape)}`, { op, hint: KEY_HINT });
  }
  return keys;
};
