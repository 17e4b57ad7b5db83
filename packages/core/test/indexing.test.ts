import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AxisError, DTypeError, IndexError, ValueError, grad, lax, makeJaxpr, np, vmap, type ArrayBase, type NDArray } from "@cotangent/core";
import { arbArray, arbShape, checkGrad, checkTransposition, checkVmap, typecheckTransforms } from "./harness.js";
import { sizeOf as size, stridesOf, forEachIndex, build } from "./reference_util.js";

// ---------------------------------------------------------------- reference helpers (plain loops)

const vals = (x: ArrayBase): number[] => Array.from(x.toTypedArray() as ArrayLike<number>);
const offset = (shape: readonly number[], idx: number[]) => {
  const st = stridesOf(shape);
  return idx.reduce((a, i, k) => a + i * st[k]!, 0);
};
const getter = (x: ArrayBase) => {
  const v = vals(x);
  return (idx: number[]) => v[offset(x.shape, idx)]!;
};
const expectArray = (x: ArrayBase, shape: readonly number[], values: number[]) => {
  expect(x.shape).toEqual(shape);
  expect(vals(x)).toEqual(values);
};
const f64 = (shape: number[], seed = 0) =>
  np.array(Float64Array.from({ length: size(shape) }, (_, i) => Math.sin(i * 1.37 + seed) * 2), { dtype: "float64", shape }) as NDArray;
const i32 = (v: any) => np.array(v, { dtype: "int32" }) as NDArray;
const dtypes = fc.constantFrom("float32" as const, "float64" as const);

/** An array with an axis of size >= 1 to index, and int32 indices in [-n, n) of a random shape. */
const arbTake = fc.tuple(arbShape(3, 4).filter((s) => s.length > 0), fc.nat(5), dtypes, arbShape(2, 3)).chain(([s, a, d, is]) => {
  const axis = a % s.length;
  const shape = s.map((v, k) => (k === axis ? Math.max(v, 1) : v));
  const n = shape[axis]!;
  return fc.tuple(
    arbArray(shape, -3, 3, d),
    fc.constant(axis),
    fc.array(fc.integer({ min: -n, max: n - 1 }), { minLength: size(is), maxLength: size(is) }).map((v) => np.reshape(i32(v), is)),
  );
});

