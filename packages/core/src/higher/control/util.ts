/** Small helpers shared by the control-flow primitives. */
import type { ArrayBase } from "../../array.js";
import type { ShapedArray } from "../../dtype.js";
import { type SourceInfo, TypeMismatchError } from "../../errors.js";
import type { Jaxpr } from "../../ir/jaxpr.js";
import { traceToJaxpr, type Tracer } from "../../trace.js";

/** Splits `xs` into consecutive groups of the given sizes (the rest goes last). */
export const splitList = <T>(xs: readonly T[], sizes: readonly number[]): T[][] => {
  const out: T[][] = [];
  let k = 0;
  for (const n of sizes) {
    out.push(xs.slice(k, k + n));
    k += n;
  }
  out.push(xs.slice(k));
  return out;
};

/**
 * A jaxpr from a function over flat arrays (used to re-arrange sub-jaxprs in rules). A
 * rewrite, not the user's function: its trace begins at `source` (the equation rewritten),
 * else at the enclosing trace's begin site (see traceToJaxpr).
 */
export const jaxprOf = (avals: readonly ShapedArray[], fn: (...xs: Tracer[]) => ArrayBase[], source: SourceInfo | null = null): Jaxpr =>
  traceToJaxpr(fn, avals, source ?? "rewrite");

export const typesText = (avals: readonly { toString(): string }[]): string => `(${avals.map(String).join(", ")}${avals.length === 1 ? "," : ""})`;

/** Throws TypeMismatchError unless the two aval lists agree. */
export const requireSameTypes = (op: string, what: string, a: readonly ShapedArray[], b: readonly ShapedArray[], hint?: string): void => {
  if (a.length !== b.length || a.some((x, i) => !x.equals(b[i]!))) {
    throw new TypeMismatchError(`${what}: ${typesText(a)} vs ${typesText(b)}`, { op, hint });
  }
};
