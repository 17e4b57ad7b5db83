import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AxisError, DTypeError, type NDArray, ShapeError, ValueError, grad, lax, makeJaxpr, np, vmap } from "@cotangent/core";
import { checkGrad, checkTransposition, checkVmap, expectClose, typecheckTransforms } from "./harness.js";
import { rng, sizeOf } from "./reference_util.js";

type DN = [[number[], number[]], [number[], number[]]];
type DT = "float32" | "float64" | "int32";



const randArray = (shape: number[], seed: number, dtype: DT = "float64"): NDArray => {
  const r = rng(seed);
  const vals = Array.from({ length: sizeOf(shape) }, () => (dtype === "int32" ? Math.floor(r() * 19) - 9 : r() * 4 - 2));
  return np.array(Float64Array.from(vals), { dtype, shape }) as NDArray;
};

const shuffle = <T>(xs: T[], r: () => number): T[] => {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
};

/** Row-major multi-index of flat position `f` in `shape`. */
const unravel = (f: number, shape: number[]): number[] => {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = f % shape[i]!;
    f = Math.floor(f / shape[i]!);
  }
  return idx;
};
const ravel = (idx: number[], shape: number[]): number => idx.reduce((acc, v, i) => acc * shape[i]! + v, 0);

/** Reference dot_general: for every output element, an explicit loop over all contraction indices. */
const refDotGeneral = (a: NDArray, b: NDArray, [[lc, rc], [lb, rb]]: DN, int = false): { shape: number[]; data: number[] } => {
  const as = a.shape;
  const bs = b.shape;
  const av = Array.from(a.toTypedArray());
  const bv = Array.from(b.toTypedArray());
  const lfree = as.map((_, i) => i).filter((i) => !lc.includes(i) && !lb.includes(i));
  const rfree = bs.map((_, i) => i).filter((i) => !rc.includes(i) && !rb.includes(i));
  const shape = [...lb.map((i) => as[i]!), ...lfree.map((i) => as[i]!), ...rfree.map((i) => bs[i]!)];
  const cshape = lc.map((i) => as[i]!);
  const data: number[] = [];
  for (let f = 0; f < sizeOf(shape); f++) {
    const o = unravel(f, shape);
    let s = 0;
    for (let g = 0; g < sizeOf(cshape); g++) {
      const c = unravel(g, cshape);
      const ai = new Array<number>(as.length);
      const bi = new Array<number>(bs.length);
      lb.forEach((ax, k) => (ai[ax] = o[k]!));
      rb.forEach((ax, k) => (bi[ax] = o[k]!));
      lfree.forEach((ax, k) => (ai[ax] = o[lb.length + k]!));
      rfree.forEach((ax, k) => (bi[ax] = o[lb.length + lfree.length + k]!));
      lc.forEach((ax, k) => (ai[ax] = c[k]!));
      rc.forEach((ax, k) => (bi[ax] = c[k]!));
      const p = av[ravel(ai, as)]! * bv[ravel(bi, bs)]!;
      s = int ? (s + Math.imul(av[ravel(ai, as)]!, bv[ravel(bi, bs)]!)) | 0 : s + p;
    }
    data.push(s);
  }
  return { shape, data };
};

/** A random dot_general problem: batch, free and contracting axes in shuffled positions. */
const arbProblem = fc
  .record({
    batch: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
    contract: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 2 }),
    lfree: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 2 }),
    rfree: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 2 }),
    seed: fc.integer(),
  })
  .map(({ batch, contract, lfree, rfree, seed }) => {
    const r = rng(seed);
    type Role = ["b" | "c" | "f", number];
    const lroles: Role[] = shuffle([...batch.map((_, i) => ["b", i] as Role), ...contract.map((_, i) => ["c", i] as Role), ...lfree.map((_, i) => ["f", i] as Role)], r);
    const rroles: Role[] = shuffle([...batch.map((_, i) => ["b", i] as Role), ...contract.map((_, i) => ["c", i] as Role), ...rfree.map((_, i) => ["f", i] as Role)], r);
    const sizeFor = (role: Role, free: number[]) => (role[0] === "b" ? batch[role[1]]! : role[0] === "c" ? contract[role[1]]! : free[role[1]]!);
    const lshape = lroles.map((x) => sizeFor(x, lfree));
    const rshape = rroles.map((x) => sizeFor(x, rfree));
    const find = (roles: Role[], kind: string, i: number) => roles.findIndex(([k, j]) => k === kind && j === i);
    const dn: DN = [
      [contract.map((_, i) => find(lroles, "c", i)), contract.map((_, i) => find(rroles, "c", i))],
      [batch.map((_, i) => find(lroles, "b", i)), batch.map((_, i) => find(rroles, "b", i))],
    ];
    return { lshape, rshape, dn, seed };
  });

