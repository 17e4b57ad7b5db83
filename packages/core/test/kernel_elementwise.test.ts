/**
 * The Wasm elementwise and reduction kernels (relaxed SIMD and plain SIMD paths) against
 * plain references and the JS path, on random broadcast shapes in float32 and float64:
 * odd sizes (vector bodies and scalar tails), size 0, operands that are transposed views,
 * and the special values (NaN, ±0, ±inf) where the ops' semantics differ from the hardware
 * instructions'.
 */
import v8 from "node:v8";
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { type NDArray, np } from "@cotangent/core";
import { type SimdBinaryOp, binaryWasm, collapseBroadcast } from "../src/kernels/wasm/binary.js";
import { type KernelPath, setKernelPath } from "../src/kernels/wasm/runtime.js";
import { rng, sizeOf, stridesOf } from "./reference_util.js";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
afterAll(() => {
  v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  setKernelPath("auto");
});

type DT = "float32" | "float64";
const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1, -1];
const values = (n: number, seed: number, dtype: DT, special: boolean): Float32Array | Float64Array => {
  const r = rng(seed);
  const xs = Float64Array.from({ length: n }, () => (special && r() < 0.2 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : r() * 8 - 4));
  return dtype === "float32" ? Float32Array.from(xs) : xs;
};

const REF: Record<SimdBinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a > b || a !== a ? a : b),
  min: (a, b) => (a < b || a !== a ? a : b),
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
};
const COMPARE = new Set<SimdBinaryOp>(["eq", "ne", "lt", "le", "gt", "ge"]);

/** A random pair of shapes that broadcast (size-1 axes and missing leading axes). */
const broadcastPair = fc
  .record({
    out: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 0, maxLength: 4 }),
    maskA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    maskB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    dropA: fc.integer({ min: 0, max: 4 }),
    dropB: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ out, maskA, maskB, dropA, dropB }) => {
    const a = out.map((d, i) => (maskA[i] ? 1 : d)).slice(Math.min(dropA, out.length));
    const b = out.map((d, i) => (maskB[i] ? 1 : d)).slice(Math.min(dropB, out.length));
    const outShape = out.map((_, i) => {
      const da = a[i - (out.length - a.length)] ?? 1;
      const db = b[i - (out.length - b.length)] ?? 1;
      return da === 1 ? db : da;
    });
    return { a, b, outShape };
  });

/** out[i] = op(a[i'], b[i'']) by explicit index arithmetic, rounded to the dtype. */
const reference = (op: SimdBinaryOp, dtype: DT, a: ArrayLike<number>, aShape: number[], b: ArrayLike<number>, bShape: number[], outShape: number[]): Float64Array => {
  const n = sizeOf(outShape);
  const out = new Float64Array(n);
  const os = stridesOf(outShape);
  const at = (shape: number[], i: number) => {
    let off = 0;
    const st = stridesOf(shape);
    for (let k = 0; k < shape.length; k++) {
      const j = k + outShape.length - shape.length;
      const idx = Math.floor(i / os[j]!) % outShape[j]!;
      off += (shape[k] === 1 ? 0 : idx) * st[k]!;
    }
    return off;
  };
  for (let i = 0; i < n; i++) {
    const v = REF[op](a[at(aShape, i)]!, b[at(bShape, i)]!);
    out[i] = dtype === "float32" ? Math.fround(v) : v;
  }
  return out;
};

const sameBits = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) expect.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
};

const SIMD_PATHS: KernelPath[] = ["relaxed-simd", "simd"];
const OPS: SimdBinaryOp[] = ["add", "sub", "mul", "div", "max", "min", "eq", "ne", "lt", "le", "gt", "ge"];

