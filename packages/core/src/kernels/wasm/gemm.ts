/**
 * GEMM in WebAssembly SIMD for float32 and float64, generated at run time.
 *
 * The classic structure (Goto & van de Geijn, "Anatomy of high-performance matrix
 * multiplication", 2008): both operands are packed into panels, A into MR-row panels and B
 * into NR-column panels, each stored k-major so the micro-kernel reads them sequentially;
 * the micro-kernel keeps an MR x NR block of C in v128 registers and, per k step, loads NR/L
 * vectors of B, broadcasts MR values of A, and does MR * NR/L multiply-adds (fused with
 * relaxed SIMD where the engine has it). Cache blocking: K is cut into KC-deep slices so one
 * B panel (KC x NR) stays in L1 while every A panel of an MC-row block streams from L2.
 *
 * Packing and the loops over blocks run in JS; the loops over panels and the micro-kernel
 * run in Wasm. C is a padded scratch tile, so every micro-kernel call is a full block and
 * there are no edge cases inside Wasm; padding rows/columns are zero in the packed panels.
 */
import type { TypedArray } from "../../dtype.js";
import { ModuleBuilder, type Local } from "./builder.js";
import { parallelChunks, shareModule } from "./threads.js";
import { MAX_PAGES, arena, copyElements, copyRows, demote, kernelMemory, kernelPath, views, warnFallback } from "./runtime.js";

/** Element type of a GEMM: the output's float type. */
export type GemmDType = "float32" | "float64";

/** Register blocking per dtype: MR rows of A by NR columns of B (NR a multiple of the lane count). */
export const GEMM_BLOCKING: Record<GemmDType, { mr: number; nr: number; kc: number; mc: number }> = {
  float32: { mr: 4, nr: 8, kc: 256, mc: 256 },
  float64: { mr: 4, nr: 4, kc: 256, mc: 128 },
};

/**
 * Builds the module exporting
 * - `panels(a, b, c, mPanels, nPanels, kc, ldcBytes)`: for every B panel and every A panel of
 *   the block, `C[tile] += A_panel · B_panel` over kc steps;
 * - `gemm(a, b, c, mPad, nPad, k, jp0, jp1)`: the whole product for B panels [jp0, jp1) (a
 *   column range of C, so threads split the work by calling it on disjoint ranges), looping
 *   over KC-deep slices and MC-row blocks of the packed operands.
 */