describe("dot_general", () => {
  it("matches reference loops on random dimension numbers (float32, float64, int32)", () => {
    fc.assert(
      fc.property(arbProblem, fc.constantFrom<DT>("float32", "float64", "int32"), ({ lshape, rshape, dn, seed }, dtype) => {
        const a = randArray(lshape, seed, dtype);
        const b = randArray(rshape, seed + 1, dtype);
        const out = lax.dotGeneral(a, b, dn) as NDArray;
        const ref = refDotGeneral(a, b, dn, dtype === "int32");
        expect(out.shape).toEqual(ref.shape);
        expect(out.dtype).toBe(dtype);
        if (dtype === "int32") expect(Array.from(out.toTypedArray())).toEqual(ref.data);
        else expectClose(out, np.array(Float64Array.from(ref.data), { dtype: "float64", shape: ref.shape }), dtype === "float32" ? 1e-5 : 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it("covers the kernel's blocking and remainder paths", () => {
    // m, n not multiples of 4; k over one k block (256); n over one j block (128).
    for (const [m, n, k] of [
      [7, 133, 300],
      [5, 3, 2],
      [1, 9, 17],
      [4, 4, 0],
      [0, 3, 2],
    ] as const) {
      const a = randArray([m, k], m * 31 + k);
      const b = randArray([k, n], n * 17 + k);
      const out = np.matmul(a, b);
      const ref = refDotGeneral(a, b, [[[1], [0]], [[], []]]);
      expectClose(out, np.array(Float64Array.from(ref.data), { dtype: "float64", shape: ref.shape }), 1e-12);
    }
  });

  it("accumulates float32 in doubles", () => {
    // 1 + 1e-8 * n is not representable step by step in float32, but the sum rounds well once.
    const n = 1000;
    const a = np.array(Float32Array.from({ length: n + 1 }, (_, i) => (i === 0 ? 1 : 1e-4)));
    const b = np.array(Float32Array.from({ length: n + 1 }, (_, i) => (i === 0 ? 1 : 1e-4)));
    expect(np.dot(a, b).item()).toBeCloseTo(Math.fround(1 + n * 1e-8), 9);
  });

  it("honours preferred_element_type", () => {
    const a = np.array([[1, 2], [3, 4]], { dtype: "int32" });
    const f = lax.dotGeneral(a, a, [[[1], [0]], [[], []]], { preferredElementType: "float32" });
    expect(f.dtype).toBe("float32");
    expect(f.toArray()).toEqual([[7, 10], [15, 22]]);
    const x = np.array([[0.1, 0.2]], { dtype: "float32" });
    const w = lax.dotGeneral(x, x, [[[1], [1]], [[], []]], { preferredElementType: "float64" });
    expect(w.dtype).toBe("float64");
    expect(w.item()).toBeCloseTo(Math.fround(0.1) ** 2 + Math.fround(0.2) ** 2, 14);
    expect(() => lax.dotGeneral(x, x, [[[1], [1]], [[], []]], { preferredElementType: "int32" })).toThrow(DTypeError);
    expect(() => lax.dotGeneral(np.astype(x, "float64"), np.astype(x, "float64"), [[[1], [1]], [[], []]], { preferredElementType: "float32" })).toThrow(
      /dot_general: preferred_element_type float32 is not allowed for float64/,
    );
  });

  it("prints in JAX's form", () => {
    const j = makeJaxpr((x: any, y: any) => lax.dotGeneral(x, y, [[[2], [1]], [[0], [0]]]))(np.ones([2, 3, 4]), np.ones([2, 4, 5]));
    expect(j.toString()).toContain("c:f32[2,3,5] = dot_general[dimension_numbers=(((2,), (1,)), ((0,), (0,))) preferred_element_type=None] a b");
  });

  describe("rules", () => {
    const cases: [string, number[], number[], DN][] = [
      ["matmul", [3, 4], [4, 2], [[[1], [0]], [[], []]]],
      ["batched matmul", [2, 3, 4], [2, 4, 5], [[[2], [1]], [[0], [0]]]],
      ["two contracting axes, permuted", [3, 2, 4], [4, 5, 3], [[[0, 2], [2, 0]], [[], []]]],
      ["batch axis not leading", [3, 2, 4], [4, 2], [[[2], [0]], [[1], [1]]]],
      ["outer product", [3], [2], [[[], []], [[], []]]],
      ["vector dot", [5], [5], [[[0], [0]], [[], []]]],
      ["matrix-vector", [2, 5], [5], [[[1], [0]], [[], []]]],
    ];
    for (const [name, ls, rs, dn] of cases) {
      it(`${name}: grad, transposition, vmap and typecheck`, () => {
        const a = randArray(ls, ls.length * 7 + 1);
        const b = randArray(rs, rs.length * 5 + 2);
        const f = (x: any, y: any) => lax.dotGeneral(x, y, dn);
        checkGrad(f, [a, b]);
        checkTransposition((x: any) => f(x, b), [a]);
        checkTransposition((y: any) => f(a, y), [b]);
        typecheckTransforms(f, [a, b]);
        const A = randArray([3, ...ls], 11);
        const B = randArray([3, ...rs], 12);
        checkVmap(f, [A, B]);
        checkVmap(f, [A, b], 1e-12, [0, null]);
        checkVmap(f, [a, B], 1e-12, [null, 0]);
        // Batch axes elsewhere than 0.
        const Bl = randArray([...rs, 2], 13);
        checkVmap(f, [a, Bl], 1e-12, [null, rs.length]);
        const Al = randArray([...ls, 2], 14);
        checkVmap(f, [Al, Bl], 1e-12, [ls.length, rs.length]);
      });
    }

    it("second derivatives and vmap of grad", () => {
      const a = randArray([3, 4], 1);
      const b = randArray([4, 2], 2);
      const f = (x: any, y: any) => np.sum(np.sin(lax.dotGeneral(x, y, [[[1], [0]], [[], []]])));
      checkGrad((x: any, y: any) => grad(f, { argnums: [0, 1] })(x, y), [a, b], { tol: 1e-5 });
      const A = randArray([2, 3, 4], 3);
      checkVmap((x: any) => grad(f)(x, b), [A]);
    });

    it("keeps a wider preferred type through the transpose", () => {
      const x = randArray([2, 3], 5);
      const y = randArray([3, 2], 6);
      const x32 = np.astype(x, "float32") as NDArray;
      const y32 = np.astype(y, "float32") as NDArray;
      const f = (a: any, b: any) => np.sum(lax.dotGeneral(a, b, [[[1], [0]], [[], []]], { preferredElementType: "float64" }));
      const [gx, gy] = grad(f, { argnums: [0, 1] })(x32, y32) as NDArray[];
      expect(gx!.dtype).toBe("float32");
      expect(gy!.dtype).toBe("float32");
      expectClose(gx, np.astype(np.matmul(np.ones([2, 2]), np.transpose(y32)), "float32"), 1e-6);
      typecheckTransforms(f, [x32, y32]);
      expect(vmap((a: any) => f(a, y32))(np.stack([x32, x32])).dtype).toBe("float64");
    });
  });

  describe("errors", () => {
    const a = np.ones([2, 3]);
    const b = np.ones([4, 5]);
    it("names both shapes and the axes on a contraction mismatch", () => {
      expect(() => lax.dotGeneral(a, b, [[[1], [0]], [[], []]])).toThrow(ShapeError);
      expect(() => lax.dotGeneral(a, b, [[[1], [0]], [[], []]])).toThrow(
        /dot_general: contracting axes must have equal sizes, but lhs axis 1 has size 3 and rhs axis 0 has size 4 \(lhs shape \[2, 3\], rhs shape \[4, 5\]/,
      );
      expect(() => lax.dotGeneral(np.ones([2, 3]), np.ones([3, 3]), [[[1], [0]], [[0], [1]]])).toThrow(/batch axes must have equal sizes, but lhs axis 0 has size 2 and rhs axis 1 has size 3/);
    });
    it("rejects malformed dimension numbers", () => {
      expect(() => lax.dotGeneral(a, b, [[1, 0], [[], []]] as any)).toThrow(ValueError);
      expect(() => lax.dotGeneral(a, b, [[1, 0], [[], []]] as any)).toThrow(/dot_general: dimension_numbers must be \[\[lhsContracting, rhsContracting\], \[lhsBatch, rhsBatch\]\]/);
      expect(() => lax.dotGeneral(a, b, [[[1, 0], [0]], [[], []]])).toThrow(/lhs has 2 contracting axes \(1, 0\) but rhs has 1 \(0\)/);
      expect(() => lax.dotGeneral(a, b, [[[2], [0]], [[], []]])).toThrow(AxisError);
      expect(() => lax.dotGeneral(a, b, [[[2], [0]], [[], []]])).toThrow(/dot_general: lhs axis 2 is out of range for lhs f32\[2,3\] of rank 2/);
      expect(() => lax.dotGeneral(a, np.ones([3, 2]), [[[1], [0]], [[1], [1]]])).toThrow(/lhs axes repeat among contracting \(1\) and batch \(1\)/);
    });
    it("rejects mixed and bool dtypes", () => {
      expect(() => lax.dotGeneral(a, np.ones([3], { dtype: "float64" }), [[[1], [0]], [[], []]])).toThrow(DTypeError);
      expect(() => lax.dotGeneral(np.ones([2], { dtype: "bool" }), np.ones([2], { dtype: "bool" }), [[[0], [0]], [[], []]])).toThrow(/dot_general: .*bool/);
    });
    it("reports the error at trace time, before any kernel runs", () => {
      expect(() => makeJaxpr((x: any) => lax.dotGeneral(x, b, [[[1], [0]], [[], []]]))(a)).toThrow(ShapeError);
    });
  });
});
