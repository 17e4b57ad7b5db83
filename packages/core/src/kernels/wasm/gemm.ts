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
import { MAX_PAGES, arena, demote, kernelMemory, kernelPath, views, warnFallback } from "./runtime.js";

/** Element type of a GEMM: the output's float type. */
export type GemmDType = "float32" | "float64";

/** Register blocking per dtype: MR rows of A by NR columns of B (NR a multiple of the lane count). */
export const GEMM_BLOCKING: Record<GemmDType, { mr: number; nr: number; kc: number; mc: number }> = {
  float32: { mr: 4, nr: 8, kc: 256, mc: 256 },
  float64: { mr: 4, nr: 4, kc: 256, mc: 128 },
};

/**
 * Builds the module exporting `panels(a, b, c, mPanels, nPanels, kc, ldcBytes)`: for every
 * B panel and every A panel of the block, `C[tile] += A_panel · B_panel` over kc steps.
 */
export const buildGemmModule = (dtype: GemmDType, mr: number, nr: number, fused: boolean, shared: boolean): ModuleBuilder => {
  const es = dtype === "float32" ? 4 : 8;
  const lanes = 16 / es;
  const nv = nr / lanes;
  const T = dtype === "float32" ? "f32x4" : "f64x2";
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  m.func("panels", { params: ["i32", "i32", "i32", "i32", "i32", "i32", "i32"] }, (f) => {
    const [a, b, c, mPanels, nPanels, kc, ldc] = f.params as Local[];
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
        // C tile += accumulators.
        for (let r = 0; r < mr; r++) {
          for (let v = 0; v < nv; v++) {
            const off = v * 16;
            f.get(cp).get(cp).load("v128.load", off).get(acc[r]![v]!).op(`${T}.add`).store("v128.store", off);
          }
          if (r < mr - 1) f.get(cp).get(ldc).op("i32.add").set(cp);
        }
        // Next A panel (pa already advanced by kc * MR elements); C down by MR rows.
        f.get(cp).get(ldc).op("i32.add").set(cp);
      });
      f.get(bp).get(panelB).op("i32.add").set(bp);
      f.get(cj).i32(nr * es).op("i32.add").set(cj);
    });
  });
  return m;
};

type PanelsFn = (a: number, b: number, c: number, mPanels: number, nPanels: number, kc: number, ldcBytes: number) => void;
const instances = new Map<string, PanelsFn>();

/**
 * The compiled kernel for `dtype` on the current path. When the engine refuses the module,
 * the path steps down (relaxed SIMD, then SIMD) until one compiles; null when none does and
 * the JS path is in effect. {@link demote} warns once.
 */
const kernelFor = (dtype: GemmDType): PanelsFn | null => {
  const reasons: string[] = [];
  for (;;) {
    const path = kernelPath();
    if (path === "js") {
      if (reasons.length) warnFallback("gemm", reasons);
      return null;
    }
    const key = `${dtype}/${path}`;
    const cached = instances.get(key);
    if (cached) return cached;
    const { mr, nr } = GEMM_BLOCKING[dtype];
    const { memory, shared } = kernelMemory();
    try {
      const mod = buildGemmModule(dtype, mr, nr, path === "relaxed-simd", shared).compile();
      const fn = (new WebAssembly.Instance(mod, { env: { memory } }).exports as { panels: PanelsFn }).panels;
      instances.set(key, fn);
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
export const stridedSource = (buf: TypedArray, base: number, rows: number, rowStride: number, depthStride: number): PanelSource => ({
  rows,
  pack(k0, kc, R, dst, dstOff) {
    const panels = Math.ceil(rows / R);
    for (let p = 0; p < panels; p++) {
      const pOff = dstOff + p * kc * R;
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

/**
 * `out[outOff + i * ldo + j] = sum_p A[i, p] * B[j, p]` for i < A.rows, j < B.rows, p < k, in
 * Wasm. Returns false, having written nothing, when the Wasm path is unavailable or the
 * operands do not fit the kernel memory: the caller then runs the JS kernel.
 */
export const gemmWasm = (A: PanelSource, B: PanelSource, k: number, dtype: GemmDType, out: TypedArray, outOff: number, ldo: number): boolean => {
  const panels = kernelFor(dtype);
  if (!panels) return false;
  const m = A.rows;
  const n = B.rows;
  if (m === 0 || n === 0) return true;
  if (k === 0) {
    for (let i = 0; i < m; i++) out.fill(0, outOff + i * ldo, outOff + i * ldo + n);
    return true;
  }
  const { mr, nr, kc: KC, mc: MC } = GEMM_BLOCKING[dtype];
  const es = dtype === "float32" ? 4 : 8;
  const mPad = Math.ceil(m / mr) * mr;
  const nPad = Math.ceil(n / nr) * nr;
  arena.reset();
  const aAt = arena.alloc(mPad * k * es);
  const bAt = arena.alloc(nPad * k * es);
  const cAt = arena.alloc(mPad * nPad * es);
  if (aAt < 0 || bAt < 0 || cAt < 0) return false;
  const v = views();
  const mem = dtype === "float32" ? v.f32 : v.f64;
  const c0 = cAt / es;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    A.pack(k0, kc, mr, mem, aAt / es + k0 * mPad);
    B.pack(k0, kc, nr, mem, bAt / es + k0 * nPad);
  }
  mem.fill(0, c0, c0 + mPad * nPad);
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    for (let i0 = 0; i0 < mPad; i0 += MC) {
      const rows = Math.min(MC, mPad - i0);
      panels(aAt + (k0 * mPad + i0 * kc) * es, bAt + k0 * nPad * es, cAt + i0 * nPad * es, rows / mr, nPad / nr, kc, nPad * es);
    }
  }
  for (let i = 0; i < m; i++) out.set(mem.subarray(c0 + i * nPad, c0 + i * nPad + n), outOff + i * ldo);
  return true;
};
