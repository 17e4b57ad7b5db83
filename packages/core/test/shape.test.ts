import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AxisError, IndexError, ShapeError, ValueError, lax, makeJaxpr, np, vmap, type ArrayBase, type NDArray } from "@cotangent/core";
import { arbArray, arbShape, checkGrad, checkTransposition, checkVmap, typecheckTransforms } from "./harness.js";
import { sizeOf as size, stridesOf, forEachIndex, build } from "./reference_util.js";

// ---------------------------------------------------------------- reference helpers (plain loops)

const vals = (x: ArrayBase): number[] => Array.from(x.toTypedArray() as ArrayLike<number>);
const getter = (x: ArrayBase) => {
  const v = vals(x);
  const st = stridesOf(x.shape);
  return (idx: number[]) => v[idx.reduce((a, i, k) => a + i * st[k]!, 0)]!;
};
const expectArray = (x: ArrayBase, shape: readonly number[], values: number[]) => {
  expect(x.shape).toEqual(shape);
  expect(vals(x)).toEqual(values);
};

const dtypes = fc.constantFrom("float32" as const, "float64" as const);
const arbX = (maxRank = 3, maxDim = 4, minRank = 0) =>
  fc.tuple(arbShape(maxRank, maxDim).filter((s) => s.length >= minRank), dtypes).chain(([s, d]) => arbArray(s, -3, 3, d));
const f64 = (shape: number[], seed = 0) =>
  np.array(Float64Array.from({ length: size(shape) }, (_, i) => Math.sin(i * 1.37 + seed) * 2), { dtype: "float64", shape }) as NDArray;
const i32 = (v: number | number[] | number[][]) => np.array(v, { dtype: "int32" });

/** Runs the transform checks every differentiable shape op gets. */
const checkRules = (f: (...a: any[]) => any, args: NDArray[], batched: NDArray[], inAxes?: (number | null)[]) => {
  checkGrad(f, args);
  checkTransposition(f, args);
  typecheckTransforms(f, args);
  checkVmap(f, batched, 1e-12, inAxes);
};

// ---------------------------------------------------------------- tests

