/**
 * From an optimized jaxpr to a runnable program: fusion groups become generated kernels,
 * control flow becomes loops over compiled sub-programs, every other equation calls its
 * primitive's kernel directly. `compileJaxpr` optimizes first; results are memoised per
 * jaxpr object (transforms memoise the jaxprs they derive, so a derived program compiles once).
 */
import { type ArrayBase, type NDArray, bufferOf } from "../array.js";
import { debugFlags } from "../config.js";
import type { Eqn, Jaxpr } from "../ir/jaxpr.js";
import { FusedStep } from "./fused_step.js";
import { GemmStep, isPlainGemm } from "./gemm_step.js";
import { planFusion, simdFaster } from "./fusion.js";
import { generateKernel } from "./kernel.js";
import { evalJaxpr } from "../interpreter.js";
import { installSubCompiler } from "./control.js";
import { optimize, type OptimizeReport } from "./passes/pipeline.js";
import { type CompiledProgram, PrimitiveStep, Program, Slots, type Step, stepBuilders } from "./program.js";

export interface Compiled {
  traced: Jaxpr;
  optimized: Jaxpr;
  program: CompiledProgram;
  report: OptimizeReport;
  /** Milliseconds spent optimizing and generating code. */
  optimizeMs: number;
  compileMs: number;
}

/**
 * The memory plan: a fused kernel writes an output into the buffer of an input that dies
 * at that step, when the buffer is the program's own (written by an earlier fused kernel,
 * or a donated argument), nothing else can alias it (it is read by fused kernels only, and
 * is not an output), and the kernel reads it only at each element's own index.
 */
const planMemory = (jaxpr: Jaxpr, steps: Step[], reads: number[][], slots: Slots, donated: readonly boolean[]): void => {
  const lastRead = new Map<number, number>();
  reads.forEach((rs, k) => rs.forEach((s) => lastRead.set(s, k)));
  const outSlots = new Set(jaxpr.outvars.map((a) => slots.slot(a)));
  // Fused kernels and GEMMs copy their operands into the kernel memory: they never alias them.
  const readByOther = new Set<number>();
  steps.forEach((st, k) => {
    if (!(st instanceof FusedStep || st instanceof GemmStep)) reads[k]!.forEach((s) => readByOther.add(s));
  });
  const owned = new Set<number>();
  jaxpr.invars.forEach((v, i) => donated[i] && owned.add(slots.slot(v)));
  steps.forEach((step, k) => {
    // A GEMM's epilogue is planned as the fused step it is (its placed input, C, has no buffer to give).
    const st = step instanceof GemmStep ? step.epilogue : step;
    if (!(st instanceof FusedStep)) return;
    const taken = new Set<number>();
    st.kernel.outputs.forEach((v, i) => {
      if (st.kernel.elementwiseOut[i]) {
        const j = st.kernel.inputs.findIndex(
          (u, jj) =>
            !taken.has(jj) &&
            st.kernel.inPlaceSafe[jj] &&
            owned.has(st.ins[jj]!) &&
            !readByOther.has(st.ins[jj]!) &&
            !outSlots.has(st.ins[jj]!) &&
            lastRead.get(st.ins[jj]!) === k &&
            u.aval.dtype === v.aval.dtype &&
            u.aval.size === v.aval.size,
        );
        if (j >= 0) {
          taken.add(j);
          st.reuse[i] = j;
        }
      }
      owned.add(slots.slot(v));
    });
  });
  planPool(steps, (s) => !outSlots.has(s) && !readByOther.has(s));
};

/**
 * Buffers kept across calls: a value that never leaves the program (not returned, read only
 * by fused kernels and GEMMs, which copy it and never alias it) is written into a buffer the
 * step keeps and reuses on the next call, instead of a fresh array each call (fewer
 * allocations and collections: for W3, the layers' activations and the gradients flowing
 * back through them; for W7, the convolution's 4 MiB result, written by a primitive step
 * through `implInto`). An output written in place into an input's buffer shares that
 * buffer, so the whole chain of values sharing it must stay inside.
 */
const planPool = (steps: Step[], inside: (slot: number) => boolean): void => {
  const root = new Map<number, number>();
  const rootOf = (s: number): number => root.get(s) ?? s;
  const fused = steps.map((st) => (st instanceof GemmStep ? st.epilogue : st instanceof FusedStep ? st : null));
  fused.forEach((st) => st?.reuse.forEach((j, i) => j >= 0 && root.set(st.outSlots[i]!, rootOf(st.ins[j]!))));
  const members = new Map<number, number[]>();
  const poolable = steps.filter((st): st is PrimitiveStep => st instanceof PrimitiveStep && st.poolable);
  const all = [...fused.flatMap((st) => st?.outSlots ?? []), ...steps.flatMap((st) => (st instanceof GemmStep ? [st.out] : [])), ...poolable.flatMap((st) => st.outs)];
  for (const s of all) members.set(rootOf(s), [...(members.get(rootOf(s)) ?? []), s]);
  const keep = (s: number) => members.get(rootOf(s))!.every(inside);
  fused.forEach((st) => st?.reuse.forEach((j, i) => (st.pooled[i] = j < 0 && keep(st.outSlots[i]!))));
  steps.forEach((st) => st instanceof GemmStep && (st.pooled = keep(st.out)));
  poolable.forEach((st) => (st.pooled = st.outs.every(keep)));
};

