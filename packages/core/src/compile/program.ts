/**
 * A compiled program: the optimized jaxpr's equations turned into a flat list of steps
 * over numbered slots. A step is a fused kernel (fusion.ts), a loop running compiled
 * sub-programs (control.ts), or one primitive's kernel called directly: no `bind`, no
 * abstract evaluation, no tracing, no map lookups per equation. Each value's slot is
 * cleared right after its last reader, so the garbage collector can take it, and the
 * memory plan hands dead buffers to the kernels that write new ones.
 */
import { type ArrayBase, NDArray, bufferOf, fromBuffer } from "../array.js";
import { type TypedArray, typedArrayFor, uninitializedFloatArray } from "../dtype.js";
import { CotangentError, type SourceInfo, ValueError } from "../errors.js";
import { type Atom, type Eqn, type Jaxpr, Literal, type Var } from "../ir/jaxpr.js";
import type { Primitive } from "../ir/primitive.js";

/** The values of a running program, by slot. */
export type Env = (NDArray | undefined)[];

/** One step of a program. */
export interface Step {
  run(env: Env): void;
  /** The equations it stands for (for listings and error messages). */
  readonly eqns: readonly Eqn[];
  /** One line for `lower(...).toString()`. */
  describe(name: (a: Atom) => string): string;
}

/** What step builders need from the program being compiled. */
export interface SlotMap {
  slot(a: Atom): number;
}

/** Builds a step for an equation of a primitive that needs more than its kernel (control flow). */
export type StepBuilder = (eqn: Eqn, slots: SlotMap) => Step;
export const stepBuilders = new Map<Primitive, StepBuilder>();

/** A step calling the primitive's kernel (`impl`) on slot values. */
export class PrimitiveStep implements Step {
  readonly eqns: readonly Eqn[];
  private readonly ins: number[];
  readonly outs: number[];
  /**
   * Memory plan: every output stays inside the program and the primitive can write into
   * given memory (`implInto`), so the step keeps its outputs' memory for the next call.
   */
  pooled = false;
  private pool: TypedArray[] | null = null;
  constructor(
    readonly eqn: Eqn,
    slots: SlotMap,
  ) {
    this.eqns = [eqn];
    this.ins = eqn.inputs.map((a) => slots.slot(a));
    this.outs = eqn.outputs.map((v) => slots.slot(v));
  }
  /** Whether the primitive can write into kept memory: float outputs, `implInto`. */
  get poolable(): boolean {
    return this.eqn.primitive.implInto !== undefined && this.eqn.outputs.every((v) => v.aval.dtype === "float32" || v.aval.dtype === "float64");
  }
  run(env: Env): void {
    const ins = this.ins;
    const args = new Array<NDArray>(ins.length);
    for (let i = 0; i < ins.length; i++) args[i] = env[ins[i]!]!;
    const p = this.eqn.primitive;
    let r: NDArray[] | null = null;
    if (this.pooled && poolOpen()) {
      this.pool ??= this.eqn.outputs.map((v) => uninitializedFloatArray(v.aval.dtype as "float32" | "float64", v.aval.size));
      r = p.implInto!(args, this.eqn.params, this.pool);
    }
    r ??= p.impl(args, this.eqn.params);
    const outs = this.outs;
    for (let i = 0; i < outs.length; i++) env[outs[i]!] = r[i];
  }
  describe(name: (a: Atom) => string): string {
    const e = this.eqn;
    const kept = this.pooled ? `  (kept: ${e.outputs.map(name).join(" ")})` : "";
    return `${e.outputs.map(name).join(" ")} = ${e.primitive.name} ${e.inputs.map(name).join(" ")}${kept}`;
  }
}

/** Where each var of a jaxpr lives, and the scalar arrays standing for its literals. */
export class Slots implements SlotMap {
  private readonly index = new Map<Var | Literal, number>();
  /** Slots filled before the first step: constants and literals. */
  readonly preset: [number, NDArray][] = [];
  count = 0;
  slot(a: Atom): number {
    let s = this.index.get(a);
    if (s === undefined) {
      s = this.count++;
      this.index.set(a, s);
      if (a instanceof Literal) {
        const b = typedArrayFor(a.aval.dtype, 1);
        b[0] = a.value;
        this.preset.push([s, fromBuffer(b, [], a.aval.dtype)]);
      }
    }
    return s;
  }
  has(a: Atom): boolean {
    return this.index.has(a);
  }
}

