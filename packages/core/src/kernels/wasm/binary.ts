/**
 * Binary elementwise arithmetic (add, sub, mul, div, max, min) and comparisons (eq, ne, lt,
 * le, gt, ge: a bool result) with NumPy broadcasting, in Wasm SIMD for float32 (f32x4) and
 * float64 (f64x2) operands.
 *
 * Broadcasting is reduced to a 2-D problem first: axes of size 1 are dropped and adjacent
 * axes along which both operands are contiguous (or both broadcast) are merged, so the
 * common cases are one call: equal shapes and a scalar on either side are [1, n], a bias row
 * added to a matrix is [rows, n] with the bias's row stride 0, a column ([rows, 1]) is
 * [rows, n] with the column's element stride 0. Each function runs that 2-D loop, a vector
 * body and a scalar tail per row; shapes that stay 3-D or more loop over their leading axes
 * in JS, one call per 2-D block.
 *
 * Results are bit-identical to the JS kernels: IEEE add/sub/mul/div of two float32 values
 * rounded once to float32 equals the float64 result rounded to float32 (float64 has more than
 * 2p + 2 bits), and max/min are `a > b || a != a ? a : b` lane-wise exactly as the JS
 * expression (NaN propagates; the sign of equal zeros follows the second operand), not the
 * `f32x4.max` instruction (which orders -0 < +0).
 *
 * Operands are copied into the kernel memory and the result out of it (arrays live in JS
 * typed arrays); these copies, not the arithmetic, are most of the cost, so the kernels run
 * on the calling thread only (splitting a memory-bound loop across threads measured no gain).
 */
import type { TypedArray } from "../../dtype.js";
import type { Shape } from "../../shape.js";
import { type FunctionBuilder, type Local, ModuleBuilder, type PlainOp } from "./builder.js";
import { MAX_PAGES, arena, copyElements, demote, kernelMemory, kernelPath, views, warnFallback } from "./runtime.js";

/** The comparisons with a SIMD kernel: float operands, a bool (one byte, 0 or 1) result. */
export type SimdCompareOp = "eq" | "ne" | "lt" | "le" | "gt" | "ge";
export const SIMD_COMPARE_OPS: readonly SimdCompareOp[] = ["eq", "ne", "lt", "le", "gt", "ge"];
/** The binary ops with a SIMD kernel. */
export type SimdBinaryOp = "add" | "sub" | "mul" | "div" | "max" | "min" | SimdCompareOp;
export const SIMD_BINARY_OPS: readonly SimdBinaryOp[] = ["add", "sub", "mul", "div", "max", "min", ...SIMD_COMPARE_OPS];
const isCompare = (op: SimdBinaryOp): op is SimdCompareOp => (SIMD_COMPARE_OPS as readonly string[]).includes(op);

/** The float dtypes the Wasm elementwise kernels serve. */
export type WasmFloat = "float32" | "float64";

/** Below this many output elements the JS loop wins (measured: the call and copies cost more). */
export const WASM_BINARY_MIN = 1024;

/** Whether each operand steps through its row (v) or repeats one element (s). */
type Mode = "vv" | "sv" | "vs";
const MODES: readonly Mode[] = ["vv", "sv", "vs"];

const T = { float32: { v: "f32x4", s: "f32", es: 4, splat: "v128.load32_splat" }, float64: { v: "f64x2", s: "f64", es: 8, splat: "v128.load64_splat" } } as const;

/**
 * Emits `op(x, y)` for the locals x, y of the vector (`"v"`) or scalar (`"s"`) type of dtype
 * `d`, leaving the result on the stack.
 */
