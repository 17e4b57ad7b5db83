/** Index arithmetic and a seeded generator shared by the reference implementations in tests. */

/** A seeded uniform generator on [0, 1) (mulberry32, T. Ettinger's public-domain PRNG). */
export const rng = (seed: number): (() => number) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Row-major strides. */
export const stridesOf = (shape: readonly number[]): number[] => {
  const st: number[] = [];
  let s = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    st[k] = s;
    s *= shape[k]!;
  }
  return st;
};

/** Visits every multi-index of `shape` in row-major order. */
export const forEachIndex = (shape: readonly number[], f: (idx: number[]) => void): void => {
  const idx = shape.map(() => 0);
  for (let i = 0; i < sizeOf(shape); i++) {
    f(idx.slice());
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
};

/** Flat row-major offset of a multi-index. */
export const offsetOf = (shape: readonly number[], idx: readonly number[]): number => {
  let o = 0;
  for (let k = 0; k < shape.length; k++) o = o * shape[k]! + idx[k]!;
  return o;
};

/** The multi-index of flat offset `f` in `shape`. */
export const unravel = (f: number, shape: readonly number[]): number[] => {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = f % shape[i]!;
    f = Math.floor(f / shape[i]!);
  }
  return idx;
};

/** The flat values of an array of `shape` whose element at `idx` is `f(idx)`. */
export const build = (shape: readonly number[], f: (idx: number[]) => number): number[] => {
  const out: number[] = [];
  forEachIndex(shape, (idx) => out.push(f(idx)));
  return out;
};
