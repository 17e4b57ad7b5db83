/**
 * `random.poisson`, JAX's algorithm: Knuth's multiplication method where lam < 10, and
 * Hörmann's transformed rejection ("The transformed rejection method for generating
 * Poisson random variables", Insurance: Mathematics and Economics 12, 1993; the PTRS
 * constants below are the paper's, as NumPy and TensorFlow use them) elsewhere. Both run
 * over the whole shape from the same key, as vectorized while loops in float32, and a
 * select picks each element's answer, so a key gives JAX's numbers.
 */
import type { ArrayBase } from "../array.js";
import { type PositionalOr, parseArgs, signature, withSignature } from "../api/args.js";
import type { DType } from "../dtype.js";
import { DTypeError, ValueError } from "../errors.js";
import { whileLoop } from "../higher/control/api.js";
import { type ArrayLike, asArray } from "../np/coerce.js";
import { add, div, mul, sub } from "../primitives/binary.js";
import { scalar } from "../primitives/common.js";
import { bitwiseAnd, bitwiseNot, bitwiseOr, gt, le, lt, ge, ne, select } from "../primitives/compare.js";
import { reduceOr } from "../primitives/reduce.js";
import { broadcastTo, convertElementType, full, reshape } from "../primitives/structural.js";
import { abs, floor, log, sqrt } from "../primitives/unary.js";
import { uniformIn } from "./continuous.js";
import { concreteValues, resultShape, splitList } from "./gamma.js";
import { type Key, type ShapeArg, checkKey } from "./keys.js";

const f32 = (v: number) => scalar(v, "float32");
const i32 = (v: number) => scalar(v, "int32");
const anyOf = (x: ArrayBase): ArrayBase => (x.ndim === 0 ? x : reduceOr(reshape(x, [x.size]), [0]));

/**
 * ln Γ(z) for z >= 1 from primitives: Stirling's series (through z^-7) at z + 8 for z < 8,
 * stepped back down by subtracting ln z + ... + ln(z + 7). Its error (below 1e-10 relative)
 * is far under float32's rounding; JAX calls XLA's lgamma here, so a rare accept/reject
 * decision within a rounding error of its threshold may differ.
 */
const lgammaAtLeastOne = (z: ArrayBase): ArrayBase => {
  const small = lt(z, f32(8));
  let shiftLogs = log(z);
  for (let i = 1; i < 8; i++) shiftLogs = add(shiftLogs, log(add(z, f32(i))));
  const w = select(small, add(z, f32(8)), z);
  const inv = div(f32(1), w);
  const inv2 = mul(inv, inv);
  // 1/(12w) - 1/(360w³) + 1/(1260w⁵) - 1/(1680w⁷), Horner in 1/w².
  const series = mul(inv, add(f32(1 / 12), mul(inv2, add(f32(-1 / 360), mul(inv2, add(f32(1 / 1260), mul(inv2, f32(-1 / 1680))))))));
  const stirling = add(add(sub(mul(sub(w, f32(0.5)), log(w)), w), f32(0.5 * Math.log(2 * Math.PI))), series);
  return select(small, sub(stirling, shiftLogs), stirling);
};

/** Knuth: count uniforms until their product falls below e^-lam (k - 1 of them). */
const knuth = (key: Key, lam: ArrayBase, shape: readonly number[]): ArrayBase => {
  type S = [ArrayBase, ArrayBase, ArrayBase, ArrayBase]; // i, k, key, log product
  const negLam = sub(f32(0), lam);
  const [, k] = whileLoop<S>(
    ([, , , logProd]) => anyOf(gt(logProd, negLam)),
    ([i, k0, rng, logProd]) => {
      const [next, sub_] = splitList(rng, 2);
      const k1 = select(gt(logProd, negLam), add(k0, i32(1)), k0);
      const u = uniformIn("random.poisson", sub_, shape, "float32", 0, 1);
      return [add(i, i32(1)), k1, next, add(logProd, log(u))];
    },
    [i32(0), full(shape, 0, "int32"), key, full(shape, 0, "float32")],
  );
  return sub(k, i32(1));
};