const emitOp = (f: FunctionBuilder, op: Exclude<SimdBinaryOp, SimdCompareOp>, d: WasmFloat, kind: "v" | "s", x: Local, y: Local): void => {
  const t = T[d][kind];
  if (op === "max" || op === "min") {
    const cmp = op === "max" ? "gt" : "lt";
    if (kind === "v") {
      // bitselect(x, y, x cmp y | x != x)
      f.get(x).get(y).get(x).get(y).op(`${t}.${cmp}` as PlainOp).get(x).get(x).op(`${t}.ne` as PlainOp).op("v128.or").op("v128.bitselect");
    } else {
      f.get(x).get(y).get(x).get(y).op(`${t}.${cmp}` as PlainOp).get(x).get(x).op(`${t}.ne` as PlainOp).op("i32.or").op("select");
    }
    return;
  }
  f.get(x).get(y).op(`${t}.${op}` as PlainOp);
};

/**
 * Builds the module for dtype `d`: one export `${op}_${mode}(a, b, out, rows, cols, aRow, bRow)`
 * per op and mode, computing out[r, c] = op(A[r, c], B[r, c]) for a contiguous out, where
 * row r of A starts at byte `a + r * aRow` and steps by one element per column (mode v) or
 * stays on that element (mode s); B likewise.
 */
export const buildBinaryModule = (d: WasmFloat, shared: boolean, ops: readonly SimdBinaryOp[] = SIMD_BINARY_OPS): ModuleBuilder => {
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  for (const op of ops) for (const mode of MODES) buildFunc(m, op, d, mode);
  return m;
};

/**
 * `${op}_${mode}`: a vector body over each row, then a scalar tail. A comparison writes one
 * byte an element (0 or 1, a bool array), so its output advances by the lane count per
 * vector: the lane masks the comparison gives (all ones or all zeros per lane) are gathered
 * into consecutive bytes by a shuffle and masked to 1. IEEE comparisons are JavaScript's:
 * NaN is unequal to everything (ne is true), ordered comparisons with NaN are false, -0
 * equals +0. A JS comparison loop costs 2-3 ns an element here, most of it in mispredicted
 * branches (a ReLU's derivative compares values that are equal about half the time, at
 * random); the vector compare has no branch.
 */
const buildFunc = (m: ModuleBuilder, op: SimdBinaryOp, d: WasmFloat, mode: Mode): void => {
  const { v, s, es, splat } = T[d];
  const L = 16 / es;
  // Bytes per output element.
  const oes = isCompare(op) ? 1 : es;
  m.func(`${op}_${mode}`, { params: ["i32", "i32", "i32", "i32", "i32", "i32", "i32"] }, (f) => {
    const [a, b, out, rows, cols, aRow, bRow] = f.params as Local[] as [Local, Local, Local, Local, Local, Local, Local];
    const r = f.local("i32");
    const pa = f.local("i32");
    const pb = f.local("i32");
    const po = f.local("i32");
    const vecEnd = f.local("i32");
    const rowEnd = f.local("i32");
    const va = f.local("v128");
    const vb = f.local("v128");
    const mask = f.local("v128");
    const sa = f.local(s);
    const sb = f.local(s);
    const aStep = mode === "sv" ? 0 : 16;
    const bStep = mode === "vs" ? 0 : 16;
    // Byte 0 of each lane's mask, in order, into the low bytes.
    const gather = Array.from({ length: 16 }, (_, i) => (i < L ? i * es : 0));
    f.whileLt(r, rows, 1, () => {
      f.get(a).get(r).get(aRow).op("i32.mul").op("i32.add").set(pa);
      f.get(b).get(r).get(bRow).op("i32.mul").op("i32.add").set(pb);
      f.get(out).get(r).get(cols).op("i32.mul").i32(oes).op("i32.mul").op("i32.add").tee(po);
      f.get(cols).i32(oes).op("i32.mul").op("i32.add").set(rowEnd);
      // vecEnd = rowEnd - (cols % lanes) * oes
      f.get(rowEnd).get(cols).i32(L - 1).op("i32.and").i32(oes).op("i32.mul").op("i32.sub").set(vecEnd);
      if (mode === "sv") f.get(pa).load(splat).set(va);
      if (mode === "vs") f.get(pb).load(splat).set(vb);
      f.whileLt(po, vecEnd, L * oes, () => {
        if (aStep) f.get(pa).load("v128.load").set(va);
        if (bStep) f.get(pb).load("v128.load").set(vb);
        if (isCompare(op)) {
          f.get(va).get(vb).op(`${v}.${op}` as PlainOp).set(mask);
          f.get(po).get(mask).get(mask).shuffle(gather).lane("i32x4.extract_lane", 0).i32(L === 4 ? 0x01010101 : 0x0101).op("i32.and");
          f.store(L === 4 ? "i32.store" : "i32.store16", 0, 0);
        } else {
          f.get(po);
          emitOp(f, op, d, "v", va, vb);
          f.store("v128.store");
        }
        if (aStep) f.get(pa).i32(16).op("i32.add").set(pa);
        if (bStep) f.get(pb).i32(16).op("i32.add").set(pb);
      });
      f.whileLt(po, rowEnd, oes, () => {
        f.get(pa).load(`${s}.load`).set(sa);
        f.get(pb).load(`${s}.load`).set(sb);
        f.get(po);
        if (isCompare(op)) f.get(sa).get(sb).op(`${s}.${op}` as PlainOp).store("i32.store8", 0, 0);
        else {
          emitOp(f, op, d, "s", sa, sb);
          f.store(`${s}.store`);
        }
        if (aStep) f.get(pa).i32(es).op("i32.add").set(pa);
        if (bStep) f.get(pb).i32(es).op("i32.add").set(pb);
      });
    });
  });
};

