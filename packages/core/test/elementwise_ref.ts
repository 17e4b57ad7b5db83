/**
 * Reference implementations and arbitraries shared by the elementwise tests: plain loops
 * over the elements (with NumPy broadcasting done by index arithmetic), random shapes that
 * broadcast together, and a comparison that knows each dtype's precision.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { type ArrayBase, np } from "@cotangent/core";

export type FloatDType = "float32" | "float64";
export type AnyDType = "float32" | "float64" | "int32" | "bool";

/** An array of `dtype` from flat values. */
export const arr = (vals: ArrayLike<number>, shape: number[], dtype: AnyDType): ArrayBase =>
  np.array(dtype === "float32" ? Float32Array.from(vals) : dtype === "int32" ? Int32Array.from(vals) : Float64Array.from(vals), {
    dtype,
    shape,
  });

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** NumPy broadcast of shapes, written independently of the library's. */
export const broadcastRef = (...shapes: number[][]): number[] => {
  const n = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s[s.length - n + i] ?? 1;
      if (k !== 1) {
        if (d !== 1 && d !== k) throw new Error("no broadcast");
        d = k;
      }
    }
    out.push(d);
  }
  return out;
};

/** For output index `i` of `outShape`, the flat index into an operand of `shape`. */
const sourceIndex = (i: number, outShape: number[], shape: number[]): number => {
  let rem = i;
  let idx = 0;
  let stride = 1;
  for (let ax = outShape.length - 1; ax >= 0; ax--) {
    const o = rem % outShape[ax]!;
    rem = Math.floor(rem / outShape[ax]!);
    const k = ax - (outShape.length - shape.length);
    if (k >= 0) {
      const d = shape[k]!;
      idx += (d === 1 ? 0 : o) * stride;
      stride *= d;
    }
  }
  return idx;
};

/** `f` applied to the broadcast elements of the inputs, as flat values of the output shape. */
export const mapRef = (f: (...vs: number[]) => number, inputs: ArrayBase[]): { shape: number[]; values: number[] } => {
  const shapes = inputs.map((x) => x.shape);
  const shape = broadcastRef(...shapes);
  const bufs = inputs.map((x) => Array.from(x.toTypedArray() as ArrayLike<number>));
  const values: number[] = [];
  for (let i = 0; i < sizeOf(shape); i++) values.push(f(...bufs.map((b, k) => b[sourceIndex(i, shape, shapes[k]!)]!)));
  return { shape, values };
};

/** Unit roundoff of each dtype; results may differ from the float64 reference by a few. */
const ulp: Record<AnyDType, number> = { float32: 2 ** -23, float64: 2 ** -52, int32: 0, bool: 0 };

/**
 * `actual` has `dtype` and the reference's shape, and its values equal the reference
 * rounded to `dtype` within `ulps` units of relative error (exactly, for int32 and bool).
 * NaNs must match NaNs, infinities must match exactly.
 */
export const expectRef = (actual: ArrayBase, ref: { shape: number[]; values: number[] }, dtype: AnyDType, ulps = 4, absTol = 0): void => {
  expect(actual.dtype).toBe(dtype);
  expect(actual.shape).toEqual(ref.shape);
  const got = Array.from(actual.toTypedArray() as ArrayLike<number>);
  const want = ref.values.map((v) => (dtype === "float32" ? Math.fround(v) : dtype === "int32" ? v | 0 : dtype === "bool" ? (v ? 1 : 0) : v));
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) || !Number.isFinite(w) || dtype === "int32" || dtype === "bool") {
      if (!Object.is(g, w) && !(g === w)) throw new Error(`element ${i}: got ${g}, want ${w} (${dtype})`);
      continue;
    }
    const err = Math.abs(g - w);
    if (!(err <= ulps * ulp[dtype] * Math.abs(w) + absTol || err === 0)) {
      throw new Error(`element ${i}: got ${g}, want ${w} (${dtype}, error ${err}, ${err / Math.abs(w)} relative)`);
    }
  }
};

/** Shapes of rank 0..3 with dims 0..3 (size-0 included). */
export const arbShape = (maxRank = 3, minDim = 0, maxDim = 3) => fc.array(fc.integer({ min: minDim, max: maxDim }), { maxLength: maxRank });

/**
 * `n` shapes that broadcast together: a common shape, from which each operand drops some
 * leading axes and turns some axes into 1.
 */
export const arbBroadcastShapes = (n: number, maxRank = 3, minDim = 0) =>
  arbShape(maxRank, minDim).chain((base) =>
    fc.tuple(
      ...Array.from({ length: n }, () =>
        fc.tuple(fc.integer({ min: 0, max: base.length }), fc.array(fc.boolean(), { minLength: base.length, maxLength: base.length })).map(([drop, ones]) =>
          base.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)),
        ),
      ),
    ),
  );

/** Random values of `dtype` for `shape`: floats in [lo, hi], int32 integers in [lo, hi], bools. */
export const arbValues = (shape: number[], dtype: AnyDType, lo = -3, hi = 3) => {
  const n = sizeOf(shape);
  const vals =
    dtype === "bool"
      ? fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((v) => v.map(Number))
      : dtype === "int32"
        ? fc.array(fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) }), { minLength: n, maxLength: n })
        : fc.array(fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
  return vals.map((v) => arr(v, shape, dtype));
};
