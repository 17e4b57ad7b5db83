import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ArrayBase, type NDArray, grad, lax, np, vjp } from "@cotangent/core";
import { checkGrad, checkSecondOrder, checkTransposition, checkVmap, typecheckTransforms } from "./harness.js";
import { arbBroadcastShapes, arbValues, expectRef, mapRef } from "./elementwise_ref.js";

interface BinaryCase {
  name: string;
  op: (x: ArrayBase, y: ArrayBase) => ArrayBase;
  ref: (a: number, b: number) => number;
  /** int32 semantics, when the op accepts int32. */
  intRef?: (a: number, b: number) => number;
  x: [number, number];
  y: [number, number];
  /** Integer domains for the int32 test (defaults to [-50, 50]). */
  ix?: [number, number];
  iy?: [number, number];
  /** Maps derivative-check points off ties, jumps and singularities. */
  gx?: (v: number) => number;
  gy?: (v: number) => number;
}

const intPowRef = (a: number, b: number) => Number(BigInt.asIntN(32, BigInt(a) ** BigInt(b)));

const CASES: BinaryCase[] = [
  { name: "add", op: lax.add, ref: (a, b) => a + b, intRef: (a, b) => (a + b) | 0, x: [-5, 5], y: [-5, 5] },
  { name: "sub", op: lax.sub, ref: (a, b) => a - b, intRef: (a, b) => (a - b) | 0, x: [-5, 5], y: [-5, 5] },
  { name: "mul", op: lax.mul, ref: (a, b) => a * b, intRef: Math.imul, x: [-5, 5], y: [-5, 5] },
  { name: "div", op: lax.div, ref: (a, b) => a / b, intRef: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)), x: [-5, 5], y: [0.5, 5] },
  {
    name: "rem",
    op: lax.rem,
    // JS % is C's fmod (exact, sign of the dividend).
    ref: (a, b) => a % b,
    intRef: (a, b) => (b === 0 ? 0 : a % b),
    x: [-5, 5],
    y: [0.5, 3],
    gx: (v) => v + 0.0137,
    gy: (v) => v + 0.0031,
  },
  { name: "pow", op: lax.pow, ref: (a, b) => a ** b, intRef: intPowRef, x: [0.1, 3], y: [-3, 3], ix: [-5, 5], iy: [0, 12] },
  { name: "atan2", op: lax.atan2, ref: Math.atan2, x: [-3, 3], y: [0.5, 3] },
  { name: "max", op: lax.max, ref: Math.max, intRef: Math.max, x: [-3, 3], y: [-3, 3], gx: (v) => v + 0.0113 },
  { name: "min", op: lax.min, ref: Math.min, intRef: Math.min, x: [-3, 3], y: [-3, 3], gx: (v) => v + 0.0113 },
];

const pairOf = (c: BinaryCase, dtype: "float32" | "float64" | "int32") =>
  arbBroadcastShapes(2).chain(([sx, sy]) =>
    fc.tuple(
      arbValues(sx!, dtype, ...(dtype === "int32" ? (c.ix ?? [-50, 50]) : c.x)),
      arbValues(sy!, dtype, ...(dtype === "int32" ? (c.iy ?? [-50, 50]) : c.y)),
    ),
  );

describe("binary primitives match a reference loop, with broadcasting", () => {
  for (const c of CASES) {
    for (const dtype of ["float32", "float64", "int32"] as const) {
      if (dtype === "int32" && !c.intRef) continue;
      it(`${c.name} ${dtype}`, () => {
        fc.assert(
          fc.property(pairOf(c, dtype), ([x, y]) => {
            const ref = dtype === "int32" ? c.intRef! : c.ref;
            expectRef(c.op(x, y), mapRef(ref, [x, y]), dtype, dtype === "float32" ? 2 : 4);
          }),
          { numRuns: 30 },
        );
      });
    }
  }

  it("float32 results are rounded once from the exact float64 value", () => {
    const x = np.array([1 / 3, 0.1, 1e-8]);
    const y = np.array([3, 0.2, 1]);
    const got = lax.add(x, y).toTypedArray();
    const xs = x.toTypedArray();
    const ys = y.toTypedArray();
    for (let i = 0; i < 3; i++) expect(got[i]).toBe(Math.fround(xs[i]! + ys[i]!));
  });

  it("max/min propagate NaN either side; pow(1, NaN) = 1 as in C", () => {
    const a = np.array([NaN, 1, NaN], { dtype: "float64" });
    const b = np.array([1, NaN, NaN], { dtype: "float64" });
    expect(lax.max(a, b).toArray().every(Number.isNaN)).toBe(true);
    expect(lax.min(a, b).toArray().every(Number.isNaN)).toBe(true);
    expect(lax.pow(np.array([1, 2], { dtype: "float64" }), np.array([NaN, 0.5], { dtype: "float64" })).toArray()).toEqual([1, Math.SQRT2]);
  });

  it("rem takes the dividend's sign (C fmod); int32 division truncates and x/0 = 0", () => {
    const i = (v: number[]) => np.array(v, { dtype: "int32" });
    expect(lax.rem(np.array([7, -7, 7, -7]), np.array([3, 3, -3, -3])).toArray()).toEqual([1, -1, 1, -1]);
    expect(lax.div(i([7, -7, 7, 5]), i([2, 2, -2, 0])).toArray()).toEqual([3, -3, -3, 0]);
    expect(lax.rem(i([7, -7, 5]), i([2, 2, 0])).toArray()).toEqual([1, -1, 0]);
    expect(lax.pow(i([2, -1, -1, 3, 0]), i([31, -3, -2, -1, 0])).toArray()).toEqual([-2147483648, -1, 1, 0, 1]);
  });
});

