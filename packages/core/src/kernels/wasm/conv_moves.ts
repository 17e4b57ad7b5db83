/**
 * The data movement around a convolution's GEMM, in Wasm: copying the input into its
 * zero-padded planes, packing the shifted patch panels, and copying the GEMM's extended rows
 * out to the output layout. In JS these were most of a small convolution's time (measured on
 * W7's forward: 4 ms of packing and 5 ms of per-row copies around a 2 ms GEMM); here they
 * are `memory.copy` runs and v128 moves over the kernel memory.
 *
 * The functions know element sizes only (4 or 8 bytes), not dtypes: they move bytes.
 */
import { type Local, ModuleBuilder } from "./builder.js";
import { MAX_PAGES, demote, kernelMemory, kernelPath, warnFallback } from "./runtime.js";

/**
 * Builds the module for elements of `es` bytes, exporting
 * - `pad_rows(src, dst, planes, r0, r1, srcPlane, srcRow, dstPlane, dstRow, srcOff, dstOff, bytes)`:
 *   for every plane and row r in [r0, r1), copies `bytes` from
 *   `src + plane * srcPlane + r * srcRow + srcOff` to `dst + plane * dstPlane + r * dstRow + dstOff`;
 * - `pad_planes(src, dst, planes, srcPlane, dstPlane, inH, inW, P0, P1, padH, padW)`: writes
 *   every P0 x P1 padded plane once, row by row: input row r - padH at column padW (negative
 *   pads crop), zeros elsewhere (all sizes in bytes except the row counts and `padH`), in
 *   v128 moves (a call per row of `memory.copy` cost more than the copy for short rows);
 *   needs 16 bytes of slack after the last plane;
 * - `pack_panels(src, dst, panels, bases, kc, offs)`: for every panel p whose base
 *   `b = bases[p]` (i32 elements) is not negative, writes 32 bytes per depth q < kc, read at
 *   element `b + offs[q]` of `src`, to `dst + (p * kc + q) * 32` (a panel of 32 / es rows);
 * - `pack_gather(src, dst, panels, kc, w0, plane0, windowSize, planeBytes, offsets, rows, zero)`:
 *   packs patch panels of 32 / es rows gathered through an offset table: row entry k of `rows`
 *   is (image base in bytes, or -1 for a padding row; its offset-table row); depth step q reads
 *   window position w (from w0, wrapping at windowSize into the next input plane, planeBytes
 *   on) at `src + base + plane + offsets[row + w] * es`, or the zero at `zero` where the
 *   offset is -1 (padding);
 * - `unshift(dst, src, chans, images, runs, dstChan, dstImage, dstRun, srcChan, srcImage, srcRun, bytes)`:
 *   copies `bytes` per (channel, image, run) between the two strided layouts.
 */
