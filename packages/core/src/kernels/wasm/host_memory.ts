/**
 * Host allocator tuning, once per Node process.
 *
 * Every kernel result is a fresh typed array (arrays are immutable and garbage-collected).
 * Node takes an ArrayBuffer's memory from the C allocator; glibc serves requests of 128 KiB or
 * more with a fresh `mmap`, so each new large array page-faults on first touch (a 4 MiB result
 * cost ~2 ms instead of ~0.3 ms here) and is unmapped again when collected. glibc raises that
 * threshold by itself, up to 32 MiB, the first time it frees such a mapped block — but that
 * only happens at a garbage collection, often dozens of large arrays later, and only up to the
 * size of the block freed. We free one such block at start instead: allocate ~31 MiB, drop it,
 * collect once. After that, large arrays reuse freed heap memory (measured: see
 * docs/performance.md, "Fresh arrays and the C allocator").
 *
 * Node on Linux only (browsers and other systems have their own allocators), best effort: any
 * failure leaves things as they were. It runs once, in the background, when the kernel memory
 * is created.
 */

const isNode = typeof process === "object" && typeof process.versions?.node === "string";

/** Bytes of the block freed at start: just under glibc's 32 MiB ceiling for the threshold. */
const BLOCK_BYTES = 31 << 20;

const nodeBuiltin = <T>(name: string): Promise<T> => {
  const specifier = `node:${name}`;
  return import(/* webpackIgnore: true */ /* @vite-ignore */ specifier) as Promise<T>;
};

/**
 * A full garbage collection, as a function: the embedder's `gc` when exposed, else one taken
 * from a fresh context with the flag set just for it (and cleared again, so contexts made
 * later, a notebook's for instance, do not get a global `gc`).
 */
const loadGc = async (): Promise<() => void> => {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  const [v8, vm] = await Promise.all([nodeBuiltin<typeof import("node:v8")>("v8"), nodeBuiltin<typeof import("node:vm")>("vm")]);
  v8.setFlagsFromString("--expose-gc");
  try {
    return vm.runInNewContext("gc") as () => void;
  } finally {
    v8.setFlagsFromString("--no-expose-gc");
  }
};

let tuning: Promise<boolean> | undefined;

/**
 * Frees one large C-allocated block (see the module comment). Idempotent: the first call
 * starts the work and every call returns its promise, which resolves true when the block was
 * freed (Node on Linux), false otherwise. Never throws or rejects. `load` supplies the
 * collector (tests). `threadsReady()` waits for it: the work needs the event loop (dynamic
 * imports), and a timed loop that never yields to it would otherwise run untuned (measured:
 * 2,000-2,500 page faults per W5 call instead of ~100, and twice the time).
 */
export const tuneHostAllocator = (load: () => Promise<() => void> = loadGc): Promise<boolean> =>
  (tuning ??= (async () => {
    if (!isNode || process.platform !== "linux") return false;
    try {
      const gc = await load();
      let block: Uint8Array | null = new Uint8Array(BLOCK_BYTES);
      block[BLOCK_BYTES - 1] = 1;
      block = null;
      gc();
      return true;
    } catch {
      // Tuning only: without it large arrays are slower on first touch, never wrong.
      return false;
    }
  })());
