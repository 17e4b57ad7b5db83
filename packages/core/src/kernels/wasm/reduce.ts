/**
 * Sum, max and min reductions in Wasm SIMD for float32 and float64.
 *
 * A reduction over a set of axes is first reduced to `[outer, n, inner]` (size-1 axes
 * dropped, adjacent reduced axes merged, adjacent kept axes merged): every reduction whose
 * reduced axes form one block after that (all axes, trailing axes as in a softmax, leading
 * axes as in a bias gradient, one middle axis) is one call; other patterns take the JS
 * kernel. With inner = 1 each output is a horizontal reduction of a contiguous run; with
 * inner > 1 rows of `inner` elements are combined vertically, lane-wise.
 *
 * Accuracy: sums accumulate in float64 (float32 inputs are promoted two at a time), as the JS
 * kernel does, and round once on store; the order differs (two float64 lanes), so results
 * may differ from the JS kernel's in the last float64 bits, which the float32 rounding
 * nearly always hides. max/min propagate NaN and are otherwise exact; when the extreme is a
 * zero present with both signs, which sign is returned may differ from the JS kernel's.
 */
import type { TypedArray } from "../../dtype.js";
import { type FunctionBuilder, type Local, ModuleBuilder, type PlainOp } from "./builder.js";
import { MAX_PAGES, arena, copyElements, demote, kernelMemory, kernelPath, views, warnFallback } from "./runtime.js";
import type { WasmFloat } from "./binary.js";

export type SimdReduceOp = "sum" | "max" | "min";
const OPS: readonly SimdReduceOp[] = ["sum", "max", "min"];

/** Below this many input elements the JS loop wins. */
export const WASM_REDUCE_MIN = 2048;

const T = { float32: { v: "f32x4", s: "f32", es: 4 }, float64: { v: "f64x2", s: "f64", es: 8 } } as const;

/** Emits `better(v, acc) ? v : acc` for v128 locals (`better` = v > acc or v is NaN, for max). */
const emitChooseV = (f: FunctionBuilder, t: "f32x4" | "f64x2", op: "max" | "min", v: Local, acc: Local): void => {
  f.get(v).get(acc).get(v).get(acc).op(`${t}.${op === "max" ? "gt" : "lt"}` as PlainOp).get(v).get(v).op(`${t}.ne` as PlainOp).op("v128.or").op("v128.bitselect");
};

/** The same for scalar locals. */
const emitChooseS = (f: FunctionBuilder, t: "f32" | "f64", op: "max" | "min", v: Local, acc: Local): void => {
  f.get(v).get(acc).get(v).get(acc).op(`${t}.${op === "max" ? "gt" : "lt"}` as PlainOp).get(v).get(v).op(`${t}.ne` as PlainOp).op("i32.or").op("select");
};

/**
 * Builds the module for dtype `d`, exporting per op
 * - `${op}_rows(src, out, rows, n)`: out[r] = op over src[r * n .. r * n + n) (n >= 1);
 * - `${op}_cols(src, out, outer, n, inner, scratch)`: out[o, j] = op over r of src[o, r, j]
 *   (n >= 1); `scratch` is inner float64s, the float32 sum's accumulator.
 */