export const buildGemmModule = (dtype: GemmDType, mr: number, nr: number, fused: boolean, shared: boolean): ModuleBuilder => {
  const { kc: KC, mc: MC } = GEMM_BLOCKING[dtype];
  const es = dtype === "float32" ? 4 : 8;
  const lanes = 16 / es;
  const nv = nr / lanes;
  const T = dtype === "float32" ? "f32x4" : "f64x2";
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  m.func("panels", { params: ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"] }, (f) => {
    const [a, b, c, mPanels, nPanels, kc, ldc, first] = f.params as Local[];
    const jp = f.local("i32");
    const ip = f.local("i32");
    const kk = f.local("i32");
    const pa = f.local("i32");
    const pb = f.local("i32");
    const bp = f.local("i32");
    const cp = f.local("i32");
    const cj = f.local("i32");
    const acc = Array.from({ length: mr }, () => Array.from({ length: nv }, () => f.local("v128")));
    const bv = Array.from({ length: nv }, () => f.local("v128"));
    const av = f.local("v128");
    const panelB = f.local("i32");
    // Bytes per packed B panel: kc * NR elements.
    f.get(kc).i32(nr * es).op("i32.mul").set(panelB);
    f.get(b).set(bp);
    f.get(c).set(cj);
    f.whileLt(jp, nPanels, 1, () => {
      f.get(a).set(pa);
      f.get(cj).set(cp);
      f.i32(0).set(ip);
      f.whileLt(ip, mPanels, 1, () => {
        for (const row of acc) for (const v of row) f.i32x4(0).set(v);
        f.get(bp).set(pb);
        f.get(kc).set(kk);
        f.loop((again) => {
          for (let v = 0; v < nv; v++) f.get(pb).load("v128.load", v * 16).set(bv[v]!);
          for (let r = 0; r < mr; r++) {
            f.get(pa).load(es === 4 ? "v128.load32_splat" : "v128.load64_splat", r * es).set(av);
            for (let v = 0; v < nv; v++) {
              if (fused) f.get(av).get(bv[v]!).get(acc[r]![v]!).op(`${T}.relaxed_madd`);
              else f.get(av).get(bv[v]!).op(`${T}.mul`).get(acc[r]![v]!).op(`${T}.add`);
              f.set(acc[r]![v]!);
            }
          }
          f.get(pa).i32(mr * es).op("i32.add").set(pa);
          f.get(pb).i32(nr * es).op("i32.add").set(pb);
          f.get(kk).i32(1).op("i32.sub").tee(kk).brIf(again);
        });
        // C tile = accumulators on the first K slice (C is not zeroed first), else C tile += accumulators.
        f.get(first).if(
          () => {
            for (let r = 0; r < mr; r++) {
              for (let v = 0; v < nv; v++) f.get(cp).get(acc[r]![v]!).store("v128.store", v * 16);
              if (r < mr - 1) f.get(cp).get(ldc).op("i32.add").set(cp);
            }
          },
          () => {
            for (let r = 0; r < mr; r++) {
              for (let v = 0; v < nv; v++) {
                const off = v * 16;
                f.get(cp).get(cp).load("v128.load", off).get(acc[r]![v]!).op(`${T}.add`).store("v128.store", off);
              }
              if (r < mr - 1) f.get(cp).get(ldc).op("i32.add").set(cp);
            }
          },
        );
        // Next A panel (pa already advanced by kc * MR elements); C down by MR rows.
        f.get(cp).get(ldc).op("i32.add").set(cp);
      });
      f.get(bp).get(panelB).op("i32.add").set(bp);
      f.get(cj).i32(nr * es).op("i32.add").set(cj);
    });
  });
  buildPack(m, "pack_a", mr, es);
  buildPack(m, "pack_b", nr, es);
  m.func("gemm", { params: ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"] }, (f) => {
    const [a, b, c, mPad, nPad, k, jp0, jp1] = f.params as Local[];
    const k0 = f.local("i32");
    const kc = f.local("i32");
    const i0 = f.local("i32");
    const rows = f.local("i32");
    const min = (x: () => void, y: () => void) => {
      x();
      y();
      x();
      y();
      f.op("i32.lt_s").op("select");
    };
    f.whileLt(k0, k, KC, () => {
      // kc = min(KC, k - k0)
      min(() => f.i32(KC), () => f.get(k).get(k0).op("i32.sub"));
      f.set(kc);
      f.i32(0).set(i0);
      f.whileLt(i0, mPad, MC, () => {
        min(() => f.i32(MC), () => f.get(mPad).get(i0).op("i32.sub"));
        f.set(rows);
        // panels(a + (k0 * mPad + i0 * kc) * es, b + (k0 * nPad + jp0 * kc * nr) * es, c + (i0 * nPad + jp0 * nr) * es, rows / mr, jp1 - jp0, kc, nPad * es, k0 == 0)
        f.get(a).get(k0).get(mPad).op("i32.mul").get(i0).get(kc).op("i32.mul").op("i32.add").i32(es).op("i32.mul").op("i32.add");
        f.get(b).get(k0).get(nPad).op("i32.mul").get(jp0).get(kc).op("i32.mul").i32(nr).op("i32.mul").op("i32.add").i32(es).op("i32.mul").op("i32.add");
        f.get(c).get(i0).get(nPad).op("i32.mul").get(jp0).i32(nr).op("i32.mul").op("i32.add").i32(es).op("i32.mul").op("i32.add");
        f.get(rows).i32(mr).op("i32.div_u");
        f.get(jp1).get(jp0).op("i32.sub");
        f.get(kc);
        f.get(nPad).i32(es).op("i32.mul");
        f.get(k0).op("i32.eqz");
        f.call("panels");
      });
    });
  });
  return m;
};

/**
 * Adds `name(src, rows, rowStride, depthStride, kc, dst)`: packs a `rows` x kc block of an
 * operand already copied into the memory (element (i, q) at byte `src + i * rowStride + q *
 * depthStride`) into R-row panels at `dst`, each kc deep and R wide (k-major), zero-padding
 * the last panel's missing rows. Rows adjacent in memory (B of A·B, Aᵀ of Aᵀ·B) move R at a
 * time as vectors; other layouts move element by element, as bits (so NaN payloads survive).
 * In JS this was about a tenth of W3's jitted step (2 ns an element).
 */
