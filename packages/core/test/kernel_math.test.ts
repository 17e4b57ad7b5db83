/**
 * The float32 SIMD math kernels against float64 references, within the ulp bounds stated in
 * kernels/wasm/unary.ts, on random inputs over each function's whole range and on edge
 * cases (0, -0, subnormals, overflow and underflow thresholds, inf, NaN).
 */
import v8 from "node:v8";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { type NDArray, np } from "@cotangent/core";
import { type SimdUnaryOp, TRIG_LIMIT, unaryWasmF32 } from "../src/kernels/wasm/unary.js";
import { type KernelPath, setKernelPath } from "../src/kernels/wasm/runtime.js";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
afterAll(() => {
  // Other test files may share this process: leave the engine as it was.
  v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  setKernelPath("auto");
});

const ULP_BOUND: Record<SimdUnaryOp, number> = { exp: 2, logistic: 3, tanh: 4, log: 2, sin: 1, cos: 1 };
const REF: Record<SimdUnaryOp, (x: number) => number> = {
  exp: Math.exp,
  logistic: (x) => 1 / (1 + Math.exp(-x)),
  tanh: Math.tanh,
  log: Math.log,
  sin: Math.sin,
  cos: Math.cos,
};

/** The float32 ulp at the correctly rounded value `want` (the spacing of floats around it). */
const ulpOf = (want: number): number => {
  const a = Math.abs(Math.fround(want));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
};

const check = (op: SimdUnaryOp, xs: Float32Array): void => {
  const out = new Float32Array(xs.length);
  expect(unaryWasmF32(op, xs, out)).toBe(true);
  for (let i = 0; i < xs.length; i++) {
    const want = REF[op](xs[i]!);
    const got = out[i]!;
    if (Number.isNaN(want)) {
      if (!Number.isNaN(got)) expect.fail(`${op}(${xs[i]}) = ${got}, want NaN`);
      continue;
    }
    const wantF = Math.fround(want);
    if (!Number.isFinite(wantF) || wantF === 0) {
      // Overflow to inf and underflow to 0 must match exactly (a subnormal result is within the ulp test below).
      if (got !== wantF && Math.abs(got - want) > 2 ** -149) expect.fail(`${op}(${xs[i]}) = ${got}, want ${wantF}`);
      continue;
    }
    const err = Math.abs(got - want) / ulpOf(want);
    if (!(err <= ULP_BOUND[op])) expect.fail(`${op}(${xs[i]}) = ${got}, want ${want}: ${err.toFixed(2)} ulp > ${ULP_BOUND[op]}`);
  }
};

/** Floats nearest multiples of pi/2 (where the reduced argument nearly cancels), and the range's ends. */
const TRIG_EDGES = [
  ...Array.from({ length: 400 }, (_, k) => Math.fround(((k - 200) * Math.PI) / 2)),
  ...Array.from({ length: 200 }, (_, k) => Math.fround((Math.round(TRIG_LIMIT / (Math.PI / 2)) - k) * (Math.PI / 2))),
  TRIG_LIMIT,
  -TRIG_LIMIT,
  Math.fround(TRIG_LIMIT * 0.999),
];

const EDGES = [0, -0, 1, -1, 2 ** -149, -(2 ** -149), 2 ** -126, 1e-30, 1e-8, -1e-8, 0.29999, 0.3, 0.30001, -0.3, 88.7, 88.73, 89, -87.3, -103, -104, -120, 1e30, -1e30, Infinity, -Infinity, NaN, 3.4e38];

describe("float32 SIMD math", () => {
  for (const path of ["relaxed-simd", "simd"] as KernelPath[]) {
    for (const op of ["exp", "logistic", "tanh", "log", "sin", "cos"] as SimdUnaryOp[]) {
      it(`${op} on the ${path} path is within ${ULP_BOUND[op]} ulp of float64 on random and edge inputs`, () => {
        expect(setKernelPath(path)).toBe(path);
        const trig = op === "sin" || op === "cos";
        check(op, Float32Array.from(trig ? [...EDGES.filter((x) => !(Math.abs(x) > TRIG_LIMIT)), ...TRIG_EDGES] : EDGES));
        const range =
          op === "log"
            ? fc.float({ min: 0, max: Math.fround(3.4e38), noNaN: true })
            : trig
              ? fc.float({ min: -TRIG_LIMIT, max: TRIG_LIMIT, noNaN: true })
              : fc.float({ min: -110, max: 110, noNaN: true });
        fc.assert(
          fc.property(fc.array(range, { minLength: 0, maxLength: 200 }), (xs) => check(op, Float32Array.from(xs))),
          { numRuns: 40 },
        );
        // A dense sweep of each function's busy region, every float around the tanh switch included.
        const sweep = Float32Array.from({ length: 20001 }, (_, i) => (op === "log" ? 2 ** ((i - 10000) / 80) : (i - 10000) / 400));
        check(op, sweep);
      });
    }
  }

  it("sin and cos beyond their SIMD range (and at inf) take the JS path: np.sin equals Math.sin there", () => {
    setKernelPath("simd");
    const xs = Float32Array.from({ length: 1024 }, (_, i) => (i === 7 ? 3e7 : i === 9 ? Infinity : i / 10));
    expect(unaryWasmF32("sin", xs, new Float32Array(xs.length))).toBe(false);
    const got = (np.sin(np.array(xs)) as NDArray).toTypedArray();
    expect(got[7]).toBe(Math.fround(Math.sin(xs[7]!)));
    expect(got[9]).toBeNaN();
    setKernelPath("auto");
  });

  it("np.exp / np.tanh / nn-style logistic on float32 use the same answers on the Wasm and JS paths (within the bound)", () => {
    const x = np.linspace(-20, 20, 4099) as NDArray;
    for (const path of ["simd", "js"] as KernelPath[]) {
      setKernelPath(path);
      const e = (np.exp(x) as NDArray).toTypedArray();
      const t = (np.tanh(x) as NDArray).toTypedArray();
      const xs = x.toTypedArray();
      for (let i = 0; i < xs.length; i++) {
        expect(Math.abs(e[i]! - Math.exp(xs[i]!)) / ulpOf(Math.exp(xs[i]!))).toBeLessThanOrEqual(2);
        expect(Math.abs(t[i]! - Math.tanh(xs[i]!)) / ulpOf(Math.tanh(xs[i]!))).toBeLessThanOrEqual(4);
      }
    }
  });
});
