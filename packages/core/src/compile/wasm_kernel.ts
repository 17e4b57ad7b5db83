/**
 * The Wasm SIMD backend of fused groups: a group of float32 elementwise arithmetic over
 * contiguous or scalar operands (an optimizer's update, an activation's chain and its
 * derivative) becomes one generated function, four lanes per step (f32x4) with a scalar tail.
 *
 * Results are bit-identical to the JS backend's: each member is one IEEE float32 operation
 * (add, sub, mul, div, sqrt, neg, abs, max/min with the JS kernels' NaN and signed-zero rule,
 * x*x), which equals the float64 result rounded to float32 the JS loop computes, or a
 * `select_n` between two such values by a bool scalar (gradient clipping's `where`). Groups
 * with other members (transcendental functions, comparisons, converts, reductions) or
 * strided reads keep the JS backend.
 *
 * The operands are copied into the kernel memory and the results out, so only groups large
 * enough ({@link WASM_FUSED_MIN} elements) and arithmetic-heavy enough (divisions and square
 * roots, which JS runs one lane at a time) gain; measured on W3's Adam update (200,704
 * float32 parameters: 3 divisions and a square root each) 5.2 ms per call in JS.
 */
import type { TypedArray } from "../dtype.js";
import { type Literal, type Var } from "../ir/jaxpr.js";
import type { FunctionBuilder, Local, PlainOp } from "../kernels/wasm/builder.js";
import { ModuleBuilder } from "../kernels/wasm/builder.js";
import { MAX_PAGES, arena, kernelMemory, kernelPath, views } from "../kernels/wasm/runtime.js";
import type { FusionGroup } from "./fusion.js";
import { isVar } from "./passes/rewrite.js";

/** Below this many elements the JS loop wins (copies in and out dominate). */
export const WASM_FUSED_MIN = 4096;

type Op1 = "neg" | "abs" | "sqrt" | "square";
/** `select_n(pred, c0, c1)` with a bool scalar predicate: `pred ? c1 : c0`. */
type Op3 = "select";
type Op2 = "add" | "sub" | "mul" | "div" | "max" | "min";
const UNARY: Record<string, Op1> = { neg: "neg", abs: "abs", sqrt: "sqrt", square: "square" };
const BINARY: Record<string, Op2> = { add: "add", sub: "sub", mul: "mul", div: "div", max: "max", min: "min" };

/** One step of the generated body: a member's op over earlier values (value indices) or literals. */
type Step = { out: number; op: Op1 | Op2 | Op3; args: (number | { lit: number })[] };

interface Plan {
  /** Values 0..inputs-1 are the inputs, loaded (contiguous) or splatted (scalar). */
  scalarInput: boolean[];
  /** Inputs that are bool scalars (select predicates): a lane mask, or an i32 in the tail. */
  boolInput: boolean[];
  steps: Step[];
  /** The value each output stores. */
  outputs: number[];
  values: number;
}

const isContiguous = (strides: readonly number[], domain: readonly number[]): boolean => {
  let s = 1;
  for (let d = domain.length - 1; d >= 0; d--) {
    if (domain[d] !== 1 && strides[d] !== s) return false;
    s *= domain[d]!;
  }
  return true;
};

/**
 * The group as a straight-line plan over the JS kernel's `inputs` (same order), or null when
 * a member or an operand is outside what this backend does.
 */
