/**
 * GEMM epilogues under jit: a matrix product whose reader is a fused Wasm group runs that
 * group on C where the GEMM leaves it in the kernel memory. Jitted results equal eager bit for
 * bit, whatever reads the product (the group only, also another step, or the caller), for
 * either operand layout, on sizes that place C and sizes that do not (padded C), with the
 * group's JS fallback (sin out of the SIMD range), and for float64 (no epilogue). Buffers the
 * program keeps across calls: results of earlier calls stay intact, and a call made again
 * from inside a run (a debug callback) neither corrupts nor is corrupted.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, debug, jit, np, threadsReady } from "@cotangent/core";
import { setPoisonUninitialized } from "../src/dtype.js";
import { rng } from "./reference_util.js";

// Arrays a kernel must write in full start as NaN here, so an element left unwritten shows.
beforeAll(() => setPoisonUninitialized(true));
afterAll(() => setPoisonUninitialized(false));

const data = (shape: number[], seed: number, dtype: "float32" | "float64" = "float32", scale = 1) => {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(Float64Array.from({ length: n }, () => (r() * 2 - 1) * scale), { dtype, shape });
};

const sameBits = (got: ArrayBase, want: ArrayBase, what: string) => {
  expect(got.shape).toEqual(want.shape);
  const [g, w] = [got.toTypedArray(), want.toTypedArray()];
  for (let i = 0; i < w.length; i++) {
    if (!Object.is(g[i], w[i]) && !(Number.isNaN(g[i]) && Number.isNaN(w[i]))) expect.fail(`${what}: element ${i}: got ${g[i]}, want ${w[i]}`);
  }
};

const listing = (f: (...a: ArrayBase[]) => unknown, ...args: ArrayBase[]) => jit(f).lower(...(args as never[])).program;

describe("jit: GEMM epilogues", () => {
  it("bias + ReLU (and the mask its gradient uses) on C equal eager, for both layouts and placed or padded C", () => {
    fc.assert(
      fc.property(fc.constantFrom(16, 33, 64), fc.constantFrom(8, 47, 96), fc.constantFrom(256, 130, 64), fc.boolean(), fc.integer(), (m, k, n, transposed, seed) => {
        const x = transposed ? data([k, m], seed) : data([m, k], seed);
        const w = data([k, n], seed + 1);
        const b = data([n], seed + 2);
        const f = (x: ArrayBase, w: ArrayBase, b: ArrayBase) => {
          const h = np.add(transposed ? np.matmul(np.transpose(x), w) : np.matmul(x, w), b);
          const r = np.maximum(h, 0);
          return [r, np.multiply(np.greater(h, 0).astype("float32"), np.sqrt(np.abs(h)))];
        };
        const want = f(x, w, b);
        const got = jit(f)(x, w, b);
        got.forEach((g, i) => sameBits(g, want[i]!, `m=${m} k=${k} n=${n} output ${i}`));
        // C is read in place when its rows are unpadded (n a multiple of 8) and the group is large enough for Wasm.
        if (n % 8 === 0 && m * n >= 4096) expect(listing(f, x, w, b)).toMatch(/dot_general .*; then on C: .*fused/);
      }),
      { numRuns: 25 },
    );
  });

  it("a product that is also returned, or read by another step, is still an array and equal to eager", () => {
    const x = data([64, 40], 1);
    const w = data([40, 128], 2);
    const b = data([128], 3);
    const f = (x: ArrayBase, w: ArrayBase, b: ArrayBase) => {
      const c = np.matmul(x, w);
      const h = np.maximum(np.add(c, b), 0);
      return [h, c, np.sum(np.matmul(np.transpose(c), h))];
    };
    expect(listing(f, x, w, b)).toMatch(/; then on C: /);
    const want = f(x, w, b);
    jit(f)(x, w, b).forEach((g, i) => sameBits(g, want[i]!, `output ${i}`));
    const g = (x: ArrayBase, w: ArrayBase, b: ArrayBase) => {
      const c = np.matmul(x, w);
      return [np.tanh(np.add(c, b)), np.exp(c)];
    };
    const want2 = g(x, w, b);
    jit(g)(x, w, b).forEach((o, i) => sameBits(o, want2[i]!, `second function, output ${i}`));
  });

  it("an epilogue whose Wasm kernel declines (sin out of its range) runs the JS kernel on C", () => {
    const x = data([64, 16], 4, "float32", 1e18);
    const w = data([16, 128], 5, "float32", 1e18);
    const f = (x: ArrayBase, w: ArrayBase) => np.add(np.sin(np.matmul(x, w)), 1);
    expect(listing(f, x, w)).toMatch(/; then on C: /);
    sameBits(jit(f)(x, w), f(x, w), "sin of huge products");
  });

  it("float64 products and batched ones keep their own kernels, equal to eager", () => {
    const x = data([32, 24], 6, "float64");
    const w = data([24, 256], 7, "float64");
    const f = (x: ArrayBase, w: ArrayBase) => np.maximum(np.add(np.matmul(x, w), 1), 0);
    sameBits(jit(f)(x, w), f(x, w), "float64");
    const xb = data([3, 32, 24], 8);
    const wb = data([3, 24, 128], 9);
    sameBits(jit(f)(xb, wb), f(xb, wb), "batched");
  });

  it("grad of a two-layer MLP loss equals eager's under jit", () => {
    const x = data([128, 64], 10);
    const w1 = data([64, 128], 11);
    const w2 = data([128, 16], 12);
    const loss = (w1: ArrayBase, w2: ArrayBase) => np.mean(np.square(np.matmul(np.maximum(np.matmul(x, w1), 0), w2)));
    const f = (w1: ArrayBase, w2: ArrayBase) => {
      const h = np.maximum(np.matmul(x, w1), 0);
      const y = np.matmul(h, w2);
      // The backward products by hand, so the test does not depend on how grad orders them.
      const gy = np.multiply(y, 2 / y.size);
      const gh = np.multiply(np.matmul(gy, np.transpose(w2)), np.greater(h, 0).astype("float32"));
      return [np.matmul(np.transpose(h), gy), np.subtract(w1, np.multiply(np.matmul(np.transpose(x), gh), 0.1)), loss(w1, w2)];
    };
    const want = f(w1, w2);
    jit(f)(w1, w2).forEach((g, i) => sameBits(g, want[i]!, `output ${i}`));
  });

  it("an optimizer-like epilogue whose other operands are copied in while the threads compute the product equals eager", async () => {
    await threadsReady();
    const x = data([128, 96], 19);
    const g = data([128, 256], 20);
    const [p, mu, nu] = [21, 22, 23].map((s) => data([96, 256], s));
    const f = (x: ArrayBase, g: ArrayBase, p: ArrayBase, mu: ArrayBase, nu: ArrayBase) => {
      const dw = np.matmul(np.transpose(x), g);
      const m = np.add(np.multiply(mu, 0.9), np.multiply(dw, 0.1));
      const v = np.add(np.multiply(nu, 0.999), np.multiply(np.square(dw), 0.001));
      return [np.subtract(p, np.divide(np.multiply(m, 0.01), np.add(np.sqrt(v), 1e-8))), m, v];
    };
    expect(listing(f, x, g, p, mu, nu)).toMatch(/; then on C: /);
    const want = f(x, g, p, mu, nu);
    const jf = jit(f);
    for (let r = 0; r < 3; r++) jf(x, g, p, mu, nu).forEach((o, i) => sameBits(o, want[i]!, `call ${r}, output ${i}`));
  });

  it("kept buffers: earlier results stay intact over later calls, and a call from inside a run is safe", () => {
    const w = data([40, 128], 13);
    const b = data([128], 14);
    const w2 = data([128, 16], 18);
    const layer = (x: ArrayBase) => {
      const h = np.maximum(np.add(np.matmul(x, w), b), 0); // an intermediate the program keeps
      return np.multiply(np.matmul(h, w2), 2);
    };
    const f = jit(layer);
    expect(f.lower(data([64, 40], 15)).program).toMatch(/\(kept: /);
    const xs = [15, 16, 17].map((s) => data([64, 40], s));
    const outs = xs.map((x) => f(x));
    outs.forEach((o, i) => sameBits(o, layer(xs[i]!), `call ${i} after the later calls`));
    // A debug callback calls the jitted function again mid-run, while the outer run's kept buffers are live.
    let inner: ArrayBase | null = null;
    let depth = 0;
    const g = jit((x: ArrayBase) => {
      const h = np.maximum(np.add(np.matmul(x, w), b), 0);
      // Runs between the write of h (kept) and its read.
      debug.callback(() => {
        if (depth++ === 0) inner = g(xs[2]!);
        depth--;
      }, x);
      return np.multiply(np.matmul(h, w2), 2);
    });
    expect(g.lower(xs[0]!).program).toMatch(/\(kept: /);
    sameBits(g(xs[0]!), layer(xs[0]!), "outer run");
    sameBits(inner!, layer(xs[2]!), "inner run");
  });
});
