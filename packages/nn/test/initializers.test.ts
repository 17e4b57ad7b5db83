/**
 * Initializers: fans and variances against the published formulas (JAX's variance_scaling),
 * sample statistics, orthogonality against a Householder QR reference, and errors.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type ArrayBase, AxisError, DTypeError, ShapeError, ValueError, np, random, vmap } from "@cotangent/core";
import * as nn from "@cotangent/nn";

const values = (x: ArrayBase): number[] => Array.from(x.toTypedArray() as Float64Array);
const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
  return { mean, variance, min: Math.min(...xs), max: Math.max(...xs) };
};

/** Fans by explicit loops over the axes (JAX's _compute_fans). */
const refFans = (shape: number[], inAxis: number, outAxis: number): [number, number] => {
  const n = shape.length;
  const ia = (inAxis + n) % n;
  const oa = (outAxis + n) % n;
  let receptive = 1;
  for (let k = 0; k < n; k++) if (k !== ia && k !== oa) receptive *= shape[k]!;
  return [shape[ia]! * receptive, shape[oa]! * receptive];
};

describe("computeFans", () => {
  it("matches the receptive-field formula on random shapes and axes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 5 }).chain((s) =>
          fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }), fc.integer({ min: 0, max: s.length - 1 })).filter(([, a, b]) => a !== b),
        ),
        ([shape, inAxis, outAxis]) => {
          expect(nn.computeFans(shape, { inAxis, outAxis })).toEqual(refFans(shape, inAxis, outAxis));
          expect(nn.computeFans(shape, { inAxis: inAxis - shape.length, outAxis })).toEqual(refFans(shape, inAxis, outAxis));
        },
      ),
      { numRuns: 40 },
    );
  });
  it("gives a conv kernel's fans: H·W·I and H·W·O", () => {
    expect(nn.computeFans([3, 3, 16, 32])).toEqual([144, 288]);
    expect(nn.computeFans([4, 10, 20], { batchAxis: 0 })).toEqual([10, 20]);
  });
  it("rejects vectors and bad axes", () => {
    expect(() => nn.computeFans([5])).toThrow(ShapeError);
    expect(() => nn.computeFans([5])).toThrow(/can't compute input and output sizes of a 1-dimensional weights tensor \[5\]; it must be at least 2D[^]*hint: initialize biases/);
    expect(() => nn.computeFans([2, 3], { inAxis: 2 })).toThrow(/nn.computeFans: inAxis 2 is out of range for a 2-dimensional shape/);
    expect(() => nn.computeFans([2, 3], { inAxis: 2 })).toThrow(AxisError);
  });
});

