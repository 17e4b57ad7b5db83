/**
 * The jit's Wasm SIMD fused kernels with float32 math, comparisons, selects, integer powers,
 * broadcast operands and reductions, against the un-jitted function, on every kernel path:
 * - from 512 elements, where the eager kernels run the same SIMD math, elementwise results
 *   are bit-identical and reductions agree to float rounding (their order differs);
 * - on random small, odd and empty shapes, results agree within the math's ulp bounds.
 */
import v8 from "node:v8";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, jit, lax, np, threadsReady, valueAndGrad } from "@cotangent/core";
import { type KernelPath, setKernelPath } from "../src/kernels/wasm/runtime.js";
import { wasmFusedStats } from "../src/compile/wasm_kernel.js";
import { rng } from "./reference_util.js";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
afterAll(() => {
  v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  setKernelPath("auto");
});

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1, -1, 1e-40, 90, -90];
const data = (shape: number[], seed: number, special = true) => {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Float32Array.from({ length: n }, () => (special && r() < 0.08 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : r() * 6 - 3)), { shape });
};

type Node = { op: string; a: number; b: number };
const UN = ["neg", "abs", "tanh", "exp", "logabs", "logistic", "square", "pow3", "powm2", "sqrtabs", "sin", "cos"];
const BIN = ["add", "mul", "max", "min", "where", "sub", "div", "mask"];
/** Ops whose rounding differences do not blow up (for the tolerance checks): no sub, div or negative powers. */
const TAME = new Set(["neg", "abs", "tanh", "exp", "logabs", "logistic", "square", "add", "mul", "max", "min", "where", "sin", "cos", "mask"]);
/** sin and cos of arguments inside their SIMD range (clamped by max/min, which keep NaN). */
const clamp100 = (a: ArrayBase) => np.maximum(np.minimum(a, 100), -100);
const nodes = (ops: string[]) => fc.array(fc.record({ op: fc.constantFrom(...ops), a: fc.nat(), b: fc.nat() }), { minLength: 1, maxLength: 8 });

/**
 * Evaluates the program over x, y [r, c], a row value [r, 1], a column value [c] and a scalar;
 * returns the last value, its sums and maxima per row (or per column, `over` = 0), and its total.
 */
const run = (ns: Node[], x: ArrayBase, y: ArrayBase, row: ArrayBase, col: ArrayBase, s: ArrayBase, over: 0 | -1 = -1, fullMath = false): ArrayBase[] => {
  const vals: ArrayBase[] = [x, y, row, col, s];
  for (const n of ns) {
    // fullMath: unary ops see the whole [r, c] shape (eager float32 math takes the SIMD kernels from 512 elements).
    const a = fullMath && UN.includes(n.op) ? np.broadcastTo(vals[n.a % vals.length]!, x.shape) : vals[n.a % vals.length]!;
    const b = vals[n.b % vals.length]!;
    const r: Record<string, () => ArrayBase> = {
      neg: () => np.negative(a),
      abs: () => np.abs(a),
      tanh: () => np.tanh(a),
      exp: () => np.exp(a),
      logabs: () => np.log(np.add(np.abs(a), 0.5)),
      logistic: () => lax.logistic(a),
      square: () => np.square(a),
      pow3: () => lax.integerPow(a, 3),
      powm2: () => lax.integerPow(a, -2),
      sqrtabs: () => np.sqrt(np.abs(a)),
      sin: () => np.sin(clamp100(a)),
      cos: () => np.cos(clamp100(a)),
      add: () => np.add(a, b),
      sub: () => np.subtract(a, b),
      mul: () => np.multiply(a, b),
      div: () => np.divide(a, b),
      max: () => np.maximum(a, b),
      min: () => np.minimum(a, b),
      where: () => np.where(np.greater(a, b), a, np.multiply(b, 0.5)),
      // A relu-derivative-like mask: comparisons combined, converted to 1.0 / 0.0.
      mask: () => np.multiply(a, np.astype(np.logicalOr(np.logicalAnd(np.greater(a, b), np.less(a, 2)), np.logicalNot(np.less(b, 2.5))), "float32")),
    };
    vals.push(r[n.op]!());
  }
  const last = np.add(vals[vals.length - 1]!, np.multiply(x, 0)); // always the full [r, c] shape
  const extent = last.shape.at(over) ?? 0;
  return [last, np.sum(last, over), extent > 0 ? np.max(last, over) : np.sum(last, over), np.sum(last)];
};

const sameBits = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
};

