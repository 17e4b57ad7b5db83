/**
 * Transposes in Wasm for 4- and 8-byte elements (float32, int32, float64: it moves bytes).
 *
 * A permutation is first collapsed (size-1 axes dropped, input axes that stay adjacent and in
 * order in the output merged); most transposes met in practice then read as a batch of 2-D
 * transposes `[B, M, N] -> [B, N, M]` (a gradient's swapped matrix axes, a convolution's
 * NCHW <-> CNHW layout change). Those run here in register tiles of 4 x 4 (float32, int32)
 * or 2 x 2 (float64) elements, loaded as vectors and transposed with shuffles; a scalar loop
 * takes the edges. The JS loop read one column per output row through a closure per row
 * (about 6 ns per element measured; the tiles about 1). Other permutations take the JS kernel.
 */
import type { TypedArray } from "../../dtype.js";
import { type Local, ModuleBuilder } from "./builder.js";
import { MAX_PAGES, arena, copyElements, demote, kernelMemory, kernelPath, views, warnFallback } from "./runtime.js";

/** Below this many elements the JS loop wins. */
export const WASM_TRANSPOSE_MIN = 4096;

/**
 * Builds the module for `es`-byte elements exporting `transpose(src, dst, batch, m, n)`:
 * dst[b, j, i] = src[b, i, j] for i < m, j < n.
 */
export const buildTransposeModule = (es: 4 | 8, shared: boolean): ModuleBuilder => {
  const load = es === 4 ? "i32.load" : "i64.load";
  const store = es === 4 ? "i32.store" : "i64.store";
  const L = 16 / es; // elements per vector: the register tile is L x L
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  /** Byte-lane indices of a shuffle picking element lanes `lanes` (of 2L) from two vectors. */
  const bytes = (lanes: number[]): number[] => lanes.flatMap((l) => Array.from({ length: es }, (_, b) => l * es + b));
  m.func("transpose", { params: ["i32", "i32", "i32", "i32", "i32"] }, (f) => {
    const [src, dst, batch, M, N] = f.params as Local[] as [Local, Local, Local, Local, Local];
    const b = f.local("i32");
    const i = f.local("i32");
    const j = f.local("i32");
    const mFull = f.local("i32");
    const nFull = f.local("i32");
    const s = f.local("i32");
    const d = f.local("i32");
    const rowBytes = f.local("i32");
    const colBytes = f.local("i32");
    const plane = f.local("i32");
    const r = Array.from({ length: L }, () => f.local("v128"));
    const t = Array.from({ length: L }, () => f.local("v128"));
    f.get(N).i32(es).op("i32.mul").set(rowBytes);
    f.get(M).i32(es).op("i32.mul").set(colBytes);
    f.get(M).get(N).op("i32.mul").i32(es).op("i32.mul").set(plane);
    f.get(M).i32(-L).op("i32.and").set(mFull);
    f.get(N).i32(-L).op("i32.and").set(nFull);
    // s = src + (i * N + j) * es; d = dst + (j * M + i) * es
    const addr = () => {
      f.get(src).get(i).get(N).op("i32.mul").get(j).op("i32.add").i32(es).op("i32.mul").op("i32.add").set(s);
      f.get(dst).get(j).get(M).op("i32.mul").get(i).op("i32.add").i32(es).op("i32.mul").op("i32.add").set(d);
    };
    const scalar = () => f.get(d).get(s).load(load).store(store);
    f.whileLt(b, batch, 1, () => {
      // L x L register tiles, transposed with shuffles.
      f.i32(0).set(i);
      f.whileLt(i, mFull, L, () => {
        f.i32(0).set(j);
        f.whileLt(j, nFull, L, () => {
          addr();
          for (let k = 0; k < L; k++) {
            f.get(s).load("v128.load", 0, 0).set(r[k]!);
            if (k < L - 1) f.get(s).get(rowBytes).op("i32.add").set(s);
          }
          if (L === 4) {
            f.get(r[0]!).get(r[1]!).shuffle(bytes([0, 4, 1, 5])).set(t[0]!);
            f.get(r[0]!).get(r[1]!).shuffle(bytes([2, 6, 3, 7])).set(t[1]!);
            f.get(r[2]!).get(r[3]!).shuffle(bytes([0, 4, 1, 5])).set(t[2]!);
            f.get(r[2]!).get(r[3]!).shuffle(bytes([2, 6, 3, 7])).set(t[3]!);
            f.get(t[0]!).get(t[2]!).shuffle(bytes([0, 1, 4, 5])).set(r[0]!);
            f.get(t[0]!).get(t[2]!).shuffle(bytes([2, 3, 6, 7])).set(r[1]!);
            f.get(t[1]!).get(t[3]!).shuffle(bytes([0, 1, 4, 5])).set(r[2]!);
            f.get(t[1]!).get(t[3]!).shuffle(bytes([2, 3, 6, 7])).set(r[3]!);
          } else {
            f.get(r[0]!).get(r[1]!).shuffle(bytes([0, 2])).set(t[0]!);
            f.get(r[0]!).get(r[1]!).shuffle(bytes([1, 3])).set(r[1]!);
            f.get(t[0]!).set(r[0]!);
          }
          for (let k = 0; k < L; k++) {
            f.get(d).get(r[k]!).store("v128.store", 0, 0);
            if (k < L - 1) f.get(d).get(colBytes).op("i32.add").set(d);
          }
        });
        // The columns past the last full tile, for these L rows.
        f.get(i).set(s);
        f.loop((again) => {
          f.get(nFull).set(j);
          f.whileLt(j, N, 1, () => {
            addr();
            scalar();
          });
          f.get(i).i32(1).op("i32.add").tee(i).i32(L - 1).op("i32.and").brIf(again);
        });
        f.get(i).i32(L).op("i32.sub").set(i);
      });
      // The rows past the last full tile.
      f.get(mFull).set(i);
      f.whileLt(i, M, 1, () => {
        f.i32(0).set(j);
        f.whileLt(j, N, 1, () => {
          addr();
          scalar();
        });
      });
      f.get(src).get(plane).op("i32.add").set(src);
      f.get(dst).get(plane).op("i32.add").set(dst);
    });
  });
  return m;
};

