/**
 * The interpreter's memory of its own: which results of an evaluation nothing else can
 * reach, so that an equation may write into a dead input (`implInPlace`) or into the memory
 * of a result that died (`implInto`) instead of a fresh array. Used by interpreter.ts only.
 */
import { type ArrayBase, NDArray, bufferOf } from "./array.js";
import type { TypedArray } from "./dtype.js";
import type { Eqn, Var } from "./ir/jaxpr.js";

/** Arrays from this many bytes are written in place (below, a fresh array costs little). */
const IN_PLACE_MIN_BYTES = 1 << 16;

let inPlaceEnabled = true;
let inPlaceWrites = 0;
/** A/B switch for tests and measurements: every result a fresh array when off. */
export const setInPlace = (on: boolean): void => {
  inPlaceEnabled = on;
};
/** Whether evaluations track ownership (see {@link setInPlace}). */
export const inPlaceOn = (): boolean => inPlaceEnabled;
/** Counts a result written into a dead input. */
export const countInPlace = (): void => {
  inPlaceWrites++;
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
 * inputs, constants and literals of the jaxpr (the caller's arrays) are never owned. When
 * that value dies its memory is recycled (below) for a later `implInto`.
 */
export class OwnedMemory {
  /** Owned memory, by the var that holds it now. */
  private readonly owned = new Map<ArrayBufferLike, Var>();
  /** `dying[k][i]`: equation k reads its input i for the last time. */
  constructor(private readonly dying: readonly (readonly boolean[])[]) {}
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
