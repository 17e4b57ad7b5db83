/**
 * The Wasm SIMD backend of fused groups. A float32 group becomes one generated function over
 * the group's domain seen as `[rows, cols]`, four lanes per step (f32x4), with one masked
 * step for a row's last 1-3 elements:
 * - members: add, sub, mul, div, max, min, neg, abs, sqrt, square, integer_pow, the
 *   comparisons (as lane masks), and/or/not of masks, a mask converted to float32 (1.0 or
 *   0.0, a relu's derivative), `select_n` on a mask or a bool scalar, and the float32 math of
 *   kernels/wasm/unary.ts (exp, log, tanh, logistic, sin, cos: the same emitted code the
 *   eager kernels run, so the same ulp bounds);
 * - operands: contiguous arrays over the domain, scalars, per-row values (`x[:, None]`) and
 *   per-column values (`b[None, :]`, a bias), from outside the group or through its
 *   broadcasts;
 * - reductions (sum, max, min) over the trailing axes (all axes, or the last ones as in a
 *   softmax: one value per row, in float64 registers for sums) or over the leading axes (a
 *   bias gradient: one float64 accumulator per column, in memory), written without any
 *   intermediate array; elementwise outputs of the same group come out of the same pass
 *   (a value and its gradient).
 *
 * Arithmetic members are one IEEE float32 operation each, equal to the float64 result
 * rounded to float32 that the JS backend computes, so arithmetic chains are bit-identical
 * to eager evaluation; integer_pow multiplies in float64 as the JS kernel does, so it is
 * bit-identical too, and so is the math, which is the eager kernels' own. A sum's order differs from the JS
 * kernel's (per-lane and per-thread partial sums in float64). Groups with other members,
 * other dtypes or other strided reads keep the JS backend.
 *
 * Operands are copied into the kernel memory and results out. Large groups are split across
 * the worker threads (by rows, or by columns with per-part partial reductions).
 */
import type { TypedArray } from "../dtype.js";
import { type Literal, type Var } from "../ir/jaxpr.js";
import type { FunctionBuilder, Local, PlainOp } from "../kernels/wasm/builder.js";
import { ModuleBuilder } from "../kernels/wasm/builder.js";
import { MAX_PAGES, arena, copyElements, kernelMemory, kernelPath, views } from "../kernels/wasm/runtime.js";
import { MAX_ARGS, parallelFor, shareModule } from "../kernels/wasm/threads.js";
import { MATH_SCRATCH, type SimdUnaryOp, SIMD_UNARY_OPS, emitSinCosPairF32, emitUnaryF32 } from "../kernels/wasm/unary.js";
import type { FusionGroup } from "./fusion.js";
import { isVar } from "./passes/rewrite.js";

/** Below this many elements an arithmetic-only group stays in JS (copies in and out dominate). */
export const WASM_FUSED_MIN = 4096;
/** A group with a transcendental member gains from far fewer elements (Math.* costs 5-20 ns an element). */
export const WASM_FUSED_MATH_MIN = 64;
/** Groups of at least this many elements are split across the worker threads. */
const PARALLEL_MIN = 1 << 16;

type Op1 = "neg" | "abs" | "sqrt" | "square" | SimdUnaryOp;
type Op2 = "add" | "sub" | "mul" | "div" | "max" | "min";
type Cmp = "gt" | "ge" | "lt" | "le" | "eq" | "ne";
const UNARY = new Set<string>(["neg", "abs", "sqrt", "square", ...SIMD_UNARY_OPS]);
const BINARY = new Set<string>(["add", "sub", "mul", "div", "max", "min"]);
const COMPARE = new Set<string>(["gt", "ge", "lt", "le", "eq", "ne"]);
/** Ops on lane masks (bool values): and, or, not, and a mask's conversion to float32 1.0 / 0.0. */
type MaskOp = "and" | "or" | "not" | "mask2f";

/** How an operand is read at domain index (row, col). */
type Access = "full" | "scalar" | "row" | "col";

/** One step of the generated body: a member's op over earlier values (value indices) or literals. */
type Arg = number | { lit: number };
type Step =
  | { op: Op1 | Op2 | Cmp | MaskOp; args: Arg[] }
  | { op: "pow"; y: number; args: Arg[] }
  /** `select_n(pred, c0, c1)`: pred ? c1 : c0, pred a lane mask. */
  | { op: "select"; args: Arg[] };

