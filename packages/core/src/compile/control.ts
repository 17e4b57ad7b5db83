/**
 * Control flow inside a compiled program: `scan`, `while` and `cond` run their bodies as
 * compiled sub-programs in a plain JS loop, so an iteration costs one sub-program run: no
 * tracing, no `bind`, no per-equation dispatch through the interpreter.
 */
import { type NDArray, bufferOf, fromBuffer } from "../array.js";
import { typedArrayFor } from "../dtype.js";
import type { Atom, Eqn, Jaxpr } from "../ir/jaxpr.js";
import { condP } from "../higher/control/cond.js";
import { scanP, type ScanParams } from "../higher/control/scan.js";
import { whileP, type WhileParams } from "../higher/control/while.js";
import type { CompiledProgram, Env, SlotMap, Step } from "./program.js";
import { stepBuilders } from "./program.js";

/** Compiles an (already optimized) sub-jaxpr; set by compile.ts, which sits above this file. */
let compileSub: (j: Jaxpr) => CompiledProgram = () => {
  throw new Error("control.ts: compileSub is not installed");
};
export const installSubCompiler = (f: (j: Jaxpr) => CompiledProgram): void => {
  compileSub = f;
};

abstract class LoopStep implements Step {
  readonly eqns: readonly Eqn[];
  protected readonly ins: number[];
  protected readonly outs: number[];
  constructor(eqn: Eqn, slots: SlotMap) {
    this.eqns = [eqn];
    this.ins = eqn.inputs.map((a) => slots.slot(a));
    this.outs = eqn.outputs.map((v) => slots.slot(v));
  }
  abstract run(env: Env): void;
  abstract subPrograms(): CompiledProgram[];
  describe(name: (a: Atom) => string): string {
    const e = this.eqns[0]!;
    const subs = this.subPrograms()
      .map((p) => `{ ${p.steps.length} steps }`)
      .join(" ");
    return `${e.outputs.map(name).join(" ")} = ${e.primitive.name}-loop ${subs} ${e.inputs.map(name).join(" ")}`;
  }
}

class ScanStep extends LoopStep {
  private readonly body: CompiledProgram;
  constructor(
    eqn: Eqn,
    slots: SlotMap,
    private readonly p: ScanParams,
  ) {
    super(eqn, slots);
    this.body = compileSub(p.jaxpr);
  }
  subPrograms() {
    return [this.body];
  }
  run(env: Env): void {
    const { num_consts: nc, num_carry: ncar, length, reverse, jaxpr } = this.p;
    const args = this.ins.map((s) => env[s]!);
    const consts = args.slice(0, nc);
    let carry: NDArray[] = args.slice(nc, nc + ncar);
    const xs = args.slice(nc + ncar);
    const yAvals = jaxpr.outAvals.slice(ncar);
    const ys = yAvals.map((a) => typedArrayFor(a.dtype, a.size * length));
    const xSizes = xs.map((x) => x.size / Math.max(length, 1));
    const xBufs = xs.map(bufferOf);
    const callArgs: NDArray[] = [...consts, ...carry, ...xs];
    for (let k = 0; k < length; k++) {
      const i = reverse ? length - 1 - k : k;
      for (let j = 0; j < ncar; j++) callArgs[nc + j] = carry[j]!;
      for (let j = 0; j < xs.length; j++) {
        const n = xSizes[j]!;
        callArgs[nc + ncar + j] = fromBuffer(xBufs[j]!.subarray(i * n, (i + 1) * n), xs[j]!.shape.slice(1), xs[j]!.dtype);
      }
      const outs = this.body.run(callArgs);
      carry = outs.slice(0, ncar);
      for (let j = 0; j < ys.length; j++) ys[j]!.set(bufferOf(outs[ncar + j]!), i * yAvals[j]!.size);
    }
    const res = [...carry, ...ys.map((b, j) => fromBuffer(b, [length, ...yAvals[j]!.shape], yAvals[j]!.dtype))];
    this.outs.forEach((s, i) => (env[s] = res[i]));
  }
}

class WhileStep extends LoopStep {
  private readonly cond: CompiledProgram;
  private readonly body: CompiledProgram;
  constructor(
    eqn: Eqn,
    slots: SlotMap,
    private readonly p: WhileParams,
  ) {
    super(eqn, slots);
    this.cond = compileSub(p.cond_jaxpr);
    this.body = compileSub(p.body_jaxpr);
  }
  subPrograms() {
    return [this.cond, this.body];
  }
  run(env: Env): void {
    const { cond_nconsts: cn, body_nconsts: bn } = this.p;
    const args = this.ins.map((s) => env[s]!);
    const cc = args.slice(0, cn);
    const bc = args.slice(cn, cn + bn);
    let carry = args.slice(cn + bn);
    while (bufferOf(this.cond.run([...cc, ...carry])[0]!)[0]) carry = this.body.run([...bc, ...carry]);
    this.outs.forEach((s, i) => (env[s] = carry[i]));
  }
}

class CondStep extends LoopStep {
  private readonly branches: CompiledProgram[];
  constructor(eqn: Eqn, slots: SlotMap, branches: readonly Jaxpr[]) {
    super(eqn, slots);
    this.branches = branches.map((b) => compileSub(b));
  }
  subPrograms() {
    return this.branches;
  }
  run(env: Env): void {
    const args = this.ins.map((s) => env[s]!);
    const i = Math.min(Math.max(bufferOf(args[0]!)[0]!, 0), this.branches.length - 1);
    const outs = this.branches[i]!.run(args.slice(1));
    this.outs.forEach((s, k) => (env[s] = outs[k]));
  }
}

stepBuilders.set(scanP, (e, slots) => new ScanStep(e, slots, e.params as unknown as ScanParams));
stepBuilders.set(whileP, (e, slots) => new WhileStep(e, slots, e.params as unknown as WhileParams));
stepBuilders.set(condP, (e, slots) => new CondStep(e, slots, (e.params as unknown as { branches: readonly Jaxpr[] }).branches));
