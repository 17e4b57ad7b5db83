/**
 * Direct (no-im2col) convolution kernels in Wasm SIMD, for stride-1 convolutions over a
 * zero-padded input. Two shapes of loop, each generated for one geometry (padded row length,
 * register block; the window loop's too for `window`):
 *
 * - **rows** (vectorised across the output width): for a block of OB output channels and XV
 *   vectors of consecutive outputs of one row, `out[o, y, x:x+L] += W[o, i, kh, kw] ·
 *   in[i, y + kh·dh, x + kw·dw : +L]` over the taps (i, kh, kw); the OB·XV accumulators stay
 *   in registers over the whole sum and are stored once, straight into the output layout.
 *   This is the forward pass and the input gradient of ordinary convolutions: per tap XV
 *   input loads and OB weight splats feed OB·XV multiply-adds, the ratio of the 4×8 GEMM
 *   micro-kernel, without the GEMM's packing and copies. The loop runs one tap per
 *   iteration, its input offset read from a table of taps (built in JS: the window,
 *   dilations and input channel stride live there). An unrolled window was twice as slow
 *   (W7 on one thread: 2.9 ms against 1.4 ms): V8's optimizing compiler schedules all of
 *   an iteration's loads first, so 9 taps' operands spilled to the stack and each
 *   accumulator's additions ran as one dependent chain. A row whose width is not a
 *   multiple of L·XV ends with a block shifted left to end at the row end (it recomputes a
 *   few outputs with the same arithmetic, so the overlap is exact).
 * - **window** (vectorised across the window width): `out[o, y, x] = Σ W[o, i, qy, qx] ·
 *   in[i, y + qy, x + qx]` for a window as large as the input and a small output: the
 *   kernel gradient of a convolution, whose "window" is the output cotangent. Each of the
 *   OB·PX accumulators sums L lanes of window positions; lanes are added at the end. A
 *   window width that is not a multiple of L ends with one step whose operands are masked
 *   to zero beyond the width (both operands, so an infinity there cannot make a NaN).
 *
 * Both take a table of work units (one per image and output-channel block, built in JS,
 * which also absorbs groups and strided layouts) and a unit range, so worker threads split
 * the table. Register blocks leave x64's 16 vector registers one spare (V8 keeps a scratch).
 */
import { type Local, ModuleBuilder, type FunctionBuilder } from "./builder.js";
import { MAX_PAGES } from "./runtime.js";

/** What one generated rows module is specialised for (sizes in elements). */
export interface RowsSpec {
  es: 4 | 8;
  fused: boolean;
  /** Padded row length (input row stride). */
  rowLen: number;
  /** Output channels per full block and per remainder block (0: none). */
  ob: number;
  obRem: number;
  /** Vectors of outputs per block (the block is L·xv outputs wide). */
  xv: number;
}

/** What one generated window module is specialised for (sizes in elements). */
export interface WindowSpec {
  es: 4 | 8;
  fused: boolean;
  /** Window width (the cotangent's row length): the vector loop's count and tail mask. */
  winW: number;
  /** Padded input row length. */
  rowLen: number;
  ob: number;
  obRem: number;
  /** Outputs of one row per block (≤ the output width; the last block is shifted left). */
  px: number;
}

/** Shared-memory or not, every module imports the one kernel memory. */
const newModule = (shared: boolean): ModuleBuilder => {
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  return m;
};

const madd = (f: FunctionBuilder, T: "f32x4" | "f64x2", fused: boolean, a: Local, b: Local, acc: Local): void => {
  if (fused) f.get(a).get(b).get(acc).op(`${T}.relaxed_madd`);
  else f.get(a).get(b).op(`${T}.mul`).get(acc).op(`${T}.add`);
  f.set(acc);
};

/** Bytes per work unit in the table: (in, w, out, kind, gate, need, done, unused). */
export const UNIT_BYTES = 32;