/** |got - want| within `rel` of |want| (or of `scale`, a reduction's sum of magnitudes), NaN and inf matching. */
const close = (got: ArrayLike<number>, want: ArrayLike<number>, rel: number, what: string, scale?: ArrayLike<number>) => {
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (Number.isNaN(w) || !Number.isFinite(w)) {
      if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w))) expect.fail(`${what}: element ${i}: got ${g}, want ${w}`);
      continue;
    }
    const tol = rel * Math.max(Math.abs(w), scale ? Math.abs(scale[i]!) : 0) + 1e-30;
    if (!(Math.abs(g - w) <= tol)) expect.fail(`${what}: element ${i}: got ${g}, want ${w}`);
  }
};

const PATHS: KernelPath[] = ["relaxed-simd", "simd", "js"];

describe("jit: Wasm fused kernels with math and reductions", () => {
  for (const path of PATHS) {
    it(`from 512 elements on the ${path} path: elementwise bits equal eager, reductions agree`, () => {
      expect(setKernelPath(path)).toBe(path);
      const before = wasmFusedStats.calls;
      fc.assert(
        fc.property(nodes([...UN, ...BIN]), fc.constantFrom([1, 4099], [2, 1030], [37, 33], [600, 1], [8, 64], [130, 513]), fc.constantFrom(0 as const, -1 as const), fc.integer(), (ns, [r, c], over, seed) => {
          const [x, y, row, col] = [data([r!, c!], seed), data([r!, c!], seed + 1), data([r!, 1], seed + 2), data([c!], seed + 3)];
          const s = np.array(1.5, { dtype: "float32" });
          const want = run(ns, x, y, row, col, s, over, true);
          const got = jit((x: ArrayBase, y: ArrayBase, row: ArrayBase, col: ArrayBase, s: ArrayBase) => run(ns, x, y, row, col, s, over, true))(x, y, row, col, s);
          const what = `${JSON.stringify(ns)} on [${r}, ${c}] over ${over}`;
          sameBits(got[0]!.toTypedArray(), want[0]!.toTypedArray(), `${what} value`);
          sameBits(got[2]!.toTypedArray(), want[2]!.toTypedArray(), `${what} max`);
          const mag = np.sum(np.abs(want[0]!), over).toTypedArray();
          close(got[1]!.toTypedArray(), want[1]!.toTypedArray(), 1e-6, `${what} sums`, mag);
          close(got[3]!.toTypedArray(), want[3]!.toTypedArray(), 1e-6, `${what} total`, np.sum(np.abs(want[0]!)).toTypedArray());
        }),
        { numRuns: 25 },
      );
      if (path !== "js") expect(wasmFusedStats.calls).toBeGreaterThan(before);
      else expect(wasmFusedStats.calls).toBe(before);
    });

    it(`on small, odd and empty shapes on the ${path} path: within the math's ulp bounds`, () => {
      setKernelPath(path);
      fc.assert(
        fc.property(nodes([...TAME]), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 70 }), fc.constantFrom(0 as const, -1 as const), fc.integer(), (ns, r, c, over, seed) => {
          const [x, y, row, col] = [data([r, c], seed, false), data([r, c], seed + 1, false), data([r, 1], seed + 2, false), data([c], seed + 3, false)];
          const s = np.array(0.75, { dtype: "float32" });
          const want = run(ns, x, y, row, col, s, over);
          const got = jit((x: ArrayBase, y: ArrayBase, row: ArrayBase, col: ArrayBase, s: ArrayBase) => run(ns, x, y, row, col, s, over))(x, y, row, col, s);
          const what = `${JSON.stringify(ns)} on [${r}, ${c}] over ${over}`;
          // 8 ops of at most 4 ulp each, compounded.
          close(got[0]!.toTypedArray(), want[0]!.toTypedArray(), 2e-5, `${what} value`);
          close(got[2]!.toTypedArray(), want[2]!.toTypedArray(), 2e-5, `${what} row max`);
          close(got[1]!.toTypedArray(), want[1]!.toTypedArray(), 2e-5, `${what} sums`, np.sum(np.abs(want[0]!), over).toTypedArray());
          close(got[3]!.toTypedArray(), want[3]!.toTypedArray(), 2e-5, `${what} total`, np.sum(np.abs(want[0]!)).toTypedArray());
        }),
        { numRuns: 40 },
      );
    });
  }

  it("W2's value and gradient are one Wasm kernel in one pass, split across threads when large, and equal eager", async () => {
    setKernelPath("auto");
    await threadsReady();
    const f = (x: ArrayBase) => np.sum(np.tanh(np.add(np.multiply(x, 0.5), 0.1)));
    for (const n of [70001, 1003]) {
      const x = data([n], n, false);
      const vg = jit(valueAndGrad(f));
      expect(vg.lower(x).program).toMatch(/1 steps for 8 equations; 1 fused kernel/);
      const before = wasmFusedStats.calls;
      const [v, g] = vg(x) as [ArrayBase, ArrayBase];
      expect(wasmFusedStats.calls).toBe(before + 1);
      const [v0, g0] = valueAndGrad(f)(x) as [ArrayBase, ArrayBase];
      sameBits(g.toTypedArray(), g0.toTypedArray(), `gradient, n = ${n}`);
      close(v.toTypedArray(), v0.toTypedArray(), 1e-6, `value, n = ${n}`, [n]);
    }
  });

  it("a group whose sin or cos meets an argument beyond the SIMD range (or inf) reruns on the JS path", () => {
    setKernelPath("auto");
    const f = (x: ArrayBase) => np.multiply(np.sin(x), np.cos(np.multiply(x, 0.5)));
    const xs = Float32Array.from({ length: 2000 }, (_, i) => (i === 5 ? 3e7 : i === 6 ? -Infinity : i / 100));
    const x = np.array(xs);
    const before = wasmFusedStats.calls;
    const got = jit(f)(x).toTypedArray();
    expect(wasmFusedStats.calls).toBe(before);
    expect(got[5]).toBe(Math.fround(Math.fround(Math.sin(xs[5]!)) * Math.fround(Math.cos(Math.fround(xs[5]! * 0.5)))));
    expect(got[6]).toBeNaN();
    close(got, f(x).toTypedArray(), 1e-6, "sin cos");
    const inRange = np.array(xs.map((v) => (Math.abs(v) > 100 ? 1 : v)));
    sameBits(jit(f)(inRange).toTypedArray(), f(inRange).toTypedArray(), "in range");
    expect(wasmFusedStats.calls).toBe(before + 1);
  });

  it("a large group with more operands than a worker job carries runs on one thread and equals eager", () => {
    setKernelPath("auto");
    const xs = Array.from({ length: 12 }, (_, k) => data([300, 300], 40 + k, false));
    const f = (...a: ArrayBase[]) => a.slice(1).reduce((acc, b) => np.add(np.multiply(acc, 0.5), np.tanh(b)), a[0]!);
    const before = wasmFusedStats.calls;
    sameBits(jit(f)(...xs).toTypedArray(), f(...xs).toTypedArray(), "12 operands");
    expect(wasmFusedStats.calls).toBe(before + 1);
  });

  it("relu-style masks (comparisons, and/or/not, converted to float32) and a bias gradient's column sum run in Wasm and equal eager", () => {
    setKernelPath("auto");
    const [a, b] = [data([64, 80], 11), data([64, 80], 12)];
    const mask = (a: ArrayBase, b: ArrayBase) => np.multiply(a, np.astype(np.logicalOr(np.logicalAnd(np.greater(a, b), np.less(a, 2)), np.logicalNot(np.less(b, 2.5))), "float32"));
    const before = wasmFusedStats.calls;
    sameBits(jit(mask)(a, b).toTypedArray(), mask(a, b).toTypedArray(), "mask");
    expect(wasmFusedStats.calls).toBe(before + 1);
    const biasGrad = (g: ArrayBase, h: ArrayBase) => np.sum(np.multiply(g, np.astype(np.greater(h, 0), "float32")), 0);
    const [g, h] = [data([300, 257], 13, false), data([300, 257], 14, false)];
    close(jit(biasGrad)(g, h).toTypedArray(), biasGrad(g, h).toTypedArray(), 1e-6, "bias gradient", np.sum(np.abs(g), 0).toTypedArray());
    expect(wasmFusedStats.calls).toBe(before + 2);
  });

  it("sin and cos of one value share their reduction in one kernel and equal eager bit for bit", () => {
    setKernelPath("auto");
    const f = (x: ArrayBase) => [np.multiply(np.sin(x), np.cos(x)), np.cos(np.multiply(x, 3)), np.add(np.sin(np.multiply(x, 3)), np.cos(x))];
    const x = data([3, 1001], 21, false);
    const want = f(x);
    const before = wasmFusedStats.calls;
    const got = jit(f)(x);
    expect(wasmFusedStats.calls).toBe(before + 1);
    got.forEach((g, k) => sameBits(g.toTypedArray(), want[k]!.toTypedArray(), `output ${k}`));
  });

  it("float64 groups keep the JS backend and agree", () => {
    setKernelPath("auto");
    const f = (x: ArrayBase) => np.sum(np.tanh(np.multiply(x, 0.5)), -1);
    const x = np.array(data([8, 1000], 3).toTypedArray(), { shape: [8, 1000], dtype: "float64" });
    const before = wasmFusedStats.calls;
    sameBits(jit(f)(x).toTypedArray(), f(x).toTypedArray(), "float64");
    expect(wasmFusedStats.calls).toBe(before);
  });
});
