import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DTypeError, type NDArray, ShapeError, ValueError, makeJaxpr, np } from "@cotangent/core";
import { checkGrad, checkTransposition, checkVmap, expectClose, typecheckTransforms } from "./harness.js";
import { rng, sizeOf, unravel, offsetOf } from "./reference_util.js";

type DT = "float32" | "float64";

const randArray = (shape: number[], seed: number, dtype: DT | "int32" = "float64"): NDArray => {
  const r = rng(seed);
  const vals = Array.from({ length: sizeOf(shape) }, () => (dtype === "int32" ? Math.floor(r() * 9) - 4 : r() * 2 - 1));
  return np.array(Float64Array.from(vals), { dtype, shape }) as NDArray;
};
const asF64 = (data: ArrayLike<number>, shape: number[]) => np.array(Float64Array.from(data), { dtype: "float64", shape });

/** NumPy's matmul by explicit loops: broadcast batch indices, a triple loop per matrix. */
const refMatmul = (a: NDArray, b: NDArray): { shape: number[]; data: number[] } => {
  let as = a.shape;
  let bs = b.shape;
  const aVec = as.length === 1;
  const bVec = bs.length === 1;
  if (aVec) as = [1, as[0]!];
  if (bVec) bs = [bs[0]!, 1];
  const [m, k] = as.slice(-2) as [number, number];
  const n = bs[bs.length - 1]!;
  const ab = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const nb = Math.max(ab.length, bb.length);
  const batch = Array.from({ length: nb }, (_, i) => {
    const da = ab[i - nb + ab.length] ?? 1;
    return da === 1 ? (bb[i - nb + bb.length] ?? 1) : da; // 1 broadcasts to anything, even 0
  });
  const av = a.toTypedArray();
  const bv = b.toTypedArray();
  const data: number[] = [];
  for (let t = 0; t < sizeOf(batch); t++) {
    const bi = unravel(t, batch);
    const pick = (shape: number[]) => shape.map((d, i) => (d === 1 ? 0 : bi[i + nb - shape.length]!));
    const aOff = offsetOf(ab, pick(ab)) * m * k;
    const bOff = offsetOf(bb, pick(bb)) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let kk = 0; kk < k; kk++) s += av[aOff + i * k + kk]! * bv[bOff + kk * n + j]!;
        data.push(s);
      }
    }
  }
  const shape = [...batch, ...(aVec ? [] : [m]), ...(bVec ? [] : [n])];
  return { shape, data };
};

/** einsum by brute force: every assignment of every label, accumulating into the output. */
const refEinsum = (inputs: string[], output: string, xs: NDArray[]): { shape: number[]; data: Float64Array } => {
  const sizes = new Map<string, number>();
  inputs.forEach((t, i) => [...t].forEach((l, ax) => sizes.set(l, xs[i]!.shape[ax]!)));
  const labels = [...sizes.keys()];
  const all = labels.map((l) => sizes.get(l)!);
  const shape = [...output].map((l) => sizes.get(l)!);
  const data = new Float64Array(sizeOf(shape));
  const vals = xs.map((x) => x.toTypedArray());
  for (let f = 0; f < sizeOf(all); f++) {
    const asg = unravel(f, all);
    const at = (l: string) => asg[labels.indexOf(l)]!;
    let p = 1;
    inputs.forEach((t, i) => (p *= vals[i]![offsetOf(xs[i]!.shape, [...t].map(at))]!));
    data[offsetOf(shape, [...output].map(at))] += p;
  }
  return { shape, data };
};

const arbBatchPair = fc
  .record({
    batch: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
    dropA: fc.integer({ min: 0, max: 2 }),
    dropB: fc.integer({ min: 0, max: 2 }),
    m: fc.integer({ min: 0, max: 5 }),
    k: fc.integer({ min: 0, max: 5 }),
    n: fc.integer({ min: 1, max: 6 }),
    aVec: fc.boolean(),
    bVec: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ batch, dropA, dropB, m, k, n, aVec, bVec, seed }) => {
    // Each operand drops some leading batch axes and sets some to 1: NumPy broadcasting.
    const r = rng(seed);
    const mk = (drop: number) => batch.slice(Math.min(drop, batch.length)).map((d) => (r() < 0.3 ? 1 : d));
    const as = aVec ? [k] : [...mk(dropA), m, k];
    const bs = bVec ? [k] : [...mk(dropB), k, n];
    return { as, bs, seed };
  });