const buildPack = (m: ModuleBuilder, name: string, R: number, es: number): void => {
  const ld = es === 4 ? "i32.load" : "i64.load";
  const st = es === 4 ? "i32.store" : "i64.store";
  m.func(name, { params: ["i32", "i32", "i32", "i32", "i32", "i32"] }, (f) => {
    const [src, rows, rs, ds, kc, dst] = f.params as Local[] as [Local, Local, Local, Local, Local, Local];
    const p0 = f.local("i32");
    const q = f.local("i32");
    const r = f.local("i32");
    const s = f.local("i32");
    const t = f.local("i32");
    const d = f.local("i32");
    const full = f.local("i32");
    f.get(dst).set(d);
    const step = () => {
      f.get(s).get(ds).op("i32.add").set(s);
      f.get(d).i32(R * es).op("i32.add").set(d);
    };
    f.whileLt(p0, rows, R, () => {
      f.get(src).get(p0).get(rs).op("i32.mul").op("i32.add").set(s);
      f.get(rows).get(p0).op("i32.sub").set(full);
      f.i32(0).set(q);
      f.get(full).i32(R).op("i32.ge_s").if(
        () => {
          f.get(rs).i32(es).op("i32.eq").if(
            () =>
              f.whileLt(q, kc, 1, () => {
                let o = 0;
                for (; o + 16 <= R * es; o += 16) f.get(d).get(s).load("v128.load", o, 0).store("v128.store", o, 0);
                for (; o + 8 <= R * es; o += 8) f.get(d).get(s).load("i64.load", o, 0).store("i64.store", o, 0);
                for (; o < R * es; o += 4) f.get(d).get(s).load("i32.load", o, 0).store("i32.store", o, 0);
                step();
              }),
            () =>
              f.whileLt(q, kc, 1, () => {
                f.get(s).set(t);
                for (let i = 0; i < R; i++) {
                  f.get(d).get(t).load(ld, 0, 0).store(st, i * es, 0);
                  if (i < R - 1) f.get(t).get(rs).op("i32.add").set(t);
                }
                step();
              }),
          );
        },
        () =>
          // The last panel, `full` < R rows: the rest are zeros.
          f.whileLt(q, kc, 1, () => {
            f.get(s).set(t);
            f.i32(0).set(r);
            f.whileLt(r, R, 1, () => {
              f.get(d).get(r).i32(es).op("i32.mul").op("i32.add");
              f.get(r).get(full).op("i32.lt_s").if(() => f.get(t).load(ld, 0, 0), () => (es === 4 ? f.i32(0) : f.i64(0n)), es === 4 ? "i32" : "i64");
              f.store(st, 0, 0);
              f.get(t).get(rs).op("i32.add").set(t);
            });
            step();
          }),
      );
    });
  });
};

type GemmFn = (a: number, b: number, c: number, mPad: number, nPad: number, k: number, jp0: number, jp1: number) => void;
type PackFn = (src: number, rows: number, rowStride: number, depthStride: number, kc: number, dst: number) => void;
interface GemmExports {
  gemm: GemmFn;
  pack_a: PackFn;
  pack_b: PackFn;
}
const instances = new Map<string, GemmExports>();

/** The name of the module for `dtype` on the current path, in this thread and the workers. */
const moduleId = (dtype: GemmDType): string => `gemm/${dtype}/${kernelPath()}`;

/**
 * The compiled kernel for `dtype` on the current path. When the engine refuses the module,
 * the path steps down (relaxed SIMD, then SIMD) until one compiles; null when none does and
 * the JS path is in effect. {@link demote} warns once.
 */
