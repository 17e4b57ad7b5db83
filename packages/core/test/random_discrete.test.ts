import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, type NDArray, DTypeError, ShapeError, ValueError, grad, makeJaxpr, np, random, typecheck, vmap } from "@cotangent/core";
import { checkGrad, checkJvp, checkTransposition, checkVmap, typecheckTransforms } from "./harness.js";
import { refIotaStream, refRandint, refSplit2 } from "./random_reference.js";

const nums = (x: ArrayBase): number[] => Array.from(x.toTypedArray() as Int32Array, Number);
const softmax = (l: number[]) => {
  const m = Math.max(...l);
  const e = l.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};
const frequencies = (v: number[], k: number) => {
  const c = new Array<number>(k).fill(0);
  for (const x of v) c[x]!++;
  return c.map((n) => n / v.length);
};

describe("bernoulli", () => {
  it("is uniform < p, with the right frequencies", () => {
    const k = random.key(20);
    const b = random.bernoulli(k, 0.3, [10000]);
    expect(b.dtype).toBe("bool");
    const v = nums(b);
    expect(Math.abs(v.reduce((a, x) => a + x, 0) / v.length - 0.3)).toBeLessThan(0.015);
    const u = Array.from(random.uniform(k, [10000]).toTypedArray());
    expect(v).toEqual(u.map((x) => (x < Math.fround(0.3) ? 1 : 0)));
  });

  it("takes per-element probabilities and defaults its shape to p's", () => {
    const p = np.array([0, 0.1, 0.5, 0.9, 1]);
    expect(random.bernoulli(random.key(21), p).shape).toEqual([5]);
    expect(random.bernoulli(random.key(21)).shape).toEqual([]);
    const rows = random.bernoulli(random.key(21), p, [4000, 5]).toArray() as boolean[][];
    [0, 0.1, 0.5, 0.9, 1].forEach((q, c) => {
      const f = rows.filter((r) => r[c]).length / rows.length;
      expect(Math.abs(f - q)).toBeLessThan(0.025);
    });
  });
});

describe("categorical", () => {
  it("draws categories with softmax probabilities", () => {
    const logits = [1, 2, 0.5, -1];
    const v = nums(random.categorical(random.key(22), np.array(logits), { shape: [20000] }));
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThan(4);
    const f = frequencies(v, 4);
    softmax(logits).forEach((p, i) => expect(Math.abs(f[i]! - p)).toBeLessThan(0.012));
  });

  it("reads categories along any axis, with batched logits", () => {
    // Categories on axis 0; column 0 is informative, column 1 uniform.
    const logits = np.array([[1, 0], [2, 0], [0.5, 0], [-1, 0]]);
    const draws = random.categorical(random.key(23), logits, { axis: 0, shape: [8000, 2] });
    expect(draws.shape).toEqual([8000, 2]);
    const cols = draws.toArray() as number[][];
    const f0 = frequencies(cols.map((r) => r[0]!), 4);
    const f1 = frequencies(cols.map((r) => r[1]!), 4);
    softmax([1, 2, 0.5, -1]).forEach((p, i) => expect(Math.abs(f0[i]! - p)).toBeLessThan(0.02));
    f1.forEach((p) => expect(Math.abs(p - 0.25)).toBeLessThan(0.02));
    // Default shape: the batch shape of the logits.
    expect(random.categorical(random.key(23), np.zeros([3, 5])).shape).toEqual([3]);
    expect(random.categorical(random.key(23), np.zeros([3, 5]), { axis: 0 }).shape).toEqual([5]);
    // A certain category (the others at -inf) is always drawn.
    expect(nums(random.categorical(random.key(24), np.array([-Infinity, 0, -Infinity]), { shape: [50] })).every((x) => x === 1)).toBe(true);
  });
});