describe("reshape, transpose and friends", () => {
  it("reshape with -1 keeps the row-major data", () => {
    fc.assert(
      fc.property(arbX(3, 4), (x) => {
        const r = np.reshape(x, [-1]);
        expectArray(r, [x.size], vals(x));
        if (x.ndim > 0 && x.shape[0]! > 0) expectArray(np.reshape(r, [x.shape[0]!, -1]), [x.shape[0]!, x.size / x.shape[0]!], vals(x));
        expectArray(np.reshape(r, x.shape), x.shape, vals(x));
      }),
      { numRuns: 30 },
    );
    expect(() => np.reshape(np.zeros([2, 3]), [4, 2])).toThrow(/np.reshape: cannot reshape an array of shape \[2, 3\] \(size 6\) into shape \[4, 2\]/);
    expect(() => np.reshape(np.zeros([2, 3]), [-1, 4])).toThrow(ShapeError);
    expect(() => np.reshape(np.zeros([2, 3]), [-1, -1])).toThrow(/only one dimension may be -1/);
  });

  it("transpose, swapaxes and moveaxis permute as the reference loop does", () => {
    fc.assert(
      fc.property(arbX(4, 3, 1), fc.integer(), (x, seed) => {
        const n = x.ndim;
        const perm = x.shape.map((_, k) => k).sort((a, b) => Math.sin(a * 7 + seed) - Math.sin(b * 7 + seed));
        const g = getter(x);
        const outShape = perm.map((p) => x.shape[p]!);
        expectArray(np.transpose(x, perm), outShape, build(outShape, (o) => g(perm.map((_, k) => o[perm.indexOf(k)]!))));
        expectArray(np.transpose(x), x.shape.slice().reverse(), build(x.shape.slice().reverse(), (o) => g(o.slice().reverse())));
        const [i, j] = [Math.abs(seed) % n, Math.abs(seed >> 3) % n];
        const sw = x.shape.map((_, k) => (k === i ? j : k === j ? i : k));
        expect(vals(np.swapaxes(x, i, j - n))).toEqual(vals(np.transpose(x, sw)));
        // moveaxis(i -> j): the other axes keep their order.
        const mv = x.shape.map((_, k) => k).filter((k) => k !== i);
        mv.splice(j, 0, i);
        expect(vals(np.moveaxis(x, i, j))).toEqual(vals(np.transpose(x, mv)));
        expect(np.moveaxis(x, i, j).shape).toEqual(mv.map((p) => x.shape[p]));
      }),
      { numRuns: 30 },
    );
    expect(() => np.transpose(np.zeros([2, 3]), [0, 2])).toThrow(AxisError);
    expect(() => np.swapaxes(np.zeros([2, 3]), 0, 2)).toThrow(/np.swapaxes: axis 2 is out of range for an array of rank 2/);
    expect(() => np.moveaxis(np.zeros([2, 3]), [0, 1], [1])).toThrow(ValueError);
  });

  it("squeeze, expandDims and broadcastTo", () => {
    fc.assert(
      fc.property(arbShape(3, 3, 1), dtypes, fc.nat(5), (s, d, k) => {
        const shape = s.slice();
        const ax = k % (shape.length + 1);
        shape.splice(ax, 0, 1);
        const x = np.array(Float64Array.from({ length: size(shape) }, (_, i) => i), { dtype: d, shape });
        const sq = np.squeeze(x);
        expectArray(sq, shape.filter((v) => v !== 1), vals(x));
        expectArray(np.squeeze(x, { axis: ax - shape.length }), shape.filter((_, i) => i !== ax), vals(x));
        const e = np.expandDims(sq, [0, -1]);
        expectArray(e, [1, ...sq.shape, 1], vals(x));
        const b = np.broadcastTo(sq, [2, ...sq.shape]);
        expectArray(b, [2, ...sq.shape], [...vals(sq), ...vals(sq)]);
      }),
      { numRuns: 25 },
    );
    expect(() => np.squeeze(np.zeros([2, 3]), { axis: 1 })).toThrow(/np.squeeze: .*axis 1 of shape \[2, 3\] has size 3/);
    expect(() => np.squeeze(np.zeros([1, 3]), { axis: 2 })).toThrow(/axis 2 is out of range for an array of rank 2/);
    expect(() => np.expandDims(np.zeros([2]), 3)).toThrow(/np.expandDims: axis 3 is out of range for an array of rank 2/);
    expect(() => np.broadcastTo(np.zeros([2, 3]), [3, 3])).toThrow(/np.broadcastTo: cannot broadcast an array of shape \[2, 3\] to shape \[3, 3\]/);
    expect(() => np.broadcastTo(np.zeros([1]), [-1])).toThrow(/np.broadcastTo: shape must be a shape .*got \[-1\]/);
    expect(() => lax.squeeze(np.zeros([2, 3]), [0])).toThrow(/squeeze: cannot squeeze axis 0 of size 2/);
  });
});