export const buildReduceModule = (d: WasmFloat, shared: boolean): ModuleBuilder => {
  const { v: V, s: S, es } = T[d];
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  for (const op of OPS) {
    m.func(`${op}_rows`, { params: ["i32", "i32", "i32", "i32"] }, (f) => {
      const [src, out, rows, n] = f.params as Local[] as [Local, Local, Local, Local];
      const r = f.local("i32");
      const p = f.local("i32");
      const vecEnd = f.local("i32");
      const end = f.local("i32");
      const acc = f.local("v128");
      const x = f.local("v128");
      const sacc = f.local(op === "sum" ? "f64" : S);
      const sx = f.local(op === "sum" ? "f64" : S);
      f.whileLt(r, rows, 1, () => {
        f.get(src).get(r).get(n).op("i32.mul").i32(es).op("i32.mul").op("i32.add").tee(p);
        f.get(n).i32(es).op("i32.mul").op("i32.add").set(end);
        if (op === "sum") {
          // Two elements per step into a float64x2 accumulator.
          f.get(end).get(n).i32(1).op("i32.and").i32(es).op("i32.mul").op("i32.sub").set(vecEnd);
          f.f64x2(0).set(acc);
          f.whileLt(p, vecEnd, 2 * es, () => {
            if (d === "float32") f.get(p).load("v128.load64_zero").op("f64x2.promote_low_f32x4");
            else f.get(p).load("v128.load");
            f.get(acc).op("f64x2.add").set(acc);
          });
          f.get(acc).lane("f64x2.extract_lane", 0).get(acc).lane("f64x2.extract_lane", 1).op("f64.add").set(sacc);
          f.whileLt(p, end, es, () => {
            f.get(sacc).get(p).load(`${S}.load`);
            if (d === "float32") f.op("f64.promote_f32");
            f.op("f64.add").set(sacc);
          });
          f.get(out).get(r).i32(es).op("i32.mul").op("i32.add").get(sacc);
          if (d === "float32") f.op("f32.demote_f64");
          f.store(`${S}.store`);
          return;
        }
        const lanes = 16 / es;
        f.get(end).get(n).i32(lanes - 1).op("i32.and").i32(es).op("i32.mul").op("i32.sub").set(vecEnd);
        if (d === "float32") f.f32x4(op === "max" ? -Infinity : Infinity);
        else f.f64x2(op === "max" ? -Infinity : Infinity);
        f.set(acc);
        f.whileLt(p, vecEnd, 16, () => {
          f.get(p).load("v128.load").set(x);
          emitChooseV(f, V, op, x, acc);
          f.set(acc);
        });
        // Lanes in order, then the tail, with the scalar rule (NaN sticks once chosen).
        f.get(acc).lane(`${V}.extract_lane` as "f32x4.extract_lane", 0).set(sacc);
        for (let l = 1; l < lanes; l++) {
          f.get(acc).lane(`${V}.extract_lane` as "f32x4.extract_lane", l).set(sx);
          emitChooseS(f, S, op, sx, sacc);
          f.set(sacc);
        }
        f.whileLt(p, end, es, () => {
          f.get(p).load(`${S}.load`).set(sx);
          emitChooseS(f, S, op, sx, sacc);
          f.set(sacc);
        });
        f.get(out).get(r).i32(es).op("i32.mul").op("i32.add").get(sacc).store(`${S}.store`);
      });
    });

    m.func(`${op}_cols`, { params: ["i32", "i32", "i32", "i32", "i32", "i32"] }, (f) => {
      const [src, out, outer, n, inner, scratch] = f.params as Local[] as [Local, Local, Local, Local, Local, Local];
      const o = f.local("i32");
      const r = f.local("i32");
      const p = f.local("i32");
      const q = f.local("i32");
      const qEnd = f.local("i32");
      const qVec = f.local("i32");
      const x = f.local("v128");
      const acc = f.local("v128");
      const sx = f.local(S);
      const sacc = f.local(S);
      // The accumulator row: float64 scratch for float32 sums, else the output row itself.
      const wide = op === "sum" && d === "float32";
      const accEs = wide ? 8 : es;
      const step = wide ? 8 : 16; // source bytes per vector step
      const accBase = f.local("i32");
      f.whileLt(o, outer, 1, () => {
        f.get(src).get(o).get(n).op("i32.mul").get(inner).op("i32.mul").i32(es).op("i32.mul").op("i32.add").set(p);
        if (wide) f.get(scratch).set(accBase);
        else f.get(out).get(o).get(inner).op("i32.mul").i32(es).op("i32.mul").op("i32.add").set(accBase);
        f.i32(0).set(r);
        f.whileLt(r, n, 1, () => {
          // q walks the accumulator row; p walks the source row.
          f.get(accBase).set(q);
          f.get(accBase).get(inner).i32(accEs).op("i32.mul").op("i32.add").set(qEnd);
          const perVec = wide ? 2 : 16 / es;
          f.get(qEnd).get(inner).i32(perVec - 1).op("i32.and").i32(accEs).op("i32.mul").op("i32.sub").set(qVec);
          const loadVec = () => {
            if (wide) f.get(p).load("v128.load64_zero").op("f64x2.promote_low_f32x4");
            else f.get(p).load("v128.load");
          };
          f.get(r).op("i32.eqz").if(
            () => {
              // First row: the accumulator starts as the row itself.
              f.whileLt(q, qVec, 16, () => {
                f.get(q);
                loadVec();
                f.store("v128.store");
                f.get(p).i32(step).op("i32.add").set(p);
              });
              f.whileLt(q, qEnd, accEs, () => {
                f.get(q).get(p).load(`${S}.load`);
                if (wide) f.op("f64.promote_f32");
                f.store(wide ? "f64.store" : `${S}.store`);
                f.get(p).i32(es).op("i32.add").set(p);
              });
            },
            () => {
              f.whileLt(q, qVec, 16, () => {
                loadVec();
                f.set(x);
                f.get(q).load("v128.load").set(acc);
                f.get(q);
                if (op === "sum") f.get(acc).get(x).op(wide ? "f64x2.add" : (`${V}.add` as PlainOp));
                else emitChooseV(f, V, op, x, acc);
                f.store("v128.store");
                f.get(p).i32(step).op("i32.add").set(p);
              });
              if (wide) {
                f.whileLt(q, qEnd, 8, () => {
                  f.get(q).get(q).load("f64.load").get(p).load("f32.load").op("f64.promote_f32").op("f64.add").store("f64.store");
                  f.get(p).i32(4).op("i32.add").set(p);
                });
              } else {
                f.whileLt(q, qEnd, es, () => {
                  f.get(p).load(`${S}.load`).set(sx);
                  f.get(q).load(`${S}.load`).set(sacc);
                  f.get(q);
                  if (op === "sum") f.get(sacc).get(sx).op(`${S}.add` as PlainOp);
                  else emitChooseS(f, S, op, sx, sacc);
                  f.store(`${S}.store`);
                  f.get(p).i32(es).op("i32.add").set(p);
                });
              }
            },
          );
        });
        if (wide) {
          // Round the float64 row into the output row.
          f.get(scratch).set(q);
          f.get(out).get(o).get(inner).op("i32.mul").i32(4).op("i32.mul").op("i32.add").set(p);
          f.get(scratch).get(inner).i32(8).op("i32.mul").op("i32.add").set(qEnd);
          f.whileLt(q, qEnd, 8, () => {
            f.get(p).get(q).load("f64.load").op("f32.demote_f64").store("f32.store");
            f.get(p).i32(4).op("i32.add").set(p);
          });
        }
      });
    });
  }
  return m;
};

