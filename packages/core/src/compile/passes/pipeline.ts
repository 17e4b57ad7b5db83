/**
 * The optimisation pipeline: a list of small passes over jaxprs, run in order until the
 * program stops changing (at most a few rounds). Every pass keeps the jaxpr's interface
 * (inputs and output types) and `typecheck` green, and is idempotent.
 */
import type { Jaxpr } from "../../ir/jaxpr.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { foldConstants } from "./fold.js";
import { inlineCalls } from "./inline.js";
import { simplify } from "./simplify.js";

export interface Pass {
  name: string;
  run: (j: Jaxpr) => Jaxpr;
}

export const passes: readonly Pass[] = [
  { name: "inline", run: inlineCalls },
  { name: "simplify", run: simplify },
  { name: "fold", run: foldConstants },
  { name: "cse", run: cse },
  { name: "dce", run: dce },
];

export interface OptimizeReport {
  /** Equations (top level) before and after. */
  eqnsBefore: number;
  eqnsAfter: number;
  rounds: number;
}

/** Runs every pass, repeating the list while it still changes something (at most 4 rounds). */
export const optimize = (jaxpr: Jaxpr): { jaxpr: Jaxpr; report: OptimizeReport } => {
  let j = jaxpr;
  let rounds = 0;
  for (; rounds < 4; rounds++) {
    const before = j;
    for (const p of passes) j = p.run(j);
    if (j === before) break;
  }
  return { jaxpr: j, report: { eqnsBefore: jaxpr.eqns.length, eqnsAfter: j.eqns.length, rounds } };
};
