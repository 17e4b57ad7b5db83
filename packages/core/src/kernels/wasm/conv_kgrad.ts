/**
 * The kernel gradient of a stride-1 convolution as one Wasm SIMD loop: `out[b, o, y, x] =
 * Σ_c Σ_qy Σ_qx w[o, c, qy, qx] · in[b, c, y + qy, x + qx]` where the "window" w is the
 * output cotangent (as large as the input) and the output is the kernel's small window.
 *
 * Vectorised across window positions, as the `window` loop of `conv_direct.ts`, but with
 * the contraction over c (the forward pass's batch) outermost: for one c, a block of OB
 * channels of w (OB planes, a few KiB) and the input planes of c stay in L1 while every
 * (b, y, x) output reads them, and each w plane is read from memory once per call instead
 * of once per (b, y). Each output is then accumulated (`+=`) over c, so a unit (a block of
 * channels and a range of c) adds into its own zeroed partial output; the caller sums the
 * partials of the ranges of c (threads take ranges of the same block).
 *
 * Per step PX input vectors (PX adjacent outputs) and OB window vectors feed OB·PX
 * multiply-adds (the caller picks OB and PX to fit the registers: `conv_kgrad.ts`). A window width that is not a multiple of the vector ends
 * with one step whose operands are masked to zero beyond the width (both operands, so an
 * infinity there cannot make a NaN).
 */
import { type FunctionBuilder, type Local, ModuleBuilder } from "./builder.js";
import { MAX_PAGES } from "./runtime.js";

/** What one generated module is specialised for (sizes in elements). */
export interface KernelGradSpec {
  es: 4 | 8;
  fused: boolean;
  /** Window width (the cotangent's row length): the vector loop's count and tail mask. */
  winW: number;
  /** Padded input row length. */
  rowLen: number;
  /** Output width. */
  outW: number;
  /** Channels of w per full block and per remainder block (0: none). */
  ob: number;
  obRem: number;
  /** Adjacent outputs per block; the row's last `outW % px` outputs take a narrower block. */
  px: number;
}

/** Bytes per unit in the work table: (in, w, out, remainder?, count of c, gate, need, unused). */
export const KGRAD_UNIT_BYTES = 32;

/** Shared arguments after (table, first/counter, end): see {@link buildKernelGradModule}. */
export const KGRAD_SHARED = 10;

const madd = (f: FunctionBuilder, T: "f32x4" | "f64x2", fused: boolean, a: Local, b: Local, acc: Local): void => {
  if (fused) f.get(a).get(b).get(acc).op(`${T}.relaxed_madd`);
  else f.get(a).get(b).op(`${T}.mul`).get(acc).op(`${T}.add`);
  f.set(acc);
};

/**
 * `full` / `rem(in, w, out, C, inC, wC, wO, B, inB, outB, outO, outRow, outH, winH)` add into
 * the partial output of one unit: `in` is the padded input plane of (b 0, c 0) (planes `inC`
 * bytes apart per c and `inB` per b, rows of `rowLen` elements), `w` the window plane of
 * (o 0, c 0) (planes `wC` apart per c and `wO` per o, rows of winW elements, 16 bytes of
 * slack after the last), `out` the output of (b 0, o 0) (`outB` per b, `outO` per o, rows
 * `outRow` bytes apart). `claim(table, counter, end, ...shared)` runs units taken one at a
 * time from the shared i32 at `counter` until it reaches `end`; `run(table, u0, u1,
 * ...shared)` runs units [u0, u1) here. A unit first sleeps until the i32 at its `gate` is at
 * least its `need` (the caller stages inputs meanwhile, and bumps and notifies the gate).
 */