describe("concatenate, stack, split", () => {
  const arbParts = fc
    .tuple(arbShape(3, 3).filter((s) => s.length > 0), fc.nat(10), fc.array(fc.nat(3), { minLength: 1, maxLength: 4 }), dtypes)
    .chain(([s, a, sizes, d]) => {
      const axis = a % s.length;
      return fc.tuple(fc.constant(axis), fc.tuple(...sizes.map((m) => arbArray(s.map((v, k) => (k === axis ? m : v)), -3, 3, d))));
    });

  it("concatenate and stack match the reference loop (including size-0 parts)", () => {
    fc.assert(
      fc.property(arbParts, ([axis, parts]) => {
        const out = np.concatenate(parts, { axis });
        const shape = parts[0]!.shape.slice();
        shape[axis] = parts.reduce((t, p) => t + p.shape[axis]!, 0);
        const gs = parts.map(getter);
        expectArray(out, shape, build(shape, (idx) => {
          let i = idx[axis]!;
          let p = 0;
          while (i >= parts[p]!.shape[axis]!) i -= parts[p++]!.shape[axis]!;
          const j = idx.slice();
          j[axis] = i;
          return gs[p]!(j);
        }));
        const same = parts.map(() => parts[0]!);
        const st = np.stack(same, { axis: axis + 1 });
        const sshape = parts[0]!.shape.slice();
        sshape.splice(axis + 1, 0, same.length);
        expectArray(st, sshape, build(sshape, (idx) => gs[0]!(idx.filter((_, k) => k !== axis + 1))));
      }),
      { numRuns: 40 },
    );
  });

  it("promotes dtypes and flattens with axis null", () => {
    const c = np.concatenate([np.array([1, 2], { dtype: "int32" }), np.array([0.5], { dtype: "float64" })]);
    expect(c.dtype).toBe("float64");
    expect(c.toArray()).toEqual([1, 2, 0.5]);
    expect(np.concatenate([np.ones([2, 2]), np.zeros([1])], { axis: null }).toArray()).toEqual([1, 1, 1, 1, 0]);
    expect(np.stack([np.array(1), np.array(2)]).toArray()).toEqual([1, 2]);
  });

  it("names the mismatched argument", () => {
    expect(() => np.concatenate([np.zeros([2, 3]), np.zeros([2, 3]), np.zeros([3, 2])], { axis: 0 })).toThrow(
      /np.concatenate: argument 2 has shape \[3, 2\], which does not match argument 0's shape \[2, 3\] except along axis 0/,
    );
    expect(() => np.concatenate([np.zeros([2, 3]), np.zeros([2])])).toThrow(/argument 1 has shape \[2\]/);
    expect(() => np.concatenate([np.zeros([2])], { axis: 1 })).toThrow(/np.concatenate: axis 1 is out of range for an array of rank 1/);
    expect(() => np.concatenate([np.array(1), np.array(2)])).toThrow(/zero-dimensional/);
    expect(() => np.stack([np.zeros([2]), np.zeros([3])])).toThrow(/np.stack: .*argument 1 has shape \[3\] but argument 0 has \[2\]/);
    expect(() => lax.concatenate([np.zeros([2, 3]), np.zeros([2, 4])], 0)).toThrow(/concatenate: argument 1 has shape \[2, 4\]/);
  });

  it("split into sections or at indices", () => {
    fc.assert(
      fc.property(arbShape(3, 4).filter((s) => s.length > 0), fc.nat(9), fc.array(fc.integer({ min: -5, max: 7 }), { maxLength: 3 }), (s, a, cuts) => {
        const axis = a % s.length;
        const x = f64(s);
        const n = s[axis]!;
        const parts = np.split(x, cuts, { axis });
        expect(parts.length).toBe(cuts.length + 1);
        const bounds = [0, ...cuts.map((c) => Math.min(Math.max(c < 0 ? c + n : c, 0), n)), n];
        parts.forEach((p, i) => {
          const lo = bounds[i]!;
          const hi = Math.max(lo, bounds[i + 1]!);
          const shape = s.slice();
          shape[axis] = hi - lo;
          const g = getter(x);
          expectArray(p, shape, build(shape, (idx) => g(idx.map((v, k) => (k === axis ? v + lo : v)))));
        });
        for (let k = 1; k <= 3; k++) {
          if (n % k === 0) expect(np.split(x, k, { axis }).map((p) => p.shape[axis])).toEqual(new Array(k).fill(n / k));
        }
      }),
      { numRuns: 30 },
    );
    expect(() => np.split(np.zeros([5, 2]), 2)).toThrow(/np.split: array split does not result in an equal division: axis 0 of size 5 into 2 sections/);
    expect(() => np.split(np.zeros([4]), 2, { axis: 1 })).toThrow(AxisError);
  });

  it("transform rules: concatenate (and split as slices)", () => {
    const f = (a: any, b: any) => np.concatenate([a, np.sin(b), a], { axis: 1 });
    checkRules(f, [f64([2, 3]), f64([2, 1], 1)], [f64([3, 2, 3]), f64([3, 2, 1], 2)]);
    checkVmap(f, [f64([2, 3]), f64([3, 2, 1], 2)], 1e-12, [null, 0]);
    const g = (a: any) => np.multiply(np.split(a, [1, 3], { axis: 0 })[1]!, 2);
    checkRules(g, [f64([4, 2])], [f64([2, 4, 2])]);
    const h = (a: any, b: any) => np.stack([a, b], { axis: -1 });
    checkRules(h, [f64([3]), f64([3], 2)], [f64([2, 3]), f64([2, 3], 1)]);
    checkVmap(h, [f64([3]), f64([3, 4], 1)], 1e-12, [null, 1]);
  });
});