const planOf = (g: FusionGroup, inputs: readonly Var[], outputs: readonly Var[], strideOf: (v: Var) => number[]): Plan | null => {
  if (g.reduceAxes && g.reduceAxes.length > 0) return null;
  const value = new Map<Var, number>();
  const scalarInput: boolean[] = [];
  const boolInput: boolean[] = [];
  for (const v of inputs) {
    const st = strideOf(v);
    const scalar = st.every((x) => x === 0);
    // float32 operands, and bool scalars (a select's predicate) only.
    if (!(v.aval.dtype === "float32" || (v.aval.dtype === "bool" && scalar && v.aval.size === 1))) return null;
    if (!scalar && !isContiguous(st, g.domain)) return null;
    value.set(v, scalarInput.length);
    scalarInput.push(scalar);
    boolInput.push(v.aval.dtype === "bool");
  }
  let values = inputs.length;
  const steps: Step[] = [];
  for (const m of g.members) {
    const out = m.eqn.outputs[0]!;
    if (m.kind === "reduce") return null;
    if (m.kind === "load") {
      // A broadcast/transpose member reading an input: the same value when it reads it whole or as a scalar.
      const src = m.eqn.inputs[0] as Var;
      const k = value.get(src);
      if (k === undefined || !(m.strides.every((x) => x === 0) ? scalarInput[k] : !scalarInput[k] && isContiguous(m.strides, g.domain))) return null;
      value.set(out, k);
      continue;
    }
    const name = m.eqn.primitive.name;
    if (name === "select_n") {
      // Two float32 cases chosen by a bool scalar input of the group.
      const [w, ...cs] = m.eqn.inputs;
      const k = isVar(w!) ? value.get(w) : undefined;
      if (k === undefined || k >= inputs.length || !boolInput[k] || cs.length !== 2 || out.aval.dtype !== "float32" || cs.some((c) => c.aval.dtype !== "float32")) return null;
    } else if (out.aval.dtype !== "float32" || m.eqn.inputs.some((a) => a.aval.dtype !== "float32")) return null;
    const params = m.eqn.params as { y?: number };
    const op: Op1 | Op2 | Op3 | undefined = name === "select_n" ? "select" : name === "integer_pow" && params.y === 2 ? "square" : (UNARY[name] ?? BINARY[name]);
    if (!op || m.eqn.inputs.length !== (op === "select" ? 3 : op in BINARY ? 2 : 1)) return null;
    const args: Step["args"] = [];
    for (const a of m.eqn.inputs) {
      if (!isVar(a)) {
        args.push({ lit: (a as Literal).value });
        continue;
      }
      const k = value.get(a);
      if (k === undefined) return null;
      args.push(k);
    }
    steps.push({ out: values, op, args });
    value.set(out, values++);
  }
  const outs: number[] = [];
  for (const v of outputs) {
    const k = value.get(v);
    if (k === undefined || v.aval.dtype !== "float32") return null;
    outs.push(k);
  }
  return { scalarInput, boolInput, steps, outputs: outs, values };
};

/** Emits one op over locals (vector or scalar lanes), leaving the result on the stack. */
const emitStep = (f: FunctionBuilder, kind: "v" | "s", op: Op1 | Op2 | Op3, a: () => void, b: () => void, aLocal: Local, bLocal: Local, cLocal?: Local): void => {
  const t = kind === "v" ? "f32x4" : "f32";
  if (op === "select") {
    // select_n(pred = aLocal, c0 = bLocal, c1 = cLocal): pred ? c1 : c0.
    if (kind === "v") f.get(cLocal!).get(bLocal).get(aLocal).op("v128.bitselect");
    else f.get(cLocal!).get(bLocal).get(aLocal).op("select");
    return;
  }
  if (op === "square") {
    a();
    a();
    f.op(`${t}.mul` as PlainOp);
  } else if (op === "neg" || op === "abs" || op === "sqrt") {
    a();
    f.op(`${t}.${op}` as PlainOp);
  } else if (op === "max" || op === "min") {
    // a cmp b || a != a ? a : b, the JS kernels' rule.
    f.get(aLocal).get(bLocal).get(aLocal).get(bLocal).op(`${t}.${op === "max" ? "gt" : "lt"}` as PlainOp).get(aLocal).get(aLocal).op(`${t}.ne` as PlainOp);
    f.op(kind === "v" ? "v128.or" : "i32.or").op(kind === "v" ? "v128.bitselect" : "select");
  } else {
    a();
    b();
    f.op(`${t}.${op}` as PlainOp);
  }
};