describe("randint", () => {
  it("matches JAX's values", () => {
    // JAX random_test.py testPRNGValues: randint(PRNGKey(0), (3, 3), 0, 8, int32).
    expect(random.randint(random.key(0), [3, 3], 0, 8).toArray()).toEqual([[2, 1, 3], [6, 1, 5], [6, 3, 4]]);
  });

  it("is JAX's two-word modular construction, for any bounds", () => {
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), int32, int32, (n, seed, a, b) => {
        const [lo, hi] = a < b ? [a, b] : a > b ? [b, a] : [a, a + 1 > 2 ** 31 - 1 ? a : a + 1];
        if (lo === hi) return;
        const r = random.randint(random.key(seed), [n], lo, hi);
        expect(r.dtype).toBe("int32");
        const [k1, k2] = refSplit2([0, seed]);
        const higher = refIotaStream(k1, n);
        const lower = refIotaStream(k2, n);
        expect(nums(r)).toEqual(higher.map((h, i) => refRandint(h, lower[i]!, lo, hi)));
        for (const x of nums(r)) expect(x >= lo && x < hi).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("is uniform over its range (chi-square on 10 buckets)", () => {
    const v = nums(random.randint(random.key(25), [10000], 0, 10));
    const chi2 = frequencies(v, 10).reduce((s, f) => s + (f * 10000 - 1000) ** 2 / 1000, 0);
    expect(chi2).toBeLessThan(27.88); // the 0.999 quantile of chi-square with 9 degrees of freedom
    const neg = nums(random.randint(random.key(26), [2000], -7, -3));
    expect(new Set(neg)).toEqual(new Set([-7, -6, -5, -4]));
  });

  it("broadcasts array bounds and reaches the whole int32 range", () => {
    const lo = np.array([[0], [100]], { dtype: "int32" });
    const hi = np.array([[3], [102]], { dtype: "int32" });
    const rows = random.randint(random.key(27), [2, 200], lo, hi).toArray() as number[][];
    expect(new Set(rows[0])).toEqual(new Set([0, 1, 2]));
    expect(new Set(rows[1])).toEqual(new Set([100, 101]));
    // maxval 2^31 (clipped) makes 2^31 - 1 reachable: the span is 2^32, every word maps to itself.
    const full = nums(random.randint(random.key(28), [1000], -(2 ** 31), 2 ** 31));
    expect(full.some((x) => x < -(2 ** 30)) && full.some((x) => x > 2 ** 30)).toBe(true);
    expect(nums(random.randint(random.key(28), [5], 4, 5))).toEqual([4, 4, 4, 4, 4]);
  });

  it("makes 2^31 - 1 reachable for a float array maxval above the int32 range, element by element, as JAX", () => {
    const k = random.key(29);
    const lo = 2 ** 31 - 3;
    const f64 = (x: number | number[]) => np.array(x, { dtype: "float64" });
    const x = nums(random.randint(k, [200], f64(lo), f64(1e12)));
    expect(new Set(x)).toEqual(new Set([lo, lo + 1, lo + 2]));
    // The same values as a JS-number maxval above the range.
    expect(x).toEqual(nums(random.randint(k, [200], lo, 1e12)));
    // An in-range maxval beside it keeps its exclusive bound; traced bounds (vmap) alike.
    const cols = random.randint(k, [200, 2], f64(lo), f64([1e12, 2 ** 31 - 1])).toArray() as number[][];
    expect(new Set(cols.map((r) => r[0]))).toEqual(new Set([lo, lo + 1, lo + 2]));
    expect(new Set(cols.map((r) => r[1]))).toEqual(new Set([lo, lo + 1]));
    const mapped = vmap((hi: ArrayBase) => random.randint(k, [200], lo, hi))(f64([1e12, 2 ** 31 - 1])).toArray() as number[][];
    expect(new Set(mapped[0])).toEqual(new Set([lo, lo + 1, lo + 2]));
    expect(new Set(mapped[1])).toEqual(new Set([lo, lo + 1]));
  });

  it("names the op and the bad argument in errors", () => {
    const k = random.key(0);
    expect(() => random.randint(k, [3], 5, 5)).toThrow(ValueError);
    expect(() => random.randint(k, [3], 5, 5)).toThrow(/random.randint: minval \(5\) must be less than maxval \(5\)[\s\S]*hint: maxval is exclusive/);
    expect(() => random.randint(k, [2], np.array([0, 4], { dtype: "int32" }), 3)).toThrow(/minval \(4\) must be less than maxval \(3\)/);
    expect(() => random.randint(k, [3], 0, 2.5)).toThrow(/random.randint: maxval must be an integer, got 2.5/);
    expect(() => random.randint(k, [3], 0, 4, { dtype: "float32" })).toThrow(DTypeError);
    expect(() => random.randint(k, [3], 0, 4, { dtype: "float32" })).toThrow(/random.randint: dtype must be int32, got float32[\s\S]*random.uniform/);
    expect(() => random.randint(k, [3], np.zeros([2], { dtype: "int32" }), 4)).toThrow(ShapeError);
    expect(() => random.randint(k, [3], np.zeros([2], { dtype: "int32" }), 4)).toThrow(/random.randint: parameter shapes \[2\], \[\] must broadcast to the shape argument \[3\]/);
  });
});

describe("permutation", () => {
  it("permutes 0 .. n-1", () => {
    for (const n of [0, 1, 2, 7, 100, 2000]) {
      const p = nums(random.permutation(random.key(n), n));
      expect(p.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    const p = nums(random.permutation(random.key(30), 50));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(nums(random.permutation(random.key(30), 50))).toEqual(p);
    expect(nums(random.permutation(random.key(31), 50))).not.toEqual(p);
  });

  it("is a stable sort by the bits of the second half of split(key)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (n, seed) => {
        const [, sub] = refSplit2([0, seed]);
        const keys = refIotaStream(sub, n);
        const want = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
        expect(nums(random.permutation(random.key(seed), n))).toEqual(want);
      }),
      { numRuns: 25 },
    );
  });

  it("permutes array slices along an axis, all alike", () => {
    const x = np.reshape(np.arange(12), [4, 3]);
    const rows = random.permutation(random.key(32), x).toArray() as number[][];
    expect(rows.map((r) => r[0]).sort()).toEqual([0, 3, 6, 9]);
    rows.forEach((r) => expect(r).toEqual([r[0], r[0]! + 1, r[0]! + 2]));
    const cols = random.permutation(random.key(32), x, { axis: 1 }).toArray() as number[][];
    const perm = cols[0]!;
    cols.forEach((r, i) => expect(r).toEqual(perm.map((c) => c + 3 * i)));
    // The same permutation as the integer form.
    const p = nums(random.permutation(random.key(32), 4));
    expect(rows.map((r) => r[0]! / 3)).toEqual(p);
  });

  it("is differentiable and linear in the array", () => {
    const k = random.key(33);
    const x = np.array([[1, 2, 3], [4, 5, 6]], { dtype: "float64" }) as NDArray;
    const f = (x: ArrayBase) => random.permutation(k, x, { axis: 1 });
    checkGrad(f, [x]);
    checkJvp(f, [x]);
    checkTransposition(f, [x]);
    const w = np.array([[1, 10, 100], [0, 0, 0]], { dtype: "float64" });
    const g = grad((x: ArrayBase) => np.sum(np.multiply(w, f(x))))(x);
    // The gradient is w moved back through the inverse permutation.
    const p = nums(random.permutation(k, 3));
    const want = [0, 0, 0];
    p.forEach((src, i) => (want[src] = [1, 10, 100][i]!));
    expect((g.toArray() as number[][])[0]).toEqual(want);
  });

  it("takes n as a concrete int32 scalar array too, as JAX", () => {
    const k = random.key(34);
    expect(nums(random.permutation(k, np.array(6, { dtype: "int32" })))).toEqual(nums(random.permutation(k, 6)));
    expect(() => random.permutation(k, np.array(-1, { dtype: "int32" }))).toThrow(/random.permutation: n must be a non-negative integer, got -1/);
    expect(() => makeJaxpr((n: ArrayBase) => random.permutation(k, n))(np.array(3, { dtype: "int32" }))).toThrow(
      /random.permutation: n must be known when tracing[^]*hint: pass a JS integer/,
    );
  });

  it("names the op and the bad argument in errors", () => {
    const k = random.key(0);
    expect(() => random.permutation(k, 2.5)).toThrow(/random.permutation: n must be a non-negative integer, got 2.5/);
    expect(() => random.permutation(k, np.array(3))).toThrow(/random.permutation: x must be an integer or an array with at least one axis, got f32\[\]/);
    expect(() => random.permutation(k, np.zeros([2, 2]), { axis: 2 })).toThrow(/random.permutation: axis 2 is out of range/);
  });
});