describe("take", () => {
  it("matches the reference loop, with negative indices", () => {
    fc.assert(
      fc.property(arbTake, ([x, axis, idx]) => {
        const y = np.take(x, idx, { axis });
        const n = x.shape[axis]!;
        const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
        const g = getter(x);
        const gi = getter(idx);
        const ni = idx.ndim;
        expectArray(y, shape, build(shape, (o) => {
          const i = gi(o.slice(axis, axis + ni));
          return g([...o.slice(0, axis), i < 0 ? i + n : i, ...o.slice(axis + ni)]);
        }));
        expect(y.dtype).toBe(x.dtype);
        // No axis: indices into the flattened array.
        if (x.size > 0) {
          const flat = vals(x);
          const j = vals(idx).map((i) => ((i % x.size) + x.size) % x.size);
          expect(vals(np.take(x, np.reshape(i32(j), idx.shape)))).toEqual(j.map((i) => flat[i]));
        }
      }),
      { numRuns: 50 },
    );
    expect(np.take(np.array([[1, 2], [3, 4]]), 1, { axis: 1 }).toArray()).toEqual([2, 4]);
    expect(np.take(np.array([5, 6, 7]), [[0, 2], [-1, -3]]).toArray()).toEqual([[5, 7], [7, 5]]);
  });

  it("raises IndexError for concrete out-of-range indices, clamps traced ones", () => {
    const x = np.array([[1, 2, 3], [4, 5, 6]]);
    expect(() => np.take(x, [0, 3], { axis: 1 })).toThrow(IndexError);
    expect(() => np.take(x, [0, 3], { axis: 1 })).toThrow(/np.take: index 3 is out of bounds for axis 1 with size 3/);
    expect(() => np.take(x, -3, { axis: 0 })).toThrow(/index -3 is out of bounds for axis 0 with size 2/);
    expect(() => np.take(x, 6)).toThrow(/index 6 is out of bounds for axis 0 with size 6/);
    expect(() => np.take(x, [0], { axis: 2 })).toThrow(AxisError);
    expect(() => np.take(x, [0], { axis: 2 })).toThrow(/np.take: axis 2 is out of range for an array of rank 2/);
    expect(() => np.take(x, np.array([0.5]))).toThrow(DTypeError);
    expect(() => np.take(x, [0.5])).toThrow(/indices must be integers, got 0.5/);
    // Traced indices are clamped into range (after one wrap of negatives), as JAX's gather clamps.
    const clamped = vmap((i: any) => np.take(x, i, { axis: 1 }))(i32([5, -1, -7]));
    expect(clamped.toArray()).toEqual([[3, 6], [3, 6], [1, 4]]);
  });

  it("transform rules: gather (take) and its transpose scatter_add", () => {
    const idx = i32([[2, 0], [2, -1]]);
    const f = (a: any) => np.multiply(np.take(a, idx, { axis: 1 }), 3);
    checkGrad(f, [f64([2, 3])]);
    checkTransposition(f, [f64([2, 3])]);
    typecheckTransforms(f, [f64([2, 3])]);
    checkVmap(f, [f64([4, 2, 3])]);
    checkVmap(f, [f64([2, 3, 4])], 1e-12, [2]);
    // Batched indices, with and without a batched operand.
    const g = (a: any, i: any) => np.take(a, i, { axis: 0 });
    checkVmap(g, [f64([3, 4, 2]), i32([[0, 3], [1, 1], [-1, 2]])]);
    checkVmap(g, [f64([4, 2]), i32([[0, 3], [1, 1], [-1, 2]])], 1e-12, [null, 0]);
    checkVmap(g, [f64([4, 2]), i32([[0, 3], [1, 1], [-1, 2]])], 1e-12, [null, 1]);
    checkVmap((a: any, i: any) => vmap(g)(a, i), [f64([2, 3, 4, 2]), i32([[[0], [3], [1]], [[2], [1], [0]]])]);
    // JS index lists become int32 constants, not converted inside the trace.
    const j = makeJaxpr((a: any) => np.take(a, [0, 2]))(f64([3])).toString();
    expect(j).toContain("gather[axis=0 batch_dims=0]");
    expect(j).not.toContain("convert_element_type");
    // The gradient of repeated indices accumulates.
    expect(grad((a: any) => np.sum(np.take(a, [0, 0, 2, 0])))(np.array([1, 2, 3])).toArray()).toEqual([3, 0, 1]);
  });
});

