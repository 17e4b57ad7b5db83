/**
 * The jit's Wasm SIMD backend for fused float32 arithmetic: random chains of add, sub, mul,
 * div, max, min, neg, abs, sqrt, square and x**2 over contiguous arrays, scalars and literals
 * give the same bits jitted (one Wasm kernel) as eager, on sizes with and without a scalar
 * tail and on NaN, ±0 and ±inf; other dtypes and members keep the JS backend.
 */
import v8 from "node:v8";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, jit, lax, np } from "@cotangent/core";
import { setKernelPath } from "../src/kernels/wasm/runtime.js";
import { wasmFusedStats } from "../src/compile/wasm_kernel.js";
import { rng } from "./reference_util.js";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
afterAll(() => {
  v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  setKernelPath("auto");
});

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1, -1, 1e-40];
const data = (n: number, seed: number, dtype: "float32" | "float64" = "float32") => {
  const r = rng(seed);
  return np.array(Float64Array.from({ length: n }, () => (r() < 0.1 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : r() * 6 - 3)), { dtype, shape: [n] });
};

type Node = { op: string; a: number; b: number; lit: number };
const UN = ["neg", "abs", "sqrt", "square", "pow2"];
const BIN = ["add", "sub", "mul", "div", "max", "min"];
const program = fc.array(
  fc.record({ op: fc.constantFrom(...UN, ...BIN), a: fc.nat(), b: fc.nat(), lit: fc.constantFrom(0.5, -2, 3, 0, -0) }),
  { minLength: 1, maxLength: 10 },
);

/** Evaluates the program over x, y and a scalar s (values: x, y, s, then one per node; odd b reads a literal). */
const run = (nodes: Node[], x: ArrayBase, y: ArrayBase, s: ArrayBase): ArrayBase[] => {
  const vals: (ArrayBase | number)[] = [x, y, s];
  for (const n of nodes) {
    const a = vals[n.a % vals.length]!;
    const b = n.b % 2 === 1 ? n.lit : vals[n.b % vals.length]!;
    const A = typeof a === "number" ? np.array(a, { dtype: "float32" }) : a;
    const r: Record<string, () => ArrayBase> = {
      neg: () => np.negative(A),
      abs: () => np.abs(A),
      sqrt: () => np.sqrt(A),
      square: () => np.square(A),
      pow2: () => lax.integerPow(A, 2),
      add: () => np.add(A, b),
      sub: () => np.subtract(A, b),
      mul: () => np.multiply(A, b),
      div: () => np.divide(A, b),
      max: () => np.maximum(A, b),
      min: () => np.minimum(A, b),
    };
    vals.push(r[n.op]!());
  }
  // Every value computed, so intermediate outputs are stored too.
  return vals.slice(3) as ArrayBase[];
};

const sameBits = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
};

describe("jit: Wasm SIMD fused kernels", () => {
  for (const path of ["relaxed-simd", "simd"] as const) {
    it(`random float32 arithmetic chains on the ${path} path equal eager bit for bit (vector body and scalar tail)`, () => {
      expect(setKernelPath(path)).toBe(path);
      const before = wasmFusedStats.calls;
      fc.assert(
        fc.property(program, fc.constantFrom(4096, 4099, 5003), fc.integer(), (nodes, n, seed) => {
          const x = data(n, seed);
          const y = data(n, seed + 1);
          const s = np.array(1.5, { dtype: "float32" });
          const want = run(nodes, x, y, s);
          const got = jit((x: ArrayBase, y: ArrayBase, s: ArrayBase) => run(nodes, x, y, s))(x, y, s);
          got.forEach((g, k) => sameBits(g.toTypedArray(), want[k]!.toTypedArray(), `${JSON.stringify(nodes)} value ${k}`));
        }),
        { numRuns: 40 },
      );
      expect(wasmFusedStats.calls).toBeGreaterThan(before);
    });
  }

  it("an Adam-style update (scalars, divisions, a square root) runs in Wasm and equals eager", () => {
    setKernelPath("auto");
    const [p, g, m, v] = [data(20000, 1), data(20000, 2), data(20000, 3), np.abs(data(20000, 4))];
    const c1 = np.array(0.1, { dtype: "float32" });
    const c2 = np.array(0.001, { dtype: "float32" });
    const update = (p: ArrayBase, g: ArrayBase, m: ArrayBase, v: ArrayBase, c1: ArrayBase, c2: ArrayBase) => {
      const m2 = np.add(np.multiply(0.1, g), np.multiply(0.9, m));
      const v2 = np.add(np.multiply(0.001, np.square(g)), np.multiply(0.999, v));
      const step = np.divide(np.divide(m2, c1), np.add(np.sqrt(np.divide(v2, c2)), 1e-8));
      return [np.add(p, np.multiply(step, -1e-3)), m2, v2];
    };
    const before = wasmFusedStats.calls;
    const got = jit(update)(p, g, m, v, c1, c2);
    expect(wasmFusedStats.calls).toBe(before + 1);
    update(p, g, m, v, c1, c2).forEach((w, k) => sameBits(got[k]!.toTypedArray(), w.toTypedArray(), `output ${k}`));
  });

  it("gradient clipping's where(small, g, g / norm * max) with a bool scalar runs in Wasm and equals eager, both ways", () => {
    setKernelPath("auto");
    const g = data(9001, 7);
    const clip = (g: ArrayBase, norm: ArrayBase, small: ArrayBase) => np.add(np.where(small, g, np.multiply(np.divide(g, norm), 1)), np.sqrt(np.abs(g)));
    for (const flag of [true, false]) {
      const small = np.array(flag);
      const norm = np.array(3.5, { dtype: "float32" });
      const before = wasmFusedStats.calls;
      const got = jit(clip)(g, norm, small);
      expect(wasmFusedStats.calls).toBe(before + 1);
      sameBits(got.toTypedArray(), clip(g, norm, small).toTypedArray(), `small = ${flag}`);
    }
  });

  it("float64 groups and small groups keep the JS backend (and agree)", () => {
    const before = wasmFusedStats.calls;
    const f = (x: ArrayBase) => np.sqrt(np.add(np.multiply(x, x), 1));
    const x64 = data(8192, 5, "float64");
    sameBits(jit(f)(x64).toTypedArray(), f(x64).toTypedArray(), "float64");
    const small = data(100, 6);
    sameBits(jit(f)(small).toTypedArray(), f(small).toTypedArray(), "small");
    expect(wasmFusedStats.calls).toBe(before);
  });
});
