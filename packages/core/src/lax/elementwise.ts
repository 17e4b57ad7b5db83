/**
 * lax elementwise ops: the primitives of unary.ts, binary.ts and compare.ts as thin
 * functions. Unlike `np`, they do not promote: inputs of binary ops must share a dtype
 * (they do broadcast, NumPy-style), and float-only ops refuse integers.
 */
export { add, sub, mul, div, rem, pow, max, min, atan2 } from "../primitives/binary.js";
export {
  neg,
  exp,
  exp2,
  log,
  log1p,
  expm1,
  logistic,
  sin,
  cos,
  tan,
  asin,
  acos,
  atan,
  sinh,
  cosh,
  tanh,
  asinh,
  acosh,
  atanh,
  sqrt,
  rsqrt,
  cbrt,
  square,
  integerPow,
  sign,
  abs,
  floor,
  ceil,
  round,
  RoundingMethod,
  erf,
  erfc,
  erfInv,
} from "../primitives/unary.js";
export {
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  isFinite,
  bitwiseAnd,
  bitwiseOr,
  bitwiseXor,
  bitwiseNot,
  selectN,
  select,
} from "../primitives/compare.js";
import { checked, signature } from "../api/args.js";
import { convertElementType as convertElementTypeOp } from "../primitives/structural.js";

export const convertElementType = checked(signature("lax.convertElementType", ["x:operand!", "dtype:dtypeName!"]), convertElementTypeOp);
/** `lax.randomGammaGrad(a, x)`: dx/da of Gamma(a) samples x (JAX's `lax.random_gamma_grad`), the derivative `random.gamma` uses. */
export { randomGammaGrad } from "../primitives/random_gamma.js";