export const buildConvMovesModule = (es: 4 | 8, shared: boolean): ModuleBuilder => {
  const shift = es === 4 ? 2 : 3;
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  m.func("pad_rows", { params: Array(12).fill("i32") }, (f) => {
    const [src, dst, planes, r0, r1, srcPlane, srcRow, dstPlane, dstRow, srcOff, dstOff, bytes] = f.params as Local[] as Local[] & { length: 12 };
    const p = f.local("i32");
    const r = f.local("i32");
    f.whileLt(p, planes!, 1, () => {
      f.get(r0!).set(r);
      f.whileLt(r, r1!, 1, () => {
        f.get(dst!).get(p).get(dstPlane!).op("i32.mul").op("i32.add").get(r).get(dstRow!).op("i32.mul").op("i32.add").get(dstOff!).op("i32.add");
        f.get(src!).get(p).get(srcPlane!).op("i32.mul").op("i32.add").get(r).get(srcRow!).op("i32.mul").op("i32.add").get(srcOff!).op("i32.add");
        f.get(bytes!).memoryCopy();
      });
    });
  });
  m.func("pad_planes", { params: Array(11).fill("i32") }, (f) => {
    const [src, dst, planes, srcPlane, dstPlane, inH, inW, P0, P1, padH, padW] = f.params as Local[] as Local[] & { length: 11 };
    const p = f.local("i32");
    const r = f.local("i32");
    const sr = f.local("i32");
    const d = f.local("i32");
    const s = f.local("i32");
    const lo = f.local("i32");
    const from = f.local("i32");
    const count = f.local("i32");
    const t = f.local("i32");
    const u = f.local("i32");
    const end = f.local("i32");
    // Per row: zeros [0, lo), count bytes from the input row at `from`, zeros to the end.
    f.get(padW!).i32(0).get(padW!).i32(0).op("i32.gt_s").op("select").set(lo);
    f.i32(0).get(padW!).op("i32.sub").tee(from).i32(0).get(from).i32(0).op("i32.gt_s").op("select").set(from);
    f.get(inW!).get(from).op("i32.sub").get(P1!).get(lo).op("i32.sub").tee(count).get(inW!).get(from).op("i32.sub").get(count).op("i32.lt_s").op("select").set(count);
    f.get(count).i32(0).get(count).i32(0).op("i32.gt_s").op("select").set(count);
    f.whileLt(p, planes!, 1, () => {
      f.get(dst!).get(p).get(dstPlane!).op("i32.mul").op("i32.add").set(d);
      f.get(src!).get(p).get(srcPlane!).op("i32.mul").op("i32.add").set(s);
      f.i32(0).set(r);
      f.whileLt(r, P0!, 1, () => {
        // Zeros over the row in 16-byte stores (the last may run up to 15 bytes into the
        // next row, which is written after; the caller leaves 16 bytes of slack at the end).
        f.get(d).set(t);
        f.get(d).get(P1!).op("i32.add").set(end);
        f.whileLt(t, end, 16, () => f.get(t).v128(new Uint8Array(16)).store("v128.store", 0, 0));
        f.get(r).get(padH!).op("i32.sub").set(sr);
        f.get(sr).i32(0).op("i32.ge_s").get(sr).get(inH!).op("i32.lt_s").op("i32.and").if(() => {
          // The input row: 16-byte moves, then element moves (never past the row's data).
          f.get(s).get(sr).get(inW!).op("i32.mul").op("i32.add").get(from).op("i32.add").set(u);
          f.get(d).get(lo).op("i32.add").set(t);
          f.get(t).get(count).op("i32.add").set(end);
          f.block((done) => {
            f.loop((again) => {
              f.get(end).get(t).op("i32.sub").i32(16).op("i32.lt_s").brIf(done);
              f.get(t).get(u).load("v128.load", 0, 0).store("v128.store", 0, 0);
              f.get(t).i32(16).op("i32.add").set(t);
              f.get(u).i32(16).op("i32.add").set(u);
              f.br(again);
            });
          });
          f.whileLt(t, end, es, () => {
            f.get(t).get(u).load(es === 4 ? "i32.load" : "i64.load").store(es === 4 ? "i32.store" : "i64.store");
            f.get(u).i32(es).op("i32.add").set(u);
          });
        });
        f.get(d).get(P1!).op("i32.add").set(d);
      });
    });
  });
  m.func("pack_panels", { params: Array(6).fill("i32") }, (f) => {
    const [src, dst, panels, bases, kc, offs] = f.params as Local[] as [Local, Local, Local, Local, Local, Local];
    const p = f.local("i32");
    const q = f.local("i32");
    const b = f.local("i32");
    const d = f.local("i32");
    const s = f.local("i32");
    const o = f.local("i32");
    const oEnd = f.local("i32");
    f.whileLt(p, panels, 1, () => {
      f.get(bases).get(p).i32(2).op("i32.shl").op("i32.add").load("i32.load").tee(b);
      f.i32(0).op("i32.ge_s").if(() => {
        f.get(dst).get(p).get(kc).op("i32.mul").i32(5).op("i32.shl").op("i32.add").set(d);
        f.get(src).get(b).i32(shift).op("i32.shl").op("i32.add").set(s);
        f.get(offs).set(o);
        f.get(offs).get(kc).i32(2).op("i32.shl").op("i32.add").set(oEnd);
        f.whileLt(o, oEnd, 4, () => {
          // q-th depth: 32 bytes starting at element b + offs[q].
          f.get(s).get(o).load("i32.load").i32(shift).op("i32.shl").op("i32.add").set(q);
          f.get(d).get(q).load("v128.load", 0, 0).store("v128.store", 0, 0);
          f.get(d).get(q).load("v128.load", 16, 0).store("v128.store", 16, 0);
          f.get(d).i32(32).op("i32.add").set(d);
        });
      });
    });
  });
  m.func("pack_gather", { params: Array(11).fill("i32") }, (f) => {
    const [src, dst, panels, kc, w0, plane0, windowSize, planeBytes, offsets, rows, zero] = f.params as Local[] as Local[] & { length: 11 };
    const R = 32 / es;
    const p = f.local("i32");
    const q = f.local("i32");
    const r = f.local("i32");
    const w = f.local("i32");
    const plane = f.local("i32");
    const d = f.local("i32");
    const row = f.local("i32");
    const b = f.local("i32");
    const off = f.local("i32");
    f.get(dst!).set(d);
    f.whileLt(p, panels!, 1, () => {
      f.get(w0!).set(w);
      f.get(plane0!).set(plane);
      f.i32(0).set(q);
      f.whileLt(q, kc!, 1, () => {
        f.i32(0).set(r);
        f.whileLt(r, R, 1, () => {
          // Row table entry: (image base in bytes or -1, offset-table row); value or zero.
          f.get(rows!).get(p).i32(R).op("i32.mul").get(r).op("i32.add").i32(3).op("i32.shl").op("i32.add").tee(row).load("i32.load").set(b);
          f.get(offsets!).get(row).load("i32.load", 4).get(w).op("i32.add").i32(2).op("i32.shl").op("i32.add").load("i32.load").set(off);
          f.get(d);
          f.get(src!).get(b).op("i32.add").get(plane).op("i32.add").get(off).i32(shift).op("i32.shl").op("i32.add");
          f.get(zero!);
          f.get(b).get(off).op("i32.or").i32(0).op("i32.ge_s").op("select");
          f.load(es === 4 ? "i32.load" : "i64.load").store(es === 4 ? "i32.store" : "i64.store");
          f.get(d).i32(es).op("i32.add").set(d);
        });
        f.get(w).i32(1).op("i32.add").tee(w).get(windowSize!).op("i32.eq").if(() => {
          f.i32(0).set(w);
          f.get(plane).get(planeBytes!).op("i32.add").set(plane);
        });
      });
    });
  });
  m.func("unshift", { params: Array(12).fill("i32") }, (f) => {
    const [dst, src, chans, images, runs, dstChan, dstImage, dstRun, srcChan, srcImage, srcRun, bytes] = f.params as Local[] as Local[] & { length: 12 };
    const c = f.local("i32");
    const t = f.local("i32");
    const r = f.local("i32");
    const dd = f.local("i32");
    const ss = f.local("i32");
    f.whileLt(c, chans!, 1, () => {
      f.i32(0).set(t);
      f.whileLt(t, images!, 1, () => {
        f.get(dst!).get(c).get(dstChan!).op("i32.mul").op("i32.add").get(t).get(dstImage!).op("i32.mul").op("i32.add").set(dd);
        f.get(src!).get(c).get(srcChan!).op("i32.mul").op("i32.add").get(t).get(srcImage!).op("i32.mul").op("i32.add").set(ss);
        f.i32(0).set(r);
        f.whileLt(r, runs!, 1, () => {
          f.get(dd).get(ss).get(bytes!).memoryCopy();
          f.get(dd).get(dstRun!).op("i32.add").set(dd);
          f.get(ss).get(srcRun!).op("i32.add").set(ss);
        });
      });
    });
  });
  return m;
};

