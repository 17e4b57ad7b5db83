/**
 * The interpreter: evaluates a jaxpr equation by equation through `bind`, so evaluating
 * inside an active trace records into it (this is how transforms compose). Each value is
 * dropped right after its last use, and the bytes it holds are counted, so peak memory is
 * what the program needs and can be measured with {@link memoryProfile}.
 */
import { requireFunction } from "./api/args.js";
import { type ArrayBase, NDArray, bufferOf, fromBuffer } from "./array.js";
import { type TypedArray, typedArrayFor } from "./dtype.js";
import { ValueError } from "./errors.js";
import type { Atom, Eqn, Jaxpr, Literal, Var } from "./ir/jaxpr.js";
import { debugFlags } from "./config.js";
import { checkEqnOutputs, withinEqn } from "./nan_check.js";
import { bind, currentTrace, requireConcrete, withOrigin } from "./trace.js";

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

/** Arrays from this many bytes are written in place (below, a fresh array costs little). */
const IN_PLACE_MIN_BYTES = 1 << 16;

let inPlaceEnabled = true;
let inPlaceWrites = 0;
/** A/B switch for tests and measurements: every result a fresh array when off. */
export const setInPlace = (on: boolean): void => {
  inPlaceEnabled = on;
};
/** How many results have been written into a dead input so far (tests). */
export const inPlaceCount = (): number => inPlaceWrites;

/** The memory a typed array views, when it is large and the array spans all of it; else null. */
const wholeBuffer = (x: NDArray): ArrayBufferLike | null => {
  const b = bufferOf(x);
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.byteLength >= IN_PLACE_MIN_BYTES ? b.buffer : null;
};

/**
 * Which results of one evaluation are the interpreter's own, so that an elementwise
 * equation may write its result into an input that dies there (`implInPlace`) instead of
 * a fresh array: in a gradient, the chain `conv -> mul -> reduce_sum` then allocates one
 * 4 MiB array instead of two. Fewer fresh megabytes per step means fewer collections (V8
 * collects when external memory grows by tens of megabytes) and fewer first-touch page faults.
 *
 * A memory is owned when a {@link Primitive.freshResults} kernel returned it and it is
 * none of that kernel's inputs. It stops being owned as soon as any other kind of equation
 * reads it (a callback or custom rule might keep it; a reshape views it) or a kernel passes
 * it through as its result, so an owned memory is held by exactly one live value, and the
 * inputs, constants and literals of the jaxpr (the caller's arrays) are never owned.
 */
class OwnedMemory {
  /** Owned memory, by the var that holds it now. */
  private readonly owned = new Map<ArrayBufferLike, Var>();
  private readonly dying: boolean[][];
  constructor(jaxpr: Jaxpr) {
    this.dying = dyingInputsOf(jaxpr);
  }
  /** The input equation k may write its result into, or -1. */
  writable(k: number, e: Eqn, ins: NDArray[]): number {
    if (!e.primitive.implInPlace || this.owned.size === 0) return -1;
    const dying = this.dying[k]!;
    for (let i = 0; i < ins.length; i++) {
      if (!dying[i]) continue;
      const b = wholeBuffer(ins[i]!);
      if (b && this.owned.get(b) === e.inputs[i]) return i;
    }
    return -1;
  }
  /** Updates what is owned after an equation ran (`into`: the input it wrote into, or -1). */
  after(e: Eqn, ins: NDArray[], outs: NDArray[], into: number): void {
    const fresh = e.primitive.freshResults === true;
    // Nothing owned and no large new result (most small eager programs): nothing to track.
    if (this.owned.size === 0 && (!fresh || !outs.some((o) => wholeBuffer(o)))) return;
    const inBufs = ins.map((x) => (x instanceof NDArray ? bufferOf(x).buffer : null));
    if (!fresh) {
      for (const b of inBufs) if (b) this.owned.delete(b);
      return;
    }
    outs.forEach((o, i) => {
      const b = bufferOf(o).buffer;
      // Written in place: the input it was is dead, so the result alone holds that memory.
      if (into >= 0 && b === inBufs[into]) this.owned.set(b, e.outputs[i]!);
      else if (inBufs.includes(b)) this.owned.delete(b);
      else if (wholeBuffer(o)) this.owned.set(b, e.outputs[i]!);
    });
  }
  /** `v` died holding `x`: memory it owned goes back to the recycled memory. */
  dropped(v: Var, x: ArrayBase): void {
    if (!(x instanceof NDArray) || this.owned.size === 0) return;
    const b = bufferOf(x).buffer;
    if (this.owned.get(b) !== v) return;
    this.owned.delete(b);
    recycle(b);
  }
  /**
   * Results of equation `e` written into recycled memory (`implInto`), or null (its
   * primitive cannot, an output is not float, or no recycled memory of that size is there).
   */
  intoRecycled(e: Eqn, ins: NDArray[]): NDArray[] | null {
    const p = e.primitive;
    if (!p.implInto || recycledBytes === 0) return null;
    const bufs: TypedArray[] = [];
    for (const v of e.outputs) {
      const d = v.aval.dtype;
      const es = d === "float32" ? 4 : d === "float64" ? 8 : 0;
      const b = es ? takeRecycled(v.aval.size * es) : undefined;
      if (!b) break;
      bufs.push(d === "float32" ? new Float32Array(b) : new Float64Array(b));
    }
    const outs = bufs.length === e.outputs.length ? p.implInto(ins, e.params, bufs) : null;
    if (!outs) for (const t of bufs) recycle(t.buffer);
    else recycledWrites++;
    return outs;
  }
}

/**
 * Memory of results that died inside an evaluation while the interpreter owned them: nothing
 * else can reach it, so a later equation of this or a later evaluation (the next training
 * step's gradient) may write its result there (`implInto`) instead of a fresh array. At most
 * {@link RECYCLED_MAX_BYTES} are kept, at most two blocks of each size.
 */
const RECYCLED_MAX_BYTES = 32 << 20;
const recycled = new Map<number, ArrayBufferLike[]>();
let recycledBytes = 0;
let recycledWrites = 0;
const recycle = (b: ArrayBufferLike): void => {
  const list = recycled.get(b.byteLength) ?? [];
  if (list.length >= 2 || recycledBytes + b.byteLength > RECYCLED_MAX_BYTES) return;
  list.push(b);
  recycled.set(b.byteLength, list);
  recycledBytes += b.byteLength;
};
const takeRecycled = (bytes: number): ArrayBufferLike | undefined => {
  const b = recycled.get(bytes)?.pop();
  if (b) recycledBytes -= bytes;
  return b;
};
/** How many results have been written into recycled memory so far (tests). */
export const recycledCount = (): number => recycledWrites;
/** Drops the recycled memory (tests). */
export const clearRecycled = (): void => {
  recycled.clear();
  recycledBytes = 0;
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
  reuse = !tracing && !debugFlags.check && inPlaceEnabled ? new OwnedMemory(jaxpr) : null;
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
      if (into >= 0 && (outs = e.primitive.implInPlace!(ins as NDArray[], e.params, into))) inPlaceWrites++;
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
