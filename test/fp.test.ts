/**
 * The pipeable API (`@cotangent/core/fp`, `@cotangent/nn/fp`): every np array function has
 * its data-last form, and it computes what the np function computes.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { flow, pipe } from "fp-ts/lib/function.js";
import { type ArrayBase, lax, np } from "@cotangent/core";
import * as fp from "@cotangent/core/fp";
import * as nn from "@cotangent/nn";
import * as nnfp from "@cotangent/nn/fp";

/** np exports that are helpers of np's own implementation, not array functions (no pipeable form). */
const NP_INTERNAL = new Set(["Slice", "asIndices", "broadcastArrayTo", "checkBroadcast", "checkDType", "keepDims", "promoteArgs", "promoteToFloat", "reductionAxes", "resultDType", "sl"]);

const npFunctions = Object.keys(np).filter((k) => typeof (np as any)[k] === "function" && !NP_INTERNAL.has(k));

const a23 = np.array([[0.1, 0.5, 0.9], [0.2, 0.4, 0.6]]);
const b3 = np.array([0.3, 0.2, 0.7]);
const m33 = np.array([[0.5, 0.1, 0.2], [0.3, 0.8, 0.1], [0.2, 0.3, 0.9]]);
const i23 = np.array([[1, 2, 3], [4, 5, 6]], { dtype: "int32" });
const bool23 = np.greater(a23, 0.45);
const idx = np.array([0, 2], { dtype: "int32" });

/**
 * One call of each np function that takes more than one parameter: [function, first
 * argument, the rest]. The fp form must give the same result as `np.f(first, ...rest)`.
 */
const SAMPLES: Record<string, [unknown, unknown[]]> = {
  add: [a23, [b3]], subtract: [a23, [b3]], multiply: [a23, [2]], divide: [a23, [b3]], trueDivide: [a23, [b3]], power: [a23, [2]],
  floorDivide: [a23, [b3]], mod: [a23, [b3]], remainder: [a23, [b3]], fmod: [a23, [b3]], maximum: [a23, [b3]], minimum: [a23, [b3]],
  arctan2: [a23, [b3]], logaddexp: [a23, [b3]], equal: [a23, [b3]], notEqual: [a23, [b3]], greater: [a23, [b3]], greaterEqual: [a23, [b3]],
  less: [a23, [b3]], lessEqual: [a23, [b3]], logicalAnd: [bool23, [true]], logicalOr: [bool23, [false]], logicalXor: [bool23, [true]],
  bitwiseAnd: [i23, [3]], bitwiseOr: [i23, [3]], bitwiseXor: [i23, [3]], clip: [a23, [0.2, 0.6]], where: [bool23, [a23, 0]],
  astype: [a23, ["float64"]], asArray: [a23, ["float64"]], array: [[[1, 2], [3, 4]], [{ dtype: "int32" }]], round: [a23, [{ decimals: 1 }]], around: [a23, [{ decimals: 1 }]],
  sum: [a23, [1]], mean: [a23, [{ axis: 0, keepdims: true }]], prod: [a23, [1]], max: [a23, [0]], min: [a23, [1]], amax: [a23, [0]], amin: [a23, [1]],
  all: [bool23, [1]], any: [bool23, [0]], argmax: [a23, [1]], argmin: [a23, [0]], std: [a23, [1]], var: [a23, [0]], variance: [a23, [0]],
  logsumexp: [a23, [1]], cumsum: [a23, [1]], cumprod: [a23, [0]],
  matmul: [a23, [m33]], dot: [a23, [m33]], inner: [a23, [b3]], outer: [b3, [b3]], vdot: [b3, [b3]], tensordot: [a23, [m33, 1]], einsum: ["ij,jk->ik", [a23, m33]],
  reshape: [a23, [[3, 2]]], ravel: [a23, []], transpose: [a23, [[1, 0]]], swapaxes: [a23, [0, 1]], moveaxis: [a23, [0, 1]], squeeze: [np.ones([1, 3]), [0]],
  expandDims: [a23, [0]], broadcastTo: [b3, [[2, 3]]], concatenate: [[a23, a23], [1]], stack: [[a23, a23], [2]], split: [a23, [3, 1]], flip: [a23, [1]],
  pad: [a23, [1]], tile: [b3, [2]], repeat: [a23, [2, 0]], take: [a23, [idx, 1]], takeAlongAxis: [a23, [np.array([[0], [2]], { dtype: "int32" }), 1]],
  scatterAdd: [b3, [idx, np.array([1, 1])]], index: [a23, [[1]]],
  full: [[2, 2], [3]], fullLike: [a23, [7]], zeros: [[2, 3], [{ dtype: "int32" }]], ones: [[2], []], zerosLike: [a23, []], onesLike: [a23, [{ dtype: "float64" }]],
  trace: [m33, [1]], arange: [5, []], linspace: [0, [1, 5]], eye: [3, [{ k: 1 }]],
  hypot: [a23, [b3]], heaviside: [a23, [0.5]], logaddexp2: [a23, [b3]], isclose: [a23, [b3, { atol: 0.2 }]], allclose: [a23, [a23]],
  diag: [b3, [1]], diagonal: [m33, [{ offset: -1 }]], triu: [m33, [1]], tril: [m33, []], roll: [a23, [1, 1]], kron: [a23, [b3]],
  cross: [m33, [b3]], meshgrid: [b3, [b3, { indexing: "ij" }]], nanSum: [a23, [1]], nanMean: [a23, [0]], nanMax: [a23, [1]], nanMin: [a23, [0]],
  nanProd: [a23, [1]], nanStd: [a23, [1]], nanVar: [a23, [{ ddof: 1 }]], nanArgmax: [a23, [1]], nanArgmin: [a23, [0]], nanCumsum: [a23, [1]], nanCumprod: [a23, [0]],
  convolve: [b3, [b3, "same"]], correlate: [b3, [b3]], interp: [b3, [np.array([0.1, 0.5, 0.9]), b3]],
  histogram: [b3, [2]], fromJSON: [[[1, "NaN"], [true, "-0"]], [{ dtype: "float64" }]],
  sort: [a23, [0]], argsort: [a23, [{ descending: true }]], partition: [a23, [1]], argpartition: [a23, [1, 0]], searchsorted: [b3, [a23]],
  unique: [a23, [{ returnCounts: true }]], median: [a23, [1]], nanMedian: [a23, [1]], nanQuantile: [a23, [0.3, 0]], nanPercentile: [a23, [[20, 80]]], quantile: [a23, [[0.2, 0.7], 1]], percentile: [a23, [50, { keepdims: true }]],
};