type RowsFn = (src: number, out: number, rows: number, n: number) => void;
type ColsFn = (src: number, out: number, outer: number, n: number, inner: number, scratch: number) => void;
const instances = new Map<string, Record<string, RowsFn & ColsFn>>();

const exportsFor = (d: WasmFloat): Record<string, RowsFn & ColsFn> | null => {
  const reasons: string[] = [];
  while (kernelPath() !== "js") {
    const key = `reduce/${d}`;
    const cached = instances.get(key);
    if (cached) return cached;
    try {
      const { memory, shared } = kernelMemory();
      const ex = new WebAssembly.Instance(buildReduceModule(d, shared).compile(), { env: { memory } }).exports as unknown as Record<string, RowsFn & ColsFn>;
      instances.set(key, ex);
      if (reasons.length) warnFallback("reduction", reasons);
      return ex;
    } catch (err) {
      reasons.push(demote(err));
    }
  }
  if (reasons.length) warnFallback("reduction", reasons);
  return null;
};

/** Forgets compiled modules (tests). */
export const clearReduceCache = (): void => instances.clear();

/**
 * `[outer, n, inner]` for a reduction of `shape` over `axes`, or null when the reduced axes
 * do not form one block once size-1 axes are dropped.
 */
export const reductionBlock = (shape: readonly number[], axes: readonly number[]): [number, number, number] | null => {
  const runs: [boolean, number][] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const red = axes.includes(i);
    const last = runs[runs.length - 1];
    if (last && last[0] === red) last[1] *= shape[i]!;
    else runs.push([red, shape[i]!]);
  }
  const reduced = runs.filter((r) => r[0]);
  if (reduced.length > 1) return null;
  if (reduced.length === 0) return null;
  const at = runs.findIndex((r) => r[0]);
  const outer = at > 0 ? runs[0]![1] : 1;
  const inner = at < runs.length - 1 ? runs[runs.length - 1]![1] : 1;
  return [outer, runs[at]![1], inner];
};

/**
 * Reduces `src` (of `shape`) over `axes` with `op` into `out`, in Wasm. Returns false, having
 * written nothing, when the Wasm path is off, the axes do not form one block, or the data do
 * not fit the kernel memory.
 */
export const reduceWasm = (op: SimdReduceOp, d: WasmFloat, src: TypedArray, shape: readonly number[], axes: readonly number[], out: TypedArray): boolean => {
  if (kernelPath() === "js" || src.length === 0) return false;
  const block = reductionBlock(shape, axes);
  if (!block) return false;
  const [outer, n, inner] = block;
  const ex = exportsFor(d);
  if (!ex) return false;
  const es = T[d].es;
  arena.reset();
  const sAt = arena.alloc(src.length * es);
  const oAt = arena.alloc(outer * inner * es);
  const scratch = arena.alloc(inner * 8);
  if (sAt < 0 || oAt < 0 || scratch < 0) return false;
  const v = views();
  const mem = d === "float32" ? v.f32 : v.f64;
  copyElements(mem, sAt / es, src as typeof mem, 0, src.length);
  if (inner === 1) ex[`${op}_rows`]!(sAt, oAt, outer, n, 0, 0);
  else ex[`${op}_cols`]!(sAt, oAt, outer, n, inner, scratch);
  copyElements(out as typeof mem, 0, mem, oAt / es, outer * inner);
  return true;
};
