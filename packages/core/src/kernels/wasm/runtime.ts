/**
 * The Wasm kernel runtime: which path runs (relaxed SIMD, plain SIMD, or JS), the one
 * linear memory every kernel module shares, and a scratch arena inside it.
 *
 * Kernels copy their operands into the arena, compute, and copy the result out into a
 * fresh typed array owned by the NDArray (so arrays stay immutable and garbage-collected).
 * The arena is reset at the start of every kernel call: the memory grows to the largest
 * operation's need and no further, and nothing is leaked between calls.
 */

import { ModuleBuilder, type PlainOp, type ValType } from "./builder.js";
import { tuneHostAllocator } from "./host_memory.js";

/** Which kernel implementation runs: fastest first. */
export type KernelPath = "relaxed-simd" | "simd" | "js";

/** Largest memory in 64 KiB pages (1 GiB): addresses stay positive i32s in the kernels. */
export const MAX_PAGES = 16384;

/** A one-function module using `op` on v128 params: it validates iff the engine has the op. */
const probe = (arity: number, op: PlainOp): Uint8Array<ArrayBuffer> => {
  const m = new ModuleBuilder();
  m.func("probe", { params: Array<ValType>(arity).fill("v128"), results: ["v128"] }, (f) => {
    for (const p of f.params) f.get(p);
    f.op(op);
  });
  return m.toBytes();
};

const validates = (make: () => Uint8Array<ArrayBuffer>): boolean => {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(make());
  } catch {
    return false;
  }
};

/** The fastest path the engine supports, detected once. */
export const detectPath = (): KernelPath => (validates(() => probe(3, "f32x4.relaxed_madd")) ? "relaxed-simd" : validates(() => probe(1, "f32x4.abs")) ? "simd" : "js");

let chosen: KernelPath | undefined;
const warned = new Set<string>();

/** The path kernels take now (the detected one unless a test or the user forced another). */
export const kernelPath = (): KernelPath => (chosen ??= detectPath());

/**
 * Forces a kernel path (tests run every path on the same cases). A path the engine does not
 * support falls back to the next one down. Returns the path actually in effect.
 */
export const setKernelPath = (path: KernelPath | "auto"): KernelPath => {
  const best = detectPath();
  const order: KernelPath[] = ["relaxed-simd", "simd", "js"];
  chosen = path === "auto" ? best : order[Math.max(order.indexOf(path), order.indexOf(best))]!;
  return chosen;
};

/**
 * Called when a module fails to compile or instantiate: steps down to the next path so the
 * operation reruns correctly there. Returns the reason, for {@link warnFallback}.
 */
export const demote = (err: unknown): string => {
  const from = kernelPath();
  chosen = from === "relaxed-simd" ? "simd" : "js";
  return `${from}: ${err instanceof Error ? err.message : String(err)}`;
};

/** One warning per kernel, once its final path is known. */
export const warnFallback = (what: string, reasons: readonly string[]): void => {
  if (warned.has(what)) return;
  warned.add(what);
  console.warn(`cotangent: the WebAssembly ${what} kernel could not be compiled (${reasons.join("; ")}); using the ${kernelPath()} path instead`);
};

/** Forgets which warnings were given (tests). */
export const resetWarnings = (): void => warned.clear();

/** Whether this engine can share memory between threads. */
export const canShareMemory = (): boolean => {
  try {
    return typeof SharedArrayBuffer === "function" && new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
};

let memory: WebAssembly.Memory | undefined;
let shared = false;

/** The kernels' memory: shared when the engine allows it, so worker threads can run on it. */
export const kernelMemory = (): { memory: WebAssembly.Memory; shared: boolean } => {
  if (!memory) {
    shared = canShareMemory();
    memory = new WebAssembly.Memory(shared ? { initial: 16, maximum: MAX_PAGES, shared: true } : { initial: 16, maximum: MAX_PAGES });
    void tuneHostAllocator();
  }
  return { memory, shared };
};

/**
 * A bump allocator over the kernel memory. `reset()` at the start of a kernel; `alloc` hands
 * out 64-byte-aligned byte offsets and grows the memory when needed (returns -1 when the
 * request exceeds {@link MAX_PAGES}: the caller then takes the JS path).
 */
export class Arena {
  private top = 64;

  reset(): void {
    this.top = 64;
  }

  /** The current top, for {@link resetTo}: what was allocated below it stays. */
  mark(): number {
    return this.top;
  }

  /** Frees everything allocated after `mark` was taken. */
  resetTo(mark: number): void {
    this.top = mark;
  }

  alloc(byteLength: number): number {
    const at = (this.top + 63) & ~63;
    const end = at + byteLength;
    const { memory: mem } = kernelMemory();
    const have = mem.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / 65536);
      if (have / 65536 + pages > MAX_PAGES) return -1;
      mem.grow(pages);
    }
    this.top = end;
    return at;
  }
}