type BinaryFn = (a: number, b: number, out: number, rows: number, cols: number, aRow: number, bRow: number) => void;
const instances = new Map<string, Record<string, BinaryFn>>();

/**
 * The compiled module of `op` for `d` on the current path, or null on the JS path (stepping
 * down on failure). One small module per op: browsers refuse to compile modules over 4 KB
 * synchronously on the main thread.
 */
const exportsFor = (d: WasmFloat, op: SimdBinaryOp): Record<string, BinaryFn> | null => {
  const reasons: string[] = [];
  while (kernelPath() !== "js") {
    const key = `binary/${d}/${op}`;
    const cached = instances.get(key);
    if (cached) return cached;
    try {
      const { memory, shared } = kernelMemory();
      const ex = new WebAssembly.Instance(buildBinaryModule(d, shared, [op]).compile(), { env: { memory } }).exports as unknown as Record<string, BinaryFn>;
      instances.set(key, ex);
      if (reasons.length) warnFallback("binary elementwise", reasons);
      return ex;
    } catch (err) {
      reasons.push(demote(err));
    }
  }
  if (reasons.length) warnFallback("binary elementwise", reasons);
  return null;
};

/** Forgets compiled modules (tests). */
export const clearBinaryCache = (): void => instances.clear();

/** An output of `dims` where operand k's element at index i is at offset sum(i_j * strides[k][j]). */
export interface Collapsed {
  dims: number[];
  strides: number[][];
}

/**
 * `outShape` with each operand's broadcast strides (0 along broadcast axes), size-1 axes
 * dropped and adjacent axes merged where every operand steps through both as one.
 */
export const collapseBroadcast = (shapes: readonly Shape[], outShape: Shape): Collapsed => {
  const n = outShape.length;
  const full = shapes.map((shape) => {
    const st = new Array<number>(n).fill(0);
    let s = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      const j = n - shape.length + i;
      st[j] = shape[i] === 1 ? 0 : s;
      s *= shape[i]!;
    }
    return st;
  });
  const dims: number[] = [];
  const strides: number[][] = shapes.map(() => []);
  for (let j = 0; j < n; j++) {
    const size = outShape[j]!;
    if (size === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && full.every((st, k) => strides[k]![last] === st[j]! * size)) {
      dims[last]! *= size;
      full.forEach((st, k) => (strides[k]![last] = st[j]!));
    } else {
      dims.push(size);
      full.forEach((st, k) => strides[k]!.push(st[j]!));
    }
  }
  return { dims, strides };
};

