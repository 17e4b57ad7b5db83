/**
 * float32 elementwise math in Wasm SIMD (f32x4): exp, tanh, logistic (sigmoid), log.
 *
 * Each function is a straight-line f32x4 body emitted by a small generator, so the same code
 * serves the standalone kernels here and can be reused by fused kernels. Accuracy (tested
 * against float64 references on random and edge inputs, see kernel_math.test.ts):
 * - exp: Cody-Waite reduction x = n ln2 + r (|r| <= ln2/2), degree-7 Taylor polynomial,
 *   scaling by 2^n in two steps (so subnormal results and overflow to inf are right):
 *   <= 2 ulp.
 * - logistic: e / (1 + e), e = exp(-|x|), numerator 1 for x >= 0: <= 3 ulp.
 * - tanh: e / (e + 2), e = expm1(2|x|) (reduced as exp, Taylor polynomial of expm1 r to r^7),
 *   with x's sign: <= 4 ulp.
 * - log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh((m - 1) / (m + 1)) by its
 *   odd series to s^9, plus e ln2 (two parts): <= 2 ulp; log(0) = -inf, log(x < 0) = NaN,
 *   log(inf) = inf, subnormal inputs rescaled by 2^23 first.
 * - sin, cos: x = n pi/2 + r in float64 (pi/2 split in two parts, the first exact in 33
 *   bits, as fdlibm's __ieee754_rem_pio2 does, so n pi/2_hi is exact for |n| < 2^20), Taylor
 *   polynomials of sin r (to r^11) and cos r (to r^12) in float64 on |r| <= pi/4, chosen
 *   and signed by n mod 4, rounded once to float32: <= 1 ulp for |x| <= TRIG_LIMIT.
 * NaN in gives NaN out for all. Constants are the Taylor coefficients and Cody-Waite's
 * split of ln2 (Cody & Waite, "Software Manual for the Elementary Functions", 1980).
 *
 * The kernels run only where they measure faster than the JS loops (Math.exp etc. cost
 * 5-20 ns per element; these about 1): float32 arrays of at least {@link WASM_UNARY_MIN}
 * elements. float64 stays on the JS path (Math.* is correctly rounded enough there).
 */
import type { TypedArray } from "../../dtype.js";
import { type FunctionBuilder, type Local, ModuleBuilder } from "./builder.js";
import { parallelFor, shareModule } from "./threads.js";
import { MAX_PAGES, arena, copyElements, demote, kernelMemory, kernelPath, views, warnFallback } from "./runtime.js";

/** The ops with a SIMD kernel. */
export type SimdUnaryOp = "exp" | "tanh" | "logistic" | "log" | "sin" | "cos";
export const SIMD_UNARY_OPS: readonly SimdUnaryOp[] = ["exp", "tanh", "logistic", "log", "sin", "cos"];

/**
 * sin and cos reduce their argument in float64 with a two-part pi/2, which is accurate for
 * |x| up to {@link TRIG_LIMIT}; larger (or infinite) inputs take the JS path (`Math.sin`),
 * which the kernels signal (eager: a scan of the input first; fused: a flag).
 */
export const TRIG_LIMIT = 262144;

/** How many scratch v128 locals {@link emitUnaryF32} needs (`t`). */
export const MATH_SCRATCH = 8;

/** Below this many elements the JS loop wins (copying in and out costs more than it saves). */
export const WASM_UNARY_MIN = 512;

const LOG2E = 1.4426950408889634;
const LN2_HI = 0.693359375; // exactly representable, 9 bits
const LN2_LO = -2.12194440e-4;

/**
 * Emits code computing `exp(v)` lane-wise for the v128 in local `v`, leaving the result on
 * the stack. `t` are scratch v128 locals (at least 3).
 */
