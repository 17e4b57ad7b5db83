/** What a system (Cotangent, a variant of it, or a peer) provides to the harness. */
import type { Output } from "../workloads.js";

export interface Runner {
  /** One timed run. A returned promise is awaited inside the timing (jax-js's blockUntilReady). */
  run(): unknown;
  /** The case's outputs for the check, in the order the case documents (untimed). */
  outputs(): Output[] | Promise<Output[]>;
  /** Value cases only (W6): the measured figure in bytes. */
  measure?(): number;
}

/** Builds a runner for one case from its shared data; may throw if the system cannot do it. */
export type CaseImpl = (data: any, quick: boolean) => Runner | Promise<Runner>;

export interface System {
  name: string;
  /** Peers are what Cotangent's rows are compared with ("ratio to the best peer"). */
  peer: boolean;
  setup(): Promise<void>;
  /** Version, backend and threads, for the table's legend. */
  describe(): string;
  /** Case id → implementation, or a sentence saying why the system cannot run it. */
  cases: Record<string, CaseImpl | string>;
}

/** Marks a case the system cannot run, with the reason shown in the table. */
export const unsupported = (why: string): string => why;

/** Concatenates typed arrays (gradient leaves) into one, for a single check. */
export const concat = (parts: ArrayLike<number>[]): Float64Array => {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