/**
 * `out = op(a, b)` broadcast to `outShape`, in Wasm. Returns false, having written nothing,
 * when the Wasm path is off, the module is unavailable, the shape does not reduce to few
 * enough 2-D blocks, or the operands do not fit the kernel memory.
 */
export const binaryWasm = (op: SimdBinaryOp, d: WasmFloat, a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape): boolean => {
  if (kernelPath() === "js") return false;
  const size = out.length;
  if (size === 0) return true;
  const { dims, strides } = collapseBroadcast([aShape, bShape], outShape);
  const nd = dims.length;
  const cols = nd === 0 ? 1 : dims[nd - 1]!;
  const rows = nd < 2 ? 1 : dims[nd - 2]!;
  const blocks = size / (rows * cols);
  // Many tiny blocks: the per-call cost would exceed the JS loop's.
  if (blocks > 1 && size / blocks < 256) return false;
  const [sa, sb] = strides as [number[], number[]];
  const ca = nd === 0 ? 0 : sa[nd - 1]!;
  const cb = nd === 0 ? 0 : sb[nd - 1]!;
  const mode: Mode = ca === 0 ? "sv" : cb === 0 ? "vs" : "vv";
  if (ca === 0 && cb === 0 && cols > 1) return false;
  const ex = exportsFor(d, op);
  if (!ex) return false;
  const es = T[d].es;
  // A comparison's result is one byte an element.
  const oes = isCompare(op) ? 1 : es;
  arena.reset();
  const aAt = arena.alloc(a.length * es);
  const bAt = arena.alloc(b.length * es);
  const oAt = arena.alloc(size * oes);
  if (aAt < 0 || bAt < 0 || oAt < 0) return false;
  const v = views();
  const mem = d === "float32" ? v.f32 : v.f64;
  copyElements(mem, aAt / es, a as typeof mem, 0, a.length);
  copyElements(mem, bAt / es, b as typeof mem, 0, b.length);
  const fn = ex[`${op}_${mode}`]!;
  const aRow = nd < 2 ? 0 : sa[nd - 2]! * es;
  const bRow = nd < 2 ? 0 : sb[nd - 2]! * es;
  if (blocks === 1) fn(aAt, bAt, oAt, rows, cols, aRow, bRow);
  else {
    // Odometer over the leading axes, one 2-D block per step.
    const lead = nd - 2;
    const idx = new Array<number>(lead).fill(0);
    let oa = 0;
    let ob = 0;
    for (let blk = 0; blk < blocks; blk++) {
      fn(aAt + oa * es, bAt + ob * es, oAt + blk * rows * cols * oes, rows, cols, aRow, bRow);
      for (let ax = lead - 1; ax >= 0; ax--) {
        idx[ax]!++;
        oa += sa[ax]!;
        ob += sb[ax]!;
        if (idx[ax]! < dims[ax]!) break;
        oa -= sa[ax]! * dims[ax]!;
        ob -= sb[ax]! * dims[ax]!;
        idx[ax] = 0;
      }
    }
  }
  if (oes === 1) copyElements(out as Uint8Array, 0, v.u8, oAt, size);
  else copyElements(out as typeof mem, 0, mem, oAt / es, size);
  return true;
};

/**
 * For an op with a SIMD kernel and a float operand dtype, a kernel that runs it in Wasm on outputs
 * of at least {@link WASM_BINARY_MIN} elements and `js` otherwise; null for other ops.
 */
export const withSimdBinary = <K extends (a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape, out: TypedArray, outShape: Shape) => void>(
  name: string,
  dtype: string,
  js: K,
): K | null => {
  if (!(SIMD_BINARY_OPS as readonly string[]).includes(name) || (dtype !== "float32" && dtype !== "float64")) return null;
  const op = name as SimdBinaryOp;
  return ((a, aShape, b, bShape, out, outShape) => {
    if (out.length < WASM_BINARY_MIN || !binaryWasm(op, dtype, a, aShape, b, bShape, out, outShape)) js(a, aShape, b, bShape, out, outShape);
  }) as K;
};
