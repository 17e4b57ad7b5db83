/**
 * The shared argument validator, table-driven over every registered signature of core and nn
 * (`signatures()`): an unknown option key is a ValueError naming the function, with the
 * known options listed; and for representative functions of each module, JAX's positional
 * form gives the same result as the options form.
 */
import { describe, expect, it } from "vitest";
import * as core from "@cotangent/core";
import * as nn from "@cotangent/nn";

const { np, random, lax, signatures, ValueError } = core;
type Fn = (...args: unknown[]) => unknown;

/** The exported function a signature belongs to (`np.linalg.norm` -> core.np.linalg.norm). */
const resolve = (name: string): Fn | undefined => {
  // Signatures of functions that others return (`nn.multiHeadAttention(...).apply`) are checked where they are made.
  // and those of array methods (`x.at`) by the method's own tests.
  if (name.includes("(") || name.startsWith("x.")) return (() => {}) as Fn;
  const [head, ...rest] = name.split(".");
  let v: unknown = head === "nn" ? nn : (core as Record<string, unknown>)[head!];
  for (const k of rest) v = v === undefined || v === null ? undefined : (v as Record<string, unknown>)[k];
  return typeof v === "function" ? (v as Fn) : undefined;
};

const key = random.key(0);
// Square and positive definite, so that the linear-algebra functions accept it too.
const x = np.array([[2, 0.5], [0.5, 1]], { dtype: "float32" });
/** A plausible value for a required parameter, by name first, then by kind. */
const sample = (p: core.Param): unknown => {
  if (p.name === "key") return key;
  const byKind: Record<string, unknown> = {
    array: x, arrays: [x, x], operand: x, arrayValue: x, operands: [x, x], axis: 0, axes: 0, requiredAxis: 0, axisList: 0,
    ints: 1, intList: [0], countList: [2, 2], shape: [2, 2], newShape: [4], dtype: "float32", dtypeName: "float32",
    int: 1, count: 1, number: 1, finite: 1, bool: true, function: (v: unknown) => v, string: p.choices?.[0] ?? "ij->ji", object: {}, any: x,
  };
  return p.kind in byKind ? byKind[p.kind] : x;
};

describe("every registered signature", () => {
  const sigs = signatures();
  it("covers np, lax, random and nn", () => {
    const prefixes = new Set(sigs.map((s) => s.name.split(".")[0]));
    for (const p of ["np", "lax", "random", "nn"]) expect(prefixes).toContain(p);
    expect(sigs.length).toBeGreaterThan(150);
  });

  it("belongs to an exported function", () => {
    expect(sigs.map((s) => s.name).filter((n) => resolve(n) === undefined)).toEqual([]);
  });

  it("rejects an unknown option key with a ValueError naming the function", () => {
    const failures: string[] = [];
    for (const sig of sigs) {
      const f = resolve(sig.name);
      if (!f || sig.name.includes("(") || sig.name.startsWith("x.")) continue;
      const required = sig.params.filter((p) => p.required && p.pass !== "keyword").map(sample);
      let err: unknown;
      try {
        f(...required, { notAnOption: 1 });
      } catch (e) {
        err = e;
      }
      const ok = err instanceof ValueError && (err as Error).message.startsWith(`${sig.name}: unknown option 'notAnOption'`);
      if (!ok) failures.push(`${sig.name}: ${err === undefined ? "no error" : String((err as Error).message ?? err).split("\n")[0]}`);
    }
    expect(failures).toEqual([]);
  });

  it("nn layers and oneHot refuse unknown options", () => {
    expect(() => nn.layerNorm(4, { epsilonn: 1 } as never)).toThrow(/nn.layerNorm: unknown option 'epsilonn'[\s\S]*did you mean 'epsilon'/);
    expect(() => nn.rmsNorm(4, { useBias: true } as never)).toThrow(/nn.rmsNorm: unknown option 'useBias'/);
    expect(() => nn.conv2d(3, 4, 3, { paddng: "SAME" } as never)).toThrow(/nn.conv2d: unknown option 'paddng'[\s\S]*did you mean 'padding'/);
    expect(() => nn.dense(3, 4, { usebias: false } as never)).toThrow(/did you mean 'useBias'/);
    expect(() => nn.maxPool(2, { stride: 2 } as never)).toThrow(/nn.maxPool: unknown option 'stride'[\s\S]*did you mean 'strides'/);
    expect(() => (nn.oneHot as unknown as Fn)(np.array([1]), 3, "float32")).toThrow(/nn.oneHot: takes at most 2 positional arguments/);
    expect(() => (nn.relu as unknown as Fn)(x, 0.1)).toThrow(/nn.relu: takes at most 1 positional argument/);
  });

  it("gives a did-you-mean for a near-miss key", () => {
    expect(() => (random.normal as unknown as Fn)(key, { shpae: [2] })).toThrow(/random.normal: unknown option 'shpae'[\s\S]*did you mean 'shape'/);
    expect(() => (random.uniform as unknown as Fn)(key, [2], { maxVal: 2 })).toThrow(/did you mean 'maxval'/);
  });
});

