/**
 * `random_gamma_grad`: the derivative of a standard Gamma(a) sample with respect to its
 * shape parameter `a`, by implicit differentiation of the CDF (Figurnov, Mohamed and Mnih,
 * "Implicit Reparameterization Gradients", NeurIPS 2018), as JAX's `lax.random_gamma_grad`:
 * holding the sample's quantile u = P(a, x) fixed, dx/da = -(dP/da)(a, x) / p(x; a), with P
 * the regularized lower incomplete gamma function and p the Gamma density.
 *
 * Written by hand (no JS library offers the derivative of the incomplete gamma function in
 * its shape parameter): ln P by its power series (x < a + 1) or ln Q = ln(1 - P) by its
 * continued fraction (Numerical Recipes' gser / gcf, modified Lentz), each accurate to about
 * 1e-15 relative in float64, and d ln P / da (or d ln Q / da) by a five-point central
 * difference in a (relative step 1e-3; truncation and rounding both near 1e-11 relative).
 * Everything is computed in float64 and rounded to the inputs' dtype.
 */
import { bufferOf, fromBuffer } from "../array.js";
import { ShapedArray, typedArrayFor } from "../dtype.js";
import { TransformError } from "../errors.js";
import { type Primitive, definePrimitive } from "../ir/primitive.js";
import { broadcastCopy } from "../kernels/elementwise.js";
import { sizeOf } from "../shape.js";
import { bind1 } from "../trace.js";
import type { ArrayBase } from "../array.js";
import { broadcastAll, requireDType, sameDType } from "./common.js";
import { broadcastingBatch } from "./elementwise.js";

/** Lanczos coefficients (g = 7, n = 9), the widely published set (e.g. Numerical Recipes 3rd ed., Wikipedia "Lanczos approximation"). */
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(z) for z > 0 (Lanczos; relative error near 1e-15). */
export const lgammaScalar = (z: number): number => {
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - lgammaScalar(1 - z);
  const w = z - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) s += LANCZOS[i]! / (w + i);
  const t = w + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (w + 0.5) * Math.log(t) - t + Math.log(s);
};

const EPS = 1e-16;
const MAX_TERMS = 100000;

/** ln P(a, x) by the series P = e^{-x} x^a / Γ(a + 1) · Σ_n x^n / ((a + 1)···(a + n)); for x < a + 1. */
const logPSeries = (a: number, x: number): number => {
  let term = 1;
  let sum = 1;
  for (let n = 1; n < MAX_TERMS; n++) {
    term *= x / (a + n);
    sum += term;
    if (term < sum * EPS) break;
  }
  return a * Math.log(x) - x - lgammaScalar(a + 1) + Math.log(sum);
};

/** ln Q(a, x) by its continued fraction (modified Lentz); for x >= a + 1. */
const logQFraction = (a: number, x: number): number => {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_TERMS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return a * Math.log(x) - x - lgammaScalar(a) + Math.log(h);
};

/** d/da of f at a, by the five-point central difference. */
const derivative = (f: (a: number) => number, a: number): number => {
  const h = 1e-3 * Math.max(a, 1e-3);
  const step = Math.min(h, a / 4); // stay inside a > 0
  return (8 * (f(a + step) - f(a - step)) - (f(a + 2 * step) - f(a - 2 * step))) / (12 * step);
};

/** dx/da of the Gamma(a) sample x at fixed quantile (0 where x is 0 or not finite, NaN for a <= 0). */
export const gammaSampleGrad = (a: number, x: number): number => {
  if (!(a > 0) || Number.isNaN(x)) return NaN;
  if (x <= 0 || !Number.isFinite(x) || !Number.isFinite(a)) return 0;
  const logDensity = (a - 1) * Math.log(x) - x - lgammaScalar(a);
  if (x < a + 1) {
    // dx/da = -(dP/da) / p with dP/da = P · dlnP/da.
    const logP = logPSeries(a, x);
    return -Math.exp(logP - logDensity) * derivative((b) => logPSeries(b, x), a);
  }
  // dP/da = -dQ/da: dx/da = (Q · dlnQ/da) / p.
  const logQ = logQFraction(a, x);
  return Math.exp(logQ - logDensity) * derivative((b) => logQFraction(b, x), a);
};

/**
 * `random_gamma_grad a x`: elementwise dx/da of Gamma(a) samples x (both float32 or both
 * float64, broadcasting). Not differentiable itself (as in JAX): its jvp rule raises.
 */
export const randomGammaGradP: Primitive<object> = definePrimitive({
  name: "random_gamma_grad",
  abstractEval([a, x]) {
    const op = "random_gamma_grad";
    requireDType(op, a!, ["float32", "float64"], "a");
    requireDType(op, x!, ["float32", "float64"], "x");
    return [new ShapedArray(broadcastAll(op, [a!, x!]), sameDType(op, [a!, x!]))];
  },
  impl([a, x]) {
    const shape = broadcastAll("random_gamma_grad", [a!.aval, x!.aval]);
    const n = sizeOf(shape);
    const spread = (v: typeof a) => {
      const buf = bufferOf(v!);
      if (buf.length === n) return buf;
      const out = new Float64Array(n);
      broadcastCopy(buf, v!.shape, out, shape);
      return out;
    };
    const ab = spread(a);
    const xb = spread(x);
    const out = typedArrayFor(a!.dtype, n);
    for (let i = 0; i < n; i++) out[i] = gammaSampleGrad(ab[i]!, xb[i]!);
    return [fromBuffer(out, shape, a!.dtype)];
  },
  jvp: () => {
    throw new TransformError("second derivatives of gamma samples with respect to the shape parameter are not implemented", {
      op: "random_gamma_grad",
      hint: "differentiate random.gamma (and beta, dirichlet) once in its shape parameter; JAX has no higher derivative either",
    });
  },
  batch: (args, dims, params, size) => broadcastingBatch(randomGammaGradP)(args, dims, params, size),
});

/** dx/da of Gamma(a) samples `x` (elementwise, broadcasting). */
export const randomGammaGrad = (a: ArrayBase, x: ArrayBase): ArrayBase => bind1(randomGammaGradP, [a, x]);