export const buildKernelGradModule = (s: KernelGradSpec, shared: boolean): ModuleBuilder => {
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  const L = 16 / s.es;
  const T = s.es === 4 ? "f32x4" : "f64x2";
  const full = Math.floor(s.winW / L);
  const tail = s.winW - full * L;
  const pxRem = s.outW % s.px;
  const blocksPerRow = Math.floor(s.outW / s.px);
  const lane = s.es === 4 ? "f32x4.extract_lane" : "f64x2.extract_lane";
  const add = s.es === 4 ? "f32.add" : "f64.add";
  const scalarLoad = s.es === 4 ? "f32.load" : "f64.load";
  const scalarStore = s.es === 4 ? "f32.store" : "f64.store";
  const block = (name: string, ob: number) =>
    m.func(name, { params: Array(14).fill("i32"), exported: false }, (f) => {
      const [inB, wB, outB, C, inC, wC, wO, B, inBs, outBs, outO, outRow, outH, winH] = f.params as Local[] as Local[] & { length: 14 };
      const c = f.local("i32");
      const b = f.local("i32");
      const y = f.local("i32");
      const xb = f.local("i32");
      const qy = f.local("i32");
      const q = f.local("i32");
      const inCB = f.local("i32"); // input plane of (b, c)
      const wc = f.local("i32"); // window plane of (o 0, c)
      const lp = f.local("i32");
      const st = f.local("i32");
      const wps = Array.from({ length: ob }, () => f.local("i32"));
      const acc = Array.from({ length: ob }, () => Array.from({ length: s.px }, () => f.local("v128")));
      const lv = Array.from({ length: s.px }, () => f.local("v128"));
      const gv = f.local("v128");
      const mask = f.local("v128");
      if (tail > 0) {
        const bytes = new Uint8Array(16);
        bytes.fill(0xff, 0, tail * s.es);
        f.v128(bytes).set(mask);
      }
      const step = (px: number, masked: boolean) => {
        for (let p = 0; p < px; p++) {
          f.get(lp).get(q).op("i32.add").load("v128.load", p * s.es, 0);
          if (masked) f.get(mask).op("v128.and");
          f.set(lv[p]!);
        }
        for (let o = 0; o < ob; o++) {
          f.get(wps[o]!).get(q).op("i32.add").load("v128.load", 0, 0);
          if (masked) f.get(mask).op("v128.and");
          f.set(gv);
          for (let p = 0; p < px; p++) madd(f, T, s.fused, gv, lv[p]!, acc[o]![p]!);
        }
      };
      /** One block of `px` outputs of row y starting at column `x0` (a local or constant, in elements). */
      const outputs = (px: number, x0: () => void) => {
        for (let o = 0; o < ob; o++) for (let p = 0; p < px; p++) f.i32x4(0).set(acc[o]![p]!);
        // Input row y from column x0 of plane (b, c); window planes (o, c).
        f.get(inCB).get(y).i32(s.rowLen * s.es).op("i32.mul").op("i32.add");
        x0();
        f.i32(s.es).op("i32.mul").op("i32.add").set(lp);
        for (let o = 0; o < ob; o++) {
          if (o === 0) f.get(wc).set(wps[0]!);
          else f.get(wps[o - 1]!).get(wO!).op("i32.add").set(wps[o]!);
        }
        f.i32(0).set(qy);
        f.whileLt(qy, winH!, 1, () => {
          f.i32(0).set(q);
          if (full > 0) f.whileLt(q, full * 16, 16, () => step(px, false));
          if (tail > 0) step(px, true);
          f.get(lp).i32(s.rowLen * s.es).op("i32.add").set(lp);
          for (const wp of wps) f.get(wp).i32(s.winW * s.es).op("i32.add").set(wp);
        });
        // out[b, o, y, x0 + p] += lane sum.
        f.get(outB!).get(b).get(outBs!).op("i32.mul").op("i32.add").get(y).get(outRow!).op("i32.mul").op("i32.add");
        x0();
        f.i32(s.es).op("i32.mul").op("i32.add").set(st);
        for (let o = 0; o < ob; o++) {
          if (o > 0) f.get(st).get(outO!).op("i32.add").set(st);
          for (let p = 0; p < px; p++) {
            f.get(st);
            f.get(st).load(scalarLoad, p * s.es);
            f.get(acc[o]![p]!).lane(lane, 0);
            for (let l = 1; l < L; l++) f.get(acc[o]![p]!).lane(lane, l).op(add);
            f.op(add);
            f.store(scalarStore, p * s.es);
          }
        }
      };
      f.i32(0).set(c);
      f.whileLt(c, C!, 1, () => {
        f.get(wB!).get(c).get(wC!).op("i32.mul").op("i32.add").set(wc);
        f.i32(0).set(b);
        f.whileLt(b, B!, 1, () => {
          f.get(inB!).get(c).get(inC!).op("i32.mul").op("i32.add").get(b).get(inBs!).op("i32.mul").op("i32.add").set(inCB);
          f.i32(0).set(y);
          f.whileLt(y, outH!, 1, () => {
            if (blocksPerRow > 0) {
              f.i32(0).set(xb);
              f.whileLt(xb, blocksPerRow * s.px, s.px, () => outputs(s.px, () => f.get(xb)));
            }
            if (pxRem > 0) outputs(pxRem, () => f.i32(blocksPerRow * s.px));
          });
        });
      });
    });
  block("full", s.ob);
  if (s.obRem > 0) block("rem", s.obRem);
  const unit = (f: FunctionBuilder, table: Local, u: Local, e: Local, g: Local, rest: Local[]) => {
    const call = (name: string) => {
      f.get(e).load("i32.load", 0).get(e).load("i32.load", 4).get(e).load("i32.load", 8).get(e).load("i32.load", 16);
      for (const p of rest) f.get(p);
      f.call(name);
    };
    f.get(table).get(u).i32(Math.log2(KGRAD_UNIT_BYTES)).op("i32.shl").op("i32.add").set(e);
    // Wait (asleep: a spinning worker can hold the core the caller needs to stage) until the
    // i32 at `gate` reaches `need`, i.e. the caller has staged this unit's window planes.
    f.block((ready) => {
      f.loop((again) => {
        f.get(e).load("i32.load", 20).load("i32.atomic.load", 0, 2).tee(g).get(e).load("i32.load", 24).op("i32.ge_s").brIf(ready);
        f.get(e).load("i32.load", 20).get(g).i64(1_000_000n).load("memory.atomic.wait32", 0, 2).op("drop");
        f.br(again);
      });
    });
    if (s.obRem === 0) call("full");
    else f.get(e).load("i32.load", 12).if(() => call("rem"), () => call("full"));
  };
  m.func("run", { params: Array(3 + KGRAD_SHARED).fill("i32") }, (f) => {
    const [table, u0, u1, ...rest] = f.params as Local[];
    const u = f.local("i32");
    const e = f.local("i32");
    const g = f.local("i32");
    f.get(u0!).set(u);
    f.whileLt(u, u1!, 1, () => unit(f, table!, u, e, g, rest));
  });
  m.func("claim", { params: Array(3 + KGRAD_SHARED).fill("i32") }, (f) => {
    const [table, counter, u1, ...rest] = f.params as Local[];
    const u = f.local("i32");
    const e = f.local("i32");
    const g = f.local("i32");
    f.block((done) => {
      f.loop((again) => {
        f.get(counter!).i32(1).load("i32.atomic.rmw.add").tee(u).get(u1!).op("i32.ge_s").brIf(done);
        unit(f, table!, u, e, g, rest);
        f.br(again);
      });
    });
  });
  return m;
};