export interface ConvMoves {
  pad_planes(src: number, dst: number, planes: number, srcPlane: number, dstPlane: number, inH: number, inW: number, P0: number, P1: number, padH: number, padW: number): void;
  pad_rows(src: number, dst: number, planes: number, r0: number, r1: number, srcPlane: number, srcRow: number, dstPlane: number, dstRow: number, srcOff: number, dstOff: number, bytes: number): void;
  pack_panels(src: number, dst: number, panels: number, bases: number, kc: number, offs: number): void;
  pack_gather(src: number, dst: number, panels: number, kc: number, w0: number, plane0: number, windowSize: number, planeBytes: number, offsets: number, rows: number, zero: number): void;
  unshift(dst: number, src: number, chans: number, images: number, runs: number, dstChan: number, dstImage: number, dstRun: number, srcChan: number, srcImage: number, srcRun: number, bytes: number): void;
}

const instances = new Map<number, ConvMoves>();

/** The moves for `es`-byte elements, or null on the JS path (stepping down when the engine refuses the module). */
export const convMoves = (es: 4 | 8): ConvMoves | null => {
  const reasons: string[] = [];
  while (kernelPath() !== "js") {
    const cached = instances.get(es);
    if (cached) return cached;
    try {
      const { memory, shared } = kernelMemory();
      const ex = new WebAssembly.Instance(buildConvMovesModule(es, shared).compile(), { env: { memory } }).exports as unknown as ConvMoves;
      instances.set(es, ex);
      if (reasons.length) warnFallback("convolution data movement", reasons);
      return ex;
    } catch (err) {
      reasons.push(demote(err));
    }
  }
  if (reasons.length) warnFallback("convolution data movement", reasons);
  return null;
};

/** Forgets compiled modules (tests). */
export const clearConvMovesCache = (): void => instances.clear();