const kernelFor = (dtype: GemmDType): GemmExports | null => {
  const reasons: string[] = [];
  for (;;) {
    const path = kernelPath();
    if (path === "js") {
      if (reasons.length) warnFallback("gemm", reasons);
      return null;
    }
    const key = moduleId(dtype);
    const cached = instances.get(key);
    if (cached) return cached;
    const { mr, nr } = GEMM_BLOCKING[dtype];
    const { memory, shared } = kernelMemory();
    try {
      const mod = buildGemmModule(dtype, mr, nr, path === "relaxed-simd", shared).compile();
      const fn = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as GemmExports;
      instances.set(key, fn);
      if (shared) shareModule(key, mod);
      if (reasons.length) warnFallback("gemm", reasons);
      return fn;
    } catch (err) {
      reasons.push(demote(err));
    }
  }
};

/** Forgets compiled kernels (tests that force a compile failure). */
export const clearGemmCache = (): void => instances.clear();

/**
 * One GEMM operand, viewed as `rows` x depth, that packs itself: `pack` writes rows
 * [0, rows) x depth [k0, k0 + kc) into R-row panels at `dst[dstOff...]`, each panel kc deep
 * and R wide (k-major), zero-padding the last panel's missing rows. Matmul operands read
 * through strides; convolution patches gather straight from the input image (im2col fused
 * with packing, so the patch matrix is never materialised).
 */
export interface PanelSource {
  readonly rows: number;
  pack(k0: number, kc: number, R: number, dst: Float32Array | Float64Array, dstOff: number): void;
}

/** Element (i, p) of a `rows` x depth view is at `buf[base + i * rowStride + p * depthStride]`. */
/** A {@link PanelSource} read through strides, which the Wasm kernel can pack itself. */
export interface StridedSource extends PanelSource {
  readonly strided: { buf: TypedArray; base: number; rowStride: number; depthStride: number };
}

export const stridedSource = (buf: TypedArray, base: number, rows: number, rowStride: number, depthStride: number): StridedSource => ({
  rows,
  strided: { buf, base, rowStride, depthStride },
  pack(k0, kc, R, dst, dstOff) {
    const panels = Math.ceil(rows / R);
    for (let p = 0; p < panels; p++) {
      const pOff = dstOff + p * kc * R;
      const full = Math.min(R, rows - p * R);
      if (rowStride === 1 && full === R) {
        // Rows adjacent in memory (B of A·B): read R at a time, write the panel in order.
        let d = pOff;
        let s = base + p * R + k0 * depthStride;
        for (let q = 0; q < kc; q++, s += depthStride) for (let r = 0; r < R; r++) dst[d++] = buf[s + r]!;
        continue;
      }
      for (let r = 0; r < R; r++) {
        const row = p * R + r;
        let d = pOff + r;
        if (row >= rows) {
          for (let q = 0; q < kc; q++, d += R) dst[d] = 0;
          continue;
        }
        let s = base + row * rowStride + k0 * depthStride;
        if (depthStride === 1) for (let q = 0; q < kc; q++, d += R) dst[d] = buf[s + q]!;
        else for (let q = 0; q < kc; q++, d += R, s += depthStride) dst[d] = buf[s]!;
      }
    }
  },
});

/** Whether the Wasm GEMM can run now (the path is not JS). */
export const wasmGemmAvailable = (): boolean => kernelPath() !== "js";

/** Receives C (m x n at `mem[c0 + i * ldc + j]`) when the product is done: copies it out. */
export type GemmStore = (mem: Float32Array | Float64Array, c0: number, ldc: number) => void;

/** A {@link GemmStore} writing row i of C to `out[outOff + i * ldo ...]`. */
export const storeRows = (out: TypedArray, outOff: number, ldo: number, m: number, n: number): GemmStore => (mem, c0, ldc) =>
  copyRows(out as typeof mem, outOff, ldo, mem, c0, ldc, m, n);

/**
 * Room in the arena for the elements a strided operand's `rows` x `k` view touches, and those
 * elements (copied in by the caller once the memory has stopped growing); the strides are in
 * bytes, relative to `at`. Null for other sources, an empty view, or when the arena is full.
 */
const placeStrided = (S: PanelSource, k: number, es: number): { at: number; data: TypedArray; rs: number; ds: number } | null => {
  const info = (S as Partial<StridedSource>).strided;
  if (!info || S.rows === 0 || k === 0 || info.rowStride < 0 || info.depthStride < 0) return null;
  const end = info.base + (S.rows - 1) * info.rowStride + (k - 1) * info.depthStride + 1;
  const at = arena.alloc((end - info.base) * es);
  if (at < 0) return null;
  return { at, data: info.buf.subarray(info.base, end), rs: info.rowStride * es, ds: info.depthStride * es };
};