export const emitExpF32 = (f: FunctionBuilder, v: Local, t: Local[]): void => {
  const [n, r, p] = t as [Local, Local, Local];
  // Clamp so n stays in i32 range; beyond these, the result is inf or 0 anyway. NaN stays NaN.
  f.get(v).f32x4(100).op("f32x4.min").f32x4(-110).op("f32x4.max").set(v);
  // n = nearest(x log2 e)
  f.get(v).f32x4(LOG2E).op("f32x4.mul").op("f32x4.nearest").set(n);
  // r = (x - n ln2_hi) - n ln2_lo
  f.get(v).get(n).f32x4(LN2_HI).op("f32x4.mul").op("f32x4.sub").get(n).f32x4(LN2_LO).op("f32x4.mul").op("f32x4.sub").set(r);
  // p = 1 + r + r^2/2 + ... + r^7/7! by Horner.
  const coef = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040];
  f.f32x4(coef[7]!);
  for (let i = 6; i >= 0; i--) f.get(r).op("f32x4.mul").f32x4(coef[i]!).op("f32x4.add");
  f.set(p);
  // 2^n as 2^(n>>1) * 2^(n - (n>>1)), each a normal float built from its exponent bits.
  f.get(n).op("i32x4.trunc_sat_f32x4_s").set(n);
  f.get(p);
  f.get(n).i32(1).op("i32x4.shr_s").i32x4(127).op("i32x4.add").i32(23).op("i32x4.shl").op("f32x4.mul");
  f.get(n).get(n).i32(1).op("i32x4.shr_s").op("i32x4.sub").i32x4(127).op("i32x4.add").i32(23).op("i32x4.shl").op("f32x4.mul");
};

/**
 * Emits the logistic function as e / (1 + e) with e = exp(-|x|) and numerator 1 for x >= 0,
 * e for x < 0: never overflows, and keeps full relative accuracy for very negative x.
 */
const emitLogisticF32 = (f: FunctionBuilder, v: Local, t: Local[]): void => {
  const [e, nonNeg] = t.slice(3) as [Local, Local];
  f.get(v).f32x4(0).op("f32x4.ge").set(nonNeg);
  f.get(v).op("f32x4.abs").op("f32x4.neg").set(e);
  emitExpF32(f, e, t);
  f.set(e);
  f.f32x4(1).get(e).get(nonNeg).op("v128.bitselect");
  f.get(e).f32x4(1).op("f32x4.add").op("f32x4.div");
};

/** Emits `log(v)`. */
const emitLogF32 = (f: FunctionBuilder, v: Local, t: Local[]): void => {
  const [bits, e, m, s, s2, sub] = t as [Local, Local, Local, Local, Local, Local];
  // Subnormals: scale by 2^23 and remember to subtract 23 from the exponent.
  f.get(v).f32x4(1.1754943508222875e-38).op("f32x4.lt").set(sub);
  f.get(v).f32x4(8388608).op("f32x4.mul").get(v).get(sub).op("v128.bitselect").set(bits);
  // e = exponent - 127, m = mantissa with exponent 0, in [1, 2).
  f.get(bits).i32(23).op("i32x4.shr_u").i32x4(127).op("i32x4.sub").set(e);
  f.get(bits).i32x4(0x007fffff).op("v128.and").i32x4(0x3f800000).op("v128.or").set(m);
  // m >= sqrt 2: halve it and bump e, so m lies in [sqrt(1/2), sqrt(2)).
  f.get(m).f32x4(Math.SQRT2).op("f32x4.ge").set(s);
  f.get(m).f32x4(0.5).op("f32x4.mul").get(m).get(s).op("v128.bitselect").set(m);
  f.get(e).get(s).op("i32x4.sub").get(sub).i32x4(23).op("v128.and").op("i32x4.sub").op("f32x4.convert_i32x4_s").set(e);
  // s = (m - 1) / (m + 1); log m = 2 (s + s^3/3 + ... + s^9/9).
  f.get(m).f32x4(1).op("f32x4.sub").get(m).f32x4(1).op("f32x4.add").op("f32x4.div").set(s);
  f.get(s).get(s).op("f32x4.mul").set(s2);
  f.f32x4(1 / 9);
  for (const c of [1 / 7, 1 / 5, 1 / 3, 1]) f.get(s2).op("f32x4.mul").f32x4(c).op("f32x4.add");
  f.get(s).op("f32x4.mul").f32x4(2).op("f32x4.mul");
  // + e ln2 (lo part first, for accuracy), then the special cases.
  f.get(e).f32x4(LN2_LO).op("f32x4.mul").op("f32x4.add").get(e).f32x4(LN2_HI).op("f32x4.mul").op("f32x4.add").set(m);
  // x == inf -> inf; x == 0 -> -inf; x < 0 or NaN -> NaN.
  f.f32x4(Infinity).get(m).get(v).f32x4(Infinity).op("f32x4.eq").op("v128.bitselect").set(m);
  f.f32x4(-Infinity).get(m).get(v).f32x4(0).op("f32x4.eq").op("v128.bitselect").set(m);
  f.f32x4(NaN).get(m).get(v).f32x4(0).op("f32x4.ge").op("v128.not").op("v128.bitselect");
};

