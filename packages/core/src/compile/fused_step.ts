/** A program step running one generated kernel for a fused group. */
import { type NDArray, bufferOf, fromBuffer } from "../array.js";
import { type ShapedArray, type TypedArray, typedArrayFor, uninitializedFloatArray } from "../dtype.js";
import type { Atom, Eqn } from "../ir/jaxpr.js";
import type { FusionGroup } from "./fusion.js";
import type { GeneratedKernel } from "./kernel.js";
import { arena, views } from "../kernels/wasm/runtime.js";
import { type Env, type SlotMap, type Step, poolOpen } from "./program.js";

const EMPTY = new Float32Array(0);

export class FusedStep implements Step {
  readonly eqns: readonly Eqn[];
  readonly ins: number[];
  readonly outSlots: number[];
  private readonly avals: ShapedArray[];
  /** Memory plan: per output, the input position whose (dead, owned) buffer it is written into, or -1. */
  reuse: number[];
  /** Memory plan: per output, whether it never leaves the program, so its buffer is kept for the next call. */
  pooled: boolean[];
  private readonly pool: (TypedArray | null)[];
  constructor(
    readonly group: FusionGroup,
    readonly kernel: GeneratedKernel,
    slots: SlotMap,
  ) {
    this.eqns = group.members.map((m) => m.eqn);
    this.ins = kernel.inputs.map((v) => slots.slot(v));
    this.outSlots = kernel.outputs.map((v) => slots.slot(v));
    this.reuse = kernel.outputs.map(() => -1);
    this.pooled = kernel.outputs.map(() => false);
    this.pool = kernel.outputs.map(() => null);
    this.avals = kernel.outputs.map((v) => v.aval);
  }
  /**
   * The buffer output i is written into when not in place: the kept one, or a new array
   * (float ones not zero-filled: the kernel writes every element, an elementwise output at
   * each index and a reduction at each kept index).
   */
  private fresh(i: number): TypedArray {
    const a = this.avals[i]!;
    const make = () => (a.dtype === "float32" || a.dtype === "float64" ? uninitializedFloatArray(a.dtype, a.size) : typedArrayFor(a.dtype, a.size));
    if (!this.pooled[i] || !poolOpen()) return make();
    return (this.pool[i] ??= make());
  }
  run(env: Env): void {
    const ins = this.ins;
    const bufs = new Array<TypedArray>(ins.length);
    for (let i = 0; i < ins.length; i++) bufs[i] = bufferOf(env[ins[i]!]!);
    const avals = this.avals;
    const outBufs = new Array<TypedArray>(avals.length);
    const reuse = this.reuse;
    for (let i = 0; i < avals.length; i++) outBufs[i] = reuse[i]! >= 0 ? bufs[reuse[i]!]! : this.fresh(i);
    this.kernel.fn(bufs, outBufs);
    const outs = this.outSlots;
    for (let i = 0; i < outs.length; i++) env[outs[i]!] = fromBuffer(outBufs[i]!, avals[i]!.shape as number[], avals[i]!.dtype) as NDArray;
  }
  /**
   * Copies the inputs the Wasm kernel reads whole (other than input `except`) into the kernel
   * memory, above what the arena holds now: their offsets, -1 where not staged. Run while a
   * GEMM computes, so the kernel that follows it need not copy them then (gemm_step.ts).
   */
  stage(env: Env, except: number): number[] {
    const wasm = this.kernel.wasmKernel;
    const placed = this.ins.map(() => -1);
    if (!wasm) return placed;
    this.ins.forEach((slot, i) => {
      if (i === except || !wasm.placeable[i] || this.ins.indexOf(slot) !== i) return;
      const buf = bufferOf(env[slot]!) as Float32Array;
      const at = arena.alloc(buf.length * 4);
      if (at < 0) return;
      views().f32.set(buf, at / 4);
      placed[i] = at;
    });
    return placed;
  }
  /**
   * Runs the Wasm kernel with input `k` already in the kernel memory (a GEMM's result: its
   * slot may hold nothing) and the inputs `placed` gives offsets for (`k`'s among them), taking
   * room above `mark`. False, having written nothing, when the Wasm kernel cannot run it: the
   * caller then materializes input `k` and calls {@link run}.
   */
  runPlaced(env: Env, k: number, placed: readonly number[], mark: number): boolean {
    const wasm = this.kernel.wasmKernel;
    if (!wasm) return false;
    const ins = this.ins;
    const bufs = new Array<TypedArray>(ins.length);
    for (let i = 0; i < ins.length; i++) bufs[i] = i === k ? EMPTY : bufferOf(env[ins[i]!]!);
    const avals = this.avals;
    const outBufs = new Array<TypedArray>(avals.length);
    const reuse = this.reuse;
    for (let i = 0; i < avals.length; i++) outBufs[i] = reuse[i]! >= 0 && reuse[i] !== k ? bufs[reuse[i]!]! : this.fresh(i);
    if (!wasm(bufs, outBufs, placed, mark)) return false;
    const outs = this.outSlots;
    for (let i = 0; i < outs.length; i++) env[outs[i]!] = fromBuffer(outBufs[i]!, avals[i]!.shape as number[], avals[i]!.dtype) as NDArray;
    return true;
  }
  describe(name: (a: Atom) => string): string {
    const g = this.group;
    const ops = g.members.map((m) => (m.kind === "load" ? `${m.eqn.primitive.name}(load)` : m.eqn.primitive.name)).join(" ");
    const dom = `[${g.domain.join(",")}]${g.reduceAxes ? ` reduce(${g.reduceAxes.join(",")})` : ""}`;
    const inPlace = this.reuse.map((j, i) => (j >= 0 ? ` ${name(this.kernel.outputs[i]!)}<-${name(this.kernel.inputs[j]!)}` : "")).join("");
    const kept = this.kernel.outputs.filter((_, i) => this.pooled[i]).map(name);
    return `${this.kernel.outputs.map(name).join(" ")} = fused${dom} { ${ops} } ${this.kernel.inputs.map(name).join(" ")}${inPlace ? `  (in place:${inPlace})` : ""}${kept.length ? `  (kept: ${kept.join(" ")})` : ""}`;
  }
}