describe("variance scaling initializers", () => {
  const key = random.key(7);
  // scale, mode and distribution of each published initializer.
  const cases: [string, nn.Initializer, number, "fan_in" | "fan_avg", "uniform" | "truncated_normal"][] = [
    ["glorotUniform", nn.glorotUniform(), 1, "fan_avg", "uniform"],
    ["glorotNormal", nn.glorotNormal(), 1, "fan_avg", "truncated_normal"],
    ["heUniform", nn.heUniform(), 2, "fan_in", "uniform"],
    ["heNormal", nn.heNormal(), 2, "fan_in", "truncated_normal"],
    ["lecunNormal", nn.lecunNormal(), 1, "fan_in", "truncated_normal"],
    ["lecunUniform", nn.lecunUniform(), 1, "fan_in", "uniform"],
  ];

  it.each(cases)("%s is JAX's recipe on the same key", (_name, init, scale, mode, dist) => {
    const shape = [3, 5, 7];
    const [fanIn, fanOut] = refFans(shape, -2, -1);
    const variance = scale / (mode === "fan_in" ? fanIn : (fanIn + fanOut) / 2);
    const want =
      dist === "uniform"
        ? np.multiply(random.uniform(key, shape, { minval: -1, maxval: 1 }), Math.sqrt(3 * variance))
        : np.multiply(random.truncatedNormal(key, -2, 2, shape), Math.sqrt(variance) / 0.87962566103423978);
    const got = init(key, shape);
    expect(got.dtype).toBe("float32");
    expect(got.toArray()).toEqual(want.toArray());
  });

  it.each(cases)("%s has the published variance and range", (_name, init, scale, mode, dist) => {
    const shape = [300, 200];
    const variance = scale / (mode === "fan_in" ? 300 : 250);
    const s = stats(values(init(key, shape, "float64")));
    expect(Math.abs(s.mean)).toBeLessThan(4 * Math.sqrt(variance / 60000));
    expect(s.variance / variance).toBeGreaterThan(0.97);
    expect(s.variance / variance).toBeLessThan(1.03);
    const bound = dist === "uniform" ? Math.sqrt(3 * variance) : (2 * Math.sqrt(variance)) / 0.87962566103423978;
    expect(Math.max(-s.min, s.max)).toBeLessThanOrEqual(bound);
    expect(Math.max(-s.min, s.max)).toBeGreaterThan(0.95 * bound);
  });

  it("varianceScaling 'normal' and 'fan_out'", () => {
    const w = nn.varianceScaling(3, "fan_out", "normal")(key, [100, 400], "float64");
    expect(w.toArray()).toEqual(np.multiply(random.normal(key, [100, 400], { dtype: "float64" }), Math.sqrt(3 / 400)).toArray());
  });

  it("zero-size weights are empty, not NaN", () => {
    expect(nn.glorotUniform()(key, [0, 4]).shape).toEqual([0, 4]);
  });

  it("rejects bad configuration and dtypes", () => {
    expect(() => nn.varianceScaling(-1, "fan_in", "normal")).toThrow(ValueError);
    expect(() => nn.varianceScaling(-1, "fan_in", "normal")).toThrow(/nn.varianceScaling: scale must be a positive number, got -1/);
    expect(() => nn.varianceScaling(1, "fan_sum" as any, "normal")).toThrow(/mode must be "fan_in", "fan_out" or "fan_avg", got "fan_sum"/);
    expect(() => nn.varianceScaling(1, "fan_in", "cauchy" as any)).toThrow(/distribution must be "truncated_normal", "normal" or "uniform", got "cauchy"/);
    expect(() => nn.heNormal()(key, [3, 4], "int32")).toThrow(DTypeError);
    expect(() => nn.heNormal()(key, [3, 4], "int32")).toThrow(/nn.varianceScaling: parameters must be float32 or float64, got int32/);
    expect(() => nn.heNormal()(key, [3, -4])).toThrow(/shape must be a list of non-negative integers, got \[3, -4\]/);
    expect(() => nn.heNormal()(key, [3])).toThrow(/1-dimensional weights tensor/);
  });
});

describe("simple initializers", () => {
  const key = random.key(3);
  it("zeros, ones, normal(stddev), uniform(scale)", () => {
    expect(nn.zeros(key, [2, 2]).toArray()).toEqual([[0, 0], [0, 0]]);
    expect(nn.ones(key, [3], "float64").dtype).toBe("float64");
    expect(nn.ones(key, [3]).toArray()).toEqual([1, 1, 1]);
    expect(nn.normal(0.5)(key, [4]).toArray()).toEqual(np.multiply(random.normal(key, [4]), 0.5).toArray());
    expect(nn.normal()(key, [4]).toArray()).toEqual(np.multiply(random.normal(key, [4]), 0.01).toArray());
    const s = stats(values(nn.normal(0.2)(key, [20000], "float64")));
    expect(Math.sqrt(s.variance)).toBeCloseTo(0.2, 2);
    const u = stats(values(nn.uniform(0.5)(key, [1000])));
    expect(u.min).toBeGreaterThanOrEqual(0);
    expect(u.max).toBeLessThan(0.5);
  });
  it("errors", () => {
    expect(() => nn.normal(-1)).toThrow(/nn.normal: stddev must be a non-negative number, got -1/);
    expect(() => nn.uniform(NaN)).toThrow(/nn.uniform: scale must be a non-negative number, got NaN/);
    expect(() => nn.zeros(key, [2], "bool")).toThrow(/nn.zeros: parameters must be float32 or float64, got bool/);
  });
});

// ---------------------------------------------------------------- orthogonal