/**
 * `run(table, u0, u1, ...shared)`: for units u in [u0, u1), reads (in, w, out, kind) from
 * `table + 32u` and calls `full` (kind 0) or `rem` (kind 1) with (in, w, out, ...shared).
 * `claim(table, counter, u1, ...shared)`: the same for units taken one at a time from the
 * shared i32 at `counter` (an atomic add) until it reaches u1, so threads that start late
 * or run slower take fewer units. `claim_one(...)`: claims and runs at most one unit;
 * returns 1 if it ran one, 0 once none is left (the calling thread interleaves its copies).
 *
 * Each unit first waits until the i32 at `gate` is at least `need` (the calling thread bumps
 * it and notifies as it stages inputs; a unit the calling thread runs itself never waits:
 * a browser's main thread may not), and afterwards adds 1 to the i32 at `done` (so the
 * calling thread can copy out what is finished while the rest is computed).
 */
const emitRun = (m: ModuleBuilder, shared: number, hasRem: boolean): void => {
  const unit = (f: FunctionBuilder, table: Local, u: Local, e: Local, g: Local, rest: Local[]) => {
    const call = (name: string) => {
      f.get(e).load("i32.load", 0).get(e).load("i32.load", 4).get(e).load("i32.load", 8);
      for (const p of rest) f.get(p);
      f.call(name);
    };
    f.get(table).get(u).i32(5).op("i32.shl").op("i32.add").set(e);
    f.block((ready) => {
      f.loop((again) => {
        f.get(e).load("i32.load", 16).load("i32.atomic.load", 0, 2).tee(g).get(e).load("i32.load", 20).op("i32.ge_s").brIf(ready);
        // Sleep, not spin: on a busy machine a spinning worker can hold the core the calling
        // thread needs to stage the input (seen: 8 ms calls instead of 2).
        f.get(e).load("i32.load", 16).get(g).i64(1_000_000n).load("memory.atomic.wait32", 0, 2).op("drop");
        f.br(again);
      });
    });
    if (!hasRem) call("full");
    else f.get(e).load("i32.load", 12).if(() => call("rem"), () => call("full"));
    f.get(e).load("i32.load", 24).i32(1).load("i32.atomic.rmw.add", 0, 2).op("drop");
  };
  m.func("run", { params: Array(3 + shared).fill("i32") }, (f) => {
    const [table, u0, u1, ...rest] = f.params as Local[];
    const u = f.local("i32");
    const e = f.local("i32");
    const g = f.local("i32");
    f.get(u0!).set(u);
    f.whileLt(u, u1!, 1, () => unit(f, table!, u, e, g, rest));
  });
  m.func("claim", { params: Array(3 + shared).fill("i32") }, (f) => {
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
  m.func("claim_one", { params: Array(3 + shared).fill("i32"), results: ["i32"] }, (f) => {
    const [table, counter, u1, ...rest] = f.params as Local[];
    const u = f.local("i32");
    const e = f.local("i32");
    const g = f.local("i32");
    f.get(counter!).i32(1).load("i32.atomic.rmw.add").tee(u).get(u1!).op("i32.lt_s");
    f.if(
      () => {
        unit(f, table!, u, e, g, rest);
        f.i32(1);
      },
      () => f.i32(0),
      "i32",
    );
  });
};

/**
 * The rows module: `full` / `rem(in, w, out, taps, tapsEnd, outChan, outRow, outH, outW)`
 * compute one block of OB (or obRem) output channels of one image: `in` is the padded plane
 * of input channel 0, `w` the block's weights as [tap][o] scalars, `[taps, tapsEnd)` the
 * taps' i32 byte offsets from `in` (the input window of output (0, 0) for each tap, in the
 * weights' order), `out` the first output channel's plane (channels `outChan`, rows
 * `outRow` bytes apart). The output width must be at least L·xv; there is at least one tap.
 */
export const buildRowsModule = (s: RowsSpec, shared: boolean): ModuleBuilder => {
  const m = newModule(shared);
  const L = 16 / s.es;
  const T = s.es === 4 ? "f32x4" : "f64x2";
  const splat = s.es === 4 ? "v128.load32_splat" : "v128.load64_splat";
  const block = (name: string, ob: number) =>
    m.func(name, { params: Array(9).fill("i32"), exported: false }, (f) => {
      const [inB, wB, outB, tab, tabEnd, outChan, outRow, outH, outW] = f.params as Local[] as Local[] & { length: 9 };
      const y = f.local("i32");
      const x = f.local("i32");
      const xs = f.local("i32");
      const xLast = f.local("i32");
      const rowIn = f.local("i32");
      const rowOut = f.local("i32");
      const ip = f.local("i32");
      const wp = f.local("i32");
      const tp = f.local("i32");
      const a = f.local("i32");
      const st = f.local("i32");
      const acc = Array.from({ length: ob }, () => Array.from({ length: s.xv }, () => f.local("v128")));
      const inv = Array.from({ length: s.xv }, () => f.local("v128"));
      const wv = f.local("v128");
      f.get(outW!).i32(L * s.xv).op("i32.sub").set(xLast);
      f.whileLt(y, outH!, 1, () => {
        f.get(inB!).get(y).i32(s.rowLen * s.es).op("i32.mul").op("i32.add").set(rowIn);
        f.get(outB!).get(y).get(outRow!).op("i32.mul").op("i32.add").set(rowOut);
        f.i32(0).set(x);
        f.loop((chunk) => {
          // xs = min(x, outW - L·xv): the last block ends at the row end.
          f.get(x).get(xLast).get(x).get(xLast).op("i32.lt_s").op("select").i32(s.es).op("i32.mul").set(xs);
          for (const row of acc) for (const v of row) f.i32x4(0).set(v);
          f.get(rowIn).get(xs).op("i32.add").set(ip);
          f.get(wB!).set(wp);
          f.get(tab!).set(tp);
          // One tap per iteration (see the module comment): its input offset from the table.
          f.loop((again) => {
            f.get(ip).get(tp).load("i32.load").op("i32.add").set(a);
            for (let v = 0; v < s.xv; v++) f.get(a).load("v128.load", 16 * v, 0).set(inv[v]!);
            for (let o = 0; o < ob; o++) {
              f.get(wp).load(splat, o * s.es).set(wv);
              for (let v = 0; v < s.xv; v++) madd(f, T, s.fused, inv[v]!, wv, acc[o]![v]!);
            }
            f.get(wp).i32(ob * s.es).op("i32.add").set(wp);
            f.get(tp).i32(4).op("i32.add").tee(tp).get(tabEnd!).op("i32.lt_u").brIf(again);
          });
          f.get(rowOut).get(xs).op("i32.add").set(st);
          for (let o = 0; o < ob; o++) {
            if (o > 0) f.get(st).get(outChan!).op("i32.add").set(st);
            for (let v = 0; v < s.xv; v++) f.get(st).get(acc[o]![v]!).store("v128.store", 16 * v, 0);
          }
          f.get(x).i32(L * s.xv).op("i32.add").tee(x).get(outW!).op("i32.lt_s").brIf(chunk);
        });
      });
    });
  block("full", s.ob);
  if (s.obRem > 0) block("rem", s.obRem);
  emitRun(m, 6, s.obRem > 0);
  return m;
};

/**
 * The window module: `full` / `rem(in, w, out, I, inChan, wChan, wO, outO, outRow, outH, outW,
 * winH)` compute `out[o, y, x] = Σ_i Σ_qy Σ_qx w[o, i, qy, qx] · in[i, y + qy, x + qx]` for a
 * block of OB (or obRem) channels o of one image: `in` is the padded plane of channel 0
 * (channels `inChan` bytes apart, rows of `rowLen`), `w` the block's first window plane
 * (planes `wChan` apart per i and `wO` per o, rows of winW elements), `out` the first output
 * (channels `outO`, rows `outRow` bytes apart). Needs 16 bytes of slack after `w`'s last plane.
 */
export const buildWindowModule = (s: WindowSpec, shared: boolean): ModuleBuilder => {
  const m = newModule(shared);
  const L = 16 / s.es;
  const T = s.es === 4 ? "f32x4" : "f64x2";
  const full = Math.floor(s.winW / L);
  const tail = s.winW - full * L;
  const block = (name: string, ob: number) =>
    m.func(name, { params: Array(12).fill("i32"), exported: false }, (f) => {
      const [inB, wB, outB, I, inChan, wChan, wO, outO, outRow, outH, outW, winH] = f.params as Local[] as Local[] & { length: 12 };
      const y = f.local("i32");
      const x = f.local("i32");
      const xs = f.local("i32");
      const xLast = f.local("i32");
      const i = f.local("i32");
      const qy = f.local("i32");
      const q = f.local("i32");
      const lp = f.local("i32");
      const wq = f.local("i32");
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
      const step = (masked: boolean) => {
        for (let p = 0; p < s.px; p++) {
          f.get(lp).get(q).op("i32.add").load("v128.load", p * s.es, 0);
          if (masked) f.get(mask).op("v128.and");
          f.set(lv[p]!);
        }
        for (let o = 0; o < ob; o++) {
          f.get(wps[o]!).get(q).op("i32.add").load("v128.load", 0, 0);
          if (masked) f.get(mask).op("v128.and");
          f.set(gv);
          for (let p = 0; p < s.px; p++) madd(f, T, s.fused, gv, lv[p]!, acc[o]![p]!);
        }
      };
      f.get(outW!).i32(s.px).op("i32.sub").set(xLast);
      f.whileLt(y, outH!, 1, () => {
        f.i32(0).set(x);
        f.loop((chunk) => {
          f.get(x).get(xLast).get(x).get(xLast).op("i32.lt_s").op("select").set(xs);
          for (const row of acc) for (const v of row) f.i32x4(0).set(v);
          f.i32(0).set(i);
          f.whileLt(i, I!, 1, () => {
            // Input row y of channel i from column xs; window plane (o, i).
            f.get(inB!).get(i).get(inChan!).op("i32.mul").op("i32.add").get(y).i32(s.rowLen * s.es).op("i32.mul").op("i32.add").get(xs).i32(s.es).op("i32.mul").op("i32.add").set(lp);
            f.get(wB!).get(i).get(wChan!).op("i32.mul").op("i32.add").set(wq);
            for (let o = 0; o < ob; o++) {
              if (o === 0) f.get(wq).set(wps[0]!);
              else f.get(wps[o - 1]!).get(wO!).op("i32.add").set(wps[o]!);
            }
            f.i32(0).set(qy);
            f.whileLt(qy, winH!, 1, () => {
              f.i32(0).set(q);
              if (full > 0) f.whileLt(q, full * 16, 16, () => step(false));
              if (tail > 0) step(true);
              f.get(lp).i32(s.rowLen * s.es).op("i32.add").set(lp);
              for (const wp of wps) f.get(wp).i32(s.winW * s.es).op("i32.add").set(wp);
            });
          });
          // Lane sums, stored at out + o·outO + y·outRow + (xs + p)·es.
          f.get(outB!).get(y).get(outRow!).op("i32.mul").op("i32.add").get(xs).i32(s.es).op("i32.mul").op("i32.add").set(st);
          for (let o = 0; o < ob; o++) {
            if (o > 0) f.get(st).get(outO!).op("i32.add").set(st);
            for (let p = 0; p < s.px; p++) {
              f.get(st);
              const lane = s.es === 4 ? "f32x4.extract_lane" : "f64x2.extract_lane";
              const add = s.es === 4 ? "f32.add" : "f64.add";
              f.get(acc[o]![p]!).lane(lane, 0);
              for (let l = 1; l < L; l++) f.get(acc[o]![p]!).lane(lane, l).op(add);
              f.store(s.es === 4 ? "f32.store" : "f64.store", p * s.es);
            }
          }
          f.get(x).i32(s.px).op("i32.add").tee(x).get(outW!).op("i32.lt_s").brIf(chunk);
        });
      });
    });
  block("full", s.ob);
  if (s.obRem > 0) block("rem", s.obRem);
  emitRun(m, 9, s.obRem > 0);
  return m;
};