describe("discrete samplers under transforms", () => {
  const keys = random.split(random.key(40), 3) as unknown as NDArray;

  it("vmap over keys equals a loop", () => {
    checkVmap((k: ArrayBase) => random.randint(k, [4], -3, 9), [keys], 0);
    checkVmap((k: ArrayBase) => random.bernoulli(k, 0.4, [5]), [keys], 0);
    checkVmap((k: ArrayBase) => random.categorical(k, np.array([0.1, 0.5, 2]), { shape: [6] }), [keys], 0);
    checkVmap((k: ArrayBase) => random.permutation(k, 9), [keys], 0);
    checkVmap((k: ArrayBase) => random.permutation(k, np.array([[1, 2], [3, 4], [5, 6]]), { axis: 0 }), [keys], 0);
    // Keys and probabilities mapped together; arrays mapped through the permutation.
    checkVmap((k: ArrayBase, p: ArrayBase) => random.bernoulli(k, p, [4]), [keys, np.array([0.1, 0.5, 0.9]) as NDArray], 0);
    checkVmap((x: ArrayBase) => random.permutation(random.key(1), x), [np.reshape(np.arange(12, undefined, 1, { dtype: "float32" }), [3, 4]) as NDArray], 0);
  });

  it("gives per-example gradients through a random mask: vmap(grad) over keys", () => {
    // Dropout-style: each key masks a different subset of x.
    const x = np.array([1, 2, 3, 4, 5]);
    const loss = (k: ArrayBase, x: ArrayBase) => np.sum(np.square(np.where(random.bernoulli(k, 0.5, [5]), x, 0)));
    const g = vmap(grad(loss, { argnums: 1 }), { inAxes: [0, null] })(keys, x);
    [...(keys as unknown as Iterable<ArrayBase>)].forEach((k, i) => {
      const mask = random.bernoulli(k, 0.5, [5]).toArray() as boolean[];
      expect((g.toArray() as number[][])[i]).toEqual(mask.map((m, j) => (m ? 2 * (j + 1) : 0)));
    });
  });

  it("traces to well-typed jaxprs", () => {
    const k = random.key(41);
    for (const f of [
      (key: ArrayBase) => random.randint(key, [3], 0, 5),
      (key: ArrayBase) => random.categorical(key, np.zeros([2, 3])),
      (key: ArrayBase) => random.permutation(key, 5),
      (key: ArrayBase) => random.bernoulli(key, 0.5, [2]),
    ]) {
      typecheck(makeJaxpr(f)(k));
      typecheckTransforms(f, [k]);
    }
    expect(makeJaxpr((key: ArrayBase) => random.permutation(key, 5))(k).toString()).toContain("sort_by_u32_keys");
  });
});