describe("slice, rev, pad", () => {
  it("lax.slice with strides matches the reference loop", () => {
    const arb = arbX(3, 5).chain((x) =>
      fc.tuple(
        fc.constant(x),
        fc.tuple(...x.shape.map((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.integer({ min: 0, max: n }), fc.integer({ min: 1, max: 3 })))),
      ),
    );
    fc.assert(
      fc.property(arb, ([x, spec]) => {
        const start = spec.map(([a, b]) => Math.min(a, b));
        const limit = spec.map(([a, b]) => Math.max(a, b));
        const strides = spec.map((t) => t[2]);
        const y = lax.slice(x, start, limit, strides);
        const shape = start.map((s, k) => Math.ceil((limit[k]! - s) / strides[k]!));
        const g = getter(x);
        expectArray(y, shape, build(shape, (idx) => g(idx.map((i, k) => start[k]! + i * strides[k]!))));
      }),
      { numRuns: 40 },
    );
    expect(() => lax.slice(np.zeros([3, 4]), [0, 1], [3, 5])).toThrow(/slice: slice \[1:5\] on axis 1 is out of range for f32\[3,4\]/);
    expect(() => lax.slice(np.zeros([3, 4]), [2, 0], [1, 4])).toThrow(IndexError);
    expect(() => lax.slice(np.zeros([3, 4]), [0], [1])).toThrow(ShapeError);
  });

  it("lax.sliceInDim takes a negative axis and negative or null bounds, as JAX's slice_in_dim", () => {
    const x = np.reshape(np.arange(10), [2, 5]);
    expect(lax.sliceInDim(x, 1, 4, 1, -1).toArray()).toEqual([[1, 2, 3], [6, 7, 8]]);
    expect(lax.sliceInDim(x, -3, null, 2, 1).toArray()).toEqual([[2, 4], [7, 9]]);
    expect(lax.sliceInDim(x, null, -1, 1, 0).toArray()).toEqual([[0, 1, 2, 3, 4]]);
    expect(() => lax.sliceInDim(x, 0, 1, 1, 2)).toThrow(AxisError);
  });

  it("lax.transpose refuses a permutation of the wrong length even when it starts as the identity", () => {
    expect(() => lax.transpose(np.zeros([1, 2]), [0])).toThrow(/transpose: permutation \(0\) is not a permutation of the 2 axes of f32\[1,2\]/);
    expect(() => lax.transpose(np.zeros([2]), [0, 1])).toThrow(AxisError);
  });

  it("flip / rev reverse the listed axes", () => {
    fc.assert(
      fc.property(arbX(3, 4, 1), fc.nat(7), (x, mask) => {
        const axes = x.shape.map((_, k) => k).filter((k) => mask & (1 << k));
        const g = getter(x);
        const ref = build(x.shape, (idx) => g(idx.map((i, k) => (axes.includes(k) ? x.shape[k]! - 1 - i : i))));
        expectArray(np.flip(x, { axis: axes }), x.shape, ref);
        expectArray(lax.rev(x, axes), x.shape, ref);
      }),
      { numRuns: 30 },
    );
    expect(vals(np.flip(np.array([[1, 2], [3, 4]])))).toEqual([4, 3, 2, 1]);
    expect(() => np.flip(np.zeros([2]), { axis: 1 })).toThrow(/np.flip: axis 1 is out of range for an array of rank 1/);
  });

  it("lax.pad with negative edges and interior padding matches the reference loop", () => {
    const arb = arbX(3, 4).chain((x) =>
      fc.tuple(
        fc.constant(x),
        fc.tuple(...x.shape.map(() => fc.tuple(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -2, max: 2 }), fc.integer({ min: 0, max: 2 })))),
        fc.double({ min: -5, max: 5, noNaN: true }),
      ),
    );
    fc.assert(
      fc.property(arb, ([x, cfg, v]) => {
        const outShape = x.shape.map((n, k) => cfg[k]![0] + cfg[k]![1] + n + Math.max(0, n - 1) * cfg[k]![2]);
        if (outShape.some((d) => d < 0)) {
          expect(() => lax.pad(x, np.array(v, { dtype: x.dtype }), cfg)).toThrow(/pad: padding .* gives a negative size/);
          return;
        }
        const pv = np.array(v, { dtype: x.dtype });
        const y = lax.pad(x, pv, cfg);
        const ref = new Array(size(outShape)).fill(pv.item());
        const g = getter(x);
        const ost = stridesOf(outShape);
        forEachIndex(x.shape, (idx) => {
          const o = idx.map((i, k) => cfg[k]![0] + i * (cfg[k]![2] + 1));
          if (o.every((p, k) => p >= 0 && p < outShape[k]!)) ref[o.reduce((a, p, k) => a + p * ost[k]!, 0)] = g(idx);
        });
        expectArray(y, outShape, ref);
      }),
      { numRuns: 50 },
    );
  });

  it("np.pad in constant, edge, reflect and wrap modes", () => {
    const x = np.array([[1, 2, 3], [4, 5, 6]]);
    expect(np.pad(x, 1).toArray()).toEqual([[0, 0, 0, 0, 0], [0, 1, 2, 3, 0], [0, 4, 5, 6, 0], [0, 0, 0, 0, 0]]);
    expect(np.pad(x, [[0, 0], [1, 2]], { constantValues: 9 }).toArray()).toEqual([[9, 1, 2, 3, 9, 9], [9, 4, 5, 6, 9, 9]]);
    expect(np.pad(x, [0, [2, 0]]).toArray()).toEqual([[0, 0, 1, 2, 3], [0, 0, 4, 5, 6]]);
    expect(np.pad(x, [1, 0]).shape).toEqual([3, 3 + 1]);
    // NumPy's results for these modes (numpy.pad documentation examples).
    expect(np.pad(np.array([1, 2, 3, 4, 5]), [2, 3], { mode: "edge" }).toArray()).toEqual([1, 1, 1, 2, 3, 4, 5, 5, 5, 5]);
    expect(np.pad(np.array([1, 2, 3, 4, 5]), [2, 3], { mode: "reflect" }).toArray()).toEqual([3, 2, 1, 2, 3, 4, 5, 4, 3, 2]);
    expect(np.pad(np.array([1, 2, 3, 4, 5]), [2, 3], { mode: "wrap" }).toArray()).toEqual([4, 5, 1, 2, 3, 4, 5, 1, 2, 3]);
    expect(np.pad(np.array([1, 2], { dtype: "int32" }), 1, { constantValues: 7 }).dtype).toBe("int32");
    // The fill value takes the array's dtype (NumPy and JAX): no promotion of the whole array.
    const padded = np.pad(np.array([1, 2], { dtype: "int32" }), 1, { constantValues: 1.5 });
    expect([padded.dtype, padded.toArray()]).toEqual(["int32", [1, 1, 2, 1]]);
    expect(np.pad(np.array([true]), 1, { constantValues: 0 }).toArray()).toEqual([false, true, false]);
    expect(() => np.pad(x, [1, 2, 3])).toThrow(/np.pad: pad widths \[1,2,3\] must give one entry .* per axis of the 2 axes/);
    expect(() => np.pad(x, -1)).toThrow(/non-negative/);
    fc.assert(
      fc.property(arbShape(2, 4, 1), fc.nat(3), fc.nat(3), (s, b, a) => {
        const y = f64(s);
        const g = getter(y);
        const out = np.pad(y, [b, a], { mode: "edge" });
        const shape = s.map((n) => n + a + b);
        expectArray(out, shape, build(shape, (idx) => g(idx.map((i, k) => Math.min(Math.max(i - b, 0), s[k]! - 1)))));
      }),
      { numRuns: 20 },
    );
  });

  it("transform rules: slice, rev, pad (operand and padding value)", () => {
    const sl = (a: any) => lax.slice(a, [1, 0], [4, 3], [2, 2]);
    checkRules(sl, [f64([5, 3])], [f64([2, 5, 3])]);
    const rv = (a: any) => np.multiply(lax.rev(a, [0]), a);
    checkRules(rv, [f64([3, 2])], [f64([2, 3, 2])]);
    const pd = (a: any, v: any) => lax.pad(a, v, [[1, -1, 1], [-1, 2, 0]]);
    checkRules(pd, [f64([3, 2]), f64([])], [f64([2, 3, 2]), f64([2], 3)]);
    checkVmap(pd, [f64([3, 2]), f64([4], 3)], 1e-12, [null, 0]);
    checkVmap(pd, [f64([3, 2, 4]), f64([])], 1e-12, [2, null]);
    const npad = (a: any) => np.pad(a, [1, 2], { mode: "reflect" });
    checkRules(npad, [f64([4])], [f64([2, 4])]);
  });
});