/** Householder QR of a tall n×k matrix (rows of `a`), Q with R's diagonal made positive: the reference. */
const householderQ = (a: number[][]): number[][] => {
  const n = a.length;
  const k = a[0]!.length;
  const r = a.map((row) => row.slice());
  const q = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let j = 0; j < k; j++) {
    const x = r.slice(j).map((row) => row[j]!);
    const norm = Math.hypot(...x);
    const v = x.slice();
    v[0] += (x[0]! >= 0 ? 1 : -1) * norm;
    const vn = Math.hypot(...v);
    if (vn === 0) continue;
    for (let i = 0; i < v.length; i++) v[i] /= vn;
    // R <- (I - 2vv^T) R on rows j.., Q <- Q (I - 2vv^T) on columns j..
    for (let c = 0; c < k; c++) {
      let d = 0;
      for (let i = 0; i < v.length; i++) d += v[i]! * r[j + i]![c]!;
      for (let i = 0; i < v.length; i++) r[j + i]![c] -= 2 * v[i]! * d;
    }
    for (let row = 0; row < n; row++) {
      let d = 0;
      for (let i = 0; i < v.length; i++) d += q[row]![j + i]! * v[i]!;
      for (let i = 0; i < v.length; i++) q[row]![j + i] -= 2 * d * v[i]!;
    }
  }
  // Thin Q (first k columns), each column times sign(R_jj).
  return q.map((row) => row.slice(0, k).map((val, j) => val * Math.sign(r[j]![j]!)));
};

const gram = (m: number[][], byColumns: boolean): number[][] => {
  const vs = byColumns ? m[0]!.map((_, j) => m.map((row) => row[j]!)) : m;
  return vs.map((a) => vs.map((b) => a.reduce((s, x, i) => s + x * b[i]!, 0)));
};
const eye = (n: number) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const maxDiff = (a: number[][], b: number[][]) => Math.max(0, ...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - b[i]![j]!))));

describe("orthogonal", () => {
  it("is the Q of a QR of a normal matrix with R's diagonal positive (tall, square and wide)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 1000 }), (rows, cols, seed) => {
        const key = random.key(seed);
        const w = nn.orthogonal()(key, [rows, cols], "float64").toArray() as number[][];
        const wide = rows < cols;
        const a = random.normal(key, wide ? [cols, rows] : [rows, cols], { dtype: "float64" }).toArray() as number[][];
        const q = householderQ(a);
        const want = wide ? q[0]!.map((_, j) => q.map((row) => row[j]!)) : q;
        expect(maxDiff(w, want)).toBeLessThan(1e-10);
        // Orthonormal columns (tall) or rows (wide).
        expect(maxDiff(gram(w, !wide), eye(Math.min(rows, cols)))).toBeLessThan(1e-12);
      }),
      { numRuns: 30 },
    );
  });

  it("scales, honours columnAxis on higher-rank shapes, and stays orthogonal in float32", () => {
    const key = random.key(1);
    const w = nn.orthogonal(2, 0)(key, [6, 3, 4], "float64");
    expect(w.shape).toEqual([6, 3, 4]);
    // Columns along axis 0: the matrix is [12 rows, 6 cols] after moving axis 0 last.
    const m = np.reshape(np.moveaxis(w, 0, -1), [12, 6]).toArray() as number[][];
    expect(maxDiff(gram(m, true), eye(6).map((r) => r.map((x) => 4 * x)))).toBeLessThan(1e-12);
    const f = nn.orthogonal()(key, [64, 32]).toArray() as number[][];
    expect(maxDiff(gram(f, true), eye(32))).toBeLessThan(1e-5);
  });

  it("works on traced keys (vmap over a batch of keys)", () => {
    const keys = random.split(random.key(5), 3);
    const batched = vmap((k: ArrayBase) => nn.orthogonal()(k, [4, 3], "float64"))(keys);
    [...keys].forEach((k, i) => {
      const one = nn.orthogonal()(k, [4, 3], "float64").toArray() as number[][];
      expect(maxDiff((batched.toArray() as number[][][])[i]!, one)).toBeLessThan(1e-14);
    });
  });

  it("errors", () => {
    expect(() => nn.orthogonal()(random.key(0), [5])).toThrow(/nn.orthogonal: needs at least a 2-D shape, got \[5\]/);
    expect(() => nn.orthogonal(Infinity)).toThrow(/nn.orthogonal: scale must be a finite number, got Infinity/);
    expect(() => nn.orthogonal(1, 3)(random.key(0), [2, 2])).toThrow(/columnAxis 3 is out of range for a 2-dimensional shape/);
    expect(() => nn.orthogonal()(random.key(0), [2, 2], "int32")).toThrow(DTypeError);
  });
});