describe("takeAlongAxis", () => {
  it("matches the reference loop, with broadcasting", () => {
    const arb = fc.tuple(arbShape(3, 3).filter((s) => s.length > 0), fc.nat(5), dtypes, fc.nat(3), fc.nat(7)).chain(([s, a, d, m, bmask]) => {
      const axis = a % s.length;
      const shape = s.map((v, k) => (k === axis ? Math.max(v, 1) : v));
      const ishape = shape.map((v, k) => (k === axis ? m : bmask & (1 << k) ? 1 : v));
      const n = shape[axis]!;
      return fc.tuple(
        arbArray(shape, -3, 3, d),
        fc.constant(axis),
        fc.array(fc.integer({ min: -n, max: n - 1 }), { minLength: size(ishape), maxLength: size(ishape) }).map((v) => np.reshape(i32(v), ishape)),
      );
    });
    fc.assert(
      fc.property(arb, ([x, axis, idx]) => {
        const y = np.takeAlongAxis(x, idx, axis);
        const n = x.shape[axis]!;
        const shape = x.shape.map((v, k) => (k === axis ? idx.shape[axis]! : Math.max(v, idx.shape[k]!) * (v === 0 || idx.shape[k] === 0 ? 0 : 1)));
        const g = getter(x);
        const gi = getter(idx);
        expectArray(y, shape, build(shape, (o) => {
          const i = gi(o.map((v, k) => (idx.shape[k] === 1 && k !== axis ? 0 : v)));
          return g(o.map((v, k) => (k === axis ? (i < 0 ? i + n : i) : x.shape[k] === 1 ? 0 : v)));
        }));
      }),
      { numRuns: 40 },
    );
    expect(np.takeAlongAxis(np.array([[10, 30, 20], [60, 40, 50]]), np.argmax(np.array([[10, 30, 20], [60, 40, 50]]), { axis: 1, keepdims: true }), 1).toArray()).toEqual([[30], [60]]);
    expect(np.takeAlongAxis(np.array([[1, 2], [3, 4]]), [2, 0], null).toArray()).toEqual([3, 1]);
    expect(() => np.takeAlongAxis(np.zeros([2, 3]), i32([0, 1]), 1)).toThrow(/np.takeAlongAxis: indices of shape \[2\] must have the same rank as the array of shape \[2, 3\]/);
    expect(() => np.takeAlongAxis(np.zeros([2, 3]), i32([[3]]), 1)).toThrow(/index 3 is out of bounds for axis 1 with size 3/);
  });

  it("transform rules", () => {
    const idx = i32([[2, 0, 0], [1, 1, -1]]);
    const f = (a: any) => np.takeAlongAxis(np.sin(a), idx, 1);
    checkGrad(f, [f64([2, 3])]);
    checkTransposition(f, [f64([2, 3])]);
    typecheckTransforms(f, [f64([2, 3])]);
    checkVmap(f, [f64([3, 2, 3])]);
    const g = (a: any, i: any) => np.takeAlongAxis(a, i, 0);
    checkVmap(g, [f64([2, 3, 2]), i32([[[0, 2]], [[1, 1]]])]);
    checkVmap(g, [f64([3, 2]), i32([[[0, 2]], [[1, 1]]])], 1e-12, [null, 0]);
  });
});

describe("scatterAdd", () => {
  it("adds updates at indices (repeats accumulate), matching the reference loop", () => {
    fc.assert(
      fc.property(arbTake, fc.double({ min: -2, max: 2, noNaN: true }), ([x, axis, idx], c) => {
        const n = x.shape[axis]!;
        const ushape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
        const upd = np.array(Float64Array.from({ length: size(ushape) }, (_, i) => c + i), { dtype: x.dtype, shape: ushape });
        const y = np.scatterAdd(x, idx, upd, { axis });
        const ref = vals(x);
        const gu = getter(upd);
        const gi = getter(idx);
        const ni = idx.ndim;
        const acc = ref.map(() => 0);
        forEachIndex(ushape, (o) => {
          const i = gi(o.slice(axis, axis + ni));
          acc[offset(x.shape, [...o.slice(0, axis), i < 0 ? i + n : i, ...o.slice(axis + ni)])] += gu(o);
        });
        const want = np.array(Float64Array.from(ref.map((v, k) => v + acc[k]!)), { dtype: x.dtype, shape: x.shape });
        expect(y.shape).toEqual(x.shape);
        vals(y).forEach((v, k) => expect(v).toBeCloseTo(vals(want)[k]!, x.dtype === "float32" ? 4 : 10));
      }),
      { numRuns: 40 },
    );
    expect(np.scatterAdd(np.zeros([4], { dtype: "int32" }), [1, 1, 3, -1], 1).toArray()).toEqual([0, 2, 0, 2]);
    expect(np.scatterAdd(np.zeros([2, 3]), [0, 2], np.array([1, 2]), { axis: 1 }).toArray()).toEqual([[1, 0, 2], [1, 0, 2]]);
    expect(() => np.scatterAdd(np.zeros([2, 3]), [0], np.ones([3]), { axis: 1 })).toThrow(/np.scatterAdd: updates of shape \[3\] do not broadcast to \[2, 1\]/);
    expect(() => lax.scatterAdd(np.zeros([2, 3]), i32([0]), np.ones([2, 2]), { axis: 1, batch_dims: 0 })).toThrow(
      /scatter_add: updates must have type f32\[2,1\] .* got f32\[2,2\] \(argument 2\)/,
    );
    expect(() => np.scatterAdd(np.zeros([3]), [4], 1)).toThrow(/index 4 is out of bounds for axis 0 with size 3/);
  });

  it("transform rules: linear in operand and updates", () => {
    const idx = i32([1, 1, -1]);
    const f = (a: any, u: any) => np.scatterAdd(a, idx, np.multiply(u, u), { axis: 0 });
    checkGrad(f, [f64([3, 2]), f64([3, 2], 1)]);
    checkTransposition(f, [f64([3, 2]), f64([3, 2], 1)]);
    typecheckTransforms(f, [f64([3, 2]), f64([3, 2], 1)]);
    checkVmap(f, [f64([2, 3, 2]), f64([2, 3, 2], 1)]);
    checkVmap(f, [f64([3, 2]), f64([3, 2, 2], 1)], 1e-12, [null, 2]);
    checkVmap(f, [f64([3, 2, 4]), f64([3, 2], 1)], 1e-12, [2, null]);
    const g = (a: any, i: any, u: any) => lax.scatterAdd(a, i, u, { axis: 0, batch_dims: 0 });
    checkVmap(g, [f64([2, 3, 2]), i32([[0, 2], [1, 1]]), f64([2, 2, 2], 1)]);
    checkVmap(g, [f64([3, 2]), i32([[0, 2], [1, 1]]), f64([2, 2], 1)], 1e-12, [null, 0, null]);
    checkVmap((a: any, i: any, u: any) => vmap(g)(a, i, u), [f64([2, 2, 3, 2]), i32([[[0], [2]], [[1], [1]]]), f64([2, 2, 1, 2], 1)]);
  });
});