/**
 * Programs running now that were entered again before they returned (a debug callback
 * calling the jitted function): while any is, steps take fresh buffers, since the buffers they
 * keep across calls still hold the outer run's values.
 */
let reentered = 0;
/** Whether steps may write into the buffers they keep across calls. */
export const poolOpen = (): boolean => reentered === 0;

/** Turns a non-Cotangent error thrown by a kernel into one naming the equation and the user's line. */
const attribute = (err: unknown, eqn: Eqn | undefined): unknown => {
  if (err instanceof CotangentError || !eqn) return err;
  const source: SourceInfo | null = eqn.source;
  return new ValueError(`${(err as Error)?.message ?? String(err)} (in the compiled program)`, { op: eqn.primitive.name, source });
};

export interface CompiledProgram {
  readonly jaxpr: Jaxpr;
  readonly steps: readonly Step[];
  run(args: readonly ArrayBase[]): NDArray[];
}

/**
 * Assembles steps into a runnable program: presets, the drop schedule (each slot cleared
 * after its last reader) and the output reads.
 */
export class Program implements CompiledProgram {
  private readonly inSlots: number[];
  private readonly outSlots: number[];
  private readonly drops: number[][];
  private readonly nSlots: number;
  private readonly preset: [number, NDArray][];
  constructor(
    readonly jaxpr: Jaxpr,
    readonly steps: readonly Step[],
    slots: Slots,
    /** For each step, the slots it reads (to schedule drops). */
    reads: readonly number[][],
    /** Inputs whose buffers the memory plan may overwrite. */
    private readonly donated: readonly boolean[] = [],
  ) {
    jaxpr.constvars.forEach((v, i) => {
      const c = jaxpr.consts[i];
      if (!(c instanceof NDArray)) throw new ValueError("a compiled program's constants must be concrete arrays", { op: "jit" });
      slots.preset.push([slots.slot(v), c]);
    });
    this.inSlots = jaxpr.invars.map((v) => slots.slot(v));
    this.outSlots = jaxpr.outvars.map((a) => slots.slot(a));
    this.preset = slots.preset;
    this.nSlots = slots.count;
    const keep = new Set(this.outSlots);
    const last = new Map<number, number>();
    reads.forEach((rs, k) => rs.forEach((s) => last.set(s, k)));
    this.drops = steps.map(() => [] as number[]);
    for (const [s, k] of last) if (!keep.has(s)) this.drops[k]!.push(s);
  }
  /** A donated argument sharing memory with another argument (a reshape of it, the same array twice) is copied first, so reusing it is safe. */
  private unshareDonated(env: Env, args: readonly ArrayBase[]): void {
    const count = new Map<ArrayBufferLike, number>();
    const all = [...args, ...this.jaxpr.consts];
    for (const a of all) {
      const b = bufferOf(a as NDArray).buffer;
      count.set(b, (count.get(b) ?? 0) + 1);
    }
    this.donated.forEach((d, i) => {
      if (!d) return;
      const x = args[i] as NDArray;
      const buf = bufferOf(x);
      if ((count.get(buf.buffer) ?? 0) > 1 || buf.length !== x.size) env[this.inSlots[i]!] = fromBuffer(buf.slice(), x.shape, x.dtype);
    });
  }
  private running = false;
  run(args: readonly ArrayBase[]): NDArray[] {
    const again = this.running;
    if (again) reentered++;
    this.running = true;
    try {
      return this.runSteps(args);
    } finally {
      if (again) reentered--;
      else this.running = false;
    }
  }
  private runSteps(args: readonly ArrayBase[]): NDArray[] {
    const env: Env = new Array(this.nSlots);
    for (const [s, v] of this.preset) env[s] = v;
    const ins = this.inSlots;
    for (let i = 0; i < ins.length; i++) env[ins[i]!] = args[i] as NDArray;
    if (this.donated.some(Boolean)) this.unshareDonated(env, args);
    const steps = this.steps;
    let k = 0;
    try {
      for (; k < steps.length; k++) {
        steps[k]!.run(env);
        const d = this.drops[k]!;
        for (let i = 0; i < d.length; i++) env[d[i]!] = undefined;
      }
    } catch (err) {
      throw attribute(err, steps[k]?.eqns[0]);
    }
    return this.outSlots.map((s) => env[s]!);
  }
}