describe("binary primitive derivatives", () => {
  /** Operands (x, y) of broadcasting shapes, and batched versions (xs, ys) of the same shapes. */
  const floatPairs = (c: BinaryCase) =>
    arbBroadcastShapes(2, 2, 1).chain(([sx, sy]) => {
      const vals = (shape: number[], [lo, hi]: [number, number], g?: (v: number) => number) => {
        const n = shape.reduce((a, b) => a * b, 1);
        return fc
          .array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: n, maxLength: n })
          .map((v) => np.array(Float64Array.from(v.map(g ?? ((t) => t))), { dtype: "float64", shape }) as NDArray);
      };
      return fc.tuple(vals(sx!, c.x, c.gx), vals(sy!, c.y, c.gy), vals([2, ...sx!], c.x, c.gx), vals([2, ...sy!], c.y, c.gy));
    });

  for (const c of CASES) {
    it(`${c.name}: grad (each subset of the arguments, broadcast), transposition`, () => {
      fc.assert(
        fc.property(floatPairs(c), ([x, y]) => {
          checkGrad(c.op, [x, y]);
          checkTransposition(c.op, [x, y]);
        }),
        { numRuns: 25 },
      );
    });

    it(`${c.name}: second derivative, vmap (either argument unbatched), typecheck of every transform`, () => {
      fc.assert(
        fc.property(floatPairs(c), ([x, y, xs, ys]) => {
          checkSecondOrder(c.op, [x, y], { tol: 1e-4 });
          checkVmap(c.op, [xs, ys]);
          checkVmap(c.op, [xs, y], 1e-12, [0, null]);
          checkVmap(c.op, [x, ys], 1e-12, [null, 0]);
          typecheckTransforms(c.op, [x, y]);
        }),
        { numRuns: 4 },
      );
    });
  }

  it("max and min split the tangent evenly on ties, as JAX does", () => {
    const x = np.array([1, 2, 3], { dtype: "float64" });
    const y = np.array([1, 5, 0], { dtype: "float64" });
    for (const op of [lax.max, lax.min]) {
      const [gx, gy] = grad((a: ArrayBase, b: ArrayBase) => np.sum(op(a, b)), { argnums: [0, 1] })(x, y) as ArrayBase[];
      const xWins = op === lax.max ? [0.5, 0, 1] : [0.5, 1, 0];
      expect(gx!.toArray()).toEqual(xWins);
      expect(gy!.toArray()).toEqual(xWins.map((w) => 1 - w));
    }
    // A scalar bound broadcast against an array accumulates its share over every tie.
    const g = grad((b: ArrayBase) => np.sum(lax.max(np.array([1, 1, 2], { dtype: "float64" }), b)))(np.array(1, { dtype: "float64" }));
    expect(g.item()).toBe(1);
  });

  it("pow has finite derivatives at x = 0 (d/dy = 0 there, d/dx = 0 for y = 0)", () => {
    const f = (a: ArrayBase, b: ArrayBase) => np.sum(lax.pow(a, b));
    const x = np.array([0, 0, 0, 2], { dtype: "float64" });
    const y = np.array([0, 2, 1, 3], { dtype: "float64" });
    const [gx, gy] = grad(f, { argnums: [0, 1] })(x, y) as ArrayBase[];
    expect(gx!.toArray()).toEqual([0, 0, 1, 12]);
    expect(gy!.toArray()).toEqual([0, 0, 0, 8 * Math.log(2)]);
  });

  it("transpose rules of add/sub/mul/div sum cotangents back over broadcast axes", () => {
    const x = np.array([[1, 2, 3], [4, 5, 6]], { dtype: "float64" });
    const s = np.array(2, { dtype: "float64" });
    const [, back] = vjp((a: ArrayBase, b: ArrayBase) => lax.div(lax.sub(lax.mul(a, b), b), b), x, s);
    const [ga, gb] = back(np.onesLike(x)) as ArrayBase[];
    expect(ga!.toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
    // (a b - b) / b = a - 1 does not depend on b: the six broadcast contributions cancel.
    expect(gb!.item()).toBeCloseTo(0, 12);
  });
});