describe("binary elementwise kernels", () => {
  it("collapse merges contiguous and jointly broadcast axes and drops size-1 axes", () => {
    expect(collapseBroadcast([[2, 3, 4], [2, 3, 4]], [2, 3, 4])).toEqual({ dims: [24], strides: [[1], [1]] });
    expect(collapseBroadcast([[5, 7], [7]], [5, 7])).toEqual({ dims: [5, 7], strides: [[7, 1], [0, 1]] });
    expect(collapseBroadcast([[5, 1], [5, 7]], [5, 7])).toEqual({ dims: [5, 7], strides: [[1, 0], [7, 1]] });
    expect(collapseBroadcast([[2, 1, 4], [1, 3, 4]], [2, 3, 4])).toEqual({ dims: [2, 3, 4], strides: [[4, 0, 1], [0, 4, 1]] });
    expect(collapseBroadcast([[1, 1], []], [1, 1])).toEqual({ dims: [], strides: [[], []] });
  });

  for (const path of SIMD_PATHS) {
    it(`every op on the ${path} path equals the reference bit for bit on random broadcasts (f32, f64, NaN, ±0, ±inf)`, () => {
      expect(setKernelPath(path)).toBe(path);
      fc.assert(
        fc.property(broadcastPair, fc.constantFrom(...OPS), fc.constantFrom<DT>("float32", "float64"), fc.boolean(), fc.integer(), ({ a, b, outShape }, op, dtype, special, seed) => {
          const av = values(sizeOf(a), seed, dtype, special);
          const bv = values(sizeOf(b), seed + 1, dtype, special);
          const n = sizeOf(outShape);
          // Comparisons give bools, one byte each.
          const out = COMPARE.has(op) ? new Uint8Array(n) : dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
          const ran = binaryWasm(op, dtype, av, a, bv, b, out, outShape);
          if (!ran) return; // many tiny blocks: the caller takes the JS loop
          sameBits(out, reference(op, dtype, av, a, bv, b, outShape), `${op} ${dtype} ${JSON.stringify([a, b])}`);
        }),
        { numRuns: 150 },
      );
    });
  }

  it("np ops on large arrays (Wasm) agree with the JS path bit for bit, including transposed operands and row/column broadcasts", () => {
    const cases: [number[], number[], boolean][] = [
      [[1000, 37], [37], false],
      [[37, 1000], [37, 1], true],
      [[3, 64, 65], [64, 1], false],
      [[4099], [], false],
      [[2, 1, 700], [5, 700], true],
    ];
    for (const dtype of ["float32", "float64"] as DT[]) {
      for (const [sa, sb, transpose] of cases) {
        const a0 = np.array(values(sizeOf(sa), 3, dtype, true), { dtype, shape: sa }) as NDArray;
        const a = transpose ? np.swapaxes(np.swapaxes(a0, 0, -1), 0, -1) : a0;
        const b = np.array(values(sizeOf(sb), 4, dtype, true), { dtype, shape: sb }) as NDArray;
        const results = (["relaxed-simd", "simd", "js"] as KernelPath[]).map((p) => {
          setKernelPath(p);
          const compared = [np.equal(a, b), np.notEqual(b, a), np.less(a, b), np.lessEqual(b, a), np.greater(a, b), np.greaterEqual(a, b), np.equal(a, np.maximum(a, 0))];
          return [np.add(a, b), np.subtract(b, a), np.multiply(a, b), np.divide(a, b), np.maximum(a, b), np.minimum(b, a), ...compared].map((x) => x.toTypedArray());
        });
        for (let k = 0; k < results[0]!.length; k++) {
          sameBits(results[0]![k]!, results[2]![k]!, `relaxed vs js, op ${k}, ${dtype} ${sa} ${sb}`);
          sameBits(results[1]![k]!, results[2]![k]!, `simd vs js, op ${k}, ${dtype} ${sa} ${sb}`);
        }
      }
    }
  });
});

describe("reduction kernels", () => {
  /** Reference: float64 accumulation in index order (the JS kernel's), then rounded. */
  const reduceRef = (op: "sum" | "max" | "min", x: ArrayLike<number>, shape: number[], axes: number[], dtype: DT): Float64Array => {
    const outShape = shape.filter((_, i) => !axes.includes(i));
    const out = new Float64Array(sizeOf(outShape)).fill(op === "sum" ? 0 : op === "max" ? -Infinity : Infinity);
    const st = stridesOf(shape);
    const ost = stridesOf(outShape);
    for (let i = 0; i < x.length; i++) {
      let o = 0;
      let k = 0;
      for (let ax = 0; ax < shape.length; ax++) {
        if (axes.includes(ax)) continue;
        o += (Math.floor(i / st[ax]!) % shape[ax]!) * ost[k++]!;
      }
      const v = x[i]!;
      if (op === "sum") out[o] += v;
      else if (out[o] === out[o] && ((op === "max" ? v > out[o]! : v < out[o]!) || v !== v)) out[o] = v;
    }
    return dtype === "float32" ? out.map(Math.fround) : out;
  };

  for (const path of SIMD_PATHS) {
    it(`sum/max/min over one block of axes on the ${path} path match float64 references (f32, f64, odd sizes, NaN, inf)`, async () => {
      const { reduceWasm } = await import("../src/kernels/wasm/reduce.js");
      expect(setKernelPath(path)).toBe(path);
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 11 }), { minLength: 1, maxLength: 4 }),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: 1, max: 4 }),
          fc.constantFrom<"sum" | "max" | "min">("sum", "max", "min"),
          fc.constantFrom<DT>("float32", "float64"),
          fc.boolean(),
          fc.integer(),
          (shape, from, count, op, dtype, special, seed) => {
            const lo = Math.min(from, shape.length - 1);
            const axes = Array.from({ length: Math.min(count, shape.length - lo) }, (_, i) => lo + i);
            const x = values(sizeOf(shape), seed, dtype, special && op !== "sum");
            const n = sizeOf(shape.filter((_, i) => !axes.includes(i)));
            const out = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
            if (!reduceWasm(op, dtype, x, shape, axes, out)) return; // all reduced axes of size 1: the JS kernel
            const want = reduceRef(op, x, shape, axes, dtype);
            for (let i = 0; i < n; i++) {
              const g = out[i]!;
              const w = want[i]!;
              if (Number.isNaN(w)) {
                if (!Number.isNaN(g)) expect.fail(`${op} ${dtype} ${shape} axes ${axes}: element ${i} got ${g}, want NaN`);
                continue;
              }
              // Sums: the float64 accumulation order differs; max/min are exact (up to a zero's sign).
              const tol = op === "sum" ? (dtype === "float32" ? Math.abs(w) * 2 ** -23 : 1e-13 * sizeOf(shape) * 4) : 0;
              if (g !== w && !(Math.abs(g - w) <= tol)) expect.fail(`${op} ${dtype} ${shape} axes ${axes}: element ${i} got ${g}, want ${w}`);
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  }

  it("np.sum / np.max / np.min on large arrays (Wasm) agree with the JS path, over leading, trailing, middle and all axes", () => {
    for (const dtype of ["float32", "float64"] as DT[]) {
      const x = np.array(values(8 * 33 * 17, 9, dtype, false), { dtype, shape: [8, 33, 17] }) as NDArray;
      for (const axis of [0, 1, 2, [0, 1], [1, 2], null] as (number | number[] | null)[]) {
        const run = (p: KernelPath) => {
          setKernelPath(p);
          return [np.sum(x, { axis }), np.max(x, { axis }), np.min(x, { axis })].map((y) => y.toTypedArray());
        };
        const [w, j] = [run("simd"), run("js")];
        for (let k = 0; k < 3; k++) {
          const tol = k === 0 ? (dtype === "float32" ? 1e-5 : 1e-12) : 0;
          for (let i = 0; i < j[k]!.length; i++) expect(Math.abs(w[k]![i]! - j[k]![i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(j[k]![i]!)));
        }
      }
    }
  });
});