describe("tile, repeat, iota", () => {
  it("tile and repeat match the reference loop", () => {
    fc.assert(
      fc.property(arbX(2, 3), fc.array(fc.nat(3), { maxLength: 3 }), fc.nat(3), (x, reps, r) => {
        const t = np.tile(x, reps);
        const nd = Math.max(x.ndim, reps.length);
        const xs = [...new Array(nd - x.ndim).fill(1), ...x.shape];
        const rs = [...new Array(nd - reps.length).fill(1), ...reps];
        const shape = xs.map((n, k) => n * rs[k]!);
        const g = getter(x);
        expectArray(t, shape, build(shape, (idx) => g(idx.slice(nd - x.ndim).map((i, k) => i % x.shape[k]!))));
        const flat = vals(x);
        expectArray(np.repeat(x, r), [x.size * r], flat.flatMap((v) => new Array(r).fill(v)));
        if (x.ndim > 0) {
          const counts = x.shape.slice(0, 1).flatMap((n) => Array.from({ length: n }, (_, i) => (i + r) % 3));
          const rep = np.repeat(x, counts, { axis: 0 });
          const src = counts.flatMap((c, i) => new Array(c).fill(i));
          const shape2 = [src.length, ...x.shape.slice(1)];
          expectArray(rep, shape2, build(shape2, (idx) => g([src[idx[0]!]!, ...idx.slice(1)])));
          expectArray(np.repeat(x, r, { axis: -1 }), [...x.shape.slice(0, -1), x.shape[x.ndim - 1]! * r], build([...x.shape.slice(0, -1), x.shape[x.ndim - 1]! * r], (idx) => g([...idx.slice(0, -1), Math.floor(idx[idx.length - 1]! / r)])));
        }
      }),
      { numRuns: 30 },
    );
    expect(() => np.repeat(np.zeros([3]), [1, 2])).toThrow(/np.repeat: repeats has 2 entries but axis 0 has size 3/);
    // A single count in a list applies to every element (NumPy broadcasts it).
    expect(np.repeat(np.array([1, 2]), [2]).toArray()).toEqual([1, 1, 2, 2]);
    expect(np.repeat(np.array([[1, 2]]), [3], { axis: 1 }).toArray()).toEqual([[1, 1, 1, 2, 2, 2]]);
    const f = (a: any) => np.tile(np.repeat(a, [2, 0, 1], { axis: 1 }), [2, 1]);
    checkRules(f, [f64([2, 3])], [f64([2, 2, 3])]);
  });

  it("iota", () => {
    expect(lax.iota("int32", 4).toArray()).toEqual([0, 1, 2, 3]);
    expect(lax.iota("float32", [2, 3], 1).toArray()).toEqual([[0, 1, 2], [0, 1, 2]]);
    expect(lax.iota("float64", [2, 3], 0).toArray()).toEqual([[0, 0, 0], [1, 1, 1]]);
    expect(lax.iota("int32", [0, 3], 1).shape).toEqual([0, 3]);
    expect(() => lax.iota("int32", [2], 1)).toThrow(/iota: dimension 1 is out of range for shape \[2\]/);
    expect(makeJaxpr(() => lax.iota("int32", 3))().toString()).toContain("iota[dtype=int32 shape=(3,) dimension=0]");
    expect(vmap((x: any) => np.add(x, lax.iota("float32", 3)))(np.zeros([2, 3])).toArray()).toEqual([[0, 1, 2], [0, 1, 2]]);
  });
});