/** Hörmann's PTRS: transformed rejection with squeeze, for lam >= 10. */
const rejection = (key: Key, lam: ArrayBase, shape: readonly number[]): ArrayBase => {
  const logLam = log(lam);
  const b = add(f32(0.931), mul(f32(2.53), sqrt(lam)));
  const a = add(f32(-0.059), mul(f32(0.02483), b));
  const invAlpha = add(f32(1.1239), div(f32(1.1328), sub(b, f32(3.4))));
  const vR = sub(f32(0.9277), div(f32(3.6224), sub(b, f32(2))));
  type S = [ArrayBase, ArrayBase, ArrayBase, ArrayBase]; // i, k, accepted, key
  const [, kOut] = whileLoop<S>(
    ([, , accepted]) => anyOf(bitwiseNot(accepted)),
    ([i, kOut0, accepted, rng]) => {
      const [next, k0, k1] = splitList(rng, 3);
      const u = sub(uniformIn("random.poisson", k0, shape, "float32", 0, 1), f32(0.5));
      const v = uniformIn("random.poisson", k1, shape, "float32", 0, 1);
      const us = sub(f32(0.5), abs(u));
      const k = floor(add(add(mul(add(div(mul(f32(2), a), us), b), u), lam), f32(0.43)));
      const s = log(div(mul(v, invAlpha), add(div(a, mul(us, us)), b)));
      const t = sub(add(sub(f32(0), lam), mul(k, logLam)), lgammaAtLeastOne(add(k, f32(1))));
      const accept1 = bitwiseAnd(ge(us, f32(0.07)), le(v, vR));
      const reject = bitwiseOr(lt(k, f32(0)), bitwiseAnd(lt(us, f32(0.013)), gt(v, us)));
      const accept = bitwiseOr(accept1, bitwiseAnd(bitwiseNot(reject), le(s, t)));
      return [add(i, i32(1)), select(accept, k, kOut0), bitwiseOr(accepted, accept), next];
    },
    [i32(0), full(shape, -1, "float32"), full(shape, 0, "bool"), key],
  );
  return convertElementType(kOut, "int32");
};

/** Options of `random.poisson`. */
export interface PoissonOptions {
  /** The result's shape; by default lam's shape. */
  shape?: ShapeArg | null;
  /** Only int32. */
  dtype?: DType | null;
}

const poissonSig = signature("random.poisson", ["key:any!", "lam:array!", "shape:shape?", "dtype:dtype"]);
/**
 * `random.poisson(key, lam, shape?, dtype?)`: int32 Poisson(lam) counts. `lam` (the mean,
 * at least 0; converted to float32 as JAX does) broadcasts to `shape`. A negative `lam` is
 * an error when known; under tracing it gives -1, as JAX.
 */
export const poisson = withSignature(poissonSig, (key: Key, lam: ArrayLike, ...args: PositionalOr<[shape: ShapeArg | null, dtype: DType | null], PoissonOptions>): ArrayBase => {
  const op = "random.poisson";
  const o = parseArgs<{ shape?: ShapeArg | null; dtype?: DType | null }>(poissonSig, [key, lam, ...args]);
  checkKey(op, key);
  if (o.dtype !== undefined && o.dtype !== null && o.dtype !== "int32") {
    throw new DTypeError(`dtype must be int32, got ${o.dtype}`, { op, hint: "convert the counts afterwards with np.astype" });
  }
  const la = asArray(lam, "float32");
  const bad = concreteValues(la)?.find((v) => v < 0);
  if (bad !== undefined) throw new ValueError(`lam must be >= 0, got ${bad}`, { op });
  const shape = resultShape(op, o.shape, la);
  const l = broadcastTo(la, shape);
  const useKnuth = bitwiseOr(ne(l, l), lt(l, f32(10)));
  const lamKnuth = select(useKnuth, l, full(shape, 0, "float32"));
  const lamRejection = select(useKnuth, full(shape, 1e5, "float32"), l);
  const result = select(useKnuth, knuth(key, lamKnuth, shape), rejection(key, lamRejection, shape));
  return select(ne(l, f32(0)), result, full(shape, 0, "int32"));
});

