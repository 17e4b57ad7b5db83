import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AxisError, ValueError, grad, lax, makeJaxpr, np, vmap, type ArrayBase, type NDArray } from "@cotangent/core";
import { arbArray, arbShape, checkGrad, checkTransposition, checkVmap, expectClose, typecheckTransforms } from "./harness.js";
import { sizeOf as size, forEachIndex, offsetOf as offset } from "./reference_util.js";

// ---------------------------------------------------------------- reference helpers (plain loops)

const vals = (x: ArrayBase): number[] => Array.from(x.toTypedArray() as ArrayLike<number>);
const f64 = (shape: number[], seed = 0) =>
  np.array(Float64Array.from({ length: size(shape) }, (_, i) => Math.sin(i * 1.37 + seed) * 2), { dtype: "float64", shape }) as NDArray;

/**
 * Reference reduction: groups the elements of `x` by their index outside `axes` and folds
 * each group in row-major order with `fold`.
 */
const refReduce = (x: ArrayBase, axes: number[], fold: (group: number[]) => number): { shape: number[]; values: number[] } => {
  const v = vals(x);
  const shape = x.shape.filter((_, k) => !axes.includes(k));
  const groups: number[][] = Array.from({ length: size(shape) }, () => []);
  forEachIndex(x.shape, (idx) => {
    groups[offset(shape, idx.filter((_, k) => !axes.includes(k)))]!.push(v[offset(x.shape, idx)]!);
  });
  return { shape, values: groups.map(fold) };
};

const dtypes = fc.constantFrom("float32" as const, "float64" as const);
/** An array and a subset of its axes (as a list, a single number, or null for all). */
const arbReduction = fc
  .tuple(arbShape(3, 4), dtypes, fc.nat(15), fc.nat(3))
  .chain(([s, d, mask, form]) =>
    fc.tuple(
      arbArray(s, -3, 3, d),
      fc.constant(
        form === 0 || s.length === 0
          ? null
          : form === 1
            ? (mask % s.length) - (mask & 1 ? s.length : 0)
            : s.map((_, k) => k).filter((k) => mask & (1 << k)),
      ),
      fc.boolean(),
    ),
  );
const axesOf = (x: ArrayBase, axis: number | number[] | null): number[] =>
  axis === null ? x.shape.map((_, k) => k) : typeof axis === "number" ? [axis < 0 ? axis + x.ndim : axis] : axis;
const keptShape = (x: ArrayBase, axes: number[]) => x.shape.map((d, k) => (axes.includes(k) ? 1 : d));

