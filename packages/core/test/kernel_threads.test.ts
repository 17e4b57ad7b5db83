/**
 * The worker pool: large GEMMs and convolutions split across threads agree with the
 * single-thread and JS paths; bad thread counts are typed errors; a worker that fails or
 * exits mid-kernel is an error naming the op (and the pool recovers); and a script that uses
 * threads exits by itself.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { KernelError, type NDArray, ValueError, jit, lax, np } from "@cotangent/core";
import { setKernelPath } from "../src/kernels/wasm/runtime.js";
import { activeThreads, injectWorkerFault, lastCallWorkers, setSpinMicros, setThreads, threadsReady } from "../src/kernels/wasm/threads.js";
import { rng, sizeOf } from "./reference_util.js";

const randArray = (shape: number[], seed: number, dtype: "float32" | "float64"): NDArray => {
  const r = rng(seed);
  return np.array(Float64Array.from({ length: sizeOf(shape) }, () => r() * 2 - 1), { dtype, shape }) as NDArray;
};

const maxDiff = (a: NDArray, b: NDArray): number => {
  const x = a.toTypedArray();
  const y = b.toTypedArray();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
};

afterAll(() => {
  setThreads(2);
  setKernelPath("auto");
});

describe("kernel threads", () => {
  it("a thread count that is not a positive integer is a ValueError naming setThreads", () => {
    for (const bad of [0, -1, 1.5, Number.NaN, "2" as any]) {
      expect(() => setThreads(bad)).toThrow(ValueError);
      expect(() => setThreads(bad)).toThrow(/setThreads: the thread count must be a positive integer/);
    }
  });

  it("GEMMs and convolutions split across two threads match one thread and the JS path (f32, f64, odd sizes)", async () => {
    setThreads(2);
    expect(await threadsReady()).toBe(2);
    setKernelPath("simd");
    for (const dtype of ["float32", "float64"] as const) {
      for (const [m, n, k] of [[129, 131, 130], [64, 300, 77], [5, 999, 513]] as const) {
        const a = randArray([m, k], m, dtype);
        const b = randArray([n, k], n, dtype).T;
        setThreads(1);
        const one = np.matmul(a, b) as NDArray;
        setThreads(2);
        await threadsReady();
        expect(activeThreads()).toBe(2);
        const two = np.matmul(a, b) as NDArray;
        expect(maxDiff(one, two)).toBe(0);
        setKernelPath("js");
        const js = np.matmul(a, b) as NDArray;
        setKernelPath("simd");
        expect(maxDiff(js, two)).toBeLessThan(dtype === "float32" ? 1e-3 : 1e-11);
      }
      const x = randArray([8, 3, 20, 20], 1, dtype);
      const w = randArray([16, 3, 3, 3], 2, dtype);
      const conv = () => lax.convGeneralDilated(x, w, [1, 1], "SAME") as NDArray;
      const two = conv();
      setThreads(1);
      expect(maxDiff(conv(), two)).toBe(0);
      setThreads(2);
      await threadsReady();
    }
  });

  it("float32 exp/tanh/log/logistic on large arrays split across two threads match one thread bit for bit", async () => {
    setKernelPath("simd");
    const x = np.linspace(-30, 30, 200_003) as NDArray;
    const pos = np.linspace(1e-30, 1e30, 200_003) as NDArray;
    const run = () => [np.exp(x), np.tanh(x), np.log(pos)].map((a) => (a as NDArray).toTypedArray());
    setThreads(1);
    const one = run();
    setThreads(2);
    await threadsReady();
    const two = run();
    for (let i = 0; i < one.length; i++) expect(Array.from(two[i]!)).toEqual(Array.from(one[i]!));
    // The work did go to a worker: a fault injected there surfaces, naming the op.
    injectWorkerFault("throw");
    expect(() => np.tanh(x)).toThrow(/tanh: a kernel worker thread failed/);
  });

  it("a worker that throws or exits mid-kernel is a KernelError naming the op; the next call works", async () => {
    setThreads(2);
    await threadsReady();
    setKernelPath("simd");
    const a = randArray([128, 128], 3, "float32");
    const want = (np.matmul(a, a) as NDArray).toTypedArray();
    for (const fault of ["throw", "exit"] as const) {
      injectWorkerFault(fault);
      expect(() => np.matmul(a, a)).toThrow(KernelError);
      await threadsReady();
      injectWorkerFault(fault);
      expect(() => np.matmul(a, a)).toThrow(/dot_general: a kernel worker thread (failed|exited) while computing this op/);
      await threadsReady();
      expect(Array.from((np.matmul(a, a) as NDArray).toTypedArray())).toEqual(Array.from(want));
    }
  });

  it("a worker that wakes late is not waited for (its share runs here, and it joins later calls without disturbing them); one that joined is", async () => {
    setThreads(2);
    await threadsReady();
    setKernelPath("simd");
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const wide = np.linspace(-3, 3, 200_003) as NDArray;
    const fused = jit((x: NDArray) => np.sum(np.tanh(np.add(np.multiply(x, 0.5), 0.1))));
    const x = randArray([8, 3, 32, 32], 5, "float32");
    const w = randArray([32, 3, 3, 3], 6, "float32");
    // One op of each way of splitting work: chunks (GEMM), parts (unary map, fused jit
    // kernel) and a cooperative kernel that claims its own units (convolution).
    const ops: Record<string, (m: number) => NDArray> = {
      gemm: (m) => np.matmul(randArray([m, 96], m, "float32"), randArray([96, 130], m + 1, "float32")) as NDArray,
      tanh: () => np.tanh(wide) as NDArray,
      fused: () => fused(wide) as NDArray,
      conv: () => lax.convGeneralDilated(x, w, [1, 1], "SAME") as NDArray,
    };
    const names = Object.keys(ops);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ op: fc.constantFrom(...names), m: fc.integer({ min: 100, max: 300 }), fault: fc.constantFrom("late", "slow", null) }), { minLength: 1, maxLength: 6 }), async (calls) => {
        setThreads(1);
        const wants = calls.map(({ op, m }) => ops[op]!(m).toTypedArray());
        setThreads(2);
        await threadsReady();
        // Back to back, so a late worker wakes into the calls that follow its own.
        for (const [i, { op, m, fault }] of calls.entries()) {
          const want = wants[i]!;
          if (fault) injectWorkerFault(fault, 30);
          const got = ops[op]!(m).toTypedArray();
          // A late worker was still asleep when the call returned: it stayed out. A slow one
          // held a piece, and the call waited for it. (A convolution makes several calls.)
          if (fault && op !== "conv") expect(lastCallWorkers()[0]).toBe(fault === "late" ? 0 : 1);
          expect(Array.from(got)).toEqual(Array.from(want));
        }
        await sleep(40);
      }),
      { numRuns: 8 },
    );
    // Awake again, the worker takes part in calls.
    const a = randArray([256, 256], 9, "float32");
    let joined = false;
    for (let i = 0; i < 50 && !joined; i++) {
      np.matmul(a, a);
      joined = lastCallWorkers()[0] === 1;
      if (!joined) await sleep(5);
    }
    expect(joined).toBe(true);
  }, 60_000);

  it("whether threads poll between kernels or block at once, back-to-back kernels agree bit for bit and the worker takes part", async () => {
    setThreads(2);
    await threadsReady();
    setKernelPath("simd");
    const a = randArray([200, 160], 11, "float32");
    const b = randArray([160, 190], 12, "float32");
    const step = jit((a: NDArray, b: NDArray) => np.tanh(np.matmul(np.maximum(np.matmul(a, b), 0), b.T)));
    const results: Float32Array[] = [];
    const before = setSpinMicros(0);
    let previous = 0;
    try {
      for (const spin of [0, 20_000, 500]) {
        expect(setSpinMicros(spin)).toBe(previous);
        previous = spin;
        let joined = false;
        let out: Float32Array | undefined;
        for (let i = 0; i < 30; i++) {
          out = step(a, b).toTypedArray() as Float32Array;
          joined ||= lastCallWorkers()[0] === 1;
        }
        expect(joined).toBe(true);
        results.push(out!);
      }
    } finally {
      setSpinMicros(before);
    }
    expect(Array.from(results[1]!)).toEqual(Array.from(results[0]!));
    expect(Array.from(results[2]!)).toEqual(Array.from(results[0]!));
  });

  it("a script that runs threaded kernels exits by itself (workers are unref'd)", async () => {
    const { build } = await import("esbuild");
    const dir = mkdtempSync(join(tmpdir(), "cotangent-threads-"));
    try {
      const entry = join(dir, "main.ts");
      const { writeFileSync } = await import("node:fs");
      writeFileSync(
        entry,
        `import { np, setThreads, threadsReady } from ${JSON.stringify(join(__dirname, "../src/index.ts"))};
         import { activeThreads } from ${JSON.stringify(join(__dirname, "../src/kernels/wasm/threads.ts"))};
         setThreads(2);
         const a = np.ones([200, 200]);
         np.matmul(a, a);
         await threadsReady();
         const s = np.sum(np.matmul(a, a)).item();
         console.log(JSON.stringify([s, activeThreads()]));`,
      );
      await build({ entryPoints: [entry], bundle: true, platform: "node", format: "esm", outfile: join(dir, "main.mjs"), logLevel: "silent" });
      const out = execFileSync(process.execPath, [join(dir, "main.mjs")], { timeout: 60_000 }).toString().trim();
      const [sum, threads] = JSON.parse(out);
      expect(sum).toBe(200 * 200 * 200);
      expect(threads).toBeGreaterThanOrEqual(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
