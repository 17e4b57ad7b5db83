/**
 * The interpreter: evaluates a jaxpr equation by equation through `bind`, so evaluating
 * inside an active trace records into it (this is how transforms compose). Each value is
 * dropped right after its last use, and the bytes it holds are counted, so peak memory is
 * what the program needs and can be measured with {@link memoryProfile}. Evaluated eagerly,
 * results go into memory the interpreter owns when it can (interpreter_memory.ts).
 */
import { requireFunction } from "./api/args.js";
import { type ArrayBase, NDArray, fromBuffer } from "./array.js";
import { typedArrayFor } from "./dtype.js";
import { ValueError } from "./errors.js";
import type { Atom, Eqn, Jaxpr, Literal, Var } from "./ir/jaxpr.js";
import { debugFlags } from "./config.js";
import { checkEqnOutputs, withinEqn } from "./nan_check.js";
import { bind, currentTrace, requireConcrete, withOrigin } from "./trace.js";
import { OwnedMemory, countInPlace, inPlaceOn } from "./interpreter_memory.js";

export { clearRecycled, inPlaceCount, recycledCount, setInPlace } from "./interpreter_memory.js";

let liveBytes = 0;
let peakBytes = 0;

const hold = (x: ArrayBase): void => {
  if (x instanceof NDArray) {
    liveBytes += x.nbytes;
    if (liveBytes > peakBytes) peakBytes = liveBytes;
  }
};
const release = (x: ArrayBase): void => {
  if (x instanceof NDArray) liveBytes -= x.nbytes;
};

/** For each equation, the vars whose last reader it is (computed once per jaxpr). */
const lastUses = new WeakMap<Jaxpr, Var[][]>();
const lastUsesOf = (j: Jaxpr): Var[][] => {
  let lu = lastUses.get(j);
  if (lu) return lu;
  const last = new Map<Var, number>();
  const outs = new Set(j.outvars.filter((a): a is Var => !("value" in a)));
  const note = (a: Atom, k: number) => {
    if (!("value" in a) && !outs.has(a)) last.set(a, k);
  };
  // Inputs and constants nobody reads are dropped before the first equation (index -1 -> slot 0 "before").
  for (const v of [...j.constvars, ...j.invars]) if (!outs.has(v)) last.set(v, -1);
  j.eqns.forEach((e, k) => {
    e.inputs.forEach((a) => note(a, k));
    for (const v of e.outputs) if (!outs.has(v)) last.set(v, k); // unread outputs die at birth
  });
  lu = Array.from({ length: j.eqns.length + 1 }, () => [] as Var[]);
  for (const [v, k] of last) lu[k + 1]!.push(v);
  lastUses.set(j, lu);
  return lu;
};

const literalArrays = new WeakMap<Literal, NDArray>();
const literalArray = (l: Literal): NDArray => {
  let a = literalArrays.get(l);
  if (!a) {
    const buf = typedArrayFor(l.aval.dtype, 1);
    buf[0] = l.value;
    a = fromBuffer(buf, [], l.aval.dtype);
    literalArrays.set(l, a);
  }
  return a;
};

/** Runs one equation with the debugNans/debugInfs check (see nan_check.ts). */
const checkedImpl = (e: Eqn, ins: ArrayBase[], jaxpr: Jaxpr): ArrayBase[] => {
  const outs = withinEqn(e.primitive, e.source, () => e.primitive.impl(ins as NDArray[], e.params));
  checkEqnOutputs(e, outs, jaxpr);
  return outs;
};

/** For each equation, which of its inputs are vars it reads for the last time. */
const dyingInputs = new WeakMap<Jaxpr, boolean[][]>();
const dyingInputsOf = (j: Jaxpr): boolean[][] => {
  let d = dyingInputs.get(j);
  if (d) return d;
  const lu = lastUsesOf(j);
  d = j.eqns.map((e, k) => e.inputs.map((a) => !("value" in a) && lu[k + 1]!.includes(a)));
  dyingInputs.set(j, d);
  return d;
};

/** Evaluates `jaxpr` on `args` (its consts come from the jaxpr). */
export const evalJaxpr = (jaxpr: Jaxpr, args: readonly ArrayBase[]): ArrayBase[] => {
  if (args.length !== jaxpr.invars.length) {
    throw new ValueError(`evalJaxpr: the jaxpr takes ${jaxpr.invars.length} inputs but got ${args.length}`, { op: "evalJaxpr" });
  }
  // Eager evaluation calls kernels directly, so a tracer that escaped its transform (in the
  // consts of a jaxpr, or the residuals of a vjp function kept past its trace) is caught here.
  requireConcrete(jaxpr.consts);
  requireConcrete(args);
  const env = new Map<Var, ArrayBase>();
  const write = (v: Var, x: ArrayBase) => {
    env.set(v, x);
    hold(x);
  };
  const read = (a: Atom): ArrayBase => ("value" in a ? literalArray(a) : env.get(a)!);
  let reuse: OwnedMemory | null = null;
  const drop = (vs: Var[]) => {
    for (const v of vs) {
      const x = env.get(v);
      if (x !== undefined) {
        release(x);
        env.delete(v);
        reuse?.dropped(v, x);
      }
    }
  };
  jaxpr.constvars.forEach((v, i) => write(v, jaxpr.consts[i]!));
  jaxpr.invars.forEach((v, i) => write(v, args[i]!));
  const lu = lastUsesOf(jaxpr);
  drop(lu[0]!);
  const eqns = jaxpr.eqns;
  const tracing = currentTrace() !== null;
  reuse = !tracing && !debugFlags.check && inPlaceOn() ? new OwnedMemory(dyingInputsOf(jaxpr)) : null;
  for (let k = 0; k < eqns.length; k++) {
    const e = eqns[k]!;
    const ins = e.inputs.map(read);
    // Eager evaluation skips abstract evaluation: the jaxpr was checked when it was built.
    let outs: ArrayBase[] | null = null;
    let into = -1;
    if (tracing) outs = withOrigin(e.source, e.derivedFrom, () => bind(e.primitive, ins, e.params));
    else if (debugFlags.check) outs = checkedImpl(e, ins, jaxpr);
    else {
      into = reuse ? reuse.writable(k, e, ins as NDArray[]) : -1;
      if (into >= 0 && (outs = e.primitive.implInPlace!(ins as NDArray[], e.params, into))) countInPlace();
      else into = -1;
      if (!outs && reuse) outs = reuse.intoRecycled(e, ins as NDArray[]);
      outs ??= e.primitive.impl(ins as NDArray[], e.params);
      reuse?.after(e, ins as NDArray[], outs as NDArray[], into);
    }
    e.outputs.forEach((v, i) => write(v, outs[i]!));
    drop(lu[k + 1]!);
  }
  const result = jaxpr.outvars.map(read);
  for (const v of env.values()) release(v);
  return result;
};

/** Live bytes now held by running interpreters, and the peak since the last reset. */
export const memoryCounters = (): { liveBytes: number; peakBytes: number } => ({ liveBytes, peakBytes });

/**
 * Runs `work` and reports the peak of bytes held by the interpreter during it (arrays
 * produced by equations and the inputs and constants of the jaxprs being evaluated).
 */
export const memoryProfile = <T>(work: () => T): { result: T; peakBytes: number } => {
  requireFunction("memoryProfile", "work", work);
  const base = liveBytes;
  const outerPeak = peakBytes;
  peakBytes = liveBytes;
  try {
    const result = work();
    return { result, peakBytes: peakBytes - base };
  } finally {
    peakBytes = Math.max(outerPeak, peakBytes);
  }
};