const TWO_OVER_PI = 0.6366197723675814;
const PIO2_HI = 1.57079632673412561417; // the first 33 bits of pi/2 (fdlibm's pio2_1)
const PIO2_LO = 6.07710050650619224932e-11; // pi/2 - PIO2_HI (fdlibm's pio2_1t)

/**
 * Emits `sin(v)` or `cos(v)`: each float64 half of the vector reduced by pi/2, both Taylor
 * polynomials evaluated, the quadrant picking one and its sign (cos x = sin(x + pi/2) moves
 * the quadrant by one). Lanes with |x| > TRIG_LIMIT are or-ed into `bad` when given.
 */
const emitSinCosF32 = (op: "sin" | "cos", f: FunctionBuilder, v: Local, t: Local[], bad?: Local): void => {
  const [lo, hi] = t as [Local, Local];
  sinCos(f, v, t, bad, [{ op, dest: null }]);
  f.get(lo).get(hi).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
};

/**
 * Emits sin(v) into local `sinOut` and cos(v) into `cosOut`, sharing the argument reduction
 * and both polynomials (a fused group computing both, as a derivative of sin does).
 */
export const emitSinCosPairF32 = (f: FunctionBuilder, v: Local, t: Local[], bad: Local | undefined, sinOut: Local, cosOut: Local): void => {
  sinCos(f, v, t, bad, [
    { op: "sin", dest: sinOut },
    { op: "cos", dest: cosOut },
  ]);
};

/**
 * The shared body: per float64 half, the reduction and both polynomials, then per wanted op
 * the quadrant's pick and sign, demoted to float32: into the half's own local (dest null,
 * one op) or assembled into `dest`.
 */
const sinCos = (f: FunctionBuilder, v: Local, t: Local[], bad: Local | undefined, outs: { op: "sin" | "cos"; dest: Local | null }[]): void => {
  const [lo, hi, n, r, z, s, c, q] = t as [Local, Local, Local, Local, Local, Local, Local, Local];
  if (bad) f.get(bad).get(v).op("f32x4.abs").f32x4(TRIG_LIMIT).op("f32x4.gt").op("v128.or").set(bad);
  f.get(v).op("f64x2.promote_low_f32x4").set(lo);
  f.get(v).get(v).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).op("f64x2.promote_low_f32x4").set(hi);
  [lo, hi].forEach((h, half) => {
    f.get(h).f64x2(TWO_OVER_PI).op("f64x2.mul").op("f64x2.nearest").set(n);
    f.get(h).get(n).f64x2(PIO2_HI).op("f64x2.mul").op("f64x2.sub").get(n).f64x2(PIO2_LO).op("f64x2.mul").op("f64x2.sub").set(r);
    f.get(r).get(r).op("f64x2.mul").set(z);
    // sin r = r + r z (-1/3! + z (1/5! - ...)), to r^11.
    const sc = [-1 / 6, 1 / 120, -1 / 5040, 1 / 362880, -1 / 39916800];
    f.f64x2(sc[4]!);
    for (let i = 3; i >= 0; i--) f.get(z).op("f64x2.mul").f64x2(sc[i]!).op("f64x2.add");
    f.get(z).op("f64x2.mul").get(r).op("f64x2.mul").get(r).op("f64x2.add").set(s);
    // cos r = 1 + z (-1/2! + z (1/4! - ...)), to r^12.
    const cc = [-1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800, 1 / 479001600];
    f.f64x2(cc[5]!);
    for (let i = 4; i >= 0; i--) f.get(z).op("f64x2.mul").f64x2(cc[i]!).op("f64x2.add");
    f.get(z).op("f64x2.mul").f64x2(1).op("f64x2.add").set(c);
    for (const o of outs) {
      // Quadrant m = n (+1 for cos) mod 4: odd picks cos r, m >= 2 negates (r and z are free now).
      f.get(n);
      if (o.op === "cos") f.f64x2(1).op("f64x2.add");
      f.set(r);
      f.get(r).f64x2(0.5).op("f64x2.mul").set(q);
      f.get(c).get(s).get(q).get(q).op("f64x2.floor").op("f64x2.ne").op("v128.bitselect").set(z);
      f.get(r).f64x2(0.25).op("f64x2.mul").set(q);
      f.get(z).op("f64x2.neg").get(z).get(q).get(q).op("f64x2.floor").op("f64x2.sub").f64x2(0.5).op("f64x2.ge").op("v128.bitselect");
      f.op("f32x4.demote_f64x2_zero");
      if (!o.dest) f.set(h);
      else if (half === 0) f.set(o.dest);
      else f.set(z).get(o.dest).get(z).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).set(o.dest);
    }
  });
};