type TransposeFn = (src: number, dst: number, batch: number, m: number, n: number) => void;
const instances = new Map<number, TransposeFn>();

const kernelFor = (es: 4 | 8): TransposeFn | null => {
  const reasons: string[] = [];
  while (kernelPath() !== "js") {
    const cached = instances.get(es);
    if (cached) return cached;
    try {
      const { memory, shared } = kernelMemory();
      const fn = (new WebAssembly.Instance(buildTransposeModule(es, shared).compile(), { env: { memory } }).exports as { transpose: TransposeFn }).transpose;
      instances.set(es, fn);
      if (reasons.length) warnFallback("transpose", reasons);
      return fn;
    } catch (err) {
      reasons.push(demote(err));
    }
  }
  if (reasons.length) warnFallback("transpose", reasons);
  return null;
};

/**
 * The permutation collapsed: `[batch, m, n]` when transposing `shape` by `perm` is a batch
 * of 2-D transposes (dst[b, j, i] = src[b, i, j]), else null.
 */
export const asBatched2d = (shape: readonly number[], perm: readonly number[]): [number, number, number] | null => {
  // Output axes (by input axis), size-1 axes dropped, runs of consecutive input axes merged.
  const axes = perm.filter((a) => shape[a] !== 1);
  const groups: number[][] = [];
  for (const a of axes) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] === a - 1) last.push(a);
    else groups.push([a]);
  }
  const size = (g: number[]) => g.reduce((p, a) => p * shape[a]!, 1);
  // In input order the groups are g_s0 < g_s1 < ...; the output order must be [B?, N, M] with M before N in the input.
  const byInput = [...groups].sort((x, y) => x[0]! - y[0]!);
  if (groups.length === 2 && groups[0] === byInput[1]) return [1, size(byInput[0]!), size(byInput[1]!)];
  if (groups.length === 3 && groups[0] === byInput[0] && groups[1] === byInput[2]) return [size(byInput[0]!), size(byInput[1]!), size(byInput[2]!)];
  return null;
};

/**
 * `src` of `shape` transposed by `perm` into `out`, in Wasm. Returns false, having written
 * nothing, when the Wasm path is off, the element size is not 4 or 8 bytes, the permutation is
 * not a batch of 2-D transposes, or the data do not fit the kernel memory.
 */
export const transposeWasm = (src: TypedArray, shape: readonly number[], perm: readonly number[], out: TypedArray): boolean => {
  const es = src.BYTES_PER_ELEMENT;
  if (kernelPath() === "js" || (es !== 4 && es !== 8)) return false;
  const dims = asBatched2d(shape, perm);
  if (!dims) return false;
  const fn = kernelFor(es);
  if (!fn) return false;
  arena.reset();
  const sAt = arena.alloc(src.length * es);
  const dAt = arena.alloc(src.length * es);
  if (sAt < 0 || dAt < 0) return false;
  const v = views();
  // Moved as raw bits: int32 view for 4-byte elements, float64 for 8 (NaN payloads kept).
  const mem = es === 4 ? v.i32 : v.f64;
  const asMem = (a: TypedArray) => (es === 4 ? new Int32Array(a.buffer, a.byteOffset, a.length) : a) as Int32Array;
  copyElements(mem, sAt / es, asMem(src), 0, src.length);
  fn(sAt, dAt, dims[0], dims[1], dims[2]);
  copyElements(asMem(out), 0, mem, dAt / es, src.length);
  return true;
};