const closeTo = (got: number[], want: number[], dtype: string) => {
  expect(got.length).toBe(want.length);
  const tol = dtype === "float32" ? 1e-5 : 1e-12;
  got.forEach((g, i) => {
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(g).toBe(w);
    else expect(Math.abs(g - w)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
  });
};

const f32round = (v: number) => Math.fround(v);

// ---------------------------------------------------------------- tests

describe("np reductions against reference loops", () => {
  const cases: [string, (x: any, o: any) => ArrayBase, (g: number[]) => number, boolean][] = [
    ["sum", np.sum, (g) => g.reduce((a, b) => a + b, 0), true],
    ["prod", np.prod, (g) => g.reduce((a, b) => a * b, 1), true],
    ["mean", np.mean, (g) => g.reduce((a, b) => a + b, 0) / g.length, true],
    ["max", np.max, (g) => Math.max(...g), false],
    ["min", np.min, (g) => Math.min(...g), false],
    ["var", np.var, (g) => { const m = g.reduce((a, b) => a + b, 0) / g.length; return g.reduce((a, b) => a + (b - m) ** 2, 0) / g.length; }, true],
    ["std(ddof=1)", (x, o) => np.std(x, { ...o, ddof: 1 }), (g) => { const m = g.reduce((a, b) => a + b, 0) / g.length; return Math.sqrt(g.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(g.length - 1, 0)); }, true],
    ["logsumexp", np.logsumexp, (g) => { const m = Math.max(...g); return Number.isFinite(m) ? m + Math.log(g.reduce((a, b) => a + Math.exp(b - m), 0)) : Math.log(g.reduce((a, b) => a + Math.exp(b), 0)); }, true],
  ];
  for (const [name, f, fold, emptyOk] of cases) {
    it(`${name} with axis and keepdims`, () => {
      fc.assert(
        fc.property(arbReduction, ([x, axis, keepdims]) => {
          const axes = axesOf(x, axis);
          const ref = refReduce(x, axes, (g) => (x.dtype === "float32" && name !== "max" && name !== "min" ? f32round(fold(g)) : fold(g)));
          if (!emptyOk && axes.some((k) => x.shape[k] === 0)) {
            expect(() => f(x, { axis, keepdims })).toThrow(/zero-size array to reduction operation/);
            return;
          }
          const y = f(x, { axis, keepdims });
          expect(y.shape).toEqual(keepdims ? keptShape(x, axes) : ref.shape);
          expect(y.dtype).toBe(x.dtype);
          closeTo(vals(y), ref.values, x.dtype);
        }),
        { numRuns: 30 },
      );
    });
  }

  it("integer and boolean dtypes", () => {
    const b = np.array([[true, false, true], [false, false, true]]);
    expect(np.sum(b).dtype).toBe("int32");
    expect(np.sum(b, { axis: 0 }).toArray()).toEqual([1, 0, 2]);
    expect(np.prod(np.array([2, 3, 4], { dtype: "int32" })).toArray()).toBe(24);
    expect(np.mean(np.array([1, 2], { dtype: "int32" })).dtype).toBe("float32");
    expect(np.max(np.array([1, 7, 3], { dtype: "int32" })).toArray()).toBe(7);
    expect(np.all(b, { axis: 1 }).toArray()).toEqual([false, false]);
    expect(np.any(b, { axis: 1 }).toArray()).toEqual([true, true]);
    expect(np.all(np.array([[1, 2], [0, 3]]), { axis: 1, keepdims: true }).toArray()).toEqual([[true], [false]]);
    expect(np.any(np.zeros([0, 2]), { axis: 0 }).toArray()).toEqual([false, false]);
    expect(np.all(np.zeros([0, 2]), { axis: 0 }).toArray()).toEqual([true, true]);
    expect(np.cumsum(b, { axis: 1 }).toArray()).toEqual([[1, 1, 2], [0, 0, 1]]);
  });

  it("all / any match the reference loop", () => {
    fc.assert(
      fc.property(arbReduction, ([x, axis, keepdims]) => {
        const t = np.greater(x, 0);
        const axes = axesOf(x, axis);
        expect(vals(np.all(t, { axis, keepdims }))).toEqual(refReduce(x, axes, (g) => (g.every((v) => v > 0) ? 1 : 0)).values);
        expect(vals(np.any(x, { axis, keepdims }))).toEqual(refReduce(x, axes, (g) => (g.some((v) => v !== 0) ? 1 : 0)).values);
      }),
      { numRuns: 25 },
    );
  });

  it("NaN propagates through max/min; logsumexp handles infinities", () => {
    expect(np.max(np.array([1, NaN, 3])).item()).toBeNaN();
    expect(np.min(np.array([NaN, 1])).item()).toBeNaN();
    expect(np.logsumexp(np.array([-Infinity, -Infinity])).item()).toBe(-Infinity);
    expect(np.logsumexp(np.array([1, Infinity])).item()).toBe(Infinity);
    expect(np.logsumexp(np.array([1000, 1000], { dtype: "float64" })).item()).toBeCloseTo(1000 + Math.log(2), 10);
    expect(np.logsumexp(np.zeros([0])).item()).toBe(-Infinity);
    expect(vals(grad((x: any) => np.logsumexp(x))(np.array([-Infinity, 0, 0])))).toEqual([0, 0.5, 0.5]);
    // stop_gradient of the shift, as in JAX.
    expect(makeJaxpr((x: any) => np.logsumexp(x))(np.zeros([3])).toString()).toContain("stop_gradient");
  });

  it("bad axes, empty reductions", () => {
    const x = np.zeros([2, 3]);
    expect(() => np.sum(x, { axis: 2 })).toThrow(AxisError);
    expect(() => np.sum(x, { axis: 2 })).toThrow(/np.sum: axis 2 is out of range for an array of rank 2/);
    expect(() => np.mean(x, { axis: [0, -3] })).toThrow(/np.mean: axis -3 is out of range for an array of rank 2/);
    expect(() => np.max(x, { axis: [1, -1] })).toThrow(/np.max: repeated axis/);
    expect(() => np.argmax(x, { axis: 5 })).toThrow(/np.argmax: axis 5 is out of range for an array of rank 2/);
    expect(() => np.sum(np.array(2), { axis: 0 })).toThrow(/np.sum: axis 0 is out of range for an array of rank 0 \(a scalar has no axes\)/);
    expect(() => np.cumsum(x, { axis: -3 })).toThrow(/np.cumsum: axis -3 is out of range for an array of rank 2/);
    expect(() => np.max(np.zeros([2, 0]), { axis: 1 })).toThrow(/np.max: zero-size array to reduction operation max which has no identity/);
    expect(() => np.argmin(np.zeros([0]))).toThrow(/np.argmin: attempt to get argmin of an empty sequence/);
    expect(() => lax.reduceMax(np.zeros([2]), [1])).toThrow(/reduce_max: axis 1 is out of range/);
    expect(() => lax.reduceProd(np.array([true]), [0])).toThrow(/reduce_prod accepts float32, float64, int32/);
    expect(np.sum(np.zeros([2, 0]), { axis: 1 }).toArray()).toEqual([0, 0]);
    expect(np.prod(np.zeros([0])).item()).toBe(1);
  });
});

describe("argmax / argmin", () => {
  it("first occurrence of the extreme, flattened when no axis", () => {
    const arb = fc.tuple(arbShape(3, 4).filter((s) => size(s) > 0), dtypes).chain(([s, d]) => fc.tuple(arbArray(s, -2, 2, d).map((x) => np.round(x)), fc.nat(5), fc.boolean()));
    fc.assert(
      fc.property(arb, ([x, a, keepdims]) => {
        const argOf = (g: number[], better: (u: number, v: number) => boolean) => g.reduce((bi, v, i) => (better(v, g[bi]!) ? i : bi), 0);
        for (const [f, better] of [
          [np.argmax, (u: number, v: number) => u > v],
          [np.argmin, (u: number, v: number) => u < v],
        ] as const) {
          expect(f(x).item()).toBe(argOf(vals(x), better));
          if (x.ndim === 0) continue;
          const axis = a % x.ndim;
          const y = f(x, { axis, keepdims });
          const ref = refReduce(x, [axis], (g) => argOf(g, better));
          expect(y.dtype).toBe("int32");
          expect(y.shape).toEqual(keepdims ? keptShape(x, [axis]) : ref.shape);
          expect(vals(y)).toEqual(ref.values);
        }
      }),
      { numRuns: 30 },
    );
    expect(np.argmax(np.array([1, NaN, 5, NaN])).item()).toBe(1);
    expect(np.argmin(np.array([[3, 1, 1]]), { axis: 1 }).toArray()).toEqual([1]);
  });

  it("has no derivative and batches", () => {
    const f = (x: any) => np.multiply(x, np.astype(np.argmax(x, { axis: 0 }), "float64"));
    expect(vals(grad((x: any) => np.sum(f(x)))(np.array([1, 3, 2], { dtype: "float64" })))).toEqual([1, 1, 1]);
    checkVmap((x: any) => np.argmin(x, { axis: 1 }), [f64([3, 2, 4])]);
    checkVmap((x: any) => lax.argmax(x, 0), [f64([3, 2, 4])], 0, [2]);
    typecheckTransforms(f, [f64([3])]);
  });
});

describe("cumulative scans", () => {
  const scans: [string, (x: any, o: any) => ArrayBase, (a: number, b: number) => number][] = [
    ["cumsum", np.cumsum, (a, b) => a + b],
    ["cumprod", np.cumprod, (a, b) => a * b],
    ["cummax", (x, o) => lax.cummax(x, o.axis, o.reverse), (a, b) => Math.max(a, b)],
    ["cummin", (x, o) => lax.cummin(x, o.axis, o.reverse), (a, b) => Math.min(a, b)],
  ];
  for (const [name, f, op] of scans) {
    it(`${name} along an axis, forwards and reversed`, () => {
      const arb = fc.tuple(arbShape(3, 5).filter((s) => s.length > 0), dtypes).chain(([s, d]) => fc.tuple(arbArray(s, -2, 2, d), fc.nat(5), fc.boolean()));
      fc.assert(
        fc.property(arb, ([x, a, reverse]) => {
          const axis = a % x.ndim;
          const y = f(x, { axis, reverse });
          const v = vals(x);
          const want = new Array<number>(v.length);
          const n = x.shape[axis]!;
          forEachIndex(x.shape.map((d, k) => (k === axis ? 1 : d)), (base) => {
            let acc = 0;
            for (let s = 0; s < n; s++) {
              const k = reverse ? n - 1 - s : s;
              const o = offset(x.shape, base.map((b, j) => (j === axis ? k : b)));
              acc = s === 0 ? v[o]! : op(acc, v[o]!);
              want[o] = x.dtype === "float32" ? Math.fround(acc) : acc;
            }
          });
          expect(y.shape).toEqual(x.shape);
          closeTo(vals(y), want, x.dtype);
        }),
        { numRuns: 30 },
      );
    });
  }

  it("flattens without an axis", () => {
    expect(np.cumsum(np.array([[1, 2], [3, 4]])).toArray()).toEqual([1, 3, 6, 10]);
    expect(np.cumprod(np.array([[1, 2], [3, 4]]), { reverse: true }).toArray()).toEqual([24, 24, 12, 4]);
    expect(np.cumsum(np.array(5)).toArray()).toEqual([5]);
  });

  it("associativeScan computes inclusive prefix combinations", () => {
    const x = np.arange(1, 12);
    const [s] = lax.associativeScan((a: ArrayBase[], b: ArrayBase[]) => [np.add(a[0]!, b[0]!)], [x], 0);
    expect(vals(s!)).toEqual(vals(np.cumsum(x)));
  });
});

describe("gradients and transform rules", () => {
  /** Values with exact zeros and repeated entries among ordinary ones. */
  const withZeros = (shape: number[]) =>
    np.array(Float64Array.from({ length: size(shape) }, (_, i) => (i % 4 === 1 ? 0 : 1 + Math.sin(i * 1.1))), { dtype: "float64", shape }) as NDArray;
  const oneZero = (shape: number[]) =>
    np.array(Float64Array.from({ length: size(shape) }, (_, i) => (i === 2 ? 0 : 0.5 + Math.cos(i * 0.9) ** 2)), { dtype: "float64", shape }) as NDArray;

  const fns: [string, (x: any) => ArrayBase, NDArray[]][] = [
    ["sum", (x) => np.sum(x, { axis: [0, 2] }), [f64([2, 3, 2])]],
    ["mean", (x) => np.mean(x, { axis: 1, keepdims: true }), [f64([2, 3])]],
    ["max", (x) => np.max(x, { axis: 1 }), [f64([3, 4])]],
    ["min", (x) => np.min(x, { axis: [0, 1] }), [f64([3, 4])]],
    ["prod", (x) => np.prod(x, { axis: 1 }), [f64([2, 4]), withZeros([2, 4]), oneZero([2, 4])]],
    ["prod over several axes", (x) => np.prod(x, { axis: [0, 2] }), [withZeros([2, 2, 3])]],
    ["var", (x) => np.var(x, { axis: 0, ddof: 1 }), [f64([4, 2])]],
    ["std", (x) => np.std(x), [f64([5])]],
    ["logsumexp", (x) => np.logsumexp(x, { axis: -1 }), [f64([2, 3])]],
    ["cumsum", (x) => np.cumsum(x, { axis: 1, reverse: true }), [f64([2, 5])]],
    ["cumprod", (x) => np.cumprod(x, { axis: 0 }), [f64([5, 2]), withZeros([6]), oneZero([5])]],
    ["cummax", (x) => lax.cummax(x, 1, true), [f64([2, 5])]],
    ["cummin", (x) => lax.cummin(x, 0), [f64([7])]],
  ];
  for (const [name, f, args] of fns) {
    it(`${name}: grad, transposition, vmap, typecheck`, () => {
      for (const x of args) {
        checkGrad(f, [x]);
        checkTransposition(f, [x]);
        typecheckTransforms(f, [x]);
      }
      const x = args[0]!;
      checkVmap(f, [np.stack([x, np.multiply(x, 0.5)]) as NDArray]);
      checkVmap(f, [np.stack([x, np.multiply(x, -1)], { axis: x.ndim }) as NDArray], 1e-12, [x.ndim]);
    });
  }

  it("max/min split the tangent evenly among ties, as JAX does", () => {
    const x = np.array([[1, 3, 3], [2, 0, 2]], { dtype: "float64" });
    expect(grad((a: any) => np.sum(np.max(a, { axis: 1 })))(x).toArray()).toEqual([[0, 0.5, 0.5], [0.5, 0, 0.5]]);
    expect(grad((a: any) => np.min(a))(np.array([4, 1, 1, 1])).toArray()).toEqual([0, 1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    expect(grad((a: any) => np.sum(lax.cummax(a, 0)))(np.array([2, 1, 2, 3])).toArray()).toEqual([2.5, 0, 0.5, 1]);
  });

  it("prod and cumprod are exact with zeros", () => {
    expect(grad((a: any) => np.prod(a))(np.array([2, 0, 3, 4])).toArray()).toEqual([0, 24, 0, 0]);
    expect(grad((a: any) => np.prod(a))(np.array([0, 5, 0])).toArray()).toEqual([0, 0, 0]);
    expect(grad((a: any) => np.sum(np.cumprod(a)))(np.array([2, 0, 3], { dtype: "float64" })).toArray()).toEqual([1, 8, 0]);
    // Second derivative through the scan: d²/da0da1 prod(a) = a2.
    const h = grad((a: any) => np.take(grad((b: any) => np.prod(b))(a), 0))(np.array([0, 0, 7], { dtype: "float64" }));
    expect(h.toArray()).toEqual([0, 7, 0]);
  });

  it("grad of logsumexp is softmax; vmap of grad", () => {
    const x = f64([3, 4]);
    const g = vmap(grad((r: any) => np.logsumexp(r)))(x);
    const e = np.exp(x);
    expectClose(g, np.divide(e, np.sum(e, { axis: 1, keepdims: true })), 1e-12);
  });

  it("prints like JAX", () => {
    expect(makeJaxpr((x: any) => np.max(x, { axis: 0 }))(np.zeros([2, 3])).toString()).toContain("reduce_max[axes=(0,)]");
    expect(makeJaxpr((x: any) => np.argmax(x, { axis: 1 }))(np.zeros([2, 3])).toString()).toContain("argmax[axes=(1,) index_dtype=int32]");
    expect(makeJaxpr((x: any) => np.cumsum(x, { axis: 0 }))(np.zeros([2])).toString()).toContain("cumsum[axis=0 reverse=False]");
    expect(() => lax.cumsum(np.zeros([2]), 1)).toThrow(/cumsum: axis 1 is out of range for an array of rank 1/);
    expect(() => lax.argmax(np.zeros([2]), 0)).not.toThrow();
    expect(() => np.var(np.zeros([2]), { ddof: -1 })).toThrow(ValueError);
  });
});