/**
 * Emits the op's body: input local `v` (which it may overwrite), result on the stack; `t` are
 * {@link MATH_SCRATCH} scratch v128 locals. `bad`, when given, collects (or-ed lane masks)
 * the lanes outside the kernel's range, which the caller must recompute on the JS path.
 */
export const emitUnaryF32 = (op: SimdUnaryOp, f: FunctionBuilder, v: Local, t: Local[], bad?: Local): void => {
  if (op === "sin" || op === "cos") emitSinCosF32(op, f, v, t, bad);
  else if (op === "exp") emitExpF32(f, v, t);
  else if (op === "logistic") emitLogisticF32(f, v, t);
  else if (op === "log") emitLogF32(f, v, t);
  else emitTanh(f, v, t);
};

/**
 * Emits `tanh(v)` as e / (e + 2) with e = expm1(2|x|) and x's sign: one formula for every
 * x (no cancellation for small x, since expm1 keeps its relative accuracy there), |x|
 * clamped to 9.5, beyond which tanh rounds to 1. expm1(y): y = n ln2 + r as in exp,
 * expm1(r) = r + r^2 (1/2! + r/3! + ... + r^5/7!), then 2^n expm1(r) + (2^n - 1).
 */
const emitTanh = (f: FunctionBuilder, v: Local, t: Local[]): void => {
  const [n, r, y, s] = t as [Local, Local, Local, Local];
  f.get(v).op("f32x4.abs").f32x4(9.5).op("f32x4.min").set(y);
  f.get(y).get(y).op("f32x4.add").set(y);
  f.get(y).f32x4(LOG2E).op("f32x4.mul").op("f32x4.nearest").set(n);
  f.get(y).get(n).f32x4(LN2_HI).op("f32x4.mul").op("f32x4.sub").get(n).f32x4(LN2_LO).op("f32x4.mul").op("f32x4.sub").set(r);
  const c = [1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040];
  f.f32x4(c[5]!);
  for (let i = 4; i >= 0; i--) f.get(r).op("f32x4.mul").f32x4(c[i]!).op("f32x4.add");
  f.get(r).op("f32x4.mul").get(r).op("f32x4.mul").get(r).op("f32x4.add").set(y); // y = expm1(r)
  // s = 2^n (0 <= n <= 28), e = s expm1(r) + (s - 1).
  f.get(n).op("i32x4.trunc_sat_f32x4_s").i32x4(127).op("i32x4.add").i32(23).op("i32x4.shl").set(s);
  f.get(s).get(y).op("f32x4.mul").get(s).f32x4(1).op("f32x4.sub").op("f32x4.add").set(y);
  f.get(y).get(y).f32x4(2).op("f32x4.add").op("f32x4.div");
  f.i32x4(0x7fffffff).op("v128.and").get(v).i32x4(-0x80000000).op("v128.and").op("v128.or");
};