/** Builds `run(inPtrs..., outPtrs..., n)` for the plan. */
const buildModule = (plan: Plan, nIn: number, nOut: number, shared: boolean): ModuleBuilder => {
  const m = new ModuleBuilder();
  m.importMemory({ initial: 1, maximum: MAX_PAGES, shared });
  m.func("run", { params: Array(nIn + nOut + 1).fill("i32") }, (f) => {
    const ptrs = f.params.slice(0, nIn + nOut);
    const n = f.params[nIn + nOut]!;
    const i = f.local("i32");
    const vecEnd = f.local("i32");
    for (const kind of ["v", "s"] as const) {
      const vals = Array.from({ length: plan.values }, (_, k) => f.local(kind === "v" ? "v128" : plan.boolInput[k] ? "i32" : "f32"));
      const lits: Local[] = [];
      const es = kind === "v" ? 16 : 4;
      // Scalars and literals are loaded (splatted) once; a bool scalar becomes a lane mask (or 0/1).
      plan.scalarInput.forEach((sc, k) => {
        if (!sc) return;
        if (plan.boolInput[k]) {
          // v: all ones in every lane when true (0 - 1), else zeros; s: 0 or 1.
          if (kind === "v") f.i32(0);
          f.get(ptrs[k]!).load("i32.load8_u").i32(0).op("i32.ne");
          if (kind === "v") f.op("i32.sub").op("i32x4.splat");
          f.set(vals[k]!);
          return;
        }
        f.get(ptrs[k]!).load(kind === "v" ? "v128.load32_splat" : "f32.load").set(vals[k]!);
      });
      const litLocal = (x: number): Local => {
        const l = f.local(kind === "v" ? "v128" : "f32");
        if (kind === "v") f.f32x4(x);
        else f.f32(x);
        f.set(l);
        lits.push(l);
        return l;
      };
      const argLocals = plan.steps.map((s) => s.args.map((a) => (typeof a === "number" ? vals[a]! : litLocal(a.lit))));
      const body = () => {
        plan.scalarInput.forEach((sc, k) => {
          if (sc) return;
          f.get(ptrs[k]!).get(i).op("i32.add").load(kind === "v" ? "v128.load" : "f32.load", 0, 0).set(vals[k]!);
        });
        plan.steps.forEach((s, j) => {
          const [a, b, c] = argLocals[j]! as [Local, Local | undefined, Local | undefined];
          emitStep(f, kind, s.op, () => f.get(a), () => f.get(b!), a, b ?? a, c);
          f.set(vals[s.out]!);
        });
        plan.outputs.forEach((v, k) => {
          f.get(ptrs[nIn + k]!).get(i).op("i32.add").get(vals[v]!).store(kind === "v" ? "v128.store" : "f32.store", 0, 0);
        });
      };
      if (kind === "v") {
        // Byte offsets: i runs over the vector part, then the tail.
        f.get(n).i32(-4).op("i32.and").i32(2).op("i32.shl").set(vecEnd);
        f.whileLt(i, vecEnd, es, body);
      } else {
        f.get(n).i32(2).op("i32.shl").set(vecEnd);
        f.whileLt(i, vecEnd, es, body);
      }
    }
  });
  return m;
};

type RunFn = (...args: number[]) => void;

/** @internal How many fused groups ran in Wasm (tests check that the path is taken). */
export const wasmFusedStats = { calls: 0 };

/**
 * A Wasm kernel for the group with the JS kernel's signature `(ins, outs)`, or null when the
 * group is outside this backend or the Wasm path is off. It returns false (having written
 * nothing) when the operands do not fit the kernel memory: the caller then runs the JS kernel.
 */
export const wasmFusedKernel = (g: FusionGroup, inputs: readonly Var[], outputs: readonly Var[], strideOf: (v: Var) => number[]): ((ins: TypedArray[], outs: TypedArray[]) => boolean) | null => {
  if (kernelPath() === "js") return null;
  const size = g.domain.reduce((a, b) => a * b, 1);
  if (size < WASM_FUSED_MIN) return null;
  const plan = planOf(g, inputs, outputs, strideOf);
  if (!plan || plan.steps.length === 0) return null;
  let run: RunFn;
  try {
    const { memory, shared } = kernelMemory();
    run = (new WebAssembly.Instance(buildModule(plan, inputs.length, outputs.length, shared).compile(), { env: { memory } }).exports as { run: RunFn }).run;
  } catch {
    // The JS backend runs the group (e.g. a browser's main thread refuses to compile a long
    // group's module over 4 KB synchronously); the kernel path is not demoted for this.
    return null;
  }
  return (ins, outs) => {
    arena.reset();
    const at: number[] = [];
    for (let k = 0; k < ins.length; k++) at.push(arena.alloc(ins[k]!.length * 4));
    const u8 = views().u8;
    for (let k = 0; k < ins.length; k++) if (plan.boolInput[k]) u8[at[k]!] = ins[k]![0]!;
    for (let k = 0; k < outs.length; k++) at.push(arena.alloc(size * 4));
    if (at.some((a) => a < 0)) return false;
    const mem = views().f32;
    for (let k = 0; k < ins.length; k++) if (!plan.boolInput[k]) mem.set(ins[k] as Float32Array, at[k]! / 4);
    run(...at, size);
    wasmFusedStats.calls++;
    const mem2 = views().f32;
    for (let k = 0; k < outs.length; k++) outs[k]!.set(mem2.subarray(at[ins.length + k]! / 4, at[ins.length + k]! / 4 + size));
    return true;
  };
};