describe("np.matmul", () => {
  it("matches a triple loop, with batch broadcasting and 1-D operands", () => {
    fc.assert(
      fc.property(arbBatchPair, fc.constantFrom<DT>("float32", "float64"), ({ as, bs, seed }, dtype) => {
        const a = randArray(as, seed, dtype);
        const b = randArray(bs, seed + 1, dtype);
        const out = np.matmul(a, b);
        const ref = refMatmul(a, b);
        expect(out.shape).toEqual(ref.shape);
        expect(out.dtype).toBe(dtype);
        expectClose(out, asF64(ref.data, ref.shape), dtype === "float32" ? 1e-5 : 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it("promotes dtypes and keeps int32 exact", () => {
    const a = np.array([[1, 2], [3, 4]], { dtype: "int32" });
    const out = np.matmul(a, a);
    expect(out.dtype).toBe("int32");
    expect(out.toArray()).toEqual([[7, 10], [15, 22]]);
    expect(np.matmul(a, np.array([1.5, 0], { dtype: "float64" })).dtype).toBe("float64");
    expect(np.matmul([[1, 2]], [[3], [4]]).toArray()).toEqual([[11]]);
  });

  it("grad, transposition and vmap through broadcast batches", () => {
    const a = randArray([2, 1, 3, 4], 1);
    const b = randArray([3, 4, 2], 2);
    checkGrad((x: any, y: any) => np.matmul(x, y), [a, b]);
    checkTransposition((x: any) => np.matmul(x, b), [a]);
    typecheckTransforms((x: any, y: any) => np.matmul(x, y), [a, b]);
    checkVmap((x: any, y: any) => np.matmul(x, y), [randArray([2, 3, 4], 3), randArray([2, 4], 4)]);
    checkGrad((x: any, y: any) => np.matmul(x, y), [randArray([4], 5), randArray([2, 4, 3], 6)]);
  });

  it("errors name the shapes", () => {
    expect(() => np.matmul(np.ones([2, 3]), np.ones([4, 5]))).toThrow(ShapeError);
    expect(() => np.matmul(np.ones([2, 3]), np.ones([4, 5]))).toThrow(
      /np.matmul: contraction size mismatch: x of shape \[2, 3\] has 3 along its last axis but y of shape \[4, 5\] has 4 along axis -2/,
    );
    expect(() => np.matmul(np.ones([3]), np.ones([4]))).toThrow(/x of shape \[3\] has 3 along its last axis but y of shape \[4\] has 4 along axis 0/);
    expect(() => np.matmul(np.ones([2, 2, 3]), np.ones([3, 3, 1]))).toThrow(/np.matmul: batch axes \[2\] of x \(shape \[2, 2, 3\]\) and \[3\] of y \(shape \[3, 3, 1\]\) do not broadcast/);
    expect(() => np.matmul(2, np.ones([2]))).toThrow(/np.matmul: operands must have at least one axis/);
    expect(() => np.tensordot(np.ones([2], { dtype: "bool" }), np.ones([2], { dtype: "bool" }), 1)).toThrow(DTypeError);
  });
});

describe("np.dot, tensordot, inner, outer, vdot", () => {
  it("np.dot follows NumPy's cases", () => {
    const a = randArray([2, 3, 4], 7);
    const b = randArray([5, 4, 2], 8);
    const out = np.dot(a, b);
    expect(out.shape).toEqual([2, 3, 5, 2]);
    const av = a.toTypedArray();
    const bv = b.toTypedArray();
    const ref: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 5; k++)
          for (let l = 0; l < 2; l++) {
            let s = 0;
            for (let m = 0; m < 4; m++) s += av[(i * 3 + j) * 4 + m]! * bv[(k * 4 + m) * 2 + l]!;
            ref.push(s);
          }
    expectClose(out, asF64(ref, [2, 3, 5, 2]), 1e-12);
    const v = randArray([4], 9);
    expect(np.dot(a, v).shape).toEqual([2, 3]);
    expectClose(np.dot(v, v), np.sum(np.multiply(v, v)), 1e-12);
    expectClose(np.dot(2, v), np.multiply(v, 2), 0);
    expect(np.dot(np.ones([3], { dtype: "int32" }), 2).dtype).toBe("int32");
    expect(() => np.dot(a, a)).toThrow(/np.dot: contraction size mismatch: x of shape \[2, 3, 4\] has 4 along its last axis but y of shape \[2, 3, 4\] has 3 along axis 1/);
  });

  it("tensordot with a count and with explicit axes", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer(), (dims, nRaw, seed) => {
        const n = Math.min(nRaw, dims.length);
        const a = randArray(dims, seed);
        const bShape = [...dims.slice(dims.length - n), 2];
        const b = randArray(bShape, seed + 1);
        const out = np.tensordot(a, b, n);
        const labels = "abcdefg";
        const aL = labels.slice(0, dims.length);
        const bL = aL.slice(dims.length - n) + "z";
        const ref = refEinsum([aL, bL], aL.slice(0, dims.length - n) + "z", [a, b]);
        expectClose(out, asF64(ref.data, ref.shape), 1e-12);
      }),
      { numRuns: 30 },
    );
    const a = randArray([3, 4, 5], 10);
    const b = randArray([5, 2, 3], 11);
    const out = np.tensordot(a, b, [[0, -1], [2, 0]]);
    const ref = refEinsum(["abc", "cda"], "bd", [a, b]);
    expectClose(out, asF64(ref.data, ref.shape), 1e-12);
    expect(np.tensordot(randArray([3], 1), randArray([2], 2), 0).shape).toEqual([3, 2]);
    expect(() => np.tensordot(a, b, [[0], [0]])).toThrow(/np.tensordot: contraction size mismatch: x axis 0 has size 3 but y axis 0 has size 5 \(x shape \[3, 4, 5\], y shape \[5, 2, 3\]/);
    expect(() => np.tensordot(a, b, 4)).toThrow(/axes=4 must be an integer from 0 to min\(x.ndim, y.ndim\) = 3/);
    expect(() => np.tensordot(a, b, [[0, 1], [2]])).toThrow(ValueError);
    expect(() => np.tensordot(a, b, [[3], [0]])).toThrow(/np.tensordot: x axis 3 is out of range/);
  });

  it("inner, outer and vdot", () => {
    const a = randArray([2, 3], 12);
    const b = randArray([4, 3], 13);
    const r1 = refEinsum(["ij", "kj"], "ik", [a, b]);
    expectClose(np.inner(a, b), asF64(r1.data, r1.shape), 1e-12);
    const o = np.outer(a, randArray([2], 14));
    expect(o.shape).toEqual([6, 2]);
    const u = randArray([6], 15);
    const r2 = refEinsum(["i", "j"], "ij", [u, u]);
    expectClose(np.outer(u, u), asF64(r2.data, r2.shape), 1e-12);
    expectClose(np.vdot(a, np.reshape(randArray([6], 16), [3, 2])), np.sum(np.multiply(np.reshape(a, [6]), randArray([6], 16))), 1e-12);
    expect(() => np.inner(a, randArray([3, 2], 1))).toThrow(/np.inner: contraction size mismatch: the last axes differ/);
    expect(() => np.vdot(a, randArray([5], 1))).toThrow(/np.vdot: inputs must have the same size/);
    checkGrad((x: any, y: any) => np.outer(x, y), [randArray([3], 1), randArray([2], 2)]);
  });
});

describe("np.einsum", () => {
  it("matches brute-force summation on random subscripts", () => {
    const arbSpec = fc
      .record({
        sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }),
        nOps: fc.integer({ min: 1, max: 3 }),
        seed: fc.integer(),
      })
      .map(({ sizes, nOps, seed }) => {
        const r = rng(seed);
        const letters = "pqrst".slice(0, sizes.length).split("");
        const pickSome = () => letters.filter(() => r() < 0.6).sort(() => r() - 0.5);
        const inputs = Array.from({ length: nOps }, pickSome);
        const used = [...new Set(inputs.flat())];
        const output = used.filter(() => r() < 0.5).sort(() => r() - 0.5);
        return { sizes, letters, inputs: inputs.map((t) => t.join("")), output: output.join(""), seed };
      });
    fc.assert(
      fc.property(arbSpec, fc.constantFrom<DT>("float32", "float64"), ({ sizes, letters, inputs, output, seed }, dtype) => {
        const xs = inputs.map((t, i) => randArray([...t].map((l) => sizes[letters.indexOf(l)]!), seed + i, dtype));
        const spec = `${inputs.join(",")}->${output}`;
        const out = np.einsum(spec, ...xs);
        const ref = refEinsum(inputs, output, xs);
        expect(out.shape).toEqual(ref.shape);
        expectClose(out, asF64(ref.data, ref.shape), dtype === "float32" ? 1e-5 : 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it("common forms and implicit output", () => {
    const a = randArray([2, 3], 1);
    const b = randArray([3, 4], 2);
    expectClose(np.einsum("ij,jk->ik", a, b), np.matmul(a, b), 1e-12);
    expectClose(np.einsum("ij,jk", a, b), np.matmul(a, b), 1e-12);
    expectClose(np.einsum("ij->ji", a), np.transpose(a), 0);
    expectClose(np.einsum("ba", a), np.transpose(a), 0);
    const x = randArray([5, 2, 3], 3);
    const y = randArray([5, 3, 4], 4);
    expectClose(np.einsum("bij,bjk->bik", x, y), np.matmul(x, y), 1e-12);
    expectClose(np.einsum(" i j , j k -> i k ", a, b), np.matmul(a, b), 1e-12);
    // A single dot_general for a plain matrix product.
    const j = makeJaxpr((p: any, q: any) => np.einsum("ij,jk->ik", p, q))(a, b);
    expect(j.eqns.map((e) => e.primitive.name)).toEqual(["dot_general"]);
  });

  it("differentiates and batches", () => {
    const a = randArray([2, 3], 5);
    const b = randArray([3, 2, 4], 6);
    const c = randArray([4], 7);
    const f = (p: any, q: any, r: any) => np.einsum("ij,jkl,l->ik", p, q, r);
    checkGrad(f, [a, b, c]);
    checkTransposition((q: any) => f(a, q, c), [b]);
    typecheckTransforms(f, [a, b, c]);
    checkVmap(f, [randArray([2, 2, 3], 8), b, randArray([2, 4], 9)], 1e-12, [0, null, 0]);
  });

  it("broadcasts size-1 axes against the label's size, as NumPy and JAX do", () => {
    const a = randArray([2, 3], 10);
    const row = randArray([1, 3], 11);
    const av = Array.from(a.toTypedArray() as Float64Array);
    const rv = Array.from(row.toTypedArray() as Float64Array);
    expectClose(np.einsum("ij,ij->ij", a, row), np.multiply(a, row));
    // A size-1 axis that is summed: x[0, :] times the sum of y over that label.
    const dots = [0, 1].map((i) => [0, 1, 2].reduce((t, j) => t + av[i * 3 + j]! * rv[j]!, 0));
    expectClose(np.einsum("ij,kj->ik", a, row), asF64(dots, [2, 1]));
    expectClose(np.einsum("ij,ij->", np.ones([1, 3], { dtype: "float64" }), a), np.sum(a));
    checkGrad((p: any, q: any) => np.einsum("ij,ij->i", p, q), [a, row]);
  });

  it("subscript errors", () => {
    const a = np.ones([2, 3]);
    expect(() => np.einsum("ij,jk->ik", a)).toThrow(/np.einsum: subscripts 'ij,jk->ik' name 2 operands but 1 was given/);
    expect(() => np.einsum("ijk->i", a)).toThrow(/operand 0 has shape \[2, 3\] \(rank 2\) but its subscripts 'ijk' name 3 axes/);
    expect(() => np.einsum("ii->i", np.ones([2, 3]))).toThrow(/subscript 'i' repeats in operand 0 \('ii', shape \[2, 3\]\) over axes of different sizes 2 and 3/);
    expect(() => np.einsum("ij->k", a)).toThrow(/output subscript 'k' does not appear in any input/);
    expect(() => np.einsum("ij->ii", a)).toThrow(/output subscript 'i' appears more than once/);
    expect(() => np.einsum("ij,ij->i", a, np.ones([3, 2]))).toThrow(ShapeError);
    expect(() => np.einsum("ij,ij->i", a, np.ones([3, 2]))).toThrow(
      /subscript 'i' has size 2 in operand 0 \(axis 0 of shape \[2, 3\]\) but size 3 in operand 1 \(axis 0 of shape \[3, 2\]\)/,
    );
    expect(() => np.einsum("...j->j", a)).toThrow(/the inputs of '...j->j' have ellipsis axes but the output has no '...'/);
    expect(() => np.einsum("i...i", a)).toThrow(/repeats in operand 0 \('ii'.*different sizes/);
    expect(() => np.einsum("i.j", a)).toThrow(/invalid subscript character '\.'/);
    expect(() => np.einsum("i1->i", a)).toThrow(/invalid subscript character '1'/);
    expect(() => np.einsum("ij->i->j", a)).toThrow(/more than one '->'/);
    expect(() => np.einsum("ij")).toThrow(/needs at least one operand/);
  });
});
