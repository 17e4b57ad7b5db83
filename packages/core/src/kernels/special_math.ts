/**
 * Special functions on float64 scalars, and their loops over typed arrays: erf, erfc and
 * the inverse error function (the sampler of `random.normal` leans on erfInv).
 *
 * erf/erfc: W. J. Cody, "Rational Chebyshev approximations for the error function",
 * Math. Comp. 23 (1969), pp. 631-638, with the coefficients of his SPECFUN routine CALERF
 * (netlib.org/specfun/erf, 1990). Near-minimax rational functions on three intervals,
 * relative error below 1e-16 before rounding.
 *
 * erfInv: the single-precision polynomial of M. Giles, "Approximating the erfinv
 * function", GPU Computing Gems Jade Edition (2011), as a starting point, refined by
 * Halley steps on erf (|y| <= 0.5) or on erfc (|y| > 0.5, where 1 - |y| is exact and
 * erfc keeps relative accuracy in the tail). Two steps take the ~1e-7 start to float64
 * accuracy (a few ulp) wherever the start is good (|y| < 1 - 1e-13).
 */
import type { TypedArray } from "../dtype.js";

const SQRT_PI_INV = 0.56418958354775628695; // 1/sqrt(pi)
const HALF_SQRT_PI = 0.88622692545275801365; // sqrt(pi)/2

// Cody's coefficients, interval 1 (|x| <= 0.46875): erf(x) = x * A(x^2) / B(x^2), highest power first.
const A = [0.185777706184603153, 3.16112374387056560, 113.864154151050156, 377.485237685302021, 3209.37758913846947];
const B = [1, 23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
// Interval 2 (0.46875 < |x| <= 4): erfc(x) = exp(-x^2) * C(|x|) / D(|x|).
const C = [
  2.15311535474403846e-8, 0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131,
  881.952221241769090, 1712.04761263407058, 2051.07837782607147, 1230.33935479799725,
];
const D = [
  1, 15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
// Interval 3 (|x| > 4): erfc(x) = exp(-x^2)/|x| * (1/sqrt(pi) - z P(z) / Q(z)), z = 1/x^2.
const P = [0.0163153871373020978, 0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766, 6.58749161529837803e-4];
const Q = [1, 2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];

const horner = (c: readonly number[], x: number): number => {
  let s = c[0]!;
  for (let i = 1; i < c.length; i++) s = s * x + c[i]!;
  return s;
};

/** exp(-y^2) with y^2 split so the large part is exact (Cody's trick against error growth). */
const expNegSquare = (y: number): number => {
  const hi = Math.trunc(y * 16) / 16;
  return Math.exp(-hi * hi) * Math.exp(-(y - hi) * (y + hi));
};

/** erfc(y) for y > 0.46875 (interval 2 and 3 of Cody); 0 beyond where it underflows. */
const erfcTail = (y: number): number => {
  if (y <= 4) return (expNegSquare(y) * horner(C, y)) / horner(D, y);
  if (y >= 27.3) return 0; // erfc underflows to 0 beyond here (Cody stops at 26.543, before the subnormals)
  const z = 1 / (y * y);
  return (expNegSquare(y) * (SQRT_PI_INV - (z * horner(P, z)) / horner(Q, z))) / y;
};

/** The error function, to float64 accuracy. */
export const erf = (x: number): number => {
  const y = Math.abs(x);
  if (y <= 0.46875) {
    const z = x * x;
    return (x * horner(A, z)) / horner(B, z);
  }
  if (Number.isNaN(y)) return x;
  const r = 0.5 - erfcTail(y) + 0.5;
  return x < 0 ? -r : r;
};

/** The complementary error function 1 - erf(x), accurate in the tail. */
export const erfc = (x: number): number => {
  const y = Math.abs(x);
  if (y <= 0.46875) {
    const z = x * x;
    return 1 - (x * horner(A, z)) / horner(B, z);
  }
  if (Number.isNaN(y)) return x;
  const r = erfcTail(y);
  return x < 0 ? 2 - r : r;
};

/** Giles' single-precision erfinv polynomial, evaluated in float64: a ~1e-7 starting point. */
const erfInvStart = (y: number): number => {
  let w = -Math.log((1 - y) * (1 + y));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    p = 3.43273939e-7 + p * w;
    p = -3.5233877e-6 + p * w;
    p = -4.39150654e-6 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  return p * y;
};

/**
 * The inverse error function on [-1, 1] (±Infinity at ±1, NaN outside). `maxSteps` bounds
 * the Halley steps: one is enough for a float32 result, since float32 inputs stay within
 * the starting polynomial's range (|y| <= 1 - 2^-24), where it is good to ~1e-7.
 */
export const erfInv = (y: number, maxSteps = 8): number => {
  const z = Math.abs(y);
  if (!(z < 1)) return z === 1 ? y * Infinity : NaN;
  if (z === 0) return y;
  let x = erfInvStart(z);
  const tail = z > 0.5;
  const q = 1 - z; // exact for z > 0.5 (Sterbenz)
  // Halley limits each step to about 1/x, so the far tail (1 - |y| < 1e-13, beyond the
  // polynomial's float32 range) takes up to 7 steps; elsewhere 2 suffice and the loop exits.
  for (let k = 0; k < maxSteps; k++) {
    // Residual of erf(x) = z, written through erfc in the tail to keep its relative accuracy.
    const f = tail ? q - erfc(x) : erf(x) - z;
    const d = f * HALF_SQRT_PI * Math.exp(x * x); // f / f'
    const step = d / (1 + x * d); // Halley: f'' / f' = -2x
    x -= step;
    // Convergence is cubic: after a step below 1e-7 x the error is ~1e-21 x, so stop here
    // rather than chase rounding noise (a 1e-16 test would spin through every iteration).
    if (!(Math.abs(step) > 1e-7 * x)) break;
  }
  return y < 0 ? -x : x;
};

/** `out[i] = erf(src[i])`. */
export const erfKernel = (src: TypedArray, out: TypedArray): void => {
  for (let i = 0; i < out.length; i++) out[i] = erf(src[i]!);
};

/** `out[i] = erfc(src[i])`. */
export const erfcKernel = (src: TypedArray, out: TypedArray): void => {
  for (let i = 0; i < out.length; i++) out[i] = erfc(src[i]!);
};

/** `out[i] = erfInv(src[i])`. */
export const erfInvKernel = (src: TypedArray, out: TypedArray): void => {
  const steps = out instanceof Float32Array ? 1 : 8;
  for (let i = 0; i < out.length; i++) out[i] = erfInv(src[i]!, steps);
};
