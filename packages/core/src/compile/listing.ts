/** The readable listing of a compiled program: its steps, the equations each fuses, its kernels. */
import type { Atom, Var } from "../ir/jaxpr.js";
import { Literal } from "../ir/jaxpr.js";
import type { CompiledProgram } from "./program.js";
import { nameOf } from "../ir/print.js";

export const listProgram = (p: CompiledProgram, fname: string): string => {
  const names = new Map<Var, string>();
  const name = (a: Atom): string => {
    if (a instanceof Literal) return String(a.value);
    let n = names.get(a);
    if (!n) names.set(a, (n = nameOf(names.size)));
    return n;
  };
  const j = p.jaxpr;
  const head = `program ${fname}(${j.invars.map((v) => `${name(v)}:${v.aval}`).join(", ")})${j.constvars.length ? ` consts (${j.constvars.map((v) => `${name(v)}:${v.aval}`).join(", ")})` : ""}`;
  const fused = p.steps.filter((s) => s.eqns.length > 1);
  const summary = `  ${p.steps.length} steps for ${p.steps.reduce((n, s) => n + s.eqns.length, 0)} equations; ${fused.length} fused kernel${fused.length === 1 ? "" : "s"}`;
  const body = p.steps.map((s, k) => `  ${String(k).padStart(3)}: ${s.describe(name)}`);
  return [head, summary, ...body, `  return (${j.outvars.map(name).join(", ")})`].join("\n");
};