interface Plan {
  rows: number;
  cols: number;
  /** What the reductions reduce: each row (the trailing axes) or each column (the leading axes). */
  reduceOver: "rows" | "cols" | null;
  /** Values 0..loads-1: one per distinct (input, access); inputs index the JS kernel's inputs. */
  loads: { input: number; access: Access; bool: boolean }[];
  steps: Step[];
  /** Per output of the JS kernel: the value it stores, and its reduction (one value per row) if any. */
  outputs: { value: number; reduce: "sum" | "max" | "min" | null }[];
  math: boolean;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** Classifies per-domain-axis strides as an access of the `[rows, cols]` view split at axis `k`. */
const classify = (strides: readonly number[], domain: readonly number[], k: number): Access | null => {
  const rowMajorFrom = (lo: number, hi: number): boolean => {
    let s = 1;
    for (let d = hi - 1; d >= lo; d--) {
      if (domain[d] !== 1 && strides[d] !== s) return false;
      s *= domain[d]!;
    }
    return true;
  };
  const zeroIn = (lo: number, hi: number) => {
    for (let d = lo; d < hi; d++) if (domain[d] !== 1 && strides[d] !== 0) return false;
    return true;
  };
  const r = domain.length;
  if (zeroIn(0, r)) return "scalar";
  if (rowMajorFrom(0, r)) return "full";
  if (zeroIn(k, r) && rowMajorFrom(0, k)) return "row";
  if (zeroIn(0, k) && rowMajorFrom(k, r)) return "col";
  return null;
};

/**
 * The group as a straight-line plan over the JS kernel's `inputs` (same order), or null when
 * a member or an operand is outside what this backend does.
 */
const planOf = (g: FusionGroup, inputs: readonly Var[], outputs: readonly Var[], strideOf: (v: Var) => number[]): Plan | null => {
  const domain = g.domain;
  const rank = domain.length;
  const reduce = g.reduceAxes ?? [];
  // Reduced axes must be the trailing ones or the leading ones (size-1 axes aside): the view splits between them and the kept ones.
  const kept = [...domain.keys()].filter((d) => !reduce.includes(d) && domain[d] !== 1);
  const reduced = reduce.filter((d) => domain[d] !== 1);
  let reduceOver: Plan["reduceOver"] = null;
  let splits = [...Array(rank + 1).keys()];
  if (reduce.length) {
    if (reduced.every((a) => kept.every((d) => d < a))) {
      reduceOver = "rows";
      splits = [Math.max(0, ...kept.map((d) => d + 1))];
    } else if (reduced.every((a) => kept.every((d) => a < d))) {
      reduceOver = "cols";
      splits = [Math.max(0, ...reduced.map((d) => d + 1))];
    } else return null;
  }
  const accessed: { v: Var; strides: number[] }[] = [];
  const directLoads = new Map<Var, number[]>();
  const produced = new Set<Var>(g.members.flatMap((m) => m.eqn.outputs));
  for (const m of g.members) {
    if (m.kind === "load") accessed.push({ v: m.eqn.inputs[0] as Var, strides: m.strides });
    else for (const a of m.eqn.inputs) if (isVar(a) && !produced.has(a) && !directLoads.has(a)) directLoads.set(a, strideOf(a));
  }
  // Pick the first split where every read classifies.
  let k = -1;
  for (const s of splits) {
    const ok = [...accessed.map((a) => a.strides), ...[...directLoads.values()]].every((st) => classify(st, domain, s) !== null);
    if (ok) {
      k = s;
      break;
    }
  }
  if (k < 0) return null;
  const rows = prod(domain.slice(0, k));
  const cols = prod(domain.slice(k));

  const loads: Plan["loads"] = [];
  const loadIndex = new Map<string, number>();
  const loadOf = (v: Var, strides: number[]): number | null => {
    const access = classify(strides, domain, k)!;
    const input = inputs.indexOf(v);
    if (input < 0) return null;
    const bool = v.aval.dtype === "bool";
    if (!(v.aval.dtype === "float32" || (bool && access === "scalar" && v.aval.size === 1))) return null;
    const key = `${input}:${access}`;
    let at = loadIndex.get(key);
    if (at === undefined) {
      at = loads.length;
      loads.push({ input, access, bool });
      loadIndex.set(key, at);
    }
    return at;
  };
  // Values are numbered after the loads; steps refer to them by number (resolved once all loads are known).
  type Ref = { load: number } | { step: number } | { lit: number };
  const value = new Map<Var, Ref>();
  const raw: { op: Step["op"]; y?: number; args: Ref[] }[] = [];
  const mask = new Set<number>(); // steps producing lane masks
  const isMask = (r: Ref) => ("step" in r && mask.has(r.step)) || ("load" in r && loads[r.load]!.bool);
  const refOf = (a: Var | Literal): Ref | null => {
    if (!isVar(a)) return { lit: (a as Literal).value };
    const got = value.get(a);
    if (got) return got;
    const l = loadOf(a, directLoads.get(a) ?? []);
    if (l === null) return null;
    const r = { load: l };
    value.set(a, r);
    return r;
  };
  let math = false;
  const reduceOf = new Map<Var, "sum" | "max" | "min">();
  for (const m of g.members) {
    const out = m.eqn.outputs[0]!;
    if (m.kind === "load") {
      const l = loadOf(m.eqn.inputs[0] as Var, m.strides);
      if (l === null) return null;
      value.set(out, { load: l });
      continue;
    }
    if (m.kind === "reduce") {
      const x = refOf(m.eqn.inputs[0] as Var);
      if (!x || isMask(x) || out.aval.dtype !== "float32") return null;
      reduceOf.set(out, m.op);
      value.set(out, x);
      continue;
    }
    const name = m.eqn.primitive.name;
    const args: Ref[] = [];
    for (const a of m.eqn.inputs) {
      const r = refOf(a);
      if (!r) return null;
      args.push(r);
    }
    const f32In = m.eqn.inputs.every((a) => a.aval.dtype === "float32");
    if (name === "select_n") {
      if (args.length !== 3 || !isMask(args[0]!) || out.aval.dtype !== "float32" || m.eqn.inputs.slice(1).some((c) => c.aval.dtype !== "float32")) return null;
      raw.push({ op: "select", args });
    } else if (name === "convert_element_type" && out.aval.dtype === "float32" && (f32In || isMask(args[0]!))) {
      if (f32In) {
        value.set(out, args[0]!);
        continue;
      }
      raw.push({ op: "mask2f", args });
      value.set(out, { step: raw.length - 1 });
      continue;
    } else if ((name === "and" || name === "or" || name === "not") && out.aval.dtype === "bool" && args.every(isMask)) {
      mask.add(raw.length);
      raw.push({ op: name, args });
      value.set(out, { step: raw.length - 1 });
      continue;
    } else if (COMPARE.has(name)) {
      if (!f32In || args.length !== 2) return null;
      mask.add(raw.length);
      raw.push({ op: name as Cmp, args });
    } else {
      if (!f32In || out.aval.dtype !== "float32") return null;
      if (name === "integer_pow") {
        const y = (m.eqn.params as { y: number }).y;
        if (Math.abs(y) > 64) return null;
        raw.push(y === 2 ? { op: "square", args } : { op: "pow", y, args });
      } else if (UNARY.has(name) && args.length === 1) raw.push({ op: name as Op1, args });
      else if (BINARY.has(name) && args.length === 2) raw.push({ op: name as Op2, args });
      else return null;
      if ((SIMD_UNARY_OPS as readonly string[]).includes(name)) math = true;
    }
    if (args.some((a, i) => isMask(a) && !(name === "select_n" && i === 0))) return null;
    value.set(out, { step: raw.length - 1 });
  }
  const num = (r: Ref): Arg => ("lit" in r ? { lit: r.lit } : "load" in r ? r.load : loads.length + r.step);
  const steps: Step[] = raw.map((s) => ({ ...s, args: s.args.map(num) }) as Step);
  const outs: Plan["outputs"] = [];
  for (const v of outputs) {
    const r = value.get(v);
    if (!r || "lit" in r || v.aval.dtype !== "float32" || isMask(r)) return null;
    const red = reduceOf.get(v) ?? null;
    // An elementwise output covers the domain; a reduction's, the rows or the columns.
    if (red ? v.aval.size !== (reduceOver === "cols" ? cols : rows) : v.aval.size !== rows * cols) return null;
    outs.push({ value: num(r) as number, reduce: red });
  }
  return { rows, cols, reduceOver, loads, steps, outputs: outs, math };
};

/** i8x16.shuffle lanes moving a vector's high 8 bytes to its low half. */
const HIGH_HALF = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

/** Emits one step over v128 locals, leaving the result on the stack. */
const emitStep = (f: FunctionBuilder, s: Step, a: Local[], t: Local[], bad: Local): void => {
  const [x, y, z] = a as [Local, Local, Local];
  switch (s.op) {
    case "select":
      f.get(z).get(y).get(x).op("v128.bitselect");
      return;
    case "and":
    case "or":
      f.get(x).get(y).op(`v128.${s.op}`);
      return;
    case "not":
      f.get(x).op("v128.not");
      return;
    case "mask2f":
      f.get(x).f32x4(1).op("v128.and");
      return;
    case "square":
      f.get(x).get(x).op("f32x4.mul");
      return;
    case "neg":
    case "abs":
    case "sqrt":
      f.get(x).op(`f32x4.${s.op}`);
      return;
    case "max":
    case "min":
      // a cmp b || a != a ? a : b, the JS kernels' rule.
      f.get(x).get(y).get(x).get(y).op(s.op === "max" ? "f32x4.gt" : "f32x4.lt").get(x).get(x).op("f32x4.ne").op("v128.or").op("v128.bitselect");
      return;
    case "pow": {
      // The JS kernel's repeated squaring in float64, two lanes at a time, rounded once to
      // float32: the same operations in the same order, so the same bits.
      const [lo, hi, acc, base] = [t[0]!, t[1]!, t[2]!, t[3]!];
      f.get(x).op("f64x2.promote_low_f32x4").set(lo);
      f.get(x).get(x).shuffle(HIGH_HALF).op("f64x2.promote_low_f32x4").set(hi);
      for (const half of [lo, hi]) {
        f.f64x2(1).set(acc).get(half).set(base);
        for (let n = Math.abs(s.y); n > 0; n >>>= 1) {
          if (n & 1) f.get(acc).get(base).op("f64x2.mul").set(acc);
          if (n >>> 1 > 0) f.get(base).get(base).op("f64x2.mul").set(base);
        }
        if (s.y < 0) f.f64x2(1).get(acc).op("f64x2.div").set(acc);
        f.get(acc).op("f32x4.demote_f64x2_zero").set(half);
      }
      f.get(lo).get(hi).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
      return;
    }
    case "add":
    case "sub":
    case "mul":
    case "div":
    case "gt":
    case "ge":
    case "lt":
    case "le":
    case "eq":
    case "ne":
      f.get(x).get(y).op(`f32x4.${s.op}` as PlainOp);
      return;
    default: {
      // The shared float32 math; it may overwrite its input local, so it gets a copy.
      const v = t[MATH_SCRATCH]!;
      f.get(x).set(v);
      emitUnaryF32(s.op, f, v, t, bad);
    }
  }
};

/** Which of the JS kernel's inputs a plan needs, with the element count copied for each. */
const inputLength = (p: Plan, access: Access): number => (access === "full" ? p.rows * p.cols : access === "row" ? p.rows : access === "col" ? p.cols : 1);

/**
 * Builds `run(inPtrs..., outPtrs..., rowLo, rowHi, colLo, colHi, red, flag)`: the rows
 * [rowLo, rowHi) and columns [colLo, colHi) of the domain (colLo a multiple of 4). Reductions
 * write one float64 per output and row to `red + 8 (k rows + row)`. The i32 at `flag` is set
 * to 1 when an element was outside the math's range (sin/cos): the caller then runs the JS kernel.
 */
const buildModule = (p: Plan, nIn: number, nOut: number, shared: boolean): ModuleBuilder => {
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  m.func("run", { params: Array(nIn + nOut + 6).fill("i32") }, (f) => {
    const ptrs = f.params.slice(0, nIn + nOut);
    const [rowLo, rowHi, colLo, colHi, red, flag] = f.params.slice(nIn + nOut) as [Local, Local, Local, Local, Local, Local];
    const bad = f.local("v128");
    const row = f.local("i32");
    const rowOff = f.local("i32");
    const j = f.local("i32");
    const jEnd = f.local("i32");
    const vecEnd = f.local("i32");
    const rem = f.local("i32");
    const tailMask = f.local("v128");
    const nLoads = p.loads.length;
    // Steps computing sin and cos of the same operand, paired both ways.
    const pairs = new Map<number, number>();
    p.steps.forEach((s, k) => {
      if (s.op !== "sin" || pairs.has(k)) return;
      const j = p.steps.findIndex((u, jj) => u.op === "cos" && !pairs.has(jj) && JSON.stringify(u.args) === JSON.stringify(s.args));
      if (j >= 0) {
        pairs.set(k, j);
        pairs.set(j, k);
      }
    });
    const vals = Array.from({ length: nLoads + p.steps.length }, () => f.local("v128"));
    const t = Array.from({ length: MATH_SCRATCH + 1 }, () => f.local("v128"));
    let nRed = 0;
    const reds = p.outputs.map((o) => (o.reduce ? { op: o.reduce, lo: f.local("v128"), hi: f.local("v128"), index: nRed++ } : null));
    // Literals: one splatted local each, set once.
    const litLocals = new Map<string, Local>();
    const argLocals = p.steps.map((s) =>
      s.args.map((a) => {
        if (typeof a === "number") return vals[a]!;
        const key = Object.is(a.lit, -0) ? "-0" : String(a.lit); // -0 and 0 are different literals
        let l = litLocals.get(key);
        if (!l) {
          l = f.local("v128");
          f.f32x4(a.lit).set(l);
          litLocals.set(key, l);
        }
        return l;
      }),
    );
    // Scalars: splatted once; a bool scalar becomes a lane mask.
    p.loads.forEach((ld, k) => {
      if (ld.access !== "scalar") return;
      const ptr = ptrs[ld.input]!;
      if (ld.bool) f.i32(0).get(ptr).load("i32.load8_u").i32(0).op("i32.ne").op("i32.sub").op("i32x4.splat").set(vals[k]!);
      else f.get(ptr).load("v128.load32_splat").set(vals[k]!);
    });
    const body = (tail: boolean) => {
      p.loads.forEach((ld, k) => {
        const ptr = ptrs[ld.input]!;
        if (ld.access === "full") f.get(ptr).get(rowOff).op("i32.add").get(j).op("i32.add").load("v128.load", 0, 0).set(vals[k]!);
        else if (ld.access === "col") f.get(ptr).get(j).op("i32.add").load("v128.load", 0, 0).set(vals[k]!);
      });
      p.steps.forEach((s, k) => {
        const partner = pairs.get(k);
        if (partner !== undefined) {
          // sin and cos of one value: one reduction, both results (the partner step is then skipped).
          if (partner < k) return;
          const v = t[MATH_SCRATCH]!;
          f.get(argLocals[k]![0]!).set(v);
          const [sinAt, cosAt] = s.op === "sin" ? [k, partner] : [partner, k];
          emitSinCosPairF32(f, v, t, bad, vals[nLoads + sinAt]!, vals[nLoads + cosAt]!);
          return;
        }
        emitStep(f, s, argLocals[k]!, t, bad);
        f.set(vals[nLoads + k]!);
      });
      p.outputs.forEach((o, k) => {
        const r = reds[k];
        const v = vals[o.value]!;
        if (r) {
          // Masked-off lanes hold the reduction's identity.
          const ident = r.op === "sum" ? 0 : r.op === "max" ? -Infinity : Infinity;
          if (tail) f.get(v).f32x4(ident).get(tailMask).op("v128.bitselect").set(t[0]!);
          const x = tail ? t[0]! : v;
          if (p.reduceOver === "cols") {
            // Per-column float64 accumulators in memory: red + 8 (index (cols + 4) + column).
            const addr = () => f.get(red).i32(r.index * (p.cols + 4) * 8).op("i32.add").get(j).i32(1).op("i32.shl").op("i32.add");
            const [val, acc] = [t[1]!, t[2]!];
            for (const half of [0, 1]) {
              f.get(x);
              if (half) f.get(x).shuffle(HIGH_HALF);
              f.op("f64x2.promote_low_f32x4").set(val);
              addr();
              f.load("v128.load", half * 16, 0).set(acc);
              addr();
              if (r.op === "sum") f.get(acc).get(val).op("f64x2.add");
              else f.get(val).get(acc).get(val).get(acc).op(r.op === "max" ? "f64x2.gt" : "f64x2.lt").get(val).get(val).op("f64x2.ne").op("v128.or").op("v128.bitselect");
              f.store("v128.store", half * 16, 0);
            }
          } else if (r.op === "sum") {
            f.get(r.lo).get(x).op("f64x2.promote_low_f32x4").op("f64x2.add").set(r.lo);
            f.get(r.hi).get(x).get(x).shuffle(HIGH_HALF).op("f64x2.promote_low_f32x4").op("f64x2.add").set(r.hi);
          } else {
            f.get(x).get(r.lo).get(x).get(r.lo).op(r.op === "max" ? "f32x4.gt" : "f32x4.lt").get(x).get(x).op("f32x4.ne").op("v128.or").op("v128.bitselect").set(r.lo);
          }
          return;
        }
        const addr = () => f.get(ptrs[nIn + k]!).get(rowOff).op("i32.add").get(j).op("i32.add");
        if (!tail) {
          addr();
          f.get(v).store("v128.store", 0, 0);
          return;
        }
        // Only the valid lanes: a full store would write into the next row, maybe another thread's.
        for (let lane = 0; lane < 3; lane++) {
          const store = () => {
            addr();
            f.get(v).lane("f32x4.extract_lane", lane).store("f32.store", lane * 4, 0);
          };
          if (lane === 0) store();
          else f.get(rem).i32(lane).op("i32.gt_s").if(store);
        }
      });
    };
    f.get(colHi).i32(2).op("i32.shl").set(jEnd);
    f.get(colLo).i32(2).op("i32.shl").get(colHi).get(colLo).op("i32.sub").i32(-4).op("i32.and").i32(2).op("i32.shl").op("i32.add").set(vecEnd);
    f.get(colHi).get(colLo).op("i32.sub").i32(3).op("i32.and").set(rem);
    // tailMask = [0,1,2,3] < rem, lane-wise.
    f.v128(new Uint8Array([0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])).get(rem).op("i32x4.splat").op("i32x4.lt_s").set(tailMask);
    f.get(rowLo).set(row);
    f.whileLt(row, rowHi, 1, () => {
      f.get(row).i32(p.cols * 4).op("i32.mul").set(rowOff);
      p.loads.forEach((ld, k) => {
        if (ld.access === "row") f.get(ptrs[ld.input]!).get(row).i32(2).op("i32.shl").op("i32.add").load("v128.load32_splat").set(vals[k]!);
      });
      for (const r of reds) {
        if (!r || p.reduceOver === "cols") continue;
        if (r.op === "sum") f.f64x2(0).set(r.lo).f64x2(0).set(r.hi);
        else f.f32x4(r.op === "max" ? -Infinity : Infinity).set(r.lo);
      }
      f.get(colLo).i32(2).op("i32.shl").set(j);
      f.whileLt(j, vecEnd, 16, () => body(false));
      f.get(rem).if(() => body(true));
      p.outputs.forEach((o, k) => {
        const r = reds[k];
        if (!r || p.reduceOver === "cols") return;
        const at = () => f.get(red).i32(r.index * p.rows).get(row).op("i32.add").i32(3).op("i32.shl").op("i32.add");
        if (r.op === "sum") {
          at();
          f.get(r.lo).get(r.hi).op("f64x2.add").set(r.lo);
          f.get(r.lo).lane("f64x2.extract_lane", 0).get(r.lo).lane("f64x2.extract_lane", 1).op("f64.add").store("f64.store", 0, 0);
        } else {
          // Horizontal max/min over the four lanes with the same rule, in float32.
          const [acc, x] = [f.local("f32"), f.local("f32")];
          f.get(r.lo).lane("f32x4.extract_lane", 0).set(acc);
          for (let lane = 1; lane < 4; lane++) {
            f.get(r.lo).lane("f32x4.extract_lane", lane).set(x);
            f.get(x).get(acc).get(x).get(acc).op(r.op === "max" ? "f32.gt" : "f32.lt").get(x).get(x).op("f32.ne").op("i32.or").op("select").set(acc);
          }
          at();
          f.get(acc).op("f64.promote_f32").store("f64.store", 0, 0);
        }
      });
    });
    f.get(bad).op("v128.any_true").if(() => f.get(flag).i32(1).store("i32.store", 0, 0));
  });
  return m;
};

type RunFn = (...args: number[]) => void;

/** @internal How many fused groups ran in Wasm (tests check that the path is taken). */
export const wasmFusedStats = { calls: 0 };

const modules = new Map<string, { module: WebAssembly.Module; id: string }>();
let moduleCount = 0;

/**
 * The group's Wasm kernel: `(ins, outs)` returning false (having written nothing) when the
 * operands do not fit the kernel memory. `placed[k] >= 0` says input k is already in the
 * kernel memory at that byte offset (a GEMM's result, row-major over the domain: see
 * gemm_step.ts), so it is read there and `ins[k]` is not; the kernel's own room is then taken
 * above `mark`, so it does not overwrite what is placed.
 */
export interface WasmFusedKernel {
  (ins: TypedArray[], outs: TypedArray[], placed?: readonly number[], mark?: number): boolean;
  /** Per input: whether it can be placed (read whole, row-major over the domain, as float32). */
  readonly placeable: readonly boolean[];
}

/**
 * A Wasm kernel for the group with the JS kernel's signature `(ins, outs)`, or null when the
 * group is outside this backend, too small to gain, or the Wasm path is off.
 */
export const wasmFusedKernel = (g: FusionGroup, inputs: readonly Var[], outputs: readonly Var[], strideOf: (v: Var) => number[]): WasmFusedKernel | null => {
  if (kernelPath() === "js") return null;
  const size = prod(g.domain);
  const plan = planOf(g, inputs, outputs, strideOf);
  if (!plan || plan.steps.length === 0) return null;
  if (size < (plan.math ? WASM_FUSED_MATH_MIN : WASM_FUSED_MIN)) return null;
  let run: RunFn;
  let id: string;
  // Worker jobs carry at most MAX_ARGS arguments: a group with more operands runs on one thread.
  const overColsBytes = plan.reduceOver === "cols" ? plan.outputs.filter((o) => o.reduce).length * (plan.cols + 4) * 8 : 0;
  // (Per-column partial reductions take 8 bytes a column per thread: very wide ones stay on one thread.)
  const parallel = size >= PARALLEL_MIN && inputs.length + outputs.length + 6 <= MAX_ARGS && kernelMemory().shared && overColsBytes * 66 <= 1 << 24;
  try {
    const { memory, shared } = kernelMemory();
    const key = `${shared}|${inputs.length}|${outputs.length}|${JSON.stringify(plan)}`;
    let mod = modules.get(key);
    if (!mod) {
      mod = { module: buildModule(plan, inputs.length, outputs.length, shared).compile(), id: `fused/${++moduleCount}` };
      modules.set(key, mod);
    }
    run = (new WebAssembly.Instance(mod.module, { env: { memory } }).exports as { run: RunFn }).run;
    id = mod.id;
    if (parallel) shareModule(id, mod.module);
  } catch {
    // The JS backend runs the group (e.g. a browser's main thread refuses to compile a long
    // group's module over 4 KB synchronously); the kernel path is not demoted for this.
    return null;
  }
  const { rows, cols } = plan;
  const nIn = inputs.length;
  const nRed = plan.outputs.filter((o) => o.reduce).length;
  const lengths = inputs.map((_, k) => Math.max(0, ...plan.loads.filter((l) => l.input === k).map((l) => inputLength(plan, l.access))));
  // The rows split across threads when there are enough, else the columns (each part then has its own partial reductions).
  const byRows = rows > 1;
  const overCols = plan.reduceOver === "cols";
  // Float64s of partial reductions per part: per row, or per column (with 4 of slack for the masked step).
  const block = overCols ? nRed * (cols + 4) : nRed * rows;
  const identity = plan.outputs.filter((o) => o.reduce).map((o) => (o.reduce === "sum" ? 0 : o.reduce === "max" ? -Infinity : Infinity));
  const kernel = (ins: TypedArray[], outs: TypedArray[], placed?: readonly number[], mark?: number): boolean => {
    if (mark === undefined) arena.reset();
    else arena.resetTo(mark);
    const at: number[] = [];
    // 16 bytes of slack after each operand: the masked last step reads a whole vector.
    for (let k = 0; k < nIn; k++) at.push(placed && placed[k]! >= 0 ? placed[k]! : arena.alloc((lengths[k]! + 4) * 4));
    for (let k = 0; k < outs.length; k++) at.push(plan.outputs[k]!.reduce ? 0 : arena.alloc((rows * cols + 4) * 4));
    const maxParts = parallel ? 66 : 1; // the pool has at most 64 workers, plus the calling thread
    // Parts splitting the rows of per-row reductions write disjoint rows of one block; other splits have a block each.
    const blocks = byRows && !overCols ? 1 : maxParts;
    const red = nRed ? arena.alloc(blocks * block * 8 + 8) : 0;
    const flags = arena.alloc(maxParts * 4);
    if (at.some((a) => a < 0) || red < 0 || flags < 0) return false;
    const { f32, u8, i32 } = views();
    i32.fill(0, flags / 4, flags / 4 + maxParts);
    for (let k = 0; k < nIn; k++) {
      if (lengths[k] === 0 || (placed && placed[k]! >= 0)) continue;
      if (inputs[k]!.aval.dtype === "bool") u8[at[k]!] = ins[k]![0]!;
      else copyElements(f32, at[k]! / 4, ins[k] as Float32Array, 0, lengths[k]!);
    }
    let parts = 1;
    const argsOf = (p: number, n: number): number[] => {
      parts = n;
      const own = red + p * block * 8;
      if (overCols) identity.forEach((x, r) => views().f64.fill(x, own / 8 + r * (cols + 4), own / 8 + (r + 1) * (cols + 4)));
      if (byRows) {
        const lo = Math.floor((p * rows) / n);
        const hi = Math.floor(((p + 1) * rows) / n);
        return [...at, lo, hi, 0, cols, overCols ? own : red, flags + 4 * p];
      }
      const vecs = Math.ceil(cols / 4);
      const lo = Math.min(cols, Math.floor((p * vecs) / n) * 4);
      const hi = p === n - 1 ? cols : Math.min(cols, Math.floor(((p + 1) * vecs) / n) * 4);
      return [...at, 0, rows, lo, hi, own, flags + 4 * p];
    };
    if (!parallel) run(...argsOf(0, 1));
    else parallelFor("fused", id, "run", argsOf, (args) => run(...args));
    const mem = views();
    for (let p = 0; p < parts; p++) if (mem.i32[flags / 4 + p] !== 0) return false;
    wasmFusedStats.calls++;
    let r = 0;
    for (let k = 0; k < outs.length; k++) {
      const o = plan.outputs[k]!;
      const out = outs[k]!;
      if (!o.reduce) {
        copyElements(out as Float32Array, 0, mem.f32, at[nIn + k]! / 4, rows * cols);
        continue;
      }
      // Combine the parts' partial results per row or column (in part order, so results do not depend on timing).
      const f64 = mem.f64;
      const [count, stride] = overCols ? [cols, cols + 4] : [rows, rows];
      for (let row = 0; row < count; row++) {
        let acc = f64[red / 8 + r * stride + row]!;
        for (let p = 1; p < (byRows && !overCols ? 1 : parts); p++) {
          const x = f64[red / 8 + p * block + r * stride + row]!;
          if (o.reduce === "sum") acc += x;
          else if (o.reduce === "max" ? x > acc || x !== x : x < acc || x !== x) acc = x;
        }
        out[row] = acc;
      }
      r++;
    }
    return true;
  };
  // A placed operand has no slack after it: only one read whole with no masked step (cols a multiple of 4) qualifies.
  const placeable = inputs.map((v, k) => v.aval.dtype === "float32" && cols % 4 === 0 && plan.loads.every((l) => l.input !== k || l.access === "full") && lengths[k] === rows * cols);
  return Object.assign(kernel, { placeable });
};
