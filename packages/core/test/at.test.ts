/**
 * x.at(...index): get, set, add, subtract, multiply, divide, min, max. References: NumPy 1.24
 * (fixtures/at.json from fixtures/gen_at.py: x[index], x[index] = v, ufunc.at with repeated
 * indices) and a JS loop over random indices (repeats, negatives, out of range, every mode);
 * gradients against finite differences (float64); vmap against a loop; typecheck of every
 * transform's IR; boolean masks under traces.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import { ConcretizationError, type ArrayBase, type AtIndexEntry, type NDArray, ValueError, grad, jit, makeJaxpr, np } from "@cotangent/core";
import { checkGrad, checkSecondOrder, checkVmap, expectClose, typecheckTransforms } from "./harness.js";

type EntryJson = { int?: number; slice?: (number | null)[]; new?: true; ell?: true; arr?: unknown; mask?: unknown };
interface AtCase {
  op: "get" | "set" | "add" | "multiply" | "min" | "max";
  index: EntryJson[];
  x?: number[];
  v?: unknown;
  out: unknown;
  shape?: number[];
}
const fixture = JSON.parse(readFileSync(new URL("./fixtures/at.json", import.meta.url), "utf8")) as { x_shape: number[]; cases: AtCase[] };
const base = np.subtract(np.multiply(np.reshape(np.arange(60, { dtype: "float64" }), fixture.x_shape), 0.5), 7);

const entry = (e: EntryJson): AtIndexEntry => {
  if (e.int !== undefined) return e.int;
  if (e.slice) return np.sl(...(e.slice as [number | null, number | null, number | null]));
  if (e.new) return np.newaxis;
  if (e.ell) return np.ellipsis;
  if (e.arr !== undefined) return np.array(e.arr as number[], { dtype: "int32" });
  return np.array(e.mask as boolean[], { dtype: "bool" });
};

describe("x.at: NumPy 1.24 reference values", () => {
  for (const [k, c] of fixture.cases.entries()) {
    it(`${k}: ${c.op} at ${JSON.stringify(c.index)}`, () => {
      const idx = c.index.map(entry);
      const x = c.x ? np.array(c.x, { dtype: "float64" }) : base;
      const v = c.v === undefined ? undefined : np.array(c.v as number[], { dtype: "float64" });
      const got = c.op === "get" ? x.at(...idx).get() : x.at(...idx)[c.op](v!);
      if (c.shape) expect(got.shape).toEqual(c.shape);
      expectClose(got, np.array(c.out as number[], { dtype: "float64" }), 1e-12);
      if (c.op === "get") expectClose(np.index(x, idx as never), got, 0);
    });
  }
});

// ---------------------------------------------------------------- JS loop reference

type Kind = "set" | "add" | "multiply" | "min" | "max";
const apply: Record<Kind, (a: number, b: number) => number> = {
  set: (_a, b) => b,
  add: (a, b) => a + b,
  multiply: (a, b) => a * b,
  min: (a, b) => Math.min(a, b),
  max: (a, b) => Math.max(a, b),
};

/** x (m x n) updated at rows `rows` (1-D indices on axis 0), v of shape [rows.length, n], in order. */
const refUpdate = (xs: number[][], rows: number[], vs: number[][], kind: Kind, mode: "drop" | "clip"): number[][] => {
  const out = xs.map((r) => r.slice());
  const m = xs.length;
  rows.forEach((r0, i) => {
    let r = r0 < 0 ? r0 + m : r0;
    if (r < 0 || r >= m) {
      if (mode === "drop") return;
      r = Math.min(Math.max(r, 0), m - 1);
    }
    out[r] = out[r]!.map((a, j) => apply[kind](a, vs[i]![j]!));
  });
  return out;
};

