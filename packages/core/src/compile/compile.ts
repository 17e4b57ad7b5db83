/**
 * From an optimized jaxpr to a runnable program: fusion groups become generated kernels,
 * control flow becomes loops over compiled sub-programs, every other equation calls its
 * primitive's kernel directly. `compileJaxpr` optimizes first; results are memoised per
 * jaxpr object (transforms memoise the jaxprs they derive, so a derived program compiles once).
 */
import type { Jaxpr } from "../ir/jaxpr.js";
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

/** Builds the program of an already-optimized jaxpr. */
export const compileOptimized = (jaxpr: Jaxpr): CompiledProgram => {
  const slots = new Slots();
  const steps: Step[] = [];
  const reads: number[][] = [];
  for (const e of jaxpr.eqns) {
    const b = stepBuilders.get(e.primitive);
    steps.push(b ? b(e, slots) : new PrimitiveStep(e, slots));
    reads.push(e.inputs.map((a) => slots.slot(a)));
  }
  return new Program(jaxpr, steps, slots, reads);
};
installSubCompiler(compileOptimized);

const compiled = new WeakMap<Jaxpr, Compiled>();

/** Optimizes and compiles `jaxpr` (constants hoisted or concrete), memoised per jaxpr object. */
export const compileJaxpr = (jaxpr: Jaxpr): Compiled => {
  let c = compiled.get(jaxpr);
  if (c) return c;
  const t0 = performance.now();
  const { jaxpr: optimized, report } = optimize(jaxpr);
  const t1 = performance.now();
  const program = compileOptimized(optimized);
  const t2 = performance.now();
  c = { traced: jaxpr, optimized, program, report, optimizeMs: t1 - t0, compileMs: t2 - t1 };
  compiled.set(jaxpr, c);
  return c;
};