/**
 * GEMM epilogues: a product whose first reader is a fused step with a Wasm kernel that can
 * read it in place (whole, row-major) runs at that reader's place, with the reader as its
 * epilogue (gemm_step.ts). Nothing between the two reads the product, so moving it later
 * keeps every dependency; its operands stay alive until then (the reads say so).
 */
const attachEpilogues = (jaxpr: Jaxpr, steps: Step[], reads: number[][], slots: Slots): void => {
  const outSlots = new Set(jaxpr.outvars.map((a) => slots.slot(a)));
  for (let i = steps.length - 1; i >= 0; i--) {
    const g = steps[i];
    if (!(g instanceof GemmStep) || g.epilogue) continue;
    const readers = reads.map((rs, k) => (rs.includes(g.out) ? k : -1)).filter((k) => k >= 0);
    const j = readers[0];
    const f = j === undefined ? undefined : steps[j];
    if (!(f instanceof FusedStep)) continue;
    const at = f.ins.indexOf(g.out);
    if (at < 0 || f.ins.lastIndexOf(g.out) !== at || !f.kernel.wasmKernel?.placeable[at]) continue;
    g.attach(f, at, readers.length > 1 || outSlots.has(g.out));
    steps[j!] = g;
    reads[j!] = g.ins.slice();
    steps.splice(i, 1);
    reads.splice(i, 1);
  }
};

/** Builds the program of an already-optimized jaxpr (`donated` marks inputs whose buffers it may reuse). */
export const compileOptimized = (jaxpr: Jaxpr, donated: readonly boolean[] = []): CompiledProgram => {
  // Groups take in float32 math (tanh, exp, ...) when they compile to Wasm, which runs it as
  // fast as its own kernel; a group left to the JS backend is planned again with that math
  // out of it (see simdFaster).
  const keepOut = new Set<Eqn>();
  let plan = planFusion(jaxpr);
  let kernels = plan.map((item) => (item.kind === "group" ? generateKernel(item.group) : null));
  plan.forEach((item, i) => {
    if (item.kind === "group" && !kernels[i]?.wasm) for (const m of item.group.members) if (simdFaster(m.eqn)) keepOut.add(m.eqn);
  });
  if (keepOut.size) {
    plan = planFusion(jaxpr, keepOut);
    kernels = plan.map((item) => (item.kind === "group" ? generateKernel(item.group) : null));
  }
  const slots = new Slots();
  const steps: Step[] = [];
  const reads: number[][] = [];
  const addEqn = (e: Eqn) => {
    const b = stepBuilders.get(e.primitive);
    steps.push(b ? b(e, slots) : isPlainGemm(e) ? new GemmStep(e, slots) : new PrimitiveStep(e, slots));
    reads.push(e.inputs.map((a) => slots.slot(a)));
  };
  plan.forEach((item, i) => {
    if (item.kind === "eqn") {
      addEqn(item.eqn);
      return;
    }
    const k = kernels[i];
    if (!k) {
      item.group.members.forEach((m) => addEqn(m.eqn));
      return;
    }
    const step = new FusedStep(item.group, k, slots);
    steps.push(step);
    reads.push(step.ins);
  });
  attachEpilogues(jaxpr, steps, reads, slots);
  planMemory(jaxpr, steps, reads, slots, donated);
  return new Program(jaxpr, steps, slots, reads, donated);
};
installSubCompiler((j) => compileOptimized(j));

const compiled = new WeakMap<Jaxpr, Map<string, Compiled>>();

/** Optimizes and compiles `jaxpr` (constants hoisted or concrete), memoised per jaxpr object and donation. */
export const compileJaxpr = (jaxpr: Jaxpr, donated: readonly boolean[] = []): Compiled => {
  const key = donated.map((d) => (d ? 1 : 0)).join("");
  let byDonation = compiled.get(jaxpr);
  if (!byDonation) compiled.set(jaxpr, (byDonation = new Map()));
  let c = byDonation.get(key);
  if (c) return c;
  const t0 = performance.now();
  const { jaxpr: optimized, report } = optimize(jaxpr);
  const t1 = performance.now();
  const program = compileOptimized(optimized, donated);
  const t2 = performance.now();
  c = { traced: jaxpr, optimized, program, report, optimizeMs: t1 - t0, compileMs: t2 - t1 };
  byDonation.set(key, c);
  return c;
};

const hasForbidden = (outs: readonly NDArray[]): boolean => {
  for (const x of outs) {
    if (x.dtype !== "float32" && x.dtype !== "float64") continue;
    const b = bufferOf(x);
    for (let i = 0; i < b.length; i++) {
      const v = b[i]!;
      if ((debugFlags.nans && v !== v) || (debugFlags.infs && (v === Infinity || v === -Infinity))) return true;
    }
  }
  return false;
};

/**
 * Runs a compiled program. With `debugNans`/`debugInfs` on, its outputs are checked and, on
 * a hit, the traced jaxpr is rerun op by op by the interpreter, whose check names the
 * equation and the user's line (as JAX reruns a jitted function un-jitted on a NaN).
 */
export const runCompiled = (c: Compiled, args: readonly ArrayBase[]): NDArray[] => {
  const outs = c.program.run(args);
  if (debugFlags.check && hasForbidden(outs)) evalJaxpr(c.traced, args);
  return outs;
};