/** The one arena kernels on the calling thread use. */
export const arena = new Arena();

/** Views of the current memory buffer (recreated after growth). */
export const views = (): { f32: Float32Array; f64: Float64Array; i32: Int32Array; u8: Uint8Array } => {
  const buf = kernelMemory().memory.buffer;
  if (cached?.buffer !== buf) cached = { buffer: buf, f32: new Float32Array(buf), f64: new Float64Array(buf), i32: new Int32Array(buf), u8: new Uint8Array(buf) };
  return cached;
};
let cached: { buffer: ArrayBufferLike; f32: Float32Array; f64: Float64Array; i32: Int32Array; u8: Uint8Array } | undefined;

/** 4-byte elements from which {@link copyElements} copies through 8-byte views (below, the views cost more than they save). */
const WIDE_COPY_MIN = 1 << 16;

/**
 * `dst.set(src.subarray(from, from + n), at)`, faster for large copies out of the (shared)
 * kernel memory. V8 copies between a SharedArrayBuffer and ordinary memory element by element
 * with relaxed atomic accesses; out of shared memory, 4-byte elements ran at under half the
 * speed of the same bytes copied as 8-byte elements (measured: 1 MiB in 156 vs 66 µs, 4 MiB in
 * 614 vs 286 µs, 12.5 MiB in 2.2 vs 1.0 ms; 256 KiB 21 vs 18 µs; copies into shared memory were
 * equally fast either way). So a large float32 or int32 copy whose two ends are equally
 * aligned goes through BigUint64Array views (an exact copy of the bits), with at most one odd
 * element at each end.
 */
export const copyElements = <T extends TypedArrayLike>(dst: T, at: number, src: T, from: number, n: number): void => {
  const plain = (a: number, f: number, k: number) => (dst as Float32Array).set((src as Float32Array).subarray(f, f + k), a);
  // Bits are copied only between arrays of one kind: a set from another kind converts values.
  if (n >= WIDE_COPY_MIN && dst.BYTES_PER_ELEMENT === 4 && dst.constructor === src.constructor) {
    const d = dst.byteOffset + at * 4;
    const s = src.byteOffset + from * 4;
    if (((d ^ s) & 7) === 0) {
      // Same-kind sets copy bits exactly (NaN payloads included), so the odd ends go that way too.
      const head = (d & 7) === 0 ? 0 : 1;
      if (head) plain(at, from, 1);
      const words = (n - head) >> 1;
      new BigUint64Array(dst.buffer, d + head * 4, words).set(new BigUint64Array(src.buffer, s + head * 4, words));
      const done = head + 2 * words;
      if (done < n) plain(at + done, from + done, n - done);
      return;
    }
  }
  plain(at, from, n);
};

/** Rows at most this many elements long are copied by {@link copyRows} in a loop, not a set per row. */
const SHORT_ROW_MAX = 64;

/**
 * Copies `rows` rows of `n` elements from `src[from + i * lds ...]` to `dst[at + i * ldd ...]`
 * (both of one kind), bits exactly. Short rows (a GEMM's C with ten columns, padded to sixteen
 * in the kernel memory) go through 32-bit integer views in one loop: a `subarray` and a `set`
 * per row cost about 0.7 µs each, so 256 rows of 10 floats took 180 µs, the loop 5 µs
 * (measured on W3's step). Integer views, because a float load and store may quiet a NaN.
 */
export const copyRows = <T extends TypedArrayLike>(dst: T, at: number, ldd: number, src: T, from: number, lds: number, rows: number, n: number): void => {
  if (ldd === n && lds === n) return copyElements(dst, at, src, from, rows * n);
  if (n > SHORT_ROW_MAX || dst.BYTES_PER_ELEMENT === 1) {
    for (let i = 0; i < rows; i++) copyElements(dst, at + i * ldd, src, from + i * lds, n);
    return;
  }
  // In 32-bit words: an 8-byte element is two.
  const w = dst.BYTES_PER_ELEMENT >> 2;
  const d = new Int32Array(dst.buffer, dst.byteOffset, dst.length * w);
  const s = new Int32Array(src.buffer, src.byteOffset, src.length * w);
  const nw = n * w;
  for (let i = 0; i < rows; i++) {
    const d0 = (at + i * ldd) * w;
    const s0 = (from + i * lds) * w;
    for (let j = 0; j < nw; j++) d[d0 + j] = s[s0 + j]!;
  }
};

/** The typed arrays {@link copyElements} takes (both of one kind). */
type TypedArrayLike = Float32Array | Float64Array | Int32Array | Uint8Array;
