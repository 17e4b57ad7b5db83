/**
 * The interpreter writes an elementwise result into an input that dies there when that input
 * is its own (a fresh kernel result no one else holds), and later results into the memory of
 * its own results that died (recycled across evaluations): every value, gradient and caller's
 * array is what it is with fresh arrays only, bit for bit, on random programs over arrays
 * large enough to be written in place; views, pass-through results, arrays a callback keeps
 * and results a caller holds are never written.
 */
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import { type NDArray, debug, evalJaxpr, grad, lax, makeJaxpr, np, valueAndGrad } from "@cotangent/core";
import { clearRecycled, inPlaceCount, recycledCount, setInPlace } from "../src/interpreter.js";
import { setKernelPath } from "../src/kernels/wasm/runtime.js";

type V = any;
const ROWS = 128;
const COLS = 160; // 20,480 elements: 160 KiB in float64, 80 KiB in float32 (both above the in-place size)
const arrayOf = (seed: number, dtype: "float32" | "float64", shape = [ROWS, COLS]) =>
  np.array(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed + i * 0.37) * 0.9), { dtype, shape }) as NDArray;
const W = np.multiply(arrayOf(7, "float64", [COLS, COLS]), 0.05) as NDArray;

const unary: ((v: V) => V)[] = [
  (v) => np.sin(v),
  (v) => np.tanh(v),
  (v) => np.exp(np.multiply(v, 0.3)),
  (v) => np.negative(v),
  (v) => np.multiply(v, 1), // passes its operand through
  (v) => np.multiply(v, v),
  (v) => np.reshape(np.reshape(v, [COLS, ROWS]), [ROWS, COLS]), // views of one memory
  (v) => np.transpose(np.transpose(v)),
  (v) => np.matmul(v, W.astype(v.dtype)),
  (v) => np.add(v, np.sum(v, { axis: 0, keepdims: true })),
  (v) => np.maximum(v, 0),
  (v) => np.where(np.greater(v, 0.1), v, np.multiply(v, 0.5)),
  (v) => np.astype(np.astype(v, "float64"), v.dtype), // a conversion, or the array itself
  (v) => np.add(np.broadcastTo(np.sum(v, { axis: 0 }), [ROWS, COLS]), 1),
  (v) => lax.cond(np.greater(np.sum(v), 0), (a: V) => np.sin(a), (a: V) => a, v),
];
const binary: ((a: V, b: V) => V)[] = [(a, b) => np.add(a, b), (a, b) => np.multiply(a, b), (a, b) => np.subtract(a, b), (a, b) => np.divide(a, np.add(np.square(b), 1))];
type Step = { kind: "u"; op: number; a: number } | { kind: "b"; op: number; a: number; b: number };
const arbStep = fc.oneof(
  fc.record({ kind: fc.constant("u" as const), op: fc.nat(unary.length - 1), a: fc.nat(20) }),
  fc.record({ kind: fc.constant("b" as const), op: fc.nat(binary.length - 1), a: fc.nat(20), b: fc.nat(20) }),
);
/** Several outputs: the last value and an earlier one, so results outlive their readers. */
const program = (steps: Step[], keep: number) => (x: V, y: V) => {
  const vals: V[] = [x, y];
  for (const s of steps) {
    const pick = (i: number) => vals[i % vals.length];
    vals.push(s.kind === "u" ? unary[s.op]!(pick(s.a)) : binary[s.op]!(pick(s.a), pick(s.b)));
  }
  return [vals[vals.length - 1], vals[keep % vals.length]];
};
/** The bytes of an array's elements, as one string (a failing comparison prints little). */
const bits = (x: NDArray) => Buffer.from((x.toTypedArray() as Float64Array).slice().buffer).toString("base64");
const withInPlace = <T>(on: boolean, f: () => T): T => {
  setInPlace(on);
  try {
    return f();
  } finally {
    setInPlace(true);
  }
};

afterEach(() => {
  setInPlace(true);
  setKernelPath("auto");
});