/** Builds the module exporting one `op(src, dst, n)` per op: n floats (n a multiple of 4). */
const buildUnaryModule = (shared: boolean): ModuleBuilder => {
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  for (const op of SIMD_UNARY_OPS) {
    m.func(op, { params: ["i32", "i32", "i32"] }, (f) => {
      const [src, dst, n] = f.params as [Local, Local, Local];
      const end = f.local("i32");
      const v = f.local("v128");
      const t = Array.from({ length: MATH_SCRATCH }, () => f.local("v128"));
      f.get(src).get(n).i32(2).op("i32.shl").op("i32.add").set(end);
      f.whileLt(src, end, 16, () => {
        f.get(src).load("v128.load").set(v);
        f.get(dst);
        emitUnaryF32(op, f, v, t);
        f.store("v128.store");
        f.get(dst).i32(16).op("i32.add").set(dst);
      });
    });
  }
  return m;
};

/** The module's name in the worker pool. */
const UNARY_MODULE = "unary/f32";
/** Arrays of at least this many elements are split across the worker threads. */
const PARALLEL_MIN_ELEMENTS = 1 << 16;

type UnaryFn = (src: number, dst: number, n: number) => void;
let exportsCache: Record<SimdUnaryOp, UnaryFn> | null | undefined;

const unaryExports = (): Record<SimdUnaryOp, UnaryFn> | null => {
  if (exportsCache !== undefined) return exportsCache;
  const reasons: string[] = [];
  while (kernelPath() !== "js") {
    try {
      const { memory, shared } = kernelMemory();
      const mod = buildUnaryModule(shared).compile();
      exportsCache = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as Record<SimdUnaryOp, UnaryFn>;
      if (shared) shareModule(UNARY_MODULE, mod);
      if (reasons.length) warnFallback("elementwise", reasons);
      return exportsCache;
    } catch (err) {
      reasons.push(demote(err));
    }
  }
  if (reasons.length) warnFallback("elementwise", reasons);
  return null;
};

/** Forgets the compiled module (tests). */
export const clearUnaryCache = (): void => {
  exportsCache = undefined;
};

/**
 * `out[i] = op(src[i])` for float32 arrays in Wasm SIMD. Returns false, having written
 * nothing, when the Wasm path is off or the module is unavailable.
 */
export const unaryWasmF32 = (op: SimdUnaryOp, src: TypedArray, out: TypedArray): boolean => {
  if (kernelPath() === "js") return false;
  if (op === "sin" || op === "cos") {
    for (let i = 0; i < src.length; i++) if (Math.abs(src[i]!) > TRIG_LIMIT) return false;
  }
  const ex = unaryExports();
  if (!ex) return false;
  const n = src.length;
  const padded = (n + 3) & ~3;
  arena.reset();
  const at = arena.alloc(padded * 4);
  if (at < 0) return false;
  const mem = views().f32;
  copyElements(mem, at / 4, src as Float32Array, 0, n);
  if (padded < PARALLEL_MIN_ELEMENTS) ex[op](at, at, padded);
  else {
    // Split the vectors across the threads; each part works in place on its own range.
    const vectors = padded / 4;
    parallelFor(op, UNARY_MODULE, op, (p, parts) => {
      const lo = Math.floor((p * vectors) / parts);
      const hi = Math.floor(((p + 1) * vectors) / parts);
      return [at + lo * 16, at + lo * 16, (hi - lo) * 4];
    }, (args) => ex[op](args[0]!, args[1]!, args[2]!));
  }
  copyElements(out as Float32Array, 0, mem, at / 4, n);
  return true;
};

/**
 * For a float32 op with a SIMD kernel, a kernel that runs it on arrays of at least
 * {@link WASM_UNARY_MIN} elements and `js` otherwise (or when the Wasm path is off); null
 * for other ops.
 */
export const withSimdUnary = (name: string, js: (src: TypedArray, out: TypedArray) => void): ((src: TypedArray, out: TypedArray) => void) | null => {
  if (!(SIMD_UNARY_OPS as readonly string[]).includes(name)) return null;
  const op = name as SimdUnaryOp;
  return (src, out) => {
    if (src.length < WASM_UNARY_MIN || !unaryWasmF32(op, src, out)) js(src, out);
  };
};