const same = (a: unknown, b: unknown) => {
  const arr = (v: unknown) => (v instanceof core.ArrayBase ? { shape: v.shape, dtype: v.dtype, values: v.toArray() } : v);
  expect(arr(a)).toEqual(arr(b));
};

describe("positional form equals options form", () => {
  const cases: Record<string, [() => unknown, () => unknown]> = {
    "np.clip": [() => np.clip(x, 0, 1), () => np.clip(x, { min: 0, max: 1 })],
    "np.round": [() => np.round(x, 1), () => np.round(x, { decimals: 1 })],
    "np.where": [() => np.where(np.greater(x, 0), x, 0), () => np.where(np.greater(x, 0), { x, y: 0 })],
    "np.tensordot": [() => np.tensordot(x, x, [[1], [1]]), () => np.tensordot(x, x, { axes: [[1], [1]] })],
    "np.sum": [() => np.sum(x, 1, null, null, true), () => np.sum(x, { axis: 1, keepdims: true })],
    "random.normal": [() => random.normal(key, [3], "float64"), () => random.normal(key, { shape: [3], dtype: "float64" })],
    "random.uniform": [() => random.uniform(key, [3], "float32", -2, 2), () => random.uniform(key, { shape: [3], minval: -2, maxval: 2 })],
    "random.truncatedNormal": [() => random.truncatedNormal(key, -1, 1, [4], "float64"), () => random.truncatedNormal(key, -1, 1, { shape: [4], dtype: "float64" })],
    "random.gumbel": [() => random.gumbel(key, [3], "float64"), () => random.gumbel(key, [3], { dtype: "float64" })],
    "random.bernoulli": [() => random.bernoulli(key, 0.3, [5]), () => random.bernoulli(key, { p: 0.3, shape: [5] })],
    "random.randint": [() => random.randint(key, [4], 0, 10, "int32"), () => random.randint(key, { shape: [4], minval: 0, maxval: 10, dtype: "int32" })],
    "random.categorical": [() => random.categorical(key, x, 0, [3, 2]), () => random.categorical(key, x, { axis: 0, shape: [3, 2] })],
    "random.permutation": [() => random.permutation(key, x, 1, true), () => random.permutation(key, x, { axis: 1, independent: true })],
    "random.split": [() => random.split(key, 3), () => random.split(key, { num: 3 })],
    "random.bits": [() => random.bits(key, [2]), () => random.bits(key, { shape: [2] })],
    "nn.softmax": [() => nn.softmax(x, 0), () => nn.softmax(x, { axis: 0 })],
    "nn.logSoftmax": [() => nn.logSoftmax(x, 0), () => nn.logSoftmax(x, { axis: 0 })],
    "nn.leakyRelu": [() => nn.leakyRelu(x, 0.2), () => nn.leakyRelu(x, { negativeSlope: 0.2 })],
    "nn.elu": [() => nn.elu(np.negative(x), 0.5), () => nn.elu(np.negative(x), { alpha: 0.5 })],
    "nn.gelu": [() => nn.gelu(x, false), () => nn.gelu(x, { approximate: false })],
  };
  for (const [name, [positional, options]] of Object.entries(cases)) {
    it(name, () => same(positional(), options()));
  }
  it("lax functions keep their positional forms", () => {
    same(lax.cumsum(x, 1, true), (lax.cumsum as unknown as Fn)(x, { axis: 1, reverse: true }));
  });
});