describe("lax.gather with batch dims", () => {
  it("out[b, p, i, q] = x[b, p, idx[b, i], q]", () => {
    const x = f64([2, 3, 4, 2]);
    const idx = i32([[0, 3, 1], [2, 2, -1]]);
    const y = lax.gather(x, idx, { axis: 2, batch_dims: 1 });
    const g = getter(x);
    const gi = getter(idx);
    expectArray(y, [2, 3, 3, 2], build([2, 3, 3, 2], ([b, p, i, q]) => {
      const k = gi([b!, i!]);
      return g([b!, p!, k < 0 ? k + 4 : k, q!]);
    }));
    expect(() => lax.gather(x, i32([[0]]), { axis: 2, batch_dims: 1 })).toThrow(/gather: batch axis 0 differs/);
    expect(() => lax.gather(x, idx, { axis: 0, batch_dims: 1 })).toThrow(/gather: axis 0 is out of range for an operand of rank 4 with 1 batch axes/);
    expect(() => lax.gather(x, np.array([0]), { axis: 1, batch_dims: 0 })).toThrow(/gather: indices must be int32/);
    expect(() => lax.gather(np.zeros([0, 2]), i32([0]), { axis: 0, batch_dims: 0 })).toThrow(/cannot take indices from axis 0 of size 0/);
  });
});