describe("results written into dead inputs", () => {
  it.each(["auto", "js"] as const)("agree bit for bit with fresh arrays on random programs, values and gradients, and leave the caller's arrays alone (%s kernels)", (path) => {
    setKernelPath(path);
    const before = inPlaceCount();
    fc.assert(
      fc.property(fc.array(arbStep, { minLength: 1, maxLength: 8 }), fc.nat(30), fc.integer({ min: 0, max: 1000 }), fc.constantFrom("float32" as const, "float64" as const), (steps, keep, seed, dtype) => {
        const f = program(steps, keep);
        const x = arrayOf(seed, dtype);
        const y = arrayOf(seed + 1, dtype);
        const [xBits, yBits] = [bits(x), bits(y)];
        const jaxpr = makeJaxpr(f)(x, y);
        const run = (on: boolean) => withInPlace(on, () => evalJaxpr(jaxpr, [x, y]).map((o) => bits(o as NDArray)));
        expect(run(true)).toEqual(run(false));
        const loss = (a: V, b: V) => np.sum(np.add(...(f(a, b) as [V, V])));
        const g = (on: boolean) => withInPlace(on, () => (valueAndGrad(loss, { argnums: [0, 1] })(x, y) as [V, V[]]).flat().map((o: NDArray) => bits(o)));
        expect(g(true)).toEqual(g(false));
        expect(bits(x)).toEqual(xBits);
        expect(bits(y)).toEqual(yBits);
      }),
      { numRuns: 50 },
    );
    expect(inPlaceCount()).toBeGreaterThan(before); // the property exercised the in-place path
    expect(recycledCount()).toBeGreaterThan(0); // and the recycled memory
  });

  it("never writes an array a callback kept, a view still alive, or a value the caller passed", () => {
    const x = arrayOf(1, "float64");
    const kept: NDArray[] = [];
    const f = (x: V) => {
      const a = np.exp(x); // fresh, the interpreter's own
      debug.callback((v: NDArray) => kept.push(v), a); // ... until a callback may keep it
      const b = np.sin(a); // a dies here: it must not be written
      const c = np.cos(b);
      const view = np.reshape(c, [COLS, ROWS]);
      const d = np.tanh(c); // c dies here, but its memory lives on in view
      const e = np.exp(d);
      const same = np.multiply(e, 1); // e itself
      const s = np.sin(same); // same dies here, but e lives on
      return [np.add(d, 1), view, np.negative(x), np.add(s, e)];
    };
    const jaxpr = makeJaxpr(f)(x);
    expect(jaxpr.toString()).toContain("mul");
    const count = inPlaceCount();
    const [out, view, , last] = evalJaxpr(jaxpr, [x]) as NDArray[];
    const e = np.exp(np.tanh(np.cos(np.sin(np.exp(x)))));
    expect(bits(last!)).toEqual(bits(np.add(np.sin(e), e) as NDArray));
    expect(inPlaceCount()).toBeGreaterThan(count); // d + 1 is written into d
    expect(bits(kept[0]!)).toEqual(bits(np.exp(x) as NDArray));
    expect(bits(view!)).toEqual(bits(np.reshape(np.cos(np.sin(np.exp(x))), [COLS, ROWS]) as NDArray));
    expect(bits(out!)).toEqual(bits(np.add(np.tanh(np.cos(np.sin(np.exp(x)))), 1) as NDArray));
  });

  it("halves the fresh arrays of a gradient through conv -> mul -> sum", () => {
    const x = arrayOf(2, "float32", [8, 3, 32, 32]);
    const w = arrayOf(3, "float32", [16, 3, 3, 3]);
    const gg = arrayOf(4, "float32", [8, 16, 32, 32]);
    const loss = (x: V, w: V) => np.sum(np.multiply(lax.convGeneralDilated(x, w, [1, 1], "SAME"), gg));
    clearRecycled();
    const count = inPlaceCount();
    const on = withInPlace(true, () => grad(loss, { argnums: [0, 1] })(x, w) as NDArray[]);
    expect(inPlaceCount()).toBe(count + 1); // the product is written into the convolution's result
    const off = withInPlace(false, () => grad(loss, { argnums: [0, 1] })(x, w) as NDArray[]);
    expect(on.map(bits)).toEqual(off.map(bits));
    // The next step's convolution writes into the memory that product died in; the first
    // step's gradients, which the caller holds, are untouched.
    const firstBits = on.map(bits);
    const recycledBefore = recycledCount();
    const x2 = arrayOf(5, "float32", [8, 3, 32, 32]);
    const second = grad(loss, { argnums: [0, 1] })(x2, w) as NDArray[];
    expect(recycledCount()).toBeGreaterThan(recycledBefore);
    expect(on.map(bits)).toEqual(firstBits);
    expect(second.map(bits)).toEqual(withInPlace(false, () => (grad(loss, { argnums: [0, 1] })(x2, w) as NDArray[]).map(bits)));
  });
});