/** Below this many flops a GEMM runs on one thread: posting jobs costs more than it saves. */
const PARALLEL_MIN_FLOPS = 1 << 21;

/**
 * `C[i, j] = sum_p A[i, p] * B[j, p]` for i < A.rows, j < B.rows, p < k, in Wasm, split across
 * the worker threads by column panels when large; `store` copies C out. Returns false,
 * having stored nothing, when the Wasm path is unavailable or the operands do not fit the
 * kernel memory: the caller then runs the JS kernel. `op` names the operation in errors.
 * `during` is work of the calling thread that does not need C (copying in what the next
 * kernel reads, into the arena above C): it runs once, before the calling thread's first
 * share of the product, so the workers compute while it copies.
 */
export const gemmWasm = (op: string, A: PanelSource, B: PanelSource, k: number, dtype: GemmDType, store: GemmStore, arenaMark?: number, during?: () => void): boolean => {
  const kernel = kernelFor(dtype);
  if (!kernel) return false;
  const { gemm } = kernel;
  const m = A.rows;
  const n = B.rows;
  const { mr, nr, kc: KC } = GEMM_BLOCKING[dtype];
  const es = dtype === "float32" ? 4 : 8;
  const mPad = Math.max(mr, Math.ceil(m / mr) * mr);
  const nPad = Math.max(nr, Math.ceil(n / nr) * nr);
  // A caller that keeps its own operands in the arena (below arenaMark) keeps them.
  if (arenaMark === undefined) arena.reset();
  else arena.resetTo(arenaMark);
  const aAt = arena.alloc(mPad * k * es);
  const bAt = arena.alloc(nPad * k * es);
  const cAt = arena.alloc(mPad * nPad * es);
  if (aAt < 0 || bAt < 0 || cAt < 0) return false;
  // Strided operands are copied in whole (one memcpy each) and packed in Wasm; others pack in JS.
  const aIn = placeStrided(A, k, es);
  const bIn = placeStrided(B, k, es);
  const v = views();
  const mem = dtype === "float32" ? v.f32 : v.f64;
  const c0 = cAt / es;
  if (aIn) copyElements(mem, aIn.at / es, aIn.data as typeof mem, 0, aIn.data.length);
  if (bIn) copyElements(mem, bIn.at / es, bIn.data as typeof mem, 0, bIn.data.length);
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    if (aIn) kernel.pack_a(aIn.at + k0 * aIn.ds, m, aIn.rs, aIn.ds, kc, aAt + k0 * mPad * es);
    else A.pack(k0, kc, mr, mem, aAt / es + k0 * mPad);
    if (bIn) kernel.pack_b(bIn.at + k0 * bIn.ds, n, bIn.rs, bIn.ds, kc, bAt + k0 * nPad * es);
    else B.pack(k0, kc, nr, mem, bAt / es + k0 * nPad);
  }
  // The first K slice stores C instead of adding to it: C needs zeroing only when k = 0.
  if (k === 0) mem.fill(0, c0, c0 + mPad * nPad);
  let pending = during;
  const side = () => {
    if (!pending) return;
    const f = pending;
    pending = undefined;
    f();
  };
  if (k > 0) {
    const nPanels = nPad / nr;
    const run = (lo: number, hi: number) => {
      side();
      gemm(aAt, bAt, cAt, mPad, nPad, k, lo, hi);
    };
    if (2 * m * n * k < PARALLEL_MIN_FLOPS || nPanels < 2) run(0, nPanels);
    // Column panels in about eight chunks (sixteen when the calling thread has side work to do
    // first, so the chunk it holds meanwhile is small), taken by whichever thread is free.
    else parallelChunks(op, moduleId(dtype), "gemm", [aAt, bAt, cAt, mPad, nPad, k], nPanels, Math.max(1, Math.ceil(nPanels / (during ? 16 : 8))), run);
  }
  side();
  // The side work may have grown the memory: a fresh view.
  const w = views();
  store(dtype === "float32" ? w.f32 : w.f64, c0, nPad);
  return true;
};