describe("np.index (basic indexing)", () => {
  /** Python's slice.indices(n) as a list of positions. */
  const positions = (n: number, start: number | null, stop: number | null, step: number | null): number[] => {
    const st = step ?? 1;
    const out: number[] = [];
    const norm = (v: number | null, d: number, lo: number, hi: number) => (v === null ? d : Math.min(Math.max(v < 0 ? v + n : v, lo), hi));
    if (st > 0) for (let i = norm(start, 0, 0, n); i < norm(stop, n, 0, n); i += st) out.push(i);
    else for (let i = norm(start, n - 1, -1, n - 1); i > norm(stop, -1, -1, n - 1); i += st) out.push(i);
    return out;
  };
  const arbBound = fc.option(fc.integer({ min: -6, max: 6 }), { nil: null });
  const arbStep = fc.option(fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0), { nil: null });

  it("slices with Python semantics, integers, newaxis and ellipsis", () => {
    const arb = fc.tuple(arbShape(3, 4).filter((s) => s.length > 0), dtypes).chain(([s, d]) =>
      fc.tuple(
        arbArray(s, -3, 3, d),
        fc.tuple(...s.map((n) => fc.oneof(fc.tuple(arbBound, arbBound, arbStep), n > 0 ? fc.integer({ min: -n, max: n - 1 }) : fc.constant(null)))),
        fc.boolean(),
      ),
    );
    fc.assert(
      fc.property(arb, ([x, spec, addAxis]) => {
        const entries: any[] = [];
        const picks: number[][] = [];
        const shape: number[] = [];
        spec.forEach((e, k) => {
          const n = x.shape[k]!;
          if (e === null) {
            entries.push(np.sl());
            picks.push(positions(n, null, null, null));
            shape.push(n);
          } else if (typeof e === "number") {
            entries.push(e);
            picks.push([e < 0 ? e + n : e]);
          } else {
            entries.push(np.sl(...e));
            const p = positions(n, ...e);
            picks.push(p);
            shape.push(p.length);
          }
        });
        if (addAxis) entries.unshift(np.newaxis);
        const y = np.index(x, entries);
        const g = getter(x);
        const outShape = addAxis ? [1, ...shape] : shape;
        // Every kept position combination, in order.
        const flat: number[] = [];
        forEachIndex(picks.map((p) => p.length), (ii) => flat.push(g(ii.map((i, k) => picks[k]![i]!))));
        expectArray(y, outShape, flat);
      }),
      { numRuns: 60 },
    );
    const x = np.reshape(np.arange(24), [2, 3, 4]);
    expect(np.index(x, [1, "...", np.sl(null, null, -2)]).toArray()).toEqual([[15, 13], [19, 17], [23, 21]]);
    expect(np.index(x, [np.ellipsis, 0]).shape).toEqual([2, 3]);
    // A newaxis between the integer and the index array separates them: the array's axis goes first (NumPy, JAX).
    expect(np.index(x, [0, np.newaxis, [2, 0]]).toArray()).toEqual([[[8, 9, 10, 11]], [[0, 1, 2, 3]]]);
    expect(np.index(x, [np.newaxis, 0, [2, 0]]).toArray()).toEqual([[[8, 9, 10, 11], [0, 1, 2, 3]]]);
    expect(np.index(x, [np.sl(), np.sl(), i32([[3], [0]])]).shape).toEqual([2, 3, 2, 1]);
  });

  it("errors name the index, axis and size", () => {
    const x = np.zeros([2, 3]);
    expect(() => np.index(x, [0, 3])).toThrow(/np.index: index 3 is out of bounds for axis 1 with size 3/);
    expect(() => np.index(x, [0, 0, 0])).toThrow(/too many indices: 3 given for an array of rank 2/);
    expect(() => np.index(x, ["...", "..."])).toThrow(/single ellipsis/);
    expect(() => np.index(x, [np.sl(0, 2, 0)])).toThrow(ValueError);
    expect(() => np.index(x, [[0], [5]])).toThrow(/np.index: index 5 is out of bounds for axis 1 with size 3/);
    // Several index arrays broadcast together (x[[0, 1], [2, 0]] in NumPy).
    expect(np.index(np.reshape(np.arange(6), [2, 3]), [[0, 1], [2, 0]]).toArray()).toEqual([2, 3]);
  });

  it("transform rules, including a traced (dynamic) integer index", () => {
    const f = (a: any) => np.index(a, [np.sl(null, null, -1), np.newaxis, np.sl(1, null, 2)]);
    checkGrad(f, [f64([3, 4])]);
    checkTransposition(f, [f64([3, 4])]);
    typecheckTransforms(f, [f64([3, 4])]);
    checkVmap(f, [f64([2, 3, 4])]);
    const g = (a: any, i: any) => np.multiply(np.index(a, [i, np.sl(0, 2)]), 2);
    checkVmap(g, [f64([3, 4, 3]), i32([0, 3, -1])]);
    checkGrad((a: any) => g(a, i32(2)), [f64([4, 3])]);
  });
});