describe("transpose kernel", () => {
  it("permutations that collapse to batched 2-D transposes are recognised, others are not", async () => {
    const { asBatched2d } = await import("../src/kernels/wasm/transpose.js");
    expect(asBatched2d([64, 64, 784], [0, 2, 1])).toEqual([64, 64, 784]);
    expect(asBatched2d([3, 5], [1, 0])).toEqual([1, 3, 5]);
    expect(asBatched2d([2, 3, 4], [1, 2, 0])).toEqual([1, 2, 12]);
    expect(asBatched2d([2, 3, 4], [2, 0, 1])).toEqual([1, 6, 4]);
    expect(asBatched2d([2, 1, 3, 4], [0, 3, 1, 2])).toEqual([2, 3, 4]);
    expect(asBatched2d([2, 3, 4], [0, 1, 2])).toBeNull();
    expect(asBatched2d([2, 3, 4], [2, 1, 0])).toBeNull();
  });

  for (const path of [...SIMD_PATHS, "js"] as KernelPath[]) {
    it(`transposes on the ${path} path equal an index-arithmetic reference bit for bit (f32, f64, int32, odd sizes, NaN)`, async () => {
      const { transposeWasm: wasm } = await import("../src/kernels/wasm/transpose.js");
      const { transposeKernel } = await import("../src/kernels/layout.js");
      // The JS path: the whole kernel (collapsed axes, runs copied by subarray); Wasm: the batched 2-D kernel itself.
      const transposeWasm = (src: Float32Array | Float64Array | Int32Array, shape: number[], perm: number[], out: Float32Array | Float64Array | Int32Array) =>
        path === "js" ? (out.set(transposeKernel(src, shape, perm, src instanceof Int32Array ? "int32" : src instanceof Float32Array ? "float32" : "float64")), true) : wasm(src, shape, perm, out);
      expect(setKernelPath(path)).toBe(path);
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: path === "js" ? 70 : 13 }), { minLength: 1, maxLength: 4 }).filter((s) => s.reduce((a, b) => a * b, 1) < 200000),
          fc.integer(),
          fc.constantFrom("float32", "float64", "int32"),
          (shape, seed, dtype) => {
            const r = rng(seed);
            const perm = shape.map((_, i) => i).sort(() => r() - 0.5);
            const n = sizeOf(shape);
            const src = dtype === "int32" ? Int32Array.from({ length: n }, () => Math.floor(r() * 2e9 - 1e9)) : values(n, seed, dtype as DT, true);
            const out = new (src.constructor as Float64ArrayConstructor)(n);
            if (!transposeWasm(src, shape, perm, out)) return;
            const st = stridesOf(shape);
            const outShape = perm.map((p) => shape[p]!);
            const ost = stridesOf(outShape);
            for (let o = 0; o < n; o++) {
              let s = 0;
              for (let k = 0; k < perm.length; k++) s += (Math.floor(o / ost[k]!) % outShape[k]!) * st[perm[k]!]!;
              if (!Object.is(out[o], src[s]) && !(Number.isNaN(out[o]) && Number.isNaN(src[s]))) expect.fail(`${dtype} ${shape} by ${perm}: element ${o} got ${out[o]}, want ${src[s]}`);
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  }
});
