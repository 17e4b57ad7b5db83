/**
 * Plain reference implementations for the random tests: the Threefry-2x32-20 block written
 * from the Random123 description in uint32 arithmetic, JAX's iota bit stream, and JAX's
 * randint arithmetic in BigInt.
 */
import { type ArrayBase, np } from "@cotangent/core";

/** The words of an int32 array read as uint32 (flat). */
export const u32 = (x: ArrayBase): number[] => Array.from(x.toTypedArray() as Int32Array, (v) => v >>> 0);

/** An int32 array from uint32 words. */
export const i32 = (words: readonly number[], shape?: number[]): ArrayBase =>
  np.array(Int32Array.from(words, (w) => w | 0), { shape: shape ?? [words.length] });

const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

/** Threefry-2x32 with 20 rounds on uint32 words. */
export const refBlock = (k0: number, k1: number, x0: number, x1: number): [number, number] => {
  const R = [13, 15, 26, 6, 17, 29, 16, 24];
  const ks = [k0 >>> 0, k1 >>> 0, (0x1bd11bda ^ k0 ^ k1) >>> 0];
  let a = (x0 + ks[0]!) >>> 0;
  let b = (x1 + ks[1]!) >>> 0;
  for (let r = 0; r < 20; r++) {
    a = (a + b) >>> 0;
    b = (rotl(b, R[r % 8]!) ^ a) >>> 0;
    if (r % 4 === 3) {
      const s = (r + 1) / 4;
      a = (a + ks[s % 3]!) >>> 0;
      b = (b + ks[(s + 1) % 3]! + s) >>> 0;
    }
  }
  return [a, b];
};

/** JAX's threefry_2x32(key, iota(n)): counts padded to even, halves as counter words, outputs concatenated. */
export const refIotaStream = (key: readonly number[], n: number): number[] => {
  const counts = Array.from({ length: n + (n % 2) }, (_, i) => (i < n ? i : 0));
  const h = counts.length / 2;
  const y0: number[] = [];
  const y1: number[] = [];
  for (let i = 0; i < h; i++) {
    const [a, b] = refBlock(key[0]!, key[1]!, counts[i]!, counts[h + i]!);
    y0.push(a);
    y1.push(b);
  }
  return [...y0, ...y1].slice(0, n);
};

/** JAX's `_split(key)`: the two keys of the stream over 4 counts. */
export const refSplit2 = (key: readonly number[]): [number[], number[]] => {
  const s = refIotaStream(key, 4);
  return [s.slice(0, 2), s.slice(2, 4)];
};

/** JAX's randint arithmetic for one element, in BigInt with explicit uint32 wraparound. */
export const refRandint = (hi: number, lo: number, minval: number, maxval: number): number => {
  const M = 2n ** 32n;
  const rem = (x: bigint, m: bigint) => (m === 0n ? x : x % m);
  const span = maxval <= minval ? 1n : BigInt(maxval - minval) % M;
  let mult = rem(65536n, span);
  mult = rem((mult * mult) % M, span);
  const off = rem(((rem(BigInt(hi >>> 0), span) * mult) % M + rem(BigInt(lo >>> 0), span)) % M, span);
  return Number(BigInt.asIntN(32, BigInt(minval) + off));
};