describe("dynamic_slice and dynamic_update_slice", () => {
  const clamp = (s: number, n: number, m: number) => Math.max(0, Math.min(s < 0 ? s + n : s, n - m));
  const arb = arbX(3, 4, 1).chain((x) =>
    fc.tuple(fc.constant(x), fc.tuple(...x.shape.map((n) => fc.tuple(fc.integer({ min: -6, max: 6 }), fc.integer({ min: 0, max: n }))))),
  );

  it("clamp start indices as JAX does", () => {
    fc.assert(
      fc.property(arb, ([x, spec]) => {
        const starts = spec.map(([s]) => i32(s));
        const sizes = spec.map(([, m]) => m);
        const y = lax.dynamicSlice(x, starts, sizes);
        const at = spec.map(([s, m], k) => clamp(s, x.shape[k]!, m));
        const g = getter(x);
        expectArray(y, sizes, build(sizes, (idx) => g(idx.map((i, k) => i + at[k]!))));
        const upd = np.add(y, 10);
        const z = lax.dynamicUpdateSlice(x, upd, starts);
        const gu = getter(upd);
        expectArray(z, x.shape, build(x.shape, (idx) => {
          const rel = idx.map((i, k) => i - at[k]!);
          return rel.every((r, k) => r >= 0 && r < sizes[k]!) ? gu(rel) : g(idx);
        }));
      }),
      { numRuns: 40 },
    );
    expect(() => lax.dynamicSlice(np.zeros([3]), [i32(0)], [4])).toThrow(/dynamic_slice: slice size 4 on axis 0 does not fit operand f32\[3\]/);
    expect(() => lax.dynamicSlice(np.zeros([3, 3]), [i32(0)], [1, 1])).toThrow(/needs 2 start indices/);
    expect(() => lax.dynamicSlice(np.zeros([3]), [np.array(0)], [1])).toThrow(/start index 0 \(argument 1\) must be int32/);
    expect(() => lax.dynamicUpdateSlice(np.zeros([3]), np.zeros([4]), [i32(0)])).toThrow(/dynamic_update_slice: update f32\[4\] \(argument 1\) does not fit/);
  });

  it("start indices may be JS integers, as Python ints in JAX", () => {
    expect(lax.dynamicSlice(np.arange(5), [3], [2]).toArray()).toEqual([3, 4]);
    expect(lax.dynamicSlice(np.arange(5), [-1], [2]).toArray()).toEqual([3, 4]);
    expect(lax.dynamicUpdateSlice(np.arange(4), np.array([9], { dtype: "int32" }), [1]).toArray()).toEqual([0, 9, 2, 3]);
  });

  it("transform rules, with batched operands and batched start indices", () => {
    const ds = (a: any, i: any) => np.sin(lax.dynamicSlice(a, [i, np.array(1, { dtype: "int32" })], [2, 2]));
    const dus = (a: any, u: any, i: any) => lax.dynamicUpdateSlice(a, np.multiply(u, u), [np.array(1, { dtype: "int32" }), i]);
    const a = f64([4, 3]);
    const u = f64([2, 2], 1);
    for (const s of [-1, 1, 5]) {
      checkGrad((x: any) => ds(x, i32(s)), [a]);
      checkTransposition((x: any) => ds(x, i32(s)), [a]);
      checkGrad((x: any, y: any) => dus(x, y, i32(s)), [a, u]);
      checkTransposition((x: any, y: any) => dus(x, y, i32(s)), [a, u]);
    }
    typecheckTransforms((x: any) => ds(x, i32(2)), [a]);
    typecheckTransforms((x: any, y: any) => dus(x, y, i32(2)), [a, u]);
    const idx = i32([0, 3, -1]) as NDArray;
    checkVmap(ds, [f64([3, 4, 3]), idx]);
    checkVmap(ds, [a, idx], 1e-12, [null, 0]);
    checkVmap(ds, [f64([4, 3, 3]), i32(1) as NDArray], 1e-12, [2, null]);
    checkVmap(dus, [f64([3, 4, 3]), f64([3, 2, 2], 2), idx]);
    checkVmap(dus, [a, f64([2, 2, 3], 2), idx], 1e-12, [null, 2, 0]);
    checkVmap(dus, [f64([4, 3, 3]), u, i32(0) as NDArray], 1e-12, [1, null, null]);
    // vmap of vmap exercises batch_dims > 0 in both primitives.
    const vds = (x: any, i: any) => vmap(ds)(x, i);
    checkVmap(vds, [f64([2, 3, 4, 3]), i32([[0, 3, -1], [2, 1, 0]]) as NDArray]);
    checkVmap(vds, [f64([3, 4, 3]), i32([[0, 3, -1], [2, 1, 0]]) as NDArray], 1e-12, [null, 0]);
    const vdus = (x: any, y: any, i: any) => vmap(dus, { inAxes: [0, null, 0] })(x, y, i);
    checkVmap(vdus, [f64([2, 3, 4, 3]), f64([2, 2, 2], 1), i32([[0, 3, -1], [2, 1, 0]]) as NDArray]);
    checkGrad((x: any, y: any) => vdus(x, y, i32([0, 3, -1])), [f64([3, 4, 3]), u]);
  });
});