/** Values compared as nested JS values (arrays by dtype, shape and elements). */
const plain = (v: unknown): unknown =>
  v && typeof (v as ArrayBase).toArray === "function" ? { dtype: (v as ArrayBase).dtype, shape: (v as ArrayBase).shape, v: (v as ArrayBase).toArray() } : Array.isArray(v) ? v.map(plain) : v;

describe("@cotangent/core/fp", () => {
  it("has a data-last form of every np array function", () => {
    const missing = npFunctions.filter((k) => typeof (fp as any)[k] !== "function");
    expect(missing).toEqual([]);
  });

  it("a unary function is the np function itself; the others give what np gives", () => {
    const unary = npFunctions.filter((k) => (fp as any)[k] === (np as any)[k]);
    const curried = npFunctions.filter((k) => (fp as any)[k] !== (np as any)[k]);
    expect(unary.length).toBeGreaterThan(30);
    // Every curried function has a sample call here, so a new np function cannot go untested.
    expect(curried.filter((k) => !(k in SAMPLES))).toEqual([]);
    for (const k of curried) {
      const [first, rest] = SAMPLES[k]!;
      const want = plain((np as any)[k](first, ...rest));
      expect(plain((fp as any)[k](...rest)(first)), k).toEqual(want);
    }
  });

  it("fp.linalg has a data-last form of every np.linalg function, computing what np.linalg computes", () => {
    const la = np.linalg as unknown as Record<string, (...a: unknown[]) => unknown>;
    const fla = fp.linalg as unknown as Record<string, (...a: unknown[]) => unknown>;
    const names = Object.keys(la).filter((k) => typeof la[k] === "function");
    expect(names.filter((k) => typeof fla[k] !== "function")).toEqual([]);
    const spd = np.add(np.matmul(m33, np.transpose(m33)), np.eye(3));
    const LINALG_SAMPLES: Record<string, [unknown, unknown[]]> = {
      norm: [a23, [1, 1]], matrixPower: [m33, [2]], trace: [m33, [1]], cholesky: [spd, [{ upper: true }]], solve: [m33, [b3]], qr: [a23, ["r"]],
      eigh: [spd, [null]], eigvalsh: [spd, []], svd: [a23, [false]], lstsq: [np.transpose(a23), [b3]], pinv: [a23, [1e-6]], cond: [m33, [1]], matrixRank: [a23, [1e-3]],
    };
    for (const k of names) {
      if (fla[k] === la[k]) continue; // unary: the function itself
      expect(k in LINALG_SAMPLES, `a sample call of np.linalg.${k}`).toBe(true);
      const [first, rest] = LINALG_SAMPLES[k]!;
      expect(plain((fla[k]!(...rest) as (x: unknown) => unknown)(first)), k).toEqual(plain(la[k]!(first, ...rest)));
    }
    expect(pipe(m33, fp.linalg.det).item()).toBe(np.linalg.det(m33).item());
  });

  it("unary forms agree with np on random inputs", () => {
    const unary = npFunctions.filter((k) => (fp as any)[k] === (np as any)[k] && !["bitwiseNot", "logicalNot"].includes(k));
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.05, max: 0.95, noNaN: true }), { minLength: 1, maxLength: 6 }), fc.constantFrom(...unary), (xs, k) => {
        const x = np.array(xs, { dtype: "float64" });
        expect(plain(pipe(x, (fp as any)[k]))).toEqual(plain((np as any)[k](x)));
      }),
      { numRuns: 60 },
    );
  });

  it("pipe and flow chains compute what nested np calls compute", () => {
    const x = np.array([[1, -2, 3], [-4, 5, -6]]);
    const y = pipe(x, fp.multiply(0.5), fp.tanh, fp.sum({ axis: 1 }));
    expect(y.toArray()).toEqual(np.sum(np.tanh(np.multiply(x, 0.5)), { axis: 1 }).toArray());
    const w = np.ones([3, 2]);
    const b = np.array([0.5, -10]);
    const layer = flow(fp.matmul(w), fp.add(b), nnfp.relu);
    expect(layer(x).toArray()).toEqual(nn.relu(np.add(np.matmul(x, w), b)).toArray());
    const soft = flow(nnfp.softmax(-1), fp.max({ axis: -1 }));
    expect(soft(x).toArray()).toEqual(np.max(nn.softmax(x, -1), { axis: -1 }).toArray());
    const q = np.reshape(np.linspace(0, 2, 24), [1, 2, 3, 4]);
    const kv = np.reshape(np.linspace(-1, 1, 36), [1, 3, 3, 4]);
    expect(pipe(q, nnfp.dotProductAttention(kv, kv, { isCausal: true })).toArray()).toEqual(nn.dotProductAttention(q, kv, kv, { isCausal: true }).toArray());
    expect(pipe(x, fp.lax.neg, fp.lax.reduceSum([0, 1])).item()).toBe(lax.reduceSum(lax.neg(x), [0, 1]).item());
  });

  it("validates exactly as np does (the same typed errors)", () => {
    expect(() => pipe(np.ones([2, 2]), fp.sum({ axes: 1 } as never))).toThrow(/np.sum: unknown option 'axes'/);
    expect(() => pipe(np.ones([2, 2]), fp.sum(5))).toThrow(/axis 5 is out of bounds|out of range/);
  });

  // Type tests: these lines are checked by `pnpm typecheck` (this file is part of the workspace).
  it("infers every step's type", () => {
    const x = np.ones([2, 3]);
    const n: number = pipe(x, fp.square, fp.mean(), (a) => a.item());
    const parts: ArrayBase[] = pipe(x, fp.split(3, 1));
    // Never called: these must fail to typecheck (an unused @ts-expect-error is itself an error).
    const mustNotTypecheck = () => {
      // @ts-expect-error — fp.sum's options are typed: an unknown key is a compile error.
      pipe(x, fp.sum({ keepDims: true }));
      // @ts-expect-error — fp.tanh is unary: it takes the array itself, not options.
      pipe(x, fp.tanh({ axis: 1 }));
      // @ts-expect-error — flow checks each step's input: a string is not an array.
      flow(fp.reshape([3, 2]), (s: string) => s.length)(x);
    };
    void mustNotTypecheck;
    expect([n, parts.length]).toEqual([1, 3]);
  });
});