describe("x.at: updates against a JS loop", () => {
  it("set (last repeated index wins), add (repeats accumulate), multiply, min, max; drop and clip modes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: -6, max: 6 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom<Kind>("set", "add", "multiply", "min", "max"),
        fc.constantFrom("drop" as const, "clip" as const),
        fc.integer({ min: 0, max: 1000 }),
        (m, n, rows, kind, mode, seed) => {
          const xs = Array.from({ length: m }, (_, i) => Array.from({ length: n }, (_, j) => Math.round(Math.sin(seed + i * 3 + j) * 8) / 2));
          const vs = rows.map((_, i) => Array.from({ length: n }, (_, j) => Math.round(Math.cos(seed + i * 5 + j) * 8) / 2));
          const x = np.array(xs, { dtype: "float64" });
          const got = x.at(np.array(rows, { dtype: "int32" }))[kind](np.array(vs, { dtype: "float64" }), { mode });
          expect(got.toArray()).toEqual(refUpdate(xs, rows, vs, kind, mode));
          // The same under jit, with the indices traced.
          const f = jit((a: ArrayBase, i: ArrayBase, v: ArrayBase) => a.at(i)[kind](v, { mode }));
          expect(f(x, np.array(rows, { dtype: "int32" }), np.array(vs, { dtype: "float64" })).toArray()).toEqual(refUpdate(xs, rows, vs, kind, mode));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("get: clamps by default, fills with mode 'fill' (NaN, int32 min, or fillValue)", () => {
    const x = np.array([10, 20, 30], { dtype: "float32" });
    expect(x.at([0, 5, -1, -4]).get().toArray()).toEqual([10, 30, 30, 10]);
    expect(x.at([0, 5, -1, -4]).get({ mode: "fill" }).toArray()).toEqual([10, NaN, 30, NaN]);
    expect(x.at([5]).get({ mode: "fill", fillValue: -1 }).toArray()).toEqual([-1]);
    expect(np.array([1, 2], { dtype: "int32" }).at(3).get({ mode: "fill" }).item()).toBe(-2147483648);
    expect(jit((a: ArrayBase, i: ArrayBase) => a.at(i).get({ mode: "fill" }))(x, np.array([2, 3], { dtype: "int32" })).toArray()).toEqual([30, NaN]);
  });

  it("keeps x's dtype, broadcasts the value, and leaves x unchanged", () => {
    const x = np.zeros([2, 3], { dtype: "int32" });
    const y = x.at(np.sl(), 1).set(2.7);
    expect(y.dtype).toBe("int32");
    expect(y.toArray()).toEqual([[0, 2, 0], [0, 2, 0]]);
    expect(x.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(x.at(0).add([1, 2, 3]).toArray()).toEqual([[1, 2, 3], [0, 0, 0]]);
    expect(np.ones([3]).at(1).subtract(5).toArray()).toEqual([1, -4, 1]);
    expect(np.ones([3]).at(np.sl(1)).divide(4).toArray()).toEqual([1, 0.25, 0.25]);
  });
});

describe("x.at: boolean masks", () => {
  it("x.at(mask).set(v) is np.where(mask, v, x), eager, under jit and under grad", () => {
    const x = np.array([[1, -2, 3], [-4, 5, -6]], { dtype: "float64" });
    const mask = np.less(x, 0);
    expect(x.at(mask).set(0).toArray()).toEqual(np.where(mask, 0, x).toArray());
    expect(jit((a: ArrayBase) => a.at(np.less(a, 0)).set(0))(x).toArray()).toEqual([[1, 0, 3], [0, 5, 0]]);
    expect(grad((a: ArrayBase) => np.sum(a.at(np.less(a, 0)).multiply(3)))(x).toArray()).toEqual([[1, 3, 1], [3, 1, 3]]);
    // A mask over the leading axis with a row value.
    expect(x.at([true, false]).set([7, 8, 9]).toArray()).toEqual([[7, 8, 9], [-4, 5, -6]]);
  });

  it("data-dependent shapes under a trace are a ConcretizationError; concrete masks select", () => {
    const x = np.array([1, -2, 3], { dtype: "float64" });
    expect(np.index(x, [np.greater(x, 0)]).toArray()).toEqual([1, 3]);
    expect(() => jit((a: ArrayBase) => np.index(a, [np.greater(a, 0)]))(x)).toThrow(ConcretizationError);
    expect(() => grad((a: ArrayBase) => np.sum(a.at(np.greater(a, 0)).get()))(x)).toThrow(/data-dependent shape/);
    // A value that needs the number of true entries cannot be placed under a trace.
    expect(() => jit((a: ArrayBase) => a.at(np.greater(a, 0)).set(np.array([5, 6])))(x)).toThrow(ConcretizationError);
    expect(x.at(np.greater(x, 0)).set(np.array([5, 6], { dtype: "float64" })).toArray()).toEqual([5, -2, 6]);
  });
});

describe("x.at: derivatives and batching", () => {
  const x = np.array([[0.3, -1.2, 2.5], [1.1, 0.2, -0.4], [2.2, -2.1, 0.9], [0.7, 1.9, -0.6]], { dtype: "float64" }) as NDArray;
  const rows = np.array([2, 0, 2, -1], { dtype: "int32" });
  const v = np.array([[1.5, -0.5, 0.25], [0.8, 2.0, -1.1], [-0.3, 0.6, 1.7], [0.45, -0.9, 0.15]], { dtype: "float64" }) as NDArray;

  it("grad wrt x and v matches finite differences for every update (repeated indices included)", () => {
    for (const kind of ["set", "add", "subtract", "multiply", "min", "max"] as const) {
      checkGrad((a: ArrayBase, u: ArrayBase) => np.sin(a.at(rows)[kind](u)), [x, v]);
    }
    // multiply with zeros among the updates of one slot.
    const vz = np.array([[0, -0.5, 0.25], [0.8, 0, -1.1], [0, 0.6, 1.7], [0.45, -0.9, 0]], { dtype: "float64" }) as NDArray;
    checkGrad((a: ArrayBase, u: ArrayBase) => a.at(rows).multiply(u), [x, vz]);
    checkGrad((a: ArrayBase) => a.at(np.sl(1, null, 2), [2, 0]).get(), [x]);
    checkGrad((a: ArrayBase, u: ArrayBase) => a.at(np.sl(null, null, -1), 1).set(u), [x, np.array([1, 2, 3, 4], { dtype: "float64" }) as NDArray]);
  });

  it("second derivatives (Hessian-vector products) match finite differences", () => {
    for (const kind of ["set", "multiply", "max"] as const) {
      checkSecondOrder((a: ArrayBase, u: ArrayBase) => np.sin(np.multiply(a.at(rows)[kind](u), a)), [x, v]);
    }
  });

  it("drop mode: out-of-range updates have no effect and no gradient", () => {
    const out = np.array([5, 9, -9], { dtype: "int32" });
    checkGrad((a: ArrayBase, u: ArrayBase) => a.at(out).set(u), [x, np.ones([3, 3], { dtype: "float64" }) as NDArray]);
    const g = grad((u: ArrayBase) => np.sum(x.at(out).add(u)))(np.ones([3, 3], { dtype: "float64" }));
    expect(g.toArray()).toEqual([[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  });

  it("vmap over x, the value and the indices matches a loop; every transform's IR typechecks", () => {
    const xs = np.stack([x, np.cos(x)]) as NDArray;
    const vs = np.stack([v, np.sin(v)]) as NDArray;
    const is = np.array([[2, 0, 2, -1], [1, 1, 3, 7]], { dtype: "int32" }) as NDArray;
    for (const kind of ["set", "add", "multiply", "min", "max"] as const) {
      checkVmap((a: ArrayBase, i: ArrayBase, u: ArrayBase) => a.at(i)[kind](u), [xs, is, vs]);
      checkVmap((a: ArrayBase, u: ArrayBase) => a.at(rows)[kind](u), [xs, vs]);
      checkVmap((a: ArrayBase, i: ArrayBase) => a.at(i)[kind](v), [xs, is], 1e-12, [0, 0]);
      checkVmap((i: ArrayBase, u: ArrayBase) => x.at(i)[kind](u), [is, vs]);
      typecheckTransforms((a: ArrayBase, u: ArrayBase) => a.at(rows)[kind](u), [x, v]);
    }
    checkVmap((a: ArrayBase, i: ArrayBase) => a.at(i, 0).get({ mode: "fill" }), [xs, is]);
  });

  it("lowers to one gather or scatter on the flattened array", () => {
    const text = makeJaxpr((a: ArrayBase, u: ArrayBase) => a.at(rows).max(u))(x, v).toString();
    expect(text).toContain("scatter_max");
  });
});

describe("x.at: bad arguments are typed errors", () => {
  it("names the operation and the problem", () => {
    const x = np.zeros([2, 3]);
    expect(() => x.at(0).set(np.ones([4]))).toThrow(ValueError);
    expect(() => x.at(0).set(1, { mode: "wrap" as never })).toThrow(/mode must be one of/);
    expect(() => x.at(0).set(1, { mod: "clip" } as never)).toThrow(/did you mean 'mode'/);
    expect(() => x.at(0, 0, 0).get()).toThrow(/too many indices/);
    expect(() => x.at(np.ones([2]) as never).get()).toThrow(/int32 or bool/);
    expect(() => x.at({} as never).get()).toThrow(/an index entry must be/);
    expect(() => np.zeros([2], { dtype: "int32" }).at(0).divide(2)).toThrow(/floating-point/);
  });
});

